#include "runtime/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <limits.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/seccomp.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/path.h"

int process_set_rlimits(const struct spec_process *p, berth_error **err) {
  for (size_t i = 0; i < p->n_rlimits; i++) {
    const struct spec_rlimit *rl = &p->rlimits[i];
    struct rlimit lim = {.rlim_cur = rl->soft, .rlim_max = rl->hard};
    if (setrlimit((__rlimit_resource_t)rl->resource, &lim) < 0)
      return berth_fail(err, errno, "set %s to %llu/%llu", rl->type, (unsigned long long)rl->soft,
                        (unsigned long long)rl->hard);
  }
  return 0;
}

int process_set_oom_score_adj(const struct spec_process *p, berth_error **err) {
  if (!p->has_oom_score_adj)
    return 0;
  char buf[16];
  int n = snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
  if (fs_write_file_at(AT_FDCWD, "/proc/self/oom_score_adj", buf, (size_t)n, 0, err) < 0)
    return berth_error_wrap(err, "set oomScoreAdj %d", p->oom_score_adj);
  return 0;
}

static const char *env_lookup(char **env, const char *key) {
  size_t klen = strlen(key);
  for (char **e = env; e != NULL && *e != NULL; e++)
    if (strncmp(*e, key, klen) == 0 && (*e)[klen] == '=')
      return *e + klen + 1;
  return NULL;
}

static bool is_executable_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0;
}

int process_set_io_priority(const struct spec_process *p, berth_error **err) {
  if (!p->has_io_priority)
    return 0;
  /* ioprio_set(IOPRIO_WHO_PROCESS, self, class << IOPRIO_CLASS_SHIFT | level) */
  int value = (p->io_priority_class << 13) | p->io_priority;
  if (syscall(SYS_ioprio_set, 1, 0, value) < 0)
    return berth_fail(err, errno, "set ioPriority class %d level %d", p->io_priority_class, p->io_priority);
  return 0;
}

/* struct sched_attr of sched_setattr(2), which glibc does not declare. */
struct berth_sched_attr {
  uint32_t size, sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
  uint32_t sched_util_min, sched_util_max;
};

int process_set_scheduler(const struct spec_process *p, berth_error **err) {
  if (p->has_scheduler) {
    struct berth_sched_attr attr = {
        .size = sizeof(attr),
        .sched_policy = (uint32_t)p->sched_policy,
        .sched_flags = p->sched_flags,
        .sched_nice = p->sched_nice,
        .sched_priority = (uint32_t)p->sched_priority,
        .sched_runtime = p->sched_runtime,
        .sched_deadline = p->sched_deadline,
        .sched_period = p->sched_period,
    };
    if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
      return berth_fail(err, errno, "set process.scheduler policy %d priority %d nice %d", p->sched_policy,
                        p->sched_priority, p->sched_nice);
  }
  if (p->cpu_affinity_final != NULL) {
    cpu_set_t set;
    if (spec_parse_cpu_list(p->cpu_affinity_final, &set) < 0 || sched_setaffinity(0, sizeof(set), &set) < 0)
      return berth_fail(err, errno, "set execCPUAffinity.final \"%s\"", p->cpu_affinity_final);
  }
  return 0;
}

char *process_find_executable(const struct spec_process *p, berth_error **err) {
  const char *name = p->args[0];
  if (strchr(name, '/') != NULL) {
    struct stat st;
    if (stat(name, &st) < 0) {
      berth_fail(err, errno, "executable \"%s\"", name);
      return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
      berth_fail(err, EISDIR, "executable \"%s\"", name);
      return NULL;
    }
    /* refused now, with its cause, rather than by execve after start */
    if (access(name, X_OK) < 0) {
      berth_fail(err, errno, "executable \"%s\"", name);
      return NULL;
    }
    return strdup(name);
  }
  const char *path = env_lookup(p->env, "PATH");
  if (path == NULL)
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  cleanup_free char *dirs = strdup(path);
  char *save = NULL;
  for (char *dir = strtok_r(dirs, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save)) {
    char candidate[PATH_MAX];
    if (snprintf(candidate, sizeof(candidate), "%s/%s", dir[0] != '\0' ? dir : ".", name) >= (int)sizeof(candidate))
      continue;
    if (is_executable_file(candidate))
      return strdup(candidate);
  }
  berth_fail(err, 0, "executable \"%s\" not found in $PATH", name);
  return NULL;
}

static int load_seccomp(const struct spec_seccomp *seccomp, const struct seccomp_program *prepared, int *notify_fd,
                        berth_error **err) {
  if (prepared != NULL)
    return seccomp_program_load(prepared, err);
  return seccomp_install(seccomp, notify_fd, err);
}

int process_drop_privileges(const struct spec_process *p, const struct spec_seccomp *seccomp,
                            int *notify_fd, berth_error **err) {
  return process_drop_privileges_prepared(p, seccomp, NULL, notify_fd, err);
}

int process_drop_privileges_prepared(const struct spec_process *p, const struct spec_seccomp *seccomp,
                                     const struct seccomp_program *prepared, int *notify_fd, berth_error **err) {
  *notify_fd = -1;
  /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it while
   * the capabilities are still there. */
  if (seccomp != NULL && !p->no_new_privileges && load_seccomp(seccomp, prepared, notify_fd, err) < 0)
    return -1;
  /* The runtime never writes "deny" to a user namespace's setgroups file. */
  if (setgroups(p->user.n_additional_gids, p->user.additional_gids) < 0)
    return berth_fail(err, errno, "setgroups to the %zu additionalGids", p->user.n_additional_gids);
  if (caps_keep_on_setuid(true, err) < 0)
    return -1;
  if (setresgid(p->user.gid, p->user.gid, p->user.gid) < 0)
    return berth_fail(err, errno, "setgid %u", (unsigned)p->user.gid);
  if (setresuid(p->user.uid, p->user.uid, p->user.uid) < 0)
    return berth_fail(err, errno, "setuid %u", (unsigned)p->user.uid);
  if (caps_keep_on_setuid(false, err) < 0)
    return -1;
  if (p->caps.present) {
    if (caps_apply(&p->caps, err) < 0)
      return -1;
  } else {
    struct spec_capabilities none = {.present = true};
    if (caps_apply(&none, err) < 0)
      return -1;
  }
  if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return berth_fail(err, errno, "set no_new_privs");
  /* With no_new_privs, as late as possible: fewer syscalls for the profile to allow. */
  if (seccomp != NULL && p->no_new_privileges && load_seccomp(seccomp, prepared, notify_fd, err) < 0)
    return -1;
  return 0;
}

int process_chdir(const char *cwd, berth_error **err) {
  cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return berth_fail(err, errno, "open /");
  /* Resolved inside the root and without magic links: "/proc/self/fd/N"
   * must not lead to a runtime fd's host directory (CVE-2024-21626). */
  cleanup_close int fd = path_open_in_root(root, cwd, O_PATH | O_DIRECTORY, err);
  if (fd < 0)
    return berth_error_wrap(err, "cwd");
  if (fchdir(fd) < 0)
    return berth_fail(err, errno, "chdir to cwd \"%s\"", cwd);
  return 0;
}

int process_close_fds_on_exec(int first_kept_fd, berth_error **err) {
  if (syscall(SYS_close_range, (unsigned)first_kept_fd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return 0;
  /* Kernels before 5.11: mark each open fd by hand. */
  for (int fd = first_kept_fd; fd < 65536; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
      return berth_fail(err, errno, "mark fd %d close-on-exec", fd);
  }
  return 0;
}

/* The home directory of uid in the container's /etc/passwd, or "/". */
static char *home_of(uid_t uid) {
  cleanup_fclose FILE *f = fopen("/etc/passwd", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  while (f != NULL && getline(&line, &cap, f) > 0) {
    /* name:password:uid:gid:gecos:home:shell */
    char *fields[7] = {0};
    char *p = line;
    int n = 0;
    for (char *tok = strsep(&p, ":"); tok != NULL && n < 7; tok = strsep(&p, ":"))
      fields[n++] = tok;
    if (n >= 6 && strtoul(fields[2], NULL, 10) == uid && fields[2][0] != '\0')
      return strdup(fields[5][0] != '\0' ? fields[5] : "/");
  }
  return strdup("/");
}

char **process_build_env(const struct spec_process *p, berth_error **err) {
  size_t n = p->n_env;
  bool has_home = env_lookup(p->env, "HOME") != NULL;
  char **env = calloc(n + 2, sizeof(char *));
  if (env == NULL) {
    berth_fail(err, ENOMEM, "environment");
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    env[i] = p->env[i];
  if (!has_home) {
    /* As runc: HOME from the container's passwd when the config has none. */
    cleanup_free char *home = home_of(p->user.uid);
    if (home == NULL || asprintf(&env[n], "HOME=%s", home) < 0) {
      free(env);
      berth_fail(err, ENOMEM, "environment");
      return NULL;
    }
  }
  return env;
}

int process_exec(const char *path, const struct spec_process *p, char **env, berth_error **err) {
  execve(path, p->args, env);
  return berth_fail(err, errno, "exec \"%s\"", path);
}
