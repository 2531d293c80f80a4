#include "image/builtin.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/images.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n";
static const char group[] = "root:x:0:\nnobody:x:65534:\n";

static int add_entry(struct archive *a, const char *name, mode_t type, mode_t perm, time_t mtime, const char *link,
                     const void *data, size_t len, berth_error **err) {
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, perm);
  archive_entry_set_mtime(e, mtime, 0);
  archive_entry_set_uid(e, 0);
  archive_entry_set_gid(e, 0);
  if (link != NULL)
    archive_entry_set_symlink(e, link);
  archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t)len : 0);
  int r = archive_write_header(a, e);
  archive_entry_free(e);
  if (r != ARCHIVE_OK || (type == AE_IFREG && len > 0 && archive_write_data(a, data, len) != (la_ssize_t)len))
    return berth_fail(err, 0, "builtin busybox image: \"%s\": %s", name, archive_error_string(a));
  return 0;
}

/* "bin/sh", "usr/bin/env", ...: where busybox --install would link. */
static char *applet_list(berth_error **err) {
  FILE *p = popen(BUILTIN_BUSYBOX_PATH " --list-full", "r");
  if (p == NULL) {
    berth_fail(err, errno, "%s --list-full", BUILTIN_BUSYBOX_PATH);
    return NULL;
  }
  size_t len = 0;
  char *text = fs_read_fd(fileno(p), &len, err);
  if (pclose(p) != 0 && text != NULL) {
    free(text);
    berth_fail(err, 0, "%s --list-full failed", BUILTIN_BUSYBOX_PATH);
    return NULL;
  }
  return text;
}

/* The layer: a deterministic tar (every time the busybox binary's mtime), so
 * two processes building it at once produce the same blobs. */
static int write_layer(int out, const char *busybox, size_t busybox_len, time_t mtime, berth_error **err) {
  cleanup_free char *applets = applet_list(err);
  if (applets == NULL)
    return -1;
  struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  int ret = -1;
  if (archive_write_open_fd(a, out) != ARCHIVE_OK) {
    berth_fail(err, 0, "builtin busybox image: %s", archive_error_string(a));
    goto out;
  }
  static const struct {
    const char *name;
    mode_t perm;
  } dirs[] = {{"bin", 0755}, {"dev", 0755},  {"etc", 0755},  {"home", 0755},     {"proc", 0555},
              {"root", 0700}, {"sbin", 0755}, {"sys", 0555},  {"tmp", 01777},     {"usr", 0755},
              {"usr/bin", 0755}, {"usr/sbin", 0755}, {"var", 0755}, {"var/tmp", 01777}};
  for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
    if (add_entry(a, dirs[i].name, AE_IFDIR, dirs[i].perm, mtime, NULL, NULL, 0, err) < 0)
      goto out;
  if (add_entry(a, "bin/busybox", AE_IFREG, 0755, mtime, NULL, busybox, busybox_len, err) < 0 ||
      add_entry(a, "etc/passwd", AE_IFREG, 0644, mtime, NULL, passwd, sizeof(passwd) - 1, err) < 0 ||
      add_entry(a, "etc/group", AE_IFREG, 0644, mtime, NULL, group, sizeof(group) - 1, err) < 0)
    goto out;
  /* Empty mount points for the files every container gets bound over them,
   * as distribution images have: without them each container's first
   * start creates /etc and three files in its upper layer. */
  static const char *const mount_points[] = {"etc/hostname", "etc/hosts", "etc/resolv.conf"};
  for (size_t i = 0; i < sizeof(mount_points) / sizeof(mount_points[0]); i++)
    if (add_entry(a, mount_points[i], AE_IFREG, 0644, mtime, NULL, "", 0, err) < 0)
      goto out;
  char *save = NULL;
  for (char *line = strtok_r(applets, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
    while (*line == '/')
      line++;
    if (*line == '\0' || strcmp(line, "bin/busybox") == 0 || strstr(line, "..") != NULL ||
        (strncmp(line, "bin/", 4) != 0 && strncmp(line, "sbin/", 5) != 0 && strncmp(line, "usr/bin/", 8) != 0 &&
         strncmp(line, "usr/sbin/", 9) != 0))
      continue;
    if (add_entry(a, line, AE_IFLNK, 0777, mtime, "/bin/busybox", NULL, 0, err) < 0)
      goto out;
  }
  if (archive_write_close(a) != ARCHIVE_OK) {
    berth_fail(err, 0, "builtin busybox image: %s", archive_error_string(a));
    goto out;
  }
  ret = 0;
out:
  archive_write_free(a);
  return ret;
}

/* Env and Cmd, as docker's busybox image has them. */
static struct json_object *container_config(void) {
  struct json_object *cfg = json_object_new_object();
  struct json_object *env = json_object_new_array();
  json_object_array_add(env, json_object_new_string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  json_object_object_add(cfg, "Env", env);
  struct json_object *cmd = json_object_new_array();
  json_object_array_add(cmd, json_object_new_string("sh"));
  json_object_object_add(cfg, "Cmd", cmd);
  return cfg;
}

static int build_busybox(struct store *s, char id[DIGEST_TEXT_MAX], berth_error **err) {
  cleanup_close int bin = open(BUILTIN_BUSYBOX_PATH, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (bin < 0 || fstat(bin, &st) < 0)
    return berth_fail(err, errno,
                      "No such image: busybox (and no %s to build it from: install busybox-static, or pull one)",
                      BUILTIN_BUSYBOX_PATH);
  size_t len = 0;
  cleanup_free char *busybox = fs_read_fd(bin, &len, err);
  if (busybox == NULL)
    return -1;
  cleanup_close int layer = memfd_create("busybox-layer", MFD_CLOEXEC);
  if (layer < 0)
    return berth_fail(err, errno, "builtin busybox image: memfd");
  if (write_layer(layer, busybox, len, st.st_mtime, err) < 0)
    return -1;
  /* created: the binary's mtime, so the image is the same every time */
  char created[32];
  struct tm tm;
  gmtime_r(&st.st_mtime, &tm);
  strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
  struct single_layer_image spec = {.config = container_config(),
                                    .created = created,
                                    .created_by = "berth: the host's " BUILTIN_BUSYBOX_PATH,
                                    .tag = BUILTIN_BUSYBOX_REF};
  if (images_add_single_layer(s, layer, &spec, id, err) < 0)
    return berth_error_wrap(err, "builtin busybox image");
  return 0;
}

int builtin_busybox_create(struct store *s, char id[DIGEST_TEXT_MAX], berth_error **err) {
  int ret = build_busybox(s, id, err);
  if (ret < 0)
    images_discard_new(s);
  return ret;
}

int images_find(struct store *s, const char *name, char id[DIGEST_TEXT_MAX], berth_error **err) {
  berth_error *first = NULL;
  if (images_resolve(s, name, id, &first) == 0)
    return 0;
  struct image_ref ref;
  if (image_ref_parse(name, &ref, NULL) == 0) {
    cleanup_free char *full = image_ref_string(&ref);
    image_ref_free(&ref);
    if (full != NULL && strcmp(full, BUILTIN_BUSYBOX_REF) == 0) {
      berth_error_free(first);
      return builtin_busybox_create(s, id, err);
    }
  }
  *err = first;
  return -1;
}
