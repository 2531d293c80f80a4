#include "image/compose_image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/images.h"
#include "image/manifest.h"
#include "util/cleanup.h"
#include "util/json.h"

static struct json_object *get(struct json_object *o, const char *key) {
  struct json_object *v = NULL;
  return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* The new manifest is OCI: docker's layer types have OCI twins. */
static const char *oci_layer_type(const char *mt) {
  static const char *const map[][2] = {
      {MT_DOCKER_LAYER_GZIP, MT_OCI_LAYER_GZIP},
      {"application/vnd.docker.image.rootfs.diff.tar", MT_OCI_LAYER},
      {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
       "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(map); i++)
    if (strcmp(mt, map[i][0]) == 0)
      return map[i][1];
  return mt;
}

static void copy_member(struct json_object *to, struct json_object *from, const char *key) {
  struct json_object *v = get(from, key);
  if (v != NULL)
    json_object_object_add(to, key, json_object_get(v));
}

static void add_string(struct json_object *o, const char *key, const char *value) {
  if (value != NULL && *value != '\0')
    json_object_object_add(o, key, json_object_new_string(value));
}

/* docker's NewChildImage: the parent's platform, its rootfs and history
 * with the new layer (or an empty_layer entry) appended. */
static struct json_object *child_config(struct json_object *parent, struct image_compose *c, const char *diff_id) {
  struct json_object *o = json_object_new_object();
  copy_member(o, parent, "architecture");
  copy_member(o, parent, "variant");
  copy_member(o, parent, "os");
  copy_member(o, parent, "os.version");
  copy_member(o, parent, "os.features");
  json_object_object_add(o, "config", TAKE_PTR(c->config));
  add_string(o, "created", c->created);
  add_string(o, "author", c->author);
  /* docker keeps the message in the history only and shows the last
   * entry's in inspect; berth's inspect reads the top-level field */
  add_string(o, "comment", c->comment);
  if (c->extra != NULL) {
    json_object_object_foreach(c->extra, k, v) json_object_object_add(o, k, json_object_get(v));
  }
  struct json_object *rootfs = json_object_new_object(), *ids = json_object_new_array();
  struct json_object *parent_ids = get(get(parent, "rootfs"), "diff_ids");
  for (size_t i = 0; parent_ids != NULL && i < json_object_array_length(parent_ids); i++)
    json_object_array_add(ids, json_object_get(json_object_array_get_idx(parent_ids, i)));
  if (diff_id != NULL)
    json_object_array_add(ids, json_object_new_string(diff_id));
  json_object_object_add(rootfs, "type", json_object_new_string("layers"));
  json_object_object_add(rootfs, "diff_ids", ids);
  json_object_object_add(o, "rootfs", rootfs);
  struct json_object *history = json_object_new_array(), *parent_history = get(parent, "history");
  for (size_t i = 0; parent_history != NULL && i < json_object_array_length(parent_history); i++)
    json_object_array_add(history, json_object_get(json_object_array_get_idx(parent_history, i)));
  struct json_object *h = json_object_new_object();
  add_string(h, "created", c->created);
  add_string(h, "author", c->author);
  json_object_object_add(h, "created_by", json_object_new_string(c->created_by != NULL ? c->created_by : ""));
  add_string(h, "comment", c->comment);
  if (diff_id == NULL)
    json_object_object_add(h, "empty_layer", json_object_new_boolean(true));
  json_object_array_add(history, h);
  json_object_object_add(o, "history", history);
  return o;
}

static int compose(struct store *s, struct image_compose *c, char id[DIGEST_TEXT_MAX], berth_error **err) {
  struct image_record r;
  if (images_get(s, c->parent_id, &r, err) < 0)
    return -1;
  cleanup_free char *manifest_text = NULL, *parent_text = NULL;
  size_t len = 0, parent_len = 0;
  struct manifest m;
  int ret = images_manifest(s, &r, &manifest_text, &len, &m, err);
  image_record_free(&r);
  if (ret < 0)
    return -1;
  ret = -1;
  cleanup_json struct json_object *parent = NULL, *config = NULL;
  cleanup_free struct descriptor *layers = calloc(m.n_layers + 1, sizeof(*layers));
  cleanup_free char *manifest = NULL;
  if (layers == NULL) {
    berth_fail(err, ENOMEM, "image");
    goto out;
  }
  parent_text = store_blob_read(s, m.config.digest, MANIFEST_MAX_SIZE, &parent_len, err);
  if (parent_text == NULL || (parent = json_parse_text(parent_text, parent_len, m.config.digest, err)) == NULL)
    goto out;
  /* shared until the image is recorded: gc must not take the new blobs */
  if (store_hold(s, false, err) < 0)
    goto out;
  for (size_t i = 0; i < m.n_layers; i++) {
    layers[i] = m.layers[i];
    layers[i].media_type = (char *)oci_layer_type(m.layers[i].media_type);
  }
  size_t n = m.n_layers;
  if (c->layer_fd >= 0) {
    /* stored uncompressed: its digest is also its diff_id */
    layers[n].media_type = (char *)MT_OCI_LAYER;
    if (lseek(c->layer_fd, 0, SEEK_SET) < 0) {
      berth_fail(err, errno, "layer");
      goto out;
    }
    if (store_blob_put_fd(s, c->layer_fd, NULL, layers[n].digest, &layers[n].size, err) < 0) {
      berth_error_wrap(err, "layer");
      goto out;
    }
    n++;
  }
  config = child_config(parent, c, c->layer_fd >= 0 ? layers[n - 1].digest : NULL);
  const char *text = json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  struct descriptor config_desc = {.media_type = (char *)MT_OCI_CONFIG, .size = strlen(text)};
  if (store_blob_put_bytes(s, text, config_desc.size, NULL, config_desc.digest, err) < 0)
    goto out;
  manifest = manifest_write_oci(&config_desc, layers, n);
  if (manifest == NULL) {
    berth_fail(err, ENOMEM, "image manifest");
    goto out;
  }
  const char *tags[] = {c->tag, NULL};
  struct image_add add = {.manifest = manifest, .manifest_len = strlen(manifest), .tags = tags};
  if (store_blob_put_bytes(s, manifest, add.manifest_len, NULL, NULL, err) < 0 || images_add(s, &add, err) < 0)
    goto out;
  memcpy(id, add.id, DIGEST_TEXT_MAX);
  ret = 0;
out:
  manifest_free(&m);
  return ret;
}

int images_compose(struct store *s, struct image_compose *c, char id[DIGEST_TEXT_MAX], berth_error **err) {
  int ret = compose(s, c, id, err);
  json_object_put(c->config);
  c->config = NULL;
  json_object_put(c->extra);
  c->extra = NULL;
  if (ret < 0)
    images_discard_new(s);
  return ret;
}
