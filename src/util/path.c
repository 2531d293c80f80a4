#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

static bool force_fallback;
static bool have_openat2 = true;

void path_force_fallback(bool on) {
  force_fallback = on;
}

#define MAX_SYMLINKS 40

/* Walks path component by component from rootfd, expanding symlinks
 * ourselves and clamping ".." at the root: what RESOLVE_IN_ROOT does. */
static int walk_in_root(int rootfd, const char *path, int flags) {
  char *todo = NULL; /* remaining path, owned */
  if (asprintf(&todo, "%s", path) < 0)
    return -ENOMEM;
  int links = 0;
  /* Stack of directory fds from the root, so ".." can step back. */
  int stack[PATH_MAX / 2];
  int depth = 0;
  stack[0] = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
  if (stack[0] < 0) {
    free(todo);
    return -errno;
  }
  int ret = 0;
  char *rest = todo;
  for (;;) {
    while (*rest == '/')
      rest++;
    if (*rest == '\0') {
      /* End of the path: reopen the last directory with the wanted flags. */
      ret = openat(stack[depth], ".", flags | O_CLOEXEC);
      if (ret < 0)
        ret = -errno;
      break;
    }
    char *slash = strchr(rest, '/');
    size_t len = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
    char name[NAME_MAX + 1];
    if (len > NAME_MAX) {
      ret = -ENAMETOOLONG;
      break;
    }
    memcpy(name, rest, len);
    name[len] = '\0';
    rest += len;
    bool last = *rest == '\0' || strspn(rest, "/") == strlen(rest);
    if (strcmp(name, ".") == 0)
      continue;
    if (strcmp(name, "..") == 0) {
      if (depth > 0)
        close(stack[depth--]);
      continue;
    }
    char target[PATH_MAX];
    ssize_t tl = readlinkat(stack[depth], name, target, sizeof(target) - 1);
    if (tl >= 0 && !(last && (flags & O_NOFOLLOW))) {
      if (++links > MAX_SYMLINKS) {
        ret = -ELOOP;
        break;
      }
      target[tl] = '\0';
      char *next = NULL;
      if (asprintf(&next, "%s/%s", target, rest) < 0) {
        ret = -ENOMEM;
        break;
      }
      if (target[0] == '/')
        while (depth > 0)
          close(stack[depth--]);
      free(todo);
      todo = next;
      rest = todo;
      continue;
    }
    if (last) {
      ret = openat(stack[depth], name, flags | O_NOFOLLOW | O_CLOEXEC);
      if (ret < 0)
        ret = -errno;
      break;
    }
    if (depth + 1 >= (int)ARRAY_SIZE(stack)) {
      ret = -ENAMETOOLONG;
      break;
    }
    int fd = openat(stack[depth], name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      ret = -errno;
      break;
    }
    stack[++depth] = fd;
  }
  while (depth >= 0)
    close(stack[depth--]);
  free(todo);
  return ret;
}

static int open_in_root(int rootfd, const char *path, int flags) {
  if (!force_fallback && have_openat2) {
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
    if (fd >= 0)
      return fd;
    if (errno != ENOSYS)
      return -errno;
    have_openat2 = false;
  }
  return walk_in_root(rootfd, path, flags);
}

int path_open_in_root(int rootfd, const char *path, int flags, berth_error **err) {
  int fd = open_in_root(rootfd, path, flags);
  if (fd < 0)
    return berth_fail(err, -fd, "open \"%s\" in the rootfs", path);
  return fd;
}

/* Splits path into its parent and last component (both allocated). */
static int split_parent(const char *path, char **parent, char **base) {
  cleanup_free char *copy = strdup(path);
  if (copy == NULL)
    return -ENOMEM;
  size_t len = strlen(copy);
  while (len > 1 && copy[len - 1] == '/')
    copy[--len] = '\0';
  char *slash = strrchr(copy, '/');
  if (slash == NULL) {
    *parent = strdup("/");
    *base = strdup(copy);
  } else {
    *base = strdup(slash + 1);
    *slash = '\0';
    *parent = strdup(copy[0] != '\0' ? copy : "/");
  }
  return *parent != NULL && *base != NULL ? 0 : -ENOMEM;
}

/* Creates the missing entry base in dirfd: 0 or -errno. */
static int create_entry(int dirfd, const char *base, bool directory) {
  if (directory)
    return mkdirat(dirfd, base, 0755) < 0 ? -errno : 0;
  int f = openat(dirfd, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (f < 0)
    return -errno;
  close(f);
  return 0;
}

/* links counts the dangling symlinks followed by the whole call, so that
 * links whose targets lead to more dangling links stop at the kernel's
 * limit; depth bounds the recursion over parents. */
static int create_in_root(int rootfd, const char *path, bool directory, int depth, int *links) {
  int fd = open_in_root(rootfd, path, O_PATH);
  if (fd >= 0 || fd != -ENOENT)
    return fd;
  if (depth > MAX_SYMLINKS * 4)
    return -ELOOP;
  cleanup_free char *parent = NULL;
  cleanup_free char *base = NULL;
  if (split_parent(path, &parent, &base) < 0)
    return -ENOMEM;
  if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
    return -ENOENT;
  cleanup_close int dirfd = create_in_root(rootfd, parent, true, depth + 1, links);
  if (dirfd < 0)
    return dirfd;
  int r = create_entry(dirfd, base, directory);
  if (r < 0 && r != -EEXIST)
    return r;
  if (r == -EEXIST) {
    /* Either a racing creator (the reopen below finds its entry) or a
     * dangling symlink, as in an image whose /etc/resolv.conf points to
     * ../run/systemd/resolve/stub-resolv.conf: then its target is created,
     * resolved in the root as the kernel would resolve the link (absolute
     * from the root, relative from the link's directory, which is parent). */
    char target[PATH_MAX];
    ssize_t tl = readlinkat(dirfd, base, target, sizeof(target) - 1);
    if (tl >= 0) {
      if (++*links > MAX_SYMLINKS)
        return -ELOOP;
      target[tl] = '\0';
      cleanup_free char *next = NULL;
      if (asprintf(&next, "%s%s%s", target[0] == '/' ? "" : parent, target[0] == '/' ? "" : "/", target) < 0)
        return -ENOMEM;
      cleanup_close int made = create_in_root(rootfd, next, directory, depth + 1, links);
      if (made < 0)
        return made;
    }
  }
  return open_in_root(rootfd, path, O_PATH);
}

int path_create_in_root(int rootfd, const char *path, bool directory, berth_error **err) {
  int links = 0;
  int fd = create_in_root(rootfd, path, directory, 0, &links);
  if (fd < 0)
    return berth_fail(err, -fd, "create \"%s\" in the rootfs", path);
  return fd;
}

int path_mkdir_in_root(int rootfd, const char *path, berth_error **err) {
  int links = 0;
  int fd = create_in_root(rootfd, path, true, 0, &links);
  if (fd < 0)
    return berth_fail(err, -fd, "mkdir \"%s\" in the rootfs", path);
  struct stat st;
  if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) {
    close(fd);
    return berth_fail(err, ENOTDIR, "mkdir \"%s\" in the rootfs", path);
  }
  return fd;
}
