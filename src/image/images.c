#include "image/images.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/db.h"
#include "image/reference.h"
#include "storage/layer_unpack.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"

static char *col_dup(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return strdup(t != NULL ? (const char *)t : "");
}

char *images_layer_path(struct store *s, const char *chain_id) {
  char *p = NULL;
  return asprintf(&p, "%s/layers/%s", s->root, digest_hex(chain_id)) < 0 ? NULL : p;
}

/* chain(0) = diff(0); chain(n) = sha256(chain(n-1) + " " + diff(n)) */
void images_chain_id(const char *parent, const char *diff_id, char out[DIGEST_TEXT_MAX]) {
  if (parent == NULL) {
    memcpy(out, diff_id, DIGEST_TEXT_MAX);
    return;
  }
  char buf[2 * DIGEST_TEXT_MAX + 2];
  int n = snprintf(buf, sizeof(buf), "%s %s", parent, diff_id);
  digest_bytes(buf, (size_t)n, out);
}

/* A layer directory only ever appears complete (renamed into place). */
static bool layer_present(struct store *s, const char *chain_id) {
  return faccessat(s->layersfd, digest_hex(chain_id), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Unpacks a layer blob into tmp/, checks its diff_id, and renames it to
 * layers/HEX; another process that got there first wins, ours is dropped. */
static int unpack_layer(struct store *s, const struct descriptor *blob, const char *diff_id, const char *chain_id,
                        int64_t *size, berth_error **err) {
  char tmpname[] = "layer-XXXXXX";
  cleanup_free char *tmp_abs = NULL;
  if (asprintf(&tmp_abs, "%s/tmp/%s", s->root, tmpname) < 0 || mkdtemp(tmp_abs) == NULL)
    return berth_fail(err, errno, "layer %s: temporary directory", blob->digest);
  const char *tmp_rel = strrchr(tmp_abs, '/') + 1;
  int ret = -1;
  cleanup_close int in = store_blob_open(s, blob->digest, err);
  cleanup_close int dir = open(tmp_abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct layer_unpack_result res;
  if (in < 0)
    goto out;
  if (dir < 0) {
    berth_fail(err, errno, "layer %s: open \"%s\"", blob->digest, tmp_abs);
    goto out;
  }
  if (layer_unpack(in, dir, &res, err) < 0) {
    berth_error_wrap(err, "layer %s", blob->digest);
    goto out;
  }
  if (strcmp(res.digest, blob->digest) != 0) {
    berth_fail(err, 0, "layer %s: digest mismatch (content is %s)", blob->digest, res.digest);
    goto out;
  }
  if (strcmp(res.diff_id, diff_id) != 0) {
    berth_fail(err, 0, "layer %s: uncompressed content is %s, the image config says %s", blob->digest, res.diff_id,
               diff_id);
    goto out;
  }
  /* Layers are read-only lowerdirs from now on. */
  if (fsync(dir) < 0 || chmod(tmp_abs, 0755) < 0) {
    berth_fail(err, errno, "layer %s", blob->digest);
    goto out;
  }
  if (renameat(s->tmpfd, tmp_rel, s->layersfd, digest_hex(chain_id)) < 0) {
    if (errno != EEXIST && errno != ENOTEMPTY) {
      berth_fail(err, errno, "layer %s: store", blob->digest);
      goto out;
    }
  } else {
    tmp_rel = NULL;
    store_note_layer(s, chain_id);
  }
  *size = (int64_t)res.unpacked_size;
  ret = 0;
out:
  if (tmp_rel != NULL) {
    berth_error *rm_err = NULL;
    if (fs_remove_tree_at(s->tmpfd, tmp_rel, &rm_err) < 0)
      berth_error_free(rm_err);
  }
  return ret;
}

int images_unpack_layer(struct store *s, const struct descriptor *blob, const char *diff_id, const char *chain_id,
                        int64_t *size, berth_error **err) {
  *size = 0;
  if (layer_present(s, chain_id))
    return 0;
  return unpack_layer(s, blob, diff_id, chain_id, size, err);
}

/* The recorded size, or the one the caller measured, or -1. */
static int64_t layer_size(struct store *s, const char *chain_id) {
  cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(s->db, "SELECT size FROM layers WHERE chain_id = ?", NULL);
  if (st == NULL)
    return -1;
  sqlite3_bind_text(st, 1, chain_id, -1, SQLITE_STATIC);
  return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
}

struct planned_layer {
  char chain_id[DIGEST_TEXT_MAX];
  int64_t size;
  bool is_new;
};

static int record_image(struct store *s, const struct image_add *add, const char *manifest_digest,
                        const struct manifest *m, const struct image_config *c, struct planned_layer *layers,
                        int64_t total, berth_error **err) {
  if (db_begin(s->db, err) < 0)
    return -1;
  for (size_t i = 0; i < m->n_layers; i++) {
    cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(
        s->db,
        "INSERT OR IGNORE INTO layers (chain_id, diff_id, parent, blob_digest, blob_media_type, blob_size, size) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        err);
    if (st == NULL)
      goto fail;
    sqlite3_bind_text(st, 1, layers[i].chain_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->diff_ids[i], -1, SQLITE_STATIC);
    if (i > 0)
      sqlite3_bind_text(st, 3, layers[i - 1].chain_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, m->layers[i].digest, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, m->layers[i].media_type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (int64_t)m->layers[i].size);
    sqlite3_bind_int64(st, 7, layers[i].size);
    if (sqlite3_step(st) != SQLITE_DONE) {
      db_fail(s->db, err, "record layer");
      goto fail;
    }
  }
  {
    cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(
        s->db,
        "INSERT INTO images (id, manifest_digest, manifest_media_type, created, architecture, os, size, added) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest, "
        "manifest_media_type = excluded.manifest_media_type",
        err);
    if (st == NULL)
      goto fail;
    sqlite3_bind_text(st, 1, m->config.digest, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, manifest_digest, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->media_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->created != NULL ? c->created : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, c->architecture != NULL ? c->architecture : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, c->os != NULL ? c->os : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, total);
    sqlite3_bind_int64(st, 8, (int64_t)time(NULL));
    if (sqlite3_step(st) != SQLITE_DONE) {
      db_fail(s->db, err, "record image");
      goto fail;
    }
  }
  for (size_t i = 0; i < m->n_layers; i++) {
    cleanup_sqlite_stmt sqlite3_stmt *st =
        db_prepare(s->db, "INSERT OR REPLACE INTO image_layers (image_id, position, chain_id) VALUES (?, ?, ?)", err);
    if (st == NULL)
      goto fail;
    sqlite3_bind_text(st, 1, m->config.digest, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)i);
    sqlite3_bind_text(st, 3, layers[i].chain_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
      db_fail(s->db, err, "record image layers");
      goto fail;
    }
  }
  if (db_exec_text(s->db, err, "INSERT OR IGNORE INTO image_blobs (image_id, digest) VALUES (?, ?)", m->config.digest,
                   m->config.digest, NULL) < 0)
    goto fail;
  for (size_t i = 0; i < m->n_layers; i++)
    if (db_exec_text(s->db, err, "INSERT OR IGNORE INTO image_blobs (image_id, digest) VALUES (?, ?)",
                     m->config.digest, m->layers[i].digest, NULL) < 0)
      goto fail;
  for (size_t i = 0; add->tags != NULL && add->tags[i] != NULL; i++)
    if (db_exec_text(s->db, err, "INSERT OR REPLACE INTO tags (name, image_id) VALUES (?, ?)", add->tags[i],
                     m->config.digest, NULL) < 0)
      goto fail;
  if (add->repo_digest != NULL &&
      db_exec_text(s->db, err, "INSERT OR IGNORE INTO repo_digests (name, image_id) VALUES (?, ?)", add->repo_digest,
                   m->config.digest, NULL) < 0)
    goto fail;
  return db_commit(s->db, err);
fail:
  db_rollback(s->db);
  return -1;
}

int images_add(struct store *s, struct image_add *add, berth_error **err) {
  char manifest_digest[DIGEST_TEXT_MAX];
  digest_bytes(add->manifest, add->manifest_len, manifest_digest);
  struct manifest m;
  if (manifest_parse(add->manifest, add->manifest_len, "manifest", &m, err) < 0)
    return -1;
  struct image_config c = {0};
  cleanup_free struct planned_layer *layers = NULL;
  size_t len = 0;
  int ret = -1;
  cleanup_free char *config = store_blob_read(s, m.config.digest, MANIFEST_MAX_SIZE, &len, err);
  if (config == NULL || image_config_parse(config, len, "image config", &c, err) < 0)
    goto out;
  if (c.n_diff_ids != m.n_layers) {
    berth_fail(err, 0, "image %s: the manifest has %zu layers, the config %zu diff_ids", m.config.digest, m.n_layers,
               c.n_diff_ids);
    goto out;
  }
  layers = calloc(m.n_layers + 1, sizeof(*layers));
  if (layers == NULL) {
    berth_fail(err, ENOMEM, "image");
    goto out;
  }
  int64_t total = 0;
  for (size_t i = 0; i < m.n_layers; i++) {
    images_chain_id(i > 0 ? layers[i - 1].chain_id : NULL, c.diff_ids[i], layers[i].chain_id);
    if (layer_present(s, layers[i].chain_id)) {
      layers[i].size = layer_size(s, layers[i].chain_id);
      if (layers[i].size < 0)
        layers[i].size = add->layer_sizes != NULL ? add->layer_sizes[i] : 0;
    } else if (unpack_layer(s, &m.layers[i], c.diff_ids[i], layers[i].chain_id, &layers[i].size, err) < 0) {
      goto out;
    }
    total += layers[i].size;
  }
  if (record_image(s, add, manifest_digest, &m, &c, layers, total, err) < 0)
    goto out;
  memcpy(add->id, m.config.digest, DIGEST_TEXT_MAX);
  ret = 0;
out:
  image_config_free(&c);
  manifest_free(&m);
  return ret;
}

int images_add_single_layer(struct store *s, int layer_fd, const struct single_layer_image *spec,
                            char id[DIGEST_TEXT_MAX], berth_error **err) {
  cleanup_json struct json_object *config = json_object_new_object();
  struct descriptor layer = {.media_type = (char *)MT_OCI_LAYER};
  json_object_object_add(config, "config", spec->config); /* owned from here */
  if (lseek(layer_fd, 0, SEEK_SET) < 0)
    return berth_fail(err, errno, "layer");
  if (store_hold(s, false, err) < 0 || store_blob_put_fd(s, layer_fd, NULL, layer.digest, &layer.size, err) < 0)
    return berth_error_wrap(err, "layer");
  const char *os, *arch, *variant;
  platform_default(&os, &arch, &variant);
  json_object_object_add(config, "architecture", json_object_new_string(arch));
  if (variant != NULL)
    json_object_object_add(config, "variant", json_object_new_string(variant));
  json_object_object_add(config, "os", json_object_new_string(os));
  json_object_object_add(config, "created", json_object_new_string(spec->created));
  if (spec->comment != NULL)
    json_object_object_add(config, "comment", json_object_new_string(spec->comment));
  struct json_object *rootfs = json_object_new_object();
  json_object_object_add(rootfs, "type", json_object_new_string("layers"));
  struct json_object *ids = json_object_new_array();
  json_object_array_add(ids, json_object_new_string(layer.digest));
  json_object_object_add(rootfs, "diff_ids", ids);
  json_object_object_add(config, "rootfs", rootfs);
  struct json_object *history = json_object_new_array();
  struct json_object *h = json_object_new_object();
  json_object_object_add(h, "created", json_object_new_string(spec->created));
  json_object_object_add(h, "created_by", json_object_new_string(spec->created_by));
  if (spec->comment != NULL)
    json_object_object_add(h, "comment", json_object_new_string(spec->comment));
  json_object_array_add(history, h);
  json_object_object_add(config, "history", history);
  const char *text = json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  struct descriptor config_desc = {.media_type = (char *)MT_OCI_CONFIG, .size = strlen(text)};
  if (store_blob_put_bytes(s, text, config_desc.size, NULL, config_desc.digest, err) < 0)
    return -1;
  cleanup_free char *manifest = manifest_write_oci(&config_desc, &layer, 1);
  if (manifest == NULL)
    return berth_fail(err, ENOMEM, "image manifest");
  const char *tags[] = {spec->tag, NULL};
  struct image_add add = {.manifest = manifest, .manifest_len = strlen(manifest), .tags = tags};
  if (store_blob_put_bytes(s, manifest, add.manifest_len, NULL, NULL, err) < 0 || images_add(s, &add, err) < 0)
    return -1;
  memcpy(id, add.id, DIGEST_TEXT_MAX);
  return 0;
}

/* "sha256:abcd..." or "abcd..." of at least 4 hex digits. */
static bool looks_like_id(const char *name, const char **hex) {
  const char *h = strncmp(name, "sha256:", 7) == 0 ? name + 7 : name;
  size_t n = strlen(h);
  if (n < 4 || n > DIGEST_HEX_LEN)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isxdigit((unsigned char)h[i]) || isupper((unsigned char)h[i]))
      return false;
  *hex = h;
  return true;
}

static int lookup_one(struct store *s, const char *sql, const char *arg, char id[DIGEST_TEXT_MAX], int *count) {
  cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(s->db, sql, NULL);
  if (st == NULL)
    return -1;
  sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
  *count = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if ((*count)++ == 0)
      snprintf(id, DIGEST_TEXT_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
  }
  return 0;
}

/* docker's order: a full ID, then a tag or digest reference, then an ID
 * prefix. */
int images_resolve_how(struct store *s, const char *name, char id[DIGEST_TEXT_MAX], enum image_match *how,
                       berth_error **err) {
  enum image_match unused;
  if (how == NULL)
    how = &unused;
  int count = 0;
  const char *hex = NULL;
  bool id_like = looks_like_id(name, &hex);
  if (id_like && strlen(hex) == DIGEST_HEX_LEN) {
    cleanup_free char *full_id = NULL;
    if (asprintf(&full_id, "sha256:%s", hex) < 0)
      return berth_fail(err, ENOMEM, "image");
    if (lookup_one(s, "SELECT id FROM images WHERE id = ?", full_id, id, &count) < 0)
      return db_fail(s->db, err, "find image");
    if (count == 1) {
      *how = IMAGE_MATCH_ID;
      return 0;
    }
  }
  struct image_ref ref;
  berth_error *parse_err = NULL;
  if (image_ref_parse(name, &ref, &parse_err) == 0) {
    cleanup_free char *full = image_ref_string(&ref);
    if (ref.tag != NULL && ref.digest == NULL) {
      if (lookup_one(s, "SELECT image_id FROM tags WHERE name = ?", full, id, &count) < 0) {
        image_ref_free(&ref);
        return db_fail(s->db, err, "find image");
      }
      *how = IMAGE_MATCH_TAG;
    } else if (ref.digest != NULL) {
      cleanup_free char *repo = image_ref_repository(&ref);
      cleanup_free char *with_digest = NULL;
      if (asprintf(&with_digest, "%s@%s", repo, ref.digest) >= 0 &&
          lookup_one(s, "SELECT image_id FROM repo_digests WHERE name = ?", with_digest, id, &count) == 0 &&
          count == 0)
        lookup_one(s, "SELECT id FROM images WHERE manifest_digest = ?", ref.digest, id, &count);
      *how = IMAGE_MATCH_DIGEST;
    }
    image_ref_free(&ref);
    if (count > 0)
      return 0;
  } else if (!id_like) {
    *err = parse_err;
    return -1;
  }
  berth_error_free(parse_err);
  if (id_like) {
    cleanup_free char *pattern = NULL;
    if (asprintf(&pattern, "sha256:%s%%", hex) < 0)
      return berth_fail(err, ENOMEM, "image");
    if (lookup_one(s, "SELECT id FROM images WHERE id LIKE ?", pattern, id, &count) < 0)
      return db_fail(s->db, err, "find image");
    if (count > 1)
      return berth_fail(err, 0, "image ID prefix \"%s\" is ambiguous: %d images match", name, count);
    if (count == 1) {
      *how = IMAGE_MATCH_ID;
      return 0;
    }
  }
  return berth_fail(err, 0, "No such image: %s", name);
}

int images_resolve(struct store *s, const char *name, char id[DIGEST_TEXT_MAX], berth_error **err) {
  return images_resolve_how(s, name, id, NULL, err);
}

static char **column_list(struct store *s, const char *sql, const char *id, size_t *n) {
  *n = 0;
  cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(s->db, sql, NULL);
  size_t cap = 4;
  char **v = calloc(cap + 1, sizeof(char *));
  if (st == NULL || v == NULL)
    return v;
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (*n == cap) {
      char **grown = realloc(v, (2 * cap + 1) * sizeof(char *));
      if (grown == NULL)
        break;
      v = grown;
      cap *= 2;
    }
    v[(*n)++] = col_dup(st, 0);
    v[*n] = NULL;
  }
  return v;
}

static void fill_lists(struct store *s, struct image_record *r) {
  r->tags = column_list(s, "SELECT name FROM tags WHERE image_id = ? ORDER BY name", r->id, &r->n_tags);
  r->repo_digests =
      column_list(s, "SELECT name FROM repo_digests WHERE image_id = ? ORDER BY name", r->id, &r->n_repo_digests);
  r->chain_ids =
      column_list(s, "SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY position", r->id, &r->n_layers);
}

#define IMAGE_COLUMNS "id, manifest_digest, manifest_media_type, created, architecture, os, size, added"

static void fill_record(sqlite3_stmt *st, struct image_record *r) {
  memset(r, 0, sizeof(*r));
  snprintf(r->id, sizeof(r->id), "%s", (const char *)sqlite3_column_text(st, 0));
  snprintf(r->manifest_digest, sizeof(r->manifest_digest), "%s", (const char *)sqlite3_column_text(st, 1));
  r->manifest_media_type = col_dup(st, 2);
  r->created = col_dup(st, 3);
  r->architecture = col_dup(st, 4);
  r->os = col_dup(st, 5);
  r->size = sqlite3_column_int64(st, 6);
  r->added = sqlite3_column_int64(st, 7);
}

int images_get(struct store *s, const char *id, struct image_record *r, berth_error **err) {
  cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(s->db, "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?", err);
  if (st == NULL)
    return -1;
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_ROW)
    return berth_fail(err, 0, "No such image: %s", id);
  fill_record(st, r);
  fill_lists(s, r);
  return 0;
}

static int compare_by_id(const void *a, const void *b) {
  return strcmp((*(struct image_record *const *)a)->id, (*(struct image_record *const *)b)->id);
}

static bool append(char ***v, size_t *n, const char *text) {
  char **grown = realloc(*v, (*n + 2) * sizeof(char *));
  if (grown == NULL)
    return false;
  *v = grown;
  (*v)[(*n)++] = strdup(text);
  (*v)[*n] = NULL;
  return true;
}

/* One query per list table for all images at once, each row handed to its
 * image by binary search: `berth images` stays fast with hundreds. */
static int fill_all_lists(struct store *s, struct image_record *v, size_t n, berth_error **err) {
  cleanup_free struct image_record **by_id = calloc(n + 1, sizeof(*by_id));
  if (by_id == NULL)
    return berth_fail(err, ENOMEM, "images");
  for (size_t i = 0; i < n; i++)
    by_id[i] = &v[i];
  qsort(by_id, n, sizeof(*by_id), compare_by_id);
  static const char *const queries[] = {
      "SELECT image_id, name FROM tags ORDER BY name",
      "SELECT image_id, name FROM repo_digests ORDER BY name",
      "SELECT image_id, chain_id FROM image_layers ORDER BY image_id, position",
  };
  for (size_t q = 0; q < 3; q++) {
    cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(s->db, queries[q], err);
    if (st == NULL)
      return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
      struct image_record key, *keyp = &key;
      snprintf(key.id, sizeof(key.id), "%s", (const char *)sqlite3_column_text(st, 0));
      struct image_record **found = bsearch(&keyp, by_id, n, sizeof(*by_id), compare_by_id);
      if (found == NULL)
        continue;
      struct image_record *r = *found;
      const char *text = (const char *)sqlite3_column_text(st, 1);
      bool ok = q == 0 ? append(&r->tags, &r->n_tags, text)
                : q == 1 ? append(&r->repo_digests, &r->n_repo_digests, text)
                         : append(&r->chain_ids, &r->n_layers, text);
      if (!ok)
        return berth_fail(err, ENOMEM, "images");
    }
  }
  return 0;
}

int images_manifest(struct store *s, const struct image_record *r, char **text, size_t *len, struct manifest *m,
                    berth_error **err) {
  memset(m, 0, sizeof(*m));
  *text = store_blob_read(s, r->manifest_digest, MANIFEST_MAX_SIZE, len, err);
  if (*text == NULL)
    return -1;
  if (manifest_parse(*text, *len, r->manifest_digest, m, err) < 0) {
    free(*text);
    *text = NULL;
    return -1;
  }
  return 0;
}

int images_list(struct store *s, struct image_record **out, size_t *n, berth_error **err) {
  *out = NULL;
  *n = 0;
  cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(s->db, "SELECT " IMAGE_COLUMNS " FROM images ORDER BY added DESC, id", err);
  if (st == NULL)
    return -1;
  size_t cap = 0;
  struct image_record *v = NULL;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (*n == cap) {
      cap = cap == 0 ? 16 : 2 * cap;
      struct image_record *grown = realloc(v, cap * sizeof(*v));
      if (grown == NULL) {
        image_records_free(v, *n);
        return berth_fail(err, ENOMEM, "images");
      }
      v = grown;
    }
    fill_record(st, &v[(*n)++]);
  }
  if (fill_all_lists(s, v, *n, err) < 0) {
    image_records_free(v, *n);
    *n = 0;
    return -1;
  }
  *out = v;
  return 0;
}

void image_record_free(struct image_record *r) {
  free(r->manifest_media_type);
  free(r->created);
  free(r->architecture);
  free(r->os);
  char **lists[] = {r->tags, r->repo_digests, r->chain_ids};
  for (size_t l = 0; l < 3; l++) {
    for (size_t i = 0; lists[l] != NULL && lists[l][i] != NULL; i++)
      free(lists[l][i]);
    free(lists[l]);
  }
  memset(r, 0, sizeof(*r));
}

void image_records_free(struct image_record *r, size_t n) {
  for (size_t i = 0; i < n; i++)
    image_record_free(&r[i]);
  free(r);
}

int images_tag(struct store *s, const char *id, const char *full_ref, berth_error **err) {
  return db_exec_text(s->db, err, "INSERT OR REPLACE INTO tags (name, image_id) VALUES (?, ?)", full_ref, id, NULL);
}

int images_add_repo_digest(struct store *s, const char *repo_digest, const char *id, berth_error **err) {
  return db_exec_text(s->db, err, "INSERT OR IGNORE INTO repo_digests (name, image_id) VALUES (?, ?)", repo_digest,
                      id, NULL);
}

static int count_rows(struct store *s, const char *sql, const char *arg) {
  cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(s->db, sql, NULL);
  if (st == NULL)
    return -1;
  sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
  return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
}

int images_untag(struct store *s, const char *full_ref, bool *removed_image, berth_error **err) {
  *removed_image = false;
  if (db_begin(s->db, err) < 0)
    return -1;
  char id[DIGEST_TEXT_MAX];
  int count = 0;
  if (lookup_one(s, "SELECT image_id FROM tags WHERE name = ?", full_ref, id, &count) < 0 || count == 0) {
    db_rollback(s->db);
    return berth_fail(err, 0, "No such image: %s", image_ref_familiar(full_ref));
  }
  if (db_exec_text(s->db, err, "DELETE FROM tags WHERE name = ?", full_ref, NULL) < 0)
    goto fail;
  if (count_rows(s, "SELECT count(*) FROM tags WHERE image_id = ?", id) == 0) {
    if (db_exec_text(s->db, err, "DELETE FROM images WHERE id = ?", id, NULL) < 0)
      goto fail;
    *removed_image = true;
  }
  return db_commit(s->db, err);
fail:
  db_rollback(s->db);
  return -1;
}

int images_remove(struct store *s, const char *id, berth_error **err) {
  return db_exec_text(s->db, err, "DELETE FROM images WHERE id = ?", id, NULL);
}

static bool blob_referenced(struct store *s, const char *digest) {
  cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(
      s->db,
      "SELECT 1 FROM images WHERE manifest_digest = ?1 "
      "UNION ALL SELECT 1 FROM image_blobs WHERE digest = ?1 LIMIT 1",
      NULL);
  if (st == NULL)
    return true;
  sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
  return sqlite3_step(st) == SQLITE_ROW;
}

void images_discard_new(struct store *s) {
  /* Another pull or load may be counting on what we made (it found the
   * blob or layer there): then leave it to gc. */
  berth_error *lock_err = NULL;
  if (store_try_hold_exclusive(s, &lock_err) != 1) {
    berth_error_free(lock_err);
    s->n_created = s->n_created_layers = 0;
    return;
  }
  for (size_t i = 0; i < s->n_created; i++)
    if (!blob_referenced(s, s->created[i]))
      unlinkat(s->blobsfd, digest_hex(s->created[i]), 0);
  s->n_created = 0;
  for (size_t i = 0; i < s->n_created_layers; i++) {
    if (count_rows(s, "SELECT count(*) FROM layers WHERE chain_id = ?", s->created_layers[i]) != 0)
      continue;
    berth_error *rm_err = NULL;
    if (fs_remove_tree_at(s->layersfd, digest_hex(s->created_layers[i]), &rm_err) < 0)
      berth_error_free(rm_err);
  }
  s->n_created_layers = 0;
}

static void add_size(int dirfd, const char *name, uint64_t *freed) {
  struct stat st;
  if (freed != NULL && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    *freed += (uint64_t)st.st_size;
}

/* What a killed load or unpack left in tmp/ (the caller holds the store
 * exclusively, so nothing there is in use); partial downloads stay, for
 * the next pull to resume. */
static void remove_tmp_leftovers(struct store *s) {
  cleanup_close int dfd = openat(s->tmpfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dfd >= 0 ? fdopendir(dup(dfd)) : NULL;
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, "load-", 5) != 0 && strncmp(e->d_name, "layer-", 6) != 0)
      continue;
    berth_error *rm_err = NULL;
    if (fs_remove_tree_at(s->tmpfd, e->d_name, &rm_err) < 0)
      berth_error_free(rm_err);
  }
  closedir(d);
}

int images_gc(struct store *s, uint64_t *freed, berth_error **err) {
  if (freed != NULL)
    *freed = 0;
  /* Rows first (one transaction), files after: a crash in between leaves
   * only unreferenced files, which the next gc finds. */
  if (db_begin(s->db, err) < 0)
    return -1;
  if (freed != NULL) {
    cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(
        s->db, "SELECT coalesce(sum(size), 0) FROM layers WHERE chain_id NOT IN (SELECT chain_id FROM image_layers)",
        NULL);
    if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
      *freed += (uint64_t)sqlite3_column_int64(st, 0);
  }
  if (db_exec_text(s->db, err,
                   "DELETE FROM layers WHERE chain_id NOT IN (SELECT chain_id FROM image_layers)", NULL) < 0) {
    db_rollback(s->db);
    return -1;
  }
  if (db_commit(s->db, err) < 0)
    return -1;
  remove_tmp_leftovers(s);
  cleanup_sqlite_stmt sqlite3_stmt *layer_q = db_prepare(s->db, "SELECT 1 FROM layers WHERE chain_id = 'sha256:' || ?", err);
  cleanup_sqlite_stmt sqlite3_stmt *blob_q = db_prepare(
      s->db,
      "SELECT 1 FROM images WHERE manifest_digest = 'sha256:' || ?1 "
      "UNION ALL SELECT 1 FROM image_blobs WHERE digest = 'sha256:' || ?1 LIMIT 1",
      err);
  if (layer_q == NULL || blob_q == NULL)
    return -1;
  struct {
    int dirfd;
    sqlite3_stmt *query;
    bool tree;
  } kinds[] = {{s->layersfd, layer_q, true}, {s->blobsfd, blob_q, false}};
  for (size_t k = 0; k < 2; k++) {
    cleanup_close int dfd = openat(kinds[k].dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dup(dfd)) : NULL;
    if (d == NULL)
      return berth_fail(err, errno, "store: list %s", k == 0 ? "layers" : "blobs");
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.')
        continue;
      sqlite3_reset(kinds[k].query);
      sqlite3_bind_text(kinds[k].query, 1, e->d_name, -1, SQLITE_TRANSIENT);
      if (sqlite3_step(kinds[k].query) == SQLITE_ROW)
        continue;
      if (kinds[k].tree) {
        berth_error *rm_err = NULL;
        if (fs_remove_tree_at(kinds[k].dirfd, e->d_name, &rm_err) < 0)
          berth_error_free(rm_err);
      } else {
        add_size(kinds[k].dirfd, e->d_name, freed);
        unlinkat(kinds[k].dirfd, e->d_name, 0);
      }
    }
    closedir(d);
  }
  return 0;
}
