/* A container's root file system: an overlay of an image's layer
 * directories (read-only lowerdirs) under a per-container upper and work
 * directory.  Images with hundreds of layers fit: each lowerdir is passed
 * on its own ("lowerdir+", kernel 6.8 and later), or, on older kernels, as
 * short names relative to the layers' common parent in one mount option. */
#ifndef BERTH_STORAGE_OVERLAY_H
#define BERTH_STORAGE_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* lowerdirs: absolute paths, top layer first.  upper and work: empty
 * directories on one file system.  Mounts at target (a directory).
 * volatile_upper: overlayfs's "volatile": no sync of the upper layer, ever,
 * which makes the unmount cheap (a sync of the whole upper file system
 * otherwise); for containers whose upper layer dies with them (--rm). */
int overlay_mount(const char *const *lowerdirs, size_t n, const char *upper, const char *work, const char *target,
                  bool volatile_upper, berth_error **err);

/* Test hook: always use the classic mount(2) path. */
void overlay_force_classic(int on);

#endif
