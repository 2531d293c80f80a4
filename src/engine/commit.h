/* docker's `commit`: a new image from a container's image and the changes
 * in its file system (one more layer, made from the overlay upper
 * directory), with the container's Config as the image's config. */
#ifndef BERTH_ENGINE_COMMIT_H
#define BERTH_ENGINE_COMMIT_H

#include <stdbool.h>

#include "engine/engine.h"
#include "util/digest.h"

struct commit_options {
  const char *author;         /* or NULL */
  const char *message;        /* the history comment, or NULL */
  const char *const *changes; /* Dockerfile instructions (CMD, ENV, ...), NULL-terminated; may be NULL */
  bool pause;                 /* freeze a running container while its layer is read (docker's default) */
  const char *tag;            /* full reference, or NULL */
};

/* Makes the image and puts its ID in id.  A running container is paused
 * for the walk of its upper directory and unpaused after, whatever
 * happens.  On failure nothing is left in the store.  A container without
 * changes gives an image without a new layer (docker's empty_layer
 * history entry). */
int commit_container(struct engine *e, const char *ref, const struct commit_options *o, char id[DIGEST_TEXT_MAX],
                     berth_error **err);

#endif
