/* The OCI runtime configuration (config.json) as a plain C structure.
 *
 * spec_load() parses and validates config.json once; nothing else in the
 * runtime touches JSON.  Optional scalar fields carry a has_* flag so that
 * "absent" and "zero" stay distinct, as the runtime spec requires. */
#ifndef BERTH_RUNTIME_SPEC_H
#define BERTH_RUNTIME_SPEC_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

/* ---- process ---------------------------------------------------------- */

struct spec_rlimit {
  int resource;  /* RLIMIT_* */
  char *type;    /* "RLIMIT_NOFILE" */
  uint64_t soft, hard;
};

/* Capability sets as bit masks over CAP_* numbers (bit n = capability n). */
struct spec_capabilities {
  bool present; /* process.capabilities was given */
  uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct spec_user {
  uid_t uid;
  gid_t gid;
  bool has_umask;
  mode_t umask;
  gid_t *additional_gids;
  size_t n_additional_gids;
  char *username; /* Windows only in the spec; kept for completeness */
};

struct spec_process {
  bool terminal;
  bool has_console_size;
  unsigned console_height, console_width;
  char *cwd;
  char **args; /* NULL-terminated */
  size_t n_args;
  char **env; /* NULL-terminated "KEY=value" */
  size_t n_env;
  struct spec_user user;
  struct spec_capabilities caps;
  struct spec_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  bool has_oom_score_adj;
  int oom_score_adj;
  char *apparmor_profile;
  char *selinux_label;
  /* linux.ioPriority and scheduler are accepted from runtime-spec 1.1 */
  bool has_io_priority;
  int io_priority_class; /* IOPRIO_CLASS_* */
  int io_priority;
  /* process.scheduler (runtime-spec 1.1): sched_setattr(2) */
  bool has_scheduler;
  int sched_policy; /* SCHED_* */
  int sched_nice;
  int sched_priority;
  uint64_t sched_flags, sched_runtime, sched_deadline, sched_period;
  /* process.execCPUAffinity (1.2), as cpu lists ("0-3,7"); NULL when absent */
  char *cpu_affinity_initial, *cpu_affinity_final;
};

struct spec_id_mapping {
  uint32_t container_id, host_id, size;
};

/* ---- root, mounts ----------------------------------------------------- */

struct spec_root {
  char *path; /* absolute, resolved against the bundle */
  bool readonly;
};

struct spec_mount {
  char *destination;
  char *source;
  char *type;
  char **options; /* the raw options, NULL-terminated */
  size_t n_options;
  /* options decoded into mount(2) terms by spec_load */
  unsigned long flags;       /* MS_* set */
  unsigned long clear_flags; /* MS_* cleared explicitly ("rw", "suid", ...) */
  unsigned long propagation; /* MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE [|MS_REC] */
  char *data;                /* comma-joined filesystem options */
  bool bind;                 /* MS_BIND given (bind or rbind) */
  /* "rro", "rnosuid", ...: MOUNT_ATTR_* applied with mount_setattr(AT_RECURSIVE) */
  uint64_t rec_attr_set, rec_attr_clr;
  bool idmap; /* "idmap"/"ridmap" */
  bool copy_up;              /* "tmpcopyup" */
  struct spec_id_mapping *uid_mappings, *gid_mappings; /* idmapped mounts */
  size_t n_uid_mappings, n_gid_mappings;
};

/* ---- hooks ------------------------------------------------------------ */

struct spec_hook {
  char *path;
  char **args; /* NULL-terminated, may be NULL */
  char **env;  /* NULL-terminated, may be NULL */
  bool has_timeout;
  int timeout; /* seconds, > 0 */
};

enum spec_hook_kind {
  HOOK_PRESTART,
  HOOK_CREATE_RUNTIME,
  HOOK_CREATE_CONTAINER,
  HOOK_START_CONTAINER,
  HOOK_POSTSTART,
  HOOK_POSTSTOP,
  HOOK_KIND_COUNT
};

struct spec_hooks {
  struct spec_hook *list[HOOK_KIND_COUNT];
  size_t count[HOOK_KIND_COUNT];
};

/* ---- linux ------------------------------------------------------------ */

enum spec_ns_type {
  NS_PID,
  NS_NETWORK,
  NS_MOUNT,
  NS_IPC,
  NS_UTS,
  NS_USER,
  NS_CGROUP,
  NS_TIME,
  NS_TYPE_COUNT
};

struct spec_namespace {
  bool present;
  char *path; /* join this namespace instead of creating one */
};

struct spec_device {
  char *path;
  char type; /* 'c', 'b', 'u' or 'p' */
  int64_t major, minor;
  bool has_file_mode;
  mode_t file_mode;
  bool has_uid, has_gid;
  uid_t uid;
  gid_t gid;
};

struct spec_device_rule {
  bool allow;
  char type; /* 'a', 'c' or 'b' */
  int64_t major, minor; /* -1 = wildcard */
  char access[4];       /* subset of "rwm" */
};

struct spec_weight_device {
  int64_t major, minor;
  bool has_weight, has_leaf_weight;
  uint16_t weight, leaf_weight;
};

struct spec_throttle_device {
  int64_t major, minor;
  uint64_t rate;
};

struct spec_hugepage_limit {
  char *page_size; /* "2MB", "1GB" */
  uint64_t limit;
};

struct spec_key_value {
  char *key;
  char *value;
};

/* Resource limits.  Fields are optional: has_* says whether each was set. */
struct spec_resources {
  /* memory */
  bool has_memory_limit, has_memory_reservation, has_memory_swap, has_memory_kernel,
      has_memory_kernel_tcp, has_memory_swappiness, has_disable_oom_killer, has_use_hierarchy,
      has_check_before_update;
  int64_t memory_limit, memory_reservation, memory_swap, memory_kernel, memory_kernel_tcp;
  uint64_t memory_swappiness;
  bool disable_oom_killer, use_hierarchy, check_before_update;
  /* cpu */
  bool has_cpu_shares, has_cpu_quota, has_cpu_burst, has_cpu_period, has_cpu_rt_runtime,
      has_cpu_rt_period, has_cpu_idle;
  uint64_t cpu_shares, cpu_period, cpu_rt_period, cpu_burst;
  int64_t cpu_quota, cpu_rt_runtime, cpu_idle;
  char *cpu_cpus, *cpu_mems;
  /* pids */
  bool has_pids_limit;
  int64_t pids_limit; /* <= 0 means unlimited */
  /* block io */
  bool has_blkio_weight, has_blkio_leaf_weight;
  uint16_t blkio_weight, blkio_leaf_weight;
  struct spec_weight_device *blkio_weight_device;
  size_t n_blkio_weight_device;
  struct spec_throttle_device *blkio_throttle[4]; /* read bps, write bps, read iops, write iops */
  size_t n_blkio_throttle[4];
  /* hugetlb */
  struct spec_hugepage_limit *hugepage_limits;
  size_t n_hugepage_limits;
  /* devices cgroup */
  struct spec_device_rule *devices;
  size_t n_devices;
  /* network (v1 net_cls/net_prio) */
  bool has_net_class_id;
  uint32_t net_class_id;
  struct spec_key_value *net_priorities; /* interface name -> priority (as text) */
  size_t n_net_priorities;
  /* rdma, unified (cgroup v2 key/value pairs) */
  struct spec_key_value *unified;
  size_t n_unified;
};

enum spec_seccomp_action {
  SECCOMP_ACTION_KILL,
  SECCOMP_ACTION_KILL_PROCESS,
  SECCOMP_ACTION_KILL_THREAD,
  SECCOMP_ACTION_TRAP,
  SECCOMP_ACTION_ERRNO,
  SECCOMP_ACTION_TRACE,
  SECCOMP_ACTION_ALLOW,
  SECCOMP_ACTION_LOG,
  SECCOMP_ACTION_NOTIFY,
};

enum spec_seccomp_op {
  SECCOMP_OP_NE,
  SECCOMP_OP_LT,
  SECCOMP_OP_LE,
  SECCOMP_OP_EQ,
  SECCOMP_OP_GE,
  SECCOMP_OP_GT,
  SECCOMP_OP_MASKED_EQ,
};

struct spec_seccomp_arg {
  unsigned index;
  uint64_t value, value_two;
  enum spec_seccomp_op op;
};

struct spec_seccomp_syscall {
  char **names; /* NULL-terminated */
  size_t n_names;
  enum spec_seccomp_action action;
  bool has_errno_ret;
  unsigned errno_ret;
  struct spec_seccomp_arg *args;
  size_t n_args;
};

struct spec_seccomp {
  enum spec_seccomp_action default_action;
  bool has_default_errno_ret;
  unsigned default_errno_ret;
  char **architectures; /* "SCMP_ARCH_X86_64", NULL-terminated */
  size_t n_architectures;
  char **flags; /* "SECCOMP_FILTER_FLAG_LOG", NULL-terminated */
  size_t n_flags;
  char *listener_path;
  char *listener_metadata;
  struct spec_seccomp_syscall *syscalls;
  size_t n_syscalls;
};

struct spec_personality {
  unsigned long domain; /* PER_LINUX or PER_LINUX32 */
  char **flags;
  size_t n_flags;
};

struct spec_time_offset {
  int64_t secs;
  uint32_t nanosecs;
};

struct spec_linux {
  struct spec_namespace namespaces[NS_TYPE_COUNT];
  struct spec_id_mapping *uid_mappings, *gid_mappings;
  size_t n_uid_mappings, n_gid_mappings;
  struct spec_time_offset time_monotonic, time_boottime;
  bool has_time_offsets;
  struct spec_device *devices;
  size_t n_devices;
  char *cgroups_path;
  bool has_resources;
  struct spec_resources resources;
  struct spec_key_value *sysctl;
  size_t n_sysctl;
  struct spec_seccomp *seccomp; /* NULL when absent */
  unsigned long rootfs_propagation; /* MS_* or 0 when absent */
  char **masked_paths;
  size_t n_masked_paths;
  char **readonly_paths;
  size_t n_readonly_paths;
  char *mount_label;
  struct spec_personality *personality; /* NULL when absent */
  /* linux.memoryPolicy (runtime-spec 1.2): set_mempolicy(2) */
  bool has_memory_policy;
  int mpol_mode; /* MPOL_* plus MPOL_F_* flags */
  unsigned long mpol_nodes[16];
  bool mpol_has_nodes;
};

/* ---- the whole configuration ----------------------------------------- */

struct spec {
  char *oci_version;
  char *bundle; /* absolute path of the bundle directory */
  bool has_process;
  struct spec_process process;
  struct spec_root root;
  char *hostname;
  char *domainname;
  struct spec_mount *mounts;
  size_t n_mounts;
  struct spec_hooks hooks;
  struct spec_key_value *annotations;
  size_t n_annotations;
  struct spec_linux lnx; /* "linux" is a predefined macro in GNU C */
};

/* Reads "<bundle>/config.json" and validates it.  bundle may be relative;
 * spec->bundle and spec->root.path come back absolute.  The raw text is
 * returned in *raw (if raw is not NULL) so it can be stored with the state. */
struct spec *spec_load(const char *bundle, char **raw, size_t *raw_len, berth_error **err);
/* Parses a config from memory; `origin` names it in error messages. */
struct spec *spec_parse(const char *text, size_t len, const char *bundle, const char *origin,
                        berth_error **err);
/* Parses a process object (exec --process) in the same way. */
int spec_parse_process(const char *text, size_t len, const char *origin, struct spec_process *out,
                       berth_error **err);
void spec_free(struct spec *spec);
void spec_process_clear(struct spec_process *process);
void spec_resources_clear(struct spec_resources *resources);
/* Parses a LinuxResources JSON object (update -r) into *out. */
int spec_parse_resources(const char *text, size_t len, const char *origin, struct spec_resources *out,
                         berth_error **err);

/* "0-3,7" -> set; -1 when malformed. */
int spec_parse_cpu_list(const char *text, cpu_set_t *set);
/* The annotations as a JSON object text (NULL when there are none). */
char *spec_annotations_json(const struct spec *spec);

const char *spec_ns_name(enum spec_ns_type type);   /* "pid", "network", ... */
int spec_ns_clone_flag(enum spec_ns_type type);     /* CLONE_NEWPID, ... */
const char *spec_hook_kind_name(enum spec_hook_kind kind); /* "prestart", ... */

/* The default config.json printed by `spec` (rootless for a user namespace). */
char *spec_default_json(bool rootless, berth_error **err);

#endif
