/* Images as records in the store: adding one (its blobs already stored,
 * layers unpacked once per chain id), looking one up by name, ID or digest,
 * listing, tagging, removing, and collecting what nothing references. */
#ifndef BERTH_IMAGE_IMAGES_H
#define BERTH_IMAGE_IMAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "image/manifest.h"
#include "image/store.h"

struct image_record {
  char id[DIGEST_TEXT_MAX]; /* the config digest */
  char manifest_digest[DIGEST_TEXT_MAX];
  char *manifest_media_type;
  char *created;
  char *architecture, *os;
  int64_t size;  /* unpacked bytes of its layers */
  int64_t added; /* unix time */
  char **tags;   /* full references, NULL-terminated */
  size_t n_tags;
  char **repo_digests;
  size_t n_repo_digests;
  char **chain_ids; /* bottom first */
  size_t n_layers;
};
void image_record_free(struct image_record *r);

struct image_add {
  const char *manifest;       /* bytes of an image manifest (OCI or docker) in the store */
  size_t manifest_len;
  const char *const *tags;    /* full references to point at it, NULL-terminated (may be NULL) */
  const char *repo_digest;    /* "repo@sha256:..." it was pulled as, or NULL */
  const int64_t *layer_sizes; /* unpacked sizes of layers the caller unpacked, or NULL */
  /* out */
  char id[DIGEST_TEXT_MAX];
};
/* Unpacks the layers that are missing (verifying each diff_id) and records
 * the image and its tags in one transaction.  The manifest, its config and
 * its layer blobs must already be in the store. */
int images_add(struct store *s, struct image_add *add, berth_error **err);

/* A one-layer image built here (import, the builtin busybox). */
struct single_layer_image {
  struct json_object *config; /* the config's "config" (Env, Cmd, ...); taken over */
  const char *created;        /* RFC 3339 */
  const char *created_by;     /* its history entry */
  const char *comment;        /* or NULL */
  const char *tag;            /* full reference, or NULL */
};
/* Stores the uncompressed tar on layer_fd (from offset 0: its digest is
 * also its diff_id), completes the image config (platform, rootfs,
 * history), stores it and an OCI manifest, and records the image. */
int images_add_single_layer(struct store *s, int layer_fd, const struct single_layer_image *spec,
                            char id[DIGEST_TEXT_MAX], berth_error **err);

/* The chain id of a layer over parent (NULL for the bottom one). */
void images_chain_id(const char *parent, const char *diff_id, char out[DIGEST_TEXT_MAX]);
/* Unpacks a layer blob (in the store) into layers/ unless its chain is
 * there already, checking its digest and diff_id.  Touches no database, so
 * several threads may unpack different layers at once; *size gets the
 * unpacked bytes (0 when the layer was there). */
int images_unpack_layer(struct store *s, const struct descriptor *blob, const char *diff_id, const char *chain_id,
                        int64_t *size, berth_error **err);

/* Resolves a full ID, a reference ("busybox", "busybox:1",
 * "name@sha256:..."), or a unique ID prefix (at least 4 hex digits,
 * "sha256:" optional), in that order as docker does, to the image's ID.  Returns 0, or -1 with *err ("No such image: X"). */
int images_resolve(struct store *s, const char *name, char id[DIGEST_TEXT_MAX], berth_error **err);
enum image_match { IMAGE_MATCH_ID, IMAGE_MATCH_TAG, IMAGE_MATCH_DIGEST };
/* The same, telling how name matched (rmi and save treat a tag apart). */
int images_resolve_how(struct store *s, const char *name, char id[DIGEST_TEXT_MAX], enum image_match *how,
                       berth_error **err);
int images_get(struct store *s, const char *id, struct image_record *r, berth_error **err);
/* The image's stored manifest: its bytes (*text, malloc'd) and parsed. */
int images_manifest(struct store *s, const struct image_record *r, char **text, size_t *len, struct manifest *m,
                    berth_error **err);
/* Every image, most recently added first. */
int images_list(struct store *s, struct image_record **out, size_t *n, berth_error **err);
void image_records_free(struct image_record *r, size_t n);

int images_tag(struct store *s, const char *id, const char *full_ref, berth_error **err);
/* Records that repo@digest (pushed or pulled) is this image. */
int images_add_repo_digest(struct store *s, const char *repo_digest, const char *id, berth_error **err);
/* Removes a tag; the image goes too when it was its last name, unless other
 * tags or (later) containers hold it.  *removed_image tells which. */
int images_untag(struct store *s, const char *full_ref, bool *removed_image, berth_error **err);
/* Removes an image and all its tags (rmi by ID, or -f). */
int images_remove(struct store *s, const char *id, berth_error **err);
/* Deletes layer directories and blobs nothing references; *freed gets the
 * bytes freed (may be NULL). */
int images_gc(struct store *s, uint64_t *freed, berth_error **err);

/* After a failed pull, load or import: removes the blobs this process
 * added that no image references, so the store is as it was. */
void images_discard_new(struct store *s);

/* The directory of an unpacked layer, layers/HEX of its chain id. */
char *images_layer_path(struct store *s, const char *chain_id);

#endif
