#include "image/archives.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/images.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/path.h"

#define OCI_REF_NAME "org.opencontainers.image.ref.name"
#define CONTAINERD_IMAGE_NAME "io.containerd.image.name"

int archive_format_parse(const char *name, enum archive_format *out, berth_error **err) {
  if (strcmp(name, "docker-archive") == 0)
    *out = ARCHIVE_DOCKER;
  else if (strcmp(name, "oci-archive") == 0)
    *out = ARCHIVE_OCI;
  else if (strcmp(name, "oci-dir") == 0)
    *out = ARCHIVE_OCI_DIR;
  else
    return berth_fail(err, 0, "unknown format \"%s\": docker-archive, oci-archive or oci-dir", name);
  return 0;
}

static inline void cleanup_archive_read(struct archive **a) {
  if (*a != NULL)
    archive_read_free(*a);
}
#define cleanup_archive __attribute__((cleanup(cleanup_archive_read)))

/* A member name that stays inside the directory it is extracted to. */
static bool safe_member(const char *name) {
  if (name[0] == '/' || name[0] == '\0')
    return false;
  for (const char *p = name; *p != '\0';) {
    const char *end = strchr(p, '/');
    size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
    if (len == 2 && p[0] == '.' && p[1] == '.')
      return false;
    if (end == NULL)
      break;
    p = end + 1;
  }
  return true;
}

/* pwrite of all of buf; a write that makes no progress is a full disk. */
static int pwrite_all(int fd, const char *buf, size_t len, off_t offset) {
  while (len > 0) {
    ssize_t n = pwrite(fd, buf, len, offset);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = ENOSPC;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
    offset += n;
  }
  return 0;
}

static int extract_member(struct archive *a, struct archive_entry *e, int rootfd, berth_error **err) {
  const char *name = archive_entry_pathname(e);
  while (name[0] == '.' && name[1] == '/')
    name += 2;
  if (name[0] == '\0' || strcmp(name, ".") == 0)
    return 0;
  if (!safe_member(name))
    return berth_fail(err, 0, "archive member \"%s\": path leaves the archive", archive_entry_pathname(e));
  mode_t type = archive_entry_filetype(e);
  if (type == AE_IFDIR) {
    cleanup_close int d = path_mkdir_in_root(rootfd, name, err);
    return d < 0 ? -1 : 0;
  }
  cleanup_free char *copy = strdup(name);
  char *slash = strrchr(copy, '/');
  const char *base = copy;
  cleanup_close int parent = -1;
  if (slash != NULL) {
    *slash = '\0';
    base = slash + 1;
    parent = path_mkdir_in_root(rootfd, copy, err);
  } else {
    parent = dup(rootfd);
  }
  if (parent < 0)
    return -1;
  if (type == AE_IFLNK) {
    if (symlinkat(archive_entry_symlink(e), parent, base) < 0)
      return berth_fail(err, errno, "archive member \"%s\"", name);
    return 0;
  }
  if (type != AE_IFREG)
    return 0; /* image archives hold files, directories and links only */
  cleanup_close int fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return berth_fail(err, errno, "archive member \"%s\"", name);
  const void *buf;
  size_t size;
  la_int64_t offset;
  int r;
  while ((r = archive_read_data_block(a, &buf, &size, &offset)) == ARCHIVE_OK)
    if (pwrite_all(fd, buf, size, offset) < 0)
      return berth_fail(err, errno, "archive member \"%s\": write", name);
  if (r != ARCHIVE_EOF)
    return berth_fail(err, 0, "archive member \"%s\": %s", name, archive_error_string(a));
  return 0;
}

/* Unpacks the outer tar into rootfd (a fresh directory in the store's tmp). */
static int extract_tar(int in_fd, int rootfd, berth_error **err) {
  cleanup_archive struct archive *a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  if (archive_read_open_fd(a, in_fd, 1 << 16) != ARCHIVE_OK)
    return berth_fail(err, 0, "image archive: %s", archive_error_string(a));
  struct archive_entry *e;
  int r;
  bool any = false;
  while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
    any = true;
    if (extract_member(a, e, rootfd, err) < 0)
      return -1;
  }
  if (r != ARCHIVE_EOF)
    return berth_fail(err, 0, "image archive: %s", archive_error_string(a));
  if (!any)
    return berth_fail(err, 0, "image archive: empty input");
  return 0;
}

static char *read_member(int rootfd, const char *name, size_t *len, berth_error **err) {
  cleanup_close int fd = path_open_in_root(rootfd, name, O_RDONLY, err);
  if (fd < 0)
    return NULL;
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_size > MANIFEST_MAX_SIZE) {
    berth_fail(err, EFBIG, "archive member \"%s\"", name);
    return NULL;
  }
  return fs_read_fd(fd, len, err);
}

/* Stores a member as a blob (checked against expected when given). */
static int store_member(struct store *s, int rootfd, const char *name, const char *expected,
                        char digest[DIGEST_TEXT_MAX], uint64_t *size, berth_error **err) {
  cleanup_close int fd = path_open_in_root(rootfd, name, O_RDONLY, err);
  if (fd < 0 || store_blob_put_fd(s, fd, expected, digest, size, err) < 0)
    return berth_error_wrap(err, "archive member \"%s\"", name);
  return 0;
}

static const char *sniff_layer_type(struct store *s, const char *digest) {
  unsigned char magic[4] = {0};
  cleanup_close int fd = store_blob_open(s, digest, NULL);
  if (fd >= 0 && read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic)) {
    if (magic[0] == 0x1f && magic[1] == 0x8b)
      return MT_OCI_LAYER_GZIP;
    if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
      return MT_OCI_LAYER_ZSTD;
  }
  return MT_OCI_LAYER;
}

/* Full references for the names an archive gives; bad names are errors. */
static char *normalize_name(const char *name, berth_error **err) {
  struct image_ref ref;
  if (image_ref_parse(name, &ref, err) < 0)
    return NULL;
  if (ref.digest != NULL) {
    image_ref_free(&ref);
    berth_fail(err, 0, "image name \"%s\": a digest cannot be a tag", name);
    return NULL;
  }
  char *full = image_ref_string(&ref);
  image_ref_free(&ref);
  return full;
}

static void free_strv(char **v) {
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    free(v[i]);
  free(v);
}

/* docker-archive: manifest.json lists each image's config, layer files and
 * tags; berth stores it as an OCI manifest over the same blobs. */
static int load_docker(struct store *s, int rootfd, archive_loaded_fn *loaded, void *arg, berth_error **err) {
  size_t len = 0;
  cleanup_free char *text = read_member(rootfd, "manifest.json", &len, err);
  if (text == NULL)
    return -1;
  cleanup_json struct json_object *list = json_parse_text(text, len, "manifest.json", err);
  if (list == NULL)
    return -1;
  if (!json_object_is_type(list, json_type_array))
    return berth_fail(err, 0, "manifest.json: expected an array");
  for (size_t i = 0; i < json_object_array_length(list); i++) {
    struct json_object *entry = json_object_array_get_idx(list, i);
    struct json_ctx ctx = {.origin = "manifest.json", .path = ""};
    const char *config_name = NULL;
    char **layer_names = NULL, **repo_tags = NULL;
    size_t n_layers = 0, n_tags = 0;
    if (json_get_string(&ctx, entry, "Config", &config_name, err) < 0 ||
        json_get_strv(&ctx, entry, "Layers", &layer_names, &n_layers, err) < 0 ||
        json_get_strv(&ctx, entry, "RepoTags", &repo_tags, &n_tags, err) < 0) {
      free_strv(layer_names);
      return -1;
    }
    int ret = -1;
    struct descriptor config = {.media_type = (char *)MT_OCI_CONFIG};
    struct descriptor *layers = calloc(n_layers + 1, sizeof(*layers));
    char **tags = calloc(n_tags + 1, sizeof(char *));
    cleanup_free char *manifest = NULL;
    if (layers == NULL || tags == NULL) {
      berth_fail(err, ENOMEM, "load");
      goto next;
    }
    if (config_name == NULL || layer_names == NULL) {
      berth_fail(err, 0, "manifest.json: entry %zu needs Config and Layers", i);
      goto next;
    }
    if (store_member(s, rootfd, config_name, NULL, config.digest, &config.size, err) < 0)
      goto next;
    for (size_t l = 0; l < n_layers; l++) {
      if (store_member(s, rootfd, layer_names[l], NULL, layers[l].digest, &layers[l].size, err) < 0)
        goto next;
      layers[l].media_type = (char *)sniff_layer_type(s, layers[l].digest);
    }
    for (size_t t = 0; t < n_tags; t++)
      if ((tags[t] = normalize_name(repo_tags[t], err)) == NULL)
        goto next;
    manifest = manifest_write_oci(&config, layers, n_layers);
    struct image_add add = {.manifest = manifest, .manifest_len = strlen(manifest), .tags = (const char *const *)tags};
    if (store_blob_put_bytes(s, manifest, add.manifest_len, NULL, NULL, err) < 0 || images_add(s, &add, err) < 0)
      goto next;
    if (loaded != NULL)
      loaded(arg, add.id, (const char *const *)tags);
    ret = 0;
  next:
    free(layers);
    free_strv(tags);
    free_strv(layer_names);
    free_strv(repo_tags);
    if (ret < 0)
      return -1;
  }
  return 0;
}

/* The tag an OCI index entry names: containerd's full-name annotation, or
 * ref.name when it is a whole reference; a bare tag names no repository. */
static char *oci_entry_name(struct json_object *entry) {
  struct json_object *ann = NULL, *v = NULL;
  if (!json_object_object_get_ex(entry, "annotations", &ann) || !json_object_is_type(ann, json_type_object))
    return NULL;
  const char *keys[] = {CONTAINERD_IMAGE_NAME, OCI_REF_NAME};
  for (size_t k = 0; k < 2; k++) {
    if (!json_object_object_get_ex(ann, keys[k], &v) || !json_object_is_type(v, json_type_string))
      continue;
    const char *name = json_object_get_string(v);
    if (k == 1 && strchr(name, '/') == NULL && strchr(name, ':') == NULL)
      continue;
    char *full = normalize_name(name, NULL);
    if (full != NULL)
      return full;
  }
  return NULL;
}

static char *blob_member(const char *digest) {
  char *p = NULL;
  return asprintf(&p, "blobs/sha256/%s", digest_hex(digest)) < 0 ? NULL : p;
}

/* A blob of the layout into the store, unless the store has it already. */
static int store_layout_blob(struct store *s, int rootfd, const char *digest, berth_error **err) {
  if (store_blob_exists(s, digest))
    return 0;
  cleanup_free char *member = blob_member(digest);
  char got[DIGEST_TEXT_MAX];
  if (member == NULL)
    return berth_fail(err, ENOMEM, "load");
  return store_member(s, rootfd, member, digest, got, NULL, err);
}

static int load_oci_manifest(struct store *s, int rootfd, const char *digest, const char *tag,
                             archive_loaded_fn *loaded, void *arg, berth_error **err) {
  if (store_layout_blob(s, rootfd, digest, err) < 0)
    return -1;
  size_t len = 0;
  cleanup_free char *text = store_blob_read(s, digest, MANIFEST_MAX_SIZE, &len, err);
  if (text == NULL)
    return -1;
  cleanup_free char *media_type = manifest_sniff_media_type(text, len);
  if (media_type_is_index(media_type)) {
    struct image_index idx;
    if (index_parse(text, len, digest, &idx, err) < 0)
      return -1;
    const char *os, *arch, *variant;
    platform_default(&os, &arch, &variant);
    const struct descriptor *d = index_select(&idx, os, arch, variant, err);
    int r = d != NULL ? load_oci_manifest(s, rootfd, d->digest, tag, loaded, arg, err) : -1;
    index_free(&idx);
    return r;
  }
  struct manifest m;
  if (manifest_parse(text, len, digest, &m, err) < 0)
    return -1;
  int ret = store_layout_blob(s, rootfd, m.config.digest, err);
  for (size_t i = 0; ret == 0 && i < m.n_layers; i++)
    ret = store_layout_blob(s, rootfd, m.layers[i].digest, err);
  manifest_free(&m);
  if (ret < 0)
    return -1;
  const char *tags[] = {tag, NULL};
  struct image_add add = {.manifest = text, .manifest_len = len, .tags = tags};
  if (images_add(s, &add, err) < 0)
    return -1;
  if (loaded != NULL)
    loaded(arg, add.id, tags);
  return 0;
}

static int load_oci(struct store *s, int rootfd, archive_loaded_fn *loaded, void *arg, berth_error **err) {
  size_t len = 0;
  cleanup_free char *text = read_member(rootfd, "index.json", &len, err);
  if (text == NULL)
    return -1;
  cleanup_json struct json_object *index = json_parse_text(text, len, "index.json", err);
  struct json_object *manifests = NULL;
  if (index == NULL)
    return -1;
  if (!json_object_object_get_ex(index, "manifests", &manifests) || !json_object_is_type(manifests, json_type_array))
    return berth_fail(err, 0, "index.json: manifests is missing");
  for (size_t i = 0; i < json_object_array_length(manifests); i++) {
    struct json_object *entry = json_object_array_get_idx(manifests, i), *digest = NULL;
    if (!json_object_object_get_ex(entry, "digest", &digest) ||
        !digest_valid(json_object_get_string(digest)))
      return berth_fail(err, 0, "index.json: manifests[%zu]: no valid digest", i);
    cleanup_free char *tag = oci_entry_name(entry);
    if (load_oci_manifest(s, rootfd, json_object_get_string(digest), tag, loaded, arg, err) < 0)
      return -1;
  }
  return 0;
}

static int load_dir(struct store *s, int rootfd, archive_loaded_fn *loaded, void *arg, berth_error **err) {
  if (faccessat(rootfd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return load_docker(s, rootfd, loaded, arg, err);
  if (faccessat(rootfd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return load_oci(s, rootfd, loaded, arg, err);
  return berth_fail(err, 0, "image archive: neither manifest.json (docker-archive) nor index.json (OCI layout) in it");
}

static int load_any(struct store *s, int in_fd, const char *dir, archive_loaded_fn *loaded, void *arg, berth_error **err) {
  if (store_hold(s, false, err) < 0)
    return -1;
  if (dir != NULL) {
    cleanup_close int rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
      return berth_fail(err, errno, "OCI layout \"%s\"", dir);
    return load_dir(s, rootfd, loaded, arg, err);
  }
  cleanup_free char *tmp = NULL;
  if (asprintf(&tmp, "%s/tmp/load-XXXXXX", s->root) < 0 || mkdtemp(tmp) == NULL)
    return berth_fail(err, errno, "load: temporary directory");
  int ret = -1;
  int rootfd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    berth_fail(err, errno, "load: \"%s\"", tmp);
  else if (extract_tar(in_fd, rootfd, err) == 0)
    ret = load_dir(s, rootfd, loaded, arg, err);
  if (rootfd >= 0)
    close(rootfd);
  berth_error *rm_err = NULL;
  if (fs_remove_tree_at(s->tmpfd, strrchr(tmp, '/') + 1, &rm_err) < 0)
    berth_error_free(rm_err);
  return ret;
}

/* ---- save ---- */

static inline void cleanup_archive_write(struct archive **a) {
  if (*a != NULL)
    archive_write_free(*a);
}

struct writer {
  struct archive *tar; /* NULL for oci-dir */
  int dirfd;           /* oci-dir */
  char **written;      /* member names already in the output (shared blobs) */
  size_t n_written, cap_written;
};

static bool already_written(struct writer *w, const char *name) {
  for (size_t i = 0; i < w->n_written; i++)
    if (strcmp(w->written[i], name) == 0)
      return true;
  if (w->n_written == w->cap_written) {
    size_t cap = w->cap_written == 0 ? 16 : 2 * w->cap_written;
    char **grown = realloc(w->written, cap * sizeof(char *));
    if (grown == NULL)
      return false;
    w->written = grown;
    w->cap_written = cap;
  }
  w->written[w->n_written++] = strdup(name);
  return false;
}

static int write_member_bytes(struct writer *w, const char *name, const void *data, size_t len, berth_error **err) {
  if (w->tar == NULL) {
    cleanup_close int d = -1;
    const char *slash = strrchr(name, '/');
    if (slash != NULL) {
      cleanup_free char *parent = strndup(name, (size_t)(slash - name));
      d = path_mkdir_in_root(w->dirfd, parent, err);
      if (d < 0)
        return -1;
    }
    cleanup_free char *path = NULL;
    if (asprintf(&path, "/proc/self/fd/%d/%s", w->dirfd, name) < 0)
      return berth_fail(err, ENOMEM, "save");
    return fs_write_file_atomic_at(AT_FDCWD, path, data, len, 0644, err);
  }
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, (la_int64_t)len);
  int r = archive_write_header(w->tar, e);
  archive_entry_free(e);
  if (r != ARCHIVE_OK || (len > 0 && archive_write_data(w->tar, data, len) != (la_ssize_t)len))
    return berth_fail(err, 0, "save \"%s\": %s", name, archive_error_string(w->tar));
  return 0;
}

static int write_member_blob(struct writer *w, struct store *s, const char *name, const char *digest,
                             berth_error **err) {
  if (already_written(w, name))
    return 0;
  cleanup_close int fd = store_blob_open(s, digest, err);
  struct stat st;
  if (fd < 0)
    return -1;
  if (fstat(fd, &st) < 0)
    return berth_fail(err, errno, "blob %s", digest);
  if (w->tar == NULL) {
    cleanup_free char *parent = strndup(name, (size_t)(strrchr(name, '/') - name));
    cleanup_close int d = path_mkdir_in_root(w->dirfd, parent, err);
    if (d < 0)
      return -1;
    cleanup_close int dir = openat(d, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const char *base = strrchr(name, '/') + 1;
    /* a copy (copy_file_range shares extents where the file system can):
     * a hard link would give the export the store's mode and inode */
    cleanup_close int out = dir >= 0 ? openat(dir, base, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644) : -1;
    if (out < 0)
      return berth_fail(err, errno, "save \"%s\"", name);
    for (off_t left = st.st_size; left > 0;) {
      ssize_t n = copy_file_range(fd, NULL, out, NULL, (size_t)left, 0);
      if (n <= 0)
        return berth_fail(err, n < 0 ? errno : EIO, "save \"%s\"", name);
      left -= n;
    }
    return 0;
  }
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, st.st_size);
  int r = archive_write_header(w->tar, e);
  archive_entry_free(e);
  if (r != ARCHIVE_OK)
    return berth_fail(err, 0, "save \"%s\": %s", name, archive_error_string(w->tar));
  cleanup_free char *buf = malloc(1 << 17);
  if (buf == NULL)
    return berth_fail(err, ENOMEM, "save");
  for (;;) {
    ssize_t n = read(fd, buf, 1 << 17);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return berth_fail(err, errno, "blob %s", digest);
    if (n == 0)
      break;
    if (archive_write_data(w->tar, buf, (size_t)n) != n)
      return berth_fail(err, 0, "save \"%s\": %s", name, archive_error_string(w->tar));
  }
  return 0;
}

static char *json_text(struct json_object *o) {
  return strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int save_docker(struct writer *w, struct store *s, const char *const *ids, const char *const *const *tags,
                       size_t n, berth_error **err) {
  cleanup_json struct json_object *list = json_object_new_array();
  cleanup_json struct json_object *repositories = json_object_new_object();
  for (size_t i = 0; i < n; i++) {
    struct image_record r;
    if (images_get(s, ids[i], &r, err) < 0)
      return -1;
    size_t len = 0;
    cleanup_free char *text = NULL;
    struct manifest m;
    if (images_manifest(s, &r, &text, &len, &m, err) < 0) {
      image_record_free(&r);
      return -1;
    }
    struct json_object *entry = json_object_new_object();
    json_object_array_add(list, entry);
    cleanup_free char *config_name = NULL;
    int ret = asprintf(&config_name, "%s.json", digest_hex(r.id)) < 0 ? -1 : 0;
    if (ret == 0)
      ret = write_member_blob(w, s, config_name, r.id, err);
    json_object_object_add(entry, "Config", json_object_new_string(config_name != NULL ? config_name : ""));
    struct json_object *repo_tags = json_object_new_array();
    json_object_object_add(entry, "RepoTags", repo_tags);
    for (size_t t = 0; tags[i] != NULL && tags[i][t] != NULL; t++) {
      /* Full names: podman reads a short one as localhost/NAME. */
      const char *familiar = image_ref_familiar(tags[i][t]);
      json_object_array_add(repo_tags, json_object_new_string(tags[i][t]));
      cleanup_free char *repo = strdup(familiar);
      char *colon = strrchr(repo, ':');
      if (colon != NULL && strchr(colon, '/') == NULL) {
        *colon = '\0';
        struct json_object *by_tag = NULL;
        if (!json_object_object_get_ex(repositories, repo, &by_tag)) {
          by_tag = json_object_new_object();
          json_object_object_add(repositories, repo, by_tag);
        }
        json_object_object_add(by_tag, colon + 1,
                               json_object_new_string(m.n_layers > 0 ? digest_hex(m.layers[m.n_layers - 1].digest) : ""));
      }
    }
    struct json_object *layers = json_object_new_array();
    json_object_object_add(entry, "Layers", layers);
    for (size_t l = 0; ret == 0 && l < m.n_layers; l++) {
      cleanup_free char *name = NULL;
      if (asprintf(&name, "%s.tar", digest_hex(m.layers[l].digest)) < 0) {
        ret = berth_fail(err, ENOMEM, "save");
        break;
      }
      json_object_array_add(layers, json_object_new_string(name));
      ret = write_member_blob(w, s, name, m.layers[l].digest, err);
    }
    manifest_free(&m);
    image_record_free(&r);
    if (ret < 0)
      return -1;
  }
  cleanup_free char *manifest_json = json_text(list);
  cleanup_free char *repositories_json = json_text(repositories);
  if (write_member_bytes(w, "manifest.json", manifest_json, strlen(manifest_json), err) < 0 ||
      write_member_bytes(w, "repositories", repositories_json, strlen(repositories_json), err) < 0)
    return -1;
  return 0;
}

static int save_oci(struct writer *w, struct store *s, const char *const *ids, const char *const *const *tags,
                    size_t n, berth_error **err) {
  static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  if (write_member_bytes(w, "oci-layout", layout, sizeof(layout) - 1, err) < 0)
    return -1;
  cleanup_json struct json_object *index = json_object_new_object();
  json_object_object_add(index, "schemaVersion", json_object_new_int(2));
  json_object_object_add(index, "mediaType", json_object_new_string(MT_OCI_INDEX));
  struct json_object *manifests = json_object_new_array();
  json_object_object_add(index, "manifests", manifests);
  for (size_t i = 0; i < n; i++) {
    struct image_record r;
    if (images_get(s, ids[i], &r, err) < 0)
      return -1;
    size_t len = 0;
    cleanup_free char *text = NULL;
    struct manifest m;
    if (images_manifest(s, &r, &text, &len, &m, err) < 0) {
      image_record_free(&r);
      return -1;
    }
    const char *digests[2 + m.n_layers];
    digests[0] = r.manifest_digest;
    digests[1] = m.config.digest;
    for (size_t l = 0; l < m.n_layers; l++)
      digests[2 + l] = m.layers[l].digest;
    int ret = 0;
    for (size_t b = 0; ret == 0 && b < 2 + m.n_layers; b++) {
      cleanup_free char *name = blob_member(digests[b]);
      ret = name != NULL ? write_member_blob(w, s, name, digests[b], err) : berth_fail(err, ENOMEM, "save");
    }
    /* One index entry per tag (or one without a name). */
    size_t n_tags = 0;
    while (tags[i] != NULL && tags[i][n_tags] != NULL)
      n_tags++;
    for (size_t t = 0; ret == 0 && t < (n_tags > 0 ? n_tags : 1); t++) {
      struct descriptor d = {.media_type = m.media_type, .size = len};
      memcpy(d.digest, r.manifest_digest, DIGEST_TEXT_MAX);
      struct json_object *entry = descriptor_to_json(&d);
      if (n_tags > 0) {
        struct json_object *ann = json_object_new_object();
        json_object_object_add(ann, CONTAINERD_IMAGE_NAME, json_object_new_string(tags[i][t]));
        const char *colon = strrchr(tags[i][t], ':');
        json_object_object_add(ann, OCI_REF_NAME, json_object_new_string(colon != NULL ? colon + 1 : tags[i][t]));
        json_object_object_add(entry, "annotations", ann);
      }
      json_object_array_add(manifests, entry);
    }
    manifest_free(&m);
    image_record_free(&r);
    if (ret < 0)
      return -1;
  }
  cleanup_free char *index_json = json_text(index);
  return write_member_bytes(w, "index.json", index_json, strlen(index_json), err);
}

int archive_save(struct store *s, enum archive_format format, const char *const *ids, const char *const *const *tags,
                 size_t n, int out_fd, const char *dir, berth_error **err) {
  struct writer w = {.dirfd = -1};
  int ret = -1;
  /* gc waits while the blobs are read */
  if (store_hold(s, false, err) < 0)
    return -1;
  if (format == ARCHIVE_OCI_DIR) {
    if (fs_mkdir_p(dir, 0755, err) < 0)
      return -1;
    w.dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (w.dirfd < 0)
      return berth_fail(err, errno, "OCI layout \"%s\"", dir);
  } else {
    w.tar = archive_write_new();
    archive_write_set_format_pax_restricted(w.tar);
    if (archive_write_open_fd(w.tar, out_fd) != ARCHIVE_OK) {
      berth_fail(err, 0, "save: %s", archive_error_string(w.tar));
      goto out;
    }
  }
  ret = format == ARCHIVE_DOCKER ? save_docker(&w, s, ids, tags, n, err) : save_oci(&w, s, ids, tags, n, err);
  if (ret == 0 && w.tar != NULL && archive_write_close(w.tar) != ARCHIVE_OK)
    ret = berth_fail(err, 0, "save: %s", archive_error_string(w.tar));
out:
  cleanup_archive_write(&w.tar);
  if (w.dirfd >= 0)
    close(w.dirfd);
  for (size_t i = 0; i < w.n_written; i++)
    free(w.written[i]);
  free(w.written);
  return ret;
}

int archive_load(struct store *s, int in_fd, const char *dir, archive_loaded_fn *loaded, void *arg, berth_error **err) {
  int ret = load_any(s, in_fd, dir, loaded, arg, err);
  if (ret < 0)
    images_discard_new(s);
  return ret;
}
