#include "engine/lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/events.h"
#include "engine/lifecycle_internal.h"
#include "engine/volumes.h"
#include "image/builtin.h"
#include "image/db.h"
#include "image/images.h"
#include "image/manifest.h"
#include "runtime/state.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"

int64_t lifecycle_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

char *lifecycle_log_path(struct engine *e, const char *id) {
  char name[CONTAINER_ID_LEN + 16];
  snprintf(name, sizeof(name), "%s-json.log", id);
  return engine_container_path(e, id, name);
}

char *lifecycle_socket_path(struct engine *e, const char *id) {
  return engine_container_run_path(e, id, "attach");
}

int lifecycle_lock(struct engine *e, const char *id, berth_error **err) {
  cleanup_free char *dir = engine_container_path(e, id, NULL);
  if (dir == NULL)
    return berth_fail(err, ENOMEM, "container lock");
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return berth_fail(err, errno, "container directory \"%s\"", dir);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "container directory \"%s\"", dir);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) {
      close(fd);
      return berth_fail(err, errno, "lock container \"%s\"", id);
    }
  return fd;
}

int lifecycle_find_locked(struct engine *e, const char *ref, struct container *c, int *lock_fd,
                          berth_error **err) {
  struct container found;
  if (containers_find(e, ref, &found, err) < 0)
    return -1;
  int fd = lifecycle_lock(e, found.id, err);
  if (fd < 0) {
    container_clear(&found);
    return -1;
  }
  /* another process may have changed or removed it meanwhile */
  char found_id[CONTAINER_ID_LEN + 1];
  memcpy(found_id, found.id, sizeof(found_id));
  container_clear(&found);
  int got = containers_get(e, found_id, c, err);
  if (got < 0) {
    /* removed meanwhile: the directory the lock may have made goes too */
    cleanup_free char *dir = engine_container_path(e, found_id, NULL);
    if (dir != NULL)
      rmdir(dir);
    berth_error_free(*err);
    *err = NULL;
    berth_fail(err, 0, "No such container: %s", ref);
    close(fd);
    return -1;
  }
  *lock_fd = fd;
  return 0;
}

bool lifecycle_init_alive(const struct container *c) {
  return c->pid > 0 && state_process_alive(c->pid, c->pid_start);
}

int lifecycle_read_exit_file(struct engine *e, const char *id, int *status, int64_t *finished_ns) {
  cleanup_free char *path = engine_container_run_path(e, id, "exit");
  berth_error *err = NULL;
  cleanup_free char *text = path != NULL ? fs_read_file_at(AT_FDCWD, path, NULL, &err) : NULL;
  berth_error_free(err);
  long long code, finished;
  if (text == NULL || sscanf(text, "%lld %lld", &code, &finished) != 2)
    return -1;
  *status = (int)code;
  *finished_ns = finished;
  return 0;
}

static bool runtime_fifo_exists(struct engine *e, const char *id) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s/" STATE_FIFO, e->runtime_root, id);
  return access(path, F_OK) == 0;
}

void lifecycle_sync(struct engine *e, struct container *c) {
  switch (c->status) {
  case CONTAINER_CREATED:
    /* a start that crashed after the runtime started the process */
    if (c->pid > 0 && lifecycle_init_alive(c) && !runtime_fifo_exists(e, c->id))
      c->status = CONTAINER_RUNNING;
    return;
  case CONTAINER_RUNNING:
  case CONTAINER_PAUSED:
    if (lifecycle_init_alive(c))
      return;
    break;
  case CONTAINER_RESTARTING:
    if (c->monitor_pid > 0 && state_process_alive(c->monitor_pid, c->monitor_start))
      return;
    break;
  default:
    return;
  }
  c->status = CONTAINER_EXITED;
  int status;
  int64_t finished;
  if (lifecycle_read_exit_file(e, c->id, &status, &finished) == 0) {
    c->exit_code = status;
    c->finished_ns = finished;
  } else if (c->finished_ns < c->started_ns) {
    /* nobody saw it end (its monitor was killed): docker's "unknown" */
    c->exit_code = 255;
    c->finished_ns = lifecycle_now_ns();
  }
  c->pid = 0;
}

/* ---- create ---- */

static struct json_object *get(struct json_object *o, const char *key) {
  struct json_object *v = NULL;
  return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static bool empty_value(struct json_object *v) {
  return v == NULL || (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) == 0) ||
         (json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0);
}

static size_t env_key_len(const char *entry) {
  const char *eq = strchr(entry, '=');
  return eq != NULL ? (size_t)(eq - entry) : strlen(entry);
}

/* Image Env first, then the user's, a user's KEY replacing the image's. */
static struct json_object *merge_env(struct json_object *image_env, struct json_object *user_env) {
  struct json_object *out = json_object_new_array();
  for (size_t i = 0; image_env != NULL && i < json_object_array_length(image_env); i++) {
    const char *entry = json_object_get_string(json_object_array_get_idx(image_env, i));
    size_t klen = env_key_len(entry);
    bool overridden = false;
    for (size_t j = 0; user_env != NULL && j < json_object_array_length(user_env) && !overridden; j++) {
      const char *u = json_object_get_string(json_object_array_get_idx(user_env, j));
      overridden = env_key_len(u) == klen && strncmp(u, entry, klen) == 0;
    }
    if (!overridden)
      json_object_array_add(out, json_object_new_string(entry));
  }
  for (size_t j = 0; user_env != NULL && j < json_object_array_length(user_env); j++)
    json_object_array_add(out, json_object_get(json_object_array_get_idx(user_env, j)));
  return out;
}

static void merge_object(struct json_object *config, struct json_object *image, const char *key) {
  struct json_object *from_image = get(image, key), *mine = get(config, key);
  if (from_image == NULL || !json_object_is_type(from_image, json_type_object))
    return;
  struct json_object *merged = json_object_new_object();
  json_object_object_foreach(from_image, k, v) json_object_object_add(merged, k, json_object_get(v));
  if (mine != NULL && json_object_is_type(mine, json_type_object)) {
    json_object_object_foreach(mine, k2, v2) json_object_object_add(merged, k2, json_object_get(v2));
  }
  json_object_object_add(config, key, merged);
}

/* docker merges a health check field by field: --health-interval alone
 * keeps the image's test. */
static void merge_healthcheck(struct json_object *config, struct json_object *image) {
  struct json_object *from_image = get(image, "Healthcheck");
  if (from_image == NULL || !json_object_is_type(from_image, json_type_object))
    return;
  struct json_object *mine = get(config, "Healthcheck");
  if (mine == NULL || !json_object_is_type(mine, json_type_object)) {
    json_object_object_add(config, "Healthcheck", json_object_get(from_image));
    return;
  }
  json_object_object_foreach(from_image, key, value) {
    struct json_object *own = get(mine, key);
    if (own == NULL || empty_value(own) ||
        (json_object_is_type(own, json_type_int) && json_object_get_int64(own) == 0))
      json_object_object_add(mine, key, json_object_get(value));
  }
}

/* docker's rules: the user's values win; an explicit --entrypoint drops the
 * image's Cmd; Env, Labels, Volumes and ExposedPorts are unions. */
static void merge_image_config(struct json_object *config, struct json_object *image) {
  bool entrypoint_given = get(config, "Entrypoint") != NULL;
  if (!entrypoint_given && get(image, "Entrypoint") != NULL)
    json_object_object_add(config, "Entrypoint", json_object_get(get(image, "Entrypoint")));
  if (empty_value(get(config, "Cmd"))) {
    if (!entrypoint_given && get(image, "Cmd") != NULL)
      json_object_object_add(config, "Cmd", json_object_get(get(image, "Cmd")));
  }
  json_object_object_add(config, "Env", merge_env(get(image, "Env"), get(config, "Env")));
  merge_healthcheck(config, image);
  const char *scalars[] = {"WorkingDir", "User", "StopSignal", "Shell", "OnBuild"};
  for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
    if (empty_value(get(config, scalars[i])) && get(image, scalars[i]) != NULL)
      json_object_object_add(config, scalars[i], json_object_get(get(image, scalars[i])));
  merge_object(config, image, "Labels");
  merge_object(config, image, "Volumes");
  merge_object(config, image, "ExposedPorts");
}

static struct json_object *image_config(struct engine *e, const char *image_id, berth_error **err) {
  size_t len = 0;
  cleanup_free char *text = store_blob_read(e->store, image_id, MANIFEST_MAX_SIZE, &len, err);
  if (text == NULL)
    return NULL;
  struct json_object *doc = json_parse_text(text, len, image_id, err);
  if (doc == NULL)
    return NULL;
  struct json_object *config = get(doc, "config");
  config = config != NULL ? json_object_get(config) : json_object_new_object();
  json_object_put(doc);
  return config;
}

static int new_anonymous_volume(struct engine *e, char **name, berth_error **err) {
  struct volume v;
  if (volumes_create(e, NULL, NULL, NULL, true, &v, err) < 0)
    return -1;
  *name = v.name;
  v.name = NULL;
  volume_clear(&v);
  return 0;
}

/* Anonymous volumes: for `-v /path` (a volume mount without a source) and
 * for each image VOLUME no mount of the user covers. */
static int add_anonymous_volumes(struct engine *e, struct json_object *config, struct json_object *host_config,
                                 berth_error **err) {
  struct json_object *volumes = get(config, "Volumes"), *mounts = get(host_config, "Mounts");
  if (mounts == NULL) {
    mounts = json_object_new_array();
    json_object_object_add(host_config, "Mounts", mounts);
  }
  for (size_t i = 0; i < json_object_array_length(mounts); i++) {
    struct json_object *m = json_object_array_get_idx(mounts, i), *type = get(m, "Type");
    if (type == NULL || strcmp(json_object_get_string(type), "volume") != 0 || !empty_value(get(m, "Source")))
      continue;
    cleanup_free char *name = NULL;
    if (new_anonymous_volume(e, &name, err) < 0)
      return -1;
    json_object_object_add(m, "Source", json_object_new_string(name));
  }
  if (volumes == NULL || !json_object_is_type(volumes, json_type_object))
    return 0;
  json_object_object_foreach(volumes, target, unused) {
    (void)unused;
    bool covered = false;
    for (size_t i = 0; i < json_object_array_length(mounts) && !covered; i++) {
      struct json_object *t = get(json_object_array_get_idx(mounts, i), "Target");
      covered = t != NULL && strcmp(json_object_get_string(t), target) == 0;
    }
    if (covered)
      continue;
    cleanup_free char *name = NULL;
    if (new_anonymous_volume(e, &name, err) < 0)
      return -1;
    struct json_object *m = json_object_new_object();
    json_object_object_add(m, "Type", json_object_new_string("volume"));
    json_object_object_add(m, "Source", json_object_new_string(name));
    json_object_object_add(m, "Target", json_object_new_string(target));
    json_object_array_add(mounts, m);
  }
  return 0;
}

/* Volume names the container's mounts use (pointers into host_config). */
static size_t volume_names(struct json_object *host_config, const char **names, size_t max) {
  struct json_object *mounts = get(host_config, "Mounts");
  size_t n = 0;
  for (size_t i = 0; mounts != NULL && i < json_object_array_length(mounts) && n < max; i++) {
    struct json_object *m = json_object_array_get_idx(mounts, i), *type = get(m, "Type"), *src = get(m, "Source");
    if (type != NULL && src != NULL && strcmp(json_object_get_string(type), "volume") == 0)
      names[n++] = json_object_get_string(src);
  }
  return n;
}

/* hostname, hosts and resolv.conf; on the host's network (host_network)
 * the host's own hosts and resolvers, loopback ones included. */
static int write_etc_files(struct engine *e, const char *id, const char *hostname, bool host_network,
                           berth_error **err) {
  cleanup_free char *dir = engine_container_path(e, id, NULL);
  cleanup_close int dirfd = dir != NULL ? open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
  if (dirfd < 0)
    return berth_fail(err, errno, "container directory \"%s\"", dir != NULL ? dir : id);
  char text[512];
  snprintf(text, sizeof(text), "%s\n", hostname);
  if (fs_write_file_at(dirfd, "hostname", text, strlen(text), 0644, err) < 0)
    return -1;
  snprintf(text, sizeof(text),
           "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
           "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
  size_t hosts_len = 0;
  berth_error *no_hosts = NULL;
  cleanup_free char *host_hosts = host_network ? fs_read_file_at(AT_FDCWD, "/etc/hosts", &hosts_len, &no_hosts) : NULL;
  berth_error_free(no_hosts);
  if (fs_write_file_at(dirfd, "hosts", host_hosts != NULL ? host_hosts : text,
                       host_hosts != NULL ? hosts_len : strlen(text), 0644, err) < 0)
    return -1;
  /* the host's resolvers, except loopback ones the container cannot reach
   * (docker falls back to public resolvers then) */
  berth_error *ignored = NULL;
  cleanup_free char *host = fs_read_file_at(AT_FDCWD, "/etc/resolv.conf", NULL, &ignored);
  berth_error_free(ignored);
  size_t cap = (host != NULL ? strlen(host) : 0) + 128, len = 0;
  cleanup_free char *out = malloc(cap);
  if (out == NULL)
    return berth_fail(err, ENOMEM, "resolv.conf");
  out[0] = '\0';
  bool nameserver = false;
  char *save = NULL;
  for (char *line = host != NULL ? strtok_r(host, "\n", &save) : NULL; line != NULL; line = strtok_r(NULL, "\n", &save)) {
    if (strncmp(line, "nameserver", 10) == 0) {
      const char *addr = line + 10 + strspn(line + 10, " \t");
      if (!host_network && (strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0))
        continue;
      nameserver = true;
    }
    len += (size_t)snprintf(out + len, cap - len, "%s\n", line);
  }
  if (!nameserver)
    len += (size_t)snprintf(out + len, cap - len, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  return fs_write_file_at(dirfd, "resolv.conf", out, len, 0644, err);
}

static int make_directories(struct engine *e, const char *id, berth_error **err) {
  const char *subdirs[] = {NULL, "diff", "work", "rootfs"};
  for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
    cleanup_free char *path = engine_container_path(e, id, subdirs[i]);
    if (path == NULL)
      return berth_fail(err, ENOMEM, "container directory");
    if (mkdir(path, i == 0 ? 0700 : 0755) < 0 && errno != EEXIST)
      return berth_fail(err, errno, "create \"%s\"", path);
  }
  return 0;
}

static int remove_files(struct engine *e, const char *id, berth_error **err) {
  cleanup_free char *dir = engine_container_path(e, id, NULL);
  cleanup_free char *run = engine_container_run_path(e, id, NULL);
  if (dir == NULL || run == NULL)
    return berth_fail(err, ENOMEM, "container directory");
  return fs_remove_tree_at(AT_FDCWD, run, err) < 0 || fs_remove_tree_at(AT_FDCWD, dir, err) < 0 ? -1 : 0;
}

int lifecycle_create(struct engine *e, const struct create_request *req, char id[CONTAINER_ID_LEN + 1],
                     berth_error **err) {
  char image_id[DIGEST_TEXT_MAX];
  if (images_find(e->store, req->image, image_id, err) < 0)
    return -1;
  struct container c = {.image = (char *)req->image, .image_id = image_id, .created_ns = lifecycle_now_ns()};
  cleanup_free char *generated = NULL;
  if (req->name != NULL) {
    if (containers_check_name(req->name, err) < 0)
      return -1;
    c.name = (char *)(req->name[0] == '/' ? req->name + 1 : req->name);
  } else if ((c.name = generated = containers_new_name(e, err)) == NULL) {
    return -1;
  }
  if (containers_new_id(c.id, err) < 0)
    return -1;
  cleanup_json struct json_object *config = json_object_new_object();
  cleanup_json struct json_object *host_config = json_object_get(req->host_config);
  json_object_object_foreach(req->config, k, v) json_object_object_add(config, k, json_object_get(v));
  cleanup_json struct json_object *from_image = image_config(e, image_id, err);
  if (from_image == NULL)
    return -1;
  merge_image_config(config, from_image);
  struct json_object *hostname = get(config, "Hostname");
  const char *network_mode = json_object_get_string(get(host_config, "NetworkMode"));
  bool host_network = network_mode != NULL && strcmp(network_mode, "host") == 0;
  if (empty_value(hostname)) {
    /* docker: the short ID, or the host's own name on the host's network */
    char name[HOST_NAME_MAX + 1] = "";
    if (!host_network || gethostname(name, sizeof(name)) < 0)
      snprintf(name, sizeof(name), "%.12s", c.id);
    json_object_object_add(config, "Hostname", json_object_new_string(name));
  }
  json_object_object_add(config, "Image", json_object_new_string(req->image));
  c.config = config;
  c.host_config = host_config;

  /* the record, its volumes and their uses in one transaction: from then
   * on `ps` shows it and `rm` removes it, whatever step a crash interrupts */
  if (db_begin(e->db, err) < 0)
    return -1;
  const char *names[256];
  size_t n_names = 0;
  if (add_anonymous_volumes(e, config, host_config, err) < 0 ||
      (n_names = volume_names(host_config, names, 256), containers_insert(e, &c, err) < 0) ||
      volumes_attach(e, c.id, names, n_names, err) < 0 || db_commit(e->db, err) < 0) {
    db_rollback(e->db);
    goto fail_volumes;
  }
  if (make_directories(e, c.id, err) < 0 ||
      write_etc_files(e, c.id, json_object_get_string(get(config, "Hostname")), host_network, err) < 0) {
    berth_error *ignored = NULL;
    if (remove_files(e, c.id, &ignored) == 0 && volumes_detach(e, c.id, true, &ignored) == 0)
      containers_delete(e, c.id, &ignored);
    berth_error_free(ignored);
    return -1;
  }
  memcpy(id, c.id, sizeof(c.id));
  events_container(e, &c, "create", NULL, 0);
  return 0;
fail_volumes:;
  /* the directories of anonymous volumes whose rows the rollback undid */
  berth_error *ignored = NULL;
  volumes_sweep(e, &ignored);
  berth_error_free(ignored);
  return -1;
}

/* ---- release and remove ---- */

int lifecycle_release(struct engine *e, const struct container *c, berth_error **err) {
  if (container_delete(&e->runtime, c->id, true, err) < 0)
    return -1;
  cleanup_free char *rootfs = engine_container_path(e, c->id, "rootfs");
  if (rootfs == NULL)
    return berth_fail(err, ENOMEM, "rootfs");
  /* several stacked mounts are possible after a crash mid-start */
  for (int i = 0; i < 8; i++)
    if (umount2(rootfs, MNT_DETACH) < 0) {
      if (errno == EINVAL || errno == ENOENT)
        break;
      return berth_fail(err, errno, "unmount \"%s\"", rootfs);
    }
  return 0;
}

int lifecycle_remove(struct engine *e, const char *ref, bool force, bool volumes, berth_error **err) {
  struct container c;
  cleanup_close int lock = -1;
  if (lifecycle_find_locked(e, ref, &c, &lock, err) < 0)
    return -1;
  int ret = -1;
  lifecycle_sync(e, &c);
  if (c.status == CONTAINER_RUNNING || c.status == CONTAINER_PAUSED || c.status == CONTAINER_RESTARTING) {
    if (!force) {
      berth_fail(err, 0,
                 "cannot remove container \"/%s\": container is %s: stop the container before removing or force "
                 "remove",
                 c.name, c.status == CONTAINER_PAUSED ? "paused" : "running");
      goto out;
    }
    berth_error *ignored = NULL;
    /* a frozen init would not die */
    if (c.status == CONTAINER_PAUSED && container_pause(&e->runtime, c.id, false, &ignored) < 0) {
      berth_error_free(ignored);
      ignored = NULL;
    }
    if (lifecycle_init_alive(&c) && container_kill(&e->runtime, c.id, SIGKILL, true, &ignored) < 0)
      kill(c.pid, SIGKILL);
    berth_error_free(ignored);
    if (c.pid > 0 && !lifecycle_wait_pid(c.pid, c.pid_start, 10000)) {
      berth_fail(err, 0, "container \"%s\": init did not die after SIGKILL", c.id);
      goto out;
    }
  }
  /* nothing may start it again while the files go */
  c.status = CONTAINER_REMOVING;
  if (containers_save_state(e, &c, err) < 0 || lifecycle_release(e, &c, err) < 0 || remove_files(e, c.id, err) < 0)
    goto out;
  if (db_begin(e->db, err) < 0)
    goto out;
  if (volumes_detach(e, c.id, volumes, err) < 0 || containers_delete(e, c.id, err) < 0 || db_commit(e->db, err) < 0) {
    db_rollback(e->db);
    goto out;
  }
  /* the anonymous volumes' directories, now that their rows are gone */
  berth_error *ignored = NULL;
  if (volumes)
    volumes_sweep(e, &ignored);
  berth_error_free(ignored);
  events_container(e, &c, "destroy", NULL, 0);
  ret = 0;
out:
  container_clear(&c);
  return ret;
}

int lifecycle_lower_dirs(struct engine *e, const struct container *c, char ***lower, size_t *n, berth_error **err) {
  *lower = NULL;
  *n = 0;
  struct image_record r;
  if (images_get(e->store, c->image_id, &r, err) < 0)
    return berth_error_wrap(err, "container \"%s\": image", c->name);
  int ret = -1;
  char **dirs = calloc(r.n_layers + 1, sizeof(char *));
  if (dirs == NULL) {
    berth_fail(err, ENOMEM, "container \"%s\": layers", c->name);
    goto out;
  }
  if (r.n_layers == 0) {
    berth_fail(err, EINVAL, "container \"%s\": an image without layers", c->name);
    goto out;
  }
  for (size_t i = 0; i < r.n_layers; i++)
    if ((dirs[i] = images_layer_path(e->store, r.chain_ids[r.n_layers - 1 - i])) == NULL) {
      berth_fail(err, ENOMEM, "container \"%s\": layers", c->name);
      goto out;
    }
  *lower = dirs;
  *n = r.n_layers;
  dirs = NULL;
  ret = 0;
out:
  lifecycle_lower_dirs_free(dirs, r.n_layers);
  image_record_free(&r);
  return ret;
}

void lifecycle_lower_dirs_free(char **lower, size_t n) {
  for (size_t i = 0; lower != NULL && i < n; i++)
    free(lower[i]);
  free(lower);
}
