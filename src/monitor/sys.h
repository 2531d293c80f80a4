/* The monitor's system-call layer.
 *
 * berth-monitor stays resident for the whole life of every container, so it
 * is built without libc (MONITOR_NOLIBC): a static glibc program maps some
 * 650 KiB of text that the page cache hands out in large folios, all of it
 * resident, while this one is a few dozen KiB.  Every call goes through
 * sys_call(), which is a `syscall` instruction in that build and libc's
 * syscall(2) in sanitizer builds (ASan needs libc), so both builds run the
 * same code.  Wrappers return the result or -errno, as the kernel does. */
#ifndef BERTH_MONITOR_SYS_H
#define BERTH_MONITOR_SYS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>

#if MONITOR_NOLIBC
#if defined(__x86_64__)
static inline long sys_call(long nr, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
static inline long sys_call(long nr, long a, long b, long c, long d, long e, long f) {
  register long x8 __asm__("x8") = nr;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}
#else
#error "MONITOR_NOLIBC supports x86_64 and aarch64; build the monitor with libc elsewhere"
#endif
#else
long sys_call(long nr, long a, long b, long c, long d, long e, long f);
#endif

#define SC0(nr) sys_call(nr, 0, 0, 0, 0, 0, 0)
#define SC1(nr, a) sys_call(nr, (long)(a), 0, 0, 0, 0, 0)
#define SC2(nr, a, b) sys_call(nr, (long)(a), (long)(b), 0, 0, 0, 0)
#define SC3(nr, a, b, c) sys_call(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SC4(nr, a, b, c, d) sys_call(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SC5(nr, a, b, c, d, e) sys_call(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define SC6(nr, a, b, c, d, e, f) sys_call(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* The kernel's signal set (64 signals) and sigaction, not libc's. */
typedef unsigned long ksigset_t;
#define KSIG(s) (1UL << ((s) - 1))
struct ksigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  ksigset_t mask;
};

/* The kernel's termios (asm-generic/termbits.h, also x86's): for VEOF. */
struct ktermios {
  unsigned int c_iflag, c_oflag, c_cflag, c_lflag;
  unsigned char c_line;
  unsigned char c_cc[19];
};
#define KVEOF 4

static inline long sys_read(int fd, void *buf, size_t n) { return SC3(SYS_read, fd, buf, n); }
static inline long sys_write(int fd, const void *buf, size_t n) { return SC3(SYS_write, fd, buf, n); }
static inline long sys_close(int fd) { return SC1(SYS_close, fd); }
static inline long sys_openat(int dir, const char *path, int flags, int mode) {
  return SC4(SYS_openat, dir, path, flags, mode);
}
static inline long sys_fcntl(int fd, int cmd, long arg) { return SC3(SYS_fcntl, fd, cmd, arg); }
static inline long sys_dup3(int from, int to, int flags) { return SC3(SYS_dup3, from, to, flags); }
static inline long sys_lseek(int fd, long off, int whence) { return SC3(SYS_lseek, fd, off, whence); }
static inline long sys_ftruncate(int fd, long len) { return SC2(SYS_ftruncate, fd, len); }
static inline long sys_rename(const char *from, const char *to) {
  return SC5(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 0);
}
static inline long sys_unlinkat(int dir, const char *path, int flags) { return SC3(SYS_unlinkat, dir, path, flags); }
static inline long sys_umask(int mask) { return SC1(SYS_umask, mask); }
static inline long sys_ioctl(int fd, unsigned long req, void *arg) { return SC3(SYS_ioctl, fd, req, arg); }
static inline long sys_ppoll(struct pollfd *fds, unsigned n, const struct timespec *ts) {
  return SC5(SYS_ppoll, fds, n, ts, 0, sizeof(ksigset_t));
}
static inline long sys_socket(int domain, int type, int proto) { return SC3(SYS_socket, domain, type, proto); }
static inline long sys_bind(int fd, const void *addr, unsigned len) { return SC3(SYS_bind, fd, addr, len); }
static inline long sys_listen(int fd, int backlog) { return SC2(SYS_listen, fd, backlog); }
static inline long sys_accept4(int fd, int flags) { return SC4(SYS_accept4, fd, 0, 0, flags); }
static inline long sys_send(int fd, const void *buf, size_t n, int flags) {
  return SC6(SYS_sendto, fd, buf, n, flags, 0, 0);
}
static inline long sys_recv(int fd, void *buf, size_t n, int flags) {
  return SC6(SYS_recvfrom, fd, buf, n, flags, 0, 0);
}
static inline long sys_wait4(int pid, int *status, int options) { return SC4(SYS_wait4, pid, status, options, 0); }
static inline long sys_execve(const char *path, char *const argv[], char *const envp[]) {
  return SC3(SYS_execve, path, argv, envp);
}
static inline long sys_prctl(int op, unsigned long arg) { return SC5(SYS_prctl, op, arg, 0, 0, 0); }
static inline long sys_sigprocmask(int how, const ksigset_t *set, ksigset_t *old) {
  return SC4(SYS_rt_sigprocmask, how, set, old, sizeof(ksigset_t));
}
static inline long sys_sigaction(int sig, const struct ksigaction *act, struct ksigaction *old) {
  return SC4(SYS_rt_sigaction, sig, act, old, sizeof(ksigset_t));
}
static inline long sys_signalfd(const ksigset_t *mask, int flags) {
  return SC4(SYS_signalfd4, -1, mask, sizeof(ksigset_t), flags);
}
static inline long sys_timerfd_create(int clock, int flags) { return SC2(SYS_timerfd_create, clock, flags); }
static inline long sys_timerfd_settime(int fd, const void *its) { return SC4(SYS_timerfd_settime, fd, 0, its, 0); }
static inline long sys_close_range(unsigned first, unsigned last) { return SC3(SYS_close_range, first, last, 0); }
static inline __attribute__((noreturn)) void sys_exit(int code) {
  for (;;)
    SC1(SYS_exit_group, code);
}
/* fork(2): a plain clone in the libc-free build, libc's fork otherwise. */
long sys_fork(void);

/* Clock readings in nanoseconds. */
int64_t clock_ns(clockid_t clock);

#endif
