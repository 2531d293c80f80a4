/* berth push */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/berth/commands.h"
#include "engine/events.h"
#include "cmd/berth/progress.h"
#include "cmd/berth/registry_flags.h"
#include "image/reference.h"
#include "image/transfer.h"
#include "util/cleanup.h"

static const char usage_text[] = "push [OPTIONS] NAME[:TAG]";

int cmd_push(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
    static const struct option options[] = {{"quiet", no_argument, NULL, 'q'},
                                          REGISTRY_FLAG_OPTIONS,
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  struct registry_flags rf = {.tls_verify = true};
  bool quiet = false;
  int c;
  while ((c = getopt_long(argc, argv, "qh", options, NULL)) != -1) {
    switch (c) {
    case 'q':
      quiet = true;
      break;
    case REGISTRY_OPT_TLS:
    case REGISTRY_OPT_AUTHFILE:
      if (registry_flag(&rf, c, optarg, err) < 0)
        return -1;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nUpload an image to a registry\n\nOptions:\n"
             "  -q, --quiet             Suppress verbose output\n"
             "      --tls-verify[=bool] Verify TLS certificates (default true); false also allows plain http\n"
             "      --authfile string   Credentials file\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("push", usage_text, err);
    }
  }
  if (argc - optind != 1)
    return cmd_usage_error("push", usage_text, err);
  const char *name = argv[optind];
  struct image_ref ref;
  if (image_ref_parse(name, &ref, err) < 0)
    return -1;
  cleanup_free char *repository = image_ref_repository(&ref);
  cleanup_free char *tag = ref.tag != NULL ? strdup(ref.tag) : NULL;
  image_ref_free(&ref);
  if (!quiet)
    printf("The push refers to repository [%s]\n", image_ref_familiar(repository));
  struct store *s = context_store(ctx, err);
  if (s == NULL)
    return -1;
  struct registry_client *client = registry_flags_client(&rf, err);
  if (client == NULL)
    return -1;
  struct progress_view *view = progress_view_new(true, quiet);
  struct transfer_progress cb = progress_view_callbacks(view);
  char digest[DIGEST_TEXT_MAX];
  uint64_t size = 0;
  int ret = image_push(s, client, name, &cb, digest, &size, err);
  progress_view_free(view);
  registry_client_free(client);
  if (ret < 0)
    return -1;
  events_image(s->root, name, name, "push");
  if (!quiet)
    printf("%s: digest: %s size: %" PRIu64 "\n", tag != NULL ? tag : "", digest, size);
  else
    printf("%s@%s\n", image_ref_familiar(repository), digest);
  return 0;
}
