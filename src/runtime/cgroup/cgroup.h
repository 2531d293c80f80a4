/* cgroups behind one interface.
 *
 * A container's cgroup is created, joined, limited, frozen, listed and
 * destroyed through these calls; the back end (v1, v2 or hybrid) is chosen
 * once from what /sys/fs/cgroup holds.  Nothing outside src/runtime/cgroup/
 * asks which version is in use. */
#ifndef BERTH_RUNTIME_CGROUP_H
#define BERTH_RUNTIME_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/spec.h"
#include "util/error.h"

enum cgroup_mode {
  CGROUP_MODE_V1,     /* legacy: one hierarchy per controller */
  CGROUP_MODE_V2,     /* unified: /sys/fs/cgroup is cgroup2 */
  CGROUP_MODE_HYBRID, /* v1 controllers plus a cgroup2 mount (/sys/fs/cgroup/unified) */
};

struct cgroup; /* opaque; owns its paths */

/* The mode of this host (cached after the first call). */
int cgroup_detect_mode(enum cgroup_mode *mode, berth_error **err);

/* Works out the cgroup of a container: cgroups_path as given in config.json
 * (NULL: "<caller's cgroup>/<id>").  An absolute path is taken from each
 * hierarchy's root; a relative one from the caller's own cgroup in that
 * hierarchy, as runc does.  Nothing is created yet. */
struct cgroup *cgroup_new(const char *cgroups_path, const char *id, berth_error **err);

/* Creates the directories (only those that did not exist are removed again
 * by cgroup_destroy) and applies resources (may be NULL). On failure nothing
 * created is left behind. */
int cgroup_create(struct cgroup *cg, const struct spec_resources *resources, berth_error **err);
/* Moves pid into the cgroup in every hierarchy. */
int cgroup_enter(struct cgroup *cg, pid_t pid, berth_error **err);
/* Moves the calling process, which must be single-threaded, into the
 * cgroup; much cheaper than cgroup_enter on v1.  Needs the host's
 * credentials (not from inside a new user namespace). */
int cgroup_enter_self(struct cgroup *cg, berth_error **err);
/* Writes the limits in resources; used at create and by `update`. */
int cgroup_apply(struct cgroup *cg, const struct spec_resources *resources, berth_error **err);
/* Freezes or thaws, waiting until the kernel reports the new state. */
int cgroup_freeze(struct cgroup *cg, bool frozen, berth_error **err);
/* true when the freezer reports FROZEN. */
int cgroup_is_frozen(struct cgroup *cg, bool *frozen, berth_error **err);
/* Every pid in the cgroup (and its descendants), allocated. */
int cgroup_pids(struct cgroup *cg, pid_t **pids, size_t *n, berth_error **err);
/* Sends sig to every process in the cgroup. */
int cgroup_kill_all(struct cgroup *cg, int sig, berth_error **err);
/* Number of OOM kills seen in the cgroup so far. */
int cgroup_oom_kills(struct cgroup *cg, unsigned long long *count, berth_error **err);
/* Removes every directory this container's cgroup made, waiting briefly for
 * exiting processes; succeeds when they are already gone. */
int cgroup_destroy(struct cgroup *cg, berth_error **err);

/* Path of the cgroup directory for one controller ("memory", "pids", ...;
 * "" for the cgroup2 hierarchy), for tests and diagnostics; NULL if the
 * controller is not mounted. Owned by cg. */
const char *cgroup_controller_path(struct cgroup *cg, const char *controller);

/* A one-line form kept in the container state, and its reverse. */
char *cgroup_serialize(const struct cgroup *cg, berth_error **err);
struct cgroup *cgroup_deserialize(const char *text, berth_error **err);

void cgroup_free(struct cgroup *cg);

/* Test hook: where the cgroup file systems are (default "/sys/fs/cgroup")
 * and where to read mountinfo and the caller's cgroup from. */
void cgroup_set_roots_for_test(const char *sysfs_root, const char *mountinfo_path, const char *self_cgroup_path);

#endif
