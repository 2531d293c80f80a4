/* The facts `berth info` shows, gathered once per call. */
#include "engine/info.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "engine/containers.h"
#include "engine/lifecycle.h"
#include "engine/stats.h"
#include "image/images.h"
#include "runtime/cgroup/cgroup.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

#define ENGINE_ID_FILE "engine-id"

/* docker's names for the file system under its root (fsutils). */
static const char *backing_fs(const char *root) {
  static const struct {
    unsigned long magic;
    const char *name;
  } names[] = {
      {0xEF53, "extfs"},         {0x58465342, "xfs"}, {0x9123683E, "btrfs"}, {0x01021994, "tmpfs"},
      {0x794c7630, "overlayfs"}, {0x2fc12fc1, "zfs"}, {0xF2F52010, "f2fs"},  {0x6969, "nfs"},
  };
  struct statfs st;
  if (statfs(root, &st) < 0)
    return "<unknown>";
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if ((unsigned long)st.f_type == names[i].magic)
      return names[i].name;
  return "<unknown>";
}

/* The engine's ID: a UUID made once.  A new one is linked into place, so
 * two first calls at once agree on whichever got there first. */
static char *engine_id(struct engine *e, berth_error **err) {
  cleanup_close int root = open(e->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    berth_fail(err, errno, "engine root \"%s\"", e->root);
    return NULL;
  }
  size_t len;
  berth_error *missing = NULL;
  char *id = fs_read_file_at(root, ENGINE_ID_FILE, &len, &missing);
  if (id == NULL && missing->errnum == ENOENT) {
    berth_error_free(missing);
    missing = NULL;
    char uuid[64] = {0}, tmp[64];
    cleanup_close int rnd = open("/proc/sys/kernel/random/uuid", O_RDONLY | O_CLOEXEC);
    ssize_t n = rnd >= 0 ? read(rnd, uuid, sizeof(uuid) - 1) : -1;
    if (n <= 0) {
      berth_fail(err, errno, "read /proc/sys/kernel/random/uuid");
      return NULL;
    }
    uuid[strcspn(uuid, "\n")] = '\0';
    snprintf(tmp, sizeof(tmp), ".%s.%d", ENGINE_ID_FILE, (int)getpid());
    if (fs_write_file_at(root, tmp, uuid, strlen(uuid), 0644, err) < 0)
      return NULL;
    if (linkat(root, tmp, root, ENGINE_ID_FILE, 0) < 0 && errno != EEXIST) {
      berth_fail(err, errno, "link \"%s/%s\"", e->root, ENGINE_ID_FILE);
      unlinkat(root, tmp, 0);
      return NULL;
    }
    unlinkat(root, tmp, 0);
    id = fs_read_file_at(root, ENGINE_ID_FILE, &len, err);
  } else if (id == NULL) {
    *err = missing;
  }
  if (id != NULL)
    id[strcspn(id, "\n")] = '\0';
  return id;
}

/* KEY="value" from /etc/os-release (unquoted), or NULL. */
static char *os_release(const char *text, const char *key) {
  size_t klen = strlen(key);
  for (const char *line = text; line != NULL && *line != '\0';) {
    const char *eol = strchr(line, '\n');
    size_t len = eol != NULL ? (size_t)(eol - line) : strlen(line);
    if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
      const char *v = line + klen + 1;
      size_t vlen = len - klen - 1;
      if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
        v++;
        vlen -= 2;
      }
      return strndup(v, vlen);
    }
    line = eol != NULL ? eol + 1 : NULL;
  }
  return NULL;
}

static void add_str(struct json_object *o, const char *key, const char *value) {
  json_object_object_add(o, key, json_object_new_string(value != NULL ? value : ""));
}

static void add_int(struct json_object *o, const char *key, int64_t value) {
  json_object_object_add(o, key, json_object_new_int64(value));
}

static int count_containers(struct engine *e, struct json_object *o, berth_error **err) {
  struct container *list = NULL;
  size_t n = 0;
  if (containers_list(e, &list, &n, err) < 0)
    return -1;
  int64_t running = 0, paused = 0, stopped = 0;
  for (size_t i = 0; i < n; i++) {
    lifecycle_sync(e, &list[i]);
    /* docker counts a restarting container as running (it is, between tries) */
    if (list[i].status == CONTAINER_PAUSED)
      paused++;
    else if (list[i].status == CONTAINER_RUNNING || list[i].status == CONTAINER_RESTARTING)
      running++;
    else
      stopped++;
  }
  containers_free(list, n);
  add_int(o, "Containers", (int64_t)n);
  add_int(o, "ContainersRunning", running);
  add_int(o, "ContainersPaused", paused);
  add_int(o, "ContainersStopped", stopped);
  return 0;
}

struct json_object *engine_info(struct engine *e, berth_error **err) {
  cleanup_json struct json_object *o = json_object_new_object();
  cleanup_free char *id = engine_id(e, err);
  if (id == NULL)
    return NULL;
  add_str(o, "ID", id);
  if (count_containers(e, o, err) < 0)
    return NULL;
  struct image_record *images = NULL;
  size_t n_images = 0;
  if (images_list(e->store, &images, &n_images, err) < 0)
    return NULL;
  image_records_free(images, n_images);
  add_int(o, "Images", (int64_t)n_images);

  add_str(o, "Driver", "overlay2");
  struct json_object *status = json_object_new_array(), *pair = json_object_new_array();
  json_object_array_add(pair, json_object_new_string("Backing Filesystem"));
  json_object_array_add(pair, json_object_new_string(backing_fs(e->root)));
  json_object_array_add(status, pair);
  json_object_object_add(o, "DriverStatus", status);
  add_str(o, "LoggingDriver", "json-file");
  add_str(o, "CgroupDriver", "cgroupfs");
  enum cgroup_mode mode = CGROUP_MODE_V1;
  berth_error *ignored = NULL;
  if (cgroup_detect_mode(&mode, &ignored) < 0)
    berth_error_free(ignored);
  add_str(o, "CgroupVersion", mode == CGROUP_MODE_V2 ? "2" : "1");

  /* the runtime library is linked in; berth-runtime is the same code as a program */
  struct json_object *runtimes = json_object_new_object(), *rt = json_object_new_object();
  add_str(rt, "path", "berth-runtime");
  json_object_object_add(runtimes, "berth-runtime", rt);
  json_object_object_add(o, "Runtimes", runtimes);
  add_str(o, "DefaultRuntime", "berth-runtime");
  /* every container gets docker's seccomp profile and a cgroup namespace */
  struct json_object *security = json_object_new_array();
  json_object_array_add(security, json_object_new_string("name=seccomp,profile=builtin"));
  json_object_array_add(security, json_object_new_string("name=cgroupns"));
  json_object_object_add(o, "SecurityOptions", security);

  struct utsname u;
  uname(&u);
  add_str(o, "KernelVersion", u.release);
  size_t len;
  cleanup_free char *release = fs_read_file_at(AT_FDCWD, "/etc/os-release", &len, &ignored);
  berth_error_free(ignored);
  cleanup_free char *pretty = release != NULL ? os_release(release, "PRETTY_NAME") : NULL;
  cleanup_free char *version = release != NULL ? os_release(release, "VERSION_ID") : NULL;
  add_str(o, "OperatingSystem", pretty != NULL ? pretty : "Linux");
  add_str(o, "OSVersion", version);
  add_str(o, "OSType", "linux");
  add_str(o, "Architecture", u.machine);
  cpu_set_t cpus;
  long ncpu = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? CPU_COUNT(&cpus) : sysconf(_SC_NPROCESSORS_ONLN);
  add_int(o, "NCPU", ncpu);
  add_int(o, "MemTotal", (int64_t)stats_host_memory());
  char host[256] = "";
  gethostname(host, sizeof(host) - 1);
  add_str(o, "Name", host);
  add_str(o, "ServerVersion", BERTH_VERSION);
  add_str(o, "DockerRootDir", e->root);
  json_object_object_add(o, "Debug", json_object_new_boolean(berth_log_debug_enabled()));
  json_object_object_add(o, "Labels", json_object_new_array());
  json_object_object_add(o, "Warnings", json_object_new_array());
  return TAKE_PTR(o);
}
