/* A container's file system as its processes see it, for cp and export,
 * whether the container runs or not: a detached mount tree (open_tree and
 * fsmount, never attached to any path, so nothing can be left mounted when
 * berth dies) made of the overlay, and optionally the container's volumes
 * and bind mounts and its /etc/{hostname,hosts,resolv.conf}.  Every path
 * in it is resolved with RESOLVE_IN_ROOT from the tree's root, so a symlink
 * in the container can only lead somewhere else in the container.
 *
 * The container's lock is held while the view is open: start, stop's
 * clean-up and rm wait for it (a second overlay on the same upper layer
 * could not be mounted while this one lives). */
#ifndef BERTH_ENGINE_ROOTFS_VIEW_H
#define BERTH_ENGINE_ROOTFS_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/containers.h"

struct rootfs_view_mount {
  uint64_t mnt_id;
  bool read_only;
};

struct rootfs_view {
  struct container c;
  int root; /* the tree's root directory */
  uint64_t root_mnt_id;
  bool read_only_root; /* --read-only */
  struct rootfs_view_mount *mounts;
  size_t n_mounts;
  int lock;
};

/* Opens the view of container ref ("No such container: X").  with_mounts:
 * volumes, binds and the /etc files too (cp); without: the overlay alone
 * (export). */
int rootfs_view_open(struct engine *e, const char *ref, bool with_mounts, struct rootfs_view *v, berth_error **err);
void rootfs_view_close(struct rootfs_view *v);

/* Whether the directory fd may be written as docker allows: not on a
 * read-only volume ("mounted volume is marked read-only"), not on the root
 * of a --read-only container ("container rootfs is marked read-only"). */
int rootfs_view_check_writable(const struct rootfs_view *v, int fd, berth_error **err);

/* Opens path (absolute or not, relative to the container's /) in the tree
 * root with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS; -errno on failure. */
int rootfs_open_at(int root, const char *path, int flags);

/* The container path that path leads to, symlinks followed inside root
 * (the last one too when follow_last), as far as the entries exist; the
 * rest is kept lexically (docker's FollowSymlinkInScope).  malloc'd. */
char *rootfs_resolve(int root, const char *path, bool follow_last, berth_error **err);

#endif
