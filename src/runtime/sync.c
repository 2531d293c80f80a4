#include "runtime/sync.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <stddef.h>

static const char *sync_name(uint32_t type) {
  static const char *const names[] = {
      [SYNC_ERROR] = "error",          [SYNC_PID] = "pid",
      [SYNC_USERNS_READY] = "userns-ready", [SYNC_GO] = "go",
      [SYNC_CONSOLE] = "console",      [SYNC_MOUNTS_READY] = "mounts-ready",
      [SYNC_HOOKS_DONE] = "hooks-done", [SYNC_SECCOMP_FD] = "seccomp-fd",
      [SYNC_SECCOMP_DONE] = "seccomp-done", [SYNC_CREATED] = "created",
  };
  return type < sizeof(names) / sizeof(names[0]) && names[type] != NULL ? names[type] : "unknown";
}

int sync_send(int sock, enum sync_type type, int32_t value, const char *text, int fd, berth_error **err) {
  struct sync_msg msg = {.type = type, .value = value};
  size_t len = offsetof(struct sync_msg, text);
  if (text != NULL) {
    snprintf(msg.text, sizeof(msg.text), "%s", text);
    len += strlen(msg.text) + 1;
  }
  struct iovec iov = {.iov_base = &msg, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  if (fd >= 0) {
    memset(&control, 0, sizeof(control));
    mh.msg_control = control.buf;
    mh.msg_controllen = sizeof(control.buf);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
  }
  ssize_t n;
  do
    n = sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return berth_fail(err, errno, "send \"%s\" to the container process", sync_name(type));
  return 0;
}

int sync_recv(int sock, struct sync_msg *msg, int *fd, berth_error **err) {
  if (fd != NULL)
    *fd = -1;
  memset(msg, 0, offsetof(struct sync_msg, text) + 1);
  struct iovec iov = {.iov_base = msg, .iov_len = sizeof(*msg)};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                      .msg_controllen = sizeof(control.buf)};
  ssize_t n;
  do
    n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return berth_fail(err, errno, "receive from the container process");
  if (n == 0)
    return berth_fail(err, 0, "the container process exited during setup");
  if ((size_t)n < offsetof(struct sync_msg, text))
    return berth_fail(err, 0, "short message from the container process");
  msg->text[sizeof(msg->text) - 1] = '\0';
  if ((size_t)n == offsetof(struct sync_msg, text))
    msg->text[0] = '\0';
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
      int got;
      memcpy(&got, CMSG_DATA(cm), sizeof(int));
      if (fd != NULL)
        *fd = got;
      else
        close(got);
    }
  }
  return 0;
}

int sync_expect(int sock, enum sync_type type, struct sync_msg *msg, int *fd, berth_error **err) {
  struct sync_msg local;
  if (msg == NULL)
    msg = &local;
  if (sync_recv(sock, msg, fd, err) < 0)
    return -1;
  if (msg->type == SYNC_ERROR)
    return berth_fail(err, 0, "%s", msg->text);
  if (msg->type != type) {
    if (fd != NULL && *fd >= 0) {
      close(*fd);
      *fd = -1;
    }
    return berth_fail(err, 0, "container process sent \"%s\" where \"%s\" was expected", sync_name(msg->type),
                      sync_name(type));
  }
  return 0;
}

int sync_wait_closed(int sock, berth_error **err) {
  struct sync_msg msg = {0};
  ssize_t n;
  do
    n = recv(sock, &msg, sizeof(msg), 0);
  while (n < 0 && errno == EINTR);
  if (n == 0)
    return 0;
  if (n < 0)
    return berth_fail(err, errno, "receive from the container process");
  msg.text[sizeof(msg.text) - 1] = '\0';
  if ((size_t)n > offsetof(struct sync_msg, text) && msg.type == SYNC_ERROR)
    return berth_fail(err, 0, "%s", msg.text);
  return berth_fail(err, 0, "container process sent \"%s\" after \"created\"", sync_name(msg.type));
}

void sync_send_error(int sock, const berth_error *err) {
  sync_send(sock, SYNC_ERROR, err != NULL ? err->errnum : 0, err != NULL ? err->msg : "unknown error", -1, NULL);
}
