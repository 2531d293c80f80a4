/* docker's run/create flags turned into what docker's CLI sends its
 * engine: Config and HostConfig (the engine API's field names). */
#ifndef BERTH_CMD_BERTH_CONTAINER_FLAGS_H
#define BERTH_CMD_BERTH_CONTAINER_FLAGS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "util/error.h"

struct container_flags {
  struct json_object *config, *host_config;
  const char *name;
  const char *image;
  bool detach;     /* -d (run) */
  bool sig_proxy;  /* --sig-proxy (default true) */
  const char *detach_keys;
  const char *pull; /* missing (default), always, never */
  const char *platform;
  bool quiet;
  bool help;
  bool health_cmd, no_healthcheck; /* for docker's check that they do not meet */
};

/* Parses argv (argv[0] is the command); stops at the image, whose
 * following words are the command. Errors are docker's: "invalid argument
 * \"12xb\" for \"-m, --memory\" flag: invalid size: '12xb'". */
int container_flags_parse(int argc, char **argv, bool run, struct container_flags *out, berth_error **err);
void container_flags_clear(struct container_flags *f);
/* The usage text for --help. */
void container_flags_usage(FILE *out, bool run);

#endif
