#include "engine/rootfs_view.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/lifecycle_internal.h"
#include "engine/volumes.h"
#include "util/cleanup.h"
#include "util/path.h"

static struct json_object *get(struct json_object *o, const char *key) {
  struct json_object *v = NULL;
  return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

int rootfs_open_at(int root, const char *path, int flags) {
  struct open_how how = {
      .flags = (unsigned long long)(flags | O_CLOEXEC),
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  int fd = (int)syscall(SYS_openat2, root, *path != '\0' ? path : ".", &how, sizeof(how));
  return fd < 0 ? -errno : fd;
}

static int mnt_id(int fd, uint64_t *id) {
  struct statx stx;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0)
    return -1;
  *id = stx.stx_mnt_id;
  return 0;
}

/* ---- the overlay ---- */

static int fsconfig_string(int fs, const char *key, const char *value) {
  return (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, value, 0);
}

/* The container's overlay as a detached mount (an fd, no path). */
static int overlay_detached(char **lower, size_t n, const char *upper, const char *work, bool volatile_upper,
                            berth_error **err) {
  cleanup_close int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    return berth_fail(err, errno, "overlay: fsopen");
  for (size_t i = 0; i < n; i++)
    if (fsconfig_string(fs, "lowerdir+", lower[i]) < 0) {
      if (errno != EINVAL || i != 0)
        return berth_fail(err, errno, "overlay: lower layer \"%s\"", lower[i]);
      /* before 6.8: one option with every layer */
      size_t len = 1;
      for (size_t j = 0; j < n; j++)
        len += strlen(lower[j]) + 1;
      cleanup_free char *all = malloc(len);
      if (all == NULL)
        return berth_fail(err, ENOMEM, "overlay");
      char *p = all;
      for (size_t j = 0; j < n; j++)
        p = stpcpy(stpcpy(p, j > 0 ? ":" : ""), lower[j]);
      if (fsconfig_string(fs, "lowerdir", all) < 0)
        return berth_fail(err, errno, "overlay: lower layers");
      break;
    }
  if (fsconfig_string(fs, "upperdir", upper) < 0 || fsconfig_string(fs, "workdir", work) < 0)
    return berth_fail(err, errno, "overlay: upper \"%s\" or work \"%s\"", upper, work);
  if (volatile_upper && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
    return berth_fail(err, errno, "overlay: volatile");
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return berth_fail(err, errno, "overlay: create");
  int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0)
    return berth_fail(err, errno, "overlay: fsmount");
  return mnt;
}

static int mount_overlay(struct engine *e, const struct container *c, berth_error **err) {
  char **lower;
  size_t n;
  if (lifecycle_lower_dirs(e, c, &lower, &n, err) < 0)
    return -1;
  cleanup_free char *upper = engine_container_path(e, c->id, "diff");
  cleanup_free char *work = engine_container_path(e, c->id, "work");
  /* as start mounts it: the kernel refuses a volatile upper otherwise */
  bool auto_remove = json_object_get_boolean(get(c->host_config, "AutoRemove"));
  int ret = upper == NULL || work == NULL ? berth_fail(err, ENOMEM, "rootfs")
                                          : overlay_detached(lower, n, upper, work, auto_remove, err);
  lifecycle_lower_dirs_free(lower, n);
  return ret;
}

/* The running container's overlay (mounted by start on rootfs/) is cloned:
 * a second overlay on the same upper layer is refused by the kernel. */
static int open_root(struct engine *e, const struct container *c, berth_error **err) {
  cleanup_free char *rootfs = engine_container_path(e, c->id, "rootfs");
  if (rootfs == NULL)
    return berth_fail(err, ENOMEM, "rootfs");
  struct statx stx;
  bool mounted = statx(AT_FDCWD, rootfs, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) == 0 &&
                 (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
  if (!mounted)
    return mount_overlay(e, c, err);
  int fd = (int)syscall(SYS_open_tree, AT_FDCWD, rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "clone the mount of \"%s\"", rootfs);
  return fd;
}

/* ---- volumes and binds ---- */

static int set_read_only(int mnt, bool recursive) {
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
  return (int)syscall(SYS_mount_setattr, mnt, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                      sizeof(attr));
}

/* Attaches a clone of the host path source at target inside the tree (the
 * target resolved inside the container; made when missing if create, as
 * docker makes a volume's mount point at create). */
static int attach(struct rootfs_view *v, const char *source, const char *target, bool read_only, bool create,
                  berth_error **err) {
  cleanup_close int src = (int)syscall(SYS_open_tree, AT_FDCWD, source,
                                       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (src < 0)
    return berth_fail(err, errno, "mount \"%s\"", source);
  struct stat st;
  if (fstat(src, &st) < 0)
    return berth_fail(err, errno, "mount \"%s\"", source);
  if (read_only && set_read_only(src, true) < 0)
    return berth_fail(err, errno, "mount \"%s\" read-only", source);
  cleanup_close int dst = -1;
  if (create) {
    if ((dst = path_create_in_root(v->root, target, S_ISDIR(st.st_mode), err)) < 0)
      return berth_error_wrap(err, "mount point \"%s\"", target);
  } else {
    /* only over what is there already, and of the same kind */
    struct stat there;
    if ((dst = rootfs_open_at(v->root, target, O_PATH)) < 0 || fstat(dst, &there) < 0 ||
        (there.st_mode & S_IFMT) != (st.st_mode & S_IFMT))
      return 0;
  }
  if (syscall(SYS_move_mount, src, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
    /* kernels before 6.15 cannot mount onto a detached tree: the engine's
     * own files are then seen as the image has them, volumes not at all */
    if (!create)
      return 0;
    return berth_fail(err, errno, "mount \"%s\" on \"%s\" in the container", source, target);
  }
  struct rootfs_view_mount *m = realloc(v->mounts, (v->n_mounts + 1) * sizeof(*m));
  if (m == NULL)
    return berth_fail(err, ENOMEM, "mounts");
  v->mounts = m;
  m[v->n_mounts].read_only = read_only;
  if (mnt_id(src, &m[v->n_mounts].mnt_id) < 0)
    return berth_fail(err, errno, "mount \"%s\"", source);
  v->n_mounts++;
  return 0;
}

static int depth(const char *path) {
  int n = 0;
  for (; *path != '\0'; path++)
    n += *path == '/' && path[1] != '\0' && path[1] != '/';
  return n;
}

static int by_depth(const void *a, const void *b) {
  struct json_object *const *x = a, *const *y = b;
  return depth(json_object_get_string(get(*x, "Target"))) - depth(json_object_get_string(get(*y, "Target")));
}

/* docker's view for cp: volumes and binds (parents first), then the
 * files the engine writes for the container.  tmpfs mounts are not there
 * (docker's cp does not see them either: their content lives only in the
 * running container). */
static int attach_mounts(struct engine *e, struct rootfs_view *v, berth_error **err) {
  struct json_object *given = get(v->c.host_config, "Mounts");
  size_t n = given != NULL && json_object_is_type(given, json_type_array) ? json_object_array_length(given) : 0;
  cleanup_free struct json_object **list = calloc(n + 1, sizeof(*list));
  if (list == NULL)
    return berth_fail(err, ENOMEM, "mounts");
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    struct json_object *m = json_object_array_get_idx(given, i);
    const char *type = json_object_get_string(get(m, "Type"));
    if (type != NULL && get(m, "Target") != NULL && get(m, "Source") != NULL &&
        (strcmp(type, "volume") == 0 || strcmp(type, "bind") == 0))
      list[count++] = m;
  }
  qsort(list, count, sizeof(*list), by_depth);
  for (size_t i = 0; i < count; i++) {
    const char *type = json_object_get_string(get(list[i], "Type"));
    const char *source = json_object_get_string(get(list[i], "Source"));
    cleanup_free char *path = NULL;
    if (strcmp(type, "volume") == 0 && volumes_mount_path(e, source, &path, err) < 0)
      return -1;
    if (attach(v, path != NULL ? path : source, json_object_get_string(get(list[i], "Target")),
               json_object_get_boolean(get(list[i], "ReadOnly")), true, err) < 0)
      return -1;
  }
  const char *files[] = {"hostname", "hosts", "resolv.conf"};
  for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
    cleanup_free char *source = engine_container_path(e, v->c.id, files[i]);
    char target[32];
    snprintf(target, sizeof(target), "/etc/%s", files[i]);
    if (source == NULL)
      return berth_fail(err, ENOMEM, "mounts");
    /* written into the container at its first start: before that, docker's
     * cp does not see them either */
    if (access(source, F_OK) == 0 && attach(v, source, target, false, false, err) < 0)
      return -1;
  }
  return 0;
}

int rootfs_view_open(struct engine *e, const char *ref, bool with_mounts, struct rootfs_view *v, berth_error **err) {
  memset(v, 0, sizeof(*v));
  v->root = v->lock = -1;
  if (lifecycle_find_locked(e, ref, &v->c, &v->lock, err) < 0)
    return -1;
  if (v->c.status == CONTAINER_REMOVING) {
    berth_fail(err, 0, "container \"%s\" is marked for removal", ref);
    goto fail;
  }
  if ((v->root = open_root(e, &v->c, err)) < 0)
    goto fail;
  if (mnt_id(v->root, &v->root_mnt_id) < 0) {
    berth_fail(err, errno, "container \"%s\": root file system", ref);
    goto fail;
  }
  if (with_mounts && attach_mounts(e, v, err) < 0)
    goto fail;
  v->read_only_root = json_object_get_boolean(get(v->c.host_config, "ReadonlyRootfs"));
  /* the kernel enforces what rootfs_view_check_writable reports */
  if (v->read_only_root && set_read_only(v->root, false) < 0) {
    berth_fail(err, errno, "container \"%s\": read-only root file system", ref);
    goto fail;
  }
  return 0;
fail:
  rootfs_view_close(v);
  return -1;
}

void rootfs_view_close(struct rootfs_view *v) {
  /* the last reference to a detached tree unmounts it all */
  if (v->root >= 0)
    close(v->root);
  free(v->mounts);
  if (v->lock >= 0)
    close(v->lock);
  container_clear(&v->c);
  v->root = v->lock = -1;
  v->mounts = NULL;
  v->n_mounts = 0;
}

int rootfs_view_check_writable(const struct rootfs_view *v, int fd, berth_error **err) {
  uint64_t id;
  if (mnt_id(fd, &id) < 0)
    return berth_fail(err, errno, "stat");
  for (size_t i = 0; i < v->n_mounts; i++)
    if (v->mounts[i].mnt_id == id)
      return v->mounts[i].read_only ? berth_fail(err, 0, "mounted volume is marked read-only") : 0;
  if (v->read_only_root)
    return berth_fail(err, 0, "container rootfs is marked read-only");
  return 0;
}

/* ---- docker's FollowSymlinkInScope ---- */

#define MAX_LINKS 255

/* Appends component name to the cleaned absolute path in out (".." stops
 * at "/"). */
static void push(char *out, const char *name, size_t len) {
  if (len == 1 && name[0] == '.')
    return;
  if (len == 2 && name[0] == '.' && name[1] == '.') {
    char *slash = strrchr(out, '/');
    slash[slash == out ? 1 : 0] = '\0';
    return;
  }
  size_t n = strlen(out);
  if (n + len + 2 > PATH_MAX)
    return;
  if (n > 1)
    out[n++] = '/';
  memcpy(out + n, name, len);
  out[n + len] = '\0';
}

char *rootfs_resolve(int root, const char *path, bool follow_last, berth_error **err) {
  char *out = malloc(PATH_MAX), *todo = strdup(path);
  if (out == NULL || todo == NULL) {
    free(out);
    free(todo);
    berth_fail(err, ENOMEM, "resolve \"%s\"", path);
    return NULL;
  }
  strcpy(out, "/");
  int links = 0;
  bool exists = true;
  char *rest = todo;
  for (;;) {
    rest += strspn(rest, "/");
    if (*rest == '\0')
      break;
    size_t len = strcspn(rest, "/");
    const char *name = rest;
    rest += len;
    bool last = rest[strspn(rest, "/")] == '\0';
    if (!exists || (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) {
      push(out, name, len);
      continue;
    }
    char saved[PATH_MAX];
    strcpy(saved, out);
    push(out, name, len);
    int fd = rootfs_open_at(root, out, O_PATH | O_NOFOLLOW);
    if (fd < 0) {
      exists = false; /* the rest stays as written */
      continue;
    }
    char target[PATH_MAX];
    ssize_t tl = readlinkat(fd, "", target, sizeof(target) - 1);
    close(fd);
    if (tl < 0 || (last && !follow_last))
      continue;
    if (++links > MAX_LINKS) {
      free(out);
      free(todo);
      berth_fail(err, ELOOP, "resolve \"%s\"", path);
      return NULL;
    }
    target[tl] = '\0';
    char *next = NULL;
    if (asprintf(&next, "%s/%s", target, rest) < 0) {
      free(out);
      free(todo);
      berth_fail(err, ENOMEM, "resolve \"%s\"", path);
      return NULL;
    }
    strcpy(out, target[0] == '/' ? "/" : saved);
    free(todo);
    todo = rest = next;
  }
  free(todo);
  return out;
}
