#include <stddef.h>
#include "cmd/runtime/commands.h"

int cmd_pause(struct runtime_context *ctx, int argc, char **argv, berth_error **err) {
  if (cmd_expect_args("pause", argc, 1, 1, "CONTAINER_ID", err) < 0)
    return -1;
  return container_pause(ctx, argv[1], true, err) < 0 ? -1 : 0;
}

int cmd_resume(struct runtime_context *ctx, int argc, char **argv, berth_error **err) {
  if (cmd_expect_args("resume", argc, 1, 1, "CONTAINER_ID", err) < 0)
    return -1;
  return container_pause(ctx, argv[1], false, err) < 0 ? -1 : 0;
}
