#include "engine/health.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/containers.h"
#include "engine/events.h"
#include "engine/exec.h"
#include "engine/lifecycle_internal.h"
#include "util/cleanup.h"
#include "util/json.h"

/* docker keeps the last five results, each with at most 4 KiB of output */
#define HEALTH_LOG_ENTRIES 5
#define HEALTH_OUTPUT_MAX 4096

static struct json_object *get(struct json_object *o, const char *key) {
  struct json_object *v = NULL;
  return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static int64_t duration_or(struct json_object *check, const char *key, int64_t fallback) {
  int64_t v = json_object_get_int64(get(check, key));
  return v > 0 ? v : fallback;
}

/* Test: ["CMD", argv...], ["CMD-SHELL", text] or ["NONE"]; NULL when
 * there is nothing to run. */
static struct json_object *health_test(struct json_object *config) {
  struct json_object *test = get(get(config, "Healthcheck"), "Test");
  if (test == NULL || !json_object_is_type(test, json_type_array) || json_object_array_length(test) < 2)
    return NULL;
  const char *kind = json_object_get_string(json_object_array_get_idx(test, 0));
  return strcmp(kind, "CMD") == 0 || strcmp(kind, "CMD-SHELL") == 0 ? test : NULL;
}

bool health_configured(struct json_object *config, int64_t *interval_ns) {
  *interval_ns = duration_or(get(config, "Healthcheck"), "Interval", HEALTH_DEFAULT_INTERVAL_NS);
  return health_test(config) != NULL;
}

struct json_object *health_initial(void) {
  struct json_object *h = json_object_new_object();
  json_object_object_add(h, "Status", json_object_new_string("starting"));
  json_object_object_add(h, "FailingStreak", json_object_new_int(0));
  json_object_object_add(h, "Log", json_object_new_array());
  return h;
}

/* The probe's argv: CMD's own, or CMD-SHELL's text through the container's
 * Shell (default /bin/sh -c).  The strings stay owned by config. */
static char **probe_argv(struct json_object *config, struct json_object *test) {
  bool shell = strcmp(json_object_get_string(json_object_array_get_idx(test, 0)), "CMD-SHELL") == 0;
  struct json_object *sh = get(config, "Shell");
  size_t n_sh = shell && sh != NULL && json_object_is_type(sh, json_type_array) ? json_object_array_length(sh) : 0;
  size_t n_test = json_object_array_length(test) - 1;
  char **argv = calloc((shell ? (n_sh > 0 ? n_sh : 2) : 0) + n_test + 1, sizeof(char *));
  if (argv == NULL)
    return NULL;
  size_t n = 0;
  if (shell && n_sh > 0) {
    for (size_t i = 0; i < n_sh; i++)
      argv[n++] = (char *)json_object_get_string(json_object_array_get_idx(sh, i));
  } else if (shell) {
    argv[n++] = "/bin/sh";
    argv[n++] = "-c";
  }
  for (size_t i = 1; i <= n_test; i++)
    argv[n++] = (char *)json_object_get_string(json_object_array_get_idx(test, i));
  return argv;
}

/* Go prints durations as "30s", "1.5s", "500ms". */
static void format_duration(int64_t ns, char *buf, size_t len) {
  if (ns % 1000000000 == 0)
    snprintf(buf, len, "%llds", (long long)(ns / 1000000000));
  else if (ns < 1000000000 && ns % 1000000 == 0)
    snprintf(buf, len, "%lldms", (long long)(ns / 1000000));
  else
    snprintf(buf, len, "%gs", (double)ns / 1e9);
}

struct probe_result {
  int exit_code; /* -1: it could not run, or timed out */
  char output[HEALTH_OUTPUT_MAX + 1];
  int64_t start_ns, end_ns;
};

/* The parent of pid from /proc/PID/stat; -1 when gone; *state its state
 * letter (may be NULL). */
static pid_t parent_of(pid_t pid, char *state_out) {
  char path[64], buf[512];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  const char *after_comm = strrchr(buf, ')');
  char state;
  int ppid;
  if (after_comm == NULL || sscanf(after_comm + 1, " %c %d", &state, &ppid) != 2)
    return -1;
  if (state_out != NULL)
    *state_out = state;
  return ppid;
}

/* SIGKILLs what root started (a CMD-SHELL probe's commands are the
 * shell's children), then root: a probe over its timeout must not stay
 * behind in the container.  root is stopped first so it forks no more. */
static void kill_tree(pid_t root) {
  kill(root, SIGSTOP);
  for (int round = 0, killed = 1; killed && round < 8; round++) {
    killed = 0;
    DIR *proc = opendir("/proc");
    for (struct dirent *d; proc != NULL && (d = readdir(proc)) != NULL;) {
      pid_t p = (pid_t)atoi(d->d_name);
      char state = 0;
      if (p <= 0 || p == root || parent_of(p, &state) < 0 || state == 'Z')
        continue;
      /* a descendant when one of its ancestors is root */
      for (pid_t a = parent_of(p, NULL); a > 1; a = parent_of(a, NULL))
        if (a == root) {
          killed |= kill(p, SIGKILL) == 0;
          break;
        }
    }
    if (proc != NULL)
      closedir(proc);
  }
  kill(root, SIGKILL);
}

/* Waits for pid at most timeout_ns; kills it after that. */
static bool wait_with_timeout(pid_t pid, int64_t timeout_ns, int *status) {
  cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  int64_t deadline = lifecycle_now_ns() + timeout_ns;
  while (pidfd >= 0) {
    int64_t left_ms = (deadline - lifecycle_now_ns()) / 1000000;
    if (left_ms <= 0 || poll(&p, 1, (int)(left_ms > 60000 ? 60000 : left_ms)) > 0)
      break;
  }
  if (waitpid(pid, status, WNOHANG) == pid)
    return true;
  kill_tree(pid);
  while (waitpid(pid, status, 0) < 0 && errno == EINTR)
    ;
  return false;
}

/* Runs the probe with its output in a memfd (our stdout and stderr for
 * the duration: the probe inherits them). */
static void run_probe(struct engine *e, const struct container *c, char **argv, int64_t timeout_ns,
                      struct probe_result *r) {
  r->exit_code = -1;
  r->start_ns = lifecycle_now_ns();
  berth_error *err = NULL;
  cleanup_close int out = memfd_create("health-output", MFD_CLOEXEC);
  cleanup_close int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  cleanup_close int saved_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  cleanup_close int saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (out < 0 || devnull < 0 || saved_out < 0 || saved_err < 0 || dup2(devnull, STDIN_FILENO) < 0 ||
      dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0) {
    snprintf(r->output, sizeof(r->output), "health check output: %s", strerror(errno));
    r->end_ns = lifecycle_now_ns();
    return;
  }
  struct exec_request req = {.cmd = argv, .detach = true};
  pid_t pid = -1;
  int code;
  int ran = engine_exec(e, c->id, &req, &pid, &code, &err);
  dup2(saved_out, STDOUT_FILENO);
  dup2(saved_err, STDERR_FILENO);
  if (ran < 0) {
    snprintf(r->output, sizeof(r->output), "%s", err->msg);
    berth_error_free(err);
    r->end_ns = lifecycle_now_ns();
    return;
  }
  int status = 0;
  bool in_time = wait_with_timeout(pid, timeout_ns, &status);
  r->end_ns = lifecycle_now_ns();
  if (!in_time) {
    char d[32];
    format_duration(timeout_ns, d, sizeof(d));
    snprintf(r->output, sizeof(r->output), "Health check exceeded timeout (%s)", d);
    return;
  }
  r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  ssize_t n = pread(out, r->output, HEALTH_OUTPUT_MAX, 0);
  r->output[n > 0 ? n : 0] = '\0';
}

/* docker's rules: success makes it healthy and resets the streak; a
 * failure counts unless the container is still starting within its start
 * period; `retries` failures in a row make it unhealthy. */
static struct json_object *next_health(const struct container *c, struct json_object *check,
                                       const struct probe_result *r) {
  struct json_object *h = c->health != NULL ? json_tokener_parse(json_object_to_json_string(c->health)) : NULL;
  if (h == NULL)
    h = health_initial();
  const char *status = json_object_get_string(get(h, "Status"));
  int streak = json_object_get_int(get(h, "FailingStreak"));
  if (r->exit_code == 0) {
    streak = 0;
    status = "healthy";
  } else {
    int64_t start_period = duration_or(check, "StartPeriod", 0);
    bool starting = status == NULL || strcmp(status, "starting") == 0;
    if (!starting || r->start_ns - c->started_ns >= start_period) {
      int64_t retries = json_object_get_int64(get(check, "Retries"));
      if (++streak >= (retries > 0 ? retries : HEALTH_DEFAULT_RETRIES))
        status = "unhealthy";
    }
  }
  json_object_object_add(h, "Status", json_object_new_string(status != NULL ? status : "starting"));
  json_object_object_add(h, "FailingStreak", json_object_new_int(streak));
  struct json_object *entry = json_object_new_object();
  json_object_object_add(entry, "Start", json_new_time(r->start_ns));
  json_object_object_add(entry, "End", json_new_time(r->end_ns));
  json_object_object_add(entry, "ExitCode", json_object_new_int(r->exit_code));
  json_object_object_add(entry, "Output", json_object_new_string(r->output));
  struct json_object *old = get(h, "Log");
  struct json_object *log = json_object_new_array();
  size_t n = old != NULL && json_object_is_type(old, json_type_array) ? json_object_array_length(old) : 0;
  for (size_t i = n >= HEALTH_LOG_ENTRIES ? n - (HEALTH_LOG_ENTRIES - 1) : 0; i < n; i++)
    json_object_array_add(log, json_object_get(json_object_array_get_idx(old, i)));
  json_object_array_add(log, entry);
  json_object_object_add(h, "Log", log);
  return h;
}

/* Probes a running container and records the result, unless the container
 * stopped or restarted meanwhile. */
static int probe_and_record(struct engine *e, const struct container *c, struct json_object *test,
                            berth_error **err) {
  cleanup_free char **argv = probe_argv(c->config, test);
  cleanup_free struct probe_result *r = calloc(1, sizeof(*r));
  if (argv == NULL || r == NULL)
    return berth_fail(err, ENOMEM, "health check");
  struct json_object *check = get(c->config, "Healthcheck");
  run_probe(e, c, argv, duration_or(check, "Timeout", HEALTH_DEFAULT_TIMEOUT_NS), r);
  cleanup_close int lock = lifecycle_lock(e, c->id, err);
  struct container now;
  if (lock < 0 || containers_get(e, c->id, &now, err) < 0)
    return -1;
  int ret = 0;
  if (now.status == CONTAINER_RUNNING && now.started_ns == c->started_ns) {
    cleanup_json struct json_object *h = next_health(&now, check, r);
    ret = containers_set_health(e, c->id, h, err);
    const char *before = now.health != NULL ? json_object_get_string(get(now.health, "Status")) : NULL;
    const char *after = json_object_get_string(get(h, "Status"));
    if (ret == 0 && (before == NULL || strcmp(before, after) != 0)) {
      char action[64];
      snprintf(action, sizeof(action), "health_status: %s", after);
      events_container(e, &now, action, NULL, 0);
    }
  }
  container_clear(&now);
  return ret;
}

int health_check(struct engine *e, const char *id, berth_error **err) {
  struct container c;
  if (containers_get(e, id, &c, err) < 0)
    return -1;
  lifecycle_sync(e, &c);
  struct json_object *test = health_test(c.config);
  int ret = c.status == CONTAINER_RUNNING && test != NULL ? probe_and_record(e, &c, test, err) : 0;
  container_clear(&c);
  return ret;
}
