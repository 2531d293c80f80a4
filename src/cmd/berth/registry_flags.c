#include "cmd/berth/registry_flags.h"

#include <string.h>

int registry_flag(struct registry_flags *f, int code, const char *value, berth_error **err) {
  if (code == REGISTRY_OPT_TLS) {
    if (value == NULL || strcmp(value, "true") == 0)
      f->tls_verify = true;
    else if (strcmp(value, "false") == 0)
      f->tls_verify = false;
    else
      return berth_fail(err, 0, "--tls-verify=%s: expected true or false", value);
    return 0;
  }
  f->auth_file = value;
  return 0;
}

struct registry_client *registry_flags_client(const struct registry_flags *f, berth_error **err) {
  struct registry_options o = {.tls_verify = f->tls_verify, .auth_file = f->auth_file};
  return registry_client_new(&o, err);
}
