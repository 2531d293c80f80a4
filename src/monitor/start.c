/* The monitor's entry point and, in the libc-free build, the handful of
 * functions the compiler may call on its own (memcpy and friends). */
#include <signal.h>
#include <string.h>

#include "monitor/monitor.h"
#include "monitor/sys.h"

int64_t clock_ns(clockid_t clock) {
  struct timespec ts;
  if (SC2(SYS_clock_gettime, clock, &ts) < 0)
    return 0;
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#if MONITOR_NOLIBC

long sys_fork(void) {
  return SC5(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}

__attribute__((used)) void *memcpy(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  while (n-- > 0)
    *d++ = *s++;
  return dst;
}

__attribute__((used)) void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (d < s) {
    while (n-- > 0)
      *d++ = *s++;
  } else {
    while (n-- > 0)
      d[n] = s[n];
  }
  return dst;
}

__attribute__((used)) void *memset(void *dst, int c, size_t n) {
  unsigned char *d = dst;
  while (n-- > 0)
    *d++ = (unsigned char)c;
  return dst;
}

__attribute__((used)) int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (; n > 0; n--, x++, y++)
    if (*x != *y)
      return *x - *y;
  return 0;
}

__attribute__((used)) void *memchr(const void *p, int c, size_t n) {
  const unsigned char *s = p;
  for (; n > 0; n--, s++)
    if (*s == (unsigned char)c)
      return (void *)s;
  return NULL;
}

__attribute__((used)) size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n] != '\0')
    n++;
  return n;
}

__attribute__((used)) int strcmp(const char *a, const char *b) {
  while (*a != '\0' && *a == *b) {
    a++;
    b++;
  }
  return (unsigned char)*a - (unsigned char)*b;
}

__attribute__((used)) int strncmp(const char *a, const char *b, size_t n) {
  for (; n > 0; n--, a++, b++) {
    if (*a != *b)
      return (unsigned char)*a - (unsigned char)*b;
    if (*a == '\0')
      break;
  }
  return 0;
}

void monitor_start(long *sp);

/* The kernel enters with argc, argv..., NULL, envp..., NULL on the stack. */
__attribute__((used, noreturn)) void monitor_start(long *sp) {
  int argc = (int)sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  sys_exit(monitor_main(argc, argv, envp));
}

#if defined(__x86_64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %rbp, %rbp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call monitor_start\n"
        "  hlt\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  mov x29, #0\n"
        "  mov x30, #0\n"
        "  mov x0, sp\n"
        "  bl monitor_start\n"
        "  brk #0\n");
#endif

#else /* libc */

#include <unistd.h>

long sys_call(long nr, long a, long b, long c, long d, long e, long f) {
  long r = syscall(nr, a, b, c, d, e, f);
  return r == -1 ? -errno : r;
}

long sys_fork(void) {
  pid_t pid = fork();
  return pid < 0 ? -errno : pid;
}

extern char **environ;

int main(int argc, char **argv) {
  return monitor_main(argc, argv, environ);
}

#endif
