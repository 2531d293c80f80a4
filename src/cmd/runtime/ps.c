#include <stddef.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/runtime/commands.h"
#include "util/cleanup.h"

static bool pid_listed(const pid_t *pids, size_t n, long pid) {
  for (size_t i = 0; i < n; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

/* The table form runs ps(1) and keeps its header and the container's rows,
 * as runc does. */
static int print_table(const pid_t *pids, size_t n, char **ps_args, int n_args, berth_error **err) {
  char cmd[4096] = "ps";
  size_t used = 2;
  for (int i = 0; i < n_args; i++) {
    if (strchr(ps_args[i], '\'') != NULL)
      return berth_fail(err, 0, "ps: argument \"%s\" may not hold a quote", ps_args[i]);
    used += (size_t)snprintf(cmd + used, sizeof(cmd) - used, " '%s'", ps_args[i]);
  }
  if (n_args == 0)
    snprintf(cmd + used, sizeof(cmd) - used, " -ef");
  FILE *ps = popen(cmd, "r");
  if (ps == NULL)
    return berth_fail(err, errno, "run ps");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  int pid_column = -1;
  for (bool header = true; getline(&line, &cap, ps) > 0; header = false) {
    cleanup_free char *copy = strdup(line);
    char *save = NULL;
    int col = 0;
    long pid = -1;
    for (char *tok = strtok_r(copy, " \t\n", &save); tok != NULL; tok = strtok_r(NULL, " \t\n", &save), col++) {
      if (header && strcmp(tok, "PID") == 0)
        pid_column = col;
      else if (!header && col == pid_column)
        pid = strtol(tok, NULL, 10);
    }
    if (header || pid_listed(pids, n, pid))
      fputs(line, stdout);
  }
  if (pclose(ps) != 0 && pid_column < 0)
    return berth_fail(err, 0, "ps: no PID column in the output of \"%s\"", cmd);
  return 0;
}

int cmd_ps(struct runtime_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
  const char *format = "table";
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+f:", options, NULL)) != -1) {
    if (c != 'f')
      return berth_fail(err, 0, "ps: unknown option \"%s\"", argv[optind - 1]);
    format = optarg;
  }
  if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
    return berth_fail(err, 0, "ps: --format \"%s\": expected table or json", format);
  if (argc - optind < 1)
    return cmd_expect_args("ps", argc, optind, 1, "[--format table|json] CONTAINER_ID [ps options]", err);
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (container_pids(ctx, argv[optind], &pids, &n, err) < 0)
    return -1;
  if (strcmp(format, "json") == 0) {
    if (argc - optind > 1)
      return berth_fail(err, 0, "ps: ps options cannot be used with --format json");
    putchar('[');
    for (size_t i = 0; i < n; i++)
      printf("%s%d", i > 0 ? "," : "", pids[i]);
    puts("]");
    return 0;
  }
  return print_table(pids, n, argv + optind + 1, argc - optind - 1, err) < 0 ? -1 : 0;
}
