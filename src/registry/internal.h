/* What the files of src/registry share, and the pure helpers the unit tests
 * reach directly.  Not for use outside src/registry and its tests. */
#ifndef BERTH_REGISTRY_INTERNAL_H
#define BERTH_REGISTRY_INTERNAL_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/client.h"

/* Error bodies and token responses are read into memory up to these sizes:
 * past them an error body is cut (it only feeds a message), a token
 * response fails. */
#define REG_ERROR_BODY_MAX (64u << 10)
#define REG_TOKEN_BODY_MAX (1u << 20)
#define REG_MAX_REDIRECTS 10

struct reg_creds {
  char *user;
  char *password;
};
/* Frees both strings after wiping the password. */
void reg_creds_clear(struct reg_creds *cr);

/* Wipes and frees a string that holds a secret (an Authorization value). */
static inline void reg_free_secretp(char **p) {
  if (*p != NULL) {
    explicit_bzero(*p, strlen(*p));
    free(*p);
  }
}
#define cleanup_secret __attribute__((cleanup(reg_free_secretp)))

/* What the client has learned about one registry. */
struct reg_host {
  struct reg_host *next;
  char *domain;
  bool http;           /* speak plain http */
  bool https_seen;     /* an https exchange succeeded: never fall back */
  bool basic;          /* the registry asked for Basic: send it up front */
  bool creds_loaded;
  struct reg_creds creds; /* from the auth files; NULLs when there are none */
};

struct reg_token {
  struct reg_token *next;
  char *key;       /* reg_token_key() */
  char *token;
  int64_t expires; /* reg_now() seconds */
};

struct registry_client {
  bool tls_verify;
  char *auth_file;
  char *user_agent;
  uint64_t chunk_size;
  CURLSH *share;
  pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
  pthread_mutex_t lock; /* hosts and tokens */
  struct reg_host *hosts;
  struct reg_token *tokens;
};

/* --- errors (client.c) --- */

/* berth_fail without strerror, with errnum set to code. */
int reg_fail(berth_error **err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Checks the names a request is built from (repo and reference may be
 * NULL); ctx names the request in the message. */
int reg_check_names(const char *ctx, const char *domain, const char *repo, const char *reference,
                    berth_error **err);
/* "404 Not Found"'s text part, "" for codes it does not know. */
const char *reg_status_text(long status);
/* "CODE: message; CODE: message" (or only the messages when with_codes is
 * false) from a distribution-spec error body, also {"details": ...} of token
 * servers, with control characters replaced; NULL when there is none. */
char *reg_error_body_text(const char *body, size_t len, bool with_codes);

/* --- names and URLs (url.c) --- */

/* The host serving domain's API: Docker Hub's is not "docker.io". */
const char *reg_api_host(const char *domain);
/* localhost, 127.0.0.0/8 or [::1], with any port. */
bool reg_domain_is_local(const char *domain);
/* host, host:port or [v6]:port with nothing that could change the URL. */
bool reg_domain_valid(const char *domain);
/* distribution-spec repository name: lowercase components separated by "/". */
bool reg_repo_valid(const char *repo);
/* A tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
bool reg_tag_valid(const char *tag);
/* tag or sha256 digest */
bool reg_reference_valid(const char *reference);
/* "<http|https>://<api host><path>" (malloc'd). */
char *reg_url(bool http, const char *domain, const char *path);
/* ref (a Location header) resolved against base; NULL when either is not
 * an http(s) URL. */
char *reg_url_resolve(const char *base, const char *ref);
/* url with "&name=value" (or "?name=value") appended, value URL-encoded. */
char *reg_url_add_query(const char *url, const char *name, const char *value);
/* Same scheme, host and port: credentials go nowhere else. */
bool reg_url_same_origin(const char *a, const char *b);
/* True for text safe in a header value (no control characters). */
bool reg_header_safe(const char *text);

/* --- authentication (auth.c) --- */

enum reg_auth_scheme { REG_AUTH_NONE, REG_AUTH_BASIC, REG_AUTH_BEARER };

struct reg_challenge {
  enum reg_auth_scheme scheme;
  char *realm, *service, *scope, *error;
};
/* Parses a WWW-Authenticate value (several challenges may be joined by
 * commas) and keeps the best one it knows: Bearer, else Basic, else NONE.
 * Returns -1 when the value is malformed. */
int reg_challenge_parse(const char *header, struct reg_challenge *out);
void reg_challenge_clear(struct reg_challenge *ch);

/* Seconds of a monotonic clock. */
int64_t reg_now(void);
/* "<domain> <scopes>" (malloc'd). */
char *reg_token_key(const char *domain, const char *scope);
/* A copy of the cached token when it has not expired at now, else NULL. */
char *reg_token_get(struct registry_client *c, const char *key, int64_t now);
int reg_token_put(struct registry_client *c, const char *key, const char *token, int64_t expires);
/* Reads "token" (or "access_token") and "expires_in" (60 when absent) from
 * a token server's answer. */
int reg_token_parse(const char *body, size_t len, char **token, int64_t *expires_in, berth_error **err);

/* --- credentials (creds.c) --- */

char *reg_base64_encode(const void *data, size_t len);
/* NULL when text is not base64; the result is NUL-terminated. */
char *reg_base64_decode(const char *text, size_t *len);
/* Whether an auths key of a config file names domain: keys may be URLs
 * ("https://index.docker.io/v1/") and Docker Hub has several names. */
bool reg_auth_key_matches(const char *key, const char *domain);

/* --- requests (http.c) --- */

/* Where a 2xx body goes when it is not kept in memory: a blob file. */
struct reg_sink {
  int fd;
  uint64_t offset;        /* bytes in the file; where the next ones go */
  struct digester *digest; /* of the file's bytes [0, offset) */
  registry_progress_fn *progress;
  void *arg;
  uint64_t total;         /* whole blob size, 0 while unknown */
  uint64_t limit;         /* the size the descriptor promised, 0 for none */
};

/* One logical request: the engine adds authentication, follows redirects
 * when asked and falls back to http when allowed. */
struct reg_call {
  /* request */
  const char *ctx;                   /* "pull manifest \"x:y\" from host", for messages */
  const char *domain;
  const char *scope;                 /* token scopes, space separated; NULL: none */
  const struct reg_creds *login;     /* check these instead of stored ones, cache nothing */
  const char *method;                /* GET HEAD POST PUT PATCH DELETE */
  const char *path;                  /* under the registry's base URL, or */
  const char *url;                   /* an absolute URL (an upload location) */
  const char *const *headers;        /* extra "Name: value" lines, NULL-terminated */
  bool follow;                       /* follow redirects (blob downloads) */
  const char *upload_buf;            /* request body from memory, or */
  int upload_fd;                     /* from a file (when upload_buf is NULL and upload_len > 0) */
  uint64_t upload_offset, upload_len;
  registry_progress_fn *upload_progress;
  void *upload_arg;
  uint64_t upload_base, upload_total; /* progress reports base + bytes sent of total */
  size_t body_max;                   /* 2xx bodies kept in memory up to this, larger fail */
  struct reg_sink *sink;             /* 2xx bodies to a file instead */

  /* response */
  long status;
  char *final_url;                   /* the URL that gave this response */
  char *content_type, *location, *docker_digest, *content_range, *range, *www_authenticate, *chunk_min;
  int64_t content_length;            /* -1 when absent */
  char *body;                        /* NUL-terminated */
  size_t body_len;
  bool unauthorized_no_creds;        /* a 401 there were no credentials to answer */
};

/* Returns 0 once a response arrived (of any status: see reg_fail_status),
 * -1 with *err set for transport, authentication and local errors. */
int reg_perform(struct registry_client *c, struct reg_call *call, berth_error **err);
/* Fails with "<ctx>: <status> <text> (<registry's error>)". */
int reg_fail_status(const struct reg_call *call, berth_error **err);
/* Frees the response part, so the call can be performed again. */
void reg_call_clear(struct reg_call *call);

/* Internal parts of reg_perform used by auth.c. */
struct reg_exchange_result {
  CURLcode code;
  char errbuf[CURL_ERROR_SIZE];
  char cb_msg[256]; /* an error raised in a callback (a full disk, a bad range) */
  int cb_code;
};
/* One HTTP exchange of call with url and an optional Authorization value. */
int reg_exchange(struct registry_client *c, CURL *h, struct reg_call *call, const char *url, const char *auth,
                 struct reg_exchange_result *res);
/* Fills *auth for the next attempt after a 401.  Returns 0 to retry, 1
 * when there is nothing to retry with (the 401 stands), -1 on error. */
int reg_auth_answer(struct registry_client *c, CURL *h, struct reg_call *call, char **auth, berth_error **err);
/* The Authorization value to start with: a cached token or Basic. */
int reg_auth_initial(struct registry_client *c, struct reg_call *call, char **auth, berth_error **err);
/* Stored credentials for domain, loaded once; fills copies (NULLs when none). */
int reg_host_creds(struct registry_client *c, const char *domain, struct reg_creds *out, berth_error **err);

/* Host state (client.c).  The _locked one wants c->lock held and returns
 * NULL only when out of memory; the others take the lock. */
struct reg_host *reg_host_get_locked(struct registry_client *c, const char *domain);
bool reg_host_http(struct registry_client *c, const char *domain);
/* Switches domain to http when tls_verify is off and no https exchange
 * has succeeded; returns whether it did. */
bool reg_host_fall_back(struct registry_client *c, const char *domain);
void reg_host_https_seen(struct registry_client *c, const char *domain);
void reg_host_set_basic(struct registry_client *c, const char *domain);
bool reg_host_basic(struct registry_client *c, const char *domain);

#endif
