#include "image/reference.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/digest.h"

#define NAME_MAX_TOTAL 255

static bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)* */
static bool valid_component(const char *s, size_t len) {
  if (len == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
    return false;
  for (size_t i = 0; i < len;) {
    if (is_lower_alnum(s[i])) {
      i++;
      continue;
    }
    size_t j = i;
    if (s[i] == '.') {
      j = i + 1;
    } else if (s[i] == '_') {
      j = i + 1 < len && s[i + 1] == '_' ? i + 2 : i + 1;
    } else if (s[i] == '-') {
      while (j < len && s[j] == '-')
        j++;
    } else {
      return false;
    }
    if (j >= len || !is_lower_alnum(s[j]))
      return false;
    i = j;
  }
  return true;
}

/* host[:port]: DNS-ish labels or a bracketed IPv6 address. */
static bool valid_domain(const char *s, size_t len) {
  if (len == 0)
    return false;
  const char *colon = NULL;
  size_t host_len = len;
  if (s[0] == '[') {
    const char *close = memchr(s, ']', len);
    if (close == NULL)
      return false;
    host_len = (size_t)(close - s) + 1;
    for (const char *p = s + 1; p < close; p++)
      if (!isxdigit((unsigned char)*p) && *p != ':')
        return false;
  } else {
    colon = memchr(s, ':', len);
    if (colon != NULL)
      host_len = (size_t)(colon - s);
    if (host_len == 0)
      return false;
    for (size_t i = 0; i < host_len; i++) {
      char c = s[i];
      if (!isalnum((unsigned char)c) && c != '-' && c != '.')
        return false;
    }
    if (s[0] == '-' || s[0] == '.' || s[host_len - 1] == '-' || s[host_len - 1] == '.')
      return false;
  }
  if (host_len < len) {
    if (s[host_len] != ':' || host_len + 1 == len)
      return false;
    for (size_t i = host_len + 1; i < len; i++)
      if (!isdigit((unsigned char)s[i]))
        return false;
  }
  return true;
}

int image_ref_check_tag(const char *tag, berth_error **err) {
  size_t len = strlen(tag);
  bool ok = len > 0 && len <= 128 && (isalnum((unsigned char)tag[0]) || tag[0] == '_');
  for (size_t i = 1; ok && i < len; i++)
    ok = isalnum((unsigned char)tag[i]) || tag[i] == '_' || tag[i] == '.' || tag[i] == '-';
  if (!ok)
    return berth_fail(err, 0, "invalid tag \"%s\": a tag is up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'", tag);
  return 0;
}

static int fail_format(berth_error **err, const char *text, const char *why) {
  return berth_fail(err, 0, "invalid reference format \"%s\": %s", text, why);
}

int image_ref_parse(const char *text, struct image_ref *ref, berth_error **err) {
  memset(ref, 0, sizeof(*ref));
  if (text == NULL || *text == '\0')
    return berth_fail(err, 0, "invalid reference format: empty image name");
  cleanup_free char *work = strdup(text);
  if (work == NULL)
    return berth_fail(err, ENOMEM, "reference");
  char *at = strchr(work, '@');
  if (at != NULL) {
    *at = '\0';
    if (!digest_valid(at + 1))
      return fail_format(err, text, "the digest is not sha256:<64 lowercase hex digits>");
    ref->digest = strdup(at + 1);
  }
  char *last_slash = strrchr(work, '/');
  char *colon = strrchr(last_slash != NULL ? last_slash : work, ':');
  if (colon != NULL) {
    *colon = '\0';
    if (image_ref_check_tag(colon + 1, NULL) < 0) {
      image_ref_free(ref);
      return fail_format(err, text, "invalid tag");
    }
    ref->tag = strdup(colon + 1);
  }
  if (strlen(work) > NAME_MAX_TOTAL) {
    image_ref_free(ref);
    return fail_format(err, text, "repository name longer than 255 characters");
  }
  /* The first component is a registry when it looks like a host name. */
  const char *path = work;
  char *slash = strchr(work, '/');
  if (slash != NULL) {
    size_t first = (size_t)(slash - work);
    bool domain = memchr(work, '.', first) != NULL || memchr(work, ':', first) != NULL ||
                  (first == 9 && strncmp(work, "localhost", 9) == 0);
    for (size_t i = 0; !domain && i < first; i++)
      domain = isupper((unsigned char)work[i]);
    if (domain) {
      if (!valid_domain(work, first)) {
        image_ref_free(ref);
        return fail_format(err, text, "invalid registry host");
      }
      ref->domain = strndup(work, first);
      path = slash + 1;
    }
  }
  if (ref->domain == NULL || strcmp(ref->domain, "index.docker.io") == 0) {
    free(ref->domain);
    ref->domain = strdup(REFERENCE_DEFAULT_DOMAIN);
  }
  for (const char *p = path; *p != '\0'; p++)
    if (isupper((unsigned char)*p)) {
      image_ref_free(ref);
      return fail_format(err, text, "repository name must be lowercase");
    }
  for (const char *p = path;;) {
    const char *end = strchr(p, '/');
    size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
    if (!valid_component(p, len)) {
      image_ref_free(ref);
      return fail_format(err, text,
                         len == 0 ? "empty path component"
                                  : "a name component is lowercase letters and digits, separated by '.', '_', '__' or '-'");
    }
    if (end == NULL)
      break;
    p = end + 1;
  }
  if (strcmp(ref->domain, REFERENCE_DEFAULT_DOMAIN) == 0 && strchr(path, '/') == NULL) {
    if (asprintf(&ref->path, "library/%s", path) < 0)
      ref->path = NULL;
  } else {
    ref->path = strdup(path);
  }
  if (ref->tag == NULL && ref->digest == NULL)
    ref->tag = strdup(REFERENCE_DEFAULT_TAG);
  if (ref->path == NULL || ref->domain == NULL) {
    image_ref_free(ref);
    return berth_fail(err, ENOMEM, "reference");
  }
  return 0;
}

void image_ref_free(struct image_ref *ref) {
  free(ref->domain);
  free(ref->path);
  free(ref->tag);
  free(ref->digest);
  memset(ref, 0, sizeof(*ref));
}

char *image_ref_repository(const struct image_ref *ref) {
  char *s = NULL;
  return asprintf(&s, "%s/%s", ref->domain, ref->path) < 0 ? NULL : s;
}

char *image_ref_string(const struct image_ref *ref) {
  char *s = NULL;
  int n = ref->tag != NULL ? asprintf(&s, "%s/%s:%s", ref->domain, ref->path, ref->tag)
                           : asprintf(&s, "%s/%s@%s", ref->domain, ref->path, ref->digest);
  return n < 0 ? NULL : s;
}

const char *image_ref_familiar(const char *full) {
  static const char docker[] = REFERENCE_DEFAULT_DOMAIN "/";
  if (strncmp(full, docker, sizeof(docker) - 1) != 0)
    return full;
  const char *rest = full + sizeof(docker) - 1;
  if (strncmp(rest, "library/", 8) == 0 && strchr(rest + 8, '/') == NULL)
    return rest + 8;
  return rest;
}
