/* The last steps of a container process before execve, shared by the
 * container's init and by exec: identity, limits, privileges, the program. */
#ifndef BERTH_RUNTIME_PROCESS_H
#define BERTH_RUNTIME_PROCESS_H

#include <stdbool.h>

#include "runtime/spec.h"
#include "util/error.h"

/* setrlimit for each process.rlimits entry. */
int process_set_rlimits(const struct spec_process *p, berth_error **err);
/* Writes /proc/self/oom_score_adj when set. */
int process_set_oom_score_adj(const struct spec_process *p, berth_error **err);
/* ioprio_set for process.ioPriority when set. */
int process_set_io_priority(const struct spec_process *p, berth_error **err);
/* process.scheduler (sched_setattr) and execCPUAffinity.final, when set. */
int process_set_scheduler(const struct spec_process *p, berth_error **err);
/* Finds args[0] in the PATH of the process's env (as the container sees it). */
char *process_find_executable(const struct spec_process *p, berth_error **err);
/* Groups, gid, uid, capabilities, no_new_privs and seccomp, in the order
 * that keeps each step permitted.  *notify_fd gets a seccomp listener fd or -1. */
int process_drop_privileges(const struct spec_process *p, const struct spec_seccomp *seccomp,
                            int *notify_fd, berth_error **err);
/* The same, loading prepared (linux.seccomp compiled ahead of time, no
 * notify rules) instead of building the filter from seccomp when not NULL. */
struct seccomp_program;
int process_drop_privileges_prepared(const struct spec_process *p, const struct spec_seccomp *seccomp,
                                     const struct seccomp_program *prepared, int *notify_fd, berth_error **err);
/* chdir to cwd resolved inside "/" with no magic links. */
int process_chdir(const char *cwd, berth_error **err);
/* Marks every fd from first_kept_fd on close-on-exec, so nothing of the
 * runtime's reaches the container (CVE-2024-21626). */
int process_close_fds_on_exec(int first_kept_fd, berth_error **err);
/* process.env plus HOME from the container's /etc/passwd when it has none;
 * the strings are borrowed from p except the added one (leaked on purpose:
 * the process is about to exec). */
char **process_build_env(const struct spec_process *p, berth_error **err);
/* execve; returns only on failure. */
int process_exec(const char *path, const struct spec_process *p, char **env, berth_error **err);

#endif
