/* config.json -> struct spec, with every field type-checked once. */
#include "runtime/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/spec_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char *const ns_names[NS_TYPE_COUNT] = {
    [NS_PID] = "pid",   [NS_NETWORK] = "network", [NS_MOUNT] = "mount", [NS_IPC] = "ipc",
    [NS_UTS] = "uts",   [NS_USER] = "user",       [NS_CGROUP] = "cgroup", [NS_TIME] = "time",
};

static const int ns_flags[NS_TYPE_COUNT] = {
    [NS_PID] = CLONE_NEWPID, [NS_NETWORK] = CLONE_NEWNET, [NS_MOUNT] = CLONE_NEWNS,
    [NS_IPC] = CLONE_NEWIPC, [NS_UTS] = CLONE_NEWUTS,     [NS_USER] = CLONE_NEWUSER,
    [NS_CGROUP] = CLONE_NEWCGROUP, [NS_TIME] = CLONE_NEWTIME,
};

static const char *const hook_names[HOOK_KIND_COUNT] = {
    [HOOK_PRESTART] = "prestart",
    [HOOK_CREATE_RUNTIME] = "createRuntime",
    [HOOK_CREATE_CONTAINER] = "createContainer",
    [HOOK_START_CONTAINER] = "startContainer",
    [HOOK_POSTSTART] = "poststart",
    [HOOK_POSTSTOP] = "poststop",
};

const char *spec_ns_name(enum spec_ns_type type) {
  return type < NS_TYPE_COUNT ? ns_names[type] : "unknown";
}

int spec_ns_clone_flag(enum spec_ns_type type) {
  return type < NS_TYPE_COUNT ? ns_flags[type] : 0;
}

const char *spec_hook_kind_name(enum spec_hook_kind kind) {
  return kind < HOOK_KIND_COUNT ? hook_names[kind] : "unknown";
}

/* ---- process ---------------------------------------------------------- */

/* A name in config.json and the number the kernel wants for it. */
struct name_value {
  const char *name;
  int value;
};

/* The value of name in table, or -1. */
static int name_lookup(const struct name_value *table, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(name, table[i].name) == 0)
      return table[i].value;
  return -1;
}

/* ORs the values of the names in the string array obj[key] into *flags. */
static int parse_flag_names(const struct json_ctx *ctx, struct json_object *obj, const char *key,
                            const struct name_value *table, size_t n_table, uint64_t *flags, berth_error **err) {
  cleanup_strv char **names = NULL;
  size_t n = 0;
  if (json_get_strv(ctx, obj, key, &names, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    int v = name_lookup(table, n_table, names[i]);
    if (v < 0)
      return json_fail_err(err, ctx, key, "unknown flag \"%s\"", names[i]);
    *flags |= (uint64_t)v;
  }
  return 0;
}

static const struct name_value rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_rlimits(const struct json_ctx *ctx, struct json_object *proc, struct spec_process *p,
                         berth_error **err) {
  struct json_object *arr;
  int r = json_get_array(ctx, proc, "rlimits", &arr, err);
  if (r <= 0)
    return r;
  size_t n = json_object_array_length(arr);
  p->rlimits = calloc(n ? n : 1, sizeof(*p->rlimits));
  if (p->rlimits == NULL)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  for (size_t i = 0; i < n; i++) {
    char buf[CTX_BUF];
    struct json_ctx c = index_ctx(ctx, "rlimits", i, buf);
    struct json_object *item = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(item, json_type_object))
      return json_fail_err(err, &c, NULL, "expected an object, got %s", json_type_phrase(item));
    struct spec_rlimit *rl = &p->rlimits[p->n_rlimits++];
    if (get_required_string(&c, item, "type", &rl->type, err) < 0)
      return -1;
    rl->resource = name_lookup(rlimit_names, ARRAY_SIZE(rlimit_names), rl->type);
    if (rl->resource < 0)
      return json_fail_err(err, &c, "type", "unknown rlimit \"%s\"", rl->type);
    if (json_get_uint64(&c, item, "soft", &rl->soft, err) < 0 || json_get_uint64(&c, item, "hard", &rl->hard, err) < 0)
      return -1;
    if (rl->soft > rl->hard)
      return json_fail_err(err, &c, NULL, "%s soft limit %llu is above the hard limit %llu", rl->type,
                           (unsigned long long)rl->soft, (unsigned long long)rl->hard);
    for (size_t k = 0; k + 1 < p->n_rlimits; k++)
      if (p->rlimits[k].resource == rl->resource)
        return json_fail_err(err, &c, "type", "%s is given twice", rl->type);
  }
  return 0;
}

static int parse_cap_set(const struct json_ctx *ctx, struct json_object *caps, const char *key, uint64_t *mask,
                         berth_error **err) {
  cleanup_strv char **names = NULL;
  size_t n = 0;
  int r = json_get_strv(ctx, caps, key, &names, &n, err);
  if (r <= 0)
    return r;
  for (size_t i = 0; i < n; i++) {
    int cap = caps_from_name(names[i]);
    if (cap < 0)
      return json_fail_err(err, ctx, key, "unknown capability \"%s\"", names[i]);
    *mask |= 1ULL << cap;
  }
  return 0;
}

static int parse_capabilities(const struct json_ctx *ctx, struct json_object *proc, struct spec_process *p,
                              berth_error **err) {
  struct json_object *caps;
  int r = json_get_object(ctx, proc, "capabilities", &caps, err);
  if (r <= 0)
    return r;
  char buf[CTX_BUF];
  struct json_ctx c = child_ctx(ctx, "capabilities", buf);
  p->caps.present = true;
  if (parse_cap_set(&c, caps, "bounding", &p->caps.bounding, err) < 0 ||
      parse_cap_set(&c, caps, "effective", &p->caps.effective, err) < 0 ||
      parse_cap_set(&c, caps, "inheritable", &p->caps.inheritable, err) < 0 ||
      parse_cap_set(&c, caps, "permitted", &p->caps.permitted, err) < 0 ||
      parse_cap_set(&c, caps, "ambient", &p->caps.ambient, err) < 0)
    return -1;
  return 0;
}

static int parse_user(const struct json_ctx *ctx, struct json_object *proc, struct spec_process *p,
                      berth_error **err) {
  struct json_object *user;
  int r = json_get_object(ctx, proc, "user", &user, err);
  if (r <= 0)
    return r;
  char buf[CTX_BUF];
  struct json_ctx c = child_ctx(ctx, "user", buf);
  uint64_t v;
  if ((r = json_get_uint_max(&c, user, "uid", UINT32_MAX - 1, &v, err)) < 0)
    return -1;
  if (r > 0)
    p->user.uid = (uid_t)v;
  if ((r = json_get_uint_max(&c, user, "gid", UINT32_MAX - 1, &v, err)) < 0)
    return -1;
  if (r > 0)
    p->user.gid = (gid_t)v;
  if ((r = json_get_uint_max(&c, user, "umask", 0777, &v, err)) < 0)
    return -1;
  if (r > 0) {
    p->user.has_umask = true;
    p->user.umask = (mode_t)v;
  }
  if (dup_string(&c, user, "username", &p->user.username, err) < 0)
    return -1;
  struct json_object *gids;
  if ((r = json_get_array(&c, user, "additionalGids", &gids, err)) < 0)
    return -1;
  if (r > 0) {
    size_t n = json_object_array_length(gids);
    p->user.additional_gids = calloc(n ? n : 1, sizeof(gid_t));
    if (p->user.additional_gids == NULL)
      return berth_fail(err, ENOMEM, "%s", ctx->origin);
    for (size_t i = 0; i < n; i++) {
      struct json_object *g = json_object_array_get_idx(gids, i);
      if (!json_object_is_type(g, json_type_int) || json_object_get_int64(g) < 0 ||
          json_object_get_int64(g) >= UINT32_MAX)
        return json_fail_err(err, &c, "additionalGids", "item %zu: expected a gid, got %s", i,
                             json_type_phrase(g));
      p->user.additional_gids[p->user.n_additional_gids++] = (gid_t)json_object_get_int64(g);
    }
  }
  return 0;
}

/* Fields of newer runtime-specs that berth does not implement yet: asking for
 * one is an error, not a silent no-op. */
static int refuse_unsupported(const struct json_ctx *ctx, struct json_object *obj, const char *const *keys,
                              berth_error **err) {
  for (const char *const *k = keys; *k != NULL; k++) {
    struct json_object *v;
    if (json_object_object_get_ex(obj, *k, &v) && v != NULL)
      return json_fail_err(err, ctx, *k, "is not supported by berth-runtime");
  }
  return 0;
}

int spec_parse_cpu_list(const char *text, cpu_set_t *set) {
  CPU_ZERO(set);
  const char *p = text;
  if (*p == '\0')
    return -1;
  while (*p != '\0') {
    char *end;
    long lo = strtol(p, &end, 10), hi;
    if (end == p || lo < 0 || lo >= CPU_SETSIZE)
      return -1;
    hi = lo;
    if (*end == '-') {
      p = end + 1;
      hi = strtol(p, &end, 10);
      if (end == p || hi < lo || hi >= CPU_SETSIZE)
        return -1;
    }
    for (long c = lo; c <= hi; c++)
      CPU_SET((int)c, set);
    if (*end == ',')
      end++;
    else if (*end != '\0')
      return -1;
    p = end;
  }
  return 0;
}

static int parse_scheduler(const struct json_ctx *ctx, struct json_object *proc, struct spec_process *p,
                           berth_error **err) {
  static const struct name_value policies[] = {{"SCHED_OTHER", 0}, {"SCHED_FIFO", 1},  {"SCHED_RR", 2},      {"SCHED_BATCH", 3},
                  {"SCHED_ISO", 4},   {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6}},
    flags[] = {{"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},
               {"SCHED_FLAG_DL_OVERRUN", 0x04},    {"SCHED_FLAG_KEEP_POLICY", 0x08},
               {"SCHED_FLAG_KEEP_PARAMS", 0x10},   {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
               {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40}};
  struct json_object *sched;
  int r = json_get_object(ctx, proc, "scheduler", &sched, err);
  if (r <= 0)
    return r;
  char buf[CTX_BUF];
  struct json_ctx c = child_ctx(ctx, "scheduler", buf);
  const char *policy = NULL;
  if (json_get_string(&c, sched, "policy", &policy, err) < 0)
    return -1;
  if (policy == NULL)
    return json_fail_err(err, &c, "policy", "is required");
  p->sched_policy = name_lookup(policies, ARRAY_SIZE(policies), policy);
  if (p->sched_policy < 0)
    return json_fail_err(err, &c, "policy", "unknown policy \"%s\"", policy);
  int64_t nice = 0, prio = 0;
  if (json_get_int64(&c, sched, "nice", &nice, err) < 0 || json_get_int64(&c, sched, "priority", &prio, err) < 0 ||
      json_get_uint64(&c, sched, "runtime", &p->sched_runtime, err) < 0 ||
      json_get_uint64(&c, sched, "deadline", &p->sched_deadline, err) < 0 ||
      json_get_uint64(&c, sched, "period", &p->sched_period, err) < 0)
    return -1;
  if (nice < -20 || nice > 19)
    return json_fail_err(err, &c, "nice", "%lld is out of range (-20 to 19)", (long long)nice);
  if (prio < 0 || prio > 99)
    return json_fail_err(err, &c, "priority", "%lld is out of range (0 to 99)", (long long)prio);
  p->sched_nice = (int)nice;
  p->sched_priority = (int)prio;
  if (parse_flag_names(&c, sched, "flags", flags, ARRAY_SIZE(flags), &p->sched_flags, err) < 0)
    return -1;
  p->has_scheduler = true;
  return 0;
}

static int parse_process_object(const struct json_ctx *ctx, struct json_object *proc, struct spec_process *p,
                                bool need_args, berth_error **err) {
  int r;
  if (json_get_bool(ctx, proc, "terminal", &p->terminal, err) < 0)
    return -1;
  struct json_object *size;
  if ((r = json_get_object(ctx, proc, "consoleSize", &size, err)) < 0)
    return -1;
  if (r > 0) {
    char buf[CTX_BUF];
    struct json_ctx c = child_ctx(ctx, "consoleSize", buf);
    uint64_t h = 0, w = 0;
    if (json_get_uint_max(&c, size, "height", UINT16_MAX, &h, err) < 0 ||
        json_get_uint_max(&c, size, "width", UINT16_MAX, &w, err) < 0)
      return -1;
    p->has_console_size = true;
    p->console_height = (unsigned)h;
    p->console_width = (unsigned)w;
  }
  if (dup_string(ctx, proc, "cwd", &p->cwd, err) < 0)
    return -1;
  if (p->cwd == NULL)
    return json_fail_err(err, ctx, "cwd", "is required");
  if (p->cwd[0] != '/')
    return json_fail_err(err, ctx, "cwd", "\"%s\" is not an absolute path", p->cwd);
  if ((r = json_get_strv(ctx, proc, "args", &p->args, &p->n_args, err)) < 0)
    return -1;
  if (need_args && p->n_args == 0)
    return json_fail_err(err, ctx, "args", "must name the program to run");
  if (json_get_strv(ctx, proc, "env", &p->env, &p->n_env, err) < 0)
    return -1;
  for (size_t i = 0; i < p->n_env; i++)
    if (strchr(p->env[i], '=') == NULL)
      return json_fail_err(err, ctx, "env", "\"%s\" is not of the form KEY=value", p->env[i]);
  if (parse_user(ctx, proc, p, err) < 0 || parse_capabilities(ctx, proc, p, err) < 0 ||
      parse_rlimits(ctx, proc, p, err) < 0)
    return -1;
  if (json_get_bool(ctx, proc, "noNewPrivileges", &p->no_new_privileges, err) < 0)
    return -1;
  int64_t adj;
  if ((r = json_get_int64(ctx, proc, "oomScoreAdj", &adj, err)) < 0)
    return -1;
  if (r > 0) {
    if (adj < -1000 || adj > 1000)
      return json_fail_err(err, ctx, "oomScoreAdj", "%lld is out of range (-1000 to 1000)", (long long)adj);
    p->has_oom_score_adj = true;
    p->oom_score_adj = (int)adj;
  }
  if (dup_string(ctx, proc, "apparmorProfile", &p->apparmor_profile, err) < 0 ||
      dup_string(ctx, proc, "selinuxLabel", &p->selinux_label, err) < 0)
    return -1;
  struct json_object *io;
  if ((r = json_get_object(ctx, proc, "ioPriority", &io, err)) < 0)
    return -1;
  if (r > 0) {
    char buf[CTX_BUF];
    struct json_ctx c = child_ctx(ctx, "ioPriority", buf);
    const char *cls = NULL;
    int64_t prio = 0;
    if (json_get_string(&c, io, "class", &cls, err) < 0 || json_get_int64(&c, io, "priority", &prio, err) < 0)
      return -1;
    if (cls == NULL || (strcmp(cls, "IOPRIO_CLASS_RT") != 0 && strcmp(cls, "IOPRIO_CLASS_BE") != 0 &&
                        strcmp(cls, "IOPRIO_CLASS_IDLE") != 0))
      return json_fail_err(err, &c, "class", "expected IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE");
    if (prio < 0 || prio > 7)
      return json_fail_err(err, &c, "priority", "%lld is out of range (0 to 7)", (long long)prio);
    p->has_io_priority = true;
    p->io_priority_class = strcmp(cls, "IOPRIO_CLASS_RT") == 0 ? 1 : strcmp(cls, "IOPRIO_CLASS_BE") == 0 ? 2 : 3;
    p->io_priority = (int)prio;
  }
  if (parse_scheduler(ctx, proc, p, err) < 0)
    return -1;
  struct json_object *aff;
  if ((r = json_get_object(ctx, proc, "execCPUAffinity", &aff, err)) < 0)
    return -1;
  if (r > 0) {
    char buf[CTX_BUF];
    struct json_ctx c = child_ctx(ctx, "execCPUAffinity", buf);
    if (dup_string(&c, aff, "initial", &p->cpu_affinity_initial, err) < 0 ||
        dup_string(&c, aff, "final", &p->cpu_affinity_final, err) < 0)
      return -1;
    cpu_set_t set;
    if (p->cpu_affinity_initial != NULL && spec_parse_cpu_list(p->cpu_affinity_initial, &set) < 0)
      return json_fail_err(err, &c, "initial", "\"%s\" is not a CPU list", p->cpu_affinity_initial);
    if (p->cpu_affinity_final != NULL && spec_parse_cpu_list(p->cpu_affinity_final, &set) < 0)
      return json_fail_err(err, &c, "final", "\"%s\" is not a CPU list", p->cpu_affinity_final);
  }
  return 0;
}

/* ---- mounts ----------------------------------------------------------- */

static int parse_mounts(const struct json_ctx *ctx, struct json_object *root, struct spec *s, berth_error **err) {
  struct json_object *arr;
  int r = json_get_array(ctx, root, "mounts", &arr, err);
  if (r <= 0)
    return r;
  size_t n = json_object_array_length(arr);
  s->mounts = calloc(n ? n : 1, sizeof(*s->mounts));
  if (s->mounts == NULL)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  for (size_t i = 0; i < n; i++) {
    char buf[CTX_BUF];
    struct json_ctx c = index_ctx(ctx, "mounts", i, buf);
    struct json_object *item = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(item, json_type_object))
      return json_fail_err(err, &c, NULL, "expected an object, got %s", json_type_phrase(item));
    struct spec_mount *m = &s->mounts[s->n_mounts++];
    if (get_required_string(&c, item, "destination", &m->destination, err) < 0)
      return -1;
    if (m->destination[0] != '/')
      return json_fail_err(err, &c, "destination", "\"%s\" is not an absolute path", m->destination);
    if (dup_string(&c, item, "source", &m->source, err) < 0 || dup_string(&c, item, "type", &m->type, err) < 0 ||
        json_get_strv(&c, item, "options", &m->options, &m->n_options, err) < 0)
      return -1;
    if (mount_options_decode(m, err) < 0)
      return berth_error_wrap(err, "%s: %s.options", ctx->origin, c.path);
    if (m->idmap)
      return json_fail_err(err, &c, "options", "idmapped mounts are not supported");
    if (!m->bind && (m->type == NULL || m->type[0] == '\0'))
      return json_fail_err(err, &c, "type", "is required for a mount that is not a bind mount");
    if (m->bind && m->source == NULL)
      return json_fail_err(err, &c, "source", "is required for a bind mount");
    if (m->bind && m->source[0] != '/') {
      /* Relative bind sources are relative to the bundle. */
      char *abs = NULL;
      if (asprintf(&abs, "%s/%s", s->bundle, m->source) < 0)
        return berth_fail(err, ENOMEM, "%s", ctx->origin);
      free(m->source);
      m->source = abs;
    }
  }
  return 0;
}

/* ---- hooks ------------------------------------------------------------ */

static int parse_hooks(const struct json_ctx *ctx, struct json_object *root, struct spec *s, berth_error **err) {
  struct json_object *hooks;
  int r = json_get_object(ctx, root, "hooks", &hooks, err);
  if (r <= 0)
    return r;
  char hbuf[CTX_BUF];
  struct json_ctx hc = child_ctx(ctx, "hooks", hbuf);
  for (int kind = 0; kind < HOOK_KIND_COUNT; kind++) {
    struct json_object *arr;
    if ((r = json_get_array(&hc, hooks, hook_names[kind], &arr, err)) < 0)
      return -1;
    if (r == 0)
      continue;
    size_t n = json_object_array_length(arr);
    s->hooks.list[kind] = calloc(n ? n : 1, sizeof(struct spec_hook));
    if (s->hooks.list[kind] == NULL)
      return berth_fail(err, ENOMEM, "%s", ctx->origin);
    for (size_t i = 0; i < n; i++) {
      char buf[CTX_BUF];
      struct json_ctx c = index_ctx(&hc, hook_names[kind], i, buf);
      struct json_object *item = json_object_array_get_idx(arr, i);
      if (!json_object_is_type(item, json_type_object))
        return json_fail_err(err, &c, NULL, "expected an object, got %s", json_type_phrase(item));
      struct spec_hook *h = &s->hooks.list[kind][s->hooks.count[kind]++];
      if (get_required_string(&c, item, "path", &h->path, err) < 0)
        return -1;
      if (h->path[0] != '/')
        return json_fail_err(err, &c, "path", "\"%s\" is not an absolute path", h->path);
      if (json_get_strv(&c, item, "args", &h->args, NULL, err) < 0 ||
          json_get_strv(&c, item, "env", &h->env, NULL, err) < 0)
        return -1;
      int64_t t;
      if ((r = json_get_int64(&c, item, "timeout", &t, err)) < 0)
        return -1;
      if (r > 0) {
        if (t <= 0 || t > INT32_MAX)
          return json_fail_err(err, &c, "timeout", "must be a positive number of seconds, got %lld", (long long)t);
        h->has_timeout = true;
        h->timeout = (int)t;
      }
    }
  }
  return 0;
}

/* ---- linux ------------------------------------------------------------ */

static int parse_namespaces(const struct json_ctx *ctx, struct json_object *lnx, struct spec_linux *l,
                            berth_error **err) {
  struct json_object *arr;
  int r = json_get_array(ctx, lnx, "namespaces", &arr, err);
  if (r <= 0)
    return r;
  size_t n = json_object_array_length(arr);
  for (size_t i = 0; i < n; i++) {
    char buf[CTX_BUF];
    struct json_ctx c = index_ctx(ctx, "namespaces", i, buf);
    struct json_object *item = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(item, json_type_object))
      return json_fail_err(err, &c, NULL, "expected an object, got %s", json_type_phrase(item));
    const char *type = NULL;
    if (json_get_string(&c, item, "type", &type, err) < 0)
      return -1;
    if (type == NULL)
      return json_fail_err(err, &c, "type", "is required");
    int t = -1;
    for (int k = 0; k < NS_TYPE_COUNT; k++)
      if (strcmp(type, ns_names[k]) == 0)
        t = k;
    if (t < 0)
      return json_fail_err(err, &c, "type", "unknown namespace type \"%s\"", type);
    if (l->namespaces[t].present)
      return json_fail_err(err, &c, "type", "namespace \"%s\" is given twice", type);
    l->namespaces[t].present = true;
    if (dup_string(&c, item, "path", &l->namespaces[t].path, err) < 0)
      return -1;
    if (l->namespaces[t].path != NULL && l->namespaces[t].path[0] != '/')
      return json_fail_err(err, &c, "path", "\"%s\" is not an absolute path", l->namespaces[t].path);
  }
  return 0;
}

static int parse_id_mappings(const struct json_ctx *ctx, struct json_object *obj, const char *key,
                             struct spec_id_mapping **out, size_t *count, berth_error **err) {
  struct json_object *arr;
  int r = json_get_array(ctx, obj, key, &arr, err);
  if (r <= 0)
    return r;
  size_t n = json_object_array_length(arr);
  *out = calloc(n ? n : 1, sizeof(**out));
  if (*out == NULL)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  for (size_t i = 0; i < n; i++) {
    char buf[CTX_BUF];
    struct json_ctx c = index_ctx(ctx, key, i, buf);
    struct json_object *item = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(item, json_type_object))
      return json_fail_err(err, &c, NULL, "expected an object, got %s", json_type_phrase(item));
    uint64_t cid, hid, size;
    /* got tells "absent" (0) from "already failed" (-1): err may be NULL. */
    int got;
    if ((got = json_get_uint_max(&c, item, "containerID", UINT32_MAX, &cid, err)) <= 0 ||
        (got = json_get_uint_max(&c, item, "hostID", UINT32_MAX, &hid, err)) <= 0 ||
        (got = json_get_uint_max(&c, item, "size", UINT32_MAX, &size, err)) <= 0)
      return got < 0 ? -1 : json_fail_err(err, &c, NULL, "containerID, hostID and size are required");
    (*out)[(*count)++] = (struct spec_id_mapping){(uint32_t)cid, (uint32_t)hid, (uint32_t)size};
  }
  return 0;
}

static int parse_devices(const struct json_ctx *ctx, struct json_object *lnx, struct spec_linux *l,
                         berth_error **err) {
  struct json_object *arr;
  int r = json_get_array(ctx, lnx, "devices", &arr, err);
  if (r <= 0)
    return r;
  size_t n = json_object_array_length(arr);
  l->devices = calloc(n ? n : 1, sizeof(*l->devices));
  if (l->devices == NULL)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  for (size_t i = 0; i < n; i++) {
    char buf[CTX_BUF];
    struct json_ctx c = index_ctx(ctx, "devices", i, buf);
    struct json_object *item = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(item, json_type_object))
      return json_fail_err(err, &c, NULL, "expected an object, got %s", json_type_phrase(item));
    struct spec_device *d = &l->devices[l->n_devices++];
    cleanup_free char *type = NULL;
    if (get_required_string(&c, item, "path", &d->path, err) < 0 || get_required_string(&c, item, "type", &type, err) < 0)
      return -1;
    if (d->path[0] != '/')
      return json_fail_err(err, &c, "path", "\"%s\" is not an absolute path", d->path);
    if (strlen(type) != 1 || strchr("cbup", type[0]) == NULL)
      return json_fail_err(err, &c, "type", "device \"%s\": unknown type \"%s\" (c, b, u or p)", d->path, type);
    d->type = type[0];
    int rmaj = json_get_int64(&c, item, "major", &d->major, err);
    int rmin = rmaj < 0 ? -1 : json_get_int64(&c, item, "minor", &d->minor, err);
    if (rmaj < 0 || rmin < 0)
      return -1;
    if (d->type != 'p' && (rmaj == 0 || rmin == 0))
      return json_fail_err(err, &c, NULL, "device \"%s\": major and minor are required for a %c device", d->path,
                           d->type);
    uint64_t v;
    if ((r = json_get_uint_max(&c, item, "fileMode", 07777, &v, err)) < 0)
      return -1;
    if (r > 0) {
      d->has_file_mode = true;
      d->file_mode = (mode_t)v;
    }
    if ((r = json_get_uint_max(&c, item, "uid", UINT32_MAX - 1, &v, err)) < 0)
      return -1;
    if (r > 0) {
      d->has_uid = true;
      d->uid = (uid_t)v;
    }
    if ((r = json_get_uint_max(&c, item, "gid", UINT32_MAX - 1, &v, err)) < 0)
      return -1;
    if (r > 0) {
      d->has_gid = true;
      d->gid = (gid_t)v;
    }
  }
  return 0;
}

static int parse_key_values(const struct json_ctx *ctx, struct json_object *obj, const char *key,
                            struct spec_key_value **out, size_t *count, berth_error **err) {
  struct json_object *map;
  int r = json_get_object(ctx, obj, key, &map, err);
  if (r <= 0)
    return r;
  size_t n = (size_t)json_object_object_length(map);
  *out = calloc(n ? n : 1, sizeof(**out));
  if (*out == NULL)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  char buf[CTX_BUF];
  struct json_ctx c = child_ctx(ctx, key, buf);
  json_object_object_foreach(map, k, v) {
    if (!json_object_is_type(v, json_type_string))
      return json_fail_err(err, &c, k, "expected a string, got %s", json_type_phrase(v));
    struct spec_key_value *kv = &(*out)[(*count)++];
    kv->key = strdup(k);
    kv->value = strdup(json_object_get_string(v));
    if (kv->key == NULL || kv->value == NULL)
      return berth_fail(err, ENOMEM, "%s", ctx->origin);
  }
  return 0;
}

static int parse_propagation(const char *text, unsigned long *out) {
  static const struct {
    const char *name;
    unsigned long flags;
  } table[] = {
      {"shared", MS_SHARED | MS_REC},   {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE | MS_REC},     {"rslave", MS_SLAVE | MS_REC},
      {"private", MS_PRIVATE | MS_REC}, {"rprivate", MS_PRIVATE | MS_REC},
      {"unbindable", MS_UNBINDABLE | MS_REC}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
    if (strcmp(text, table[i].name) == 0) {
      *out = table[i].flags;
      return 0;
    }
  }
  return -1;
}

static int parse_time_offset(const struct json_ctx *ctx, struct json_object *offsets, const char *key,
                             struct spec_time_offset *out, berth_error **err) {
  struct json_object *o;
  int r = json_get_object(ctx, offsets, key, &o, err);
  if (r <= 0)
    return r;
  char buf[CTX_BUF];
  struct json_ctx c = child_ctx(ctx, key, buf);
  uint64_t ns = 0;
  if (json_get_int64(&c, o, "secs", &out->secs, err) < 0 || json_get_uint_max(&c, o, "nanosecs", 999999999, &ns, err) < 0)
    return -1;
  out->nanosecs = (uint32_t)ns;
  return 1;
}

static int parse_personality(const struct json_ctx *ctx, struct json_object *lnx, struct spec_linux *l,
                             berth_error **err) {
  struct json_object *pers;
  int r = json_get_object(ctx, lnx, "personality", &pers, err);
  if (r <= 0)
    return r;
  char buf[CTX_BUF];
  struct json_ctx c = child_ctx(ctx, "personality", buf);
  l->personality = calloc(1, sizeof(*l->personality));
  if (l->personality == NULL)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  const char *domain = NULL;
  if (json_get_string(&c, pers, "domain", &domain, err) < 0)
    return -1;
  if (domain == NULL)
    return json_fail_err(err, &c, "domain", "is required");
  if (strcmp(domain, "LINUX") == 0)
    l->personality->domain = PER_LINUX;
  else if (strcmp(domain, "LINUX32") == 0)
    l->personality->domain = PER_LINUX32;
  else
    return json_fail_err(err, &c, "domain", "unknown domain \"%s\" (LINUX or LINUX32)", domain);
  return json_get_strv(&c, pers, "flags", &l->personality->flags, &l->personality->n_flags, err) < 0 ? -1 : 0;
}

/* A sysctl is only written when it belongs to a namespace the container
 * has: otherwise it would change the host. */
static int check_sysctl_namespace(const struct json_ctx *ctx, const struct spec_linux *l, const char *key,
                                  berth_error **err) {
  static const char *const ipc_keys[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",   "kernel.sem",
                                         "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  enum spec_ns_type need = NS_TYPE_COUNT;
  for (size_t i = 0; i < ARRAY_SIZE(ipc_keys); i++)
    if (strcmp(key, ipc_keys[i]) == 0)
      need = NS_IPC;
  if (strncmp(key, "fs.mqueue.", 10) == 0)
    need = NS_IPC;
  else if (strncmp(key, "net.", 4) == 0)
    need = NS_NETWORK;
  else if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
    need = NS_UTS;
  if (need == NS_TYPE_COUNT)
    return json_fail_err(err, ctx, "sysctl", "\"%s\" is not in a kernel namespace the container can own", key);
  if (!l->namespaces[need].present)
    return json_fail_err(err, ctx, "sysctl", "\"%s\" needs a %s namespace", key, spec_ns_name(need));
  return 0;
}

static int parse_memory_policy(const struct json_ctx *ctx, struct json_object *lnx, struct spec_linux *l,
                               berth_error **err) {
  static const struct name_value modes[] = {{"MPOL_DEFAULT", 0},        {"MPOL_PREFERRED", 1}, {"MPOL_BIND", 2},
               {"MPOL_INTERLEAVE", 3},     {"MPOL_LOCAL", 4},     {"MPOL_PREFERRED_MANY", 5},
               {"MPOL_WEIGHTED_INTERLEAVE", 6}},
    flags[] = {{"MPOL_F_NUMA_BALANCING", 1 << 13}, {"MPOL_F_RELATIVE_NODES", 1 << 14}, {"MPOL_F_STATIC_NODES", 1 << 15}};
  struct json_object *mp;
  int r = json_get_object(ctx, lnx, "memoryPolicy", &mp, err);
  if (r <= 0)
    return r;
  char buf[CTX_BUF];
  struct json_ctx c = child_ctx(ctx, "memoryPolicy", buf);
  const char *mode = NULL, *nodes = NULL;
  if (json_get_string(&c, mp, "mode", &mode, err) < 0 || json_get_string(&c, mp, "nodes", &nodes, err) < 0)
    return -1;
  if (mode == NULL)
    return json_fail_err(err, &c, "mode", "is required");
  l->mpol_mode = name_lookup(modes, ARRAY_SIZE(modes), mode);
  if (l->mpol_mode < 0)
    return json_fail_err(err, &c, "mode", "unknown mode \"%s\"", mode);
  if (nodes != NULL && nodes[0] != '\0') {
    cpu_set_t set; /* a node list has the CPU list syntax */
    if (spec_parse_cpu_list(nodes, &set) < 0)
      return json_fail_err(err, &c, "nodes", "\"%s\" is not a node list", nodes);
    for (int n = 0; n < (int)(sizeof(l->mpol_nodes) * 8); n++)
      if (CPU_ISSET(n, &set))
        l->mpol_nodes[n / (8 * sizeof(unsigned long))] |= 1UL << (n % (8 * sizeof(unsigned long)));
    l->mpol_has_nodes = true;
  }
  uint64_t mode_flags = 0;
  if (parse_flag_names(&c, mp, "flags", flags, ARRAY_SIZE(flags), &mode_flags, err) < 0)
    return -1;
  l->mpol_mode |= (int)mode_flags;
  l->has_memory_policy = true;
  return 0;
}

static int parse_linux(const struct json_ctx *ctx, struct json_object *root, struct spec *s, berth_error **err) {
  struct json_object *lnx;
  int r = json_get_object(ctx, root, "linux", &lnx, err);
  if (r <= 0)
    return r;
  char buf[CTX_BUF];
  struct json_ctx c = child_ctx(ctx, "linux", buf);
  struct spec_linux *l = &s->lnx;
  static const char *const unsupported[] = {"intelRdt", "netDevices", NULL};
  if (refuse_unsupported(&c, lnx, unsupported, err) < 0)
    return -1;
  if (parse_namespaces(&c, lnx, l, err) < 0 ||
      parse_id_mappings(&c, lnx, "uidMappings", &l->uid_mappings, &l->n_uid_mappings, err) < 0 ||
      parse_id_mappings(&c, lnx, "gidMappings", &l->gid_mappings, &l->n_gid_mappings, err) < 0 ||
      parse_devices(&c, lnx, l, err) < 0 || dup_string(&c, lnx, "cgroupsPath", &l->cgroups_path, err) < 0 ||
      parse_key_values(&c, lnx, "sysctl", &l->sysctl, &l->n_sysctl, err) < 0 ||
      json_get_strv(&c, lnx, "maskedPaths", &l->masked_paths, &l->n_masked_paths, err) < 0 ||
      json_get_strv(&c, lnx, "readonlyPaths", &l->readonly_paths, &l->n_readonly_paths, err) < 0 ||
      dup_string(&c, lnx, "mountLabel", &l->mount_label, err) < 0 || parse_personality(&c, lnx, l, err) < 0 ||
      parse_memory_policy(&c, lnx, l, err) < 0)
    return -1;
  struct json_object *res;
  if ((r = json_get_object(&c, lnx, "resources", &res, err)) < 0)
    return -1;
  if (r > 0) {
    char rbuf[CTX_BUF];
    struct json_ctx rc = child_ctx(&c, "resources", rbuf);
    l->has_resources = true;
    if (spec_resources_from_json(&rc, res, &l->resources, err) < 0)
      return -1;
  }
  struct json_object *sc;
  if ((r = json_get_object(&c, lnx, "seccomp", &sc, err)) < 0)
    return -1;
  if (r > 0) {
    char sbuf[CTX_BUF];
    struct json_ctx scc = child_ctx(&c, "seccomp", sbuf);
    l->seccomp = calloc(1, sizeof(*l->seccomp));
    if (l->seccomp == NULL)
      return berth_fail(err, ENOMEM, "%s", ctx->origin);
    if (spec_seccomp_from_json(&scc, sc, l->seccomp, err) < 0)
      return -1;
  }
  const char *prop = NULL;
  if (json_get_string(&c, lnx, "rootfsPropagation", &prop, err) < 0)
    return -1;
  if (prop != NULL && parse_propagation(prop, &l->rootfs_propagation) < 0)
    return json_fail_err(err, &c, "rootfsPropagation", "unknown propagation \"%s\"", prop);
  struct json_object *offsets;
  if ((r = json_get_object(&c, lnx, "timeOffsets", &offsets, err)) < 0)
    return -1;
  if (r > 0) {
    char tbuf[CTX_BUF];
    struct json_ctx tc = child_ctx(&c, "timeOffsets", tbuf);
    int a = parse_time_offset(&tc, offsets, "monotonic", &l->time_monotonic, err);
    int b = a < 0 ? -1 : parse_time_offset(&tc, offsets, "boottime", &l->time_boottime, err);
    if (a < 0 || b < 0)
      return -1;
    l->has_time_offsets = a > 0 || b > 0;
    if (l->has_time_offsets && !l->namespaces[NS_TIME].present)
      return json_fail_err(err, &c, "timeOffsets", "needs a time namespace");
  }
  for (size_t i = 0; i < l->n_masked_paths; i++)
    if (l->masked_paths[i][0] != '/')
      return json_fail_err(err, &c, "maskedPaths", "\"%s\" is not an absolute path", l->masked_paths[i]);
  for (size_t i = 0; i < l->n_readonly_paths; i++)
    if (l->readonly_paths[i][0] != '/')
      return json_fail_err(err, &c, "readonlyPaths", "\"%s\" is not an absolute path", l->readonly_paths[i]);
  for (size_t i = 0; i < l->n_sysctl; i++)
    if (check_sysctl_namespace(&c, l, l->sysctl[i].key, err) < 0)
      return -1;
  bool userns = l->namespaces[NS_USER].present;
  if (!userns && (l->n_uid_mappings > 0 || l->n_gid_mappings > 0))
    return json_fail_err(err, &c, l->n_uid_mappings > 0 ? "uidMappings" : "gidMappings",
                         "needs a user namespace");
  if (userns && l->namespaces[NS_USER].path == NULL && (l->n_uid_mappings == 0 || l->n_gid_mappings == 0))
    return json_fail_err(err, &c, "uidMappings", "a new user namespace needs uidMappings and gidMappings");
  return 0;
}

/* ---- top level -------------------------------------------------------- */

static int parse_root(const struct json_ctx *ctx, struct json_object *top, struct spec *s, berth_error **err) {
  struct json_object *root;
  int r = json_get_object(ctx, top, "root", &root, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return json_fail_err(err, ctx, "root", "is required");
  char buf[CTX_BUF];
  struct json_ctx c = child_ctx(ctx, "root", buf);
  cleanup_free char *path = NULL;
  if (get_required_string(&c, root, "path", &path, err) < 0 || json_get_bool(&c, root, "readonly", &s->root.readonly, err) < 0)
    return -1;
  if (path[0] == '/') {
    s->root.path = TAKE_PTR(path);
  } else if (asprintf(&s->root.path, "%s/%s", s->bundle, path) < 0) {
    s->root.path = NULL;
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  }
  return 0;
}

struct spec *spec_parse(const char *text, size_t len, const char *bundle, const char *origin, berth_error **err) {
  cleanup_json struct json_object *top = json_parse_text(text, len, origin, err);
  if (top == NULL)
    return NULL;
  struct json_ctx ctx = {.origin = origin, .path = ""};
  if (!json_object_is_type(top, json_type_object)) {
    berth_fail(err, 0, "%s: expected a JSON object, got %s", origin, json_type_phrase(top));
    return NULL;
  }
  struct spec *s = calloc(1, sizeof(*s));
  if (s == NULL) {
    berth_fail(err, ENOMEM, "%s", origin);
    return NULL;
  }
  s->bundle = strdup(bundle != NULL ? bundle : ".");
  if (get_required_string(&ctx, top, "ociVersion", &s->oci_version, err) < 0)
    goto fail;
  if (strncmp(s->oci_version, "1.", 2) != 0) {
    json_fail_err(err, &ctx, "ociVersion", "unsupported version \"%s\" (1.x is supported)", s->oci_version);
    goto fail;
  }
  if (parse_root(&ctx, top, s, err) < 0)
    goto fail;
  struct json_object *proc;
  int r = json_get_object(&ctx, top, "process", &proc, err);
  if (r < 0)
    goto fail;
  if (r > 0) {
    char buf[CTX_BUF];
    struct json_ctx pc = child_ctx(&ctx, "process", buf);
    s->has_process = true;
    if (parse_process_object(&pc, proc, &s->process, true, err) < 0)
      goto fail;
  }
  if (dup_string(&ctx, top, "hostname", &s->hostname, err) < 0 ||
      dup_string(&ctx, top, "domainname", &s->domainname, err) < 0 || parse_mounts(&ctx, top, s, err) < 0 ||
      parse_hooks(&ctx, top, s, err) < 0 ||
      parse_key_values(&ctx, top, "annotations", &s->annotations, &s->n_annotations, err) < 0 ||
      parse_linux(&ctx, top, s, err) < 0)
    goto fail;
  if ((s->hostname != NULL || s->domainname != NULL) && !s->lnx.namespaces[NS_UTS].present) {
    json_fail_err(err, &ctx, s->hostname != NULL ? "hostname" : "domainname", "needs a uts namespace");
    goto fail;
  }
  return s;
fail:
  spec_free(s);
  return NULL;
}

struct spec *spec_load(const char *bundle, char **raw, size_t *raw_len, berth_error **err) {
  cleanup_free char *abs = fs_absolute_path(bundle != NULL ? bundle : ".", err);
  if (abs == NULL)
    return NULL;
  cleanup_close int dirfd = open(abs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) {
    berth_fail(err, errno, "bundle \"%s\"", abs);
    return NULL;
  }
  size_t len = 0;
  cleanup_free char *text = fs_read_file_at(dirfd, "config.json", &len, err);
  if (text == NULL) {
    berth_error_wrap(err, "bundle \"%s\"", abs);
    return NULL;
  }
  struct spec *s = spec_parse(text, len, abs, "config.json", err);
  if (s != NULL && raw != NULL) {
    *raw = TAKE_PTR(text);
    if (raw_len != NULL)
      *raw_len = len;
  }
  return s;
}

int spec_parse_process(const char *text, size_t len, const char *origin, struct spec_process *out,
                       berth_error **err) {
  cleanup_json struct json_object *top = json_parse_text(text, len, origin, err);
  if (top == NULL)
    return -1;
  if (!json_object_is_type(top, json_type_object))
    return berth_fail(err, 0, "%s: expected a JSON object, got %s", origin, json_type_phrase(top));
  struct json_ctx ctx = {.origin = origin, .path = ""};
  if (parse_process_object(&ctx, top, out, true, err) < 0) {
    spec_process_clear(out);
    return -1;
  }
  return 0;
}

int spec_parse_resources(const char *text, size_t len, const char *origin, struct spec_resources *out,
                         berth_error **err) {
  cleanup_json struct json_object *top = json_parse_text(text, len, origin, err);
  if (top == NULL)
    return -1;
  if (!json_object_is_type(top, json_type_object))
    return berth_fail(err, 0, "%s: expected a JSON object, got %s", origin, json_type_phrase(top));
  struct json_ctx ctx = {.origin = origin, .path = ""};
  if (spec_resources_from_json(&ctx, top, out, err) < 0) {
    spec_resources_clear(out);
    return -1;
  }
  return 0;
}

char *spec_annotations_json(const struct spec *s) {
  if (s->n_annotations == 0)
    return NULL;
  struct json_object *o = json_object_new_object();
  for (size_t i = 0; i < s->n_annotations; i++)
    json_object_object_add(o, s->annotations[i].key, json_object_new_string(s->annotations[i].value));
  char *text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(o);
  return text;
}

/* ---- freeing ---------------------------------------------------------- */

static void free_strv(char **v) {
  if (v == NULL)
    return;
  for (char **p = v; *p != NULL; p++)
    free(*p);
  free(v);
}

static void free_key_values(struct spec_key_value *kv, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(kv[i].key);
    free(kv[i].value);
  }
  free(kv);
}

void spec_process_clear(struct spec_process *p) {
  free(p->cwd);
  free_strv(p->args);
  free_strv(p->env);
  free(p->user.additional_gids);
  free(p->user.username);
  for (size_t i = 0; i < p->n_rlimits; i++)
    free(p->rlimits[i].type);
  free(p->rlimits);
  free(p->apparmor_profile);
  free(p->selinux_label);
  free(p->cpu_affinity_initial);
  free(p->cpu_affinity_final);
  memset(p, 0, sizeof(*p));
}

void spec_resources_clear(struct spec_resources *r) {
  free(r->cpu_cpus);
  free(r->cpu_mems);
  free(r->blkio_weight_device);
  for (int i = 0; i < 4; i++)
    free(r->blkio_throttle[i]);
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    free(r->hugepage_limits[i].page_size);
  free(r->hugepage_limits);
  free(r->devices);
  free_key_values(r->net_priorities, r->n_net_priorities);
  free_key_values(r->unified, r->n_unified);
  memset(r, 0, sizeof(*r));
}

static void seccomp_clear(struct spec_seccomp *sc) {
  free_strv(sc->architectures);
  free_strv(sc->flags);
  free(sc->listener_path);
  free(sc->listener_metadata);
  for (size_t i = 0; i < sc->n_syscalls; i++) {
    free_strv(sc->syscalls[i].names);
    free(sc->syscalls[i].args);
  }
  free(sc->syscalls);
}

void spec_free(struct spec *s) {
  if (s == NULL)
    return;
  free(s->oci_version);
  free(s->bundle);
  spec_process_clear(&s->process);
  free(s->root.path);
  free(s->hostname);
  free(s->domainname);
  for (size_t i = 0; i < s->n_mounts; i++) {
    struct spec_mount *m = &s->mounts[i];
    free(m->destination);
    free(m->source);
    free(m->type);
    free_strv(m->options);
    free(m->data);
    free(m->uid_mappings);
    free(m->gid_mappings);
  }
  free(s->mounts);
  for (int k = 0; k < HOOK_KIND_COUNT; k++) {
    for (size_t i = 0; i < s->hooks.count[k]; i++) {
      free(s->hooks.list[k][i].path);
      free_strv(s->hooks.list[k][i].args);
      free_strv(s->hooks.list[k][i].env);
    }
    free(s->hooks.list[k]);
  }
  free_key_values(s->annotations, s->n_annotations);
  struct spec_linux *l = &s->lnx;
  for (int i = 0; i < NS_TYPE_COUNT; i++)
    free(l->namespaces[i].path);
  free(l->uid_mappings);
  free(l->gid_mappings);
  for (size_t i = 0; i < l->n_devices; i++)
    free(l->devices[i].path);
  free(l->devices);
  free(l->cgroups_path);
  spec_resources_clear(&l->resources);
  free_key_values(l->sysctl, l->n_sysctl);
  if (l->seccomp != NULL) {
    seccomp_clear(l->seccomp);
    free(l->seccomp);
  }
  free_strv(l->masked_paths);
  free_strv(l->readonly_paths);
  free(l->mount_label);
  if (l->personality != NULL) {
    free_strv(l->personality->flags);
    free(l->personality);
  }
  free(s);
}
