/* berth info [--format TEMPLATE|json]: docker info's server section. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/berth/commands.h"
#include "cmd/berth/template.h"
#include "engine/info.h"
#include "engine/stats.h"
#include "util/json.h"

static const char usage_text[] = "info [OPTIONS]";

static const char *str(struct json_object *o, const char *key) {
  struct json_object *v;
  return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static int64_t num(struct json_object *o, const char *key) {
  struct json_object *v;
  return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static void print_text(struct json_object *o) {
  printf("Server:\n");
  printf(" Containers: %lld\n", (long long)num(o, "Containers"));
  printf("  Running: %lld\n", (long long)num(o, "ContainersRunning"));
  printf("  Paused: %lld\n", (long long)num(o, "ContainersPaused"));
  printf("  Stopped: %lld\n", (long long)num(o, "ContainersStopped"));
  printf(" Images: %lld\n", (long long)num(o, "Images"));
  printf(" Server Version: %s\n", str(o, "ServerVersion"));
  printf(" Storage Driver: %s\n", str(o, "Driver"));
  struct json_object *status = json_object_object_get(o, "DriverStatus");
  for (size_t i = 0; status != NULL && i < json_object_array_length(status); i++) {
    struct json_object *pair = json_object_array_get_idx(status, i);
    printf("  %s: %s\n", json_object_get_string(json_object_array_get_idx(pair, 0)),
           json_object_get_string(json_object_array_get_idx(pair, 1)));
  }
  printf(" Logging Driver: %s\n", str(o, "LoggingDriver"));
  printf(" Cgroup Driver: %s\n", str(o, "CgroupDriver"));
  printf(" Cgroup Version: %s\n", str(o, "CgroupVersion"));
  printf(" Runtimes:");
  json_object_object_foreach(json_object_object_get(o, "Runtimes"), name, value) {
    (void)value;
    printf(" %s", name);
  }
  printf("\n Default Runtime: %s\n", str(o, "DefaultRuntime"));
  /* "name=seccomp,profile=builtin" as docker prints it */
  struct json_object *security = json_object_object_get(o, "SecurityOptions");
  if (security != NULL && json_object_array_length(security) > 0) {
    printf(" Security Options:\n");
    for (size_t i = 0; i < json_object_array_length(security); i++) {
      char buf[256];
      snprintf(buf, sizeof(buf), "%s", json_object_get_string(json_object_array_get_idx(security, i)));
      for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
        if (strncmp(kv, "name=", 5) == 0)
          printf("  %s\n", kv + 5);
        else if (strncmp(kv, "profile=", 8) == 0)
          printf("   Profile: %s\n", kv + 8);
      }
    }
  }
  printf(" Kernel Version: %s\n", str(o, "KernelVersion"));
  printf(" Operating System: %s\n", str(o, "OperatingSystem"));
  printf(" OSType: %s\n", str(o, "OSType"));
  printf(" Architecture: %s\n", str(o, "Architecture"));
  printf(" CPUs: %lld\n", (long long)num(o, "NCPU"));
  char mem[32];
  stats_bytes_size((uint64_t)num(o, "MemTotal"), mem, sizeof(mem));
  printf(" Total Memory: %s\n", mem);
  printf(" Name: %s\n", str(o, "Name"));
  printf(" ID: %s\n", str(o, "ID"));
  printf(" Docker Root Dir: %s\n", str(o, "DockerRootDir"));
  printf(" Debug Mode: %s\n", json_object_get_boolean(json_object_object_get(o, "Debug")) ? "true" : "false");
}

int cmd_info(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {
      {"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  const char *format = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "f:h", options, NULL)) != -1) {
    switch (c) {
    case 'f':
      format = optarg;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nDisplay system-wide information\n\nOptions:\n"
             "  -f, --format string   Format output using a custom template:\n"
             "                        'json':             Print in JSON format\n"
             "                        'TEMPLATE':         Print output using the given Go template.\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("info", usage_text, err);
    }
  }
  if (optind != argc)
    return cmd_usage_error("info", usage_text, err);
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  cleanup_json struct json_object *info = engine_info(e, err);
  if (info == NULL)
    return -1;
  if (format == NULL || *format == '\0') {
    print_text(info);
    return 0;
  }
  return template_print(stdout, strcmp(format, "json") == 0 ? "{{json .}}" : format, info, err) < 0 ? -1 : 0;
}
