/* The client side of a monitor's attach socket (monitor/protocol.h): what
 * `berth run` in the foreground, `berth attach` and `berth start -a` do
 * with the terminal. */
#ifndef BERTH_ENGINE_ATTACH_H
#define BERTH_ENGINE_ATTACH_H

#include <stdbool.h>

#include "util/error.h"

struct attach_options {
  bool in, out, err; /* which streams: our stdin to the container, its stdout/stderr to ours */
  bool tty;          /* the container has a pty: our terminal goes raw (when stdin is one), resizes follow SIGWINCH */
  bool owner;        /* we clean up after the exit (MSG_HELLO "O" / MSG_CLEANED) */
  /* docker's --detach-keys ("ctrl-p,ctrl-q" when NULL; "" disables), honoured only with tty && in */
  const char *detach_keys;
  /* Non-tty foreground: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2 ... received by us are passed to
   * forward(sig, arg) (docker's --sig-proxy); NULL: default dispositions. */
  void (*forward)(int sig, void *arg);
  void *forward_arg;
};

/* Connects to the socket and sends MSG_HELLO; returns the fd. */
int attach_connect(const char *socket_path, const struct attach_options *opts, berth_error **err);
/* Sends MSG_HELLO on an already connected fd (the --client socketpair end). */
int attach_hello(int fd, const struct attach_options *opts, berth_error **err);
/* Relays until the container exits (returns 0, *status = its status),
 * the detach keys are typed (returns 1) or the monitor goes away without
 * MSG_EXIT (returns -1: "container ID: the monitor exited without a status").
 * Our stdin's EOF becomes MSG_STDIN_CLOSE. Restores the terminal. */
int attach_relay(int fd, const struct attach_options *opts, int *status, berth_error **err);
/* Tells the monitor the owner has cleaned up (MSG_CLEANED). */
int attach_send_cleaned(int fd, berth_error **err);

/* Parses docker's --detach-keys ("ctrl-p,ctrl-q", "a,ctrl-a", "ctrl-@"...)
 * into a byte sequence (at most 8): "invalid detach keys: ...". */
int attach_parse_detach_keys(const char *text, unsigned char *out, int *n, berth_error **err);

#endif
