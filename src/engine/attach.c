/* The client side of a monitor's attach socket (attach.h, monitor/protocol.h).
 *
 * One poll loop over the socket, our stdin and a signalfd.  Sends never
 * block the loop: a stdin packet the socket cannot take yet waits (and
 * stdin is not read meanwhile) while the container's output keeps being
 * read, so a container that only reads its stdin after its output was
 * taken cannot deadlock with us. */
#include "engine/attach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "monitor/protocol.h"
#include "util/cleanup.h"

#define DEFAULT_DETACH_KEYS "ctrl-p,ctrl-q"
#define MAX_DETACH_KEYS 8

/* What a foreground client passes on (docker's --sig-proxy): not SIGCHLD,
 * SIGPIPE, SIGWINCH, nor SIGTTIN/SIGTTOU (blocked, they would turn a
 * background read into EIO instead of stopping us). */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP,  SIGQUIT, SIGUSR1,   SIGUSR2, SIGALRM,
                                SIGTSTP, SIGCONT, SIGPROF, SIGVTALRM, SIGPWR,  SIGXCPU, SIGXFSZ};

int attach_parse_detach_keys(const char *text, unsigned char *out, int *n, berth_error **err) {
  static const char *const ctrl[] = {"ctrl-@", "ctrl-a", "ctrl-b", "ctrl-c", "ctrl-d", "ctrl-e", "ctrl-f",
                                     "ctrl-g", "ctrl-h", "ctrl-i", "ctrl-j", "ctrl-k", "ctrl-l", "ctrl-m",
                                     "ctrl-n", "ctrl-o", "ctrl-p", "ctrl-q", "ctrl-r", "ctrl-s", "ctrl-t",
                                     "ctrl-u", "ctrl-v", "ctrl-w", "ctrl-x", "ctrl-y", "ctrl-z", "ctrl-[",
                                     "ctrl-\\", "ctrl-]", "ctrl-^", "ctrl-_"};
  *n = 0;
  if (text[0] == '\0')
    return 0; /* detaching disabled */
  int count = 0;
  const char *p = text;
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
    if (count == MAX_DETACH_KEYS)
      return berth_fail(err, 0, "invalid detach keys \"%s\": more than %d keys", text, MAX_DETACH_KEYS);
    if (len == 1) {
      out[count++] = (unsigned char)p[0];
    } else {
      int code = -1;
      for (size_t i = 0; i < ARRAY_SIZE(ctrl); i++)
        if (strlen(ctrl[i]) == len && strncmp(ctrl[i], p, len) == 0)
          code = (int)i;
      if (code < 0)
        return berth_fail(err, 0, "invalid detach keys \"%s\": unknown %s '%.*s'", text,
                          strncmp(p, "ctrl-", 5) == 0 ? "sequence" : "character", (int)len, p);
      out[count++] = (unsigned char)code;
    }
    if (comma == NULL)
      break;
    p = comma + 1;
  }
  *n = count;
  return 0;
}

static int send_packet(int fd, char type, const char *data, size_t len, int flags, berth_error **err) {
  char buf[64];
  if (len + 1 > sizeof(buf))
    return berth_fail(err, EMSGSIZE, "send to the monitor");
  buf[0] = type;
  memcpy(buf + 1, data, len);
  for (;;) {
    if (send(fd, buf, len + 1, MSG_NOSIGNAL | flags) >= 0)
      return 0;
    if (errno != EINTR)
      return berth_fail(err, errno, "send to the monitor");
  }
}

int attach_hello(int fd, const struct attach_options *opts, berth_error **err) {
  char letters[4];
  size_t n = 0;
  if (opts->in)
    letters[n++] = 'i';
  if (opts->out)
    letters[n++] = 'o';
  if (opts->err)
    letters[n++] = 'e';
  if (opts->owner)
    letters[n++] = 'O';
  return send_packet(fd, MSG_HELLO, letters, n, 0, err);
}

int attach_send_cleaned(int fd, berth_error **err) {
  return send_packet(fd, MSG_CLEANED, "", 0, 0, err);
}

int attach_connect(const char *socket_path, const struct attach_options *opts, berth_error **err) {
  cleanup_close int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return berth_fail(err, errno, "monitor socket");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  cleanup_close int dirfd = -1;
  if (strlen(socket_path) < sizeof(addr.sun_path)) {
    strcpy(addr.sun_path, socket_path);
  } else {
    /* Too long for sun_path: through an fd of its directory. */
    const char *slash = strrchr(socket_path, '/');
    cleanup_free char *dir = slash == NULL ? strdup(".")
                                           : strndup(socket_path, slash == socket_path ? 1 : (size_t)(slash - socket_path));
    if (dir == NULL)
      return berth_fail(err, ENOMEM, "connect to the monitor socket \"%s\"", socket_path);
    dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
      return berth_fail(err, errno, "connect to the monitor socket \"%s\"", socket_path);
    int n = snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s", dirfd,
                     slash == NULL ? socket_path : slash + 1);
    if (n < 0 || (size_t)n >= sizeof(addr.sun_path))
      return berth_fail(err, ENAMETOOLONG, "connect to the monitor socket \"%s\"", socket_path);
  }
  while (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    if (errno != EINTR)
      return berth_fail(err, errno, "connect to the monitor socket \"%s\"", socket_path);
  }
  if (attach_hello(fd, opts, err) < 0)
    return -1;
  return TAKE_FD(fd);
}

struct relay {
  int sock;
  const struct attach_options *opts;
  unsigned char keys[MAX_DETACH_KEYS];
  int nkeys, matched;
  int size_fd;             /* the terminal whose size the container follows, -1 */
  bool in_open;            /* still reading our stdin */
  bool close_pending;      /* MSG_STDIN_CLOSE goes after the pending packet */
  bool out_broken[2];      /* our stdout/stderr failed: their output is dropped */
  char *pkt;               /* a stdin packet waiting for room in the socket */
  size_t pkt_len;
  char *rbuf;              /* received messages */
};

/* All of buf to fd, waiting for room when fd is non-blocking. */
static int write_out(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, -1);
        continue;
      }
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static void send_resize(struct relay *r) {
  struct winsize ws;
  if (r->size_fd < 0 || ioctl(r->size_fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
    return;
  char text[32];
  int n = snprintf(text, sizeof(text), "%u %u", ws.ws_row, ws.ws_col);
  send_packet(r->sock, MSG_RESIZE, text, (size_t)n, MSG_DONTWAIT, NULL);
}

/* Tries to send the pending packet (and a pending MSG_STDIN_CLOSE). */
static void flush_pending(struct relay *r) {
  while (r->pkt_len > 0 || r->close_pending) {
    const char *buf = r->pkt;
    size_t len = r->pkt_len;
    char close_msg = MSG_STDIN_CLOSE;
    if (len == 0) {
      buf = &close_msg;
      len = 1;
    }
    if (send(r->sock, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN)
        return;
      /* The monitor is gone: the socket's EOF tells the rest. */
      r->pkt_len = 0;
      r->close_pending = false;
      return;
    }
    if (r->pkt_len > 0)
      r->pkt_len = 0;
    else
      r->close_pending = false;
  }
}

/* Appends byte c to the packet, matching the detach keys: a complete
 * sequence returns 1 (the keys are not sent); a broken one is sent. */
static int feed_key(struct relay *r, unsigned char c) {
  if (r->nkeys > 0) {
    if (c == r->keys[r->matched]) {
      if (++r->matched == r->nkeys)
        return 1;
      return 0;
    }
    if (r->matched > 0) {
      memcpy(r->pkt + r->pkt_len, r->keys, (size_t)r->matched);
      r->pkt_len += (size_t)r->matched;
      r->matched = 0;
      if (c == r->keys[0]) {
        r->matched = 1;
        if (r->nkeys == 1)
          return 1;
        return 0;
      }
    }
  }
  r->pkt[r->pkt_len++] = (char)c;
  return 0;
}

/* Reads our stdin into a packet.  1: detach keys typed. */
static int read_stdin(struct relay *r) {
  char buf[MONITOR_MAX_PAYLOAD - MAX_DETACH_KEYS];
  ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  r->pkt[0] = MSG_STDIN;
  r->pkt_len = 1;
  if (n <= 0) {
    /* EOF (or a terminal gone: EIO): the keys held so far were typed. */
    if (r->matched > 0) {
      memcpy(r->pkt + 1, r->keys, (size_t)r->matched);
      r->pkt_len += (size_t)r->matched;
      r->matched = 0;
    }
    r->in_open = false;
    r->close_pending = true;
  } else {
    for (ssize_t i = 0; i < n; i++) {
      if (feed_key(r, (unsigned char)buf[i])) {
        /* Send what came before the keys, waiting a little for room. */
        if (r->pkt_len > 1) {
          struct pollfd p = {.fd = r->sock, .events = POLLOUT};
          if (poll(&p, 1, 1000) > 0)
            send(r->sock, r->pkt, r->pkt_len, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        r->pkt_len = 0;
        return 1;
      }
    }
  }
  if (r->pkt_len == 1)
    r->pkt_len = 0;
  flush_pending(r);
  return 0;
}

/* One message from the monitor: 1 = MSG_EXIT (status set), 0 = go on,
 * -1 = the monitor hung up. */
static int read_socket(struct relay *r, int *status, berth_error **err) {
  ssize_t n = recv(r->sock, r->rbuf, 1 + MONITOR_MAX_PAYLOAD, MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN)
      return 0;
    if (errno != ECONNRESET && errno != EPIPE)
      return berth_fail(err, errno, "receive from the monitor");
    n = 0;
  }
  if (n == 0)
    return berth_fail(err, 0, "the monitor exited without a status");
  size_t len = (size_t)n - 1;
  char *payload = r->rbuf + 1;
  switch (r->rbuf[0]) {
  case MSG_STDOUT:
  case MSG_STDERR: {
    int which = r->rbuf[0] == MSG_STDOUT ? 0 : 1;
    if (!r->out_broken[which] && write_out(which == 0 ? STDOUT_FILENO : STDERR_FILENO, payload, len) < 0)
      r->out_broken[which] = true;
    return 0;
  }
  case MSG_EXIT: {
    int v = 0;
    bool ok = len > 0 && len < 6;
    for (size_t i = 0; ok && i < len; i++) {
      ok = payload[i] >= '0' && payload[i] <= '9';
      v = v * 10 + (payload[i] - '0');
    }
    *status = ok ? v : 255;
    return 1;
  }
  default:
    return 0;
  }
}

static int relay_loop(struct relay *r, int sigfd, int *status, berth_error **err) {
  for (;;) {
    struct pollfd fds[3] = {
        {.fd = r->sock, .events = (short)(POLLIN | (r->pkt_len > 0 || r->close_pending ? POLLOUT : 0))},
        {.fd = r->in_open && r->pkt_len == 0 ? STDIN_FILENO : -1, .events = POLLIN},
        {.fd = sigfd, .events = POLLIN},
    };
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR)
        continue;
      return berth_fail(err, errno, "poll");
    }
    if (fds[2].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGWINCH)
          send_resize(r);
        else if (r->opts->forward != NULL)
          r->opts->forward((int)si.ssi_signo, r->opts->forward_arg);
      }
    }
    if (fds[0].revents & POLLOUT)
      flush_pending(r);
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      int ret = read_socket(r, status, err);
      if (ret != 0)
        return ret < 0 ? -1 : 0;
    }
    if (fds[1].fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) {
      if (fds[1].revents & POLLNVAL) {
        r->in_open = false; /* no stdin at all: it ends at once */
        r->close_pending = true;
        flush_pending(r);
      } else if (read_stdin(r) == 1) {
        return 1;
      }
    }
  }
}

int attach_relay(int fd, const struct attach_options *opts, int *status, berth_error **err) {
  struct relay r = {.sock = fd, .opts = opts, .size_fd = -1, .in_open = opts->in};
  *status = 0;
  if (opts->tty && opts->in) {
    const char *keys = opts->detach_keys != NULL ? opts->detach_keys : DEFAULT_DETACH_KEYS;
    if (attach_parse_detach_keys(keys, r.keys, &r.nkeys, err) < 0)
      return -1;
  }
  cleanup_free char *pkt = malloc(1 + MONITOR_MAX_PAYLOAD);
  cleanup_free char *rbuf = malloc(1 + MONITOR_MAX_PAYLOAD);
  if (pkt == NULL || rbuf == NULL)
    return berth_fail(err, ENOMEM, "attach");
  r.pkt = pkt;
  r.rbuf = rbuf;

  sigset_t mask, old;
  sigemptyset(&mask);
  if (opts->tty) {
    r.size_fd = isatty(STDIN_FILENO) ? STDIN_FILENO : isatty(STDOUT_FILENO) ? STDOUT_FILENO : -1;
    if (r.size_fd >= 0)
      sigaddset(&mask, SIGWINCH);
  } else if (opts->forward != NULL) {
    for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
      sigaddset(&mask, forwarded[i]);
  }
  if (sigprocmask(SIG_BLOCK, &mask, &old) < 0)
    return berth_fail(err, errno, "block signals");
  int ret = -1;
  bool raw = false;
  struct termios saved;
  int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0) {
    berth_fail(err, errno, "signalfd");
    goto out;
  }
  if (opts->tty && opts->in && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
    struct termios t = saved;
    cfmakeraw(&t);
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
      raw = true;
  }
  send_resize(&r);
  ret = relay_loop(&r, sigfd, status, err);
out:
  if (raw)
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  if (sigfd >= 0) {
    /* Signals caught after the last poll still reach the container. */
    struct signalfd_siginfo si;
    while (read(sigfd, &si, sizeof(si)) == sizeof(si))
      if (si.ssi_signo != SIGWINCH && opts->forward != NULL)
        opts->forward((int)si.ssi_signo, opts->forward_arg);
    close(sigfd);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  return ret;
}
