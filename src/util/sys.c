#include "util/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int real_write_file(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = write(fd, data, len);
  int saved = errno;
  close(fd);
  if (n < 0) {
    errno = saved;
    return -1;
  }
  if ((size_t)n != len) {
    errno = EIO;
    return -1;
  }
  return 0;
}

static ssize_t real_read_file(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t used = 0;
  while (used + 1 < size) {
    ssize_t n = read(fd, buf + used, size - used - 1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int saved = errno;
      close(fd);
      errno = saved;
      return -1;
    }
    if (n == 0)
      break;
    used += (size_t)n;
  }
  close(fd);
  buf[used] = '\0';
  return (ssize_t)used;
}

static int real_rmdir(const char *path) {
  return rmdir(path);
}

static int real_mkdir(const char *path, mode_t mode) {
  return mkdir(path, mode);
}

const struct berth_sys berth_sys_real = {
    .mount = mount,
    .umount2 = umount2,
    .mkdir = real_mkdir,
    .rmdir = real_rmdir,
    .write_file = real_write_file,
    .read_file = real_read_file,
    .access = access,
    .setns = setns,
    .unshare = unshare,
};

const struct berth_sys *berth_sys = &berth_sys_real;
