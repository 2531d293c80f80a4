/* Pull and push between the store and a registry (distribution-spec v2):
 * manifests, manifest lists resolved for a platform, layers moved in
 * parallel, existing blobs skipped, progress reported per layer. */
#ifndef BERTH_IMAGE_TRANSFER_H
#define BERTH_IMAGE_TRANSFER_H

#include <stdbool.h>
#include <stdint.h>

#include "image/store.h"
#include "registry/client.h"

enum transfer_state {
  TRANSFER_WAITING,
  TRANSFER_ACTIVE,   /* bytes moving: done/total */
  TRANSFER_EXISTS,   /* already there (in the store, or on the registry) */
  TRANSFER_MOUNTED,  /* cross-repository mount on push */
  TRANSFER_VERIFIED, /* downloaded and verified / uploaded */
  TRANSFER_UNPACKED, /* pull: unpacked into its layer directory */
};

/* Progress of one blob (short id = the first 12 hex digits); called from
 * several threads, one blob each at a time. */
struct transfer_progress {
  void (*begin)(void *arg, const char *const *short_ids, size_t n);
  void (*update)(void *arg, size_t index, enum transfer_state state, uint64_t done, uint64_t total);
  void *arg;
};

struct pull_result {
  char id[DIGEST_TEXT_MAX];
  char digest[DIGEST_TEXT_MAX]; /* of what the tag named (a list or a manifest) */
  bool downloaded;              /* false: everything was already here */
};

/* Pulls name (a reference) for platform "os/arch[/variant]" (NULL: the
 * host's).  Concurrent pulls of one image download each blob once. */
int image_pull(struct store *s, struct registry_client *c, const char *name, const char *platform,
               const struct transfer_progress *progress, struct pull_result *result, berth_error **err);

/* Pushes the image that `name` names to the registry and repository it
 * names (tag it first for another one).  *digest gets the manifest's. */
int image_push(struct store *s, struct registry_client *c, const char *name, const struct transfer_progress *progress,
               char digest[DIGEST_TEXT_MAX], uint64_t *manifest_size, berth_error **err);

#endif
