#include "image/transfer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/images.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "util/cleanup.h"

/* Layers move at most this many at a time, as docker's default. */
#define PARALLEL_TRANSFERS 3

static const char *const manifest_types[] = {MT_OCI_INDEX, MT_DOCKER_LIST, MT_OCI_MANIFEST, MT_DOCKER_MANIFEST, NULL};

struct blob_job {
  const char *digest;
  uint64_t size;
  size_t index;
  /* pull: the layer to unpack once downloaded (NULL: a config) */
  const struct descriptor *layer;
  const char *diff_id;
  char chain_id[DIGEST_TEXT_MAX];
  int64_t unpacked_size;
};

struct jobs {
  struct store *s;
  struct registry_client *c;
  const char *domain, *repo;
  const char *mount_from; /* push: a repository on the same registry that may have the blobs */
  bool push;
  struct blob_job *jobs;
  size_t n, next;
  pthread_mutex_t lock;
  berth_error *err; /* the first failure */
  const struct transfer_progress *progress;
};

struct progress_ctx {
  struct jobs *j;
  size_t index;
};

static void report(const struct jobs *j, size_t index, enum transfer_state st, uint64_t done, uint64_t total) {
  if (j->progress != NULL && j->progress->update != NULL)
    j->progress->update(j->progress->arg, index, st, done, total);
}

static void on_bytes(void *arg, uint64_t done, uint64_t total) {
  struct progress_ctx *p = arg;
  report(p->j, p->index, TRANSFER_ACTIVE, done, total);
}

static int download(struct jobs *j, const struct blob_job *b, berth_error **err) {
  if (store_blob_exists(j->s, b->digest)) {
    report(j, b->index, TRANSFER_EXISTS, b->size, b->size);
    return 0;
  }
  /* Waits here while another pull downloads the same blob. */
  int fd = store_blob_partial(j->s, b->digest, err);
  if (fd < 0)
    return -1;
  int ret = 0;
  if (store_blob_exists(j->s, b->digest)) {
    store_blob_partial_drop(j->s, b->digest, fd);
    report(j, b->index, TRANSFER_EXISTS, b->size, b->size);
  } else {
    struct progress_ctx p = {.j = j, .index = b->index};
    ret = registry_fetch_blob(j->c, j->domain, j->repo, b->digest, b->size, fd, on_bytes, &p, err);
    if (ret == 0)
      ret = store_blob_partial_commit(j->s, b->digest, fd, err);
    if (ret == 0)
      report(j, b->index, TRANSFER_VERIFIED, b->size, b->size);
    /* a failed download stays in tmp/ for the next pull to resume */
  }
  close(fd);
  return ret;
}

/* Unpacking in the worker overlaps one layer's unpack with the others'
 * downloads, and unpacks different layers on different CPUs. */
static int download_and_unpack(struct jobs *j, struct blob_job *b, berth_error **err) {
  if (download(j, b, err) < 0)
    return -1;
  if (b->layer == NULL)
    return 0;
  if (images_unpack_layer(j->s, b->layer, b->diff_id, b->chain_id, &b->unpacked_size, err) < 0)
    return -1;
  report(j, b->index, TRANSFER_UNPACKED, b->size, b->size);
  return 0;
}

static int upload(struct jobs *j, const struct blob_job *b, berth_error **err) {
  bool exists = false, mounted = false;
  if (registry_blob_exists(j->c, j->domain, j->repo, b->digest, &exists, err) < 0)
    return -1;
  if (exists) {
    report(j, b->index, TRANSFER_EXISTS, b->size, b->size);
    return 0;
  }
  if (j->mount_from != NULL &&
      registry_mount_blob(j->c, j->domain, j->repo, b->digest, j->mount_from, &mounted, err) < 0)
    return -1;
  if (mounted) {
    report(j, b->index, TRANSFER_MOUNTED, b->size, b->size);
    return 0;
  }
  cleanup_close int fd = store_blob_open(j->s, b->digest, err);
  if (fd < 0)
    return -1;
  struct progress_ctx p = {.j = j, .index = b->index};
  if (registry_push_blob(j->c, j->domain, j->repo, b->digest, fd, b->size, on_bytes, &p, err) < 0)
    return -1;
  report(j, b->index, TRANSFER_VERIFIED, b->size, b->size);
  return 0;
}

static void *worker(void *arg) {
  struct jobs *j = arg;
  for (;;) {
    pthread_mutex_lock(&j->lock);
    bool stop = j->next >= j->n || j->err != NULL;
    size_t mine = j->next++;
    pthread_mutex_unlock(&j->lock);
    if (stop)
      return NULL;
    berth_error *err = NULL;
    if ((j->push ? upload(j, &j->jobs[mine], &err) : download_and_unpack(j, &j->jobs[mine], &err)) < 0) {
      pthread_mutex_lock(&j->lock);
      if (j->err == NULL)
        j->err = err;
      else
        berth_error_free(err);
      pthread_mutex_unlock(&j->lock);
    }
  }
}

static int run_jobs(struct jobs *j, berth_error **err) {
  pthread_mutex_init(&j->lock, NULL);
  pthread_t threads[PARALLEL_TRANSFERS];
  size_t n_threads = j->n < PARALLEL_TRANSFERS ? j->n : PARALLEL_TRANSFERS, started = 0;
  for (; started < n_threads; started++)
    if (pthread_create(&threads[started], NULL, worker, j) != 0)
      break;
  if (started == 0 && j->n > 0)
    worker(j);
  for (size_t i = 0; i < started; i++)
    pthread_join(threads[i], NULL);
  pthread_mutex_destroy(&j->lock);
  if (j->err != NULL) {
    *err = j->err;
    return -1;
  }
  return 0;
}

static void begin(const struct transfer_progress *p, const struct descriptor *layers, size_t n) {
  if (p == NULL || p->begin == NULL)
    return;
  char ids[n + 1][16];
  const char *ptrs[n + 1];
  for (size_t i = 0; i < n; i++) {
    snprintf(ids[i], sizeof(ids[i]), "%.12s", digest_hex(layers[i].digest));
    ptrs[i] = ids[i];
  }
  p->begin(p->arg, ptrs, n);
}

/* Fetches a small document (manifest, index, config) into the store. */
static char *fetch_manifest(struct registry_client *c, const struct image_ref *ref,
                            const char *reference, size_t *len, char **media_type, char digest[DIGEST_TEXT_MAX],
                            berth_error **err) {
  char *body = NULL;
  if (registry_get_manifest(c, ref->domain, ref->path, reference, manifest_types, &body, len, media_type, digest,
                            err) < 0)
    return NULL;
  if (*media_type == NULL || **media_type == '\0' || strcmp(*media_type, "application/json") == 0) {
    free(*media_type);
    *media_type = manifest_sniff_media_type(body, *len);
  }
  return body;
}

static int pull(struct store *s, struct registry_client *c, const char *name, const char *platform,
                const struct transfer_progress *progress, struct pull_result *result, berth_error **err) {
  struct image_ref ref;
  if (image_ref_parse(name, &ref, err) < 0)
    return -1;
  int ret = -1;
  cleanup_free char *full = image_ref_string(&ref);
  cleanup_free char *repository = image_ref_repository(&ref);
  cleanup_free char *body = NULL, *media_type = NULL, *platform_buf = NULL;
  struct manifest m = {0};
  size_t len = 0;
  char digest[DIGEST_TEXT_MAX];
  cleanup_free struct blob_job *jobs = NULL;
  cleanup_free char *repo_digest = NULL, *config = NULL;
  cleanup_free int64_t *sizes = NULL;
  struct image_config cfg = {0};
  size_t config_len = 0;
  const char *os, *arch, *variant;
  platform_default(&os, &arch, &variant);
  if (platform != NULL && (platform_buf = strdup(platform)) != NULL &&
      platform_parse(platform_buf, &os, &arch, &variant, err) < 0)
    goto out;
  if (store_hold(s, false, err) < 0)
    goto out;
  body = fetch_manifest(c, &ref, ref.digest != NULL ? ref.digest : ref.tag, &len, &media_type, digest, err);
  if (body == NULL)
    goto out;
  memcpy(result->digest, digest, DIGEST_TEXT_MAX);
  if (media_type_is_index(media_type)) {
    struct image_index idx;
    if (index_parse(body, len, name, &idx, err) < 0)
      goto out;
    const struct descriptor *d = index_select(&idx, os, arch, variant, err);
    char chosen[DIGEST_TEXT_MAX];
    if (d != NULL)
      memcpy(chosen, d->digest, DIGEST_TEXT_MAX);
    index_free(&idx);
    if (d == NULL)
      goto out;
    free(body);
    free(media_type);
    media_type = NULL;
    body = fetch_manifest(c, &ref, chosen, &len, &media_type, digest, err);
    if (body == NULL)
      goto out;
  }
  if (manifest_parse(body, len, name, &m, err) < 0 ||
      store_blob_put_bytes(s, body, len, digest, NULL, err) < 0)
    goto out;
  /* The config first (small), then the layers in parallel. */
  struct blob_job config_job = {.digest = m.config.digest, .size = m.config.size, .index = (size_t)-1};
  struct jobs cj = {.s = s, .c = c, .domain = ref.domain, .repo = ref.path, .jobs = &config_job, .n = 1};
  if (run_jobs(&cj, err) < 0)
    goto out;
  config = store_blob_read(s, m.config.digest, MANIFEST_MAX_SIZE, &config_len, err);
  if (config == NULL || image_config_parse(config, config_len, "image config", &cfg, err) < 0)
    goto out;
  if (cfg.n_diff_ids != m.n_layers) {
    berth_fail(err, 0, "image %s: the manifest has %zu layers, the config %zu diff_ids", m.config.digest, m.n_layers,
               cfg.n_diff_ids);
    goto out;
  }
  jobs = calloc(m.n_layers + 1, sizeof(*jobs));
  sizes = calloc(m.n_layers + 1, sizeof(*sizes));
  if (jobs == NULL || sizes == NULL) {
    berth_fail(err, ENOMEM, "pull");
    goto out;
  }
  bool all_present = true;
  for (size_t i = 0; i < m.n_layers; i++) {
    jobs[i] = (struct blob_job){.digest = m.layers[i].digest, .size = m.layers[i].size, .index = i,
                                .layer = &m.layers[i], .diff_id = cfg.diff_ids[i]};
    images_chain_id(i > 0 ? jobs[i - 1].chain_id : NULL, cfg.diff_ids[i], jobs[i].chain_id);
    all_present = all_present && store_blob_exists(s, m.layers[i].digest);
  }
  begin(progress, m.layers, m.n_layers);
  struct jobs lj = {.s = s, .c = c, .domain = ref.domain, .repo = ref.path, .jobs = jobs, .n = m.n_layers,
                    .progress = progress};
  if (run_jobs(&lj, err) < 0)
    goto out;
  if (asprintf(&repo_digest, "%s@%s", repository, result->digest) < 0) {
    berth_fail(err, ENOMEM, "pull");
    goto out;
  }
  for (size_t i = 0; i < m.n_layers; i++)
    sizes[i] = jobs[i].unpacked_size;
  const char *tags[] = {ref.tag != NULL && ref.digest == NULL ? full : NULL, NULL};
  struct image_add add = {.manifest = body, .manifest_len = len, .tags = tags, .repo_digest = repo_digest,
                          .layer_sizes = sizes};
  if (images_add(s, &add, err) < 0)
    goto out;
  memcpy(result->id, add.id, DIGEST_TEXT_MAX);
  result->downloaded = !all_present;
  ret = 0;
out:
  if (ret < 0)
    berth_error_wrap(err, "pull %s", image_ref_familiar(full != NULL ? full : name));
  image_config_free(&cfg);
  manifest_free(&m);
  image_ref_free(&ref);
  return ret;
}

int image_pull(struct store *s, struct registry_client *c, const char *name, const char *platform,
               const struct transfer_progress *progress, struct pull_result *result, berth_error **err) {
  memset(result, 0, sizeof(*result));
  int ret = pull(s, c, name, platform, progress, result, err);
  if (ret < 0)
    images_discard_new(s);
  return ret;
}

/* A repository of the same registry this image came from, for mounts. */
static char *mount_source(const struct image_record *r, const struct image_ref *target) {
  for (size_t i = 0; i < r->n_repo_digests; i++) {
    struct image_ref from;
    if (image_ref_parse(r->repo_digests[i], &from, NULL) < 0)
      continue;
    char *path = strcmp(from.domain, target->domain) == 0 && strcmp(from.path, target->path) != 0
                     ? strdup(from.path)
                     : NULL;
    image_ref_free(&from);
    if (path != NULL)
      return path;
  }
  return NULL;
}

int image_push(struct store *s, struct registry_client *c, const char *name, const struct transfer_progress *progress,
               char digest[DIGEST_TEXT_MAX], uint64_t *manifest_size, berth_error **err) {
  struct image_ref ref;
  if (image_ref_parse(name, &ref, err) < 0)
    return -1;
  char id[DIGEST_TEXT_MAX];
  struct image_record r = {0};
  struct manifest m = {0};
  cleanup_free char *body = NULL, *from = NULL, *repo_digest = NULL, *repository = image_ref_repository(&ref);
  cleanup_free struct blob_job *jobs = NULL;
  size_t len = 0;
  int ret = -1;
  if (store_hold(s, false, err) < 0 || images_resolve(s, name, id, err) < 0 || images_get(s, id, &r, err) < 0)
    goto out;
  if (images_manifest(s, &r, &body, &len, &m, err) < 0)
    goto out;
  from = mount_source(&r, &ref);
  jobs = calloc(m.n_layers + 2, sizeof(*jobs));
  if (jobs == NULL) {
    berth_fail(err, ENOMEM, "push");
    goto out;
  }
  for (size_t i = 0; i < m.n_layers; i++)
    jobs[i] = (struct blob_job){.digest = m.layers[i].digest, .size = m.layers[i].size, .index = i};
  begin(progress, m.layers, m.n_layers);
  struct jobs lj = {.s = s, .c = c, .domain = ref.domain, .repo = ref.path, .mount_from = from, .push = true,
                    .jobs = jobs, .n = m.n_layers, .progress = progress};
  struct blob_job config_job = {.digest = m.config.digest, .size = m.config.size, .index = (size_t)-1};
  struct jobs cj = {.s = s, .c = c, .domain = ref.domain, .repo = ref.path, .mount_from = from, .push = true,
                    .jobs = &config_job, .n = 1};
  if (run_jobs(&lj, err) < 0 || run_jobs(&cj, err) < 0 ||
      registry_put_manifest(c, ref.domain, ref.path, ref.tag != NULL ? ref.tag : r.manifest_digest,
                            r.manifest_media_type, body, len, err) < 0)
    goto out;
  memcpy(digest, r.manifest_digest, DIGEST_TEXT_MAX);
  *manifest_size = len;
  if (asprintf(&repo_digest, "%s@%s", repository, r.manifest_digest) >= 0)
    images_add_repo_digest(s, repo_digest, id, NULL);
  ret = 0;
out:
  if (ret < 0)
    berth_error_wrap(err, "push %s", name);
  manifest_free(&m);
  image_record_free(&r);
  image_ref_free(&ref);
  return ret;
}
