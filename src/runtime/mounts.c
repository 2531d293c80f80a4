#include "runtime/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <linux/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/copy_up.h"
#include "runtime/devices.h"
#include "util/cleanup.h"
#include "util/path.h"

#define PROPAGATION_FLAGS (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)

static void fd_path(char *buf, size_t size, int fd) {
  snprintf(buf, size, "/proc/self/fd/%d", fd);
}

/* Flags a bind remount must keep: in a user namespace the kernel refuses
 * to clear nosuid/nodev/noexec/atime flags locked by the source mount. */
static unsigned long locked_flags(const char *path) {
  struct statvfs sv;
  if (statvfs(path, &sv) < 0)
    return 0;
  unsigned long flags = 0;
  if (sv.f_flag & ST_NOSUID)
    flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    flags |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME)
    flags |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME)
    flags |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME)
    flags |= MS_RELATIME;
  return flags;
}

static int remount_bind(const char *path, unsigned long flags, unsigned long clear, const char *what,
                        berth_error **err) {
  unsigned long keep = locked_flags(path) & ~clear;
  unsigned long f = MS_BIND | MS_REMOUNT | keep | (flags & ~(MS_BIND | MS_REC | MS_REMOUNT | PROPAGATION_FLAGS));
  if (mount(NULL, path, NULL, f, NULL) < 0)
    return berth_fail(err, errno, "remount \"%s\" with its options", what);
  return 0;
}

static int set_recursive_attrs(int fd, const struct spec_mount *m, berth_error **err) {
  if (m->rec_attr_set == 0 && m->rec_attr_clr == 0)
    return 0;
  struct mount_attr attr = {.attr_set = m->rec_attr_set, .attr_clr = m->rec_attr_clr};
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
    return berth_fail(err, errno, "set recursive mount options on \"%s\"", m->destination);
  return 0;
}

/* Our own cgroup path in the hierarchy whose controllers (as /proc/self/cgroup
 * names them) all appear among super_options. */
static char *own_cgroup_path(const char *super_options, bool v2) {
  cleanup_fclose FILE *f = fopen("/proc/self/cgroup", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  while (f != NULL && getline(&line, &cap, f) > 0) {
    line[strcspn(line, "\n")] = '\0';
    char *ctrls = strchr(line, ':');
    char *path = ctrls != NULL ? strchr(ctrls + 1, ':') : NULL;
    if (path == NULL)
      continue;
    *path++ = '\0';
    ctrls++;
    if (v2 != (ctrls[0] == '\0'))
      continue;
    bool all = true;
    char *save = NULL;
    for (char *c = strtok_r(ctrls, ",", &save); c != NULL && all; c = strtok_r(NULL, ",", &save)) {
      size_t len = strlen(c);
      const char *hit = strstr(super_options, c);
      all = hit != NULL && (hit == super_options || hit[-1] == ',') && (hit[len] == ',' || hit[len] == '\0');
    }
    if (all)
      return strdup(path);
  }
  return NULL;
}

/* One hierarchy at sub: with a cgroup namespace a fresh mount (rooted at the
 * namespace); without one, a bind of the container's own cgroup directory,
 * so the container sees its limits at the top, as with runc. */
static int mount_one_hierarchy(int rootfd, const char *sub, const char *shown, bool v2, const char *mountpoint, const char *root,
                               const char *opts, unsigned long flags, bool cgroupns, berth_error **err) {
  if (cgroupns) {
    if (mount(v2 ? "cgroup2" : "cgroup", sub, v2 ? "cgroup2" : "cgroup", flags, v2 ? NULL : opts) < 0)
      return berth_fail(err, errno, "mount cgroup hierarchy \"%s\" on \"%s\"", v2 ? "cgroup2" : opts, shown);
    return 0;
  }
  cleanup_free char *own = own_cgroup_path(opts, v2);
  if (own == NULL)
    return 0; /* a hierarchy this process is not in: leave the directory empty */
  size_t rootlen = strcmp(root, "/") == 0 ? 0 : strlen(root);
  const char *rel = strncmp(own, root, rootlen) == 0 ? own + rootlen : own;
  char source[8192];
  snprintf(source, sizeof(source), "%s%s", mountpoint, rel);
  if (mount(source, sub, NULL, MS_BIND | MS_REC, NULL) < 0)
    return berth_fail(err, errno, "bind cgroup \"%s\" on \"%s\"", source, shown);
  /* sub names the directory under the new mount: reopen to reach the mount. */
  cleanup_close int fd = path_open_in_root(rootfd, shown, O_PATH, err);
  if (fd < 0)
    return -1;
  char mnt[64];
  fd_path(mnt, sizeof(mnt), fd);
  if (mount(NULL, mnt, NULL, MS_BIND | MS_REMOUNT | (flags & ~MS_REC), NULL) < 0)
    return berth_fail(err, errno, "remount cgroup \"%s\" on \"%s\"", source, shown);
  return 0;
}

/* A cgroup file system at dest.  On v1 and hybrid hosts that is a tmpfs
 * with one cgroup mount per hierarchy, as the host has them. */
static int mount_cgroup_v1_tree(int rootfd, const struct spec_mount *m, const char *target, bool cgroupns,
                                berth_error **err) {
  unsigned long base = m->flags & ~(MS_RDONLY | MS_REMOUNT);
  if (mount("tmpfs", target, "tmpfs", base, "mode=755") < 0)
    return berth_fail(err, errno, "mount tmpfs for cgroups on \"%s\"", m->destination);
  cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL)
    return berth_fail(err, errno, "open /proc/self/mountinfo");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    /* id parent maj:min root mountpoint options [optional...] - fstype source superoptions */
    char *sep = strstr(line, " - ");
    if (sep == NULL)
      continue;
    char fstype[32], source[64], super[512], root[4096], mountpoint[4096];
    if (sscanf(sep + 3, "%31s %63s %511s", fstype, source, super) != 3)
      continue;
    if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, mountpoint) != 2)
      continue;
    bool v2 = strcmp(fstype, "cgroup2") == 0;
    if (!v2 && strcmp(fstype, "cgroup") != 0)
      continue;
    if (strncmp(mountpoint, "/sys/fs/cgroup/", 15) != 0)
      continue;
    const char *name = mountpoint + 15;
    if (strchr(name, '/') != NULL)
      continue;
    /* Keep only the hierarchy selectors from the super options. */
    char opts[512] = "";
    char *save = NULL;
    for (char *o = strtok_r(super, ",", &save); o != NULL; o = strtok_r(NULL, ",", &save)) {
      if (strcmp(o, "rw") == 0 || strcmp(o, "ro") == 0)
        continue;
      size_t used = strlen(opts);
      snprintf(opts + used, sizeof(opts) - used, "%s%s", used > 0 ? "," : "", o);
    }
    char sub[4200];
    snprintf(sub, sizeof(sub), "%s/%s", m->destination, name);
    cleanup_close int subfd = path_mkdir_in_root(rootfd, sub, err);
    if (subfd < 0)
      return -1;
    char subpath[64];
    fd_path(subpath, sizeof(subpath), subfd);
    if (mount_one_hierarchy(rootfd, subpath, sub, v2, mountpoint, root, opts, m->flags & ~MS_REMOUNT, cgroupns, err) < 0)
      return -1;
  }
  if (m->flags & MS_RDONLY) {
    cleanup_close int fd = path_open_in_root(rootfd, m->destination, O_PATH, err);
    if (fd < 0)
      return -1;
    char p[64];
    fd_path(p, sizeof(p), fd);
    if (mount(NULL, p, NULL, MS_REMOUNT | MS_RDONLY | base, "mode=755") < 0)
      return berth_fail(err, errno, "remount \"%s\" read-only", m->destination);
  }
  return 0;
}

static bool host_is_cgroup2(void) {
  struct statvfs sv;
  /* A cheap test that avoids parsing mountinfo: cgroup2 at the top has cgroup.controllers. */
  return statvfs("/sys/fs/cgroup", &sv) == 0 && access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
}

static int mount_one(int rootfd, const struct spec_mount *m, bool userns, bool cgroupns, berth_error **err) {
  bool directory = true;
  if (m->bind) {
    struct stat st;
    if (stat(m->source, &st) < 0)
      return berth_fail(err, errno, "mount source \"%s\"", m->source);
    directory = S_ISDIR(st.st_mode);
  }
  cleanup_close int target_fd = path_create_in_root(rootfd, m->destination, directory, err);
  if (target_fd < 0)
    return berth_error_wrap(err, "mount destination");
  char target[64];
  fd_path(target, sizeof(target), target_fd);
  const char *type = m->type != NULL ? m->type : "";
  unsigned long flags = m->flags & ~(MS_REMOUNT | PROPAGATION_FLAGS);

  if (m->bind) {
    if (mount(m->source, target, NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
      return berth_fail(err, errno, "bind \"%s\" on \"%s\"", m->source, m->destination);
  } else if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0) {
    if (host_is_cgroup2()) {
      if (mount_one_hierarchy(rootfd, target, m->destination, true, "/sys/fs/cgroup", "/", "", flags, cgroupns, err) < 0)
        return -1;
    } else if (mount_cgroup_v1_tree(rootfd, m, target, cgroupns, err) < 0) {
      return -1;
    }
  } else {
    const char *source = m->source != NULL ? m->source : type;
    /* For tmpcopyup: the directory about to be hidden, to copy from. */
    cleanup_close int below = -1;
    if (m->copy_up && strcmp(type, "tmpfs") == 0)
      below = openat(target_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (mount(source, target, type, flags, m->data) < 0) {
      int saved = errno;
      /* Without its own network (or ipc) namespace a user namespace may not
       * mount sysfs (mqueue): bind the host's, as runc does. */
      if (saved == EPERM && userns && (strcmp(type, "sysfs") == 0 || strcmp(type, "mqueue") == 0)) {
        const char *host = strcmp(type, "sysfs") == 0 ? "/sys" : "/dev/mqueue";
        if (mount(host, target, NULL, MS_BIND | MS_REC, NULL) < 0)
          return berth_fail(err, errno, "bind \"%s\" on \"%s\"", host, m->destination);
      } else {
        return berth_fail(err, saved, "mount %s on \"%s\"", type, m->destination);
      }
    }
    if (below >= 0) {
      cleanup_close int above = path_open_in_root(rootfd, m->destination, O_RDONLY | O_DIRECTORY, err);
      if (above < 0 || copy_up_tree(below, above, m->destination, err) < 0)
        return -1;
    }
  }

  /* The new mount, not the directory under it, for the steps below. */
  cleanup_close int mnt_fd = path_open_in_root(rootfd, m->destination, O_PATH, err);
  if (mnt_fd < 0)
    return -1;
  char mnt[64];
  fd_path(mnt, sizeof(mnt), mnt_fd);
  if (m->bind && (flags & ~(MS_BIND | MS_REC)) != 0 &&
      remount_bind(mnt, flags, m->clear_flags, m->destination, err) < 0)
    return -1;
  if (m->propagation != 0 && mount(NULL, mnt, NULL, m->propagation, NULL) < 0)
    return berth_fail(err, errno, "set propagation of \"%s\"", m->destination);
  return set_recursive_attrs(mnt_fd, m, err);
}

static bool dev_is_bind_mounted(const struct spec *spec) {
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (strcmp(spec->mounts[i].destination, "/dev") == 0 && spec->mounts[i].bind)
      return true;
  return false;
}

/* pivot_root refuses a new root whose parent mount is shared: make the
 * mount holding the rootfs directory private (only needed when "/" was made
 * shared for rootfsPropagation). */
static int make_rootfs_parent_private(const char *rootfs, berth_error **err) {
  cleanup_free char *dir = strdup(rootfs);
  if (dir == NULL)
    return berth_fail(err, ENOMEM, "rootfs");
  for (;;) {
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
      break;
    *(slash == dir ? slash + 1 : slash) = '\0';
    struct statx stx;
    if (statx(AT_FDCWD, dir, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) == 0 &&
        (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
      if (mount(NULL, dir, NULL, MS_PRIVATE, NULL) < 0)
        return berth_fail(err, errno, "make \"%s\" private", dir);
      return 0;
    }
    if (strcmp(dir, "/") == 0)
      break;
  }
  if (mount(NULL, "/", NULL, MS_PRIVATE, NULL) < 0)
    return berth_fail(err, errno, "make \"/\" private");
  return 0;
}

int mounts_prepare_rootfs(const struct spec *spec, bool userns, berth_error **err) {
  /* By default nothing we mount propagates back to the host (rslave);
   * rootfsPropagation may ask for more. */
  unsigned long root_prop = spec->lnx.rootfs_propagation != 0 ? spec->lnx.rootfs_propagation : MS_SLAVE | MS_REC;
  if (mount(NULL, "/", NULL, root_prop, NULL) < 0)
    return berth_fail(err, errno, "set the propagation of \"/\"");
  if ((root_prop & MS_SHARED) && make_rootfs_parent_private(spec->root.path, err) < 0)
    return -1;
  /* pivot_root needs the rootfs to be a mount point. */
  if (mount(spec->root.path, spec->root.path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return berth_fail(err, errno, "bind rootfs \"%s\"", spec->root.path);
  cleanup_close int rootfd = open(spec->root.path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return berth_fail(err, errno, "open rootfs \"%s\"", spec->root.path);
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (mount_one(rootfd, &spec->mounts[i], userns, spec->lnx.namespaces[NS_CGROUP].present, err) < 0)
      return -1;
  if (!dev_is_bind_mounted(spec)) {
    if (devices_create(rootfd, spec, userns, err) < 0 || devices_create_symlinks(rootfd, err) < 0)
      return -1;
  }
  return 0;
}

int mounts_enter_rootfs(const struct spec *spec, bool no_pivot, berth_error **err) {
  if (chdir(spec->root.path) < 0)
    return berth_fail(err, errno, "chdir to rootfs \"%s\"", spec->root.path);
  if (no_pivot) {
    if (mount(spec->root.path, "/", NULL, MS_MOVE, NULL) < 0)
      return berth_fail(err, errno, "move rootfs \"%s\" to /", spec->root.path);
    if (chroot(".") < 0)
      return berth_fail(err, errno, "chroot to rootfs \"%s\"", spec->root.path);
  } else {
    /* pivot_root(".", ".") stacks the old root on the new one; detaching
     * "." afterwards drops it without a temporary directory.  The detach
     * cannot reach the host: the rootfs mount it hangs from is never shared
     * with it (a slave of "/", or private). Making the old root rslave first,
     * as runc does, would also turn rshared container mounts into slaves. */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
      return berth_fail(err, errno, "pivot_root to rootfs \"%s\"", spec->root.path);
    if (umount2(".", MNT_DETACH) < 0)
      return berth_fail(err, errno, "detach the old root");
  }
  if (chdir("/") < 0)
    return berth_fail(err, errno, "chdir to the new root");
  return 0;
}

static int mask_path(const char *path, berth_error **err) {
  struct stat st;
  if (lstat(path, &st) < 0) {
    if (errno == ENOENT)
      return 0;
    return berth_fail(err, errno, "masked path \"%s\"", path);
  }
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
      return berth_fail(err, errno, "mask \"%s\"", path);
  } else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
    /* No /dev/null (a /dev the config does not provide): nothing to bind. */
    if (errno == ENOENT)
      return 0;
    return berth_fail(err, errno, "mask \"%s\"", path);
  }
  return 0;
}

static int readonly_path(const char *path, berth_error **err) {
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
    if (errno == ENOENT)
      return 0;
    return berth_fail(err, errno, "bind read-only path \"%s\"", path);
  }
  if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(path), NULL) < 0)
    return berth_fail(err, errno, "remount \"%s\" read-only", path);
  return 0;
}

int mounts_finish_rootfs(const struct spec *spec, berth_error **err) {
  for (size_t i = 0; i < spec->lnx.n_masked_paths; i++)
    if (mask_path(spec->lnx.masked_paths[i], err) < 0)
      return -1;
  for (size_t i = 0; i < spec->lnx.n_readonly_paths; i++)
    if (readonly_path(spec->lnx.readonly_paths[i], err) < 0)
      return -1;
  if (spec->root.readonly &&
      mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"), NULL) < 0)
    return berth_fail(err, errno, "remount the rootfs read-only");
  if (spec->lnx.rootfs_propagation != 0 && mount(NULL, "/", NULL, spec->lnx.rootfs_propagation, NULL) < 0)
    return berth_fail(err, errno, "set rootfs propagation");
  return 0;
}
