/* Named messages between the runtime and the container's first process over
 * a SOCK_SEQPACKET socketpair: each send is one message, an fd may ride
 * along, and a child's error arrives as text so the user sees the cause. */
#ifndef BERTH_RUNTIME_SYNC_H
#define BERTH_RUNTIME_SYNC_H

#include <stdint.h>

#include "util/error.h"

enum sync_type {
  SYNC_ERROR = 1,       /* child -> parent: text is the error message */
  SYNC_PID,             /* child -> parent: value is the container init's pid (join path) */
  SYNC_USERNS_READY,    /* child -> parent: user namespace made, write the id maps */
  SYNC_GO,              /* parent -> child: cgroup joined, maps written: carry on */
  SYNC_CONSOLE,         /* child -> parent: the pty master rides along */
  SYNC_MOUNTS_READY,    /* child -> parent: mounts done, run prestart/createRuntime hooks */
  SYNC_HOOKS_DONE,      /* parent -> child */
  SYNC_SECCOMP_FD,      /* child -> parent: seccomp notify fd rides along */
  SYNC_SECCOMP_DONE,    /* parent -> child */
  SYNC_CREATED,         /* child -> parent: set up, waiting for start */
};

struct sync_msg {
  uint32_t type;
  int32_t value;
  char text[4000];
};

/* Sends one message; text may be NULL; fd < 0 sends none. */
int sync_send(int sock, enum sync_type type, int32_t value, const char *text, int fd, berth_error **err);
/* Receives one message; *fd gets a passed fd or -1 (fd may be NULL). A
 * closed peer is reported as an error. */
int sync_recv(int sock, struct sync_msg *msg, int *fd, berth_error **err);
/* Receives and checks the type; SYNC_ERROR becomes *err with the child's text. */
int sync_expect(int sock, enum sync_type type, struct sync_msg *msg, int *fd, berth_error **err);
/* Waits for the child to close its end (its exec); a message instead, its
 * error or anything else, fails. */
int sync_wait_closed(int sock, berth_error **err);
/* From the child: sends the error (best effort). */
void sync_send_error(int sock, const berth_error *err);

#endif
