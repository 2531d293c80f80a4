/* Protection against CVE-2019-5736: a container that gets the runtime's
 * binary executed inside it (entrypoint -> /proc/self/exe) must not be able
 * to open that binary for writing and replace it on the host.
 *
 * The runtime re-executes itself once through a detached, read-only bind
 * mount of its own binary (open_tree + mount_setattr + execveat): from then
 * on /proc/<pid>/exe of every process it forks leads to a read-only mount,
 * so writes fail with EROFS.  Nothing is copied and no mount is visible in
 * any namespace.  `create` prefers the cheaper start stub (start_stub.h) and
 * comes here only when it cannot be used; `exec` always does. */
#ifndef BERTH_RUNTIME_EXE_GUARD_H
#define BERTH_RUNTIME_EXE_GUARD_H

#include <stdbool.h>

#include "util/error.h"

/* true unless the binary already sits on a read-only mount. */
bool exe_guard_needed(void);
/* Returns 0 when already protected; otherwise re-executes argv through the
 * read-only mount and only returns on failure. */
int exe_guard_ensure(char **argv, berth_error **err);
/* Re-executes argv through a read-only mount of our binary; returns only on
 * failure. */
int exe_guard_exec(char **argv, berth_error **err);
/* The two halves, for a child in a new mount namespace: open_tree must run
 * in the namespace that holds the binary's mount (before clone). */
int exe_guard_open(berth_error **err);
int exe_guard_exec_fd(int fd, char **argv, berth_error **err);

#endif
