/* "tmpcopyup": a tmpfs mounted over a directory starts with that
 * directory's contents, as podman and runc do for /etc-like mounts. */
#ifndef BERTH_RUNTIME_COPY_UP_H
#define BERTH_RUNTIME_COPY_UP_H

#include "util/error.h"

/* Copies the tree under the directory from_fd into to_fd: directories,
 * regular files, symlinks, with their modes, owners and times. */
int copy_up_tree(int from_fd, int to_fd, const char *what, berth_error **err);

#endif
