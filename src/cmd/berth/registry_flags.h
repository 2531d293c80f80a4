/* The registry flags pull, push and login share, and the client they make. */
#ifndef BERTH_CMD_BERTH_REGISTRY_FLAGS_H
#define BERTH_CMD_BERTH_REGISTRY_FLAGS_H

#include <stdbool.h>

#include "registry/client.h"

struct registry_flags {
  bool tls_verify;
  const char *auth_file;
};

/* Handles --tls-verify[=BOOL] and --authfile; returns 1 when the option was
 * one of them, 0 when not, -1 on a bad value. */
int registry_flag(struct registry_flags *f, const char *name, const char *value, berth_error **err);
struct registry_client *registry_flags_client(const struct registry_flags *f, berth_error **err);

#endif
