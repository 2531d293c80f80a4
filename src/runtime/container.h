/* The runtime's operations on containers, one call per CLI command. */
#ifndef BERTH_RUNTIME_CONTAINER_H
#define BERTH_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

struct runtime_context {
  const char *root; /* state root, default STATE_DEFAULT_ROOT */
  bool systemd_cgroup;
};

struct create_options {
  const char *id;
  const char *bundle;
  const char *pid_file;
  const char *console_socket;
  bool no_pivot;
  bool no_new_keyring;
  int preserve_fds;
  /* `run` in the foreground: keep the pty master instead of needing a
   * console socket (-1 when none). */
  bool keep_console;
  int console_master; /* out */
  pid_t pid;          /* out: the container's init */
};

int container_create(const struct runtime_context *ctx, struct create_options *opts, berth_error **err);
int container_start(const struct runtime_context *ctx, const char *id, berth_error **err);
/* create + start; unless detach, waits, proxies the terminal, forwards
 * signals and deletes the container (unless keep). Returns the exit status
 * as a shell reports it (128+signal when killed) in *status. */
struct run_options {
  struct create_options create;
  bool detach;
  bool keep;
};
int container_run(const struct runtime_context *ctx, struct run_options *opts, int *status, berth_error **err);
int container_state(const struct runtime_context *ctx, const char *id, char **json, berth_error **err);
int container_kill(const struct runtime_context *ctx, const char *id, int sig, bool all, berth_error **err);
int container_delete(const struct runtime_context *ctx, const char *id, bool force, berth_error **err);
int container_pause(const struct runtime_context *ctx, const char *id, bool pause, berth_error **err);
/* pids of the container's processes. */
int container_pids(const struct runtime_context *ctx, const char *id, pid_t **pids, size_t *n, berth_error **err);
/* JSON array of the states of every container (runc list --format json). */
struct container_summary {
  char *id;
  pid_t pid;
  const char *status;
  char *bundle;
  char *created;
};
int container_list(const struct runtime_context *ctx, struct container_summary **out, size_t *n, berth_error **err);
void container_summaries_free(struct container_summary *list, size_t n);
/* `update`: resources JSON text (may be NULL) merged with the flag values. */
struct spec_resources;
int container_update(const struct runtime_context *ctx, const char *id, const struct spec_resources *res,
                     berth_error **err);

struct exec_options {
  const char *id;
  const char *process_file; /* --process */
  char **args;              /* when no --process */
  char **env;               /* --env KEY=value, added */
  const char *cwd;
  const char *user; /* "uid[:gid]" */
  char **caps;      /* --cap, added */
  char **additional_gids;
  bool tty, tty_given;
  unsigned console_height, console_width; /* the pty's first size; 0: unset */
  bool detach;
  bool no_new_privs, no_new_privs_given;
  const char *pid_file;
  const char *console_socket;
  int preserve_fds;
  /* out: the process, with detach (a child of the caller, which may wait
   * for it) */
  pid_t pid;
};
/* Runs a process in a running container; *status as for run. */
int container_exec(const struct runtime_context *ctx, struct exec_options *opts, int *status, berth_error **err);

#endif
