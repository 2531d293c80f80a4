/* The request engine: one logical registry request becomes one or more
 * HTTP exchanges (a 401 answered with credentials, redirects to blob
 * storage, a fallback to plain http), each on libcurl with our own
 * callbacks, so that bodies stream to their file, error bodies stay small
 * and credentials only ever go to the registry's own origin. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "registry/internal.h"
#include "util/cleanup.h"
#include "util/log.h"

/* State of one exchange, shared with the callbacks. */
struct exchange {
  struct reg_call *call;
  bool head;
  uint64_t up_pos;         /* request body bytes handed to curl */
  size_t body_cap;
  struct reg_exchange_result *res;
};

static void cleanup_curlp(CURL **h) {
  if (*h != NULL)
    curl_easy_cleanup(*h);
}
static void cleanup_slistp(struct curl_slist **l) {
  curl_slist_free_all(*l);
}
#define cleanup_curl __attribute__((cleanup(cleanup_curlp)))
#define cleanup_slist __attribute__((cleanup(cleanup_slistp)))

static void response_clear(struct reg_call *call) {
  free(call->final_url);
  free(call->content_type);
  free(call->location);
  free(call->docker_digest);
  free(call->content_range);
  free(call->range);
  free(call->www_authenticate);
  free(call->chunk_min);
  free(call->body);
  call->final_url = call->content_type = call->location = call->docker_digest = NULL;
  call->content_range = call->range = call->www_authenticate = call->chunk_min = call->body = NULL;
  call->body_len = 0;
  call->status = 0;
  call->content_length = -1;
}

void reg_call_clear(struct reg_call *call) {
  response_clear(call);
  call->unauthorized_no_creds = false;
}

/* Records an error raised inside a callback; curl then stops the transfer. */
static void callback_fail(struct exchange *x, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void callback_fail(struct exchange *x, int code, const char *fmt, ...) {
  if (x->res->cb_msg[0] != '\0')
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(x->res->cb_msg, sizeof(x->res->cb_msg), fmt, ap);
  va_end(ap);
  x->res->cb_code = code;
}

static bool status_ok(long status) {
  return status >= 200 && status < 300;
}

/* "bytes <start>-<end>/<total|*>" */
static bool parse_content_range(const char *text, uint64_t *start, uint64_t *total) {
  unsigned long long s, e;
  char tail[32];
  if (text == NULL || sscanf(text, "bytes %llu-%llu/%31s", &s, &e, tail) != 3 || e < s)
    return false;
  *start = s;
  *total = 0;
  if (strcmp(tail, "*") != 0) {
    char *end;
    errno = 0;
    unsigned long long t = strtoull(tail, &end, 10);
    if (errno != 0 || *end != '\0' || t <= e)
      return false;
    *total = t;
  }
  return true;
}

/* The headers of a 2xx response to a blob download are in: decide where
 * its bytes go. */
static int sink_begin(struct exchange *x) {
  struct reg_call *call = x->call;
  struct reg_sink *s = call->sink;
  if (call->status == 206) {
    uint64_t start, total;
    if (!parse_content_range(call->content_range, &start, &total)) {
      callback_fail(x, EIO, "partial content with an invalid Content-Range \"%s\"",
                    call->content_range != NULL ? call->content_range : "");
      return -1;
    }
    if (start != s->offset) {
      callback_fail(x, EIO, "asked for bytes from %" PRIu64 ", the registry sent them from %" PRIu64, s->offset,
                    start);
      return -1;
    }
    s->total = total != 0 ? total : call->content_length >= 0 ? s->offset + (uint64_t)call->content_length : 0;
    return 0;
  }
  if (s->offset > 0) {
    /* The whole blob is coming: what the file holds is dropped. */
    if (ftruncate(s->fd, 0) < 0) {
      callback_fail(x, errno, "truncate the blob file: %s", strerror(errno));
      return -1;
    }
    digester_reset(s->digest);
    s->offset = 0;
  }
  s->total = call->content_length >= 0 ? (uint64_t)call->content_length : 0;
  return 0;
}

static bool header_is(const char *name, size_t len, const char *want) {
  return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *data) {
  struct exchange *x = data;
  struct reg_call *call = x->call;
  size_t len = size * nitems;
  if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
    /* A new response (after a 100 Continue, for one): forget the last. */
    char line[64];
    size_t n = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
    memcpy(line, buf, n);
    line[n] = '\0';
    response_clear(call);
    x->body_cap = 0;
    const char *sp = strchr(line, ' ');
    call->status = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
    return len;
  }
  size_t n = len;
  while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == '\n'))
    n--;
  if (n == 0) {
    if (call->sink != NULL && !x->head && status_ok(call->status) && sink_begin(x) < 0)
      return 0;
    return len;
  }
  const char *colon = memchr(buf, ':', n);
  if (colon == NULL)
    return len;
  size_t name_len = (size_t)(colon - buf);
  const char *value = colon + 1;
  while (value < buf + n && (*value == ' ' || *value == '\t'))
    value++;
  size_t value_len = (size_t)(buf + n - value);
  while (value_len > 0 && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
    value_len--;

  if (header_is(buf, name_len, "content-length")) {
    char digits[32];
    if (value_len > 0 && value_len < sizeof(digits)) {
      memcpy(digits, value, value_len);
      digits[value_len] = '\0';
      char *end;
      errno = 0;
      long long v = strtoll(digits, &end, 10);
      if (errno == 0 && *end == '\0' && v >= 0)
        call->content_length = v;
    }
    return len;
  }
  char **slot = NULL;
  if (header_is(buf, name_len, "content-type"))
    slot = &call->content_type;
  else if (header_is(buf, name_len, "location"))
    slot = &call->location;
  else if (header_is(buf, name_len, "docker-content-digest"))
    slot = &call->docker_digest;
  else if (header_is(buf, name_len, "content-range"))
    slot = &call->content_range;
  else if (header_is(buf, name_len, "range"))
    slot = &call->range;
  else if (header_is(buf, name_len, "oci-chunk-min-length"))
    slot = &call->chunk_min;
  else if (header_is(buf, name_len, "www-authenticate"))
    slot = &call->www_authenticate;
  if (slot == NULL)
    return len;
  /* Repeated headers join with commas (RFC 9110 5.3): WWW-Authenticate
   * may come once per challenge. */
  char *joined = NULL;
  int r = *slot != NULL ? asprintf(&joined, "%s, %.*s", *slot, (int)value_len, value)
                        : asprintf(&joined, "%.*s", (int)value_len, value);
  if (r < 0) {
    callback_fail(x, ENOMEM, "out of memory");
    return 0;
  }
  free(*slot);
  *slot = joined;
  return len;
}

static const char *size_phrase(size_t n, char buf[32]) {
  if (n >= (1u << 20) && n % (1u << 20) == 0)
    snprintf(buf, 32, "%zu MiB", n >> 20);
  else
    snprintf(buf, 32, "%zu bytes", n);
  return buf;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *data) {
  struct exchange *x = data;
  struct reg_call *call = x->call;
  size_t len = size * nmemb;
  if (call->sink != NULL && status_ok(call->status)) {
    struct reg_sink *s = call->sink;
    if (s->limit > 0 && s->offset + len > s->limit) {
      callback_fail(x, EFBIG, "the registry sent more than the %" PRIu64 " bytes the manifest gives", s->limit);
      return 0;
    }
    for (size_t off = 0; off < len;) {
      ssize_t w = pwrite(s->fd, ptr + off, len - off, (off_t)(s->offset + off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        callback_fail(x, errno != 0 ? errno : EIO, "write the blob file: %s", strerror(errno != 0 ? errno : EIO));
        return 0;
      }
      off += (size_t)w;
    }
    digester_update(s->digest, ptr, len);
    s->offset += len;
    if (s->progress != NULL)
      s->progress(s->arg, s->offset, s->total);
    return len;
  }
  /* In memory: a 2xx body the caller wants (bounded), or the start of an
   * error body, which only feeds a message. */
  bool wanted = status_ok(call->status) && call->body_max > 0;
  size_t limit = wanted ? call->body_max : REG_ERROR_BODY_MAX;
  size_t keep = len;
  if (call->body_len + len > limit) {
    if (wanted) {
      char buf[32];
      callback_fail(x, EFBIG, "the response is larger than %s", size_phrase(limit, buf));
      return 0;
    }
    keep = limit - call->body_len;
  }
  if (call->body_len + keep + 1 > x->body_cap) {
    size_t cap = x->body_cap != 0 ? x->body_cap : 4096;
    while (cap < call->body_len + keep + 1)
      cap *= 2;
    char *bigger = realloc(call->body, cap);
    if (bigger == NULL) {
      callback_fail(x, ENOMEM, "out of memory");
      return 0;
    }
    call->body = bigger;
    x->body_cap = cap;
  }
  memcpy(call->body + call->body_len, ptr, keep);
  call->body_len += keep;
  call->body[call->body_len] = '\0';
  return len;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *data) {
  struct exchange *x = data;
  struct reg_call *call = x->call;
  uint64_t remain = call->upload_len - x->up_pos;
  size_t want = size * nitems;
  if (remain == 0)
    return 0;
  if (want > remain)
    want = (size_t)remain;
  size_t n;
  if (call->upload_buf != NULL) {
    memcpy(buf, call->upload_buf + call->upload_offset + x->up_pos, want);
    n = want;
  } else {
    ssize_t r;
    do
      r = pread(call->upload_fd, buf, want, (off_t)(call->upload_offset + x->up_pos));
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      callback_fail(x, errno, "read the blob file: %s", strerror(errno));
      return CURL_READFUNC_ABORT;
    }
    if (r == 0) {
      callback_fail(x, EIO, "the blob file ends at byte %" PRIu64 ", before its size %" PRIu64,
                    call->upload_offset + x->up_pos, call->upload_total);
      return CURL_READFUNC_ABORT;
    }
    n = (size_t)r;
  }
  x->up_pos += n;
  if (call->upload_progress != NULL)
    call->upload_progress(call->upload_arg, call->upload_base + x->up_pos, call->upload_total);
  return n;
}

/* curl rewinds the body when it must send it again. */
static int on_seek(void *data, curl_off_t offset, int origin) {
  struct exchange *x = data;
  if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > x->call->upload_len)
    return CURL_SEEKFUNC_CANTSEEK;
  x->up_pos = (uint64_t)offset;
  return CURL_SEEKFUNC_OK;
}

int reg_exchange(struct registry_client *c, CURL *h, struct reg_call *call, const char *url, const char *auth,
                 struct reg_exchange_result *res) {
  memset(res, 0, sizeof(*res));
  response_clear(call);
  curl_easy_reset(h);
  struct exchange x = {.call = call, .head = strcmp(call->method, "HEAD") == 0, .res = res};
  bool upload = strcmp(call->method, "PUT") == 0 || strcmp(call->method, "PATCH") == 0;

  cleanup_slist struct curl_slist *headers = NULL;
  for (const char *const *hd = call->headers; hd != NULL && *hd != NULL; hd++)
    if ((headers = curl_slist_append(headers, *hd)) == NULL)
      goto nomem;
  if (auth != NULL) {
    cleanup_free char *line = NULL;
    if (asprintf(&line, "Authorization: %s", auth) < 0)
      goto nomem;
    headers = curl_slist_append(headers, line);
    explicit_bzero(line, strlen(line));
    if (headers == NULL)
      goto nomem;
  }
  /* Without this curl holds a large body back up to a second waiting for
   * "100 Continue"; authentication is settled before large bodies go out. */
  if (upload && (headers = curl_slist_append(headers, "Expect:")) == NULL)
    goto nomem;

  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_SHARE, c->share);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
  /* A stalled connection fails after 5 minutes; registries may take a
   * while to verify a large upload before they answer. */
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 300L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, res->errbuf);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
  if (!c->tls_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (x.head) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (strcmp(call->method, "POST") == 0) {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, call->upload_buf != NULL ? call->upload_buf : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(call->upload_buf != NULL ? call->upload_len : 0));
  } else if (upload) {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &x);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &x);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)call->upload_len);
    if (strcmp(call->method, "PATCH") == 0)
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PATCH");
  } else if (strcmp(call->method, "GET") != 0) {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call->method);
  }

  res->code = curl_easy_perform(h);
  if (res->code != CURLE_OK)
    return -1;
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  call->status = status;
  return 0;
nomem:
  res->code = CURLE_OUT_OF_MEMORY;
  callback_fail(&x, ENOMEM, "out of memory");
  return -1;
}

static bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

int reg_perform(struct registry_client *c, struct reg_call *call, berth_error **err) {
  cleanup_curl CURL *h = curl_easy_init();
  if (h == NULL)
    return berth_fail(err, ENOMEM, "%s: curl", call->ctx);
  cleanup_secret char *auth = NULL;
  if (reg_auth_initial(c, call, &auth, err) < 0)
    return -1;
  bool http = reg_host_http(c, call->domain);
  cleanup_free char *base = reg_url(http, call->domain, "/");
  cleanup_free char *url = call->url != NULL ? strdup(call->url) : reg_url(http, call->domain, call->path);
  if (base == NULL || url == NULL)
    return berth_fail(err, ENOMEM, "%s", call->ctx);
  bool answered = false;
  int hops = 0;
  for (;;) {
    bool same = reg_url_same_origin(url, base);
    struct reg_exchange_result res;
    int r = reg_exchange(c, h, call, url, same ? auth : NULL, &res);
    berth_debug("registry: %s %s: %ld", call->method, url, r < 0 ? -1L : call->status);
    if (r < 0) {
      if (res.cb_msg[0] != '\0')
        return reg_fail(err, res.cb_code, "%s: %s", call->ctx, res.cb_msg);
      /* --tls-verify=false: a registry that does not speak TLS at all is
       * spoken to in plain http, as podman and docker's insecure
       * registries do. */
      if (res.code == CURLE_SSL_CONNECT_ERROR && call->url == NULL && hops == 0 && !http &&
          reg_host_fall_back(c, call->domain)) {
        berth_debug("registry: %s: TLS failed (%s), trying http", call->domain, res.errbuf);
        http = true;
        free(base);
        free(url);
        base = reg_url(http, call->domain, "/");
        url = reg_url(http, call->domain, call->path);
        if (base == NULL || url == NULL)
          return berth_fail(err, ENOMEM, "%s", call->ctx);
        continue;
      }
      return reg_fail(err, EIO, "%s: %s", call->ctx, res.errbuf[0] != '\0' ? res.errbuf : curl_easy_strerror(res.code));
    }
    if (same && strncmp(url, "https:", 6) == 0)
      reg_host_https_seen(c, call->domain);
    if (call->status == 401 && same && !answered) {
      answered = true;
      int a = reg_auth_answer(c, h, call, &auth, err);
      if (a < 0)
        return -1;
      if (a == 0)
        continue;
    }
    if (call->follow && is_redirect(call->status)) {
      char *next = NULL;
      curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &next);
      if (next == NULL)
        return reg_fail(err, EIO, "%s: redirect (%ld) without a Location", call->ctx, call->status);
      if (++hops > REG_MAX_REDIRECTS)
        return reg_fail(err, EIO, "%s: more than %d redirects", call->ctx, REG_MAX_REDIRECTS);
      char *resolved = reg_url_resolve(url, next);
      if (resolved == NULL)
        return reg_fail(err, EIO, "%s: redirect to an unusable URL", call->ctx);
      free(url);
      url = resolved;
      continue;
    }
    break;
  }
  free(call->final_url);
  call->final_url = TAKE_PTR(url);
  return 0;
}

int reg_fail_status(const struct reg_call *call, berth_error **err) {
  long st = call->status;
  if (st == 401) {
    cleanup_free char *detail = reg_error_body_text(call->body, call->body_len, false);
    return reg_fail(err, EACCES, "%s: unauthorized: %s%s%s%s", call->ctx,
                    detail != NULL ? detail : "authentication required",
                    call->unauthorized_no_creds ? " (no credentials for " : "",
                    call->unauthorized_no_creds ? call->domain : "", call->unauthorized_no_creds ? ")" : "");
  }
  cleanup_free char *detail = reg_error_body_text(call->body, call->body_len, true);
  const char *text = reg_status_text(st);
  return reg_fail(err, st == 404 ? ENOENT : st == 403 ? EACCES : EIO, "%s: %ld%s%s%s%s%s", call->ctx, st,
                  text[0] != '\0' ? " " : "", text, detail != NULL ? " (" : "", detail != NULL ? detail : "",
                  detail != NULL ? ")" : "");
}
