#include "runtime/exe_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

extern char **environ;

bool exe_guard_needed(void) {
  struct statvfs sv;
  return !(statvfs("/proc/self/exe", &sv) == 0 && (sv.f_flag & ST_RDONLY));
}

int exe_guard_ensure(char **argv, berth_error **err) {
  return exe_guard_needed() ? exe_guard_exec(argv, err) : 0;
}

int exe_guard_open(berth_error **err) {
  int fd = (int)syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "protect the runtime binary: open_tree");
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
    int saved = errno;
    close(fd);
    return berth_fail(err, saved, "protect the runtime binary: mount_setattr");
  }
  return fd;
}

int exe_guard_exec_fd(int fd, char **argv, berth_error **err) {
  syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
  return berth_fail(err, errno, "protect the runtime binary: execveat");
}

int exe_guard_exec(char **argv, berth_error **err) {
  cleanup_close int fd = exe_guard_open(err);
  if (fd < 0)
    return -1;
  return exe_guard_exec_fd(fd, argv, err);
}
