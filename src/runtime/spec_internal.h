/* Shared by the config.json parser's files (spec.c, spec_resources.c,
 * spec_mount_options.c); not for use outside src/runtime/spec*.c. */
#ifndef BERTH_RUNTIME_SPEC_INTERNAL_H
#define BERTH_RUNTIME_SPEC_INTERNAL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/spec.h"
#include "util/json.h"

/* A child context "<parent>.<key>" or "<parent>[i]" for error messages; the
 * buffer lives on the caller's stack. */
#define CTX_BUF 256
static inline struct json_ctx child_ctx(const struct json_ctx *parent, const char *key, char *buf) {
  const char *p = parent->path != NULL ? parent->path : "";
  snprintf(buf, CTX_BUF, "%s%s%s", p, p[0] != '\0' ? "." : "", key);
  return (struct json_ctx){.origin = parent->origin, .path = buf};
}

static inline struct json_ctx index_ctx(const struct json_ctx *parent, const char *key, size_t i, char *buf) {
  const char *p = parent->path != NULL ? parent->path : "";
  snprintf(buf, CTX_BUF, "%s%s%s[%zu]", p, p[0] != '\0' ? "." : "", key, i);
  return (struct json_ctx){.origin = parent->origin, .path = buf};
}

static inline int dup_string(const struct json_ctx *ctx, struct json_object *obj, const char *key, char **out,
                      berth_error **err) {
  const char *s = NULL;
  int r = json_get_string(ctx, obj, key, &s, err);
  if (r <= 0)
    return r;
  free(*out);
  *out = strdup(s);
  return *out != NULL ? 1 : berth_fail(err, ENOMEM, "%s", ctx->origin);
}

/* A required string member. */
static inline int get_required_string(const struct json_ctx *ctx, struct json_object *obj, const char *key, char **out,
                               berth_error **err) {
  int r = dup_string(ctx, obj, key, out, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return json_fail_err(err, ctx, key, "is required");
  return 0;
}

int spec_resources_from_json(const struct json_ctx *ctx, struct json_object *obj, struct spec_resources *out,
                             berth_error **err);
int spec_seccomp_from_json(const struct json_ctx *ctx, struct json_object *obj, struct spec_seccomp *out,
                           berth_error **err);
/* Decodes m->options into flags, propagation, recursive attributes and data. */
int mount_options_decode(struct spec_mount *m, berth_error **err);

#endif
