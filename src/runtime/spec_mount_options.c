/* Mount option strings ("ro", "nosuid", "rbind", "rshared", "mode=755") to
 * mount(2) flags, propagation and mount_setattr(2) attributes. */
#include <linux/mount.h>
#include <sys/mount.h>

#include "runtime/spec_internal.h"
#include "util/cleanup.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif

/* OPT_REC_ATIME: the atime mode is one field of mount_setattr(2), an enum
 * under the MOUNT_ATTR__ATIME mask rather than independent bits. */
enum option_kind {
  OPT_FLAG,
  OPT_CLEAR,
  OPT_PROPAGATION,
  OPT_REC_SET,
  OPT_REC_CLEAR,
  OPT_REC_ATIME,
  OPT_BIND,
  OPT_SPECIAL
};

static const struct mount_option {
  const char *name;
  enum option_kind kind;
  unsigned long value;
} options[] = {
    {"async", OPT_CLEAR, MS_SYNCHRONOUS},
    {"atime", OPT_CLEAR, MS_NOATIME},
    {"bind", OPT_BIND, MS_BIND},
    {"defaults", OPT_FLAG, 0},
    {"dev", OPT_CLEAR, MS_NODEV},
    {"diratime", OPT_CLEAR, MS_NODIRATIME},
    {"dirsync", OPT_FLAG, MS_DIRSYNC},
    {"exec", OPT_CLEAR, MS_NOEXEC},
    {"iversion", OPT_FLAG, MS_I_VERSION},
    {"lazytime", OPT_FLAG, MS_LAZYTIME},
    {"loud", OPT_CLEAR, MS_SILENT},
    {"mand", OPT_FLAG, MS_MANDLOCK},
    {"noatime", OPT_FLAG, MS_NOATIME},
    {"nodev", OPT_FLAG, MS_NODEV},
    {"nodiratime", OPT_FLAG, MS_NODIRATIME},
    {"noexec", OPT_FLAG, MS_NOEXEC},
    {"noiversion", OPT_CLEAR, MS_I_VERSION},
    {"nolazytime", OPT_CLEAR, MS_LAZYTIME},
    {"nomand", OPT_CLEAR, MS_MANDLOCK},
    {"norelatime", OPT_CLEAR, MS_RELATIME},
    {"nostrictatime", OPT_CLEAR, MS_STRICTATIME},
    {"nosuid", OPT_FLAG, MS_NOSUID},
    {"nosymfollow", OPT_FLAG, MS_NOSYMFOLLOW},
    {"private", OPT_PROPAGATION, MS_PRIVATE},
    {"rbind", OPT_BIND, MS_BIND | MS_REC},
    {"relatime", OPT_FLAG, MS_RELATIME},
    {"remount", OPT_FLAG, MS_REMOUNT},
    {"ro", OPT_FLAG, MS_RDONLY},
    {"rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC},
    {"rshared", OPT_PROPAGATION, MS_SHARED | MS_REC},
    {"rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC},
    {"runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC},
    {"rw", OPT_CLEAR, MS_RDONLY},
    {"shared", OPT_PROPAGATION, MS_SHARED},
    {"silent", OPT_FLAG, MS_SILENT},
    {"slave", OPT_PROPAGATION, MS_SLAVE},
    {"strictatime", OPT_FLAG, MS_STRICTATIME},
    {"suid", OPT_CLEAR, MS_NOSUID},
    {"symfollow", OPT_CLEAR, MS_NOSYMFOLLOW},
    {"sync", OPT_FLAG, MS_SYNCHRONOUS},
    {"unbindable", OPT_PROPAGATION, MS_UNBINDABLE},
    /* Recursive forms, applied to every submount with mount_setattr. */
    {"rro", OPT_REC_SET, MOUNT_ATTR_RDONLY},
    {"rrw", OPT_REC_CLEAR, MOUNT_ATTR_RDONLY},
    {"rnosuid", OPT_REC_SET, MOUNT_ATTR_NOSUID},
    {"rsuid", OPT_REC_CLEAR, MOUNT_ATTR_NOSUID},
    {"rnodev", OPT_REC_SET, MOUNT_ATTR_NODEV},
    {"rdev", OPT_REC_CLEAR, MOUNT_ATTR_NODEV},
    {"rnoexec", OPT_REC_SET, MOUNT_ATTR_NOEXEC},
    {"rexec", OPT_REC_CLEAR, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", OPT_REC_SET, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", OPT_REC_CLEAR, MOUNT_ATTR_NODIRATIME},
    /* Undoing an atime mode ("ratime", "rnorelatime", "rnostrictatime") can
     * only pick another mode; it picks the kernel's default, relatime, as a
     * plain mount without MS_NOATIME or MS_STRICTATIME would get. */
    {"rrelatime", OPT_REC_ATIME, MOUNT_ATTR_RELATIME},
    {"rnorelatime", OPT_REC_ATIME, MOUNT_ATTR_RELATIME},
    {"rnoatime", OPT_REC_ATIME, MOUNT_ATTR_NOATIME},
    {"ratime", OPT_REC_ATIME, MOUNT_ATTR_RELATIME},
    {"rstrictatime", OPT_REC_ATIME, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", OPT_REC_ATIME, MOUNT_ATTR_RELATIME},
    {"rnosymfollow", OPT_REC_SET, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", OPT_REC_CLEAR, MOUNT_ATTR_NOSYMFOLLOW},
    {"tmpcopyup", OPT_SPECIAL, 0},
    {"idmap", OPT_SPECIAL, 0},
    {"ridmap", OPT_SPECIAL, 0},
};

static const struct mount_option *find_option(const char *name) {
  for (size_t i = 0; i < ARRAY_SIZE(options); i++)
    if (strcmp(options[i].name, name) == 0)
      return &options[i];
  return NULL;
}

static int append_data(char **data, const char *opt) {
  char *joined = NULL;
  if (asprintf(&joined, "%s%s%s", *data != NULL ? *data : "", *data != NULL ? "," : "", opt) < 0)
    return -1;
  free(*data);
  *data = joined;
  return 0;
}

int mount_options_decode(struct spec_mount *m, berth_error **err) {
  for (size_t i = 0; i < m->n_options; i++) {
    const char *name = m->options[i];
    const struct mount_option *o = find_option(name);
    if (o == NULL) {
      /* Anything else is for the file system itself ("mode=755", "size=64k"). */
      if (append_data(&m->data, name) < 0)
        return berth_fail(err, ENOMEM, "mount option \"%s\"", name);
      continue;
    }
    switch (o->kind) {
    case OPT_FLAG:
      m->flags |= o->value;
      m->clear_flags &= ~o->value;
      break;
    case OPT_CLEAR:
      m->flags &= ~o->value;
      m->clear_flags |= o->value;
      break;
    case OPT_BIND:
      m->bind = true;
      m->flags |= o->value;
      break;
    case OPT_PROPAGATION:
      m->propagation = o->value;
      break;
    case OPT_REC_SET:
      m->rec_attr_set |= o->value;
      m->rec_attr_clr &= ~o->value;
      break;
    case OPT_REC_CLEAR:
      m->rec_attr_clr |= o->value;
      m->rec_attr_set &= ~o->value;
      break;
    case OPT_REC_ATIME:
      /* mount_setattr(2) takes a new atime mode only with the whole
       * MOUNT_ATTR__ATIME mask in attr_clr (EINVAL otherwise), and the mode
       * is a value, so the last atime option replaces any earlier one.
       * MOUNT_ATTR_RELATIME is 0: the mask in attr_clr is what asks for it. */
      m->rec_attr_set = (m->rec_attr_set & ~(uint64_t)MOUNT_ATTR__ATIME) | o->value;
      m->rec_attr_clr |= MOUNT_ATTR__ATIME;
      break;
    case OPT_SPECIAL:
      if (strcmp(name, "tmpcopyup") == 0)
        m->copy_up = true;
      else
        m->idmap = true;
      break;
    }
  }
  /* A "bind" type with no bind option still means a bind mount (runc). */
  if (m->type != NULL && strcmp(m->type, "bind") == 0 && !m->bind) {
    m->bind = true;
    m->flags |= MS_BIND;
  }
  return 0;
}
