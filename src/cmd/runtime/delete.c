#include <stddef.h>
#include <getopt.h>

#include "cmd/runtime/commands.h"

int cmd_delete(struct runtime_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
  bool force = false;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+f", options, NULL)) != -1) {
    if (c != 'f')
      return berth_fail(err, 0, "delete: unknown option \"%s\"", argv[optind - 1]);
    force = true;
  }
  if (cmd_expect_args("delete", argc, optind, 1, "[--force] CONTAINER_ID", err) < 0)
    return -1;
  return container_delete(ctx, argv[optind], force, err) < 0 ? -1 : 0;
}
