#include "engine/engine.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/containers.h"
#include "engine/volumes.h"
#include "util/cleanup.h"
#include "util/fs.h"

static char *self_path(berth_error **err) {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n < 0) {
    berth_fail(err, errno, "readlink /proc/self/exe");
    return NULL;
  }
  buf[n] = '\0';
  return strdup(buf);
}

/* $ENV_NAME, beside berth (installed), or the build tree's. */
static char *helper_path(const char *self, const char *env_name, const char *name) {
  const char *env = getenv(env_name);
  if (env != NULL && *env != '\0')
    return strdup(env);
  cleanup_free char *copy = strdup(self);
  if (copy == NULL)
    return NULL;
  const char *dir = dirname(copy);
  /* installed, then the build tree (build/src/cmd/berth/berth) */
  const char *candidates[] = {"%s/%s", "%s/../libexec/berth/%s", "%s/../../monitor/%s", "%s/../../init/%s"};
  for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
    char *path = NULL;
    if (asprintf(&path, candidates[i], dir, name) < 0)
      return NULL;
    if (access(path, X_OK) == 0)
      return path;
    free(path);
  }
  char *fallback = NULL;
  return asprintf(&fallback, "%s/%s", dir, name) < 0 ? NULL : fallback;
}

struct engine *engine_open(struct store *store, const char *runroot, berth_error **err) {
  struct engine *e = calloc(1, sizeof(*e));
  cleanup_free char *db_path = NULL, *containers = NULL, *run_containers = NULL;
  if (e == NULL) {
    berth_fail(err, ENOMEM, "engine");
    return NULL;
  }
  e->store = store;
  e->db = store->db;
  e->root = strdup(store->root);
  if (runroot != NULL)
    e->runroot = strdup(runroot);
  else if (strcmp(store->root, STORE_DEFAULT_ROOT) == 0)
    e->runroot = strdup(ENGINE_DEFAULT_RUNROOT);
  else if (asprintf(&e->runroot, "%s/run", store->root) < 0)
    e->runroot = NULL;
  if (e->root == NULL || e->runroot == NULL || asprintf(&e->runtime_root, "%s/runtime", e->runroot) < 0 ||
      asprintf(&db_path, "%s/berth.db", store->root) < 0) {
    berth_fail(err, ENOMEM, "engine");
    goto fail;
  }
  e->runtime.root = e->runtime_root;
  if ((e->self = self_path(err)) == NULL || (e->monitor = helper_path(e->self, "BERTH_MONITOR", "berth-monitor")) == NULL ||
      (e->init = helper_path(e->self, "BERTH_INIT", "berth-init")) == NULL)
    goto fail;
  containers = engine_container_path(e, "", NULL);
  run_containers = engine_container_run_path(e, "", NULL);
  if (containers == NULL || run_containers == NULL) {
    berth_fail(err, ENOMEM, "engine");
    goto fail;
  }
  if (fs_mkdir_p(containers, 0700, err) < 0 || fs_mkdir_p(run_containers, 0700, err) < 0 ||
      containers_schema(e, db_path, err) < 0 || volumes_schema(e, db_path, err) < 0)
    goto fail;
  return e;
fail:
  e->store = NULL; /* the caller keeps it on failure */
  engine_close(e);
  return NULL;
}

void engine_close(struct engine *e) {
  if (e == NULL)
    return;
  store_close(e->store);
  free(e->root);
  free(e->runroot);
  free(e->runtime_root);
  free(e->self);
  free(e->monitor);
  free(e->init);
  free(e);
}

static char *join(const char *base, const char *id, const char *name) {
  char *path = NULL;
  int n = name != NULL ? asprintf(&path, "%s/containers/%s/%s", base, id, name)
                       : asprintf(&path, "%s/containers/%s", base, id);
  return n < 0 ? NULL : path;
}

char *engine_container_path(const struct engine *e, const char *id, const char *name) {
  return join(e->root, id, name);
}

char *engine_container_run_path(const struct engine *e, const char *id, const char *name) {
  return join(e->runroot, id, name);
}
