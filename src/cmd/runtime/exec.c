#include <stddef.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/runtime/commands.h"
#include "util/cleanup.h"

/* Appends to a NULL-terminated vector of borrowed strings. */
static int push(char ***vec, size_t *n, char *value, berth_error **err) {
  char **bigger = realloc(*vec, (*n + 2) * sizeof(char *));
  if (bigger == NULL)
    return berth_fail(err, 12, "exec");
  bigger[(*n)++] = value;
  bigger[*n] = NULL;
  *vec = bigger;
  return 0;
}

int cmd_exec(struct runtime_context *ctx, int argc, char **argv, berth_error **err) {
  enum {
    OPT_PROCESS = 'p', OPT_TTY = 't', OPT_CWD = 300, OPT_ENV = 'e', OPT_USER = 'u', OPT_CAP = 'c', OPT_DETACH = 'd',
    OPT_PID_FILE = 301, OPT_CONSOLE_SOCKET, OPT_PRESERVE_FDS, OPT_NO_NEW_PRIVS, OPT_ADDITIONAL_GIDS = 'g',
    OPT_IGNORED_ARG, OPT_IGNORED
  };
  static const struct option options[] = {
      {"process", required_argument, NULL, OPT_PROCESS},
      {"tty", no_argument, NULL, OPT_TTY},
      {"cwd", required_argument, NULL, OPT_CWD},
      {"env", required_argument, NULL, OPT_ENV},
      {"user", required_argument, NULL, OPT_USER},
      {"additional-gids", required_argument, NULL, OPT_ADDITIONAL_GIDS},
      {"cap", required_argument, NULL, OPT_CAP},
      {"detach", no_argument, NULL, OPT_DETACH},
      {"pid-file", required_argument, NULL, OPT_PID_FILE},
      {"console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET},
      {"preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS},
      {"no-new-privs", no_argument, NULL, OPT_NO_NEW_PRIVS},
      {"apparmor", required_argument, NULL, OPT_IGNORED_ARG},
      {"process-label", required_argument, NULL, OPT_IGNORED_ARG},
      {"cgroup", required_argument, NULL, OPT_IGNORED_ARG},
      {"ignore-paused", no_argument, NULL, OPT_IGNORED},
      {NULL, 0, NULL, 0},
  };
  struct exec_options o = {0};
  cleanup_free char **env = NULL, **caps = NULL, **gids = NULL;
  size_t n_env = 0, n_caps = 0, n_gids = 0;
  unsigned long long n;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+p:te:u:c:dg:", options, NULL)) != -1) {
    switch (c) {
    case OPT_PROCESS:
      o.process_file = optarg;
      break;
    case OPT_TTY:
      o.tty = o.tty_given = true;
      break;
    case OPT_CWD:
      o.cwd = optarg;
      break;
    case OPT_ENV:
      if (strchr(optarg, '=') == NULL)
        return berth_fail(err, 0, "exec: --env \"%s\": expected KEY=value", optarg);
      if (push(&env, &n_env, optarg, err) < 0)
        return -1;
      break;
    case OPT_USER:
      o.user = optarg;
      break;
    case OPT_ADDITIONAL_GIDS:
      if (push(&gids, &n_gids, optarg, err) < 0)
        return -1;
      break;
    case OPT_CAP:
      if (push(&caps, &n_caps, optarg, err) < 0)
        return -1;
      break;
    case OPT_DETACH:
      o.detach = true;
      break;
    case OPT_PID_FILE:
      o.pid_file = optarg;
      break;
    case OPT_CONSOLE_SOCKET:
      o.console_socket = optarg;
      break;
    case OPT_PRESERVE_FDS:
      if (cmd_parse_uint("--preserve-fds", optarg, &n, err) < 0)
        return -1;
      o.preserve_fds = (int)n;
      break;
    case OPT_NO_NEW_PRIVS:
      o.no_new_privs = o.no_new_privs_given = true;
      break;
    case OPT_IGNORED_ARG:
    case OPT_IGNORED:
      break;
    default:
      return berth_fail(err, 0, "exec: unknown option \"%s\"", argv[optind - 1]);
    }
  }
  if (argc - optind < 1)
    return cmd_expect_args("exec", argc, optind, 1, "[options] CONTAINER_ID [COMMAND [ARGS...]]", err);
  o.id = argv[optind];
  o.args = argc - optind > 1 ? argv + optind + 1 : NULL;
  if (o.process_file == NULL && o.args == NULL)
    return berth_fail(err, 0, "exec: give a command or --process");
  o.env = env;
  o.caps = caps;
  o.additional_gids = gids;
  int status = 0;
  if (container_exec(ctx, &o, &status, err) < 0)
    return -1;
  return status;
}
