/* Health checks (docker's HEALTHCHECK / --health-*): the container's
 * monitor runs `berth container healthcheck ID` every Interval while the
 * container runs; each run execs the probe in the container and records
 * the result in State.Health (status, failing streak, the last five
 * results), with docker's rules for retries and the start period. */
#ifndef BERTH_ENGINE_HEALTH_H
#define BERTH_ENGINE_HEALTH_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"

/* docker's defaults for zero values */
#define HEALTH_DEFAULT_INTERVAL_NS (30LL * 1000000000LL)
#define HEALTH_DEFAULT_TIMEOUT_NS (30LL * 1000000000LL)
#define HEALTH_DEFAULT_RETRIES 3

/* Whether the container's Config has a health check to run; *interval_ns
 * gets its interval (default 30 s). */
bool health_configured(struct json_object *config, int64_t *interval_ns);
/* State.Health of a container that has just started: starting, no log. */
struct json_object *health_initial(void);
/* One probe of container id and its record. Nothing happens when the
 * container is not running. */
int health_check(struct engine *e, const char *id, berth_error **err);

#endif
