/* berth volume: create, ls, inspect, rm, prune (docker's flags and output). */
#ifndef BERTH_CMD_BERTH_VOLUME_H
#define BERTH_CMD_BERTH_VOLUME_H

#include "cmd/berth/commands.h"

/* argv[0] is "volume", argv[1] the subcommand.  Returns the exit status
 * (125 for a bad flag, as docker), or -1 with *err for main to print. */
int cmd_volume(struct berth_context *ctx, int argc, char **argv, berth_error **err);

#endif
