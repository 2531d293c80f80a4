/* Starting a container: its root file system mounted, its bundle written,
 * then a child that has the runtime create the container (so init is its
 * child) and becomes the container's monitor; this process starts it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/bundle.h"
#include "engine/events.h"
#include "engine/health.h"
#include "engine/lifecycle_internal.h"
#include "engine/options.h"
#include "engine/volumes.h"
#include "runtime/state.h"
#include "storage/overlay.h"
#include "util/cleanup.h"
#include "util/fs.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static struct json_object *get(struct json_object *o, const char *key) {
  struct json_object *v = NULL;
  return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static int mount_rootfs(struct engine *e, const struct container *c, const char *rootfs, berth_error **err) {
  char **lower;
  size_t n;
  if (lifecycle_lower_dirs(e, c, &lower, &n, err) < 0)
    return -1;
  cleanup_free char *upper = engine_container_path(e, c->id, "diff");
  cleanup_free char *work = engine_container_path(e, c->id, "work");
  /* an --rm container's upper layer dies with it: never synced */
  struct json_object *auto_remove = get(c->host_config, "AutoRemove");
  int ret = upper == NULL || work == NULL
                ? berth_fail(err, ENOMEM, "rootfs")
                : overlay_mount((const char *const *)lower, n, upper, work, rootfs,
                                auto_remove != NULL && json_object_get_boolean(auto_remove), err);
  lifecycle_lower_dirs_free(lower, n);
  return ret;
}

static int populate_volumes(struct engine *e, const struct container *c, const char *rootfs, berth_error **err) {
  struct json_object *mounts = get(c->host_config, "Mounts");
  for (size_t i = 0; mounts != NULL && i < json_object_array_length(mounts); i++) {
    struct json_object *m = json_object_array_get_idx(mounts, i);
    const char *type = json_object_get_string(get(m, "Type"));
    if (type == NULL || strcmp(type, "volume") != 0)
      continue;
    bool no_copy = json_object_get_boolean(get(get(m, "VolumeOptions"), "NoCopy"));
    if (volumes_populate(e, json_object_get_string(get(m, "Source")), rootfs,
                         json_object_get_string(get(m, "Target")), no_copy, err) < 0)
      return -1;
  }
  return 0;
}

/* What the child that creates the container tells us. */
struct create_report {
  int ok;
  pid_t pid;
  int exit_code; /* 125, 126 or 127 when !ok */
  char message[2048];
};

/* docker's codes: 127 for a program that is not there, 126 for one that
 * cannot run.  The cause arrives as text from the container's init. */
static int classify(const berth_error *err) {
  if (strstr(err->msg, "executable \"") == NULL)
    return EXIT_ENGINE;
  if (strstr(err->msg, "not found in $PATH") != NULL || strstr(err->msg, strerror(ENOENT)) != NULL)
    return EXIT_NOT_FOUND;
  if (strstr(err->msg, strerror(EACCES)) != NULL || strstr(err->msg, strerror(EISDIR)) != NULL ||
      strstr(err->msg, strerror(ENOEXEC)) != NULL)
    return EXIT_CANNOT_INVOKE;
  return EXIT_ENGINE;
}

struct stdio_pipes {
  int in[2], out[2], err[2]; /* -1 when unused */
};

static void close_pair(int p[2]) {
  for (int i = 0; i < 2; i++)
    if (p[i] >= 0) {
      close(p[i]);
      p[i] = -1;
    }
}

static int make_pipes(struct stdio_pipes *p, bool tty, bool open_stdin, berth_error **err) {
  p->in[0] = p->in[1] = p->out[0] = p->out[1] = p->err[0] = p->err[1] = -1;
  if (tty)
    return 0;
  if ((open_stdin && pipe2(p->in, O_CLOEXEC) < 0) || pipe2(p->out, O_CLOEXEC) < 0 || pipe2(p->err, O_CLOEXEC) < 0) {
    int saved = errno;
    close_pair(p->in);
    close_pair(p->out);
    close_pair(p->err);
    return berth_fail(err, saved, "container stdio pipes");
  }
  return 0;
}

struct monitor_args {
  char *argv[64];
  char numbers[16][24];
  int argc, n_numbers;
};

static void arg(struct monitor_args *a, const char *s) {
  if (a->argc < 63)
    a->argv[a->argc++] = (char *)s;
}

static void arg_int(struct monitor_args *a, const char *flag, long long v) {
  if (a->n_numbers >= 16)
    return;
  snprintf(a->numbers[a->n_numbers], sizeof(a->numbers[0]), "%lld", v);
  arg(a, flag);
  arg(a, a->numbers[a->n_numbers++]);
}

static void keep_fd(int fd) {
  if (fd >= 0)
    fcntl(fd, F_SETFD, 0);
}

struct spawn {
  struct engine *e;
  const struct container *c;
  bool tty;
  struct stdio_pipes pipes;
  int client_fd;
  int report_fd;
  const char *exit_file, *log_path, *socket_path;
  int64_t log_max_size;
  int log_max_file;
  int64_t health_interval_ms; /* 0: no health check */
};

/* In the child: setsid, create the container with the pipes as its stdio,
 * report, then become the monitor. */
static _Noreturn void child_create_then_monitor(struct spawn *s) {
  struct create_report report = {0};
  setsid();
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  int in = s->pipes.in[0] >= 0 ? s->pipes.in[0] : devnull;
  int out = s->pipes.out[1] >= 0 ? s->pipes.out[1] : devnull;
  int errfd = s->pipes.err[1] >= 0 ? s->pipes.err[1] : devnull;
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
    _exit(EXIT_ENGINE);
  cleanup_free char *bundle = engine_container_path(s->e, s->c->id, NULL);
  struct create_options opts = {.id = s->c->id, .bundle = bundle, .keep_console = s->tty, .console_master = -1};
  berth_error *err = NULL;
  if (container_create(&s->e->runtime, &opts, &err) < 0) {
    report.exit_code = classify(err);
    snprintf(report.message, sizeof(report.message), "%s", err->msg);
    if (write(s->report_fd, &report, sizeof(report)) < 0)
      _exit(EXIT_ENGINE);
    _exit(report.exit_code);
  }
  /* the container has its own copies now */
  dup2(devnull, 0);
  dup2(devnull, 1);
  dup2(devnull, 2);
  struct monitor_args a = {0};
  arg(&a, s->e->monitor);
  arg(&a, "--id");
  arg(&a, s->c->id);
  arg_int(&a, "--pid", opts.pid);
  arg(&a, "--exit-file");
  arg(&a, s->exit_file);
  arg(&a, "--log");
  arg(&a, s->log_path);
  if (s->log_max_size > 0)
    arg_int(&a, "--log-max-size", s->log_max_size);
  if (s->log_max_file > 1)
    arg_int(&a, "--log-max-file", s->log_max_file);
  if (s->tty) {
    arg_int(&a, "--tty", opts.console_master);
  } else {
    if (s->pipes.in[1] >= 0)
      arg_int(&a, "--stdin", s->pipes.in[1]);
    arg_int(&a, "--stdout", s->pipes.out[0]);
    arg_int(&a, "--stderr", s->pipes.err[0]);
  }
  arg(&a, "--socket");
  arg(&a, s->socket_path);
  if (s->client_fd >= 0)
    arg_int(&a, "--client", s->client_fd);
  if (s->health_interval_ms > 0) {
    arg_int(&a, "--periodic-interval", s->health_interval_ms);
    const char *probe[] = {s->e->self, "--root", s->e->root, "--runroot", s->e->runroot, "container", "healthcheck",
                           s->c->id};
    for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
      arg(&a, "--periodic-arg");
      arg(&a, probe[i]);
    }
  }
  arg(&a, "--");
  const char *exit_command[] = {s->e->self, "--root", s->e->root, "--runroot", s->e->runroot, "container",
                                "cleanup", s->c->id};
  for (size_t i = 0; i < sizeof(exit_command) / sizeof(exit_command[0]); i++)
    arg(&a, exit_command[i]);
  a.argv[a.argc] = NULL;
  report.ok = 1;
  report.pid = opts.pid;
  if (write(s->report_fd, &report, sizeof(report)) != (ssize_t)sizeof(report))
    _exit(EXIT_ENGINE);
  syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  keep_fd(opts.console_master);
  keep_fd(s->pipes.in[1]);
  keep_fd(s->pipes.out[0]);
  keep_fd(s->pipes.err[0]);
  keep_fd(s->client_fd);
  execv(a.argv[0], a.argv);
  /* no monitor: nothing would reap or record the container */
  kill(opts.pid, SIGKILL);
  _exit(EXIT_ENGINE);
}

/* The --log-opt values (validated at create) as docker reads them:
 * max-size in decimal units, max-file at least 1. */
static struct log_options log_options_of(struct json_object *host_config) {
  struct log_options lo = {.max_size = 0, .max_file = 1};
  struct json_object *config = get(get(host_config, "LogConfig"), "Config");
  if (config == NULL || !json_object_is_type(config, json_type_object))
    return lo;
  json_object_object_foreach(config, key, value) {
    char text[256];
    berth_error *ignored = NULL;
    snprintf(text, sizeof(text), "%s=%s", key, json_object_get_string(value));
    options_parse_log_opt(text, &lo, &ignored);
    berth_error_free(ignored);
  }
  return lo;
}

/* Forks the child; fills c's pids once it reports. */
static int spawn_monitor(struct spawn *s, struct container *c, int *exit_code, berth_error **err) {
  int report_pipe[2];
  if (pipe2(report_pipe, O_CLOEXEC) < 0)
    return berth_fail(err, errno, "pipe");
  s->report_fd = report_pipe[1];
  pid_t child = fork();
  if (child < 0) {
    close_pair(report_pipe);
    return berth_fail(err, errno, "fork the container's monitor");
  }
  if (child == 0)
    child_create_then_monitor(s);
  close(report_pipe[1]);
  struct create_report report = {0};
  ssize_t n;
  do
    n = read(report_pipe[0], &report, sizeof(report));
  while (n < 0 && errno == EINTR);
  close(report_pipe[0]);
  if (n != (ssize_t)sizeof(report) || !report.ok) {
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
      ;
    *exit_code = n == (ssize_t)sizeof(report) ? report.exit_code : EXIT_ENGINE;
    return berth_fail(err, 0, "%s", n == (ssize_t)sizeof(report) ? report.message : "the container's monitor failed");
  }
  c->pid = report.pid;
  c->pid_start = state_process_start_time(report.pid);
  c->monitor_pid = child;
  c->monitor_start = state_process_start_time(child);
  return 0;
}

int lifecycle_start(struct engine *e, const char *ref, const struct start_options *opts, int *exit_code,
                    berth_error **err) {
  int code_storage;
  if (exit_code == NULL)
    exit_code = &code_storage;
  *exit_code = EXIT_ENGINE;
  struct container c;
  cleanup_close int lock = -1;
  if (lifecycle_find_locked(e, ref, &c, &lock, err) < 0)
    return -1;
  int ret = -1;
  cleanup_free char *rootfs = engine_container_path(e, c.id, "rootfs");
  cleanup_free char *run_dir = engine_container_run_path(e, c.id, NULL);
  cleanup_free char *exit_file = engine_container_run_path(e, c.id, "exit");
  cleanup_free char *log_path = lifecycle_log_path(e, c.id);
  cleanup_free char *socket_path = lifecycle_socket_path(e, c.id);
  struct spawn s = {.e = e, .c = &c, .client_fd = opts != NULL ? opts->client_fd : -1};
  s.pipes.in[0] = s.pipes.in[1] = s.pipes.out[0] = s.pipes.out[1] = s.pipes.err[0] = s.pipes.err[1] = -1;
  if (opts != NULL && opts->restart_policy && (c.status != CONTAINER_RESTARTING || c.manually_stopped)) {
    if (c.status == CONTAINER_RESTARTING) {
      c.status = CONTAINER_EXITED;
      c.monitor_pid = 0;
      c.monitor_start = 0;
      ret = containers_save_state(e, &c, err);
    } else {
      ret = 0;
    }
    goto out;
  }
  lifecycle_sync(e, &c);
  if (c.status == CONTAINER_RUNNING || c.status == CONTAINER_PAUSED) {
    ret = 0;
    goto out;
  }
  if (c.status == CONTAINER_REMOVING) {
    berth_fail(err, 0, "container is marked for removal and cannot be started");
    goto out;
  }
  if (rootfs == NULL || run_dir == NULL || exit_file == NULL || log_path == NULL || socket_path == NULL) {
    berth_fail(err, ENOMEM, "start");
    goto out;
  }
  /* whatever a previous run or a crash left */
  if (lifecycle_release(e, &c, err) < 0 || fs_mkdir_p(run_dir, 0700, err) < 0)
    goto out;
  if (unlink(exit_file) < 0 && errno != ENOENT) {
    berth_fail(err, errno, "remove \"%s\"", exit_file);
    goto out;
  }
  if (mount_rootfs(e, &c, rootfs, err) < 0)
    goto out;
  bool tty = json_object_get_boolean(get(c.config, "Tty"));
  if (populate_volumes(e, &c, rootfs, err) < 0 || bundle_write(e, &c, rootfs, err) < 0 ||
      make_pipes(&s.pipes, tty, json_object_get_boolean(get(c.config, "OpenStdin")), err) < 0)
    goto unmount;
  s.tty = tty;
  s.exit_file = exit_file;
  s.log_path = log_path;
  s.socket_path = socket_path;
  struct log_options log = log_options_of(c.host_config);
  s.log_max_size = log.max_size;
  s.log_max_file = log.max_file;
  int64_t health_interval_ns;
  bool health = health_configured(c.config, &health_interval_ns);
  if (health)
    s.health_interval_ms = health_interval_ns / 1000000 > 0 ? health_interval_ns / 1000000 : 1;
  if (s.client_fd >= 0)
    events_container(e, &c, "attach", NULL, 0);
  int spawned = spawn_monitor(&s, &c, exit_code, err);
  close_pair(s.pipes.in);
  close_pair(s.pipes.out);
  close_pair(s.pipes.err);
  if (spawned < 0) {
    free(c.error);
    c.error = strdup((*err)->msg);
    c.exit_code = *exit_code;
    berth_error *ignored = NULL;
    containers_save_state(e, &c, &ignored);
    berth_error_free(ignored);
    events_container_die(e, &c);
    goto unmount;
  }
  /* recorded before the process runs: a crash from here on leaves a
   * container `ps` can tell the state of */
  c.status = CONTAINER_CREATED;
  if (containers_save_state(e, &c, err) < 0 || container_start(&e->runtime, c.id, err) < 0) {
    berth_error *ignored = NULL;
    container_kill(&e->runtime, c.id, SIGKILL, true, &ignored);
    berth_error_free(ignored);
    goto out;
  }
  c.status = CONTAINER_RUNNING;
  c.started_ns = lifecycle_now_ns();
  c.finished_ns = 0;
  c.exit_code = 0;
  c.manually_stopped = false;
  free(c.error);
  c.error = strdup("");
  json_object_put(c.health);
  c.health = health ? health_initial() : NULL;
  if (containers_save_state(e, &c, err) < 0)
    goto out;
  events_container(e, &c, "start", NULL, 0);
  ret = 0;
  goto out;
unmount:;
  berth_error *ignored = NULL;
  lifecycle_release(e, &c, &ignored);
  berth_error_free(ignored);
out:
  container_clear(&c);
  return ret;
}
