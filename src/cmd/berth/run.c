/* berth run: create, start, and in the foreground relay the container's
 * stdio until it exits, then clean up (--rm) and exit with its code. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/berth/commands.h"
#include "cmd/berth/container_flags.h"
#include "engine/attach.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"
#include "monitor/protocol.h"
#include "util/cleanup.h"

static bool flag(struct json_object *o, const char *key) {
  struct json_object *v;
  return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/* The foreground: attached from the first byte through a socketpair whose
 * other end the monitor gets. */
static int run_attached(struct berth_context *ctx, struct container_flags *f, const char *id, berth_error **err) {
  struct engine *e = ctx->engine;
  struct json_object *policy;
  bool restarts = json_object_object_get_ex(f->host_config, "RestartPolicy", &policy) &&
                  strcmp(json_object_get_string(json_object_object_get(policy, "Name")), "no") != 0;
  struct signal_target fw = {e, id};
  struct attach_options opts = {
      .in = flag(f->config, "AttachStdin"),
      .out = flag(f->config, "AttachStdout"),
      .err = flag(f->config, "AttachStderr"),
      .tty = flag(f->config, "Tty"),
      /* a restart policy belongs to the monitor's clean-up */
      .owner = !restarts,
      .detach_keys = f->detach_keys,
      .forward = f->sig_proxy && !flag(f->config, "Tty") ? signal_target_forward : NULL,
      .forward_arg = &fw,
  };
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    return berth_fail(err, errno, "socketpair");
  cleanup_close int mine = pair[0];
  struct start_options start = {.client_fd = pair[1]};
  int code = EXIT_ENGINE;
  int started = lifecycle_start(e, id, &start, &code, err);
  close(pair[1]);
  if (started < 0) {
    if (flag(f->host_config, "AutoRemove")) {
      berth_error *ignored = NULL;
      lifecycle_remove(e, id, true, true, &ignored);
      berth_error_free(ignored);
    }
    return -code;
  }
  if (attach_hello(mine, &opts, err) < 0)
    return -EXIT_ENGINE;
  int status = 0;
  int relayed = attach_relay(mine, &opts, &status, err);
  if (relayed < 0) {
    berth_error_wrap(err, "container %.12s", id);
    return -EXIT_ENGINE;
  }
  if (relayed == 1)
    return 0; /* detached: the monitor cleans up when it ends */
  if (opts.owner) {
    if (lifecycle_cleanup(e, id, false, err) < 0)
      return -EXIT_ENGINE;
    attach_send_cleaned(mine, err);
  }
  return status;
}

int cmd_run(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  struct container_flags f;
  if (container_flags_parse(argc, argv, true, &f, err) < 0) {
    container_flags_clear(&f);
    return cmd_flag_error("run", err);
  }
  if (f.help) {
    container_flags_usage(stdout, true);
    container_flags_clear(&f);
    return 0;
  }
  char id[CONTAINER_ID_BUF];
  int ret;
  if (create_from_flags(ctx, &f, id, err) < 0) {
    ret = -EXIT_ENGINE;
  } else if (f.detach) {
    int code = EXIT_ENGINE;
    ret = lifecycle_start(ctx->engine, id, NULL, &code, err) < 0 ? -code : 0;
    if (ret == 0)
      printf("%s\n", id);
  } else {
    ret = run_attached(ctx, &f, id, err);
  }
  container_flags_clear(&f);
  return ret;
}
