#include "image/import.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "image/images.h"
#include "image/manifest.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"

/* The tarball, decompressed whatever its compression, into out_fd. */
static int decompress(int in_fd, int out_fd, berth_error **err) {
  struct archive *a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_raw(a);
  int ret = -1;
  struct archive_entry *e;
  if (archive_read_open_fd(a, in_fd, 1 << 16) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK) {
    berth_fail(err, 0, "import: %s", archive_error_string(a));
    goto out;
  }
  char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
    if (n < 0) {
      berth_fail(err, 0, "import: %s", archive_error_string(a));
      goto out;
    }
    if (n == 0)
      break;
    if (fs_write_all(out_fd, buf, (size_t)n) < 0) {
      berth_fail(err, errno, "import: write");
      goto out;
    }
  }
  ret = 0;
out:
  archive_read_free(a);
  return ret;
}

/* CMD/ENTRYPOINT: a JSON array, or the shell form run by /bin/sh -c. */
static struct json_object *command_value(const char *text) {
  struct json_object *v = json_tokener_parse(text);
  if (v != NULL && json_object_is_type(v, json_type_array))
    return v;
  json_object_put(v);
  struct json_object *a = json_object_new_array();
  json_object_array_add(a, json_object_new_string("/bin/sh"));
  json_object_array_add(a, json_object_new_string("-c"));
  json_object_array_add(a, json_object_new_string(text));
  return a;
}

static int apply_change(struct json_object *cfg, const char *change, berth_error **err) {
  const char *sp = change;
  while (*sp != '\0' && !isspace((unsigned char)*sp))
    sp++;
  size_t klen = (size_t)(sp - change);
  while (isspace((unsigned char)*sp))
    sp++;
  char key[16];
  if (klen == 0 || klen >= sizeof(key) || *sp == '\0')
    return berth_fail(err, 0, "--change \"%s\": expected INSTRUCTION VALUE", change);
  for (size_t i = 0; i < klen; i++)
    key[i] = (char)toupper((unsigned char)change[i]);
  key[klen] = '\0';
  if (strcmp(key, "CMD") == 0) {
    json_object_object_add(cfg, "Cmd", command_value(sp));
  } else if (strcmp(key, "ENTRYPOINT") == 0) {
    json_object_object_add(cfg, "Entrypoint", command_value(sp));
  } else if (strcmp(key, "WORKDIR") == 0) {
    json_object_object_add(cfg, "WorkingDir", json_object_new_string(sp));
  } else if (strcmp(key, "USER") == 0) {
    json_object_object_add(cfg, "User", json_object_new_string(sp));
  } else if (strcmp(key, "ENV") == 0) {
    struct json_object *env = NULL;
    if (!json_object_object_get_ex(cfg, "Env", &env)) {
      env = json_object_new_array();
      json_object_object_add(cfg, "Env", env);
    }
    /* "ENV k=v" or the old "ENV k v" */
    char entry[4096];
    const char *eq = strchr(sp, '='), *space = strpbrk(sp, " \t");
    if (eq != NULL && (space == NULL || eq < space))
      snprintf(entry, sizeof(entry), "%s", sp);
    else if (space != NULL)
      snprintf(entry, sizeof(entry), "%.*s=%s", (int)(space - sp), sp, space + 1);
    else
      return berth_fail(err, 0, "--change \"%s\": ENV needs NAME=VALUE", change);
    json_object_array_add(env, json_object_new_string(entry));
  } else if (strcmp(key, "EXPOSE") == 0) {
    struct json_object *ports = NULL;
    if (!json_object_object_get_ex(cfg, "ExposedPorts", &ports)) {
      ports = json_object_new_object();
      json_object_object_add(cfg, "ExposedPorts", ports);
    }
    char port[64];
    snprintf(port, sizeof(port), "%s%s", sp, strchr(sp, '/') != NULL ? "" : "/tcp");
    json_object_object_add(ports, port, json_object_new_object());
  } else {
    return berth_fail(err, 0, "--change \"%s\": berth import supports CMD, ENTRYPOINT, ENV, EXPOSE, USER and WORKDIR",
                      change);
  }
  return 0;
}

static int import_layer(struct store *s, int in_fd, const struct import_options *o, char id[DIGEST_TEXT_MAX],
                        berth_error **err) {
  char created[40];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(created + n, sizeof(created) - n, ".%09ldZ", ts.tv_nsec);
  cleanup_json struct json_object *cfg = json_object_new_object();
  for (size_t i = 0; o->changes != NULL && o->changes[i] != NULL; i++)
    if (apply_change(cfg, o->changes[i], err) < 0)
      return -1;
  /* Stored uncompressed: the blob digest is then also the diff_id. */
  cleanup_close int tar = store_tmpfile(s, err);
  if (tar < 0 || decompress(in_fd, tar, err) < 0)
    return -1;
  struct single_layer_image spec = {.config = TAKE_PTR(cfg),
                                    .created = created,
                                    .created_by = "berth import",
                                    .comment = o->message,
                                    .tag = o->tag};
  return images_add_single_layer(s, tar, &spec, id, err);
}

int image_import(struct store *s, int in_fd, const struct import_options *o, char id[DIGEST_TEXT_MAX],
                 berth_error **err) {
  int ret = import_layer(s, in_fd, o, id, err);
  if (ret < 0)
    images_discard_new(s);
  return ret;
}
