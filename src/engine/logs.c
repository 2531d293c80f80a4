/* Reading a container's json-file log for `berth logs`.
 *
 * Each line is one docker json-file entry written by the monitor:
 *   {"log":"hello\n","stream":"stdout","time":"2026-11-23T15:49:09.123456789Z"}
 * A small parser for that fixed shape (any key order, unknown keys skipped,
 * every JSON string escape decoded) keeps printing I/O bound.  Only lines
 * ending with '\n' are read: the last line of a file being written may be
 * incomplete and is left for later (follow) or ignored.
 *
 * Filtering follows docker's json-file reader: --tail N takes the last N
 * entries (across rotated files, found by reading the files backwards in
 * blocks), then --since skips entries before it until the first one at or
 * after it (later ones are not checked again, timestamps need not be
 * monotonic), and the first entry after --until ends the output, following
 * included. */
#include "engine/logs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"

#define NS_PER_SEC 1000000000LL
#define READ_BLOCK (256 * 1024) /* forward reads */
#define TAIL_BLOCK (64 * 1024)  /* backward reads for --tail */
#define OUT_FLUSH (128 * 1024)  /* output buffered before a write(2) */
#define FOLLOW_POLL_MS 150      /* -f: how often done() is asked when idle */
#define TIME_PREFIX_MAX 48

/* ------------------------------------------------------------------ */
/* Calendar arithmetic (proleptic Gregorian, days since 1970-01-01).  */

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    q--;
  return q;
}

static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* An instant as seconds + nanoseconds (no overflow for any 4-digit year),
 * with the zone offset it was written in (docker prints it back in it). */
struct log_time {
  int64_t sec;
  int32_t nsec;
  int32_t off;
};

/* Compares t with a unix nanosecond value. */
static int time_cmp_ns(const struct log_time *t, int64_t ns) {
  int64_t sec = floor_div(ns, NS_PER_SEC);
  int32_t nsec = (int32_t)(ns - sec * NS_PER_SEC);
  if (t->sec != sec)
    return t->sec < sec ? -1 : 1;
  if (t->nsec != nsec)
    return t->nsec < nsec ? -1 : 1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Date-time text: the shapes of Go's layouts that docker uses.        */

enum dt_fields { DT_DATE, DT_HOUR, DT_MINUTE, DT_SECOND };

static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

static inline bool take_digits(const char **p, const char *end, int n, int *out) {
  if (end - *p < n)
    return false;
  int v = 0;
  for (int i = 0; i < n; i++) {
    unsigned d = (unsigned)((*p)[i] - '0');
    if (d > 9)
      return false;
    v = v * 10 + (int)d;
  }
  *p += n;
  *out = v;
  return true;
}

/* Parses "YYYY-MM-DD" then, as fields says, "Th", "Th:mm" or "Th:mm:ss"
 * (the hour may have one digit, as Go's "15"), an optional fraction after
 * the seconds, and, when zoned, "Z" or "+hh:mm"/"-hh:mm"; nothing may
 * follow.  Without a zone the fields are taken at offset local_off. */
static bool parse_datetime(const char *s, size_t n, enum dt_fields fields, bool zoned, int local_off,
                           struct log_time *out) {
  const char *p = s, *end = s + n;
  int year, mon, day, hour = 0, min = 0, sec = 0, nsec = 0, off = local_off;
  if (!take_digits(&p, end, 4, &year) || p >= end || *p++ != '-' || !take_digits(&p, end, 2, &mon) ||
      p >= end || *p++ != '-' || !take_digits(&p, end, 2, &day))
    return false;
  /* Log entries come in runs of the same day: remember the last one. */
  static __thread struct {
    int year, mon, day;
    int64_t days;
  } last = {.year = -1};
  int64_t days;
  if (year == last.year && mon == last.mon && day == last.day) {
    days = last.days;
  } else {
    if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon))
      return false;
    days = days_from_civil(year, mon, day);
    last.year = year;
    last.mon = mon;
    last.day = day;
    last.days = days;
  }
  if (fields >= DT_HOUR) {
    if (p >= end || *p++ != 'T' || p >= end || !is_digit(*p))
      return false;
    hour = *p++ - '0';
    if (p < end && is_digit(*p))
      hour = hour * 10 + (*p++ - '0');
    if (hour > 23)
      return false;
  }
  if (fields >= DT_MINUTE && (p >= end || *p++ != ':' || !take_digits(&p, end, 2, &min) || min > 59))
    return false;
  if (fields >= DT_SECOND) {
    if (p >= end || *p++ != ':' || !take_digits(&p, end, 2, &sec) || sec > 59)
      return false;
    if (p + 1 < end && (*p == '.' || *p == ',') && is_digit(p[1])) {
      p++;
      int digits = 0;
      for (; p < end && is_digit(*p); p++, digits++)
        if (digits < 9)
          nsec = nsec * 10 + (*p - '0');
      for (; digits < 9; digits++)
        nsec *= 10;
    }
  }
  if (zoned) {
    if (p >= end)
      return false;
    if (*p == 'Z') {
      p++;
      off = 0;
    } else if (*p == '+' || *p == '-') {
      int sign = *p++ == '-' ? -1 : 1, oh, om;
      if (!take_digits(&p, end, 2, &oh) || p >= end || *p++ != ':' || !take_digits(&p, end, 2, &om) ||
          oh > 24 || om > 60)
        return false;
      off = sign * (oh * 3600 + om * 60);
    } else {
      return false;
    }
  }
  if (p != end)
    return false;
  out->sec = days * 86400 + hour * 3600 + min * 60 + sec - off;
  out->nsec = nsec;
  out->off = off;
  return true;
}

/* "2006-01-02T15:04:05.000000000Z07:00 ": docker's RFC3339NanoFixed, in the
 * zone the entry was written in.  Returns the length written. */
static size_t format_time(char *o, const struct log_time *t) {
  int64_t local = t->sec + t->off;
  int64_t days = floor_div(local, 86400), rem = local - days * 86400;
  static __thread struct {
    int64_t days, y;
    int m, d;
  } last = {.days = INT64_MIN};
  if (days != last.days) {
    civil_from_days(days, &last.y, &last.m, &last.d);
    last.days = days;
  }
  int64_t y = last.y;
  int m = last.m, d = last.d;
  int hh = (int)(rem / 3600), mm = (int)(rem / 60 % 60), ss = (int)(rem % 60);
  char *p = o;
  if (y < 0 || y > 9999)
    return (size_t)snprintf(o, TIME_PREFIX_MAX, "%04lld-%02d-%02dT%02d:%02d:%02d.%09dZ ", (long long)y, m, d,
                            hh, mm, ss, (int)t->nsec);
  p[0] = (char)('0' + y / 1000);
  p[1] = (char)('0' + y / 100 % 10);
  p[2] = (char)('0' + y / 10 % 10);
  p[3] = (char)('0' + y % 10);
  p[4] = '-';
  p[5] = (char)('0' + m / 10);
  p[6] = (char)('0' + m % 10);
  p[7] = '-';
  p[8] = (char)('0' + d / 10);
  p[9] = (char)('0' + d % 10);
  p[10] = 'T';
  p[11] = (char)('0' + hh / 10);
  p[12] = (char)('0' + hh % 10);
  p[13] = ':';
  p[14] = (char)('0' + mm / 10);
  p[15] = (char)('0' + mm % 10);
  p[16] = ':';
  p[17] = (char)('0' + ss / 10);
  p[18] = (char)('0' + ss % 10);
  p[19] = '.';
  int32_t ns = t->nsec;
  for (int i = 28; i >= 20; i--) {
    p[i] = (char)('0' + ns % 10);
    ns /= 10;
  }
  p += 29;
  if (t->off == 0) {
    *p++ = 'Z';
  } else {
    int off = t->off < 0 ? -t->off : t->off;
    *p++ = t->off < 0 ? '-' : '+';
    *p++ = (char)('0' + off / 36000);
    *p++ = (char)('0' + off / 3600 % 10);
    *p++ = ':';
    *p++ = (char)('0' + off / 600 % 6);
    *p++ = (char)('0' + off / 60 % 10);
  }
  *p++ = ' ';
  return (size_t)(p - o);
}

/* ------------------------------------------------------------------ */
/* The json-file line parser.                                          */

struct entry {
  const char *log; /* decoded text (in the line when it had no escape, else in scratch) */
  size_t log_len;
  int stream; /* 0 stdout, 1 stderr */
  struct log_time time;
};

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    p++;
  return p;
}

static int hex4(const char *p, const char *end) {
  if (end - p < 4)
    return -1;
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= c - '0';
    else if (c >= 'a' && c <= 'f')
      v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v |= c - 'A' + 10;
    else
      return -1;
  }
  return v;
}

static size_t utf8_encode(char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* s is just after an opening quote.  Decodes the string: when it has no
 * escape, *val points into the input; otherwise into out, which must hold
 * end - s bytes (a decoded string is never longer than its source).  As
 * Go's decoder, a lone surrogate becomes U+FFFD.  Returns the position
 * after the closing quote, NULL when malformed. */
static const char *json_string(const char *s, const char *end, char *out, const char **val, size_t *len) {
  const char *q = memchr(s, '"', (size_t)(end - s));
  if (q == NULL)
    return NULL;
  const char *b = memchr(s, '\\', (size_t)(q - s));
  if (b == NULL) {
    *val = s;
    *len = (size_t)(q - s);
    return q + 1;
  }
  char *o = out;
  for (;;) {
    memcpy(o, s, (size_t)(b - s));
    o += b - s;
    s = b + 1;
    if (s >= end)
      return NULL;
    switch (*s++) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '/': *o++ = '/'; break;
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u': {
      int cp = hex4(s, end);
      if (cp < 0)
        return NULL;
      s += 4;
      if (cp >= 0xD800 && cp < 0xDC00) {
        int lo = end - s >= 6 && s[0] == '\\' && s[1] == 'u' ? hex4(s + 2, end) : -1;
        if (lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          s += 6;
        } else {
          cp = 0xFFFD;
        }
      } else if (cp >= 0xDC00 && cp < 0xE000) {
        cp = 0xFFFD;
      }
      o += utf8_encode(o, (unsigned)cp);
      break;
    }
    default:
      return NULL;
    }
    if (s > q) { /* the quote found was an escaped one */
      q = memchr(s, '"', (size_t)(end - s));
      if (q == NULL)
        return NULL;
    }
    b = memchr(s, '\\', (size_t)(q - s));
    if (b == NULL) {
      memcpy(o, s, (size_t)(q - s));
      o += q - s;
      *val = out;
      *len = (size_t)(o - out);
      return q + 1;
    }
  }
}

/* Skips any JSON value (for keys other than log, stream and time). */
static const char *skip_value(const char *p, const char *end, int depth) {
  if (p >= end || depth > 64)
    return NULL;
  if (*p == '"') {
    for (p++; p < end; p++) {
      if (*p == '\\')
        p++;
      else if (*p == '"')
        return p + 1;
    }
    return NULL;
  }
  if (*p == '{' || *p == '[') {
    char close = *p == '{' ? '}' : ']';
    p = skip_ws(p + 1, end);
    if (p < end && *p == close)
      return p + 1;
    for (;;) {
      if (close == '}') {
        if (p >= end || *p != '"' || (p = skip_value(p, end, depth + 1)) == NULL)
          return NULL;
        p = skip_ws(p, end);
        if (p >= end || *p++ != ':')
          return NULL;
        p = skip_ws(p, end);
      }
      if ((p = skip_value(p, end, depth + 1)) == NULL)
        return NULL;
      p = skip_ws(p, end);
      if (p < end && *p == ',') {
        p = skip_ws(p + 1, end);
        continue;
      }
      return p < end && *p == close ? p + 1 : NULL;
    }
  }
  const char *start = p;
  while (p < end && (is_digit(*p) || *p == '-' || *p == '+' || *p == '.' || *p == 'e' || *p == 'E'))
    p++;
  if (p > start)
    return p;
  static const char *const words[] = {"true", "false", "null"};
  for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
    size_t n = strlen(words[i]);
    if ((size_t)(end - p) >= n && memcmp(p, words[i], n) == 0)
      return p + n;
  }
  return NULL;
}

static bool span_is(const char *s, size_t n, const char *lit) {
  return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* Decodes the string at p (a quote) into buf when its source fits in
 * size - 1 bytes; *fits is false (and the string skipped) otherwise.
 * Returns the position after it, NULL when malformed. */
static const char *short_string(const char *p, const char *end, char *buf, size_t size, const char **val,
                                size_t *len, bool *fits) {
  if (p >= end || *p != '"')
    return NULL;
  const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
  if (q == NULL)
    return NULL;
  if (memchr(p + 1, '\\', (size_t)(q - p - 1)) == NULL) { /* plain: no copy */
    *fits = true;
    *val = p + 1;
    *len = (size_t)(q - p - 1);
    return q + 1;
  }
  const char *after = skip_value(p, end, 0); /* finds the closing quote, escapes included */
  if (after == NULL)
    return NULL;
  *fits = (size_t)(after - p) <= size; /* decoded <= source without the quotes */
  if (!*fits)
    return after;
  return json_string(p + 1, after, buf, val, len);
}

/* Parses one line (without its '\n').  scratch holds at least n bytes.
 * Returns false when the line is not a complete entry with a log string,
 * a stream of stdout or stderr and a valid time. */
static bool parse_entry_any(const char *line, size_t n, char *scratch, struct entry *e);

/* The shape the monitor (and docker) writes, in that order, without
 * spaces: one pass with no key matching.  Anything else goes to the
 * general parser. */
static bool parse_entry(const char *line, size_t n, char *scratch, struct entry *e) {
  static const char head[] = "{\"log\":\"", mid[] = ",\"stream\":\"std", mid2[] = "\",\"time\":\"";
  const char *p = line, *end = line + n;
  if (n > sizeof(head) && memcmp(p, head, sizeof(head) - 1) == 0) {
    p = json_string(p + sizeof(head) - 1, end, scratch, &e->log, &e->log_len);
    if (p != NULL && end - p > (ptrdiff_t)(sizeof(mid) - 1 + 3 + sizeof(mid2) - 1 + 2) &&
        memcmp(p, mid, sizeof(mid) - 1) == 0) {
      p += sizeof(mid) - 1;
      int stream = memcmp(p, "out", 3) == 0 ? 0 : memcmp(p, "err", 3) == 0 ? 1 : -1;
      p += 3;
      if (stream >= 0 && memcmp(p, mid2, sizeof(mid2) - 1) == 0) {
        p += sizeof(mid2) - 1;
        if (end - p >= 2 && end[-1] == '}' && end[-2] == '"' &&
            memchr(p, '"', (size_t)(end - 2 - p)) == NULL &&
            parse_datetime(p, (size_t)(end - 2 - p), DT_SECOND, true, 0, &e->time)) {
          e->stream = stream;
          return true;
        }
      }
    }
  }
  return parse_entry_any(line, n, scratch, e);
}

static bool parse_entry_any(const char *line, size_t n, char *scratch, struct entry *e) {
  const char *p = line, *end = line + n;
  bool have_log = false, have_stream = false, have_time = false;
  p = skip_ws(p, end);
  if (p >= end || *p++ != '{')
    return false;
  for (;;) {
    p = skip_ws(p, end);
    if (p >= end || *p != '"')
      return false;
    const char *key;
    size_t key_len;
    char key_buf[32];
    bool fits;
    if ((p = short_string(p, end, key_buf, sizeof(key_buf), &key, &key_len, &fits)) == NULL)
      return false;
    if (!fits) { /* not one of ours */
      key = "";
      key_len = 0;
    }
    p = skip_ws(p, end);
    if (p >= end || *p++ != ':')
      return false;
    p = skip_ws(p, end);
    if (span_is(key, key_len, "log")) {
      if (p >= end || *p != '"' || (p = json_string(p + 1, end, scratch, &e->log, &e->log_len)) == NULL)
        return false;
      have_log = true;
    } else if (span_is(key, key_len, "stream")) {
      const char *v;
      size_t vl;
      char buf[64];
      if ((p = short_string(p, end, buf, sizeof(buf), &v, &vl, &fits)) == NULL || !fits)
        return false;
      if (span_is(v, vl, "stdout"))
        e->stream = 0;
      else if (span_is(v, vl, "stderr"))
        e->stream = 1;
      else
        return false;
      have_stream = true;
    } else if (span_is(key, key_len, "time")) {
      const char *v;
      size_t vl;
      char buf[128];
      if ((p = short_string(p, end, buf, sizeof(buf), &v, &vl, &fits)) == NULL || !fits ||
          !parse_datetime(v, vl, DT_SECOND, true, 0, &e->time))
        return false;
      have_time = true;
    } else if ((p = skip_value(p, end, 0)) == NULL) {
      return false;
    }
    p = skip_ws(p, end);
    if (p < end && *p == ',') {
      p++;
      continue;
    }
    if (p >= end || *p++ != '}')
      return false;
    break;
  }
  return skip_ws(p, end) == end && have_log && have_stream && have_time;
}

/* ------------------------------------------------------------------ */
/* Output.                                                             */

struct sink {
  int fd;
  char *buf;
  size_t len, cap;
};

struct printer {
  const struct logs_options *o;
  const char *path;
  struct sink sinks[2]; /* stdout, stderr; one sink when both fds are the same */
  int nsinks;
  int pending;      /* sink with buffered bytes, -1 when none */
  char *rbuf;       /* forward and backward reads */
  size_t rcap;
  char *scratch;    /* decoded log text; always rcap bytes */
  bool since_done;  /* since matched once: no more checks */
  bool until_hit;   /* an entry after until was seen: the end */
};

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN) { /* a non-blocking terminal or pipe */
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
          return -1;
        continue;
      }
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static int sink_flush(struct printer *p, int i, berth_error **err) {
  struct sink *s = &p->sinks[i];
  if (s->len > 0 && write_all(s->fd, s->buf, s->len) < 0)
    return berth_fail(err, errno, "write logs of \"%s\" to %s", p->path, i == 0 ? "stdout" : "stderr");
  s->len = 0;
  if (p->pending == i)
    p->pending = -1;
  return 0;
}

static int flush_all(struct printer *p, berth_error **err) {
  for (int i = 0; i < p->nsinks; i++)
    if (sink_flush(p, i, err) < 0)
      return -1;
  return 0;
}

static int emit(struct printer *p, const struct entry *e, berth_error **err) {
  const struct logs_options *o = p->o;
  if (o->since_ns != 0 && !p->since_done) {
    if (time_cmp_ns(&e->time, o->since_ns) < 0)
      return 0;
    p->since_done = true;
  }
  if (o->until_ns != 0 && time_cmp_ns(&e->time, o->until_ns) > 0) {
    p->until_hit = true;
    return 0;
  }
  int i = p->nsinks == 1 ? 0 : e->stream;
  struct sink *s = &p->sinks[i];
  if (s->fd < 0)
    return 0;
  if (p->pending >= 0 && p->pending != i && sink_flush(p, p->pending, err) < 0)
    return -1; /* keep the order of stdout and stderr entries */
  size_t need = e->log_len + TIME_PREFIX_MAX;
  if (s->len + need > s->cap) {
    if (sink_flush(p, i, err) < 0)
      return -1;
    if (need > s->cap) {
      char *nb = realloc(s->buf, need);
      if (nb == NULL)
        return berth_fail(err, ENOMEM, "logs of \"%s\"", p->path);
      s->buf = nb;
      s->cap = need;
    }
  }
  if (o->timestamps)
    s->len += format_time(s->buf + s->len, &e->time);
  memcpy(s->buf + s->len, e->log, e->log_len);
  s->len += e->log_len;
  p->pending = i;
  if (s->len >= OUT_FLUSH)
    return sink_flush(p, i, err);
  return 0;
}

/* Makes rbuf (and scratch, always as large) hold at least want bytes. */
static int grow_rbuf(struct printer *p, size_t want, berth_error **err) {
  if (want <= p->rcap)
    return 0;
  size_t cap = p->rcap;
  while (cap < want)
    cap *= 2;
  char *nb = realloc(p->rbuf, cap);
  if (nb == NULL)
    return berth_fail(err, ENOMEM, "read log \"%s\"", p->path);
  p->rbuf = nb;
  nb = realloc(p->scratch, cap);
  if (nb == NULL)
    return berth_fail(err, ENOMEM, "read log \"%s\"", p->path);
  p->scratch = nb;
  p->rcap = cap;
  return 0;
}

static ssize_t pread_full(int fd, char *buf, size_t len, off_t off) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, buf + done, len - done, off + (off_t)done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (n == 0)
      break;
    done += (size_t)n;
  }
  return (ssize_t)done;
}

/* Prints the complete lines of fd from *pos up to limit (-1: to EOF);
 * *pos ends after the last complete line read. */
static int print_range(struct printer *p, int fd, const char *name, off_t *pos, off_t limit, berth_error **err) {
  size_t have = 0; /* bytes of an incomplete line at rbuf[0] */
  off_t off = *pos;  /* file offset of rbuf[0] */
  while (!p->until_hit) {
    if (have == p->rcap && grow_rbuf(p, p->rcap * 2, err) < 0)
      return -1;
    size_t want = p->rcap - have;
    if (limit >= 0) {
      off_t left = limit - off - (off_t)have;
      if (left <= 0)
        break;
      if ((off_t)want > left)
        want = (size_t)left;
    }
    ssize_t n = pread(fd, p->rbuf + have, want, off + (off_t)have);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return berth_fail(err, errno, "read log \"%s\"", name);
    }
    if (n == 0)
      break;
    have += (size_t)n;
    const char *s = p->rbuf, *e = p->rbuf + have, *nl;
    while (!p->until_hit && (nl = memchr(s, '\n', (size_t)(e - s))) != NULL) {
      struct entry en;
      if (parse_entry(s, (size_t)(nl - s), p->scratch, &en) && emit(p, &en, err) < 0)
        return -1;
      s = nl + 1;
    }
    size_t used = (size_t)(s - p->rbuf);
    off += (off_t)used;
    *pos = off;
    have -= used;
    memmove(p->rbuf, s, have);
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* --tail: reading backwards.                                          */

/* Offset just after the last '\n' before size (0 when none). */
static int complete_end(struct printer *p, int fd, const char *name, off_t size, off_t *out, berth_error **err) {
  off_t hi = size;
  size_t step = 8192; /* the last line is usually short */
  while (hi > 0) {
    size_t blk = hi < (off_t)step ? (size_t)hi : step;
    step = TAIL_BLOCK;
    ssize_t n = pread_full(fd, p->rbuf, blk, hi - (off_t)blk);
    if (n < 0)
      return berth_fail(err, errno, "read log \"%s\"", name);
    if ((size_t)n < blk) { /* truncated under us */
      hi -= (off_t)blk - n;
      continue;
    }
    const char *nl = memrchr(p->rbuf, '\n', blk);
    if (nl != NULL) {
      *out = hi - (off_t)blk + (nl - p->rbuf) + 1;
      return 0;
    }
    hi -= (off_t)blk;
  }
  *out = 0;
  return 0;
}

/* Walks the complete lines of fd backwards from end (just after a '\n'),
 * counting valid entries down from *need; *start is where the counted ones
 * begin (0 when the file had fewer). */
static int tail_start(struct printer *p, int fd, const char *name, off_t end, long *need, off_t *start,
                      berth_error **err) {
  off_t lo = end, hi = end; /* rbuf holds [lo, hi); hi ends the current line */
  while (*need > 0 && hi > 0) {
    const char *nl = hi - 1 > lo ? memrchr(p->rbuf, '\n', (size_t)(hi - 1 - lo)) : NULL;
    if (nl == NULL && lo > 0) {
      size_t keep = (size_t)(hi - lo), blk = lo < TAIL_BLOCK ? (size_t)lo : TAIL_BLOCK;
      if (grow_rbuf(p, keep + blk, err) < 0)
        return -1;
      memmove(p->rbuf + blk, p->rbuf, keep);
      ssize_t n = pread_full(fd, p->rbuf, blk, lo - (off_t)blk);
      if (n < 0)
        return berth_fail(err, errno, "read log \"%s\"", name);
      if ((size_t)n < blk)
        return berth_fail(err, 0, "read log \"%s\": file truncated while reading", name);
      lo -= (off_t)blk;
      continue;
    }
    off_t ls = nl != NULL ? lo + (nl - p->rbuf) + 1 : 0;
    struct entry en;
    if (parse_entry(p->rbuf + (ls - lo), (size_t)(hi - ls - 1), p->scratch, &en))
      (*need)--;
    hi = ls;
  }
  *start = hi;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Files.                                                              */

struct log_file {
  int fd; /* -1 when missing */
  char *name;
  dev_t dev;
  ino_t ino;
  off_t size;
  off_t start, end; /* range to print */
};

static int open_log(const char *name, struct log_file *f, berth_error **err) {
  f->fd = open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (f->fd < 0) {
    if (errno == ENOENT)
      return 0;
    return berth_fail(err, errno, "open log \"%s\"", name);
  }
  struct stat st;
  if (fstat(f->fd, &st) < 0)
    return berth_fail(err, errno, "stat log \"%s\"", name);
  if (!S_ISREG(st.st_mode))
    return berth_fail(err, 0, "open log \"%s\": not a regular file", name);
  f->dev = st.st_dev;
  f->ino = st.st_ino;
  f->size = st.st_size;
  return 0;
}

static int64_t now_realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static void drain_inotify(int ifd) {
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  while (read(ifd, buf, sizeof(buf)) > 0)
    ;
}

/* Watches fd's file itself (through /proc, so a rename since it was opened
 * does not matter), falling back to the path. */
static int watch_file(int ifd, int fd, const char *path) {
  char proc[64];
  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
  int wd = inotify_add_watch(ifd, proc, IN_MODIFY);
  if (wd < 0)
    wd = inotify_add_watch(ifd, path, IN_MODIFY);
  return wd;
}

/* -f: prints what is appended to fd (PATH, read up to pos) and, after a
 * rotation (PATH renamed to PATH.1 and a new PATH created), reads the old
 * file to its end and goes on with the new one.  Ends after a final read
 * once done() says so, at the first entry after until, or once the clock
 * is past until. */
static int follow(struct printer *p, int *fdp, dev_t dev, ino_t ino, off_t pos, berth_error **err) {
  const struct logs_options *o = p->o;
  const char *path = p->path;
  cleanup_close int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  int wd = -1;
  if (ifd >= 0) {
    cleanup_free char *dir = strdup(path);
    if (dir == NULL)
      return berth_fail(err, ENOMEM, "follow log \"%s\"", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
      slash[1] = '\0';
    else if (slash != NULL)
      *slash = '\0';
    inotify_add_watch(ifd, slash != NULL ? dir : ".", IN_CREATE | IN_MOVED_TO);
    if (*fdp >= 0)
      wd = watch_file(ifd, *fdp, path);
  }
  bool final = false;
  for (;;) {
    struct stat st;
    bool rotated = false;
    if (stat(path, &st) == 0)
      rotated = *fdp < 0 || st.st_ino != ino || st.st_dev != dev;
    if (!rotated && *fdp >= 0 && fstat(*fdp, &st) == 0 && st.st_size < pos)
      pos = 0; /* truncated in place: start again from its beginning */
    if (*fdp >= 0 && print_range(p, *fdp, path, &pos, -1, err) < 0)
      return -1;
    if (flush_all(p, err) < 0)
      return -1;
    if (p->until_hit)
      return 0;
    if (rotated) {
      if (*fdp >= 0)
        close(*fdp);
      if (wd >= 0)
        inotify_rm_watch(ifd, wd);
      wd = -1;
      struct log_file f = {.fd = -1};
      if (open_log(path, &f, err) < 0) {
        if (f.fd >= 0)
          close(f.fd);
        *fdp = -1;
        return -1;
      }
      *fdp = f.fd;
      dev = f.dev;
      ino = f.ino;
      pos = 0;
      if (*fdp >= 0 && ifd >= 0)
        wd = watch_file(ifd, *fdp, path);
      continue;
    }
    if (final)
      return 0;
    if (o->until_ns != 0 && now_realtime_ns() > o->until_ns) {
      final = true; /* nothing written from now on can be before until */
      continue;
    }
    if (ifd >= 0) {
      struct pollfd pfd = {.fd = ifd, .events = POLLIN};
      int r = poll(&pfd, 1, FOLLOW_POLL_MS);
      if (r < 0 && errno != EINTR)
        return berth_fail(err, errno, "follow log \"%s\": poll", path);
      if (r > 0)
        drain_inotify(ifd);
    } else {
      struct timespec ts = {.tv_sec = 0, .tv_nsec = FOLLOW_POLL_MS * 1000000L};
      nanosleep(&ts, NULL);
    }
    if (o->done != NULL && o->done(o->done_arg))
      final = true;
  }
}

int logs_print(const char *path, const struct logs_options *opts, int out_fd, int err_fd, berth_error **err) {
  int nfiles = opts->max_file > 1 ? opts->max_file : 1;
  struct printer p = {.o = opts, .path = path, .pending = -1, .rcap = READ_BLOCK};
  struct log_file *files = calloc((size_t)nfiles, sizeof(*files));
  int r = -1;
  p.sinks[0] = (struct sink){.fd = out_fd};
  p.sinks[1] = (struct sink){.fd = err_fd};
  /* Two fds on one file (2>&1, one terminal): one buffer keeps the order
   * with no write per change of stream. */
  struct stat so, se;
  p.nsinks = out_fd == err_fd || (out_fd >= 0 && err_fd >= 0 && fstat(out_fd, &so) == 0 &&
                                  fstat(err_fd, &se) == 0 && so.st_dev == se.st_dev && so.st_ino == se.st_ino)
                 ? 1
                 : 2;
  p.rbuf = malloc(p.rcap);
  p.scratch = malloc(p.rcap);
  for (int i = 0; i < p.nsinks; i++) {
    p.sinks[i].cap = OUT_FLUSH + TIME_PREFIX_MAX;
    p.sinks[i].buf = malloc(p.sinks[i].cap);
    if (p.sinks[i].buf == NULL)
      goto oom;
  }
  if (files == NULL || p.rbuf == NULL || p.scratch == NULL)
    goto oom;
  for (int i = 0; i < nfiles; i++)
    files[i].fd = -1;

  /* Newest first (PATH, PATH.1, ...), so that a rotation while opening
   * shows up as a file seen twice (same inode), which is skipped. */
  for (int i = 0; i < nfiles; i++) {
    struct log_file *f = &files[i];
    if (i == 0)
      f->name = strdup(path);
    else if (asprintf(&f->name, "%s.%d", path, i) < 0)
      f->name = NULL;
    if (f->name == NULL)
      goto oom;
    if (open_log(f->name, f, err) < 0)
      goto out;
    for (int j = 0; j < i && f->fd >= 0; j++) {
      if (files[j].fd >= 0 && files[j].dev == f->dev && files[j].ino == f->ino) {
        close(f->fd);
        f->fd = -1;
      }
    }
  }

  /* What to print of each file: everything, or the last entries. */
  off_t follow_pos = 0;
  bool tail = opts->tail >= 0;
  long need = opts->tail;
  for (int i = 0; i < nfiles; i++) {
    struct log_file *f = &files[i];
    if (f->fd < 0)
      continue;
    if (i > 0 || tail) {
      if (complete_end(&p, f->fd, f->name, f->size, &f->end, err) < 0)
        goto out;
    } else {
      f->end = -1; /* PATH without --tail: read to EOF */
    }
    if (i == 0)
      follow_pos = f->end < 0 ? 0 : f->end;
    f->start = 0;
    if (tail) {
      if (need > 0) {
        if (tail_start(&p, f->fd, f->name, f->end, &need, &f->start, err) < 0)
          goto out;
      } else {
        f->start = f->end;
      }
    }
  }
  for (int i = nfiles - 1; i >= 0 && !p.until_hit; i--) {
    struct log_file *f = &files[i];
    if (f->fd < 0 || f->start == f->end)
      continue;
    off_t pos = f->start;
    if (print_range(&p, f->fd, f->name, &pos, f->end, err) < 0)
      goto out;
    if (i == 0)
      follow_pos = pos;
  }
  if (flush_all(&p, err) < 0)
    goto out;
  if (opts->follow && !p.until_hit) {
    if (follow(&p, &files[0].fd, files[0].dev, files[0].ino, follow_pos, err) < 0)
      goto out;
  }
  r = 0;
  goto out;
oom:
  berth_fail(err, ENOMEM, "read log \"%s\"", path);
out:
  if (files != NULL) {
    for (int i = 0; i < nfiles; i++) {
      if (files[i].fd >= 0)
        close(files[i].fd);
      free(files[i].name);
    }
    free(files);
  }
  for (int i = 0; i < 2; i++)
    free(p.sinks[i].buf);
  free(p.rbuf);
  free(p.scratch);
  return r;
}

/* ------------------------------------------------------------------ */
/* --since / --until values.                                           */

/* Go's time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?unit)+ or "0". */
static bool parse_go_duration(const char *s, int64_t *out) {
  const uint64_t max = 1ULL << 63;
  bool neg = false;
  if (*s == '-' || *s == '+')
    neg = *s++ == '-';
  if (strcmp(s, "0") == 0) {
    *out = 0;
    return true;
  }
  if (*s == '\0')
    return false;
  uint64_t total = 0;
  while (*s != '\0') {
    if (!is_digit(*s) && *s != '.')
      return false;
    uint64_t v = 0, f = 0, scale = 1;
    bool pre = false, post = false;
    for (; is_digit(*s); s++) {
      pre = true;
      if (v > max / 10)
        return false;
      v = v * 10 + (uint64_t)(*s - '0');
      if (v > max)
        return false;
    }
    if (*s == '.') {
      bool overflow = false;
      for (s++; is_digit(*s); s++) {
        post = true;
        if (overflow || f > (max - 1) / 10 || scale > max / 10) {
          overflow = true;
          continue;
        }
        f = f * 10 + (uint64_t)(*s - '0');
        scale *= 10;
      }
    }
    if (!pre && !post)
      return false;
    const char *u = s;
    while (*s != '\0' && *s != '.' && !is_digit(*s))
      s++;
    size_t ul = (size_t)(s - u);
    uint64_t unit;
    if (ul == 2 && memcmp(u, "ns", 2) == 0)
      unit = 1;
    else if ((ul == 2 && memcmp(u, "us", 2) == 0) || (ul == 3 && memcmp(u, "\xc2\xb5s", 3) == 0) ||
             (ul == 3 && memcmp(u, "\xce\xbcs", 3) == 0))
      unit = 1000;
    else if (ul == 2 && memcmp(u, "ms", 2) == 0)
      unit = 1000000;
    else if (ul == 1 && *u == 's')
      unit = NS_PER_SEC;
    else if (ul == 1 && *u == 'm')
      unit = 60 * NS_PER_SEC;
    else if (ul == 1 && *u == 'h')
      unit = 3600 * NS_PER_SEC;
    else
      return false; /* missing or unknown unit */
    if (v > max / unit)
      return false;
    v *= unit;
    if (f > 0) {
      v += (uint64_t)((unsigned __int128)f * unit / scale);
      if (v > max)
        return false;
    }
    total += v;
    if (total > max)
      return false;
  }
  if (neg)
    *out = total == max ? INT64_MIN : -(int64_t)total;
  else if (total > INT64_MAX)
    return false;
  else
    *out = (int64_t)total;
  return true;
}

static size_t count_char(const char *s, char c) {
  size_t n = 0;
  for (; *s != '\0'; s++)
    n += *s == c;
  return n;
}

static int sec_nsec_to_ns(int64_t sec, int64_t nsec, int64_t *out) {
  int64_t ns;
  if (__builtin_mul_overflow(sec, NS_PER_SEC, &ns) || __builtin_add_overflow(ns, nsec, &ns))
    return -1;
  *out = ns;
  return 0;
}

int logs_parse_time(const char *text, int64_t now_ns, int64_t *out_ns, berth_error **err) {
  if (text == NULL || *text == '\0')
    return berth_fail(err, 0, "invalid time \"\": empty value");

  /* A Go duration ("10m", "1h30m", "1.5h") is now minus that, in whole
   * seconds as docker's CLI sends it ("0" is the unix time 0). */
  int64_t d;
  if (strcmp(text, "0") != 0 && parse_go_duration(text, &d)) {
    int64_t t;
    if (__builtin_sub_overflow(now_ns, d, &t))
      return berth_fail(err, 0, "invalid time \"%s\": out of range", text);
    *out_ns = floor_div(t, NS_PER_SEC) * NS_PER_SEC;
    return 0;
  }

  /* docker's choice of layout: a value with a Z, a + or three dashes has
   * a zone, others are in the local zone (its offset now, as docker's
   * time.FixedZone(reference.Zone())). */
  bool local = strpbrk(text, "zZ+") == NULL && count_char(text, '-') != 3;
  enum dt_fields fields;
  if (strchr(text, '.') != NULL) {
    fields = DT_SECOND;
  } else if (strchr(text, 'T') != NULL) {
    size_t colons = count_char(text, ':');
    if (!local && strpbrk(text, "zZ") == NULL && colons > 0)
      colons--; /* the one in the zone offset */
    fields = colons == 0 ? DT_HOUR : colons == 1 ? DT_MINUTE : DT_SECOND;
  } else {
    fields = DT_DATE;
  }
  int local_off = 0;
  if (local) {
    time_t now_s = (time_t)floor_div(now_ns, NS_PER_SEC);
    struct tm tm;
    if (localtime_r(&now_s, &tm) != NULL)
      local_off = (int)tm.tm_gmtoff;
  }
  struct log_time t;
  if (parse_datetime(text, strlen(text), fields, !local, local_off, &t)) {
    if (sec_nsec_to_ns(t.sec, t.nsec, out_ns) < 0)
      return berth_fail(err, 0, "invalid time \"%s\": out of range", text);
    return 0;
  }
  if (strchr(text, '-') != NULL)
    return berth_fail(err, 0,
                      "invalid time \"%s\": not a date-time like 2006-01-02, 2006-01-02T15:04:05 or "
                      "2006-01-02T15:04:05.999999999Z07:00",
                      text);

  /* A unix timestamp: SECONDS[.FRACTION]. */
  const char *p = text;
  bool digits = false;
  int64_t sec = 0, nsec = 0;
  if (*p == '+')
    p++;
  for (; is_digit(*p); p++) {
    digits = true;
    if (__builtin_mul_overflow(sec, 10, &sec) || __builtin_add_overflow(sec, *p - '0', &sec))
      return berth_fail(err, 0, "invalid time \"%s\": out of range", text);
  }
  if (digits && *p == '.') {
    int n = 0;
    for (p++; is_digit(*p); p++, n++)
      if (n < 9)
        nsec = nsec * 10 + (*p - '0');
    if (n == 0)
      digits = false;
    for (; n < 9; n++)
      nsec *= 10;
  }
  if (!digits || *p != '\0')
    return berth_fail(err, 0, "invalid time \"%s\": not a date-time, a unix timestamp or a duration", text);
  if (sec_nsec_to_ns(sec, nsec, out_ns) < 0)
    return berth_fail(err, 0, "invalid time \"%s\": out of range", text);
  return 0;
}
