/* berth attach */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/berth/commands.h"
#include "engine/attach.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"
#include "util/cleanup.h"

static const char usage_text[] = "attach [OPTIONS] CONTAINER";

void signal_target_forward(int sig, void *arg) {
  struct signal_target *t = arg;
  berth_error *ignored = NULL;
  container_kill(&t->e->runtime, t->id, sig, false, &ignored);
  berth_error_free(ignored);
}

static bool flag(struct json_object *o, const char *key) {
  struct json_object *v;
  return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/* Until the container exits (its code) or the detach keys (0, as docker). */
static int relay(struct engine *e, const char *id, const struct attach_options *opts, berth_error **err) {
  cleanup_free char *socket_path = lifecycle_socket_path(e, id);
  if (socket_path == NULL)
    return berth_fail(err, ENOMEM, "attach");
  cleanup_close int fd = attach_connect(socket_path, opts, err);
  if (fd < 0)
    return -1;
  int status = 0;
  int relayed = attach_relay(fd, opts, &status, err);
  return relayed < 0 ? -1 : relayed == 1 ? 0 : status;
}

int cmd_attach(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  enum { OPT_DETACH_KEYS = 256, OPT_NO_STDIN, OPT_SIG_PROXY };
  static const struct option options[] = {{"detach-keys", required_argument, NULL, OPT_DETACH_KEYS},
                                          {"no-stdin", no_argument, NULL, OPT_NO_STDIN},
                                          {"sig-proxy", optional_argument, NULL, OPT_SIG_PROXY},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  const char *detach_keys = NULL;
  bool no_stdin = false, sig_proxy = true;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    switch (c) {
    case OPT_DETACH_KEYS:
      detach_keys = optarg;
      break;
    case OPT_NO_STDIN:
      no_stdin = true;
      break;
    case OPT_SIG_PROXY:
      if (optarg != NULL && strcmp(optarg, "true") != 0 && strcmp(optarg, "false") != 0) {
        berth_fail(err, 0, "invalid argument \"%s\" for \"--sig-proxy\" flag: strconv.ParseBool: parsing \"%s\": "
                   "invalid syntax", optarg, optarg);
        return cmd_flag_error("attach", err);
      }
      sig_proxy = optarg == NULL || strcmp(optarg, "true") == 0;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nAttach local standard input, output, and error streams to a running container\n\n"
             "Aliases:\n  berth container attach, berth attach\n\nOptions:\n"
             "      --detach-keys string   Override the key sequence for detaching a container\n"
             "      --no-stdin             Do not attach STDIN\n"
             "      --sig-proxy            Proxy all received signals to the process (default true)\n",
             usage_text);
      return 0;
    default:
      berth_fail(err, 0, "unknown flag: %s", argv[optind - 1]);
      return cmd_flag_error("attach", err);
    }
  }
  if (argc - optind != 1) {
    berth_fail(err, 0, "\"berth attach\" requires exactly 1 argument.\nUsage:  berth %s", usage_text);
    return cmd_flag_error("attach", err);
  }
  unsigned char keys[8];
  int n_keys;
  if (detach_keys != NULL && attach_parse_detach_keys(detach_keys, keys, &n_keys, err) < 0)
    return cmd_flag_error("attach", err);
  struct engine *e = context_engine(ctx, err);
  struct container ct;
  if (e == NULL || containers_find(e, argv[optind], &ct, err) < 0)
    return -1;
  lifecycle_sync(e, &ct);
  int ret = -1;
  if (ct.status == CONTAINER_PAUSED) {
    berth_fail(err, 0, "You cannot attach to a paused container, unpause it first");
    goto out;
  }
  if (ct.status != CONTAINER_RUNNING) {
    berth_fail(err, 0, "You cannot attach to a stopped container, start it first");
    goto out;
  }
  struct signal_target target = {e, ct.id};
  bool tty = flag(ct.config, "Tty");
  struct attach_options opts = {
      .in = !no_stdin && flag(ct.config, "OpenStdin"),
      .out = true,
      .err = true,
      .tty = tty,
      .detach_keys = detach_keys,
      .forward = sig_proxy && !tty ? signal_target_forward : NULL,
      .forward_arg = &target,
  };
  ret = relay(e, ct.id, &opts, err);
out:
  container_clear(&ct);
  return ret;
}
