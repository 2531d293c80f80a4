/* The unified back end: one cgroup2 hierarchy.  On a hybrid host the same
 * code drives the cgroup2 mount next to the legacy ones, where it only gets
 * the resources of controllers bound there (cgroup.c decides that).
 *
 * Device rules have no files on cgroup2: they become a small eBPF program
 * of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/cgroup/internal.h"
#include "util/cleanup.h"
#include "util/log.h"

#define FREEZE_TIMEOUT_MS 4000

static struct cg_hier *v2_hier(struct cgroup *cg) {
  for (size_t i = cg->n_hier; i-- > 0;)
    if (cg->hier[i].version == 2)
      return &cg->hier[i];
  return &cg->hier[cg->n_hier - 1];
}

static const struct {
  const char *name;
  unsigned bit;
} controller_features[] = {
    {"memory", CG_F_MEMORY}, {"cpu", CG_F_CPU},   {"cpuset", CG_F_CPUSET},
    {"pids", CG_F_PIDS},     {"io", CG_F_IO},     {"hugetlb", CG_F_HUGETLB},
};

static unsigned v2_features(struct cgroup *cg) {
  /* Freezing (cgroup.freeze), device programs and raw unified files need
   * no controller. */
  unsigned f = CG_F_FREEZER | CG_F_DEVICES | CG_F_UNIFIED;
  cleanup_free char *avail = cg_read(v2_hier(cg)->mount, "cgroup.controllers", NULL);
  for (size_t i = 0; avail != NULL && i < ARRAY_SIZE(controller_features); i++)
    if (cg_list_has(avail, controller_features[i].name))
      f |= controller_features[i].bit;
  return f;
}

/* A controller's files appear in a cgroup only once every ancestor lists it
 * in cgroup.subtree_control; walk from the top down to the parent. */
static int enable_controllers(struct cg_hier *h, const char *const *names, size_t n, bool strict,
                              berth_error **err) {
  if (n == 0)
    return 0;
  cleanup_free char *dir = strdup(h->path);
  if (dir == NULL)
    return berth_fail(err, ENOMEM, "enable controllers for \"%s\"", h->path);
  char *leaf = strrchr(dir, '/');
  for (char *p = dir + strlen(h->mount);;) {
    char saved = *p;
    *p = '\0';
    cleanup_error berth_error *e = NULL;
    cleanup_free char *enabled = cg_read(dir, "cgroup.subtree_control", strict ? err : &e);
    if (enabled == NULL && strict)
      return -1;
    for (size_t i = 0; enabled != NULL && i < n; i++) {
      if (cg_list_has(enabled, names[i]))
        continue;
      char value[64];
      snprintf(value, sizeof(value), "+%s", names[i]);
      int r = cg_try_write(dir, "cgroup.subtree_control", value);
      if (r < 0 && strict)
        return berth_fail(err, -r,
                          "enable controller \"%s\" for \"%s\": write \"%s/cgroup.subtree_control\" = \"%s\"%s",
                          names[i], h->path, dir, value,
                          r == -EBUSY ? " (that cgroup has processes of its own)" : "");
      if (r < 0)
        berth_debug("cgroup: controller \"%s\" not enabled in \"%s\": %s", names[i], dir, strerror(-r));
    }
    *p = saved;
    if (p == leaf)
      return 0;
    p = strchr(p + 1, '/');
  }
}

static int v2_create(struct cgroup *cg, berth_error **err) {
  struct cg_hier *h = v2_hier(cg);
  if (cg_make_dirs(h, NULL, NULL, err) < 0)
    return -1;
  if (!cg->v2_enable_all)
    return 0;
  cleanup_free char *avail = cg_read(h->mount, "cgroup.controllers", NULL);
  if (avail == NULL)
    return 0;
  const char *names[32];
  size_t n = 0;
  char *save = NULL;
  for (char *t = strtok_r(avail, " \n", &save); t != NULL && n < ARRAY_SIZE(names);
       t = strtok_r(NULL, " \n", &save))
    names[n++] = t;
  return enable_controllers(h, names, n, false, err);
}

/* ---- resources --------------------------------------------------------- */

static int apply_memory(const char *dir, const struct spec_resources *r, berth_error **err) {
  if (r->has_memory_kernel || r->has_memory_kernel_tcp)
    berth_debug("cgroup: kernel memory limits are deprecated by the kernel; ignored");
  if (r->has_check_before_update && r->check_before_update && r->has_memory_limit && r->memory_limit > 0) {
    cleanup_free char *cur = cg_read(dir, "memory.current", err);
    if (cur == NULL)
      return -1;
    unsigned long long used = strtoull(cur, NULL, 10);
    if (used > (unsigned long long)r->memory_limit)
      return berth_fail(err, 0, "memory limit %" PRId64 " is below the current usage %llu of \"%s\"",
                        r->memory_limit, used, dir);
  }
  /* OCI's swap is memory+swap; cgroup2 limits swap alone.  Work it out
   * before writing anything, so a bad update changes nothing. */
  bool limit = r->has_memory_limit && r->memory_limit != 0;
  bool set_swap = r->has_memory_swap && r->memory_swap != 0;
  char v[32], swap_v[32];
  if (set_swap) {
    int64_t mem = limit ? r->memory_limit : -1;
    if (!limit) {
      /* swap alone (an update): against the limit in force */
      cleanup_free char *cur = cg_read(dir, "memory.max", NULL);
      if (cur != NULL && cur[0] >= '0' && cur[0] <= '9')
        mem = strtoll(cur, NULL, 10);
    }
    int64_t swap = -1;
    if (r->memory_swap >= 0) {
      if (mem < 0)
        return berth_fail(err, 0, "memory+swap limit %" PRId64 " needs a memory limit on cgroup v2",
                          r->memory_swap);
      if (r->memory_swap < mem)
        return berth_fail(err, 0, "memory+swap limit %" PRId64 " is below the memory limit %" PRId64,
                          r->memory_swap, mem);
      swap = r->memory_swap - mem;
    }
    cg_fmt_i64(swap_v, sizeof(swap_v), swap, "max");
    if (!cg_exists(dir, "memory.swap.max")) {
      if (swap > 0)
        return berth_fail(err, 0, "swap limit %s needs \"%s/memory.swap.max\", which does not exist "
                          "(swap accounting is off)", swap_v, dir);
      berth_debug("cgroup: no swap accounting in \"%s\"; swap limit %s needs none", dir, swap_v);
      set_swap = false;
    }
  }
  if (limit) {
    cg_fmt_i64(v, sizeof(v), r->memory_limit, "max");
    if (cg_write(dir, "memory.max", v, err) < 0)
      return -1;
  }
  if (set_swap && cg_write(dir, "memory.swap.max", swap_v, err) < 0)
    return -1;
  if (r->has_memory_reservation && r->memory_reservation != 0) {
    cg_fmt_i64(v, sizeof(v), r->memory_reservation, "max");
    if (cg_write(dir, "memory.low", v, err) < 0)
      return -1;
  }
  if (r->has_memory_swappiness && r->memory_swappiness != UINT64_MAX)
    berth_debug("cgroup: cgroup v2 has no per-cgroup swappiness; ignored");
  if (r->has_disable_oom_killer && r->disable_oom_killer)
    berth_warn("cgroup v2 cannot disable the OOM killer for a cgroup; disableOOMKiller ignored");
  return 0;
}

/* cpu.shares 2..262144 (default 1024) onto cpu.weight 1..10000 (default 100). */
static uint64_t shares_to_weight(uint64_t shares) {
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

static int apply_cpu(const char *dir, const struct spec_resources *r, berth_error **err) {
  if (r->has_cpu_shares && r->cpu_shares != 0 &&
      cg_writef(dir, "cpu.weight", err, "%" PRIu64, shares_to_weight(r->cpu_shares)) < 0)
    return -1;
  bool period = r->has_cpu_period && r->cpu_period != 0;
  if (r->has_cpu_quota || period) {
    char quota[32] = "max";
    if (r->has_cpu_quota) {
      cg_fmt_i64(quota, sizeof(quota), r->cpu_quota > 0 ? r->cpu_quota : -1, "max");
    } else {
      /* A new period alone keeps the quota there is (an update). */
      cleanup_free char *cur = cg_read(dir, "cpu.max", NULL);
      if (cur != NULL && cur[0] != '\0')
        snprintf(quota, sizeof(quota), "%.*s", (int)strcspn(cur, " "), cur);
    }
    int rc = period ? cg_writef(dir, "cpu.max", err, "%s %" PRIu64, quota, r->cpu_period)
                    : cg_write(dir, "cpu.max", quota, err);
    if (rc < 0)
      return -1;
  }
  if (r->has_cpu_burst && cg_writef(dir, "cpu.max.burst", err, "%" PRIu64, r->cpu_burst) < 0)
    return -1;
  if (r->has_cpu_idle && cg_writef(dir, "cpu.idle", err, "%" PRId64, r->cpu_idle) < 0)
    return -1;
  return 0;
}

static int apply_cpuset(const char *dir, const struct spec_resources *r, berth_error **err) {
  if (r->cpu_cpus != NULL && r->cpu_cpus[0] != '\0' && cg_write(dir, "cpuset.cpus", r->cpu_cpus, err) < 0)
    return -1;
  if (r->cpu_mems != NULL && r->cpu_mems[0] != '\0' && cg_write(dir, "cpuset.mems", r->cpu_mems, err) < 0)
    return -1;
  return 0;
}

static int apply_pids(const char *dir, const struct spec_resources *r, berth_error **err) {
  char v[32];
  cg_fmt_i64(v, sizeof(v), r->pids_limit > 0 ? r->pids_limit : -1, "max");
  return cg_write(dir, "pids.max", v, err);
}

/* blkio.weight 10..1000 onto io.weight 1..10000. */
static unsigned blkio_to_io_weight(unsigned w) {
  if (w < 10)
    w = 10;
  if (w > 1000)
    w = 1000;
  return 1 + (w - 10) * 9999 / 990;
}

/* io.weight needs the iocost controller; under BFQ only io.bfq.weight
 * exists, on blkio's scale; with neither the weight is skipped, as on v1. */
static int write_weight(const char *dir, const char *device, unsigned weight, berth_error **err) {
  const char *file = "io.weight";
  unsigned value = blkio_to_io_weight(weight);
  if (!cg_exists(dir, file)) {
    file = "io.bfq.weight";
    value = weight;
    if (!cg_exists(dir, file)) {
      berth_debug("cgroup: no io.weight nor io.bfq.weight in \"%s\"; weight %u not applied", dir, weight);
      return 0;
    }
  }
  if (device[0] == '\0')
    return cg_writef(dir, file, err, "default %u", value);
  return cg_writef(dir, file, err, "%s %u", device, value);
}

struct io_max {
  int64_t major, minor;
  bool has[4];
  uint64_t rate[4];
};

static int apply_io(const char *dir, const struct spec_resources *r, berth_error **err) {
  if (r->has_blkio_weight && r->blkio_weight != 0 && write_weight(dir, "", r->blkio_weight, err) < 0)
    return -1;
  if (r->has_blkio_leaf_weight)
    berth_debug("cgroup: cgroup v2 has no leaf weight; ignored");
  for (size_t i = 0; i < r->n_blkio_weight_device; i++) {
    const struct spec_weight_device *d = &r->blkio_weight_device[i];
    char dev[48];
    snprintf(dev, sizeof(dev), "%" PRId64 ":%" PRId64, d->major, d->minor);
    if (d->has_weight && write_weight(dir, dev, d->weight, err) < 0)
      return -1;
  }
  /* io.max takes every limit of a device on one line. */
  size_t total = 0;
  for (size_t k = 0; k < 4; k++)
    total += r->n_blkio_throttle[k];
  if (total == 0)
    return 0;
  cleanup_free struct io_max *devs = calloc(total, sizeof(*devs));
  if (devs == NULL)
    return berth_fail(err, ENOMEM, "io.max for \"%s\"", dir);
  size_t n = 0;
  for (size_t k = 0; k < 4; k++) {
    for (size_t i = 0; i < r->n_blkio_throttle[k]; i++) {
      const struct spec_throttle_device *t = &r->blkio_throttle[k][i];
      size_t j = 0;
      while (j < n && !(devs[j].major == t->major && devs[j].minor == t->minor))
        j++;
      if (j == n) {
        devs[n].major = t->major;
        devs[n].minor = t->minor;
        n++;
      }
      devs[j].has[k] = true;
      devs[j].rate[k] = t->rate;
    }
  }
  static const char *const keys[4] = {"rbps", "wbps", "riops", "wiops"};
  for (size_t j = 0; j < n; j++) {
    char line[256];
    int len = snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64, devs[j].major, devs[j].minor);
    for (size_t k = 0; k < 4; k++) {
      if (!devs[j].has[k])
        continue;
      /* 0 lifts the limit on v1; "max" says so on v2. */
      if (devs[j].rate[k] == 0)
        len += snprintf(line + len, sizeof(line) - (size_t)len, " %s=max", keys[k]);
      else
        len += snprintf(line + len, sizeof(line) - (size_t)len, " %s=%" PRIu64, keys[k], devs[j].rate[k]);
    }
    if (cg_write(dir, "io.max", line, err) < 0)
      return -1;
  }
  return 0;
}

static int apply_hugetlb(const char *dir, const struct spec_resources *r, berth_error **err) {
  for (size_t i = 0; i < r->n_hugepage_limits; i++) {
    char size[32], file[64];
    if (cg_hugetlb_name(r->hugepage_limits[i].page_size, size, sizeof(size), err) < 0)
      return -1;
    snprintf(file, sizeof(file), "hugetlb.%s.max", size);
    if (cg_writef(dir, file, err, "%" PRIu64, r->hugepage_limits[i].limit) < 0)
      return -1;
  }
  return 0;
}

static int apply_devices(const char *dir, const struct spec_resources *r, berth_error **err) {
  return cg_v2_set_devices(dir, r->devices, r->n_devices, err);
}

static int v2_apply(struct cgroup *cg, const struct spec_resources *r, unsigned mask, berth_error **err) {
  struct cg_hier *h = v2_hier(cg);
  /* Controllers to enable: those of the requested resources, and those
   * that unified keys name ("memory.high" -> memory). */
  const char *names[ARRAY_SIZE(controller_features) + 16];
  size_t n = 0;
  for (size_t i = 0; i < ARRAY_SIZE(controller_features); i++)
    if (mask & controller_features[i].bit)
      names[n++] = controller_features[i].name;
  cleanup_free char *avail = NULL;
  if ((mask & CG_F_UNIFIED) && r->n_unified > 0)
    avail = cg_read(h->mount, "cgroup.controllers", NULL);
  char prefixes[16][32];
  size_t np = 0;
  for (size_t i = 0; avail != NULL && i < r->n_unified && np < ARRAY_SIZE(prefixes); i++) {
    const char *key = r->unified[i].key;
    size_t len = strcspn(key, ".");
    if (key[len] == '\0' || len >= sizeof(prefixes[0]))
      continue;
    char *p = prefixes[np];
    memcpy(p, key, len);
    p[len] = '\0';
    bool dup = false;
    for (size_t j = 0; j < n; j++)
      dup = dup || strcmp(names[j], p) == 0;
    if (!dup && cg_list_has(avail, p)) {
      names[n++] = p;
      np++;
    }
  }
  if (enable_controllers(h, names, n, true, err) < 0)
    return -1;

  static const struct {
    unsigned bit;
    int (*fn)(const char *dir, const struct spec_resources *r, berth_error **err);
  } steps[] = {
      {CG_F_CPUSET, apply_cpuset}, {CG_F_MEMORY, apply_memory},   {CG_F_CPU, apply_cpu},
      {CG_F_PIDS, apply_pids},     {CG_F_IO, apply_io},           {CG_F_HUGETLB, apply_hugetlb},
      {CG_F_DEVICES, apply_devices},
  };
  for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
    if ((mask & steps[i].bit) && steps[i].fn(h->path, r, err) < 0)
      return -1;
  /* Last, so a raw value can override a converted one. */
  if (mask & CG_F_UNIFIED)
    for (size_t i = 0; i < r->n_unified; i++)
      if (cg_write(h->path, r->unified[i].key, r->unified[i].value, err) < 0)
        return -1;
  return 0;
}

/* ---- freezer, processes, events --------------------------------------- */

struct freeze_wait {
  const char *dir;
  unsigned long long want;
};

static int frozen_reached(void *p, berth_error **err) {
  struct freeze_wait *w = p;
  unsigned long long v = 0;
  if (cg_read_key(w->dir, "cgroup.events", "frozen", &v, err) < 0)
    return -1;
  return v == w->want;
}

static int v2_freeze(struct cgroup *cg, bool frozen, berth_error **err) {
  const char *dir = v2_hier(cg)->path;
  struct freeze_wait w = {.dir = dir, .want = frozen};
  if (cg_write(dir, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
    return -1;
  int r = cg_poll(frozen_reached, &w, FREEZE_TIMEOUT_MS, err);
  if (r < 0)
    return -1;
  if (r == 0) {
    if (frozen)
      (void)cg_try_write(dir, "cgroup.freeze", "0");
    return berth_fail(err, ETIMEDOUT, "%s \"%s\"", frozen ? "freeze" : "thaw", dir);
  }
  return 0;
}

static int v2_is_frozen(struct cgroup *cg, bool *frozen, berth_error **err) {
  unsigned long long v = 0;
  if (cg_read_key(v2_hier(cg)->path, "cgroup.events", "frozen", &v, err) < 0)
    return -1;
  *frozen = v != 0;
  return 0;
}

static const char *v2_procs_dir(struct cgroup *cg) {
  return v2_hier(cg)->path;
}

/* cgroup.kill (Linux 5.14) kills the whole subtree, forks included. */
static int v2_kill(struct cgroup *cg, berth_error **err) {
  const char *dir = v2_hier(cg)->path;
  if (!cg_exists(dir, "cgroup.kill"))
    return 0;
  return cg_write(dir, "cgroup.kill", "1", err) < 0 ? -1 : 1;
}

static int v2_oom_kills(struct cgroup *cg, unsigned long long *count, berth_error **err) {
  return cg_read_key(v2_hier(cg)->path, "memory.events", "oom_kill", count, err);
}

const struct cgroup_ops cgroup_v2_ops = {
    .name = "v2",
    .features = v2_features,
    .create = v2_create,
    .apply = v2_apply,
    .freeze = v2_freeze,
    .is_frozen = v2_is_frozen,
    .procs_dir = v2_procs_dir,
    .kill = v2_kill,
    .oom_kills = v2_oom_kills,
};

/* ---- devices: eBPF ------------------------------------------------------ */

struct prog {
  struct bpf_insn *v;
  size_t n, cap;
  bool oom;
};

static size_t emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    struct bpf_insn *nv = realloc(p->v, cap * sizeof(*nv));
    if (nv == NULL) {
      p->oom = true;
      return p->n;
    }
    p->v = nv;
    p->cap = cap;
  }
  p->v[p->n] = (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
  return p->n++;
}

/* Registers: r1 ctx, r2 access_type, r3 device type, r4 access bits,
 * r5 major, r6 minor, r7 scratch. */
#define LDX_W (BPF_LDX | BPF_W | BPF_MEM)
#define MOV_K (BPF_ALU64 | BPF_MOV | BPF_K)
#define MOV_X (BPF_ALU64 | BPF_MOV | BPF_X)
#define AND_K (BPF_ALU64 | BPF_AND | BPF_K)
#define RSH_K (BPF_ALU64 | BPF_RSH | BPF_K)
#define JNE_K (BPF_JMP | BPF_JNE | BPF_K)
#define JEQ_K (BPF_JMP | BPF_JEQ | BPF_K)
#define EXIT (BPF_JMP | BPF_EXIT)

int cg_v2_device_program(const struct spec_device_rule *rules, size_t n, struct bpf_insn **insns,
                         size_t *n_insns, berth_error **err) {
  struct prog p = {0};
  emit(&p, LDX_W, 2, 1, (int16_t)offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
  emit(&p, MOV_X, 3, 2, 0, 0);
  emit(&p, AND_K, 3, 0, 0, 0xffff);
  emit(&p, MOV_X, 4, 2, 0, 0);
  emit(&p, RSH_K, 4, 0, 0, 16);
  emit(&p, LDX_W, 5, 1, (int16_t)offsetof(struct bpf_cgroup_dev_ctx, major), 0);
  emit(&p, LDX_W, 6, 1, (int16_t)offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
  bool open_end = true;
  /* Later rules override earlier ones: test them last to first and let the
   * first match decide. */
  for (size_t i = n; i-- > 0;) {
    const struct spec_device_rule *d = &rules[i];
    int32_t type;
    switch (d->type) {
    case 'a': case '\0': type = 0; break;
    case 'c': type = BPF_DEVCG_DEV_CHAR; break;
    case 'b': type = BPF_DEVCG_DEV_BLOCK; break;
    default:
      free(p.v);
      return berth_fail(err, 0, "device rule %zu: type '%c' is not a, b or c", i, d->type);
    }
    int32_t access = 0;
    for (const char *a = d->access; *a != '\0'; a++) {
      if (*a == 'r')
        access |= BPF_DEVCG_ACC_READ;
      else if (*a == 'w')
        access |= BPF_DEVCG_ACC_WRITE;
      else if (*a == 'm')
        access |= BPF_DEVCG_ACC_MKNOD;
      else {
        free(p.v);
        return berth_fail(err, 0, "device rule %zu: access \"%s\" is not a subset of \"rwm\"", i, d->access);
      }
    }
    const int32_t all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
    if (access == 0)
      access = all;
    if (d->major > INT32_MAX || d->minor > INT32_MAX) {
      free(p.v);
      return berth_fail(err, 0, "device rule %zu: device number out of range", i);
    }
    size_t jumps[4], nj = 0;
    if (type != 0)
      jumps[nj++] = emit(&p, JNE_K, 3, 0, 0, type);
    if (access != all) {
      /* An allow rule covers a request only if it grants every bit asked
       * for; a deny rule hits a request asking for any bit it names. */
      emit(&p, MOV_X, 7, 4, 0, 0);
      emit(&p, AND_K, 7, 0, 0, d->allow ? (all & ~access) : access);
      jumps[nj++] = emit(&p, d->allow ? JNE_K : JEQ_K, 7, 0, 0, 0);
    }
    if (d->major >= 0)
      jumps[nj++] = emit(&p, JNE_K, 5, 0, 0, (int32_t)d->major);
    if (d->minor >= 0)
      jumps[nj++] = emit(&p, JNE_K, 6, 0, 0, (int32_t)d->minor);
    emit(&p, MOV_K, 0, 0, 0, d->allow ? 1 : 0);
    emit(&p, EXIT, 0, 0, 0, 0);
    if (p.oom)
      break;
    for (size_t j = 0; j < nj; j++)
      p.v[jumps[j]].off = (int16_t)(p.n - jumps[j] - 1);
    if (nj == 0) {
      /* Matches everything: the verifier refuses code that cannot run. */
      open_end = false;
      break;
    }
  }
  if (open_end) {
    emit(&p, MOV_K, 0, 0, 0, 1);
    emit(&p, EXIT, 0, 0, 0, 0);
  }
  if (p.oom || p.n > INT16_MAX) {
    free(p.v);
    return berth_fail(err, p.oom ? ENOMEM : E2BIG, "device cgroup program");
  }
  *insns = p.v;
  *n_insns = p.n;
  return 0;
}

static int bpf(int cmd, union bpf_attr *attr) {
  return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static uint64_t ptr64(const void *p) {
  return (uint64_t)(uintptr_t)p;
}

static int load_program(const struct bpf_insn *insns, size_t n, berth_error **err) {
  static const char license[] = "Apache-2.0";
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = ptr64(insns);
  a.insn_cnt = (uint32_t)n;
  a.license = ptr64(license);
  int fd = bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0)
    return fd;
  int e = errno;
  /* Load again with the verifier's log, for the message. */
  char log[2048] = "";
  a.log_buf = ptr64(log);
  a.log_size = sizeof(log);
  a.log_level = 1;
  fd = bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0)
    return fd;
  size_t len = strlen(log);
  while (len > 0 && log[len - 1] == '\n')
    log[--len] = '\0';
  const char *last = strrchr(log, '\n');
  return berth_fail(err, e, "load device cgroup program%s%s", log[0] != '\0' ? ": " : "",
                    last != NULL ? last + 1 : log);
}

int cg_v2_set_devices(const char *dir, const struct spec_device_rule *rules, size_t n, berth_error **err) {
  cleanup_free struct bpf_insn *insns = NULL;
  size_t n_insns = 0;
  if (cg_v2_device_program(rules, n, &insns, &n_insns, err) < 0)
    return -1;
  cleanup_close int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0)
    return berth_fail(err, errno, "open \"%s\"", dir);

  uint32_t old[64];
  union bpf_attr q;
  memset(&q, 0, sizeof(q));
  q.query.target_fd = (uint32_t)cgfd;
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = ptr64(old);
  q.query.prog_cnt = ARRAY_SIZE(old);
  if (bpf(BPF_PROG_QUERY, &q) < 0)
    return berth_fail(err, errno, "query device programs of \"%s\"", dir);
  uint32_t n_old = q.query.prog_cnt;
  /* A single program attached without BPF_F_ALLOW_MULTI can only be
   * replaced in the same mode; otherwise add ours, then drop the old ones,
   * so the cgroup is never without rules. */
  bool multi = n_old == 0 || (q.query.attach_flags & BPF_F_ALLOW_MULTI);

  cleanup_close int progfd = load_program(insns, n_insns, err);
  if (progfd < 0)
    return berth_error_wrap(err, "devices of \"%s\"", dir);
  union bpf_attr at;
  memset(&at, 0, sizeof(at));
  at.target_fd = (uint32_t)cgfd;
  at.attach_bpf_fd = (uint32_t)progfd;
  at.attach_type = BPF_CGROUP_DEVICE;
  at.attach_flags = multi ? BPF_F_ALLOW_MULTI : q.query.attach_flags;
  if (bpf(BPF_PROG_ATTACH, &at) < 0)
    return berth_fail(err, errno, "attach device program to \"%s\"", dir);
  for (uint32_t i = 0; multi && i < n_old && i < ARRAY_SIZE(old); i++) {
    union bpf_attr g;
    memset(&g, 0, sizeof(g));
    g.prog_id = old[i];
    cleanup_close int oldfd = bpf(BPF_PROG_GET_FD_BY_ID, &g);
    if (oldfd < 0) {
      if (errno == ENOENT)
        continue;
      return berth_fail(err, errno, "find device program %u of \"%s\"", old[i], dir);
    }
    union bpf_attr dt;
    memset(&dt, 0, sizeof(dt));
    dt.target_fd = (uint32_t)cgfd;
    dt.attach_bpf_fd = (uint32_t)oldfd;
    dt.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, &dt) < 0 && errno != ENOENT)
      return berth_fail(err, errno, "detach old device program from \"%s\"", dir);
  }
  return 0;
}
