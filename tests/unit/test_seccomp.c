/* linux.seccomp: building and exporting filters, their errors, and real
 * enforcement in forked children (a loaded filter cannot be removed). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/seccomp.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/error.h"

static int child_failures;

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      printf("#   %s:%d: (child) expected %s (errno %d)\n", __FILE__, __LINE__, #cond, errno); \
      child_failures++;                                                     \
    }                                                                       \
  } while (0)

#define NAMES(...) ((char *[]){__VA_ARGS__, NULL})

static struct spec_seccomp_syscall rule(char **names, enum spec_seccomp_action action) {
  size_t n = 0;
  while (names[n] != NULL)
    n++;
  return (struct spec_seccomp_syscall){.names = names, .n_names = n, .action = action};
}

static struct spec_seccomp_syscall rule_errno(char **names, unsigned ret) {
  struct spec_seccomp_syscall s = rule(names, SECCOMP_ACTION_ERRNO);
  s.has_errno_ret = true;
  s.errno_ret = ret;
  return s;
}

static struct spec_seccomp allow_all(struct spec_seccomp_syscall *syscalls, size_t n) {
  return (struct spec_seccomp){.default_action = SECCOMP_ACTION_ALLOW, .syscalls = syscalls, .n_syscalls = n};
}

/* Size of the exported BPF program, or -1 with the error printed. */
static off_t export_size(const struct spec_seccomp *sc) {
  cleanup_close int fd = memfd_create("bpf", MFD_CLOEXEC);
  if (fd < 0)
    return -1;
  cleanup_error berth_error *err = NULL;
  if (seccomp_spec_export_bpf(sc, fd, &err) < 0) {
    printf("#   export: %s\n", err != NULL ? err->msg : "(no message)");
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) < 0)
    return -1;
  return st.st_size;
}

/* The message of building sc, or NULL when it builds. */
static char *export_error(const struct spec_seccomp *sc) {
  cleanup_close int fd = memfd_create("bpf", MFD_CLOEXEC);
  berth_error *err = NULL;
  if (seccomp_spec_export_bpf(sc, fd, &err) == 0)
    return NULL;
  char *msg = err != NULL ? strdup(err->msg) : strdup("(no message)");
  berth_error_free(err);
  return msg;
}

static char *validate_error(const struct spec_seccomp *sc) {
  berth_error *err = NULL;
  if (seccomp_validate(sc, &err) == 0)
    return NULL;
  char *msg = err != NULL ? strdup(err->msg) : strdup("(no message)");
  berth_error_free(err);
  return msg;
}

static void test_export_bpf(void) {
  struct spec_seccomp_arg pers_arg = {.index = 0, .value = 0xffffffff, .op = SECCOMP_OP_EQ};
  struct spec_seccomp_syscall calls[] = {
      rule_errno(NAMES("getcwd"), 123),
      rule(NAMES("mkdir", "rmdir"), SECCOMP_ACTION_ERRNO),
      rule_errno(NAMES("personality"), 77),
  };
  calls[2].args = &pers_arg;
  calls[2].n_args = 1;
  struct spec_seccomp sc = allow_all(calls, ARRAY_SIZE(calls));
  off_t small = export_size(&sc);
  EXPECT(small > 0);
  EXPECT(small % 8 == 0); /* whole struct sock_filter instructions */

  char *archs[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL};
  char *flags[] = {"SECCOMP_FILTER_FLAG_LOG", NULL};
  sc.architectures = archs;
  sc.n_architectures = 3;
  sc.flags = flags;
  sc.n_flags = 1;
  off_t multi = export_size(&sc);
  EXPECT(multi > small); /* each architecture adds its own section */
}

static void test_unknown_syscall_skipped(void) {
  struct spec_seccomp_syscall calls[] = {
      rule_errno(NAMES("no_such_syscall_berth", "getcwd"), 5),
  };
  struct spec_seccomp sc = allow_all(calls, ARRAY_SIZE(calls));
  EXPECT(export_size(&sc) > 0);
  char *msg = validate_error(&sc);
  EXPECT(msg == NULL);
  free(msg);
}

static void test_rule_like_default_skipped(void) {
  /* ERRNO without errnoRet means EPERM, the same as the default here, which
   * libseccomp would refuse to add. */
  struct spec_seccomp_syscall calls[] = {
      rule(NAMES("getcwd"), SECCOMP_ACTION_ERRNO),
      rule_errno(NAMES("mkdir"), EPERM),
      rule(NAMES("read", "write", "exit_group"), SECCOMP_ACTION_ALLOW),
  };
  struct spec_seccomp sc = {.default_action = SECCOMP_ACTION_ERRNO, .syscalls = calls, .n_syscalls = 3};
  EXPECT(export_size(&sc) > 0);
}

/* Whether the runtime may count on a syscall after the filter is loaded
 * (the start stub's execveat). */
static void test_lets_through(void) {
  struct spec_seccomp none = allow_all(NULL, 0);
  EXPECT(seccomp_lets_through(&none, "execveat"));
  none.default_action = SECCOMP_ACTION_LOG;
  EXPECT(seccomp_lets_through(&none, "execveat"));

  struct spec_seccomp_syscall denied[] = {rule_errno(NAMES("execve", "execveat"), 1)};
  struct spec_seccomp sc = allow_all(denied, 1);
  EXPECT(!seccomp_lets_through(&sc, "execveat"));
  EXPECT(seccomp_lets_through(&sc, "read"));

  struct spec_seccomp_syscall allowed[] = {rule(NAMES("read", "execveat"), SECCOMP_ACTION_ALLOW)};
  struct spec_seccomp allow_list = {.default_action = SECCOMP_ACTION_ERRNO, .syscalls = allowed, .n_syscalls = 1};
  EXPECT(seccomp_lets_through(&allow_list, "execveat"));
  EXPECT(!seccomp_lets_through(&allow_list, "write"));

  /* allowed only for some arguments: the rest fall to a denying default */
  struct spec_seccomp_arg arg = {.index = 4, .value = 0, .op = SECCOMP_OP_EQ};
  allowed[0].args = &arg;
  allowed[0].n_args = 1;
  EXPECT(!seccomp_lets_through(&allow_list, "execveat"));

  /* allowed by one rule, sent to a listener by another */
  struct spec_seccomp_syscall mixed[] = {rule(NAMES("execveat"), SECCOMP_ACTION_ALLOW),
                                         rule(NAMES("execveat"), SECCOMP_ACTION_NOTIFY)};
  struct spec_seccomp sc2 = allow_all(mixed, 2);
  EXPECT(!seccomp_lets_through(&sc2, "execveat"));
}

static void test_errors(void) {
  struct spec_seccomp_syscall calls[] = {rule_errno(NAMES("getcwd"), 1)};
  struct spec_seccomp sc = allow_all(calls, 1);
  char *msg;

  char *bad_arch[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_FOO", NULL};
  sc.architectures = bad_arch;
  sc.n_architectures = 2;
  msg = export_error(&sc);
  EXPECT_STR(msg, "seccomp: unknown architecture \"SCMP_ARCH_FOO\"");
  free(msg);
  msg = validate_error(&sc);
  EXPECT_STR(msg, "seccomp: unknown architecture \"SCMP_ARCH_FOO\"");
  free(msg);
  sc.n_architectures = 0;

  char *bad_flag[] = {"SECCOMP_FILTER_FLAG_FOO", NULL};
  sc.flags = bad_flag;
  sc.n_flags = 1;
  msg = export_error(&sc);
  EXPECT_STR(msg, "seccomp: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"");
  free(msg);
  msg = validate_error(&sc);
  EXPECT_STR(msg, "seccomp: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"");
  free(msg);

  /* known to the spec, but libseccomp 2.5 has no attribute for it */
  char *waitkill[] = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL};
  sc.flags = waitkill;
  msg = export_error(&sc);
  if (!seccomp_flag_supported("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"))
    EXPECT_CONTAINS(msg, "seccomp: flag SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported");
  free(msg);
  sc.n_flags = 0;

  sc.default_action = SECCOMP_ACTION_NOTIFY;
  msg = export_error(&sc);
  EXPECT_STR(msg, "seccomp: SCMP_ACT_NOTIFY cannot be the default action");
  free(msg);
  sc.default_action = SECCOMP_ACTION_ALLOW;

  struct spec_seccomp_arg bad_index = {.index = 6, .value = 1, .op = SECCOMP_OP_EQ};
  calls[0].args = &bad_index;
  calls[0].n_args = 1;
  msg = export_error(&sc);
  EXPECT_STR(msg, "seccomp: syscall getcwd: argument index 6 is out of range (0-5)");
  free(msg);
  msg = validate_error(&sc);
  EXPECT_STR(msg, "seccomp: syscall getcwd: argument index 6 is out of range (0-5)");
  free(msg);
  calls[0].n_args = 0;

  calls[0].errno_ret = 70000;
  msg = export_error(&sc);
  EXPECT_STR(msg, "seccomp: getcwd: errnoRet 70000 does not fit in 16 bits");
  free(msg);
}

static void test_name_tables(void) {
  EXPECT_STR(seccomp_action_names[SECCOMP_ACTION_KILL_PROCESS], "SCMP_ACT_KILL_PROCESS");
  EXPECT_STR(seccomp_action_names[SECCOMP_ACTION_NOTIFY], "SCMP_ACT_NOTIFY");
  EXPECT(seccomp_action_names[SECCOMP_ACTION_NOTIFY + 1] == NULL);
  EXPECT_STR(seccomp_op_names[SECCOMP_OP_MASKED_EQ], "SCMP_CMP_MASKED_EQ");
  EXPECT(seccomp_op_names[SECCOMP_OP_MASKED_EQ + 1] == NULL);
  bool x86_64 = false;
  for (const char *const *a = seccomp_arch_names; *a != NULL; a++)
    x86_64 |= strcmp(*a, "SCMP_ARCH_X86_64") == 0;
  EXPECT(x86_64);
  EXPECT_STR(seccomp_flag_names[0], "SECCOMP_FILTER_FLAG_TSYNC");
  EXPECT(seccomp_flag_supported("SECCOMP_FILTER_FLAG_TSYNC"));
  EXPECT(seccomp_flag_supported("SECCOMP_FILTER_FLAG_LOG"));
  EXPECT(!seccomp_flag_supported("SECCOMP_FILTER_FLAG_FOO"));
  char version[32];
  seccomp_library_version(version, sizeof(version));
  EXPECT(strchr(version, '.') != NULL);
}

/* Runs fn in a child; returns its wait status. */
static int in_child(void (*fn)(void)) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    child_failures = 0;
    alarm(20); /* a stuck notification must not hang the suite */
    fn();
    fflush(stdout);
    _exit(child_failures > 100 ? 100 : child_failures);
  }
  int status = -1;
  if (pid > 0 && waitpid(pid, &status, 0) != pid)
    status = -1;
  return status;
}

static void child_enforce(void) {
  struct spec_seccomp_arg pers_arg = {.index = 0, .value = 0xffffffff, .op = SECCOMP_OP_EQ};
  /* same index twice: alternatives */
  struct spec_seccomp_arg umask_args[] = {
      {.index = 0, .value = 022, .op = SECCOMP_OP_EQ},
      {.index = 0, .value = 077, .op = SECCOMP_OP_EQ},
  };
  /* distinct indexes: both must hold */
  struct spec_seccomp_arg lseek_args[] = {
      {.index = 1, .value = 7, .op = SECCOMP_OP_EQ},
      {.index = 2, .value = SEEK_SET, .op = SECCOMP_OP_EQ},
  };
  /* value is the mask, valueTwo the expected masked value: denies a
   * non-blocking shared lock only */
  struct spec_seccomp_arg flock_arg = {.index = 1, .value = LOCK_NB | LOCK_EX, .value_two = LOCK_NB,
                                       .op = SECCOMP_OP_MASKED_EQ};
  struct spec_seccomp_syscall calls[] = {
      rule_errno(NAMES("getcwd"), 123),
      rule(NAMES("mkdir"), SECCOMP_ACTION_ERRNO),
      rule_errno(NAMES("personality"), 77),
      rule_errno(NAMES("umask"), 55),
      rule_errno(NAMES("lseek"), 66),
      rule_errno(NAMES("flock"), 44),
  };
  calls[2].args = &pers_arg;
  calls[2].n_args = 1;
  calls[3].args = umask_args;
  calls[3].n_args = 2;
  calls[4].args = lseek_args;
  calls[4].n_args = 2;
  calls[5].args = &flock_arg;
  calls[5].n_args = 1;
  struct spec_seccomp sc = allow_all(calls, ARRAY_SIZE(calls));

  int fd = memfd_create("data", MFD_CLOEXEC);
  CHECK(fd >= 0);
  CHECK(ftruncate(fd, 64) == 0);

  cleanup_error berth_error *err = NULL;
  int notify_fd = 0;
  if (seccomp_install(&sc, &notify_fd, &err) < 0) {
    printf("#   install: %s\n", err != NULL ? err->msg : "?");
    child_failures++;
    return;
  }
  CHECK(notify_fd == -1);

  char buf[256];
  errno = 0;
  CHECK(getcwd(buf, sizeof(buf)) == NULL && errno == 123);
  errno = 0;
  CHECK(syscall(SYS_mkdir, "/nonexistent-berth-test/x", 0755) == -1 && errno == EPERM);
  errno = 0;
  CHECK(personality(0xffffffff) == -1 && errno == 77);
  CHECK(personality(PER_LINUX) >= 0);
  errno = 0;
  CHECK(syscall(SYS_umask, 022) == -1 && errno == 55);
  errno = 0;
  CHECK(syscall(SYS_umask, 077) == -1 && errno == 55);
  CHECK(syscall(SYS_umask, 027) >= 0);
  errno = 0;
  CHECK(lseek(fd, 7, SEEK_SET) == -1 && errno == 66);
  CHECK(lseek(fd, 7, SEEK_CUR) == 7);
  CHECK(lseek(fd, 3, SEEK_SET) == 3);
  errno = 0;
  CHECK(flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == 44);
  CHECK(flock(fd, LOCK_SH) == 0);
  CHECK(flock(fd, LOCK_EX | LOCK_NB) == 0);
  CHECK(getpid() > 0);
  close(fd);
}

static void test_enforce(void) {
  int status = in_child(child_enforce);
  EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void child_kill_process(void) {
  struct spec_seccomp_syscall calls[] = {rule(NAMES("getppid"), SECCOMP_ACTION_KILL_PROCESS)};
  struct spec_seccomp sc = allow_all(calls, 1);
  cleanup_error berth_error *err = NULL;
  if (seccomp_install(&sc, NULL, &err) < 0) {
    printf("#   install: %s\n", err != NULL ? err->msg : "?");
    child_failures++;
    return;
  }
  fflush(stdout);
  syscall(SYS_getppid);
  printf("#   (child) getppid returned\n");
  child_failures++;
}

static void test_kill_process(void) {
  int status = in_child(child_kill_process);
  EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
}

static char listener_path[108];
static const char process_state[] =
    "{\"ociVersion\":\"1.2.0\",\"fds\":[\"seccompFd\"],\"pid\":1,\"metadata\":\"unit\","
    "\"state\":{\"ociVersion\":\"1.2.0\",\"id\":\"t\",\"status\":\"creating\",\"pid\":1,\"bundle\":\"/b\"}}";

static void child_notify(void) {
  struct spec_seccomp_syscall calls[] = {rule(NAMES("mkdir"), SECCOMP_ACTION_NOTIFY)};
  struct spec_seccomp sc = allow_all(calls, 1);
  cleanup_error berth_error *err = NULL;
  int notify_fd = -1;
  if (seccomp_install(&sc, &notify_fd, &err) < 0) {
    printf("#   install: %s\n", err != NULL ? err->msg : "?");
    child_failures++;
    return;
  }
  CHECK(notify_fd >= 0);
  if (seccomp_send_to_listener(listener_path, notify_fd, process_state, &err) < 0) {
    printf("#   send: %s\n", err != NULL ? err->msg : "?");
    child_failures++;
    return;
  }
  close(notify_fd);
  /* the listener answers 42 without running the syscall */
  CHECK(syscall(SYS_mkdir, "/nonexistent-berth-test/x", 0755) == 42);
}

/* Receives the state JSON and the fd in one message, as a listener does. */
static int receive_state(int conn, char *buf, size_t len) {
  union {
    char b[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = {.iov_base = buf, .iov_len = len - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.b,
                       .msg_controllen = sizeof(control.b)};
  ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
    return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof(fd));
  return fd;
}

static void test_notify_listener(void) {
  char dir[] = "/tmp/berth-seccomp-XXXXXX";
  EXPECT(mkdtemp(dir) != NULL);
  snprintf(listener_path, sizeof(listener_path), "%s/listener.sock", dir);
  cleanup_close int lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strcpy(addr.sun_path, listener_path);
  EXPECT(bind(lsock, (struct sockaddr *)&addr, sizeof(addr)) == 0);
  EXPECT(listen(lsock, 1) == 0);

  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    child_failures = 0;
    alarm(20);
    child_notify();
    fflush(stdout);
    _exit(child_failures > 100 ? 100 : child_failures);
  }
  EXPECT(pid > 0);

  struct pollfd pfd = {.fd = lsock, .events = POLLIN};
  EXPECT(poll(&pfd, 1, 10000) == 1);
  cleanup_close int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
  EXPECT(conn >= 0);
  char buf[4096];
  cleanup_close int notify_fd = conn >= 0 ? receive_state(conn, buf, sizeof(buf)) : -1;
  EXPECT(notify_fd >= 0);
  if (notify_fd >= 0) {
    EXPECT_STR(buf, process_state);
    struct seccomp_notif *req = NULL;
    struct seccomp_notif_resp *resp = NULL;
    EXPECT(seccomp_notify_alloc(&req, &resp) == 0);
    EXPECT(seccomp_notify_receive(notify_fd, req) == 0);
    EXPECT(req->pid == (uint32_t)pid);
    EXPECT(req->data.nr == SYS_mkdir);
    resp->id = req->id;
    resp->val = 42;
    resp->error = 0;
    resp->flags = 0;
    EXPECT(seccomp_notify_respond(notify_fd, resp) == 0);
    seccomp_notify_free(req, resp);
  } else if (pid > 0) {
    kill(pid, SIGKILL);
  }
  int status = -1;
  EXPECT(pid > 0 && waitpid(pid, &status, 0) == pid);
  EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  unlink(listener_path);
  rmdir(dir);
}

static void test_send_to_listener_errors(void) {
  cleanup_error berth_error *err = NULL;
  EXPECT(seccomp_send_to_listener("/nonexistent-berth-test/listener.sock", 0, "{}", &err) < 0);
  EXPECT_STR(err != NULL ? err->msg : NULL,
             "connect to seccomp listener \"/nonexistent-berth-test/listener.sock\": No such file or directory");
  char longpath[200];
  memset(longpath, 'a', sizeof(longpath) - 1);
  longpath[0] = '/';
  longpath[sizeof(longpath) - 1] = '\0';
  EXPECT(seccomp_send_to_listener(longpath, 0, "{}", &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "File name too long");
}

int main(void) {
  RUN(test_name_tables);
  RUN(test_export_bpf);
  RUN(test_unknown_syscall_skipped);
  RUN(test_rule_like_default_skipped);
  RUN(test_lets_through);
  RUN(test_errors);
  RUN(test_send_to_listener_errors);
  RUN(test_enforce);
  RUN(test_kill_process);
  RUN(test_notify_listener);
  return tap_done();
}
