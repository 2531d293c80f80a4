/* Named and anonymous volumes (docker's "local" driver): a directory
 * <root>/volumes/<name>/_data, a row in the engine database, and the
 * containers that use it.  A volume is filled from the image's content at
 * its mount point on first use when it is empty, as docker does.
 *
 * Crash safety: a volume's directory exists whenever its row does.  Rows
 * are written in the same transaction that makes the directory and deleted
 * before the directory is removed; a directory with no row (a crash, or a
 * rolled-back transaction) is invisible and volumes_sweep, prune and a
 * later create of the same name remove it. */
#ifndef BERTH_ENGINE_VOLUMES_H
#define BERTH_ENGINE_VOLUMES_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "engine/engine.h"

/* docker's label on volumes created without a name (volume prune without
 * --all removes only those). */
#define VOLUME_ANONYMOUS_LABEL "com.docker.volume.anonymous"

struct volume {
  char *name;
  char *mountpoint; /* <root>/volumes/<name>/_data (absolute) */
  int64_t created_ns;
  struct json_object *labels;  /* object, never NULL */
  struct json_object *options; /* driver options (-o), object, never NULL */
  bool anonymous;
  size_t n_users; /* containers using it */
};
void volume_clear(struct volume *v);
void volumes_free(struct volume *list, size_t n);

/* Table(s); run once per engine_open. */
int volumes_schema(struct engine *e, const char *db_path, berth_error **err);

/* Checks a volume name: [a-zA-Z0-9][a-zA-Z0-9_.-]+, docker's message when
 * not ("\"x!\" includes invalid characters for a local volume name, ..."). */
int volumes_check_name(const char *name, berth_error **err);

/* Creates a volume; name NULL makes an anonymous one with a random
 * 64-hex name (anonymous volumes carry VOLUME_ANONYMOUS_LABEL).  An
 * existing name is fine (docker returns it, labels and options unchanged).
 * labels and options may be NULL; options are the local driver's (type, o,
 * device; size is refused: no quota support), checked as docker checks
 * them.  *out (may be NULL) gets the record.  Errors: "create NAME: ...".
 * May run inside the caller's transaction (then it uses a savepoint). */
int volumes_create(struct engine *e, const char *name, struct json_object *labels, struct json_object *options,
                   bool anonymous, struct volume *out, berth_error **err);
/* "get X: no such volume" when missing; out may be NULL (existence only). */
int volumes_get(struct engine *e, const char *name, struct volume *out, berth_error **err);
/* Every volume, by name. */
int volumes_list(struct engine *e, struct volume **out, size_t *n, berth_error **err);
/* Removes a volume no container uses ("remove X: volume is in use -
 * [ID, ...]"); force only makes a missing volume a success (docker's -f),
 * a volume in use is never removed.  Inside a caller's transaction only
 * the row goes; the directory at the next volumes_sweep. */
int volumes_remove(struct engine *e, const char *name, bool force, berth_error **err);
/* Removes volumes no container uses and that have no mount options:
 * anonymous ones only, or all with all_volumes (docker's --all); names
 * removed and bytes freed reported through the callback (may be NULL).
 * label filters: "key" or "key=value", and "!key" / "!key=value" for
 * docker's label!=, NULL-terminated (may be NULL).  Also sweeps.  Not
 * inside a transaction. */
int volumes_prune(struct engine *e, bool all_volumes, char **label_filters,
                  void (*removed)(const char *name, void *arg), void *arg, uint64_t *freed, berth_error **err);

/* The host directory to bind for a volume mount (malloc'd).  A volume with
 * mount options (-o type=tmpfs,device=tmpfs or type=none,o=bind,device=/x)
 * is mounted on it first if it is not yet; it stays mounted until the
 * volume is removed. */
int volumes_mount_path(struct engine *e, const char *name, char **path, berth_error **err);
/* At create: records that the container uses these volumes, creating the
 * named ones that do not exist yet.  Call inside the caller's transaction
 * (BEGIN IMMEDIATE: db_begin); works outside one too. */
int volumes_attach(struct engine *e, const char *container_id, const char *const *names, size_t n,
                   berth_error **err);
/* At start, once the container's root file system is mounted: copies what
 * the image has at target (resolved inside rootfs, symlinks confined) into
 * the volume when the volume is empty (ownership, modes, timestamps,
 * symlinks, hard links, device nodes, xattrs best-effort), unless no_copy.
 * A target missing from the image (or not a directory) copies nothing.
 * The copy is made beside the volume and moved in, so a crash never leaves
 * a half-filled volume that looks populated. */
int volumes_populate(struct engine *e, const char *name, const char *rootfs, const char *target, bool no_copy,
                     berth_error **err);
/* At rm: forgets the container's uses; with remove_anonymous (rm -v), its
 * anonymous volumes no other container uses are removed too.  Outside a
 * transaction their directories go at once; inside the caller's, only the
 * rows do: call volumes_sweep after the commit to free the space. */
int volumes_detach(struct engine *e, const char *container_id, bool remove_anonymous, berth_error **err);
/* Removes volume directories that have no row (left by a crash, a
 * rolled-back transaction, or volumes_detach inside a transaction).  Must
 * not be called inside a transaction. */
int volumes_sweep(struct engine *e, berth_error **err);

#endif
