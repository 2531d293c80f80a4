/* `exec`: another process in a running container, through the runtime
 * library (it joins the container's namespaces and cgroup, and gets the
 * container's seccomp filter and rlimits).  The process uses the calling
 * process's stdio as it is (the command line decides what that is). */
#ifndef BERTH_ENGINE_EXEC_H
#define BERTH_ENGINE_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

#include "engine/engine.h"

struct exec_request {
  char **cmd;          /* argv, NULL-terminated */
  char **env;          /* KEY=value added to the container's, may be NULL */
  const char *user;    /* docker's --user; NULL: the container's own */
  const char *workdir; /* NULL: the container's */
  bool tty;            /* a pty, proxied to our stdio (not with detach) */
  unsigned console_height, console_width; /* its first size, 0: unset */
  bool detach;         /* return once it runs; *pid gets it (our child) */
  bool privileged;     /* every capability */
};

/* Docker's code when the process cannot be started in the container. */
enum { EXEC_EXIT_CANNOT_START = 126 };

/* Runs req->cmd in the container ref.  Foreground: *exit_code gets its
 * status as a shell reports it.  Failures before the runtime is asked
 * (no such container, not running, unknown user) leave *exit_code at -1;
 * a process the runtime cannot start sets it to 126 as docker does. */
int engine_exec(struct engine *e, const char *ref, const struct exec_request *req, pid_t *pid, int *exit_code,
                berth_error **err);

#endif
