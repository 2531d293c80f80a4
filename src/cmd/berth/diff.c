/* berth diff CONTAINER */
#include <getopt.h>
#include <stdio.h>

#include "cmd/berth/commands.h"
#include "engine/changes.h"

int cmd_diff(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const char usage_text[] = "diff CONTAINER";
  static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    if (c != 'h')
      return cmd_usage_error("diff", usage_text, err);
    printf("Usage:  berth %s\n\nInspect changes to files or directories on a container's filesystem\n\n"
           "Aliases:\n  berth container diff, berth diff\n",
           usage_text);
    return 0;
  }
  if (argc - optind != 1)
    return cmd_usage_error("diff", usage_text, err);
  struct engine *e = context_engine(ctx, err);
  struct change *changes;
  size_t n;
  if (e == NULL || changes_list(e, argv[optind], &changes, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    printf("%s %s\n", change_kind_name(changes[i].kind), changes[i].path);
  changes_free(changes, n);
  return 0;
}
