#include "monitor/util.h"

#include <stdarg.h>
#include <string.h>

#include "monitor/sys.h"

size_t fmt_u64(char *out, uint64_t v) {
  char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (size_t i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  return n;
}

int parse_u64(const char *s, uint64_t *out) {
  uint64_t v = 0;
  if (*s == '\0')
    return -1;
  for (; *s != '\0'; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    unsigned d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

static void put2(char *p, unsigned v) {
  p[0] = (char)('0' + v / 10 % 10);
  p[1] = (char)('0' + v % 10);
}

void fmt_time(char out[TIME_TEXT_LEN], int64_t unix_ns) {
  int64_t secs = unix_ns / 1000000000, nanos = unix_ns % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    secs--;
  }
  int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  /* Civil date from days since 1970-01-01 (proleptic Gregorian). */
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  unsigned day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
  unsigned month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
  int64_t year = yoe + era * 400 + (month <= 2);
  if (year < 0)
    year = 0;
  put2(out, (unsigned)(year / 100));
  put2(out + 2, (unsigned)(year % 100));
  out[4] = '-';
  put2(out + 5, month);
  out[7] = '-';
  put2(out + 8, day);
  out[10] = 'T';
  put2(out + 11, (unsigned)(rem / 3600));
  out[13] = ':';
  put2(out + 14, (unsigned)(rem / 60 % 60));
  out[16] = ':';
  put2(out + 17, (unsigned)(rem % 60));
  out[19] = '.';
  for (int i = 28; i >= 20; i--) {
    out[i] = (char)('0' + nanos % 10);
    nanos /= 10;
  }
  out[29] = 'Z';
}

const char *err_text(int errnum) {
  switch (errnum) {
  case EPERM: return "Operation not permitted";
  case ENOENT: return "No such file or directory";
  case ESRCH: return "No such process";
  case EINTR: return "Interrupted system call";
  case EIO: return "Input/output error";
  case EBADF: return "Bad file descriptor";
  case ECHILD: return "No child processes";
  case EAGAIN: return "Resource temporarily unavailable";
  case ENOMEM: return "Cannot allocate memory";
  case EACCES: return "Permission denied";
  case EEXIST: return "File exists";
  case ENOTDIR: return "Not a directory";
  case EISDIR: return "Is a directory";
  case EINVAL: return "Invalid argument";
  case ENFILE: return "Too many open files in system";
  case EMFILE: return "Too many open files";
  case ENOTTY: return "Inappropriate ioctl for device";
  case EFBIG: return "File too large";
  case ENOSPC: return "No space left on device";
  case EROFS: return "Read-only file system";
  case EPIPE: return "Broken pipe";
  case ENAMETOOLONG: return "File name too long";
  case ENOSYS: return "Function not implemented";
  case ELOOP: return "Too many levels of symbolic links";
  case ENOTSOCK: return "Socket operation on non-socket";
  case EADDRINUSE: return "Address already in use";
  case ECONNRESET: return "Connection reset by peer";
  case ECONNREFUSED: return "Connection refused";
  case EDQUOT: return "Disk quota exceeded";
  default: return NULL;
  }
}

static size_t append(char *buf, size_t n, size_t cap, const char *s, size_t len) {
  if (len > cap - n)
    len = cap - n;
  memcpy(buf + n, s, len);
  return n + len;
}

void say(int errnum, ...) {
  char buf[1024];
  const size_t cap = sizeof(buf) - 1;
  size_t n = append(buf, 0, cap, "berth-monitor: ", 15);
  va_list ap;
  va_start(ap, errnum);
  for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
    n = append(buf, n, cap, s, strlen(s));
  va_end(ap);
  if (errnum != 0) {
    n = append(buf, n, cap, ": ", 2);
    const char *text = err_text(errnum);
    if (text != NULL) {
      n = append(buf, n, cap, text, strlen(text));
    } else {
      char num[20];
      n = append(buf, n, cap, "error ", 6);
      n = append(buf, n, cap, num, fmt_u64(num, (uint64_t)errnum));
    }
  }
  buf[n++] = '\n';
  write_all(2, buf, n);
}

int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    long r = sys_write(fd, p, n);
    if (r == -EINTR)
      continue;
    if (r == -EAGAIN) {
      struct pollfd pfd = {.fd = fd, .events = POLLOUT};
      sys_ppoll(&pfd, 1, NULL);
      continue;
    }
    if (r < 0)
      return (int)r;
    if (r == 0)
      return -EIO;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}
