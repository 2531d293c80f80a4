#include <stddef.h>
#include <getopt.h>
#include <stdio.h>

#include "cmd/runtime/commands.h"

/* Options shared by create and run. Returns 1 if opt was one of them. */
int parse_create_option(int opt, struct create_options *o, berth_error **err);

enum { OPT_BUNDLE = 'b', OPT_PID_FILE = 300, OPT_CONSOLE_SOCKET, OPT_NO_PIVOT, OPT_NO_NEW_KEYRING, OPT_PRESERVE_FDS };

int parse_create_option(int opt, struct create_options *o, berth_error **err) {
  unsigned long long n;
  switch (opt) {
  case OPT_BUNDLE:
    o->bundle = optarg;
    return 1;
  case OPT_PID_FILE:
    o->pid_file = optarg;
    return 1;
  case OPT_CONSOLE_SOCKET:
    o->console_socket = optarg;
    return 1;
  case OPT_NO_PIVOT:
    o->no_pivot = true;
    return 1;
  case OPT_NO_NEW_KEYRING:
    o->no_new_keyring = true;
    return 1;
  case OPT_PRESERVE_FDS:
    if (cmd_parse_uint("--preserve-fds", optarg, &n, err) < 0)
      return -1;
    o->preserve_fds = (int)n;
    return 1;
  }
  return 0;
}

#define CREATE_LONG_OPTIONS                                                                                  \
  {"bundle", required_argument, NULL, OPT_BUNDLE}, {"pid-file", required_argument, NULL, OPT_PID_FILE},      \
      {"console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET},                                       \
      {"no-pivot", no_argument, NULL, OPT_NO_PIVOT}, {"no-new-keyring", no_argument, NULL, OPT_NO_NEW_KEYRING}, \
      {"preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS}

int cmd_create(struct runtime_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {CREATE_LONG_OPTIONS, {NULL, 0, NULL, 0}};
  struct create_options o = {.bundle = "."};
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+b:", options, NULL)) != -1) {
    int r = parse_create_option(c, &o, err);
    if (r < 0)
      return -1;
    if (r == 0)
      return berth_fail(err, 0, "create: unknown option \"%s\"", argv[optind - 1]);
  }
  if (cmd_expect_args("create", argc, optind, 1, "[options] CONTAINER_ID", err) < 0)
    return -1;
  o.id = argv[optind];
  return container_create(ctx, &o, err) < 0 ? -1 : 0;
}

int cmd_run(struct runtime_context *ctx, int argc, char **argv, berth_error **err) {
  enum { OPT_DETACH = 'd', OPT_KEEP = 400 };
  static const struct option options[] = {
      CREATE_LONG_OPTIONS,
      {"detach", no_argument, NULL, OPT_DETACH},
      {"keep", no_argument, NULL, OPT_KEEP},
      {NULL, 0, NULL, 0},
  };
  struct run_options o = {.create = {.bundle = "."}};
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+b:d", options, NULL)) != -1) {
    int r = parse_create_option(c, &o.create, err);
    if (r < 0)
      return -1;
    if (r > 0)
      continue;
    if (c == OPT_DETACH)
      o.detach = true;
    else if (c == OPT_KEEP)
      o.keep = true;
    else
      return berth_fail(err, 0, "run: unknown option \"%s\"", argv[optind - 1]);
  }
  if (cmd_expect_args("run", argc, optind, 1, "[options] CONTAINER_ID", err) < 0)
    return -1;
  o.create.id = argv[optind];
  int status = 0;
  if (container_run(ctx, &o, &status, err) < 0)
    return -1;
  return status;
}
