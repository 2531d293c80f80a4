/* The monitor's command line (protocol.h). */
#include <string.h>

#include "monitor/monitor.h"
#include "monitor/sys.h"
#include "monitor/util.h"

enum { T_STR, T_FD, T_PID, T_U64, T_UINT, T_PERIODIC_ARG };

static const struct option_def {
  const char *name;
  int type;
  size_t offset;
} options[] = {
    {"--id", T_STR, offsetof(struct monitor_config, id)},
    {"--pid", T_PID, offsetof(struct monitor_config, pid)},
    {"--exit-file", T_STR, offsetof(struct monitor_config, exit_file)},
    {"--log", T_STR, offsetof(struct monitor_config, log_path)},
    {"--log-max-size", T_U64, offsetof(struct monitor_config, log_max_size)},
    {"--log-max-file", T_UINT, offsetof(struct monitor_config, log_max_file)},
    {"--stdin", T_FD, offsetof(struct monitor_config, stdin_fd)},
    {"--stdout", T_FD, offsetof(struct monitor_config, stdout_fd)},
    {"--stderr", T_FD, offsetof(struct monitor_config, stderr_fd)},
    {"--tty", T_FD, offsetof(struct monitor_config, tty_fd)},
    {"--socket", T_STR, offsetof(struct monitor_config, socket_path)},
    {"--client", T_FD, offsetof(struct monitor_config, client_fd)},
    {"--ready", T_FD, offsetof(struct monitor_config, ready_fd)},
    {"--periodic-interval", T_U64, offsetof(struct monitor_config, periodic_ms)},
    {"--periodic-arg", T_PERIODIC_ARG, 0},
};

static int bad_value(const char *opt, const char *value, const char *why) {
  say(0, opt, ": ", why, " \"", value, "\"", NULL);
  return -1;
}

static int set_option(struct monitor_config *cfg, const struct option_def *o, const char *value, int *nperiodic) {
  char *field = (char *)cfg + o->offset;
  uint64_t v;
  switch (o->type) {
  case T_STR:
    *(const char **)field = value;
    return 0;
  case T_PERIODIC_ARG:
    if (*nperiodic >= MONITOR_MAX_PERIODIC_ARGS)
      return bad_value(o->name, value, "too many arguments at");
    cfg->periodic_argv[(*nperiodic)++] = (char *)value;
    return 0;
  case T_FD:
    if (parse_u64(value, &v) < 0 || v > 0x7fffffff)
      return bad_value(o->name, value, "invalid file descriptor");
    if (sys_fcntl((int)v, F_GETFD, 0) < 0)
      return bad_value(o->name, value, "file descriptor not open:");
    *(int *)field = (int)v;
    return 0;
  case T_PID:
    if (parse_u64(value, &v) < 0 || v == 0 || v > 0x7fffffff)
      return bad_value(o->name, value, "invalid process id");
    *(int *)field = (int)v;
    return 0;
  case T_UINT:
    if (parse_u64(value, &v) < 0 || v == 0 || v > 1000000)
      return bad_value(o->name, value, "invalid number");
    *(unsigned *)field = (unsigned)v;
    return 0;
  default:
    if (parse_u64(value, &v) < 0)
      return bad_value(o->name, value, "invalid number");
    *(uint64_t *)field = v;
    return 0;
  }
}

int monitor_parse_args(int argc, char **argv, struct monitor_config *cfg) {
  int nperiodic = 0;
  cfg->log_max_file = 1;
  cfg->pid = 0;
  cfg->stdin_fd = cfg->stdout_fd = cfg->stderr_fd = cfg->tty_fd = cfg->client_fd = cfg->ready_fd = -1;
  int i;
  for (i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--") == 0) {
      i++;
      break;
    }
    const char *eq = NULL;
    for (const char *p = arg; *p != '\0'; p++)
      if (*p == '=') {
        eq = p;
        break;
      }
    size_t name_len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    const struct option_def *o = NULL;
    for (size_t k = 0; k < sizeof(options) / sizeof(options[0]); k++)
      if (strlen(options[k].name) == name_len && memcmp(options[k].name, arg, name_len) == 0)
        o = &options[k];
    if (o == NULL) {
      say(0, "unknown option \"", arg, "\"", NULL);
      return -1;
    }
    const char *value;
    if (eq != NULL) {
      value = eq + 1;
    } else {
      if (i + 1 >= argc) {
        say(0, o->name, ": missing value", NULL);
        return -1;
      }
      value = argv[++i];
    }
    if (set_option(cfg, o, value, &nperiodic) < 0)
      return -1;
  }
  cfg->periodic_argv[nperiodic] = NULL;
  cfg->exit_argv = i < argc ? argv + i : NULL;

  const char *missing = cfg->id == NULL          ? "--id"
                        : cfg->pid == 0          ? "--pid"
                        : cfg->exit_file == NULL ? "--exit-file"
                        : cfg->log_path == NULL  ? "--log"
                        : cfg->socket_path == NULL ? "--socket"
                                                   : NULL;
  if (missing != NULL) {
    say(0, "missing ", missing, NULL);
    return -1;
  }
  if (cfg->tty_fd >= 0) {
    if (cfg->stdout_fd >= 0 || cfg->stderr_fd >= 0 || cfg->stdin_fd >= 0) {
      say(0, "--tty excludes --stdin, --stdout and --stderr (the pty carries them)", NULL);
      return -1;
    }
  } else if (cfg->stdout_fd < 0 || cfg->stderr_fd < 0) {
    say(0, "missing --stdout and --stderr, or --tty", NULL);
    return -1;
  }
  if (cfg->socket_path[0] == '\0') {
    say(0, "--socket: empty path", NULL);
    return -1;
  }
  if ((cfg->periodic_ms > 0) != (nperiodic > 0)) {
    say(0, "--periodic-interval and --periodic-arg go together", NULL);
    return -1;
  }
  return 0;
}
