/* The start stub: what a container's init becomes at the end of `create`.
 *
 * It is a freestanding program of a few hundred bytes (no libc), embedded in
 * berth-runtime and executed from a sealed memfd.  It waits on exec.fifo for
 * `start` and execs the container's program.  While a container
 * sits created, its pid 1 is therefore this stub, not a clone of the runtime:
 * /proc/1/exe leads to a sealed memfd, never to the host's runtime binary
 * (CVE-2019-5736), and an entrypoint that names /proc/self/exe gets the stub,
 * which refuses to run without its marker.
 *
 *   argv: berth-start FIFO_FD PATH ARG0 ARG1 ...    envp: the container's
 */
#include <stddef.h>

#define MARKER "berth-start"

#if defined(__x86_64__)
#define NR_READ 0
#define NR_WRITE 1
#define NR_FCNTL 72
#define NR_EXECVE 59
#define NR_EXIT_GROUP 231

static long sys3(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %rbp, %rbp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call stub_main\n"
        "  hlt\n");
#elif defined(__aarch64__)
#define NR_READ 63
#define NR_WRITE 64
#define NR_FCNTL 25
#define NR_EXECVE 221
#define NR_EXIT_GROUP 94

static long sys3(long nr, long a, long b, long c) {
  register long x8 __asm__("x8") = nr;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  mov x0, sp\n"
        "  bl stub_main\n"
        "  brk #0\n");
#else
#error "the start stub supports x86_64 and aarch64"
#endif

#define EINTR 4

static size_t length(const char *s) {
  size_t n = 0;
  while (s[n] != '\0')
    n++;
  return n;
}

static int same(const char *a, const char *b) {
  while (*a != '\0' && *a == *b) {
    a++;
    b++;
  }
  return *a == *b;
}

static const char *error_name(long e) {
  switch (e) {
  case 1: return "Operation not permitted";
  case 2: return "No such file or directory";
  case 7: return "Argument list too long";
  case 8: return "Exec format error";
  case 12: return "Cannot allocate memory";
  case 13: return "Permission denied";
  case 20: return "Not a directory";
  case 21: return "Is a directory";
  case 26: return "Text file busy";
  case 36: return "File name too long";
  case 40: return "Too many levels of symbolic links";
  default: return "error";
  }
}

static void put(const char *s) {
  sys3(NR_WRITE, 2, (long)s, (long)length(s));
}

/* "berth-runtime: WHAT \"PATH\": CAUSE" on stderr, then exit 127, as init. */
static __attribute__((noreturn)) void fail(const char *what, const char *path, long e) {
  put("berth-runtime: ");
  put(what);
  if (path != NULL) {
    put(" \"");
    put(path);
    put("\"");
  }
  put(": ");
  put(error_name(e));
  put("\n");
  for (;;)
    sys3(NR_EXIT_GROUP, 127, 0, 0);
}

__attribute__((used, noreturn)) void stub_main(long *sp);

void stub_main(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  if (argc < 4 || !same(argv[0], MARKER)) {
    put("berth-runtime: the start stub is internal to berth-runtime\n");
    for (;;)
      sys3(NR_EXIT_GROUP, 127, 0, 0);
  }
  long fifo = 0;
  for (const char *p = argv[1]; *p != '\0'; p++)
    fifo = fifo * 10 + (*p - '0');
  char byte;
  long n;
  do
    n = sys3(NR_READ, fifo, (long)&byte, 1);
  while (n == -EINTR);
  if (n != 1)
    fail("wait for start", NULL, n < 0 ? -n : 32);
  /* Closed at the exec itself, as `start` (poststart hooks) waits for. */
  sys3(NR_FCNTL, fifo, 2 /* F_SETFD */, 1 /* FD_CLOEXEC */);
  long e = sys3(NR_EXECVE, (long)argv[2], (long)(argv + 3), (long)envp);
  fail("exec", argv[2], -e);
}
