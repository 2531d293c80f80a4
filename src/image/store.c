#include "image/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/db.h"
#include "util/cleanup.h"
#include "util/fs.h"

static const char images_schema[] =
    "CREATE TABLE IF NOT EXISTS images ("
    "  id TEXT PRIMARY KEY,"              /* config digest */
    "  manifest_digest TEXT NOT NULL,"
    "  manifest_media_type TEXT NOT NULL,"
    "  created TEXT NOT NULL DEFAULT '',"  /* config.created */
    "  architecture TEXT NOT NULL DEFAULT '',"
    "  os TEXT NOT NULL DEFAULT '',"
    "  size INTEGER NOT NULL,"            /* unpacked bytes of its layers */
    "  added INTEGER NOT NULL);"          /* unix time stored here */
    "CREATE TABLE IF NOT EXISTS tags ("
    "  name TEXT PRIMARY KEY,"            /* docker.io/library/busybox:latest */
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
    "CREATE INDEX IF NOT EXISTS tags_by_image ON tags(image_id);"
    "CREATE TABLE IF NOT EXISTS repo_digests ("
    "  name TEXT NOT NULL,"               /* docker.io/library/busybox@sha256:... */
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (name, image_id));"
    "CREATE TABLE IF NOT EXISTS layers ("
    "  chain_id TEXT PRIMARY KEY,"
    "  diff_id TEXT NOT NULL,"
    "  parent TEXT,"                      /* chain id of the layer below */
    "  blob_digest TEXT NOT NULL,"        /* the blob it was unpacked from */
    "  blob_media_type TEXT NOT NULL,"
    "  blob_size INTEGER NOT NULL,"
    "  size INTEGER NOT NULL);"           /* unpacked bytes */
    "CREATE TABLE IF NOT EXISTS image_layers ("
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  position INTEGER NOT NULL,"
    "  chain_id TEXT NOT NULL REFERENCES layers(chain_id),"
    "  PRIMARY KEY (image_id, position));"
    "CREATE INDEX IF NOT EXISTS image_layers_by_chain ON image_layers(chain_id);"
    /* every blob an image's manifest names (config, layers): a chain id's
     * layer may come from different blobs (gzip from a registry, plain
     * from an archive), and each image keeps its own */
    "CREATE TABLE IF NOT EXISTS image_blobs ("
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  digest TEXT NOT NULL,"
    "  PRIMARY KEY (image_id, digest));"
    "CREATE INDEX IF NOT EXISTS image_blobs_by_digest ON image_blobs(digest);";

static int open_dir(int parent, const char *name, berth_error **err) {
  if (mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
    return berth_fail(err, errno, "create store directory \"%s\"", name);
  int fd = openat(parent, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "open store directory \"%s\"", name);
  return fd;
}

struct store *store_open(const char *root, berth_error **err) {
  struct store *s = calloc(1, sizeof(*s));
  if (s == NULL) {
    berth_fail(err, ENOMEM, "store");
    return NULL;
  }
  s->rootfd = s->blobsfd = s->layersfd = s->tmpfd = s->lockfd = -1;
  pthread_mutex_init(&s->created_lock, NULL);
  s->root = strdup(root);
  cleanup_close int blobs = -1;
  cleanup_free char *db_path = NULL;
  if (fs_mkdir_p(root, 0700, err) < 0)
    goto fail;
  s->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (s->rootfd < 0) {
    berth_fail(err, errno, "engine root \"%s\"", root);
    goto fail;
  }
  blobs = open_dir(s->rootfd, "blobs", err);
  if (blobs < 0 || (s->blobsfd = open_dir(blobs, "sha256", err)) < 0 ||
      (s->layersfd = open_dir(s->rootfd, "layers", err)) < 0 || (s->tmpfd = open_dir(s->rootfd, "tmp", err)) < 0)
    goto fail;
  if (asprintf(&db_path, "%s/berth.db", root) < 0 || (s->db = db_open(db_path, err)) == NULL ||
      db_ensure_schema(s->db, db_path, "images", 1, images_schema, err) < 0)
    goto fail;
  return s;
fail:
  store_close(s);
  return NULL;
}

void store_close(struct store *s) {
  if (s == NULL)
    return;
  int fds[] = {s->rootfd, s->blobsfd, s->layersfd, s->tmpfd, s->lockfd};
  for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
    if (fds[i] >= 0)
      close(fds[i]);
  db_close(s->db);
  free(s->created);
  free(s->created_layers);
  pthread_mutex_destroy(&s->created_lock);
  free(s->root);
  free(s);
}

static int lock_store(struct store *s, int how, berth_error **err) {
  if (s->lockfd < 0) {
    s->lockfd = openat(s->rootfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (s->lockfd < 0)
      return berth_fail(err, errno, "store lock \"%s/lock\"", s->root);
  }
  while (flock(s->lockfd, how) < 0) {
    if (errno == EWOULDBLOCK)
      return 0;
    if (errno != EINTR)
      return berth_fail(err, errno, "store lock \"%s/lock\"", s->root);
  }
  return 1;
}

int store_hold(struct store *s, bool exclusive, berth_error **err) {
  return lock_store(s, exclusive ? LOCK_EX : LOCK_SH, err) < 0 ? -1 : 0;
}

int store_try_hold_exclusive(struct store *s, berth_error **err) {
  return lock_store(s, LOCK_EX | LOCK_NB, err);
}

/* O_TMPFILE needs a real fd of the directory, not O_PATH. */
static int dir_fd_for_create(int pathfd, berth_error **err) {
  int fd = openat(pathfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "open store directory");
  return fd;
}

static void note(struct store *s, char (**list)[DIGEST_TEXT_MAX], size_t *n, size_t *cap, const char *digest) {
  pthread_mutex_lock(&s->created_lock);
  if (*n == *cap) {
    size_t new_cap = *cap == 0 ? 16 : 2 * *cap;
    void *grown = realloc(*list, new_cap * DIGEST_TEXT_MAX);
    if (grown == NULL) {
      pthread_mutex_unlock(&s->created_lock);
      return;
    }
    *list = grown;
    *cap = new_cap;
  }
  memcpy((*list)[(*n)++], digest, DIGEST_TEXT_MAX);
  pthread_mutex_unlock(&s->created_lock);
}

static void note_created(struct store *s, const char *digest) {
  note(s, &s->created, &s->n_created, &s->cap_created, digest);
}

void store_note_layer(struct store *s, const char *chain_id) {
  note(s, &s->created_layers, &s->n_created_layers, &s->cap_created_layers, chain_id);
}

int store_tmpfile(struct store *s, berth_error **err) {
  cleanup_close int dir = dir_fd_for_create(s->tmpfd, err);
  if (dir < 0)
    return -1;
  int fd = openat(dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return berth_fail(err, errno, "temporary file in \"%s/tmp\"", s->root);
  return fd;
}

/* fsyncs fd and links it into blobs/ under its digest; an existing blob of
 * that digest is the same content, so EEXIST is success. */
static int link_blob(struct store *s, int fd, const char *digest, berth_error **err) {
  if (fsync(fd) < 0)
    return berth_fail(err, errno, "blob %s: fsync", digest);
  char proc[64];
  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
  if (linkat(AT_FDCWD, proc, s->blobsfd, digest_hex(digest), AT_SYMLINK_FOLLOW) < 0) {
    if (errno != EEXIST)
      return berth_fail(err, errno, "blob %s: store", digest);
  } else {
    note_created(s, digest);
  }
  return 0;
}

static int check_expected(const char *expected, const char *got, berth_error **err) {
  if (expected != NULL && strcmp(expected, got) != 0)
    return berth_fail(err, 0, "blob %s: digest mismatch (content is %s)", expected, got);
  return 0;
}

int store_blob_put_fd(struct store *s, int in_fd, const char *expected, char out[DIGEST_TEXT_MAX], uint64_t *size,
                      berth_error **err) {
  if (expected != NULL && !digest_valid(expected))
    return berth_fail(err, 0, "invalid digest \"%s\"", expected);
  cleanup_close int dir = dir_fd_for_create(s->blobsfd, err);
  if (dir < 0)
    return -1;
  cleanup_close int fd = openat(dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return berth_fail(err, errno, "blob: temporary file");
  enum { BUF_SIZE = 1 << 17 };
  cleanup_free char *buf = malloc(BUF_SIZE);
  struct digester *d = buf != NULL ? digester_new() : NULL;
  if (d == NULL)
    return berth_fail(err, ENOMEM, "blob");
  uint64_t total = 0;
  for (;;) {
    ssize_t n = read(in_fd, buf, BUF_SIZE);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 || (n > 0 && fs_write_all(fd, buf, (size_t)n) < 0)) {
      int saved = errno;
      digester_free(d);
      return berth_fail(err, saved, "blob%s%s: %s", expected != NULL ? " " : "", expected != NULL ? expected : "",
                        n < 0 ? "read" : "write");
    }
    if (n == 0)
      break;
    digester_update(d, buf, (size_t)n);
    total += (uint64_t)n;
  }
  char got[DIGEST_TEXT_MAX];
  digester_final(d, got);
  digester_free(d);
  if (check_expected(expected, got, err) < 0 || link_blob(s, fd, got, err) < 0)
    return -1;
  if (out != NULL)
    memcpy(out, got, DIGEST_TEXT_MAX);
  if (size != NULL)
    *size = total;
  return 0;
}

int store_blob_put_bytes(struct store *s, const void *data, size_t len, const char *expected,
                         char out[DIGEST_TEXT_MAX], berth_error **err) {
  char got[DIGEST_TEXT_MAX];
  digest_bytes(data, len, got);
  if (check_expected(expected, got, err) < 0)
    return -1;
  if (out != NULL)
    memcpy(out, got, DIGEST_TEXT_MAX);
  if (store_blob_exists(s, got))
    return 0;
  cleanup_close int dir = dir_fd_for_create(s->blobsfd, err);
  if (dir < 0)
    return -1;
  cleanup_close int fd = openat(dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return berth_fail(err, errno, "blob %s: temporary file", got);
  if (fs_write_all(fd, data, len) < 0)
    return berth_fail(err, errno, "blob %s: write", got);
  return link_blob(s, fd, got, err);
}

bool store_blob_exists(struct store *s, const char *digest) {
  return digest_valid(digest) && faccessat(s->blobsfd, digest_hex(digest), F_OK, 0) == 0;
}

int store_blob_open(struct store *s, const char *digest, berth_error **err) {
  if (!digest_valid(digest))
    return berth_fail(err, 0, "invalid digest \"%s\"", digest);
  int fd = openat(s->blobsfd, digest_hex(digest), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "blob %s", digest);
  return fd;
}

char *store_blob_read(struct store *s, const char *digest, size_t max, size_t *len, berth_error **err) {
  cleanup_close int fd = store_blob_open(s, digest, err);
  if (fd < 0)
    return NULL;
  struct stat st;
  if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > max) {
    berth_fail(err, errno != 0 ? errno : EFBIG, "blob %s: larger than %zu bytes", digest, max);
    return NULL;
  }
  char *text = fs_read_fd(fd, len, err);
  if (text == NULL)
    berth_error_wrap(err, "blob %s", digest);
  return text;
}

int store_blob_size(struct store *s, const char *digest, uint64_t *size, berth_error **err) {
  struct stat st;
  if (!digest_valid(digest) || fstatat(s->blobsfd, digest_hex(digest), &st, 0) < 0)
    return berth_fail(err, errno, "blob %s", digest);
  *size = (uint64_t)st.st_size;
  return 0;
}

static void partial_name(const char *digest, char name[96]) {
  snprintf(name, 96, "partial-%s", digest_hex(digest));
}

int store_blob_partial(struct store *s, const char *digest, berth_error **err) {
  if (!digest_valid(digest))
    return berth_fail(err, 0, "invalid digest \"%s\"", digest);
  char name[96];
  partial_name(digest, name);
  cleanup_close int dir = dir_fd_for_create(s->tmpfd, err);
  if (dir < 0)
    return -1;
  int fd = openat(dir, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return berth_fail(err, errno, "blob %s: download file", digest);
  while (flock(fd, LOCK_EX) < 0) {
    if (errno != EINTR) {
      int saved = errno;
      close(fd);
      return berth_fail(err, saved, "blob %s: lock download file", digest);
    }
  }
  return fd;
}

int store_blob_partial_commit(struct store *s, const char *digest, int fd, berth_error **err) {
  char name[96];
  partial_name(digest, name);
  if (fsync(fd) < 0)
    return berth_fail(err, errno, "blob %s: fsync", digest);
  if (renameat(s->tmpfd, name, s->blobsfd, digest_hex(digest)) < 0)
    return berth_fail(err, errno, "blob %s: store", digest);
  note_created(s, digest);
  return 0;
}

void store_blob_partial_drop(struct store *s, const char *digest, int fd) {
  char name[96];
  partial_name(digest, name);
  struct stat mine, there;
  /* Only our own file: after a rename the name may be someone else's. */
  if (fstat(fd, &mine) == 0 && fstatat(s->tmpfd, name, &there, AT_SYMLINK_NOFOLLOW) == 0 && mine.st_ino == there.st_ino &&
      mine.st_dev == there.st_dev)
    unlinkat(s->tmpfd, name, 0);
}
