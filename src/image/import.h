/* `import`: a root file system tarball (plain or compressed) becomes a
 * one-layer image, its config shaped by docker's --change instructions. */
#ifndef BERTH_IMAGE_IMPORT_H
#define BERTH_IMAGE_IMPORT_H

#include "image/store.h"

struct import_options {
  const char *tag;             /* full reference, or NULL */
  const char *const *changes;  /* "CMD ...", "ENV k=v", ... NULL-terminated, may be NULL */
  const char *message;         /* history comment, or NULL */
};

int image_import(struct store *s, int in_fd, const struct import_options *o, char id[DIGEST_TEXT_MAX],
                 berth_error **err);

#endif
