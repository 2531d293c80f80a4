#include "storage/layer_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/path.h"

/* Tars list a directory's entries together, but a walk in name order
 * interleaves a directory's files with its subdirectories' (a/, a/b/x,
 * a/c): a few open parents cover the way back up. */
#define CACHE_SLOTS 8

struct cached_dir {
  char *path;
  size_t len, cap;
  int fd;
  uint64_t used; /* for least-recently-used replacement; 0: empty */
};

struct dir_times {
  size_t name; /* offset into names */
  struct timespec ts[2];
};

struct layer_tree {
  int root; /* O_PATH */
  struct cached_dir cache[CACHE_SLOTS];
  uint64_t clock;
  bool stale;
  struct dir_times *times;
  size_t ntimes, times_cap;
  char *names;
  size_t names_len, names_cap;
};

static bool force_fallback;
static bool have_openat2 = true;

void layer_tree_force_fallback(bool on) {
  force_fallback = on;
  path_force_fallback(on);
}

/* Opens path beneath root: -EXDEV when resolving it would leave root (".."
 * above it, an absolute symlink, a symlink that climbs out), which
 * RESOLVE_BENEATH checks in the kernel for every component. */
static int open_beneath(int root, const char *path, int flags) {
  if (!force_fallback && have_openat2) {
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    /* EAGAIN: a rename elsewhere raced with the lookup; the kernel asks
     * for a retry rather than risk a wrong answer. */
    for (int i = 0; i < 16; i++) {
      int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
      if (fd >= 0)
        return fd;
      if (errno != EAGAIN && errno != ENOSYS)
        return -errno;
      if (errno == ENOSYS) {
        have_openat2 = false;
        break;
      }
    }
    if (have_openat2)
      return -EAGAIN;
  }
  /* Without openat2: a walk that treats root as "/", so a symlink out of
   * the layer lands inside it instead of failing; still confined. */
  cleanup_error berth_error *e = NULL;
  int fd = path_open_in_root(root, path, flags, &e);
  if (fd < 0)
    return -(e != NULL && e->errnum != 0 ? e->errnum : EIO);
  return fd;
}

struct layer_tree *layer_tree_new(int dest_dirfd) {
  struct layer_tree *t = calloc(1, sizeof(*t));
  if (t == NULL)
    return NULL;
  for (size_t i = 0; i < CACHE_SLOTS; i++)
    t->cache[i].fd = -1;
  t->root = openat(dest_dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (t->root < 0) {
    int saved = errno;
    free(t);
    errno = saved;
    return NULL;
  }
  return t;
}

static void cache_clear(struct layer_tree *t) {
  for (size_t i = 0; i < CACHE_SLOTS; i++) {
    if (t->cache[i].fd >= 0)
      close(t->cache[i].fd);
    t->cache[i].fd = -1;
    t->cache[i].used = 0;
  }
}

void layer_tree_free(struct layer_tree *t) {
  if (t == NULL)
    return;
  cache_clear(t);
  for (size_t i = 0; i < CACHE_SLOTS; i++)
    free(t->cache[i].path);
  close(t->root);
  free(t->times);
  free(t->names);
  free(t);
}

int layer_name_clean(const char *name, char *out, const char **why) {
  if (name[0] == '/') {
    *why = "absolute name";
    return -1;
  }
  size_t o = 0;
  const char *p = name;
  while (*p != '\0') {
    const char *start = p;
    while (*p != '\0' && *p != '/')
      p++;
    size_t len = (size_t)(p - start);
    while (*p == '/')
      p++;
    if (len == 0 || (len == 1 && start[0] == '.'))
      continue;
    if (len == 2 && start[0] == '.' && start[1] == '.') {
      *why = "\"..\" component";
      return -1;
    }
    if (o > 0)
      out[o++] = '/';
    memcpy(out + o, start, len);
    o += len;
  }
  out[o] = '\0';
  return 0;
}

void layer_tree_next_entry(struct layer_tree *t) {
  if (t->stale)
    cache_clear(t);
  t->stale = false;
}

/* dir and its missing ancestors, made one component at a time, each
 * looked up again beneath the root after it is made. */
static int make_dirs(struct layer_tree *t, const char *dir) {
  cleanup_free char *copy = strdup(dir);
  if (copy == NULL)
    return -ENOMEM;
  cleanup_close int cur = -1;
  char *component = copy;
  for (;;) {
    char *slash = strchr(component, '/');
    if (slash != NULL)
      *slash = '\0';
    int fd = open_beneath(t->root, copy, O_PATH | O_DIRECTORY);
    if (fd == -ENOENT) {
      if (mkdirat(cur >= 0 ? cur : t->root, component, 0755) < 0 && errno != EEXIST)
        return -errno;
      fd = open_beneath(t->root, copy, O_PATH | O_DIRECTORY);
    }
    if (fd < 0)
      return fd;
    if (cur >= 0)
      close(cur);
    cur = fd;
    if (slash == NULL)
      return TAKE_FD(cur);
    *slash = '/';
    component = slash + 1;
  }
}

int layer_tree_dir(struct layer_tree *t, const char *dir, bool create) {
  if (dir[0] == '\0')
    return t->root;
  size_t len = strlen(dir);
  struct cached_dir *victim = &t->cache[0];
  for (size_t i = 0; i < CACHE_SLOTS; i++) {
    struct cached_dir *c = &t->cache[i];
    if (c->fd >= 0 && c->len == len && memcmp(c->path, dir, len) == 0) {
      c->used = ++t->clock;
      return c->fd;
    }
    if (c->used < victim->used)
      victim = c;
  }
  int fd = open_beneath(t->root, dir, O_PATH | O_DIRECTORY);
  if (fd == -ENOENT && create)
    fd = make_dirs(t, dir);
  if (fd < 0)
    return fd;
  if (victim->cap < len + 1) {
    char *p = realloc(victim->path, len + 1);
    if (p == NULL) {
      close(fd);
      return -ENOMEM;
    }
    victim->path = p;
    victim->cap = len + 1;
  }
  if (victim->fd >= 0)
    close(victim->fd);
  memcpy(victim->path, dir, len + 1);
  victim->len = len;
  victim->fd = fd;
  victim->used = ++t->clock;
  return fd;
}

int layer_tree_take_name(struct layer_tree *t, int dirfd, const char *base, bool keep_dir) {
  struct stat st;
  if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : -errno;
  if (S_ISDIR(st.st_mode)) {
    if (keep_dir)
      return 1;
    /* Open parents may lie inside the tree that goes: forget them. */
    t->stale = true;
    cleanup_error berth_error *e = NULL;
    if (fs_remove_tree_at(dirfd, base, &e) < 0)
      return -(e != NULL && e->errnum != 0 ? e->errnum : EIO);
    return 0;
  }
  if (S_ISLNK(st.st_mode))
    t->stale = true; /* an open parent may have been reached through it */
  if (unlinkat(dirfd, base, 0) < 0 && errno != ENOENT)
    return -errno;
  return 0;
}

int layer_tree_defer_times(struct layer_tree *t, const char *dir, const struct timespec ts[2]) {
  size_t len = strlen(dir) + 1;
  if (t->ntimes == t->times_cap) {
    size_t cap = t->times_cap ? t->times_cap * 2 : 256;
    struct dir_times *p = reallocarray(t->times, cap, sizeof(*p));
    if (p == NULL)
      return -ENOMEM;
    t->times = p;
    t->times_cap = cap;
  }
  if (t->names_len + len > t->names_cap) {
    size_t cap = t->names_cap ? t->names_cap * 2 : 16384;
    while (cap < t->names_len + len)
      cap *= 2;
    char *p = realloc(t->names, cap);
    if (p == NULL)
      return -ENOMEM;
    t->names = p;
    t->names_cap = cap;
  }
  memcpy(t->names + t->names_len, dir, len);
  t->times[t->ntimes].name = t->names_len;
  t->times[t->ntimes].ts[0] = ts[0];
  t->times[t->ntimes].ts[1] = ts[1];
  t->ntimes++;
  t->names_len += len;
  return 0;
}

int layer_tree_apply_times(struct layer_tree *t, const char **failed) {
  for (size_t i = 0; i < t->ntimes; i++) {
    const char *name = t->names + t->times[i].name;
    int fd = open_beneath(t->root, name[0] != '\0' ? name : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    /* Gone, or no longer a directory: a later entry took its name (or its
     * parent's) and has its own times. */
    if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP || fd == -EXDEV)
      continue;
    if (fd < 0) {
      *failed = name;
      return fd;
    }
    int r = futimens(fd, t->times[i].ts) < 0 ? -errno : 0;
    close(fd);
    if (r < 0) {
      *failed = name;
      return r;
    }
  }
  return 0;
}
