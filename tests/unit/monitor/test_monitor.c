/* berth-monitor driven as the engine drives it: a child forks the
 * "container" (/bin/sh -c SCRIPT with its stdio on pipes or a pty) and
 * execs the monitor (BERTH_MONITOR), which is then init's parent.  The
 * tests read the log, the exit file and talk on the attach socket. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "monitor/protocol.h"
#include "tap.h"

static const char *monitor_path;
static char base_dir[256];

struct mon_opts {
  const char *script;      /* the container: /bin/sh -c script */
  bool tty;                /* its stdio on a pty (--tty) instead of pipes */
  bool with_stdin;         /* --stdin (pipes) */
  bool with_client;        /* --client: a pre-attached owner */
  const char *exit_cmd;    /* shell command run as the exit command, or NULL */
  const char *extra[12];   /* more monitor arguments */
  const char *socket_name; /* default "attach" */
  bool stale_socket;       /* a regular file is where the socket goes */
};

struct mon {
  char dir[300];
  char log[340], exit_file[340], sock[340], ran[340];
  pid_t pid;  /* the monitor (later the exit command) */
  pid_t init; /* the container */
  int client; /* our end of --client, or -1 */
  int status; /* the monitor's wait status once reaped */
  bool reaped;
};

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static char *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (n + 1 >= cap)
      buf = realloc(buf, cap *= 2);
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r <= 0)
      break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  if (len != NULL)
    *len = n;
  return buf;
}

static bool exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

static void fd_keep(int fd) {
  fcntl(fd, F_SETFD, 0);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  char *s = NULL;
  if (vasprintf(&s, f, ap) < 0)
    abort();
  va_end(ap);
  return s;
}

/* Starts container + monitor; waits for --ready.  false on failure. */
static bool mon_start(struct mon *m, const struct mon_opts *o) {
  static int counter;
  memset(m, 0, sizeof(*m));
  m->client = -1;
  snprintf(m->dir, sizeof(m->dir), "%s/c%d", base_dir, ++counter);
  mkdir(m->dir, 0700);
  snprintf(m->log, sizeof(m->log), "%s/ctr.log", m->dir);
  snprintf(m->exit_file, sizeof(m->exit_file), "%s/exit", m->dir);
  snprintf(m->sock, sizeof(m->sock), "%s/%s", m->dir, o->socket_name ? o->socket_name : "attach");
  snprintf(m->ran, sizeof(m->ran), "%s/ran", m->dir);
  char *slash = strrchr(m->sock, '/');
  *slash = '\0';
  mkdir(m->sock, 0700); /* a socket_name with a directory */
  *slash = '/';
  if (o->stale_socket)
    close(open(m->sock, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));

  int out[2] = {-1, -1}, errp[2] = {-1, -1}, in[2] = {-1, -1}, ready[2], report[2], cl[2] = {-1, -1};
  int master = -1, slave = -1;
  if (o->tty) {
    master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
      return false;
    slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
      return false;
  } else {
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
      return false;
    if (o->with_stdin && pipe2(in, O_CLOEXEC) < 0)
      return false;
  }
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0)
    return false;
  if (o->with_client && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cl) < 0)
    return false;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0)
    return false;
  if (pid == 0) {
    setsid(); /* as the engine does before exec'ing the monitor */
    pid_t init = fork();
    if (init == 0) {
      if (o->tty) {
        setsid();
        ioctl(slave, TIOCSCTTY, 0);
        for (int fd = 0; fd < 3; fd++)
          dup2(slave, fd);
      } else {
        int devnull = open("/dev/null", O_RDONLY);
        dup2(o->with_stdin ? in[0] : devnull, 0);
        dup2(out[1], 1);
        dup2(errp[1], 2);
      }
      execl("/bin/sh", "sh", "-c", o->script, (char *)NULL);
      _exit(127);
    }
    if (write(report[1], &init, sizeof(init)) != sizeof(init))
      _exit(126);
    const char *argv[64];
    int n = 0;
    argv[n++] = monitor_path;
    argv[n++] = "--id";
    argv[n++] = "ctr1";
    argv[n++] = "--pid";
    argv[n++] = fmt("%d", init);
    argv[n++] = "--exit-file";
    argv[n++] = m->exit_file;
    argv[n++] = "--log";
    argv[n++] = m->log;
    argv[n++] = "--socket";
    argv[n++] = m->sock;
    argv[n++] = "--ready";
    argv[n++] = fmt("%d", ready[1]);
    fd_keep(ready[1]);
    if (o->tty) {
      argv[n++] = "--tty";
      argv[n++] = fmt("%d", master);
      fd_keep(master);
    } else {
      argv[n++] = "--stdout";
      argv[n++] = fmt("%d", out[0]);
      argv[n++] = "--stderr";
      argv[n++] = fmt("%d", errp[0]);
      fd_keep(out[0]);
      fd_keep(errp[0]);
      if (o->with_stdin) {
        argv[n++] = "--stdin";
        argv[n++] = fmt("%d", in[1]);
        fd_keep(in[1]);
      }
    }
    if (o->with_client) {
      argv[n++] = "--client";
      argv[n++] = fmt("%d", cl[1]);
      fd_keep(cl[1]);
    }
    for (int i = 0; o->extra[i] != NULL; i++)
      argv[n++] = o->extra[i];
    if (o->exit_cmd != NULL) {
      argv[n++] = "--";
      argv[n++] = "/bin/sh";
      argv[n++] = "-c";
      argv[n++] = o->exit_cmd;
    }
    argv[n] = NULL;
    execv(monitor_path, (char **)argv);
    _exit(127);
  }
  m->pid = pid;
  int fds[] = {out[0], out[1], errp[0], errp[1], in[0], in[1], ready[1], report[1], cl[1], master, slave};
  for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
    if (fds[i] >= 0)
      close(fds[i]);
  m->client = cl[0];
  bool ok = read(report[0], &m->init, sizeof(m->init)) == sizeof(m->init);
  close(report[0]);
  struct pollfd p = {.fd = ready[0], .events = POLLIN};
  char byte;
  ok = ok && poll(&p, 1, 5000) == 1 && read(ready[0], &byte, 1) == 1;
  close(ready[0]);
  if (!ok)
    printf("#   the monitor did not get ready\n");
  return ok;
}

/* Waits for the monitor's pid to exit; false on timeout (then kills it). */
static bool mon_wait(struct mon *m, int timeout_ms) {
  long long end = now_ms() + timeout_ms;
  while (!m->reaped) {
    pid_t r = waitpid(m->pid, &m->status, WNOHANG);
    if (r == m->pid) {
      m->reaped = true;
      break;
    }
    if (now_ms() > end) {
      printf("#   the monitor did not exit within %d ms\n", timeout_ms);
      kill(m->pid, SIGKILL);
      waitpid(m->pid, &m->status, 0);
      m->reaped = true;
      return false;
    }
    sleep_ms(5);
  }
  return true;
}

static void mon_done(struct mon *m) {
  if (!m->reaped) {
    kill(m->init, SIGKILL);
    mon_wait(m, 5000);
  }
  if (m->client >= 0)
    close(m->client);
}

static int client_connect(const char *path, const char *hello) {
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    printf("#   connect %s: %s\n", path, strerror(errno));
    close(fd);
    return -1;
  }
  char buf[16];
  buf[0] = MSG_HELLO;
  size_t n = strlen(hello);
  memcpy(buf + 1, hello, n);
  send(fd, buf, n + 1, 0);
  return fd;
}

static void client_send(int fd, char type, const char *payload) {
  char buf[256];
  size_t n = payload ? strlen(payload) : 0;
  buf[0] = type;
  if (n)
    memcpy(buf + 1, payload, n);
  send(fd, buf, n + 1, MSG_NOSIGNAL);
}

struct received {
  char *out, *err;
  size_t out_len, err_len;
  int exit_status; /* -1: no MSG_EXIT */
  bool hung_up;
};

/* Reads messages until MSG_EXIT, a hang-up, or the timeout; stop_after
 * (if not NULL) ends as soon as the stdout collected contains it. */
static void client_collect(int fd, struct received *r, int timeout_ms, const char *stop_after) {
  char *buf = malloc(1 + MONITOR_MAX_PAYLOAD);
  long long end = now_ms() + timeout_ms;
  if (r->out == NULL) {
    memset(r, 0, sizeof(*r));
    r->out = calloc(1, 1);
    r->err = calloc(1, 1);
    r->exit_status = -1;
  }
  for (;;) {
    long long left = end - now_ms();
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (left <= 0 || poll(&p, 1, (int)left) <= 0)
      break;
    ssize_t n = recv(fd, buf, 1 + MONITOR_MAX_PAYLOAD, 0);
    if (n <= 0) {
      r->hung_up = true;
      break;
    }
    if (buf[0] == MSG_STDOUT || buf[0] == MSG_STDERR) {
      char **dst = buf[0] == MSG_STDOUT ? &r->out : &r->err;
      size_t *len = buf[0] == MSG_STDOUT ? &r->out_len : &r->err_len;
      *dst = realloc(*dst, *len + (size_t)n);
      memcpy(*dst + *len, buf + 1, (size_t)n - 1);
      *len += (size_t)n - 1;
      (*dst)[*len] = '\0';
      if (stop_after != NULL && buf[0] == MSG_STDOUT && strstr(r->out, stop_after) != NULL)
        break;
    } else if (buf[0] == MSG_EXIT) {
      buf[n] = '\0';
      r->exit_status = atoi(buf + 1);
      break;
    }
  }
  free(buf);
}

static void received_free(struct received *r) {
  free(r->out);
  free(r->err);
}

/* The log's entries, decoded. */
struct entry {
  char *log;
  size_t log_len;
  char stream[8];
  char time[40];
};

static int read_log(const char *path, struct entry **entries) {
  char *text = read_file(path, NULL);
  int n = 0, cap = 16;
  *entries = calloc((size_t)cap, sizeof(**entries));
  if (text == NULL)
    return 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
    struct json_object *o = json_tokener_parse(line);
    struct json_object *l, *s, *t;
    if (o == NULL || !json_object_object_get_ex(o, "log", &l) || !json_object_object_get_ex(o, "stream", &s) ||
        !json_object_object_get_ex(o, "time", &t) || json_object_object_length(o) != 3) {
      printf("#   bad log line: %s\n", line);
      json_object_put(o);
      n = -1;
      break;
    }
    if (n == cap)
      *entries = realloc(*entries, (size_t)(cap *= 2) * sizeof(**entries));
    struct entry *e = &(*entries)[n++];
    e->log_len = (size_t)json_object_get_string_len(l);
    e->log = malloc(e->log_len + 1);
    memcpy(e->log, json_object_get_string(l), e->log_len + 1);
    snprintf(e->stream, sizeof(e->stream), "%s", json_object_get_string(s));
    snprintf(e->time, sizeof(e->time), "%s", json_object_get_string(t));
    json_object_put(o);
  }
  free(text);
  return n;
}

static void entries_free(struct entry *e, int n) {
  for (int i = 0; i < n; i++)
    free(e[i].log);
  free(e);
}

static bool time_ok(const char *t) {
  /* 2026-11-23T15:49:09.123456789Z */
  if (strlen(t) != 30 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' ||
      t[19] != '.' || t[29] != 'Z')
    return false;
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  char year[16];
  snprintf(year, sizeof(year), "%04d", tm.tm_year + 1900);
  return strncmp(t, year, 4) == 0;
}

/* Reads "STATUS NS\n"; -1 when missing or malformed. */
static int exit_file_status(const char *path, long long *ns) {
  char *text = read_file(path, NULL);
  int status = -1;
  long long v = 0;
  if (text != NULL && sscanf(text, "%d %lld\n", &status, &v) == 2 && text[strlen(text) - 1] == '\n') {
    if (ns != NULL)
      *ns = v;
  } else {
    status = -1;
  }
  free(text);
  return status;
}

static int count_lines(const char *path) {
  char *text = read_file(path, NULL);
  int n = 0;
  for (char *p = text; p != NULL && *p != '\0'; p++)
    n += *p == '\n';
  free(text);
  return n;
}

/* ---------------------------------------------------------------------- */

static void test_log_lines(void) {
  struct mon m;
  struct mon_opts o = {.script = "printf 'hello\\n'; printf 'err <&> \"q\" \\\\ \\t\\001\\033\\n' >&2; "
                                 "printf 'caf\\303\\251 \\377\\376 \\355\\240\\200 \\342\\200\\250 ok\\n'; "
                                 "printf 'no newline'"};
  EXPECT(mon_start(&m, &o));
  EXPECT(mon_wait(&m, 10000));
  EXPECT(WIFEXITED(m.status) && WEXITSTATUS(m.status) == 0);
  struct entry *e;
  int n = read_log(m.log, &e);
  EXPECT(n == 4);
  int out = 0;
  for (int i = 0; i < n; i++) {
    EXPECT(time_ok(e[i].time));
    if (strcmp(e[i].stream, "stderr") == 0) {
      EXPECT_STR(e[i].log, "err <&> \"q\" \\ \t\001\033\n");
      continue;
    }
    EXPECT_STR(e[i].stream, "stdout");
    const char *want[] = {"hello\n",
                          "caf\303\251 \357\277\275\357\277\275 \357\277\275\357\277\275\357\277\275 \342\200\250 ok\n",
                          "no newline"};
    if (out < 3)
      EXPECT_STR(e[i].log, want[out]);
    out++;
  }
  EXPECT(out == 3);
  /* The raw text uses Go's (docker's) escapes. */
  char *raw = read_file(m.log, NULL);
  EXPECT_CONTAINS(raw, "\"log\":\"err \\u003c\\u0026\\u003e \\\"q\\\" \\\\ \\t\\u0001\\u001b\\n\",\"stream\":\"stderr\"");
  EXPECT_CONTAINS(raw, "caf\303\251 \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd \\u2028 ok\\n");
  EXPECT_CONTAINS(raw, "{\"log\":\"no newline\",\"stream\":\"stdout\",\"time\":\"");
  free(raw);
  long long ns = 0;
  EXPECT(exit_file_status(m.exit_file, &ns) == 0);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long real = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
  EXPECT(ns > real - 60000000000LL && ns <= real);
  EXPECT(!exists(m.sock));
  entries_free(e, n);
  mon_done(&m);
}

static void test_long_line(void) {
  struct mon m;
  struct mon_opts o = {.script = "head -c 102400 /dev/zero | tr '\\0' a; echo; "
                                 "head -c 16384 /dev/zero | tr '\\0' b; echo; echo end"};
  EXPECT(mon_start(&m, &o));
  EXPECT(mon_wait(&m, 10000));
  struct entry *e;
  int n = read_log(m.log, &e);
  /* 100 KiB = 6 x 16 KiB partial + 4 KiB + "\n"; 16 KiB of b: a full
   * buffer is a partial message, then the newline alone. */
  EXPECT(n == 10);
  for (int i = 0; i < n && n == 10; i++) {
    size_t want = i < 6 ? 16384 : i == 6 ? 4097 : i == 7 ? 16384 : i == 8 ? 1 : 4;
    EXPECT(e[i].log_len == want);
    if (i < 6)
      EXPECT(e[i].log[0] == 'a' && e[i].log[16383] == 'a');
  }
  if (n == 10) {
    EXPECT(e[6].log[4095] == 'a' && e[6].log[4096] == '\n');
    EXPECT(e[7].log[0] == 'b' && e[7].log[16383] == 'b');
    EXPECT_STR(e[8].log, "\n");
    EXPECT_STR(e[9].log, "end\n");
  }
  entries_free(e, n > 0 ? n : 0);
  mon_done(&m);
}

/* Lines "line 000 xxx..." (60 bytes each); JSON entries of ~133 bytes. */
#define ROTATE_SCRIPT "i=0; while [ $i -lt 100 ]; do printf 'line %03d %s\\n' $i " \
                      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done"

static int first_line_number(const char *path) {
  struct entry *e;
  int n = read_log(path, &e), v = -1;
  if (n > 0)
    sscanf(e[0].log, "line %d", &v);
  entries_free(e, n > 0 ? n : 0);
  return v;
}

static void test_rotation(void) {
  struct mon m;
  struct mon_opts o = {.script = ROTATE_SCRIPT, .extra = {"--log-max-size", "1000", "--log-max-file", "3"}};
  EXPECT(mon_start(&m, &o));
  EXPECT(mon_wait(&m, 10000));
  char p1[400], p2[400], p3[400];
  snprintf(p1, sizeof(p1), "%s.1", m.log);
  snprintf(p2, sizeof(p2), "%s.2", m.log);
  snprintf(p3, sizeof(p3), "%s.3", m.log);
  EXPECT(exists(m.log) && exists(p1) && exists(p2) && !exists(p3));
  const char *paths[] = {m.log, p1, p2};
  int total = 0;
  for (int i = 0; i < 3; i++) {
    struct stat st;
    EXPECT(stat(paths[i], &st) == 0 && st.st_size <= 1000 && st.st_size > 0);
    total += count_lines(paths[i]);
    struct entry *e;
    int n = read_log(paths[i], &e);
    EXPECT(n > 0);
    entries_free(e, n > 0 ? n : 0);
  }
  /* An entry is 130 bytes, 1000 hold 7: 100 lines leave 2 in the current
   * file, 7 in .1 and 7 in .2 (the oldest), in order. */
  EXPECT(count_lines(m.log) == 2 && count_lines(p1) == 7 && count_lines(p2) == 7);
  EXPECT(total == 16);
  int f2 = first_line_number(p2), f1 = first_line_number(p1), f0 = first_line_number(m.log);
  EXPECT(f2 >= 0 && f2 < f1 && f1 < f0);
  char *cur = read_file(m.log, NULL);
  EXPECT_CONTAINS(cur, "line 099");
  free(cur);
  mon_done(&m);

  /* max-file 1: the one file is truncated. */
  struct mon_opts o1 = {.script = ROTATE_SCRIPT, .extra = {"--log-max-size", "1000"}};
  EXPECT(mon_start(&m, &o1));
  EXPECT(mon_wait(&m, 10000));
  snprintf(p1, sizeof(p1), "%s.1", m.log);
  struct stat st;
  EXPECT(stat(m.log, &st) == 0 && st.st_size <= 1000);
  EXPECT(!exists(p1));
  cur = read_file(m.log, NULL);
  EXPECT_CONTAINS(cur, "line 099");
  free(cur);
  mon_done(&m);
}

static void test_exit_code_and_client(void) {
  struct mon m;
  /* A stale file where the socket goes is replaced. */
  struct mon_opts o = {.script = "read x; echo \"got $x\"; exit 3", .with_stdin = true};
  EXPECT(mon_start(&m, &o));
  int fd = client_connect(m.sock, "io");
  EXPECT(fd >= 0);
  struct stat st;
  EXPECT(stat(m.sock, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600);
  client_send(fd, MSG_STDIN, "go\n");
  struct received r = {0};
  client_collect(fd, &r, 10000, NULL);
  EXPECT_STR(r.out, "got go\n");
  EXPECT(r.exit_status == 3);
  EXPECT(mon_wait(&m, 10000));
  EXPECT(WIFEXITED(m.status) && WEXITSTATUS(m.status) == 0);
  EXPECT(exit_file_status(m.exit_file, NULL) == 3);
  EXPECT(!exists(m.sock));
  received_free(&r);
  close(fd);
  mon_done(&m);
}

static void test_sigkill(void) {
  struct mon m;
  struct mon_opts o = {.script = "read x; echo started; exec sleep 100", .with_stdin = true};
  EXPECT(mon_start(&m, &o));
  int fd = client_connect(m.sock, "ioe");
  client_send(fd, MSG_STDIN, "go\n");
  struct received r = {0};
  client_collect(fd, &r, 5000, "started\n");
  EXPECT_STR(r.out, "started\n");
  kill(m.init, SIGKILL);
  client_collect(fd, &r, 10000, NULL);
  EXPECT(r.exit_status == 137);
  EXPECT(mon_wait(&m, 10000));
  EXPECT(exit_file_status(m.exit_file, NULL) == 137);
  received_free(&r);
  close(fd);
  mon_done(&m);
}

static void test_stdin_cat(void) {
  struct mon m;
  struct mon_opts o = {.script = "cat", .with_stdin = true};
  EXPECT(mon_start(&m, &o));
  int fd = client_connect(m.sock, "ioe");
  int watcher = client_connect(m.sock, "o"); /* a second client sees the same output */
  int quitter = client_connect(m.sock, "oe"); /* hangs up at once: just removed */
  close(quitter);
  client_send(fd, MSG_STDIN, "hello\n");
  struct received r = {0}, w = {0};
  client_collect(fd, &r, 5000, "hello\n");
  EXPECT_STR(r.out, "hello\n");
  client_send(fd, MSG_STDIN, "again\n");
  client_collect(fd, &r, 5000, "again\n");
  client_send(fd, MSG_STDIN_CLOSE, NULL);
  client_collect(fd, &r, 10000, NULL);
  EXPECT_STR(r.out, "hello\nagain\n");
  EXPECT(r.exit_status == 0);
  client_collect(watcher, &w, 10000, NULL);
  EXPECT_STR(w.out, "hello\nagain\n");
  EXPECT(w.exit_status == 0);
  EXPECT(mon_wait(&m, 10000));
  char *log = read_file(m.log, NULL);
  EXPECT_CONTAINS(log, "{\"log\":\"again\\n\",\"stream\":\"stdout\"");
  free(log);
  received_free(&r);
  received_free(&w);
  close(fd);
  close(watcher);
  mon_done(&m);
}

static void test_owner_cleaned(void) {
  struct mon m;
  char ran[400], cmd[512];
  snprintf(ran, sizeof(ran), "%s/owner-ran", base_dir);
  snprintf(cmd, sizeof(cmd), "echo ran >> %s", ran);
  struct mon_opts o = {.script = "echo out; echo err >&2; exit 5", .with_client = true, .exit_cmd = cmd};
  EXPECT(mon_start(&m, &o));
  struct received r = {0};
  client_collect(m.client, &r, 10000, NULL);
  EXPECT_STR(r.out, "out\n");
  EXPECT_STR(r.err, "err\n");
  EXPECT(r.exit_status == 5);
  /* The monitor waits for its owner. */
  sleep_ms(300);
  EXPECT(waitpid(m.pid, &m.status, WNOHANG) == 0);
  EXPECT(!exists(m.sock));
  client_send(m.client, MSG_CLEANED, NULL);
  EXPECT(mon_wait(&m, 5000));
  EXPECT(WIFEXITED(m.status) && WEXITSTATUS(m.status) == 0);
  sleep_ms(100);
  EXPECT(!exists(ran));
  received_free(&r);
  mon_done(&m);
}

static void test_owner_hangup(void) {
  struct mon m;
  char ran[400], cmd[512];
  snprintf(ran, sizeof(ran), "%s/hangup-ran", base_dir);
  snprintf(cmd, sizeof(cmd), "echo ran >> %s; exit 7", ran);
  struct mon_opts o = {.script = "exit 0", .with_client = true, .exit_cmd = cmd};
  EXPECT(mon_start(&m, &o));
  struct received r = {0};
  client_collect(m.client, &r, 10000, NULL);
  EXPECT(r.exit_status == 0);
  sleep_ms(100);
  EXPECT(!exists(ran));
  close(m.client);
  m.client = -1;
  EXPECT(mon_wait(&m, 5000));
  /* The exit command ran in the monitor's place: its status is the pid's. */
  EXPECT(WIFEXITED(m.status) && WEXITSTATUS(m.status) == 7);
  char *text = read_file(ran, NULL);
  EXPECT_STR(text, "ran\n");
  free(text);
  EXPECT(!exists(m.sock));
  received_free(&r);
  mon_done(&m);
}

static void test_no_owner_runs_exit_command(void) {
  struct mon m;
  char ran[300], cmd[900];
  snprintf(ran, sizeof(ran), "%s/noowner-ran", base_dir);
  snprintf(cmd, sizeof(cmd), "echo ran >> %s; ls /proc/self/fd | wc -l >> %s", ran, ran);
  struct mon_opts o = {.script = "read x; exit 1", .with_stdin = true, .exit_cmd = cmd};
  EXPECT(mon_start(&m, &o));
  /* A client that is not the owner gets MSG_EXIT; the command runs. */
  int fd = client_connect(m.sock, "io");
  client_send(fd, MSG_STDIN, "go\n");
  struct received r = {0};
  client_collect(fd, &r, 10000, NULL);
  EXPECT(r.exit_status == 1);
  EXPECT(mon_wait(&m, 5000));
  EXPECT(WIFEXITED(m.status) && WEXITSTATUS(m.status) == 0);
  sleep_ms(100);
  char *text = read_file(ran, NULL);
  /* Once; with only stdin, stdout, stderr (+ the one ls opens) inherited. */
  EXPECT_STR(text, "ran\n4\n");
  free(text);
  EXPECT(exit_file_status(m.exit_file, NULL) == 1);
  received_free(&r);
  close(fd);
  mon_done(&m);
}

static void test_periodic(void) {
  struct mon m;
  char ticks[400];
  snprintf(ticks, sizeof(ticks), "%s/ticks", base_dir);
  char *cmd = fmt("echo x >> %s", ticks);
  struct mon_opts o = {.script = "sleep 0.6",
                       .extra = {"--periodic-interval", "50", "--periodic-arg", "/bin/sh", "--periodic-arg", "-c",
                                 "--periodic-arg", cmd}};
  EXPECT(mon_start(&m, &o));
  EXPECT(mon_wait(&m, 10000));
  int n = count_lines(ticks);
  printf("#   periodic command ran %d times in 0.6 s at 50 ms\n", n);
  EXPECT(n >= 5 && n <= 13);
  sleep_ms(200);
  EXPECT(count_lines(ticks) == n);
  free(cmd);
  mon_done(&m);

  /* A run that outlasts the interval is not started again meanwhile:
   * each run logs its start and end, and no start falls inside another. */
  char spans[400];
  snprintf(spans, sizeof(spans), "%s/spans", base_dir);
  cmd = fmt("echo s >> %s; sleep 0.18; echo e >> %s", spans, spans);
  struct mon_opts o2 = {.script = "sleep 0.7",
                        .extra = {"--periodic-interval", "50", "--periodic-arg", "/bin/sh", "--periodic-arg", "-c",
                                  "--periodic-arg", cmd}};
  EXPECT(mon_start(&m, &o2));
  EXPECT(mon_wait(&m, 10000));
  sleep_ms(300);
  char *text = read_file(spans, NULL);
  int runs = 0;
  bool alternate = text != NULL;
  for (size_t i = 0; text != NULL && text[i] != '\0'; i += 2) {
    alternate &= text[i] == (i % 4 == 0 ? 's' : 'e');
    runs += text[i] == 's';
  }
  printf("#   a 180 ms command at 50 ms ran %d times in 0.7 s\n", runs);
  EXPECT(alternate);
  EXPECT(runs >= 1 && runs <= 4);
  free(text);
  free(cmd);
  mon_done(&m);
}

static void test_pty(void) {
  struct mon m;
  struct mon_opts o = {.script = "read x; echo \"x=$x\"; stty size; cat; echo bye", .tty = true};
  EXPECT(mon_start(&m, &o));
  int fd = client_connect(m.sock, "io");
  client_send(fd, MSG_RESIZE, "33 101");
  client_send(fd, MSG_STDIN, "go\n");
  struct received r = {0};
  client_collect(fd, &r, 5000, "33 101");
  EXPECT_CONTAINS(r.out, "x=go\r\n");
  client_send(fd, MSG_STDIN, "hi\n");
  client_collect(fd, &r, 5000, "hi\r\nhi\r\n");
  client_send(fd, MSG_STDIN_CLOSE, NULL); /* VEOF: cat ends */
  client_collect(fd, &r, 10000, NULL);
  EXPECT_CONTAINS(r.out, "33 101\r\n");
  EXPECT_CONTAINS(r.out, "hi\r\nhi\r\n");
  EXPECT_CONTAINS(r.out, "bye\r\n");
  EXPECT(r.exit_status == 0);
  EXPECT(mon_wait(&m, 10000));
  struct entry *e;
  int n = read_log(m.log, &e);
  EXPECT(n >= 3);
  for (int i = 0; i < n; i++)
    EXPECT_STR(e[i].stream, "stdout");
  char *raw = read_file(m.log, NULL);
  EXPECT_CONTAINS(raw, "\"log\":\"bye\\r\\n\"");
  free(raw);
  entries_free(e, n > 0 ? n : 0);
  received_free(&r);
  close(fd);
  mon_done(&m);
}

static long vmrss_kb(pid_t pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/status", pid);
  char *text = read_file(path, NULL);
  long kb = -1;
  char *p = text ? strstr(text, "VmRSS:") : NULL;
  if (p != NULL)
    kb = strtol(p + 6, NULL, 10);
  free(text);
  return kb;
}

static void test_rss(void) {
  struct mon m;
  struct mon_opts o = {.script = "read go; head -c 300000 /dev/zero | tr '\\0' y | fold -w 1000; "
                                 "head -c 100000 /dev/zero | tr '\\0' z >&2; echo; read x; echo \"$x\"; exec sleep 100",
                       .with_stdin = true,
                       .extra = {"--log-max-size", "100000", "--log-max-file", "2"}};
  EXPECT(mon_start(&m, &o));
  int fd = client_connect(m.sock, "ioe");
  struct received r = {0};
  char big[30000];
  memset(big, 'q', sizeof(big) - 2);
  big[sizeof(big) - 2] = '\n';
  big[sizeof(big) - 1] = '\0';
  client_send(fd, MSG_RESIZE, "10 10");
  client_send(fd, MSG_STDIN, "go\n");
  char *pkt = malloc(sizeof(big) + 1);
  pkt[0] = MSG_STDIN;
  memcpy(pkt + 1, big, sizeof(big) - 1);
  send(fd, pkt, sizeof(big), 0);
  free(pkt);
  client_collect(fd, &r, 10000, "qq\n");
  /* fold: 300 lines of 1000, the last one ended by the echo, then $x. */
  EXPECT(r.out_len == 300000 + 299 + 1 + 29999);
  EXPECT(r.err_len == 100000);
  long kb = vmrss_kb(m.pid);
  printf("# monitor VmRSS while serving: %ld kB\n", kb);
  const char *limit = getenv("MONITOR_RSS_LIMIT_KB");
  if (limit != NULL)
    EXPECT(kb > 0 && kb <= atol(limit));
  else
    printf("#   (no limit checked in this build)\n");
  kill(m.init, SIGTERM);
  client_collect(fd, &r, 10000, NULL);
  EXPECT(r.exit_status == 128 + SIGTERM);
  EXPECT(mon_wait(&m, 10000));
  received_free(&r);
  close(fd);
  mon_done(&m);
}

/* A client that does not read holds the container's output back; nothing
 * is lost, neither for it nor for the log. */
static void test_slow_client(void) {
  struct mon m;
  struct mon_opts o = {.script = "read x; head -c 2000000 /dev/zero | tr '\\0' x | fold -w 99; echo end",
                       .with_stdin = true};
  EXPECT(mon_start(&m, &o));
  int fd = client_connect(m.sock, "io");
  client_send(fd, MSG_STDIN, "go\n");
  sleep_ms(700);
  /* Back-pressure: the container is blocked, not finished. */
  EXPECT(waitpid(m.pid, &m.status, WNOHANG) == 0);
  EXPECT(!exists(m.exit_file));
  struct received r = {0};
  client_collect(fd, &r, 20000, NULL);
  /* fold: 20202 lines of 99, then "xx" that "end\n" completes. */
  size_t full = 2000000 / 99;
  EXPECT(r.out_len == 2000000 + full + 4);
  EXPECT(r.exit_status == 0);
  EXPECT(mon_wait(&m, 10000));
  EXPECT(count_lines(m.log) == (int)full + 1);
  received_free(&r);
  close(fd);
  mon_done(&m);
}

/* init exits while a background process keeps the pipe: the drain ends
 * after about 2 s with what was written so far. */
static void test_escaped_process(void) {
  struct mon m;
  struct mon_opts o = {.script = "(echo bg; exec sleep 5) & sleep 0.1; echo main"};
  long long t0 = now_ms();
  EXPECT(mon_start(&m, &o));
  EXPECT(mon_wait(&m, 4500));
  long long took = now_ms() - t0;
  printf("#   monitor exited %lld ms after start\n", took);
  EXPECT(took >= 1900 && took < 4500);
  char *log = read_file(m.log, NULL);
  EXPECT_CONTAINS(log, "\"log\":\"bg\\n\"");
  EXPECT_CONTAINS(log, "\"log\":\"main\\n\"");
  free(log);
  EXPECT(exit_file_status(m.exit_file, NULL) == 0);
  mon_done(&m);
}

static void test_stale_socket_and_long_path(void) {
  struct mon m;
  /* A directory of 120 characters: the path is longer than sun_path. */
  char name[128];
  memset(name, 'd', 120);
  strcpy(name + 120, "/attach");
  struct mon_opts o = {.script = "read x; exit 4", .with_stdin = true, .socket_name = name, .stale_socket = true};
  EXPECT(mon_start(&m, &o));
  struct stat st;
  EXPECT(lstat(m.sock, &st) == 0 && S_ISSOCK(st.st_mode));
  EXPECT(strlen(m.sock) >= sizeof(((struct sockaddr_un *)0)->sun_path));
  char *slash = strrchr(m.sock, '/');
  *slash = '\0';
  int dfd = open(m.sock, O_PATH | O_DIRECTORY | O_CLOEXEC);
  *slash = '/';
  char via[108];
  snprintf(via, sizeof(via), "/proc/self/fd/%d/attach", dfd);
  int fd = client_connect(via, "i");
  EXPECT(fd >= 0);
  client_send(fd, MSG_STDIN, "x\n");
  struct received r = {0};
  client_collect(fd, &r, 10000, NULL);
  EXPECT(r.exit_status == 4);
  EXPECT(mon_wait(&m, 10000));
  EXPECT(!exists(m.sock));
  close(dfd);
  close(fd);
  received_free(&r);
  mon_done(&m);
}

static int run_capture(const char *const argv[], char *err, size_t errlen) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return -1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 2);
    execv(argv[0], (char **)argv);
    _exit(127);
  }
  close(p[1]);
  size_t n = 0;
  ssize_t r;
  while (n + 1 < errlen && (r = read(p[0], err + n, errlen - n - 1)) > 0)
    n += (size_t)r;
  err[n] = '\0';
  close(p[0]);
  int st;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_bad_arguments(void) {
  char err[1024], sock[400];
  snprintf(sock, sizeof(sock), "%s/bad.sock", base_dir);
  const char *unknown[] = {monitor_path, "--id", "x", "--bogus", "1", NULL};
  EXPECT(run_capture(unknown, err, sizeof(err)) == 125);
  EXPECT_STR(err, "berth-monitor: unknown option \"--bogus\"\n");
  const char *missing[] = {monitor_path, "--id", "x", "--exit-file", "/tmp/e", NULL};
  EXPECT(run_capture(missing, err, sizeof(err)) == 125);
  EXPECT_STR(err, "berth-monitor: missing --pid\n");
  const char *badfd[] = {monitor_path, "--id", "x", "--pid", "1", "--exit-file", "/tmp/e", "--log", "/tmp/l",
                         "--socket", sock, "--stdout", "999", "--stderr", "2", NULL};
  EXPECT(run_capture(badfd, err, sizeof(err)) == 125);
  EXPECT_STR(err, "berth-monitor: --stdout: file descriptor not open: \"999\"\n");
  /* pid 1 is no child of the monitor. */
  const char *notchild[] = {monitor_path, "--id", "x", "--pid", "1", "--exit-file", "/tmp/e", "--log", "/dev/null",
                            "--socket", sock, "--stdout", "1", "--stderr", "2", NULL};
  EXPECT(run_capture(notchild, err, sizeof(err)) == 125);
  EXPECT_STR(err, "berth-monitor: container x: process 1 is not a child of the monitor\n");
  EXPECT(!exists(sock));
  const char *badnum[] = {monitor_path, "--log-max-size", "12k", NULL};
  EXPECT(run_capture(badnum, err, sizeof(err)) == 125);
  EXPECT_STR(err, "berth-monitor: --log-max-size: invalid number \"12k\"\n");
}

int main(void) {
  monitor_path = getenv("BERTH_MONITOR");
  if (monitor_path == NULL) {
    printf("1..0 # SKIP BERTH_MONITOR is not set\n");
    return 0;
  }
  snprintf(base_dir, sizeof(base_dir), "%s/berth-monitor-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (mkdtemp(base_dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  RUN(test_log_lines);
  RUN(test_long_line);
  RUN(test_rotation);
  RUN(test_exit_code_and_client);
  RUN(test_sigkill);
  RUN(test_stdin_cat);
  RUN(test_owner_cleaned);
  RUN(test_owner_hangup);
  RUN(test_no_owner_runs_exit_command);
  RUN(test_periodic);
  RUN(test_pty);
  RUN(test_rss);
  RUN(test_slow_client);
  RUN(test_escaped_process);
  RUN(test_stale_socket_and_long_path);
  RUN(test_bad_arguments);
  char *rm = fmt("rm -rf '%s'", base_dir);
  if (system(rm) != 0)
    printf("# could not remove %s\n", base_dir);
  free(rm);
  return tap_done();
}
