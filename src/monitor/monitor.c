/* berth-monitor: one small process per running container (protocol.h).
 *
 * One poll loop: the signalfd (SIGCHLD: reap), the periodic timerfd, the
 * container's output (pipes or pty master), the container's stdin when a
 * write is pending, the listening socket and the clients.
 *
 * Output is never dropped for a slow client: each stream has one chunk
 * buffer; a chunk goes to the log at once and then to every client that
 * asked for the stream, and the stream is not read again until every such
 * client took it (the container then blocks on a full pipe).  Stdin works
 * the same way the other way round: while the container does not take a
 * client's bytes, no client message is read.
 *
 * Phases: RUNNING (init alive), DRAINING (init reaped: output is read to
 * EOF, at most DRAIN_MS), EXITED (exit file written, MSG_EXIT queued: the
 * monitor waits for the owner, then exits or execs the exit command). */
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "monitor/logfile.h"
#include "monitor/monitor.h"
#include "monitor/protocol.h"
#include "monitor/sys.h"
#include "monitor/util.h"

#define CHUNK 16384
#define MAX_CLIENTS 64
#define DRAIN_MS 2000   /* after init's exit, for output still held by escaped processes */
#define DELIVER_MS 2000 /* after the exit, for slow non-owner clients */
#define FINAL_DRAIN_MAX (4 << 20)
#define PATH_CAP 4096
#define MS 1000000LL

enum { C_IN = 1, C_OUT = 2, C_ERR = 4, C_OWNER = 8 };
enum { P_OUT = 1, P_ERR = 2, P_EXIT = 4 };
enum phase { RUNNING, DRAINING, EXITED };

struct stream {
  int fd;       /* read end or pty master; -1 once closed */
  int eof;
  char kind;    /* MSG_STDOUT, MSG_STDERR */
  int want;     /* C_OUT, C_ERR */
  int bit;      /* P_OUT, P_ERR */
  const char *name;
  size_t len;   /* payload bytes in pkt */
  uint64_t seq; /* order of chunks across the streams */
  struct logline line;
  char pkt[1 + CHUNK];
};

struct client {
  int fd; /* -1: free slot */
  int flags;
  int pend;
  int hup; /* hung up while its messages were not being read */
};

static struct monitor_config cfg;
static char **env;
static struct logfile container_log;
static struct stream streams[2];
static int nstreams;
static int tty = -1;   /* pty master */
static int in_fd = -1; /* the container's stdin (pipe write end) */
static struct client clients[MAX_CLIENTS];
static int sigfd = -1, timerfd = -1, listenfd = -1;
static int sock_dirfd = -1;
static const char *sock_base;
static int socket_made;
static char rx[1 + MONITOR_MAX_PAYLOAD]; /* a client message; also pending stdin bytes */
static size_t in_off, in_len;
static enum phase phase = RUNNING;
static int init_done; /* after init's exit: timer and stdin closed */
static int status;
static int64_t finished_ns, deadline;
static long periodic_pid;
static int cleaned;
static ksigset_t orig_mask;
static uint64_t seq;
static char exit_pkt[16];
static size_t exit_pkt_len;
static const int ignored[] = {SIGPIPE, SIGINT, SIGHUP, SIGTERM};

static void remove_socket(void) {
  if (socket_made) {
    sys_unlinkat(sock_dirfd, sock_base, 0);
    socket_made = 0;
  }
  if (listenfd >= 0) {
    sys_close(listenfd);
    listenfd = -1;
  }
}

static __attribute__((noreturn)) void die(void) {
  remove_socket();
  sys_exit(125);
}

static void set_flags(int fd, int nonblock) {
  sys_fcntl(fd, F_SETFD, FD_CLOEXEC);
  if (nonblock) {
    long fl = sys_fcntl(fd, F_GETFL, 0);
    if (fl >= 0)
      sys_fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  }
}

/* Signals and stdio as a new program expects them; then exec. */
static void prepare_exec(void) {
  struct ksigaction dfl = {0};
  for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
    sys_sigaction(ignored[i], &dfl, NULL);
  sys_sigprocmask(SIG_SETMASK, &orig_mask, NULL);
  long null = sys_openat(AT_FDCWD, "/dev/null", O_RDWR, 0);
  if (null >= 0) {
    for (int fd = 0; fd < 3; fd++)
      if (fd != null)
        sys_dup3((int)null, fd, 0);
    if (null > 2)
      sys_close((int)null);
  }
}

static void close_from(unsigned first, unsigned last) {
  if (first > last)
    return;
  if (sys_close_range(first, last) < 0)
    for (unsigned fd = first; fd <= last && fd < 4096; fd++)
      sys_close((int)fd);
}

static long spawn(char **argv) {
  long pid = sys_fork();
  if (pid == 0) {
    prepare_exec();
    close_from(3, ~0U);
    sys_execve(argv[0], argv, env);
    sys_exit(127);
  }
  return pid;
}

/* Runs the exit command in place of the monitor: same pid. */
static __attribute__((noreturn)) void exec_exit_command(void) {
  char **argv = cfg.exit_argv;
  sys_prctl(PR_SET_CHILD_SUBREAPER, 0);
  long saved = sys_fcntl(2, F_DUPFD_CLOEXEC, 3);
  prepare_exec();
  if (saved >= 3) {
    close_from(3, (unsigned)saved - 1);
    close_from((unsigned)saved + 1, ~0U);
  } else {
    close_from(3, ~0U);
  }
  long r = sys_execve(argv[0], argv, env);
  if (saved >= 3)
    sys_dup3((int)saved, 2, 0);
  say((int)-r, "container ", cfg.id, ": exec the exit command \"", argv[0], "\"", NULL);
  sys_exit(127);
}

/* --- clients --- */

static void client_drop(struct client *c) {
  sys_close(c->fd);
  c->fd = -1;
  c->flags = c->pend = c->hup = 0;
}

/* Sends what is owed to c, oldest first; stops when its socket is full. */
static void client_flush(struct client *c) {
  while (c->fd >= 0 && c->pend != 0) {
    const char *p;
    size_t len;
    int bit;
    if (c->pend & (P_OUT | P_ERR)) {
      struct stream *s = &streams[0];
      if (!(c->pend & P_OUT) || ((c->pend & P_ERR) && streams[1].seq < streams[0].seq))
        s = &streams[1];
      p = s->pkt;
      len = 1 + s->len;
      bit = s->bit;
    } else {
      p = exit_pkt;
      len = exit_pkt_len;
      bit = P_EXIT;
    }
    long r = sys_send(c->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r == -EINTR)
      continue;
    if (r == -EAGAIN)
      return;
    if (r < 0) {
      client_drop(c);
      return;
    }
    c->pend &= ~bit;
  }
}

static int stream_busy(const struct stream *s) {
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd >= 0 && (clients[i].pend & s->bit))
      return 1;
  return 0;
}

static void client_add(int fd, int flags) {
  for (int i = 0; i < MAX_CLIENTS; i++) {
    if (clients[i].fd < 0) {
      clients[i].fd = fd;
      clients[i].flags = flags;
      clients[i].pend = phase == EXITED ? P_EXIT : 0;
      clients[i].hup = 0;
      client_flush(&clients[i]);
      return;
    }
  }
  sys_close(fd); /* too many clients */
}

/* --- the container's stdin --- */

static int stdin_target(void) {
  return tty >= 0 ? tty : in_fd;
}

static void stdin_drop(void) {
  in_off = in_len = 0;
  if (in_fd >= 0) {
    sys_close(in_fd);
    in_fd = -1;
  }
}

/* Writes rx[off, off+len) to the container; keeps what does not fit. */
static void stdin_write(size_t off, size_t len) {
  int fd = stdin_target();
  while (fd >= 0 && len > 0) {
    long r = sys_write(fd, rx + off, len);
    if (r == -EINTR)
      continue;
    if (r == -EAGAIN)
      break;
    if (r <= 0) {
      /* The reader is gone (EPIPE, or EIO on a pty). */
      if (tty < 0)
        stdin_drop();
      len = 0;
      break;
    }
    off += (size_t)r;
    len -= (size_t)r;
  }
  in_off = off;
  in_len = len;
}

static void stdin_close(void) {
  if (tty >= 0) {
    /* A pty has no half-close: the EOF character ends a read. */
    struct ktermios t;
    rx[0] = sys_ioctl(tty, TCGETS, &t) == 0 && t.c_cc[KVEOF] != 0 ? (char)t.c_cc[KVEOF] : 4;
    stdin_write(0, 1);
  } else {
    stdin_drop();
  }
}

static void resize(const char *p, size_t n) {
  uint64_t v[2] = {0, 0};
  int k = 0, digits = 0;
  for (size_t i = 0; i < n && k < 2; i++) {
    if (p[i] >= '0' && p[i] <= '9') {
      v[k] = v[k] * 10 + (uint64_t)(p[i] - '0');
      if (v[k] > 65535)
        return;
      digits = 1;
    } else if (p[i] == ' ' && digits) {
      k++;
      digits = 0;
    } else {
      return;
    }
  }
  if (k != 1 || !digits || tty < 0)
    return;
  struct winsize ws = {.ws_row = (unsigned short)v[0], .ws_col = (unsigned short)v[1]};
  sys_ioctl(tty, TIOCSWINSZ, &ws);
}

static void client_read(struct client *c) {
  long n = sys_recv(c->fd, rx, sizeof(rx), MSG_DONTWAIT);
  if (n == -EAGAIN || n == -EINTR)
    return;
  if (n <= 0) {
    client_drop(c);
    return;
  }
  size_t len = (size_t)n - 1;
  switch (rx[0]) {
  case MSG_HELLO: {
    int flags = 0;
    for (size_t i = 1; i <= len; i++)
      flags |= rx[i] == 'i' ? C_IN : rx[i] == 'o' ? C_OUT : rx[i] == 'e' ? C_ERR : rx[i] == 'O' ? C_OWNER : 0;
    c->flags = flags;
    break;
  }
  case MSG_STDIN:
    if ((c->flags & C_IN) && phase == RUNNING && len > 0)
      stdin_write(1, len);
    break;
  case MSG_STDIN_CLOSE:
    if ((c->flags & C_IN) && phase == RUNNING)
      stdin_close();
    break;
  case MSG_RESIZE:
    resize(rx + 1, len);
    break;
  case MSG_CLEANED:
    if ((c->flags & C_OWNER) && phase == EXITED)
      cleaned = 1;
    break;
  default:
    break;
  }
}

/* --- the container's output --- */

static void stream_end(struct stream *s) {
  if (s->eof)
    return;
  logfile_end(&container_log, &s->line, s->name, clock_ns(CLOCK_REALTIME));
  s->eof = 1;
  if (s->fd != tty) {
    sys_close(s->fd);
    s->fd = -1;
  }
}

/* Logs data and hands it to the clients that want it: queued in s->pkt
 * (queue != 0) or, in the final drain, sent if the socket takes it. */
static void stream_data(struct stream *s, char *pkt, size_t n, int queue) {
  logfile_feed(&container_log, &s->line, s->name, pkt + 1, n, clock_ns(CLOCK_REALTIME));
  pkt[0] = s->kind;
  if (queue) {
    s->len = n;
    s->seq = ++seq;
  }
  for (int i = 0; i < MAX_CLIENTS; i++) {
    struct client *c = &clients[i];
    if (c->fd < 0 || !(c->flags & s->want))
      continue;
    if (queue) {
      c->pend |= s->bit;
      client_flush(c);
    } else if (!(c->pend & s->bit)) {
      long r = sys_send(c->fd, pkt, 1 + n, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (r < 0 && r != -EAGAIN && r != -EINTR)
        client_drop(c);
    }
  }
}

static void stream_read(struct stream *s) {
  long n = sys_read(s->fd, s->pkt + 1, CHUNK);
  if (n == -EAGAIN || n == -EINTR)
    return;
  if (n <= 0) {
    stream_end(s); /* EOF, or EIO: the pty has no slave left */
    return;
  }
  stream_data(s, s->pkt, (size_t)n, 1);
}

/* The drain's time is up: what the pipes hold now goes to the log (and to
 * clients with room); what escaped processes write later is not read. */
static void final_drain(void) {
  for (int i = 0; i < nstreams; i++) {
    struct stream *s = &streams[i];
    size_t total = 0;
    while (!s->eof && total < FINAL_DRAIN_MAX) {
      long n = sys_read(s->fd, rx + 1, MONITOR_MAX_PAYLOAD);
      if (n == -EINTR)
        continue;
      if (n <= 0)
        break;
      stream_data(s, rx, (size_t)n, 0);
      total += (size_t)n;
    }
    stream_end(s);
  }
}

/* --- the container's exit --- */

static void write_exit_file(void) {
  static char tmp[PATH_CAP];
  size_t plen = strlen(cfg.exit_file);
  if (plen + 5 > sizeof(tmp)) {
    say(ENAMETOOLONG, "container ", cfg.id, ": write the exit file \"", cfg.exit_file, "\"", NULL);
    return;
  }
  memcpy(tmp, cfg.exit_file, plen);
  memcpy(tmp + plen, ".tmp", 5);
  char line[48];
  size_t n = fmt_u64(line, (uint64_t)status);
  line[n++] = ' ';
  n += fmt_u64(line + n, (uint64_t)finished_ns);
  line[n++] = '\n';
  long fd = sys_openat(AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  long r = fd;
  if (fd >= 0) {
    r = write_all((int)fd, line, n);
    sys_close((int)fd);
    if (r == 0)
      r = sys_rename(tmp, cfg.exit_file);
    if (r < 0)
      sys_unlinkat(AT_FDCWD, tmp, 0);
  }
  if (r < 0)
    say((int)-r, "container ", cfg.id, ": write the exit file \"", cfg.exit_file, "\"", NULL);
}

static void enter_exited(void) {
  for (int i = 0; i < nstreams; i++)
    stream_end(&streams[i]);
  if (tty >= 0) {
    sys_close(tty);
    tty = -1;
  }
  /* Gone before the exit file appears: whoever sees that file finds no
   * socket to attach to. */
  remove_socket();
  write_exit_file();
  phase = EXITED;
  deadline = clock_ns(CLOCK_MONOTONIC) + DELIVER_MS * MS;
  exit_pkt[0] = MSG_EXIT;
  exit_pkt_len = 1 + fmt_u64(exit_pkt + 1, (uint64_t)status);
  for (int i = 0; i < MAX_CLIENTS; i++) {
    if (clients[i].fd >= 0) {
      clients[i].pend |= P_EXIT;
      client_flush(&clients[i]);
    }
  }
}

/* Once exited: the owner's MSG_CLEANED ends the monitor; with no owner left
 * the exit command runs (after the clients got their MSG_EXIT, or
 * DELIVER_MS). */
static void maybe_finish(void) {
  int owner = 0, pending = 0;
  for (int i = 0; i < MAX_CLIENTS; i++) {
    if (clients[i].fd < 0)
      continue;
    owner |= clients[i].flags & C_OWNER;
    pending |= clients[i].pend != 0;
  }
  if (owner && !cleaned)
    return;
  if (pending && clock_ns(CLOCK_MONOTONIC) < deadline)
    return;
  if (cleaned || cfg.exit_argv == NULL || cfg.exit_argv[0] == NULL)
    sys_exit(0);
  exec_exit_command();
}

static void init_exited(int wstatus) {
  status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : 255;
  finished_ns = clock_ns(CLOCK_REALTIME);
  phase = DRAINING;
  deadline = clock_ns(CLOCK_MONOTONIC) + DRAIN_MS * MS;
}

static void reap(void) {
  for (;;) {
    int ws = 0;
    long pid = sys_wait4(-1, &ws, WNOHANG);
    if (pid == -EINTR)
      continue;
    if (pid <= 0)
      return;
    if (pid == cfg.pid && phase == RUNNING)
      init_exited(ws);
    else if (pid == periodic_pid)
      periodic_pid = 0;
  }
}

/* --- setup --- */

static void open_socket(void) {
  static char dir[PATH_CAP];
  const char *path = cfg.socket_path;
  size_t len = strlen(path);
  const char *slash = NULL;
  for (const char *p = path; *p != '\0'; p++)
    if (*p == '/')
      slash = p;
  if (len >= sizeof(dir)) {
    say(ENAMETOOLONG, "container ", cfg.id, ": socket \"", path, "\"", NULL);
    die();
  }
  if (slash == NULL) {
    memcpy(dir, ".", 2);
    sock_base = path;
  } else {
    size_t dlen = slash == path ? 1 : (size_t)(slash - path);
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    sock_base = slash + 1;
  }
  long dfd = sys_openat(AT_FDCWD, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (dfd < 0) {
    say((int)-dfd, "container ", cfg.id, ": socket directory \"", dir, "\"", NULL);
    die();
  }
  sock_dirfd = (int)dfd;
  long fd = sys_socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    say((int)-fd, "container ", cfg.id, ": socket", NULL);
    die();
  }
  listenfd = (int)fd;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (len < sizeof(addr.sun_path)) {
    memcpy(addr.sun_path, path, len + 1);
  } else {
    /* Too long for sun_path: through the directory's fd. */
    char num[20];
    size_t n = 0, blen = strlen(sock_base);
    memcpy(addr.sun_path, "/proc/self/fd/", 14);
    n = 14;
    size_t k = fmt_u64(num, (uint64_t)sock_dirfd);
    if (n + k + 1 + blen >= sizeof(addr.sun_path)) {
      say(ENAMETOOLONG, "container ", cfg.id, ": socket \"", path, "\"", NULL);
      die();
    }
    memcpy(addr.sun_path + n, num, k);
    n += k;
    addr.sun_path[n++] = '/';
    memcpy(addr.sun_path + n, sock_base, blen + 1);
  }
  long r = sys_unlinkat(sock_dirfd, sock_base, 0);
  if (r < 0 && r != -ENOENT) {
    say((int)-r, "container ", cfg.id, ": remove the stale socket \"", path, "\"", NULL);
    die();
  }
  long old = sys_umask(0177);
  r = sys_bind(listenfd, &addr, sizeof(addr));
  sys_umask((int)old);
  if (r < 0) {
    say((int)-r, "container ", cfg.id, ": bind \"", path, "\"", NULL);
    die();
  }
  socket_made = 1;
  r = sys_listen(listenfd, 16);
  if (r < 0) {
    say((int)-r, "container ", cfg.id, ": listen on \"", path, "\"", NULL);
    die();
  }
}

static void setup(void) {
  /* Our fds 0-2 stay taken (by /dev/null if closed), so no socket or
   * signalfd of ours becomes "stderr". */
  for (int fd = 0; fd < 3; fd++)
    if (sys_fcntl(fd, F_GETFD, 0) < 0)
      sys_openat(AT_FDCWD, "/dev/null", O_RDWR, 0);
  ksigset_t chld = KSIG(SIGCHLD);
  sys_sigprocmask(SIG_BLOCK, &chld, &orig_mask);
  long fd = sys_signalfd(&chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) {
    say((int)-fd, "container ", cfg.id, ": signalfd", NULL);
    die();
  }
  sigfd = (int)fd;
  struct ksigaction ign = {.handler = (void (*)(int))1};
  for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
    sys_sigaction(ignored[i], &ign, NULL);
  sys_prctl(PR_SET_CHILD_SUBREAPER, 1);

  for (int i = 0; i < MAX_CLIENTS; i++)
    clients[i].fd = -1;
  if (cfg.tty_fd >= 0) {
    tty = cfg.tty_fd;
    set_flags(tty, 1);
    streams[0].fd = tty;
    nstreams = 1;
  } else {
    in_fd = cfg.stdin_fd;
    if (in_fd >= 0)
      set_flags(in_fd, 1);
    streams[0].fd = cfg.stdout_fd;
    streams[1].fd = cfg.stderr_fd;
    set_flags(cfg.stdout_fd, 1);
    set_flags(cfg.stderr_fd, 1);
    nstreams = 2;
  }
  streams[0].kind = MSG_STDOUT;
  streams[0].want = C_OUT;
  streams[0].bit = P_OUT;
  streams[0].name = "stdout";
  streams[1].kind = MSG_STDERR;
  streams[1].want = C_ERR;
  streams[1].bit = P_ERR;
  streams[1].name = "stderr";
  if (cfg.ready_fd >= 0)
    set_flags(cfg.ready_fd, 0);

  int r = logfile_open(&container_log, cfg.log_path, cfg.log_max_size, cfg.log_max_file);
  if (r < 0) {
    say(-r, "container ", cfg.id, ": open the log \"", cfg.log_path, "\"", NULL);
    die();
  }

  /* init must be our child, or its exit would never be seen. */
  int ws = 0;
  long pid = sys_wait4(cfg.pid, &ws, WNOHANG);
  if (pid == -ECHILD) {
    char num[20];
    num[fmt_u64(num, (uint64_t)cfg.pid)] = '\0';
    say(0, "container ", cfg.id, ": process ", num, " is not a child of the monitor", NULL);
    die();
  }
  if (pid == cfg.pid)
    init_exited(ws);

  open_socket();
  if (cfg.client_fd >= 0) {
    set_flags(cfg.client_fd, 1);
    client_add(cfg.client_fd, C_IN | C_OUT | C_ERR | C_OWNER);
  }
  if (cfg.periodic_ms > 0 && phase == RUNNING) {
    fd = sys_timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (fd < 0) {
      say((int)-fd, "container ", cfg.id, ": timerfd", NULL);
      die();
    }
    timerfd = (int)fd;
    struct itimerspec its;
    its.it_interval.tv_sec = (time_t)(cfg.periodic_ms / 1000);
    its.it_interval.tv_nsec = (long)(cfg.periodic_ms % 1000) * 1000000;
    its.it_value = its.it_interval;
    sys_timerfd_settime(timerfd, &its);
  }
  if (cfg.ready_fd >= 0) {
    write_all(cfg.ready_fd, "r", 1);
    sys_close(cfg.ready_fd);
  }
}

/* --- the loop --- */

enum { T_SIG, T_TIMER, T_LISTEN, T_STREAM, T_STDIN, T_CLIENT };

static void loop(void) {
  struct pollfd pf[6 + MAX_CLIENTS];
  int tag[6 + MAX_CLIENTS], idx[6 + MAX_CLIENTS];
  for (;;) {
    if (phase != RUNNING && !init_done) {
      init_done = 1;
      if (timerfd >= 0) {
        sys_close(timerfd);
        timerfd = -1;
      }
      stdin_drop();
    }
    if (phase == DRAINING) {
      int open = 0;
      for (int i = 0; i < nstreams; i++)
        open |= !streams[i].eof;
      if (open && clock_ns(CLOCK_MONOTONIC) >= deadline) {
        final_drain();
        open = 0;
      }
      if (!open)
        enter_exited();
    }
    if (phase == EXITED)
      maybe_finish();

    unsigned n = 0;
    int reading = in_len == 0; /* client messages wait while stdin is pending */
#define ADD(f, ev, t, i) (pf[n] = (struct pollfd){.fd = (f), .events = (ev)}, tag[n] = (t), idx[n] = (i), n++)
    ADD(sigfd, POLLIN, T_SIG, 0);
    if (timerfd >= 0)
      ADD(timerfd, POLLIN, T_TIMER, 0);
    if (listenfd >= 0 && reading)
      ADD(listenfd, POLLIN, T_LISTEN, 0);
    for (int i = 0; i < nstreams; i++)
      if (!streams[i].eof && !stream_busy(&streams[i]))
        ADD(streams[i].fd, POLLIN, T_STREAM, i);
    if (in_len > 0)
      ADD(stdin_target(), POLLOUT, T_STDIN, 0);
    for (int i = 0; i < MAX_CLIENTS; i++) {
      struct client *c = &clients[i];
      if (c->fd < 0)
        continue;
      short ev = (short)((reading ? POLLIN : 0) | (c->pend ? POLLOUT : 0));
      if (reading)
        c->hup = 0;
      if (ev != 0 || !c->hup)
        ADD(c->fd, ev, T_CLIENT, i);
    }
#undef ADD
    struct timespec ts, *tsp = NULL;
    if (phase != RUNNING) {
      int64_t left = deadline - clock_ns(CLOCK_MONOTONIC);
      if (left > 0 || phase == DRAINING) {
        if (left < 0)
          left = 0;
        ts.tv_sec = (time_t)(left / 1000000000);
        ts.tv_nsec = (long)(left % 1000000000);
        tsp = &ts;
      }
    }
    long r = sys_ppoll(pf, n, tsp);
    if (r == -EINTR || r == 0)
      continue;
    if (r < 0) {
      say((int)-r, "container ", cfg.id, ": poll", NULL);
      die();
    }
    int accept_ready = 0;
    for (unsigned k = 0; k < n; k++) {
      short re = pf[k].revents;
      if (re == 0)
        continue;
      switch (tag[k]) {
      case T_SIG: {
        struct signalfd_siginfo si[4];
        while (sys_read(sigfd, si, sizeof(si)) > 0) {
        }
        reap();
        break;
      }
      case T_TIMER: {
        uint64_t ticks;
        if (timerfd >= 0 && sys_read(timerfd, &ticks, sizeof(ticks)) > 0 && phase == RUNNING && periodic_pid <= 0) {
          long pid = spawn(cfg.periodic_argv);
          periodic_pid = pid > 0 ? pid : 0;
        }
        break;
      }
      case T_LISTEN:
        accept_ready = 1; /* after the clients: no slot or fd is reused mid-round */
        break;
      case T_STREAM:
        if (!streams[idx[k]].eof)
          stream_read(&streams[idx[k]]);
        break;
      case T_STDIN:
        if (in_len > 0)
          stdin_write(in_off, in_len);
        break;
      case T_CLIENT: {
        struct client *c = &clients[idx[k]];
        if (c->fd != pf[k].fd)
          break;
        if (re & POLLOUT)
          client_flush(c);
        if (c->fd < 0)
          break;
        if (pf[k].events & POLLIN) {
          if (re & (POLLIN | POLLHUP | POLLERR))
            client_read(c);
        } else if (re & POLLERR) {
          client_drop(c);
        } else if (re & POLLHUP) {
          c->hup = 1; /* its last messages are read once stdin moves */
        }
        break;
      }
      default:
        break;
      }
    }
    if (accept_ready && listenfd >= 0) {
      long fd = sys_accept4(listenfd, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0)
        client_add((int)fd, 0);
    }
  }
}

int monitor_main(int argc, char **argv, char **envp) {
  env = envp;
  if (monitor_parse_args(argc, argv, &cfg) < 0)
    return 125;
  setup();
  loop();
  return 0;
}
