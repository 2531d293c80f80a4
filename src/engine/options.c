/* Parsers for the values of docker's run/create flags, with the behaviour
 * and the error texts of docker 28 (CLI 28.2 and the daemon checks that
 * run at create).  Go's number syntax is reproduced where docker hands a
 * value to strconv (ParseFloat, ParseInt with base 0, Atoi, ParseBool) or
 * to time.ParseDuration, big.Rat and encoding/csv, because users type what
 * docker accepts. */
#include "engine/options.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/signals.h"
#include "util/cleanup.h"
#include "util/fs.h"

/* ---- small helpers ---------------------------------------------------- */

static int oom(berth_error **err, const char *what) {
  return berth_fail(err, ENOMEM, "%s", what);
}

static char lower(char c) {
  return (char)tolower((unsigned char)c);
}

static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/* asprintf that returns the string, NULL on ENOMEM. */
__attribute__((format(printf, 1, 2))) static char *str_printf(const char *fmt, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0)
    s = NULL;
  va_end(ap);
  return s;
}

/* strdup, lower-cased (ASCII, as the values compared are). */
static char *lower_dup(const char *s) {
  char *d = strdup(s);
  for (char *c = d; c != NULL && *c != '\0'; c++)
    *c = lower(*c);
  return d;
}

/* Length of the valid UTF-8 sequence at s, 0 when the bytes are not one. */
static size_t utf8_len(const unsigned char *s) {
  if (s[0] < 0x80)
    return 1;
  size_t n = s[0] >= 0xf5 ? 0 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
  if (n == 0)
    return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80)
      return 0;
  unsigned cp = n == 2 ? (s[0] & 0x1fu) << 6 | (s[1] & 0x3fu)
              : n == 3 ? (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu)
                       : (s[0] & 0x07u) << 18 | (s[1] & 0x3fu) << 12 | (s[2] & 0x3fu) << 6 | (s[3] & 0x3fu);
  if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return n;
}

/* Go's %q (strconv.Quote) for the ASCII and UTF-8 cases that matter in
 * error messages; when time is true, time.ParseDuration's own quoting
 * (every byte outside printable ASCII as \xHH).  NULL on ENOMEM. */
static char *quote_impl(const char *s, bool time) {
  size_t len = strlen(s);
  char *out = malloc(len * 4 + 3);
  if (out == NULL)
    return NULL;
  size_t o = 0;
  out[o++] = '"';
  for (size_t i = 0; i < len;) {
    unsigned char c = (unsigned char)s[i];
    size_t n = utf8_len((const unsigned char *)s + i);
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = (char)c;
    } else if (c >= 0x20 && (c < 0x7f || (time && c == 0x7f))) {
      out[o++] = (char)c;
    } else if (!time && n > 1) {
      memcpy(out + o, s + i, n);
      o += n;
      i += n;
      continue;
    } else if (!time && (c == '\n' || c == '\t' || c == '\r')) {
      out[o++] = '\\';
      out[o++] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
    } else {
      o += (size_t)sprintf(out + o, "\\x%02x", c);
    }
    i++;
  }
  out[o++] = '"';
  out[o] = '\0';
  return out;
}

static char *go_quote(const char *s) {
  return quote_impl(s, false);
}

/* Appends s (owned; freed on failure) to a NULL-terminated vector. */
static int strv_push(char ***v, size_t *n, char *s, berth_error **err) {
  if (s == NULL)
    return oom(err, "string vector");
  char **nv = realloc(*v, (*n + 2) * sizeof(**v));
  if (nv == NULL) {
    free(s);
    return oom(err, "string vector");
  }
  nv[(*n)++] = s;
  nv[*n] = NULL;
  *v = nv;
  return 0;
}

void options_strv_free(char **v) {
  cleanup_strvp(&v);
}

/* ---- Go's strconv ------------------------------------------------------ */

enum { GO_OK, GO_SYNTAX, GO_RANGE };

static int go_fail(berth_error **err, const char *fn, const char *text, int rc) {
  cleanup_free char *q = go_quote(text);
  return berth_fail(err, 0, "strconv.%s: parsing %s: %s", fn, q != NULL ? q : "\"\"",
                    rc == GO_RANGE ? "value out of range" : "invalid syntax");
}

/* strconv's underscoreOK: "_" only between digits (a base prefix counts). */
static bool underscore_ok(const char *s) {
  char saw = '^';
  size_t i = 0;
  if (*s == '+' || *s == '-')
    s++;
  bool hex = false;
  if (s[0] == '0' && (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = lower(s[1]) == 'x';
  }
  for (; s[i] != '\0'; i++) {
    if (is_digit(s[i]) || (hex && lower(s[i]) >= 'a' && lower(s[i]) <= 'f')) {
      saw = '0';
      continue;
    }
    if (s[i] == '_') {
      if (saw != '0')
        return false;
      saw = '_';
      continue;
    }
    if (saw == '_')
      return false;
    saw = '!';
  }
  return saw != '_';
}

/* strconv.ParseUint(s, base, bits); base 0 reads a prefix and allows "_". */
static int go_parse_uint(const char *s, int base, int bits, uint64_t *out) {
  *out = 0;
  if (*s == '\0')
    return GO_SYNTAX;
  const char *s0 = s;
  bool base0 = base == 0;
  if (base0) {
    base = 10;
    if (s[0] == '0') {
      char c = s[1] != '\0' && s[2] != '\0' ? lower(s[1]) : 0;
      base = c == 'b' ? 2 : c == 'x' ? 16 : 8;
      s += c == 'b' || c == 'o' || c == 'x' ? 2 : 1;
    }
  }
  uint64_t maxval = bits == 64 ? UINT64_MAX : (1ULL << bits) - 1;
  uint64_t cutoff = UINT64_MAX / (uint64_t)base + 1;
  bool underscores = false;
  uint64_t n = 0;
  for (; *s != '\0'; s++) {
    unsigned d;
    if (*s == '_' && base0) {
      underscores = true;
      continue;
    } else if (is_digit(*s)) {
      d = (unsigned)(*s - '0');
    } else if (lower(*s) >= 'a' && lower(*s) <= 'z') {
      d = (unsigned)(lower(*s) - 'a' + 10);
    } else {
      return GO_SYNTAX;
    }
    if (d >= (unsigned)base)
      return GO_SYNTAX;
    if (n >= cutoff) {
      *out = maxval;
      return GO_RANGE;
    }
    n *= (uint64_t)base;
    uint64_t n1 = n + d;
    if (n1 < n || n1 > maxval) {
      *out = maxval;
      return GO_RANGE;
    }
    n = n1;
  }
  if (underscores && !underscore_ok(s0))
    return GO_SYNTAX;
  *out = n;
  return GO_OK;
}

/* strconv.ParseInt(s, base, bits); Atoi is ParseInt(s, 10, 64). */
static int go_parse_int(const char *s, int base, int bits, int64_t *out) {
  *out = 0;
  if (*s == '\0')
    return GO_SYNTAX;
  bool neg = *s == '-';
  if (*s == '+' || *s == '-')
    s++;
  uint64_t un;
  int rc = go_parse_uint(s, base, bits, &un);
  if (rc != GO_OK)
    return rc;
  uint64_t cutoff = 1ULL << (bits - 1);
  if ((!neg && un >= cutoff) || (neg && un > cutoff))
    return GO_RANGE;
  *out = neg ? (int64_t)(0 - un) : (int64_t)un;
  return GO_OK;
}

static int go_atoi(const char *s, int64_t *out) {
  return go_parse_int(s, 10, 64, out);
}

static int go_parse_bool(const char *s, bool *out) {
  static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
    if (strcmp(s, yes[i]) == 0)
      return *out = true, 0;
    if (strcmp(s, no[i]) == 0)
      return *out = false, 0;
  }
  return -1;
}

/* strconv.ParseFloat(s, 64): Go's decimal and hexadecimal float syntax
 * (with "_" between digits), "inf", "infinity", "nan". */
static int go_parse_float(const char *s, double *out) {
  const char *p = s;
  if (*p == '+' || *p == '-')
    p++;
  if (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0) {
    *out = *s == '-' ? -INFINITY : INFINITY;
    return GO_OK;
  }
  if (p == s && strcasecmp(p, "nan") == 0) {
    *out = NAN;
    return GO_OK;
  }
  bool hex = p[0] == '0' && lower(p[1]) == 'x';
  if (hex)
    p += 2;
  bool digits = false, dot = false, underscores = false;
  for (;; p++) {
    if (*p == '_') {
      underscores = true;
    } else if (*p == '.' && !dot) {
      dot = true;
    } else if (is_digit(*p) || (hex && isxdigit((unsigned char)*p))) {
      digits = true;
    } else {
      break;
    }
  }
  if (!digits)
    return GO_SYNTAX;
  if (lower(*p) == (hex ? 'p' : 'e')) {
    p++;
    if (*p == '+' || *p == '-')
      p++;
    if (!is_digit(*p) && *p != '_')
      return GO_SYNTAX;
    for (; is_digit(*p) || *p == '_'; p++)
      if (*p == '_')
        underscores = true;
  } else if (hex) {
    return GO_SYNTAX; /* a hexadecimal mantissa needs a 'p' exponent */
  }
  if (*p != '\0' || (underscores && !underscore_ok(s)))
    return GO_SYNTAX;
  cleanup_free char *clean = strdup(s);
  if (clean == NULL)
    return GO_SYNTAX;
  size_t o = 0;
  for (const char *q = s; *q != '\0'; q++)
    if (*q != '_')
      clean[o++] = *q;
  clean[o] = '\0';
  errno = 0;
  *out = strtod(clean, NULL);
  if (errno == ERANGE && isinf(*out))
    return GO_RANGE;
  return GO_OK;
}

/* ---- sizes --------------------------------------------------------------- */

/* go-units parseSize: RAMInBytes (binary) or FromHumanSize (decimal). */
static int parse_size(const char *text, bool binary, int64_t *out, berth_error **err) {
  const char *sep = NULL;
  for (const char *p = text; *p != '\0'; p++)
    if (is_digit(*p) || *p == '.' || *p == ' ')
      sep = p;
  if (sep == NULL)
    return berth_fail(err, 0, "invalid size: '%s'", text);
  size_t num_len = (size_t)(sep - text) + (*sep == ' ' ? 0 : 1);
  const char *sfx = sep + 1;
  cleanup_free char *num = strndup(text, num_len);
  if (num == NULL)
    return oom(err, "size");
  double size;
  int rc = go_parse_float(num, &size);
  if (rc != GO_OK)
    return go_fail(err, "ParseFloat", num, rc);
  if (size < 0)
    return berth_fail(err, 0, "invalid size: '%s'", text);
  size_t sl = strlen(sfx);
  if (sl > 3)
    return berth_fail(err, 0, "invalid suffix: '%s'", sfx);
  char low[4] = {0};
  for (size_t i = 0; i < sl; i++)
    low[i] = lower(sfx[i]);
  if (sl > 0 && low[0] == 'b') {
    if (sl > 1)
      return berth_fail(err, 0, "invalid suffix: '%s'", low);
  } else if (sl > 0) {
    const char *units = "kmgtp";
    const char *u = strchr(units, low[0]);
    if (u == NULL || (sl == 2 && low[1] != 'b') || (sl == 3 && strcmp(low + 1, "ib") != 0))
      return berth_fail(err, 0, "invalid suffix: '%s'", low);
    int64_t mul = 1;
    for (long i = 0; i <= u - units; i++)
      mul *= binary ? 1024 : 1000;
    size *= (double)mul;
  }
  /* Go converts out-of-range floats to garbage; refuse them instead. */
  if (!isfinite(size) || size >= 9223372036854775808.0)
    return berth_fail(err, 0, "invalid size: '%s'", text);
  *out = (int64_t)size;
  return 0;
}

int options_parse_bytes(const char *text, int64_t *out, berth_error **err) {
  return parse_size(text, true, out, err);
}

/* ---- --cpus: big.Rat syntax, times 1e9, must be whole ------------------ */

#define NANO 1000000000ULL
#define MAX_NANO (NANO * NANO) /* 1e9 CPUs */

static int online_cpus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    return CPU_COUNT(&set);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

typedef unsigned __int128 u128;

/* Value in nano CPUs of an unsigned rational number; 0 ok, 1 syntax error,
 * 2 too precise, 3 too large. */
static int rat_nano(const char *s, uint64_t *nano) {
  const char *slash = strchr(s, '/');
  if (slash != NULL) {
    cleanup_free char *a = strndup(s, (size_t)(slash - s));
    uint64_t num, den;
    if (a == NULL || *a == '+' || *a == '-')
      return 1;
    int ra = go_parse_uint(a, 0, 64, &num), rb = go_parse_uint(slash + 1, 0, 64, &den);
    if (ra == GO_SYNTAX || rb == GO_SYNTAX || (rb == GO_OK && den == 0))
      return 1;
    if (ra == GO_RANGE || rb == GO_RANGE)
      return 3;
    uint64_t x = num, y = den;
    while (y != 0) {
      uint64_t t = x % y;
      x = y;
      y = t;
    }
    num /= x, den /= x;
    if (NANO % den != 0)
      return 2;
    u128 v = (u128)num * (NANO / den);
    if (v > MAX_NANO)
      return 3;
    *nano = (uint64_t)v;
    return 0;
  }
  /* big.Rat's float form: mantissa (base prefix, "."), 'e' or 'p' exponent;
   * value = m * 2^e2 * 5^e5, and nano CPUs are value * 2^9 * 5^9. */
  int base = 10;
  const char *p = s;
  if (p[0] == '0' && p[1] != '\0' && strchr("xXoObB", p[1]) != NULL) {
    base = lower(p[1]) == 'x' ? 16 : lower(p[1]) == 'o' ? 8 : 2;
    p += 2;
  }
  u128 m = 0;
  long e2 = 0, e5 = 0, zeros = 0, frac = 0;
  bool dot = false, any = false, overflow = false;
  for (;; p++) {
    int d = is_digit(*p) ? *p - '0' : isalpha((unsigned char)*p) ? lower(*p) - 'a' + 10 : 99;
    if (*p == '.' && !dot) {
      dot = true;
    } else if (d < base) {
      any = true;
      frac += dot;
      if (base == 10 && d == 0) {
        zeros += m != 0; /* trailing zeros wait; leading ones do not count */
        continue;
      }
      for (; zeros > 0; zeros--)
        overflow |= m > (u128)-1 / 10, m *= 10;
      overflow |= m > ((u128)-1 - (unsigned)d) / (unsigned)base;
      m = m * (unsigned)base + (unsigned)d;
    } else if (*p != '_') {
      break;
    }
  }
  if (!any)
    return 1;
  e2 = e5 = zeros; /* the zeros left over multiply by 10 each */
  if (base == 10)
    e2 -= frac, e5 -= frac;
  else
    e2 -= frac * (base == 16 ? 4 : base == 8 ? 3 : 1);
  char e = lower(*p);
  if (e == 'e' || e == 'p') {
    p++;
    bool eneg = *p == '-';
    if (*p == '+' || *p == '-')
      p++;
    if (!is_digit(*p))
      return 1;
    long exp = 0;
    for (; is_digit(*p) || *p == '_'; p++)
      if (*p != '_' && exp < 100000)
        exp = exp * 10 + (*p - '0');
    exp = eneg ? -exp : exp;
    e2 += exp;
    if (e == 'e')
      e5 += exp;
  }
  if (*p != '\0' || (strchr(s, '_') != NULL && !underscore_ok(s)))
    return 1;
  if (m == 0) {
    *nano = 0;
    return 0;
  }
  long a = e2 + 9, c = e5 + 9;
  if (overflow)
    return a < 0 || c < 0 ? 2 : 3;
  for (; a < 0; a++, m >>= 1)
    if (m & 1)
      return 2;
  for (; c < 0; c++, m /= 5)
    if (m % 5 != 0)
      return 2;
  for (; a > 0 && m <= MAX_NANO; a--)
    m <<= 1;
  for (; c > 0 && m <= MAX_NANO; c--)
    m *= 5;
  if (m > MAX_NANO)
    return 3;
  *nano = (uint64_t)m;
  return 0;
}

int options_parse_nano_cpus(const char *text, int64_t *out, berth_error **err) {
  const char *s = text;
  bool neg = *s == '-';
  if (*s == '+' || *s == '-')
    s++;
  uint64_t nano = 0;
  switch (rat_nano(s, &nano)) {
  case 1:
    return berth_fail(err, 0, "failed to parse %s as a rational number", text);
  case 2:
    return berth_fail(err, 0, "value is too precise");
  case 3:
    return berth_fail(err, 0, "invalid value: %s: more than 1000000000 CPUs", text);
  }
  if (neg && nano != 0) {
    int n = online_cpus();
    return berth_fail(err, 0, "Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", n, n);
  }
  *out = (int64_t)nano;
  return 0;
}

/* ---- durations and seconds --------------------------------------------- */

static int duration_fail(berth_error **err, const char *what, const char *unit, const char *text) {
  cleanup_free char *q = quote_impl(text, true);
  cleanup_free char *u = unit != NULL ? quote_impl(unit, true) : NULL;
  if (unit != NULL)
    return berth_fail(err, 0, "time: unknown unit %s in duration %s", u ? u : "", q ? q : "");
  return berth_fail(err, 0, "time: %s %s", what, q ? q : "");
}

/* time.ParseDuration */
int options_parse_duration(const char *text, int64_t *out_ns, berth_error **err) {
  static const struct {
    const char *name;
    uint64_t ns;
  } units[] = {{"ns", 1}, {"us", 1000}, {"\xc2\xb5s", 1000} /* U+00B5 */, {"\xce\xbcs", 1000} /* U+03BC */,
               {"ms", 1000000}, {"s", 1000000000ULL}, {"m", 60000000000ULL}, {"h", 3600000000000ULL}};
  const uint64_t limit = 1ULL << 63;
  bool neg = *text == '-';
  const char *s = text + (*text == '-' || *text == '+');
  uint64_t d = 0;
  if (strcmp(s, "0") == 0)
    return *out_ns = 0, 0;
  if (*s == '\0')
    goto invalid;
  while (*s != '\0') {
    uint64_t v = 0, f = 0, unit = 0;
    double scale = 1;
    const char *start = s;
    if (*s != '.' && !is_digit(*s))
      goto invalid;
    for (; is_digit(*s); s++)
      if (v > limit / 10 || (v = v * 10 + (uint64_t)(*s - '0')) > limit)
        goto invalid;
    bool digits = s != start, overflow = false;
    if (*s == '.') {
      for (start = ++s; is_digit(*s); s++) {
        uint64_t y = f * 10 + (uint64_t)(*s - '0');
        if (!overflow && !(overflow = f > (limit - 1) / 10 || y > limit))
          f = y, scale *= 10;
      }
      digits = digits || s != start;
    }
    if (!digits)
      goto invalid;
    size_t ul = 0;
    while (s[ul] != '\0' && s[ul] != '.' && !is_digit(s[ul]))
      ul++;
    if (ul == 0)
      return duration_fail(err, "missing unit in duration", NULL, text);
    for (size_t i = 0; i < ARRAY_SIZE(units); i++)
      if (strlen(units[i].name) == ul && memcmp(units[i].name, s, ul) == 0)
        unit = units[i].ns;
    if (unit == 0) {
      cleanup_free char *u = strndup(s, ul);
      return duration_fail(err, NULL, u != NULL ? u : "", text);
    }
    s += ul;
    if (v > limit / unit)
      goto invalid;
    v = v * unit + (f > 0 ? (uint64_t)((double)f * ((double)unit / scale)) : 0);
    if (v > limit || (d += v) > limit)
      goto invalid;
  }
  if (!neg && d > limit - 1)
    goto invalid;
  *out_ns = neg ? (int64_t)(0 - d) : (int64_t)d;
  return 0;
invalid:
  return duration_fail(err, "invalid duration", NULL, text);
}

int options_parse_seconds(const char *text, int *out, berth_error **err) {
  /* docker's int flags (strconv.ParseInt base 0); a trailing "s" is
   * accepted as well, so "10s" works as for podman. */
  cleanup_free char *num = strdup(text);
  if (num == NULL)
    return oom(err, "seconds");
  size_t len = strlen(num);
  if (len > 1 && num[len - 1] == 's' && is_digit(num[len - 2]))
    num[len - 1] = '\0';
  int64_t v;
  int rc = go_parse_int(num, 0, 64, &v);
  if (rc == GO_OK && (v > INT_MAX || v < INT_MIN))
    rc = GO_RANGE;
  if (rc != GO_OK)
    return go_fail(err, "ParseInt", text, rc);
  *out = (int)v;
  return 0;
}

/* ---- --ulimit ------------------------------------------------------------ */

static const char *const ulimit_names[][2] = {
    {"core", "RLIMIT_CORE"},       {"cpu", "RLIMIT_CPU"},         {"data", "RLIMIT_DATA"},
    {"fsize", "RLIMIT_FSIZE"},     {"locks", "RLIMIT_LOCKS"},     {"memlock", "RLIMIT_MEMLOCK"},
    {"msgqueue", "RLIMIT_MSGQUEUE"}, {"nice", "RLIMIT_NICE"},     {"nofile", "RLIMIT_NOFILE"},
    {"nproc", "RLIMIT_NPROC"},     {"rss", "RLIMIT_RSS"},         {"rtprio", "RLIMIT_RTPRIO"},
    {"rttime", "RLIMIT_RTTIME"},   {"sigpending", "RLIMIT_SIGPENDING"}, {"stack", "RLIMIT_STACK"},
};

static int ulimit_value(const char *s, int64_t *v, berth_error **err) {
  if (strcmp(s, "unlimited") == 0 || strcmp(s, "infinity") == 0)
    return *v = -1, 0;
  int rc = go_parse_int(s, 10, 64, v);
  if (rc != GO_OK)
    return go_fail(err, "ParseInt", s, rc);
  if (*v < -1)
    return berth_fail(err, 0, "invalid ulimit value: %s: must be -1 (unlimited) or a positive number", s);
  return 0;
}

int options_parse_ulimit(const char *text, struct ulimit *out, berth_error **err) {
  const char *eq = strchr(text, '=');
  if (eq == NULL)
    return berth_fail(err, 0, "invalid ulimit argument: %s", text);
  size_t nl = (size_t)(eq - text);
  const char *type = NULL, *name = NULL;
  for (size_t i = 0; i < ARRAY_SIZE(ulimit_names); i++)
    if (strlen(ulimit_names[i][0]) == nl && memcmp(ulimit_names[i][0], text, nl) == 0)
      name = ulimit_names[i][0], type = ulimit_names[i][1];
  if (name == NULL)
    return berth_fail(err, 0, "invalid ulimit type: %.*s", (int)nl, text);
  const char *vals = eq + 1;
  const char *colon = strchr(vals, ':');
  if (colon != NULL && strchr(colon + 1, ':') != NULL)
    return berth_fail(err, 0, "too many limit value arguments - %s, can only have up to two, `soft[:hard]`", vals);
  cleanup_free char *soft_s = strndup(vals, colon != NULL ? (size_t)(colon - vals) : strlen(vals));
  if (soft_s == NULL)
    return oom(err, "ulimit");
  int64_t soft, hard;
  if (colon != NULL && ulimit_value(colon + 1, &hard, err) < 0)
    return -1;
  if (ulimit_value(soft_s, &soft, err) < 0)
    return -1;
  if (colon == NULL)
    hard = soft;
  if (hard != -1) {
    if (soft == -1)
      return berth_fail(err, 0,
                        "ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: %lld",
                        (long long)hard);
    if (soft > hard)
      return berth_fail(err, 0, "ulimit soft limit must be less than or equal to hard limit: %lld > %lld",
                        (long long)soft, (long long)hard);
  }
  memset(out, 0, sizeof(*out));
  snprintf(out->type, sizeof(out->type), "%s", type);
  snprintf(out->name, sizeof(out->name), "%s", name);
  out->soft = soft == -1 ? UINT64_MAX : (uint64_t)soft;
  out->hard = hard == -1 ? UINT64_MAX : (uint64_t)hard;
  return 0;
}

/* ---- --restart ----------------------------------------------------------- */

const char *options_restart_name(enum restart_kind kind) {
  static const char *const names[] = {[RESTART_NO] = "no", [RESTART_ALWAYS] = "always",
                                      [RESTART_UNLESS_STOPPED] = "unless-stopped", [RESTART_ON_FAILURE] = "on-failure"};
  return (unsigned)kind < ARRAY_SIZE(names) ? names[kind] : "no";
}

int options_parse_restart(const char *text, struct restart_policy *out, berth_error **err) {
  const char *colon = strchr(text, ':');
  size_t nl = colon != NULL ? (size_t)(colon - text) : strlen(text);
  if (colon != NULL && nl == 0)
    return berth_fail(err, 0, "invalid restart policy format: no policy provided before colon");
  int64_t count = 0;
  if (colon != NULL && colon[1] != '\0' && (go_atoi(colon + 1, &count) != GO_OK || count > INT_MAX || count < INT_MIN))
    return berth_fail(err, 0, "invalid restart policy format: maximum retry count must be an integer");
  static const struct {
    const char *name;
    enum restart_kind kind;
  } kinds[] = {{"", RESTART_NO},
                            {"no", RESTART_NO},
                            {"always", RESTART_ALWAYS},
                            {"unless-stopped", RESTART_UNLESS_STOPPED},
                            {"on-failure", RESTART_ON_FAILURE}};
  for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
    if (strlen(kinds[i].name) != nl || strncmp(kinds[i].name, text, nl) != 0)
      continue;
    if (kinds[i].kind == RESTART_ON_FAILURE && count < 0)
      return berth_fail(err, 0, "invalid restart policy: maximum retry count cannot be negative");
    if (kinds[i].kind != RESTART_ON_FAILURE && nl > 0 && count != 0)
      return berth_fail(err, 0, "invalid restart policy: maximum retry count can only be used with 'on-failure'%s",
                        count < 0 ? " and cannot be negative" : "");
    out->kind = kinds[i].kind;
    out->max_retries = kinds[i].kind == RESTART_ON_FAILURE ? (int)count : 0;
    return 0;
  }
  return berth_fail(err, 0,
                    "invalid restart policy: unknown policy '%.*s'; use one of 'no', 'always', 'on-failure', or "
                    "'unless-stopped'",
                    (int)nl, text);
}

/* ---- mounts --------------------------------------------------------------- */

void options_mount_request_clear(struct mount_request *m) {
  free(m->source);
  free(m->target);
  free(m->propagation);
  free(m->tmpfs_options);
  memset(m, 0, sizeof(*m));
}

static const char *const propagations[] = {"private", "rprivate", "slave", "rslave", "shared", "rshared"};

static bool in_list(const char *s, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(s, list[i]) == 0)
      return true;
  return false;
}

/* A mount before validation, in the terms of docker's mount.Mount. */
struct mount_spec {
  const char *type; /* "bind", "volume", "tmpfs", "image", or anything typed */
  const char *source, *target;
  bool read_only;
  bool bind_opts, volume_opts, image_opts, tmpfs_opts;
  const char *propagation; /* NULL: default */
  bool nonrecursive, ro_nonrecursive, ro_force_recursive;
  bool no_copy;
  const char *subpath, *driver;
  bool volume_label_or_opt;
  int64_t tmpfs_size;
  uint32_t tmpfs_mode;
};

static int mount_config_fail(berth_error **err, const struct mount_spec *m, const char *fmt, const char *arg) {
  char cause[256];
  snprintf(cause, sizeof(cause), fmt, arg);
  return berth_fail(err, 0, "invalid mount config for type \"%s\": %s", m->type, cause);
}

static int path_fail(berth_error **err, const struct mount_spec *m, const char *p) {
  return berth_fail(err, 0, "invalid mount config for type \"%s\": invalid mount path: '%s' mount path must be absolute",
                    m->type, p);
}

/* moby's linuxParser.validateMountConfigImpl, minus the check that a bind
 * source exists (done at create, where the file system is looked at). */
static int validate_mount(const struct mount_spec *m, berth_error **err) {
  if (m->target == NULL || *m->target == '\0')
    return mount_config_fail(err, m, "field %s must not be empty", "Target");
  /* (a relative path never cleans to "/", so this order is moby's) */
  if (m->target[0] != '/')
    return path_fail(err, m, m->target);
  cleanup_free char *clean = fs_absolute_path(m->target, err);
  if (clean == NULL)
    return -1;
  if (strcmp(clean, "/") == 0)
    return mount_config_fail(err, m, "%s", "invalid specification: destination can't be '/'");
  bool anonymous = m->source == NULL || *m->source == '\0';
  if (strcmp(m->type, "bind") == 0) {
    if (anonymous)
      return mount_config_fail(err, m, "field %s must not be empty", "Source");
    if (m->propagation != NULL && *m->propagation != '\0' &&
        !in_list(m->propagation, propagations, ARRAY_SIZE(propagations)))
      return mount_config_fail(err, m, "invalid propagation mode: %s", m->propagation);
    if (m->volume_opts)
      return mount_config_fail(err, m, "field %s must not be specified", "VolumeOptions");
    if (m->source[0] != '/')
      return path_fail(err, m, m->source);
  } else if (strcmp(m->type, "volume") == 0) {
    if (m->bind_opts)
      return mount_config_fail(err, m, "field %s must not be specified", "BindOptions");
    if (m->read_only && anonymous)
      return mount_config_fail(err, m, "%s", "must not set ReadOnly mode when using anonymous volumes");
  } else if (strcmp(m->type, "tmpfs") == 0) {
    if (m->bind_opts)
      return mount_config_fail(err, m, "field %s must not be specified", "BindOptions");
    if (!anonymous)
      return mount_config_fail(err, m, "field %s must not be specified", "Source");
  } else if (strcmp(m->type, "image") == 0) {
    if (m->bind_opts)
      return mount_config_fail(err, m, "field %s must not be specified", "BindOptions");
    if (anonymous)
      return mount_config_fail(err, m, "field %s must not be empty", "Source");
  } else {
    return mount_config_fail(err, m, "%s", "mount type unknown");
  }
  return 0;
}

/* The local volume driver's name rule (moby volume/local validateName). */
static int check_volume_name(const char *name, berth_error **err) {
  if (strlen(name) == 1)
    return berth_fail(err, 0, "create %s: volume name is too short, names should be at least two alphanumeric characters",
                      name);
  bool ok = isalnum((unsigned char)name[0]) && (unsigned char)name[0] < 0x80;
  for (const char *p = name + 1; ok && *p != '\0'; p++)
    ok = ((unsigned char)*p < 0x80 && isalnum((unsigned char)*p)) || *p == '_' || *p == '.' || *p == '-';
  if (!ok) {
    cleanup_free char *q = go_quote(name);
    return berth_fail(err, 0,
                      "create %s: %s includes invalid characters for a local volume name, only "
                      "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use "
                      "absolute path",
                      name, q != NULL ? q : name);
  }
  return 0;
}

/* Validated spec -> request.  Refuses what berth cannot carry out. */
static int finish_mount(const struct mount_spec *m, struct mount_request *out, berth_error **err) {
  if (validate_mount(m, err) < 0)
    return -1;
  if (strcmp(m->type, "image") == 0)
    return berth_fail(err, 0, "mount type \"image\" is not supported");
  if (m->nonrecursive || m->ro_force_recursive)
    return berth_fail(err, 0, "bind-recursive=%s is not supported", m->nonrecursive ? "disabled" : "readonly");
  if (m->subpath != NULL)
    return berth_fail(err, 0, "volume-subpath is not supported");
  if (m->driver != NULL && *m->driver != '\0' && strcmp(m->driver, "local") != 0)
    return berth_fail(err, 0, "volume driver \"%s\" is not supported: only local is", m->driver);
  if (m->volume_label_or_opt)
    return berth_fail(err, 0, "volume-label and volume-opt are not supported");
  bool volume = strcmp(m->type, "volume") == 0, bind = strcmp(m->type, "bind") == 0;
  if (volume && m->source != NULL && *m->source != '\0' && check_volume_name(m->source, err) < 0)
    return -1;
  struct mount_request r = {0};
  r.kind = bind ? MOUNT_BIND : volume ? MOUNT_VOLUME : MOUNT_TMPFS;
  if ((r.target = fs_absolute_path(m->target, err)) == NULL)
    return -1;
  if (bind) {
    r.source = fs_absolute_path(m->source, err);
    r.propagation = strdup(m->propagation != NULL && *m->propagation != '\0' ? m->propagation : "rprivate");
    if (r.source == NULL || r.propagation == NULL)
      goto nomem;
  } else if (volume && m->source != NULL && *m->source != '\0') {
    if ((r.source = strdup(m->source)) == NULL)
      goto nomem;
  }
  r.read_only = m->read_only;
  r.no_copy = volume && m->no_copy;
  r.tmpfs_size = r.kind == MOUNT_TMPFS ? m->tmpfs_size : 0;
  r.tmpfs_mode = r.kind == MOUNT_TMPFS ? m->tmpfs_mode : 0;
  *out = r;
  return 0;
nomem:
  options_mount_request_clear(&r);
  return oom(err, "mount");
}

/* --- -v --- */

enum { MODE_RW, MODE_LABEL, MODE_PROP, MODE_COPY, MODE_CONSISTENCY, MODE_BAD };

static int mode_class(const char *o) {
  static const char *const rw[] = {"rw", "ro", "ro-non-recursive", "ro-force-recursive", "rro"};
  static const char *const consistency[] = {"consistent", "cached", "delegated"};
  if (in_list(o, rw, ARRAY_SIZE(rw)))
    return MODE_RW;
  if (strcmp(o, "z") == 0 || strcmp(o, "Z") == 0)
    return MODE_LABEL;
  if (in_list(o, propagations, ARRAY_SIZE(propagations)))
    return MODE_PROP;
  if (strcmp(o, "nocopy") == 0)
    return MODE_COPY;
  if (in_list(o, consistency, ARRAY_SIZE(consistency)))
    return MODE_CONSISTENCY;
  return MODE_BAD;
}

/* linuxValidMountMode: a comma list, at most one of each kind. */
static bool valid_mode(const char *mode) {
  if (*mode == '\0')
    return true;
  int count[MODE_BAD] = {0};
  for (const char *p = mode;;) {
    size_t l = strcspn(p, ",");
    char o[32];
    if (l >= sizeof(o))
      return false;
    memcpy(o, p, l);
    o[l] = '\0';
    int c = mode_class(o);
    if (c == MODE_BAD || ++count[c] > 1)
      return false;
    if (p[l] == '\0')
      return true;
    p += l + 1;
  }
}

/* The docker CLI's own first pass (compose loader ParseVolume): finds
 * whether there is a source, and refuses empty sections. */
static int cli_volume_check(const char *spec, bool *has_source, berth_error **err) {
  size_t len = strlen(spec);
  *has_source = false;
  if (len == 0)
    return berth_fail(err, 0, "invalid empty volume spec");
  if (len <= 2)
    return 0;
  size_t buf_len = 0, buf_start = 0;
  bool source = false, target = false;
  for (size_t i = 0; i <= len; i++) {
    char c = spec[i];
    if (c == ':' && buf_len == 1 && isalpha((unsigned char)spec[buf_start])) {
      buf_len++; /* a Windows drive letter, "c:" */
      continue;
    }
    if (c != ':' && c != '\0') {
      if (buf_len++ == 0)
        buf_start = i;
      continue;
    }
    if (buf_len == 0)
      return berth_fail(err, 0, "invalid spec: %s: empty section between colons", spec);
    if (!source && c == '\0')
      target = true;
    else if (!source)
      source = true;
    else if (!target)
      target = true;
    else if (c == ':')
      return berth_fail(err, 0, "invalid spec: %s: too many colons", spec);
    buf_len = 0;
  }
  *has_source = source;
  return 0;
}

int options_parse_volume(const char *text, struct mount_request *out, berth_error **err) {
  bool has_source;
  if (cli_volume_check(text, &has_source, err) < 0)
    return -1;
  /* The CLI makes a source starting with "." absolute. */
  cleanup_free char *raw = NULL;
  const char *colon = strchr(text, ':');
  if (has_source && text[0] == '.' && colon != NULL) {
    cleanup_free char *host = strndup(text, (size_t)(colon - text));
    cleanup_free char *abs = host != NULL ? fs_absolute_path(host, err) : NULL;
    if (host == NULL)
      return oom(err, "volume");
    if (abs == NULL)
      return -1;
    raw = str_printf("%s%s", abs, colon);
  } else {
    raw = strdup(text);
  }
  if (raw == NULL)
    return oom(err, "volume");
  /* The daemon's linuxParser.ParseMountRaw. */
  char *parts[4] = {0};
  size_t n = 0;
  cleanup_free char *copy = strdup(raw);
  if (copy == NULL)
    return oom(err, "volume");
  for (char *p = copy;;) {
    parts[n++] = p;
    char *c = n < 4 ? strchr(p, ':') : NULL;
    if (c == NULL)
      break;
    *c = '\0';
    p = c + 1;
  }
  struct mount_spec m = {0};
  const char *mode = "";
  if (parts[0][0] == '\0' || n == 4 || (n == 2 && valid_mode(parts[1])))
    return berth_fail(err, 0, "invalid volume specification: '%s'", raw);
  if (n == 1) {
    m.target = parts[0];
  } else {
    m.source = parts[0];
    m.target = parts[1];
    if (n == 3)
      mode = parts[2];
  }
  if (!valid_mode(mode))
    return berth_fail(err, 0, "invalid mode: %s", mode);
  bool bind = m.source != NULL && m.source[0] == '/';
  m.type = bind ? "bind" : "volume";
  char prop[16] = "";
  cleanup_free char *modes = strdup(mode);
  if (modes == NULL)
    return oom(err, "volume");
  char *save = NULL;
  for (char *o = strtok_r(modes, ",", &save); o != NULL; o = strtok_r(NULL, ",", &save)) {
    int c = mode_class(o);
    if (c == MODE_RW && strcmp(o, "rw") != 0)
      m.read_only = true;
    if (c == MODE_COPY)
      m.volume_opts = m.no_copy = true;
    if (c == MODE_PROP) {
      m.bind_opts = true;
      snprintf(prop, sizeof(prop), "%s", o);
      m.propagation = prop;
    }
    if ((strncmp(o, "ro-", 3) == 0 || strcmp(o, "rro") == 0) && !bind)
      return berth_fail(err, 0, "mount mode \"%s\" requires a bind mount: invalid volume specification: '%s'", mode,
                        raw);
  }
  if (validate_mount(&m, err) < 0)
    return berth_error_wrap(err, "invalid volume specification: '%s'", raw);
  return finish_mount(&m, out, err);
}

/* --- --mount: one record of Go's encoding/csv --- */

static int csv_fail(berth_error **err, int start_line, int line, int col, bool bare) {
  const char *what = bare ? "bare \" in non-quoted-field" : "extraneous or missing \" in quoted-field";
  if (start_line != line)
    return berth_fail(err, 0, "record on line %d; parse error on line %d, column %d: %s", start_line, line, col, what);
  return berth_fail(err, 0, "parse error on line %d, column %d: %s", line, col, what);
}

static char **csv_record(const char *input, berth_error **err) {
  /* Go reads lines with "\r\n" made "\n" and a "\r" before EOF dropped. */
  cleanup_free char *text = malloc(strlen(input) + 1);
  if (text == NULL)
    return oom(err, "mount"), NULL;
  size_t tl = 0;
  for (const char *p = input; *p != '\0'; p++)
    if (!(*p == '\r' && (p[1] == '\n' || p[1] == '\0')))
      text[tl++] = *p;
  text[tl] = '\0';
  const char *p = text;
  int line = 1, col = 1;
  while (*p == '\n')
    p++, line++;
  if (*p == '\0')
    return berth_fail(err, 0, "EOF"), NULL;
  int start_line = line;
  cleanup_strv char **fields = NULL;
  size_t nf = 0;
  for (;;) {
    if (*p != '"') {
      size_t l = strcspn(p, ",\n");
      const char *q = memchr(p, '"', l);
      if (q != NULL)
        return csv_fail(err, start_line, line, col + (int)(q - p), true), NULL;
      if (strv_push(&fields, &nf, strndup(p, l), err) < 0)
        return NULL;
      if (p[l] != ',')
        break;
      p += l + 1;
      col += (int)l + 1;
      continue;
    }
    cleanup_free char *buf = malloc(strlen(p) + 1);
    if (buf == NULL)
      return oom(err, "mount"), NULL;
    size_t bl = 0;
    p++, col++;
    for (;;) {
      if (*p == '"') {
        if (p[1] == '"') {
          buf[bl++] = '"';
          p += 2, col += 2;
          continue;
        }
        if (p[1] == ',' || p[1] == '\n' || p[1] == '\0')
          break;
        return csv_fail(err, start_line, line, col, false), NULL;
      }
      if (*p == '\0')
        return csv_fail(err, start_line, line, col, false), NULL;
      buf[bl++] = *p;
      if (*p == '\n' && p[1] != '\0')
        line++, col = 1;
      else
        col++;
      p++;
    }
    buf[bl] = '\0';
    if (strv_push(&fields, &nf, TAKE_PTR(buf), err) < 0)
      return NULL;
    if (p[1] != ',')
      break;
    p += 2, col += 2;
  }
  return TAKE_PTR(fields);
}

int options_parse_mount(const char *text, struct mount_request *out, berth_error **err) {
  cleanup_strv char **fields = csv_record(text, err);
  if (fields == NULL)
    return -1;
  struct mount_spec m = {.type = "volume"};
  cleanup_free char *type = NULL, *source = NULL, *propagation = NULL;
  for (char **f = fields; *f != NULL; f++) {
    char *field = *f, *eq = strchr(field, '=');
    cleanup_free char *key = eq != NULL ? strndup(field, (size_t)(eq - field)) : strdup(field);
    for (char *c = key; c != NULL && *c != '\0'; c++)
      *c = lower(*c);
    if (key == NULL)
      return oom(err, "mount");
#define KEY(name) (strcmp(key, name) == 0)
    const char *val = eq != NULL ? eq + 1 : NULL;
    bool bad = false;
    if (val == NULL) {
      if (KEY("readonly") || KEY("ro"))
        m.read_only = true;
      else if (KEY("volume-nocopy"))
        m.volume_opts = m.no_copy = true;
      else if (KEY("bind-nonrecursive"))
        m.bind_opts = m.nonrecursive = true;
      else
        return berth_fail(err, 0, "invalid field '%s' must be a key=value pair", field);
    } else if (KEY("type")) {
      free(type);
      if ((m.type = type = lower_dup(val)) == NULL)
        return oom(err, "mount");
    } else if (KEY("source") || KEY("src")) {
      free(source);
      if ((m.source = source = val[0] == '.' ? fs_absolute_path(val, err) : strdup(val)) == NULL)
        return val[0] == '.' ? -1 : oom(err, "mount");
    } else if (KEY("target") || KEY("dst") || KEY("destination")) {
      m.target = val;
    } else if (KEY("readonly") || KEY("ro")) {
      bad = go_parse_bool(val, &m.read_only) < 0;
    } else if (KEY("bind-propagation")) {
      free(propagation);
      if ((m.propagation = propagation = lower_dup(val)) == NULL)
        return oom(err, "mount");
      m.bind_opts = true;
    } else if (KEY("bind-nonrecursive")) {
      m.bind_opts = true;
      bad = go_parse_bool(val, &m.nonrecursive) < 0;
    } else if (KEY("bind-recursive")) {
      bool disabled = strcmp(val, "disabled") == 0, writable = strcmp(val, "writable") == 0,
           readonly = strcmp(val, "readonly") == 0;
      if (!disabled && !writable && !readonly && strcmp(val, "enabled") != 0)
        return berth_fail(err, 0,
                          "invalid value for %s: %s (must be \"enabled\", \"disabled\", \"writable\", or \"readonly\")",
                          key, val);
      m.bind_opts |= disabled || writable || readonly;
      m.nonrecursive |= disabled;
      m.ro_nonrecursive |= writable;
      m.ro_force_recursive |= readonly;
    } else if (KEY("volume-nocopy")) {
      m.volume_opts = true;
      if (go_parse_bool(val, &m.no_copy) < 0)
        return berth_fail(err, 0, "invalid value for volume-nocopy: %s", val);
    } else if (KEY("volume-subpath") || KEY("volume-label") || KEY("volume-opt") || KEY("volume-driver")) {
      m.volume_opts = true;
      m.subpath = KEY("volume-subpath") ? val : m.subpath;
      m.driver = KEY("volume-driver") ? val : m.driver;
      m.volume_label_or_opt |= KEY("volume-label") || KEY("volume-opt");
    } else if (KEY("image-subpath")) {
      m.image_opts = true;
    } else if (KEY("tmpfs-size")) {
      berth_error *ignored = NULL;
      m.tmpfs_opts = true;
      bad = options_parse_bytes(val, &m.tmpfs_size, &ignored) < 0;
      berth_error_free(ignored);
    } else if (KEY("tmpfs-mode")) {
      uint64_t mode;
      m.tmpfs_opts = true;
      bad = go_parse_uint(val, 8, 32, &mode) != GO_OK;
      m.tmpfs_mode = (uint32_t)mode;
    } else if (!KEY("consistency")) { /* consistency: accepted and ignored, as on Linux */
      return berth_fail(err, 0, "unexpected key '%s' in '%s'", key, field);
    }
#undef KEY
    if (bad)
      return berth_fail(err, 0, "invalid value for %s: %s", key, val);
  }
  if (*m.type == '\0')
    return berth_fail(err, 0, "type is required");
  if (m.target == NULL || *m.target == '\0')
    return berth_fail(err, 0, "target is required");
  const char *mixed = m.volume_opts && strcmp(m.type, "volume") != 0  ? "volume"
                      : m.image_opts && strcmp(m.type, "image") != 0  ? "image"
                      : m.bind_opts && strcmp(m.type, "bind") != 0    ? "bind"
                      : m.tmpfs_opts && strcmp(m.type, "tmpfs") != 0  ? "tmpfs"
                                                                      : NULL;
  if (mixed != NULL)
    return berth_fail(err, 0, "cannot mix '%s-*' options with mount type '%s'", mixed, m.type);
  if ((m.ro_nonrecursive || m.ro_force_recursive) && !m.read_only)
    return berth_fail(err, 0, "option 'bind-recursive=%s' requires 'readonly' to be specified in conjunction",
                      m.ro_nonrecursive ? "writable" : "readonly");
  if (m.ro_force_recursive && (m.propagation == NULL || strcmp(m.propagation, "rprivate") != 0))
    return berth_fail(err, 0,
                      "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in "
                      "conjunction");
  return finish_mount(&m, out, err);
}

/* --- --tmpfs --- */

static const char *const mount_flags[] = {
    "ro",       "rw",         "suid",        "nosuid",   "dev",        "nodev",       "exec",
    "noexec",   "sync",       "async",       "dirsync",  "remount",    "mand",        "nomand",
    "atime",    "noatime",    "diratime",    "nodiratime", "bind",     "rbind",       "unbindable",
    "runbindable", "private", "rprivate",    "shared",   "rshared",    "slave",       "rslave",
    "relatime", "norelatime", "strictatime", "nostrictatime",
};

int options_parse_tmpfs(const char *text, struct mount_request *out, berth_error **err) {
  const char *colon = strchr(text, ':');
  cleanup_free char *dest = strndup(text, colon != NULL ? (size_t)(colon - text) : strlen(text));
  if (dest == NULL)
    return oom(err, "tmpfs");
  if (dest[0] != '/')
    return berth_fail(err, 0, "invalid mount path: '%s' mount path must be absolute", dest);
  cleanup_free char *clean = fs_absolute_path(dest, err);
  if (clean == NULL)
    return -1;
  if (strcmp(clean, "/") == 0)
    return berth_fail(err, 0, "invalid specification: destination can't be '/'");
  const char *data = colon != NULL ? colon + 1 : "";
  bool read_only = false, decided = false;
  static const char *const data_keys[] = {"", "size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"};
  cleanup_free char *opts = strdup(data);
  if (opts == NULL)
    return oom(err, "tmpfs");
  /* moby/sys/mount MergeTmpfsOptions, which reads them from the last one. */
  for (bool more = *opts != '\0'; more;) {
    char *comma = strrchr(opts, ',');
    char *opt = comma != NULL ? comma + 1 : opts;
    more = comma != NULL;
    if (comma != NULL)
      *comma = '\0';
    if (strcmp(opt, "defaults") == 0)
      continue;
    if (in_list(opt, mount_flags, ARRAY_SIZE(mount_flags))) {
      if (!decided && (strcmp(opt, "ro") == 0 || strcmp(opt, "rw") == 0)) {
        read_only = opt[1] == 'o';
        decided = true;
      }
      continue;
    }
    char *eq = strchr(opt, '=');
    if (eq != NULL)
      *eq = '\0';
    if (eq == NULL || !in_list(opt, data_keys, ARRAY_SIZE(data_keys))) {
      cleanup_free char *q = go_quote(opt);
      return berth_fail(err, 0, "invalid tmpfs option %s", q != NULL ? q : "\"\"");
    }
  }
  struct mount_request r = {.kind = MOUNT_TMPFS, .read_only = read_only};
  r.target = TAKE_PTR(clean);
  if (*data != '\0' && (r.tmpfs_options = strdup(data)) == NULL) {
    options_mount_request_clear(&r);
    return oom(err, "tmpfs");
  }
  *out = r;
  return 0;
}

/* ---- --device ------------------------------------------------------------ */

void options_device_request_clear(struct device_request *d) {
  free(d->host);
  free(d->container);
  memset(d, 0, sizeof(*d));
}

static bool valid_device_mode(const char *mode) {
  if (*mode == '\0' || strlen(mode) > 3)
    return false;
  bool seen[3] = {false};
  for (const char *p = mode; *p != '\0'; p++) {
    const char *c = strchr("rwm", *p);
    if (c == NULL || seen[c - "rwm"])
      return false;
    seen[c - "rwm"] = true;
  }
  return true;
}

int options_parse_device(const char *text, struct device_request *out, berth_error **err) {
  cleanup_free char *copy = strdup(text);
  if (copy == NULL)
    return oom(err, "device");
  char *parts[4] = {copy, NULL, NULL, NULL};
  size_t colons = 0;
  for (char *c = copy; colons < 3 && (c = strchr(c, ':')) != NULL; parts[++colons] = ++c)
    *c = '\0';
  if (colons > 2 || text[0] == ':' || text[0] == '\0')
    return berth_fail(err, 0, "bad format for path: %s", text);
  const char *host = parts[0], *cont = parts[0], *perms = "rwm";
  if (colons == 1) {
    if (valid_device_mode(parts[1]))
      perms = parts[1];
    else
      cont = parts[1];
  } else if (colons == 2) {
    if (!valid_device_mode(parts[2]))
      return berth_fail(err, 0, "bad mode specified: %s", parts[2]);
    cont = parts[1];
    perms = parts[2];
  }
  if (cont[0] != '/')
    return berth_fail(err, 0, "%s is not an absolute path", cont);
  size_t hl = strlen(host);
  if (hl > 0 && host[hl - 1] == '*') {
    if (cont != host)
      return berth_fail(err, 0, "device with * suffix can't have dst: %s", text);
    return berth_fail(err, 0, "device globs are not supported: %s", text);
  }
  if (host[0] != '/')
    return berth_fail(err, 0, "%s is not an absolute path", host);
  struct device_request d = {0};
  snprintf(d.perms, sizeof(d.perms), "%s", perms);
  if ((d.host = fs_absolute_path(host, err)) == NULL || (d.container = fs_absolute_path(cont, err)) == NULL) {
    options_device_request_clear(&d);
    return -1;
  }
  *out = d;
  return 0;
}

/* ---- environment and labels ------------------------------------------------ */

int options_add_env(char ***env, size_t *n, const char *text, berth_error **err) {
  const char *eq = strchr(text, '=');
  if (eq == text || *text == '\0')
    return berth_fail(err, 0, "invalid environment variable: %s", text);
  if (eq != NULL)
    return strv_push(env, n, strdup(text), err);
  const char *value = getenv(text);
  return value == NULL ? 0 : strv_push(env, n, str_printf("%s=%s", text, value), err);
}

int options_add_label(char ***labels, size_t *n, const char *text, berth_error **err) {
  size_t kl = strcspn(text, "=");
  const char *key = text + strspn(text, " \t");
  if (key >= text + kl)
    return berth_fail(err, 0, "invalid label '%s': empty name", text);
  size_t tl = (size_t)(text + kl - key);
  if (memchr(key, ' ', tl) != NULL || memchr(key, '\t', tl) != NULL)
    return berth_fail(err, 0, "label '%.*s' contains whitespaces", (int)tl, key);
  return strv_push(labels, n, str_printf("%s%s", text, text[kl] == '=' ? "" : "="), err);
}

/* Length of the Unicode white space (Go's unicode.IsSpace) at s, or 0. */
static size_t space_len(const unsigned char *s) {
  if (*s == ' ' || (*s >= '\t' && *s <= '\r'))
    return 1;
  if (s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
    return 2;
  if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
    return 3;
  if (s[0] == 0xe2 && s[1] == 0x80 && ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
    return 3;
  if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
    return 3;
  if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
    return 3;
  return 0;
}

/* One line of a key/value file (docker's pkg/kvfile); appends to v. */
static int kv_line(char ***v, size_t *n, char *line, size_t len, int lineno, bool from_environment,
                   berth_error **err) {
  for (size_t i = 0, l; i < len; i += l) {
    if ((l = utf8_len((unsigned char *)line + i)) > 0)
      continue;
    /* Go prints the bytes of the line as a list of numbers. */
    cleanup_free char *bytes = malloc(len * 4 + 1);
    if (bytes == NULL)
      return oom(err, "env file");
    size_t o = 0;
    for (size_t j = 0; j < len; j++)
      o += (size_t)sprintf(bytes + o, "%s%u", j > 0 ? " " : "", (unsigned char)line[j]);
    return berth_fail(err, 0, "invalid utf8 bytes at line %d: [%s]", lineno, bytes);
  }
  for (size_t l; len > 0 && (l = space_len((unsigned char *)line)) > 0;)
    line += l, len -= l;
  if (len == 0 || line[0] == '#')
    return 0;
  char *eq = strchr(line, '=');
  size_t kl = eq != NULL ? (size_t)(eq - line) : len;
  if (kl == 0)
    return berth_fail(err, 0, "no variable name on line '%s'", line);
  if (memchr(line, ' ', kl) != NULL || memchr(line, '\t', kl) != NULL)
    return berth_fail(err, 0, "variable '%.*s' contains whitespaces", (int)kl, line);
  if (eq != NULL)
    return strv_push(v, n, strdup(line), err);
  const char *value = from_environment ? getenv(line) : NULL;
  return value == NULL ? 0 : strv_push(v, n, str_printf("%s=%s", line, value), err);
}

int options_read_env_file(char ***env, size_t *n, const char *path, bool from_environment, berth_error **err) {
  cleanup_fclose FILE *f = fopen(path, "re");
  if (f == NULL)
    return berth_fail(err, errno, "open %s", path);
  cleanup_strv char **parsed = NULL;
  size_t np = 0, cap = 0;
  cleanup_free char *line = NULL;
  ssize_t r;
  for (int lineno = 1; (r = getline(&line, &cap, f)) >= 0; lineno++) {
    size_t len = (size_t)r;
    if (len > 0 && line[len - 1] == '\n')
      line[--len] = '\0';
    if (len > 0 && line[len - 1] == '\r')
      line[--len] = '\0';
    if (memchr(line, '\0', len) != NULL)
      return berth_fail(err, 0, "invalid env file (%s:%d): line contains a NUL byte", path, lineno);
    char *start = line;
    if (lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
      start += 3, len -= 3;
    if (kv_line(&parsed, &np, start, len, lineno, from_environment, err) < 0)
      return berth_error_wrap(err, "invalid env file (%s:%d)", path, lineno);
  }
  if (ferror(f))
    return berth_fail(err, errno != 0 ? errno : EIO, "read %s", path);
  /* Nothing is added unless the whole file is good. */
  char **nv = realloc(*env, (*n + np + 1) * sizeof(**env));
  if (nv == NULL)
    return oom(err, "env file");
  if (np > 0)
    memcpy(nv + *n, parsed, np * sizeof(*parsed));
  *n += np;
  nv[*n] = NULL;
  *env = nv;
  free(TAKE_PTR(parsed));
  return 0;
}

/* ---- signals, cpuset, user, log options ------------------------------------ */

int options_parse_signal(const char *text, int *out, berth_error **err) {
  int64_t num;
  int sig;
  if (go_atoi(text, &num) == GO_OK)
    sig = num >= 1 && num <= SIGRTMAX ? (int)num : -1;
  else if (is_digit(text[0]) || text[0] == '+' || text[0] == '-')
    sig = -1;
  else
    sig = signal_parse(text);
  if (sig < 0)
    return berth_fail(err, 0, "invalid signal: %s", text);
  *out = sig;
  return 0;
}

int options_check_cpuset(const char *text, berth_error **err) {
  if (*text == '\0')
    return 0;
  cleanup_free char *copy = strdup(text);
  if (copy == NULL)
    return oom(err, "cpuset");
  for (char *p = copy;;) {
    char *comma = strchr(p, ',');
    if (comma != NULL)
      *comma = '\0';
    char *dash = strchr(p, '-');
    int64_t lo, hi;
    if (dash != NULL)
      *dash = '\0';
    bool ok = go_atoi(p, &lo) == GO_OK && lo >= 0 && lo <= INT_MAX;
    if (ok && dash != NULL)
      ok = go_atoi(dash + 1, &hi) == GO_OK && hi >= lo && hi <= INT_MAX;
    if (!ok)
      return berth_fail(err, 0, "Invalid value %s for cpuset cpus: invalid format: %s", text, text);
    if (comma == NULL)
      return 0;
    p = comma + 1;
  }
}

static int check_user_part(const char *text, const char *part, size_t len, berth_error **err) {
  char buf[64];
  if (len == 0)
    return berth_fail(err, 0, "invalid user: '%s': empty name", text);
  if (len < sizeof(buf)) {
    memcpy(buf, part, len);
    buf[len] = '\0';
    int64_t id;
    int rc = go_atoi(buf, &id);
    if (rc == GO_RANGE || (rc == GO_OK && (id < 0 || id > INT32_MAX)))
      return berth_fail(err, 0, "invalid user: '%s': uids and gids must be in range 0-%d", text, INT32_MAX);
  }
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)part[i] <= ' ' || part[i] == 0x7f || part[i] == '/')
      return berth_fail(err, 0, "invalid user: '%s': names must not contain white space, control characters or '/'",
                        text);
  return 0;
}

int options_check_user(const char *text, berth_error **err) {
  if (*text == '\0')
    return 0;
  const char *colon = strchr(text, ':');
  if (colon != NULL && strchr(colon + 1, ':') != NULL)
    return berth_fail(err, 0, "invalid user: '%s': expected NAME|UID[:GROUP|GID]", text);
  if (check_user_part(text, text, colon != NULL ? (size_t)(colon - text) : strlen(text), err) < 0)
    return -1;
  return colon != NULL ? check_user_part(text, colon + 1, strlen(colon + 1), err) : 0;
}

int options_parse_log_opt(const char *text, struct log_options *out, berth_error **err) {
  static const char *const unsupported[] = {"compress", "labels", "labels-regex", "env", "env-regex", "tag"};
  const char *eq = strchr(text, '=');
  size_t kl = eq != NULL ? (size_t)(eq - text) : strlen(text);
  const char *val = eq != NULL ? eq + 1 : "";
  if (kl == 8 && strncmp(text, "max-size", kl) == 0) {
    int64_t size;
    if (parse_size(val, false, &size, err) < 0)
      return -1;
    if (size <= 0)
      return berth_fail(err, 0, "max-size must be a positive number");
    out->max_size = size;
    return 0;
  }
  if (kl == 8 && strncmp(text, "max-file", kl) == 0) {
    int64_t files;
    int rc = go_atoi(val, &files);
    if (rc == GO_OK && files > INT_MAX)
      rc = GO_RANGE;
    if (rc != GO_OK)
      return go_fail(err, "Atoi", val, rc);
    if (files < 1)
      return berth_fail(err, 0, "max-file cannot be less than 1");
    out->max_file = (int)files;
    return 0;
  }
  for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
    if (strlen(unsupported[i]) == kl && strncmp(text, unsupported[i], kl) == 0)
      return berth_fail(err, 0, "log opt '%.*s' of the json-file log driver is not supported", (int)kl, text);
  return berth_fail(err, 0, "unknown log opt '%.*s' for json-file log driver", (int)kl, text);
}
