/* berth load */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/berth/commands.h"
#include "engine/events.h"
#include "image/archives.h"
#include "image/reference.h"
#include "util/cleanup.h"

static const char usage_text[] = "load [OPTIONS]";

static const char *events_root; /* the store's, for the load events */

static void report(void *arg, const char *id, const char *const *tags) {
  events_image(events_root, id, id, "load");
  bool quiet = *(bool *)arg;
  if (quiet)
    return;
  size_t n = 0;
  for (; tags != NULL && tags[n] != NULL; n++)
    printf("Loaded image: %s\n", image_ref_familiar(tags[n]));
  if (n == 0)
    printf("Loaded image ID: %s\n", id);
}

int cmd_load(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"input", required_argument, NULL, 'i'},
                                          {"quiet", no_argument, NULL, 'q'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  const char *input = NULL;
  bool quiet = false;
  int c;
  while ((c = getopt_long(argc, argv, "i:qh", options, NULL)) != -1) {
    switch (c) {
    case 'i':
      input = optarg;
      break;
    case 'q':
      quiet = true;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nLoad an image from a tar archive (docker-archive or oci-archive), an OCI layout\n"
             "directory, or STDIN\n\nOptions:\n  -i, --input string   Read from tar archive file or OCI layout directory\n"
             "  -q, --quiet          Suppress the load output\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("load", usage_text, err);
    }
  }
  if (optind != argc)
    return cmd_usage_error("load", usage_text, err);
  struct stat st;
  cleanup_close int fd = -1;
  const char *dir = NULL;
  if (input != NULL && stat(input, &st) == 0 && S_ISDIR(st.st_mode)) {
    dir = input;
  } else if (input != NULL) {
    fd = open(input, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return berth_fail(err, errno, "open %s", input);
  } else {
    if (isatty(STDIN_FILENO))
      return berth_fail(err, 0, "requested load from stdin, but stdin is empty");
    fd = dup(STDIN_FILENO);
  }
  struct store *s = context_store(ctx, err);
  if (s == NULL)
    return -1;
  events_root = s->root;
  return archive_load(s, fd, dir, report, &quiet, err) < 0 ? -1 : 0;
}
