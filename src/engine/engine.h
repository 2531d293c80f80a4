/* The engine: containers as objects with their state in the engine's
 * SQLite database (beside the images), files under the engine root, and
 * the live parts (runtime state, monitor sockets, exit files) under the run
 * root, which a reboot empties. */
#ifndef BERTH_ENGINE_ENGINE_H
#define BERTH_ENGINE_ENGINE_H

#include <sqlite3.h>

#include "image/store.h"
#include "runtime/container.h"
#include "util/error.h"

#define ENGINE_DEFAULT_RUNROOT "/run/berth"

struct engine {
  char *root;    /* /var/lib/berth: berth.db, images, containers/<id>/ */
  char *runroot; /* /run/berth: runtime/, containers/<id>/ {attach, exit} */
  struct store *store;
  sqlite3 *db; /* the store's */
  struct runtime_context runtime;
  char *runtime_root;
  char *self;    /* the berth binary, for the monitors' exit commands */
  char *monitor; /* berth-monitor */
  char *init;    /* berth-init, for --init */
};

/* Opens the engine over an open store (taken over only on success).
 * runroot NULL: /run/berth for the default root, <root>/run otherwise, so
 * a private --root never shares live state with the system's. */
struct engine *engine_open(struct store *store, const char *runroot, berth_error **err);
void engine_close(struct engine *e);

/* <root>/containers/<id>[/<name>] and <runroot>/containers/<id>[/<name>]; malloc'd. */
char *engine_container_path(const struct engine *e, const char *id, const char *name);
char *engine_container_run_path(const struct engine *e, const char *id, const char *name);

#endif
