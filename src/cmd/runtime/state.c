#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/runtime/commands.h"

int cmd_state(struct runtime_context *ctx, int argc, char **argv, berth_error **err) {
  if (cmd_expect_args("state", argc, 1, 1, "CONTAINER_ID", err) < 0)
    return -1;
  char *json = NULL;
  if (container_state(ctx, argv[1], &json, err) < 0)
    return -1;
  printf("%s\n", json);
  free(json);
  return 0;
}
