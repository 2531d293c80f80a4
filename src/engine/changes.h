/* What a container changed in its file system: its overlay upper
 * directory (<root>/containers/<id>/diff, readable whether or not the
 * container runs) against its image's layers.  `diff` lists the changes as
 * docker does; `commit` walks the same entries to make a layer.
 *
 * The upper directory is written by the container: it is walked with
 * openat and O_NOFOLLOW, never through a symlink, and an entry that
 * vanishes during the walk (a running container) is skipped. */
#ifndef BERTH_ENGINE_CHANGES_H
#define BERTH_ENGINE_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "engine/containers.h"

enum change_kind { CHANGE_MODIFY, CHANGE_ADD, CHANGE_DELETE };

struct change {
  enum change_kind kind;
  char *path; /* "/etc/passwd" */
};

/* docker's `container diff`, in its order: the upper directory walked
 * depth first, names sorted bytewise; "D" for a whiteout and for an opaque
 * (replaced) directory; "A" for what the image does not have, else "C"
 * (a directory only when its mode, size or mtime differ, or when
 * something was added or deleted in it). */
int changes_list(struct engine *e, const char *ref, struct change **out, size_t *n, berth_error **err);
void changes_free(struct change *v, size_t n);
/* "A", "C" or "D". */
const char *change_kind_name(enum change_kind k);

/* A container's layers, opened. */
struct changes_source {
  int upper_fd;
  int *lower_fds; /* the image's layer directories, top first */
  size_t n_lower;
};
int changes_open(struct engine *e, const struct container *c, struct changes_source *src, berth_error **err);
void changes_close(struct changes_source *src);

/* One entry of the upper directory. */
struct upper_entry {
  const char *path;      /* "/etc/passwd" */
  int dirfd;             /* its directory in the upper layer */
  const char *name;      /* its name there */
  const struct stat *st; /* not followed */
  bool whiteout;         /* a 0/0 character device: the path was deleted */
  bool opaque;           /* a directory that hides the image's directory of that path */
};
typedef int changes_visit_fn(void *arg, const struct upper_entry *e, berth_error **err);

/* Visits every entry of the upper directory, parents before children,
 * names sorted bytewise (the order of docker's walk), except what the
 * runtime made there for its own mounts (the empty /etc/hosts,
 * /etc/hostname, /etc/resolv.conf, /proc, /sys, /dev it creates when the
 * image lacks them: docker keeps those in its init layer).  A visitor's
 * failure stops the walk.  Overlay features berth never mounts with
 * (redirected directories) are refused. */
int changes_walk(const struct changes_source *src, changes_visit_fn *fn, void *arg, berth_error **err);

/* The image's entry at path, as the overlay of its layers shows it:
 * 1 and *st when there is one, 0 when there is none, -1 on error. */
int changes_lower_stat(const struct changes_source *src, const char *path, struct stat *st, berth_error **err);

#endif
