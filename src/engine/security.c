/* Docker's default security settings: the capability set, --cap-add and
 * --cap-drop, the default seccomp profile, and docker seccomp profile files
 * turned into OCI linux.seccomp.
 *
 * The default profile is a table in docker's own terms (rules with
 * includes/excludes on capabilities, architectures and a minimum kernel),
 * and a profile file is read into the same rule structure, so one resolver
 * decides for both which rules apply to x86_64 and a capability set.  The
 * table follows moby's profiles/seccomp/default.json (the version with the
 * AF_VSOCK socket rule and the CAP_BPF and CAP_PERFMON groups). */
#include "engine/security.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/utsname.h>

#include "runtime/caps.h"
#include "runtime/seccomp.h"
#include "util/cleanup.h"
#include "util/json.h"

/* ---- capabilities ----------------------------------------------------- */

/* moby oci/caps DefaultCapabilities, in docker's order. */
const char *const security_default_caps[] = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",  "CAP_FOWNER",           "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID",  "CAP_SETFCAP",          "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", NULL,
};

/* Capabilities beyond berth's name table cannot be named, so they are left
 * out even when the kernel knows them. */
/* "All" capabilities are those berth holds itself (its bounding set): a
 * host without one (here CAP_SYS_RESOURCE) cannot hand it to --privileged. */
static bool can_give(int cap) {
  return prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1;
}

const char **security_all_caps(void) {
  int last = caps_last_cap();
  const char **v = calloc((size_t)last + 2, sizeof(*v));
  if (v == NULL)
    return NULL;
  size_t n = 0;
  for (int i = 0; i <= last; i++) {
    const char *name = caps_name(i);
    if (name != NULL && can_give(i))
      v[n++] = name;
  }
  return v;
}

/* Bits of every capability this kernel knows, berth can name and can give. */
static uint64_t all_caps_mask(void) {
  uint64_t mask = 0;
  int last = caps_last_cap();
  for (int i = 0; i <= last && i < 64; i++)
    if (caps_name(i) != NULL && can_give(i))
      mask |= 1ULL << i;
  return mask;
}

/* docker's NormalizeLegacyCapabilities for one list: upper case, "CAP_"
 * prefixed unless "ALL"; sets *mask and *all. */
static int caps_parse_list(char **list, uint64_t *mask, bool *all, berth_error **err) {
  *mask = 0;
  *all = false;
  uint64_t known = all_caps_mask();
  for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
    size_t len = strlen(list[i]);
    cleanup_free char *name = malloc(len + sizeof("CAP_"));
    if (name == NULL)
      return berth_fail(err, ENOMEM, "capability \"%s\"", list[i]);
    for (size_t k = 0; k <= len; k++)
      name[k] = (char)toupper((unsigned char)list[i][k]);
    if (strcmp(name, "ALL") == 0) {
      *all = true;
      continue;
    }
    if (strncmp(name, "CAP_", 4) != 0) {
      memmove(name + 4, name, len + 1);
      memcpy(name, "CAP_", 4);
    }
    int cap = caps_from_name(name);
    if (cap < 0 || cap >= 64 || !(known & (1ULL << cap)))
      return berth_fail(err, 0, "unknown capability: \"%s\"", name);
    *mask |= 1ULL << cap;
  }
  return 0;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void security_caps_free(char **caps) {
  cleanup_strvp(&caps);
}

int security_caps(char **add, char **drop, bool privileged, char ***out, berth_error **err) {
  uint64_t add_mask, drop_mask;
  bool add_all, drop_all;
  /* docker refuses unknown names at create time even for --privileged. */
  if (caps_parse_list(add, &add_mask, &add_all, err) < 0 || caps_parse_list(drop, &drop_mask, &drop_all, err) < 0)
    return -1;

  uint64_t defaults = 0;
  for (size_t i = 0; security_default_caps[i] != NULL; i++)
    defaults |= 1ULL << caps_from_name(security_default_caps[i]);

  /* moby's TweakCapabilities: --privileged ignores both lists; "ALL" in
   * --cap-add takes everything but the drops; "ALL" in --cap-drop leaves the
   * adds; otherwise the drops leave the defaults and the adds join after
   * them (so --cap-add X --cap-drop X keeps X). */
  uint64_t set;
  if (privileged)
    set = all_caps_mask();
  else if (add_all)
    set = all_caps_mask() & ~drop_mask;
  else if (drop_all)
    set = add_mask;
  else
    set = (defaults & ~drop_mask) | add_mask;

  size_t n = (size_t)__builtin_popcountll(set);
  cleanup_strv char **v = calloc(n + 1, sizeof(*v));
  if (v == NULL)
    return berth_fail(err, ENOMEM, "capability set");
  size_t k = 0;
  for (int i = 0; i < 64; i++) {
    if (!(set & (1ULL << i)))
      continue;
    if ((v[k] = strdup(caps_name(i))) == NULL)
      return berth_fail(err, ENOMEM, "capability set");
    k++;
  }
  qsort(v, n, sizeof(*v), compare_names);
  *out = TAKE_PTR(v);
  return 0;
}

/* ---- seccomp: docker's rule model ------------------------------------- */

struct kernel_version {
  int major, minor, patch;
};

/* includes/excludes of a docker profile rule. */
struct rule_filter {
  const char *const *caps;   /* NULL-terminated, or NULL */
  const char *const *arches; /* docker's names: "amd64", "x32", "s390x", ... */
  bool has_min_kernel;
  struct kernel_version min_kernel;
};

struct rule_arg {
  unsigned index;
  uint64_t value, value_two;
  const char *op; /* "SCMP_CMP_EQ" */
};

struct rule {
  const char *const *names; /* NULL-terminated */
  const char *action;       /* "SCMP_ACT_ALLOW" */
  int errno_ret;            /* < 0: none */
  const struct rule_arg *args;
  size_t n_args;
  struct rule_filter includes, excludes;
};

/* The architecture berth resolves profiles for: docker's native name and
 * the archMap entry it selects. */
#define NATIVE_ARCH "amd64"
#define NATIVE_SCMP_ARCH "SCMP_ARCH_X86_64"

struct resolve_env {
  char **caps; /* the container's capabilities, NULL-terminated (or NULL) */
  bool kernel_known;
  struct kernel_version kernel;
  const char *kernel_release;
};

/* A decimal number of at most 7 digits at *p; advances *p. */
static bool parse_number(const char **p, int *out) {
  if (!isdigit((unsigned char)**p))
    return false;
  int v = 0;
  for (int n = 0; isdigit((unsigned char)**p); n++, (*p)++) {
    if (n == 7)
      return false;
    v = v * 10 + (**p - '0');
  }
  *out = v;
  return true;
}

/* "4.8", "5.10.3", "6.18.0-1-amd64": major.minor[.patch] and any flavour
 * after it, as docker's kernel.ParseRelease reads them. */
static bool parse_kernel_version(const char *text, struct kernel_version *out) {
  struct kernel_version v = {0, 0, 0};
  const char *p = text;
  if (!parse_number(&p, &v.major) || *p++ != '.' || !parse_number(&p, &v.minor))
    return false;
  if (p[0] == '.' && isdigit((unsigned char)p[1])) {
    p++;
    if (!parse_number(&p, &v.patch))
      return false;
  }
  *out = v;
  return true;
}

static int compare_kernel(const struct kernel_version *a, const struct kernel_version *b) {
  if (a->major != b->major)
    return a->major < b->major ? -1 : 1;
  if (a->minor != b->minor)
    return a->minor < b->minor ? -1 : 1;
  if (a->patch != b->patch)
    return a->patch < b->patch ? -1 : 1;
  return 0;
}

static void resolve_env_init(struct resolve_env *env, char **caps, struct utsname *uts) {
  env->caps = caps;
  env->kernel_known = false;
  env->kernel_release = "";
  if (uname(uts) == 0) {
    env->kernel_release = uts->release;
    env->kernel_known = parse_kernel_version(uts->release, &env->kernel);
  }
}

static bool in_list(const char *const *list, const char *s) {
  for (size_t i = 0; list != NULL && list[i] != NULL; i++)
    if (strcmp(list[i], s) == 0)
      return true;
  return false;
}

static int kernel_at_least(const struct resolve_env *env, const struct kernel_version *min, bool *out,
                           berth_error **err) {
  if (!env->kernel_known)
    return berth_fail(err, 0, "seccomp profile: minKernel: cannot read the running kernel's version from \"%s\"",
                      env->kernel_release);
  *out = compare_kernel(&env->kernel, min) >= 0;
  return 0;
}

/* moby's setupSeccomp filter: a rule is dropped when the architecture or
 * any capability of excludes matches or the kernel reaches its minKernel,
 * and kept only when the architecture and all capabilities of includes
 * match and the kernel reaches its minKernel. */
static int rule_applies(const struct rule *r, const struct resolve_env *env, bool *out, berth_error **err) {
  bool at_least = false;
  *out = false;
  const struct rule_filter *ex = &r->excludes, *in = &r->includes;
  if (in_list(ex->arches, NATIVE_ARCH))
    return 0;
  for (size_t i = 0; ex->caps != NULL && ex->caps[i] != NULL; i++)
    if (in_list((const char *const *)env->caps, ex->caps[i]))
      return 0;
  if (ex->has_min_kernel) {
    if (kernel_at_least(env, &ex->min_kernel, &at_least, err) < 0)
      return -1;
    if (at_least)
      return 0;
  }
  if (in->arches != NULL && in->arches[0] != NULL && !in_list(in->arches, NATIVE_ARCH))
    return 0;
  for (size_t i = 0; in->caps != NULL && in->caps[i] != NULL; i++)
    if (!in_list((const char *const *)env->caps, in->caps[i]))
      return 0;
  if (in->has_min_kernel) {
    if (kernel_at_least(env, &in->min_kernel, &at_least, err) < 0)
      return -1;
    if (!at_least)
      return 0;
  }
  *out = true;
  return 0;
}

/* ---- JSON output ------------------------------------------------------ */

/* Adds val under key, taking it; -1 (val released) when val is NULL or the
 * add fails. */
static int put(struct json_object *obj, const char *key, struct json_object *val) {
  if (val == NULL)
    return -1;
  if (json_object_object_add(obj, key, val) != 0) {
    json_object_put(val);
    return -1;
  }
  return 0;
}

static int push(struct json_object *arr, struct json_object *val) {
  if (val == NULL)
    return -1;
  if (json_object_array_add(arr, val) != 0) {
    json_object_put(val);
    return -1;
  }
  return 0;
}

static struct json_object *json_u64(uint64_t v) {
  return v <= (uint64_t)INT64_MAX ? json_object_new_int64((int64_t)v) : json_object_new_uint64(v);
}

static struct json_object *json_strv(const char *const *v) {
  cleanup_json struct json_object *arr = json_object_new_array();
  if (arr == NULL)
    return NULL;
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    if (push(arr, json_object_new_string(v[i])) < 0)
      return NULL;
  return TAKE_PTR(arr);
}

/* One OCI linux.seccomp.syscalls entry. */
static struct json_object *rule_json(const struct rule *r) {
  cleanup_json struct json_object *o = json_object_new_object();
  if (o == NULL || put(o, "names", json_strv(r->names)) < 0 ||
      put(o, "action", json_object_new_string(r->action)) < 0)
    return NULL;
  if (r->errno_ret >= 0 && put(o, "errnoRet", json_object_new_int64(r->errno_ret)) < 0)
    return NULL;
  if (r->n_args > 0) {
    struct json_object *args = json_object_new_array();
    if (put(o, "args", args) < 0)
      return NULL;
    for (size_t i = 0; i < r->n_args; i++) {
      const struct rule_arg *a = &r->args[i];
      struct json_object *ao = json_object_new_object();
      if (push(args, ao) < 0 || put(ao, "index", json_object_new_int64(a->index)) < 0 ||
          put(ao, "value", json_u64(a->value)) < 0 ||
          (a->value_two != 0 && put(ao, "valueTwo", json_u64(a->value_two)) < 0) ||
          put(ao, "op", json_object_new_string(a->op)) < 0)
        return NULL;
    }
  }
  return TAKE_PTR(o);
}

/* Appends r to syscalls when it applies. */
static int emit_rule(struct json_object *syscalls, const struct rule *r, const struct resolve_env *env,
                     berth_error **err) {
  bool applies;
  if (rule_applies(r, env, &applies, err) < 0)
    return -1;
  if (applies && push(syscalls, rule_json(r)) < 0)
    return berth_fail(err, ENOMEM, "seccomp profile");
  return 0;
}

/* ---- the default profile ---------------------------------------------- */

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})
#define CAPS(...) {.caps = LIST(__VA_ARGS__)}
#define ARCHES(...) {.arches = LIST(__VA_ARGS__)}
#define ONE_ARG(i, o, v) .args = (const struct rule_arg[]){{.index = (i), .value = (v), .op = (o)}}, .n_args = 1
#define ALLOW .action = "SCMP_ACT_ALLOW", .errno_ret = -1

/* CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
 * CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET */
#define CLONE_NAMESPACE_FLAGS 0x7E020000ULL
#define AF_VSOCK_FAMILY 40
#define PERSONALITY(v) {.names = LIST("personality"), ALLOW, ONE_ARG(0, "SCMP_CMP_EQ", (v))}

/* Allowed whatever the capabilities. */
static const char *const default_allowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir", "chmod",
    "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
    "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range",
    "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl",
    "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
    "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
    "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl",
    "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat",
    "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
    "futex_time64", "futex_waitv", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
    "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer",
    "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
    "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid",
    "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
    "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl",
    "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set",
    "io_setup", "io_submit", "io_uring_enter", "io_uring_register", "io_uring_setup", "ipc", "kill",
    "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
    "link", "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr",
    "lstat", "lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat",
    "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr",
    "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
    "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
    "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat",
    "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
    "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
    "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
    "remap_file_pages", "removexattr", "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq",
    "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop",
    "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
    "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
    "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
    "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
    "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt",
    "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall",
    "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
    "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime",
    "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev", NULL,
};

static const struct rule default_rules[] = {
    {.names = default_allowed, ALLOW},
    {.names = LIST("process_vm_readv", "process_vm_writev", "ptrace"), ALLOW,
     .includes = {.has_min_kernel = true, .min_kernel = {4, 8, 0}}},
    /* AF_VSOCK reaches the host across namespaces */
    {.names = LIST("socket"), ALLOW, ONE_ARG(0, "SCMP_CMP_NE", AF_VSOCK_FAMILY)},
    /* PER_LINUX, UNAME26, PER_LINUX32, PER_LINUX32|UNAME26, and the query */
    PERSONALITY(0x0),
    PERSONALITY(0x8),
    PERSONALITY(0x20000),
    PERSONALITY(0x20008),
    PERSONALITY(0xffffffff),
    {.names = LIST("sync_file_range2", "swapcontext"), ALLOW, .includes = ARCHES("ppc64le")},
    {.names = LIST("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
                   "set_tls"),
     ALLOW, .includes = ARCHES("arm", "arm64")},
    {.names = LIST("arch_prctl"), ALLOW, .includes = ARCHES("amd64", "x32")},
    {.names = LIST("modify_ldt"), ALLOW, .includes = ARCHES("amd64", "x32", "x86")},
    {.names = LIST("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"), ALLOW,
     .includes = ARCHES("s390", "s390x")},
    {.names = LIST("riscv_flush_icache"), ALLOW, .includes = ARCHES("riscv64")},
    {.names = LIST("open_by_handle_at"), ALLOW, .includes = CAPS("CAP_DAC_READ_SEARCH")},
    {.names = LIST("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                   "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
                   "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
                   "umount2", "unshare"),
     ALLOW, .includes = CAPS("CAP_SYS_ADMIN")},
    /* without CAP_SYS_ADMIN, clone may not create namespaces */
    {.names = LIST("clone"), ALLOW, ONE_ARG(0, "SCMP_CMP_MASKED_EQ", CLONE_NAMESPACE_FLAGS),
     .excludes = {.caps = LIST("CAP_SYS_ADMIN"), .arches = LIST("s390", "s390x")}},
    /* s390 passes clone's flags second */
    {.names = LIST("clone"), ALLOW, ONE_ARG(1, "SCMP_CMP_MASKED_EQ", CLONE_NAMESPACE_FLAGS),
     .includes = ARCHES("s390", "s390x"), .excludes = CAPS("CAP_SYS_ADMIN")},
    /* clone3's flags are in memory where seccomp cannot look: ENOSYS makes
     * libc fall back to clone */
    {.names = LIST("clone3"), .action = "SCMP_ACT_ERRNO", .errno_ret = 38, .excludes = CAPS("CAP_SYS_ADMIN")},
    {.names = LIST("reboot"), ALLOW, .includes = CAPS("CAP_SYS_BOOT")},
    {.names = LIST("chroot"), ALLOW, .includes = CAPS("CAP_SYS_CHROOT")},
    {.names = LIST("delete_module", "init_module", "finit_module"), ALLOW, .includes = CAPS("CAP_SYS_MODULE")},
    {.names = LIST("acct"), ALLOW, .includes = CAPS("CAP_SYS_PACCT")},
    {.names = LIST("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"),
     ALLOW, .includes = CAPS("CAP_SYS_PTRACE")},
    {.names = LIST("iopl", "ioperm"), ALLOW, .includes = CAPS("CAP_SYS_RAWIO")},
    {.names = LIST("settimeofday", "stime", "clock_settime", "clock_settime64"), ALLOW,
     .includes = CAPS("CAP_SYS_TIME")},
    {.names = LIST("vhangup"), ALLOW, .includes = CAPS("CAP_SYS_TTY_CONFIG")},
    {.names = LIST("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"), ALLOW,
     .includes = CAPS("CAP_SYS_NICE")},
    {.names = LIST("syslog"), ALLOW, .includes = CAPS("CAP_SYSLOG")},
    {.names = LIST("bpf"), ALLOW, .includes = CAPS("CAP_BPF")},
    {.names = LIST("perf_event_open"), ALLOW, .includes = CAPS("CAP_PERFMON")},
};

static const char *const native_architectures[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL};

struct json_object *security_default_seccomp(char **caps, berth_error **err) {
  struct utsname uts;
  struct resolve_env env;
  resolve_env_init(&env, caps, &uts);

  cleanup_json struct json_object *out = json_object_new_object();
  struct json_object *syscalls = json_object_new_array();
  if (out == NULL || put(out, "defaultAction", json_object_new_string("SCMP_ACT_ERRNO")) < 0 ||
      put(out, "defaultErrnoRet", json_object_new_int(EPERM)) < 0 ||
      put(out, "architectures", json_strv(native_architectures)) < 0 || put(out, "syscalls", syscalls) < 0) {
    berth_fail(err, ENOMEM, "default seccomp profile");
    return NULL;
  }
  for (size_t i = 0; i < ARRAY_SIZE(default_rules); i++)
    if (emit_rule(syscalls, &default_rules[i], &env, err) < 0)
      return NULL;
  return TAKE_PTR(out);
}

/* ---- docker profile files --------------------------------------------- */

/* A rule read from a profile; the strings point into the parsed JSON or
 * into the vectors owned here. */
struct parsed_rule {
  struct rule rule;
  char **names;
  char *one_name[2];
  struct rule_arg *args;
  char **in_caps, **in_arches, **ex_caps, **ex_arches;
};

static void parsed_rule_clear(struct parsed_rule *p) {
  cleanup_strvp(&p->names);
  cleanup_strvp(&p->in_caps);
  cleanup_strvp(&p->in_arches);
  cleanup_strvp(&p->ex_caps);
  cleanup_strvp(&p->ex_arches);
  free(p->args);
}

#define CTX_LEN 96

static struct json_ctx sub_ctx(const struct json_ctx *parent, const char *key, char *buf) {
  const char *p = parent->path != NULL ? parent->path : "";
  snprintf(buf, CTX_LEN, "%s%s%s", p, p[0] != '\0' ? "." : "", key);
  return (struct json_ctx){.origin = parent->origin, .path = buf};
}

static struct json_ctx item_ctx(const struct json_ctx *parent, const char *key, size_t i, char *buf) {
  const char *p = parent->path != NULL ? parent->path : "";
  snprintf(buf, CTX_LEN, "%s%s%s[%zu]", p, p[0] != '\0' ? "." : "", key, i);
  return (struct json_ctx){.origin = parent->origin, .path = buf};
}

static bool known_name(const char *const *table, const char *name) {
  return in_list(table, name);
}

/* A required action name that libseccomp knows. */
static int get_action(const struct json_ctx *ctx, struct json_object *obj, const char *key, const char **out,
                      berth_error **err) {
  int r = json_get_string(ctx, obj, key, out, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return json_fail_err(err, ctx, key, "is required");
  if (!known_name(seccomp_action_names, *out))
    return json_fail_err(err, ctx, key, "unknown seccomp action \"%s\"", *out);
  return 0;
}

static int get_errno(const struct json_ctx *ctx, struct json_object *obj, const char *key, int *out,
                     berth_error **err) {
  uint64_t v;
  int r = json_get_uint_max(ctx, obj, key, 4095, &v, err);
  if (r > 0)
    *out = (int)v;
  return r;
}

static int parse_filter(const struct json_ctx *ctx, struct json_object *item, const char *key,
                        struct rule_filter *f, char ***caps, char ***arches, berth_error **err) {
  struct json_object *obj;
  int r = json_get_object(ctx, item, key, &obj, err);
  if (r <= 0)
    return r;
  char buf[CTX_LEN];
  struct json_ctx c = sub_ctx(ctx, key, buf);
  const char *min = NULL;
  if (json_get_strv(&c, obj, "caps", caps, NULL, err) < 0 || json_get_strv(&c, obj, "arches", arches, NULL, err) < 0 ||
      json_get_string(&c, obj, "minKernel", &min, err) < 0)
    return -1;
  f->caps = (const char *const *)*caps;
  f->arches = (const char *const *)*arches;
  if (min != NULL && min[0] != '\0') {
    if (!parse_kernel_version(min, &f->min_kernel))
      return json_fail_err(err, &c, "minKernel", "invalid kernel version \"%s\" (expected like \"4.8\")", min);
    f->has_min_kernel = true;
  }
  return 0;
}

static int parse_args(const struct json_ctx *ctx, struct json_object *item, struct parsed_rule *p,
                      berth_error **err) {
  struct json_object *arr;
  int r = json_get_array(ctx, item, "args", &arr, err);
  if (r <= 0)
    return r;
  size_t n = json_object_array_length(arr);
  if ((p->args = calloc(n ? n : 1, sizeof(*p->args))) == NULL)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  for (size_t i = 0; i < n; i++) {
    char buf[CTX_LEN];
    struct json_ctx c = item_ctx(ctx, "args", i, buf);
    struct json_object *a = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(a, json_type_object))
      return json_fail_err(err, &c, NULL, "expected an object, got %s", json_type_phrase(a));
    struct rule_arg *arg = &p->args[i];
    uint64_t index;
    if ((r = json_get_uint_max(&c, a, "index", 5, &index, err)) < 0)
      return -1;
    if (r == 0)
      return json_fail_err(err, &c, "index", "is required");
    arg->index = (unsigned)index;
    if (json_get_uint64(&c, a, "value", &arg->value, err) < 0 ||
        json_get_uint64(&c, a, "valueTwo", &arg->value_two, err) < 0 ||
        (r = json_get_string(&c, a, "op", &arg->op, err)) < 0)
      return -1;
    if (r == 0)
      return json_fail_err(err, &c, "op", "is required");
    if (!known_name(seccomp_op_names, arg->op))
      return json_fail_err(err, &c, "op", "unknown operator \"%s\"", arg->op);
  }
  p->rule.args = p->args;
  p->rule.n_args = n;
  return 0;
}

static int parse_rule(const struct json_ctx *c, struct json_object *item, struct parsed_rule *p, berth_error **err) {
  if (!json_object_is_type(item, json_type_object))
    return json_fail_err(err, c, NULL, "expected an object, got %s", json_type_phrase(item));
  const char *name = NULL, *comment = NULL;
  int has_names;
  if (json_get_string(c, item, "name", &name, err) < 0 ||
      (has_names = json_get_strv(c, item, "names", &p->names, NULL, err)) < 0 ||
      json_get_string(c, item, "comment", &comment, err) < 0)
    return -1;
  if (name != NULL && name[0] != '\0' && has_names > 0 && p->names[0] != NULL)
    return json_fail_err(err, c, NULL, "both name and names are given; use one");
  if (name != NULL && name[0] != '\0') {
    p->one_name[0] = (char *)name;
    p->rule.names = (const char *const *)p->one_name;
  } else if (has_names > 0 && p->names[0] != NULL) {
    p->rule.names = (const char *const *)p->names;
  } else {
    return json_fail_err(err, c, NULL, "name or names is required");
  }
  p->rule.errno_ret = -1;
  if (get_action(c, item, "action", &p->rule.action, err) < 0 ||
      get_errno(c, item, "errnoRet", &p->rule.errno_ret, err) < 0 || parse_args(c, item, p, err) < 0 ||
      parse_filter(c, item, "includes", &p->rule.includes, &p->in_caps, &p->in_arches, err) < 0 ||
      parse_filter(c, item, "excludes", &p->rule.excludes, &p->ex_caps, &p->ex_arches, err) < 0)
    return -1;
  return 0;
}

static int check_arch(const struct json_ctx *ctx, const char *key, const char *arch, berth_error **err) {
  if (!known_name(seccomp_arch_names, arch))
    return json_fail_err(err, ctx, key, "unknown architecture \"%s\"", arch);
  return 0;
}

/* architectures (copied) or archMap (the x86_64 entry and its
 * subArchitectures); neither leaves the key out: the native one only. */
static int convert_arches(const struct json_ctx *ctx, struct json_object *top, struct json_object *out,
                          berth_error **err) {
  struct json_object *plain = NULL, *map = NULL;
  if (json_get_array(ctx, top, "architectures", &plain, err) < 0 || json_get_array(ctx, top, "archMap", &map, err) < 0)
    return -1;
  if (plain != NULL && map != NULL && json_object_array_length(plain) > 0 && json_object_array_length(map) > 0)
    return json_fail_err(err, ctx, "archMap", "cannot be given together with architectures; use one");
  cleanup_json struct json_object *arr = json_object_new_array();
  if (arr == NULL)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  size_t n = plain != NULL ? json_object_array_length(plain) : 0;
  for (size_t i = 0; i < n; i++) {
    struct json_object *a = json_object_array_get_idx(plain, i);
    char buf[CTX_LEN];
    struct json_ctx c = item_ctx(ctx, "architectures", i, buf);
    if (!json_object_is_type(a, json_type_string))
      return json_fail_err(err, &c, NULL, "expected a string, got %s", json_type_phrase(a));
    if (check_arch(&c, NULL, json_object_get_string(a), err) < 0)
      return -1;
    if (push(arr, json_object_new_string(json_object_get_string(a))) < 0)
      return berth_fail(err, ENOMEM, "%s", ctx->origin);
  }
  n = map != NULL ? json_object_array_length(map) : 0;
  bool found = false;
  for (size_t i = 0; i < n; i++) {
    struct json_object *m = json_object_array_get_idx(map, i);
    char buf[CTX_LEN];
    struct json_ctx c = item_ctx(ctx, "archMap", i, buf);
    if (!json_object_is_type(m, json_type_object))
      return json_fail_err(err, &c, NULL, "expected an object, got %s", json_type_phrase(m));
    const char *arch = NULL;
    cleanup_strv char **subs = NULL;
    int r = json_get_string(&c, m, "architecture", &arch, err);
    if (r < 0 || json_get_strv(&c, m, "subArchitectures", &subs, NULL, err) < 0)
      return -1;
    if (r == 0)
      return json_fail_err(err, &c, "architecture", "is required");
    if (found || strcmp(arch, NATIVE_SCMP_ARCH) != 0)
      continue;
    found = true;
    if (push(arr, json_object_new_string(arch)) < 0)
      return berth_fail(err, ENOMEM, "%s", ctx->origin);
    for (size_t k = 0; subs != NULL && subs[k] != NULL; k++) {
      if (check_arch(&c, "subArchitectures", subs[k], err) < 0)
        return -1;
      if (push(arr, json_object_new_string(subs[k])) < 0)
        return berth_fail(err, ENOMEM, "%s", ctx->origin);
    }
  }
  if (json_object_array_length(arr) > 0 && put(out, "architectures", TAKE_PTR(arr)) < 0)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  return 0;
}

/* defaultErrnoRet, flags, listenerPath and listenerMetadata pass through. */
static int convert_top(const struct json_ctx *ctx, struct json_object *top, struct json_object *out,
                       berth_error **err) {
  const char *action, *s;
  int ret = -1, r;
  if (get_action(ctx, top, "defaultAction", &action, err) < 0 ||
      get_errno(ctx, top, "defaultErrnoRet", &ret, err) < 0)
    return -1;
  if (strcmp(action, "SCMP_ACT_NOTIFY") == 0)
    return json_fail_err(err, ctx, "defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
  if (put(out, "defaultAction", json_object_new_string(action)) < 0 ||
      (ret >= 0 && put(out, "defaultErrnoRet", json_object_new_int(ret)) < 0))
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  if (convert_arches(ctx, top, out, err) < 0)
    return -1;
  cleanup_strv char **flags = NULL;
  if (json_get_strv(ctx, top, "flags", &flags, NULL, err) < 0)
    return -1;
  for (size_t i = 0; flags != NULL && flags[i] != NULL; i++)
    if (!known_name(seccomp_flag_names, flags[i]))
      return json_fail_err(err, ctx, "flags", "unknown flag \"%s\"", flags[i]);
  if (flags != NULL && flags[0] != NULL && put(out, "flags", json_strv((const char *const *)flags)) < 0)
    return berth_fail(err, ENOMEM, "%s", ctx->origin);
  static const char *const passed[] = {"listenerPath", "listenerMetadata"};
  for (size_t i = 0; i < ARRAY_SIZE(passed); i++) {
    if ((r = json_get_string(ctx, top, passed[i], &s, err)) < 0)
      return -1;
    if (r > 0 && s[0] != '\0' && put(out, passed[i], json_object_new_string(s)) < 0)
      return berth_fail(err, ENOMEM, "%s", ctx->origin);
  }
  return 0;
}

struct json_object *security_seccomp_from_docker(const char *text, size_t len, const char *origin, char **caps,
                                                 berth_error **err) {
  cleanup_free char *label = NULL;
  if (asprintf(&label, "seccomp profile \"%s\"", origin != NULL ? origin : "") < 0) {
    label = NULL;
    berth_fail(err, ENOMEM, "seccomp profile");
    return NULL;
  }
  cleanup_json struct json_object *top = json_parse_text(text, len, label, err);
  if (top == NULL)
    return NULL;
  if (!json_object_is_type(top, json_type_object)) {
    berth_fail(err, 0, "%s: expected a JSON object, got %s", label, json_type_phrase(top));
    return NULL;
  }
  struct json_ctx ctx = {.origin = label, .path = ""};
  cleanup_json struct json_object *out = json_object_new_object();
  if (out == NULL) {
    berth_fail(err, ENOMEM, "%s", label);
    return NULL;
  }
  if (convert_top(&ctx, top, out, err) < 0)
    return NULL;

  struct json_object *arr = NULL;
  if (json_get_array(&ctx, top, "syscalls", &arr, err) < 0)
    return NULL;
  struct json_object *syscalls = json_object_new_array();
  if (put(out, "syscalls", syscalls) < 0) {
    berth_fail(err, ENOMEM, "%s", label);
    return NULL;
  }
  struct utsname uts;
  struct resolve_env env;
  resolve_env_init(&env, caps, &uts);
  size_t n = arr != NULL ? json_object_array_length(arr) : 0;
  for (size_t i = 0; i < n; i++) {
    char buf[CTX_LEN];
    struct json_ctx c = item_ctx(&ctx, "syscalls", i, buf);
    struct parsed_rule p = {0};
    int r = parse_rule(&c, json_object_array_get_idx(arr, i), &p, err);
    if (r == 0)
      r = emit_rule(syscalls, &p.rule, &env, err);
    parsed_rule_clear(&p);
    if (r < 0)
      return NULL;
  }
  return TAKE_PTR(out);
}
