/* The container's file system view: rootfs bind, config mounts, default
 * devices, pivot_root, masked and read-only paths. Runs in the container's
 * mount namespace (the init process). */
#ifndef BERTH_RUNTIME_MOUNTS_H
#define BERTH_RUNTIME_MOUNTS_H

#include <stdbool.h>

#include "runtime/spec.h"
#include "util/error.h"

/* Before pivot_root: propagation of "/", the rootfs as a mount point, every
 * entry of spec->mounts, and the device nodes.  userns: mknod is not
 * permitted, devices are bind-mounted from the host instead. */
int mounts_prepare_rootfs(const struct spec *spec, bool userns, berth_error **err);
/* pivot_root into the rootfs (or chroot with no_pivot) and detach the old root. */
int mounts_enter_rootfs(const struct spec *spec, bool no_pivot, berth_error **err);
/* After pivot_root: masked paths, read-only paths, read-only root, rootfs propagation. */
int mounts_finish_rootfs(const struct spec *spec, berth_error **err);

#endif
