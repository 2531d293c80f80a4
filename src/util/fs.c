#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

int fs_write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int fs_write_file_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode,
                     berth_error **err) {
  int flags = O_WRONLY | O_TRUNC | O_CLOEXEC | (mode != 0 ? O_CREAT : 0);
  cleanup_close int fd = openat(dirfd, path, flags, mode);
  if (fd < 0)
    return berth_fail(err, errno, "open \"%s\"", path);
  ssize_t n = write(fd, data, len);
  if (n < 0)
    return berth_fail(err, errno, "write \"%s\"", path);
  if ((size_t)n != len && fs_write_all(fd, (const char *)data + n, len - (size_t)n) < 0)
    return berth_fail(err, errno, "write \"%s\"", path);
  return 0;
}

int fs_write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode,
                            berth_error **err) {
  cleanup_free char *tmp = NULL;
  if (asprintf(&tmp, "%s.tmp", path) < 0)
    return berth_fail(err, ENOMEM, "write \"%s\"", path);
  cleanup_close int fd = openat(dirfd, tmp, O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, mode);
  if (fd < 0)
    return berth_fail(err, errno, "open \"%s\"", tmp);
  if (fs_write_all(fd, data, len) < 0) {
    int saved = errno;
    unlinkat(dirfd, tmp, 0);
    return berth_fail(err, saved, "write \"%s\"", tmp);
  }
  if (renameat(dirfd, tmp, dirfd, path) < 0) {
    int saved = errno;
    unlinkat(dirfd, tmp, 0);
    return berth_fail(err, saved, "rename \"%s\"", tmp);
  }
  return 0;
}

char *fs_read_fd(int fd, size_t *len, berth_error **err) {
  size_t cap = 4096, used = 0;
  char *buf = malloc(cap);
  if (buf == NULL) {
    berth_fail(err, ENOMEM, "read");
    return NULL;
  }
  for (;;) {
    if (used + 1 >= cap) {
      cap *= 2;
      char *bigger = realloc(buf, cap);
      if (bigger == NULL) {
        free(buf);
        berth_fail(err, ENOMEM, "read");
        return NULL;
      }
      buf = bigger;
    }
    ssize_t n = read(fd, buf + used, cap - used - 1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int saved = errno;
      free(buf);
      berth_fail(err, saved, "read");
      return NULL;
    }
    if (n == 0)
      break;
    used += (size_t)n;
  }
  buf[used] = '\0';
  if (len != NULL)
    *len = used;
  return buf;
}

char *fs_read_file_at(int dirfd, const char *path, size_t *len, berth_error **err) {
  cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    berth_fail(err, errno, "open \"%s\"", path);
    return NULL;
  }
  char *buf = fs_read_fd(fd, len, err);
  if (buf == NULL)
    berth_error_wrap(err, "\"%s\"", path);
  return buf;
}

int fs_mkdir_p(const char *path, mode_t mode, berth_error **err) {
  cleanup_free char *copy = strdup(path);
  if (copy == NULL)
    return berth_fail(err, ENOMEM, "mkdir \"%s\"", path);
  for (char *p = copy + 1;; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    char saved = *p;
    *p = '\0';
    if (mkdir(copy, mode) < 0 && errno != EEXIST)
      return berth_fail(err, errno, "mkdir \"%s\"", copy);
    *p = saved;
    if (saved == '\0')
      break;
  }
  return 0;
}

static int remove_children(int dirfd, const char *path, berth_error **err) {
  int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "open \"%s\"", path);
  DIR *dir = fdopendir(fd);
  if (dir == NULL) {
    close(fd);
    return berth_fail(err, errno, "opendir \"%s\"", path);
  }
  struct dirent *de;
  int ret = 0;
  while ((de = readdir(dir)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (unlinkat(fd, de->d_name, 0) == 0)
      continue;
    if (errno == EISDIR || errno == EPERM) {
      if (remove_children(fd, de->d_name, err) < 0 || unlinkat(fd, de->d_name, AT_REMOVEDIR) < 0) {
        if (*err == NULL)
          berth_fail(err, errno, "remove \"%s/%s\"", path, de->d_name);
        ret = -1;
        break;
      }
    } else if (errno != ENOENT) {
      ret = berth_fail(err, errno, "remove \"%s/%s\"", path, de->d_name);
      break;
    }
  }
  closedir(dir);
  return ret;
}

int fs_remove_tree_at(int dirfd, const char *path, berth_error **err) {
  if (unlinkat(dirfd, path, AT_REMOVEDIR) == 0 || errno == ENOENT)
    return 0;
  if (errno == ENOTDIR) {
    if (unlinkat(dirfd, path, 0) < 0 && errno != ENOENT)
      return berth_fail(err, errno, "remove \"%s\"", path);
    return 0;
  }
  if (remove_children(dirfd, path, err) < 0)
    return -1;
  if (unlinkat(dirfd, path, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return berth_fail(err, errno, "remove \"%s\"", path);
  return 0;
}

char *fs_absolute_path(const char *path, berth_error **err) {
  char cwd[PATH_MAX];
  cleanup_free char *joined = NULL;
  if (path[0] == '/') {
    joined = strdup(path);
  } else {
    if (getcwd(cwd, sizeof(cwd)) == NULL) {
      berth_fail(err, errno, "getcwd");
      return NULL;
    }
    if (asprintf(&joined, "%s/%s", cwd, path) < 0)
      joined = NULL;
  }
  if (joined == NULL) {
    berth_fail(err, ENOMEM, "path \"%s\"", path);
    return NULL;
  }
  /* Lexical clean-up: drop "." and empty components, fold "..". */
  char *out = malloc(strlen(joined) + 2);
  if (out == NULL) {
    berth_fail(err, ENOMEM, "path \"%s\"", path);
    return NULL;
  }
  size_t o = 0;
  char *save = NULL;
  for (char *c = strtok_r(joined, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
    if (strcmp(c, ".") == 0)
      continue;
    if (strcmp(c, "..") == 0) {
      while (o > 0 && out[o - 1] != '/')
        o--;
      if (o > 0)
        o--;
      continue;
    }
    out[o++] = '/';
    size_t l = strlen(c);
    memcpy(out + o, c, l);
    o += l;
  }
  if (o == 0)
    out[o++] = '/';
  out[o] = '\0';
  return out;
}

struct inode_set {
  struct inode_key {
    dev_t dev;
    ino_t ino;
  } *v;
  size_t n, cap;
};

/* true when (dev, ino) was there already; adds it otherwise. */
static bool inode_seen(struct inode_set *s, dev_t dev, ino_t ino) {
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].dev == dev && s->v[i].ino == ino)
      return true;
  if (s->n == s->cap) {
    size_t cap = s->cap == 0 ? 16 : 2 * s->cap;
    struct inode_key *grown = realloc(s->v, cap * sizeof(*grown));
    if (grown == NULL)
      return false;
    s->v = grown;
    s->cap = cap;
  }
  s->v[s->n++] = (struct inode_key){dev, ino};
  return false;
}

static uint64_t tree_size(int dir, struct inode_set *seen, int depth) {
  if (depth > 256)
    return 0;
  int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d == NULL) {
    if (fd >= 0)
      close(fd);
    return 0;
  }
  uint64_t total = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    struct stat st;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    if (S_ISDIR(st.st_mode)) {
      int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) {
        total += tree_size(sub, seen, depth + 1);
        close(sub);
      }
      continue;
    }
    if (st.st_size == 0 || (st.st_nlink > 1 && inode_seen(seen, st.st_dev, st.st_ino)))
      continue;
    total += (uint64_t)st.st_size;
  }
  closedir(d);
  return total;
}

uint64_t fs_tree_size(int dirfd) {
  struct inode_set seen = {0};
  uint64_t size = tree_size(dirfd, &seen, 0);
  free(seen.v);
  return size;
}
