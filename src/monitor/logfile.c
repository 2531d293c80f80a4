#include "monitor/logfile.h"

#include <string.h>

#include "monitor/sys.h"
#include "monitor/util.h"

#define PATH_CAP 4096

/* The output buffer: a log line goes out in one write(2) when it fits. */
static char out_buf[8192];
static size_t out_len;

int logfile_open(struct logfile *lf, const char *path, uint64_t max_size, unsigned max_file) {
  lf->fd = -1;
  lf->path = path;
  lf->size = 0;
  lf->max_size = max_size;
  lf->max_file = max_file == 0 ? 1 : max_file;
  if (path == NULL || path[0] == '\0')
    return 0;
  if (strlen(path) + 12 > PATH_CAP)
    return -ENAMETOOLONG;
  long fd = sys_openat(AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0)
    return (int)fd;
  long end = sys_lseek((int)fd, 0, SEEK_END);
  lf->fd = (int)fd;
  lf->size = end > 0 ? (uint64_t)end : 0;
  return 0;
}

static const char hex[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s (Go's utf8.DecodeRune ranges),
 * 0 when it is invalid or cut short. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len;
  unsigned lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf)
    len = 2;
  else if (c >= 0xe0 && c <= 0xef)
    len = 3;
  else if (c >= 0xf0 && c <= 0xf4)
    len = 4;
  else
    return 0;
  if (c == 0xe0)
    lo = 0xa0;
  else if (c == 0xed)
    hi = 0x9f;
  else if (c == 0xf0)
    lo = 0x90;
  else if (c == 0xf4)
    hi = 0x8f;
  if (n < len || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xbf)
      return 0;
  return len;
}

size_t json_escape_char(const unsigned char *s, size_t n, size_t *used, char out[6]) {
  unsigned c = s[0];
  *used = 1;
  if (c < 0x80) {
    switch (c) {
    case '"': out[0] = '\\'; out[1] = '"'; return 2;
    case '\\': out[0] = '\\'; out[1] = '\\'; return 2;
    case '\n': out[0] = '\\'; out[1] = 'n'; return 2;
    case '\r': out[0] = '\\'; out[1] = 'r'; return 2;
    case '\t': out[0] = '\\'; out[1] = 't'; return 2;
    default:
      break;
    }
    if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      memcpy(out, "\\u00", 4);
      out[4] = hex[c >> 4];
      out[5] = hex[c & 15];
      return 6;
    }
    out[0] = (char)c;
    return 1;
  }
  size_t len = utf8_len(s, n);
  if (len == 0) {
    memcpy(out, "\\ufffd", 6);
    return 6;
  }
  *used = len;
  if (len == 3 && c == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9)) {
    memcpy(out, "\\u202", 5);
    out[5] = hex[s[2] & 15];
    return 6;
  }
  memcpy(out, s, len);
  return len;
}

static size_t escaped_len(const unsigned char *s, size_t n) {
  size_t total = 0;
  char tmp[6];
  while (n > 0) {
    size_t used;
    total += json_escape_char(s, n, &used, tmp);
    s += used;
    n -= used;
  }
  return total;
}

static void out_flush(struct logfile *lf) {
  if (out_len > 0 && lf->fd >= 0 && write_all(lf->fd, out_buf, out_len) == 0)
    lf->size += out_len;
  out_len = 0;
}

static void out_put(struct logfile *lf, const char *s, size_t n) {
  while (n > 0) {
    if (out_len == sizeof(out_buf))
      out_flush(lf);
    size_t take = sizeof(out_buf) - out_len;
    if (take > n)
      take = n;
    memcpy(out_buf + out_len, s, take);
    out_len += take;
    s += take;
    n -= take;
  }
}

/* PATH or PATH.i into buf. */
static void rotated_name(char *buf, const char *path, unsigned i) {
  size_t n = strlen(path);
  memcpy(buf, path, n);
  if (i > 0) {
    buf[n++] = '.';
    n += fmt_u64(buf + n, i);
  }
  buf[n] = '\0';
}

static void rotate(struct logfile *lf) {
  if (lf->max_file <= 1) {
    if (lf->fd >= 0)
      sys_ftruncate(lf->fd, 0);
    lf->size = 0;
    return;
  }
  static char from[PATH_CAP], to[PATH_CAP];
  for (unsigned i = lf->max_file - 1; i >= 1; i--) {
    rotated_name(from, lf->path, i - 1);
    rotated_name(to, lf->path, i);
    long r = sys_rename(from, to);
    if (r < 0 && r != -ENOENT)
      say((int)-r, "rotate the log: rename \"", from, "\"", NULL);
  }
  if (lf->fd >= 0)
    sys_close(lf->fd);
  long fd = sys_openat(AT_FDCWD, lf->path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0)
    say((int)-fd, "rotate the log: open \"", lf->path, "\"", NULL);
  lf->fd = fd < 0 ? -1 : (int)fd;
  lf->size = 0;
}

static void write_entry(struct logfile *lf, const char *stream, const unsigned char *s, size_t n, int partial,
                        int64_t now_ns) {
  static const char head[] = "{\"log\":\"", mid[] = "\",\"stream\":\"", tm[] = "\",\"time\":\"", tail[] = "\"}\n";
  size_t slen = strlen(stream);
  if (lf->max_size > 0 && lf->size > 0) {
    size_t total = (sizeof(head) - 1) + escaped_len(s, n) + (partial ? 0 : 2) + (sizeof(mid) - 1) + slen +
                   (sizeof(tm) - 1) + TIME_TEXT_LEN + (sizeof(tail) - 1);
    if (lf->size + total > lf->max_size)
      rotate(lf);
  }
  if (lf->fd < 0) {
    /* A rotation could not create the new file: try again for each line. */
    long fd = sys_openat(AT_FDCWD, lf->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
      return;
    lf->fd = (int)fd;
  }
  out_put(lf, head, sizeof(head) - 1);
  char esc[6];
  while (n > 0) {
    size_t used, len = json_escape_char(s, n, &used, esc);
    if (len == 1 && out_len < sizeof(out_buf))
      out_buf[out_len++] = esc[0];
    else
      out_put(lf, esc, len);
    s += used;
    n -= used;
  }
  if (!partial)
    out_put(lf, "\\n", 2);
  out_put(lf, mid, sizeof(mid) - 1);
  out_put(lf, stream, slen);
  out_put(lf, tm, sizeof(tm) - 1);
  char when[TIME_TEXT_LEN];
  fmt_time(when, now_ns);
  out_put(lf, when, TIME_TEXT_LEN);
  out_put(lf, tail, sizeof(tail) - 1);
  out_flush(lf);
}

void logfile_feed(struct logfile *lf, struct logline *line, const char *stream, const char *data, size_t n,
                  int64_t now_ns) {
  if (lf->path == NULL || lf->path[0] == '\0')
    return;
  while (n > 0) {
    const char *nl = memchr(data, '\n', n);
    size_t seg = nl != NULL ? (size_t)(nl - data) : n;
    size_t room = LOG_LINE_MAX - line->n;
    if (seg >= room) {
      /* The buffer fills up without a newline: a partial message, as
       * docker's copier sends when its 16 KiB buffer is full. */
      memcpy(line->buf + line->n, data, room);
      write_entry(lf, stream, (const unsigned char *)line->buf, LOG_LINE_MAX, 1, now_ns);
      line->n = 0;
      data += room;
      n -= room;
      continue;
    }
    memcpy(line->buf + line->n, data, seg);
    line->n += seg;
    data += seg;
    n -= seg;
    if (nl != NULL) {
      write_entry(lf, stream, (const unsigned char *)line->buf, line->n, 0, now_ns);
      line->n = 0;
      data++;
      n--;
    }
  }
}

void logfile_end(struct logfile *lf, struct logline *line, const char *stream, int64_t now_ns) {
  if (line->n > 0 && lf->path != NULL && lf->path[0] != '\0')
    write_entry(lf, stream, (const unsigned char *)line->buf, line->n, 1, now_ns);
  line->n = 0;
}
