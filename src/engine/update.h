/* `docker update`: new resource limits and restart policy for a
 * container.  A running (or paused) container gets the limits at once
 * through the runtime; every container keeps them in its HostConfig, which
 * the next start builds its bundle from. */
#ifndef BERTH_ENGINE_UPDATE_H
#define BERTH_ENGINE_UPDATE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "engine/options.h"

/* What to change; zero (NULL, false) leaves a field as it is, as docker's
 * update does. */
struct update_request {
  int64_t memory, memory_swap, memory_reservation; /* bytes; swap -1: unlimited */
  int64_t nano_cpus, cpu_shares, cpu_quota, cpu_period;
  const char *cpuset_cpus, *cpuset_mems;
  bool has_pids_limit;
  int64_t pids_limit; /* <= 0: unlimited */
  bool has_restart;
  struct restart_policy restart;
};

/* Checks the request as docker's daemon does before it looks at any
 * container ("Minimum memory limit allowed is 6MB", ...). */
int update_validate(const struct update_request *req, berth_error **err);
/* Applies req to the container ref under its lock: the kernel's limits
 * first when it runs, then the record; on failure neither changes.
 * Errors: "Cannot update container ID: CAUSE". */
int update_container(struct engine *e, const char *ref, const struct update_request *req, berth_error **err);

/* For the unit tests: docker's merge of req into a HostConfig (its
 * UpdateContainer), refusing conflicting values. */
int update_merge(struct json_object *host_config, const struct update_request *req, berth_error **err);

#endif
