/* Small file-system helpers with error context. */
#ifndef BERTH_UTIL_FS_H
#define BERTH_UTIL_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

/* Writes data to dirfd/path (O_WRONLY|O_TRUNC, created with mode if missing
 * and mode != 0).  One write(2) call: cgroup and proc files need that. */
int fs_write_file_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode,
                     berth_error **err);
/* Writes via a temporary file and rename(2), so readers never see half a file. */
int fs_write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode,
                            berth_error **err);
/* Reads a whole file; the buffer is NUL-terminated, *len excludes the NUL. */
char *fs_read_file_at(int dirfd, const char *path, size_t *len, berth_error **err);
/* Reads everything from fd until EOF. */
char *fs_read_fd(int fd, size_t *len, berth_error **err);
/* mkdir -p for host paths (no rootfs confinement). */
int fs_mkdir_p(const char *path, mode_t mode, berth_error **err);
/* rm -rf of a directory tree under dirfd (does not cross mount points). */
int fs_remove_tree_at(int dirfd, const char *path, berth_error **err);
/* Bytes of the files under the directory dirfd (docker's directory.Size:
 * apparent sizes, a hard-linked file once, directories not counted;
 * unreadable entries count nothing). */
uint64_t fs_tree_size(int dirfd);
/* Writes all of buf, retrying on EINTR and short writes. */
int fs_write_all(int fd, const void *buf, size_t len);
/* Absolute, lexically cleaned form of path relative to the current directory. */
char *fs_absolute_path(const char *path, berth_error **err);

#endif
