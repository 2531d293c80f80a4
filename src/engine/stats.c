/* Usage samples of containers for `berth stats`.  The cgroup is the one the
 * runtime recorded in its state when it created the container, so the
 * engine never guesses paths. */
#include "engine/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "engine/lifecycle_internal.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/cgroup/stats.h"
#include "runtime/state.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

void stats_bytes_size(uint64_t bytes, char *buf, size_t len) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  double v = (double)bytes;
  size_t u = 0;
  while (v >= 1024.0 && u < sizeof(units) / sizeof(units[0]) - 1) {
    v /= 1024.0;
    u++;
  }
  snprintf(buf, len, "%.4g%s", v, units[u]);
}

uint64_t stats_host_memory(void) {
  struct sysinfo si;
  if (sysinfo(&si) < 0)
    return 0;
  return (uint64_t)si.totalram * si.mem_unit;
}

bool stats_parse_proc_stat(const char *text, long ticks_per_second, uint64_t *ns) {
  if (ticks_per_second <= 0 || strncmp(text, "cpu ", 4) != 0)
    return false;
  /* user nice system idle iowait irq softirq, as docker sums them */
  unsigned long long v[7];
  if (sscanf(text + 4, "%llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) != 7)
    return false;
  unsigned long long ticks = 0;
  for (size_t i = 0; i < 7; i++)
    ticks += v[i];
  *ns = (uint64_t)(ticks / (unsigned long long)ticks_per_second) * 1000000000ull +
        (uint64_t)(ticks % (unsigned long long)ticks_per_second) * 1000000000ull / (uint64_t)ticks_per_second;
  return true;
}

void stats_parse_net_dev(const char *text, uint64_t *rx, uint64_t *tx) {
  *rx = *tx = 0;
  for (const char *line = text; line != NULL && *line != '\0';) {
    const char *colon = strchr(line, ':'), *eol = strchr(line, '\n');
    /* the two header lines have no "name:" before their end */
    if (colon != NULL && (eol == NULL || colon < eol)) {
      const char *name = line + strspn(line, " ");
      unsigned long long f[9];
      if (!((size_t)(colon - name) == 2 && strncmp(name, "lo", 2) == 0) &&
          sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5],
                 &f[6], &f[7], &f[8]) == 9) {
        *rx += f[0];
        *tx += f[8];
      }
    }
    line = eol != NULL ? eol + 1 : NULL;
  }
}

static int system_cpu(uint64_t *ns, berth_error **err) {
  char buf[512];
  cleanup_close int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
  if (n < 0)
    return berth_fail(err, errno, "read /proc/stat");
  buf[n] = '\0';
  if (!stats_parse_proc_stat(buf, sysconf(_SC_CLK_TCK), ns))
    return berth_fail(err, 0, "/proc/stat: no \"cpu\" line with 7 numbers");
  return 0;
}

static void network_usage(const struct container *c, uint64_t *rx, uint64_t *tx) {
  *rx = *tx = 0;
  struct json_object *mode = NULL;
  /* with the host's network the interfaces are not the container's */
  if (json_object_object_get_ex(c->host_config, "NetworkMode", &mode) &&
      strcmp(json_object_get_string(mode), "host") == 0)
    return;
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)c->pid);
  size_t len;
  berth_error *ignored = NULL;
  cleanup_free char *text = fs_read_file_at(AT_FDCWD, path, &len, &ignored);
  berth_error_free(ignored);
  if (text != NULL)
    stats_parse_net_dev(text, rx, tx);
}

/* The cgroup the runtime made for the container; NULL with *err unset when
 * the container has no runtime state (it stopped meanwhile). */
static struct cgroup *container_cgroup(struct engine *e, const char *id, berth_error **err) {
  cleanup_close int root = open(e->runtime.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    if (errno != ENOENT)
      berth_fail(err, errno, "state root \"%s\"", e->runtime.root);
    return NULL;
  }
  berth_error *e1 = NULL;
  cleanup_close int dir = state_open_dir(root, id, &e1);
  if (dir < 0) {
    berth_error_free(e1);
    return NULL;
  }
  struct container_state st = {0};
  struct cgroup *cg = NULL;
  if (state_read(dir, id, &st, err) == 0) {
    if (st.cgroup != NULL)
      cg = cgroup_deserialize(st.cgroup, err);
    else
      berth_fail(err, 0, "container \"%s\" has no cgroup", id);
  }
  state_clear(&st);
  return cg;
}

int stats_sample(struct engine *e, const struct container *c, struct stats_sample *out, berth_error **err) {
  *out = (struct stats_sample){0};
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  out->online_cpus = online > 0 ? (unsigned)online : 1;
  if (system_cpu(&out->system_ns, err) < 0)
    return -1;
  bool live = c->status == CONTAINER_RUNNING || c->status == CONTAINER_PAUSED || c->status == CONTAINER_RESTARTING;
  if (!live)
    return 0;
  berth_error *cerr = NULL;
  struct cgroup *cg = container_cgroup(e, c->id, &cerr);
  if (cg == NULL) {
    /* gone since the record was read: a stopped container's zeros */
    if (cerr == NULL || !lifecycle_init_alive(c)) {
      berth_error_free(cerr);
      return 0;
    }
    *err = cerr;
    return -1;
  }
  struct cgroup_stats cs;
  int r = cgroup_stats(cg, &cs, err);
  cgroup_free(cg);
  if (r < 0)
    return -1;
  out->running = true;
  uint64_t host_memory = stats_host_memory();
  out->mem_limit = host_memory;
  if (cs.has_cpu)
    out->cpu_ns = cs.cpu_usage_ns;
  if (cs.has_memory) {
    out->mem_usage =
        cs.memory_inactive_file < cs.memory_usage ? cs.memory_usage - cs.memory_inactive_file : cs.memory_usage;
    if (cs.memory_limit != CGROUP_STATS_UNLIMITED && (host_memory == 0 || cs.memory_limit < host_memory))
      out->mem_limit = cs.memory_limit;
  }
  if (cs.has_io) {
    out->blk_read = cs.io_read_bytes;
    out->blk_write = cs.io_write_bytes;
  }
  if (cs.has_pids)
    out->pids = cs.pids_current;
  if (c->pid > 0)
    network_usage(c, &out->net_rx, &out->net_tx);
  return 0;
}

double stats_cpu_percent(const struct stats_sample *prev, const struct stats_sample *cur) {
  if (!prev->running || !cur->running || cur->cpu_ns <= prev->cpu_ns || cur->system_ns <= prev->system_ns)
    return 0.0;
  double cpu = (double)(cur->cpu_ns - prev->cpu_ns), system = (double)(cur->system_ns - prev->system_ns);
  return cpu / system * (double)cur->online_cpus * 100.0;
}

double stats_mem_percent(const struct stats_sample *s) {
  return s->mem_limit != 0 ? (double)s->mem_usage / (double)s->mem_limit * 100.0 : 0.0;
}
