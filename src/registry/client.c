/* The client object, what it learns about each registry, the messages of
 * registry errors, and the manifest and login requests.  Blobs are in
 * blob.c, the request engine in http.c, authentication in auth.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/curl_loader.h"
#include "registry/internal.h"
#include "util/cleanup.h"
#include "util/json.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "dev"
#endif

int reg_fail(berth_error **err, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  berth_failv(err, 0, fmt, ap);
  va_end(ap);
  if (err != NULL && *err != NULL)
    (*err)->errnum = code;
  return -1;
}

const char *reg_status_text(long status) {
  switch (status) {
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 206: return "Partial Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 413: return "Content Too Large";
  case 416: return "Range Not Satisfiable";
  case 429: return "Too Many Requests";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  }
  return "";
}

/* Appends text to a message built from a registry's words: control
 * characters (a hostile registry's terminal escapes) become spaces, and
 * the whole stays short enough for one line. */
static void append_clean(char *out, size_t size, const char *text) {
  size_t n = strlen(out);
  for (const unsigned char *p = (const unsigned char *)text; *p != '\0' && n + 1 < size; p++)
    out[n++] = (*p < 0x20 || *p == 0x7f) ? ' ' : (char)*p;
  out[n] = '\0';
}

char *reg_error_body_text(const char *body, size_t len, bool with_codes) {
  if (body == NULL || len == 0)
    return NULL;
  cleanup_json struct json_object *root = json_parse_text(body, len, "error body", NULL);
  if (root == NULL || !json_object_is_type(root, json_type_object))
    return NULL;
  char out[512] = "";
  struct json_object *errors = NULL, *val = NULL;
  if (json_object_object_get_ex(root, "errors", &errors) && json_object_is_type(errors, json_type_array)) {
    size_t count = json_object_array_length(errors);
    for (size_t i = 0; i < count && i < 4; i++) {
      struct json_object *e = json_object_array_get_idx(errors, i), *code = NULL, *message = NULL;
      if (!json_object_is_type(e, json_type_object))
        continue;
      json_object_object_get_ex(e, "code", &code);
      json_object_object_get_ex(e, "message", &message);
      const char *c = json_object_is_type(code, json_type_string) ? json_object_get_string(code) : NULL;
      const char *m = json_object_is_type(message, json_type_string) ? json_object_get_string(message) : NULL;
      if ((c == NULL || c[0] == '\0') && (m == NULL || m[0] == '\0'))
        continue;
      if (out[0] != '\0')
        append_clean(out, sizeof(out), "; ");
      if (with_codes && c != NULL && c[0] != '\0') {
        append_clean(out, sizeof(out), c);
        if (m != NULL && m[0] != '\0')
          append_clean(out, sizeof(out), ": ");
      }
      if (m != NULL && m[0] != '\0')
        append_clean(out, sizeof(out), m);
      else if (!with_codes)
        append_clean(out, sizeof(out), c);
    }
  } else if ((json_object_object_get_ex(root, "details", &val) || json_object_object_get_ex(root, "error", &val)) &&
             json_object_is_type(val, json_type_string)) {
    /* Token servers: {"details": "..."} (Docker Hub), OAuth2's {"error": "..."}. */
    append_clean(out, sizeof(out), json_object_get_string(val));
  }
  return out[0] != '\0' ? strdup(out) : NULL;
}

/* --- hosts --- */

struct reg_host *reg_host_get_locked(struct registry_client *c, const char *domain) {
  for (struct reg_host *h = c->hosts; h != NULL; h = h->next)
    if (strcmp(h->domain, domain) == 0)
      return h;
  struct reg_host *h = calloc(1, sizeof(*h));
  if (h == NULL || (h->domain = strdup(domain)) == NULL) {
    free(h);
    return NULL;
  }
  h->http = reg_domain_is_local(domain);
  h->next = c->hosts;
  c->hosts = h;
  return h;
}

bool reg_host_http(struct registry_client *c, const char *domain) {
  pthread_mutex_lock(&c->lock);
  struct reg_host *h = reg_host_get_locked(c, domain);
  bool http = h != NULL ? h->http : reg_domain_is_local(domain);
  pthread_mutex_unlock(&c->lock);
  return http;
}

bool reg_host_fall_back(struct registry_client *c, const char *domain) {
  if (c->tls_verify)
    return false;
  pthread_mutex_lock(&c->lock);
  struct reg_host *h = reg_host_get_locked(c, domain);
  /* Another thread may have fallen back already: that is a yes too. */
  bool fall = h != NULL && !h->https_seen;
  if (fall)
    h->http = true;
  pthread_mutex_unlock(&c->lock);
  return fall;
}

void reg_host_https_seen(struct registry_client *c, const char *domain) {
  pthread_mutex_lock(&c->lock);
  struct reg_host *h = reg_host_get_locked(c, domain);
  if (h != NULL)
    h->https_seen = true;
  pthread_mutex_unlock(&c->lock);
}

void reg_host_set_basic(struct registry_client *c, const char *domain) {
  pthread_mutex_lock(&c->lock);
  struct reg_host *h = reg_host_get_locked(c, domain);
  if (h != NULL)
    h->basic = true;
  pthread_mutex_unlock(&c->lock);
}

bool reg_host_basic(struct registry_client *c, const char *domain) {
  pthread_mutex_lock(&c->lock);
  struct reg_host *h = reg_host_get_locked(c, domain);
  bool basic = h != NULL && h->basic;
  pthread_mutex_unlock(&c->lock);
  return basic;
}

/* --- the client --- */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg) {
  (void)h;
  (void)access;
  struct registry_client *c = arg;
  pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg) {
  (void)h;
  struct registry_client *c = arg;
  pthread_mutex_unlock(&c->share_locks[data]);
}

struct registry_client *registry_client_new(const struct registry_options *o, berth_error **err) {
  static const struct registry_options defaults = {.tls_verify = true};
  if (o == NULL)
    o = &defaults;
  if (registry_curl_load(err) < 0)
    return NULL;
  /* Reference-counted by libcurl (and thread-safe in the versions berth
   * builds with): balanced by the cleanup in registry_client_free. */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    reg_fail(err, EIO, "registry client: libcurl initialisation failed");
    return NULL;
  }
  struct registry_client *c = calloc(1, sizeof(*c));
  if (c == NULL) {
    curl_global_cleanup();
    berth_fail(err, ENOMEM, "registry client");
    return NULL;
  }
  c->tls_verify = o->tls_verify;
  c->chunk_size = o->chunk_size;
  c->auth_file = o->auth_file != NULL ? strdup(o->auth_file) : NULL;
  c->user_agent = strdup(o->user_agent != NULL ? o->user_agent : "berth/" BERTH_VERSION);
  pthread_mutex_init(&c->lock, NULL);
  for (size_t i = 0; i < ARRAY_SIZE(c->share_locks); i++)
    pthread_mutex_init(&c->share_locks[i], NULL);
  c->share = curl_share_init();
  if (c->user_agent == NULL || (o->auth_file != NULL && c->auth_file == NULL) || c->share == NULL) {
    registry_client_free(c);
    berth_fail(err, ENOMEM, "registry client");
    return NULL;
  }
  curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
  curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
  curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
  /* Parallel layer transfers reuse each other's connections, TLS sessions
   * and name lookups. */
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  return c;
}

void registry_client_free(struct registry_client *c) {
  if (c == NULL)
    return;
  if (c->share != NULL)
    curl_share_cleanup(c->share);
  while (c->tokens != NULL) {
    struct reg_token *t = c->tokens;
    c->tokens = t->next;
    explicit_bzero(t->token, strlen(t->token));
    free(t->token);
    free(t->key);
    free(t);
  }
  while (c->hosts != NULL) {
    struct reg_host *h = c->hosts;
    c->hosts = h->next;
    reg_creds_clear(&h->creds);
    free(h->domain);
    free(h);
  }
  for (size_t i = 0; i < ARRAY_SIZE(c->share_locks); i++)
    pthread_mutex_destroy(&c->share_locks[i]);
  pthread_mutex_destroy(&c->lock);
  free(c->auth_file);
  free(c->user_agent);
  free(c);
  curl_global_cleanup();
}

/* --- manifests and login --- */

int reg_check_names(const char *ctx, const char *domain, const char *repo, const char *reference,
                       berth_error **err) {
  if (!reg_domain_valid(domain))
    return reg_fail(err, EINVAL, "%s: \"%s\" is not a registry host name", ctx, domain);
  if (repo != NULL && !reg_repo_valid(repo))
    return reg_fail(err, EINVAL, "%s: \"%s\" is not a repository name", ctx, repo);
  if (reference != NULL && !reg_reference_valid(reference))
    return reg_fail(err, EINVAL, "%s: \"%s\" is neither a tag nor a sha256 digest", ctx, reference);
  return 0;
}

static char *manifest_ctx(const char *verb, const char *domain, const char *repo, const char *reference) {
  char *ctx = NULL;
  bool by_digest = reference != NULL && strchr(reference, ':') != NULL;
  if (asprintf(&ctx, "%s manifest \"%s%s%s\" %s %s", verb, repo, by_digest ? "@" : ":", reference,
               strcmp(verb, "pull") == 0 ? "from" : "to", domain) < 0)
    return NULL;
  return ctx;
}

/* Content-Type without parameters; the manifest's own mediaType when the
 * registry sends none or a generic one (as some do for every file). */
static char *manifest_media_type(const struct reg_call *call) {
  cleanup_free char *type = NULL;
  if (call->content_type != NULL) {
    size_t n = strcspn(call->content_type, ";");
    while (n > 0 && (call->content_type[n - 1] == ' ' || call->content_type[n - 1] == '\t'))
      n--;
    if ((type = strndup(call->content_type, n)) == NULL)
      return NULL;
    if (type[0] != '\0' && strcasecmp(type, "application/json") != 0 && strcasecmp(type, "text/plain") != 0 &&
        strcasecmp(type, "application/octet-stream") != 0)
      return TAKE_PTR(type);
  }
  cleanup_json struct json_object *root =
      call->body != NULL ? json_parse_text(call->body, call->body_len, "manifest", NULL) : NULL;
  struct json_object *mt = NULL;
  if (root != NULL && json_object_is_type(root, json_type_object) &&
      json_object_object_get_ex(root, "mediaType", &mt) && json_object_is_type(mt, json_type_string) &&
      reg_header_safe(json_object_get_string(mt)))
    return strdup(json_object_get_string(mt));
  return type != NULL ? TAKE_PTR(type) : strdup("");
}

int registry_get_manifest(struct registry_client *c, const char *domain, const char *repo,
                          const char *reference, const char *const *accept, char **body, size_t *len,
                          char **media_type, char digest[DIGEST_TEXT_MAX], berth_error **err) {
  *body = NULL;
  *media_type = NULL;
  *len = 0;
  cleanup_free char *ctx = manifest_ctx("pull", domain, repo, reference);
  if (ctx == NULL)
    return berth_fail(err, ENOMEM, "pull manifest");
  if (reg_check_names(ctx, domain, repo, reference, err) < 0)
    return -1;
  cleanup_free char *accept_line = strdup("Accept: ");
  for (const char *const *a = accept; accept_line != NULL && a != NULL && *a != NULL; a++) {
    if (!reg_header_safe(*a))
      return reg_fail(err, EINVAL, "%s: invalid media type \"%s\"", ctx, *a);
    char *next = NULL;
    if (asprintf(&next, "%s%s%s", accept_line, a == accept ? "" : ", ", *a) < 0)
      next = NULL;
    free(accept_line);
    accept_line = next;
  }
  cleanup_free char *path = NULL, *scope = NULL;
  if (accept_line == NULL || asprintf(&path, "/v2/%s/manifests/%s", repo, reference) < 0 ||
      asprintf(&scope, "repository:%s:pull", repo) < 0)
    return berth_fail(err, ENOMEM, "%s", ctx);
  const char *headers[] = {accept != NULL && accept[0] != NULL ? accept_line : NULL, NULL};
  struct reg_call call = {.ctx = ctx, .domain = domain, .scope = scope, .method = "GET", .path = path,
                          .headers = headers, .body_max = REGISTRY_MANIFEST_MAX};
  int ret = -1;
  if (reg_perform(c, &call, err) < 0)
    goto out;
  if (call.status != 200) {
    reg_fail_status(&call, err);
    goto out;
  }
  char got[DIGEST_TEXT_MAX];
  digest_bytes(call.body != NULL ? call.body : "", call.body_len, got);
  if (strchr(reference, ':') != NULL && strcmp(got, reference) != 0) {
    reg_fail(err, EBADMSG, "%s: digest mismatch (got %s)", ctx, got);
    goto out;
  }
  *media_type = manifest_media_type(&call);
  *body = call.body != NULL ? TAKE_PTR(call.body) : strdup("");
  if (*media_type == NULL || *body == NULL) {
    free(*media_type);
    free(*body);
    *media_type = *body = NULL;
    berth_fail(err, ENOMEM, "%s", ctx);
    goto out;
  }
  *len = call.body_len;
  memcpy(digest, got, DIGEST_TEXT_MAX);
  ret = 0;
out:
  reg_call_clear(&call);
  return ret;
}

int registry_put_manifest(struct registry_client *c, const char *domain, const char *repo,
                          const char *reference, const char *media_type, const char *body, size_t len,
                          berth_error **err) {
  cleanup_free char *ctx = manifest_ctx("push", domain, repo, reference);
  if (ctx == NULL)
    return berth_fail(err, ENOMEM, "push manifest");
  if (reg_check_names(ctx, domain, repo, reference, err) < 0)
    return -1;
  if (media_type == NULL || media_type[0] == '\0' || !reg_header_safe(media_type))
    return reg_fail(err, EINVAL, "%s: invalid media type \"%s\"", ctx, media_type != NULL ? media_type : "");
  if (len > REGISTRY_MANIFEST_MAX)
    return reg_fail(err, EFBIG, "%s: the manifest is larger than %u MiB", ctx, REGISTRY_MANIFEST_MAX >> 20);
  if (strchr(reference, ':') != NULL) {
    char got[DIGEST_TEXT_MAX];
    digest_bytes(body, len, got);
    if (strcmp(got, reference) != 0)
      return reg_fail(err, EBADMSG, "%s: digest mismatch (the manifest is %s)", ctx, got);
  }
  cleanup_free char *path = NULL, *scope = NULL, *content_type = NULL;
  if (asprintf(&path, "/v2/%s/manifests/%s", repo, reference) < 0 ||
      asprintf(&scope, "repository:%s:pull,push", repo) < 0 ||
      asprintf(&content_type, "Content-Type: %s", media_type) < 0)
    return berth_fail(err, ENOMEM, "%s", ctx);
  const char *headers[] = {content_type, NULL};
  struct reg_call call = {.ctx = ctx, .domain = domain, .scope = scope, .method = "PUT", .path = path,
                          .headers = headers, .upload_buf = body, .upload_len = len};
  int ret = reg_perform(c, &call, err);
  if (ret == 0 && (call.status < 200 || call.status >= 300))
    ret = reg_fail_status(&call, err);
  reg_call_clear(&call);
  return ret;
}

int registry_check_login(struct registry_client *c, const char *domain, const char *user, const char *password,
                         berth_error **err) {
  cleanup_free char *ctx = NULL;
  if (asprintf(&ctx, "log in to %s", domain) < 0)
    return berth_fail(err, ENOMEM, "log in");
  if (reg_check_names(ctx, domain, NULL, NULL, err) < 0)
    return -1;
  if (user == NULL || user[0] == '\0' || strchr(user, ':') != NULL || password == NULL)
    return reg_fail(err, EINVAL, "%s: the user name must be non-empty and have no \":\"", ctx);
  struct reg_creds login = {.user = (char *)user, .password = (char *)password};
  struct reg_call call = {.ctx = ctx, .domain = domain, .login = &login, .method = "GET", .path = "/v2/"};
  int ret = reg_perform(c, &call, err);
  if (ret == 0 && call.status != 200)
    ret = reg_fail_status(&call, err);
  reg_call_clear(&call);
  return ret;
}
