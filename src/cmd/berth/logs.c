/* berth logs */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/berth/commands.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"
#include "engine/logs.h"
#include "util/cleanup.h"

static const char usage_text[] = "logs [OPTIONS] CONTAINER";

struct follow {
  struct engine *e;
  const char *id;
};

/* -f ends when the container is no longer running and its monitor (the
 * log's only writer) is gone. */
static bool container_done(void *arg) {
  struct follow *f = arg;
  struct container c;
  berth_error *err = NULL;
  if (containers_get(f->e, f->id, &c, &err) < 0) {
    berth_error_free(err);
    return true;
  }
  lifecycle_sync(f->e, &c);
  bool done = c.status != CONTAINER_RUNNING && c.status != CONTAINER_PAUSED && c.status != CONTAINER_RESTARTING;
  container_clear(&c);
  return done;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int cmd_logs(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  enum { OPT_SINCE = 256, OPT_UNTIL, OPT_TAIL };
  static const struct option options[] = {{"follow", no_argument, NULL, 'f'},
                                          {"timestamps", no_argument, NULL, 't'},
                                          {"since", required_argument, NULL, OPT_SINCE},
                                          {"until", required_argument, NULL, OPT_UNTIL},
                                          {"tail", required_argument, NULL, 'n'},
                                          {"details", no_argument, NULL, 'd'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  struct logs_options opts = {.tail = -1, .max_file = 1};
  int c;
  while ((c = getopt_long(argc, argv, "ftn:h", options, NULL)) != -1) {
    switch (c) {
    case 'f':
      opts.follow = true;
      break;
    case 't':
      opts.timestamps = true;
      break;
    case OPT_SINCE:
    case OPT_UNTIL:
      if (logs_parse_time(optarg, now_ns(), c == OPT_SINCE ? &opts.since_ns : &opts.until_ns, err) < 0)
        return -1;
      break;
    case 'n':
      if (strcmp(optarg, "all") == 0) {
        opts.tail = -1;
      } else {
        char *end;
        opts.tail = strtol(optarg, &end, 10);
        if (*optarg == '\0' || *end != '\0')
          return berth_fail(err, 0, "invalid value for \"tail\": %s", optarg);
      }
      break;
    case 'd':
      break;
    case 'h':
      printf("Usage:  berth %s\n\nFetch the logs of a container\n\nOptions:\n"
             "  -f, --follow         Follow log output\n"
             "      --since string   Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g.\n"
             "                       \"42m\" for 42 minutes)\n"
             "  -n, --tail string    Number of lines to show from the end of the logs (default \"all\")\n"
             "  -t, --timestamps     Show timestamps\n"
             "      --until string   Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative\n"
             "                       (e.g. \"42m\" for 42 minutes)\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("logs", usage_text, err);
    }
  }
  if (argc - optind != 1)
    return cmd_usage_error("logs", usage_text, err);
  struct engine *e = context_engine(ctx, err);
  struct container ct;
  if (e == NULL || containers_find(e, argv[optind], &ct, err) < 0)
    return -1;
  struct json_object *max_file = NULL, *log = NULL, *config = NULL;
  if (json_object_object_get_ex(ct.host_config, "LogConfig", &log) &&
      json_object_object_get_ex(log, "Config", &config) && json_object_object_get_ex(config, "max-file", &max_file))
    opts.max_file = atoi(json_object_get_string(max_file));
  if (opts.max_file < 1)
    opts.max_file = 1;
  struct follow f = {e, ct.id};
  opts.done = container_done;
  opts.done_arg = &f;
  cleanup_free char *path = lifecycle_log_path(e, ct.id);
  fflush(stdout);
  int ret = logs_print(path, &opts, 1, 2, err);
  container_clear(&ct);
  return ret;
}
