#include "image/manifest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "util/cleanup.h"
#include "util/json.h"

bool media_type_is_index(const char *mt) {
  return mt != NULL && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0);
}

bool media_type_is_manifest(const char *mt) {
  return mt != NULL && (strcmp(mt, MT_OCI_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0);
}

bool media_type_is_layer(const char *mt) {
  static const char *const known[] = {
      MT_OCI_LAYER, MT_OCI_LAYER_GZIP, MT_OCI_LAYER_ZSTD, MT_DOCKER_LAYER_GZIP,
      "application/vnd.oci.image.layer.nondistributable.v1.tar",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  };
  for (size_t i = 0; mt != NULL && i < sizeof(known) / sizeof(known[0]); i++)
    if (strcmp(mt, known[i]) == 0)
      return true;
  return false;
}

void descriptor_free(struct descriptor *d) {
  free(d->media_type);
  free(d->os);
  free(d->architecture);
  free(d->variant);
  free(d->ref_name);
  memset(d, 0, sizeof(*d));
}

static char *dup_or_null(const char *s) {
  return s != NULL ? strdup(s) : NULL;
}

static int parse_descriptor(const struct json_ctx *parent, struct json_object *o, const char *key,
                            struct descriptor *d, berth_error **err) {
  struct json_ctx ctx = {.origin = parent->origin, .path = key};
  const char *mt = NULL, *digest = NULL;
  if (!json_object_is_type(o, json_type_object))
    return json_fail_err(err, parent, key, "expected an object, got %s", json_type_phrase(o));
  if (json_get_string(&ctx, o, "mediaType", &mt, err) < 0 || json_get_string(&ctx, o, "digest", &digest, err) < 0 ||
      json_get_uint64(&ctx, o, "size", &d->size, err) < 0)
    return -1;
  if (digest == NULL || !digest_valid(digest))
    return json_fail_err(err, &ctx, "digest", digest == NULL ? "missing" : "\"%s\" is not a sha256 digest",
                         digest);
  memcpy(d->digest, digest, strlen(digest) + 1);
  d->media_type = dup_or_null(mt);
  struct json_object *platform = NULL, *annotations = NULL;
  if (json_get_object(&ctx, o, "platform", &platform, err) < 0 ||
      json_get_object(&ctx, o, "annotations", &annotations, err) < 0)
    return -1;
  if (platform != NULL) {
    struct json_ctx pctx = {.origin = parent->origin, .path = "platform"};
    const char *os = NULL, *arch = NULL, *variant = NULL;
    if (json_get_string(&pctx, platform, "os", &os, err) < 0 ||
        json_get_string(&pctx, platform, "architecture", &arch, err) < 0 ||
        json_get_string(&pctx, platform, "variant", &variant, err) < 0)
      return -1;
    d->os = dup_or_null(os);
    d->architecture = dup_or_null(arch);
    d->variant = dup_or_null(variant);
  }
  if (annotations != NULL) {
    const char *name = NULL;
    if (json_get_string(&ctx, annotations, "org.opencontainers.image.ref.name", &name, err) < 0)
      return -1;
    d->ref_name = dup_or_null(name);
  }
  return 0;
}

char *manifest_sniff_media_type(const char *text, size_t len) {
  cleanup_json struct json_object *o = json_parse_text(text, len, "manifest", NULL);
  if (o == NULL || !json_object_is_type(o, json_type_object))
    return NULL;
  struct json_object *v = NULL;
  if (json_object_object_get_ex(o, "mediaType", &v) && json_object_is_type(v, json_type_string))
    return strdup(json_object_get_string(v));
  if (json_object_object_get_ex(o, "manifests", &v))
    return strdup(MT_OCI_INDEX);
  if (json_object_object_get_ex(o, "config", &v) && json_object_object_get_ex(o, "layers", &v))
    return strdup(MT_OCI_MANIFEST);
  return NULL;
}

static int check_schema_version(const struct json_ctx *ctx, struct json_object *o, berth_error **err) {
  int64_t version = 0;
  if (json_get_int64(ctx, o, "schemaVersion", &version, err) < 0)
    return -1;
  if (version != 2)
    return json_fail_err(err, ctx, "schemaVersion", "%lld is not supported (2 is)", (long long)version);
  return 0;
}

int manifest_parse(const char *text, size_t len, const char *origin, struct manifest *m, berth_error **err) {
  memset(m, 0, sizeof(*m));
  cleanup_json struct json_object *o = json_parse_text(text, len, origin, err);
  if (o == NULL)
    return -1;
  struct json_ctx ctx = {.origin = origin, .path = ""};
  const char *mt = NULL;
  struct json_object *config = NULL, *layers = NULL;
  if (!json_object_is_type(o, json_type_object))
    return berth_fail(err, 0, "%s: expected an object", origin);
  if (check_schema_version(&ctx, o, err) < 0 || json_get_string(&ctx, o, "mediaType", &mt, err) < 0 ||
      json_get_object(&ctx, o, "config", &config, err) < 0 || json_get_array(&ctx, o, "layers", &layers, err) < 0)
    return -1;
  if (mt != NULL && !media_type_is_manifest(mt))
    return json_fail_err(err, &ctx, "mediaType", "\"%s\" is not an image manifest", mt);
  if (config == NULL || layers == NULL)
    return berth_fail(err, 0, "%s: an image manifest needs config and layers", origin);
  m->media_type = strdup(mt != NULL ? mt : MT_OCI_MANIFEST);
  if (parse_descriptor(&ctx, config, "config", &m->config, err) < 0)
    goto fail;
  m->n_layers = json_object_array_length(layers);
  m->layers = calloc(m->n_layers + 1, sizeof(*m->layers));
  if (m->layers == NULL) {
    berth_fail(err, ENOMEM, "%s", origin);
    goto fail;
  }
  for (size_t i = 0; i < m->n_layers; i++) {
    if (parse_descriptor(&ctx, json_object_array_get_idx(layers, i), "layers", &m->layers[i], err) < 0)
      goto fail;
    if (!media_type_is_layer(m->layers[i].media_type)) {
      berth_fail(err, 0, "%s: layer %s: media type \"%s\" is not a layer berth can unpack", origin,
                 m->layers[i].digest, m->layers[i].media_type != NULL ? m->layers[i].media_type : "");
      goto fail;
    }
  }
  return 0;
fail:
  manifest_free(m);
  return -1;
}

void manifest_free(struct manifest *m) {
  free(m->media_type);
  descriptor_free(&m->config);
  for (size_t i = 0; m->layers != NULL && i < m->n_layers; i++)
    descriptor_free(&m->layers[i]);
  free(m->layers);
  memset(m, 0, sizeof(*m));
}

int index_parse(const char *text, size_t len, const char *origin, struct image_index *idx, berth_error **err) {
  memset(idx, 0, sizeof(*idx));
  cleanup_json struct json_object *o = json_parse_text(text, len, origin, err);
  if (o == NULL)
    return -1;
  struct json_ctx ctx = {.origin = origin, .path = ""};
  const char *mt = NULL;
  struct json_object *manifests = NULL;
  if (!json_object_is_type(o, json_type_object))
    return berth_fail(err, 0, "%s: expected an object", origin);
  if (check_schema_version(&ctx, o, err) < 0 || json_get_string(&ctx, o, "mediaType", &mt, err) < 0 ||
      json_get_array(&ctx, o, "manifests", &manifests, err) < 0)
    return -1;
  if (mt != NULL && !media_type_is_index(mt))
    return json_fail_err(err, &ctx, "mediaType", "\"%s\" is not an image index", mt);
  if (manifests == NULL)
    return berth_fail(err, 0, "%s: an image index needs manifests", origin);
  idx->media_type = strdup(mt != NULL ? mt : MT_OCI_INDEX);
  idx->n_manifests = json_object_array_length(manifests);
  idx->manifests = calloc(idx->n_manifests + 1, sizeof(*idx->manifests));
  for (size_t i = 0; idx->manifests != NULL && i < idx->n_manifests; i++)
    if (parse_descriptor(&ctx, json_object_array_get_idx(manifests, i), "manifests", &idx->manifests[i], err) < 0) {
      index_free(idx);
      return -1;
    }
  return 0;
}

void index_free(struct image_index *idx) {
  for (size_t i = 0; idx->manifests != NULL && i < idx->n_manifests; i++)
    descriptor_free(&idx->manifests[i]);
  free(idx->manifests);
  free(idx->media_type);
  memset(idx, 0, sizeof(*idx));
}

static bool same(const char *a, const char *b) {
  return a != NULL && b != NULL && strcmp(a, b) == 0;
}

const struct descriptor *index_select(const struct image_index *idx, const char *os, const char *arch,
                                      const char *variant, berth_error **err) {
  const struct descriptor *fallback = NULL;
  for (size_t i = 0; i < idx->n_manifests; i++) {
    const struct descriptor *d = &idx->manifests[i];
    if (!media_type_is_manifest(d->media_type) || !same(d->os, os) || !same(d->architecture, arch))
      continue;
    if (variant == NULL || same(d->variant, variant))
      return d;
    if (d->variant == NULL && fallback == NULL)
      fallback = d;
  }
  if (fallback != NULL)
    return fallback;
  char offered[512] = "";
  size_t used = 0;
  for (size_t i = 0; i < idx->n_manifests && used < sizeof(offered) - 1; i++) {
    const struct descriptor *d = &idx->manifests[i];
    if (d->os == NULL || d->architecture == NULL)
      continue;
    int n = snprintf(offered + used, sizeof(offered) - used, "%s%s/%s%s%s", used > 0 ? ", " : "", d->os,
                     d->architecture, d->variant != NULL ? "/" : "", d->variant != NULL ? d->variant : "");
    if (n < 0)
      break;
    used += (size_t)n < sizeof(offered) - used ? (size_t)n : sizeof(offered) - used - 1;
  }
  berth_fail(err, 0, "no image for platform %s/%s%s%s (the index has: %s)", os, arch, variant != NULL ? "/" : "",
             variant != NULL ? variant : "", used > 0 ? offered : "nothing");
  return NULL;
}

int image_config_parse(const char *text, size_t len, const char *origin, struct image_config *c, berth_error **err) {
  memset(c, 0, sizeof(*c));
  cleanup_json struct json_object *o = json_parse_text(text, len, origin, err);
  if (o == NULL)
    return -1;
  struct json_ctx ctx = {.origin = origin, .path = ""};
  const char *created = NULL, *arch = NULL, *os = NULL, *variant = NULL, *type = NULL;
  struct json_object *rootfs = NULL;
  if (!json_object_is_type(o, json_type_object))
    return berth_fail(err, 0, "%s: expected an object", origin);
  if (json_get_string(&ctx, o, "created", &created, err) < 0 ||
      json_get_string(&ctx, o, "architecture", &arch, err) < 0 || json_get_string(&ctx, o, "os", &os, err) < 0 ||
      json_get_string(&ctx, o, "variant", &variant, err) < 0 || json_get_object(&ctx, o, "rootfs", &rootfs, err) < 0)
    return -1;
  if (rootfs == NULL)
    return berth_fail(err, 0, "%s: rootfs is missing", origin);
  struct json_ctx rctx = {.origin = origin, .path = "rootfs"};
  if (json_get_string(&rctx, rootfs, "type", &type, err) < 0 ||
      json_get_strv(&rctx, rootfs, "diff_ids", &c->diff_ids, &c->n_diff_ids, err) < 0)
    goto fail;
  if (type == NULL || strcmp(type, "layers") != 0) {
    json_fail_err(err, &rctx, "type", "must be \"layers\"");
    goto fail;
  }
  for (size_t i = 0; i < c->n_diff_ids; i++)
    if (!digest_valid(c->diff_ids[i])) {
      json_fail_err(err, &rctx, "diff_ids", "\"%s\" is not a sha256 digest", c->diff_ids[i]);
      goto fail;
    }
  c->created = dup_or_null(created);
  c->architecture = dup_or_null(arch);
  c->os = dup_or_null(os);
  c->variant = dup_or_null(variant);
  return 0;
fail:
  image_config_free(c);
  return -1;
}

void image_config_free(struct image_config *c) {
  free(c->created);
  free(c->architecture);
  free(c->os);
  free(c->variant);
  for (size_t i = 0; c->diff_ids != NULL && i < c->n_diff_ids; i++)
    free(c->diff_ids[i]);
  free(c->diff_ids);
  memset(c, 0, sizeof(*c));
}

struct json_object *descriptor_to_json(const struct descriptor *d) {
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "mediaType", json_object_new_string(d->media_type));
  json_object_object_add(o, "digest", json_object_new_string(d->digest));
  json_object_object_add(o, "size", json_object_new_int64((int64_t)d->size));
  return o;
}

char *manifest_write_oci(const struct descriptor *config, const struct descriptor *layers, size_t n_layers) {
  cleanup_json struct json_object *o = json_object_new_object();
  json_object_object_add(o, "schemaVersion", json_object_new_int(2));
  json_object_object_add(o, "mediaType", json_object_new_string(MT_OCI_MANIFEST));
  json_object_object_add(o, "config", descriptor_to_json(config));
  struct json_object *arr = json_object_new_array();
  for (size_t i = 0; i < n_layers; i++)
    json_object_array_add(arr, descriptor_to_json(&layers[i]));
  json_object_object_add(o, "layers", arr);
  return strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

void platform_default(const char **os, const char **arch, const char **variant) {
  *os = "linux";
  *variant = NULL;
#if defined(__x86_64__)
  *arch = "amd64";
#elif defined(__aarch64__)
  *arch = "arm64";
  *variant = "v8";
#elif defined(__i386__)
  *arch = "386";
#else
  *arch = "unknown";
#endif
}

int platform_parse(char *buf, const char **os, const char **arch, const char **variant, berth_error **err) {
  char *save = NULL;
  char text[256];
  snprintf(text, sizeof(text), "%s", buf);
  *os = strtok_r(buf, "/", &save);
  *arch = strtok_r(NULL, "/", &save);
  *variant = strtok_r(NULL, "/", &save);
  if (*os == NULL || *arch == NULL || strtok_r(NULL, "/", &save) != NULL)
    return berth_fail(err, 0, "invalid platform \"%s\": expected os/arch[/variant]", text);
  return 0;
}
