#include "engine/rootfs_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/rootfs_view.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/path.h"

#define BLOCK 512
#define BUFFER (128 * 1024)

static inline void cleanup_entryp(struct archive_entry **e) {
  if (*e != NULL)
    archive_entry_free(*e);
}
#define cleanup_entry __attribute__((cleanup(cleanup_entryp)))

/* ---- walking a tree ---- */

struct link_seen {
  dev_t dev;
  ino_t ino;
  char *name;
};

struct walk {
  struct entry_sink *sink;
  struct link_seen *links;
  size_t n_links;
};

static const char *first_name(struct walk *w, const struct stat *st) {
  for (size_t i = 0; i < w->n_links; i++)
    if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino)
      return w->links[i].name;
  return NULL;
}

static int remember(struct walk *w, const struct stat *st, const char *name) {
  struct link_seen *l = realloc(w->links, (w->n_links + 1) * sizeof(*l));
  if (l == NULL)
    return -1;
  w->links = l;
  if ((l[w->n_links].name = strdup(name)) == NULL)
    return -1;
  l[w->n_links].dev = st->st_dev;
  l[w->n_links].ino = st->st_ino;
  w->n_links++;
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory fd, sorted (docker's walk is in lexical order). */
static char **list_dir(int fd, size_t *n, berth_error **err) {
  int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  if (d == NULL) {
    if (dup_fd >= 0)
      close(dup_fd);
    berth_fail(err, errno, "read directory");
    return NULL;
  }
  char **names = NULL;
  size_t count = 0, cap = 0;
  struct dirent *de;
  errno = 0;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (count + 1 >= cap) {
      cap = cap ? cap * 2 : 32;
      char **more = realloc(names, cap * sizeof(char *));
      if (more == NULL)
        goto nomem;
      names = more;
    }
    if ((names[count] = strdup(de->d_name)) == NULL)
      goto nomem;
    names[++count] = NULL;
    errno = 0;
  }
  if (errno != 0) {
    berth_fail(err, errno, "read directory");
    goto fail;
  }
  closedir(d);
  if (names == NULL && (names = calloc(1, sizeof(char *))) == NULL) {
    berth_fail(err, ENOMEM, "read directory");
    return NULL;
  }
  qsort(names, count, sizeof(char *), by_name);
  *n = count;
  return names;
nomem:
  berth_fail(err, ENOMEM, "read directory");
fail:
  closedir(d);
  for (size_t i = 0; i < count; i++)
    free(names[i]);
  free(names);
  return NULL;
}

static struct archive_entry *entry_of(const struct stat *st, const char *name) {
  struct archive_entry *ae = archive_entry_new();
  if (ae == NULL)
    return NULL;
  archive_entry_set_pathname(ae, name);
  archive_entry_set_filetype(ae, st->st_mode & S_IFMT);
  archive_entry_set_perm(ae, st->st_mode & 07777);
  archive_entry_set_uid(ae, st->st_uid);
  archive_entry_set_gid(ae, st->st_gid);
  /* docker's headers carry seconds only */
  archive_entry_set_mtime(ae, st->st_mtim.tv_sec, 0);
  if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
    archive_entry_set_rdev(ae, st->st_rdev);
  return ae;
}

static int walk_node(struct walk *w, int dirfd, const char *name, const char *entry_name, int depth,
                     berth_error **err);

static int walk_children(struct walk *w, int fd, const char *prefix, int depth, berth_error **err) {
  size_t n = 0;
  cleanup_strv char **names = list_dir(fd, &n, err);
  if (names == NULL)
    return -1;
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *child = NULL;
    if (prefix != NULL ? asprintf(&child, "%s/%s", prefix, names[i]) < 0 : (child = strdup(names[i])) == NULL)
      return berth_fail(err, ENOMEM, "walk");
    if (walk_node(w, fd, names[i], child, depth + 1, err) < 0)
      return -1;
  }
  return 0;
}

/* entry_name NULL: the node itself is not an entry (export's root). */
static int walk_node(struct walk *w, int dirfd, const char *name, const char *entry_name, int depth,
                     berth_error **err) {
  if (depth > 512)
    return berth_fail(err, ELOOP, "\"%s\": too deep", entry_name);
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT && depth > 0)
      return 0; /* removed while we walk */
    return berth_fail(err, errno, "lstat \"%s\"", entry_name != NULL ? entry_name : name);
  }
  if (S_ISSOCK(st.st_mode))
    return 0; /* tar has no sockets */
  cleanup_close int fd = -1;
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
    fd = openat(dirfd, name,
                (S_ISDIR(st.st_mode) ? O_DIRECTORY : O_NOCTTY | O_NONBLOCK) | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT && depth > 0)
        return 0;
      return berth_fail(err, errno, "open \"%s\"", entry_name != NULL ? entry_name : name);
    }
    /* what was opened is what the header describes */
    if (fstat(fd, &st) < 0)
      return berth_fail(err, errno, "stat \"%s\"", entry_name != NULL ? entry_name : name);
  }
  if (entry_name == NULL)
    return S_ISDIR(st.st_mode) ? walk_children(w, fd, NULL, depth, err) : 0;
  cleanup_entry struct archive_entry *ae = entry_of(&st, *entry_name != '\0' ? entry_name : "/");
  if (ae == NULL)
    return berth_fail(err, ENOMEM, "archive entry");
  struct entry_data data = {.fd = -1};
  if (S_ISREG(st.st_mode)) {
    const char *first = st.st_nlink > 1 ? first_name(w, &st) : NULL;
    if (first != NULL) {
      archive_entry_set_hardlink(ae, first);
      archive_entry_set_size(ae, 0);
    } else {
      if (st.st_nlink > 1 && remember(w, &st, entry_name) < 0)
        return berth_fail(err, ENOMEM, "walk");
      archive_entry_set_size(ae, st.st_size);
      data.fd = fd;
      char cap[256];
      ssize_t cl = fgetxattr(fd, "security.capability", cap, sizeof(cap));
      if (cl > 0)
        archive_entry_xattr_add_entry(ae, "security.capability", cap, (size_t)cl);
    }
  } else if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t tl = readlinkat(dirfd, name, target, sizeof(target) - 1);
    if (tl < 0)
      return berth_fail(err, errno, "readlink \"%s\"", entry_name);
    target[tl] = '\0';
    archive_entry_set_symlink(ae, target);
  }
  if (w->sink->put(w->sink, ae, &data, err) < 0)
    return -1;
  if (S_ISDIR(st.st_mode))
    return walk_children(w, fd, *entry_name != '\0' ? entry_name : "", depth, err);
  return 0;
}

int tree_walk(int parent, const char *name, const char *top, struct entry_sink *sink, berth_error **err) {
  struct walk w = {.sink = sink};
  int r = walk_node(&w, parent, name, top, 0, err);
  for (size_t i = 0; i < w.n_links; i++)
    free(w.links[i].name);
  free(w.links);
  return r;
}

/* ---- writing a tar stream ---- */

static la_ssize_t tar_write(struct archive *a, void *arg, const void *buf, size_t len) {
  struct tar_sink *t = arg;
  if (fs_write_all(t->fd, buf, len) < 0) {
    archive_set_error(a, errno, "write: %s", strerror(errno));
    return -1;
  }
  t->bytes += len;
  return (la_ssize_t)len;
}

static int tar_put(struct entry_sink *s, struct archive_entry *ae, const struct entry_data *data, berth_error **err) {
  struct tar_sink *t = (struct tar_sink *)s;
  if (archive_write_header(t->w, ae) < ARCHIVE_WARN)
    return berth_fail(err, 0, "tar \"%s\": %s", archive_entry_pathname(ae), archive_error_string(t->w));
  la_int64_t left = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
  if (archive_entry_filetype(ae) != AE_IFREG || archive_entry_hardlink(ae) != NULL)
    left = 0;
  cleanup_free char *buf = left > 0 ? malloc(BUFFER) : NULL;
  if (left > 0 && buf == NULL)
    return berth_fail(err, ENOMEM, "tar");
  while (left > 0) {
    ssize_t n = data->ar != NULL ? archive_read_data(data->ar, buf, BUFFER)
                                 : read(data->fd, buf, left < BUFFER ? (size_t)left : BUFFER);
    if (n < 0 && data->ar == NULL && errno == EINTR)
      continue;
    if (n < 0)
      return berth_fail(err, data->ar == NULL ? errno : 0, "read \"%s\"", archive_entry_pathname(ae));
    if (n == 0)
      break; /* it shrank: the rest is zeros, as the header promised */
    if (n > left)
      n = (ssize_t)left;
    if (archive_write_data(t->w, buf, (size_t)n) != n)
      return berth_fail(err, 0, "tar \"%s\": %s", archive_entry_pathname(ae), archive_error_string(t->w));
    left -= n;
  }
  if (archive_write_finish_entry(t->w) < ARCHIVE_WARN)
    return berth_fail(err, 0, "tar \"%s\": %s", archive_entry_pathname(ae), archive_error_string(t->w));
  return 0;
}

int tar_sink_open(struct tar_sink *t, int fd, berth_error **err) {
  memset(t, 0, sizeof(*t));
  t->sink.put = tar_put;
  t->fd = fd;
  t->w = archive_write_new();
  if (t->w == NULL)
    return berth_fail(err, ENOMEM, "tar");
  /* as Go's tar writer: no padding of the last block to 10 KiB */
  if (archive_write_set_format_pax_restricted(t->w) != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(t->w, BLOCK) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(t->w, 1) != ARCHIVE_OK ||
      archive_write_open(t->w, t, NULL, tar_write, NULL) != ARCHIVE_OK) {
    berth_fail(err, 0, "tar: %s", archive_error_string(t->w));
    tar_sink_free(t);
    return -1;
  }
  return 0;
}

int tar_sink_finish(struct tar_sink *t, berth_error **err) {
  int r = archive_write_close(t->w);
  if (r != ARCHIVE_OK)
    return berth_fail(err, 0, "tar: %s", archive_error_string(t->w));
  return 0;
}

void tar_sink_free(struct tar_sink *t) {
  if (t->w != NULL)
    archive_write_free(t->w);
  t->w = NULL;
}

/* ---- extracting ---- */

struct dir_time {
  char *path;
  int64_t mtime;
};

/* The cleaned form of name relative to its extraction directory ("" for
 * the directory itself); -1 when it climbs out. */
static int clean_relative(const char *name, char *out, size_t size) {
  size_t n = 0;
  out[0] = '\0';
  for (const char *p = name; *p != '\0';) {
    p += strspn(p, "/");
    size_t len = strcspn(p, "/");
    if (len == 0)
      break;
    if (len == 1 && p[0] == '.') {
    } else if (len == 2 && p[0] == '.' && p[1] == '.') {
      if (n == 0)
        return -1;
      char *slash = strrchr(out, '/');
      n = slash != NULL ? (size_t)(slash - out) : 0;
      out[n] = '\0';
    } else {
      if (n + len + 2 > size)
        return -1;
      if (n > 0)
        out[n++] = '/';
      memcpy(out + n, p, len);
      n += len;
      out[n] = '\0';
    }
    p += len;
  }
  return 0;
}

static void split(char *rel, const char **parent, const char **base) {
  char *slash = strrchr(rel, '/');
  if (slash == NULL) {
    *parent = "";
    *base = rel;
  } else {
    *slash = '\0';
    *parent = rel;
    *base = slash + 1;
  }
}

/* The directory rel's parent lives in (made, 0755, when missing). */
static int open_parent(struct extract_sink *x, const char *parent, berth_error **err) {
  cleanup_free char *path = NULL;
  if (asprintf(&path, "%s/%s", x->dir, parent) < 0)
    return berth_fail(err, ENOMEM, "extract");
  int fd = rootfs_open_at(x->root, path, O_PATH | O_DIRECTORY);
  if (fd == -ENOENT)
    return path_mkdir_in_root(x->root, path, err);
  if (fd < 0)
    return berth_fail(err, -fd, "%s/%s", x->display, parent);
  return fd;
}

static int copy_data(int out, const struct entry_data *data, la_int64_t size, const char *name, berth_error **err) {
  if (size <= 0)
    return 0;
  cleanup_free char *buf = malloc(BUFFER);
  if (buf == NULL)
    return berth_fail(err, ENOMEM, "extract");
  while (size > 0) {
    ssize_t n = data->ar != NULL ? archive_read_data(data->ar, buf, BUFFER)
                                 : read(data->fd, buf, size < BUFFER ? (size_t)size : BUFFER);
    if (n < 0 && data->ar == NULL && errno == EINTR)
      continue;
    if (n < 0)
      return data->ar != NULL ? berth_fail(err, 0, "read \"%s\": %s", name, archive_error_string(data->ar))
                              : berth_fail(err, errno, "read \"%s\"", name);
    if (n == 0)
      break;
    if (fs_write_all(out, buf, (size_t)n) < 0)
      return berth_fail(err, errno, "write \"%s\"", name);
    size -= n;
  }
  return 0;
}

/* chmod of an fd that may be O_PATH (a device node, a fifo): fchmodat2
 * where the kernel has it, else the fd's own /proc entry. */
static int chmod_fd(int fd, mode_t mode) {
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
  if (syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) == 0)
    return 0;
  char proc[64];
  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
  return chmod(proc, mode);
}

static int set_owner_mode(struct extract_sink *x, int fd, struct archive_entry *ae, bool o_path, const char *name,
                          berth_error **err) {
  if (x->chown) {
    uid_t uid = x->keep_owner ? (uid_t)archive_entry_uid(ae) : 0;
    gid_t gid = x->keep_owner ? (gid_t)archive_entry_gid(ae) : 0;
    if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
      return berth_fail(err, errno, "chown \"%s\" to %u:%u", name, uid, gid);
  }
  if (archive_entry_filetype(ae) == AE_IFLNK)
    return 0;
  mode_t mode = archive_entry_perm(ae) & 07777;
  if ((o_path ? chmod_fd(fd, mode) : fchmod(fd, mode)) < 0)
    return berth_fail(err, errno, "chmod \"%s\"", name);
  return 0;
}

static int remember_dir(struct extract_sink *x, const char *rel, int64_t mtime) {
  struct dir_time *d = realloc(x->dirs, (x->n_dirs + 1) * sizeof(*d));
  if (d == NULL)
    return -1;
  x->dirs = d;
  if (asprintf(&d[x->n_dirs].path, "%s/%s", x->dir, rel) < 0)
    return -1;
  d[x->n_dirs++].mtime = mtime;
  return 0;
}

static int make_link(struct extract_sink *x, int pfd, const char *base, const char *rel, const char *target,
                     berth_error **err) {
  char trel[PATH_MAX];
  if (clean_relative(target, trel, sizeof(trel)) < 0 || trel[0] == '\0')
    return berth_fail(err, 0, "invalid hardlink \"%s/%s\" -> \"%s\"", x->display, rel, target);
  const char *tparent, *tbase;
  split(trel, &tparent, &tbase);
  cleanup_free char *tdir = NULL;
  if (asprintf(&tdir, "%s/%s", x->dir, tparent) < 0)
    return berth_fail(err, ENOMEM, "extract");
  cleanup_close int tfd = rootfs_open_at(x->root, tdir, O_PATH | O_DIRECTORY);
  if (tfd < 0)
    return berth_fail(err, -tfd, "hard link \"%s/%s\" -> \"%s\"", x->display, rel, target);
  /* no AT_SYMLINK_FOLLOW: a symlink is linked as itself, never its target */
  if (linkat(tfd, tbase, pfd, base, 0) < 0)
    return berth_fail(err, errno, "hard link \"%s/%s\" -> \"%s\"", x->display, rel, target);
  return 0;
}

static int extract_put(struct entry_sink *s, struct archive_entry *ae, const struct entry_data *data,
                       berth_error **err) {
  struct extract_sink *x = (struct extract_sink *)s;
  const char *name = archive_entry_pathname(ae);
  const char *hardlink = archive_entry_hardlink(ae);
  const char *symlink = archive_entry_symlink(ae);
  mode_t type = archive_entry_filetype(ae);
  if (name == NULL)
    return berth_fail(err, 0, "archive entry without a name");
  la_int64_t size = type == AE_IFREG && hardlink == NULL && archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
  x->tar_bytes += BLOCK + (uint64_t)(size + BLOCK - 1) / BLOCK * BLOCK;
  if (strlen(name) > 100 || (symlink != NULL && strlen(symlink) > 100) || (hardlink != NULL && strlen(hardlink) > 100))
    x->tar_bytes += 2 * BLOCK;
  char rel[PATH_MAX];
  if (clean_relative(name, rel, sizeof(rel)) < 0)
    return berth_fail(err, 0, "archive entry \"%s\" is outside of \"%s\"", name, x->display);
  bool is_dir = type == AE_IFDIR && hardlink == NULL;
  if (rel[0] == '\0') {
    if (is_dir)
      return 0; /* the extraction directory itself keeps what it has */
    return berth_fail(err, 0, "cannot overwrite directory \"%s\" with non-directory \"%s\"", x->display, name);
  }
  if (symlink != NULL && hardlink == NULL) {
    /* docker's rule: relative link text may not climb out of the copy */
    char joined[PATH_MAX * 2], ignored[PATH_MAX];
    const char *slash = strrchr(rel, '/');
    snprintf(joined, sizeof(joined), "%.*s/%s", slash != NULL ? (int)(slash - rel) : 0, rel, symlink);
    if (clean_relative(joined, ignored, sizeof(ignored)) < 0)
      return berth_fail(err, 0, "invalid symlink \"%s/%s\" -> \"%s\"", x->display, rel, symlink);
  }
  char rel_copy[PATH_MAX];
  strcpy(rel_copy, rel);
  const char *parent, *base;
  split(rel_copy, &parent, &base);
  cleanup_close int pfd = open_parent(x, parent, err);
  if (pfd < 0)
    return -1;
  char shown[PATH_MAX + 256];
  snprintf(shown, sizeof(shown), "%s/%s", strcmp(x->display, "/") == 0 ? "" : x->display, rel);
  struct stat st;
  if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(st.st_mode) && !is_dir)
      return berth_fail(err, 0, "cannot overwrite directory \"%s\" with non-directory \"%s\"", shown, x->display);
    if (!S_ISDIR(st.st_mode) && is_dir)
      return berth_fail(err, 0, "cannot overwrite non-directory \"%s\" with directory \"%s\"", shown, x->display);
    if (!is_dir && unlinkat(pfd, base, 0) < 0)
      return berth_fail(err, errno, "replace \"%s\"", shown);
  } else if (errno != ENOENT) {
    return berth_fail(err, errno, "lstat \"%s\"", shown);
  }
  if (hardlink != NULL)
    return make_link(x, pfd, base, rel, hardlink, err);
  int64_t mtime = archive_entry_mtime(ae);
  struct timespec times[2] = {{.tv_sec = mtime}, {.tv_sec = mtime}};
  cleanup_close int fd = -1;
  bool o_path = false;
  switch (type) {
  case AE_IFDIR:
    if (mkdirat(pfd, base, 0700) < 0 && errno != EEXIST)
      return berth_fail(err, errno, "mkdir \"%s\"", shown);
    fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return berth_fail(err, errno, "open \"%s\"", shown);
    if (set_owner_mode(x, fd, ae, false, shown, err) < 0)
      return -1;
    /* its times after its content is in */
    if (remember_dir(x, rel, mtime) < 0)
      return berth_fail(err, ENOMEM, "extract");
    return 0;
  case AE_IFREG:
    fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
      return berth_fail(err, errno, "create \"%s\"", shown);
    if (copy_data(fd, data, size, shown, err) < 0)
      return -1;
    break;
  case AE_IFLNK:
    if (symlink == NULL || symlinkat(symlink, pfd, base) < 0)
      return berth_fail(err, symlink == NULL ? EINVAL : errno, "symlink \"%s\"", shown);
    o_path = true;
    break;
  case AE_IFCHR:
  case AE_IFBLK:
  case AE_IFIFO:
    if (mknodat(pfd, base, type | 0600, type == AE_IFIFO ? 0 : archive_entry_rdev(ae)) < 0)
      return berth_fail(err, errno, "mknod \"%s\"", shown);
    o_path = true;
    break;
  default:
    return berth_fail(err, 0, "\"%s\": unsupported archive entry type", name);
  }
  if (o_path && (fd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
    return berth_fail(err, errno, "open \"%s\"", shown);
  if (set_owner_mode(x, fd, ae, o_path, shown, err) < 0)
    return -1;
  int r = o_path ? utimensat(pfd, base, times, AT_SYMLINK_NOFOLLOW) : futimens(fd, times);
  if (r < 0)
    return berth_fail(err, errno, "set the times of \"%s\"", shown);
  return 0;
}

void extract_sink_init(struct extract_sink *x, int root, const char *dir, const char *display) {
  memset(x, 0, sizeof(*x));
  x->sink.put = extract_put;
  x->root = root;
  x->dir = dir;
  x->display = display;
}

int extract_sink_finish(struct extract_sink *x, berth_error **err) {
  x->tar_bytes += 2 * BLOCK;
  /* deepest first does not matter: a directory's time is set once */
  for (size_t i = x->n_dirs; i-- > 0;) {
    cleanup_close int fd = rootfs_open_at(x->root, x->dirs[i].path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    struct timespec times[2] = {{.tv_sec = x->dirs[i].mtime}, {.tv_sec = x->dirs[i].mtime}};
    if (fd < 0 || futimens(fd, times) < 0)
      return berth_fail(err, fd < 0 ? -fd : errno, "set the times of \"%s\"", x->dirs[i].path);
  }
  return 0;
}

void extract_sink_free(struct extract_sink *x) {
  for (size_t i = 0; i < x->n_dirs; i++)
    free(x->dirs[i].path);
  free(x->dirs);
  x->dirs = NULL;
  x->n_dirs = 0;
}

/* ---- reading a tar stream ---- */

int tar_read_fd(int fd, struct entry_sink *sink, berth_error **err) {
  struct archive *a = archive_read_new();
  if (a == NULL)
    return berth_fail(err, ENOMEM, "tar");
  int ret = -1;
  /* docker takes compressed streams too */
  if (archive_read_support_filter_all(a) != ARCHIVE_OK || archive_read_support_format_tar(a) != ARCHIVE_OK ||
      archive_read_open_fd(a, fd, BUFFER) != ARCHIVE_OK) {
    berth_fail(err, 0, "read the tar stream: %s", archive_error_string(a));
    goto out;
  }
  struct archive_entry *ae;
  for (;;) {
    int r = archive_read_next_header(a, &ae);
    if (r == ARCHIVE_EOF)
      break;
    if (r < ARCHIVE_WARN) {
      berth_fail(err, 0, "read the tar stream: %s", archive_error_string(a));
      goto out;
    }
    struct entry_data data = {.fd = -1, .ar = a};
    if (sink->put(sink, ae, &data, err) < 0)
      goto out;
  }
  ret = 0;
out:
  archive_read_free(a);
  return ret;
}
