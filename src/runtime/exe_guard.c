#include "runtime/exe_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

extern char **environ;

int exe_guard_ensure(char **argv, berth_error **err) {
  struct statvfs sv;
  if (statvfs("/proc/self/exe", &sv) == 0 && (sv.f_flag & ST_RDONLY))
    return 0;
  cleanup_close int fd = (int)syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "protect the runtime binary: open_tree");
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
    return berth_fail(err, errno, "protect the runtime binary: mount_setattr");
  syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
  return berth_fail(err, errno, "protect the runtime binary: execveat");
}
