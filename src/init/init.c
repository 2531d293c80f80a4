/* berth-init: the small init `berth run --init` puts at /dev/init as the
 * container's pid 1.  It runs the command given after "--" as its child,
 * passes every signal it can catch on to that child, reaps every zombie
 * the container's orphans leave, and exits as the child did (128+N when a
 * signal killed it), so a program never written to be pid 1 behaves. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

static int exit_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
  int first = 1;
  if (first < argc && strcmp(argv[first], "--") == 0)
    first++;
  if (first >= argc) {
    fprintf(stderr, "berth-init: usage: berth-init [--] COMMAND [ARG...]\n");
    return 125;
  }
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  /* also a subreaper when not pid 1 (a shared pid namespace) */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  pid_t child = fork();
  if (child < 0) {
    perror("berth-init: fork");
    return 125;
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    execvp(argv[first], argv + first);
    fprintf(stderr, "berth-init: exec %s: %s\n", argv[first], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  int sfd = signalfd(-1, &all, SFD_CLOEXEC);
  if (sfd < 0) {
    perror("berth-init: signalfd");
    return 125;
  }
  for (;;) {
    struct signalfd_siginfo si;
    ssize_t n = read(sfd, &si, sizeof(si));
    if (n != (ssize_t)sizeof(si)) {
      if (n < 0 && errno == EINTR)
        continue;
      return 125;
    }
    if (si.ssi_signo != SIGCHLD) {
      kill(child, (int)si.ssi_signo);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
      if (pid == child)
        return exit_code(status);
  }
}
