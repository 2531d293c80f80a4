/* The attach client (src/engine/attach.c) against a fake monitor: the
 * relay runs in a child whose stdio are pipes or a pty, this process plays
 * the monitor on the other end of a SOCK_SEQPACKET socketpair. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "engine/attach.h"
#include "monitor/protocol.h"
#include "tap.h"

/* ---------------------------------------------------------------------- */

static void test_parse_detach_keys(void) {
  static const struct {
    const char *text;
    int n;
    unsigned char keys[8];
  } good[] = {
      {"ctrl-p,ctrl-q", 2, {16, 17}},
      {"a,ctrl-a", 2, {'a', 1}},
      {"ctrl-@", 1, {0}},
      {"ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", 5, {27, 28, 29, 30, 31}},
      {"ctrl-z,z", 2, {26, 'z'}},
      {"x", 1, {'x'}},
      {"", 0, {0}},
      {"a,b,c,d,e,f,g,h", 8, {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}},
  };
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    unsigned char out[8];
    int n = -1;
    berth_error *err = NULL;
    int r = attach_parse_detach_keys(good[i].text, out, &n, &err);
    EXPECT(r == 0);
    EXPECT(n == good[i].n);
    if (r == 0 && n == good[i].n)
      EXPECT(memcmp(out, good[i].keys, (size_t)n) == 0);
    if (r != 0)
      printf("#   %s: %s\n", good[i].text, err->msg);
    berth_error_free(err);
  }
  static const struct {
    const char *text, *msg;
  } bad[] = {
      {"ctrl-1", "invalid detach keys \"ctrl-1\": unknown sequence 'ctrl-1'"},
      {"ctrl-A", "invalid detach keys \"ctrl-A\": unknown sequence 'ctrl-A'"},
      {"ab", "invalid detach keys \"ab\": unknown character 'ab'"},
      {"a,,b", "invalid detach keys \"a,,b\": unknown character ''"},
      {",", "invalid detach keys \",\": unknown character ''"},
      {"ctrl-", "invalid detach keys \"ctrl-\": unknown sequence 'ctrl-'"},
      {"ctrl-p,", "invalid detach keys \"ctrl-p,\": unknown character ''"},
      {"a,b,c,d,e,f,g,h,i", "invalid detach keys \"a,b,c,d,e,f,g,h,i\": more than 8 keys"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    unsigned char out[8];
    int n = 0;
    berth_error *err = NULL;
    EXPECT(attach_parse_detach_keys(bad[i].text, out, &n, &err) < 0);
    EXPECT(err != NULL);
    if (err != NULL)
      EXPECT_STR(err->msg, bad[i].msg);
    berth_error_free(err);
  }
}

/* ---------------------------------------------------------------------- */

struct result {
  int ret, status;
  int mask_restored, term_restored;
  char msg[200];
};

static int forward_fd = -1;

static void forward_to_pipe(int sig, void *arg) {
  (void)arg;
  unsigned char b = (unsigned char)sig;
  if (write(forward_fd, &b, 1) < 0)
    _exit(99);
}

static void noop_handler(int sig) {
  (void)sig;
}

struct child {
  pid_t pid;
  int sock;     /* the monitor's end */
  int in;       /* the relay's stdin: our write end (pipes) or the pty master */
  int out, err; /* the relay's stdout/stderr (pipes) */
  int result;   /* struct result */
  int forwarded;
};

/* Runs attach_relay in a child.  pty: its stdin (and stdout) is a pty
 * slave; otherwise pipes, stdout made small and non-blocking so a 32 KiB
 * packet is written in pieces. */
static bool start_relay(struct child *c, struct attach_options opts, bool pty) {
  int sp[2], in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2], res[2], fw[2];
  int master = -1, slave = -1;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
      pipe2(res, O_CLOEXEC) < 0 || pipe2(fw, O_CLOEXEC) < 0)
    return false;
  if (pty) {
    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
      return false;
    slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    ioctl(master, TIOCSWINSZ, &ws);
  } else if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
    return false;
  }
  /* Handlers that do nothing, inherited: a signal that comes before the
   * relay blocks it is harmless, the test sends it again. */
  struct sigaction sa = {.sa_handler = noop_handler};
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0)
    return false;
  if (pid == 0) {
    /* No exec here: the parent's ends must go, or stdin never ends. */
    int theirs[] = {sp[0], in[1], out[0], errp[0], res[0], fw[0], master};
    for (size_t i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++)
      if (theirs[i] >= 0)
        close(theirs[i]);
    if (pty) {
      setsid();
      ioctl(slave, TIOCSCTTY, 0);
      dup2(slave, 0);
      dup2(slave, 1);
    } else {
      dup2(in[0], 0);
      dup2(out[1], 1);
      fcntl(1, F_SETPIPE_SZ, 4096);
      fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
    }
    dup2(errp[1], 2);
    forward_fd = fw[1];
    opts.forward_arg = NULL;
    sigset_t before, after;
    sigprocmask(SIG_SETMASK, NULL, &before);
    struct termios t0, t1;
    bool tty0 = tcgetattr(0, &t0) == 0;
    struct result r = {0};
    berth_error *err = NULL;
    r.ret = attach_relay(sp[1], &opts, &r.status, &err);
    sigprocmask(SIG_SETMASK, NULL, &after);
    r.mask_restored = 1;
    for (int sig = 1; sig < 65; sig++)
      if (sigismember(&before, sig) != sigismember(&after, sig))
        r.mask_restored = 0;
    r.term_restored = !tty0 || (tcgetattr(0, &t1) == 0 && t0.c_lflag == t1.c_lflag && t0.c_iflag == t1.c_iflag &&
                                t0.c_oflag == t1.c_oflag);
    if (err != NULL)
      snprintf(r.msg, sizeof(r.msg), "%s", err->msg);
    berth_error_free(err);
    if (write(res[1], &r, sizeof(r)) != sizeof(r))
      _exit(98);
    _exit(0);
  }
  close(sp[1]);
  close(errp[1]);
  close(res[1]);
  close(fw[1]);
  if (pty) {
    close(slave);
    c->in = master;
    c->out = -1;
  } else {
    close(in[0]);
    close(out[1]);
    c->in = in[1];
    c->out = out[0];
  }
  c->pid = pid;
  c->sock = sp[0];
  c->err = errp[0];
  c->result = res[0];
  c->forwarded = fw[0];
  return true;
}

static bool finish_relay(struct child *c, struct result *r) {
  bool ok = read(c->result, r, sizeof(*r)) == sizeof(*r);
  int st;
  waitpid(c->pid, &st, 0);
  int fds[] = {c->sock, c->in, c->out, c->err, c->result, c->forwarded};
  for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
    if (fds[i] >= 0)
      close(fds[i]);
  return ok && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void send_msg(int fd, char type, const char *data, size_t len) {
  char *buf = malloc(len + 1);
  buf[0] = type;
  memcpy(buf + 1, data, len);
  EXPECT(send(fd, buf, len + 1, MSG_NOSIGNAL) == (ssize_t)len + 1);
  free(buf);
}

/* One message from the client, with a timeout: its length, -1 on none. */
static ssize_t recv_msg(int fd, char *buf, size_t cap, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (poll(&p, 1, timeout_ms) <= 0)
    return -1;
  return recv(fd, buf, cap, 0);
}

/* Reads all of fd until EOF. */
static char *slurp(int fd, size_t *len) {
  size_t cap = 1024, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (n + 1 >= cap)
      buf = realloc(buf, cap *= 2);
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r <= 0)
      break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

static void test_relay_streams(void) {
  struct child c;
  struct attach_options opts = {.in = true, .out = true, .err = true};
  EXPECT(start_relay(&c, opts, false));
  /* Output: stdout and stderr to the right fds, a full-size packet whole. */
  char *big = malloc(MONITOR_MAX_PAYLOAD);
  for (int i = 0; i < MONITOR_MAX_PAYLOAD; i++)
    big[i] = (char)('a' + i % 26);
  send_msg(c.sock, MSG_STDOUT, "out1\n", 5);
  send_msg(c.sock, MSG_STDERR, "err1\n", 5);
  send_msg(c.sock, MSG_STDOUT, big, MONITOR_MAX_PAYLOAD);
  send_msg(c.sock, MSG_STDOUT, "out2\n", 5);
  /* Its stdout is a 4 KiB non-blocking pipe: the packet goes in pieces. */
  size_t want = 10 + MONITOR_MAX_PAYLOAD, out_len = 0;
  char *out = malloc(want + 1);
  while (out_len < want) {
    struct pollfd p = {.fd = c.out, .events = POLLIN};
    if (poll(&p, 1, 5000) != 1)
      break;
    ssize_t k = read(c.out, out + out_len, want - out_len);
    if (k <= 0)
      break;
    out_len += (size_t)k;
  }
  out[out_len] = '\0';
  EXPECT(out_len == want);
  EXPECT(out_len == want && memcmp(out, "out1\n", 5) == 0 && memcmp(out + 5, big, MONITOR_MAX_PAYLOAD) == 0 &&
         strcmp(out + 5 + MONITOR_MAX_PAYLOAD, "out2\n") == 0);
  /* Stdin: our bytes arrive as MSG_STDIN, EOF as MSG_STDIN_CLOSE. */
  EXPECT(write(c.in, "typed\n", 6) == 6);
  char buf[1 + MONITOR_MAX_PAYLOAD];
  ssize_t n = recv_msg(c.sock, buf, sizeof(buf), 5000);
  EXPECT(n == 7 && buf[0] == MSG_STDIN && memcmp(buf + 1, "typed\n", 6) == 0);
  close(c.in);
  c.in = -1;
  n = recv_msg(c.sock, buf, sizeof(buf), 5000);
  EXPECT(n == 1 && buf[0] == MSG_STDIN_CLOSE);
  send_msg(c.sock, MSG_EXIT, "42", 2);
  size_t rest_len, err_len;
  char *rest = slurp(c.out, &rest_len);
  char *err = slurp(c.err, &err_len);
  EXPECT(rest_len == 0);
  EXPECT_STR(err, "err1\n");
  free(rest);
  struct result r;
  EXPECT(finish_relay(&c, &r));
  EXPECT(r.ret == 0);
  EXPECT(r.status == 42);
  EXPECT(r.mask_restored);
  free(out);
  free(err);
  free(big);
}

static void test_relay_hangup(void) {
  struct child c;
  struct attach_options opts = {.out = true, .err = true};
  EXPECT(start_relay(&c, opts, false));
  send_msg(c.sock, MSG_STDOUT, "last words\n", 11);
  close(c.sock);
  c.sock = -1;
  size_t len;
  char *out = slurp(c.out, &len);
  EXPECT_STR(out, "last words\n");
  free(out);
  struct result r;
  EXPECT(finish_relay(&c, &r));
  EXPECT(r.ret == -1);
  EXPECT_STR(r.msg, "the monitor exited without a status");
}

/* Without a tty, our signals go to opts->forward; the mask is restored. */
static void test_relay_signals(void) {
  struct child c;
  struct attach_options opts = {.out = true, .err = true, .forward = forward_to_pipe};
  EXPECT(start_relay(&c, opts, false));
  const int sigs[] = {SIGUSR1, SIGINT};
  for (size_t i = 0; i < 2; i++) {
    bool seen = false;
    for (int tries = 0; tries < 100 && !seen; tries++) {
      kill(c.pid, sigs[i]);
      struct pollfd p = {.fd = c.forwarded, .events = POLLIN};
      unsigned char b;
      while (poll(&p, 1, 50) > 0 && read(c.forwarded, &b, 1) == 1)
        seen |= b == sigs[i];
    }
    EXPECT(seen);
  }
  send_msg(c.sock, MSG_EXIT, "130", 3);
  struct result r;
  EXPECT(finish_relay(&c, &r));
  EXPECT(r.ret == 0 && r.status == 130);
  EXPECT(r.mask_restored);
}

/* A pty as stdin: raw mode, MSG_RESIZE first, the detach keys. */
static void test_relay_detach(void) {
  struct child c;
  struct attach_options opts = {.in = true, .out = true, .err = true, .tty = true};
  EXPECT(start_relay(&c, opts, true));
  char buf[1 + MONITOR_MAX_PAYLOAD];
  ssize_t n = recv_msg(c.sock, buf, sizeof(buf), 5000);
  EXPECT(n == 6 && memcmp(buf, "r24 80", 6) == 0);
  /* Raw mode is on now: no line buffering, no echo, ^C is a byte. */
  EXPECT(write(c.in, "a\003\x10" "b", 4) == 4);
  char got[64];
  size_t len = 0;
  while (len < 4 && (n = recv_msg(c.sock, buf, sizeof(buf), 5000)) > 0) {
    EXPECT(buf[0] == MSG_STDIN);
    memcpy(got + len, buf + 1, (size_t)n - 1);
    len += (size_t)n - 1;
  }
  EXPECT(len == 4 && memcmp(got, "a\003\x10" "b", 4) == 0);
  /* Output goes to our stdout, the pty. */
  send_msg(c.sock, MSG_STDOUT, "shown", 5);
  char shown[16] = {0};
  struct pollfd p = {.fd = c.in, .events = POLLIN};
  EXPECT(poll(&p, 1, 5000) == 1 && read(c.in, shown, 5) == 5);
  EXPECT_STR(shown, "shown");
  /* The detach sequence: what precedes it is sent, the keys are not. */
  EXPECT(write(c.in, "z\x10\x11" "after", 8) == 8);
  struct result r;
  EXPECT(finish_relay(&c, &r));
  EXPECT(r.ret == 1);
  EXPECT(r.term_restored);
  EXPECT(r.mask_restored);
}

/* --detach-keys: the default keys are plain bytes then. */
static void test_relay_custom_keys(void) {
  struct child c;
  struct attach_options opts = {.in = true, .out = true, .tty = true, .detach_keys = "ctrl-a"};
  EXPECT(start_relay(&c, opts, true));
  char buf[1 + MONITOR_MAX_PAYLOAD];
  ssize_t n = recv_msg(c.sock, buf, sizeof(buf), 5000);
  EXPECT(n > 0 && buf[0] == MSG_RESIZE);
  /* ctrl-p ctrl-q are plain bytes now; ctrl-a detaches. */
  EXPECT(write(c.in, "\x10\x11", 2) == 2);
  char got[8];
  size_t len = 0;
  while (len < 2 && (n = recv_msg(c.sock, buf, sizeof(buf), 5000)) > 0) {
    memcpy(got + len, buf + 1, (size_t)n - 1);
    len += (size_t)n - 1;
  }
  EXPECT(len == 2 && memcmp(got, "\x10\x11", 2) == 0);
  EXPECT(write(c.in, "\x01", 1) == 1);
  struct result r;
  EXPECT(finish_relay(&c, &r));
  EXPECT(r.ret == 1);
  EXPECT(r.term_restored);
}

static void test_relay_bad_keys(void) {
  struct attach_options opts = {.in = true, .tty = true, .detach_keys = "ctrl-9"};
  int sp[2];
  EXPECT(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
  int status = -5;
  berth_error *err = NULL;
  EXPECT(attach_relay(sp[0], &opts, &status, &err) == -1);
  EXPECT(err != NULL && strstr(err->msg, "invalid detach keys \"ctrl-9\"") != NULL);
  berth_error_free(err);
  close(sp[0]);
  close(sp[1]);
}

static void test_hello(void) {
  int sp[2];
  EXPECT(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
  struct attach_options opts = {.in = true, .out = true, .owner = true};
  berth_error *err = NULL;
  EXPECT(attach_hello(sp[0], &opts, &err) == 0);
  char buf[16];
  ssize_t n = recv(sp[1], buf, sizeof(buf), 0);
  EXPECT(n == 4 && memcmp(buf, "hioO", 4) == 0);
  EXPECT(attach_send_cleaned(sp[0], &err) == 0);
  n = recv(sp[1], buf, sizeof(buf), 0);
  EXPECT(n == 1 && buf[0] == MSG_CLEANED);
  close(sp[0]);
  close(sp[1]);
  /* No monitor there. */
  EXPECT(attach_connect("/nonexistent/berth/attach", &opts, &err) < 0);
  EXPECT(err != NULL && strcmp(err->msg, "connect to the monitor socket \"/nonexistent/berth/attach\": "
                                         "No such file or directory") == 0);
  berth_error_free(err);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  RUN(test_parse_detach_keys);
  RUN(test_hello);
  RUN(test_relay_streams);
  RUN(test_relay_hangup);
  RUN(test_relay_signals);
  RUN(test_relay_detach);
  RUN(test_relay_custom_keys);
  RUN(test_relay_bad_keys);
  return tap_done();
}
