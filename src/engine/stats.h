/* A container's resource usage as `docker stats` shows it: CPU, memory,
 * network and block I/O, pids.  The figures come from the container's
 * cgroup (found through the runtime's state) and its network namespace;
 * the percentages are computed as docker's CLI computes them. */
#ifndef BERTH_ENGINE_STATS_H
#define BERTH_ENGINE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/containers.h"

struct stats_sample {
  bool running;
  uint64_t cpu_ns;    /* the container's CPU time so far */
  uint64_t system_ns; /* the host's CPU time so far (docker's SystemUsage) */
  unsigned online_cpus;
  uint64_t mem_usage;      /* without the inactive page cache, as docker shows it */
  uint64_t mem_limit;      /* the cgroup's limit, or the host's memory when lower or none */
  uint64_t net_rx, net_tx; /* all interfaces but lo */
  uint64_t blk_read, blk_write;
  uint64_t pids;
};

/* One sample of c (already lifecycle_sync'ed): all zero when it does not
 * run, as docker reports a stopped container. */
int stats_sample(struct engine *e, const struct container *c, struct stats_sample *out, berth_error **err);

/* docker's CPU %: the container's CPU time over the host's in the same
 * interval, times the online CPUs (100% is one CPU busy). */
double stats_cpu_percent(const struct stats_sample *prev, const struct stats_sample *cur);
/* docker's MEM %: usage over limit. */
double stats_mem_percent(const struct stats_sample *s);

/* docker's units.BytesSize: binary units, 4 significant digits ("1.5MiB",
 * "480KiB", "0B"). */
void stats_bytes_size(uint64_t bytes, char *buf, size_t len);

/* The host's memory in bytes (sysinfo). */
uint64_t stats_host_memory(void);

/* Parsers, for the unit tests. */
/* /proc/stat's "cpu" line (user..softirq) in ns, as docker reads it. */
bool stats_parse_proc_stat(const char *text, long ticks_per_second, uint64_t *ns);
/* /proc/<pid>/net/dev: bytes received and sent on every interface but lo. */
void stats_parse_net_dev(const char *text, uint64_t *rx, uint64_t *tx);

#endif
