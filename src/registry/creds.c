/* Registry credentials in docker's config.json format, so a file written by
 * `docker login` (or podman's auth.json) reads the same way:
 *   {"auths": {"quay.io": {"auth": "<base64 of user:password>"}}}
 * berth writes only its own file; docker's is read as a fallback. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"

void reg_creds_clear(struct reg_creds *cr) {
  if (cr->password != NULL)
    explicit_bzero(cr->password, strlen(cr->password));
  free(cr->password);
  free(cr->user);
  cr->user = cr->password = NULL;
}

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *reg_base64_encode(const void *data, size_t len) {
  const unsigned char *in = data;
  char *out = malloc((len + 2) / 3 * 4 + 1);
  if (out == NULL)
    return NULL;
  char *o = out;
  for (size_t i = 0; i < len; i += 3) {
    unsigned v = (unsigned)in[i] << 16;
    if (i + 1 < len)
      v |= (unsigned)in[i + 1] << 8;
    if (i + 2 < len)
      v |= in[i + 2];
    *o++ = b64_alphabet[(v >> 18) & 63];
    *o++ = b64_alphabet[(v >> 12) & 63];
    *o++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
    *o++ = i + 2 < len ? b64_alphabet[v & 63] : '=';
  }
  *o = '\0';
  return out;
}

static int b64_value(char ch) {
  const char *p = ch != '\0' ? strchr(b64_alphabet, ch) : NULL;
  return p != NULL ? (int)(p - b64_alphabet) : -1;
}

char *reg_base64_decode(const char *text, size_t *len) {
  size_t n = strlen(text);
  /* Padding is optional: some writers drop it. */
  while (n > 0 && text[n - 1] == '=')
    n--;
  if (n % 4 == 1)
    return NULL;
  char *out = malloc(n / 4 * 3 + 3);
  if (out == NULL)
    return NULL;
  size_t o = 0;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64_value(text[i]);
    if (v < 0) {
      free(out);
      return NULL;
    }
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (char)((acc >> bits) & 0xff);
    }
  }
  out[o] = '\0';
  if (len != NULL)
    *len = o;
  return out;
}

/* Docker Hub answers to several names; config files use any of them. */
static const char *canonical_domain(const char *domain) {
  if (strcasecmp(domain, "index.docker.io") == 0 || strcasecmp(domain, "registry-1.docker.io") == 0)
    return "docker.io";
  return domain;
}

bool reg_auth_key_matches(const char *key, const char *domain) {
  const char *k = key;
  if (strncasecmp(k, "https://", 8) == 0)
    k += 8;
  else if (strncasecmp(k, "http://", 7) == 0)
    k += 7;
  char host[256];
  size_t n = strcspn(k, "/");
  if (n == 0 || n >= sizeof(host))
    return false;
  memcpy(host, k, n);
  host[n] = '\0';
  return strcasecmp(canonical_domain(host), canonical_domain(domain)) == 0;
}

/* $HOME, else the password database's (malloc'd; getpwuid_r, as lookups
 * run on several threads at once). */
static char *home_dir(void) {
  const char *home = getenv("HOME");
  if (home != NULL && home[0] != '\0')
    return strdup(home);
  char buf[4096];
  struct passwd pw, *found = NULL;
  if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &found) != 0 || found == NULL || found->pw_dir == NULL)
    return NULL;
  return strdup(found->pw_dir);
}

char *registry_default_auth_file(berth_error **err) {
  char *path = NULL;
  const char *xdg = getenv("XDG_CONFIG_HOME");
  int r;
  if (xdg != NULL && xdg[0] == '/') {
    r = asprintf(&path, "%s/berth/auth.json", xdg);
  } else {
    cleanup_free char *home = home_dir();
    if (home == NULL) {
      reg_fail(err, ENOENT, "credentials file: no home directory ($HOME is not set)");
      return NULL;
    }
    r = asprintf(&path, "%s/.config/berth/auth.json", home);
  }
  if (r < 0) {
    berth_fail(err, ENOMEM, "credentials file");
    return NULL;
  }
  return path;
}

static char *docker_config_file(void) {
  char *path = NULL;
  const char *dir = getenv("DOCKER_CONFIG");
  int r;
  if (dir != NULL && dir[0] != '\0') {
    r = asprintf(&path, "%s/config.json", dir);
  } else {
    cleanup_free char *home = home_dir();
    if (home == NULL)
      return NULL;
    r = asprintf(&path, "%s/.docker/config.json", home);
  }
  return r < 0 ? NULL : path;
}

/* Loads path's JSON object into *out; a missing file leaves *out NULL. */
static int load_config(const char *path, struct json_object **out, berth_error **err) {
  *out = NULL;
  size_t len;
  cleanup_error berth_error *read_err = NULL;
  cleanup_free char *text = fs_read_file_at(AT_FDCWD, path, &len, &read_err);
  if (text == NULL) {
    if (read_err->errnum == ENOENT)
      return 0;
    return reg_fail(err, read_err->errnum, "%s", read_err->msg);
  }
  struct json_object *obj = json_parse_text(text, len, path, err);
  if (obj == NULL)
    return -1;
  if (!json_object_is_type(obj, json_type_object)) {
    json_object_put(obj);
    return reg_fail(err, EINVAL, "%s: expected a JSON object", path);
  }
  *out = obj;
  return 0;
}

/* Reads credentials from one auths entry; 0 with NULLs when it has none. */
static int entry_creds(const char *path, const char *key, struct json_object *entry, struct reg_creds *out,
                       berth_error **err) {
  struct json_ctx ctx = {.origin = path, .path = "auths"};
  if (!json_object_is_type(entry, json_type_object))
    return json_fail_err(err, &ctx, key, "expected an object, got %s", json_type_phrase(entry));
  ctx.path = NULL;
  const char *auth = NULL;
  cleanup_free char *field = NULL;
  if (asprintf(&field, "auths.%s", key) < 0)
    return berth_fail(err, ENOMEM, "%s", path);
  ctx.path = field;
  if (json_get_string(&ctx, entry, "auth", &auth, err) < 0)
    return -1;
  if (auth != NULL && auth[0] != '\0') {
    size_t len;
    char *plain = reg_base64_decode(auth, &len);
    char *colon = plain != NULL ? memchr(plain, ':', len) : NULL;
    if (colon == NULL || strlen(plain) != len) {
      if (plain != NULL)
        explicit_bzero(plain, len);
      free(plain);
      return json_fail_err(err, &ctx, "auth", "not the base64 of \"user:password\"");
    }
    *colon = '\0';
    out->user = strdup(plain);
    out->password = strdup(colon + 1);
    explicit_bzero(plain, len);
    free(plain);
  } else {
    /* Older files spell the two out. */
    const char *user = NULL, *password = NULL;
    if (json_get_string(&ctx, entry, "username", &user, err) < 0 ||
        json_get_string(&ctx, entry, "password", &password, err) < 0)
      return -1;
    if (user == NULL || password == NULL || user[0] == '\0')
      return 0;
    out->user = strdup(user);
    out->password = strdup(password);
  }
  if (out->user == NULL || out->password == NULL) {
    reg_creds_clear(out);
    return berth_fail(err, ENOMEM, "%s", path);
  }
  return 0;
}

/* Credentials for domain in one config file: the exact key first, then any
 * key naming the same registry. */
static int file_lookup(const char *path, const char *domain, struct reg_creds *out, berth_error **err) {
  cleanup_json struct json_object *root = NULL;
  if (load_config(path, &root, err) < 0)
    return -1;
  if (root == NULL)
    return 0;
  struct json_object *auths = NULL;
  struct json_ctx ctx = {.origin = path};
  if (json_get_object(&ctx, root, "auths", &auths, err) < 0)
    return -1;
  if (auths == NULL)
    return 0;
  struct json_object *entry = NULL;
  if (json_object_object_get_ex(auths, domain, &entry))
    return entry_creds(path, domain, entry, out, err);
  json_object_object_foreach(auths, key, val) {
    if (!reg_auth_key_matches(key, domain))
      continue;
    if (entry_creds(path, key, val, out, err) < 0)
      return -1;
    if (out->user != NULL)
      return 0;
  }
  return 0;
}

int registry_creds_lookup(const char *auth_file, const char *domain, char **user, char **password,
                          berth_error **err) {
  *user = *password = NULL;
  cleanup_free char *own = NULL;
  if (auth_file == NULL && (auth_file = own = registry_default_auth_file(err)) == NULL)
    return -1;
  struct reg_creds found = {0};
  if (file_lookup(auth_file, domain, &found, err) < 0)
    return berth_error_wrap(err, "credentials for %s", domain);
  if (found.user == NULL) {
    cleanup_free char *docker = docker_config_file();
    if (docker != NULL && file_lookup(docker, domain, &found, err) < 0)
      return berth_error_wrap(err, "credentials for %s", domain);
  }
  *user = found.user;
  *password = found.password;
  return 0;
}

/* Writes text to path through a private temporary file: readers see the old
 * or the new file, never a part, and never with looser permissions. */
static int write_private_atomic(const char *path, const char *text, berth_error **err) {
  cleanup_free char *dir = strdup(path);
  if (dir == NULL)
    return berth_fail(err, ENOMEM, "write \"%s\"", path);
  char *slash = strrchr(dir, '/');
  if (slash != NULL && slash != dir) {
    *slash = '\0';
    if (fs_mkdir_p(dir, 0700, err) < 0)
      return -1;
  } else {
    free(dir);
    dir = strdup(slash == dir ? "/" : ".");
    if (dir == NULL)
      return berth_fail(err, ENOMEM, "write \"%s\"", path);
  }
  cleanup_free char *tmp = NULL;
  if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
    return berth_fail(err, ENOMEM, "write \"%s\"", path);
  cleanup_close int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "create \"%s\"", tmp);
  if (fchmod(fd, 0600) < 0 || fs_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
    int saved = errno;
    unlink(tmp);
    return berth_fail(err, saved, "write \"%s\"", tmp);
  }
  if (rename(tmp, path) < 0) {
    int saved = errno;
    unlink(tmp);
    return berth_fail(err, saved, "rename \"%s\" to \"%s\"", tmp, path);
  }
  return 0;
}

static int save_config(const char *path, struct json_object *root, berth_error **err) {
  const char *text = json_object_to_json_string_ext(
      root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
  cleanup_free char *with_newline = NULL;
  if (text == NULL || asprintf(&with_newline, "%s\n", text) < 0)
    return berth_fail(err, ENOMEM, "write \"%s\"", path);
  return write_private_atomic(path, with_newline, err);
}

int registry_creds_store(const char *auth_file, const char *domain, const char *user, const char *password,
                         berth_error **err) {
  if (!reg_domain_valid(domain))
    return reg_fail(err, EINVAL, "store credentials for \"%s\": not a registry host name", domain);
  if (user == NULL || user[0] == '\0' || strchr(user, ':') != NULL)
    return reg_fail(err, EINVAL, "store credentials for %s: the user name must be non-empty and have no \":\"",
                    domain);
  cleanup_free char *own = NULL;
  if (auth_file == NULL && (auth_file = own = registry_default_auth_file(err)) == NULL)
    return -1;
  cleanup_json struct json_object *root = NULL;
  if (load_config(auth_file, &root, err) < 0)
    return berth_error_wrap(err, "store credentials for %s", domain);
  if (root == NULL && (root = json_object_new_object()) == NULL)
    return berth_fail(err, ENOMEM, "store credentials for %s", domain);
  struct json_object *auths = NULL;
  struct json_ctx ctx = {.origin = auth_file};
  if (json_get_object(&ctx, root, "auths", &auths, err) < 0)
    return berth_error_wrap(err, "store credentials for %s", domain);
  if (auths == NULL) {
    auths = json_object_new_object();
    if (auths == NULL || json_object_object_add(root, "auths", auths) < 0)
      return berth_fail(err, ENOMEM, "store credentials for %s", domain);
  }
  size_t plain_len = strlen(user) + 1 + strlen(password);
  cleanup_free char *plain = malloc(plain_len + 1);
  if (plain == NULL)
    return berth_fail(err, ENOMEM, "store credentials for %s", domain);
  snprintf(plain, plain_len + 1, "%s:%s", user, password);
  cleanup_free char *encoded = reg_base64_encode(plain, plain_len);
  explicit_bzero(plain, plain_len);
  struct json_object *entry = json_object_new_object();
  struct json_object *auth = encoded != NULL ? json_object_new_string(encoded) : NULL;
  if (entry == NULL || auth == NULL || json_object_object_add(entry, "auth", auth) < 0) {
    json_object_put(entry);
    json_object_put(auth);
    return berth_fail(err, ENOMEM, "store credentials for %s", domain);
  }
  if (json_object_object_add(auths, domain, entry) < 0) {
    json_object_put(entry);
    return berth_fail(err, ENOMEM, "store credentials for %s", domain);
  }
  if (save_config(auth_file, root, err) < 0)
    return berth_error_wrap(err, "store credentials for %s", domain);
  return 0;
}

int registry_creds_remove(const char *auth_file, const char *domain, berth_error **err) {
  cleanup_free char *own = NULL;
  if (auth_file == NULL && (auth_file = own = registry_default_auth_file(err)) == NULL)
    return -1;
  cleanup_json struct json_object *root = NULL;
  if (load_config(auth_file, &root, err) < 0)
    return berth_error_wrap(err, "remove credentials for %s", domain);
  struct json_object *auths = NULL;
  struct json_ctx ctx = {.origin = auth_file};
  if (root != NULL && json_get_object(&ctx, root, "auths", &auths, err) < 0)
    return berth_error_wrap(err, "remove credentials for %s", domain);
  /* Every key naming the registry goes, or a leftover would still log in. */
  size_t n = 0;
  cleanup_strv char **keys = NULL;
  if (auths != NULL) {
    keys = calloc((size_t)json_object_object_length(auths) + 1, sizeof(*keys));
    if (keys == NULL)
      return berth_fail(err, ENOMEM, "remove credentials for %s", domain);
    json_object_object_foreach(auths, key, val) {
      (void)val;
      if (strcmp(key, domain) == 0 || reg_auth_key_matches(key, domain)) {
        if ((keys[n] = strdup(key)) == NULL)
          return berth_fail(err, ENOMEM, "remove credentials for %s", domain);
        n++;
      }
    }
  }
  if (n == 0)
    return reg_fail(err, ENOENT, "remove credentials for %s: not logged in (nothing in \"%s\")", domain,
                    auth_file);
  for (size_t i = 0; i < n; i++)
    json_object_object_del(auths, keys[i]);
  if (save_config(auth_file, root, err) < 0)
    return berth_error_wrap(err, "remove credentials for %s", domain);
  return 0;
}
