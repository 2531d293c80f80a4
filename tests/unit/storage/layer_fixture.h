/* Layer fixtures for the layer_unpack tests: tars written with libarchive's
 * writer, compressed with zlib or libzstd, unpacked into a fresh directory
 * next to a sibling directory that an escape would write into. */
#ifndef BERTH_TESTS_LAYER_FIXTURE_H
#define BERTH_TESTS_LAYER_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "storage/layer_unpack.h"
#include "util/error.h"

struct blob {
  unsigned char *data;
  size_t len;
};

/* One tar entry.  Zero fields take defaults: type regular file, perm 0644
 * (0755 for directories), owner 0:0, mtime FIXTURE_MTIME. */
struct ent {
  const char *name;
  mode_t type; /* S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO */
  mode_t perm;
  uid_t uid;
  gid_t gid;
  time_t mtime;
  long mtime_nsec;
  const char *symlink;  /* S_IFLNK target */
  const char *hardlink; /* makes this a hard link to that name */
  const void *data;     /* regular file content (size bytes) */
  size_t size;
  unsigned rdev_major, rdev_minor;
  const char *xattr; /* one xattr: name, value (xattr_size bytes) */
  const void *xattr_value;
  size_t xattr_size;
};

#define FIXTURE_MTIME ((time_t)1700000000)

/* A tar (pax format) of the entries, or with gnu true, GNU format. */
struct blob tar_of(const struct ent *ents, size_t n, bool gnu);
struct blob gzip_of(const struct blob *in);
struct blob zstd_of(const struct blob *in);
struct blob blob_cat(const struct blob *a, const struct blob *b);
/* The first len bytes of in. */
struct blob blob_head(const struct blob *in, size_t len);
void blob_free(struct blob *b);
/* "sha256:<hex>" computed by sha256sum(1) over the bytes. */
void sha256sum_of(const struct blob *b, char out[DIGEST_TEXT_MAX]);

/* The temporary parent: <top>/dest (unpacked into) and <top>/sibling
 * (must stay empty). */
void fixture_setup(void);
void fixture_teardown(void);
/* Empties dest. */
void fresh_dest(void);
/* Unpacks b, fed from a memfd (or a pipe written by a child process when
 * through_pipe is true), into dest; returns layer_unpack's value. */
int unpack(const struct blob *b, bool through_pipe, struct layer_unpack_result *res, berth_error **err);
/* dest/rel and sibling/rel in rotating static buffers. */
const char *in_dest(const char *rel);
const char *in_sibling(const char *rel);
const char *top_dir(void);
/* Number of entries in a directory, -1 if it cannot be read. */
int count_entries(const char *dir);

#endif
