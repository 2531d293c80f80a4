#include "storage/overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/fs.h"

#include "util/cleanup.h"

static int force_classic;

void overlay_force_classic(int on) {
  force_classic = on;
}

/* The new mount API: one fsconfig call per lowerdir, so no option string
 * limits the number of layers.  Returns 1 when this kernel lacks it. */
static int mount_new_api(const char *const *lowerdirs, size_t n, const char *upper, const char *work,
                         const char *target, bool volatile_upper, berth_error **err) {
  int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    return errno == ENOSYS ? 1 : berth_fail(err, errno, "overlay: fsopen");
  int ret = -1;
  for (size_t i = 0; i < n; i++) {
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", lowerdirs[i], 0) < 0) {
      /* kernels before 6.8 know no lowerdir+ */
      ret = errno == EINVAL && i == 0 ? 1 : berth_fail(err, errno, "overlay: lower layer \"%s\"", lowerdirs[i]);
      goto out;
    }
  }
  if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
      syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0) {
    berth_fail(err, errno, "overlay: upper \"%s\" or work \"%s\"", upper, work);
    goto out;
  }
  if (volatile_upper && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0) {
    berth_fail(err, errno, "overlay: volatile");
    goto out;
  }
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
    berth_fail(err, errno, "overlay: create");
    goto out;
  }
  int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0) {
    berth_fail(err, errno, "overlay: fsmount");
    goto out;
  }
  if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    berth_fail(err, errno, "overlay: mount on \"%s\"", target);
  else
    ret = 0;
  close(mnt);
out:
  close(fs);
  return ret;
}

/* mount(2) takes one page of options: lowerdirs become names relative to
 * their common parent, which is our working directory for the call. */
static int mount_classic(const char *const *lowerdirs, size_t n, const char *upper, const char *work, bool volatile_upper,
                         const char *target, berth_error **err) {
  const char *slash = n > 0 ? strrchr(lowerdirs[0], '/') : NULL;
  if (slash == NULL)
    return berth_fail(err, EINVAL, "overlay: no lower layers");
  size_t parent_len = (size_t)(slash - lowerdirs[0]);
  size_t len = strlen("lowerdir=,upperdir=,workdir=,volatile") + strlen(upper) + strlen(work) + 1;
  for (size_t i = 0; i < n; i++) {
    if (strncmp(lowerdirs[i], lowerdirs[0], parent_len + 1) != 0 || strchr(lowerdirs[i] + parent_len + 1, '/'))
      return berth_fail(err, EINVAL, "overlay: layers must share one parent directory on this kernel");
    len += strlen(lowerdirs[i]) - parent_len;
  }
  cleanup_free char *opts = malloc(len);
  if (opts == NULL)
    return berth_fail(err, ENOMEM, "overlay");
  char *p = stpcpy(opts, "lowerdir=");
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      *p++ = ':';
    p = stpcpy(p, lowerdirs[i] + parent_len + 1);
  }
  snprintf(p, len - (size_t)(p - opts), ",upperdir=%s,workdir=%s%s", upper, work, volatile_upper ? ",volatile" : "");
  if (len > (size_t)sysconf(_SC_PAGESIZE))
    return berth_fail(err, E2BIG, "overlay: %zu layers do not fit in one mount call on this kernel", n);
  cleanup_free char *parent = strndup(lowerdirs[0], parent_len);
  cleanup_close int here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (parent == NULL || here < 0 || chdir(parent) < 0)
    return berth_fail(err, errno, "overlay: layers directory");
  int r = mount("overlay", target, "overlay", 0, opts);
  int saved = errno;
  if (fchdir(here) < 0 && r == 0) {
    umount2(target, MNT_DETACH);
    return berth_fail(err, errno, "overlay: working directory");
  }
  if (r < 0)
    return berth_fail(err, saved, "overlay: mount on \"%s\"", target);
  return 0;
}

int overlay_mount(const char *const *lowerdirs, size_t n, const char *upper, const char *work, const char *target,
                  bool volatile_upper, berth_error **err) {
  if (n == 0)
    return berth_fail(err, EINVAL, "overlay: an image without layers has no root file system to mount");
  if (volatile_upper) {
    /* a crash of an earlier volatile mount leaves this, and the kernel then
     * refuses the directory; the upper layer is disposable by choice */
    char marker[4096];
    snprintf(marker, sizeof(marker), "%s/work/incompat/volatile", work);
    fs_remove_tree_at(AT_FDCWD, marker, NULL);
  }
  if (!force_classic) {
    int r = mount_new_api(lowerdirs, n, upper, work, target, volatile_upper, err);
    if (r <= 0)
      return r;
  }
  return mount_classic(lowerdirs, n, upper, work, volatile_upper, target, err);
}
