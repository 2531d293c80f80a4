/* The image store under the engine root (default /var/lib/berth):
 *   berth.db            images, tags, layers (db.h)
 *   blobs/sha256/HEX    content-addressed blobs: manifests, configs, layer blobs
 *   layers/HEX/         one unpacked layer per chain id (an overlayfs lowerdir)
 *   tmp/                work space; what a crash leaves here is garbage
 * Blobs are verified while written and appear atomically (O_TMPFILE, fsync,
 * linkat), layers are unpacked beside and renamed into place, and database
 * rows are written last, in one transaction: a failure at any point leaves
 * the store as it was, apart from unreferenced blobs that gc removes. */
#ifndef BERTH_IMAGE_STORE_H
#define BERTH_IMAGE_STORE_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/digest.h"
#include "util/error.h"

#define STORE_DEFAULT_ROOT "/var/lib/berth"

struct store {
  char *root;
  int rootfd;
  int blobsfd;  /* blobs/sha256 */
  int layersfd; /* layers */
  int tmpfd;    /* tmp */
  int lockfd;   /* lock, for store_hold */
  sqlite3 *db;
  /* blobs and layer directories (chain ids) this process added, for
   * images_discard_new after a failure; threads of a pull add to them */
  pthread_mutex_t created_lock;
  char (*created)[DIGEST_TEXT_MAX];
  size_t n_created, cap_created;
  char (*created_layers)[DIGEST_TEXT_MAX];
  size_t n_created_layers, cap_created_layers;
};

/* An unnamed file in tmp/ (O_TMPFILE) for work too big for memory. */
int store_tmpfile(struct store *s, berth_error **err);

/* Notes a layer directory this process made (thread-safe). */
void store_note_layer(struct store *s, const char *chain_id);

struct store *store_open(const char *root, berth_error **err);
/* Whoever adds blobs that no image references yet (pull, load, import)
 * holds the store shared until the image is recorded; gc holds it
 * exclusively, so it never takes a blob that is about to be used. */
int store_hold(struct store *s, bool exclusive, berth_error **err);
/* Exclusive without waiting: 1 when held, 0 when a pull or load holds it. */
int store_try_hold_exclusive(struct store *s, berth_error **err);
void store_close(struct store *s);

/* Reads in_fd to its end into a new blob.  expected (may be NULL) must match
 * or nothing is stored.  out and size (may be NULL) receive what was stored. */
int store_blob_put_fd(struct store *s, int in_fd, const char *expected, char out[DIGEST_TEXT_MAX], uint64_t *size,
                      berth_error **err);
int store_blob_put_bytes(struct store *s, const void *data, size_t len, const char *expected,
                         char out[DIGEST_TEXT_MAX], berth_error **err);
bool store_blob_exists(struct store *s, const char *digest);
/* Opens a blob read-only; -1 with *err naming it when missing. */
int store_blob_open(struct store *s, const char *digest, berth_error **err);
/* The whole blob in memory (manifests, configs): at most max bytes. */
char *store_blob_read(struct store *s, const char *digest, size_t max, size_t *len, berth_error **err);
int store_blob_size(struct store *s, const char *digest, uint64_t *size, berth_error **err);
/* The download file for a blob, tmp/partial-HEX, opened read-write and
 * locked (flock, waiting for another process that holds it), so two pulls
 * of one blob never both download it and an interrupted download resumes
 * from what is there.  After it returns, check store_blob_exists: the
 * holder may have finished it (then store_blob_partial_drop). */
int store_blob_partial(struct store *s, const char *digest, berth_error **err);
/* Moves the complete, verified partial file into the store (fsync, rename). */
int store_blob_partial_commit(struct store *s, const char *digest, int fd, berth_error **err);
/* Removes our partial file when it is no longer wanted. */
void store_blob_partial_drop(struct store *s, const char *digest, int fd);

#endif
