/* berth import */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/berth/commands.h"
#include "engine/events.h"
#include "image/import.h"
#include "image/reference.h"
#include "util/cleanup.h"

static const char usage_text[] = "import [OPTIONS] file|- [REPOSITORY[:TAG]]";

int cmd_import(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"change", required_argument, NULL, 'c'},
                                          {"message", required_argument, NULL, 'm'},
                                          {"platform", required_argument, NULL, 'p'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  const char *changes[33];
  size_t n_changes = 0;
  struct import_options o = {.changes = changes};
  int c;
  while ((c = getopt_long(argc, argv, "c:m:h", options, NULL)) != -1) {
    switch (c) {
    case 'c':
      if (n_changes == 32)
        return berth_fail(err, 0, "too many --change options");
      changes[n_changes++] = optarg;
      break;
    case 'm':
      o.message = optarg;
      break;
    case 'p':
      break; /* the layer is the host's platform */
    case 'h':
      printf("Usage:  berth %s\n\nImport the contents from a tarball to create a filesystem image\n\nOptions:\n"
             "  -c, --change list       Apply Dockerfile instruction to the created image (CMD, ENTRYPOINT, ENV,\n"
             "                          EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR)\n  -m, --message string    Set commit message for imported image\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("import", usage_text, err);
    }
  }
  changes[n_changes] = NULL;
  if (argc - optind < 1 || argc - optind > 2)
    return cmd_usage_error("import", usage_text, err);
  const char *file = argv[optind];
  cleanup_free char *tag = NULL;
  if (argc - optind == 2) {
    struct image_ref ref;
    if (image_ref_parse(argv[optind + 1], &ref, err) < 0)
      return -1;
    tag = image_ref_string(&ref);
    image_ref_free(&ref);
    o.tag = tag;
  }
  cleanup_close int fd = strcmp(file, "-") == 0 ? dup(STDIN_FILENO) : open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "open %s", file);
  struct store *s = context_store(ctx, err);
  char id[DIGEST_TEXT_MAX];
  if (s == NULL || image_import(s, fd, &o, id, err) < 0)
    return -1;
  events_image(s->root, id, id, "import");
  printf("%s\n", id);
  return 0;
}
