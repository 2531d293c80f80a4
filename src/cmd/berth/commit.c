/* berth commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]] */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/berth/commands.h"
#include "engine/commit.h"
#include "image/reference.h"
#include "util/cleanup.h"

static const char usage_text[] = "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]";

/* Go's strconv.ParseBool, for -p=false / --pause=false. */
static int parse_bool(const char *text, bool *out) {
  static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
  static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};
  for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
    if (strcmp(text, yes[i]) == 0) {
      *out = true;
      return 0;
    }
    if (strcmp(text, no[i]) == 0) {
      *out = false;
      return 0;
    }
  }
  return -1;
}

int cmd_commit(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"author", required_argument, NULL, 'a'},
                                          {"change", required_argument, NULL, 'c'},
                                          {"message", required_argument, NULL, 'm'},
                                          {"pause", optional_argument, NULL, 'p'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  cleanup_free const char **changes = calloc((size_t)argc + 1, sizeof(char *));
  if (changes == NULL)
    return berth_fail(err, ENOMEM, "commit");
  size_t n_changes = 0;
  struct commit_options o = {.pause = true, .changes = changes};
  int c;
  while ((c = getopt_long(argc, argv, "a:c:m:p::h", options, NULL)) != -1) {
    switch (c) {
    case 'a':
      o.author = optarg;
      break;
    case 'c':
      changes[n_changes++] = optarg;
      break;
    case 'm':
      o.message = optarg;
      break;
    case 'p': {
      /* a boolean flag: -p, --pause, -p=false, --pause=false */
      const char *v = optarg == NULL ? "true" : optarg[0] == '=' ? optarg + 1 : optarg;
      if (parse_bool(v, &o.pause) < 0) {
        berth_fail(err, 0, "invalid argument \"%s\" for \"-p, --pause\" flag: strconv.ParseBool: parsing \"%s\": invalid syntax",
                   v, v);
        return cmd_flag_error("commit", err);
      }
      break;
    }
    case 'h':
      printf("Usage:  berth %s\n\nCreate a new image from a container's changes\n\n"
             "Aliases:\n  berth container commit, berth commit\n\nOptions:\n"
             "  -a, --author string    Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")\n"
             "  -c, --change list      Apply Dockerfile instruction to the created image (CMD, ENTRYPOINT, ENV,\n"
             "                         EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR)\n"
             "  -m, --message string   Commit message\n"
             "  -p, --pause            Pause container during commit (default true)\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("commit", usage_text, err);
    }
  }
  if (argc - optind < 1 || argc - optind > 2)
    return cmd_usage_error("commit", usage_text, err);
  cleanup_free char *tag = NULL;
  if (argc - optind == 2) {
    struct image_ref ref;
    if (image_ref_parse(argv[optind + 1], &ref, err) < 0)
      return -1;
    if (ref.digest != NULL) {
      image_ref_free(&ref);
      return berth_fail(err, 0, "refusing to create a tag with a digest reference");
    }
    tag = image_ref_string(&ref);
    image_ref_free(&ref);
    if (tag == NULL)
      return berth_fail(err, ENOMEM, "commit");
    o.tag = tag;
  }
  struct engine *e = context_engine(ctx, err);
  char id[DIGEST_TEXT_MAX];
  if (e == NULL || commit_container(e, argv[optind], &o, id, err) < 0)
    return -1;
  printf("%s\n", id);
  return 0;
}
