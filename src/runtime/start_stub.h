/* The start stub (stub/stub.c): a libc-free program embedded in the runtime
 * that a container's init becomes at the end of `create`.  It waits for
 * `start` on exec.fifo and execs the container's program, so that during the
 * created state and the final exec, /proc/<pid>/exe of the container's pid 1
 * is a sealed memfd and never the host's runtime binary (CVE-2019-5736).
 * This replaces a re-exec of the whole runtime through a read-only mount
 * (exe_guard.h), which costs a glibc start-up on every container. */
#ifndef BERTH_RUNTIME_START_STUB_H
#define BERTH_RUNTIME_START_STUB_H

#include <stdbool.h>

#include "runtime/spec.h"
#include "util/error.h"

/* Whether the stub may stand in for the guard re-exec with this config:
 * nothing outside the container may see init during setup (a new pid
 * namespace), no startContainer hook must run between start and exec, and
 * the seccomp profile must let the stub's execveat through. */
bool start_stub_usable(const struct spec *spec);
/* A sealed, close-on-exec memfd holding the stub; -1 with *err when the
 * kernel refuses an executable memfd (vm.memfd_noexec=2). */
int start_stub_open(berth_error **err);
/* From init, after its setup: execs the stub, which waits on fifo_fd (left
 * open across the exec) and then execs path with argv and envp.  Returns
 * only on failure. */
int start_stub_exec(int stub_fd, int fifo_fd, const char *path, char *const argv[], char *const envp[],
                    berth_error **err);

#endif
