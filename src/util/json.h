/* Typed reads from json-c objects with errors that name the field:
 *   config.json: process.user.uid: expected an integer, got a string
 * Each getter returns 1 when the key is present and has the right type, 0
 * when it is absent (or null; *out is left alone) and -1 with *err set when
 * it has the wrong type or range. */
#ifndef BERTH_UTIL_JSON_H
#define BERTH_UTIL_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

struct json_ctx {
  const char *origin; /* "config.json" */
  const char *path;   /* "process.user" */
};

int json_get_string(const struct json_ctx *ctx, struct json_object *obj, const char *key, const char **out,
                    berth_error **err);
int json_get_bool(const struct json_ctx *ctx, struct json_object *obj, const char *key, bool *out,
                  berth_error **err);
int json_get_int64(const struct json_ctx *ctx, struct json_object *obj, const char *key, int64_t *out,
                   berth_error **err);
int json_get_uint64(const struct json_ctx *ctx, struct json_object *obj, const char *key, uint64_t *out,
                    berth_error **err);
/* An unsigned integer in [0, max]. */
int json_get_uint_max(const struct json_ctx *ctx, struct json_object *obj, const char *key, uint64_t max,
                      uint64_t *out, berth_error **err);
int json_get_object(const struct json_ctx *ctx, struct json_object *obj, const char *key,
                    struct json_object **out, berth_error **err);
int json_get_array(const struct json_ctx *ctx, struct json_object *obj, const char *key,
                   struct json_object **out, berth_error **err);
/* An array of strings, copied into a NULL-terminated vector. */
int json_get_strv(const struct json_ctx *ctx, struct json_object *obj, const char *key, char ***out,
                  size_t *count, berth_error **err);

/* A time as docker's JSON has it (Go's RFC3339Nano in UTC, trailing zeros
 * of the fraction dropped); ns <= 0 is Go's zero time. */
struct json_object *json_new_time(int64_t ns);

/* Fails with "<origin>: <path>.<key>: <message>". */
int json_fail_err(berth_error **err, const struct json_ctx *ctx, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "a string", "an integer", ... for messages. */
const char *json_type_phrase(struct json_object *obj);

/* Parses text; errors name origin, line and what is wrong. */
struct json_object *json_parse_text(const char *text, size_t len, const char *origin, berth_error **err);

static inline void cleanup_json_putp(struct json_object **o) {
  if (*o != NULL)
    json_object_put(*o);
}
#define cleanup_json __attribute__((cleanup(cleanup_json_putp)))

#endif
