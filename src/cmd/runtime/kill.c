#include <stddef.h>
#include <getopt.h>
#include <signal.h>

#include "cmd/runtime/commands.h"
#include "runtime/signals.h"

int cmd_kill(struct runtime_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
  bool all = false;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+a", options, NULL)) != -1) {
    if (c != 'a')
      return berth_fail(err, 0, "kill: unknown option \"%s\"", argv[optind - 1]);
    all = true;
  }
  int have = argc - optind;
  if (have < 1 || have > 2)
    return cmd_expect_args("kill", argc, optind, 1, "[--all] CONTAINER_ID [SIGNAL]", err);
  int sig = SIGTERM;
  if (have == 2) {
    sig = signal_parse(argv[optind + 1]);
    if (sig < 0)
      return berth_fail(err, 0, "kill: unknown signal \"%s\"", argv[optind + 1]);
  }
  return container_kill(ctx, argv[optind], sig, all, err) < 0 ? -1 : 0;
}
