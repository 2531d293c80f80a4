/* `create`: the runtime side of making a container, up to the point where
 * its init waits for `start`. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cgroup/cgroup.h"
#include "runtime/container.h"
#include "runtime/devices.h"
#include "runtime/exe_guard.h"
#include "runtime/hooks.h"
#include "runtime/init.h"
#include "runtime/namespaces.h"
#include "runtime/seccomp.h"
#include "runtime/seccomp_cache.h"
#include "runtime/spec.h"
#include "runtime/start_stub.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

/* Everything create makes, so a failure can take it all back. */
struct creation {
  int rootfd;
  int dirfd;
  const char *id;
  struct spec *spec;
  struct cgroup *cg;
  bool cgroup_made;
  pid_t pid;          /* container init */
  const char *raw; /* config.json as read */
  size_t raw_len;
  pid_t intermediate; /* the forked joiner, when there is one */
  bool init_enters_cgroup;
  int sync_fd;
  int fifo_fd;
  bool start_stub; /* init ends as the start stub: wait for its exec */
};

static void creation_undo(struct creation *c) {
  if (c->pid > 0) {
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
  }
  if (c->intermediate > 0) {
    kill(c->intermediate, SIGKILL);
    waitpid(c->intermediate, NULL, 0);
  }
  berth_error *err = NULL;
  if (c->cgroup_made && cgroup_destroy(c->cg, &err) < 0) {
    berth_log_error(err);
    berth_error_free(err);
    err = NULL;
  }
  if (c->dirfd >= 0 && state_remove(c->rootfd, c->id, &err) < 0) {
    berth_log_error(err);
    berth_error_free(err);
  }
}

static char *now_rfc3339(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof(buf) - n, ".%09ldZ", ts.tv_nsec);
  return strdup(buf);
}

static int write_pid_file(const char *path, pid_t pid, berth_error **err) {
  char buf[32];
  int n = snprintf(buf, sizeof(buf), "%d", pid);
  cleanup_free char *abs = fs_absolute_path(path, err);
  if (abs == NULL)
    return -1;
  if (fs_write_file_atomic_at(AT_FDCWD, abs, buf, (size_t)n, 0644, err) < 0)
    return berth_error_wrap(err, "pid file");
  return 0;
}

static char *hook_state_json(struct creation *c, const char *annotations, enum container_status status,
                             berth_error **err) {
  struct container_state st = {
      .id = (char *)c->id, .pid = c->pid, .bundle = c->spec->bundle, .annotations_json = (char *)annotations};
  return state_to_json(&st, status, false, false, err);
}

/* Sends the seccomp listener fd with the container process state. */
static int forward_seccomp_fd(struct creation *c, int notify_fd, const char *annotations, berth_error **err) {
  const struct spec_seccomp *sc = c->spec->lnx.seccomp;
  cleanup_free char *state = hook_state_json(c, annotations, STATUS_CREATING, err);
  if (state == NULL)
    return -1;
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "ociVersion", json_object_new_string("1.2.0"));
  struct json_object *fds = json_object_new_array();
  json_object_array_add(fds, json_object_new_string("seccompFd"));
  json_object_object_add(o, "fds", fds);
  json_object_object_add(o, "pid", json_object_new_int(c->pid));
  json_object_object_add(o, "metadata", json_object_new_string(sc->listener_metadata != NULL ? sc->listener_metadata : ""));
  json_object_object_add(o, "state", json_tokener_parse(state));
  cleanup_free char *text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(o);
  return seccomp_send_to_listener(sc->listener_path, notify_fd, text, err);
}

/* Two containers in one cgroup would kill, freeze and limit each other. */
static int cgroup_check_unused(struct cgroup *cg, const char *cgroups_path, berth_error **err) {
  pid_t *pids = NULL;
  size_t n = 0;
  berth_error *missing = NULL;
  if (cgroup_pids(cg, &pids, &n, &missing) < 0) {
    berth_error_free(missing); /* not there yet: nobody uses it */
    return 0;
  }
  free(pids);
  if (n > 0)
    return berth_fail(err, 0, "cgroupsPath \"%s\" is in use by %zu other process%s", cgroups_path != NULL ? cgroups_path : "",
                      n, n == 1 ? "" : "es");
  return 0;
}

/* Drives the init's setup messages until it reports it is created. */
static int handshake(struct creation *c, struct create_options *opts, const char *annotations, berth_error **err) {
  const struct spec_linux *l = &c->spec->lnx;
  struct sync_msg msg;
  for (;;) {
    int fd = -1;
    if (sync_recv(c->sync_fd, &msg, &fd, err) < 0)
      return -1;
    cleanup_close int passed = fd;
    switch (msg.type) {
    case SYNC_ERROR:
      return berth_fail(err, 0, "%s", msg.text);
    case SYNC_USERNS_READY:
      if (ns_write_id_maps(msg.value, l, err) < 0 || sync_send(c->sync_fd, SYNC_GO, 0, NULL, -1, err) < 0)
        return -1;
      break;
    case SYNC_PID:
      c->pid = msg.value;
      waitpid(c->intermediate, NULL, 0);
      c->intermediate = 0;
      break;
    case SYNC_MOUNTS_READY: {
      if (c->spec->hooks.count[HOOK_PRESTART] + c->spec->hooks.count[HOOK_CREATE_RUNTIME] > 0) {
        cleanup_free char *state = hook_state_json(c, annotations, STATUS_CREATING, err);
        if (state == NULL || hooks_run(&c->spec->hooks, HOOK_PRESTART, state, err) < 0 ||
            hooks_run(&c->spec->hooks, HOOK_CREATE_RUNTIME, state, err) < 0)
          return -1;
      }
      if (sync_send(c->sync_fd, SYNC_HOOKS_DONE, c->pid, NULL, -1, err) < 0)
        return -1;
      break;
    }
    case SYNC_CONSOLE:
      if (passed < 0)
        return berth_fail(err, 0, "container process sent no terminal");
      if (opts->keep_console) {
        opts->console_master = TAKE_FD(passed);
      } else if (terminal_send_master(opts->console_socket, passed, err) < 0) {
        return -1;
      }
      break;
    case SYNC_SECCOMP_FD:
      if (passed < 0)
        return berth_fail(err, 0, "container process sent no seccomp fd");
      if (forward_seccomp_fd(c, passed, annotations, err) < 0 ||
          sync_send(c->sync_fd, SYNC_SECCOMP_DONE, 0, NULL, -1, err) < 0)
        return -1;
      break;
    case SYNC_CREATED:
      return c->start_stub ? sync_wait_closed(c->sync_fd, err) : 0;
    default:
      return berth_fail(err, 0, "unexpected message %u from the container process", msg.type);
    }
  }
}

/* The kernel leaves a new child on its parent's CPU until the parent
 * blocks, so init's first steps (its exec through the read-only binary, the
 * network namespace) and our cgroup work would run in turn.  Moving init to
 * another allowed CPU lets them overlap; release_init gives it back the
 * caller's CPU set before it runs anything of the container's. */
static void move_to_other_cpu(pid_t pid) {
  cpu_set_t set;
  int here = sched_getcpu();
  if (here < 0 || sched_getaffinity(0, sizeof(set), &set) < 0 || CPU_COUNT(&set) < 2)
    return;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (cpu != here && CPU_ISSET(cpu, &set)) {
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      sched_setaffinity(pid, sizeof(set), &set);
      return;
    }
  }
}

/* The caller's CPU set, or process.execCPUAffinity.initial. */
static int restore_cpus(pid_t pid, const char *initial, berth_error **err) {
  cpu_set_t set;
  if (initial != NULL ? spec_parse_cpu_list(initial, &set) < 0 : sched_getaffinity(0, sizeof(set), &set) < 0)
    return berth_fail(err, EINVAL, "CPU set for the container process");
  if (sched_setaffinity(pid, sizeof(set), &set) < 0)
    return berth_fail(err, errno, "set the CPU set \"%s\" of the container process", initial != NULL ? initial : "");
  return 0;
}

/* linux.seccomp as a ready BPF program, from the cache under the state root
 * or compiled here and cached, so that the same profile is not built again
 * for every container.  False leaves the filter to init, as for notify
 * rules; after a failure here, init's own build reports the error. */
static bool prepare_seccomp(const struct creation *c, struct seccomp_program *prog) {
  const struct spec_seccomp *sc = c->spec->lnx.seccomp;
  if (sc == NULL || !seccomp_spec_precompilable(sc))
    return false;
  berth_error *err = NULL;
  bool hit = false;
  if (seccomp_cache_get(c->rootfd, sc, prog, &hit, &err) < 0) {
    berth_debug("%s: the container process builds the filter itself", err->msg);
    berth_error_free(err);
    return false;
  }
  berth_debug("seccomp: filter of %zu instructions %s", prog->n_insns, hit ? "from the cache" : "compiled");
  return true;
}

/* Clones init.  A new network namespace is left for init to make with
 * unshare: the kernel takes a millisecond or more to set one up, which then
 * overlaps with our cgroup work instead of blocking clone(). */
static int spawn_init(struct creation *c, struct create_options *opts, const char *annotations, berth_error **err) {
  const struct spec_linux *l = &c->spec->lnx;
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    return berth_fail(err, errno, "socketpair");
  /* CVE-2019-5736: no process of the container may reach the writable host
   * binary through /proc/<pid>/exe.  Init either ends as the start stub
   * (start_stub.h), or, when the stub cannot be used, re-executes itself
   * through a read-only mount of the binary (exe_guard.h), with the config
   * in a memfd. */
  bool guard = exe_guard_needed();
  cleanup_close int stub_fd = -1;
  if (guard && start_stub_usable(c->spec)) {
    berth_error *stub_err = NULL;
    stub_fd = start_stub_open(&stub_err);
    if (stub_fd < 0) {
      berth_debug("%s: re-executing through a read-only mount instead", stub_err->msg);
      berth_error_free(stub_err);
    }
    guard = stub_fd < 0;
    c->start_stub = stub_fd >= 0;
  }
  /* A process that clone put in a new user namespace would lose its
   * capabilities at the guard's exec (it is not yet root there): such an
   * init makes its user namespace itself, after the exec. */
  bool intermediate = ns_needs_intermediate(l) || (guard && l->namespaces[NS_USER].present);
  int flags = intermediate ? 0 : ns_new_flags(l);
  /* init joins its cgroup itself (cheaply) unless clone put it in a new user
   * namespace, where it has no rights over the host's cgroup files. */
  c->init_enters_cgroup = intermediate || !l->namespaces[NS_USER].present;
  /* A clone of this process can load a program compiled here; an init that
   * re-executes the runtime builds the filter itself. */
  __attribute__((cleanup(seccomp_program_clear))) struct seccomp_program seccomp_prog = {0};
  bool seccomp_prepared = !guard && prepare_seccomp(c, &seccomp_prog);
  struct init_args args = {
      .cgroup = c->cg,
      .enter_cgroup = c->init_enters_cgroup,
      .unshare_net = (flags & CLONE_NEWNET) != 0,
      .spec = c->spec,
      .id = c->id,
      .annotations_json = annotations,
      .sync_fd = pair[1],
      .fifo_fd = c->fifo_fd,
      .intermediate = intermediate,
      .no_pivot = opts->no_pivot,
      .no_new_keyring = opts->no_new_keyring,
      .preserve_fds = opts->preserve_fds,
      .start_stub_fd = stub_fd,
      .seccomp_program = seccomp_prepared ? &seccomp_prog : NULL,
  };
  cleanup_close int config_fd = -1;
  cleanup_close int exe_fd = -1;
  cleanup_free char *cgroup_text = NULL;
  if (guard) {
    exe_fd = exe_guard_open(err);
    if (exe_fd < 0)
      goto fail;
    config_fd = memfd_create("berth-config", MFD_CLOEXEC);
    if (config_fd < 0 || fs_write_all(config_fd, c->raw, c->raw_len) < 0) {
      berth_fail(err, errno, "memfd for the container process");
      goto fail;
    }
    cgroup_text = cgroup_serialize(c->cg, err);
    if (cgroup_text == NULL)
      goto fail;
  }
  pid_t pid = ns_clone((unsigned long)(flags & ~CLONE_NEWNET));
  if (pid < 0) {
    berth_fail(err, errno, "clone the container process");
    goto fail;
  }
  if (pid == 0) {
    close(pair[0]);
    if (config_fd >= 0) {
      berth_error *reexec_err = NULL;
      init_reexec(&args, exe_fd, config_fd, cgroup_text, &reexec_err);
      sync_send_error(pair[1], reexec_err);
      _exit(127);
    }
    init_main(&args);
  }
  close(pair[1]);
  move_to_other_cpu(pid);
  c->sync_fd = pair[0];
  if (intermediate)
    c->intermediate = pid;
  else
    c->pid = pid;
  return 0;
fail:
  close(pair[0]);
  close(pair[1]);
  return -1;
}

/* Lets init go on once its cgroup exists. */
static int release_init(struct creation *c, berth_error **err) {
  const struct spec_linux *l = &c->spec->lnx;
  pid_t pid = c->intermediate > 0 ? c->intermediate : c->pid;
  /* The new user namespace (made by clone) needs its maps before init can
   * become root in it. */
  if (c->intermediate == 0 && l->namespaces[NS_USER].present && ns_write_id_maps(pid, l, err) < 0)
    return -1;
  if (!c->init_enters_cgroup && cgroup_enter(c->cg, pid, err) < 0)
    return -1;
  if (restore_cpus(pid, c->spec->process.cpu_affinity_initial, err) < 0)
    return -1;
  if (sync_send(c->sync_fd, SYNC_GO, 0, NULL, -1, err) < 0) {
    /* init is gone: its own error is waiting on the socket. */
    struct sync_msg msg;
    berth_error *recv_err = NULL;
    if (sync_recv(c->sync_fd, &msg, NULL, &recv_err) == 0 && msg.type == SYNC_ERROR) {
      berth_error_free(*err);
      *err = NULL;
      berth_fail(err, 0, "%s", msg.text);
    }
    berth_error_free(recv_err);
    return -1;
  }
  return 0;
}

/* state.json (and the pid file) for the created container. */
static int save_state(struct creation *c, const struct create_options *opts, const char *annotations,
                      berth_error **err) {
  const struct spec *spec = c->spec;
  struct container_state state = {
      .id = (char *)opts->id,
      .pid = c->pid,
      .start_time = state_process_start_time(c->pid),
      .bundle = spec->bundle,
      .rootfs = spec->root.path,
      .created = now_rfc3339(),
      .cgroup = cgroup_serialize(c->cg, err),
      .annotations_json = (char *)annotations,
  };
  for (int kind = 0; kind < HOOK_KIND_COUNT; kind++)
    if (spec->hooks.count[kind] > 0)
      state.hook_kinds |= 1u << kind;
  int saved = state.cgroup != NULL ? state_write(c->dirfd, &state, err) : -1;
  free(state.created);
  free(state.cgroup);
  if (saved < 0 || (opts->pid_file != NULL && write_pid_file(opts->pid_file, c->pid, err) < 0))
    return -1;
  return 0;
}

int container_create(const struct runtime_context *ctx, struct create_options *opts, berth_error **err) {
  opts->console_master = -1;
  if (state_check_id(opts->id, err) < 0)
    return -1;
  if (strcmp(opts->id, SECCOMP_CACHE_DIR) == 0)
    return berth_fail(err, 0, "container id \"%s\" is reserved: the state root keeps compiled seccomp filters there",
                      opts->id);
  cleanup_free char *raw = NULL;
  size_t raw_len = 0;
  struct spec *spec = spec_load(opts->bundle, &raw, &raw_len, err);
  if (spec == NULL)
    return -1;
  struct creation c = {.rootfd = -1, .dirfd = -1, .id = opts->id, .spec = spec, .sync_fd = -1, .fifo_fd = -1,
                       .raw = raw, .raw_len = raw_len};
  cleanup_free char *annotations = spec_annotations_json(spec);
  int ret = -1;
  struct stat st;

  if (!spec->has_process) {
    berth_fail(err, 0, "config.json: process is required to create a container");
    goto out;
  }
  if (spec->process.terminal && opts->console_socket == NULL && !opts->keep_console) {
    berth_fail(err, 0, "process.terminal is true: --console-socket is required");
    goto out;
  }
  if (stat(spec->root.path, &st) < 0 || !S_ISDIR(st.st_mode)) {
    berth_fail(err, errno != 0 ? errno : ENOTDIR, "rootfs \"%s\"", spec->root.path);
    goto out;
  }
  if (spec->process.apparmor_profile != NULL)
    berth_warn("process.apparmorProfile \"%s\" ignored: AppArmor is not supported", spec->process.apparmor_profile);
  if (spec->process.selinux_label != NULL)
    berth_warn("process.selinuxLabel ignored: SELinux is not supported");
  if (spec->lnx.seccomp != NULL && seccomp_validate(spec->lnx.seccomp, err) < 0)
    goto out;
  c.rootfd = state_open_root(ctx->root, err);
  if (c.rootfd < 0)
    goto out;
  c.dirfd = state_create_dir(c.rootfd, opts->id, err);
  if (c.dirfd < 0)
    goto out;
  if (mkfifoat(c.dirfd, STATE_FIFO, 0600) < 0) {
    berth_fail(err, errno, "create %s for container \"%s\"", STATE_FIFO, opts->id);
    goto undo;
  }
  c.fifo_fd = openat(c.dirfd, STATE_FIFO, O_RDWR | O_CLOEXEC);
  if (c.fifo_fd < 0) {
    berth_fail(err, errno, "open %s for container \"%s\"", STATE_FIFO, opts->id);
    goto undo;
  }
  c.cg = cgroup_new(spec->lnx.cgroups_path, opts->id, err);
  if (c.cg == NULL || spawn_init(&c, opts, annotations, err) < 0)
    goto undo;
  /* From here init works in parallel until it needs its cgroup. */
  if (fs_write_file_at(c.dirfd, "config.json", raw, raw_len, 0600, err) < 0 ||
      devices_add_cgroup_rules(spec, err) < 0 || cgroup_check_unused(c.cg, spec->lnx.cgroups_path, err) < 0 ||
      cgroup_create(c.cg, spec->lnx.has_resources ? &spec->lnx.resources : NULL, err) < 0)
    goto undo;
  c.cgroup_made = true;
  if (release_init(&c, err) < 0)
    goto undo;
  /* init is busy with its mounts now: write the state meanwhile, unless an
   * intermediate has yet to report init's pid. */
  bool saved_early = c.intermediate == 0;
  if ((saved_early && save_state(&c, opts, annotations, err) < 0) || handshake(&c, opts, annotations, err) < 0 ||
      (!saved_early && save_state(&c, opts, annotations, err) < 0))
    goto undo;
  opts->pid = c.pid;
  ret = 0;
  goto out;
undo:
  if (opts->console_master >= 0) {
    close(opts->console_master);
    opts->console_master = -1;
  }
  creation_undo(&c);
out:
  if (c.sync_fd >= 0)
    close(c.sync_fd);
  if (c.fifo_fd >= 0)
    close(c.fifo_fd);
  if (c.dirfd >= 0)
    close(c.dirfd);
  if (c.rootfd >= 0)
    close(c.rootfd);
  cgroup_free(c.cg);
  spec_free(spec);
  return ret;
}
