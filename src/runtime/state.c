#include "runtime/state.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cgroup/cgroup.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"

#define OCI_VERSION "1.2.0"

int state_check_id(const char *id, berth_error **err) {
  if (id == NULL || id[0] == '\0')
    return berth_fail(err, 0, "container id is empty");
  if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0 || strlen(id) > 1024)
    return berth_fail(err, 0, "invalid container id \"%s\"", id);
  for (const char *p = id; *p != '\0'; p++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
              c == '-' || c == '.';
    if (!ok)
      return berth_fail(err, 0, "invalid container id \"%s\": only letters, digits and _+-. are allowed", id);
  }
  return 0;
}

int state_open_root(const char *root, berth_error **err) {
  int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    return fd;
  if (errno != ENOENT)
    return berth_fail(err, errno, "state root \"%s\"", root);
  if (fs_mkdir_p(root, 0700, err) < 0)
    return berth_error_wrap(err, "state root");
  fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "state root \"%s\"", root);
  return fd;
}

int state_create_dir(int rootfd, const char *id, berth_error **err) {
  if (mkdirat(rootfd, id, 0700) < 0) {
    if (errno == EEXIST)
      return berth_fail(err, 0, "container \"%s\" already exists", id);
    return berth_fail(err, errno, "create state directory for container \"%s\"", id);
  }
  int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "open state directory for container \"%s\"", id);
  return fd;
}

int state_open_dir(int rootfd, const char *id, berth_error **err) {
  if (state_check_id(id, err) < 0)
    return -1;
  int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return berth_fail(err, 0, "container \"%s\" does not exist", id);
    return berth_fail(err, errno, "open state of container \"%s\"", id);
  }
  return fd;
}

int state_lock(int dirfd, berth_error **err) {
  while (flock(dirfd, LOCK_EX) < 0) {
    if (errno != EINTR)
      return berth_fail(err, errno, "lock container state");
  }
  return 0;
}

int state_write(int dirfd, const struct container_state *st, berth_error **err) {
  cleanup_json struct json_object *o = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_string(st->id));
  json_object_object_add(o, "pid", json_object_new_int(st->pid));
  json_object_object_add(o, "startTime", json_object_new_uint64(st->start_time));
  json_object_object_add(o, "bundle", json_object_new_string(st->bundle));
  json_object_object_add(o, "rootfs", json_object_new_string(st->rootfs));
  json_object_object_add(o, "created", json_object_new_string(st->created));
  if (st->cgroup != NULL)
    json_object_object_add(o, "cgroup", json_object_new_string(st->cgroup));
  if (st->annotations_json != NULL)
    json_object_object_add(o, "annotations", json_tokener_parse(st->annotations_json));
  json_object_object_add(o, "hookKinds", json_object_new_int((int)st->hook_kinds));
  const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  if (fs_write_file_atomic_at(dirfd, "state.json", text, strlen(text), 0600, err) < 0)
    return berth_error_wrap(err, "save state of container \"%s\"", st->id);
  return 0;
}

static char *dup_member(struct json_object *o, const char *key) {
  struct json_object *v;
  if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
    return NULL;
  return strdup(json_object_get_string(v));
}

int state_read(int dirfd, const char *id, struct container_state *st, berth_error **err) {
  size_t len;
  cleanup_free char *text = fs_read_file_at(dirfd, "state.json", &len, err);
  if (text == NULL) {
    /* A create that has not finished, or one that died half way. */
    if ((*err)->errnum == ENOENT) {
      berth_error_free(*err);
      *err = NULL;
      return berth_fail(err, 0, "container \"%s\" is still being created or its state is lost", id);
    }
    return berth_error_wrap(err, "state of container \"%s\"", id);
  }
  cleanup_json struct json_object *o = json_parse_text(text, len, "state.json", err);
  if (o == NULL)
    return berth_error_wrap(err, "container \"%s\"", id);
  memset(st, 0, sizeof(*st));
  st->id = dup_member(o, "id");
  st->bundle = dup_member(o, "bundle");
  st->rootfs = dup_member(o, "rootfs");
  st->created = dup_member(o, "created");
  st->cgroup = dup_member(o, "cgroup");
  struct json_object *v;
  if (json_object_object_get_ex(o, "pid", &v))
    st->pid = json_object_get_int(v);
  if (json_object_object_get_ex(o, "startTime", &v))
    st->start_time = json_object_get_uint64(v);
  /* Absent in a state written by an older berth: assume every kind, so the
   * config is read as before. */
  st->hook_kinds = json_object_object_get_ex(o, "hookKinds", &v) ? (unsigned)json_object_get_int(v) : ~0u;
  if (json_object_object_get_ex(o, "annotations", &v) && v != NULL)
    st->annotations_json = strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  if (st->id == NULL || st->bundle == NULL || st->pid <= 0) {
    state_clear(st);
    return berth_fail(err, 0, "state of container \"%s\" is damaged", id);
  }
  return 0;
}

void state_clear(struct container_state *st) {
  free(st->id);
  free(st->bundle);
  free(st->rootfs);
  free(st->created);
  free(st->cgroup);
  free(st->annotations_json);
  memset(st, 0, sizeof(*st));
}

unsigned long long state_process_start_time(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* The command name may hold spaces and parentheses: count from the last ')'. */
  char *p = strrchr(buf, ')');
  if (p == NULL)
    return 0;
  char state = p[2];
  if (state == 'Z' || state == 'X')
    return 0;
  p += 2;
  for (int field = 3; field < 22 && p != NULL; field++) {
    p = strchr(p, ' ');
    if (p != NULL)
      p++;
  }
  return p != NULL ? strtoull(p, NULL, 10) : 0;
}

bool state_process_alive(pid_t pid, unsigned long long start_time) {
  if (pid <= 0)
    return false;
  unsigned long long now = state_process_start_time(pid);
  return now != 0 && now == start_time;
}

enum container_status state_status(int dirfd, const struct container_state *st, struct cgroup *cgroup) {
  if (!state_process_alive(st->pid, st->start_time))
    return STATUS_STOPPED;
  if (faccessat(dirfd, STATE_FIFO, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return STATUS_CREATED;
  if (cgroup != NULL) {
    bool frozen = false;
    berth_error *err = NULL;
    if (cgroup_is_frozen(cgroup, &frozen, &err) == 0 && frozen)
      return STATUS_PAUSED;
    berth_error_free(err);
  }
  return STATUS_RUNNING;
}

const char *state_status_name(enum container_status status) {
  switch (status) {
  case STATUS_CREATING:
    return "creating";
  case STATUS_CREATED:
    return "created";
  case STATUS_RUNNING:
    return "running";
  case STATUS_PAUSED:
    return "paused";
  case STATUS_STOPPED:
    return "stopped";
  }
  return "unknown";
}

char *state_to_json(const struct container_state *st, enum container_status status, bool with_extras, bool pretty,
                    berth_error **err) {
  cleanup_json struct json_object *o = json_object_new_object();
  json_object_object_add(o, "ociVersion", json_object_new_string(OCI_VERSION));
  json_object_object_add(o, "id", json_object_new_string(st->id));
  json_object_object_add(o, "pid", json_object_new_int(status == STATUS_STOPPED ? 0 : st->pid));
  json_object_object_add(o, "status", json_object_new_string(state_status_name(status)));
  json_object_object_add(o, "bundle", json_object_new_string(st->bundle));
  if (with_extras) {
    json_object_object_add(o, "rootfs", json_object_new_string(st->rootfs != NULL ? st->rootfs : ""));
    json_object_object_add(o, "created", json_object_new_string(st->created != NULL ? st->created : ""));
    json_object_object_add(o, "owner", json_object_new_string(""));
  }
  struct json_object *ann = st->annotations_json != NULL ? json_tokener_parse(st->annotations_json) : NULL;
  if (ann != NULL)
    json_object_object_add(o, "annotations", ann);
  int flags = (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN) |
              JSON_C_TO_STRING_NOSLASHESCAPE;
  char *text = strdup(json_object_to_json_string_ext(o, flags));
  if (text == NULL)
    berth_fail(err, ENOMEM, "state of container \"%s\"", st->id);
  return text;
}

int state_remove(int rootfd, const char *id, berth_error **err) {
  /* The files a state directory holds, so the common case reads no directory. */
  static const char *const files[] = {"state.json", "config.json", STATE_FIFO};
  cleanup_close int dirfd = openat(rootfd, id, O_PATH | O_DIRECTORY | O_CLOEXEC);
  for (size_t i = 0; dirfd >= 0 && i < sizeof(files) / sizeof(files[0]); i++)
    unlinkat(dirfd, files[i], 0);
  if (unlinkat(rootfd, id, AT_REMOVEDIR) == 0)
    return 0;
  if (fs_remove_tree_at(rootfd, id, err) < 0)
    return berth_error_wrap(err, "remove state of container \"%s\"", id);
  return 0;
}
