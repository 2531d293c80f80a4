/* berth port CONTAINER [PRIVATE_PORT[/PROTO]]: the container's published
 * ports from its HostConfig.PortBindings ({"80/tcp": [{"HostIp": "",
 * "HostPort": "8080"}]}), shown while it runs, as docker shows its
 * NetworkSettings.Ports. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/berth/commands.h"
#include "engine/containers.h"
#include "engine/lifecycle.h"

static const char usage_text[] = "port CONTAINER [PRIVATE_PORT[/PROTO]]";

static int natural_less(const void *a, const void *b) { return strverscmp(*(char *const *)a, *(char *const *)b); }

/* "host:port", brackets around an IPv6 address (Go's JoinHostPort); no
 * address means every IPv4 one. */
static char *frontend(struct json_object *binding) {
  struct json_object *ip = NULL, *port = NULL;
  json_object_object_get_ex(binding, "HostIp", &ip);
  json_object_object_get_ex(binding, "HostPort", &port);
  const char *host = ip != NULL && *json_object_get_string(ip) != '\0' ? json_object_get_string(ip) : "0.0.0.0";
  char *out = NULL;
  if (asprintf(&out, strchr(host, ':') != NULL ? "[%s]:%s" : "%s:%s", host,
               port != NULL ? json_object_get_string(port) : "") < 0)
    return NULL;
  return out;
}

static int list_ports(const struct container *c, const char *want, char ***out, size_t *n, berth_error **err) {
  *out = NULL;
  *n = 0;
  struct json_object *bindings = NULL;
  if (c->status != CONTAINER_RUNNING && c->status != CONTAINER_PAUSED)
    return 0;
  if (!json_object_object_get_ex(c->host_config, "PortBindings", &bindings) ||
      !json_object_is_type(bindings, json_type_object))
    return 0;
  json_object_object_foreach(bindings, private_port, fronts) {
    if (want != NULL && strcmp(want, private_port) != 0)
      continue;
    for (size_t i = 0; json_object_is_type(fronts, json_type_array) && i < json_object_array_length(fronts); i++) {
      char *f = frontend(json_object_array_get_idx(fronts, i)), *line = NULL;
      if (f != NULL && want != NULL) {
        line = f;
        f = NULL;
      } else if (f != NULL && asprintf(&line, "%s -> %s", private_port, f) < 0) {
        line = NULL;
      }
      free(f);
      char **grown = line != NULL ? realloc(*out, (*n + 1) * sizeof(**out)) : NULL;
      if (grown == NULL) {
        free(line);
        return berth_fail(err, 0, "out of memory");
      }
      *out = grown;
      (*out)[(*n)++] = line;
    }
  }
  qsort(*out, *n, sizeof(**out), natural_less);
  return 0;
}

int cmd_port(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    if (c != 'h')
      return cmd_usage_error("port", usage_text, err);
    printf("Usage:  berth %s\n\nList port mappings or a specific mapping for the container\n", usage_text);
    return 0;
  }
  if (argc - optind < 1 || argc - optind > 2)
    return cmd_usage_error("port", usage_text, err);
  const char *name = argv[optind], *given = argc - optind == 2 ? argv[optind + 1] : NULL;
  char want[32];
  if (given != NULL) {
    const char *slash = strchr(given, '/');
    size_t plen = slash != NULL ? (size_t)(slash - given) : strlen(given);
    char *end = NULL;
    char number[16];
    snprintf(number, sizeof(number), "%.*s", (int)(plen < sizeof(number) ? plen : sizeof(number) - 1), given);
    unsigned long port = strtoul(number, &end, 10);
    if (plen == 0 || plen >= sizeof(number) || *end != '\0' || number[0] == '-' || number[0] == '+' || port > 65535)
      return berth_fail(err, 0, "Error: invalid port (%.*s): strconv.ParseUint: parsing \"%.*s\": %s", (int)plen, given,
                        (int)plen, given,
                        plen > 0 && *end == '\0' && port > 65535 ? "value out of range" : "invalid syntax");
    snprintf(want, sizeof(want), "%s/%s", number, slash != NULL && slash[1] != '\0' ? slash + 1 : "tcp");
  }
  struct engine *e = context_engine(ctx, err);
  struct container ct;
  if (e == NULL || containers_find(e, name, &ct, err) < 0)
    return -1;
  lifecycle_sync(e, &ct);
  char **lines = NULL;
  size_t n = 0;
  int ret = list_ports(&ct, given != NULL ? want : NULL, &lines, &n, err);
  container_clear(&ct);
  if (ret == 0 && given != NULL && n == 0)
    ret = berth_fail(err, 0, "Error: No public port '%s' published for %s", given, name);
  for (size_t i = 0; i < n; i++) {
    if (ret == 0)
      printf("%s\n", lines[i]);
    free(lines[i]);
  }
  free(lines);
  return ret;
}
