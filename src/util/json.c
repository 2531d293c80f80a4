#include "util/json.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/cleanup.h"

const char *json_type_phrase(struct json_object *obj) {
  switch (json_object_get_type(obj)) {
  case json_type_null:
    return "null";
  case json_type_boolean:
    return "a boolean";
  case json_type_double:
    return "a number";
  case json_type_int:
    return "an integer";
  case json_type_object:
    return "an object";
  case json_type_array:
    return "an array";
  case json_type_string:
    return "a string";
  }
  return "a value";
}

static int failv(berth_error **err, const struct json_ctx *ctx, const char *key, const char *fmt, va_list ap) {
  char *detail = NULL;
  if (vasprintf(&detail, fmt, ap) < 0)
    detail = NULL;
  const char *path = ctx->path != NULL ? ctx->path : "";
  const char *dot = path[0] != '\0' && key != NULL ? "." : "";
  berth_fail(err, 0, "%s: %s%s%s: %s", ctx->origin, path, dot, key != NULL ? key : "",
             detail != NULL ? detail : "invalid");
  free(detail);
  return -1;
}

int json_fail_err(berth_error **err, const struct json_ctx *ctx, const char *key, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  failv(err, ctx, key, fmt, ap);
  va_end(ap);
  return -1;
}

/* json-c clamps an integer literal beyond 64 bits to INT64_MIN or UINT64_MAX
 * and leaves no trace: no errno, no tokener error (not even with
 * JSON_TOKENER_STRICT in 0.16) and no copy of the text, so a clamped value
 * cannot be told from one written as such.  It does keep the text of a number
 * with an exponent.  json_parse_text therefore appends "e0" to each integer
 * literal that does not fit (same value, now a double that keeps its text),
 * and the integer getters recognise such a double and fail. */

/* True when s[0..len) is "-?[0-9]+" outside [INT64_MIN, UINT64_MAX]. */
static bool wide_integer_literal(const char *s, size_t len) {
  size_t i = 0;
  bool neg = len > 0 && s[0] == '-';
  if (neg)
    i++;
  if (i == len)
    return false;
  uint64_t v = 0;
  bool wide = false;
  for (; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    unsigned d = (unsigned)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10)
      wide = true;
    else
      v = v * 10 + d;
  }
  return wide || (neg && v > (uint64_t)INT64_MAX + 1);
}

/* True for a double that json_parse_text made from a too-wide integer. */
static bool wide_integer(struct json_object *val) {
  if (!json_object_is_type(val, json_type_double))
    return false;
  /* A parsed double serialises as the text it was written as. */
  const char *text = json_object_to_json_string(val);
  size_t len = text != NULL ? strlen(text) : 0;
  return len > 2 && strcmp(text + len - 2, "e0") == 0 && wide_integer_literal(text, len - 2);
}

/* Copies text[0..len) to out (when out is not NULL; it has room for the
 * result and a NUL) with "e0" after each integer literal beyond 64 bits, and
 * returns how many there were.  Strings (either quote, as json-c accepts 'x')
 * and comments are skipped so that their content is never changed. */
static size_t mark_wide_integers(const char *text, size_t len, char *out) {
  size_t n = 0, o = 0;
  char quote = 0;
  for (size_t i = 0; i < len;) {
    size_t start = i;
    char c = text[i];
    if (quote != 0) {
      i++;
      if (c == '\\' && i < len)
        i++;
      else if (c == quote)
        quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
      i++;
    } else if (c == '/' && i + 1 < len && (text[i + 1] == '/' || text[i + 1] == '*')) {
      const char *end = text[i + 1] == '/' ? memchr(text + i, '\n', len - i) : NULL;
      if (text[i + 1] == '*')
        for (size_t k = i + 2; end == NULL && k + 1 < len; k++)
          if (text[k] == '*' && text[k + 1] == '/')
            end = text + k + 1;
      i = end != NULL ? (size_t)(end - text) + 1 : len;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      i++;
      while (i < len && text[i] >= '0' && text[i] <= '9')
        i++;
      /* A fraction or exponent makes it a double already. */
      bool integer = i == len || (text[i] != '.' && text[i] != 'e' && text[i] != 'E');
      if (integer && wide_integer_literal(text + start, i - start)) {
        if (out != NULL) {
          memcpy(out + o, text + start, i - start);
          memcpy(out + o + (i - start), "e0", 2);
        }
        o += i - start + 2;
        n++;
        continue;
      }
    } else {
      i++;
    }
    if (out != NULL)
      memcpy(out + o, text + start, i - start);
    o += i - start;
  }
  if (out != NULL)
    out[o] = '\0';
  return n;
}

/* Looks key up; 0 when absent or null. */
static int lookup(struct json_object *obj, const char *key, struct json_object **val) {
  if (obj == NULL || !json_object_object_get_ex(obj, key, val) || *val == NULL)
    return 0;
  return 1;
}

static int wrong_type(const struct json_ctx *ctx, const char *key, const char *want, struct json_object *val,
                      berth_error **err) {
  return json_fail_err(err, ctx, key, "expected %s, got %s", want, json_type_phrase(val));
}

int json_get_string(const struct json_ctx *ctx, struct json_object *obj, const char *key, const char **out,
                    berth_error **err) {
  struct json_object *val;
  if (!lookup(obj, key, &val))
    return 0;
  if (!json_object_is_type(val, json_type_string))
    return wrong_type(ctx, key, "a string", val, err);
  *out = json_object_get_string(val);
  return 1;
}

int json_get_bool(const struct json_ctx *ctx, struct json_object *obj, const char *key, bool *out,
                  berth_error **err) {
  struct json_object *val;
  if (!lookup(obj, key, &val))
    return 0;
  if (!json_object_is_type(val, json_type_boolean))
    return wrong_type(ctx, key, "a boolean", val, err);
  *out = json_object_get_boolean(val);
  return 1;
}

int json_get_int64(const struct json_ctx *ctx, struct json_object *obj, const char *key, int64_t *out,
                   berth_error **err) {
  struct json_object *val;
  if (!lookup(obj, key, &val))
    return 0;
  if (wide_integer(val))
    return json_fail_err(err, ctx, key, "integer out of range");
  if (!json_object_is_type(val, json_type_int))
    return wrong_type(ctx, key, "an integer", val, err);
  int64_t v = json_object_get_int64(val);
  /* json-c keeps a value in (INT64_MAX, UINT64_MAX] as a uint64 and reads it
   * back as INT64_MAX here. */
  if (v == INT64_MAX && json_object_get_uint64(val) > (uint64_t)INT64_MAX)
    return json_fail_err(err, ctx, key, "integer out of range");
  *out = v;
  return 1;
}

int json_get_uint64(const struct json_ctx *ctx, struct json_object *obj, const char *key, uint64_t *out,
                    berth_error **err) {
  struct json_object *val;
  if (!lookup(obj, key, &val))
    return 0;
  if (wide_integer(val))
    return json_fail_err(err, ctx, key, "integer out of range");
  if (!json_object_is_type(val, json_type_int))
    return wrong_type(ctx, key, "an integer", val, err);
  if (json_object_get_int64(val) < 0)
    return json_fail_err(err, ctx, key, "expected a non-negative integer, got %lld",
                         (long long)json_object_get_int64(val));
  *out = json_object_get_uint64(val);
  return 1;
}

int json_get_uint_max(const struct json_ctx *ctx, struct json_object *obj, const char *key, uint64_t max,
                      uint64_t *out, berth_error **err) {
  uint64_t v;
  int r = json_get_uint64(ctx, obj, key, &v, err);
  if (r <= 0)
    return r;
  if (v > max)
    return json_fail_err(err, ctx, key, "%llu is out of range (at most %llu)", (unsigned long long)v,
                         (unsigned long long)max);
  *out = v;
  return 1;
}

int json_get_object(const struct json_ctx *ctx, struct json_object *obj, const char *key,
                    struct json_object **out, berth_error **err) {
  struct json_object *val;
  if (!lookup(obj, key, &val))
    return 0;
  if (!json_object_is_type(val, json_type_object))
    return wrong_type(ctx, key, "an object", val, err);
  *out = val;
  return 1;
}

int json_get_array(const struct json_ctx *ctx, struct json_object *obj, const char *key,
                   struct json_object **out, berth_error **err) {
  struct json_object *val;
  if (!lookup(obj, key, &val))
    return 0;
  if (!json_object_is_type(val, json_type_array))
    return wrong_type(ctx, key, "an array", val, err);
  *out = val;
  return 1;
}

int json_get_strv(const struct json_ctx *ctx, struct json_object *obj, const char *key, char ***out,
                  size_t *count, berth_error **err) {
  struct json_object *arr;
  int r = json_get_array(ctx, obj, key, &arr, err);
  if (r <= 0)
    return r;
  size_t n = json_object_array_length(arr);
  char **v = calloc(n + 1, sizeof(char *));
  if (v == NULL)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  for (size_t i = 0; i < n; i++) {
    struct json_object *item = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(item, json_type_string)) {
      for (size_t j = 0; j < i; j++)
        free(v[j]);
      free(v);
      return json_fail_err(err, ctx, key, "item %zu: expected a string, got %s", i, json_type_phrase(item));
    }
    v[i] = strdup(json_object_get_string(item));
  }
  *out = v;
  if (count != NULL)
    *count = n;
  return 1;
}

struct json_object *json_parse_text(const char *text, size_t len, const char *origin, berth_error **err) {
  if (len > INT_MAX - 1) {
    berth_fail(err, EFBIG, "%s", origin);
    return NULL;
  }
  /* See wide_integer: a copy with too-wide integers marked, when there are
   * any.  The marks add no newline, so line numbers still hold. */
  cleanup_free char *marked = NULL;
  size_t n_wide = mark_wide_integers(text, len, NULL);
  if (n_wide > 0) {
    if (n_wide > (INT_MAX - 1 - len) / 2 || (marked = malloc(len + 2 * n_wide + 1)) == NULL) {
      berth_fail(err, ENOMEM, "%s", origin);
      return NULL;
    }
    mark_wide_integers(text, len, marked);
    text = marked;
    len += 2 * n_wide;
  }
  struct json_tokener *tok = json_tokener_new();
  if (tok == NULL) {
    berth_fail(err, ENOMEM, "%s", origin);
    return NULL;
  }
  struct json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  size_t offset = tok->char_offset;
  if (obj == NULL && jerr == json_tokener_continue) {
    /* json-c waits for a delimiter after a number or literal, so a text
     * that is just "123" or "true" is still pending: the end of the text is
     * that delimiter.  A NUL tells json-c the input is over; what is still
     * incomplete then fails with parse_eof. */
    obj = json_tokener_parse_ex(tok, "", 1);
    jerr = json_tokener_get_error(tok);
    offset = len;
    if (jerr == json_tokener_error_parse_eof)
      jerr = json_tokener_continue;
  }
  if (obj == NULL || jerr != json_tokener_success) {
    int line = 1;
    for (size_t i = 0; i < offset && i < len; i++)
      if (text[i] == '\n')
        line++;
    if (jerr == json_tokener_continue || jerr == json_tokener_success)
      berth_fail(err, 0, "%s: invalid JSON: unexpected end of input (line %d)", origin, line);
    else
      berth_fail(err, 0, "%s: invalid JSON at line %d: %s", origin, line, json_tokener_error_desc(jerr));
    if (obj != NULL)
      json_object_put(obj);
    json_tokener_free(tok);
    return NULL;
  }
  /* Anything but whitespace after the value is an error too. */
  for (size_t i = offset; i < len; i++) {
    if (text[i] != ' ' && text[i] != '\n' && text[i] != '\t' && text[i] != '\r') {
      berth_fail(err, 0, "%s: invalid JSON: trailing data after the top-level value", origin);
      json_object_put(obj);
      json_tokener_free(tok);
      return NULL;
    }
  }
  json_tokener_free(tok);
  return obj;
}

struct json_object *json_new_time(int64_t ns) {
  if (ns <= 0)
    return json_object_new_string("0001-01-01T00:00:00Z");
  time_t s = (time_t)(ns / 1000000000);
  struct tm tm;
  gmtime_r(&s, &tm);
  char date[40], frac[16] = "", text[64];
  strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
  long nanos = (long)(ns % 1000000000);
  if (nanos > 0) {
    snprintf(frac, sizeof(frac), ".%09ld", nanos);
    for (size_t n = strlen(frac); n > 1 && frac[n - 1] == '0'; n--)
      frac[n - 1] = '\0';
  }
  snprintf(text, sizeof(text), "%s%sZ", date, frac);
  return json_object_new_string(text);
}
