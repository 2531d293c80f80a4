/* Blobs: download with resume and verification, existence checks,
 * cross-repository mounts and uploads (one PUT, or PATCH chunks). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/internal.h"
#include "util/cleanup.h"

static void cleanup_digesterp(struct digester **d) {
  digester_free(*d);
}
#define cleanup_digester __attribute__((cleanup(cleanup_digesterp)))

static char *blob_ctx(const char *verb, const char *domain, const char *repo, const char *digest,
                      const char *prep) {
  char *ctx = NULL;
  if (asprintf(&ctx, "%s blob \"%s@%s\" %s %s", verb, repo, digest, prep, domain) < 0)
    return NULL;
  return ctx;
}

static int check_blob(const char *ctx, const char *domain, const char *repo, const char *digest,
                      berth_error **err) {
  if (reg_check_names(ctx, domain, repo, NULL, err) < 0)
    return -1;
  if (digest == NULL || !digest_valid(digest))
    return reg_fail(err, EINVAL, "%s: \"%s\" is not a sha256 digest", ctx, digest != NULL ? digest : "");
  return 0;
}

/* Feeds the file's first size bytes to d: a resumed download is verified
 * over the whole blob. */
static int hash_prefix(int fd, uint64_t size, struct digester *d, const char *ctx, berth_error **err) {
  char buf[1 << 16];
  for (uint64_t off = 0; off < size;) {
    size_t want = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
    ssize_t n = pread(fd, buf, want, (off_t)off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return berth_fail(err, errno, "%s: read the partial blob file", ctx);
    if (n == 0)
      return reg_fail(err, EIO, "%s: the partial blob file shrank while it was read", ctx);
    digester_update(d, buf, (size_t)n);
    off += (uint64_t)n;
  }
  return 0;
}

int registry_fetch_blob(struct registry_client *c, const char *domain, const char *repo, const char *digest,
                        uint64_t size, int fd, registry_progress_fn *progress, void *arg, berth_error **err) {
  cleanup_free char *ctx = blob_ctx("pull", domain, repo, digest, "from");
  if (ctx == NULL)
    return berth_fail(err, ENOMEM, "pull blob");
  if (check_blob(ctx, domain, repo, digest, err) < 0)
    return -1;
  struct stat st;
  if (fstat(fd, &st) < 0)
    return berth_fail(err, errno, "%s: stat the blob file", ctx);
  cleanup_digester struct digester *d = digester_new();
  cleanup_free char *path = NULL, *scope = NULL;
  if (d == NULL || asprintf(&path, "/v2/%s/blobs/%s", repo, digest) < 0 ||
      asprintf(&scope, "repository:%s:pull", repo) < 0)
    return berth_fail(err, ENOMEM, "%s", ctx);
  struct reg_sink sink = {.fd = fd, .offset = (uint64_t)st.st_size, .digest = d, .progress = progress, .arg = arg,
                          .limit = size};
  if (sink.offset > 0 && hash_prefix(fd, sink.offset, d, ctx, err) < 0)
    return -1;

  char got[DIGEST_TEXT_MAX];
  for (;;) {
    char range[64];
    snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-", sink.offset);
    const char *headers[] = {sink.offset > 0 ? range : NULL, NULL};
    struct reg_call call = {.ctx = ctx, .domain = domain, .scope = scope, .method = "GET", .path = path,
                            .headers = headers, .follow = true, .sink = &sink};
    cleanup_error berth_error *perr = NULL;
    int r = reg_perform(c, &call, &perr);
    long status = call.status;
    bool past_end = status == 416 && sink.offset > 0;
    /* docker-registry 2.8 sends its 416 with the blob's Content-Length and
     * a short body: a "transfer closed" error after a 416 is still a 416. */
    if (r < 0 && past_end)
      r = 0;
    if (r < 0 && err != NULL) {
      berth_error_free(*err);
      *err = TAKE_PTR(perr);
    }
    if (r == 0 && status != 200 && status != 206 && !past_end)
      r = reg_fail_status(&call, err);
    reg_call_clear(&call);
    if (r < 0)
      return -1;
    if (status != 416)
      break;
    /* Nothing after the end: the file may hold the whole blob already. */
    digester_final(d, got);
    if (strcmp(got, digest) == 0) {
      if (progress != NULL)
        progress(arg, sink.offset, sink.offset);
      return 0;
    }
    if (ftruncate(fd, 0) < 0)
      return berth_fail(err, errno, "%s: truncate the blob file", ctx);
    digester_reset(d);
    sink.offset = 0;
  }
  digester_final(d, got);
  if (strcmp(got, digest) != 0) {
    /* Neither this content nor a resume from it is any use. */
    if (ftruncate(fd, 0) < 0)
      return berth_fail(err, errno, "%s: digest mismatch (got %s), and truncating the file failed", ctx, got);
    return reg_fail(err, EBADMSG, "%s: digest mismatch (got %s)", ctx, got);
  }
  return 0;
}

int registry_blob_exists(struct registry_client *c, const char *domain, const char *repo, const char *digest,
                         bool *exists, berth_error **err) {
  *exists = false;
  cleanup_free char *ctx = blob_ctx("check", domain, repo, digest, "on");
  if (ctx == NULL)
    return berth_fail(err, ENOMEM, "check blob");
  if (check_blob(ctx, domain, repo, digest, err) < 0)
    return -1;
  cleanup_free char *path = NULL, *scope = NULL;
  if (asprintf(&path, "/v2/%s/blobs/%s", repo, digest) < 0 || asprintf(&scope, "repository:%s:pull", repo) < 0)
    return berth_fail(err, ENOMEM, "%s", ctx);
  struct reg_call call = {.ctx = ctx, .domain = domain, .scope = scope, .method = "HEAD", .path = path,
                          .follow = true};
  int ret = reg_perform(c, &call, err);
  if (ret == 0) {
    if (call.status == 200)
      *exists = true;
    else if (call.status != 404)
      ret = reg_fail_status(&call, err);
  }
  reg_call_clear(&call);
  return ret;
}

/* Best effort: an abandoned upload only costs the registry some space
 * until it collects it. */
static void cancel_upload(struct registry_client *c, const char *domain, const char *scope, const char *url) {
  struct reg_call call = {.ctx = "cancel upload", .domain = domain, .scope = scope, .method = "DELETE", .url = url};
  cleanup_error berth_error *ignored = NULL;
  reg_perform(c, &call, &ignored);
  reg_call_clear(&call);
}

/* The upload URL a response gave, made absolute. */
static char *upload_location(const struct reg_call *call, const char *ctx, berth_error **err) {
  if (call->location == NULL || call->final_url == NULL) {
    reg_fail(err, EIO, "%s: the registry answered %ld without an upload location", ctx, call->status);
    return NULL;
  }
  char *url = reg_url_resolve(call->final_url, call->location);
  if (url == NULL)
    reg_fail(err, EIO, "%s: unusable upload location \"%s\"", ctx, call->location);
  return url;
}

int registry_mount_blob(struct registry_client *c, const char *domain, const char *repo, const char *digest,
                        const char *from_repo, bool *mounted, berth_error **err) {
  *mounted = false;
  cleanup_free char *ctx = NULL;
  if (asprintf(&ctx, "mount blob \"%s@%s\" from \"%s\" on %s", repo, digest, from_repo, domain) < 0)
    return berth_fail(err, ENOMEM, "mount blob");
  if (check_blob(ctx, domain, repo, digest, err) < 0)
    return -1;
  if (!reg_repo_valid(from_repo))
    return reg_fail(err, EINVAL, "%s: \"%s\" is not a repository name", ctx, from_repo);
  cleanup_free char *path = NULL, *scope = NULL;
  if (asprintf(&path, "/v2/%s/blobs/uploads/?mount=%s&from=%s", repo, digest, from_repo) < 0 ||
      asprintf(&scope, "repository:%s:pull,push repository:%s:pull", repo, from_repo) < 0)
    return berth_fail(err, ENOMEM, "%s", ctx);
  struct reg_call call = {.ctx = ctx, .domain = domain, .scope = scope, .method = "POST", .path = path};
  int ret = reg_perform(c, &call, err);
  if (ret == 0) {
    if (call.status == 201) {
      *mounted = true;
    } else if (call.status == 202) {
      /* Not mountable (absent, or not readable with our token): the
       * registry opened an upload we will not use. */
      cleanup_error berth_error *ignored = NULL;
      cleanup_free char *url = upload_location(&call, ctx, &ignored);
      if (url != NULL)
        cancel_upload(c, domain, scope, url);
    } else {
      ret = reg_fail_status(&call, err);
    }
  }
  reg_call_clear(&call);
  return ret;
}

/* The chunk size to use: ours, raised to the registry's minimum. */
static uint64_t chunk_size(const struct registry_client *c, const struct reg_call *post) {
  uint64_t chunk = c->chunk_size;
  if (chunk > 0 && post->chunk_min != NULL) {
    char *end;
    unsigned long long min = strtoull(post->chunk_min, &end, 10);
    if (*end == '\0' && min > chunk)
      chunk = min;
  }
  return chunk;
}

/* PATCHes bytes [off, off+n) to *url, which becomes the next location. */
static int push_chunk(struct registry_client *c, const char *domain, const char *scope, const char *ctx, char **url,
                      int fd, uint64_t off, uint64_t n, uint64_t size, registry_progress_fn *progress, void *arg,
                      berth_error **err) {
  char range[64];
  snprintf(range, sizeof(range), "Content-Range: %" PRIu64 "-%" PRIu64, off, off + n - 1);
  const char *headers[] = {"Content-Type: application/octet-stream", range, NULL};
  struct reg_call call = {.ctx = ctx, .domain = domain, .scope = scope, .method = "PATCH", .url = *url,
                          .headers = headers, .upload_fd = fd, .upload_offset = off, .upload_len = n,
                          .upload_progress = progress, .upload_arg = arg, .upload_base = off, .upload_total = size};
  int ret = reg_perform(c, &call, err);
  if (ret == 0 && call.status != 202)
    ret = reg_fail_status(&call, err);
  if (ret == 0 && call.range != NULL) {
    /* The registry says what it holds: "0-<last byte>". */
    unsigned long long first, last;
    if (sscanf(call.range, "%llu-%llu", &first, &last) != 2 || first != 0 || last != off + n - 1)
      ret = reg_fail(err, EIO, "%s: the registry holds bytes \"%s\" after a chunk ending at byte %" PRIu64, ctx,
                     call.range, off + n - 1);
  }
  if (ret == 0) {
    char *next = upload_location(&call, ctx, err);
    if (next == NULL) {
      ret = -1;
    } else {
      free(*url);
      *url = next;
    }
  }
  reg_call_clear(&call);
  return ret;
}

int registry_push_blob(struct registry_client *c, const char *domain, const char *repo, const char *digest,
                       int fd, uint64_t size, registry_progress_fn *progress, void *arg, berth_error **err) {
  cleanup_free char *ctx = blob_ctx("push", domain, repo, digest, "to");
  if (ctx == NULL)
    return berth_fail(err, ENOMEM, "push blob");
  if (check_blob(ctx, domain, repo, digest, err) < 0)
    return -1;
  cleanup_free char *path = NULL, *scope = NULL;
  if (asprintf(&path, "/v2/%s/blobs/uploads/", repo) < 0 || asprintf(&scope, "repository:%s:pull,push", repo) < 0)
    return berth_fail(err, ENOMEM, "%s", ctx);

  struct reg_call post = {.ctx = ctx, .domain = domain, .scope = scope, .method = "POST", .path = path};
  if (reg_perform(c, &post, err) < 0) {
    reg_call_clear(&post);
    return -1;
  }
  if (post.status != 202) {
    reg_fail_status(&post, err);
    reg_call_clear(&post);
    return -1;
  }
  cleanup_free char *url = upload_location(&post, ctx, err);
  uint64_t chunk = chunk_size(c, &post);
  reg_call_clear(&post);
  if (url == NULL)
    return -1;

  int ret = 0;
  uint64_t sent = 0;
  if (chunk > 0 && size > chunk) {
    for (; ret == 0 && sent < size; sent += chunk) {
      uint64_t n = size - sent < chunk ? size - sent : chunk;
      ret = push_chunk(c, domain, scope, ctx, &url, fd, sent, n, size, progress, arg, err);
    }
  }
  if (ret == 0) {
    /* The closing PUT carries what no chunk did: all of it, or nothing. */
    cleanup_free char *put_url = reg_url_add_query(url, "digest", digest);
    if (put_url == NULL) {
      ret = berth_fail(err, ENOMEM, "%s", ctx);
    } else {
      uint64_t rest = sent >= size ? 0 : size;
      const char *headers[] = {"Content-Type: application/octet-stream", NULL};
      struct reg_call put = {.ctx = ctx, .domain = domain, .scope = scope, .method = "PUT", .url = put_url,
                             .headers = headers, .upload_fd = fd, .upload_len = rest,
                             .upload_progress = progress, .upload_arg = arg, .upload_total = size};
      ret = reg_perform(c, &put, err);
      if (ret == 0 && (put.status < 200 || put.status >= 300))
        ret = reg_fail_status(&put, err);
      if (ret == 0 && put.docker_digest != NULL && strcmp(put.docker_digest, digest) != 0)
        ret = reg_fail(err, EBADMSG, "%s: the registry stored it as %s", ctx, put.docker_digest);
      reg_call_clear(&put);
      if (ret == 0 && progress != NULL)
        progress(arg, size, size);
      if (ret == 0)
        return 0;
    }
  }
  cancel_upload(c, domain, scope, url);
  return ret;
}
