/* Registry names and the URLs built from them.  Names come from image
 * references a user (or a hostile manifest) wrote, so each is checked
 * against its grammar before it becomes part of a URL. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/internal.h"
#include "util/cleanup.h"

const char *reg_api_host(const char *domain) {
  if (strcmp(domain, "docker.io") == 0 || strcmp(domain, "index.docker.io") == 0)
    return "registry-1.docker.io";
  return domain;
}

/* The host part of domain without its port, copied into buf. */
static bool domain_host(const char *domain, char *buf, size_t size) {
  const char *end;
  if (domain[0] == '[') {
    end = strchr(domain, ']');
    if (end == NULL)
      return false;
    end++;
  } else {
    end = strchr(domain, ':');
    if (end == NULL)
      end = domain + strlen(domain);
  }
  size_t n = (size_t)(end - domain);
  if (n == 0 || n >= size)
    return false;
  memcpy(buf, domain, n);
  buf[n] = '\0';
  return true;
}

bool reg_domain_is_local(const char *domain) {
  char host[256];
  if (!domain_host(domain, host, sizeof(host)))
    return false;
  if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
    return true;
  struct in_addr a;
  return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

bool reg_domain_valid(const char *domain) {
  if (domain == NULL || domain[0] == '\0' || strlen(domain) > 255)
    return false;
  const char *p = domain;
  if (*p == '[') {
    const char *close = strchr(p, ']');
    if (close == NULL || close == p + 1)
      return false;
    for (const char *q = p + 1; q < close; q++)
      if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.')
        return false;
    p = close + 1;
  } else {
    const char *start = p;
    while (isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_')
      p++;
    if (p == start)
      return false;
  }
  if (*p == '\0')
    return true;
  if (*p != ':' || p[1] == '\0')
    return false;
  for (p++; *p != '\0'; p++)
    if (!isdigit((unsigned char)*p))
      return false;
  return true;
}

static bool is_lower_alnum(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool component_valid(const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (!is_lower_alnum(s[i]))
      return false;
    while (i < n && is_lower_alnum(s[i]))
      i++;
    if (i == n)
      return true;
    size_t sep = i;
    if (s[i] == '.') {
      i++;
    } else if (s[i] == '_') {
      i++;
      if (i < n && s[i] == '_')
        i++;
    } else if (s[i] == '-') {
      while (i < n && s[i] == '-')
        i++;
    } else {
      return false;
    }
    if (i == n || i == sep)
      return false;
  }
  return n > 0;
}

bool reg_repo_valid(const char *repo) {
  if (repo == NULL || repo[0] == '\0' || strlen(repo) > 255)
    return false;
  const char *p = repo;
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t n = slash != NULL ? (size_t)(slash - p) : strlen(p);
    if (!component_valid(p, n))
      return false;
    if (slash == NULL)
      return true;
    p = slash + 1;
  }
}

bool reg_tag_valid(const char *tag) {
  if (tag == NULL || tag[0] == '\0' || strlen(tag) > 128 || tag[0] == '.' || tag[0] == '-')
    return false;
  for (const char *p = tag; *p != '\0'; p++)
    if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
      return false;
  return true;
}

bool reg_reference_valid(const char *reference) {
  if (reference == NULL)
    return false;
  return strchr(reference, ':') != NULL ? digest_valid(reference) : reg_tag_valid(reference);
}

char *reg_url(bool http, const char *domain, const char *path) {
  char *url = NULL;
  if (asprintf(&url, "%s://%s%s", http ? "http" : "https", reg_api_host(domain), path) < 0)
    return NULL;
  return url;
}

static void cleanup_curlup(CURLU **u) {
  if (*u != NULL)
    curl_url_cleanup(*u);
}
#define cleanup_curlu __attribute__((cleanup(cleanup_curlup)))

static bool http_scheme(CURLU *u) {
  cleanup_free char *scheme = NULL;
  if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
    return false;
  return strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0;
}

static char *url_text(CURLU *u) {
  char *text = NULL;
  if (curl_url_get(u, CURLUPART_URL, &text, 0) != CURLUE_OK)
    return NULL;
  /* curl allocates with its own allocator: hand back a malloc'd copy. */
  char *copy = strdup(text);
  curl_free(text);
  return copy;
}

char *reg_url_resolve(const char *base, const char *ref) {
  cleanup_curlu CURLU *u = curl_url();
  if (u == NULL || curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK || !http_scheme(u))
    return NULL;
  if (!reg_header_safe(ref) || curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK || !http_scheme(u))
    return NULL;
  return url_text(u);
}

char *reg_url_add_query(const char *url, const char *name, const char *value) {
  cleanup_curlu CURLU *u = curl_url();
  cleanup_free char *pair = NULL;
  if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
    return NULL;
  if (asprintf(&pair, "%s=%s", name, value) < 0)
    return NULL;
  if (curl_url_set(u, CURLUPART_QUERY, pair, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
    return NULL;
  return url_text(u);
}

/* scheme, host and port (the scheme's default when absent) of url. */
static bool url_origin(const char *url, char **scheme, char **host, char **port) {
  cleanup_curlu CURLU *u = curl_url();
  if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
    return false;
  if (curl_url_get(u, CURLUPART_SCHEME, scheme, 0) != CURLUE_OK)
    return false;
  if (curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK)
    return false;
  return curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK;
}

bool reg_url_same_origin(const char *a, const char *b) {
  char *sa = NULL, *ha = NULL, *pa = NULL, *sb = NULL, *hb = NULL, *pb = NULL;
  bool same = url_origin(a, &sa, &ha, &pa) && url_origin(b, &sb, &hb, &pb) && strcasecmp(sa, sb) == 0 &&
              strcasecmp(ha, hb) == 0 && strcmp(pa, pb) == 0;
  curl_free(sa);
  curl_free(ha);
  curl_free(pa);
  curl_free(sb);
  curl_free(hb);
  curl_free(pb);
  return same;
}

bool reg_header_safe(const char *text) {
  for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
    if (*p < 0x20 || *p == 0x7f)
      return false;
  return true;
}
