/* berth image prune */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/berth/commands.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "cmd/berth/format.h"
#include "image/images.h"
#include "image/reference.h"

static const char usage_text[] = "image prune [OPTIONS]";

int cmd_image_prune(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"all", no_argument, NULL, 'a'},
                                          {"force", no_argument, NULL, 'f'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  bool all = false, force = false;
  int c;
  while ((c = getopt_long(argc, argv, "afh", options, NULL)) != -1) {
    switch (c) {
    case 'a':
      all = true;
      break;
    case 'f':
      force = true;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nRemove unused images\n\nOptions:\n  -a, --all     Remove all unused images, not just "
             "dangling ones\n  -f, --force   Do not prompt for confirmation\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("image prune", usage_text, err);
    }
  }
  if (optind != argc)
    return cmd_usage_error("image prune", usage_text, err);
  if (!force) {
    printf("WARNING! This will remove all %s.\nAre you sure you want to continue? [y/N] ",
           all ? "images without at least one container associated to them" : "dangling images");
    fflush(stdout);
    char answer[16] = "";
    if (fgets(answer, sizeof(answer), stdin) == NULL || (answer[0] != 'y' && answer[0] != 'Y'))
      return 0;
  }
  struct engine *e = context_engine(ctx, err);
  struct store *s = e != NULL ? e->store : NULL;
  if (s == NULL || store_hold(s, true, err) < 0)
    return -1;
  struct image_record *recs = NULL;
  size_t n = 0;
  if (images_list(s, &recs, &n, err) < 0)
    return -1;
  bool any = false;
  for (size_t i = 0; i < n; i++) {
    /* dangling: no tag and no digest reference (docker keeps name@digest pulls) */
    if (!all && (recs[i].n_tags > 0 || recs[i].n_repo_digests > 0))
      continue;
    /* an image a container stands on is in use, whatever its tags */
    char users[1][CONTAINER_ID_LEN + 1];
    size_t n_users = 0;
    if (containers_using_image(e, recs[i].id, users, 1, &n_users, err) < 0) {
      image_records_free(recs, n);
      return -1;
    }
    if (n_users > 0)
      continue;
    if (images_remove(s, recs[i].id, err) < 0) {
      image_records_free(recs, n);
      return -1;
    }
    if (!any)
      printf("Deleted Images:\n");
    any = true;
    for (size_t t = 0; t < recs[i].n_tags; t++)
      printf("untagged: %s\n", image_ref_familiar(recs[i].tags[t]));
    printf("deleted: %s\n", recs[i].id);
  }
  image_records_free(recs, n);
  uint64_t freed = 0;
  if (images_gc(s, &freed, err) < 0)
    return -1;
  char size[32];
  format_size((int64_t)freed, size, sizeof(size));
  printf("%sTotal reclaimed space: %s\n", any ? "\n" : "", size);
  return 0;
}
