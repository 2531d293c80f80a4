/* berth-runtime: an OCI runtime with runc's command line. */
#include <stddef.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/runtime/commands.h"
#include "runtime/exe_guard.h"
#include "runtime/init.h"
#include "runtime/state.h"
#include "util/log.h"

static const struct {
  const char *name;
  command_fn *fn;
  /* re-executes itself through the CVE-2019-5736 guard first; create and
   * run protect the container's init instead (start_stub.h, init_reexec.c) */
  bool makes_container_processes;
  const char *help;
} commands[] = {
    {"create", cmd_create, false, "create a container"},
    {"start", cmd_start, false, "start the user process of a created container"},
    {"state", cmd_state, false, "print the state of a container as JSON"},
    {"kill", cmd_kill, false, "send a signal to the container's init (or all its processes)"},
    {"delete", cmd_delete, false, "delete a container and everything it holds"},
    {"run", cmd_run, false, "create and start a container"},
    {"exec", cmd_exec, true, "run a process inside a running container"},
    {"ps", cmd_ps, false, "list the processes of a container"},
    {"list", cmd_list, false, "list containers"},
    {"pause", cmd_pause, false, "freeze every process of a container"},
    {"resume", cmd_resume, false, "thaw a paused container"},
    {"update", cmd_update, false, "change the resource limits of a container"},
    {"features", cmd_features, false, "print what this runtime supports, as JSON"},
    {"spec", cmd_spec, false, "write a default config.json"},
};

static void usage(FILE *out) {
  fprintf(out,
          "usage: berth-runtime [global options] COMMAND [options] [arguments]\n\n"
          "global options:\n"
          "  --root DIR            state directory (default " STATE_DEFAULT_ROOT ")\n"
          "  --log FILE            also write errors and warnings to FILE\n"
          "  --log-format FORMAT   text or json\n"
          "  --debug               log debug messages\n"
          "  --systemd-cgroup      accepted; cgroupfs is used where there is no systemd\n"
          "  --version             print the version\n\ncommands:\n");
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv) {
  berth_log_init("berth-runtime");
  if (argc == 10 && strcmp(argv[1], "init") == 0)
    init_main_from_argv(argc, argv);
  struct runtime_context ctx = {.root = STATE_DEFAULT_ROOT};
  const char *log_path = NULL, *log_format = "text";
  bool debug = false;
  enum { OPT_ROOT = 256, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_SYSTEMD, OPT_CRIU, OPT_ROOTLESS };
  static const struct option options[] = {
      {"root", required_argument, NULL, OPT_ROOT},
      {"log", required_argument, NULL, OPT_LOG},
      {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
      {"debug", no_argument, NULL, OPT_DEBUG},
      {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD},
      {"criu", required_argument, NULL, OPT_CRIU},
      {"rootless", required_argument, NULL, OPT_ROOTLESS},
      {"version", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+vh", options, NULL)) != -1) {
    switch (c) {
    case OPT_ROOT:
      ctx.root = optarg;
      break;
    case OPT_LOG:
      log_path = optarg;
      break;
    case OPT_LOG_FORMAT:
      log_format = optarg;
      break;
    case OPT_DEBUG:
      debug = true;
      break;
    case OPT_SYSTEMD:
      ctx.systemd_cgroup = true;
      break;
    case OPT_CRIU:
    case OPT_ROOTLESS:
      break; /* accepted for compatibility with runc's callers */
    case 'v':
      printf("berth-runtime version %s\nspec: 1.2.0\n", BERTH_VERSION);
      return 0;
    case 'h':
      usage(stdout);
      return 0;
    default:
      fprintf(stderr, "berth-runtime: unknown global option \"%s\"\n", argv[optind - 1]);
      return 2;
    }
  }
  berth_error *err = NULL;
  if (strcmp(log_format, "text") != 0 && strcmp(log_format, "json") != 0) {
    fprintf(stderr, "berth-runtime: --log-format \"%s\": expected text or json\n", log_format);
    return 2;
  }
  if (berth_log_open(log_path, strcmp(log_format, "json") == 0, debug, &err) < 0) {
    berth_log_error(err);
    berth_error_free(err);
    return 1;
  }
  if (optind >= argc) {
    usage(stderr);
    return 2;
  }
  const char *name = argv[optind];
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
    if (strcmp(commands[i].name, name) != 0)
      continue;
    if (commands[i].makes_container_processes && exe_guard_ensure(argv, &err) < 0) {
      berth_log_error(err);
      berth_error_free(err);
      return 1;
    }
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    optind = 0; /* restart getopt for the command's own options */
    int status = commands[i].fn(&ctx, sub_argc, sub_argv, &err);
    if (status < 0) {
      berth_log_error(err);
      berth_error_free(err);
      return 1;
    }
    return status;
  }
  fprintf(stderr, "berth-runtime: unknown command \"%s\"\n", name);
  return 2;
}

int cmd_expect_args(const char *command, int argc, int optind_now, int want, const char *usage_text, berth_error **err) {
  int have = argc - optind_now;
  if (have == want)
    return 0;
  return berth_fail(err, 0, "%s: expected %d argument%s, got %d (usage: berth-runtime %s %s)", command, want,
                    want == 1 ? "" : "s", have, command, usage_text);
}

int cmd_parse_uint(const char *option, const char *text, unsigned long long *out, berth_error **err) {
  char *end = NULL;
  if (text[0] == '-' || text[0] == '\0')
    return berth_fail(err, 0, "%s: \"%s\" is not a non-negative number", option, text);
  *out = strtoull(text, &end, 10);
  if (*end != '\0')
    return berth_fail(err, 0, "%s: \"%s\" is not a non-negative number", option, text);
  return 0;
}
