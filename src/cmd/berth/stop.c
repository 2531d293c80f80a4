/* berth stop, restart, kill, pause, unpause, wait, rm: one container
 * operation per argument, docker's output (the argument echoed) and
 * errors (each printed, exit 1 if any failed). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/berth/commands.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "engine/lifecycle.h"
#include "engine/options.h"

static int for_each(struct berth_context *ctx, int argc, char **argv, const char *usage_text, const char *name,
                    int (*op)(struct engine *e, const char *ref, void *arg, berth_error **err), void *arg,
                    bool echo, berth_error **err) {
  if (optind >= argc)
    return cmd_usage_error(name, usage_text, err);
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  int failed = 0;
  for (int i = optind; i < argc; i++) {
    berth_error *one = NULL;
    int r = op(e, argv[i], arg, &one);
    if (r < 0) {
      cmd_report(one);
      failed = 1;
    } else if (echo && r == 0) {
      printf("%s\n", argv[i]);
      fflush(stdout);
    }
  }
  return failed;
}

struct stop_flags {
  int timeout, sig; /* -1 and 0: the container's own */
};

static int stop_one(struct engine *e, const char *ref, void *arg, berth_error **err) {
  struct stop_flags *f = arg;
  return lifecycle_stop(e, ref, f->timeout, f->sig, err);
}

static int restart_one(struct engine *e, const char *ref, void *arg, berth_error **err) {
  struct stop_flags *f = arg;
  if (lifecycle_stop(e, ref, f->timeout, f->sig, err) < 0 || lifecycle_start(e, ref, NULL, NULL, err) < 0)
    return -1;
  struct container c;
  berth_error *ignored = NULL;
  if (containers_find(e, ref, &c, &ignored) == 0) {
    events_container(e, &c, "restart", NULL, 0);
    container_clear(&c);
  }
  berth_error_free(ignored);
  return 0;
}

static int stop_like(struct berth_context *ctx, int argc, char **argv, bool restart, berth_error **err) {
  const char *name = restart ? "restart" : "stop";
  const char *usage_text = restart ? "restart [OPTIONS] CONTAINER [CONTAINER...]" : "stop [OPTIONS] CONTAINER [CONTAINER...]";
  static const struct option options[] = {{"time", required_argument, NULL, 't'},
                                          {"timeout", required_argument, NULL, 't'},
                                          {"signal", required_argument, NULL, 's'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  struct stop_flags f = {.timeout = -1};
  int c;
  while ((c = getopt_long(argc, argv, "t:s:h", options, NULL)) != -1) {
    switch (c) {
    case 't':
      if (options_parse_seconds(optarg, &f.timeout, err) < 0)
        return -1;
      break;
    case 's':
      if (options_parse_signal(optarg, &f.sig, err) < 0)
        return -1;
      break;
    case 'h':
      printf("Usage:  berth %s\n\n%s one or more running containers\n\nOptions:\n"
             "  -s, --signal string   Signal to send to the container (default: its stop signal)\n"
             "  -t, --timeout int     Seconds to wait before killing the container\n",
             usage_text, restart ? "Restart" : "Stop");
      return 0;
    default:
      return cmd_usage_error(name, usage_text, err);
    }
  }
  return for_each(ctx, argc, argv, usage_text, name, restart ? restart_one : stop_one, &f, true, err);
}

int cmd_stop(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  return stop_like(ctx, argc, argv, false, err);
}

int cmd_restart(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  return stop_like(ctx, argc, argv, true, err);
}

static int kill_one(struct engine *e, const char *ref, void *arg, berth_error **err) {
  return lifecycle_kill(e, ref, *(int *)arg, err);
}

int cmd_kill(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const char usage_text[] = "kill [OPTIONS] CONTAINER [CONTAINER...]";
  static const struct option options[] = {
      {"signal", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  int sig = 9, c;
  while ((c = getopt_long(argc, argv, "s:h", options, NULL)) != -1) {
    switch (c) {
    case 's':
      if (options_parse_signal(optarg, &sig, err) < 0)
        return -1;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nKill one or more running containers\n\nOptions:\n"
             "  -s, --signal string   Signal to send to the container (default \"KILL\")\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("kill", usage_text, err);
    }
  }
  return for_each(ctx, argc, argv, usage_text, "kill", kill_one, &sig, true, err);
}

static int pause_one(struct engine *e, const char *ref, void *arg, berth_error **err) {
  return lifecycle_pause(e, ref, *(bool *)arg, err);
}

static int pause_like(struct berth_context *ctx, int argc, char **argv, bool pause, berth_error **err) {
  const char *name = pause ? "pause" : "unpause";
  const char *usage_text = pause ? "pause CONTAINER [CONTAINER...]" : "unpause CONTAINER [CONTAINER...]";
  static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    if (c != 'h')
      return cmd_usage_error(name, usage_text, err);
    printf("Usage:  berth %s\n\n%s all processes within one or more containers\n", usage_text,
           pause ? "Pause" : "Unpause");
    return 0;
  }
  return for_each(ctx, argc, argv, usage_text, name, pause_one, &pause, true, err);
}

int cmd_pause(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  return pause_like(ctx, argc, argv, true, err);
}

int cmd_unpause(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  return pause_like(ctx, argc, argv, false, err);
}

static int wait_one(struct engine *e, const char *ref, void *arg, berth_error **err) {
  (void)arg;
  int code;
  if (lifecycle_wait(e, ref, &code, err) < 0)
    return -1;
  printf("%d\n", code);
  fflush(stdout);
  return 0;
}

int cmd_wait(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const char usage_text[] = "wait CONTAINER [CONTAINER...]";
  static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    if (c != 'h')
      return cmd_usage_error("wait", usage_text, err);
    printf("Usage:  berth %s\n\nBlock until one or more containers stop, then print their exit codes\n", usage_text);
    return 0;
  }
  return for_each(ctx, argc, argv, usage_text, "wait", wait_one, NULL, false, err);
}

struct rm_flags {
  bool force, volumes;
};

/* docker: rm -f of a container that does not exist is no error (1: nothing echoed) */
static int rm_one(struct engine *e, const char *ref, void *arg, berth_error **err) {
  struct rm_flags *f = arg;
  if (lifecycle_remove(e, ref, f->force, f->volumes, err) == 0)
    return 0;
  if (f->force && strncmp((*err)->msg, "No such container", 17) == 0) {
    berth_error_free(*err);
    *err = NULL;
    return 1;
  }
  return -1;
}

int cmd_rm(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const char usage_text[] = "rm [OPTIONS] CONTAINER [CONTAINER...]";
  static const struct option options[] = {{"force", no_argument, NULL, 'f'},
                                          {"volumes", no_argument, NULL, 'v'},
                                          {"link", no_argument, NULL, 'l'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  struct rm_flags f = {0};
  int c;
  while ((c = getopt_long(argc, argv, "fvlh", options, NULL)) != -1) {
    switch (c) {
    case 'f':
      f.force = true;
      break;
    case 'v':
      f.volumes = true;
      break;
    case 'l':
      return berth_fail(err, 0, "rm --link: links are not supported");
    case 'h':
      printf("Usage:  berth %s\n\nRemove one or more containers\n\nOptions:\n"
             "  -f, --force     Force the removal of a running container (uses SIGKILL)\n"
             "  -v, --volumes   Remove anonymous volumes associated with the container\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("rm", usage_text, err);
    }
  }
  return for_each(ctx, argc, argv, usage_text, "rm", rm_one, &f, true, err);
}
