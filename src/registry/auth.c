/* Answers to a registry's 401: Basic with stored credentials, or a Bearer
 * token from the realm the challenge names (the distribution "token"
 * flow), cached per registry and scope until it expires. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "registry/internal.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/log.h"

/* --- WWW-Authenticate (RFC 7235) --- */

static bool is_tchar(char ch) {
  return isalnum((unsigned char)ch) || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  return p;
}

/* The end of the comma-separated item starting at p (quotes respected), or
 * NULL when a quoted string is not closed. */
static const char *item_end(const char *p) {
  bool quoted = false;
  for (; *p != '\0'; p++) {
    if (quoted && *p == '\\' && p[1] != '\0')
      p++;
    else if (*p == '"')
      quoted = !quoted;
    else if (!quoted && *p == ',')
      return p;
  }
  return quoted ? NULL : p;
}

/* Parses "name = value" in [p, end): value a token or a quoted string. */
static int parse_param(const char *p, const char *end, struct reg_challenge *ch) {
  const char *name = p;
  while (p < end && is_tchar(*p))
    p++;
  size_t name_len = (size_t)(p - name);
  p = skip_ws(p, end);
  if (name_len == 0 || p >= end || *p != '=')
    return -1;
  p = skip_ws(p + 1, end);
  cleanup_free char *value = malloc((size_t)(end - p) + 1);
  if (value == NULL)
    return -1;
  size_t n = 0;
  if (p < end && *p == '"') {
    for (p++; p < end && *p != '"'; p++) {
      if (*p == '\\' && p + 1 < end)
        p++;
      value[n++] = *p;
    }
    if (p >= end)
      return -1;
    p++;
  } else {
    /* Not only tchars: some servers leave a realm's '/' and ':' unquoted. */
    while (p < end && *p != ' ' && *p != '\t' && (unsigned char)*p > 0x20)
      value[n++] = *p++;
  }
  value[n] = '\0';
  if (skip_ws(p, end) != end)
    return -1;
  char **slot = NULL;
  if (name_len == 5 && strncasecmp(name, "realm", 5) == 0)
    slot = &ch->realm;
  else if (name_len == 7 && strncasecmp(name, "service", 7) == 0)
    slot = &ch->service;
  else if (name_len == 5 && strncasecmp(name, "scope", 5) == 0)
    slot = &ch->scope;
  else if (name_len == 5 && strncasecmp(name, "error", 5) == 0)
    slot = &ch->error;
  if (slot != NULL) {
    free(*slot);
    *slot = TAKE_PTR(value);
  }
  return 0;
}

/* True when [p, end) starts with "token =", i.e. is a parameter. */
static bool starts_param(const char *p, const char *end) {
  const char *q = p;
  while (q < end && is_tchar(*q))
    q++;
  if (q == p)
    return false;
  q = skip_ws(q, end);
  /* "abc==" is a token68, not a parameter. */
  return q < end && *q == '=' && !(q + 1 < end && q[1] == '=');
}

static int rank(enum reg_auth_scheme s) {
  return s == REG_AUTH_BEARER ? 2 : s == REG_AUTH_BASIC ? 1 : 0;
}

/* Keeps cur in best when it ranks higher (the first of a kind wins). */
static void settle(struct reg_challenge *best, struct reg_challenge *cur) {
  if (rank(cur->scheme) > rank(best->scheme)) {
    reg_challenge_clear(best);
    *best = *cur;
  } else {
    reg_challenge_clear(cur);
  }
  memset(cur, 0, sizeof(*cur));
}

int reg_challenge_parse(const char *header, struct reg_challenge *out) {
  memset(out, 0, sizeof(*out));
  struct reg_challenge cur = {0};
  bool have_cur = false;
  const char *p = header;
  while (*p != '\0') {
    const char *end = item_end(p);
    if (end == NULL)
      goto malformed;
    const char *s = skip_ws(p, end), *e = end;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
      e--;
    if (s < e) {
      if (have_cur && starts_param(s, e)) {
        if (parse_param(s, e, &cur) < 0)
          goto malformed;
      } else {
        /* A new challenge: scheme, then perhaps its first parameter. */
        if (have_cur)
          settle(out, &cur);
        const char *q = s;
        while (q < e && is_tchar(*q))
          q++;
        if (q == s || (q < e && *q != ' ' && *q != '\t'))
          goto malformed;
        size_t n = (size_t)(q - s);
        have_cur = true;
        cur.scheme = n == 6 && strncasecmp(s, "bearer", 6) == 0  ? REG_AUTH_BEARER
                     : n == 5 && strncasecmp(s, "basic", 5) == 0 ? REG_AUTH_BASIC
                                                                 : REG_AUTH_NONE;
        q = skip_ws(q, e);
        /* A token68 after the scheme means nothing to us. */
        if (q < e && starts_param(q, e) && parse_param(q, e, &cur) < 0)
          goto malformed;
      }
    }
    p = *end == ',' ? end + 1 : end;
  }
  if (have_cur)
    settle(out, &cur);
  return 0;
malformed:
  reg_challenge_clear(&cur);
  reg_challenge_clear(out);
  return -1;
}

void reg_challenge_clear(struct reg_challenge *ch) {
  free(ch->realm);
  free(ch->service);
  free(ch->scope);
  free(ch->error);
  memset(ch, 0, sizeof(*ch));
}

/* --- token cache --- */

int64_t reg_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec;
}

char *reg_token_key(const char *domain, const char *scope) {
  char *key = NULL;
  if (asprintf(&key, "%s %s", domain, scope != NULL ? scope : "") < 0)
    return NULL;
  return key;
}

char *reg_token_get(struct registry_client *c, const char *key, int64_t now) {
  char *token = NULL;
  pthread_mutex_lock(&c->lock);
  for (struct reg_token *t = c->tokens; t != NULL; t = t->next)
    if (strcmp(t->key, key) == 0) {
      if (t->expires > now)
        token = strdup(t->token);
      break;
    }
  pthread_mutex_unlock(&c->lock);
  return token;
}

static void token_free(struct reg_token *t) {
  explicit_bzero(t->token, strlen(t->token));
  free(t->token);
  free(t->key);
  free(t);
}

int reg_token_put(struct registry_client *c, const char *key, const char *token, int64_t expires) {
  struct reg_token *t = calloc(1, sizeof(*t));
  if (t == NULL || (t->key = strdup(key)) == NULL || (t->token = strdup(token)) == NULL) {
    if (t != NULL)
      free(t->key);
    free(t);
    return -1;
  }
  t->expires = expires;
  pthread_mutex_lock(&c->lock);
  /* Drop the entry it replaces and any that expired, so the list stays
   * as long as the scopes in use. */
  for (struct reg_token **pp = &c->tokens; *pp != NULL;) {
    struct reg_token *old = *pp;
    if (strcmp(old->key, key) == 0 || old->expires <= reg_now()) {
      *pp = old->next;
      token_free(old);
    } else {
      pp = &old->next;
    }
  }
  t->next = c->tokens;
  c->tokens = t;
  pthread_mutex_unlock(&c->lock);
  return 0;
}

int reg_token_parse(const char *body, size_t len, char **token, int64_t *expires_in, berth_error **err) {
  *token = NULL;
  cleanup_json struct json_object *root = json_parse_text(body, len, "token response", err);
  if (root == NULL)
    return -1;
  if (!json_object_is_type(root, json_type_object))
    return reg_fail(err, EINVAL, "token response: expected a JSON object");
  struct json_ctx ctx = {.origin = "token response"};
  const char *text = NULL;
  if (json_get_string(&ctx, root, "token", &text, err) < 0)
    return -1;
  if (text == NULL || text[0] == '\0') {
    text = NULL;
    if (json_get_string(&ctx, root, "access_token", &text, err) < 0)
      return -1;
  }
  if (text == NULL || text[0] == '\0')
    return reg_fail(err, EINVAL, "token response: no \"token\" or \"access_token\"");
  if (!reg_header_safe(text))
    return reg_fail(err, EINVAL, "token response: the token has control characters");
  int64_t expires = 60;
  if (json_get_int64(&ctx, root, "expires_in", &expires, err) < 0)
    return -1;
  *expires_in = expires > 0 ? expires : 60;
  if ((*token = strdup(text)) == NULL)
    return berth_fail(err, ENOMEM, "token response");
  return 0;
}

/* --- answering 401 --- */

int reg_host_creds(struct registry_client *c, const char *domain, struct reg_creds *out, berth_error **err) {
  memset(out, 0, sizeof(*out));
  pthread_mutex_lock(&c->lock);
  struct reg_host *h = reg_host_get_locked(c, domain);
  bool loaded = h != NULL && h->creds_loaded;
  pthread_mutex_unlock(&c->lock);
  if (!loaded) {
    /* Read outside the lock; a racing thread reads the same file. */
    struct reg_creds found = {0};
    if (registry_creds_lookup(c->auth_file, domain, &found.user, &found.password, err) < 0)
      return -1;
    pthread_mutex_lock(&c->lock);
    h = reg_host_get_locked(c, domain);
    if (h != NULL && !h->creds_loaded) {
      h->creds = found;
      h->creds_loaded = true;
      memset(&found, 0, sizeof(found));
    }
    pthread_mutex_unlock(&c->lock);
    reg_creds_clear(&found);
  }
  pthread_mutex_lock(&c->lock);
  h = reg_host_get_locked(c, domain);
  if (h != NULL && h->creds.user != NULL) {
    out->user = strdup(h->creds.user);
    out->password = strdup(h->creds.password);
  }
  pthread_mutex_unlock(&c->lock);
  if (h == NULL || (h->creds.user != NULL && (out->user == NULL || out->password == NULL))) {
    reg_creds_clear(out);
    return berth_fail(err, ENOMEM, "credentials for %s", domain);
  }
  return 0;
}

static char *basic_value(const struct reg_creds *cr) {
  cleanup_free char *plain = NULL;
  if (asprintf(&plain, "%s:%s", cr->user, cr->password) < 0)
    return NULL;
  char *encoded = reg_base64_encode(plain, strlen(plain));
  explicit_bzero(plain, strlen(plain));
  char *value = NULL;
  if (encoded != NULL && asprintf(&value, "Basic %s", encoded) < 0)
    value = NULL;
  free(encoded);
  return value;
}

int reg_auth_initial(struct registry_client *c, struct reg_call *call, char **auth, berth_error **err) {
  *auth = NULL;
  if (call->login != NULL)
    return 0;
  cleanup_free char *key = reg_token_key(call->domain, call->scope);
  if (key == NULL)
    return berth_fail(err, ENOMEM, "%s", call->ctx);
  cleanup_secret char *token = reg_token_get(c, key, reg_now());
  if (token != NULL) {
    if (asprintf(auth, "Bearer %s", token) < 0) {
      *auth = NULL;
      return berth_fail(err, ENOMEM, "%s", call->ctx);
    }
    return 0;
  }
  if (!reg_host_basic(c, call->domain))
    return 0;
  struct reg_creds cr;
  if (reg_host_creds(c, call->domain, &cr, err) < 0)
    return berth_error_wrap(err, "%s", call->ctx);
  if (cr.user != NULL && (*auth = basic_value(&cr)) == NULL) {
    reg_creds_clear(&cr);
    return berth_fail(err, ENOMEM, "%s", call->ctx);
  }
  reg_creds_clear(&cr);
  return 0;
}

/* Whether the space-separated list has item. */
static bool has_word(const char *list, const char *item) {
  size_t n = strlen(item);
  for (const char *p = list; p != NULL && *p != '\0';) {
    size_t len = strcspn(p, " ");
    if (len == n && strncmp(p, item, n) == 0)
      return true;
    p += len;
    while (*p == ' ')
      p++;
  }
  return false;
}

/* Our scopes, plus those the challenge names that we did not ask for. */
static char *merge_scopes(const char *ours, const char *theirs) {
  size_t cap = (ours != NULL ? strlen(ours) : 0) + (theirs != NULL ? strlen(theirs) : 0) + 2;
  char *out = calloc(1, cap);
  if (out == NULL)
    return NULL;
  if (ours != NULL)
    strcpy(out, ours);
  for (const char *p = theirs; p != NULL && *p != '\0';) {
    size_t len = strcspn(p, " ");
    char word[512];
    if (len > 0 && len < sizeof(word)) {
      memcpy(word, p, len);
      word[len] = '\0';
      if (!has_word(out, word)) {
        if (out[0] != '\0')
          strcat(out, " ");
        strcat(out, word);
      }
    }
    p += len;
    while (*p == ' ')
      p++;
  }
  return out;
}

/* GET <realm>?service=..&scope=..: a token for scopes. */
static int fetch_token(struct registry_client *c, CURL *h, const struct reg_call *call,
                       const struct reg_challenge *ch, const char *scopes, const struct reg_creds *cr,
                       char **token, int64_t *expires_in, berth_error **err) {
  cleanup_free char *url = reg_url_resolve(ch->realm, ch->realm);
  if (url == NULL)
    return reg_fail(err, EIO, "%s: the registry's token realm \"%s\" is not an http(s) URL", call->ctx,
                    ch->realm);
  if (ch->service != NULL && ch->service[0] != '\0') {
    char *next = reg_url_add_query(url, "service", ch->service);
    free(url);
    url = next;
  }
  for (const char *p = scopes; url != NULL && p != NULL && *p != '\0';) {
    size_t len = strcspn(p, " ");
    char *scope = strndup(p, len);
    char *next = scope != NULL ? reg_url_add_query(url, "scope", scope) : NULL;
    free(scope);
    free(url);
    url = next;
    p += len;
    while (*p == ' ')
      p++;
  }
  if (url != NULL && cr->user != NULL) {
    char *next = reg_url_add_query(url, "account", cr->user);
    free(url);
    url = next;
  }
  if (url == NULL)
    return berth_fail(err, ENOMEM, "%s", call->ctx);

  cleanup_secret char *basic = cr->user != NULL ? basic_value(cr) : NULL;
  struct reg_call tc = {.ctx = call->ctx, .domain = call->domain, .method = "GET", .body_max = REG_TOKEN_BODY_MAX};
  struct reg_exchange_result res;
  berth_debug("registry: token for \"%s\" from %s", scopes != NULL ? scopes : "", ch->realm);
  int r = reg_exchange(c, h, &tc, url, basic, &res);
  if (r < 0) {
    reg_fail(err, EIO, "%s: get token from %s: %s", call->ctx, ch->realm,
             res.errbuf[0] != '\0' ? res.errbuf : curl_easy_strerror(res.code));
    reg_call_clear(&tc);
    return -1;
  }
  if (tc.status != 200) {
    cleanup_free char *detail = reg_error_body_text(tc.body, tc.body_len, true);
    bool denied = tc.status == 401 || tc.status == 403;
    reg_fail(err, denied ? EACCES : EIO, "%s: %sget token from %s: %ld%s%s%s%s%s", call->ctx,
             denied ? "unauthorized: " : "", ch->realm, tc.status, reg_status_text(tc.status)[0] ? " " : "",
             reg_status_text(tc.status), detail != NULL ? " (" : "", detail != NULL ? detail : "",
             detail != NULL ? ")" : "");
    reg_call_clear(&tc);
    return -1;
  }
  r = reg_token_parse(tc.body, tc.body_len, token, expires_in, err);
  reg_call_clear(&tc);
  if (r < 0)
    return berth_error_wrap(err, "%s: get token from %s", call->ctx, ch->realm);
  return 0;
}

int reg_auth_answer(struct registry_client *c, CURL *h, struct reg_call *call, char **auth, berth_error **err) {
  struct reg_challenge ch;
  if (call->www_authenticate == NULL || reg_challenge_parse(call->www_authenticate, &ch) < 0)
    return 1;
  struct reg_creds cr = {0};
  int ret = 1;
  if (call->login != NULL) {
    cr.user = strdup(call->login->user);
    cr.password = strdup(call->login->password);
    if (cr.user == NULL || cr.password == NULL) {
      ret = berth_fail(err, ENOMEM, "%s", call->ctx);
      goto out;
    }
  } else if (ch.scheme != REG_AUTH_NONE && reg_host_creds(c, call->domain, &cr, err) < 0) {
    ret = berth_error_wrap(err, "%s", call->ctx);
    goto out;
  }
  call->unauthorized_no_creds = cr.user == NULL;

  if (ch.scheme == REG_AUTH_BASIC) {
    if (cr.user == NULL)
      goto out;
    char *value = basic_value(&cr);
    if (value == NULL) {
      ret = berth_fail(err, ENOMEM, "%s", call->ctx);
      goto out;
    }
    reg_free_secretp(auth);
    *auth = value;
    if (call->login == NULL)
      reg_host_set_basic(c, call->domain);
    ret = 0;
  } else if (ch.scheme == REG_AUTH_BEARER && ch.realm != NULL) {
    cleanup_free char *scopes = merge_scopes(call->scope, ch.scope);
    cleanup_secret char *token = NULL;
    int64_t expires_in = 0;
    if (scopes == NULL) {
      ret = berth_fail(err, ENOMEM, "%s", call->ctx);
      goto out;
    }
    if (fetch_token(c, h, call, &ch, scopes, &cr, &token, &expires_in, err) < 0) {
      ret = -1;
      goto out;
    }
    char *value = NULL;
    if (asprintf(&value, "Bearer %s", token) < 0) {
      ret = berth_fail(err, ENOMEM, "%s", call->ctx);
      goto out;
    }
    reg_free_secretp(auth);
    *auth = value;
    if (call->login == NULL) {
      /* Renew a little early, so a token does not expire in flight. */
      int64_t margin = expires_in / 5 < 30 ? expires_in / 5 : 30;
      cleanup_free char *key = reg_token_key(call->domain, call->scope);
      if (key != NULL)
        reg_token_put(c, key, token, reg_now() + expires_in - margin);
    }
    ret = 0;
  }
out:
  reg_creds_clear(&cr);
  reg_challenge_clear(&ch);
  return ret;
}
