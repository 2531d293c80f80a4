/* Device nodes in the container's /dev: the defaults every container has
 * and linux.devices. */
#ifndef BERTH_RUNTIME_DEVICES_H
#define BERTH_RUNTIME_DEVICES_H

#include <stdbool.h>

#include "runtime/spec.h"
#include "util/error.h"

/* Creates the nodes under rootfd (the rootfs, before pivot_root); userns:
 * bind-mount the host's nodes since mknod is not permitted there. */
int devices_create(int rootfd, const struct spec *spec, bool userns, berth_error **err);
/* /dev/fd, /dev/stdin... and /dev/ptmx symlinks. */
int devices_create_symlinks(int rootfd, berth_error **err);

/* Appends allow rules for the default devices to the config's device
 * cgroup rules (when it has any), as runc does. */
int devices_add_cgroup_rules(struct spec *spec, berth_error **err);

#endif
