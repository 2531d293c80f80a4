/* docker's --change (import, commit): one Dockerfile instruction applied to
 * an image's "config" object.  The instructions docker accepts there: CMD,
 * ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME and
 * WORKDIR.  Values are Dockerfile words (quotes and backslashes as the
 * Dockerfile parser reads them); variables are not expanded. */
#ifndef BERTH_IMAGE_CONFIG_CHANGE_H
#define BERTH_IMAGE_CONFIG_CHANGE_H

#include <json-c/json.h>
#include <stdbool.h>

#include "util/error.h"

/* What earlier changes of one set did (ENTRYPOINT drops Cmd unless a CMD
 * came before it, as in a Dockerfile). */
struct config_change_state {
  bool cmd_set;
};

/* Applies change ("CMD [\"sh\"]", "ENV A=b C=d", ...) to cfg.  Errors are
 * docker's: "run is not a valid change command", or name the instruction. */
int config_change_apply(struct json_object *cfg, const char *change, struct config_change_state *st,
                        berth_error **err);

/* Applies a NULL-terminated list (may be NULL), stopping at the first error. */
int config_change_apply_all(struct json_object *cfg, const char *const *changes, berth_error **err);

#endif
