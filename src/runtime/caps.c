/* Capabilities by name, and applying the five sets of process.capabilities.
 *
 * capset(2) is called through syscall(2) rather than libcap: berth links
 * statically and one structure definition is cheaper than another library. */
#include "runtime/caps.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/log.h"

/* Highest capability this table names. */
#define CAPS_MAX_KNOWN 40

/* Indexed by capability number; numbers are fixed kernel ABI, so the table
 * does not depend on the CAP_* macros of the build host's headers. */
const char *const caps_all_names[] = {
    "CAP_CHOWN",            /* 0 */
    "CAP_DAC_OVERRIDE",     /* 1 */
    "CAP_DAC_READ_SEARCH",  /* 2 */
    "CAP_FOWNER",           /* 3 */
    "CAP_FSETID",           /* 4 */
    "CAP_KILL",             /* 5 */
    "CAP_SETGID",           /* 6 */
    "CAP_SETUID",           /* 7 */
    "CAP_SETPCAP",          /* 8 */
    "CAP_LINUX_IMMUTABLE",  /* 9 */
    "CAP_NET_BIND_SERVICE", /* 10 */
    "CAP_NET_BROADCAST",    /* 11 */
    "CAP_NET_ADMIN",        /* 12 */
    "CAP_NET_RAW",          /* 13 */
    "CAP_IPC_LOCK",         /* 14 */
    "CAP_IPC_OWNER",        /* 15 */
    "CAP_SYS_MODULE",       /* 16 */
    "CAP_SYS_RAWIO",        /* 17 */
    "CAP_SYS_CHROOT",       /* 18 */
    "CAP_SYS_PTRACE",       /* 19 */
    "CAP_SYS_PACCT",        /* 20 */
    "CAP_SYS_ADMIN",        /* 21 */
    "CAP_SYS_BOOT",         /* 22 */
    "CAP_SYS_NICE",         /* 23 */
    "CAP_SYS_RESOURCE",     /* 24 */
    "CAP_SYS_TIME",         /* 25 */
    "CAP_SYS_TTY_CONFIG",   /* 26 */
    "CAP_MKNOD",            /* 27 */
    "CAP_LEASE",            /* 28 */
    "CAP_AUDIT_WRITE",      /* 29 */
    "CAP_AUDIT_CONTROL",    /* 30 */
    "CAP_SETFCAP",          /* 31 */
    "CAP_MAC_OVERRIDE",     /* 32 */
    "CAP_MAC_ADMIN",        /* 33 */
    "CAP_SYSLOG",           /* 34 */
    "CAP_WAKE_ALARM",       /* 35 */
    "CAP_BLOCK_SUSPEND",    /* 36 */
    "CAP_AUDIT_READ",       /* 37 */
    "CAP_PERFMON",          /* 38 */
    "CAP_BPF",              /* 39 */
    "CAP_CHECKPOINT_RESTORE", /* 40 */
    NULL,
};

_Static_assert(ARRAY_SIZE(caps_all_names) == CAPS_MAX_KNOWN + 2, "capability table out of step");

int caps_from_name(const char *name) {
  if (name == NULL)
    return -1;
  for (int i = 0; i <= CAPS_MAX_KNOWN; i++)
    if (strcmp(caps_all_names[i], name) == 0)
      return i;
  return -1;
}

const char *caps_name(int cap) {
  if (cap < 0 || cap > CAPS_MAX_KNOWN)
    return NULL;
  return caps_all_names[cap];
}

static int read_last_cap(void) {
  char buf[32];
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return CAPS_MAX_KNOWN;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return CAPS_MAX_KNOWN;
  buf[n] = '\0';
  char *end;
  errno = 0;
  long v = strtol(buf, &end, 10);
  if (errno != 0 || end == buf || v < 0 || v > 63)
    return CAPS_MAX_KNOWN;
  return (int)v;
}

int caps_last_cap(void) {
  /* -1 = not read yet.  Two threads racing here read the same value, so a
   * relaxed atomic is enough to keep the sanitizers quiet. */
  static int cached = -1;
  int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (v < 0) {
    v = read_last_cap();
    __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
  }
  return v;
}

/* Bits for every capability the running kernel knows. */
static uint64_t known_mask(void) {
  int last = caps_last_cap();
  return last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;
}

/* "CAP_SYS_ADMIN", or "capability 45" for numbers beyond the table. */
static const char *cap_label(int cap, char *buf, size_t len) {
  const char *name = caps_name(cap);
  if (name != NULL)
    return name;
  snprintf(buf, len, "capability %d", cap);
  return buf;
}

static int lowest_bit(uint64_t mask) {
  return mask == 0 ? -1 : __builtin_ctzll(mask);
}

struct cap_triple {
  uint64_t effective, permitted, inheritable;
};

static int caps_get(struct cap_triple *out) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  memset(data, 0, sizeof(data));
  if (syscall(SYS_capget, &hdr, data) < 0)
    return -1;
  out->effective = (uint64_t)data[1].effective << 32 | data[0].effective;
  out->permitted = (uint64_t)data[1].permitted << 32 | data[0].permitted;
  out->inheritable = (uint64_t)data[1].inheritable << 32 | data[0].inheritable;
  return 0;
}

static int caps_set(const struct cap_triple *in) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  memset(data, 0, sizeof(data));
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
    data[i].effective = (uint32_t)(in->effective >> (32 * i));
    data[i].permitted = (uint32_t)(in->permitted >> (32 * i));
    data[i].inheritable = (uint32_t)(in->inheritable >> (32 * i));
  }
  return (int)syscall(SYS_capset, &hdr, data);
}

/* capset(2) only says EPERM; find the capability that made it refuse so the
 * message can name it. */
static int fail_capset(berth_error **err, int errnum, const struct cap_triple *want,
                       const struct cap_triple *old) {
  char buf[32];
  int cap;
  if ((cap = lowest_bit(want->permitted & ~old->permitted)) >= 0)
    return berth_fail(err, errnum, "set capabilities: %s is not in the current permitted set",
                      cap_label(cap, buf, sizeof(buf)));
  if ((cap = lowest_bit(want->effective & ~want->permitted)) >= 0)
    return berth_fail(err, errnum, "set capabilities: effective %s is not in the permitted set",
                      cap_label(cap, buf, sizeof(buf)));
  if ((cap = lowest_bit(want->inheritable & ~(old->inheritable | old->permitted))) >= 0)
    return berth_fail(err, errnum, "set capabilities: inheritable %s is neither inheritable nor permitted now",
                      cap_label(cap, buf, sizeof(buf)));
  return berth_fail(err, errnum,
                    "set capabilities (effective %#llx, permitted %#llx, inheritable %#llx)",
                    (unsigned long long)want->effective, (unsigned long long)want->permitted,
                    (unsigned long long)want->inheritable);
}

static int drop_bounding(uint64_t keep, berth_error **err) {
  char buf[32];
  int last = caps_last_cap();
  for (int cap = 0; cap <= last; cap++) {
    if (keep & (1ULL << cap))
      continue;
    /* Skipping what is already gone lets an unprivileged caller whose
     * bounding set is already narrow succeed without CAP_SETPCAP. */
    int in = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0);
    if (in == 0)
      continue;
    if (in < 0 && errno == EINVAL)
      continue; /* the kernel does not know it after all */
    if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) < 0)
      return berth_fail(err, errno, "drop capability %s from the bounding set", cap_label(cap, buf, sizeof(buf)));
  }
  return 0;
}

static int set_ambient(uint64_t ambient, const struct cap_triple *now, berth_error **err) {
  char buf[32];
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
    /* Kernels before 4.3 have no ambient set: fine unless one is wanted. */
    if (errno == EINVAL && ambient == 0)
      return 0;
    return berth_fail(err, errno, "clear the ambient capability set");
  }
  for (int cap = 0; cap < 64; cap++) {
    uint64_t bit = 1ULL << cap;
    if (!(ambient & bit))
      continue;
    /* runc's default config lists ambient capabilities that are not
     * inheritable, which the kernel cannot raise; runc skips them, and so
     * must we to run the configs people have. */
    if (!(now->permitted & bit) || !(now->inheritable & bit)) {
      berth_debug("ambient capability %s skipped: not in the permitted and inheritable sets",
                  cap_label(cap, buf, sizeof(buf)));
      continue;
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)cap, 0, 0) < 0)
      return berth_fail(err, errno, "raise ambient capability %s", cap_label(cap, buf, sizeof(buf)));
  }
  return 0;
}

int caps_apply(const struct spec_capabilities *caps, berth_error **err) {
  uint64_t known = known_mask();
  struct cap_triple old;
  if (caps_get(&old) < 0)
    return berth_fail(err, errno, "read the capabilities of the process");

  /* After setuid with PR_SET_KEEPCAPS the kernel empties the effective set
   * but keeps the permitted one.  Dropping from the bounding set needs
   * CAP_SETPCAP effective, so raise what is permitted first. */
  if (old.effective != old.permitted) {
    struct cap_triple raised = old;
    raised.effective = old.permitted;
    if (caps_set(&raised) < 0)
      return fail_capset(err, errno, &raised, &old);
    old = raised;
  }

  if (drop_bounding(caps->bounding, err) < 0)
    return -1;

  struct cap_triple want = {
      .effective = caps->effective & known,
      .permitted = caps->permitted & known,
      .inheritable = caps->inheritable & known,
  };
  if (caps_set(&want) < 0)
    return fail_capset(err, errno, &want, &old);

  return set_ambient(caps->ambient & known, &want, err);
}

int caps_keep_on_setuid(bool keep, berth_error **err) {
  if (prctl(PR_SET_KEEPCAPS, keep ? 1UL : 0UL, 0, 0, 0) < 0)
    return berth_fail(err, errno, "%s capabilities across setuid (PR_SET_KEEPCAPS)", keep ? "keep" : "stop keeping");
  return 0;
}
