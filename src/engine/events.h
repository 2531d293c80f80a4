/* The engine's events (docker's `events`), without a daemon: every berth
 * process appends one JSON line per event to <root>/events/events.log, and
 * `berth events` reads the file and follows it.
 *
 * A line is docker's events.Message as `docker events --format json`
 * prints it (legacy status/id/from, Type, Action, Actor, scope, time,
 * timeNano).  Writers append with one write(2) on an O_APPEND descriptor
 * under a shared flock of <root>/events, so lines never interleave; the
 * file is kept under EVENTS_MAX_SIZE by a writer that takes the lock
 * exclusively and replaces it (rename) with its newest half.  Readers keep
 * their descriptor across a rotation and find their place in the new file.
 *
 * Recording never fails the operation it reports: a failure is logged at
 * debug level and forgotten. */
#ifndef BERTH_ENGINE_EVENTS_H
#define BERTH_ENGINE_EVENTS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/containers.h"
#include "util/error.h"

#define EVENTS_MAX_SIZE ((off_t)4 << 20)

struct event_attr {
  const char *key, *value;
};

/* A container event: Actor.Attributes are the extra pairs (exitCode,
 * signal, execID, ...), the container's labels, its image and its name,
 * later ones replacing earlier ones as docker does.  docker's actions:
 * create, attach, start, die, kill, stop, pause, unpause, destroy,
 * restart, rename (extra oldName), "health_status: healthy" (the status
 * in the action, no extra). */
void events_container(struct engine *e, const struct container *c, const char *action,
                      const struct event_attr *extra, size_t n_extra);
/* "die" with the exitCode and execDuration (whole seconds) of c. */
void events_container_die(struct engine *e, const struct container *c);
/* "kill" with the signal's number. */
void events_container_kill(struct engine *e, const struct container *c, int sig);
/* docker's exec_create/exec_start actions carry the command:
 * "exec_create: sh -c ls"; exec_die carries exitCode.  execID is added. */
void events_container_exec(struct engine *e, const struct container *c, const char *action,
                           const char *exec_id, char *const *argv, int exit_code);
/* An image event: id is the image ID (or, for pull and push, the
 * reference), name the Attributes' name. */
void events_image(const char *root, const char *id, const char *name, const char *action);
/* A volume event (driver "local"). */
void events_volume(struct engine *e, const char *name, const char *action);

/* Appends one event under root (the engine root); attributes in any
 * order, a later key replacing an earlier one. */
void events_record(const char *root, const char *type, const char *action, const char *actor_id,
                   const struct event_attr *attrs, size_t n_attrs);
/* The stored line for an event (with its '\n'; malloc'd), and the append
 * itself with the size bound as a parameter (for tests). */
char *events_format(const char *type, const char *action, const char *actor_id, const struct event_attr *attrs,
                     size_t n_attrs, int64_t time_ns, size_t *len);
int events_append(const char *root, const char *line, size_t len, off_t max_size, berth_error **err);

/* ---- reading ---- */

struct event {
  const char *line; /* as stored, without its newline: docker's {{json .}} */
  size_t len;
  struct json_object *obj; /* the parsed line */
  const char *type, *action, *actor_id;
  struct json_object *attributes; /* Actor.Attributes (object, may be NULL) */
  int64_t time_ns;
};

/* docker's --filter for events: key=value pairs; values of one key are
 * alternatives (label values must all match, as docker's), keys combine. */
struct events_filter {
  struct events_filter_term {
    char *key, *value;
  } *terms;
  size_t n;
};
/* "key=value"; unknown keys and types are refused. */
int events_filter_add(struct events_filter *f, const char *text, berth_error **err);
void events_filter_free(struct events_filter *f);
bool events_filter_match(const struct events_filter *f, const struct event *ev);

struct events_read_options {
  /* the past events shown: none unless since or until is given (docker) */
  bool has_since, has_until;
  int64_t since_ns, until_ns; /* unix ns, both ends included */
  bool follow;                /* then new events, until until_ns when given */
  int stop_fd;                /* -1, or an fd whose readability ends the follow */
  const struct events_filter *filter;
  /* each matching event, in file order; < 0 stops the read with *err set */
  int (*emit)(const struct event *ev, void *arg, berth_error **err);
  void *arg;
};
int events_read(const char *root, const struct events_read_options *o, berth_error **err);

#endif
