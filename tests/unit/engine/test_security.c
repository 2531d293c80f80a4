/* Docker's default capabilities and seccomp profile (src/engine/security.c):
 * --cap-add/--cap-drop, the profile's rules resolved against capabilities,
 * docker profile files, and the output checked by the runtime's own parser,
 * compiler and (in a forked child) the kernel. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/security.h"
#include "runtime/caps.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/json.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

#define CAPV(...) ((char *[]){__VA_ARGS__, NULL})

static size_t strv_len(char **v) {
  size_t n = 0;
  while (v != NULL && v[n] != NULL)
    n++;
  return n;
}

static bool strv_has(char **v, const char *s) {
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    if (strcmp(v[i], s) == 0)
      return true;
  return false;
}

static bool strv_sorted_unique(char **v) {
  for (size_t i = 0; v != NULL && v[i] != NULL && v[i + 1] != NULL; i++)
    if (strcmp(v[i], v[i + 1]) >= 0)
      return false;
  return true;
}

/* security_caps, printing the error when it fails. */
static char **caps_of(char **add, char **drop, bool privileged) {
  cleanup_error berth_error *err = NULL;
  char **out = NULL;
  if (security_caps(add, drop, privileged, &out, &err) < 0) {
    printf("#   security_caps: %s\n", err->msg);
    return NULL;
  }
  return out;
}

/* ---- capabilities ----------------------------------------------------- */

static void test_default_caps(void) {
  static const char *const want[] = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
                                     "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
                                     "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};
  size_t n = 0;
  while (security_default_caps[n] != NULL)
    n++;
  EXPECT(n == 14);
  for (size_t i = 0; i < ARRAY_SIZE(want) && i < n; i++) {
    EXPECT_STR(security_default_caps[i], want[i]);
    EXPECT(caps_from_name(security_default_caps[i]) >= 0);
  }
  EXPECT(!strv_has((char **)security_default_caps, "CAP_SYS_ADMIN"));
  EXPECT(!strv_has((char **)security_default_caps, "CAP_NET_ADMIN"));
}

static void test_all_caps(void) {
  const char **all = security_all_caps();
  EXPECT(all != NULL);
  if (all == NULL)
    return;
  size_t n = strv_len((char **)all);
  int last = caps_last_cap();
  /* every capability berth can name and holds itself (this host has no
   * CAP_SYS_RESOURCE: --privileged cannot give it) */
  size_t named = 0;
  for (int i = 0; i <= last; i++)
    named += caps_name(i) != NULL && prctl(PR_CAPBSET_READ, i, 0, 0, 0) == 1;
  EXPECT(n == named);
  if (prctl(PR_CAPBSET_READ, CAP_SYS_RESOURCE, 0, 0, 0) != 1)
    EXPECT(!strv_has((char **)all, "CAP_SYS_RESOURCE"));
  EXPECT(n >= 38); /* every kernel since 5.8 has 41 (0..40) */
  EXPECT_STR(all[0], "CAP_CHOWN");
  EXPECT(strv_has((char **)all, "CAP_SYS_ADMIN"));
  EXPECT(strv_has((char **)all, "CAP_SYS_MODULE"));
  if (last >= 40)
    EXPECT(strv_has((char **)all, "CAP_CHECKPOINT_RESTORE"));
  free(all);
}

static void test_caps_default_set(void) {
  cleanup_strv char **caps = caps_of(NULL, NULL, false);
  EXPECT(strv_len(caps) == 14);
  EXPECT(strv_sorted_unique(caps));
  for (size_t i = 0; security_default_caps[i] != NULL; i++)
    EXPECT(strv_has(caps, security_default_caps[i]));
  cleanup_strv char **empty_lists = caps_of(CAPV(NULL), CAPV(NULL), false);
  EXPECT(strv_len(empty_lists) == 14);
}

static void test_caps_add_drop(void) {
  /* names with or without CAP_, any case; an add already in the defaults
   * is not repeated */
  cleanup_strv char **caps =
      caps_of(CAPV("net_admin", "CAP_SYS_PTRACE", "Sys_Time", "chown"), CAPV("MKNOD", "cap_net_raw"), false);
  EXPECT(caps != NULL);
  EXPECT(strv_has(caps, "CAP_NET_ADMIN"));
  EXPECT(strv_has(caps, "CAP_SYS_PTRACE"));
  EXPECT(strv_has(caps, "CAP_SYS_TIME"));
  EXPECT(strv_has(caps, "CAP_CHOWN"));
  EXPECT(!strv_has(caps, "CAP_MKNOD"));
  EXPECT(!strv_has(caps, "CAP_NET_RAW"));
  EXPECT(!strv_has(caps, "CAP_SYS_ADMIN"));
  EXPECT(strv_len(caps) == 14 + 3 - 2);
  EXPECT(strv_sorted_unique(caps));

  /* docker appends the adds after the drops: a name in both stays */
  cleanup_strv char **both = caps_of(CAPV("NET_ADMIN"), CAPV("NET_ADMIN", "KILL"), false);
  EXPECT(strv_has(both, "CAP_NET_ADMIN"));
  EXPECT(!strv_has(both, "CAP_KILL"));
}

static void test_caps_all(void) {
  const char **all = security_all_caps();
  size_t n_all = strv_len((char **)all);
  free(all);

  /* --cap-drop ALL keeps only the explicit adds */
  cleanup_strv char **only = caps_of(CAPV("net_bind_service", "SETUID"), CAPV("all"), false);
  EXPECT(strv_len(only) == 2);
  EXPECT(only != NULL && strcmp(only[0], "CAP_NET_BIND_SERVICE") == 0);
  EXPECT(strv_has(only, "CAP_SETUID"));

  cleanup_strv char **none = caps_of(NULL, CAPV("ALL"), false);
  EXPECT(none != NULL && none[0] == NULL);

  /* --cap-add ALL takes everything but the drops */
  cleanup_strv char **most = caps_of(CAPV("ALL"), CAPV("SYS_ADMIN", "cap_sys_module"), false);
  EXPECT(strv_len(most) == n_all - 2);
  EXPECT(!strv_has(most, "CAP_SYS_ADMIN"));
  EXPECT(!strv_has(most, "CAP_SYS_MODULE"));
  EXPECT(strv_has(most, "CAP_NET_ADMIN"));
  EXPECT(strv_sorted_unique(most));
}

static void test_caps_privileged(void) {
  const char **all = security_all_caps();
  size_t n_all = strv_len((char **)all);
  /* --privileged ignores --cap-drop, as docker does */
  cleanup_strv char **caps = caps_of(NULL, CAPV("ALL"), true);
  EXPECT(strv_len(caps) == n_all);
  for (size_t i = 0; all != NULL && all[i] != NULL; i++)
    EXPECT(strv_has(caps, all[i]));
  EXPECT(strv_sorted_unique(caps));
  free(all);
}

static void test_caps_unknown(void) {
  struct {
    char **add, **drop;
    bool privileged;
    const char *msg;
  } cases[] = {
      {CAPV("FOO"), NULL, false, "unknown capability: \"CAP_FOO\""},
      {NULL, CAPV("chown", "cap_bogus"), false, "unknown capability: \"CAP_BOGUS\""},
      {CAPV("CAP_ALL"), NULL, false, "unknown capability: \"CAP_ALL\""},
      {CAPV(""), NULL, false, "unknown capability: \"CAP_\""},
      {CAPV("nope"), NULL, true, "unknown capability: \"CAP_NOPE\""},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    cleanup_error berth_error *err = NULL;
    char **out = NULL;
    EXPECT(security_caps(cases[i].add, cases[i].drop, cases[i].privileged, &out, &err) < 0);
    EXPECT(out == NULL);
    EXPECT_STR(err != NULL ? err->msg : NULL, cases[i].msg);
  }
}

/* ---- helpers over an OCI linux.seccomp object ------------------------- */

static struct json_object *syscalls_of(struct json_object *sc) {
  struct json_object *arr = NULL;
  if (sc == NULL || !json_object_object_get_ex(sc, "syscalls", &arr) || !json_object_is_type(arr, json_type_array))
    return NULL;
  return arr;
}

static const char *str_field(struct json_object *obj, const char *key) {
  struct json_object *v;
  if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

static bool entry_names(struct json_object *entry, const char *name) {
  struct json_object *names;
  if (!json_object_object_get_ex(entry, "names", &names))
    return false;
  for (size_t i = 0; i < json_object_array_length(names); i++)
    if (strcmp(json_object_get_string(json_object_array_get_idx(names, i)), name) == 0)
      return true;
  return false;
}

static size_t n_args(struct json_object *entry) {
  struct json_object *args;
  return json_object_object_get_ex(entry, "args", &args) ? json_object_array_length(args) : 0;
}

/* Entries naming name: how many, and the last one. */
static size_t entries_for(struct json_object *sc, const char *name, struct json_object **last) {
  struct json_object *arr = syscalls_of(sc);
  size_t n = 0;
  for (size_t i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
    struct json_object *e = json_object_array_get_idx(arr, i);
    if (entry_names(e, name)) {
      n++;
      if (last != NULL)
        *last = e;
    }
  }
  return n;
}

/* An entry allows name whatever its arguments. */
static bool allows(struct json_object *sc, const char *name) {
  struct json_object *arr = syscalls_of(sc);
  for (size_t i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
    struct json_object *e = json_object_array_get_idx(arr, i);
    const char *action = str_field(e, "action");
    if (entry_names(e, name) && action != NULL && strcmp(action, "SCMP_ACT_ALLOW") == 0 && n_args(e) == 0)
      return true;
  }
  return false;
}

static int64_t int_field(struct json_object *obj, const char *key) {
  struct json_object *v;
  if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
    return -1;
  return json_object_get_int64(v);
}

static struct json_object *default_profile(char **caps) {
  cleanup_error berth_error *err = NULL;
  struct json_object *sc = security_default_seccomp(caps, &err);
  if (sc == NULL)
    printf("#   security_default_seccomp: %s\n", err->msg);
  return sc;
}

/* A config.json with sc as linux.seccomp, parsed by the runtime. */
static struct spec *spec_with(struct json_object *sc) {
  cleanup_json struct json_object *cfg = json_object_new_object();
  struct json_object *root = json_object_new_object(), *lnx = json_object_new_object();
  json_object_object_add(cfg, "ociVersion", json_object_new_string("1.0.2"));
  json_object_object_add(root, "path", json_object_new_string("rootfs"));
  json_object_object_add(cfg, "root", root);
  json_object_object_add(lnx, "seccomp", json_object_get(sc));
  json_object_object_add(cfg, "linux", lnx);
  const char *text = json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN);
  cleanup_error berth_error *err = NULL;
  struct spec *spec = spec_parse(text, strlen(text), "/tmp", "config.json", &err);
  if (spec == NULL)
    printf("#   spec_parse: %s\n", err->msg);
  return spec;
}

/* Validates and compiles the runtime's view of a profile to BPF; returns
 * the program's size in bytes, or -1. */
static off_t compile(const struct spec_seccomp *sc) {
  cleanup_error berth_error *err = NULL;
  if (seccomp_validate(sc, &err) < 0) {
    printf("#   seccomp_validate: %s\n", err->msg);
    return -1;
  }
  cleanup_close int fd = memfd_create("bpf", MFD_CLOEXEC);
  if (fd < 0)
    return -1;
  if (seccomp_spec_export_bpf(sc, fd, &err) < 0) {
    printf("#   seccomp_spec_export_bpf: %s\n", err->msg);
    return -1;
  }
  struct stat st;
  return fstat(fd, &st) == 0 ? st.st_size : -1;
}

/* ---- the default profile ---------------------------------------------- */

static void test_default_profile_shape(void) {
  cleanup_strv char **caps = caps_of(NULL, NULL, false);
  cleanup_json struct json_object *sc = default_profile(caps);
  EXPECT(sc != NULL);
  if (sc == NULL)
    return;
  EXPECT_STR(str_field(sc, "defaultAction"), "SCMP_ACT_ERRNO");
  EXPECT(int_field(sc, "defaultErrnoRet") == 1);
  struct json_object *arches;
  EXPECT(json_object_object_get_ex(sc, "architectures", &arches));
  EXPECT(json_object_array_length(arches) == 3);
  if (json_object_array_length(arches) == 3) {
    EXPECT_STR(json_object_get_string(json_object_array_get_idx(arches, 0)), "SCMP_ARCH_X86_64");
    EXPECT_STR(json_object_get_string(json_object_array_get_idx(arches, 1)), "SCMP_ARCH_X86");
    EXPECT_STR(json_object_get_string(json_object_array_get_idx(arches, 2)), "SCMP_ARCH_X32");
  }
  struct json_object *arr = syscalls_of(sc);
  EXPECT(arr != NULL && json_object_array_length(arr) > 10);
  for (size_t i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
    struct json_object *e = json_object_array_get_idx(arr, i), *names;
    EXPECT(json_object_object_get_ex(e, "names", &names) && json_object_array_length(names) > 0);
    EXPECT(str_field(e, "action") != NULL);
    /* only OCI keys */
    json_object_object_foreach(e, key, val) {
      (void)val;
      EXPECT(strcmp(key, "names") == 0 || strcmp(key, "action") == 0 || strcmp(key, "errnoRet") == 0 ||
             strcmp(key, "args") == 0);
    }
  }
}

static void test_default_profile_allowed(void) {
  cleanup_strv char **caps = caps_of(NULL, NULL, false);
  cleanup_json struct json_object *sc = default_profile(caps);
  static const char *const allowed[] = {
      "read",      "write",        "openat",     "close",      "execve",     "exit_group", "getpid",
      "mmap",      "futex",        "epoll_wait", "io_uring_setup", "arch_prctl", "modify_ldt", "prctl",
      "seccomp",   "name_to_handle_at", "setuid", "capset",   "pidfd_open", "landlock_create_ruleset",
      "rseq",      "statx",        "faccessat2", "close_range",
      /* docker allows these on kernels >= 4.8 */
      "ptrace",    "process_vm_readv", "process_vm_writev",
      /* CAP_SYS_CHROOT is a default capability */
      "chroot",
  };
  for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
    if (!allows(sc, allowed[i]))
      printf("#   not allowed: %s\n", allowed[i]);
    EXPECT(allows(sc, allowed[i]));
  }
}

static void test_default_profile_denied(void) {
  cleanup_strv char **caps = caps_of(NULL, NULL, false);
  cleanup_json struct json_object *sc = default_profile(caps);
  /* not named at all: the default action (EPERM) applies */
  static const char *const denied[] = {
      "mount",         "umount2",       "umount",      "reboot",     "kexec_load",  "kexec_file_load",
      "open_by_handle_at", "init_module", "finit_module", "delete_module", "bpf",   "perf_event_open",
      "unshare",       "setns",         "syslog",      "acct",       "iopl",        "ioperm",
      "settimeofday",  "clock_settime", "vhangup",     "mbind",      "set_mempolicy", "kcmp",
      "pidfd_getfd",   "process_madvise", "keyctl",    "add_key",    "request_key", "swapon",
      "userfaultfd",   "fsopen",        "open_tree",   "move_mount", "sethostname", "quotactl",
      "lookup_dcookie", "fanotify_init", "nfsservctl", "uselib",     "vm86",
      /* other architectures' calls */
      "set_tls",       "s390_runtime_instr", "riscv_flush_icache", "swapcontext",
  };
  for (size_t i = 0; i < ARRAY_SIZE(denied); i++) {
    if (entries_for(sc, denied[i], NULL) != 0)
      printf("#   named: %s\n", denied[i]);
    EXPECT(entries_for(sc, denied[i], NULL) == 0);
  }

  /* without any capability, chroot goes too */
  cleanup_json struct json_object *bare = default_profile(NULL);
  EXPECT(bare != NULL);
  EXPECT(entries_for(bare, "chroot", NULL) == 0);
  EXPECT(allows(bare, "read"));
}

static void test_default_profile_caps(void) {
  struct {
    const char *cap;
    const char *const names[6];
  } groups[] = {
      {"CAP_SYS_ADMIN", {"mount", "umount2", "unshare", "setns", "clone3", "fsopen"}},
      {"CAP_SYS_BOOT", {"reboot"}},
      {"CAP_SYS_CHROOT", {"chroot"}},
      {"CAP_SYS_MODULE", {"init_module", "finit_module", "delete_module"}},
      {"CAP_SYS_PACCT", {"acct"}},
      {"CAP_SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise"}},
      {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
      {"CAP_SYS_TIME", {"settimeofday", "clock_settime", "clock_settime64"}},
      {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
      {"CAP_SYSLOG", {"syslog"}},
      {"CAP_SYS_NICE", {"mbind", "get_mempolicy", "set_mempolicy", "set_mempolicy_home_node"}},
      {"CAP_BPF", {"bpf"}},
      {"CAP_PERFMON", {"perf_event_open"}},
      {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
  };
  for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
    cleanup_json struct json_object *sc = default_profile(CAPV((char *)groups[g].cap));
    for (size_t i = 0; i < 6 && groups[g].names[i] != NULL; i++) {
      if (!allows(sc, groups[g].names[i]))
        printf("#   %s does not allow %s\n", groups[g].cap, groups[g].names[i]);
      EXPECT(allows(sc, groups[g].names[i]));
    }
    /* one capability does not open another's group */
    if (strcmp(groups[g].cap, "CAP_SYS_ADMIN") != 0)
      EXPECT(entries_for(sc, "mount", NULL) == 0);
    if (strcmp(groups[g].cap, "CAP_SYS_MODULE") != 0)
      EXPECT(entries_for(sc, "init_module", NULL) == 0);
  }
  /* never allowed, even with every capability */
  cleanup_strv char **all = caps_of(NULL, NULL, true);
  cleanup_json struct json_object *priv = default_profile(all);
  EXPECT(entries_for(priv, "kexec_load", NULL) == 0);
  EXPECT(entries_for(priv, "keyctl", NULL) == 0);
  EXPECT(allows(priv, "mount"));
}

static void test_default_profile_arg_rules(void) {
  cleanup_strv char **caps = caps_of(NULL, NULL, false);
  cleanup_json struct json_object *sc = default_profile(caps);
  struct json_object *e = NULL, *args, *a;

  /* clone: only without namespace flags */
  EXPECT(entries_for(sc, "clone", &e) == 1);
  EXPECT(!allows(sc, "clone"));
  EXPECT(e != NULL && json_object_object_get_ex(e, "args", &args) && json_object_array_length(args) == 1);
  if (e != NULL && json_object_object_get_ex(e, "args", &args) && json_object_array_length(args) == 1) {
    a = json_object_array_get_idx(args, 0);
    EXPECT(int_field(a, "index") == 0);
    EXPECT_STR(str_field(a, "op"), "SCMP_CMP_MASKED_EQ");
    EXPECT(int_field(a, "value") == (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                                     CLONE_NEWNET | CLONE_NEWCGROUP));
    EXPECT(int_field(a, "valueTwo") <= 0);
  }
  /* clone3: ENOSYS so that libc falls back to clone */
  e = NULL;
  EXPECT(entries_for(sc, "clone3", &e) == 1);
  EXPECT_STR(e != NULL ? str_field(e, "action") : NULL, "SCMP_ACT_ERRNO");
  EXPECT(e != NULL && int_field(e, "errnoRet") == ENOSYS);

  /* socket: anything but AF_VSOCK */
  e = NULL;
  EXPECT(entries_for(sc, "socket", &e) == 1);
  EXPECT(e != NULL && json_object_object_get_ex(e, "args", &args) && json_object_array_length(args) == 1);
  if (e != NULL && json_object_object_get_ex(e, "args", &args) && json_object_array_length(args) == 1) {
    a = json_object_array_get_idx(args, 0);
    EXPECT(int_field(a, "index") == 0 && int_field(a, "value") == AF_VSOCK);
    EXPECT_STR(str_field(a, "op"), "SCMP_CMP_NE");
  }

  /* personality: the five values docker lets through */
  EXPECT(entries_for(sc, "personality", NULL) == 5);
  EXPECT(!allows(sc, "personality"));
  int64_t want[] = {0, 8, 0x20000, 0x20008, 0xffffffff};
  struct json_object *arr = syscalls_of(sc);
  size_t seen = 0;
  for (size_t i = 0; i < json_object_array_length(arr); i++) {
    e = json_object_array_get_idx(arr, i);
    if (!entry_names(e, "personality") || !json_object_object_get_ex(e, "args", &args))
      continue;
    a = json_object_array_get_idx(args, 0);
    EXPECT(seen < 5 && int_field(a, "value") == want[seen]);
    EXPECT_STR(str_field(a, "op"), "SCMP_CMP_EQ");
    seen++;
  }

  /* with CAP_SYS_ADMIN, clone and clone3 are plain allows */
  cleanup_json struct json_object *admin = default_profile(CAPV("CAP_SYS_ADMIN"));
  EXPECT(allows(admin, "clone"));
  EXPECT(allows(admin, "clone3"));
  EXPECT(entries_for(admin, "clone", NULL) == 1);
  EXPECT(entries_for(admin, "clone3", NULL) == 1);
}

static void test_default_profile_compiles(void) {
  cleanup_strv char **defaults = caps_of(NULL, NULL, false);
  cleanup_strv char **all = caps_of(NULL, NULL, true);
  char **sets[] = {defaults, all, CAPV("CAP_SYS_ADMIN"), NULL};
  for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
    cleanup_json struct json_object *sc = default_profile(sets[i]);
    struct spec *spec = spec_with(sc);
    EXPECT(spec != NULL && spec->lnx.seccomp != NULL);
    if (spec == NULL || spec->lnx.seccomp == NULL) {
      spec_free(spec);
      continue;
    }
    const struct spec_seccomp *s = spec->lnx.seccomp;
    EXPECT(s->default_action == SECCOMP_ACTION_ERRNO && s->has_default_errno_ret && s->default_errno_ret == 1);
    EXPECT(s->n_architectures == 3);
    off_t size = compile(s);
    EXPECT(size > 0 && size % 8 == 0);
    EXPECT(seccomp_lets_through(s, "read"));
    EXPECT(seccomp_lets_through(s, "getpid"));
    EXPECT(!seccomp_lets_through(s, "kexec_load"));
    bool admin = strv_has(sets[i], "CAP_SYS_ADMIN");
    EXPECT(seccomp_lets_through(s, "mount") == admin);
    EXPECT(seccomp_lets_through(s, "clone") == admin);
    EXPECT(seccomp_lets_through(s, "unshare") == admin);
    spec_free(spec);
  }
}

/* The same through a bundle's config.json and spec_load. */
static void test_default_profile_in_bundle(void) {
  char dir[] = "/tmp/berth-test-security-XXXXXX";
  EXPECT(mkdtemp(dir) != NULL);
  char path[sizeof(dir) + 32];
  snprintf(path, sizeof(path), "%s/config.json", dir);
  cleanup_strv char **caps = caps_of(NULL, NULL, false);
  cleanup_json struct json_object *sc = default_profile(caps);
  cleanup_json struct json_object *cfg = json_object_new_object();
  struct json_object *root = json_object_new_object(), *lnx = json_object_new_object();
  json_object_object_add(cfg, "ociVersion", json_object_new_string("1.0.2"));
  json_object_object_add(root, "path", json_object_new_string("rootfs"));
  json_object_object_add(cfg, "root", root);
  json_object_object_add(lnx, "seccomp", json_object_get(sc));
  json_object_object_add(cfg, "linux", lnx);
  EXPECT(json_object_to_file_ext(path, cfg, JSON_C_TO_STRING_PRETTY) == 0);

  cleanup_error berth_error *err = NULL;
  struct spec *spec = spec_load(dir, NULL, NULL, &err);
  if (spec == NULL)
    printf("#   spec_load: %s\n", err->msg);
  EXPECT(spec != NULL && spec->lnx.seccomp != NULL);
  if (spec != NULL && spec->lnx.seccomp != NULL) {
    EXPECT(compile(spec->lnx.seccomp) > 0);
    EXPECT(!seccomp_lets_through(spec->lnx.seccomp, "mount"));
  }
  spec_free(spec);
  unlink(path);
  rmdir(dir);
}

/* ---- enforcement ------------------------------------------------------ */

static int child_failures;

#define CHECK(cond)                                                                                   \
  do {                                                                                                \
    if (!(cond)) {                                                                                    \
      printf("#   %s:%d: (child) expected %s (errno %d)\n", __FILE__, __LINE__, #cond, errno);        \
      child_failures++;                                                                               \
    }                                                                                                 \
  } while (0)

/* Calls that would fail harmlessly even if the filter let them through
 * (nonexistent paths, bad magic numbers), so a broken filter cannot hurt. */
static void enforce_default(const struct spec_seccomp *sc) {
  cleanup_error berth_error *err = NULL;
  CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
  if (seccomp_install(sc, NULL, &err) < 0) {
    printf("#   seccomp_install: %s\n", err->msg);
    child_failures++;
    return;
  }
  /* denied with EPERM */
  errno = 0;
  CHECK(mount("none", "/nonexistent-berth-test", "tmpfs", 0, NULL) == -1 && errno == EPERM);
  errno = 0;
  CHECK(umount2("/nonexistent-berth-test", 0) == -1 && errno == EPERM);
  errno = 0;
  CHECK(unshare(CLONE_NEWNS) == -1 && errno == EPERM);
  errno = 0;
  CHECK(syscall(SYS_reboot, 0, 0, 0, NULL) == -1 && errno == EPERM);
  errno = 0;
  CHECK(syscall(SYS_keyctl, 0, 0, 0, 0, 0) == -1 && errno == EPERM);
  errno = 0;
  CHECK(syscall(SYS_init_module, NULL, 0, "") == -1 && errno == EPERM);
  errno = 0;
  CHECK(syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0) == -1 && errno == EPERM);
  errno = 0;
  CHECK(socket(AF_VSOCK, SOCK_STREAM, 0) == -1 && errno == EPERM);
  errno = 0;
  CHECK(personality(0x6 /* PER_BSD */) == -1 && errno == EPERM);
  /* clone3: ENOSYS */
  errno = 0;
  CHECK(syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS);

  /* allowed */
  CHECK(syscall(SYS_getpid) == getpid());
  CHECK(personality(0xffffffff) != -1);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK(s >= 0);
  if (s >= 0)
    close(s);
  pid_t pid = fork(); /* clone without namespace flags */
  CHECK(pid >= 0);
  if (pid == 0)
    _exit(7);
  int status = 0;
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7);
  /* ptrace and process_vm_readv reach the kernel (kernel >= 4.8) */
  errno = 0;
  CHECK(ptrace(PTRACE_PEEKDATA, getppid(), NULL, NULL) == -1 && errno == ESRCH);
  char src[4] = "abc", dst[4] = "";
  struct iovec local = {dst, sizeof(dst)}, remote = {src, sizeof(src)};
  CHECK(process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)sizeof(src) && strcmp(dst, "abc") == 0);
  /* CAP_SYS_CHROOT is a default capability: chroot reaches the kernel */
  errno = 0;
  CHECK(chroot("/nonexistent-berth-test") == -1 && errno == ENOENT);
}

static void test_default_profile_enforced(void) {
  cleanup_strv char **caps = caps_of(NULL, NULL, false);
  cleanup_json struct json_object *sc = default_profile(caps);
  struct spec *spec = spec_with(sc);
  EXPECT(spec != NULL && spec->lnx.seccomp != NULL);
  if (spec == NULL || spec->lnx.seccomp == NULL) {
    spec_free(spec);
    return;
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    alarm(20);
    enforce_default(spec->lnx.seccomp);
    fflush(stdout);
    _exit(child_failures > 100 ? 100 : child_failures);
  }
  int status = -1;
  EXPECT(pid > 0 && waitpid(pid, &status, 0) == pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    printf("#   child status %#x\n", status);
  EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  spec_free(spec);
}

/* ---- docker profile files --------------------------------------------- */

static const char docker_profile[] =
    "{\n"
    "  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
    "  \"defaultErrnoRet\": 1,\n"
    "  \"archMap\": [\n"
    "    {\"architecture\": \"SCMP_ARCH_AARCH64\", \"subArchitectures\": [\"SCMP_ARCH_ARM\"]},\n"
    "    {\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]},\n"
    "    {\"architecture\": \"SCMP_ARCH_RISCV64\", \"subArchitectures\": null}\n"
    "  ],\n"
    "  \"syscalls\": [\n"
    "    {\"names\": [\"read\", \"write\", \"exit_group\"], \"action\": \"SCMP_ACT_ALLOW\", \"comment\": \"basics\"},\n"
    "    {\"name\": \"getpid\", \"action\": \"SCMP_ACT_ALLOW\"},\n"
    "    {\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},\n"
    "    {\"names\": [\"reboot\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
    "     \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\", \"CAP_SYS_BOOT\"]}},\n"
    "    {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
    "     \"args\": [{\"index\": 0, \"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}],\n"
    "     \"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"], \"arches\": [\"s390\", \"s390x\"]}},\n"
    "    {\"names\": [\"set_tls\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
    "     \"includes\": {\"arches\": [\"arm\", \"arm64\"]}},\n"
    "    {\"names\": [\"arch_prctl\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"arches\": [\"amd64\"]}},\n"
    "    {\"names\": [\"uname\"], \"action\": \"SCMP_ACT_ALLOW\", \"excludes\": {\"arches\": [\"amd64\"]}},\n"
    "    {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"4.8\"}},\n"
    "    {\"names\": [\"futex_waitv\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"999.1\"}},\n"
    "    {\"names\": [\"uselib\"], \"action\": \"SCMP_ACT_ALLOW\", \"excludes\": {\"minKernel\": \"3.10.0-debian\"}},\n"
    "    {\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38},\n"
    "    {\"names\": [\"setns\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [],\n"
    "     \"includes\": {}, \"excludes\": {\"caps\": []}},\n"
    "    {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
    "     \"args\": [{\"index\": 0, \"value\": 18446744073709551615, \"op\": \"SCMP_CMP_EQ\"}]}\n"
    "  ]\n"
    "}\n";

static struct json_object *convert(const char *text, char **caps) {
  cleanup_error berth_error *err = NULL;
  struct json_object *sc = security_seccomp_from_docker(text, strlen(text), "profile.json", caps, &err);
  if (sc == NULL)
    printf("#   security_seccomp_from_docker: %s\n", err->msg);
  return sc;
}

static void test_docker_profile(void) {
  cleanup_json struct json_object *sc = convert(docker_profile, CAPV("CAP_CHOWN"));
  EXPECT(sc != NULL);
  if (sc == NULL)
    return;
  EXPECT_STR(str_field(sc, "defaultAction"), "SCMP_ACT_ERRNO");
  EXPECT(int_field(sc, "defaultErrnoRet") == 1);
  struct json_object *arches;
  EXPECT(json_object_object_get_ex(sc, "architectures", &arches) && json_object_array_length(arches) == 3);
  EXPECT(!json_object_object_get_ex(sc, "archMap", NULL));
  if (arches != NULL && json_object_array_length(arches) == 3) {
    EXPECT_STR(json_object_get_string(json_object_array_get_idx(arches, 0)), "SCMP_ARCH_X86_64");
    EXPECT_STR(json_object_get_string(json_object_array_get_idx(arches, 2)), "SCMP_ARCH_X32");
  }
  EXPECT(allows(sc, "read") && allows(sc, "exit_group"));
  EXPECT(allows(sc, "getpid")); /* "name" becomes "names" */
  EXPECT(entries_for(sc, "mount", NULL) == 0);
  EXPECT(entries_for(sc, "reboot", NULL) == 0);
  EXPECT(entries_for(sc, "clone", NULL) == 1 && !allows(sc, "clone"));
  EXPECT(entries_for(sc, "set_tls", NULL) == 0);
  EXPECT(allows(sc, "arch_prctl"));
  EXPECT(entries_for(sc, "uname", NULL) == 0);
  EXPECT(allows(sc, "ptrace"));
  EXPECT(entries_for(sc, "futex_waitv", NULL) == 0);
  EXPECT(entries_for(sc, "uselib", NULL) == 0);
  EXPECT(allows(sc, "setns")); /* empty includes/excludes filter nothing */
  struct json_object *e = NULL, *args;
  EXPECT(entries_for(sc, "kill", &e) == 1);
  EXPECT(e != NULL && int_field(e, "errnoRet") == 38);
  e = NULL;
  EXPECT(entries_for(sc, "personality", &e) == 1);
  EXPECT(e != NULL && json_object_object_get_ex(e, "args", &args));
  if (e != NULL && json_object_object_get_ex(e, "args", &args))
    EXPECT(json_object_get_uint64(json_object_object_get(json_object_array_get_idx(args, 0), "value")) == UINT64_MAX);
  /* docker keys do not leak into the OCI object */
  struct json_object *arr = syscalls_of(sc);
  for (size_t i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
    struct json_object *x = json_object_array_get_idx(arr, i);
    EXPECT(!json_object_object_get_ex(x, "includes", NULL) && !json_object_object_get_ex(x, "excludes", NULL) &&
           !json_object_object_get_ex(x, "comment", NULL) && !json_object_object_get_ex(x, "name", NULL));
  }
  /* and the runtime compiles it */
  struct spec *spec = spec_with(sc);
  EXPECT(spec != NULL && spec->lnx.seccomp != NULL);
  if (spec != NULL && spec->lnx.seccomp != NULL) {
    EXPECT(compile(spec->lnx.seccomp) > 0);
    EXPECT(!seccomp_lets_through(spec->lnx.seccomp, "mount"));
  }
  spec_free(spec);

  /* with CAP_SYS_ADMIN: mount, not the masked clone; reboot needs both */
  cleanup_json struct json_object *admin = convert(docker_profile, CAPV("CAP_SYS_ADMIN"));
  EXPECT(allows(admin, "mount"));
  EXPECT(entries_for(admin, "clone", NULL) == 0);
  EXPECT(entries_for(admin, "reboot", NULL) == 0);
  cleanup_json struct json_object *both = convert(docker_profile, CAPV("CAP_SYS_BOOT", "CAP_SYS_ADMIN"));
  EXPECT(allows(both, "reboot"));
}

static void test_docker_profile_oci_shaped(void) {
  const char *text = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86_64\"],"
                     " \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],"
                     " \"syscalls\": [{\"names\": [\"mount\", \"umount2\"], \"action\": \"SCMP_ACT_ERRNO\","
                     " \"errnoRet\": 13},"
                     " {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ERRNO\","
                     " \"args\": [{\"index\": 0, \"value\": 40, \"op\": \"SCMP_CMP_EQ\"}]}]}";
  cleanup_json struct json_object *sc = convert(text, NULL);
  EXPECT(sc != NULL);
  EXPECT_STR(str_field(sc, "defaultAction"), "SCMP_ACT_ALLOW");
  EXPECT(int_field(sc, "defaultErrnoRet") == -1);
  struct json_object *arches = NULL, *flags = NULL, *e = NULL;
  EXPECT(json_object_object_get_ex(sc, "architectures", &arches) && json_object_array_length(arches) == 1);
  EXPECT(json_object_object_get_ex(sc, "flags", &flags) && json_object_array_length(flags) == 1);
  EXPECT(entries_for(sc, "umount2", &e) == 1);
  EXPECT(e != NULL && int_field(e, "errnoRet") == 13);
  EXPECT(entries_for(sc, "socket", &e) == 1 && n_args(e) == 1);
  struct spec *spec = spec_with(sc);
  EXPECT(spec != NULL && spec->lnx.seccomp != NULL && spec->lnx.seccomp->n_syscalls == 2);
  if (spec != NULL && spec->lnx.seccomp != NULL) {
    EXPECT(compile(spec->lnx.seccomp) > 0);
    EXPECT(!seccomp_lets_through(spec->lnx.seccomp, "mount"));
    EXPECT(seccomp_lets_through(spec->lnx.seccomp, "read"));
  }
  spec_free(spec);

  /* no architectures at all: the key stays out (the native one only) */
  const char *bare = "{\"defaultAction\": \"SCMP_ACT_LOG\"}";
  cleanup_json struct json_object *b = convert(bare, NULL);
  EXPECT(b != NULL && !json_object_object_get_ex(b, "architectures", NULL));
  EXPECT(syscalls_of(b) != NULL && json_object_array_length(syscalls_of(b)) == 0);
}

static void test_docker_profile_errors(void) {
  struct {
    const char *text, *msg;
  } cases[] = {
      {"{\"defaultAction\": ", "seccomp profile \"p.json\": invalid JSON"},
      {"[]", "seccomp profile \"p.json\": expected a JSON object, got an array"},
      {"{}", "seccomp profile \"p.json\": defaultAction: is required"},
      {"{\"defaultAction\": \"SCMP_ACT_NOPE\"}", "seccomp profile \"p.json\": defaultAction: unknown seccomp action"},
      {"{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}", "defaultAction: SCMP_ACT_NOTIFY cannot be the default action"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": \"1\"}", "defaultErrnoRet: expected an integer"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 5000}", "defaultErrnoRet: 5000 is out of range"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\"],"
       " \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\"}]}",
       "seccomp profile \"p.json\": archMap: cannot be given together with architectures"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_Z80\"]}",
       "architectures[0]: unknown architecture \"SCMP_ARCH_Z80\""},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"archMap\": [{\"subArchitectures\": []}]}",
       "archMap[0].architecture: is required"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\","
       " \"subArchitectures\": [\"SCMP_ARCH_PDP11\"]}]}",
       "archMap[0].subArchitectures: unknown architecture \"SCMP_ARCH_PDP11\""},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": [\"SECCOMP_FILTER_FLAG_NOPE\"]}", "flags: unknown flag"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": {}}", "syscalls: expected an array, got an object"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [3]}", "syscalls[0]: expected an object, got an integer"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"},"
       " {\"names\": [\"write\"], \"action\": \"ALLOW\"}]}",
       "seccomp profile \"p.json\": syscalls[1].action: unknown seccomp action \"ALLOW\""},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"]}]}",
       "syscalls[0].action: is required"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"name\": \"read\", \"names\": [\"write\"],"
       " \"action\": \"SCMP_ACT_ALLOW\"}]}",
       "syscalls[0]: both name and names are given"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_ALLOW\"}]}",
       "syscalls[0]: name or names is required"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [1], \"action\": \"SCMP_ACT_ALLOW\"}]}",
       "syscalls[0].names: item 0: expected a string"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\","
       " \"errnoRet\": -1}]}",
       "syscalls[0].errnoRet: expected a non-negative integer"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
       " \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
       "syscalls[0].args[0].index: 6 is out of range"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
       " \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"EQ\"}]}]}",
       "syscalls[0].args[0].op: unknown operator \"EQ\""},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
       " \"args\": [{\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
       "syscalls[0].args[0].index: is required"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
       " \"args\": [{\"index\": 0, \"value\": 123456789012345678901234, \"op\": \"SCMP_CMP_EQ\"}]}]}",
       "syscalls[0].args[0].value: integer out of range"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
       " \"includes\": {\"minKernel\": \"four\"}}]}",
       "syscalls[0].includes.minKernel: invalid kernel version \"four\""},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
       " \"excludes\": {\"caps\": \"CAP_SYS_ADMIN\"}}]}",
       "syscalls[0].excludes.caps: expected an array, got a string"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
       " \"includes\": []}]}",
       "syscalls[0].includes: expected an object, got an array"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
       " \"comment\": 5}]}",
       "syscalls[0].comment: expected a string"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    cleanup_error berth_error *err = NULL;
    struct json_object *sc = security_seccomp_from_docker(cases[i].text, strlen(cases[i].text), "p.json",
                                                          CAPV("CAP_SYS_ADMIN"), &err);
    EXPECT(sc == NULL);
    if (sc != NULL) {
      printf("#   case %zu accepted\n", i);
      json_object_put(sc);
      continue;
    }
    EXPECT_CONTAINS(err != NULL ? err->msg : NULL, cases[i].msg);
    EXPECT(err != NULL && strncmp(err->msg, "seccomp profile \"p.json\": ", 26) == 0);
    EXPECT(err != NULL && strchr(err->msg, '\n') == NULL);
  }
}

int main(void) {
  RUN(test_default_caps);
  RUN(test_all_caps);
  RUN(test_caps_default_set);
  RUN(test_caps_add_drop);
  RUN(test_caps_all);
  RUN(test_caps_privileged);
  RUN(test_caps_unknown);
  RUN(test_default_profile_shape);
  RUN(test_default_profile_allowed);
  RUN(test_default_profile_denied);
  RUN(test_default_profile_caps);
  RUN(test_default_profile_arg_rules);
  RUN(test_default_profile_compiles);
  RUN(test_default_profile_in_bundle);
  RUN(test_default_profile_enforced);
  RUN(test_docker_profile);
  RUN(test_docker_profile_oci_shaped);
  RUN(test_docker_profile_errors);
  return tap_done();
}
