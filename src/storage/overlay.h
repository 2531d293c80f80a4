/* A container's root file system: an overlay of an image's layer
 * directories (read-only lowerdirs) under a per-container upper and work
 * directory.  Images with hundreds of layers fit: each lowerdir is passed
 * on its own ("lowerdir+", kernel 6.8 and later), or, on older kernels, as
 * short names relative to the layers' common parent in one mount option. */
#ifndef BERTH_STORAGE_OVERLAY_H
#define BERTH_STORAGE_OVERLAY_H

#include <stddef.h>

#include "util/error.h"

/* lowerdirs: absolute paths, top layer first.  upper and work: empty
 * directories on one file system.  Mounts at target (a directory). */
int overlay_mount(const char *const *lowerdirs, size_t n, const char *upper, const char *work, const char *target,
                  berth_error **err);

/* Test hook: always use the classic mount(2) path. */
void overlay_force_classic(int on);

#endif
