#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/runtime/commands.h"
#include "runtime/features.h"

int cmd_features(struct runtime_context *ctx, int argc, char **argv, berth_error **err) {
  (void)ctx;
  (void)argv;
  if (cmd_expect_args("features", argc, 1, 0, "", err) < 0)
    return -1;
  char *json = features_json(err);
  if (json == NULL)
    return -1;
  printf("%s\n", json);
  free(json);
  return 0;
}
