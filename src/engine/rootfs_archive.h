/* Trees as tar entries, both ways, for cp and export: a walker that turns
 * a file tree into entries (never following a symlink: it is an entry with
 * its link text), a sink that writes them as a tar stream, and one that
 * creates them under a directory resolved inside a root (RESOLVE_IN_ROOT
 * for every entry, so neither a symlink already there nor one the stream
 * brings can lead outside the root).  Docker's tar conventions: numeric
 * owners only (no user name lookups), seconds for times, hard links as
 * links to the first name, no sockets. */
#ifndef BERTH_ENGINE_ROOTFS_ARCHIVE_H
#define BERTH_ENGINE_ROOTFS_ARCHIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

struct archive;
struct archive_entry;
struct rootfs_view;

/* Where an entry's bytes come from: a file, or the archive being read. */
struct entry_data {
  int fd;
  struct archive *ar;
};

struct entry_sink {
  int (*put)(struct entry_sink *s, struct archive_entry *ae, const struct entry_data *data, berth_error **err);
};

/* Walks name under the directory parent ("." for parent itself): the top
 * entry is called top ("" gives "/", as docker names a container's root;
 * NULL leaves the top out and names the rest from the top's children, as
 * export does), the rest top/relative/path. */
int tree_walk(int parent, const char *name, const char *top, struct entry_sink *sink, berth_error **err);

/* Writes entries as a tar stream (pax where ustar cannot say it) to fd. */
struct tar_sink {
  struct entry_sink sink;
  struct archive *w;
  int fd;
  uint64_t bytes;
};
int tar_sink_open(struct tar_sink *t, int fd, berth_error **err);
/* Writes the end of the archive. */
int tar_sink_finish(struct tar_sink *t, berth_error **err);
void tar_sink_free(struct tar_sink *t);

/* Creates entries under dir (a path resolved inside root at each entry).
 * Names are cleaned; one that leaves dir ("../x") is refused, as are hard
 * links and relative symlinks that point outside it (docker's rules);
 * absolute link text is kept as it is.  An existing directory is never
 * replaced by a non-directory or the other way round. */
struct extract_sink {
  struct entry_sink sink;
  int root;
  const char *dir;
  const char *display; /* how errors name dir */
  bool chown;          /* set owners: to the entries' (keep_owner) or 0:0 */
  bool keep_owner;
  uint64_t tar_bytes; /* what the entries take as a tar stream */
  struct dir_time *dirs;
  size_t n_dirs;
};
void extract_sink_init(struct extract_sink *x, int root, const char *dir, const char *display);
/* Sets the directories' times (after their content was written). */
int extract_sink_finish(struct extract_sink *x, berth_error **err);
void extract_sink_free(struct extract_sink *x);

/* Feeds every entry of the tar stream on fd to sink. */
int tar_read_fd(int fd, struct entry_sink *sink, berth_error **err);

#endif
