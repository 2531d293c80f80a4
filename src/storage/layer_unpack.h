/* Unpacking an OCI image layer (a tar, plain or compressed with gzip or
 * zstd) into a directory that overlayfs then uses as one of its layers.
 *
 * The blob is read once: its digest (the manifest's layer digest) and the
 * digest of the uncompressed tar (the config's rootfs.diff_ids entry) are
 * computed while the entries are written.  Whiteouts become what overlayfs
 * understands: ".wh.NAME" a 0/0 character device NAME, ".wh..wh..opq" the
 * trusted.overlay.opaque="y" xattr on its directory.
 *
 * A hostile layer cannot write outside the directory: entry names that are
 * absolute or hold a ".." component are refused, parents are resolved with
 * openat2(RESOLVE_BENEATH) so a symlink that leads out of the layer is an
 * error, a final component is never followed, and hard links only join
 * names inside the layer.
 *
 * Runs as root: owners, device nodes (whiteouts included) and trusted.*
 * xattrs need CAP_CHOWN, CAP_FOWNER, CAP_MKNOD and CAP_SYS_ADMIN, and
 * directories are written into whatever their mode.  xattrs of symlinks,
 * devices and fifos are set through /proc/self/fd, so /proc must be
 * mounted when a layer has them. */
#ifndef BERTH_STORAGE_LAYER_UNPACK_H
#define BERTH_STORAGE_LAYER_UNPACK_H

#include <stdbool.h>
#include <stdint.h>

#include "util/digest.h"
#include "util/error.h"

struct layer_unpack_result {
  char digest[DIGEST_TEXT_MAX];  /* sha256 of the bytes read from in_fd (the blob) */
  char diff_id[DIGEST_TEXT_MAX]; /* sha256 of the uncompressed tar stream */
  uint64_t size;                 /* bytes read from in_fd */
  uint64_t unpacked_size;        /* bytes of regular file content written */
};

/* Reads a layer from in_fd to its end (tar, tar+gzip or tar+zstd, told
 * apart by their first bytes) and extracts it into dest_dirfd, an empty
 * directory.  in_fd may be a file, pipe or socket; both fds stay the
 * caller's.  On failure (-1, *err names the entry and the cause) the
 * directory holds part of the layer: unpack into a temporary directory and
 * remove it on failure; the digests are only known on success, so compare
 * them with the manifest's before renaming the directory into place. */
int layer_unpack(int in_fd, int dest_dirfd, struct layer_unpack_result *res, berth_error **err);

/* Test hook: resolve parents with util/path.h's confined walk instead of
 * openat2, as on kernels before 5.6.  There a symlink that leads out of the
 * layer is followed as if the layer were the root, so it stays inside
 * rather than failing. */
void layer_unpack_force_fallback(bool on);

#endif
