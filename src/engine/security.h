/* Docker's default security settings for containers: the capability set
 * and the seccomp profile, and conversion of a docker seccomp profile file
 * (`--security-opt seccomp=FILE`) to the OCI linux.seccomp form that
 * config.json takes. */
#ifndef BERTH_ENGINE_SECURITY_H
#define BERTH_ENGINE_SECURITY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* Docker's default capabilities ("CAP_CHOWN", ... 14 names), NULL-terminated. */
extern const char *const security_default_caps[];
/* Every capability this kernel knows ("CAP_CHOWN" ... up to CAP_LAST_CAP
 * read from /proc/sys/kernel/cap_last_cap), for --privileged; malloc'd
 * NULL-terminated vector of static strings (free the vector only). */
const char **security_all_caps(void);

/* The capability set for --cap-add/--cap-drop applied to the default
 * (or to all when privileged): names accepted with or without "CAP_",
 * any case; "ALL" adds or drops every one; drop is applied after add
 * except that an explicit add survives "--cap-drop ALL" (docker's rule).
 * Unknown names: "unknown capability: \"CAP_FOO\"". Result malloc'd,
 * NULL-terminated, sorted, entries malloc'd. */
int security_caps(char **add, char **drop, bool privileged, char ***out, berth_error **err);
void security_caps_free(char **caps);

/* Docker's default seccomp profile as an OCI linux.seccomp object for
 * x86_64 (architectures SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32),
 * with the rules that depend on capabilities resolved against caps (the
 * container's final set): e.g. CAP_SYS_ADMIN allows mount, CAP_SYS_PTRACE
 * process_vm_readv.  Default action SCMP_ACT_ERRNO with errno EPERM;
 * clone/clone3 restricted as docker does (no namespace flags without
 * CAP_SYS_ADMIN; clone3 gets ENOSYS). New reference owned by the caller. */
struct json_object *security_default_seccomp(char **caps, berth_error **err);

/* A docker seccomp profile (JSON text from FILE: defaultAction,
 * defaultErrnoRet, archMap/architectures, syscalls with names, action,
 * args, includes/excludes {caps, arches, minKernel}) turned into the OCI
 * linux.seccomp object, resolved for x86_64 and caps.  Errors name the
 * origin: "seccomp profile \"FILE\": syscalls[3].action: ...". */
struct json_object *security_seccomp_from_docker(const char *text, size_t len, const char *origin, char **caps,
                                                 berth_error **err);

#endif
