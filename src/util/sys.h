/* The system calls that change kernel state (mounts, namespaces, cgroup
 * files) go through this table, so unit tests can record them without root. */
#ifndef BERTH_UTIL_SYS_H
#define BERTH_UTIL_SYS_H

#include <stddef.h>
#include <sys/types.h>

struct berth_sys {
  int (*mount)(const char *source, const char *target, const char *type, unsigned long flags,
               const void *data);
  int (*umount2)(const char *target, int flags);
  int (*mkdir)(const char *path, mode_t mode);
  int (*rmdir)(const char *path);
  /* Writes len bytes to an existing file in one write(2); returns 0 or -1/errno. */
  int (*write_file)(const char *path, const char *data, size_t len);
  /* Reads at most size-1 bytes and NUL-terminates; returns length or -1/errno. */
  ssize_t (*read_file)(const char *path, char *buf, size_t size);
  int (*access)(const char *path, int mode);
  int (*setns)(int fd, int nstype);
  int (*unshare)(int flags);
};

/* The table in use; tests point it at their own recorder. */
extern const struct berth_sys *berth_sys;
extern const struct berth_sys berth_sys_real;

#endif
