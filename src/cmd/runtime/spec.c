#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/runtime/commands.h"
#include "runtime/spec.h"
#include "util/cleanup.h"
#include "util/fs.h"

int cmd_spec(struct runtime_context *ctx, int argc, char **argv, berth_error **err) {
  (void)ctx;
  enum { OPT_ROOTLESS = 300 };
  static const struct option options[] = {
      {"bundle", required_argument, NULL, 'b'}, {"rootless", no_argument, NULL, OPT_ROOTLESS}, {NULL, 0, NULL, 0}};
  const char *bundle = ".";
  bool rootless = false;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+b:", options, NULL)) != -1) {
    if (c == 'b')
      bundle = optarg;
    else if (c == OPT_ROOTLESS)
      rootless = true;
    else
      return berth_fail(err, 0, "spec: unknown option \"%s\"", argv[optind - 1]);
  }
  if (cmd_expect_args("spec", argc, optind, 0, "[--bundle DIR] [--rootless]", err) < 0)
    return -1;
  cleanup_close int dirfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return berth_fail(err, errno, "bundle \"%s\"", bundle);
  if (faccessat(dirfd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return berth_fail(err, 0, "\"%s/config.json\" exists: remove it first", bundle);
  cleanup_free char *json = spec_default_json(rootless, err);
  if (json == NULL)
    return -1;
  cleanup_free char *text = NULL;
  int len = asprintf(&text, "%s\n", json);
  if (len < 0)
    return berth_fail(err, ENOMEM, "config.json");
  return fs_write_file_at(dirfd, "config.json", text, (size_t)len, 0644, err) < 0 ? -1 : 0;
}
