#include "runtime/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/path.h"

static const struct spec_device default_devices[] = {
    {.path = "/dev/null", .type = 'c', .major = 1, .minor = 3, .has_file_mode = true, .file_mode = 0666},
    {.path = "/dev/zero", .type = 'c', .major = 1, .minor = 5, .has_file_mode = true, .file_mode = 0666},
    {.path = "/dev/full", .type = 'c', .major = 1, .minor = 7, .has_file_mode = true, .file_mode = 0666},
    {.path = "/dev/random", .type = 'c', .major = 1, .minor = 8, .has_file_mode = true, .file_mode = 0666},
    {.path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9, .has_file_mode = true, .file_mode = 0666},
    {.path = "/dev/tty", .type = 'c', .major = 5, .minor = 0, .has_file_mode = true, .file_mode = 0666},
};

static mode_t node_type(char type) {
  switch (type) {
  case 'b':
    return S_IFBLK;
  case 'p':
    return S_IFIFO;
  default:
    return S_IFCHR;
  }
}

/* Binds the host's node of the same path, for a user namespace. */
static int bind_host_node(int rootfd, const struct spec_device *d, berth_error **err) {
  cleanup_close int target = path_create_in_root(rootfd, d->path, false, err);
  if (target < 0)
    return -1;
  char proc_path[64];
  snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", target);
  if (mount(d->path, proc_path, NULL, MS_BIND, NULL) < 0)
    return berth_fail(err, errno, "bind device \"%s\" from the host", d->path);
  return 0;
}

static int make_node(int rootfd, const struct spec_device *d, bool userns, berth_error **err) {
  if (userns)
    return bind_host_node(rootfd, d, err);
  cleanup_free char *parent = strdup(d->path);
  if (parent == NULL)
    return berth_fail(err, ENOMEM, "device \"%s\"", d->path);
  char *slash = strrchr(parent, '/');
  const char *base = slash + 1;
  *slash = '\0';
  cleanup_close int dirfd = path_mkdir_in_root(rootfd, parent[0] != '\0' ? parent : "/", err);
  if (dirfd < 0)
    return berth_error_wrap(err, "device \"%s\"", d->path);
  /* O_PATH dirfd cannot be used with mknodat: reopen it as a directory. */
  char proc_path[64];
  snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", dirfd);
  cleanup_close int dir = open(proc_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return berth_fail(err, errno, "open the directory of device \"%s\"", d->path);
  mode_t mode = node_type(d->type) | (d->has_file_mode ? d->file_mode : 0666);
  dev_t dev = d->type == 'p' ? 0 : makedev((unsigned)d->major, (unsigned)d->minor);
  unlinkat(dir, base, 0); /* replace what the image had there */
  if (mknodat(dir, base, mode, dev) < 0) {
    if (errno == EPERM)
      return bind_host_node(rootfd, d, err);
    return berth_fail(err, errno, "mknod device \"%s\"", d->path);
  }
  /* mknod honours the umask: set the mode the config asked for. */
  if (fchmodat(dir, base, mode & 07777, 0) < 0)
    return berth_fail(err, errno, "chmod device \"%s\"", d->path);
  if ((d->has_uid || d->has_gid) &&
      fchownat(dir, base, d->has_uid ? d->uid : (uid_t)-1, d->has_gid ? d->gid : (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0)
    return berth_fail(err, errno, "chown device \"%s\"", d->path);
  return 0;
}

int devices_create(int rootfd, const struct spec *spec, bool userns, berth_error **err) {
  for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
    bool overridden = false;
    for (size_t j = 0; j < spec->lnx.n_devices; j++)
      if (strcmp(spec->lnx.devices[j].path, default_devices[i].path) == 0)
        overridden = true;
    if (!overridden && make_node(rootfd, &default_devices[i], userns, err) < 0)
      return -1;
  }
  for (size_t j = 0; j < spec->lnx.n_devices; j++)
    if (make_node(rootfd, &spec->lnx.devices[j], userns, err) < 0)
      return -1;
  return 0;
}

int devices_create_symlinks(int rootfd, berth_error **err) {
  static const struct {
    const char *target, *name;
  } links[] = {
      {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
      {"/proc/self/fd/2", "stderr"}, {"/proc/kcore", "core"},      {"pts/ptmx", "ptmx"},
  };
  cleanup_close int devfd = path_mkdir_in_root(rootfd, "/dev", err);
  if (devfd < 0)
    return -1;
  char proc_path[64];
  snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", devfd);
  cleanup_close int dir = open(proc_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return berth_fail(err, errno, "open \"/dev\" in the rootfs");
  for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
    /* An image's /dev/ptmx node would bypass the container's devpts instance. */
    if (strcmp(links[i].name, "ptmx") == 0)
      unlinkat(dir, "ptmx", 0);
    if (symlinkat(links[i].target, dir, links[i].name) < 0 && errno != EEXIST)
      return berth_fail(err, errno, "symlink \"/dev/%s\"", links[i].name);
  }
  return 0;
}

/* What every container may use whatever the config's device rules deny: the
 * default nodes, ptys, and mknod (which makes nothing usable by itself).
 * linux.devices get no automatic rule: access to them is the config's
 * resources.devices to grant, as with runc. */
static const struct spec_device_rule default_rules[] = {
    {true, 'c', -1, -1, "m"}, {true, 'b', -1, -1, "m"},  {true, 'c', 1, 3, "rwm"},  {true, 'c', 1, 5, "rwm"},
    {true, 'c', 1, 7, "rwm"}, {true, 'c', 1, 8, "rwm"},   {true, 'c', 1, 9, "rwm"},  {true, 'c', 5, 0, "rwm"},
    {true, 'c', 5, 1, "rwm"}, {true, 'c', 5, 2, "rwm"},   {true, 'c', 136, -1, "rwm"}, {true, 'c', 10, 200, "rwm"},
};

int devices_add_cgroup_rules(struct spec *spec, berth_error **err) {
  struct spec_resources *r = &spec->lnx.resources;
  if (r->n_devices == 0)
    return 0;
  size_t n = r->n_devices + ARRAY_SIZE(default_rules);
  struct spec_device_rule *rules = realloc(r->devices, n * sizeof(*rules));
  if (rules == NULL)
    return berth_fail(err, ENOMEM, "device rules");
  r->devices = rules;
  for (size_t i = 0; i < ARRAY_SIZE(default_rules); i++)
    rules[r->n_devices++] = default_rules[i];
  return 0;
}
