/* Shared by the lifecycle's files (lifecycle.c, start.c, stop.c); not an
 * interface for other modules. */
#ifndef BERTH_ENGINE_LIFECYCLE_INTERNAL_H
#define BERTH_ENGINE_LIFECYCLE_INTERNAL_H

#include "engine/lifecycle.h"

/* flock on the container's directory (made if a crash left it missing). */
int lifecycle_lock(struct engine *e, const char *id, berth_error **err);
/* Resolves ref, takes the lock, and re-reads the record under it. */
int lifecycle_find_locked(struct engine *e, const char *ref, struct container *c, int *lock_fd, berth_error **err);
/* Releases what a stopped container still holds: its runtime state
 * (cgroup), and its root file system mount. */
int lifecycle_release(struct engine *e, const struct container *c, berth_error **err);
/* Unix ns now. */
int64_t lifecycle_now_ns(void);
/* Whether the container's init still runs. */
bool lifecycle_init_alive(const struct container *c);
/* Waits (pidfd, poll) until pid with start time start has exited, at most
 * timeout_ms (-1 forever); true when it has. */
bool lifecycle_wait_pid(pid_t pid, unsigned long long start, int timeout_ms);

/* The directories of c's image layers, topmost first as overlay's
 * lowerdir lists them: *n malloc'd paths (at least one). */
int lifecycle_lower_dirs(struct engine *e, const struct container *c, char ***lower, size_t *n, berth_error **err);
void lifecycle_lower_dirs_free(char **lower, size_t n);

#endif
