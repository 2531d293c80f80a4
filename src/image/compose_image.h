/* A new image made from an image in the store and, optionally, one more
 * layer on top (commit; later build): the parent's layers stay as they
 * are, the new layer is stored and unpacked as a pulled one is, and the
 * config is the parent's platform, rootfs and history extended, as
 * docker's NewChildImage makes it. */
#ifndef BERTH_IMAGE_COMPOSE_IMAGE_H
#define BERTH_IMAGE_COMPOSE_IMAGE_H

#include <json-c/json.h>

#include "image/store.h"

struct image_compose {
  const char *parent_id; /* sha256:... of an image in the store */
  /* the new layer, an uncompressed tar read from offset 0, or -1 for none:
   * the history entry is then an empty_layer one (docker's commit of a
   * container without changes) */
  int layer_fd;
  struct json_object *config; /* the image's "config" (Cmd, Env, ...); taken over */
  struct json_object *extra;  /* more top-level fields (container, container_config), taken over; or NULL */
  const char *created;        /* RFC 3339 */
  const char *created_by;     /* the history entry's */
  const char *author;         /* or NULL */
  const char *comment;        /* or NULL */
  const char *tag;            /* full reference, or NULL */
};

/* Stores the layer, the config and an OCI manifest and records the image
 * (its ID in id).  On failure whatever it stored is removed again: the
 * store is as it was. */
int images_compose(struct store *s, struct image_compose *c, char id[DIGEST_TEXT_MAX], berth_error **err);

#endif
