/* The berth-runtime commands: each parses its own arguments and makes one
 * library call.  They return the process exit status, or -1 with *err. */
#ifndef BERTH_CMD_RUNTIME_COMMANDS_H
#define BERTH_CMD_RUNTIME_COMMANDS_H

#include "runtime/container.h"
#include "util/error.h"

typedef int command_fn(struct runtime_context *ctx, int argc, char **argv, berth_error **err);

command_fn cmd_create, cmd_start, cmd_state, cmd_kill, cmd_delete, cmd_run, cmd_exec, cmd_ps, cmd_list, cmd_pause,
    cmd_resume, cmd_update, cmd_features, cmd_spec;

/* Checks that exactly `want` positional arguments remain after options. */
int cmd_expect_args(const char *command, int argc, int optind_now, int want, const char *usage, berth_error **err);
/* Parses a non-negative integer option value. */
int cmd_parse_uint(const char *option, const char *text, unsigned long long *out, berth_error **err);

#endif
