#include "engine/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/containers.h"
#include "engine/events.h"
#include "engine/lifecycle.h"
#include "engine/security.h"
#include "engine/users.h"
#include "runtime/container.h"
#include "util/cleanup.h"

static const char *config_string(struct json_object *config, const char *key) {
  struct json_object *v = NULL;
  return config != NULL && json_object_object_get_ex(config, key, &v) && json_object_is_type(v, json_type_string)
             ? json_object_get_string(v)
             : NULL;
}

/* The runtime takes "uid:gid" and the supplementary groups as text. */
struct exec_identity {
  char user[32];
  char **gids;
};

static void exec_identity_clear(struct exec_identity *id) {
  for (char **g = id->gids; g != NULL && *g != NULL; g++)
    free(*g);
  free(id->gids);
}

static int resolve_identity(struct engine *e, const struct container *c, const char *spec, struct exec_identity *id,
                            berth_error **err) {
  cleanup_free char *rootfs = engine_container_path(e, c->id, "rootfs");
  cleanup_close int rootfd = rootfs != NULL ? open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
  if (rootfd < 0)
    return berth_fail(err, errno, "the root file system of container %s", c->id);
  struct resolved_user u;
  if (users_resolve(rootfd, spec, &u, err) < 0)
    return -1;
  struct json_object *group_add = NULL;
  if (json_object_object_get_ex(c->host_config, "GroupAdd", &group_add) &&
      users_add_groups(rootfd, group_add, &u, err) < 0) {
    users_clear(&u);
    return -1;
  }
  snprintf(id->user, sizeof(id->user), "%u:%u", (unsigned)u.uid, (unsigned)u.gid);
  id->gids = calloc(u.n_groups + 1, sizeof(char *));
  for (size_t i = 0; id->gids != NULL && i < u.n_groups; i++)
    if (asprintf(&id->gids[i], "%u", (unsigned)u.groups[i]) < 0)
      id->gids[i] = NULL;
  users_clear(&u);
  if (id->gids == NULL)
    return berth_fail(err, ENOMEM, "exec");
  return 0;
}

int engine_exec(struct engine *e, const char *ref, const struct exec_request *req, pid_t *pid, int *exit_code,
                berth_error **err) {
  *exit_code = -1;
  if (pid != NULL)
    *pid = -1;
  if (req->tty && req->detach)
    return berth_fail(err, 0, "a detached exec cannot have a terminal (-d with -t)");
  struct container c;
  if (containers_find(e, ref, &c, err) < 0)
    return -1;
  lifecycle_sync(e, &c);
  int ret = -1;
  struct exec_identity id = {0};
  const char **all_caps = NULL;
  char **env = NULL;
  if (c.status == CONTAINER_PAUSED) {
    berth_fail(err, 0, "container %s is paused, unpause the container before exec", c.id);
    goto out;
  }
  if (c.status != CONTAINER_RUNNING) {
    berth_fail(err, 0, "container %s is not running", c.id);
    goto out;
  }
  const char *user = req->user != NULL ? req->user : config_string(c.config, "User");
  if (resolve_identity(e, &c, user, &id, err) < 0)
    goto out;
  if (req->privileged && (all_caps = security_all_caps()) == NULL) {
    berth_fail(err, ENOMEM, "exec");
    goto out;
  }
  /* docker gives a terminal TERM=xterm unless the caller set TERM */
  bool term_given = false;
  size_t n_env = 0;
  for (char **v = req->env; v != NULL && *v != NULL; v++, n_env++)
    term_given |= strncmp(*v, "TERM=", 5) == 0;
  env = calloc(n_env + 2, sizeof(char *));
  if (env == NULL) {
    berth_fail(err, ENOMEM, "exec");
    goto out;
  }
  if (n_env > 0)
    memcpy(env, req->env, n_env * sizeof(char *));
  if (req->tty && !term_given)
    env[n_env] = "TERM=xterm";
  struct exec_options o = {
      .id = c.id,
      .args = req->cmd,
      .env = env,
      .cwd = req->workdir != NULL && req->workdir[0] != '\0' ? req->workdir : NULL,
      .user = id.user,
      .additional_gids = id.gids,
      .caps = (char **)all_caps,
      .tty = req->tty,
      .tty_given = true,
      .console_height = req->console_height,
      .console_width = req->console_width,
      .detach = req->detach,
  };
  char exec_id[CONTAINER_ID_LEN + 1];
  if (containers_new_id(exec_id, err) < 0)
    goto out;
  events_container_exec(e, &c, "exec_create", exec_id, req->cmd, 0);
  events_container_exec(e, &c, "exec_start", exec_id, req->cmd, 0);
  int status = 0;
  if (container_exec(&e->runtime, &o, &status, err) < 0) {
    *exit_code = EXEC_EXIT_CANNOT_START;
    events_container_exec(e, &c, "exec_die", exec_id, NULL, *exit_code);
    goto out;
  }
  if (!req->detach)
    events_container_exec(e, &c, "exec_die", exec_id, NULL, status);
  if (pid != NULL)
    *pid = o.pid;
  *exit_code = status;
  ret = 0;
out:
  free(env);
  free(all_caps);
  exec_identity_clear(&id);
  container_clear(&c);
  return ret;
}
