/* berth pull */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/berth/commands.h"
#include "engine/events.h"
#include "cmd/berth/progress.h"
#include "cmd/berth/registry_flags.h"
#include "image/reference.h"
#include "image/transfer.h"
#include "util/cleanup.h"

static const char usage_text[] = "pull [OPTIONS] NAME[:TAG|@DIGEST]";

int cmd_pull(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  enum { OPT_PLATFORM = 256 };
  static const struct option options[] = {{"quiet", no_argument, NULL, 'q'},
                                          {"platform", required_argument, NULL, OPT_PLATFORM},
                                          REGISTRY_FLAG_OPTIONS,
                                          {"all-tags", no_argument, NULL, 'a'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  struct registry_flags rf = {.tls_verify = true};
  const char *platform = NULL;
  bool quiet = false;
  int c;
  while ((c = getopt_long(argc, argv, "qah", options, NULL)) != -1) {
    switch (c) {
    case 'q':
      quiet = true;
      break;
    case OPT_PLATFORM:
      platform = optarg;
      break;
    case REGISTRY_OPT_TLS:
    case REGISTRY_OPT_AUTHFILE:
      if (registry_flag(&rf, c, optarg, err) < 0)
        return -1;
      break;
    case 'a':
      return berth_fail(err, 0, "pull --all-tags is not supported by berth");
    case 'h':
      printf("Usage:  berth %s\n\nDownload an image from a registry\n\nOptions:\n"
             "      --platform string   os/arch[/variant] (default the host's)\n"
             "  -q, --quiet             Suppress verbose output\n"
             "      --tls-verify[=bool] Verify TLS certificates (default true); false also allows plain http\n"
             "      --authfile string   Credentials file (default ~/.config/berth/auth.json, then ~/.docker/config.json)\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("pull", usage_text, err);
    }
  }
  if (argc - optind != 1)
    return cmd_usage_error("pull", usage_text, err);
  const char *name = argv[optind];
  struct image_ref ref;
  if (image_ref_parse(name, &ref, err) < 0)
    return -1;
  cleanup_free char *full = image_ref_string(&ref);
  bool default_tag = strchr(name, '@') == NULL && strcmp(image_ref_familiar(full), name) != 0 &&
                     strstr(name, ":" REFERENCE_DEFAULT_TAG) == NULL;
  if (!quiet) {
    if (default_tag && ref.digest == NULL && strrchr(name, ':') <= strrchr(name, '/'))
      printf("Using default tag: %s\n", REFERENCE_DEFAULT_TAG);
    printf("%s: Pulling from %s\n", ref.tag != NULL ? ref.tag : ref.digest, ref.path);
    fflush(stdout);
  }
  image_ref_free(&ref);
  struct store *s = context_store(ctx, err);
  if (s == NULL)
    return -1;
  struct registry_client *client = registry_flags_client(&rf, err);
  if (client == NULL)
    return -1;
  struct progress_view *view = progress_view_new(false, quiet);
  struct transfer_progress cb = progress_view_callbacks(view);
  struct pull_result result;
  int ret = image_pull(s, client, name, platform, &cb, &result, err);
  progress_view_free(view);
  registry_client_free(client);
  if (ret < 0)
    return -1;
  events_image(s->root, image_ref_familiar(full), image_ref_familiar(full), "pull");
  if (!quiet) {
    printf("Digest: %s\n", result.digest);
    printf("Status: %s for %s\n", result.downloaded ? "Downloaded newer image" : "Image is up to date",
           image_ref_familiar(full));
  }
  printf("%s\n", full);
  return 0;
}
