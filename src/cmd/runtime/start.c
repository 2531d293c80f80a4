#include <stddef.h>
#include <getopt.h>

#include "cmd/runtime/commands.h"

int cmd_start(struct runtime_context *ctx, int argc, char **argv, berth_error **err) {
  if (cmd_expect_args("start", argc, 1, 1, "CONTAINER_ID", err) < 0)
    return -1;
  return container_start(ctx, argv[1], err) < 0 ? -1 : 0;
}
