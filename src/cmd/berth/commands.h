/* The berth commands: each parses its own arguments (docker's flags) and
 * calls the library.  They return the exit status, or -1 with *err, which
 * main prints once. */
#ifndef BERTH_CMD_BERTH_COMMANDS_H
#define BERTH_CMD_BERTH_COMMANDS_H

#include <stdbool.h>

#include "image/store.h"
#include "util/error.h"

struct engine;

struct berth_context {
  const char *root;
  const char *runroot; /* NULL: the engine's default for root */
  struct store *store;   /* opened on first use */
  struct engine *engine; /* opened on first use; owns the store then */
  char **argv;           /* the whole command line, for a re-exec */
};

/* The store, opened on first use. */
struct store *context_store(struct berth_context *ctx, berth_error **err);
/* The engine (and the store under it), opened on first use. */
struct engine *context_engine(struct berth_context *ctx, berth_error **err);

typedef int command_fn(struct berth_context *ctx, int argc, char **argv, berth_error **err);

command_fn cmd_run, cmd_create, cmd_start, cmd_stop, cmd_restart, cmd_kill, cmd_pause, cmd_unpause, cmd_wait, cmd_rm,
    cmd_ps, cmd_logs, cmd_inspect, cmd_container_inspect, cmd_container_cleanup, cmd_container_prune, cmd_rename,
    cmd_version;
command_fn cmd_exec, cmd_attach, cmd_container_healthcheck;
command_fn cmd_cp, cmd_export;
command_fn cmd_images, cmd_tag, cmd_rmi, cmd_image_inspect, cmd_save, cmd_load, cmd_import, cmd_image_prune,
    cmd_system_df, cmd_pull, cmd_push, cmd_login, cmd_logout;
command_fn cmd_top, cmd_stats, cmd_update, cmd_info, cmd_port;
command_fn cmd_events;
command_fn cmd_diff, cmd_commit;

/* A container ID and its NUL. */
#define CONTAINER_ID_BUF 65

struct container_flags;
/* create's half of run: pulls a missing image (docker run's way), then
 * makes the container. */
int create_from_flags(struct berth_context *ctx, const struct container_flags *f, char id[CONTAINER_ID_BUF],
                      berth_error **err);

/* For commands that go on after one argument fails: prints the error as
 * main would, frees it. */
void cmd_report(berth_error *err);
/* A bad flag or argument: prints "berth: MESSAGE" and "See 'berth COMMAND
 * --help'." and returns 125, docker's code for it. */
int cmd_flag_error(const char *command, berth_error **err);

struct json_object;
struct engine;
/* docker's inspect objects, for `berth inspect` to try both kinds. */
struct json_object *image_inspect_object(struct store *s, const char *name, berth_error **err);
struct json_object *container_inspect_object(struct engine *e, const char *ref, berth_error **err);

/* docker's --sig-proxy: a signal berth receives goes to the container's
 * init (attach_options.forward with a struct signal_target). */
struct signal_target {
  struct engine *e;
  const char *id;
};
void signal_target_forward(int sig, void *arg);

/* Prints "usage" for -h/--help or fails on an unknown flag; getopt glue. */
int cmd_usage_error(const char *command, const char *usage, berth_error **err);

#endif
