/* berth: a daemonless container engine with docker's command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/berth/commands.h"
#include "cmd/berth/volume.h"
#include "engine/engine.h"
#include "util/log.h"

struct command {
  const char *name;
  command_fn *fn;
  const char *help;
};

static const struct command top_commands[] = {
    {"attach", cmd_attach, "Attach local standard input, output, and error streams to a running container"},
    {"commit", cmd_commit, "Create a new image from a container's changes"},
    {"cp", cmd_cp, "Copy files/folders between a container and the local filesystem"},
    {"create", cmd_create, "Create a new container"},
    {"diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem"},
    {"events", cmd_events, "Get real time events from the server"},
    {"exec", cmd_exec, "Execute a command in a running container"},
    {"export", cmd_export, "Export a container's filesystem as a tar archive"},
    {"images", cmd_images, "List images"},
    {"import", cmd_import, "Import the contents from a tarball to create a filesystem image"},
    {"info", cmd_info, "Display system-wide information"},
    {"inspect", cmd_inspect, "Return low-level information on berth objects"},
    {"kill", cmd_kill, "Kill one or more running containers"},
    {"load", cmd_load, "Load an image from a tar archive or STDIN"},
    {"login", cmd_login, "Log in to a registry"},
    {"logout", cmd_logout, "Log out from a registry"},
    {"logs", cmd_logs, "Fetch the logs of a container"},
    {"pause", cmd_pause, "Pause all processes within one or more containers"},
    {"port", cmd_port, "List port mappings or a specific mapping for the container"},
    {"ps", cmd_ps, "List containers"},
    {"pull", cmd_pull, "Download an image from a registry"},
    {"push", cmd_push, "Upload an image to a registry"},
    {"rename", cmd_rename, "Rename a container"},
    {"restart", cmd_restart, "Restart one or more containers"},
    {"rm", cmd_rm, "Remove one or more containers"},
    {"rmi", cmd_rmi, "Remove one or more images"},
    {"run", cmd_run, "Create and run a new container from an image"},
    {"save", cmd_save, "Save one or more images to a tar archive (streamed to STDOUT by default)"},
    {"start", cmd_start, "Start one or more stopped containers"},
    {"stats", cmd_stats, "Display a live stream of container(s) resource usage statistics"},
    {"stop", cmd_stop, "Stop one or more running containers"},
    {"tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
    {"top", cmd_top, "Display the running processes of a container"},
    {"unpause", cmd_unpause, "Unpause all processes within one or more containers"},
    {"update", cmd_update, "Update configuration of one or more containers"},
    {"version", cmd_version, "Show the berth version information"},
    {"volume", cmd_volume, NULL}, /* a group of its own (volume.c) */
    {"wait", cmd_wait, "Block until one or more containers stop, then print their exit codes"},
};

static const struct command image_commands[] = {
    {"import", cmd_import, "Import the contents from a tarball to create a filesystem image"},
    {"inspect", cmd_image_inspect, "Display detailed information on one or more images"},
    {"load", cmd_load, "Load an image from a tar archive or STDIN"},
    {"ls", cmd_images, "List images"},
    {"list", cmd_images, NULL},
    {"prune", cmd_image_prune, "Remove unused images"},
    {"pull", cmd_pull, "Download an image from a registry"},
    {"push", cmd_push, "Upload an image to a registry"},
    {"rm", cmd_rmi, "Remove one or more images"},
    {"save", cmd_save, "Save one or more images to a tar archive (streamed to STDOUT by default)"},
    {"tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
};

static const struct command container_commands[] = {
    {"attach", cmd_attach, "Attach local standard input, output, and error streams to a running container"},
    {"cleanup", cmd_container_cleanup, NULL}, /* run by a container's monitor */
    {"commit", cmd_commit, "Create a new image from a container's changes"},
    {"cp", cmd_cp, "Copy files/folders between a container and the local filesystem"},
    {"create", cmd_create, "Create a new container"},
    {"diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem"},
    {"exec", cmd_exec, "Execute a command in a running container"},
    {"export", cmd_export, "Export a container's filesystem as a tar archive"},
    {"healthcheck", cmd_container_healthcheck, NULL}, /* run by a container's monitor */
    {"inspect", cmd_container_inspect, "Display detailed information on one or more containers"},
    {"kill", cmd_kill, "Kill one or more running containers"},
    {"logs", cmd_logs, "Fetch the logs of a container"},
    {"ls", cmd_ps, "List containers"},
    {"list", cmd_ps, NULL},
    {"ps", cmd_ps, NULL},
    {"pause", cmd_pause, "Pause all processes within one or more containers"},
    {"port", cmd_port, "List port mappings or a specific mapping for the container"},
    {"prune", cmd_container_prune, "Remove all stopped containers"},
    {"rename", cmd_rename, "Rename a container"},
    {"restart", cmd_restart, "Restart one or more containers"},
    {"rm", cmd_rm, "Remove one or more containers"},
    {"run", cmd_run, "Create and run a new container from an image"},
    {"start", cmd_start, "Start one or more stopped containers"},
    {"stats", cmd_stats, "Display a live stream of container(s) resource usage statistics"},
    {"stop", cmd_stop, "Stop one or more running containers"},
    {"top", cmd_top, "Display the running processes of a container"},
    {"unpause", cmd_unpause, "Unpause all processes within one or more containers"},
    {"update", cmd_update, "Update configuration of one or more containers"},
    {"wait", cmd_wait, "Block until one or more containers stop, then print their exit codes"},
};

static const struct command system_commands[] = {
    {"df", cmd_system_df, "Show docker disk usage"},
    {"events", cmd_events, "Get real time events from the server"},
    {"info", cmd_info, "Display system-wide information"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void list_commands(FILE *out, const struct command *cmds, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (cmds[i].help != NULL)
      fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].help);
}

static const struct {
  const char *name, *help;
  const struct command *commands;
  size_t n;
} groups[] = {
    {"container", "Manage containers", container_commands, COUNT(container_commands)},
    {"image", "Manage images", image_commands, COUNT(image_commands)},
    {"system", "Manage berth", system_commands, COUNT(system_commands)},
    {"volume", "Manage volumes", NULL, 0},
};

static void usage(FILE *out) {
  fprintf(out, "Usage:  berth [OPTIONS] COMMAND\n\nA daemonless container engine\n\n"
               "Options:\n"
               "      --root string      Engine root directory (default \"" STORE_DEFAULT_ROOT "\")\n"
               "      --runroot string   Directory for live state (default \"" ENGINE_DEFAULT_RUNROOT "\", or\n"
               "                         ROOT/run with another --root)\n"
               "  -D, --debug         Enable debug mode\n"
               "  -v, --version       Print version information and quit\n\n"
               "Commands:\n");
  list_commands(out, top_commands, COUNT(top_commands));
  fprintf(out, "\nManagement Commands:\n");
  for (size_t g = 0; g < COUNT(groups); g++)
    fprintf(out, "  %-10s %s\n", groups[g].name, groups[g].help);
}

struct store *context_store(struct berth_context *ctx, berth_error **err) {
  if (ctx->store == NULL)
    ctx->store = store_open(ctx->root, err);
  return ctx->store;
}

struct engine *context_engine(struct berth_context *ctx, berth_error **err) {
  if (ctx->engine == NULL && context_store(ctx, err) != NULL)
    ctx->engine = engine_open(ctx->store, ctx->runroot, err);
  return ctx->engine;
}

int cmd_usage_error(const char *command, const char *usage_text, berth_error **err) {
  return berth_fail(err, 0, "%s: invalid arguments (usage: berth %s)", command, usage_text);
}

static const struct command *find(const struct command *cmds, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(cmds[i].name, name) == 0)
      return &cmds[i];
  return NULL;
}

void cmd_report(berth_error *err) {
  berth_log_error(err);
  berth_error_free(err);
}

int cmd_flag_error(const char *command, berth_error **err) {
  fprintf(stderr, "berth: %s\nSee 'berth %s --help'.\n", (*err)->msg, command);
  berth_error_free(*err);
  *err = NULL;
  return 125;
}

static int run(struct berth_context *ctx, int argc, char **argv) {
  const char *name = argv[0];
  const struct command *c = find(top_commands, COUNT(top_commands), name);
  const char *group = NULL;
  for (size_t g = 0; c == NULL && g < COUNT(groups); g++) {
    if (strcmp(name, groups[g].name) != 0)
      continue;
    group = name;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
      FILE *out = argc < 2 ? stderr : stdout;
      fprintf(out, "Usage:  berth %s COMMAND\n\n%s\n\nCommands:\n", group, groups[g].help);
      list_commands(out, groups[g].commands, groups[g].n);
      return argc < 2 ? 1 : 0;
    }
    c = find(groups[g].commands, groups[g].n, argv[1]);
    argc--;
    argv++;
    break;
  }
  if (c == NULL) {
    fprintf(stderr, "berth: '%s%s%s' is not a berth command.\nSee 'berth --help'\n", group != NULL ? group : "",
            group != NULL ? " " : "", argv[0]);
    return 1;
  }
  berth_error *err = NULL;
  optind = 0;
  int status = c->fn(ctx, argc, argv, &err);
  if (status < 0) {
    berth_log_error(err);
    berth_error_free(err);
    /* -N: the command's own exit code for its failure (125 for run) */
    return status == -1 ? 1 : -status;
  }
  return status;
}

int main(int argc, char **argv) {
  berth_log_init("berth");
  struct berth_context ctx = {.argv = argv, .root = getenv("BERTH_ROOT") != NULL ? getenv("BERTH_ROOT") : STORE_DEFAULT_ROOT};
  enum { OPT_ROOT = 256, OPT_RUNROOT };
  static const struct option options[] = {
      {"root", required_argument, NULL, OPT_ROOT},
      {"runroot", required_argument, NULL, OPT_RUNROOT},
      {"debug", no_argument, NULL, 'D'},
      {"version", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+Dvh", options, NULL)) != -1) {
    switch (c) {
    case OPT_ROOT:
      ctx.root = optarg;
      break;
    case OPT_RUNROOT:
      ctx.runroot = optarg;
      break;
    case 'D':
      berth_log_set_debug(true);
      break;
    case 'v':
      printf("berth version %s\n", BERTH_VERSION);
      return 0;
    case 'h':
      usage(stdout);
      return 0;
    default:
      fprintf(stderr, "berth: unknown flag: %s\nSee 'berth --help'.\n", argv[optind - 1]);
      return 125;
    }
  }
  if (optind >= argc) {
    usage(stderr);
    return 1;
  }
  const char *runroot = getenv("BERTH_RUNROOT");
  if (ctx.runroot == NULL && runroot != NULL && *runroot != '\0')
    ctx.runroot = runroot;
  int status = run(&ctx, argc - optind, argv + optind);
  if (ctx.engine != NULL)
    engine_close(ctx.engine);
  else
    store_close(ctx.store);
  return status;
}
