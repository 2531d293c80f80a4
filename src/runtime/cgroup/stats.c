/* Usage figures from a container's cgroup files.  Each figure is read from
 * the hierarchy that holds its controller: a legacy one when a v1
 * hierarchy has it (hybrid hosts keep memory, cpuacct, blkio and pids there),
 * otherwise the unified one when the controller is enabled for the cgroup. */
#include "runtime/cgroup/stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cgroup/internal.h"
#include "util/cleanup.h"

/* The files a figure needs, per hierarchy version. */
struct source {
  const struct cg_hier *hier; /* NULL: nowhere */
  int version;
};

/* v2_controller NULL: a core file every cgroup2 directory has (cpu.stat). */
static struct source holder(struct cgroup *cg, const char *v1_controller, const char *v2_controller) {
  for (size_t i = 0; i < cg->n_hier; i++)
    if (cg->hier[i].version == 1 && cg_list_has(cg->hier[i].controllers, v1_controller))
      return (struct source){&cg->hier[i], 1};
  for (size_t i = 0; i < cg->n_hier; i++) {
    if (cg->hier[i].version != 2)
      continue;
    if (v2_controller == NULL)
      return (struct source){&cg->hier[i], 2};
    /* the cgroup's own list: what its parent enabled for it */
    cleanup_free char *enabled = cg_read(cg->hier[i].path, "cgroup.controllers", NULL);
    if (enabled != NULL && cg_list_has(enabled, v2_controller))
      return (struct source){&cg->hier[i], 2};
  }
  return (struct source){NULL, 0};
}

bool cgroup_stats_key(const char *text, const char *key, uint64_t *value) {
  size_t klen = strlen(key);
  for (const char *line = text; line != NULL && *line != '\0';) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
      char *end = NULL;
      errno = 0;
      unsigned long long v = strtoull(line + klen + 1, &end, 10);
      if (errno == 0 && end > line + klen + 1) {
        *value = v;
        return true;
      }
      return false;
    }
    line = strchr(line, '\n');
    if (line != NULL)
      line++;
  }
  return false;
}

uint64_t cgroup_stats_parse_limit(const char *text) {
  if (text == NULL || strcmp(text, "max") == 0)
    return CGROUP_STATS_UNLIMITED;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno != 0 || end == text)
    return CGROUP_STATS_UNLIMITED;
  /* v1 says "no limit" with LLONG_MAX rounded down to a page */
  if (v >= ((uint64_t)INT64_MAX & ~(uint64_t)0xffff))
    return CGROUP_STATS_UNLIMITED;
  return v;
}

void cgroup_stats_parse_blkio(const char *text, uint64_t *read, uint64_t *write) {
  *read = *write = 0;
  for (const char *line = text; line != NULL && *line != '\0';) {
    char dev[32], op[16];
    unsigned long long v;
    if (sscanf(line, "%31s %15s %llu", dev, op, &v) == 3 && strchr(dev, ':') != NULL) {
      if (strcmp(op, "Read") == 0)
        *read += v;
      else if (strcmp(op, "Write") == 0)
        *write += v;
    }
    line = strchr(line, '\n');
    if (line != NULL)
      line++;
  }
}

void cgroup_stats_parse_io_stat(const char *text, uint64_t *read, uint64_t *write) {
  *read = *write = 0;
  for (const char *p = text; *p != '\0';) {
    size_t n = strcspn(p, " \t\n");
    unsigned long long v;
    if (n > 7 && strncmp(p, "rbytes=", 7) == 0 && sscanf(p + 7, "%llu", &v) == 1)
      *read += v;
    else if (n > 7 && strncmp(p, "wbytes=", 7) == 0 && sscanf(p + 7, "%llu", &v) == 1)
      *write += v;
    p += n;
    p += strspn(p, " \t\n");
  }
}

/* The file's text, or NULL when it cannot be read; ENOMEM is the only
 * failure worth reporting (the rest means the figure is not there). */
static char *read_opt(const struct source *s, const char *file, int *oom) {
  cleanup_error berth_error *e = NULL;
  char *text = cg_read(s->hier->path, file, &e);
  if (text == NULL && e != NULL && e->errnum == ENOMEM)
    *oom = 1;
  return text;
}

static bool read_number(const struct source *s, const char *file, uint64_t *value, int *oom) {
  cleanup_free char *text = read_opt(s, file, oom);
  if (text == NULL)
    return false;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno != 0 || end == text)
    return false;
  *value = v;
  return true;
}

static void read_cpu(struct cgroup *cg, struct cgroup_stats *out, int *oom) {
  struct source s = holder(cg, "cpuacct", NULL);
  if (s.hier == NULL)
    return;
  if (s.version == 1) {
    out->has_cpu = read_number(&s, "cpuacct.usage", &out->cpu_usage_ns, oom);
    return;
  }
  cleanup_free char *text = read_opt(&s, "cpu.stat", oom);
  uint64_t usec = 0;
  if (text != NULL && cgroup_stats_key(text, "usage_usec", &usec)) {
    out->cpu_usage_ns = usec * 1000;
    out->has_cpu = true;
  }
}

static void read_memory(struct cgroup *cg, struct cgroup_stats *out, int *oom) {
  struct source s = holder(cg, "memory", "memory");
  if (s.hier == NULL)
    return;
  bool v1 = s.version == 1;
  if (!read_number(&s, v1 ? "memory.usage_in_bytes" : "memory.current", &out->memory_usage, oom))
    return;
  out->has_memory = true;
  cleanup_free char *limit = read_opt(&s, v1 ? "memory.limit_in_bytes" : "memory.max", oom);
  out->memory_limit = cgroup_stats_parse_limit(limit);
  cleanup_free char *stat = read_opt(&s, "memory.stat", oom);
  if (stat == NULL || !cgroup_stats_key(stat, v1 ? "total_inactive_file" : "inactive_file", &out->memory_inactive_file))
    out->memory_inactive_file = 0;
}

static void read_io(struct cgroup *cg, struct cgroup_stats *out, int *oom) {
  struct source s = holder(cg, "blkio", "io");
  if (s.hier == NULL)
    return;
  if (s.version == 2) {
    cleanup_free char *text = read_opt(&s, "io.stat", oom);
    if (text != NULL) {
      cgroup_stats_parse_io_stat(text, &out->io_read_bytes, &out->io_write_bytes);
      out->has_io = true;
    }
    return;
  }
  /* the recursive file counts the container's own sub-cgroups too */
  cleanup_free char *text = read_opt(&s, "blkio.throttle.io_service_bytes_recursive", oom);
  if (text == NULL)
    text = read_opt(&s, "blkio.throttle.io_service_bytes", oom);
  if (text != NULL) {
    cgroup_stats_parse_blkio(text, &out->io_read_bytes, &out->io_write_bytes);
    out->has_io = true;
  }
}

static void read_pids(struct cgroup *cg, struct cgroup_stats *out, int *oom) {
  struct source s = holder(cg, "pids", "pids");
  if (s.hier == NULL || !read_number(&s, "pids.current", &out->pids_current, oom))
    return;
  out->has_pids = true;
  cleanup_free char *limit = read_opt(&s, "pids.max", oom);
  out->pids_limit = cgroup_stats_parse_limit(limit);
}

int cgroup_stats(struct cgroup *cg, struct cgroup_stats *out, berth_error **err) {
  *out = (struct cgroup_stats){.memory_limit = CGROUP_STATS_UNLIMITED, .pids_limit = CGROUP_STATS_UNLIMITED};
  int oom = 0;
  read_cpu(cg, out, &oom);
  read_memory(cg, out, &oom);
  read_io(cg, out, &oom);
  read_pids(cg, out, &oom);
  if (oom)
    return berth_fail(err, ENOMEM, "cgroup \"%s\": usage figures", cg->hier[0].rel);
  return 0;
}
