#include <stddef.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cmd/runtime/commands.h"

static void print_json(const struct container_summary *list, size_t n) {
  struct json_object *arr = json_object_new_array();
  for (size_t i = 0; i < n; i++) {
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "ociVersion", json_object_new_string("1.2.0"));
    json_object_object_add(o, "id", json_object_new_string(list[i].id));
    json_object_object_add(o, "pid", json_object_new_int(list[i].pid));
    json_object_object_add(o, "status", json_object_new_string(list[i].status));
    json_object_object_add(o, "bundle", json_object_new_string(list[i].bundle));
    json_object_object_add(o, "created", json_object_new_string(list[i].created != NULL ? list[i].created : ""));
    json_object_object_add(o, "owner", json_object_new_string("root"));
    json_object_array_add(arr, o);
  }
  puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(arr);
}

static void print_table(const struct container_summary *list, size_t n) {
  int w = 2;
  for (size_t i = 0; i < n; i++)
    if ((int)strlen(list[i].id) > w)
      w = (int)strlen(list[i].id);
  printf("%-*s   %-8s %-10s %-40s %-30s %s\n", w, "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
  for (size_t i = 0; i < n; i++)
    printf("%-*s   %-8d %-10s %-40s %-30s %s\n", w, list[i].id, list[i].pid, list[i].status, list[i].bundle,
           list[i].created != NULL ? list[i].created : "", "root");
}

int cmd_list(struct runtime_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {
      {"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'}, {NULL, 0, NULL, 0}};
  const char *format = "table";
  bool quiet = false;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+f:q", options, NULL)) != -1) {
    if (c == 'f')
      format = optarg;
    else if (c == 'q')
      quiet = true;
    else
      return berth_fail(err, 0, "list: unknown option \"%s\"", argv[optind - 1]);
  }
  if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
    return berth_fail(err, 0, "list: --format \"%s\": expected table or json", format);
  if (cmd_expect_args("list", argc, optind, 0, "[--format table|json] [--quiet]", err) < 0)
    return -1;
  struct container_summary *list = NULL;
  size_t n = 0;
  if (container_list(ctx, &list, &n, err) < 0)
    return -1;
  if (quiet) {
    for (size_t i = 0; i < n; i++)
      puts(list[i].id);
  } else if (strcmp(format, "json") == 0) {
    print_json(list, n);
  } else {
    print_table(list, n);
  }
  container_summaries_free(list, n);
  return 0;
}
