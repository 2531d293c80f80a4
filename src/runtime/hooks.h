/* OCI hooks: each gets the container state JSON on stdin, runs with its
 * args and env, and fails the operation when it exits non-zero or outlives
 * its timeout. */
#ifndef BERTH_RUNTIME_HOOKS_H
#define BERTH_RUNTIME_HOOKS_H

#include "runtime/spec.h"
#include "util/error.h"

/* Runs the hooks of one kind in order; stops at the first failure. */
int hooks_run(const struct spec_hooks *hooks, enum spec_hook_kind kind, const char *state_json, berth_error **err);

#endif
