/* berth image inspect: docker's JSON field names. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/berth/commands.h"
#include "cmd/berth/template.h"
#include "image/builtin.h"
#include "image/images.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "util/cleanup.h"
#include "util/json.h"

static const char usage_text[] = "image inspect [OPTIONS] IMAGE [IMAGE...]";

static struct json_object *string_array(char **v, size_t n, bool familiar) {
  struct json_object *a = json_object_new_array();
  for (size_t i = 0; i < n; i++)
    json_object_array_add(a, json_object_new_string(familiar ? image_ref_familiar(v[i]) : v[i]));
  return a;
}

static struct json_object *copy_field(struct json_object *from, const char *key) {
  struct json_object *v = NULL;
  if (from == NULL || !json_object_object_get_ex(from, key, &v))
    return NULL;
  struct json_object *copy = NULL;
  json_object_deep_copy(v, &copy, NULL);
  return copy;
}

static struct json_object *string_or_empty(struct json_object *from, const char *key) {
  struct json_object *v = copy_field(from, key);
  return v != NULL ? v : json_object_new_string("");
}

/* docker's ImageInspect from the stored record and the image config. */
static struct json_object *inspect_one(struct store *s, const char *id, berth_error **err) {
  struct image_record r;
  if (images_get(s, id, &r, err) < 0)
    return NULL;
  size_t len = 0;
  cleanup_free char *config_text = store_blob_read(s, r.id, MANIFEST_MAX_SIZE, &len, err);
  cleanup_json struct json_object *config = config_text != NULL ? json_parse_text(config_text, len, r.id, err) : NULL;
  if (config == NULL) {
    image_record_free(&r);
    return NULL;
  }
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "Id", json_object_new_string(r.id));
  json_object_object_add(o, "RepoTags", string_array(r.tags, r.n_tags, true));
  json_object_object_add(o, "RepoDigests", string_array(r.repo_digests, r.n_repo_digests, true));
  json_object_object_add(o, "Parent", json_object_new_string(""));
  json_object_object_add(o, "Comment", string_or_empty(config, "comment"));
  json_object_object_add(o, "Created", string_or_empty(config, "created"));
  json_object_object_add(o, "DockerVersion", string_or_empty(config, "docker_version"));
  json_object_object_add(o, "Author", string_or_empty(config, "author"));
  struct json_object *cfg = copy_field(config, "config");
  json_object_object_add(o, "Config", cfg != NULL ? cfg : json_object_new_object());
  json_object_object_add(o, "Architecture", string_or_empty(config, "architecture"));
  struct json_object *variant = copy_field(config, "variant");
  if (variant != NULL)
    json_object_object_add(o, "Variant", variant);
  json_object_object_add(o, "Os", string_or_empty(config, "os"));
  json_object_object_add(o, "Size", json_object_new_int64(r.size));
  /* The layer directories, as docker's overlay2 GraphDriver data. */
  struct json_object *graph = json_object_new_object();
  struct json_object *data = json_object_new_object();
  size_t cap = 1;
  for (size_t i = 0; i < r.n_layers; i++)
    cap += strlen(s->root) + 80;
  cleanup_free char *lower = calloc(1, cap);
  for (size_t i = r.n_layers; lower != NULL && i-- > 0;) {
    cleanup_free char *path = images_layer_path(s, r.chain_ids[i]);
    if (path != NULL) {
      if (lower[0] != '\0')
        strcat(lower, ":");
      strcat(lower, path);
    }
  }
  json_object_object_add(data, "LowerDir", json_object_new_string(lower != NULL ? lower : ""));
  json_object_object_add(graph, "Data", data);
  json_object_object_add(graph, "Name", json_object_new_string("overlay"));
  json_object_object_add(o, "GraphDriver", graph);
  struct json_object *rootfs = json_object_new_object();
  json_object_object_add(rootfs, "Type", json_object_new_string("layers"));
  struct json_object *cfg_rootfs = NULL;
  struct json_object *diff_ids = NULL;
  if (json_object_object_get_ex(config, "rootfs", &cfg_rootfs))
    diff_ids = copy_field(cfg_rootfs, "diff_ids");
  json_object_object_add(rootfs, "Layers", diff_ids != NULL ? diff_ids : json_object_new_array());
  json_object_object_add(o, "RootFS", rootfs);
  struct json_object *meta = json_object_new_object();
  json_object_object_add(meta, "LastTagTime", json_object_new_string("0001-01-01T00:00:00Z"));
  json_object_object_add(o, "Metadata", meta);
  image_record_free(&r);
  return o;
}

struct json_object *image_inspect_object(struct store *s, const char *name, berth_error **err) {
  char id[DIGEST_TEXT_MAX];
  return images_find(s, name, id, err) < 0 ? NULL : inspect_one(s, id, err);
}

int cmd_image_inspect(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"format", required_argument, NULL, 'f'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  const char *format = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "f:h", options, NULL)) != -1) {
    switch (c) {
    case 'f':
      format = optarg;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nDisplay detailed information on one or more images\n\nOptions:\n"
             "  -f, --format string   Format output using a template ({{.Field}}, {{json .Field}}) or \"json\"\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("image inspect", usage_text, err);
    }
  }
  if (optind >= argc)
    return cmd_usage_error("image inspect", usage_text, err);
  struct store *s = context_store(ctx, err);
  if (s == NULL)
    return -1;
  cleanup_json struct json_object *all = json_object_new_array();
  int status = 0;
  for (int i = optind; i < argc; i++) {
    char id[DIGEST_TEXT_MAX];
    berth_error *one = NULL;
    struct json_object *o = NULL;
    if (images_find(s, argv[i], id, &one) < 0 || (o = inspect_one(s, id, &one)) == NULL) {
      fprintf(stderr, "Error: %s\n", one->msg);
      berth_error_free(one);
      status = 1;
      continue;
    }
    json_object_array_add(all, o);
  }
  return template_print_inspect(stdout, format, all, err) < 0 ? -1 : status;
}
