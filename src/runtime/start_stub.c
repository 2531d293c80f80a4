#include "runtime/start_stub.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/seccomp.h"
#include "start_stub_bytes.h"
#include "util/cleanup.h"
#include "util/fs.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

bool start_stub_usable(const struct spec *spec) {
  const struct spec_namespace *pid = &spec->lnx.namespaces[NS_PID];
  return pid->present && pid->path == NULL && spec->hooks.count[HOOK_START_CONTAINER] == 0 &&
         (spec->lnx.seccomp == NULL || seccomp_lets_through(spec->lnx.seccomp, "execveat"));
}

int start_stub_open(berth_error **err) {
  int fd = memfd_create("berth-start", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) /* kernels before 6.3 know no MFD_EXEC and run any memfd */
    fd = memfd_create("berth-start", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return berth_fail(err, errno, "memfd for the start stub");
  if (fs_write_all(fd, start_stub_bytes, sizeof(start_stub_bytes)) < 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    int saved = errno;
    close(fd);
    return berth_fail(err, saved, "write the start stub");
  }
  return fd;
}

int start_stub_exec(int stub_fd, int fifo_fd, const char *path, char *const argv[], char *const envp[],
                    berth_error **err) {
  size_t argc = 0;
  while (argv[argc] != NULL)
    argc++;
  cleanup_free char **stub_argv = calloc(argc + 4, sizeof(char *));
  if (stub_argv == NULL)
    return berth_fail(err, ENOMEM, "start stub arguments");
  char fifo_text[16];
  snprintf(fifo_text, sizeof(fifo_text), "%d", fifo_fd);
  stub_argv[0] = (char *)"berth-start";
  stub_argv[1] = fifo_text;
  stub_argv[2] = (char *)path;
  memcpy(stub_argv + 3, argv, argc * sizeof(char *));
  int flags = fcntl(fifo_fd, F_GETFD);
  if (flags < 0 || fcntl(fifo_fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
    return berth_fail(err, errno, "keep exec.fifo open for the start stub");
  syscall(SYS_execveat, stub_fd, "", stub_argv, envp, AT_EMPTY_PATH);
  return berth_fail(err, errno, "exec the start stub");
}
