/* The registry flags pull, push and login share, and the client they make. */
#ifndef BERTH_CMD_BERTH_REGISTRY_FLAGS_H
#define BERTH_CMD_BERTH_REGISTRY_FLAGS_H

#include <getopt.h>
#include <stdbool.h>

#include "registry/client.h"

struct registry_flags {
  bool tls_verify;
  const char *auth_file;
};

/* getopt codes of the shared flags, and their struct option entries. */
enum { REGISTRY_OPT_TLS = 0x1000, REGISTRY_OPT_AUTHFILE };
#define REGISTRY_FLAG_OPTIONS                                                    \
  {"tls-verify", optional_argument, NULL, REGISTRY_OPT_TLS},                     \
  {"authfile", required_argument, NULL, REGISTRY_OPT_AUTHFILE}

/* Handles one of the shared flags (by getopt code); -1 on a bad value. */
int registry_flag(struct registry_flags *f, int code, const char *value, berth_error **err);
struct registry_client *registry_flags_client(const struct registry_flags *f, berth_error **err);

#endif
