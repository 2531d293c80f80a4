/* Container records in the engine database: what `create` was asked for
 * (docker's Config and HostConfig, stored as their JSON) and the state the
 * lifecycle keeps up to date. */
#ifndef BERTH_ENGINE_CONTAINERS_H
#define BERTH_ENGINE_CONTAINERS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/engine.h"

#define CONTAINER_ID_LEN 64

enum container_status_kind {
  CONTAINER_CREATED,
  CONTAINER_RUNNING,
  CONTAINER_PAUSED,
  CONTAINER_RESTARTING,
  CONTAINER_REMOVING,
  CONTAINER_EXITED,
  CONTAINER_DEAD,
};

struct container {
  char id[CONTAINER_ID_LEN + 1];
  char *name;     /* without docker's leading "/" */
  char *image_id; /* sha256:... */
  char *image;    /* as the user named it */
  int64_t created_ns;
  struct json_object *config;      /* docker's Config */
  struct json_object *host_config; /* docker's HostConfig */
  enum container_status_kind status;
  pid_t pid; /* init, while running */
  unsigned long long pid_start;
  pid_t monitor_pid;
  unsigned long long monitor_start;
  int exit_code;
  int64_t started_ns, finished_ns;
  int restart_count;
  bool manually_stopped; /* stop/kill by the user: no restart */
  char *error;           /* why the last start failed, or "" */
  struct json_object *health; /* docker's State.Health, or NULL */
};

const char *container_status_name(enum container_status_kind s);
void container_clear(struct container *c);
void containers_free(struct container *list, size_t n);

/* The table; run once per engine_open. */
int containers_schema(struct engine *e, const char *db_path, berth_error **err);

/* Inserts a new record; fails with docker's conflict message when the
 * name is taken: Conflict. The container name "/x" is already in use by
 * container "ID". You have to remove (or rename) that container to be able
 * to reuse that name. */
int containers_insert(struct engine *e, const struct container *c, berth_error **err);
/* By full ID, exact name, or unique ID prefix, as docker resolves:
 * "No such container: X". */
int containers_find(struct engine *e, const char *ref, struct container *out, berth_error **err);
int containers_get(struct engine *e, const char *id, struct container *out, berth_error **err);
/* Every container, newest first. */
int containers_list(struct engine *e, struct container **out, size_t *n, berth_error **err);
/* Writes the state fields (status, pids, exit, times, restart count,
 * manually_stopped, error, health). */
int containers_save_state(struct engine *e, const struct container *c, berth_error **err);
/* Only the manually-stopped flag: stop and kill set it without the lock,
 * and must not write back a stale copy of the rest of the state. */
int containers_set_manually_stopped(struct engine *e, const char *id, bool stopped, berth_error **err);
/* Only HostConfig (`update`). */
int containers_set_host_config(struct engine *e, const char *id, struct json_object *host_config, berth_error **err);
/* Only State.Health (health checks write it while others change the rest). */
int containers_set_health(struct engine *e, const char *id, struct json_object *health, berth_error **err);
int containers_rename(struct engine *e, const char *id, const char *name, berth_error **err);
int containers_delete(struct engine *e, const char *id, berth_error **err);
/* IDs of containers made from image_id (at most max; *n gets how many in all). */
int containers_using_image(struct engine *e, const char *image_id, char (*ids)[CONTAINER_ID_LEN + 1], size_t max,
                           size_t *n, berth_error **err);

/* A new container ID (64 hex digits from the kernel's random source). */
int containers_new_id(char out[CONTAINER_ID_LEN + 1], berth_error **err);
/* docker-style "adjective_surname" name, not yet used (tries a few). */
char *containers_new_name(struct engine *e, berth_error **err);
/* Checks a user-given name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (a leading "/" is
 * dropped): "Invalid container name (x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed". */
int containers_check_name(const char *name, berth_error **err);

#endif
