/* Creating and joining namespaces for a container's init. */
#ifndef BERTH_RUNTIME_NAMESPACES_H
#define BERTH_RUNTIME_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

#include "runtime/spec.h"
#include "util/error.h"

/* CLONE_NEW* for the namespaces the config creates (not those it joins).
 * The cgroup namespace is left out: it must be made after the process
 * entered its cgroup. */
int ns_new_flags(const struct spec_linux *l);
/* true when init cannot be made by one clone: a namespace is joined by path,
 * or a time namespace needs its offsets before any process enters it. */
bool ns_needs_intermediate(const struct spec_linux *l);
/* Writes uid_map and gid_map of pid. */
int ns_write_id_maps(pid_t pid, const struct spec_linux *l, berth_error **err);
/* setns into every namespace given by path; the user namespace first. */
int ns_join_paths(const struct spec_linux *l, berth_error **err);
/* Writes /proc/self/timens_offsets (after unshare(CLONE_NEWTIME)). */
int ns_set_time_offsets(const struct spec_linux *l, berth_error **err);
/* clone(2) with fork semantics: returns 0 in the child. */
pid_t ns_clone(unsigned long flags);

#endif
