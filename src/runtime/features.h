/* `berth-runtime features`: what this runtime implements, as the JSON of
 * runtime-spec's features.md. */
#ifndef BERTH_RUNTIME_FEATURES_H
#define BERTH_RUNTIME_FEATURES_H

#include "util/error.h"

char *features_json(berth_error **err);

#endif
