/* berth's offline default image: when no image named busybox exists, one is
 * made from the host's static busybox (Debian's busybox-static), so
 * `berth run busybox ...` works on a fresh machine without a registry. */
#ifndef BERTH_IMAGE_BUILTIN_H
#define BERTH_IMAGE_BUILTIN_H

#include "image/store.h"

#define BUILTIN_BUSYBOX_REF "docker.io/library/busybox:latest"
#define BUILTIN_BUSYBOX_PATH "/bin/busybox"

/* Builds the image (one layer: busybox, a symlink per applet, /etc/passwd
 * and group, the usual directories) and tags it busybox:latest. */
int builtin_busybox_create(struct store *s, char id[DIGEST_TEXT_MAX], berth_error **err);

/* images_resolve, except that a missing busybox:latest is created. */
int images_find(struct store *s, const char *name, char id[DIGEST_TEXT_MAX], berth_error **err);

#endif
