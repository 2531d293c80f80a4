#include "engine/changes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/lifecycle_internal.h"
#include "util/cleanup.h"

#define OPAQUE_XATTR "trusted.overlay.opaque"
#define REDIRECT_XATTR "trusted.overlay.redirect"

const char *change_kind_name(enum change_kind k) {
  return k == CHANGE_ADD ? "A" : k == CHANGE_DELETE ? "D" : "C";
}

void changes_free(struct change *v, size_t n) {
  for (size_t i = 0; v != NULL && i < n; i++)
    free(v[i].path);
  free(v);
}

/* ---- the container's layers ---- */

void changes_close(struct changes_source *src) {
  if (src->upper_fd >= 0)
    close(src->upper_fd);
  for (size_t i = 0; i < src->n_lower; i++)
    if (src->lower_fds[i] >= 0)
      close(src->lower_fds[i]);
  free(src->lower_fds);
  *src = (struct changes_source){.upper_fd = -1};
}

int changes_open(struct engine *e, const struct container *c, struct changes_source *src, berth_error **err) {
  *src = (struct changes_source){.upper_fd = -1};
  char **lower;
  size_t n;
  if (lifecycle_lower_dirs(e, c, &lower, &n, err) < 0)
    return -1;
  int ret = -1;
  cleanup_free char *upper = engine_container_path(e, c->id, "diff");
  src->lower_fds = calloc(n + 1, sizeof(int));
  if (upper == NULL || src->lower_fds == NULL) {
    berth_fail(err, ENOMEM, "container %s", c->id);
    goto out;
  }
  src->upper_fd = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (src->upper_fd < 0) {
    berth_fail(err, errno, "container %s: open \"%s\"", c->id, upper);
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    int fd = open(lower[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      berth_fail(err, errno, "container %s: image layer \"%s\"", c->id, lower[i]);
      goto out;
    }
    src->lower_fds[src->n_lower++] = fd;
  }
  ret = 0;
out:
  lifecycle_lower_dirs_free(lower, n);
  if (ret < 0)
    changes_close(src);
  return ret;
}

static bool is_whiteout(const struct stat *st) {
  return S_ISCHR(st->st_mode) && major(st->st_rdev) == 0 && minor(st->st_rdev) == 0;
}

static bool is_opaque(int dirfd) {
  char v[2];
  return fgetxattr(dirfd, OPAQUE_XATTR, v, sizeof(v)) == 1 && v[0] == 'y';
}

#define LAYER_ABSENT (-2)

/* The directory path ("" or "/" for the top) of one layer: an fd, -1 on
 * error, or LAYER_ABSENT when the layer has none there (*stop when nothing
 * below shows through either: a whiteout or a non-directory on the way,
 * or an opaque directory).  Never through a symlink. */
static int layer_dir(int layer_fd, const char *path, bool *opaque, bool *stop, berth_error **err) {
  cleanup_free char *copy = strdup(path);
  if (copy == NULL)
    return berth_fail(err, ENOMEM, "%s", path);
  int dir = openat(layer_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return berth_fail(err, errno, "image layer");
  char *save = NULL;
  for (char *part = strtok_r(copy, "/", &save); part != NULL; part = strtok_r(NULL, "/", &save)) {
    int fd = openat(dir, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int saved = errno;
    close(dir);
    if (fd < 0) {
      if (saved != ENOENT && saved != ENOTDIR && saved != ELOOP)
        return berth_fail(err, saved, "image layer: %s", path);
      *stop = saved != ENOENT || *opaque;
      return LAYER_ABSENT;
    }
    dir = fd;
    *opaque = *opaque || is_opaque(fd);
  }
  return dir;
}

/* One layer: 1 found (*st; *parent, when asked for, gets its directory's
 * fd), 0 not there (*stop as layer_dir), -1 on error. */
static int layer_lookup(int layer_fd, const char *path, struct stat *st, bool *stop, int *parent, berth_error **err) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL || slash[1] == '\0')
    return berth_fail(err, EINVAL, "image layer: %s", path);
  cleanup_free char *dir_path = strndup(path, (size_t)(slash - path));
  if (dir_path == NULL)
    return berth_fail(err, ENOMEM, "%s", path);
  bool opaque = false;
  int dir_fd = layer_dir(layer_fd, dir_path, &opaque, stop, err);
  if (dir_fd == LAYER_ABSENT)
    return 0;
  if (dir_fd < 0)
    return -1;
  cleanup_close int dir = dir_fd;
  if (fstatat(dir, slash + 1, st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno != ENOENT)
      return berth_fail(err, errno, "image layer: %s", path);
    *stop = opaque;
    return 0;
  }
  if (is_whiteout(st)) {
    *stop = true;
    return 0;
  }
  if (parent != NULL)
    *parent = TAKE_FD(dir);
  return 1;
}

int changes_lower_stat(const struct changes_source *src, const char *path, struct stat *st, berth_error **err) {
  for (size_t i = 0; i < src->n_lower; i++) {
    bool stop = false;
    int r = layer_lookup(src->lower_fds[i], path, st, &stop, NULL, err);
    if (r != 0 || stop)
      return r;
  }
  return 0;
}

/* ---- the walk ---- */

/* What the runtime creates to mount on when the image lacks it. */
static bool placeholder(const struct changes_source *src, const char *path, const struct stat *st,
                        berth_error **err, int *failed) {
  static const char *const files[] = {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"};
  static const char *const dirs[] = {"/proc", "/sys", "/dev"};
  bool candidate = false;
  if (S_ISREG(st->st_mode) && st->st_size == 0)
    for (size_t i = 0; i < ARRAY_SIZE(files) && !candidate; i++)
      candidate = strcmp(path, files[i]) == 0;
  if (S_ISDIR(st->st_mode))
    for (size_t i = 0; i < ARRAY_SIZE(dirs) && !candidate; i++)
      candidate = strcmp(path, dirs[i]) == 0;
  if (!candidate)
    return false;
  struct stat lower;
  int r = changes_lower_stat(src, path, &lower, err);
  if (r < 0)
    *failed = -1;
  return r == 0;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

/* The names in dirfd, sorted bytewise. */
static int read_names(int dirfd, const char *path, char ***out, size_t *n, berth_error **err) {
  *out = NULL;
  *n = 0;
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d == NULL) {
    int saved = errno;
    if (fd >= 0)
      close(fd);
    return berth_fail(err, saved, "upper layer: read \"%s\"", path);
  }
  size_t cap = 0;
  char **names = NULL;
  struct dirent *de;
  int ret = 0;
  for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (*n == cap) {
      cap = cap == 0 ? 16 : 2 * cap;
      char **grown = realloc(names, cap * sizeof(*names));
      if (grown == NULL) {
        ret = berth_fail(err, ENOMEM, "upper layer");
        break;
      }
      names = grown;
    }
    if ((names[*n] = strdup(de->d_name)) == NULL) {
      ret = berth_fail(err, ENOMEM, "upper layer");
      break;
    }
    (*n)++;
  }
  if (ret == 0 && errno != 0)
    ret = berth_fail(err, errno, "upper layer: read \"%s\"", path);
  closedir(d);
  if (ret < 0) {
    free_names(names, *n);
    *n = 0;
    return -1;
  }
  if (*n > 1)
    qsort(names, *n, sizeof(*names), compare_names);
  *out = names;
  return 0;
}

struct walk {
  const struct changes_source *src;
  changes_visit_fn *fn;
  void *arg;
};

/* A directory that holds nothing but placeholders, itself as the image
 * has it apart from its times (the placeholders changed those) or made
 * for them: /etc of an image without /etc/hosts.  Nothing of it is a
 * change. */
static bool only_placeholders(const struct walk *w, int fd, const char *path, const struct stat *st,
                              berth_error **err, int *failed) {
  if (strcmp(path, "/etc") != 0)
    return false;
  struct stat lower;
  int r = changes_lower_stat(w->src, path, &lower, err);
  if (r < 0) {
    *failed = -1;
    return false;
  }
  /* made for the mount points, or the image's own as it was */
  if (r == 1 && (!S_ISDIR(lower.st_mode) || lower.st_mode != st->st_mode || lower.st_uid != st->st_uid ||
                 lower.st_gid != st->st_gid || is_opaque(fd)))
    return false;
  char **names;
  size_t n;
  if (read_names(fd, path, &names, &n, err) < 0) {
    *failed = -1;
    return false;
  }
  bool only = n > 0;
  for (size_t i = 0; i < n && only && *failed == 0; i++) {
    char child[4096];
    struct stat cst;
    snprintf(child, sizeof(child), "%s/%s", path, names[i]);
    only = fstatat(fd, names[i], &cst, AT_SYMLINK_NOFOLLOW) == 0 && placeholder(w->src, child, &cst, err, failed);
  }
  free_names(names, n);
  return only && *failed == 0;
}

static int walk_dir(const struct walk *w, int dirfd, const char *path, berth_error **err) {
  char **names;
  size_t n;
  if (read_names(dirfd, path, &names, &n, err) < 0)
    return -1;
  int ret = 0;
  size_t plen = strcmp(path, "/") == 0 ? 0 : strlen(path);
  for (size_t i = 0; i < n && ret == 0; i++) {
    size_t len = plen + 1 + strlen(names[i]) + 1;
    cleanup_free char *child = malloc(len);
    if (child == NULL) {
      ret = berth_fail(err, ENOMEM, "upper layer");
      break;
    }
    snprintf(child, len, "%.*s/%s", (int)plen, path, names[i]);
    struct stat st;
    if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) /* removed by the running container meanwhile */
        continue;
      ret = berth_fail(err, errno, "upper layer: stat \"%s\"", child);
      break;
    }
    int failed = 0;
    if (placeholder(w->src, child, &st, err, &failed) || failed < 0) {
      ret = failed;
      continue;
    }
    struct upper_entry e = {.path = child, .dirfd = dirfd, .name = names[i], .st = &st};
    e.whiteout = is_whiteout(&st);
    cleanup_close int fd = -1;
    if (S_ISDIR(st.st_mode)) {
      fd = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        if (errno == ENOENT)
          continue;
        ret = berth_fail(err, errno, "upper layer: open \"%s\"", child);
        break;
      }
      char v[1];
      if (fgetxattr(fd, REDIRECT_XATTR, v, 0) >= 0) {
        ret = berth_fail(err, 0, "upper layer: \"%s\" is a redirected directory (overlay redirect_dir), which berth does not read",
                         child);
        break;
      }
      if (only_placeholders(w, fd, child, &st, err, &failed) || failed < 0) {
        ret = failed;
        continue;
      }
      e.opaque = is_opaque(fd);
    }
    ret = w->fn(w->arg, &e, err);
    if (ret == 0 && fd >= 0)
      ret = walk_dir(w, fd, child, err);
  }
  free_names(names, n);
  return ret;
}

int changes_walk(const struct changes_source *src, changes_visit_fn *fn, void *arg, berth_error **err) {
  struct walk w = {.src = src, .fn = fn, .arg = arg};
  return walk_dir(&w, src->upper_fd, "/", err);
}

/* ---- the image's view of a directory ---- */

struct name_list {
  char **v;
  size_t n, cap;
};

static void name_list_free(struct name_list *l) {
  free_names(l->v, l->n);
  *l = (struct name_list){0};
}

static bool name_list_has(const struct name_list *l, const char *name) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], name) == 0)
      return true;
  return false;
}

static int name_list_add(struct name_list *l, const char *name, berth_error **err) {
  if (l->n == l->cap) {
    size_t cap = l->cap == 0 ? 32 : 2 * l->cap;
    char **grown = realloc(l->v, cap * sizeof(*grown));
    if (grown == NULL)
      return berth_fail(err, ENOMEM, "diff");
    l->v = grown;
    l->cap = cap;
  }
  if ((l->v[l->n] = strdup(name)) == NULL)
    return berth_fail(err, ENOMEM, "diff");
  l->n++;
  return 0;
}

/* The names the image shows in its directory path (its layers merged:
 * whiteouts hide, opaque directories end the merge). */
static int lower_list(const struct changes_source *src, const char *path, struct name_list *out, berth_error **err) {
  *out = (struct name_list){0};
  struct name_list hidden = {0};
  int ret = 0;
  for (size_t i = 0; i < src->n_lower && ret == 0; i++) {
    bool opaque = false, stop = false;
    cleanup_close int fd = layer_dir(src->lower_fds[i], path, &opaque, &stop, err);
    if (fd == -1) {
      ret = -1;
      break;
    }
    if (fd >= 0) {
      char **names;
      size_t n;
      if (read_names(fd, path, &names, &n, err) < 0) {
        ret = -1;
        break;
      }
      for (size_t j = 0; j < n && ret == 0; j++) {
        struct stat st;
        if (name_list_has(&hidden, names[j]) || name_list_has(out, names[j]))
          continue;
        bool whiteout = fstatat(fd, names[j], &st, AT_SYMLINK_NOFOLLOW) == 0 && is_whiteout(&st);
        ret = name_list_add(whiteout ? &hidden : out, names[j], err);
      }
      free_names(names, n);
    }
    if (stop || opaque)
      break;
  }
  name_list_free(&hidden);
  if (ret < 0)
    name_list_free(out);
  else if (out->n > 1)
    qsort(out->v, out->n, sizeof(*out->v), compare_names);
  return ret;
}

/* ---- docker's diff ---- */

/* docker compares the container's file system with its image's, as two
 * trees (its "naive" diff): an entry is "C" when its type, mode, owner or
 * device differ, or for a non-directory its size, mtime or file
 * capability; "A" when the image lacks it (and everything below an added
 * directory is added); "D" when only the image has it (a deleted
 * directory is one line); a directory with changes below it is "C" too. */
struct diff_state {
  const struct changes_source *src;
  struct walk w;
  struct change *v;
  size_t n, cap;
};

static int record_at(struct diff_state *d, size_t at, enum change_kind kind, const char *path, berth_error **err) {
  if (d->n == d->cap) {
    size_t cap = d->cap == 0 ? 32 : 2 * d->cap;
    struct change *grown = realloc(d->v, cap * sizeof(*grown));
    if (grown == NULL)
      return berth_fail(err, ENOMEM, "diff");
    d->v = grown;
    d->cap = cap;
  }
  char *copy = strdup(path);
  if (copy == NULL)
    return berth_fail(err, ENOMEM, "diff");
  memmove(&d->v[at + 1], &d->v[at], (d->n - at) * sizeof(*d->v));
  d->v[at] = (struct change){.kind = kind, .path = copy};
  d->n++;
  return 0;
}

static int record(struct diff_state *d, enum change_kind kind, const char *path, berth_error **err) {
  return record_at(d, d->n, kind, path, err);
}

/* Go's sameFsTime: equal, or the same second with one side truncated. */
static bool same_time(const struct timespec *a, const struct timespec *b) {
  return a->tv_sec == b->tv_sec && (a->tv_nsec == b->tv_nsec || a->tv_nsec == 0 || b->tv_nsec == 0);
}

/* security.capability of the regular file name in dirfd (0 when none). */
static ssize_t capability_of(int dirfd, const char *name, char *buf, size_t size) {
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = fgetxattr(fd, "security.capability", buf, size);
  return n < 0 ? 0 : n;
}

static bool stat_different(const struct stat *old, const struct stat *new) {
  if (old->st_mode != new->st_mode || old->st_uid != new->st_uid || old->st_gid != new->st_gid ||
      old->st_rdev != new->st_rdev)
    return true;
  return !S_ISDIR(old->st_mode) && (!same_time(&old->st_mtim, &new->st_mtim) || old->st_size != new->st_size);
}

static int diff_dir(struct diff_state *d, int dirfd, const char *path, bool opaque, bool added, berth_error **err);

/* Whether the file's capability differs from the image's file's. */
static int capability_differs(const struct diff_state *d, const char *path, int dirfd, const char *name,
                              bool *differs, berth_error **err) {
  char a[256], b[256];
  ssize_t na = capability_of(dirfd, name, a, sizeof(a)), nb = 0;
  for (size_t i = 0; i < d->src->n_lower; i++) {
    struct stat st;
    bool stop = false;
    int parent = -1;
    int r = layer_lookup(d->src->lower_fds[i], path, &st, &stop, &parent, err);
    if (r < 0)
      return -1;
    if (r == 1) {
      nb = capability_of(parent, strrchr(path, '/') + 1, b, sizeof(b));
      close(parent);
      break;
    }
    if (stop)
      break;
  }
  *differs = na != nb || (na > 0 && memcmp(a, b, (size_t)na) != 0);
  return 0;
}

/* One entry of the upper directory. */
static int diff_entry(struct diff_state *d, int dirfd, const char *name, const char *path, bool added,
                      berth_error **err) {
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : berth_fail(err, errno, "upper layer: stat \"%s\"", path);
  int failed = 0;
  if (placeholder(d->src, path, &st, err, &failed) || failed < 0)
    return failed;
  cleanup_close int fd = -1;
  if (S_ISDIR(st.st_mode)) {
    fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return errno == ENOENT ? 0 : berth_fail(err, errno, "upper layer: open \"%s\"", path);
    if (only_placeholders(&d->w, fd, path, &st, err, &failed) || failed < 0)
      return failed;
  }
  if (added) {
    if (is_whiteout(&st))
      return 0;
    if (record(d, CHANGE_ADD, path, err) < 0)
      return -1;
    return fd >= 0 ? diff_dir(d, fd, path, false, true, err) : 0;
  }
  struct stat lower;
  int r = changes_lower_stat(d->src, path, &lower, err);
  if (r < 0)
    return -1;
  if (is_whiteout(&st))
    return r == 1 ? record(d, CHANGE_DELETE, path, err) : 0;
  if (r == 0) {
    if (record(d, CHANGE_ADD, path, err) < 0)
      return -1;
    return fd >= 0 ? diff_dir(d, fd, path, false, true, err) : 0;
  }
  size_t at = d->n;
  bool changed = stat_different(&lower, &st);
  if (!changed && S_ISREG(st.st_mode) && capability_differs(d, path, dirfd, name, &changed, err) < 0)
    return -1;
  if (changed && record(d, CHANGE_MODIFY, path, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  /* a directory where the image had a file: all of it is new */
  if (diff_dir(d, fd, path, is_opaque(fd), !S_ISDIR(lower.st_mode), err) < 0)
    return -1;
  if (!changed && d->n > at)
    return record_at(d, at, CHANGE_MODIFY, path, err);
  return 0;
}

/* The entries of an upper directory in name order; for an opaque one
 * (the container replaced the image's directory) the image's entries it
 * no longer has are deletions. */
static int diff_dir(struct diff_state *d, int dirfd, const char *path, bool opaque, bool added, berth_error **err) {
  char **names;
  size_t n;
  if (read_names(dirfd, path, &names, &n, err) < 0)
    return -1;
  struct name_list old = {0};
  int ret = opaque && !added ? lower_list(d->src, path, &old, err) : 0;
  size_t plen = strcmp(path, "/") == 0 ? 0 : strlen(path);
  size_t i = 0, j = 0;
  while (ret == 0 && (i < n || j < old.n)) {
    int cmp = i == n ? 1 : j == old.n ? -1 : strcmp(names[i], old.v[j]);
    const char *name = cmp <= 0 ? names[i] : old.v[j];
    size_t len = plen + strlen(name) + 2;
    cleanup_free char *child = malloc(len);
    if (child == NULL) {
      ret = berth_fail(err, ENOMEM, "diff");
      break;
    }
    snprintf(child, len, "%.*s/%s", (int)plen, path, name);
    if (cmp <= 0)
      ret = diff_entry(d, dirfd, name, child, added, err);
    else
      ret = record(d, CHANGE_DELETE, child, err);
    if (cmp <= 0)
      i++;
    if (cmp >= 0)
      j++;
  }
  name_list_free(&old);
  free_names(names, n);
  return ret;
}

int changes_list(struct engine *e, const char *ref, struct change **out, size_t *n, berth_error **err) {
  *out = NULL;
  *n = 0;
  struct container c;
  if (containers_find(e, ref, &c, err) < 0)
    return -1;
  struct changes_source src;
  int ret = changes_open(e, &c, &src, err);
  container_clear(&c);
  if (ret < 0)
    return -1;
  struct diff_state d = {.src = &src, .w = {.src = &src}};
  ret = diff_dir(&d, src.upper_fd, "/", false, false, err);
  changes_close(&src);
  if (ret < 0) {
    changes_free(d.v, d.n);
    return -1;
  }
  *out = d.v;
  *n = d.n;
  return 0;
}
