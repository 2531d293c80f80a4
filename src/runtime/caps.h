/* Linux capabilities by name and number, and applying process.capabilities. */
#ifndef BERTH_RUNTIME_CAPS_H
#define BERTH_RUNTIME_CAPS_H

#include <stdint.h>

#include "runtime/spec.h"
#include "util/error.h"

/* "CAP_SYS_ADMIN" -> 21; -1 when unknown. */
int caps_from_name(const char *name);
/* 21 -> "CAP_SYS_ADMIN"; NULL when unknown. */
const char *caps_name(int cap);
/* Highest capability number the running kernel knows (cap_last_cap). */
int caps_last_cap(void);
/* Names known to berth, NULL-terminated, for `features`. */
extern const char *const caps_all_names[];

/* Applies the five sets to the calling process: drops the bounding set,
 * sets effective/permitted/inheritable with capset(2), then the ambient set.
 * Call after setuid with PR_SET_KEEPCAPS (or SECBIT_KEEP_CAPS) so permitted
 * survives; capabilities the kernel does not know are ignored. */
int caps_apply(const struct spec_capabilities *caps, berth_error **err);

/* Keeps permitted capabilities across setuid/setgid (PR_SET_KEEPCAPS). */
int caps_keep_on_setuid(bool keep, berth_error **err);

#endif
