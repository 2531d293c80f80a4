/* berth: a daemonless container engine with docker's command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/berth/commands.h"
#include "util/log.h"

struct command {
  const char *name;
  command_fn *fn;
  const char *help;
};

static const struct command top_commands[] = {
    {"images", cmd_images, "List images"},
    {"import", cmd_import, "Import the contents from a tarball to create a filesystem image"},
    {"load", cmd_load, "Load an image from a tar archive or STDIN"},
    {"login", cmd_login, "Log in to a registry"},
    {"logout", cmd_logout, "Log out from a registry"},
    {"pull", cmd_pull, "Download an image from a registry"},
    {"push", cmd_push, "Upload an image to a registry"},
    {"rmi", cmd_rmi, "Remove one or more images"},
    {"save", cmd_save, "Save one or more images to a tar archive (streamed to STDOUT by default)"},
    {"tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
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

static const struct command system_commands[] = {
    {"df", cmd_system_df, "Show docker disk usage"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void list_commands(FILE *out, const struct command *cmds, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (cmds[i].help != NULL)
      fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].help);
}

static void usage(FILE *out) {
  fprintf(out, "Usage:  berth [OPTIONS] COMMAND\n\nA daemonless container engine\n\n"
               "Options:\n"
               "      --root string   Engine root directory (default \"" STORE_DEFAULT_ROOT "\")\n"
               "  -D, --debug         Enable debug mode\n"
               "  -v, --version       Print version information and quit\n\n"
               "Commands:\n");
  list_commands(out, top_commands, COUNT(top_commands));
  fprintf(out, "\nManagement Commands:\n  image      Manage images\n  system     Manage berth\n");
}

struct store *context_store(struct berth_context *ctx, berth_error **err) {
  if (ctx->store == NULL)
    ctx->store = store_open(ctx->root, err);
  return ctx->store;
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

static int run(struct berth_context *ctx, int argc, char **argv) {
  const char *name = argv[0];
  const struct command *c = find(top_commands, COUNT(top_commands), name);
  const char *group = NULL;
  if (c == NULL && (strcmp(name, "image") == 0 || strcmp(name, "system") == 0)) {
    group = name;
    bool image = strcmp(name, "image") == 0;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
      FILE *out = argc < 2 ? stderr : stdout;
      fprintf(out, "Usage:  berth %s COMMAND\n\nCommands:\n", group);
      if (image)
        list_commands(out, image_commands, COUNT(image_commands));
      else
        list_commands(out, system_commands, COUNT(system_commands));
      return argc < 2 ? 1 : 0;
    }
    c = image ? find(image_commands, COUNT(image_commands), argv[1])
              : find(system_commands, COUNT(system_commands), argv[1]);
    argc--;
    argv++;
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
    return 1;
  }
  return status;
}

int main(int argc, char **argv) {
  berth_log_init("berth");
  struct berth_context ctx = {.root = getenv("BERTH_ROOT") != NULL ? getenv("BERTH_ROOT") : STORE_DEFAULT_ROOT};
  enum { OPT_ROOT = 256 };
  static const struct option options[] = {
      {"root", required_argument, NULL, OPT_ROOT},
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
  int status = run(&ctx, argc - optind, argv + optind);
  store_close(ctx.store);
  return status;
}
