/* Containers' lifecycle: create, start (with a monitor), stop, kill,
 * remove, wait, and the clean-up after an exit (restart policies, --rm).
 *
 * Concurrency: every operation that changes a container takes its lock
 * (flock on <root>/containers/<id>) for its duration, never while waiting
 * for the container to exit.  Crash safety: each step leaves a state that
 * `berth ps` reports truthfully (lifecycle_sync) and that `rm -f` or the
 * next `start` cleans up (a stale mount, runtime state or exit file). */
#ifndef BERTH_ENGINE_LIFECYCLE_H
#define BERTH_ENGINE_LIFECYCLE_H

#include <stdbool.h>

#include "engine/containers.h"

/* Docker's exit codes for the engine's own failures. */
enum { EXIT_ENGINE = 125, EXIT_CANNOT_INVOKE = 126, EXIT_NOT_FOUND = 127 };

struct create_request {
  const char *name;  /* NULL: generated */
  const char *image; /* as the user named it */
  struct json_object *config;      /* docker's Config as given (Cmd, Env, ...); merged with the image's */
  struct json_object *host_config; /* docker's HostConfig */
};
/* Makes the record and the container's directories. */
int lifecycle_create(struct engine *e, const struct create_request *req, char id[CONTAINER_ID_LEN + 1],
                     berth_error **err);

struct start_options {
  /* >= 0: the socket of an attached client (socketpair end), passed to the
   * monitor as --client: it gets the output from the first byte. */
  int client_fd;
  /* the restart policy's start after the back-off: does nothing unless the
   * container is still "restarting" and nobody stopped it meanwhile */
  bool restart_policy;
};
/* Starts a created or exited container. A failure to start sets
 * *exit_code to 125, 126 or 127 as docker does (may be NULL). Starting a
 * running container does nothing. */
int lifecycle_start(struct engine *e, const char *ref, const struct start_options *opts, int *exit_code,
                    berth_error **err);
/* Sends sig (0: the container's StopSignal, default SIGTERM), waits
 * timeout seconds (-1: the container's own StopTimeout, default 10), then
 * SIGKILL; returns when it is cleaned up. */
int lifecycle_stop(struct engine *e, const char *ref, int timeout, int sig, berth_error **err);
int lifecycle_kill(struct engine *e, const char *ref, int sig, berth_error **err);
int lifecycle_pause(struct engine *e, const char *ref, bool pause, berth_error **err);
/* Removes a container; a running one only with force (killed first);
 * volumes: its anonymous volumes too. */
int lifecycle_remove(struct engine *e, const char *ref, bool force, bool volumes, berth_error **err);
/* Waits until the container is not running; *exit_code gets its code. */
int lifecycle_wait(struct engine *e, const char *ref, int *exit_code, berth_error **err);
/* After the container's init exited: records the exit, releases the
 * runtime state and the mount, removes an --rm container, and, when the
 * monitor asks (from_monitor), applies the restart policy.  Idempotent. */
int lifecycle_cleanup(struct engine *e, const char *id, bool from_monitor, berth_error **err);

/* The truth about a record read from the database: a container whose init
 * died without anyone recording it shows as exited (exit code from the
 * exit file when there is one); no database write. */
void lifecycle_sync(struct engine *e, struct container *c);
/* The exit file the monitor left: 0 and its values, -1 when absent. */
int lifecycle_read_exit_file(struct engine *e, const char *id, int *status, int64_t *finished_ns);

/* Paths of a container's pieces (malloc'd). */
char *lifecycle_log_path(struct engine *e, const char *id);
char *lifecycle_socket_path(struct engine *e, const char *id);

#endif
