/* `docker info`'s server part for a daemonless engine: counts of the
 * engine's objects and facts about the host, under docker's field names
 * (system.Info), so `--format '{{.ServerVersion}}'` works as with docker. */
#ifndef BERTH_ENGINE_INFO_H
#define BERTH_ENGINE_INFO_H

#include <json-c/json.h>

#include "engine/engine.h"

/* A new object (the caller puts it).  The engine's ID is made on first
 * use and kept in <root>/engine-id, as docker keeps its own. */
struct json_object *engine_info(struct engine *e, berth_error **err);

#endif
