/* Images in and out of files: docker-archive (what `docker save` writes),
 * oci-archive (a tar of an OCI layout) and an OCI layout directory. */
#ifndef BERTH_IMAGE_ARCHIVES_H
#define BERTH_IMAGE_ARCHIVES_H

#include <stddef.h>

#include "image/store.h"

enum archive_format {
  ARCHIVE_DOCKER,  /* docker-archive */
  ARCHIVE_OCI,     /* oci-archive */
  ARCHIVE_OCI_DIR, /* oci-dir: an OCI layout directory */
};

int archive_format_parse(const char *name, enum archive_format *out, berth_error **err);

/* Called once per image loaded: its ID and the tags it got (full refs). */
typedef void archive_loaded_fn(void *arg, const char *id, const char *const *tags);

/* Loads every image from a tar stream on in_fd (docker-archive or
 * oci-archive, told apart by their content), or from an OCI layout directory
 * when dir is not NULL. */
int archive_load(struct store *s, int in_fd, const char *dir, archive_loaded_fn *loaded, void *arg, berth_error **err);

/* Writes the images (IDs) with the tags asked for (full refs, one list per
 * image, NULL-terminated, may be empty) to out_fd, or into dir for oci-dir. */
int archive_save(struct store *s, enum archive_format format, const char *const *ids, const char *const *const *tags,
                 size_t n, int out_fd, const char *dir, berth_error **err);

#endif
