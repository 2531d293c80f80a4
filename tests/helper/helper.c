/* berth-test-helper: one static multi-call binary for the end-to-end tests.
 *
 * It is copied into every test root file system as /bin/helper, where it
 * probes what the container really sees (raw syscalls, fds, cwd,
 * capabilities, limits, terminals), and it is also run on the host by the
 * tests as the far end of the runtime's sockets (console socket, seccomp
 * listener), as a hook, and as a small process harness.
 *
 * Usage: helper COMMAND [ARGS...]   or   a symlink named COMMAND -> helper.
 * `helper help` lists the commands.  Probes print "key=value" lines or "ok" /
 * an errno name, so the bats tests compare exact strings.
 *
 * Exit codes: 0 success, 1 the probed operation failed (its errno printed),
 * 2 usage error, 3 timeout, 4 internal error. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_TIMEOUT 3
#define EXIT_INTERNAL 4

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Small utilities                                                     */
/* ------------------------------------------------------------------ */

static const char *prog = "helper";

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int code, const char *fmt, ...)
{
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "%s: ", prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(code);
}

/* "EPERM" for EPERM; "E123" for numbers glibc has no name for. */
static const char *errno_name(int e)
{
  static char buf[32];
  const char *n = strerrorname_np(e);
  if (n != NULL)
    return n;
  snprintf(buf, sizeof buf, "E%d", e);
  return buf;
}

/* "SIGUSR1" for SIGUSR1, "SIGRTMIN+3" for real-time signals. */
static const char *signal_name(int sig)
{
  static char buf[32];
  const char *n = sigabbrev_np(sig);
  if (n != NULL)
    snprintf(buf, sizeof buf, "SIG%s", n);
  else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
    snprintf(buf, sizeof buf, "SIGRTMIN+%d", sig - SIGRTMIN);
  else
    snprintf(buf, sizeof buf, "SIG%d", sig);
  return buf;
}

static bool parse_long(const char *s, long *out)
{
  char *end;
  if (s == NULL || *s == '\0')
    return false;
  errno = 0;
  long v = strtol(s, &end, 0);
  if (errno != 0 || *end != '\0')
    return false;
  *out = v;
  return true;
}

static long arg_long(const char *what, const char *s)
{
  long v;
  if (!parse_long(s, &v))
    die(EXIT_USAGE, "%s: not a number: \"%s\"", what, s ? s : "(missing)");
  return v;
}

static double arg_seconds(const char *what, const char *s)
{
  char *end;
  if (s == NULL)
    die(EXIT_USAGE, "%s: missing value", what);
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || *end != '\0' || v < 0)
    die(EXIT_USAGE, "%s: not a duration in seconds: \"%s\"", what, s);
  return v;
}

static double now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_seconds(double s)
{
  struct timespec ts;
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

static bool write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    p += n;
    len -= (size_t)n;
  }
  return true;
}

/* Reads a whole fd into a NUL-terminated malloc'd buffer. */
static char *read_all(int fd, size_t *len_out)
{
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  if (buf == NULL)
    die(EXIT_INTERNAL, "out of memory");
  for (;;) {
    if (len + 1 >= cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      if (buf == NULL)
        die(EXIT_INTERNAL, "out of memory");
    }
    ssize_t n = read(fd, buf + len, cap - len - 1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  buf[len] = '\0';
  if (len_out)
    *len_out = len;
  return buf;
}

/* Expands \n \r \t \\ \xHH escapes, so tests can send ^D ("\x04"). */
static char *unescape(const char *s, size_t *len_out)
{
  char *out = malloc(strlen(s) + 1), *o = out;
  if (out == NULL)
    die(EXIT_INTERNAL, "out of memory");
  while (*s) {
    if (*s != '\\' || s[1] == '\0') {
      *o++ = *s++;
      continue;
    }
    s++;
    switch (*s) {
    case 'n': *o++ = '\n'; s++; break;
    case 'r': *o++ = '\r'; s++; break;
    case 't': *o++ = '\t'; s++; break;
    case '\\': *o++ = '\\'; s++; break;
    case 'x': {
      char hex[3] = {0};
      s++;
      for (int i = 0; i < 2 && ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')); i++)
        hex[i] = *s++;
      *o++ = (char)strtol(hex, NULL, 16);
      break;
    }
    default: *o++ = '\\'; *o++ = *s++; break;
    }
  }
  *len_out = (size_t)(o - out);
  return out;
}

/* Flattens a JSON document onto one line (newlines and tabs to spaces). */
static void one_line(char *s)
{
  for (; *s; s++)
    if (*s == '\n' || *s == '\r' || *s == '\t')
      *s = ' ';
}

/* Creates a listening unix socket that appears at `path` only once it is
 * listening: bound under a temporary name, then renamed into place, so a
 * test that waits for the path never races with connect(). */
static int listen_unix_atomic(const char *path)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  char tmp[sizeof addr.sun_path];
  if (snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof tmp)
    die(EXIT_USAGE, "socket path too long: \"%s\"", path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die(EXIT_INTERNAL, "socket: %s", strerror(errno));
  unlink(tmp);
  memcpy(addr.sun_path, tmp, strlen(tmp) + 1);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
    die(EXIT_INTERNAL, "bind \"%s\": %s", tmp, strerror(errno));
  if (listen(fd, 4) < 0)
    die(EXIT_INTERNAL, "listen \"%s\": %s", tmp, strerror(errno));
  if (rename(tmp, path) < 0)
    die(EXIT_INTERNAL, "rename \"%s\" to \"%s\": %s", tmp, path, strerror(errno));
  return fd;
}

/* Waits up to `timeout` seconds for fd to become readable; false on timeout. */
static bool wait_readable(int fd, double timeout)
{
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int ms = timeout <= 0 ? -1 : (int)(timeout * 1000);
  for (;;) {
    int r = poll(&p, 1, ms);
    if (r < 0 && errno == EINTR)
      continue;
    return r > 0;
  }
}

/* Receives one message with (at most) one SCM_RIGHTS fd.  The payload is
 * stored NUL-terminated in buf. Returns the fd or -1. */
static int recv_fd(int sock, char *buf, size_t buflen, size_t *paylen)
{
  union {
    struct cmsghdr h;
    char space[CMSG_SPACE(sizeof(int) * 4)];
  } ctl;
  struct iovec iov = {.iov_base = buf, .iov_len = buflen - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space, .msg_controllen = sizeof ctl.space};
  ssize_t n;
  do
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    die(EXIT_INTERNAL, "recvmsg: %s", strerror(errno));
  buf[n] = '\0';
  if (paylen)
    *paylen = (size_t)n;
  int fd = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int fds[4];
    memcpy(fds, CMSG_DATA(c), nfds * sizeof(int));
    for (size_t i = 0; i < nfds; i++) {
      if (fd < 0)
        fd = fds[i];
      else
        close(fds[i]);
    }
  }
  return fd;
}

/* ------------------------------------------------------------------ */
/* syscall: raw system calls with exact errno reporting                 */
/* ------------------------------------------------------------------ */

static const struct {
  const char *name;
  int flag;
} ns_flags[] = {
    {"mnt", CLONE_NEWNS}, {"mount", CLONE_NEWNS}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC},
    {"user", CLONE_NEWUSER}, {"pid", CLONE_NEWPID}, {"net", CLONE_NEWNET}, {"network", CLONE_NEWNET},
    {"cgroup", CLONE_NEWCGROUP},
#ifdef CLONE_NEWTIME
    {"time", CLONE_NEWTIME},
#endif
};

static long parse_ns_flags(const char *s)
{
  long v;
  if (parse_long(s, &v))
    return v;
  long flags = 0;
  char *copy = strdup(s), *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    size_t i;
    for (i = 0; i < ARRAY_SIZE(ns_flags); i++)
      if (strcmp(tok, ns_flags[i].name) == 0)
        break;
    if (i == ARRAY_SIZE(ns_flags))
      die(EXIT_USAGE, "unknown namespace \"%s\"", tok);
    flags |= ns_flags[i].flag;
  }
  free(copy);
  return flags;
}

static int parse_open_flags(const char *s)
{
  if (s == NULL || strcmp(s, "r") == 0)
    return O_RDONLY;
  if (strcmp(s, "w") == 0)
    return O_WRONLY;
  if (strcmp(s, "rw") == 0)
    return O_RDWR;
  return (int)arg_long("open flags", s);
}

/* A syscall result: either an integer or a string (getcwd). */
struct sc_result {
  long ret;
  char text[PATH_MAX + 32];
};

typedef long (*sc_fn)(int argc, char **argv, struct sc_result *res);

#define NEED(n)                                                                \
  do {                                                                         \
    if (argc < (n))                                                            \
      die(EXIT_USAGE, "syscall %s: needs %d argument(s)", argv[0], (n) - 1);   \
  } while (0)

static long sc_mkdir(int argc, char **argv, struct sc_result *res)
{
  (void)res;
  NEED(2);
  return syscall(SYS_mkdir, argv[1], argc > 2 ? arg_long("mode", argv[2]) : 0755);
}

static long sc_rmdir(int argc, char **argv, struct sc_result *res)
{
  (void)res;
  NEED(2);
  return syscall(SYS_rmdir, argv[1]);
}

static long sc_getcwd(int argc, char **argv, struct sc_result *res)
{
  (void)argc;
  (void)argv;
  long r = syscall(SYS_getcwd, res->text, sizeof res->text);
  if (r >= 0)
    r = 0;
  return r;
}

static long sc_personality(int argc, char **argv, struct sc_result *res)
{
  unsigned long p = argc > 1 ? (unsigned long)arg_long("persona", argv[1]) : 0xffffffffUL;
  long r = syscall(SYS_personality, p);
  if (r >= 0) {
    snprintf(res->text, sizeof res->text, "0x%lx", r);
    r = 0;
  }
  return r;
}

static long sc_unshare(int argc, char **argv, struct sc_result *res)
{
  (void)res;
  NEED(2);
  return syscall(SYS_unshare, parse_ns_flags(argv[1]));
}

/* keyctl join [NAME] | session | describe */
static long sc_keyctl(int argc, char **argv, struct sc_result *res)
{
  enum { GET_KEYRING_ID = 0, JOIN_SESSION = 1, DESCRIBE = 6 };
  const long session = -3; /* KEY_SPEC_SESSION_KEYRING */
  NEED(2);
  if (strcmp(argv[1], "join") == 0)
    return syscall(SYS_keyctl, JOIN_SESSION, argc > 2 ? argv[2] : NULL);
  if (strcmp(argv[1], "session") == 0)
    return syscall(SYS_keyctl, GET_KEYRING_ID, session, 0);
  if (strcmp(argv[1], "describe") == 0) {
    long r = syscall(SYS_keyctl, DESCRIBE, session, res->text, sizeof res->text - 1);
    if (r >= 0) {
      res->text[sizeof res->text - 1] = '\0';
      r = 0;
    }
    return r;
  }
  die(EXIT_USAGE, "keyctl: join [NAME] | session | describe");
}

static long sc_mount(int argc, char **argv, struct sc_result *res)
{
  (void)res;
  NEED(4);
  unsigned long flags = argc > 4 ? (unsigned long)arg_long("flags", argv[4]) : 0;
  return syscall(SYS_mount, argv[1], argv[2], argv[3], flags, argc > 5 ? argv[5] : NULL);
}

static long sc_umount(int argc, char **argv, struct sc_result *res)
{
  (void)res;
  NEED(2);
  return syscall(SYS_umount2, argv[1], argc > 2 ? arg_long("flags", argv[2]) : 0);
}

static long sc_chroot(int argc, char **argv, struct sc_result *res)
{
  (void)res;
  NEED(2);
  return syscall(SYS_chroot, argv[1]);
}

static long sc_sethostname(int argc, char **argv, struct sc_result *res)
{
  (void)res;
  NEED(2);
  return syscall(SYS_sethostname, argv[1], strlen(argv[1]));
}

static long sc_setuid(int argc, char **argv, struct sc_result *res)
{
  (void)res;
  NEED(2);
  return syscall(SYS_setuid, arg_long("uid", argv[1]));
}

static long sc_setgid(int argc, char **argv, struct sc_result *res)
{
  (void)res;
  NEED(2);
  return syscall(SYS_setgid, arg_long("gid", argv[1]));
}

static long sc_chown(int argc, char **argv, struct sc_result *res)
{
  (void)res;
  NEED(4);
  return syscall(SYS_fchownat, AT_FDCWD, argv[1], arg_long("uid", argv[2]), arg_long("gid", argv[3]), 0);
}

static long sc_kill(int argc, char **argv, struct sc_result *res)
{
  (void)res;
  NEED(3);
  return syscall(SYS_kill, arg_long("pid", argv[1]), arg_long("signal", argv[2]));
}

static long sc_open(int argc, char **argv, struct sc_result *res)
{
  (void)res;
  NEED(2);
  long fd = syscall(SYS_openat, AT_FDCWD, argv[1], parse_open_flags(argc > 2 ? argv[2] : NULL) | O_CLOEXEC, 0644);
  if (fd >= 0) {
    close((int)fd);
    fd = 0;
  }
  return fd;
}

/* mknod PATH c|b|p MAJOR MINOR [MODE] */
static long sc_mknod(int argc, char **argv, struct sc_result *res)
{
  (void)res;
  NEED(3);
  mode_t type = argv[2][0] == 'c' ? S_IFCHR : argv[2][0] == 'b' ? S_IFBLK : S_IFIFO;
  dev_t dev = 0;
  if (type != S_IFIFO) {
    NEED(5);
    dev = makedev((unsigned)arg_long("major", argv[3]), (unsigned)arg_long("minor", argv[4]));
  }
  mode_t mode = argc > 5 ? (mode_t)arg_long("mode", argv[5]) : 0600;
  return syscall(SYS_mknodat, AT_FDCWD, argv[1], type | mode, dev);
}

static long sc_getpid(int argc, char **argv, struct sc_result *res)
{
  (void)argc;
  (void)argv;
  long r = syscall(SYS_getpid);
  snprintf(res->text, sizeof res->text, "%ld", r);
  return 0;
}

/* nr NUMBER [ARG...]: numeric arguments are passed as integers, anything
 * else as a pointer to the string. */
static long sc_nr(int argc, char **argv, struct sc_result *res)
{
  NEED(2);
  long nr = arg_long("syscall number", argv[1]);
  long a[6] = {0};
  for (int i = 2; i < argc && i < 8; i++)
    if (!parse_long(argv[i], &a[i - 2]))
      a[i - 2] = (long)argv[i];
  long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  if (r > 0) {
    snprintf(res->text, sizeof res->text, "%ld", r);
    r = 0;
  }
  return r;
}

static const struct {
  const char *name;
  sc_fn fn;
  const char *usage;
} syscalls[] = {
    {"mkdir", sc_mkdir, "PATH [MODE]"},
    {"rmdir", sc_rmdir, "PATH"},
    {"getcwd", sc_getcwd, ""},
    {"personality", sc_personality, "[PERSONA] (default: query)"},
    {"unshare", sc_unshare, "user,mnt,net,pid,ipc,uts,cgroup,time | NUMBER"},
    {"keyctl", sc_keyctl, "join [NAME] | session | describe"},
    {"mount", sc_mount, "SRC DST FSTYPE [FLAGS [DATA]]"},
    {"umount", sc_umount, "PATH [FLAGS]"},
    {"chroot", sc_chroot, "PATH"},
    {"sethostname", sc_sethostname, "NAME"},
    {"setuid", sc_setuid, "UID"},
    {"setgid", sc_setgid, "GID"},
    {"chown", sc_chown, "PATH UID GID"},
    {"kill", sc_kill, "PID SIGNAL"},
    {"open", sc_open, "PATH [r|w|rw|FLAGS]"},
    {"mknod", sc_mknod, "PATH c|b|p [MAJOR MINOR [MODE]]"},
    {"getpid", sc_getpid, ""},
    {"nr", sc_nr, "NUMBER [ARG...]"},
};

/* Prints "ok", "ok RESULT" or the errno name; exit 0 / 1. */
static int cmd_syscall(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: syscall NAME [ARGS]\n");
    for (size_t i = 0; i < ARRAY_SIZE(syscalls); i++)
      fprintf(stderr, "  %s %s\n", syscalls[i].name, syscalls[i].usage);
    return EXIT_USAGE;
  }
  for (size_t i = 0; i < ARRAY_SIZE(syscalls); i++) {
    if (strcmp(argv[1], syscalls[i].name) != 0)
      continue;
    struct sc_result res = {0};
    errno = 0;
    long r = syscalls[i].fn(argc - 1, argv + 1, &res);
    if (r < 0) {
      printf("%s\n", errno_name(errno));
      return EXIT_FAILED;
    }
    if (res.text[0])
      printf("ok %s\n", res.text);
    else if (r > 0)
      printf("ok %ld\n", r);
    else
      printf("ok\n");
    return 0;
  }
  die(EXIT_USAGE, "syscall: unknown name \"%s\"", argv[1]);
}

/* ------------------------------------------------------------------ */
/* In-container probes                                                  */
/* ------------------------------------------------------------------ */

/* fds [--all]: "FD TARGET" for each open fd (0-2 only with --all), then
 * "total N" counting the fds listed. */
static int cmd_fds(int argc, char **argv)
{
  bool all = argc > 1 && strcmp(argv[1], "--all") == 0;
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    die(EXIT_INTERNAL, "opendir /proc/self/fd: %s", strerror(errno));
  int self = dirfd(d), count = 0;
  int fds[1024];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < (int)ARRAY_SIZE(fds)) {
    long fd;
    if (!parse_long(e->d_name, &fd) || fd == self || (!all && fd <= 2))
      continue;
    fds[n++] = (int)fd;
  }
  /* readdir order is already ascending for /proc/self/fd; sort anyway. */
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
      int t = fds[j];
      fds[j] = fds[j - 1];
      fds[j - 1] = t;
    }
  for (int i = 0; i < n; i++) {
    char path[64], target[PATH_MAX];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fds[i]);
    ssize_t len = readlink(path, target, sizeof target - 1);
    if (len < 0)
      snprintf(target, sizeof target, "(%s)", errno_name(errno));
    else
      target[len] = '\0';
    printf("%d %s\n", fds[i], target);
    count++;
  }
  closedir(d);
  printf("total %d\n", count);
  return 0;
}

/* cwd: "cwd=PATH" (as the kernel reports it, "(unreachable)/..." when the
 * cwd is outside the root) and "inside=yes|no": whether walking ".." from
 * the cwd reaches this process's "/". */
static int cmd_cwd(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  char buf[PATH_MAX + 32];
  long r = syscall(SYS_getcwd, buf, sizeof buf);
  if (r < 0)
    printf("cwd=(%s)\n", errno_name(errno));
  else
    printf("cwd=%s\n", buf);

  struct stat root, cur, up;
  if (stat("/", &root) < 0)
    die(EXIT_INTERNAL, "stat /: %s", strerror(errno));
  int fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    printf("inside=unknown (%s)\n", errno_name(errno));
    return EXIT_FAILED;
  }
  bool inside = false;
  for (int depth = 0; depth < 4096; depth++) {
    if (fstat(fd, &cur) < 0)
      break;
    if (cur.st_dev == root.st_dev && cur.st_ino == root.st_ino) {
      inside = true;
      break;
    }
    int parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0)
      break;
    if (fstat(parent, &up) < 0 || (up.st_dev == cur.st_dev && up.st_ino == cur.st_ino)) {
      close(parent);
      break; /* reached a root that is not ours */
    }
    close(fd);
    fd = parent;
  }
  close(fd);
  printf("inside=%s\n", inside ? "yes" : "no");
  return 0;
}

/* caps: the capability, no_new_privs and seccomp lines of
 * /proc/self/status as "Key=value". */
static int cmd_caps(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  static const char *keys[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"};
  FILE *f = fopen("/proc/self/status", "re");
  if (f == NULL)
    die(EXIT_INTERNAL, "open /proc/self/status: %s", strerror(errno));
  char line[512];
  while (fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (colon == NULL)
      continue;
    *colon = '\0';
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
      if (strcmp(line, keys[i]) != 0)
        continue;
      char *v = colon + 1;
      v += strspn(v, " \t");
      v[strcspn(v, "\n")] = '\0';
      printf("%s=%s\n", keys[i], v);
    }
  }
  fclose(f);
  return 0;
}

static const struct {
  const char *name;
  int res;
} rlimits[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},     {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

static void print_rlim(rlim_t v)
{
  if (v == RLIM_INFINITY)
    printf("unlimited");
  else
    printf("%llu", (unsigned long long)v);
}

/* rlimits: "RLIMIT_NOFILE=SOFT:HARD" for every resource. */
static int cmd_rlimits(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  for (size_t i = 0; i < ARRAY_SIZE(rlimits); i++) {
    struct rlimit rl;
    if (getrlimit(rlimits[i].res, &rl) < 0) {
      printf("%s=(%s)\n", rlimits[i].name, errno_name(errno));
      continue;
    }
    printf("%s=", rlimits[i].name);
    print_rlim(rl.rlim_cur);
    putchar(':');
    print_rlim(rl.rlim_max);
    putchar('\n');
  }
  return 0;
}

/* ids: uid, gid, euid, egid, supplementary groups and umask. */
static int cmd_ids(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  gid_t groups[NGROUPS_MAX];
  int n = getgroups(NGROUPS_MAX, groups);
  printf("uid=%u\ngid=%u\neuid=%u\negid=%u\ngroups=", getuid(), getgid(), geteuid(), getegid());
  for (int i = 0; i < n; i++)
    printf("%s%u", i ? "," : "", groups[i]);
  mode_t m = umask(0);
  umask(m);
  printf("\numask=%04o\n", (unsigned)m);
  return 0;
}

/* alloc MB: allocates and touches MB mebibytes, one at a time, reporting
 * progress every 16 MiB; "allocated MB" at the end. */
static int cmd_alloc(int argc, char **argv)
{
  if (argc < 2)
    die(EXIT_USAGE, "usage: alloc MB");
  long mb = arg_long("MB", argv[1]);
  const size_t chunk = 1 << 20;
  for (long i = 0; i < mb; i++) {
    char *p = malloc(chunk);
    if (p == NULL) {
      printf("malloc failed after %ld MB\n", i);
      return EXIT_FAILED;
    }
    memset(p, 0x5a, chunk); /* touch every page; never freed */
    if ((i + 1) % 16 == 0)
      printf("progress %ld\n", i + 1);
  }
  printf("allocated %ld\n", mb);
  return 0;
}

/* forkbomb N: forks up to N children that block until the parent is done,
 * prints "forked=K" and, if a fork failed, "error=ERRNO". */
static int cmd_forkbomb(int argc, char **argv)
{
  if (argc < 2)
    die(EXIT_USAGE, "usage: forkbomb N");
  long n = arg_long("N", argv[1]);
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    die(EXIT_INTERNAL, "pipe: %s", strerror(errno));
  long forked = 0;
  int err = 0;
  for (; forked < n; forked++) {
    pid_t pid = fork();
    if (pid < 0) {
      err = errno;
      break;
    }
    if (pid == 0) {
      char c;
      close(p[1]);
      while (read(p[0], &c, 1) < 0 && errno == EINTR)
        ;
      _exit(0);
    }
  }
  close(p[1]); /* children see EOF and exit */
  while (wait(NULL) > 0 || errno == EINTR)
    ;
  printf("forked=%ld\n", forked);
  if (err)
    printf("error=%s\n", errno_name(err));
  return 0;
}

static int cmd_sleep(int argc, char **argv)
{
  if (argc < 2)
    die(EXIT_USAGE, "usage: sleep SECONDS");
  sleep_seconds(arg_seconds("sleep", argv[1]));
  return 0;
}

/* pause [COUNT]: blocks every signal, prints "ready", then prints the name
 * of each of the next COUNT (default 1) signals received. Works as pid 1
 * of a pid namespace, where unhandled signals would be dropped. */
static int cmd_pause(int argc, char **argv)
{
  long count = argc > 1 ? arg_long("count", argv[1]) : 1;
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  printf("ready\n");
  fflush(stdout);
  for (long i = 0; i < count; i++) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) {
      if (errno == EINTR) {
        i--;
        continue;
      }
      die(EXIT_INTERNAL, "sigwaitinfo: %s", strerror(errno));
    }
    printf("%s\n", signal_name(sig));
    fflush(stdout);
  }
  return 0;
}

/* tty: whether 0/1/2 are terminals, the window size, and whether the
 * process has a controlling terminal. */
static int cmd_tty(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  static const char *names[] = {"stdin", "stdout", "stderr"};
  for (int fd = 0; fd < 3; fd++) {
    const char *n = isatty(fd) ? ttyname(fd) : NULL;
    printf("%s=%s\n", names[fd], isatty(fd) ? (n ? n : "tty") : "notty");
  }
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0)
    printf("size=%ux%u\n", ws.ws_row, ws.ws_col);
  else
    printf("size=none\n");
  int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  printf("ctty=%s\n", fd >= 0 ? "yes" : "no");
  if (fd >= 0)
    close(fd);
  return 0;
}

/* ------------------------------------------------------------------ */
/* exe-overwrite: the CVE-2019-5736 attempt                              */
/* ------------------------------------------------------------------ */

static const char exe_marker[] = "\nBERTH-E2E-EXE-OVERWRITE\n";

/* Tries to open an exe for writing and append a marker. Returns a word for
 * the report: "overwritten", or the errno name. */
static const char *try_overwrite(const char *path, int *err_out)
{
  int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) {
    *err_out = errno;
    return errno_name(errno);
  }
  ssize_t n = write(fd, exe_marker, sizeof exe_marker - 1);
  int e = errno;
  close(fd);
  if (n > 0) {
    *err_out = 0;
    return "overwritten";
  }
  *err_out = e;
  return errno_name(e);
}

struct grabbed {
  pid_t pid;
  int fd;
  bool done;
};

/* Scans /proc for processes not yet known; records them in `known`. */
static void scan_new_pids(pid_t *known, int *nknown, int maxknown, struct grabbed *g, int *ng, int maxg)
{
  DIR *d = opendir("/proc");
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    long pid;
    if (!parse_long(e->d_name, &pid))
      continue;
    bool seen = false;
    for (int i = 0; i < *nknown && !seen; i++)
      seen = known[i] == pid;
    if (seen)
      continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/exe", pid);
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0)
      continue; /* not dumpable yet (runtime still setting up): retry */
    if (*nknown < maxknown)
      known[(*nknown)++] = (pid_t)pid;
    if (*ng >= maxg) {
      close(fd);
      continue;
    }
    char target[PATH_MAX];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t len = readlink(path, target, sizeof target - 1);
    target[len < 0 ? 0 : len] = '\0';
    printf("grabbed %ld %s\n", pid, target);
    fflush(stdout);
    g[*ng] = (struct grabbed){.pid = (pid_t)pid, .fd = fd};
    (*ng)++;
  }
  closedir(d);
}

/* exe-overwrite self|PID: opens that exe for writing once and reports.
 * exe-overwrite watch [TIMEOUT]: prints "ready", then holds an O_PATH
 * handle on the exe of every process that appears in this pid namespace
 * (a runtime entering the container for exec), and keeps trying to reopen
 * it for writing after that process has gone (the CVE-2019-5736 attack).
 * Reports "grabbed PID TARGET" and then, per process, "result PID WORD"
 * where WORD is "overwritten" (the runtime is vulnerable) or the errno name;
 * exits when every grabbed process is resolved, or "timeout". */
static int cmd_exe_overwrite(int argc, char **argv)
{
  if (argc < 2)
    die(EXIT_USAGE, "usage: exe-overwrite self|PID|watch [TIMEOUT]");
  int err;
  if (strcmp(argv[1], "watch") != 0) {
    char path[64];
    if (strcmp(argv[1], "self") == 0)
      snprintf(path, sizeof path, "/proc/self/exe");
    else
      snprintf(path, sizeof path, "/proc/%ld/exe", arg_long("pid", argv[1]));
    const char *word = try_overwrite(path, &err);
    printf("result %s %s\n", argv[1], word);
    return err == 0 ? 0 : EXIT_FAILED;
  }

  double deadline = now_seconds() + (argc > 2 ? arg_seconds("timeout", argv[2]) : 30);
  enum { MAXK = 4096, MAXG = 64 };
  static pid_t known[MAXK];
  static struct grabbed g[MAXG];
  int nknown = 0, ng = 0;
  /* Everything already running is not the runtime. */
  known[nknown++] = getpid();
  DIR *d = opendir("/proc");
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL && nknown < MAXK) {
    long pid;
    if (parse_long(e->d_name, &pid))
      known[nknown++] = (pid_t)pid;
  }
  if (d)
    closedir(d);
  printf("ready\n");
  fflush(stdout);

  int resolved = 0;
  double all_done_at = 0;
  while (now_seconds() < deadline) {
    scan_new_pids(known, &nknown, MAXK, g, &ng, MAXG);
    for (int i = 0; i < ng; i++) {
      if (g[i].done)
        continue;
      char path[64];
      snprintf(path, sizeof path, "/proc/self/fd/%d", g[i].fd);
      const char *word = try_overwrite(path, &err);
      if (err == ETXTBSY)
        continue; /* still running: try again once it has exited */
      printf("result %d %s\n", (int)g[i].pid, word);
      fflush(stdout);
      g[i].done = true;
      resolved++;
    }
    if (ng > 0 && resolved == ng) {
      /* Linger briefly for further runtime processes, then stop. */
      if (all_done_at == 0)
        all_done_at = now_seconds();
      else if (now_seconds() - all_done_at > 0.3)
        return 0;
    } else {
      all_done_at = 0;
    }
    if (ng == 0)
      continue; /* busy scan: the runtime may be visible only briefly */
    sleep_seconds(0.005);
  }
  printf("timeout\n");
  return EXIT_TIMEOUT;
}

/* ------------------------------------------------------------------ */
/* Host-side tools                                                      */
/* ------------------------------------------------------------------ */

/* recvtty SOCKET [--input STR] [--timeout S] [--quiet]
 * Listens on SOCKET (appears once listening), receives the pty master sent
 * by a runtime given --console-socket, optionally writes STR (escapes
 * \n \r \t \xHH) to it, and copies the pty output to stdout until the
 * terminal is closed. The received payload (pty name) goes to stderr
 * unless --quiet. */
static int cmd_recvtty(int argc, char **argv)
{
  const char *path = NULL, *input = NULL;
  double timeout = 60;
  bool quiet = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--input") == 0 && i + 1 < argc)
      input = argv[++i];
    else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
      timeout = arg_seconds("--timeout", argv[++i]);
    else if (strcmp(argv[i], "--quiet") == 0)
      quiet = true;
    else if (path == NULL)
      path = argv[i];
    else
      die(EXIT_USAGE, "recvtty: unexpected argument \"%s\"", argv[i]);
  }
  if (path == NULL)
    die(EXIT_USAGE, "usage: recvtty SOCKET [--input STR] [--timeout S] [--quiet]");
  signal(SIGPIPE, SIG_IGN);
  double deadline = now_seconds() + timeout;

  int lfd = listen_unix_atomic(path);
  if (!wait_readable(lfd, timeout))
    die(EXIT_TIMEOUT, "recvtty: no connection on \"%s\" within %.0fs", path, timeout);
  int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0)
    die(EXIT_INTERNAL, "accept: %s", strerror(errno));
  char payload[4096];
  int master = recv_fd(conn, payload, sizeof payload, NULL);
  close(conn);
  close(lfd);
  unlink(path);
  if (master < 0)
    die(EXIT_FAILED, "recvtty: message without a file descriptor");
  if (!quiet)
    fprintf(stderr, "recvtty: received fd for \"%s\"\n", payload);
  if (!isatty(master))
    die(EXIT_FAILED, "recvtty: received fd is not a terminal");

  if (input) {
    size_t len;
    char *data = unescape(input, &len);
    if (!write_all(master, data, len))
      die(EXIT_FAILED, "recvtty: write to pty: %s", strerror(errno));
    free(data);
  }
  char buf[8192];
  for (;;) {
    double left = deadline - now_seconds();
    if (left <= 0 || !wait_readable(master, left))
      die(EXIT_TIMEOUT, "recvtty: terminal still open after %.0fs", timeout);
    ssize_t n = read(master, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; /* EIO: every slave fd is closed */
    if (!write_all(1, buf, (size_t)n))
      break;
  }
  close(master);
  return 0;
}

/* seccomp-listener SOCKET [--ret N] [--count N] [--timeout S]
 * Receives the seccomp notify fd and the container process state JSON a
 * runtime sends to linux.seccomp.listenerPath, and answers every
 * notification as a success returning N (default 0).  Logs to stdout:
 *   state {JSON on one line}
 *   fd ok
 *   notify pid=P nr=SYSCALL
 *   done N            (when the filter is gone, or after --count) */
static int cmd_seccomp_listener(int argc, char **argv)
{
  const char *path = NULL;
  long ret = 0, count = -1;
  double timeout = 60;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--ret") == 0 && i + 1 < argc)
      ret = arg_long("--ret", argv[++i]);
    else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
      count = arg_long("--count", argv[++i]);
    else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
      timeout = arg_seconds("--timeout", argv[++i]);
    else if (path == NULL)
      path = argv[i];
    else
      die(EXIT_USAGE, "seccomp-listener: unexpected argument \"%s\"", argv[i]);
  }
  if (path == NULL)
    die(EXIT_USAGE, "usage: seccomp-listener SOCKET [--ret N] [--count N] [--timeout S]");
  double deadline = now_seconds() + timeout;

  int lfd = listen_unix_atomic(path);
  if (!wait_readable(lfd, timeout))
    die(EXIT_TIMEOUT, "seccomp-listener: no connection on \"%s\" within %.0fs", path, timeout);
  int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0)
    die(EXIT_INTERNAL, "accept: %s", strerror(errno));
  static char state[1 << 16];
  int nfd = recv_fd(conn, state, sizeof state, NULL);
  close(conn);
  close(lfd);
  unlink(path);
  one_line(state);
  printf("state %s\n", state);
  if (nfd < 0) {
    printf("fd missing\n");
    return EXIT_FAILED;
  }
  printf("fd ok\n");
  fflush(stdout);

  long answered = 0;
  while (count < 0 || answered < count) {
    struct pollfd p = {.fd = nfd, .events = POLLIN};
    double left = deadline - now_seconds();
    if (left <= 0) {
      printf("timeout\n");
      return EXIT_TIMEOUT;
    }
    int r = poll(&p, 1, (int)(left * 1000));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      continue;
    if (!(p.revents & POLLIN))
      break; /* POLLHUP: no task uses the filter any more */
    struct seccomp_notif req;
    memset(&req, 0, sizeof req);
    if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
      if (errno == EINTR || errno == ENOENT)
        continue;
      printf("recv %s\n", errno_name(errno));
      return EXIT_FAILED;
    }
    printf("notify pid=%u nr=%d\n", req.pid, req.data.nr);
    fflush(stdout);
    struct seccomp_notif_resp resp;
    memset(&resp, 0, sizeof resp);
    resp.id = req.id;
    resp.val = ret;
    if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
      printf("send %s\n", errno_name(errno));
    answered++;
  }
  printf("done %ld\n", answered);
  return 0;
}

/* hook NAME LOG [--no-stdin] [--env VAR]... [--ns TYPE]... [--comm] [--sleep S] [--exit N]
 * An OCI hook: appends "NAME<TAB>STATE-JSON" (stdin flattened to one line;
 * "-" with --no-stdin) plus "<TAB>VAR=value" for each --env,
 * "<TAB>TYPE=ns-link" for each --ns (e.g. mnt) and, with --comm,
 * "<TAB>comm=NAME" of the state's pid (what that process runs now) to LOG,
 * then sleeps and exits as asked. */
static int cmd_hook(int argc, char **argv)
{
  if (argc < 3)
    die(EXIT_USAGE, "usage: hook NAME LOG [--no-stdin] [--env VAR]... [--ns TYPE]... [--comm] [--sleep S] [--exit N]");
  const char *name = argv[1], *log = argv[2];
  bool read_stdin = true, with_comm = false;
  double sleep_s = 0;
  long code = 0;
  char envs[4096] = "";
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--no-stdin") == 0)
      read_stdin = false;
    else if (strcmp(argv[i], "--comm") == 0)
      with_comm = true;
    else if (strcmp(argv[i], "--sleep") == 0 && i + 1 < argc)
      sleep_s = arg_seconds("--sleep", argv[++i]);
    else if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc)
      code = arg_long("--exit", argv[++i]);
    else if (strcmp(argv[i], "--env") == 0 && i + 1 < argc) {
      const char *v = getenv(argv[++i]);
      size_t used = strlen(envs);
      snprintf(envs + used, sizeof envs - used, "\t%s=%s", argv[i], v ? v : "(unset)");
    } else if (strcmp(argv[i], "--ns") == 0 && i + 1 < argc) {
      char path[64], target[256];
      snprintf(path, sizeof path, "/proc/self/ns/%s", argv[++i]);
      ssize_t len = readlink(path, target, sizeof target - 1);
      target[len < 0 ? 0 : len] = '\0';
      size_t used = strlen(envs);
      snprintf(envs + used, sizeof envs - used, "\t%s=%s", argv[i], len < 0 ? errno_name(errno) : target);
    } else
      die(EXIT_USAGE, "hook: unexpected argument \"%s\"", argv[i]);
  }
  char *state = read_stdin ? read_all(0, NULL) : strdup("-");
  one_line(state);
  if (with_comm) {
    const char *pid_key = strstr(state, "\"pid\":");
    char path[64], comm[64] = "(no pid)";
    if (pid_key) {
      snprintf(path, sizeof path, "/proc/%ld/comm", strtol(pid_key + 6, NULL, 10));
      int comm_fd = open(path, O_RDONLY | O_CLOEXEC);
      ssize_t len = comm_fd < 0 ? -1 : read(comm_fd, comm, sizeof comm - 1);
      if (comm_fd >= 0)
        close(comm_fd);
      comm[len < 0 ? 0 : len] = '\0';
      comm[strcspn(comm, "\n")] = '\0';
    }
    size_t used = strlen(envs);
    snprintf(envs + used, sizeof envs - used, "\tcomm=%s", comm);
  }
  char *line;
  if (asprintf(&line, "%s\t%s%s\n", name, state, envs) < 0)
    die(EXIT_INTERNAL, "out of memory");
  int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    die(EXIT_FAILED, "hook %s: open \"%s\": %s", name, log, strerror(errno));
  write_all(fd, line, strlen(line)); /* one write: O_APPEND keeps lines whole */
  close(fd);
  if (sleep_s > 0)
    sleep_seconds(sleep_s);
  if (code != 0)
    fprintf(stderr, "hook %s: failing with exit code %ld as asked\n", name, code);
  return (int)code;
}

/* stuck-stdout --until FILE [--timeout S] [--stderr] -- CMD [ARGS...]
 * Runs CMD with its stdout (and with --stderr its stderr) on a pipe that is
 * already full, so the first write of CMD (or of anything it passes its
 * stdio to, such as a process a runtime execs in a container) blocks.
 * Once FILE exists (or CMD has exited) the pipe is drained; prints what
 * CMD wrote and "exit=STATUS". */
static int cmd_stuck_stdout(int argc, char **argv)
{
  const char *until = NULL;
  double timeout = 60;
  bool with_stderr = false;
  int i;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--stderr") == 0)
      with_stderr = true;
    else if (strcmp(argv[i], "--until") == 0 && i + 1 < argc)
      until = argv[++i];
    else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
      timeout = arg_seconds("--timeout", argv[++i]);
    else if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    } else
      die(EXIT_USAGE, "stuck-stdout: unexpected argument \"%s\"", argv[i]);
  }
  if (until == NULL || i >= argc)
    die(EXIT_USAGE, "usage: stuck-stdout --until FILE [--timeout S] [--stderr] -- CMD [ARGS...]");
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    die(EXIT_INTERNAL, "pipe: %s", strerror(errno));
  int fl = fcntl(p[1], F_GETFL);
  fcntl(p[1], F_SETFL, fl | O_NONBLOCK);
  static char fill[4096];
  memset(fill, '.', sizeof fill);
  size_t prefilled = 0;
  for (;;) {
    ssize_t n = write(p[1], fill, sizeof fill);
    if (n < 0)
      break;
    prefilled += (size_t)n;
  }
  if (errno != EAGAIN)
    die(EXIT_INTERNAL, "filling pipe: %s", strerror(errno));
  /* A pipe refuses a page-sized write while a partial page is free: top up. */
  while (write(p[1], fill, 1) == 1)
    prefilled++;
  fcntl(p[1], F_SETFL, fl);

  pid_t child = fork();
  if (child < 0)
    die(EXIT_INTERNAL, "fork: %s", strerror(errno));
  if (child == 0) {
    dup2(p[1], 1);
    if (with_stderr)
      dup2(p[1], 2);
    execvp(argv[i], argv + i);
    _exit(127);
  }
  close(p[1]);
  double deadline = now_seconds() + timeout;
  int status = 0;
  bool reaped = false;
  while (access(until, F_OK) != 0) {
    if (waitpid(child, &status, WNOHANG) == child) {
      reaped = true; /* CMD ended by itself: nothing left to hold */
      break;
    }
    if (now_seconds() > deadline) {
      kill(child, SIGKILL);
      die(EXIT_TIMEOUT, "stuck-stdout: \"%s\" did not appear within %.0fs", until, timeout);
    }
    sleep_seconds(0.01);
  }
  char buf[8192];
  size_t skipped = 0;
  for (;;) {
    double left = deadline - now_seconds();
    if (left <= 0 || !wait_readable(p[0], left)) {
      kill(child, SIGKILL);
      die(EXIT_TIMEOUT, "stuck-stdout: output still open after %.0fs", timeout);
    }
    ssize_t n = read(p[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    size_t off = 0;
    if (skipped < prefilled) {
      off = prefilled - skipped < (size_t)n ? prefilled - skipped : (size_t)n;
      skipped += off;
    }
    write_all(1, buf + off, (size_t)n - off);
  }
  while (!reaped && waitpid(child, &status, 0) < 0 && errno == EINTR)
    ;
  printf("\nexit=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                             */
/* ------------------------------------------------------------------ */

static int cmd_help(int argc, char **argv);

static const struct command {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
} commands[] = {
    {"syscall", cmd_syscall, "NAME [ARGS]: raw syscall, prints ok [RESULT] or the errno name"},
    {"fds", cmd_fds, "[--all]: open fds above 2 with their targets, then \"total N\""},
    {"cwd", cmd_cwd, "cwd=PATH and inside=yes|no (is the cwd under /)"},
    {"caps", cmd_caps, "Cap{Inh,Prm,Eff,Bnd,Amb}, NoNewPrivs, Seccomp from /proc/self/status"},
    {"rlimits", cmd_rlimits, "RLIMIT_X=SOFT:HARD for every resource"},
    {"ids", cmd_ids, "uid gid euid egid groups umask"},
    {"alloc", cmd_alloc, "MB: allocate and touch memory"},
    {"forkbomb", cmd_forkbomb, "N: try N forks, print forked=K [error=E]"},
    {"sleep", cmd_sleep, "SECONDS"},
    {"pause", cmd_pause, "[COUNT]: print ready, then the names of the signals received"},
    {"tty", cmd_tty, "terminal status of stdio, window size, controlling tty"},
    {"exe-overwrite", cmd_exe_overwrite, "self|PID|watch [TIMEOUT]: CVE-2019-5736 attempt"},
    {"recvtty", cmd_recvtty, "SOCKET [--input STR] [--timeout S]: console socket receiver (host)"},
    {"seccomp-listener", cmd_seccomp_listener, "SOCKET [--ret N] [--count N]: seccomp notify agent (host)"},
    {"hook", cmd_hook, "NAME LOG [--no-stdin] [--env V] [--ns T] [--comm] [--sleep S] [--exit N]: OCI hook logger"},
    {"stuck-stdout", cmd_stuck_stdout, "--until FILE [--stderr] -- CMD: run CMD with a full stdout pipe (host)"},
    {"help", cmd_help, "this list"},
};

static int cmd_help(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  printf("usage: helper COMMAND [ARGS...]\n");
  for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
    printf("  %-17s %s\n", commands[i].name, commands[i].summary);
  return 0;
}

static const struct command *find_command(const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *base = argv[0] ? strrchr(argv[0], '/') : NULL;
  base = base ? base + 1 : (argv[0] ? argv[0] : "helper");

  const struct command *cmd = find_command(base);
  if (cmd == NULL) {
    if (argc < 2) {
      cmd_help(0, NULL);
      return EXIT_USAGE;
    }
    cmd = find_command(argv[1]);
    if (cmd == NULL)
      die(EXIT_USAGE, "unknown command \"%s\" (try: helper help)", argv[1]);
    argc--;
    argv++;
  }
  prog = cmd->name;
  int rc = cmd->fn(argc, argv);
  fflush(stdout);
  return rc;
}
