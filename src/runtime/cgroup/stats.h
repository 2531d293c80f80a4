/* Usage figures of a container's cgroup (what `docker stats` shows),
 * read from whichever hierarchy holds each controller, so v1, v2 and hybrid
 * hosts answer alike.  Nothing is written. */
#ifndef BERTH_RUNTIME_CGROUP_STATS_H
#define BERTH_RUNTIME_CGROUP_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/cgroup/cgroup.h"
#include "util/error.h"

#define CGROUP_STATS_UNLIMITED UINT64_MAX

struct cgroup_stats {
  /* false: the controller is not there for this cgroup (or went away) */
  bool has_cpu, has_memory, has_io, has_pids;
  uint64_t cpu_usage_ns;         /* v1 cpuacct.usage; v2 cpu.stat usage_usec */
  uint64_t memory_usage;         /* v1 memory.usage_in_bytes; v2 memory.current */
  uint64_t memory_inactive_file; /* v1 total_inactive_file; v2 inactive_file (memory.stat) */
  uint64_t memory_limit;         /* CGROUP_STATS_UNLIMITED when none */
  uint64_t io_read_bytes, io_write_bytes;
  uint64_t pids_current;
  uint64_t pids_limit; /* CGROUP_STATS_UNLIMITED when none */
};

/* Reads what the cgroup's controllers report.  A figure whose files cannot
 * be read is left out (has_* false): a container may exit between two
 * reads.  Fails only when memory runs out. */
int cgroup_stats(struct cgroup *cg, struct cgroup_stats *out, berth_error **err);

/* The parsers, for the unit tests. */
/* The value after "key " in a flat keyed file (memory.stat, cpu.stat). */
bool cgroup_stats_key(const char *text, const char *key, uint64_t *value);
/* v1 blkio.throttle.io_service_bytes[_recursive]: "MAJ:MIN Read N" lines
 * summed per direction (the "Total" lines are not). */
void cgroup_stats_parse_blkio(const char *text, uint64_t *read, uint64_t *write);
/* v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=..." summed over devices. */
void cgroup_stats_parse_io_stat(const char *text, uint64_t *read, uint64_t *write);
/* A limit file: a number, "max" (v2), or v1's page-rounded LLONG_MAX. */
uint64_t cgroup_stats_parse_limit(const char *text);

#endif
