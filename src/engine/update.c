/* `berth update`: docker's checks and merge (moby's ContainerUpdate and
 * UpdateContainer), then the kernel through the runtime for a live
 * container, then the record.  Like moby, only the requested values reach
 * the kernel; the record keeps the merged HostConfig. */
#include "engine/update.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/containers.h"
#include "engine/lifecycle_internal.h"
#include "runtime/container.h"
#include "runtime/spec.h"
#include "util/cleanup.h"

#define MIN_MEMORY (6 * 1024 * 1024)
#define CPU_PERIOD_DEFAULT 100000
#define CPU_SHARES_MIN 2
#define CPU_SHARES_MAX 262144

static int64_t get_int(struct json_object *o, const char *key) {
  struct json_object *v;
  return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static void set_int(struct json_object *o, const char *key, int64_t v) {
  json_object_object_add(o, key, json_object_new_int64(v));
}

/* A cpuset list ("0-2,4") as ranges; false when malformed. */
static bool next_range(const char **p, long *lo, long *hi) {
  char *end = NULL;
  *lo = strtol(*p, &end, 10);
  if (end == *p || *lo < 0)
    return false;
  *hi = *lo;
  if (*end == '-') {
    const char *s = end + 1;
    *hi = strtol(s, &end, 10);
    if (end == s || *hi < *lo)
      return false;
  }
  *p = *end == ',' ? end + 1 : end;
  return true;
}

static bool in_list(const char *list, long x) {
  long lo, hi;
  for (const char *p = list; *p != '\0' && *p != '\n';) {
    if (!next_range(&p, &lo, &hi))
      return false;
    if (x >= lo && x <= hi)
      return true;
  }
  return false;
}

/* Whether every number of requested is in the host's online list (read
 * from path; a missing file means only 0, as on kernels without NUMA). */
static int check_available(const char *requested, const char *path, const char *what, berth_error **err) {
  char avail[256] = "0";
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, avail, sizeof(avail) - 1);
    avail[n > 0 ? n : 0] = '\0';
    avail[strcspn(avail, "\n")] = '\0';
  }
  long lo, hi;
  for (const char *p = requested; *p != '\0';) {
    if (!next_range(&p, &lo, &hi))
      return 0; /* the syntax is the caller's check */
    for (long x = lo; x <= hi; x++)
      if (!in_list(avail, x) || hi - lo > 65536)
        return berth_fail(err, 0, "Requested %s are not available - requested %s, available: %s", what, requested,
                          avail);
  }
  return 0;
}

int update_validate(const struct update_request *r, berth_error **err) {
  if (r->memory != 0 && r->memory < MIN_MEMORY)
    return berth_fail(err, 0, "Minimum memory limit allowed is 6MB");
  if (r->memory > 0 && r->memory_swap > 0 && r->memory_swap < r->memory)
    return berth_fail(err, 0, "Minimum memoryswap limit should be larger than memory limit, see usage");
  if (r->memory_reservation != 0 && r->memory_reservation < MIN_MEMORY)
    return berth_fail(err, 0, "Minimum memory reservation allowed is 6MB");
  if (r->memory > 0 && r->memory_reservation > 0 && r->memory < r->memory_reservation)
    return berth_fail(err, 0, "Minimum memory limit can not be less than memory reservation limit, see usage");
  if (r->nano_cpus > 0 && r->cpu_period > 0)
    return berth_fail(err, 0, "Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (r->nano_cpus > 0 && r->cpu_quota > 0)
    return berth_fail(err, 0, "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (ncpu < 1)
    ncpu = 1;
  if (r->nano_cpus < 0 || r->nano_cpus > ncpu * 1000000000L)
    return berth_fail(err, 0, "Range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs available", ncpu, ncpu);
  if (r->cpu_period != 0 && (r->cpu_period < 1000 || r->cpu_period > 1000000))
    return berth_fail(err, 0, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  if (r->cpu_quota > 0 && r->cpu_quota < 1000)
    return berth_fail(err, 0, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
  if (r->cpuset_cpus != NULL && *r->cpuset_cpus != '\0' &&
      check_available(r->cpuset_cpus, "/sys/devices/system/cpu/online", "CPUs", err) < 0)
    return -1;
  if (r->cpuset_mems != NULL && *r->cpuset_mems != '\0' &&
      check_available(r->cpuset_mems, "/sys/devices/system/node/online", "memory nodes", err) < 0)
    return -1;
  return 0;
}

int update_merge(struct json_object *hc, const struct update_request *r, berth_error **err) {
  int64_t memory = get_int(hc, "Memory"), swap = get_int(hc, "MemorySwap");
  /* docker records the swap limit it gives -m alone (twice the memory);
   * berth's record leaves it implicit until now */
  if (memory > 0 && swap == 0) {
    swap = 2 * memory;
    set_int(hc, "MemorySwap", swap);
  }
  int64_t nano = get_int(hc, "NanoCpus");
  if (r->nano_cpus > 0 && get_int(hc, "CpuPeriod") > 0)
    return berth_fail(err, 0, "Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set");
  if (r->nano_cpus > 0 && get_int(hc, "CpuQuota") > 0)
    return berth_fail(err, 0, "Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set");
  if (r->cpu_period > 0 && nano > 0)
    return berth_fail(err, 0, "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set");
  if (r->cpu_quota > 0 && nano > 0)
    return berth_fail(err, 0, "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set");
  if (r->memory != 0 && swap > 0 && r->memory > swap && r->memory_swap == 0)
    return berth_fail(err, 0,
                      "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at "
                      "the same time");
  struct json_object *v;
  if (r->has_restart && r->restart.kind != RESTART_NO && json_object_object_get_ex(hc, "AutoRemove", &v) &&
      json_object_get_boolean(v))
    return berth_fail(err, 0, "Restart policy cannot be updated because AutoRemove is enabled for the container");

  if (r->memory != 0)
    set_int(hc, "Memory", r->memory);
  if (r->memory_swap != 0)
    set_int(hc, "MemorySwap", r->memory_swap);
  if (r->memory_reservation != 0)
    set_int(hc, "MemoryReservation", r->memory_reservation);
  if (r->nano_cpus != 0)
    set_int(hc, "NanoCpus", r->nano_cpus);
  if (r->cpu_shares != 0)
    set_int(hc, "CpuShares", r->cpu_shares);
  if (r->cpu_period != 0)
    set_int(hc, "CpuPeriod", r->cpu_period);
  if (r->cpu_quota != 0)
    set_int(hc, "CpuQuota", r->cpu_quota);
  if (r->cpuset_cpus != NULL && *r->cpuset_cpus != '\0')
    json_object_object_add(hc, "CpusetCpus", json_object_new_string(r->cpuset_cpus));
  if (r->cpuset_mems != NULL && *r->cpuset_mems != '\0')
    json_object_object_add(hc, "CpusetMems", json_object_new_string(r->cpuset_mems));
  if (r->has_pids_limit) {
    /* no limit: docker shows null, the bundle reads absent as none */
    if (r->pids_limit > 0)
      set_int(hc, "PidsLimit", r->pids_limit);
    else
      json_object_object_del(hc, "PidsLimit");
  }
  if (r->has_restart) {
    struct json_object *p = json_object_new_object();
    json_object_object_add(p, "Name", json_object_new_string(options_restart_name(r->restart.kind)));
    json_object_object_add(p, "MaximumRetryCount", json_object_new_int(r->restart.max_retries));
    json_object_object_add(hc, "RestartPolicy", p);
  }
  return 0;
}

/* The request as the runtime takes it: only what was asked for. */
static int live_resources(const struct update_request *r, struct spec_resources *res, berth_error **err) {
  *res = (struct spec_resources){0};
  if (r->memory != 0) {
    res->has_memory_limit = true;
    res->memory_limit = r->memory;
  }
  if (r->memory_swap != 0) {
    res->has_memory_swap = true;
    res->memory_swap = r->memory_swap;
  }
  if (r->memory_reservation != 0) {
    res->has_memory_reservation = true;
    res->memory_reservation = r->memory_reservation;
  }
  if (r->cpu_shares != 0) {
    res->has_cpu_shares = true;
    int64_t s = r->cpu_shares < CPU_SHARES_MIN ? CPU_SHARES_MIN : r->cpu_shares;
    res->cpu_shares = (uint64_t)(s > CPU_SHARES_MAX ? CPU_SHARES_MAX : s);
  }
  if (r->nano_cpus > 0) {
    res->has_cpu_period = res->has_cpu_quota = true;
    res->cpu_period = CPU_PERIOD_DEFAULT;
    res->cpu_quota = r->nano_cpus * CPU_PERIOD_DEFAULT / 1000000000;
  }
  if (r->cpu_period != 0) {
    res->has_cpu_period = true;
    res->cpu_period = (uint64_t)r->cpu_period;
  }
  if (r->cpu_quota != 0) {
    res->has_cpu_quota = true;
    res->cpu_quota = r->cpu_quota;
  }
  if ((r->cpuset_cpus != NULL && *r->cpuset_cpus != '\0' && (res->cpu_cpus = strdup(r->cpuset_cpus)) == NULL) ||
      (r->cpuset_mems != NULL && *r->cpuset_mems != '\0' && (res->cpu_mems = strdup(r->cpuset_mems)) == NULL))
    return berth_fail(err, ENOMEM, "update");
  if (r->has_pids_limit) {
    res->has_pids_limit = true;
    res->pids_limit = r->pids_limit > 0 ? r->pids_limit : -1;
  }
  return 0;
}

static bool touches_resources(const struct update_request *r) {
  return r->memory != 0 || r->memory_swap != 0 || r->memory_reservation != 0 || r->nano_cpus != 0 ||
         r->cpu_shares != 0 || r->cpu_period != 0 || r->cpu_quota != 0 ||
         (r->cpuset_cpus != NULL && *r->cpuset_cpus != '\0') || (r->cpuset_mems != NULL && *r->cpuset_mems != '\0') ||
         r->has_pids_limit;
}

int update_container(struct engine *e, const char *ref, const struct update_request *req, berth_error **err) {
  if (update_validate(req, err) < 0)
    return -1;
  struct container c;
  cleanup_close int lock = -1;
  if (lifecycle_find_locked(e, ref, &c, &lock, err) < 0)
    return -1;
  lifecycle_sync(e, &c);
  int ret = -1;
  berth_error *cause = NULL;
  struct spec_resources res = {0};
  if (c.status == CONTAINER_REMOVING || c.status == CONTAINER_DEAD) {
    berth_fail(&cause, 0, "container is marked for removal and cannot be \"update\"");
    goto out;
  }
  if (update_merge(c.host_config, req, &cause) < 0)
    goto out;
  /* a restarting container gets its limits from the record when it starts */
  if ((c.status == CONTAINER_RUNNING || c.status == CONTAINER_PAUSED) && touches_resources(req) &&
      (live_resources(req, &res, &cause) < 0 || container_update(&e->runtime, c.id, &res, &cause) < 0))
    goto out;
  if (containers_set_host_config(e, c.id, c.host_config, &cause) < 0)
    goto out;
  ret = 0;
out:
  if (cause != NULL) {
    berth_error_wrap(&cause, "Cannot update container %s", c.id);
    *err = cause;
  }
  spec_resources_clear(&res);
  container_clear(&c);
  return ret;
}
