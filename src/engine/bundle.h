/* The OCI bundle the runtime gets for a container: config.json made from
 * docker's Config and HostConfig (already merged with the image's config
 * at create), with docker's defaults: mounts, masked paths, capabilities,
 * seccomp profile, ulimits clamped to what this host allows. */
#ifndef BERTH_ENGINE_BUNDLE_H
#define BERTH_ENGINE_BUNDLE_H

#include "engine/containers.h"

/* Writes <container dir>/config.json; rootfs is the mounted root file
 * system (its /etc/passwd resolves the user). */
int bundle_write(struct engine *e, const struct container *c, const char *rootfs, berth_error **err);

/* Where --init's init (berth-init) is bound, as podman does. */
#define BUNDLE_INIT_PATH "/dev/init"

/* PATH as docker sets it when the image has none. */
#define BUNDLE_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#endif
