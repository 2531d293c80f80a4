/* Staying in the foreground as a container process's parent (run, exec):
 * relay its terminal, forward signals, collect its exit status. */
#ifndef BERTH_RUNTIME_SUPERVISE_H
#define BERTH_RUNTIME_SUPERVISE_H

#include <signal.h>
#include <sys/types.h>

#include "util/error.h"

/* Blocks SIGCHLD and the forwarded signals; call before the child exists. */
void supervise_block_signals(sigset_t *mask, sigset_t *old);
/* Waits for pid (our child); *status is its exit code, 128+N when killed. */
int supervise_process(pid_t pid, int master, const sigset_t *mask, int *status, berth_error **err);

#endif
