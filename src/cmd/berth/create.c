/* berth create, and the creation half of berth run */
#include <stdio.h>
#include <string.h>

#include "cmd/berth/commands.h"
#include "cmd/berth/container_flags.h"
#include "cmd/berth/progress.h"
#include "cmd/berth/registry_flags.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"
#include "image/builtin.h"
#include "image/images.h"
#include "image/reference.h"
#include "image/transfer.h"
#include "util/cleanup.h"

/* docker run's pull: "Unable to find image 'x:latest' locally", then the
 * pull, its lines on stderr so the container's output stays clean. */
static int pull_missing(struct engine *e, const struct container_flags *f, berth_error **err) {
  char id[DIGEST_TEXT_MAX];
  berth_error *missing = NULL;
  if (strcmp(f->pull, "always") != 0 && images_find(e->store, f->image, id, &missing) == 0)
    return 0;
  if (strcmp(f->pull, "never") == 0) {
    berth_fail(err, 0, "%s", missing != NULL ? missing->msg : "No such image");
    berth_error_free(missing);
    return -1;
  }
  berth_error_free(missing);
  struct image_ref ref;
  if (image_ref_parse(f->image, &ref, err) < 0)
    return -1;
  cleanup_free char *full = image_ref_string(&ref);
  image_ref_free(&ref);
  if (!f->quiet && strcmp(f->pull, "always") != 0)
    fprintf(stderr, "Unable to find image '%s' locally\n", image_ref_familiar(full));
  struct registry_flags rf = {.tls_verify = true};
  struct registry_client *client = registry_flags_client(&rf, err);
  if (client == NULL)
    return -1;
  struct progress_view *view = progress_view_new(false, true);
  struct transfer_progress cb = progress_view_callbacks(view);
  struct pull_result result;
  int ret = image_pull(e->store, client, f->image, f->platform, &cb, &result, err);
  progress_view_free(view);
  registry_client_free(client);
  if (ret == 0 && !f->quiet)
    fprintf(stderr, "Digest: %s\nStatus: Downloaded newer image for %s\n", result.digest, image_ref_familiar(full));
  return ret;
}

int create_from_flags(struct berth_context *ctx, const struct container_flags *f, char id[CONTAINER_ID_BUF],
                      berth_error **err) {
  struct engine *e = context_engine(ctx, err);
  if (e == NULL || pull_missing(e, f, err) < 0)
    return -1;
  struct create_request req = {.name = f->name, .image = f->image, .config = f->config,
                               .host_config = f->host_config};
  return lifecycle_create(e, &req, id, err);
}

int cmd_create(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  struct container_flags f;
  if (container_flags_parse(argc, argv, false, &f, err) < 0) {
    container_flags_clear(&f);
    return cmd_flag_error("create", err);
  }
  if (f.help) {
    container_flags_usage(stdout, false);
    container_flags_clear(&f);
    return 0;
  }
  char id[CONTAINER_ID_BUF];
  int ret = create_from_flags(ctx, &f, id, err);
  container_flags_clear(&f);
  if (ret < 0)
    return -EXIT_ENGINE;
  printf("%s\n", id);
  return 0;
}
