/* The container's terminal: a pty from the container's own devpts, its
 * master handed to the caller through --console-socket (or relayed by
 * `run` in the foreground). */
#ifndef BERTH_RUNTIME_TERMINAL_H
#define BERTH_RUNTIME_TERMINAL_H

#include <stdbool.h>

#include "util/error.h"

/* Opens a pty from /dev/ptmx (after pivot_root); returns the master, and the
 * slave in *slave. */
int terminal_open_pty(int *slave, berth_error **err);
/* Makes the slave the controlling terminal and stdio of the calling process. */
int terminal_attach_slave(int slave, unsigned height, unsigned width, berth_error **err);
/* Binds the slave over /dev/console so the container's console is its pty. */
int terminal_bind_console(int slave, berth_error **err);
/* Sends the master over the unix socket at path (runc's console-socket protocol). */
int terminal_send_master(const char *socket_path, int master, berth_error **err);

#endif
