/* The legacy back end: one hierarchy per controller (or per group of
 * co-mounted controllers, "cpu,cpuacct"), plus named ones (name=systemd)
 * that only hold processes. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cgroup/internal.h"
#include "util/cleanup.h"
#include "util/log.h"

#define FREEZE_TIMEOUT_MS 4000

static struct cg_hier *find(struct cgroup *cg, const char *controller) {
  for (size_t i = 0; i < cg->n_hier; i++)
    if (cg->hier[i].version == 1 && cg_list_has(cg->hier[i].controllers, controller))
      return &cg->hier[i];
  return NULL;
}

static const struct {
  const char *name;
  unsigned bits;
} controller_features[] = {
    {"memory", CG_F_MEMORY},   {"cpu", CG_F_CPU | CG_F_CPU_RT}, {"cpuset", CG_F_CPUSET},
    {"pids", CG_F_PIDS},       {"blkio", CG_F_IO},              {"hugetlb", CG_F_HUGETLB},
    {"devices", CG_F_DEVICES}, {"net_cls", CG_F_NET_CLS},       {"net_prio", CG_F_NET_PRIO},
    {"freezer", CG_F_FREEZER},
};

static unsigned v1_features(struct cgroup *cg) {
  unsigned f = 0;
  for (size_t i = 0; i < ARRAY_SIZE(controller_features); i++)
    if (find(cg, controller_features[i].name) != NULL)
      f |= controller_features[i].bits;
  return f;
}

/* A new cpuset cgroup starts with empty cpus and mems, and no process can
 * join it until they are set: give it its parent's. */
static int cpuset_inherit(const char *dir, void *ctx, berth_error **err) {
  (void)ctx;
  static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
  cleanup_free char *parent = strdup(dir);
  if (parent == NULL)
    return berth_fail(err, ENOMEM, "cpuset \"%s\"", dir);
  *strrchr(parent, '/') = '\0';
  for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
    cleanup_free char *cur = cg_read(dir, files[i], err);
    if (cur == NULL)
      return -1;
    if (cur[0] != '\0')
      continue;
    cleanup_free char *from = cg_read(parent, files[i], err);
    if (from == NULL)
      return -1;
    if (from[0] != '\0' && cg_write(dir, files[i], from, err) < 0)
      return -1;
  }
  return 0;
}

static int v1_create(struct cgroup *cg, berth_error **err) {
  for (size_t i = 0; i < cg->n_hier; i++) {
    struct cg_hier *h = &cg->hier[i];
    if (h->version != 1)
      continue;
    bool cpuset = cg_list_has(h->controllers, "cpuset");
    if (cg_make_dirs(h, cpuset ? cpuset_inherit : NULL, NULL, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- resources --------------------------------------------------------- */

/* Writes v1 to f1 and v2 to f2 in that order, or the other way round when
 * the first write fails with EINVAL (limits that must stay ordered). */
static int write_pair(const char *dir, const char *f1, const char *v1, const char *f2, const char *v2,
                      berth_error **err) {
  int r = cg_try_write(dir, f1, v1);
  if (r == -EINVAL) {
    berth_debug("cgroup: \"%s/%s\" refused \"%s\" first, writing \"%s\" first", dir, f1, v1, f2);
    if (cg_write(dir, f2, v2, err) < 0)
      return -1;
    return cg_write(dir, f1, v1, err);
  }
  if (r < 0)
    return berth_fail(err, -r, "write \"%s/%s\" = \"%s\"", dir, f1, v1);
  return cg_write(dir, f2, v2, err);
}

static int check_usage(const char *dir, const char *file, const struct spec_resources *r,
                       berth_error **err) {
  if (!r->has_check_before_update || !r->check_before_update || !r->has_memory_limit ||
      r->memory_limit <= 0)
    return 0;
  cleanup_free char *usage = cg_read(dir, file, err);
  if (usage == NULL)
    return -1;
  unsigned long long used = strtoull(usage, NULL, 10);
  if (used > (unsigned long long)r->memory_limit)
    return berth_fail(err, 0, "memory limit %" PRId64 " is below the current usage %llu of \"%s\"",
                      r->memory_limit, used, dir);
  return 0;
}

static int apply_memory(const char *dir, const struct spec_resources *r, berth_error **err) {
  if (r->has_memory_kernel || r->has_memory_kernel_tcp)
    berth_debug("cgroup: kernel memory limits are deprecated by the kernel; ignored");
  if (check_usage(dir, "memory.usage_in_bytes", r, err) < 0)
    return -1;
  /* 0 means "not set" for these, as runc reads them. */
  bool limit = r->has_memory_limit && r->memory_limit != 0;
  bool swap = r->has_memory_swap && r->memory_swap != 0;
  char limit_s[32], swap_s[32];
  cg_fmt_i64(limit_s, sizeof(limit_s), r->memory_limit, "-1");
  cg_fmt_i64(swap_s, sizeof(swap_s), r->memory_swap, "-1");
  if (swap && !cg_exists(dir, "memory.memsw.limit_in_bytes")) {
    /* Without swap accounting the file is missing; a swap limit that asks
     * for nothing beyond the memory limit is still honoured. */
    if (r->memory_swap != -1 && !(limit && r->memory_swap == r->memory_limit))
      return berth_fail(err, 0,
                        "memory+swap limit %" PRId64 " needs \"%s/memory.memsw.limit_in_bytes\", which "
                        "does not exist (swap accounting is off)",
                        r->memory_swap, dir);
    berth_debug("cgroup: no swap accounting in \"%s\"; swap limit %s needs none", dir, swap_s);
    swap = false;
  }
  /* The kernel keeps limit <= memsw at every step: raising both needs memsw
   * first, lowering both needs the limit first. */
  if (limit && swap) {
    if (write_pair(dir, "memory.limit_in_bytes", limit_s, "memory.memsw.limit_in_bytes", swap_s, err) < 0)
      return -1;
  } else if (limit) {
    if (cg_write(dir, "memory.limit_in_bytes", limit_s, err) < 0)
      return -1;
  } else if (swap) {
    if (cg_write(dir, "memory.memsw.limit_in_bytes", swap_s, err) < 0)
      return -1;
  }
  if (r->has_memory_reservation && r->memory_reservation != 0) {
    char v[32];
    cg_fmt_i64(v, sizeof(v), r->memory_reservation, "-1");
    if (cg_write(dir, "memory.soft_limit_in_bytes", v, err) < 0)
      return -1;
  }
  if (r->has_memory_swappiness && r->memory_swappiness != UINT64_MAX &&
      cg_writef(dir, "memory.swappiness", err, "%" PRIu64, r->memory_swappiness) < 0)
    return -1;
  if (r->has_disable_oom_killer &&
      cg_write(dir, "memory.oom_control", r->disable_oom_killer ? "1" : "0", err) < 0)
    return -1;
  return 0;
}

static int apply_cpu(const char *dir, const struct spec_resources *r, berth_error **err) {
  if (r->has_cpu_shares && r->cpu_shares != 0 &&
      cg_writef(dir, "cpu.shares", err, "%" PRIu64, r->cpu_shares) < 0)
    return -1;
  char quota[32], period[32];
  cg_fmt_i64(quota, sizeof(quota), r->cpu_quota > 0 ? r->cpu_quota : -1, "-1");
  snprintf(period, sizeof(period), "%" PRIu64, r->cpu_period);
  bool has_period = r->has_cpu_period && r->cpu_period != 0;
  /* The kernel checks quota against period at each write: the order that
   * works depends on the old values, hence the retry in write_pair. */
  if (has_period && r->has_cpu_quota) {
    if (write_pair(dir, "cpu.cfs_period_us", period, "cpu.cfs_quota_us", quota, err) < 0)
      return -1;
  } else if (has_period) {
    if (cg_write(dir, "cpu.cfs_period_us", period, err) < 0)
      return -1;
  } else if (r->has_cpu_quota) {
    if (cg_write(dir, "cpu.cfs_quota_us", quota, err) < 0)
      return -1;
  }
  if (r->has_cpu_burst && cg_writef(dir, "cpu.cfs_burst_us", err, "%" PRIu64, r->cpu_burst) < 0)
    return -1;
  if (r->has_cpu_idle && cg_writef(dir, "cpu.idle", err, "%" PRId64, r->cpu_idle) < 0)
    return -1;
  return 0;
}

static int apply_cpu_rt(const char *dir, const struct spec_resources *r, berth_error **err) {
  char runtime[32], period[32];
  snprintf(runtime, sizeof(runtime), "%" PRId64, r->cpu_rt_runtime);
  snprintf(period, sizeof(period), "%" PRIu64, r->cpu_rt_period);
  if (r->has_cpu_rt_period && r->has_cpu_rt_runtime)
    return write_pair(dir, "cpu.rt_period_us", period, "cpu.rt_runtime_us", runtime, err);
  if (r->has_cpu_rt_period)
    return cg_write(dir, "cpu.rt_period_us", period, err);
  return cg_write(dir, "cpu.rt_runtime_us", runtime, err);
}

static int apply_cpuset(const char *dir, const struct spec_resources *r, berth_error **err) {
  if (r->cpu_cpus != NULL && r->cpu_cpus[0] != '\0' && cg_write(dir, "cpuset.cpus", r->cpu_cpus, err) < 0)
    return -1;
  if (r->cpu_mems != NULL && r->cpu_mems[0] != '\0' && cg_write(dir, "cpuset.mems", r->cpu_mems, err) < 0)
    return -1;
  return 0;
}

/* blkio files depend on the I/O scheduler (blkio.weight needs CFQ or BFQ):
 * a missing one is skipped rather than failing the container. */
static int blkio_write(const char *dir, const char *file, const char *alt, const char *value,
                       berth_error **err) {
  if (cg_exists(dir, file))
    return cg_write(dir, file, value, err);
  if (alt != NULL && cg_exists(dir, alt))
    return cg_write(dir, alt, value, err);
  berth_debug("cgroup: no \"%s/%s\" (I/O scheduler); \"%s\" not applied", dir, file, value);
  return 0;
}

static int apply_pids(const char *dir, const struct spec_resources *r, berth_error **err) {
  char v[32];
  cg_fmt_i64(v, sizeof(v), r->pids_limit > 0 ? r->pids_limit : -1, "max");
  return cg_write(dir, "pids.max", v, err);
}

static int apply_blkio(const char *dir, const struct spec_resources *r, berth_error **err) {
  char v[64];
  if (r->has_blkio_weight) {
    snprintf(v, sizeof(v), "%u", r->blkio_weight);
    if (blkio_write(dir, "blkio.weight", "blkio.bfq.weight", v, err) < 0)
      return -1;
  }
  if (r->has_blkio_leaf_weight) {
    snprintf(v, sizeof(v), "%u", r->blkio_leaf_weight);
    if (blkio_write(dir, "blkio.leaf_weight", NULL, v, err) < 0)
      return -1;
  }
  for (size_t i = 0; i < r->n_blkio_weight_device; i++) {
    const struct spec_weight_device *d = &r->blkio_weight_device[i];
    if (d->has_weight) {
      snprintf(v, sizeof(v), "%" PRId64 ":%" PRId64 " %u", d->major, d->minor, d->weight);
      if (blkio_write(dir, "blkio.weight_device", "blkio.bfq.weight_device", v, err) < 0)
        return -1;
    }
    if (d->has_leaf_weight) {
      snprintf(v, sizeof(v), "%" PRId64 ":%" PRId64 " %u", d->major, d->minor, d->leaf_weight);
      if (blkio_write(dir, "blkio.leaf_weight_device", NULL, v, err) < 0)
        return -1;
    }
  }
  static const char *const throttle[4] = {
      "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
      "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
  for (size_t k = 0; k < 4; k++) {
    for (size_t i = 0; i < r->n_blkio_throttle[k]; i++) {
      const struct spec_throttle_device *d = &r->blkio_throttle[k][i];
      snprintf(v, sizeof(v), "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor, d->rate);
      if (blkio_write(dir, throttle[k], NULL, v, err) < 0)
        return -1;
    }
  }
  return 0;
}

static int apply_hugetlb(const char *dir, const struct spec_resources *r, berth_error **err) {
  for (size_t i = 0; i < r->n_hugepage_limits; i++) {
    char size[32], file[64];
    if (cg_hugetlb_name(r->hugepage_limits[i].page_size, size, sizeof(size), err) < 0)
      return -1;
    snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", size);
    if (cg_writef(dir, file, err, "%" PRIu64, r->hugepage_limits[i].limit) < 0)
      return -1;
  }
  return 0;
}

static int apply_devices(const char *dir, const struct spec_resources *r, berth_error **err) {
  for (size_t i = 0; i < r->n_devices; i++) {
    const struct spec_device_rule *d = &r->devices[i];
    char major[24] = "*", minor[24] = "*";
    if (d->major >= 0)
      snprintf(major, sizeof(major), "%" PRId64, d->major);
    if (d->minor >= 0)
      snprintf(minor, sizeof(minor), "%" PRId64, d->minor);
    const char *access = d->access[0] != '\0' ? d->access : "rwm";
    if (cg_writef(dir, d->allow ? "devices.allow" : "devices.deny", err, "%c %s:%s %s",
                  d->type != '\0' ? d->type : 'a', major, minor, access) < 0)
      return -1;
  }
  return 0;
}

static int apply_net(struct cgroup *cg, const struct spec_resources *r, unsigned mask, berth_error **err) {
  if ((mask & CG_F_NET_CLS) &&
      cg_writef(find(cg, "net_cls")->path, "net_cls.classid", err, "%u", r->net_class_id) < 0)
    return -1;
  if (mask & CG_F_NET_PRIO) {
    const char *dir = find(cg, "net_prio")->path;
    for (size_t i = 0; i < r->n_net_priorities; i++)
      if (cg_writef(dir, "net_prio.ifpriomap", err, "%s %s", r->net_priorities[i].key,
                    r->net_priorities[i].value) < 0)
        return -1;
  }
  return 0;
}

static int v1_apply(struct cgroup *cg, const struct spec_resources *r, unsigned mask, berth_error **err) {
  static const struct {
    unsigned bit;
    const char *controller;
    int (*fn)(const char *dir, const struct spec_resources *r, berth_error **err);
  } steps[] = {
      {CG_F_CPUSET, "cpuset", apply_cpuset}, {CG_F_MEMORY, "memory", apply_memory},
      {CG_F_CPU, "cpu", apply_cpu},          {CG_F_CPU_RT, "cpu", apply_cpu_rt},
      {CG_F_PIDS, "pids", apply_pids},             {CG_F_IO, "blkio", apply_blkio},
      {CG_F_HUGETLB, "hugetlb", apply_hugetlb}, {CG_F_DEVICES, "devices", apply_devices},
  };
  for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
    if (!(mask & steps[i].bit))
      continue;
    if (steps[i].fn(find(cg, steps[i].controller)->path, r, err) < 0)
      return -1;
  }
  return apply_net(cg, r, mask, err);
}

/* ---- freezer, processes, events --------------------------------------- */

struct freeze_wait {
  const char *dir, *want;
  unsigned polls;
};

static int freezer_reached(void *p, berth_error **err) {
  struct freeze_wait *w = p;
  cleanup_free char *state = cg_read(w->dir, "freezer.state", err);
  if (state == NULL)
    return -1;
  if (strcmp(state, w->want) == 0)
    return 1;
  /* A freeze can stall in FREEZING while a task sleeps in the kernel;
   * asking again makes the kernel retry it. */
  if (++w->polls % 8 == 0 && cg_write(w->dir, "freezer.state", w->want, err) < 0)
    return -1;
  return 0;
}

static int v1_freeze(struct cgroup *cg, bool frozen, berth_error **err) {
  const char *dir = find(cg, "freezer")->path;
  struct freeze_wait w = {.dir = dir, .want = frozen ? "FROZEN" : "THAWED"};
  if (cg_write(dir, "freezer.state", w.want, err) < 0)
    return -1;
  int r = cg_poll(freezer_reached, &w, FREEZE_TIMEOUT_MS, err);
  if (r < 0)
    return -1;
  if (r == 0) {
    if (frozen)
      (void)cg_try_write(dir, "freezer.state", "THAWED");
    return berth_fail(err, ETIMEDOUT, "%s \"%s\"", frozen ? "freeze" : "thaw", dir);
  }
  return 0;
}

static int v1_is_frozen(struct cgroup *cg, bool *frozen, berth_error **err) {
  cleanup_free char *state = cg_read(find(cg, "freezer")->path, "freezer.state", err);
  if (state == NULL)
    return -1;
  *frozen = strcmp(state, "FROZEN") == 0;
  return 0;
}

/* Every hierarchy holds all the container's processes; these are the ones
 * most likely to be mounted. */
static const char *v1_procs_dir(struct cgroup *cg) {
  static const char *const prefer[] = {"freezer", "pids", "memory", "cpu", "devices"};
  for (size_t i = 0; i < ARRAY_SIZE(prefer); i++) {
    struct cg_hier *h = find(cg, prefer[i]);
    if (h != NULL)
      return h->path;
  }
  return cg->hier[0].path;
}

static int v1_oom_kills(struct cgroup *cg, unsigned long long *count, berth_error **err) {
  return cg_read_key(find(cg, "memory")->path, "memory.oom_control", "oom_kill", count, err);
}

const struct cgroup_ops cgroup_v1_ops = {
    .name = "v1",
    .features = v1_features,
    .create = v1_create,
    .apply = v1_apply,
    .freeze = v1_freeze,
    .is_frozen = v1_is_frozen,
    .procs_dir = v1_procs_dir,
    .kill = NULL,
    .oom_kills = v1_oom_kills,
};
