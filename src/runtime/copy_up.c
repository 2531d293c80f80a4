#include "runtime/copy_up.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

#define MAX_DEPTH 64

static int copy_attrs(int dirfd, const char *name, const struct stat *st, bool is_link) {
  int flags = is_link ? AT_SYMLINK_NOFOLLOW : 0;
  if (fchownat(dirfd, name, st->st_uid, st->st_gid, flags) < 0)
    return -1;
  if (!is_link && fchmodat(dirfd, name, st->st_mode & 07777, 0) < 0)
    return -1;
  struct timespec times[2] = {st->st_atim, st->st_mtim};
  return utimensat(dirfd, name, times, flags);
}

static int copy_file(int from_dir, int to_dir, const char *name, const struct stat *st) {
  cleanup_close int in = openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return -1;
  cleanup_close int out = openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return -1;
  for (off_t left = st->st_size; left > 0;) {
    ssize_t n = sendfile(out, in, NULL, (size_t)(left < (1 << 30) ? left : (1 << 30)));
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    left -= n;
  }
  return 0;
}

static int copy_dir(int from, int to, int depth, const char *what, berth_error **err) {
  if (depth > MAX_DEPTH)
    return berth_fail(err, ELOOP, "tmpcopyup of \"%s\"", what);
  int listfd = fcntl(from, F_DUPFD_CLOEXEC, 0);
  DIR *dir = listfd >= 0 ? fdopendir(listfd) : NULL;
  if (dir == NULL) {
    if (listfd >= 0)
      close(listfd);
    return berth_fail(err, errno, "tmpcopyup: read \"%s\"", what);
  }
  int ret = 0;
  struct dirent *de;
  while (ret == 0 && (de = readdir(dir)) != NULL) {
    const char *name = de->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
      continue;
    struct stat st;
    if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      ret = berth_fail(err, errno, "tmpcopyup: stat \"%s/%s\"", what, name);
      break;
    }
    int r = 0;
    if (S_ISDIR(st.st_mode)) {
      r = mkdirat(to, name, 0700);
      if (r == 0) {
        cleanup_close int sub_from = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        cleanup_close int sub_to = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub_from < 0 || sub_to < 0) {
          r = -1;
        } else if (copy_dir(sub_from, sub_to, depth + 1, what, err) < 0) {
          ret = -1;
          break;
        }
      }
    } else if (S_ISREG(st.st_mode)) {
      r = copy_file(from, to, name, &st);
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlinkat(from, name, target, sizeof(target) - 1);
      if (n < 0) {
        r = -1;
      } else {
        target[n] = '\0';
        r = symlinkat(target, to, name);
      }
    } else {
      r = mknodat(to, name, st.st_mode, st.st_rdev);
    }
    if (r < 0 || copy_attrs(to, name, &st, S_ISLNK(st.st_mode)) < 0)
      ret = berth_fail(err, errno, "tmpcopyup: copy \"%s/%s\"", what, name);
  }
  closedir(dir);
  return ret;
}

int copy_up_tree(int from_fd, int to_fd, const char *what, berth_error **err) {
  struct stat st;
  if (fstat(from_fd, &st) == 0) {
    /* The tmpfs root takes the mode and owner of the directory it hides. */
    if (fchmod(to_fd, st.st_mode & 07777) < 0 || fchown(to_fd, st.st_uid, st.st_gid) < 0)
      return berth_fail(err, errno, "tmpcopyup: \"%s\"", what);
  }
  return copy_dir(from_fd, to_fd, 0, what, err);
}
