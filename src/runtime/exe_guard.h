/* Protection against CVE-2019-5736: a container that gets the runtime's
 * binary executed inside it (entrypoint -> /proc/self/exe) must not be able
 * to open that binary for writing and replace it on the host.
 *
 * The runtime re-executes itself once through a detached, read-only bind
 * mount of its own binary (open_tree + mount_setattr + execveat): from then
 * on /proc/<pid>/exe of every process it forks leads to a read-only mount,
 * so writes fail with EROFS.  Nothing is copied and no mount is visible in
 * any namespace. */
#ifndef BERTH_RUNTIME_EXE_GUARD_H
#define BERTH_RUNTIME_EXE_GUARD_H

#include "util/error.h"

/* Returns 0 when already protected (the binary is on a read-only mount);
 * otherwise re-executes argv and only returns on failure. */
int exe_guard_ensure(char **argv, berth_error **err);

#endif
