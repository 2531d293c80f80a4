/* berth start [-a] [-i] CONTAINER... */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/berth/commands.h"
#include "engine/attach.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"
#include "util/cleanup.h"

static const char usage_text[] = "start [OPTIONS] CONTAINER [CONTAINER...]";

static bool flag(struct json_object *o, const char *key) {
  struct json_object *v;
  return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/* -a: attached like run in the foreground, but the clean-up stays with the
 * monitor (docker start -a does not remove anything itself). */
static int start_attached(struct engine *e, const char *ref, bool in, const char *detach_keys, berth_error **err) {
  struct container c;
  if (containers_find(e, ref, &c, err) < 0)
    return -1;
  struct attach_options opts = {.in = in && flag(c.config, "OpenStdin"), .out = true, .err = true,
                                .tty = flag(c.config, "Tty"), .detach_keys = detach_keys};
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
    container_clear(&c);
    return berth_fail(err, errno, "socketpair");
  }
  cleanup_close int mine = pair[0];
  struct start_options start = {.client_fd = pair[1]};
  int code = EXIT_ENGINE;
  int started = lifecycle_start(e, c.id, &start, &code, err);
  close(pair[1]);
  container_clear(&c);
  if (started < 0)
    return -code;
  int status = 0;
  if (attach_hello(mine, &opts, err) < 0)
    return -1;
  int relayed = attach_relay(mine, &opts, &status, err);
  return relayed < 0 ? -1 : relayed == 1 ? 0 : status;
}

int cmd_start(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  enum { OPT_DETACH_KEYS = 256 };
  static const struct option options[] = {{"attach", no_argument, NULL, 'a'},
                                          {"interactive", no_argument, NULL, 'i'},
                                          {"detach-keys", required_argument, NULL, OPT_DETACH_KEYS},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  bool attach = false, in = false;
  const char *detach_keys = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "aih", options, NULL)) != -1) {
    switch (c) {
    case 'a':
      attach = true;
      break;
    case 'i':
      in = true;
      break;
    case OPT_DETACH_KEYS:
      detach_keys = optarg;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nStart one or more stopped containers\n\nOptions:\n"
             "  -a, --attach               Attach STDOUT/STDERR and forward signals\n"
             "      --detach-keys string   Override the key sequence for detaching a container\n"
             "  -i, --interactive          Attach container's STDIN\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("start", usage_text, err);
    }
  }
  if (optind >= argc)
    return cmd_usage_error("start", usage_text, err);
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  if (attach || in) {
    if (argc - optind != 1)
      return berth_fail(err, 0, "you cannot start and attach multiple containers at once");
    return start_attached(e, argv[optind], in, detach_keys, err);
  }
  int failed = 0;
  for (int i = optind; i < argc; i++) {
    berth_error *one = NULL;
    if (lifecycle_start(e, argv[i], NULL, NULL, &one) < 0) {
      cmd_report(one);
      failed = 1;
    } else {
      printf("%s\n", argv[i]);
    }
  }
  return failed;
}
