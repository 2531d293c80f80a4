/* berth export [-o FILE] CONTAINER */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/berth/commands.h"
#include "engine/copy.h"
#include "util/cleanup.h"

static const char usage_text[] = "export [OPTIONS] CONTAINER";

int cmd_export(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {
      {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  const char *output = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
    switch (c) {
    case 'o':
      output = optarg;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nExport a container's filesystem as a tar archive\n\n"
             "Aliases:\n  berth container export, berth export\n\n"
             "Options:\n  -o, --output string   Write to a file, instead of STDOUT\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("export", usage_text, err);
    }
  }
  if (argc - optind != 1)
    return cmd_usage_error("export", usage_text, err);
  if (output != NULL && *output == '\0')
    output = NULL;
  if (output == NULL && isatty(STDOUT_FILENO))
    return berth_fail(err, 0, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  if (output == NULL)
    return copy_export(e, argv[optind], STDOUT_FILENO, err);
  /* written beside and renamed over (docker's way, its mode 0600 too):
   * a failure leaves no partial file */
  cleanup_free char *tmp = NULL;
  const char *slash = strrchr(output, '/');
  if (slash != NULL && slash != output) {
    cleanup_free char *dir = strndup(output, (size_t)(slash - output));
    struct stat st;
    if (dir != NULL && stat(dir, &st) < 0 && errno == ENOENT)
      return berth_fail(err, 0, "failed to export container: invalid output path: directory \"%s\" does not exist", dir);
  }
  if (asprintf(&tmp, "%.*s.berth-export-XXXXXX", slash != NULL ? (int)(slash - output) + 1 : 0, output) < 0)
    return berth_fail(err, ENOMEM, "export");
  cleanup_close int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "failed to export container: open %s", output);
  int ret = copy_export(e, argv[optind], fd, err);
  if (ret == 0 && (fsync(fd) < 0 || rename(tmp, output) < 0))
    ret = berth_fail(err, errno, "failed to export container: write %s", output);
  if (ret < 0)
    unlink(tmp);
  return ret;
}
