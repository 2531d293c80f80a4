/* `exec`: a new process inside a running container, in its namespaces and
 * cgroup, with the container's seccomp profile. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/container.h"
#include "runtime/namespaces.h"
#include "runtime/process.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "runtime/supervise.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "util/cleanup.h"
#include "util/fs.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
  const char *name;
  int flag;
} ns_files[] = {
    {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},        {"pid", CLONE_NEWPID}, {"net", CLONE_NEWNET},
    {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS},       {"cgroup", CLONE_NEWCGROUP},
    {"time", CLONE_NEWTIME},
};

/* The namespaces of pid that differ from ours: setns(2) refuses to
 * re-enter our own user namespace. */
static int namespaces_to_join(pid_t pid) {
  int flags = 0;
  for (size_t i = 0; i < sizeof(ns_files) / sizeof(ns_files[0]); i++) {
    char theirs[64], ours[64];
    snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", pid, ns_files[i].name);
    snprintf(ours, sizeof(ours), "/proc/self/ns/%s", ns_files[i].name);
    struct stat a, b;
    if (stat(theirs, &a) == 0 && stat(ours, &b) == 0 && (a.st_ino != b.st_ino || a.st_dev != b.st_dev))
      flags |= ns_files[i].flag;
  }
  return flags;
}

static int add_strings(char ***vec, size_t *n, char **more, berth_error **err) {
  size_t extra = 0;
  while (more != NULL && more[extra] != NULL)
    extra++;
  if (extra == 0)
    return 0;
  char **bigger = realloc(*vec, (*n + extra + 1) * sizeof(char *));
  if (bigger == NULL)
    return berth_fail(err, ENOMEM, "exec");
  for (size_t i = 0; i < extra; i++)
    bigger[(*n)++] = strdup(more[i]);
  bigger[*n] = NULL;
  *vec = bigger;
  return 0;
}

/* --env KEY=value replaces KEY when the config has it, else adds it. */
static int set_env(struct spec_process *p, char **more, berth_error **err) {
  for (char **e = more; e != NULL && *e != NULL; e++) {
    size_t klen = strcspn(*e, "=");
    size_t i = 0;
    while (i < p->n_env && !(strncmp(p->env[i], *e, klen) == 0 && p->env[i][klen] == '='))
      i++;
    if (i < p->n_env) {
      free(p->env[i]);
      p->env[i] = strdup(*e);
    } else {
      char *one[] = {*e, NULL};
      if (add_strings(&p->env, &p->n_env, one, err) < 0)
        return -1;
    }
  }
  return 0;
}

static int copy_rlimits(struct spec_process *p, const struct spec_process *base, berth_error **err) {
  if (base->n_rlimits == 0)
    return 0;
  p->rlimits = calloc(base->n_rlimits, sizeof(*p->rlimits));
  if (p->rlimits == NULL)
    return berth_fail(err, ENOMEM, "exec");
  for (size_t i = 0; i < base->n_rlimits; i++) {
    p->rlimits[i] = base->rlimits[i];
    p->rlimits[i].type = strdup(base->rlimits[i].type);
  }
  p->n_rlimits = base->n_rlimits;
  return 0;
}

static int parse_user(const char *text, struct spec_user *user, berth_error **err) {
  char *end = NULL;
  unsigned long uid = strtoul(text, &end, 10);
  if (end == text || (*end != '\0' && *end != ':'))
    return berth_fail(err, 0, "--user \"%s\": expected UID[:GID]", text);
  user->uid = (uid_t)uid;
  user->gid = 0;
  if (*end == ':') {
    const char *g = end + 1;
    unsigned long gid = strtoul(g, &end, 10);
    if (end == g || *end != '\0')
      return berth_fail(err, 0, "--user \"%s\": expected UID[:GID]", text);
    user->gid = (gid_t)gid;
  }
  return 0;
}

/* The process to run: --process, or the container's own process with the
 * command line's changes. */
static int build_process(const struct exec_options *o, const struct spec *spec, struct spec_process *p,
                         berth_error **err) {
  if (o->process_file != NULL) {
    size_t len;
    cleanup_free char *text = fs_read_file_at(AT_FDCWD, o->process_file, &len, err);
    if (text == NULL || spec_parse_process(text, len, o->process_file, p, err) < 0)
      return -1;
  } else {
    if (o->args == NULL || o->args[0] == NULL)
      return berth_fail(err, 0, "exec: no command given");
    const struct spec_process *base = &spec->process;
    p->cwd = strdup(o->cwd != NULL ? o->cwd : base->cwd);
    if (add_strings(&p->env, &p->n_env, base->env, err) < 0 || set_env(p, o->env, err) < 0 ||
        add_strings(&p->args, &p->n_args, o->args, err) < 0 || copy_rlimits(p, base, err) < 0)
      return -1;
    p->user = base->user;
    p->user.additional_gids = NULL;
    p->user.n_additional_gids = 0;
    p->user.username = NULL;
    if (o->user != NULL && parse_user(o->user, &p->user, err) < 0)
      return -1;
    p->caps = base->caps;
    p->no_new_privileges = base->no_new_privileges;
    p->terminal = o->tty;
    if (base->apparmor_profile != NULL)
      p->apparmor_profile = strdup(base->apparmor_profile);
  }
  for (char **g = o->additional_gids; g != NULL && *g != NULL; g++) {
    gid_t *bigger = realloc(p->user.additional_gids, (p->user.n_additional_gids + 1) * sizeof(gid_t));
    if (bigger == NULL)
      return berth_fail(err, ENOMEM, "exec");
    p->user.additional_gids = bigger;
    p->user.additional_gids[p->user.n_additional_gids++] = (gid_t)strtoul(*g, NULL, 10);
  }
  for (char **c = o->caps; c != NULL && *c != NULL; c++) {
    int cap = caps_from_name(*c);
    if (cap < 0)
      return berth_fail(err, 0, "exec: unknown capability \"%s\"", *c);
    uint64_t bit = 1ULL << cap;
    p->caps.present = true;
    p->caps.bounding |= bit;
    p->caps.effective |= bit;
    p->caps.permitted |= bit;
  }
  if (o->tty_given)
    p->terminal = o->tty;
  if (o->console_height > 0 && o->console_width > 0) {
    p->console_height = o->console_height;
    p->console_width = o->console_width;
  }
  if (o->no_new_privs_given)
    p->no_new_privileges = o->no_new_privs;
  if (p->cwd == NULL || p->cwd[0] != '/')
    return berth_fail(err, 0, "exec: cwd \"%s\" is not an absolute path", p->cwd != NULL ? p->cwd : "");
  return 0;
}

struct exec_child {
  struct cgroup *cgroup;
  const struct spec_process *p;
  const struct spec_seccomp *seccomp;
  pid_t target;
  int join_flags;
  int sync_fd;
  int preserve_fds;
};

static int exec_child_run(struct exec_child *c, berth_error **err) {
  /* Other container processes must not reach our (host) binary through
   * /proc/<pid>/exe while we are in their namespaces. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return berth_fail(err, errno, "prctl(PR_SET_DUMPABLE)");
  cpu_set_t initial;
  if (c->p->cpu_affinity_initial != NULL &&
      (spec_parse_cpu_list(c->p->cpu_affinity_initial, &initial) < 0 ||
       sched_setaffinity(0, sizeof(initial), &initial) < 0))
    return berth_fail(err, errno, "set execCPUAffinity.initial \"%s\"", c->p->cpu_affinity_initial);
  if (c->cgroup != NULL && cgroup_enter_self(c->cgroup, err) < 0)
    return -1;
  cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, c->target, 0);
  if (pidfd < 0)
    return berth_fail(err, errno, "open the container's init");
  if (c->join_flags != 0 && setns(pidfd, c->join_flags) < 0)
    return berth_fail(err, errno, "join the container's namespaces");
  /* The pid (and time) namespace applies to children only. */
  pid_t pid = ns_clone(CLONE_PARENT);
  if (pid < 0)
    return berth_fail(err, errno, "fork into the container");
  if (pid > 0) {
    sync_send(c->sync_fd, SYNC_PID, pid, NULL, -1, NULL);
    _exit(0);
  }
  const struct spec_process *p = c->p;
  if (p->terminal) {
    int slave = -1;
    cleanup_close int master = terminal_open_pty(&slave, err);
    if (master < 0)
      return -1;
    cleanup_close int slave_fd = slave;
    if (sync_send(c->sync_fd, SYNC_CONSOLE, 0, NULL, master, err) < 0 ||
        terminal_attach_slave(slave_fd, p->console_height, p->console_width, err) < 0)
      return -1;
  }
  if (process_set_rlimits(p, err) < 0 || process_set_io_priority(p, err) < 0 || process_set_scheduler(p, err) < 0 || process_set_oom_score_adj(p, err) < 0)
    return -1;
  cleanup_free char *exe = process_find_executable(p, err);
  if (exe == NULL)
    return -1;
  char **env = process_build_env(p, err);
  if (env == NULL)
    return -1;
  int notify_fd = -1;
  if (process_drop_privileges(p, c->seccomp, &notify_fd, err) < 0)
    return -1;
  if (notify_fd >= 0)
    close(notify_fd); /* the container's listener serves init's filter, not this one */
  if (process_chdir(p->cwd, err) < 0)
    return -1;
  if (p->user.has_umask)
    umask(p->user.umask);
  if (sync_send(c->sync_fd, SYNC_CREATED, 0, NULL, -1, err) < 0)
    return -1;
  if (process_close_fds_on_exec(3 + c->preserve_fds, err) < 0)
    return -1;
  return process_exec(exe, p, env, err);
}

static _Noreturn void exec_child_main(struct exec_child *c) {
  berth_error *err = NULL;
  exec_child_run(c, &err);
  sync_send_error(c->sync_fd, err);
  berth_error_free(err);
  _exit(127);
}

int container_exec(const struct runtime_context *ctx, struct exec_options *o, int *status, berth_error **err) {
  *status = 0;
  if (state_check_id(o->id, err) < 0)
    return -1;
  cleanup_close int rootfd = open(ctx->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return berth_fail(err, errno == ENOENT ? 0 : errno, "container \"%s\" does not exist", o->id);
  cleanup_close int dirfd = state_open_dir(rootfd, o->id, err);
  if (dirfd < 0)
    return -1;
  struct container_state st;
  if (state_read(dirfd, o->id, &st, err) < 0)
    return -1;
  int ret = -1;
  struct spec *spec = NULL;
  struct cgroup *cg = NULL;
  struct spec_process p = {0};
  int sync_fd = -1, master = -1;
  pid_t child = -1, pid = -1;
  sigset_t mask, old;
  bool blocked = false;
  char *raw = NULL;

  cg = st.cgroup != NULL ? cgroup_deserialize(st.cgroup, err) : NULL;
  if (st.cgroup != NULL && cg == NULL)
    goto out;
  enum container_status s = state_status(dirfd, &st, cg);
  if (s != STATUS_RUNNING && s != STATUS_CREATED) {
    berth_fail(err, 0, "cannot exec in container \"%s\": it is %s", o->id, state_status_name(s));
    goto out;
  }
  size_t len;
  raw = fs_read_file_at(dirfd, "config.json", &len, err);
  if (raw == NULL || (spec = spec_parse(raw, len, st.bundle, "config.json", err)) == NULL)
    goto out;
  if (build_process(o, spec, &p, err) < 0)
    goto out;
  if (p.terminal && o->console_socket == NULL && o->detach) {
    berth_fail(err, 0, "exec: --tty with --detach needs --console-socket");
    goto out;
  }
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
    berth_fail(err, errno, "socketpair");
    goto out;
  }
  if (!o->detach) {
    supervise_block_signals(&mask, &old);
    blocked = true;
  }
  struct exec_child c = {
      .cgroup = cg,
      .p = &p,
      .seccomp = spec->lnx.seccomp,
      .target = st.pid,
      .join_flags = namespaces_to_join(st.pid),
      .sync_fd = pair[1],
      .preserve_fds = o->preserve_fds,
  };
  child = ns_clone(0);
  if (child == 0) {
    close(pair[0]);
    exec_child_main(&c);
  }
  close(pair[1]);
  sync_fd = pair[0];
  if (child < 0) {
    berth_fail(err, errno, "fork for exec");
    goto out;
  }
  struct sync_msg msg;
  if (sync_expect(sync_fd, SYNC_PID, &msg, NULL, err) < 0)
    goto out;
  pid = msg.value;
  waitpid(child, NULL, 0);
  child = -1;
  for (;;) {
    int fd = -1;
    if (sync_recv(sync_fd, &msg, &fd, err) < 0)
      goto out;
    if (msg.type == SYNC_ERROR) {
      berth_fail(err, 0, "%s", msg.text);
      goto out;
    }
    if (msg.type == SYNC_CONSOLE) {
      if (o->console_socket != NULL) {
        int r = terminal_send_master(o->console_socket, fd, err);
        close(fd);
        if (r < 0)
          goto out;
      } else {
        master = fd;
      }
      continue;
    }
    if (fd >= 0)
      close(fd);
    if (msg.type == SYNC_CREATED)
      break;
  }
  if (o->pid_file != NULL) {
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d", pid);
    cleanup_free char *abs = fs_absolute_path(o->pid_file, err);
    if (abs == NULL || fs_write_file_atomic_at(AT_FDCWD, abs, buf, (size_t)n, 0644, err) < 0)
      goto out;
  }
  close(sync_fd);
  sync_fd = -1;
  if (o->detach) {
    o->pid = pid;
    pid = -1;
    ret = 0;
    goto out;
  }
  ret = supervise_process(pid, master, &mask, status, err);
  pid = -1;
out:
  if (ret < 0 && pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  if (child > 0) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
  }
  if (blocked)
    sigprocmask(SIG_SETMASK, &old, NULL);
  if (sync_fd >= 0)
    close(sync_fd);
  if (master >= 0)
    close(master);
  spec_process_clear(&p);
  free(raw);
  spec_free(spec);
  cgroup_free(cg);
  state_clear(&st);
  return ret;
}
