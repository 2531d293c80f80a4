/* Path resolution confined to a root directory: symlinks and ".." inside a
 * container's rootfs resolve as if that rootfs were "/", so a hostile image
 * cannot steer a mount or a device node onto a host path.  Uses openat2
 * RESOLVE_IN_ROOT where the kernel has it, else an equivalent walk. */
#ifndef BERTH_UTIL_PATH_H
#define BERTH_UTIL_PATH_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

/* Opens path under rootfd (flags as for openat, O_CLOEXEC is added). */
int path_open_in_root(int rootfd, const char *path, int flags, berth_error **err);
/* mkdir -p under rootfd (new directories 0755); returns an O_PATH fd of the directory. */
int path_mkdir_in_root(int rootfd, const char *path, berth_error **err);
/* Makes sure path exists under rootfd, creating parents and an empty file
 * (or directory when directory is true) when it is missing; returns an
 * O_PATH fd of it.  An existing entry of the other kind is kept. */
int path_create_in_root(int rootfd, const char *path, bool directory, berth_error **err);
/* Test hook: resolve without openat2 to exercise the fallback walk. */
void path_force_fallback(bool on);

#endif
