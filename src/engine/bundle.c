#include "engine/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "engine/security.h"
#include "engine/users.h"
#include "engine/volumes.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"

static struct json_object *str(const char *s) {
  return json_object_new_string(s != NULL ? s : "");
}

static struct json_object *strv(const char *const *v) {
  struct json_object *a = json_object_new_array();
  for (; v != NULL && *v != NULL; v++)
    json_object_array_add(a, str(*v));
  return a;
}

static const char *get_str(struct json_object *o, const char *key) {
  struct json_object *v;
  return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                                                          : NULL;
}

static int64_t get_int(struct json_object *o, const char *key) {
  struct json_object *v;
  return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static bool get_bool(struct json_object *o, const char *key) {
  struct json_object *v;
  return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static struct json_object *get_array(struct json_object *o, const char *key) {
  struct json_object *v;
  return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array) ? v : NULL;
}

/* A NULL-terminated vector of the array's strings (pointers into it). */
static char **array_strings(struct json_object *a) {
  size_t n = a != NULL ? json_object_array_length(a) : 0;
  char **v = calloc(n + 1, sizeof(char *));
  for (size_t i = 0; v != NULL && i < n; i++)
    v[i] = (char *)json_object_get_string(json_object_array_get_idx(a, i));
  return v;
}

static struct json_object *mount_entry(const char *dest, const char *type, const char *source,
                                       const char *const *options) {
  struct json_object *m = json_object_new_object();
  json_object_object_add(m, "destination", str(dest));
  json_object_object_add(m, "type", str(type));
  json_object_object_add(m, "source", str(source));
  json_object_object_add(m, "options", strv(options));
  return m;
}

static bool has_prefix_env(struct json_object *env, const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; env != NULL && i < json_object_array_length(env); i++) {
    const char *e = json_object_get_string(json_object_array_get_idx(env, i));
    if (strncmp(e, name, len) == 0 && e[len] == '=')
      return true;
  }
  return false;
}

static struct json_object *process_env(struct json_object *config, const char *hostname, bool tty) {
  struct json_object *in = get_array(config, "Env");
  struct json_object *env = json_object_new_array();
  if (!has_prefix_env(in, "PATH"))
    json_object_array_add(env, str(BUNDLE_DEFAULT_PATH));
  if (!has_prefix_env(in, "HOSTNAME")) {
    char *h = NULL;
    if (asprintf(&h, "HOSTNAME=%s", hostname) >= 0)
      json_object_array_add(env, json_object_new_string(h));
    free(h);
  }
  if (tty && !has_prefix_env(in, "TERM"))
    json_object_array_add(env, str("TERM=xterm"));
  for (size_t i = 0; in != NULL && i < json_object_array_length(in); i++)
    json_object_array_add(env, json_object_get(json_object_array_get_idx(in, i)));
  return env;
}

static int process_args(struct json_object *config, struct json_object *host_config, struct json_object **out,
                        berth_error **err) {
  struct json_object *args = json_object_new_array();
  if (get_bool(host_config, "Init")) {
    json_object_array_add(args, str(BUNDLE_INIT_PATH));
    json_object_array_add(args, str("--"));
  }
  size_t before = json_object_array_length(args);
  const char *keys[] = {"Entrypoint", "Cmd"};
  for (size_t k = 0; k < 2; k++) {
    struct json_object *a = get_array(config, keys[k]);
    for (size_t i = 0; a != NULL && i < json_object_array_length(a); i++)
      json_object_array_add(args, json_object_get(json_object_array_get_idx(a, i)));
  }
  if (json_object_array_length(args) == before) {
    json_object_put(args);
    return berth_fail(err, 0, "no command specified");
  }
  *out = args;
  return 0;
}

/* Soft and hard clamped to our own hard limit: this host may not allow
 * more (no CAP_SYS_RESOURCE), and a failing setrlimit would fail the run. */
static struct json_object *rlimit(const char *type, uint64_t soft, uint64_t hard, int resource) {
  struct rlimit mine;
  if (getrlimit(resource, &mine) == 0 && mine.rlim_max != RLIM_INFINITY) {
    if (hard > mine.rlim_max)
      hard = mine.rlim_max;
    if (soft > hard)
      soft = hard;
  }
  struct json_object *r = json_object_new_object();
  json_object_object_add(r, "type", str(type));
  json_object_object_add(r, "soft", json_object_new_uint64(soft));
  json_object_object_add(r, "hard", json_object_new_uint64(hard));
  return r;
}

static const struct {
  const char *name, *type;
  int resource;
} rlimit_names[] = {
    {"core", "RLIMIT_CORE", RLIMIT_CORE},         {"cpu", "RLIMIT_CPU", RLIMIT_CPU},
    {"data", "RLIMIT_DATA", RLIMIT_DATA},         {"fsize", "RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"locks", "RLIMIT_LOCKS", RLIMIT_LOCKS},      {"memlock", "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"msgqueue", "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"nice", "RLIMIT_NICE", RLIMIT_NICE},
    {"nofile", "RLIMIT_NOFILE", RLIMIT_NOFILE},   {"nproc", "RLIMIT_NPROC", RLIMIT_NPROC},
    {"rss", "RLIMIT_RSS", RLIMIT_RSS},            {"rtprio", "RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"rttime", "RLIMIT_RTTIME", RLIMIT_RTTIME},   {"sigpending", "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"stack", "RLIMIT_STACK", RLIMIT_STACK},
};

/* podman's defaults (nofile 1048576, nproc 4194304) unless --ulimit says otherwise. */
static struct json_object *process_rlimits(struct json_object *host_config) {
  struct json_object *out = json_object_new_array();
  struct json_object *given = get_array(host_config, "Ulimits");
  bool nofile = false, nproc = false;
  for (size_t i = 0; given != NULL && i < json_object_array_length(given); i++) {
    struct json_object *u = json_object_array_get_idx(given, i);
    const char *name = get_str(u, "Name");
    for (size_t j = 0; name != NULL && j < sizeof(rlimit_names) / sizeof(rlimit_names[0]); j++) {
      if (strcmp(rlimit_names[j].name, name) != 0)
        continue;
      int64_t soft = get_int(u, "Soft"), hard = get_int(u, "Hard");
      json_object_array_add(out, rlimit(rlimit_names[j].type, soft < 0 ? UINT64_MAX : (uint64_t)soft,
                                        hard < 0 ? UINT64_MAX : (uint64_t)hard, rlimit_names[j].resource));
      nofile = nofile || rlimit_names[j].resource == RLIMIT_NOFILE;
      nproc = nproc || rlimit_names[j].resource == RLIMIT_NPROC;
    }
  }
  if (!nofile)
    json_object_array_add(out, rlimit("RLIMIT_NOFILE", 1048576, 1048576, RLIMIT_NOFILE));
  if (!nproc)
    json_object_array_add(out, rlimit("RLIMIT_NPROC", 4194304, 4194304, RLIMIT_NPROC));
  return out;
}

static int process_user(struct json_object *process, struct json_object *config, struct json_object *host_config,
                        const char *rootfs, berth_error **err) {
  cleanup_close int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return berth_fail(err, errno, "rootfs \"%s\"", rootfs);
  struct resolved_user u;
  if (users_resolve(rootfd, get_str(config, "User"), &u, err) < 0)
    return -1;
  if (users_add_groups(rootfd, get_array(host_config, "GroupAdd"), &u, err) < 0) {
    users_clear(&u);
    return -1;
  }
  struct json_object *user = json_object_new_object();
  json_object_object_add(user, "uid", json_object_new_int64(u.uid));
  json_object_object_add(user, "gid", json_object_new_int64(u.gid));
  if (u.n_groups > 0) {
    struct json_object *groups = json_object_new_array();
    for (size_t i = 0; i < u.n_groups; i++)
      json_object_array_add(groups, json_object_new_int64(u.groups[i]));
    json_object_object_add(user, "additionalGids", groups);
  }
  json_object_object_add(process, "user", user);
  users_clear(&u);
  return 0;
}

static bool security_opt(struct json_object *host_config, const char *name, const char **value) {
  struct json_object *opts = get_array(host_config, "SecurityOpt");
  size_t len = strlen(name);
  for (size_t i = 0; opts != NULL && i < json_object_array_length(opts); i++) {
    const char *o = json_object_get_string(json_object_array_get_idx(opts, i));
    if (strncmp(o, name, len) == 0 && (o[len] == '=' || o[len] == ':' || o[len] == '\0')) {
      *value = o[len] != '\0' ? o + len + 1 : "";
      return true;
    }
  }
  return false;
}

static int process_security(struct json_object *process, struct json_object *lnx, struct json_object *host_config,
                            berth_error **err) {
  bool privileged = get_bool(host_config, "Privileged");
  cleanup_free char **add = array_strings(get_array(host_config, "CapAdd"));
  cleanup_free char **drop = array_strings(get_array(host_config, "CapDrop"));
  char **caps = NULL;
  if (add == NULL || drop == NULL)
    return berth_fail(err, ENOMEM, "capabilities");
  if (security_caps(add, drop, privileged, &caps, err) < 0)
    return -1;
  struct json_object *c = json_object_new_object();
  const char *sets[] = {"bounding", "effective", "permitted"};
  for (size_t i = 0; i < 3; i++)
    json_object_object_add(c, sets[i], strv((const char *const *)caps));
  json_object_object_add(process, "capabilities", c);
  const char *value;
  if (security_opt(host_config, "no-new-privileges", &value))
    json_object_object_add(process, "noNewPrivileges", json_object_new_boolean(strcmp(value, "false") != 0));
  struct json_object *seccomp = NULL;
  bool unconfined = privileged;
  if (security_opt(host_config, "seccomp", &value)) {
    if (strcmp(value, "unconfined") == 0) {
      unconfined = true;
    } else {
      size_t len = 0;
      cleanup_free char *text = fs_read_file_at(AT_FDCWD, value, &len, err);
      if (text == NULL) {
        security_caps_free(caps);
        return berth_error_wrap(err, "opening seccomp profile (%s) failed", value);
      }
      seccomp = security_seccomp_from_docker(text, len, value, caps, err);
      if (seccomp == NULL) {
        security_caps_free(caps);
        return -1;
      }
    }
  }
  if (seccomp == NULL && !unconfined && (seccomp = security_default_seccomp(caps, err)) == NULL) {
    security_caps_free(caps);
    return -1;
  }
  if (seccomp != NULL)
    json_object_object_add(lnx, "seccomp", seccomp);
  security_caps_free(caps);
  return 0;
}

static const char *const masked_paths[] = {
    "/proc/asound",       "/proc/acpi",        "/proc/interrupts", "/proc/kcore",
    "/proc/keys",         "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
    "/proc/sched_debug",  "/proc/scsi",        "/sys/firmware",    "/sys/devices/virtual/powercap",
    NULL,
};
static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

/* The mounts every container has, as docker sets them up. */
static void default_mounts(struct json_object *mounts, struct json_object *host_config, const char *dir,
                           bool privileged) {
  static const char *const proc[] = {"nosuid", "noexec", "nodev", NULL};
  static const char *const dev[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
  static const char *const pts[] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL};
  static const char *const sys_ro[] = {"nosuid", "noexec", "nodev", "ro", NULL};
  static const char *const sys_rw[] = {"nosuid", "noexec", "nodev", NULL};
  static const char *const cgroup_ro[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};
  static const char *const cgroup_rw[] = {"nosuid", "noexec", "nodev", "relatime", NULL};
  static const char *const mqueue[] = {"nosuid", "noexec", "nodev", NULL};
  json_object_array_add(mounts, mount_entry("/proc", "proc", "proc", proc));
  json_object_array_add(mounts, mount_entry("/dev", "tmpfs", "tmpfs", dev));
  json_object_array_add(mounts, mount_entry("/dev/pts", "devpts", "devpts", pts));
  json_object_array_add(mounts, mount_entry("/sys", "sysfs", "sysfs", privileged ? sys_rw : sys_ro));
  json_object_array_add(mounts, mount_entry("/sys/fs/cgroup", "cgroup", "cgroup", privileged ? cgroup_rw : cgroup_ro));
  json_object_array_add(mounts, mount_entry("/dev/mqueue", "mqueue", "mqueue", mqueue));
  int64_t shm = get_int(host_config, "ShmSize");
  char shm_size[48];
  snprintf(shm_size, sizeof(shm_size), "size=%lld", (long long)(shm > 0 ? shm : 64 << 20));
  const char *const shm_opts[] = {"nosuid", "noexec", "nodev", "mode=1777", shm_size, NULL};
  json_object_array_add(mounts, mount_entry("/dev/shm", "tmpfs", "shm", shm_opts));
  static const char *const etc_rw[] = {"rbind", "rprivate", NULL};
  const char *files[] = {"hostname", "hosts", "resolv.conf"};
  for (size_t i = 0; i < 3; i++) {
    char source[4096], dest[32];
    snprintf(source, sizeof(source), "%s/%s", dir, files[i]);
    snprintf(dest, sizeof(dest), "/etc/%s", files[i]);
    json_object_array_add(mounts, mount_entry(dest, "bind", source, etc_rw));
  }
}

static int depth(const char *path) {
  int n = 0;
  for (; *path != '\0'; path++)
    n += *path == '/' && path[1] != '\0';
  return n;
}

static int by_depth(const void *a, const void *b) {
  struct json_object *const *x = a, *const *y = b;
  return depth(get_str(*x, "destination")) - depth(get_str(*y, "destination"));
}

/* -v, --mount and --tmpfs (HostConfig.Mounts), parents before children. */
static int user_mounts(struct engine *e, const struct container *c, struct json_object *mounts, berth_error **err) {
  struct json_object *given = get_array(c->host_config, "Mounts");
  size_t n = given != NULL ? json_object_array_length(given) : 0;
  cleanup_free struct json_object **made = calloc(n + 1, sizeof(*made));
  if (made == NULL)
    return berth_fail(err, ENOMEM, "mounts");
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    struct json_object *m = json_object_array_get_idx(given, i);
    const char *type = get_str(m, "Type"), *target = get_str(m, "Target"), *source = get_str(m, "Source");
    bool ro = get_bool(m, "ReadOnly");
    struct json_object *entry = NULL;
    if (type == NULL || target == NULL)
      continue;
    if (strcmp(type, "tmpfs") == 0) {
      struct json_object *topts = NULL;
      json_object_object_get_ex(m, "TmpfsOptions", &topts);
      char size[48] = "", mode[24] = "mode=1777";
      if (get_int(topts, "SizeBytes") > 0)
        snprintf(size, sizeof(size), "size=%lld", (long long)get_int(topts, "SizeBytes"));
      if (get_int(topts, "Mode") > 0)
        snprintf(mode, sizeof(mode), "mode=%llo", (unsigned long long)get_int(topts, "Mode"));
      const char *opts[] = {"nosuid", "nodev", "noexec", ro ? "ro" : "rw", mode, size[0] ? size : NULL, NULL};
      entry = mount_entry(target, "tmpfs", "tmpfs", opts);
      const char *raw = get_str(topts, "Options"); /* --tmpfs /x:opts replaces the defaults */
      if (raw != NULL && *raw != '\0') {
        struct json_object *list = json_object_new_array();
        cleanup_free char *copy = strdup(raw);
        char *save = NULL;
        for (char *o = copy != NULL ? strtok_r(copy, ",", &save) : NULL; o != NULL; o = strtok_r(NULL, ",", &save))
          json_object_array_add(list, str(o));
        json_object_object_add(entry, "options", list);
      }
    } else {
      cleanup_free char *path = NULL;
      const char *src = source;
      if (strcmp(type, "volume") == 0) {
        if (volumes_mount_path(e, source, &path, err) < 0)
          goto fail;
        src = path;
      }
      struct json_object *bopts = NULL;
      json_object_object_get_ex(m, "BindOptions", &bopts);
      const char *prop = get_str(bopts, "Propagation");
      const char *opts[] = {"rbind", prop != NULL && *prop != '\0' ? prop : "rprivate", ro ? "ro" : NULL, NULL};
      entry = mount_entry(target, "bind", src, opts);
    }
    made[count++] = entry;
  }
  qsort(made, count, sizeof(*made), by_depth); /* stable enough: equal depths keep no particular order */
  for (size_t i = 0; i < count; i++)
    json_object_array_add(mounts, made[i]);
  return 0;
fail:
  for (size_t i = 0; i < count; i++)
    json_object_put(made[i]);
  return -1;
}

static void add_u64(struct json_object *o, const char *key, int64_t v) {
  json_object_object_add(o, key, json_object_new_int64(v));
}

static void linux_resources(struct json_object *lnx, struct json_object *hc) {
  struct json_object *res = json_object_new_object();
  json_object_object_add(lnx, "resources", res);
  int64_t memory = get_int(hc, "Memory"), swap = get_int(hc, "MemorySwap"), reservation = get_int(hc, "MemoryReservation");
  if (memory > 0 || reservation > 0) {
    struct json_object *m = json_object_new_object();
    if (memory > 0) {
      add_u64(m, "limit", memory);
      /* docker: no --memory-swap means as much swap as memory */
      add_u64(m, "swap", swap == 0 ? 2 * memory : swap);
    }
    if (reservation > 0)
      add_u64(m, "reservation", reservation);
    json_object_object_add(res, "memory", m);
  }
  int64_t nano = get_int(hc, "NanoCpus"), shares = get_int(hc, "CpuShares"), quota = get_int(hc, "CpuQuota"),
          period = get_int(hc, "CpuPeriod");
  const char *cpuset = get_str(hc, "CpusetCpus"), *mems = get_str(hc, "CpusetMems");
  if (nano > 0 || shares > 0 || quota > 0 || period > 0 || (cpuset && *cpuset) || (mems && *mems)) {
    struct json_object *cpu = json_object_new_object();
    if (nano > 0) {
      period = 100000;
      quota = nano * period / 1000000000;
    }
    if (shares > 0)
      add_u64(cpu, "shares", shares);
    if (quota > 0)
      add_u64(cpu, "quota", quota);
    if (period > 0)
      add_u64(cpu, "period", period);
    if (cpuset && *cpuset)
      json_object_object_add(cpu, "cpus", str(cpuset));
    if (mems && *mems)
      json_object_object_add(cpu, "mems", str(mems));
    json_object_object_add(res, "cpu", cpu);
  }
  int64_t pids = get_int(hc, "PidsLimit");
  if (pids > 0) {
    struct json_object *p = json_object_new_object();
    add_u64(p, "limit", pids);
    json_object_object_add(res, "pids", p);
  }
  /* everything denied except what the runtime allows by default and the
   * --device entries (privileged: everything) */
  struct json_object *rules = json_object_new_array();
  struct json_object *deny = json_object_new_object();
  json_object_object_add(deny, "allow", json_object_new_boolean(get_bool(hc, "Privileged")));
  json_object_object_add(deny, "access", str("rwm"));
  json_object_array_add(rules, deny);
  json_object_object_add(res, "devices", rules);
}

static int device_nodes(struct json_object *lnx, struct json_object *hc, berth_error **err) {
  struct json_object *given = get_array(hc, "Devices");
  if (given == NULL || json_object_array_length(given) == 0)
    return 0;
  struct json_object *devices = json_object_new_array(), *res = NULL, *rules = NULL;
  json_object_object_add(lnx, "devices", devices);
  json_object_object_get_ex(lnx, "resources", &res);
  json_object_object_get_ex(res, "devices", &rules);
  for (size_t i = 0; i < json_object_array_length(given); i++) {
    struct json_object *d = json_object_array_get_idx(given, i);
    const char *host = get_str(d, "PathOnHost"), *inside = get_str(d, "PathInContainer");
    const char *perms = get_str(d, "CgroupPermissions");
    struct stat st;
    if (host == NULL || stat(host, &st) < 0)
      return berth_fail(err, errno, "error gathering device information while adding custom device \"%s\"",
                        host != NULL ? host : "");
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
      return berth_fail(err, 0, "error gathering device information while adding custom device \"%s\": not a device node",
                        host);
    const char *type = S_ISCHR(st.st_mode) ? "c" : "b";
    struct json_object *node = json_object_new_object();
    json_object_object_add(node, "path", str(inside != NULL && *inside ? inside : host));
    json_object_object_add(node, "type", str(type));
    add_u64(node, "major", major(st.st_rdev));
    add_u64(node, "minor", minor(st.st_rdev));
    add_u64(node, "fileMode", st.st_mode & 07777);
    add_u64(node, "uid", 0);
    add_u64(node, "gid", 0);
    json_object_array_add(devices, node);
    struct json_object *rule = json_object_new_object();
    json_object_object_add(rule, "allow", json_object_new_boolean(true));
    json_object_object_add(rule, "type", str(type));
    add_u64(rule, "major", major(st.st_rdev));
    add_u64(rule, "minor", minor(st.st_rdev));
    json_object_object_add(rule, "access", str(perms != NULL && *perms ? perms : "rwm"));
    if (rules != NULL)
      json_object_array_add(rules, rule);
    else
      json_object_put(rule);
  }
  return 0;
}

static bool host_network(struct json_object *host_config) {
  const char *mode = get_str(host_config, "NetworkMode");
  return mode != NULL && strcmp(mode, "host") == 0;
}

/* --network host: the host's network namespace, so none of our own.
 * --userns keep-id: a user namespace of its own (identity_mapping). */
static struct json_object *namespaces(bool host_network, bool user) {
  static const char *const kinds[] = {"pid", "ipc", "uts", "mount", "cgroup", "network", NULL};
  struct json_object *a = json_object_new_array();
  for (const char *const *k = kinds; *k != NULL; k++) {
    if (host_network && strcmp(*k, "network") == 0)
      continue;
    struct json_object *ns = json_object_new_object();
    json_object_object_add(ns, "type", str(*k));
    json_object_array_add(a, ns);
  }
  if (user) {
    struct json_object *ns = json_object_new_object();
    json_object_object_add(ns, "type", str("user"));
    json_object_array_add(a, ns);
  }
  return a;
}

static bool keep_id(struct json_object *host_config) {
  const char *mode = get_str(host_config, "UsernsMode");
  return mode != NULL && strcmp(mode, "keep-id") == 0;
}

/* podman's keep-id: our IDs are the same inside, here every ID (we run as
 * root), so files need no chown; what changes is that the container's
 * root holds its capabilities in its own user namespace only, not over
 * the host (no mknod, no host-wide sysctls, no kernel modules). */
static struct json_object *identity_mapping(void) {
  struct json_object *a = json_object_new_array();
  struct json_object *m = json_object_new_object();
  json_object_object_add(m, "containerID", json_object_new_int64(0));
  json_object_object_add(m, "hostID", json_object_new_int64(0));
  json_object_object_add(m, "size", json_object_new_int64(4294967295LL));
  json_object_array_add(a, m);
  return a;
}

int bundle_write(struct engine *e, const struct container *c, const char *rootfs, berth_error **err) {
  struct json_object *config = c->config, *hc = c->host_config;
  cleanup_free char *dir = engine_container_path(e, c->id, NULL);
  if (dir == NULL)
    return berth_fail(err, ENOMEM, "bundle");
  bool privileged = get_bool(hc, "Privileged");
  const char *hostname = get_str(config, "Hostname");
  cleanup_json struct json_object *doc = json_object_new_object();
  json_object_object_add(doc, "ociVersion", str("1.2.0"));

  struct json_object *process = json_object_new_object();
  json_object_object_add(doc, "process", process);
  bool tty = get_bool(config, "Tty");
  json_object_object_add(process, "terminal", json_object_new_boolean(tty));
  struct json_object *size = get_array(hc, "ConsoleSize");
  if (tty && size != NULL && json_object_array_length(size) == 2 &&
      json_object_get_int(json_object_array_get_idx(size, 0)) > 0) {
    struct json_object *console = json_object_new_object();
    json_object_object_add(console, "height", json_object_new_int(json_object_get_int(json_object_array_get_idx(size, 0))));
    json_object_object_add(console, "width", json_object_new_int(json_object_get_int(json_object_array_get_idx(size, 1))));
    json_object_object_add(process, "consoleSize", console);
  }
  struct json_object *args = NULL;
  if (process_args(config, hc, &args, err) < 0)
    return -1;
  json_object_object_add(process, "args", args);
  json_object_object_add(process, "env", process_env(config, hostname != NULL ? hostname : "", tty));
  const char *cwd = get_str(config, "WorkingDir");
  json_object_object_add(process, "cwd", str(cwd != NULL && *cwd != '\0' ? cwd : "/"));
  if (process_user(process, config, hc, rootfs, err) < 0)
    return -1;
  json_object_object_add(process, "rlimits", process_rlimits(hc));
  int64_t oom = get_int(hc, "OomScoreAdj");
  if (oom != 0)
    json_object_object_add(process, "oomScoreAdj", json_object_new_int64(oom));

  struct json_object *root = json_object_new_object();
  json_object_object_add(root, "path", str(rootfs));
  json_object_object_add(root, "readonly", json_object_new_boolean(get_bool(hc, "ReadonlyRootfs")));
  json_object_object_add(doc, "root", root);
  json_object_object_add(doc, "hostname", str(hostname));
  const char *domainname = get_str(config, "Domainname");
  if (domainname != NULL && *domainname != '\0')
    json_object_object_add(doc, "domainname", str(domainname));

  struct json_object *mounts = json_object_new_array();
  json_object_object_add(doc, "mounts", mounts);
  default_mounts(mounts, hc, dir, privileged);
  if (user_mounts(e, c, mounts, err) < 0)
    return -1;
  if (get_bool(hc, "Init")) {
    if (access(e->init, X_OK) < 0)
      return berth_fail(err, errno, "--init: \"%s\"", e->init);
    static const char *const init_opts[] = {"bind", "ro", "nosuid", "nodev", NULL};
    json_object_array_add(mounts, mount_entry(BUNDLE_INIT_PATH, "bind", e->init, init_opts));
  }

  struct json_object *lnx = json_object_new_object();
  json_object_object_add(doc, "linux", lnx);
  json_object_object_add(lnx, "namespaces", namespaces(host_network(hc), keep_id(hc)));
  if (keep_id(hc)) {
    json_object_object_add(lnx, "uidMappings", identity_mapping());
    json_object_object_add(lnx, "gidMappings", identity_mapping());
  }
  char cgroups_path[96];
  snprintf(cgroups_path, sizeof(cgroups_path), "/berth/%s", c->id);
  json_object_object_add(lnx, "cgroupsPath", str(cgroups_path));
  linux_resources(lnx, hc);
  if (device_nodes(lnx, hc, err) < 0 ||
      process_security(process, lnx, hc, err) < 0)
    return -1;
  if (!privileged) {
    json_object_object_add(lnx, "maskedPaths", strv(masked_paths));
    json_object_object_add(lnx, "readonlyPaths", strv(readonly_paths));
  }
  const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  cleanup_close int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return berth_fail(err, errno, "container directory \"%s\"", dir);
  return fs_write_file_at(dirfd, "config.json", text, strlen(text), 0600, err);
}
