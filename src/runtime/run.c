/* `run`: create and start, then (in the foreground) stay as the container's
 * parent: relay its terminal, forward signals, return its exit status. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/container.h"
#include "runtime/supervise.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

/* Signals a foreground run passes on to the container instead of dying. */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGTSTP};

static int exit_status(int wstatus) {
  if (WIFEXITED(wstatus))
    return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus))
    return 128 + WTERMSIG(wstatus);
  return 255;
}

static void copy_window_size(int master) {
  struct winsize ws;
  if (master >= 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
    ioctl(master, TIOCSWINSZ, &ws);
}

/* Waits for init; meanwhile relays the pty (master >= 0) and signals. */
static int supervise(pid_t init, int master, int sigfd, int *status, berth_error **err) {
  int ws;
  /* SIGCHLD may have come before the signalfd existed. */
  if (waitpid(init, &ws, WNOHANG) == init) {
    *status = exit_status(ws);
    return 0;
  }
  struct termios saved;
  bool raw = master >= 0 && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
    copy_window_size(master);
  }
  struct pollfd fds[3] = {
      {.fd = sigfd, .events = POLLIN},
      {.fd = master, .events = POLLIN},
      {.fd = master >= 0 ? STDIN_FILENO : -1, .events = POLLIN},
  };
  char buf[8192];
  int ret = 0;
  bool exited = false;
  while (!exited || fds[1].fd >= 0) {
    if (exited) {
      /* init is gone: drain what the pty still holds, without blocking. */
      fds[0].fd = -1;
      fds[2].fd = -1;
    }
    int r = poll(fds, 3, exited ? 0 : -1);
    if (r < 0 && errno != EINTR) {
      ret = berth_fail(err, errno, "poll");
      break;
    }
    if (r <= 0) {
      if (exited)
        break;
      continue;
    }
    if (fds[1].fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(master, buf, sizeof(buf));
      if (n <= 0)
        fds[1].fd = -1; /* EIO: every slave is closed */
      else if (fs_write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
        fds[1].fd = -1;
    }
    if (fds[2].fd >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
      if (n <= 0)
        fds[2].fd = -1;
      else
        fs_write_all(master, buf, (size_t)n);
    }
    if (fds[0].fd >= 0 && (fds[0].revents & POLLIN)) {
      struct signalfd_siginfo si;
      if (read(sigfd, &si, sizeof(si)) != sizeof(si))
        continue;
      if (si.ssi_signo == SIGCHLD) {
        int wst;
        pid_t p;
        while ((p = waitpid(-1, &wst, WNOHANG)) > 0) {
          if (p == init) {
            *status = exit_status(wst);
            exited = true;
          }
        }
      } else if (si.ssi_signo == SIGWINCH) {
        copy_window_size(master);
      } else {
        kill(init, (int)si.ssi_signo);
      }
    }
  }
  if (raw)
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  return ret;
}

void supervise_block_signals(sigset_t *mask, sigset_t *old) {
  sigemptyset(mask);
  sigaddset(mask, SIGCHLD);
  for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
    sigaddset(mask, forwarded[i]);
  sigprocmask(SIG_BLOCK, mask, old);
}

int supervise_process(pid_t pid, int master, const sigset_t *mask, int *status, berth_error **err) {
  cleanup_close int sigfd = signalfd(-1, mask, SFD_CLOEXEC);
  if (sigfd < 0)
    return berth_fail(err, errno, "signalfd");
  return supervise(pid, master, sigfd, status, err);
}

int container_run(const struct runtime_context *ctx, struct run_options *opts, int *status, berth_error **err) {
  *status = 0;
  opts->create.keep_console = !opts->detach && opts->create.console_socket == NULL;
  /* Signals are caught from before the container exists, so none is lost. */
  sigset_t mask, old;
  if (!opts->detach)
    supervise_block_signals(&mask, &old);
  int ret = -1;
  cleanup_close int master = -1;
  if (container_create(ctx, &opts->create, err) < 0)
    goto out;
  master = opts->create.console_master;
  if (container_start(ctx, opts->create.id, err) < 0) {
    berth_error *del_err = NULL;
    if (container_delete(ctx, opts->create.id, true, &del_err) < 0)
      berth_log_error(del_err);
    berth_error_free(del_err);
    goto out;
  }
  if (opts->detach) {
    ret = 0;
    goto out;
  }
  ret = supervise_process(opts->create.pid, master, &mask, status, err);
  if (!opts->keep) {
    berth_error *del_err = NULL;
    if (container_delete(ctx, opts->create.id, true, &del_err) < 0) {
      if (ret == 0) {
        *err = del_err;
        ret = -1;
      } else {
        berth_error_free(del_err);
      }
    }
  }
out:
  if (!opts->detach)
    sigprocmask(SIG_SETMASK, &old, NULL);
  return ret;
}
