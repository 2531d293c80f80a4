/* The container's first process, from clone until execve of the user's
 * program: namespaces, mounts, pivot_root, identity, then the wait for
 * `start`.  It talks to the runtime over the sync socket. */
#ifndef BERTH_RUNTIME_INIT_H
#define BERTH_RUNTIME_INIT_H

#include <stdbool.h>

#include "runtime/cgroup/cgroup.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"

struct init_args {
  const struct spec *spec;
  const char *id;
  const char *annotations_json; /* for hook state */
  struct cgroup *cgroup; /* joined by init itself when enter_cgroup is set */
  bool enter_cgroup;
  bool unshare_net; /* make the network namespace here, not in clone */
  int sync_fd;
  int fifo_fd; /* exec.fifo opened O_RDWR: a byte arrives on start */
  bool intermediate; /* joins by path or a time namespace: fork once more */
  bool no_pivot;
  bool no_new_keyring;
  int preserve_fds;
  int start_stub_fd; /* >= 0: become the start stub at the end (start_stub.h) */
  /* linux.seccomp compiled by create (seccomp_cache.h), or NULL: init
   * builds the filter itself. */
  const struct seccomp_program *seccomp_program;
};

/* Never returns: execs the container's program or exits non-zero after
 * sending its error over sync_fd. */
_Noreturn void init_main(struct init_args *args);

/* From the child right after clone: re-executes the runtime through exe_fd,
 * a read-only mount of itself (exe_guard_open), as `init` with these
 * arguments (CVE-2019-5736); returns only on failure. */
int init_reexec(const struct init_args *args, int exe_fd, int config_fd, const char *cgroup_text, berth_error **err);
/* The re-executed init: rebuilds its arguments and runs init_main. */
_Noreturn void init_main_from_argv(int argc, char **argv);

#endif
