/* The berth commands: each parses its own arguments (docker's flags) and
 * calls the library.  They return the exit status, or -1 with *err, which
 * main prints once. */
#ifndef BERTH_CMD_BERTH_COMMANDS_H
#define BERTH_CMD_BERTH_COMMANDS_H

#include <stdbool.h>

#include "image/store.h"
#include "util/error.h"

struct berth_context {
  const char *root;
  struct store *store; /* opened on first use */
};

/* The store, opened on first use. */
struct store *context_store(struct berth_context *ctx, berth_error **err);

typedef int command_fn(struct berth_context *ctx, int argc, char **argv, berth_error **err);

command_fn cmd_images, cmd_tag, cmd_rmi, cmd_image_inspect, cmd_save, cmd_load, cmd_import, cmd_image_prune,
    cmd_system_df, cmd_pull, cmd_push, cmd_login, cmd_logout;

/* Prints "usage" for -h/--help or fails on an unknown flag; getopt glue. */
int cmd_usage_error(const char *command, const char *usage, berth_error **err);

#endif
