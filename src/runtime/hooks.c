#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"

/* The state goes through a memfd rather than a pipe: a hook that never
 * reads stdin then cannot block us or raise SIGPIPE. */
static int state_memfd(const char *state_json, berth_error **err) {
  int fd = memfd_create("berth-hook-state", MFD_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "memfd for hook state");
  if (fs_write_all(fd, state_json, strlen(state_json)) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
    int saved = errno;
    close(fd);
    return berth_fail(err, saved, "write hook state");
  }
  return fd;
}

static int wait_hook(pid_t pid, const struct spec_hook *h, const char *kind, berth_error **err) {
  int status;
  if (!h->has_timeout) {
    while (waitpid(pid, &status, 0) < 0)
      if (errno != EINTR)
        return berth_fail(err, errno, "wait for %s hook \"%s\"", kind, h->path);
  } else {
    cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      return berth_fail(err, errno, "pidfd for %s hook \"%s\"", kind, h->path);
    }
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    int r;
    do
      r = poll(&pfd, 1, h->timeout * 1000);
    while (r < 0 && errno == EINTR);
    if (r == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      return berth_fail(err, 0, "%s hook \"%s\" timed out after %d s", kind, h->path, h->timeout);
    }
    while (waitpid(pid, &status, 0) < 0)
      if (errno != EINTR)
        return berth_fail(err, errno, "wait for %s hook \"%s\"", kind, h->path);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  if (WIFSIGNALED(status))
    return berth_fail(err, 0, "%s hook \"%s\" was killed by signal %d", kind, h->path, WTERMSIG(status));
  return berth_fail(err, 0, "%s hook \"%s\" exited with status %d", kind, h->path, WEXITSTATUS(status));
}

static int run_hook(const struct spec_hook *h, const char *kind, const char *state_json, berth_error **err) {
  cleanup_close int stdin_fd = state_memfd(state_json, err);
  if (stdin_fd < 0)
    return -1;
  pid_t pid = fork();
  if (pid < 0)
    return berth_fail(err, errno, "fork for %s hook \"%s\"", kind, h->path);
  if (pid == 0) {
    static char *empty[] = {NULL};
    char *default_args[] = {h->path, NULL};
    if (dup2(stdin_fd, STDIN_FILENO) < 0)
      _exit(126);
    /* Hooks must not inherit the container's terminal or our signal mask. */
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    execve(h->path, h->args != NULL ? h->args : default_args, h->env != NULL ? h->env : empty);
    dprintf(STDERR_FILENO, "%s hook \"%s\": exec: %s\n", kind, h->path, strerror(errno));
    _exit(127);
  }
  return wait_hook(pid, h, kind, err);
}

int hooks_run(const struct spec_hooks *hooks, enum spec_hook_kind kind, const char *state_json, berth_error **err) {
  for (size_t i = 0; i < hooks->count[kind]; i++)
    if (run_hook(&hooks->list[kind][i], spec_hook_kind_name(kind), state_json, err) < 0)
      return -1;
  return 0;
}
