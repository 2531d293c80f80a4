/* The operations on an existing container: start, state, kill, delete,
 * pause/resume, ps, list, update. */
#include "runtime/container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cgroup/cgroup.h"
#include "runtime/hooks.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

/* An open, locked container: its state and cgroup. */
struct handle {
  int rootfd;
  int dirfd;
  struct container_state st;
  struct cgroup *cg;
};

static void handle_close(struct handle *h) {
  state_clear(&h->st);
  cgroup_free(h->cg);
  if (h->dirfd >= 0)
    close(h->dirfd);
  if (h->rootfd >= 0)
    close(h->rootfd);
}

static int handle_open(const struct runtime_context *ctx, const char *id, struct handle *h, berth_error **err) {
  *h = (struct handle){.rootfd = -1, .dirfd = -1};
  if (state_check_id(id, err) < 0)
    return -1;
  h->rootfd = open(ctx->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (h->rootfd < 0) {
    if (errno == ENOENT)
      return berth_fail(err, 0, "container \"%s\" does not exist", id);
    return berth_fail(err, errno, "state root \"%s\"", ctx->root);
  }
  h->dirfd = state_open_dir(h->rootfd, id, err);
  if (h->dirfd < 0 || state_lock(h->dirfd, err) < 0 || state_read(h->dirfd, id, &h->st, err) < 0)
    goto fail;
  if (h->st.cgroup != NULL) {
    h->cg = cgroup_deserialize(h->st.cgroup, err);
    if (h->cg == NULL)
      goto fail;
  }
  return 0;
fail:
  handle_close(h);
  return -1;
}

static enum container_status handle_status(struct handle *h) {
  return state_status(h->dirfd, &h->st, h->cg);
}

/* Sends sig to init by pidfd: a pid reused since cannot receive it. */
static int signal_init(struct handle *h, int sig, berth_error **err) {
  cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, h->st.pid, 0);
  if (pidfd < 0 || !state_process_alive(h->st.pid, h->st.start_time))
    return berth_fail(err, 0, "container \"%s\" is not running", h->st.id);
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
    return berth_fail(err, errno, "signal container \"%s\"", h->st.id);
  return 0;
}

static char *spec_state_json(struct handle *h, enum container_status status, berth_error **err) {
  return state_to_json(&h->st, status, false, false, err);
}

static struct spec *load_saved_spec(struct handle *h, berth_error **err) {
  size_t len;
  cleanup_free char *raw = fs_read_file_at(h->dirfd, "config.json", &len, err);
  if (raw == NULL)
    return NULL;
  return spec_parse(raw, len, h->st.bundle, "config.json", err);
}

/* Waits until init's end of the fifo closes: at execve, or at exit when a
 * startContainer hook failed, in which case init left START_FAILED in the
 * fifo (our write end keeps its buffer alive). */
static int wait_for_exec(int fifo, const char *id, berth_error **err) {
  struct pollfd pfd = {.fd = fifo, .events = 0};
  while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
    ;
  char path[64], byte = 0;
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fifo);
  cleanup_close int rd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (rd >= 0 && read(rd, &byte, 1) == 1 && byte == START_FAILED[0])
    return berth_fail(err, 0, "start container \"%s\": a startContainer hook failed", id);
  return 0;
}

int container_start(const struct runtime_context *ctx, const char *id, berth_error **err) {
  struct handle h;
  if (handle_open(ctx, id, &h, err) < 0)
    return -1;
  int ret = -1;
  struct spec *spec = NULL;
  cleanup_close int fifo = -1;
  enum container_status status = handle_status(&h);
  if (status != STATUS_CREATED) {
    berth_fail(err, 0, "cannot start container \"%s\": it is %s, not created", id, state_status_name(status));
    goto out;
  }
  fifo = openat(h.dirfd, STATE_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fifo < 0) {
    berth_fail(err, errno == ENXIO ? 0 : errno, "cannot start container \"%s\"%s", id,
               errno == ENXIO ? ": its process is gone" : "");
    goto out;
  }
  /* The config is only needed for its hooks: most containers have none. */
  if ((h.st.hook_kinds & (1u << HOOK_START_CONTAINER | 1u << HOOK_POSTSTART)) &&
      (spec = load_saved_spec(&h, err)) == NULL)
    goto out;
  char go = '0';
  if (write(fifo, &go, 1) != 1) {
    berth_fail(err, errno, "start container \"%s\"", id);
    goto out;
  }
  /* Without the fifo the status reads "running": no state rewrite needed. */
  unlinkat(h.dirfd, STATE_FIFO, 0);
  if (spec != NULL && spec->hooks.count[HOOK_START_CONTAINER] > 0 && wait_for_exec(fifo, id, err) < 0)
    goto out;
  if (spec != NULL && spec->hooks.count[HOOK_POSTSTART] > 0) {
    if (spec->hooks.count[HOOK_START_CONTAINER] == 0 && wait_for_exec(fifo, id, err) < 0)
      goto out;
    cleanup_free char *state = spec_state_json(&h, STATUS_RUNNING, err);
    berth_error *hook_err = NULL;
    if (state == NULL || hooks_run(&spec->hooks, HOOK_POSTSTART, state, &hook_err) < 0) {
      /* The spec: a failing poststart hook is logged, the container runs on. */
      berth_warn("%s", hook_err != NULL ? hook_err->msg : "poststart hooks");
      berth_error_free(hook_err);
    }
  }
  ret = 0;
out:
  spec_free(spec);
  handle_close(&h);
  return ret;
}

int container_state(const struct runtime_context *ctx, const char *id, char **json, berth_error **err) {
  struct handle h;
  if (handle_open(ctx, id, &h, err) < 0)
    return -1;
  *json = state_to_json(&h.st, handle_status(&h), true, true, err);
  handle_close(&h);
  return *json != NULL ? 0 : -1;
}

int container_kill(const struct runtime_context *ctx, const char *id, int sig, bool all, berth_error **err) {
  struct handle h;
  if (handle_open(ctx, id, &h, err) < 0)
    return -1;
  int ret = -1;
  enum container_status status = handle_status(&h);
  if (status == STATUS_STOPPED && !all) {
    berth_fail(err, 0, "cannot kill container \"%s\": it is not running", id);
  } else if (all && h.cg != NULL) {
    ret = cgroup_kill_all(h.cg, sig, err);
  } else {
    ret = signal_init(&h, sig, err);
  }
  handle_close(&h);
  return ret;
}

/* Waits until init is gone (it is not our child, so no waitpid). */
static void wait_gone(struct handle *h) {
  cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, h->st.pid, 0);
  if (pidfd >= 0 && state_process_alive(h->st.pid, h->st.start_time)) {
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    while (poll(&pfd, 1, 10000) < 0 && errno == EINTR)
      ;
  }
}

int container_delete(const struct runtime_context *ctx, const char *id, bool force, berth_error **err) {
  struct handle h;
  if (handle_open(ctx, id, &h, err) < 0) {
    /* --force on a container that does not exist is not an error (runc). */
    if (force && *err != NULL && strstr((*err)->msg, "does not exist") != NULL) {
      berth_error_free(*err);
      *err = NULL;
      return 0;
    }
    return -1;
  }
  int ret = -1;
  struct spec *spec = NULL;
  enum container_status status = handle_status(&h);
  if ((status == STATUS_RUNNING || status == STATUS_PAUSED) && !force) {
    berth_fail(err, 0, "cannot delete container \"%s\": it is %s (stop it first or use --force)", id,
               state_status_name(status));
    goto out;
  }
  if (status != STATUS_STOPPED) {
    if (h.cg != NULL) {
      berth_error *kill_err = NULL;
      if (cgroup_kill_all(h.cg, SIGKILL, &kill_err) < 0) {
        berth_debug("%s", kill_err->msg);
        berth_error_free(kill_err);
      }
    }
    kill(h.st.pid, SIGKILL);
    wait_gone(&h);
  }
  if ((h.st.hook_kinds & (1u << HOOK_POSTSTOP)) && (spec = load_saved_spec(&h, err)) == NULL)
    berth_warn("%s", (*err)->msg);
  if (spec != NULL && spec->hooks.count[HOOK_POSTSTOP] > 0) {
    cleanup_free char *state = spec_state_json(&h, STATUS_STOPPED, err);
    berth_error *hook_err = NULL;
    if (state == NULL || hooks_run(&spec->hooks, HOOK_POSTSTOP, state, &hook_err) < 0) {
      berth_warn("%s", hook_err != NULL ? hook_err->msg : "poststop hooks");
      berth_error_free(hook_err);
    }
  }
  berth_error_free(*err);
  *err = NULL;
  unsigned long long oom = 0;
  berth_error *oom_err = NULL;
  if (h.cg != NULL && cgroup_oom_kills(h.cg, &oom, &oom_err) == 0 && oom > 0)
    berth_warn("container \"%s\": %llu process%s killed by the OOM killer", id, oom, oom == 1 ? " was" : "es were");
  berth_error_free(oom_err);
  if (h.cg != NULL && cgroup_destroy(h.cg, err) < 0)
    goto out;
  ret = state_remove(h.rootfd, id, err);
out:
  spec_free(spec);
  handle_close(&h);
  return ret;
}

int container_pause(const struct runtime_context *ctx, const char *id, bool pause, berth_error **err) {
  struct handle h;
  if (handle_open(ctx, id, &h, err) < 0)
    return -1;
  int ret = -1;
  enum container_status status = handle_status(&h);
  enum container_status want = pause ? STATUS_RUNNING : STATUS_PAUSED;
  if (status != want)
    berth_fail(err, 0, "cannot %s container \"%s\": it is %s", pause ? "pause" : "resume", id,
               state_status_name(status));
  else if (h.cg == NULL)
    berth_fail(err, 0, "container \"%s\" has no cgroup to freeze", id);
  else
    ret = cgroup_freeze(h.cg, pause, err);
  handle_close(&h);
  return ret;
}

int container_pids(const struct runtime_context *ctx, const char *id, pid_t **pids, size_t *n, berth_error **err) {
  struct handle h;
  if (handle_open(ctx, id, &h, err) < 0)
    return -1;
  int ret;
  if (h.cg == NULL) {
    *pids = NULL;
    *n = 0;
    ret = 0;
  } else {
    ret = cgroup_pids(h.cg, pids, n, err);
  }
  handle_close(&h);
  return ret;
}

int container_update(const struct runtime_context *ctx, const char *id, const struct spec_resources *res,
                     berth_error **err) {
  struct handle h;
  if (handle_open(ctx, id, &h, err) < 0)
    return -1;
  int ret = -1;
  enum container_status status = handle_status(&h);
  if (status == STATUS_STOPPED)
    berth_fail(err, 0, "cannot update container \"%s\": it is stopped", id);
  else if (h.cg == NULL)
    berth_fail(err, 0, "container \"%s\" has no cgroup", id);
  else
    ret = cgroup_apply(h.cg, res, err);
  handle_close(&h);
  return ret;
}

static int compare_summaries(const void *a, const void *b) {
  return strcmp(((const struct container_summary *)a)->id, ((const struct container_summary *)b)->id);
}

int container_list(const struct runtime_context *ctx, struct container_summary **out, size_t *n, berth_error **err) {
  *out = NULL;
  *n = 0;
  DIR *dir = opendir(ctx->root);
  if (dir == NULL) {
    if (errno == ENOENT)
      return 0;
    return berth_fail(err, errno, "state root \"%s\"", ctx->root);
  }
  size_t cap = 0;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    if (de->d_name[0] == '.' || state_check_id(de->d_name, NULL) < 0)
      continue;
    struct handle h;
    berth_error *one = NULL;
    if (handle_open(ctx, de->d_name, &h, &one) < 0) {
      /* A container being created or deleted right now: leave it out. */
      berth_error_free(one);
      continue;
    }
    if (*n == cap) {
      cap = cap ? cap * 2 : 16;
      struct container_summary *bigger = realloc(*out, cap * sizeof(**out));
      if (bigger == NULL) {
        handle_close(&h);
        closedir(dir);
        container_summaries_free(*out, *n);
        return berth_fail(err, ENOMEM, "list containers");
      }
      *out = bigger;
    }
    enum container_status status = handle_status(&h);
    (*out)[(*n)++] = (struct container_summary){
        .id = TAKE_PTR(h.st.id),
        .pid = status == STATUS_STOPPED ? 0 : h.st.pid,
        .status = state_status_name(status),
        .bundle = TAKE_PTR(h.st.bundle),
        .created = TAKE_PTR(h.st.created),
    };
    handle_close(&h);
  }
  closedir(dir);
  if (*n > 1)
    qsort(*out, *n, sizeof(**out), compare_summaries);
  return 0;
}

void container_summaries_free(struct container_summary *list, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(list[i].id);
    free(list[i].bundle);
    free(list[i].created);
  }
  free(list);
}
