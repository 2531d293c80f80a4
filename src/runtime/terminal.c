#include "runtime/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"

int terminal_open_pty(int *slave, berth_error **err) {
  cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return berth_fail(err, errno, "open /dev/ptmx in the container");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
    return berth_fail(err, errno, "unlock the pty");
  /* TIOCGPTPEER opens the slave through the master: no path lookup that the
   * rootfs could redirect. */
  int s = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0)
    return berth_fail(err, errno, "open the pty slave");
  *slave = s;
  return TAKE_FD(master);
}

int terminal_attach_slave(int slave, unsigned height, unsigned width, berth_error **err) {
  if (setsid() < 0)
    return berth_fail(err, errno, "setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    return berth_fail(err, errno, "make the pty the controlling terminal");
  if (height > 0 || width > 0) {
    struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
      return berth_fail(err, errno, "set the console size");
  }
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0)
      return berth_fail(err, errno, "dup the pty to fd %d", fd);
  return 0;
}

int terminal_bind_console(int slave, berth_error **err) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", slave);
  int fd = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    /* No writable /dev (a read-only bind): no console, as runc. */
    if (errno == EROFS || errno == ENOENT)
      return 0;
    return berth_fail(err, errno, "create /dev/console");
  }
  close(fd);
  if (mount(path, "/dev/console", NULL, MS_BIND, NULL) < 0)
    return berth_fail(err, errno, "bind the pty on /dev/console");
  return 0;
}

int terminal_send_master(const char *socket_path, int master, berth_error **err) {
  cleanup_close int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return berth_fail(err, errno, "console socket");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof(addr.sun_path))
    return berth_fail(err, ENAMETOOLONG, "console socket \"%s\"", socket_path);
  strcpy(addr.sun_path, socket_path);
  if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
    return berth_fail(err, errno, "connect to console socket \"%s\"", socket_path);
  char name[] = "/dev/ptmx";
  struct iovec iov = {.iov_base = name, .iov_len = sizeof(name) - 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof(control));
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                      .msg_controllen = sizeof(control.buf)};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &master, sizeof(int));
  if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
    return berth_fail(err, errno, "send the pty to console socket \"%s\"", socket_path);
  return 0;
}
