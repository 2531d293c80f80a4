/* berth container prune, and the internal `container cleanup` that a
 * monitor runs once its container has exited. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/berth/commands.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"

int cmd_container_cleanup(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  if (argc != 2)
    return cmd_usage_error("container cleanup", "container cleanup CONTAINER", err);
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  return lifecycle_cleanup(e, argv[1], true, err) < 0 ? -1 : 0;
}

int cmd_container_prune(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const char usage_text[] = "container prune [OPTIONS]";
  static const struct option options[] = {{"force", no_argument, NULL, 'f'},
                                          {"filter", required_argument, NULL, 'F'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  bool force = false;
  int c;
  while ((c = getopt_long(argc, argv, "fh", options, NULL)) != -1) {
    switch (c) {
    case 'f':
      force = true;
      break;
    case 'F':
      return berth_fail(err, 0, "container prune --filter is not supported yet");
    case 'h':
      printf("Usage:  berth %s\n\nRemove all stopped containers\n\nOptions:\n"
             "  -f, --force   Do not prompt for confirmation\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("container prune", usage_text, err);
    }
  }
  if (optind != argc)
    return cmd_usage_error("container prune", usage_text, err);
  if (!force) {
    fprintf(stderr, "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ");
    char answer[16] = "";
    if (!isatty(0) || fgets(answer, sizeof(answer), stdin) == NULL || (answer[0] != 'y' && answer[0] != 'Y'))
      return 0;
  }
  struct engine *e = context_engine(ctx, err);
  struct container *list;
  size_t n;
  if (e == NULL || containers_list(e, &list, &n, err) < 0)
    return -1;
  bool header = false;
  int status = 0;
  for (size_t i = 0; i < n; i++) {
    lifecycle_sync(e, &list[i]);
    if (list[i].status != CONTAINER_EXITED && list[i].status != CONTAINER_CREATED && list[i].status != CONTAINER_DEAD)
      continue;
    berth_error *one = NULL;
    if (lifecycle_remove(e, list[i].id, false, false, &one) < 0) {
      cmd_report(one);
      status = 1;
      continue;
    }
    if (!header)
      printf("Deleted Containers:\n");
    header = true;
    printf("%s\n", list[i].id);
  }
  if (header)
    printf("\n");
  printf("Total reclaimed space: 0B\n");
  containers_free(list, n);
  return status;
}
