/* Shared between cgroup.c and the back ends (v1.c, v2.c); not a public API.
 *
 * A struct cgroup holds one entry per hierarchy (legacy ones first, the
 * cgroup2 one last) and one or two back ends ("parts").  A host in hybrid
 * mode is not a third back end: it is the v1 part plus the v2 part, and
 * cgroup.c hands each resource to the first part whose hierarchies can take
 * it.  That is the only place the mode is looked at. */
#ifndef BERTH_RUNTIME_CGROUP_INTERNAL_H
#define BERTH_RUNTIME_CGROUP_INTERNAL_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/cgroup/cgroup.h"
#include "runtime/spec.h"
#include "util/error.h"

struct cg_hier {
  int version;       /* 1: a legacy hierarchy, 2: the unified one */
  char *controllers; /* as /proc/self/cgroup names it: "cpu,cpuacct", "name=systemd"; "" for cgroup2 */
  char *mount;       /* the hierarchy's top directory as this process sees it */
  char *rel;         /* the container's cgroup below mount, cleaned: "/a/b" */
  char *path;        /* mount + rel */
  unsigned made;     /* how many trailing components of rel cgroup_create made */
};

/* What a part can do for a container: one bit per group of resources, plus
 * the freezer.  cgroup.c gives each requested bit to the first part that
 * has it, and fails with a clear message when none has. */
enum cg_feature {
  CG_F_MEMORY = 1u << 0,
  CG_F_CPU = 1u << 1,
  CG_F_CPU_RT = 1u << 2,
  CG_F_CPUSET = 1u << 3,
  CG_F_PIDS = 1u << 4,
  CG_F_IO = 1u << 5,
  CG_F_HUGETLB = 1u << 6,
  CG_F_DEVICES = 1u << 7,
  CG_F_NET_CLS = 1u << 8,
  CG_F_NET_PRIO = 1u << 9,
  CG_F_UNIFIED = 1u << 10,
  CG_F_FREEZER = 1u << 11,
};

struct cgroup_ops {
  const char *name;
  unsigned (*features)(struct cgroup *cg);
  /* Makes the part's directories, counting in cg_hier.made what it made. */
  int (*create)(struct cgroup *cg, berth_error **err);
  /* Writes the resources of the groups in mask (a subset of features()). */
  int (*apply)(struct cgroup *cg, const struct spec_resources *r, unsigned mask, berth_error **err);
  int (*freeze)(struct cgroup *cg, bool frozen, berth_error **err);
  int (*is_frozen)(struct cgroup *cg, bool *frozen, berth_error **err);
  /* The directory whose cgroup.procs (and descendants') list the container's processes. */
  const char *(*procs_dir)(struct cgroup *cg);
  /* Kills everything at once if the kernel can (cgroup.kill): 1 done, 0 cannot. NULL: cannot. */
  int (*kill)(struct cgroup *cg, berth_error **err);
  int (*oom_kills)(struct cgroup *cg, unsigned long long *count, berth_error **err);
};

struct cgroup {
  enum cgroup_mode mode;
  struct cg_hier *hier;
  size_t n_hier;
  const struct cgroup_ops *parts[2];
  size_t n_parts;
  /* Pure v2: enable every available controller for the container (best
   * effort), as other runtimes do; the hybrid cgroup2 part only enables
   * what a resource needs, so the host's unified root is left alone. */
  bool v2_enable_all;
};

extern const struct cgroup_ops cgroup_v1_ops;
extern const struct cgroup_ops cgroup_v2_ops;

/* ---- helpers (cgroup.c) ----------------------------------------------- */

/* dir/file via berth_sys; 0 or -errno, no message (for callers that retry). */
int cg_try_write(const char *dir, const char *file, const char *value);
/* Fails with `write "<dir>/<file>" = "<value>": <cause>`. */
int cg_write(const char *dir, const char *file, const char *value, berth_error **err);
int cg_writef(const char *dir, const char *file, berth_error **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Whole file, NUL-terminated, trailing white space removed. */
char *cg_read(const char *dir, const char *file, berth_error **err);
/* The number after "<key> " in a flat keyed file (memory.events, ...). */
int cg_read_key(const char *dir, const char *file, const char *key, unsigned long long *value,
                berth_error **err);
bool cg_exists(const char *dir, const char *file);
/* Whether a comma or blank separated list holds word. */
bool cg_list_has(const char *list, const char *word);
/* Makes each missing directory of h->rel below h->mount, top-down, and calls
 * made_hook(dir, ctx) right after making each (cpuset needs that). */
int cg_make_dirs(struct cg_hier *h, int (*made_hook)(const char *dir, void *ctx, berth_error **err),
                 void *ctx, berth_error **err);
/* Polls check() (1 done, 0 not yet, <0 error) with short sleeps for up to
 * timeout_ms; returns 1 done, 0 timed out, -1 on error. */
int cg_poll(int (*check)(void *ctx, berth_error **err), void *ctx, unsigned timeout_ms,
            berth_error **err);
/* "2MB" (or "2M", "2MiB", "2048KB") -> the kernel's name for the size, "2MB". */
int cg_hugetlb_name(const char *page_size, char *buf, size_t size, berth_error **err);
/* Formats a limit: a negative value is "max" on v2 / "-1" on v1. */
void cg_fmt_i64(char *buf, size_t size, int64_t value, const char *unlimited);

/* ---- v2 devices (v2.c), exposed for the unit tests --------------------- */

/* Compiles OCI device rules into a BPF_PROG_TYPE_CGROUP_DEVICE program:
 * the last matching rule decides; no match allows (as on v1, where a new
 * cgroup starts from its parent's allow-all list). */
int cg_v2_device_program(const struct spec_device_rule *rules, size_t n, struct bpf_insn **insns,
                         size_t *n_insns, berth_error **err);
/* Loads it and attaches it to the cgroup2 directory dir, replacing the
 * device programs attached before (update). */
int cg_v2_set_devices(const char *dir, const struct spec_device_rule *rules, size_t n,
                      berth_error **err);

#endif
