#include "runtime/init.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/hooks.h"
#include "runtime/mounts.h"
#include "runtime/namespaces.h"
#include "runtime/process.h"
#include "runtime/start_stub.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/path.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define KEYCTL_JOIN_SESSION_KEYRING 1

/* Joins and creates namespaces through a forked intermediate; returns in the
 * process that becomes init (the intermediate reports its pid and exits). */
static int enter_namespaces_via_intermediate(struct init_args *a, berth_error **err) {
  const struct spec_linux *l = &a->spec->lnx;
  if (ns_join_paths(l, err) < 0)
    return -1;
  int flags = ns_new_flags(l);
  if (flags & CLONE_NEWUSER) {
    if (unshare(CLONE_NEWUSER) < 0)
      return berth_fail(err, errno, "create user namespace");
    if (sync_send(a->sync_fd, SYNC_USERNS_READY, getpid(), NULL, -1, err) < 0 ||
        sync_expect(a->sync_fd, SYNC_GO, NULL, NULL, err) < 0)
      return -1;
    flags &= ~CLONE_NEWUSER;
  }
  if (flags != 0 && unshare(flags) < 0)
    return berth_fail(err, errno, "create namespaces");
  if ((flags & CLONE_NEWTIME) && ns_set_time_offsets(l, err) < 0)
    return -1;
  /* CLONE_PARENT: init becomes the runtime's child, so `run` can wait for it. */
  pid_t pid = ns_clone(CLONE_PARENT);
  if (pid < 0)
    return berth_fail(err, errno, "fork the container process");
  if (pid > 0) {
    berth_error *send_err = NULL;
    sync_send(a->sync_fd, SYNC_PID, pid, NULL, -1, &send_err);
    berth_error_free(send_err);
    _exit(0);
  }
  return 0;
}

static bool uid_mapped(const struct spec_id_mapping *maps, size_t n, uint32_t id) {
  for (size_t i = 0; i < n; i++)
    if (id >= maps[i].container_id && id - maps[i].container_id < maps[i].size)
      return true;
  return false;
}

static int write_sysctls(const struct spec_linux *l, berth_error **err) {
  for (size_t i = 0; i < l->n_sysctl; i++) {
    const char *key = l->sysctl[i].key;
    if (strstr(key, "..") != NULL || key[0] == '/' || key[0] == '.')
      return berth_fail(err, 0, "sysctl \"%s\": invalid name", key);
    char path[512];
    int n = snprintf(path, sizeof(path), "/proc/sys/%s", key);
    if (n < 0 || (size_t)n >= sizeof(path))
      return berth_fail(err, ENAMETOOLONG, "sysctl \"%s\"", key);
    for (char *p = path + 10; *p != '\0'; p++)
      if (*p == '.')
        *p = '/';
    if (fs_write_file_at(AT_FDCWD, path, l->sysctl[i].value, strlen(l->sysctl[i].value), 0, err) < 0)
      return berth_error_wrap(err, "sysctl \"%s\"", key);
  }
  return 0;
}

static int set_names(const struct spec *s, berth_error **err) {
  if (s->hostname != NULL && sethostname(s->hostname, strlen(s->hostname)) < 0)
    return berth_fail(err, errno, "set hostname \"%s\"", s->hostname);
  if (s->domainname != NULL && setdomainname(s->domainname, strlen(s->domainname)) < 0)
    return berth_fail(err, errno, "set domainname \"%s\"", s->domainname);
  return 0;
}

static int set_memory_policy(const struct spec_linux *l, berth_error **err) {
  if (!l->has_memory_policy)
    return 0;
  unsigned long maxnode = l->mpol_has_nodes ? sizeof(l->mpol_nodes) * 8 : 0;
  if (syscall(SYS_set_mempolicy, l->mpol_mode, l->mpol_has_nodes ? l->mpol_nodes : NULL, maxnode) < 0)
    return berth_fail(err, errno, "set linux.memoryPolicy");
  return 0;
}

static int set_personality(const struct spec_linux *l, berth_error **err) {
  if (l->personality == NULL)
    return 0;
  if (personality(l->personality->domain) < 0)
    return berth_fail(err, errno, "set personality");
  return 0;
}

/* The hook state, as the runtime would report it now. */
static char *hook_state(const struct init_args *a, pid_t host_pid, enum container_status status, berth_error **err) {
  struct container_state st = {
      .id = (char *)a->id,
      .pid = host_pid,
      .bundle = a->spec->bundle,
      .annotations_json = (char *)a->annotations_json,
  };
  return state_to_json(&st, status, false, false, err);
}

/* Creates the working directory when the image lacks it, as runc does. */
static int make_cwd(const char *cwd, berth_error **err) {
  struct stat st;
  if (stat(cwd, &st) == 0)
    return 0;
  if (errno != ENOENT)
    return berth_fail(err, errno, "cwd \"%s\"", cwd);
  cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int fd = path_mkdir_in_root(root, cwd, err);
  return fd < 0 ? berth_error_wrap(err, "cwd") : 0;
}

static int init_run(struct init_args *a, berth_error **err) {
  const struct spec *spec = a->spec;
  const struct spec_process *p = &spec->process;
  const struct spec_linux *l = &spec->lnx;
  struct sync_msg msg;

  /* Until it becomes the start stub, init is a copy of the runtime: keep its
   * /proc/<pid> files (exe, mem) from anyone without CAP_SYS_PTRACE. */
  if (a->start_stub_fd >= 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return berth_fail(err, errno, "make the container process non-dumpable");
  if (a->unshare_net && unshare(CLONE_NEWNET) < 0)
    return berth_fail(err, errno, "create network namespace");
  if (sync_expect(a->sync_fd, SYNC_GO, &msg, NULL, err) < 0)
    return -1;
  if (a->enter_cgroup && cgroup_enter_self(a->cgroup, err) < 0)
    return -1;
  if (a->intermediate && enter_namespaces_via_intermediate(a, err) < 0)
    return -1;
  bool userns = l->namespaces[NS_USER].present;
  if (userns && uid_mapped(l->uid_mappings, l->n_uid_mappings, 0) && uid_mapped(l->gid_mappings, l->n_gid_mappings, 0)) {
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
      return berth_fail(err, errno, "become root in the user namespace");
  }
  if (l->namespaces[NS_CGROUP].present && l->namespaces[NS_CGROUP].path == NULL && unshare(CLONE_NEWCGROUP) < 0)
    return berth_fail(err, errno, "create cgroup namespace");
  if (write_sysctls(l, err) < 0 || set_names(spec, err) < 0 || process_set_oom_score_adj(p, err) < 0)
    return -1;
  if (!a->no_new_keyring && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, a->id) < 0 && errno != ENOSYS &&
      errno != EPERM && errno != EACCES)
    return berth_fail(err, errno, "join a new session keyring");
  if (!l->namespaces[NS_MOUNT].present)
    return berth_fail(err, 0, "config.json: linux.namespaces: a mount namespace is required");
  if (mounts_prepare_rootfs(spec, userns, err) < 0)
    return -1;

  if (sync_send(a->sync_fd, SYNC_MOUNTS_READY, 0, NULL, -1, err) < 0 ||
      sync_expect(a->sync_fd, SYNC_HOOKS_DONE, &msg, NULL, err) < 0)
    return -1;
  pid_t host_pid = msg.value;
  if (spec->hooks.count[HOOK_CREATE_CONTAINER] > 0) {
    cleanup_free char *state = hook_state(a, host_pid, STATUS_CREATING, err);
    if (state == NULL || hooks_run(&spec->hooks, HOOK_CREATE_CONTAINER, state, err) < 0)
      return -1;
  }
  if (mounts_enter_rootfs(spec, a->no_pivot, err) < 0 || mounts_finish_rootfs(spec, err) < 0)
    return -1;

  if (p->terminal) {
    int slave = -1;
    cleanup_close int master = terminal_open_pty(&slave, err);
    if (master < 0)
      return -1;
    cleanup_close int slave_fd = slave;
    if (terminal_bind_console(slave_fd, err) < 0 || sync_send(a->sync_fd, SYNC_CONSOLE, 0, NULL, master, err) < 0 ||
        terminal_attach_slave(slave_fd, p->console_height, p->console_width, err) < 0)
      return -1;
  }
  if (set_personality(l, err) < 0 || set_memory_policy(l, err) < 0 || process_set_rlimits(p, err) < 0 || process_set_io_priority(p, err) < 0 || process_set_scheduler(p, err) < 0 || make_cwd(p->cwd, err) < 0)
    return -1;
  cleanup_free char *exe = process_find_executable(p, err);
  if (exe == NULL)
    return -1;
  char **env = process_build_env(p, err);
  if (env == NULL)
    return -1;
  int notify_fd = -1;
  if (process_drop_privileges_prepared(p, l->seccomp, a->seccomp_program, &notify_fd, err) < 0)
    return -1;
  if (notify_fd >= 0) {
    int r = sync_send(a->sync_fd, SYNC_SECCOMP_FD, 0, NULL, notify_fd, err);
    close(notify_fd);
    if (r < 0 || sync_expect(a->sync_fd, SYNC_SECCOMP_DONE, NULL, NULL, err) < 0)
      return -1;
  }
  if (process_chdir(p->cwd, err) < 0)
    return -1;
  if (p->user.has_umask)
    umask(p->user.umask);
  else
    umask(022);
  if (a->start_stub_fd >= 0) {
    /* The runtime waits for sync_fd to close at this exec. */
    if (process_close_fds_on_exec(3 + a->preserve_fds, err) < 0 ||
        sync_send(a->sync_fd, SYNC_CREATED, 0, NULL, -1, err) < 0)
      return -1;
    return start_stub_exec(a->start_stub_fd, a->fifo_fd, exe, p->args, env, err);
  }
  if (sync_send(a->sync_fd, SYNC_CREATED, 0, NULL, -1, err) < 0)
    return -1;
  close(a->sync_fd);
  a->sync_fd = -1;

  /* Wait for `start`. */
  char byte;
  ssize_t n;
  do
    n = read(a->fifo_fd, &byte, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1)
    return berth_fail(err, n < 0 ? errno : EPIPE, "wait for start");
  if (spec->hooks.count[HOOK_START_CONTAINER] > 0) {
    cleanup_free char *state = hook_state(a, host_pid, STATUS_CREATED, err);
    if (state == NULL || hooks_run(&spec->hooks, HOOK_START_CONTAINER, state, err) < 0) {
      /* `start` reads this back once we are gone, and fails. */
      if (write(a->fifo_fd, START_FAILED, 1) < 0)
        berth_error_wrap(err, "report to start");
      return -1;
    }
  }
  if (process_close_fds_on_exec(3 + a->preserve_fds, err) < 0)
    return -1;
  return process_exec(exe, p, env, err);
}

_Noreturn void init_main(struct init_args *a) {
  berth_error *err = NULL;
  init_run(a, &err);
  if (a->sync_fd >= 0) {
    sync_send_error(a->sync_fd, err);
  } else {
    /* After create returned, the only one listening is the container's stderr. */
    dprintf(STDERR_FILENO, "berth-runtime: %s\n", err != NULL ? err->msg : "container init failed");
  }
  berth_error_free(err);
  _exit(127);
}
