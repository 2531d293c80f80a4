/* linux.resources and linux.seccomp of config.json (also `update -r`). */
#include <stdint.h>

#include "runtime/spec_internal.h"
#include "util/cleanup.h"

/* Reads an optional int64 member into *out and sets *has. */
static int opt_int64(const struct json_ctx *ctx, struct json_object *obj, const char *key, bool *has, int64_t *out,
                     berth_error **err) {
  int r = json_get_int64(ctx, obj, key, out, err);
  if (r > 0)
    *has = true;
  return r < 0 ? -1 : 0;
}

static int opt_uint64(const struct json_ctx *ctx, struct json_object *obj, const char *key, bool *has,
                      uint64_t *out, berth_error **err) {
  int r = json_get_uint64(ctx, obj, key, out, err);
  if (r > 0)
    *has = true;
  return r < 0 ? -1 : 0;
}

static int opt_bool(const struct json_ctx *ctx, struct json_object *obj, const char *key, bool *has, bool *out,
                    berth_error **err) {
  int r = json_get_bool(ctx, obj, key, out, err);
  if (r > 0)
    *has = true;
  return r < 0 ? -1 : 0;
}

static int parse_memory(const struct json_ctx *ctx, struct json_object *res, struct spec_resources *r,
                        berth_error **err) {
  struct json_object *mem;
  int found = json_get_object(ctx, res, "memory", &mem, err);
  if (found <= 0)
    return found;
  char buf[CTX_BUF];
  struct json_ctx c = child_ctx(ctx, "memory", buf);
  if (opt_int64(&c, mem, "limit", &r->has_memory_limit, &r->memory_limit, err) < 0 ||
      opt_int64(&c, mem, "reservation", &r->has_memory_reservation, &r->memory_reservation, err) < 0 ||
      opt_int64(&c, mem, "swap", &r->has_memory_swap, &r->memory_swap, err) < 0 ||
      opt_int64(&c, mem, "kernel", &r->has_memory_kernel, &r->memory_kernel, err) < 0 ||
      opt_int64(&c, mem, "kernelTCP", &r->has_memory_kernel_tcp, &r->memory_kernel_tcp, err) < 0 ||
      opt_uint64(&c, mem, "swappiness", &r->has_memory_swappiness, &r->memory_swappiness, err) < 0 ||
      opt_bool(&c, mem, "disableOOMKiller", &r->has_disable_oom_killer, &r->disable_oom_killer, err) < 0 ||
      opt_bool(&c, mem, "useHierarchy", &r->has_use_hierarchy, &r->use_hierarchy, err) < 0 ||
      opt_bool(&c, mem, "checkBeforeUpdate", &r->has_check_before_update, &r->check_before_update, err) < 0)
    return -1;
  if (r->has_memory_swappiness && r->memory_swappiness > 100)
    return json_fail_err(err, &c, "swappiness", "%llu is out of range (0 to 100)",
                         (unsigned long long)r->memory_swappiness);
  if (r->has_memory_limit && r->memory_limit < -1)
    return json_fail_err(err, &c, "limit", "%lld is not a valid limit", (long long)r->memory_limit);
  if (r->has_memory_limit && r->has_memory_swap && r->memory_limit > 0 && r->memory_swap > 0 &&
      r->memory_swap < r->memory_limit)
    return json_fail_err(err, &c, "swap", "memory+swap %lld is below the memory limit %lld",
                         (long long)r->memory_swap, (long long)r->memory_limit);
  return 0;
}

static int parse_cpu(const struct json_ctx *ctx, struct json_object *res, struct spec_resources *r,
                     berth_error **err) {
  struct json_object *cpu;
  int found = json_get_object(ctx, res, "cpu", &cpu, err);
  if (found <= 0)
    return found;
  char buf[CTX_BUF];
  struct json_ctx c = child_ctx(ctx, "cpu", buf);
  if (opt_uint64(&c, cpu, "shares", &r->has_cpu_shares, &r->cpu_shares, err) < 0 ||
      opt_int64(&c, cpu, "quota", &r->has_cpu_quota, &r->cpu_quota, err) < 0 ||
      opt_uint64(&c, cpu, "burst", &r->has_cpu_burst, &r->cpu_burst, err) < 0 ||
      opt_uint64(&c, cpu, "period", &r->has_cpu_period, &r->cpu_period, err) < 0 ||
      opt_int64(&c, cpu, "realtimeRuntime", &r->has_cpu_rt_runtime, &r->cpu_rt_runtime, err) < 0 ||
      opt_uint64(&c, cpu, "realtimePeriod", &r->has_cpu_rt_period, &r->cpu_rt_period, err) < 0 ||
      opt_int64(&c, cpu, "idle", &r->has_cpu_idle, &r->cpu_idle, err) < 0 ||
      dup_string(&c, cpu, "cpus", &r->cpu_cpus, err) < 0 || dup_string(&c, cpu, "mems", &r->cpu_mems, err) < 0)
    return -1;
  if (r->has_cpu_period && r->cpu_period != 0 && (r->cpu_period < 1000 || r->cpu_period > 1000000))
    return json_fail_err(err, &c, "period", "%llu is out of range (1000 to 1000000 microseconds)",
                         (unsigned long long)r->cpu_period);
  return 0;
}

static int parse_device_rules(const struct json_ctx *ctx, struct json_object *res, struct spec_resources *r,
                              berth_error **err) {
  struct json_object *arr;
  int found = json_get_array(ctx, res, "devices", &arr, err);
  if (found <= 0)
    return found;
  size_t n = json_object_array_length(arr);
  r->devices = calloc(n ? n : 1, sizeof(*r->devices));
  if (r->devices == NULL)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  for (size_t i = 0; i < n; i++) {
    char buf[CTX_BUF];
    struct json_ctx c = index_ctx(ctx, "devices", i, buf);
    struct json_object *item = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(item, json_type_object))
      return json_fail_err(err, &c, NULL, "expected an object, got %s", json_type_phrase(item));
    struct spec_device_rule *d = &r->devices[r->n_devices++];
    d->major = d->minor = -1;
    d->type = 'a';
    strcpy(d->access, "rwm");
    bool allow_given = false;
    if (json_get_bool(&c, item, "allow", &d->allow, err) < 0)
      return -1;
    allow_given = json_object_object_get_ex(item, "allow", NULL);
    if (!allow_given)
      return json_fail_err(err, &c, "allow", "is required");
    const char *type = NULL, *access = NULL;
    if (json_get_string(&c, item, "type", &type, err) < 0 || json_get_string(&c, item, "access", &access, err) < 0 ||
        json_get_int64(&c, item, "major", &d->major, err) < 0 || json_get_int64(&c, item, "minor", &d->minor, err) < 0)
      return -1;
    if (type != NULL) {
      if (strlen(type) != 1 || strchr("acb", type[0]) == NULL)
        return json_fail_err(err, &c, "type", "unknown device type \"%s\" (a, c or b)", type);
      d->type = type[0];
    }
    if (access != NULL) {
      if (access[0] == '\0' || strlen(access) > 3 || strspn(access, "rwm") != strlen(access))
        return json_fail_err(err, &c, "access", "\"%s\" is not a combination of r, w and m", access);
      strcpy(d->access, access);
    }
  }
  return 0;
}

static int parse_throttle(const struct json_ctx *ctx, struct json_object *blkio, const char *key,
                          struct spec_throttle_device **out, size_t *count, berth_error **err) {
  struct json_object *arr;
  int found = json_get_array(ctx, blkio, key, &arr, err);
  if (found <= 0)
    return found;
  size_t n = json_object_array_length(arr);
  *out = calloc(n ? n : 1, sizeof(**out));
  if (*out == NULL)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  for (size_t i = 0; i < n; i++) {
    char buf[CTX_BUF];
    struct json_ctx c = index_ctx(ctx, key, i, buf);
    struct json_object *item = json_object_array_get_idx(arr, i);
    struct spec_throttle_device *t = &(*out)[(*count)++];
    if (!json_object_is_type(item, json_type_object))
      return json_fail_err(err, &c, NULL, "expected an object, got %s", json_type_phrase(item));
    /* found tells "absent" (0) from "already failed" (-1): err may be NULL. */
    if ((found = json_get_int64(&c, item, "major", &t->major, err)) <= 0 ||
        (found = json_get_int64(&c, item, "minor", &t->minor, err)) <= 0 ||
        (found = json_get_uint64(&c, item, "rate", &t->rate, err)) <= 0)
      return found < 0 ? -1 : json_fail_err(err, &c, NULL, "major, minor and rate are required");
  }
  return 0;
}

static int parse_blkio(const struct json_ctx *ctx, struct json_object *res, struct spec_resources *r,
                       berth_error **err) {
  struct json_object *blkio;
  int found = json_get_object(ctx, res, "blockIO", &blkio, err);
  if (found <= 0)
    return found;
  char buf[CTX_BUF];
  struct json_ctx c = child_ctx(ctx, "blockIO", buf);
  uint64_t v;
  int got;
  if ((got = json_get_uint_max(&c, blkio, "weight", 1000, &v, err)) < 0)
    return -1;
  if (got > 0) {
    r->has_blkio_weight = true;
    r->blkio_weight = (uint16_t)v;
  }
  if ((got = json_get_uint_max(&c, blkio, "leafWeight", 1000, &v, err)) < 0)
    return -1;
  if (got > 0) {
    r->has_blkio_leaf_weight = true;
    r->blkio_leaf_weight = (uint16_t)v;
  }
  struct json_object *arr;
  if ((got = json_get_array(&c, blkio, "weightDevice", &arr, err)) < 0)
    return -1;
  if (got > 0) {
    size_t n = json_object_array_length(arr);
    r->blkio_weight_device = calloc(n ? n : 1, sizeof(*r->blkio_weight_device));
    if (r->blkio_weight_device == NULL)
      return berth_fail(err, ENOMEM, "%s", ctx->origin);
    for (size_t i = 0; i < n; i++) {
      char ibuf[CTX_BUF];
      struct json_ctx ic = index_ctx(&c, "weightDevice", i, ibuf);
      struct json_object *item = json_object_array_get_idx(arr, i);
      struct spec_weight_device *w = &r->blkio_weight_device[r->n_blkio_weight_device++];
      if (!json_object_is_type(item, json_type_object))
        return json_fail_err(err, &ic, NULL, "expected an object, got %s", json_type_phrase(item));
      /* got tells "absent" (0) from "already failed" (-1): err may be NULL. */
      if ((got = json_get_int64(&ic, item, "major", &w->major, err)) <= 0 ||
          (got = json_get_int64(&ic, item, "minor", &w->minor, err)) <= 0)
        return got < 0 ? -1 : json_fail_err(err, &ic, NULL, "major and minor are required");
      if ((got = json_get_uint_max(&ic, item, "weight", 1000, &v, err)) < 0)
        return -1;
      if (got > 0) {
        w->has_weight = true;
        w->weight = (uint16_t)v;
      }
      if ((got = json_get_uint_max(&ic, item, "leafWeight", 1000, &v, err)) < 0)
        return -1;
      if (got > 0) {
        w->has_leaf_weight = true;
        w->leaf_weight = (uint16_t)v;
      }
    }
  }
  static const char *const throttle_keys[4] = {"throttleReadBpsDevice", "throttleWriteBpsDevice",
                                               "throttleReadIOPSDevice", "throttleWriteIOPSDevice"};
  for (int i = 0; i < 4; i++)
    if (parse_throttle(&c, blkio, throttle_keys[i], &r->blkio_throttle[i], &r->n_blkio_throttle[i], err) < 0)
      return -1;
  return 0;
}

static int parse_hugepages(const struct json_ctx *ctx, struct json_object *res, struct spec_resources *r,
                           berth_error **err) {
  struct json_object *arr;
  int found = json_get_array(ctx, res, "hugepageLimits", &arr, err);
  if (found <= 0)
    return found;
  size_t n = json_object_array_length(arr);
  r->hugepage_limits = calloc(n ? n : 1, sizeof(*r->hugepage_limits));
  if (r->hugepage_limits == NULL)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  for (size_t i = 0; i < n; i++) {
    char buf[CTX_BUF];
    struct json_ctx c = index_ctx(ctx, "hugepageLimits", i, buf);
    struct json_object *item = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(item, json_type_object))
      return json_fail_err(err, &c, NULL, "expected an object, got %s", json_type_phrase(item));
    struct spec_hugepage_limit *h = &r->hugepage_limits[r->n_hugepage_limits++];
    if (get_required_string(&c, item, "pageSize", &h->page_size, err) < 0)
      return -1;
    /* found tells "absent" (0) from "already failed" (-1): err may be NULL. */
    if ((found = json_get_uint64(&c, item, "limit", &h->limit, err)) <= 0)
      return found < 0 ? -1 : json_fail_err(err, &c, "limit", "is required");
    size_t len = strlen(h->page_size);
    if (len < 3 || strspn(h->page_size, "0123456789") != len - 2 ||
        (strcmp(h->page_size + len - 2, "KB") != 0 && strcmp(h->page_size + len - 2, "MB") != 0 &&
         strcmp(h->page_size + len - 2, "GB") != 0))
      return json_fail_err(err, &c, "pageSize", "\"%s\" is not a page size such as 2MB or 1GB", h->page_size);
  }
  return 0;
}

static int parse_network(const struct json_ctx *ctx, struct json_object *res, struct spec_resources *r,
                         berth_error **err) {
  struct json_object *net;
  int found = json_get_object(ctx, res, "network", &net, err);
  if (found <= 0)
    return found;
  char buf[CTX_BUF];
  struct json_ctx c = child_ctx(ctx, "network", buf);
  uint64_t v;
  int got = json_get_uint_max(&c, net, "classID", UINT32_MAX, &v, err);
  if (got < 0)
    return -1;
  if (got > 0) {
    r->has_net_class_id = true;
    r->net_class_id = (uint32_t)v;
  }
  struct json_object *arr;
  if ((got = json_get_array(&c, net, "priorities", &arr, err)) < 0)
    return -1;
  if (got == 0)
    return 0;
  size_t n = json_object_array_length(arr);
  r->net_priorities = calloc(n ? n : 1, sizeof(*r->net_priorities));
  if (r->net_priorities == NULL)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  for (size_t i = 0; i < n; i++) {
    char ibuf[CTX_BUF];
    struct json_ctx ic = index_ctx(&c, "priorities", i, ibuf);
    struct json_object *item = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(item, json_type_object))
      return json_fail_err(err, &ic, NULL, "expected an object, got %s", json_type_phrase(item));
    struct spec_key_value *kv = &r->net_priorities[r->n_net_priorities++];
    uint64_t prio = 0;
    if (get_required_string(&ic, item, "name", &kv->key, err) < 0 ||
        json_get_uint_max(&ic, item, "priority", UINT32_MAX, &prio, err) < 0)
      return -1;
    if (asprintf(&kv->value, "%llu", (unsigned long long)prio) < 0) {
      kv->value = NULL;
      return berth_fail(err, ENOMEM, "%s", ctx->origin);
    }
  }
  return 0;
}

int spec_resources_from_json(const struct json_ctx *ctx, struct json_object *res, struct spec_resources *r,
                             berth_error **err) {
  if (parse_memory(ctx, res, r, err) < 0 || parse_cpu(ctx, res, r, err) < 0 ||
      parse_device_rules(ctx, res, r, err) < 0 || parse_blkio(ctx, res, r, err) < 0 ||
      parse_hugepages(ctx, res, r, err) < 0 || parse_network(ctx, res, r, err) < 0)
    return -1;
  struct json_object *pids;
  int found = json_get_object(ctx, res, "pids", &pids, err);
  if (found < 0)
    return -1;
  if (found > 0) {
    char buf[CTX_BUF];
    struct json_ctx c = child_ctx(ctx, "pids", buf);
    if (opt_int64(&c, pids, "limit", &r->has_pids_limit, &r->pids_limit, err) < 0)
      return -1;
  }
  struct json_object *unified;
  if ((found = json_get_object(ctx, res, "unified", &unified, err)) < 0)
    return -1;
  if (found > 0) {
    size_t n = (size_t)json_object_object_length(unified);
    r->unified = calloc(n ? n : 1, sizeof(*r->unified));
    if (r->unified == NULL)
      return berth_fail(err, ENOMEM, "%s", ctx->origin);
    json_object_object_foreach(unified, key, val) {
      if (!json_object_is_type(val, json_type_string))
        return json_fail_err(err, ctx, "unified", "%s: expected a string, got %s", key, json_type_phrase(val));
      struct spec_key_value *kv = &r->unified[r->n_unified++];
      kv->key = strdup(key);
      kv->value = strdup(json_object_get_string(val));
      if (kv->key == NULL || kv->value == NULL)
        return berth_fail(err, ENOMEM, "%s", ctx->origin);
      if (strchr(key, '/') != NULL || strstr(key, "..") != NULL)
        return json_fail_err(err, ctx, "unified", "\"%s\" is not a cgroup file name", key);
    }
  }
  return 0;
}

/* ---- seccomp ---------------------------------------------------------- */

static const char *const action_names[] = {
    [SECCOMP_ACTION_KILL] = "SCMP_ACT_KILL",
    [SECCOMP_ACTION_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
    [SECCOMP_ACTION_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
    [SECCOMP_ACTION_TRAP] = "SCMP_ACT_TRAP",
    [SECCOMP_ACTION_ERRNO] = "SCMP_ACT_ERRNO",
    [SECCOMP_ACTION_TRACE] = "SCMP_ACT_TRACE",
    [SECCOMP_ACTION_ALLOW] = "SCMP_ACT_ALLOW",
    [SECCOMP_ACTION_LOG] = "SCMP_ACT_LOG",
    [SECCOMP_ACTION_NOTIFY] = "SCMP_ACT_NOTIFY",
};

static const char *const op_names[] = {
    [SECCOMP_OP_NE] = "SCMP_CMP_NE", [SECCOMP_OP_LT] = "SCMP_CMP_LT", [SECCOMP_OP_LE] = "SCMP_CMP_LE",
    [SECCOMP_OP_EQ] = "SCMP_CMP_EQ", [SECCOMP_OP_GE] = "SCMP_CMP_GE", [SECCOMP_OP_GT] = "SCMP_CMP_GT",
    [SECCOMP_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static int parse_action(const struct json_ctx *ctx, struct json_object *obj, const char *key, bool required,
                        enum spec_seccomp_action *out, berth_error **err) {
  const char *name = NULL;
  if (json_get_string(ctx, obj, key, &name, err) < 0)
    return -1;
  if (name == NULL)
    return required ? json_fail_err(err, ctx, key, "is required") : 0;
  for (size_t i = 0; i < ARRAY_SIZE(action_names); i++) {
    if (strcmp(name, action_names[i]) == 0) {
      *out = (enum spec_seccomp_action)i;
      return 0;
    }
  }
  return json_fail_err(err, ctx, key, "unknown seccomp action \"%s\"", name);
}

static int parse_seccomp_args(const struct json_ctx *ctx, struct json_object *item, struct spec_seccomp_syscall *sys,
                              berth_error **err) {
  struct json_object *arr;
  int found = json_get_array(ctx, item, "args", &arr, err);
  if (found <= 0)
    return found;
  size_t n = json_object_array_length(arr);
  sys->args = calloc(n ? n : 1, sizeof(*sys->args));
  if (sys->args == NULL)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  for (size_t i = 0; i < n; i++) {
    char buf[CTX_BUF];
    struct json_ctx c = index_ctx(ctx, "args", i, buf);
    struct json_object *a = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(a, json_type_object))
      return json_fail_err(err, &c, NULL, "expected an object, got %s", json_type_phrase(a));
    struct spec_seccomp_arg *arg = &sys->args[sys->n_args++];
    uint64_t index = 0;
    const char *op = NULL;
    /* found tells "absent" (0) from "already failed" (-1): err may be NULL.
     * value and valueTwo are optional, so only their errors stop here. */
    if ((found = json_get_uint_max(&c, a, "index", 5, &index, err)) <= 0 ||
        (found = json_get_uint64(&c, a, "value", &arg->value, err)) < 0 ||
        (found = json_get_uint64(&c, a, "valueTwo", &arg->value_two, err)) < 0 ||
        (found = json_get_string(&c, a, "op", &op, err)) <= 0)
      return found < 0 ? -1 : json_fail_err(err, &c, NULL, "index and op are required");
    arg->index = (unsigned)index;
    size_t k = 0;
    while (k < ARRAY_SIZE(op_names) && strcmp(op, op_names[k]) != 0)
      k++;
    if (k == ARRAY_SIZE(op_names))
      return json_fail_err(err, &c, "op", "unknown operator \"%s\"", op);
    arg->op = (enum spec_seccomp_op)k;
  }
  return 0;
}

int spec_seccomp_from_json(const struct json_ctx *ctx, struct json_object *obj, struct spec_seccomp *sc,
                           berth_error **err) {
  uint64_t v;
  int found;
  if (parse_action(ctx, obj, "defaultAction", true, &sc->default_action, err) < 0)
    return -1;
  if ((found = json_get_uint_max(ctx, obj, "defaultErrnoRet", 4095, &v, err)) < 0)
    return -1;
  if (found > 0) {
    sc->has_default_errno_ret = true;
    sc->default_errno_ret = (unsigned)v;
  }
  if (json_get_strv(ctx, obj, "architectures", &sc->architectures, &sc->n_architectures, err) < 0 ||
      json_get_strv(ctx, obj, "flags", &sc->flags, &sc->n_flags, err) < 0 ||
      dup_string(ctx, obj, "listenerPath", &sc->listener_path, err) < 0 ||
      dup_string(ctx, obj, "listenerMetadata", &sc->listener_metadata, err) < 0)
    return -1;
  struct json_object *arr;
  if ((found = json_get_array(ctx, obj, "syscalls", &arr, err)) < 0)
    return -1;
  bool uses_notify = sc->default_action == SECCOMP_ACTION_NOTIFY;
  if (found > 0) {
    size_t n = json_object_array_length(arr);
    sc->syscalls = calloc(n ? n : 1, sizeof(*sc->syscalls));
    if (sc->syscalls == NULL)
      return berth_fail(err, ENOMEM, "%s", ctx->origin);
    for (size_t i = 0; i < n; i++) {
      char buf[CTX_BUF];
      struct json_ctx c = index_ctx(ctx, "syscalls", i, buf);
      struct json_object *item = json_object_array_get_idx(arr, i);
      if (!json_object_is_type(item, json_type_object))
        return json_fail_err(err, &c, NULL, "expected an object, got %s", json_type_phrase(item));
      struct spec_seccomp_syscall *sys = &sc->syscalls[sc->n_syscalls++];
      if (json_get_strv(&c, item, "names", &sys->names, &sys->n_names, err) < 0 ||
          parse_action(&c, item, "action", true, &sys->action, err) < 0)
        return -1;
      if (sys->n_names == 0)
        return json_fail_err(err, &c, "names", "must name at least one system call");
      if ((found = json_get_uint_max(&c, item, "errnoRet", 4095, &v, err)) < 0)
        return -1;
      if (found > 0) {
        sys->has_errno_ret = true;
        sys->errno_ret = (unsigned)v;
      }
      if (parse_seccomp_args(&c, item, sys, err) < 0)
        return -1;
      uses_notify = uses_notify || sys->action == SECCOMP_ACTION_NOTIFY;
    }
  }
  if (uses_notify && sc->listener_path == NULL)
    return json_fail_err(err, ctx, "listenerPath", "is required when SCMP_ACT_NOTIFY is used");
  if (sc->default_action == SECCOMP_ACTION_NOTIFY)
    return json_fail_err(err, ctx, "defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
  return 0;
}
