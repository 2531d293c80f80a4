/* berth tag SOURCE TARGET */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/berth/commands.h"
#include "engine/events.h"
#include "image/builtin.h"
#include "image/images.h"
#include "image/reference.h"

static const char usage_text[] = "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]";

int cmd_tag(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    if (c == 'h') {
      printf("Usage:  berth %s\n\nCreate a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n", usage_text);
      return 0;
    }
    return cmd_usage_error("tag", usage_text, err);
  }
  if (argc - optind != 2)
    return cmd_usage_error("tag", usage_text, err);
  struct image_ref target;
  if (image_ref_parse(argv[optind + 1], &target, err) < 0)
    return -1;
  if (target.digest != NULL) {
    image_ref_free(&target);
    return berth_fail(err, 0, "refusing to create a tag with a digest reference: %s", argv[optind + 1]);
  }
  char *full = image_ref_string(&target);
  image_ref_free(&target);
  char id[DIGEST_TEXT_MAX];
  struct store *s = context_store(ctx, err);
  int ret = s != NULL && images_find(s, argv[optind], id, err) == 0 && images_tag(s, id, full, err) == 0 ? 0 : -1;
  if (ret == 0)
    events_image(s->root, id, image_ref_familiar(full), "tag");
  free(full);
  return ret;
}
