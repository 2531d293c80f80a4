/* Container state on disk: <root>/<id>/state.json (what `state` reports and
 * what later commands need) beside config.json (the bundle's config as it
 * was at create) and exec.fifo (the start handshake, gone once started). */
#ifndef BERTH_RUNTIME_STATE_H
#define BERTH_RUNTIME_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

#define STATE_DEFAULT_ROOT "/run/berth-runtime"
#define STATE_FIFO "exec.fifo"
/* What init writes back into the fifo when a startContainer hook failed. */
#define START_FAILED "E"

enum container_status { STATUS_CREATING, STATUS_CREATED, STATUS_RUNNING, STATUS_PAUSED, STATUS_STOPPED };

struct container_state {
  char *id;
  pid_t pid;
  unsigned long long start_time; /* /proc/<pid>/stat field 22: tells a reused pid apart */
  char *bundle;
  char *rootfs;
  char *created; /* RFC 3339, UTC */
  char *cgroup;  /* cgroup_serialize() form */
  char *annotations_json; /* the config's annotations object, verbatim */
  unsigned hook_kinds; /* bit (1 << spec_hook_kind) for each kind the config has */
};

/* Checks a container id: letters, digits and "_+-.", not "." or "..". */
int state_check_id(const char *id, berth_error **err);
/* Opens (creating) the state root; returns a directory fd. */
int state_open_root(const char *root, berth_error **err);
/* Makes <root>/<id> for a new container; fails if it exists. */
int state_create_dir(int rootfd, const char *id, berth_error **err);
/* Opens <root>/<id>, failing with "container \"id\" does not exist". */
int state_open_dir(int rootfd, const char *id, berth_error **err);
/* Takes the container's lock (flock on its directory) for one operation. */
int state_lock(int dirfd, berth_error **err);

int state_write(int dirfd, const struct container_state *st, berth_error **err);
int state_read(int dirfd, const char *id, struct container_state *st, berth_error **err);
void state_clear(struct container_state *st);

/* The live status: the init process checked against its start time, the
 * freezer for paused, the fifo for created. */
struct cgroup;
enum container_status state_status(int dirfd, const struct container_state *st, struct cgroup *cgroup);
const char *state_status_name(enum container_status status);
/* Start time of pid (0 if it does not exist). */
unsigned long long state_process_start_time(pid_t pid);
/* true if pid is alive and still the process with start_time. */
bool state_process_alive(pid_t pid, unsigned long long start_time);

/* The runtime-spec state JSON ({ociVersion, id, status, pid, bundle,
 * annotations}); with_extras adds runc's list fields (rootfs, created, owner). */
char *state_to_json(const struct container_state *st, enum container_status status, bool with_extras,
                    bool pretty, berth_error **err);

/* Removes <root>/<id> and everything in it. */
int state_remove(int rootfd, const char *id, berth_error **err);

#endif
