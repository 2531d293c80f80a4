#include "image/import.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "image/config_change.h"
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
  if (config_change_apply_all(cfg, o->changes, err) < 0)
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
