/* Where a layer's entries land: entry names checked and cleaned, parent
 * directories resolved beneath the destination (never through a symlink
 * that leads out of it) and kept open for the entries that follow, names
 * taken over from earlier entries, and directory times set last.
 *
 * Functions return 0 (or an fd) on success and -errno on failure, so the
 * caller can say which entry failed and why. */
#ifndef BERTH_STORAGE_LAYER_TREE_H
#define BERTH_STORAGE_LAYER_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct layer_tree;

/* dest_dirfd stays the caller's. */
struct layer_tree *layer_tree_new(int dest_dirfd);
void layer_tree_free(struct layer_tree *t);

/* Cleans an entry name into out (at least strlen(name) + 1 bytes): drops
 * "." and empty components and a trailing slash, so "./usr//bin/" becomes
 * "usr/bin" and "./" the empty string (the layer root).  Returns 0, or
 * -1 with *why set when the name is absolute or has a ".." component. */
int layer_name_clean(const char *name, char *out, const char **why);

/* Call before each entry: directories kept open for earlier entries may
 * have been replaced by the last one. */
void layer_tree_next_entry(struct layer_tree *t);

/* An fd (borrowed: valid until the next layer_tree_next_entry) of the
 * directory dir, a clean name ("" for the root), created 0755 with its
 * missing parents when create is true.  -EXDEV when it resolves through a
 * symlink that leads out of the layer. */
int layer_tree_dir(struct layer_tree *t, const char *dir, bool create);

/* Clears the way for an entry named base in dirfd: removes what holds the
 * name (a whole directory tree included).  Returns 0, 1 when keep_dir is
 * true and the name is already a directory (left alone), or -errno. */
int layer_tree_take_name(struct layer_tree *t, int dirfd, const char *base, bool keep_dir);

/* Directory times are set after the last entry, since creating entries in
 * a directory changes its mtime.  A later record for the same directory
 * wins; a directory replaced in the meantime is skipped. */
int layer_tree_defer_times(struct layer_tree *t, const char *dir, const struct timespec ts[2]);
/* Returns 0, or -errno with *failed set to the directory's name. */
int layer_tree_apply_times(struct layer_tree *t, const char **failed);

/* See layer_unpack_force_fallback. */
void layer_tree_force_fallback(bool on);

#endif
