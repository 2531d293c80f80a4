/* Stopping, signalling, pausing and waiting for containers, and the
 * clean-up after an exit: where restart policies and --rm apply. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "engine/events.h"
#include "engine/lifecycle_internal.h"
#include "engine/options.h"
#include "runtime/state.h"
#include "util/cleanup.h"

static struct json_object *get(struct json_object *o, const char *key) {
  struct json_object *v = NULL;
  return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

bool lifecycle_wait_pid(pid_t pid, unsigned long long start, int timeout_ms) {
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0)
    return errno == ESRCH;
  /* the pid may have been reused before we opened it */
  if (!state_process_alive(pid, start)) {
    close(fd);
    return true;
  }
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int n;
  do
    n = poll(&p, 1, timeout_ms);
  while (n < 0 && errno == EINTR);
  close(fd);
  return n > 0;
}

static bool is_running(const struct container *c) {
  return c->status == CONTAINER_RUNNING || c->status == CONTAINER_PAUSED;
}

int lifecycle_kill(struct engine *e, const char *ref, int sig, berth_error **err) {
  struct container c;
  if (containers_find(e, ref, &c, err) < 0)
    return -1;
  lifecycle_sync(e, &c);
  int ret = -1;
  if (!is_running(&c)) {
    berth_fail(err, 0, "cannot kill container: %s: container %s is not running", ref, c.id);
    goto out;
  }
  /* docker: a container the user killed is not restarted; a signal it
   * may well survive (HUP to reload) changes nothing */
  if ((sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) &&
      containers_set_manually_stopped(e, c.id, true, err) < 0)
    goto out;
  ret = container_kill(&e->runtime, c.id, sig, false, err);
  if (ret == 0)
    events_container_kill(e, &c, sig);
out:
  container_clear(&c);
  return ret;
}

/* Waits for the monitor (and the clean-up it runs) to finish, at most
 * timeout_ms; then makes sure the clean-up happened. */
static int wait_cleaned(struct engine *e, const struct container *c, int timeout_ms, berth_error **err) {
  if (c->monitor_pid > 0)
    lifecycle_wait_pid(c->monitor_pid, c->monitor_start, timeout_ms);
  return lifecycle_cleanup(e, c->id, false, err);
}

int lifecycle_stop(struct engine *e, const char *ref, int timeout, int sig, berth_error **err) {
  struct container c;
  if (containers_find(e, ref, &c, err) < 0)
    return -1;
  lifecycle_sync(e, &c);
  int ret = -1;
  if (c.status == CONTAINER_RESTARTING) {
    /* a pending restart is called off by the flag */
    ret = containers_set_manually_stopped(e, c.id, true, err);
    goto out;
  }
  if (!is_running(&c)) {
    ret = c.pid > 0 || c.status == CONTAINER_EXITED ? lifecycle_cleanup(e, c.id, false, err) : 0;
    goto out;
  }
  if (containers_set_manually_stopped(e, c.id, true, err) < 0)
    goto out;
  if (timeout < 0) {
    struct json_object *t = get(c.config, "StopTimeout");
    timeout = t != NULL ? json_object_get_int(t) : 10;
  }
  const char *name = json_object_get_string(get(c.config, "StopSignal"));
  berth_error *ignored = NULL;
  if (sig == 0 && (name == NULL || *name == '\0' || options_parse_signal(name, &sig, &ignored) < 0))
    sig = SIGTERM;
  berth_error_free(ignored);
  ignored = NULL;
  if (c.status == CONTAINER_PAUSED)
    container_pause(&e->runtime, c.id, false, &ignored);
  berth_error_free(ignored);
  ignored = NULL;
  if (timeout != 0 && container_kill(&e->runtime, c.id, sig, false, &ignored) == 0)
    events_container_kill(e, &c, sig);
  berth_error_free(ignored);
  ignored = NULL;
  if (timeout == 0 || !lifecycle_wait_pid(c.pid, c.pid_start, timeout < 0 ? -1 : timeout * 1000)) {
    if (container_kill(&e->runtime, c.id, SIGKILL, true, &ignored) < 0)
      kill(c.pid, SIGKILL);
    berth_error_free(ignored);
    events_container_kill(e, &c, SIGKILL);
    if (!lifecycle_wait_pid(c.pid, c.pid_start, 10000)) {
      berth_fail(err, 0, "container %s: init did not die after SIGKILL", c.id);
      goto out;
    }
  }
  ret = wait_cleaned(e, &c, 5000, err);
  if (ret == 0)
    events_container(e, &c, "stop", NULL, 0);
out:
  container_clear(&c);
  return ret;
}

int lifecycle_pause(struct engine *e, const char *ref, bool pause, berth_error **err) {
  struct container c;
  cleanup_close int lock = -1;
  if (lifecycle_find_locked(e, ref, &c, &lock, err) < 0)
    return -1;
  lifecycle_sync(e, &c);
  int ret = -1;
  if (pause && c.status != CONTAINER_RUNNING) {
    berth_fail(err, 0, c.status == CONTAINER_PAUSED ? "container %s is already paused" : "container %s is not running",
               c.id);
    goto out;
  }
  if (!pause && c.status != CONTAINER_PAUSED) {
    berth_fail(err, 0, "container %s is not paused", c.id);
    goto out;
  }
  if (container_pause(&e->runtime, c.id, pause, err) < 0)
    goto out;
  c.status = pause ? CONTAINER_PAUSED : CONTAINER_RUNNING;
  ret = containers_save_state(e, &c, err);
  if (ret == 0)
    events_container(e, &c, pause ? "pause" : "unpause", NULL, 0);
out:
  container_clear(&c);
  return ret;
}

int lifecycle_wait(struct engine *e, const char *ref, int *exit_code, berth_error **err) {
  struct container c;
  if (containers_find(e, ref, &c, err) < 0)
    return -1;
  char id[CONTAINER_ID_LEN + 1];
  memcpy(id, c.id, sizeof(id));
  for (;;) {
    lifecycle_sync(e, &c);
    if (c.status == CONTAINER_EXITED || c.status == CONTAINER_DEAD) {
      /* the monitor may still be recording it: its clean-up is the truth */
      if (c.monitor_pid > 0)
        lifecycle_wait_pid(c.monitor_pid, c.monitor_start, 5000);
      container_clear(&c);
      if (containers_get(e, id, &c, err) < 0)
        return -1;
      lifecycle_sync(e, &c);
      *exit_code = c.exit_code;
      container_clear(&c);
      return 0;
    }
    if (c.status == CONTAINER_RUNNING || c.status == CONTAINER_PAUSED)
      lifecycle_wait_pid(c.pid, c.pid_start, 1000);
    else
      poll(NULL, 0, 100);
    container_clear(&c);
    if (containers_get(e, id, &c, err) < 0) {
      /* removed meanwhile (--rm): docker reports the exit it saw */
      berth_error_free(*err);
      *err = NULL;
      int64_t finished;
      if (lifecycle_read_exit_file(e, id, exit_code, &finished) < 0)
        *exit_code = 0;
      return 0;
    }
  }
}

/* docker's back-off: 100 ms doubling per consecutive restart, at most a
 * minute; a run of 10 s or more starts over. */
static int64_t restart_delay_ms(const struct container *c) {
  int64_t ran = c->finished_ns - c->started_ns;
  if (ran >= 10000000000LL)
    return 100;
  int64_t delay = 100;
  for (int i = 0; i < c->restart_count && delay < 60000; i++)
    delay *= 2;
  return delay < 60000 ? delay : 60000;
}

static bool wants_restart(const struct container *c) {
  struct json_object *policy = get(c->host_config, "RestartPolicy");
  const char *name = json_object_get_string(get(policy, "Name"));
  if (name == NULL || c->manually_stopped)
    return false;
  if (strcmp(name, "always") == 0 || strcmp(name, "unless-stopped") == 0)
    return true;
  if (strcmp(name, "on-failure") == 0) {
    int max = json_object_get_int(get(policy, "MaximumRetryCount"));
    return c->exit_code != 0 && (max <= 0 || c->restart_count < max);
  }
  return false;
}

int lifecycle_cleanup(struct engine *e, const char *id, bool from_monitor, berth_error **err) {
  struct container c;
  cleanup_close int lock = -1;
  if (lifecycle_find_locked(e, id, &c, &lock, err) < 0)
    return -1;
  int ret = -1;
  bool was_live = c.status == CONTAINER_RUNNING || c.status == CONTAINER_PAUSED || c.status == CONTAINER_CREATED;
  lifecycle_sync(e, &c);
  if (c.status != CONTAINER_EXITED || !was_live) {
    ret = 0; /* running (restarted meanwhile), or cleaned up already */
    goto out;
  }
  c.monitor_pid = 0;
  c.monitor_start = 0;
  c.pid_start = 0;
  if (lifecycle_release(e, &c, err) < 0 || containers_save_state(e, &c, err) < 0)
    goto out;
  events_container_die(e, &c);
  if (json_object_get_boolean(get(c.host_config, "AutoRemove"))) {
    close(lock);
    lock = -1;
    ret = lifecycle_remove(e, c.id, true, true, err);
    goto out;
  }
  if (!from_monitor || !wants_restart(&c)) {
    ret = 0;
    goto out;
  }
  /* this process (the monitor's successor) waits out the back-off */
  c.status = CONTAINER_RESTARTING;
  c.restart_count++;
  c.monitor_pid = getpid();
  c.monitor_start = state_process_start_time(c.monitor_pid);
  if (containers_save_state(e, &c, err) < 0)
    goto out;
  int64_t delay = restart_delay_ms(&c);
  close(lock);
  lock = -1;
  poll(NULL, 0, (int)delay);
  /* start decides under the lock whether a stop or rm came meanwhile */
  struct start_options restart = {.client_fd = -1, .restart_policy = true};
  ret = lifecycle_start(e, c.id, &restart, NULL, err);
out:
  container_clear(&c);
  return ret;
}
