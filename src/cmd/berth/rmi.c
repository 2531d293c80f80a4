/* berth rmi / image rm */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/berth/commands.h"
#include "engine/events.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"
#include "image/images.h"
#include "image/reference.h"
#include "util/cleanup.h"

static const char usage_text[] = "rmi [OPTIONS] IMAGE [IMAGE...]";

/* Whether all of an image's tags are in one repository. */
static bool one_repository(const struct image_record *r) {
  for (size_t i = 1; i < r->n_tags; i++) {
    size_t a = strrchr(r->tags[0], ':') - r->tags[0], b = strrchr(r->tags[i], ':') - r->tags[i];
    if (a != b || strncmp(r->tags[0], r->tags[i], a) != 0)
      return false;
  }
  return true;
}

/* docker: a name removes that tag (and the image with its last tag); an ID
 * removes the image with all its tags, which needs -f when they are in
 * more than one repository. */
/* An image its containers stand on goes only with -f, and then its
 * containers go first (as podman does: none is left without its layers). */
static int check_containers(struct engine *e, const char *name, const char *id, bool by_tag, bool force,
                            berth_error **err) {
  char users[8][CONTAINER_ID_LEN + 1];
  size_t n;
  if (containers_using_image(e, id, users, 8, &n, err) < 0)
    return -1;
  if (n == 0)
    return 0;
  if (!force) {
    if (by_tag)
      return berth_fail(err, 0,
                        "conflict: unable to remove repository reference \"%s\" (must force) - container %.12s is "
                        "using its referenced image %.12s",
                        name, users[0], digest_hex(id));
    return berth_fail(err, 0, "conflict: unable to delete %.12s (must be forced) - image is being used by container %.12s",
                      digest_hex(id), users[0]);
  }
  for (size_t i = 0; i < n && i < 8; i++)
    if (lifecycle_remove(e, users[i], true, false, err) < 0)
      return -1;
  /* more than 8: go round again */
  return n > 8 ? check_containers(e, name, id, by_tag, force, err) : 0;
}

static int remove_one(struct engine *e, const char *name, bool force, berth_error **err) {
  struct store *s = e->store;
  char id[DIGEST_TEXT_MAX];
  enum image_match how;
  if (images_resolve_how(s, name, id, &how, err) < 0)
    return -1;
  bool by_tag = how == IMAGE_MATCH_TAG;
  cleanup_free char *full = NULL;
  struct image_ref ref;
  if (by_tag && image_ref_parse(name, &ref, err) == 0) {
    full = image_ref_string(&ref);
    image_ref_free(&ref);
  }
  if (by_tag && full == NULL)
    return -1;
  struct image_record r;
  if (images_get(s, id, &r, err) < 0)
    return -1;
  int ret = -1;
  if (by_tag && r.n_tags > 1) {
    bool removed = false;
    if (images_untag(s, full, &removed, err) == 0) {
      printf("Untagged: %s\n", image_ref_familiar(full));
      events_image(s->root, id, image_ref_familiar(full), "untag");
      ret = 0;
    }
    goto out;
  }
  if (!by_tag && !force && !one_repository(&r)) {
    berth_fail(err, 0,
               "conflict: unable to delete %.12s (must be forced) - image is referenced in multiple repositories",
               digest_hex(id));
    goto out;
  }
  if (check_containers(e, name, id, by_tag, force, err) < 0 || images_remove(s, id, err) < 0)
    goto out;
  for (size_t i = 0; i < r.n_tags; i++) {
    printf("Untagged: %s\n", image_ref_familiar(r.tags[i]));
    events_image(s->root, id, image_ref_familiar(r.tags[i]), "untag");
  }
  for (size_t i = 0; i < r.n_repo_digests; i++)
    printf("Untagged: %s\n", image_ref_familiar(r.repo_digests[i]));
  printf("Deleted: %s\n", id);
  events_image(s->root, id, id, "delete");
  ret = 0;
out:
  image_record_free(&r);
  return ret;
}

int cmd_rmi(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"force", no_argument, NULL, 'f'},
                                          {"no-prune", no_argument, NULL, 'n'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  bool force = false;
  int c;
  while ((c = getopt_long(argc, argv, "fh", options, NULL)) != -1) {
    switch (c) {
    case 'f':
      force = true;
      break;
    case 'n':
      break;
    case 'h':
      printf("Usage:  berth %s\n\nRemove one or more images\n\nOptions:\n  -f, --force      Force removal of the image\n"
             "      --no-prune   Do not delete untagged parents\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("rmi", usage_text, err);
    }
  }
  if (optind >= argc)
    return cmd_usage_error("rmi", usage_text, err);
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  struct store *s = e->store;
  int status = 0;
  for (int i = optind; i < argc; i++) {
    berth_error *one = NULL;
    if (remove_one(e, argv[i], force, &one) < 0) {
      /* docker goes on with the others and reports each failure */
      fprintf(stderr, "Error response from daemon: %s\n", one->msg);
      berth_error_free(one);
      status = 1;
    }
  }
  /* Files of what is gone, unless a pull or load is running: then the next
   * rmi or prune collects them, rather than rmi waiting for it. */
  int held = store_try_hold_exclusive(s, err);
  if (held < 0 || (held > 0 && images_gc(s, NULL, err) < 0))
    return -1;
  return status;
}
