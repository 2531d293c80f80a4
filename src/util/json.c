#include "util/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  if (!json_object_is_type(val, json_type_int))
    return wrong_type(ctx, key, "an integer", val, err);
  errno = 0;
  int64_t v = json_object_get_int64(val);
  /* json-c saturates out-of-range numbers; a positive value beyond INT64_MAX
   * is read back as uint64. */
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
  struct json_tokener *tok = json_tokener_new();
  if (tok == NULL) {
    berth_fail(err, ENOMEM, "%s", origin);
    return NULL;
  }
  struct json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  if (obj == NULL || jerr != json_tokener_success) {
    size_t offset = tok->char_offset;
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
  for (size_t i = tok->char_offset; i < len; i++) {
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
