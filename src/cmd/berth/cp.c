/* berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-
 * berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/berth/commands.h"
#include "cmd/berth/format.h"
#include "engine/copy.h"
#include "util/cleanup.h"

static const char usage_text[] = "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- "
                                 "CONTAINER:DEST_PATH";
static const char usage_line[] = "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|- or SRC_PATH|- CONTAINER:DEST_PATH";

int cmd_cp(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"archive", no_argument, NULL, 'a'},
                                          {"follow-link", no_argument, NULL, 'L'},
                                          {"quiet", no_argument, NULL, 'q'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  struct copy_request req = {0};
  bool quiet = false, quiet_given = false;
  int c;
  while ((c = getopt_long(argc, argv, "aLqh", options, NULL)) != -1) {
    switch (c) {
    case 'a':
      req.archive = true;
      break;
    case 'L':
      req.follow_link = true;
      break;
    case 'q':
      quiet = quiet_given = true;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nCopy files/folders between a container and the local filesystem\n\n"
             "Use '-' as the source to read a tar archive from stdin\n"
             "and extract it to a directory destination in a container.\n"
             "Use '-' as the destination to stream a tar archive of a\n"
             "container source to stdout.\n\n"
             "Aliases:\n  berth container cp, berth cp\n\n"
             "Options:\n"
             "  -a, --archive       Archive mode (copy all uid/gid information)\n"
             "  -L, --follow-link   Always follow symbol link in SRC_PATH\n"
             "  -q, --quiet         Suppress progress output during copy. Progress\n"
             "                      output is automatically suppressed if no terminal\n"
             "                      is attached\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("cp", usage_line, err);
    }
  }
  if (argc - optind != 2)
    return cmd_usage_error("cp", usage_line, err);
  const char *source = argv[optind], *destination = argv[optind + 1];
  if (*source == '\0')
    return berth_fail(err, 0, "source can not be empty");
  if (*destination == '\0')
    return berth_fail(err, 0, "destination can not be empty");
  cleanup_free char *from = NULL, *to = NULL;
  const char *from_path, *to_path;
  if (copy_split_arg(source, &from, &from_path, err) < 0 || copy_split_arg(destination, &to, &to_path, err) < 0)
    return -1;
  if (from != NULL && to != NULL)
    return berth_fail(err, 0, "copying between containers is not supported");
  if (from == NULL && to == NULL)
    return berth_fail(err, 0, "must specify at least one container source");
  req.to_container = to != NULL;
  req.container = req.to_container ? to : from;
  req.container_path = req.to_container ? to_path : from_path;
  req.host_path = req.to_container ? from_path : to_path;
  req.stream_fd = req.to_container ? STDIN_FILENO : STDOUT_FILENO;
  /* docker: progress only when a terminal is there to show it */
  if (!quiet_given)
    quiet = !isatty(STDOUT_FILENO);
  struct engine *e = context_engine(ctx, err);
  struct copy_result res;
  if (e == NULL || copy_run(e, &req, &res, err) < 0)
    return -1;
  if (!quiet && strcmp(req.host_path, "-") != 0) {
    char size[32];
    format_size((int64_t)res.bytes, size, sizeof(size));
    fprintf(stderr, "Successfully copied %s to %s\n", size, res.dest);
  }
  return 0;
}
