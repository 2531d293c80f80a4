/* docker cp's path rules.  docker splits the work between its CLI (host
 * paths, renaming the archive's top entry) and the daemon (container
 * paths); here both halves run in one process and the archive never
 * exists as bytes unless "-" asks for it: a walker feeds the entries
 * straight into the other side's extractor, with the top entry already
 * named as docker's renames would leave it. */
#include "engine/copy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/rootfs_archive.h"
#include "engine/rootfs_view.h"
#include "util/cleanup.h"

/* ---- Go's path/filepath, which docker's rules are written in ---- */

static char *go_clean(const char *path) {
  size_t len = strlen(path);
  char *out = malloc(len + 2);
  if (out == NULL)
    return NULL;
  bool rooted = path[0] == '/';
  size_t n = 0, floor = 0; /* out[0..floor) cannot be popped by ".." */
  if (rooted)
    out[n++] = '/', floor = 1;
  for (const char *p = path; *p != '\0';) {
    p += strspn(p, "/");
    size_t l = strcspn(p, "/");
    if (l == 0)
      break;
    if (l == 1 && p[0] == '.') {
    } else if (l == 2 && p[0] == '.' && p[1] == '.') {
      if (n > floor) {
        while (n > floor && out[n - 1] != '/')
          n--;
        if (n > floor)
          n--;
      } else if (!rooted) {
        if (n > 0)
          out[n++] = '/';
        out[n++] = '.', out[n++] = '.';
        floor = n;
      }
    } else {
      if (n > 0 && out[n - 1] != '/')
        out[n++] = '/';
      memcpy(out + n, p, l);
      n += l;
    }
    p += l;
  }
  if (n == 0)
    out[n++] = '.';
  out[n] = '\0';
  return out;
}

static char *go_join(const char *a, const char *b) {
  cleanup_free char *both = NULL;
  if (*a == '\0')
    return go_clean(b);
  if (*b == '\0')
    return go_clean(a);
  if (asprintf(&both, "%s/%s", a, b) < 0)
    return NULL;
  return go_clean(both);
}

/* filepath.Base: the last element, trailing slashes ignored. */
static char *go_base(const char *path) {
  if (*path == '\0')
    return strdup(".");
  size_t len = strlen(path);
  while (len > 0 && path[len - 1] == '/')
    len--;
  if (len == 0)
    return strdup("/");
  size_t start = len;
  while (start > 0 && path[start - 1] != '/')
    start--;
  return strndup(path + start, len - start);
}

/* filepath.Dir: all but the last element, cleaned. */
static char *go_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  cleanup_free char *head = strndup(path, slash != NULL ? (size_t)(slash - path) + 1 : 0);
  return head != NULL ? go_clean(head) : NULL;
}

static bool specifies_current_dir(const char *path) {
  cleanup_free char *base = go_base(path);
  return base != NULL && strcmp(base, ".") == 0;
}

static bool has_trailing_separator(const char *path) {
  size_t len = strlen(path);
  return len > 0 && path[len - 1] == '/';
}

/* docker's PreserveTrailingDotOrSeparator: cleaning must not lose the
 * "/." or "/" the user wrote, they change what is copied. */
static char *preserve_trailing(const char *cleaned, const char *original) {
  char *out = malloc(strlen(cleaned) + 3);
  if (out == NULL)
    return NULL;
  strcpy(out, cleaned);
  if (!specifies_current_dir(out) && specifies_current_dir(original)) {
    if (!has_trailing_separator(out))
      strcat(out, "/");
    strcat(out, ".");
  }
  if (!has_trailing_separator(out) && has_trailing_separator(original))
    strcat(out, "/");
  return out;
}

/* docker's SplitPathDirEntry. */
static int split_dir_entry(const char *path, char **dir, char **base) {
  cleanup_free char *cleaned = go_clean(path);
  cleanup_free char *with_dot = NULL;
  if (cleaned == NULL)
    return -1;
  const char *p = cleaned;
  if (specifies_current_dir(path)) {
    if (asprintf(&with_dot, "%s/.", cleaned) < 0)
      return -1;
    p = with_dot;
  }
  *dir = go_dir(p);
  *base = go_base(p);
  if (*dir == NULL || *base == NULL) {
    free(*dir);
    free(*base);
    return -1;
  }
  return 0;
}

/* docker's GetRebaseName: the resolved path keeps the "/." or "/" of the
 * one asked for, and the archive is renamed back when the last element
 * changed. */
static int rebase_name(const char *path, const char *resolved, char **out_path, char **rebase) {
  size_t len = strlen(resolved);
  char *p = malloc(len + 3);
  if (p == NULL)
    return -1;
  strcpy(p, resolved);
  if (specifies_current_dir(path) && !specifies_current_dir(p))
    strcat(p, "/.");
  if (has_trailing_separator(path) && !has_trailing_separator(p))
    strcat(p, "/");
  cleanup_free char *b1 = go_base(path), *b2 = go_base(p);
  *rebase = NULL;
  if (b1 == NULL || b2 == NULL) {
    free(p);
    return -1;
  }
  if (strcmp(b1, b2) != 0)
    *rebase = TAKE_PTR(b1);
  *out_path = p;
  return 0;
}

/* ---- the host side (docker's CLI) ---- */

/* filepath.Abs, keeping the trailing "/." or "/". */
static char *resolve_local(const char *path, berth_error **err) {
  cleanup_free char *joined = NULL;
  if (path[0] == '/') {
    joined = go_clean(path);
  } else {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == NULL) {
      berth_fail(err, errno, "getwd");
      return NULL;
    }
    joined = go_join(cwd, path);
  }
  char *out = joined != NULL ? preserve_trailing(joined, path) : NULL;
  if (out == NULL)
    berth_fail(err, ENOMEM, "%s", path);
  return out;
}

/* docker's ValidateOutputPath. */
static int validate_output(const char *path, berth_error **err) {
  cleanup_free char *cleaned = go_clean(path);
  cleanup_free char *dir = cleaned != NULL ? go_dir(cleaned) : NULL;
  struct stat st;
  if (dir == NULL)
    return berth_fail(err, ENOMEM, "%s", path);
  if (strcmp(dir, ".") != 0 && stat(dir, &st) < 0 && errno == ENOENT)
    return berth_fail(err, 0, "invalid output path: directory \"%s\" does not exist", dir);
  if (stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
    return berth_fail(err, 0, "invalid output path: \"%s\" must be a directory or a regular file: got a device", path);
  return 0;
}

struct copy_info {
  char *path;
  bool exists, is_dir;
  char *rebase;
};

static void copy_info_clear(struct copy_info *i) {
  free(i->path);
  free(i->rebase);
}

/* docker's CopyInfoDestinationPath: a symlink as destination is followed
 * (the copy replaces its target), a missing one needs its parent. */
static int host_destination(const char *path, struct copy_info *info, berth_error **err) {
  memset(info, 0, sizeof(*info));
  if ((info->path = strdup(path)) == NULL)
    return berth_fail(err, ENOMEM, "%s", path);
  struct stat st;
  int r = lstat(info->path, &st);
  for (int n = 0; r == 0 && S_ISLNK(st.st_mode); n++) {
    if (n > 10)
      return berth_fail(err, 0, "too many symlinks in %s", path);
    char target[PATH_MAX];
    ssize_t tl = readlink(info->path, target, sizeof(target) - 1);
    if (tl < 0)
      return berth_fail(err, errno, "readlink %s", info->path);
    target[tl] = '\0';
    char *next = NULL;
    if (target[0] == '/') {
      next = strdup(target);
    } else {
      cleanup_free char *dir = NULL, *base = NULL;
      if (split_dir_entry(info->path, &dir, &base) == 0)
        next = go_join(dir, target);
    }
    if (next == NULL)
      return berth_fail(err, ENOMEM, "%s", path);
    free(info->path);
    info->path = next;
    r = lstat(info->path, &st);
  }
  if (r < 0) {
    if (errno != ENOENT)
      return berth_fail(err, errno, "lstat %s", info->path);
    cleanup_free char *dir = NULL, *base = NULL;
    if (split_dir_entry(info->path, &dir, &base) < 0)
      return berth_fail(err, ENOMEM, "%s", path);
    if (stat(dir, &st) < 0)
      return berth_fail(err, errno, "stat %s", dir);
    if (!S_ISDIR(st.st_mode))
      return berth_fail(err, 0, "not a directory");
    return 0;
  }
  info->exists = true;
  info->is_dir = S_ISDIR(st.st_mode);
  return 0;
}

/* docker's CopyInfoSourcePath with ResolveHostSourcePath: the parent's
 * symlinks are resolved, the last element's only with -L. */
static int host_source(const char *path, bool follow, struct copy_info *info, berth_error **err) {
  memset(info, 0, sizeof(*info));
  if (follow) {
    char *real = realpath(path, NULL);
    if (real == NULL)
      return berth_fail(err, errno, "lstat %s", path);
    int r = rebase_name(path, real, &info->path, &info->rebase);
    free(real);
    if (r < 0)
      return berth_fail(err, ENOMEM, "%s", path);
  } else {
    const char *slash = strrchr(path, '/');
    cleanup_free char *dir = strndup(path, (size_t)(slash - path) + 1);
    char *real = dir != NULL ? realpath(dir, NULL) : NULL;
    if (real == NULL)
      return berth_fail(err, errno, "lstat %s", path);
    int r = asprintf(&info->path, "%s/%s", strcmp(real, "/") == 0 ? "" : real, slash + 1);
    free(real);
    if (r < 0)
      return berth_fail(err, ENOMEM, "%s", path);
    cleanup_free char *b1 = go_base(path), *b2 = go_base(info->path);
    if (has_trailing_separator(path) && b1 != NULL && b2 != NULL && strcmp(b1, b2) != 0)
      info->rebase = TAKE_PTR(b1);
  }
  struct stat st;
  if (lstat(info->path, &st) < 0)
    return berth_fail(err, errno, "lstat %s", info->path);
  info->exists = true;
  info->is_dir = S_ISDIR(st.st_mode);
  return 0;
}

/* Replaces the first old in top with new (docker's RebaseArchiveEntries on
 * the top entry; "" is a container's root). */
static char *rename_top(const char *top, const char *old, const char *new) {
  const char *at = *top != '\0' ? strstr(top, old) : NULL;
  if (*top == '\0')
    return strdup(new);
  if (at == NULL)
    return strdup(top);
  char *out = NULL;
  if (asprintf(&out, "%.*s%s%s", (int)(at - top), top, new, at + strlen(old)) < 0)
    return NULL;
  return out;
}

/* docker's PrepareArchiveCopy: where the archive is extracted and what its
 * top entry must be called there.  *top is replaced. */
static int prepare_copy(const struct copy_info *src, const struct copy_info *dst, char **top, char **dst_dir,
                        berth_error **err) {
  cleanup_free char *dir = NULL, *base = NULL, *src_dir = NULL, *src_base = NULL;
  if (split_dir_entry(dst->path, &dir, &base) < 0 || split_dir_entry(src->path, &src_dir, &src_base) < 0)
    return berth_fail(err, ENOMEM, "copy");
  if (dst->exists && dst->is_dir) {
    *dst_dir = strdup(dst->path);
    return *dst_dir != NULL ? 0 : berth_fail(err, ENOMEM, "copy");
  }
  if (dst->exists && src->is_dir)
    return berth_fail(err, 0, "cannot copy directory");
  if (!dst->exists && !src->is_dir && (has_trailing_separator(dst->path) || specifies_current_dir(dst->path)))
    return berth_fail(err, 0, "no such directory");
  char *renamed = rename_top(*top, src->rebase != NULL ? src->rebase : src_base, base);
  if (renamed == NULL)
    return berth_fail(err, ENOMEM, "copy");
  free(*top);
  *top = renamed;
  *dst_dir = TAKE_PTR(dir);
  return 0;
}

/* ---- the container side (docker's daemon) ---- */

/* lstat of a container path; a trailing "/" or "/." follows the last
 * symlink, as it does in the kernel.  fd: the entry (O_PATH), or -errno. */
static int container_lstat(const struct rootfs_view *v, const char *abs_path, struct stat *st) {
  bool follow = has_trailing_separator(abs_path) || specifies_current_dir(abs_path);
  int fd = rootfs_open_at(v->root, abs_path, O_PATH | (follow ? 0 : O_NOFOLLOW));
  if (fd < 0)
    return fd;
  int r = fstat(fd, st) < 0 ? -errno : 0;
  close(fd);
  return r;
}

static char *container_abs(const char *path) {
  cleanup_free char *joined = go_join("/", path);
  return joined != NULL ? preserve_trailing(joined, path) : NULL;
}

static int not_found(const char *path, const char *container, int r, berth_error **err) {
  if (r == -ENOENT)
    return berth_fail(err, 0, "Could not find the file %s in container %s", path, container);
  return berth_fail(err, -r, "lstat %s", path);
}

/* The directory and name to walk for the container path abs (a directory
 * is walked from itself, "."), and its archive name as the daemon sends
 * it (docker's containerArchivePath). */
static int container_top(const struct rootfs_view *v, const char *abs, bool is_dir, int *parent, char **name,
                         char **top, berth_error **err) {
  cleanup_free char *base = go_base(abs), *dir = go_dir(abs);
  if (base == NULL || dir == NULL)
    return berth_fail(err, ENOMEM, "copy");
  bool follow = has_trailing_separator(abs) || specifies_current_dir(abs);
  int fd = is_dir ? rootfs_open_at(v->root, abs, O_PATH | O_DIRECTORY | (follow ? 0 : O_NOFOLLOW))
                  : rootfs_open_at(v->root, dir, O_PATH | O_DIRECTORY);
  if (fd < 0)
    return berth_fail(err, -fd, "open %s", abs);
  *parent = fd;
  *name = strdup(is_dir ? "." : base);
  *top = strdup(strcmp(base, "/") == 0 ? "" : base);
  if (*name == NULL || *top == NULL)
    return berth_fail(err, ENOMEM, "copy");
  return 0;
}

static int from_container(struct engine *e, const struct copy_request *req, struct copy_result *res,
                          berth_error **err) {
  bool stream = strcmp(req->host_path, "-") == 0;
  cleanup_free char *dst = NULL;
  if (!stream && ((dst = resolve_local(req->host_path, err)) == NULL || validate_output(dst, err) < 0))
    return -1;
  struct rootfs_view v;
  if (rootfs_view_open(e, req->container, true, &v, err) < 0)
    return -1;
  int ret = -1;
  struct copy_info src = {0}, dst_info = {0};
  cleanup_free char *abs = NULL, *name = NULL, *top = NULL, *dst_dir = NULL;
  cleanup_close int parent = -1, host_root = -1;
  struct stat st;
  if ((src.path = strdup(req->container_path)) == NULL) {
    berth_fail(err, ENOMEM, "copy");
    goto out;
  }
  if (req->follow_link) {
    cleanup_free char *given = container_abs(src.path);
    if (given != NULL && container_lstat(&v, given, &st) == 0 && S_ISLNK(st.st_mode)) {
      cleanup_free char *target = rootfs_resolve(v.root, given, true, err);
      char *resolved = NULL;
      if (target == NULL)
        goto out;
      if (rebase_name(src.path, target, &resolved, &src.rebase) < 0) {
        berth_fail(err, ENOMEM, "copy");
        goto out;
      }
      free(src.path);
      src.path = resolved;
    }
  }
  if ((abs = container_abs(src.path)) == NULL) {
    berth_fail(err, ENOMEM, "copy");
    goto out;
  }
  int r = container_lstat(&v, abs, &st);
  if (r < 0) {
    not_found(src.path, req->container, r, err);
    goto out;
  }
  src.exists = true;
  src.is_dir = S_ISDIR(st.st_mode);
  if (container_top(&v, abs, src.is_dir, &parent, &name, &top, err) < 0)
    goto out;
  if (stream) {
    struct tar_sink t;
    if (tar_sink_open(&t, req->stream_fd, err) < 0)
      goto out;
    ret = tree_walk(parent, name, top, &t.sink, err) < 0 || tar_sink_finish(&t, err) < 0 ? -1 : 0;
    res->bytes = t.bytes;
    tar_sink_free(&t);
    goto out;
  }
  if (src.rebase != NULL) {
    cleanup_free char *d = NULL, *b = NULL;
    char *renamed = split_dir_entry(src.path, &d, &b) == 0 ? rename_top(top, b, src.rebase) : NULL;
    if (renamed == NULL) {
      berth_fail(err, ENOMEM, "copy");
      goto out;
    }
    free(top);
    top = renamed;
  }
  if (host_destination(dst, &dst_info, err) < 0 || prepare_copy(&src, &dst_info, &top, &dst_dir, err) < 0)
    goto out;
  if ((host_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
    berth_fail(err, errno, "open /");
    goto out;
  }
  struct extract_sink x;
  extract_sink_init(&x, host_root, dst_dir, dst_dir);
  ret = tree_walk(parent, name, top, &x.sink, err) < 0 || extract_sink_finish(&x, err) < 0 ? -1 : 0;
  res->bytes = x.tar_bytes;
  extract_sink_free(&x);
  snprintf(res->dest, sizeof(res->dest), "%s", dst);
out:
  copy_info_clear(&src);
  copy_info_clear(&dst_info);
  rootfs_view_close(&v);
  return ret;
}

/* The directory in the container an archive is extracted into (docker's
 * containerExtractToDir): it must exist, be a directory, and be writable
 * as docker allows. */
static int extraction_point(const struct rootfs_view *v, const char *container, const char *path, char **abs,
                            berth_error **err) {
  if ((*abs = container_abs(path)) == NULL)
    return berth_fail(err, ENOMEM, "copy");
  cleanup_close int fd = rootfs_open_at(v->root, *abs, O_PATH);
  if (fd < 0)
    return not_found(path, container, fd, err);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return berth_fail(err, errno, "stat %s", path);
  if (!S_ISDIR(st.st_mode))
    return berth_fail(err, 0, "extraction point is not a directory");
  return rootfs_view_check_writable(v, fd, err);
}

static int to_container(struct engine *e, const struct copy_request *req, struct copy_result *res,
                        berth_error **err) {
  bool stream = strcmp(req->host_path, "-") == 0;
  cleanup_free char *src_path = NULL;
  if (!stream && (src_path = resolve_local(req->host_path, err)) == NULL)
    return -1;
  struct rootfs_view v;
  if (rootfs_view_open(e, req->container, true, &v, err) < 0)
    return -1;
  int ret = -1;
  struct copy_info src = {0}, dst = {0};
  cleanup_free char *abs = NULL, *top = NULL, *dst_dir = NULL, *point = NULL, *sdir = NULL, *sbase = NULL;
  cleanup_close int parent = -1;
  struct stat st;
  if ((dst.path = strdup(req->container_path)) == NULL || (abs = container_abs(dst.path)) == NULL) {
    berth_fail(err, ENOMEM, "copy");
    goto out;
  }
  int r = container_lstat(&v, abs, &st);
  if (r == 0 && S_ISLNK(st.st_mode)) {
    char *target = rootfs_resolve(v.root, abs, true, err);
    if (target == NULL)
      goto out;
    free(dst.path);
    dst.path = target;
    r = container_lstat(&v, target, &st);
  }
  if (r == 0) {
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      berth_fail(err, 0, "destination \"%s:%s\" must be a directory or a regular file: got a device",
                 req->container, req->container_path);
      goto out;
    }
    dst.exists = true;
    dst.is_dir = S_ISDIR(st.st_mode);
  }
  snprintf(res->dest, sizeof(res->dest), "%s:%s", req->container, dst.path);
  if (stream) {
    if (!dst.is_dir) {
      berth_fail(err, 0, "destination \"%s:%s\" must be a directory", req->container, req->container_path);
      goto out;
    }
    if (extraction_point(&v, req->container, dst.path, &point, err) < 0)
      goto out;
    struct extract_sink x;
    extract_sink_init(&x, v.root, point, point);
    x.chown = true;
    x.keep_owner = req->archive;
    ret = tar_read_fd(req->stream_fd, &x.sink, err) < 0 || extract_sink_finish(&x, err) < 0 ? -1 : 0;
    extract_sink_free(&x);
    res->bytes = 0; /* docker does not count stdin */
    goto out;
  }
  if (host_source(src_path, req->follow_link, &src, err) < 0 || split_dir_entry(src.path, &sdir, &sbase) < 0)
    goto out;
  if ((top = strdup(src.rebase != NULL ? src.rebase : sbase)) == NULL) {
    berth_fail(err, ENOMEM, "copy");
    goto out;
  }
  if (prepare_copy(&src, &dst, &top, &dst_dir, err) < 0 || extraction_point(&v, req->container, dst_dir, &point, err) < 0)
    goto out;
  if ((parent = open(sdir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
    berth_fail(err, errno, "open %s", sdir);
    goto out;
  }
  struct extract_sink x;
  extract_sink_init(&x, v.root, point, point);
  x.chown = true;
  x.keep_owner = req->archive;
  ret = tree_walk(parent, sbase, top, &x.sink, err) < 0 || extract_sink_finish(&x, err) < 0 ? -1 : 0;
  res->bytes = x.tar_bytes;
  extract_sink_free(&x);
out:
  copy_info_clear(&src);
  copy_info_clear(&dst);
  rootfs_view_close(&v);
  return ret;
}

int copy_split_arg(const char *arg, char **container, const char **path, berth_error **err) {
  *container = NULL;
  *path = arg;
  const char *colon = strchr(arg, ':');
  if (arg[0] == '/' || colon == NULL || arg[0] == '.')
    return 0;
  if ((*container = strndup(arg, (size_t)(colon - arg))) == NULL)
    return berth_fail(err, ENOMEM, "%s", arg);
  *path = colon + 1;
  return 0;
}

int copy_run(struct engine *e, const struct copy_request *req, struct copy_result *res, berth_error **err) {
  memset(res, 0, sizeof(*res));
  return req->to_container ? to_container(e, req, res, err) : from_container(e, req, res, err);
}

int copy_export(struct engine *e, const char *ref, int fd, berth_error **err) {
  struct rootfs_view v;
  if (rootfs_view_open(e, ref, false, &v, err) < 0)
    return -1;
  struct tar_sink t;
  int ret = -1;
  if (tar_sink_open(&t, fd, err) == 0) {
    ret = tree_walk(v.root, ".", NULL, &t.sink, err) < 0 || tar_sink_finish(&t, err) < 0 ? -1 : 0;
    tar_sink_free(&t);
  }
  rootfs_view_close(&v);
  return ret;
}
