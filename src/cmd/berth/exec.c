/* berth exec */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmd/berth/commands.h"
#include "engine/engine.h"
#include "engine/exec.h"
#include "engine/options.h"
#include "runtime/exe_guard.h"
#include "util/cleanup.h"

static const char usage_text[] = "exec [OPTIONS] CONTAINER COMMAND [ARG...]";

static void usage(void) {
  printf("Usage:  berth %s\n\nExecute a command in a running container\n\n"
         "Aliases:\n  berth container exec, berth exec\n\n"
         "Options:\n"
         "  -d, --detach               Detached mode: run command in the background\n"
         "      --detach-keys string   Override the key sequence for detaching a container\n"
         "  -e, --env list             Set environment variables\n"
         "      --env-file list        Read in a file of environment variables\n"
         "  -i, --interactive          Keep STDIN open even if not attached\n"
         "      --privileged           Give extended privileges to the command\n"
         "  -t, --tty                  Allocate a pseudo-TTY\n"
         "  -u, --user string          Username or UID (format: \"<name|uid>[:<group|gid>]\")\n"
         "  -w, --workdir string       Working directory inside the container\n",
         usage_text);
}

int cmd_exec(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  enum { OPT_ENV_FILE = 256, OPT_PRIVILEGED, OPT_DETACH_KEYS };
  static const struct option options[] = {
      {"detach", no_argument, NULL, 'd'},
      {"detach-keys", required_argument, NULL, OPT_DETACH_KEYS},
      {"env", required_argument, NULL, 'e'},
      {"env-file", required_argument, NULL, OPT_ENV_FILE},
      {"interactive", no_argument, NULL, 'i'},
      {"privileged", no_argument, NULL, OPT_PRIVILEGED},
      {"tty", no_argument, NULL, 't'},
      {"user", required_argument, NULL, 'u'},
      {"workdir", required_argument, NULL, 'w'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  struct exec_request req = {0};
  bool interactive = false;
  cleanup_strv char **env = NULL;
  size_t n_env = 0;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+de:itu:w:h", options, NULL)) != -1) {
    int r = 0;
    switch (c) {
    case 'd':
      req.detach = true;
      break;
    case OPT_DETACH_KEYS: /* the terminal is proxied here: nothing to detach from */
      break;
    case 'e':
      r = options_add_env(&env, &n_env, optarg, err);
      break;
    case OPT_ENV_FILE:
      r = options_read_env_file(&env, &n_env, optarg, true, err);
      break;
    case 'i':
      interactive = true;
      break;
    case OPT_PRIVILEGED:
      req.privileged = true;
      break;
    case 't':
      req.tty = true;
      break;
    case 'u':
      req.user = optarg;
      break;
    case 'w':
      req.workdir = optarg;
      break;
    case 'h':
      usage();
      return 0;
    default:
      berth_fail(err, 0, "unknown flag: %s", argv[optind - 1]);
      return cmd_flag_error("exec", err);
    }
    if (r < 0)
      return cmd_flag_error("exec", err);
  }
  if (argc - optind < 2) {
    berth_fail(err, 0, "\"berth exec\" requires at least 2 arguments.\nUsage:  berth %s", usage_text);
    return cmd_flag_error("exec", err);
  }
  if (req.workdir != NULL && req.workdir[0] != '\0' && req.workdir[0] != '/') {
    berth_fail(err, 0, "the working directory '%s' is invalid, it needs to be an absolute path", req.workdir);
    return cmd_flag_error("exec", err);
  }
  struct winsize ws;
  if (req.tty && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
    req.console_height = ws.ws_row;
    req.console_width = ws.ws_col;
  }
  req.cmd = argv + optind + 1;
  req.env = env;
  /* Our binary runs inside the container's namespaces until the exec of
   * the command: only through a read-only mount of it (CVE-2019-5736).
   * Before the engine is opened, which the re-executed berth does again. */
  if (exe_guard_ensure(ctx->argv, err) < 0)
    return -1;
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  if (!interactive || req.detach) {
    cleanup_close int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0)
      return berth_fail(err, errno, "/dev/null");
  }
  /* nobody reads what a detached command prints, as with docker; our own
   * errors still go to the caller's stderr */
  cleanup_close int saved_out = -1, saved_err = -1;
  if (req.detach) {
    cleanup_close int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    saved_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    if (devnull < 0 || saved_out < 0 || saved_err < 0 || dup2(devnull, STDOUT_FILENO) < 0 ||
        dup2(devnull, STDERR_FILENO) < 0)
      return berth_fail(err, errno, "/dev/null");
  }
  int exit_code;
  int ret = engine_exec(e, argv[optind], &req, NULL, &exit_code, err);
  if (req.detach) {
    dup2(saved_out, STDOUT_FILENO);
    dup2(saved_err, STDERR_FILENO);
  }
  if (ret < 0)
    return exit_code > 0 ? -exit_code : -1;
  return exit_code;
}
