/* linux.seccomp through libseccomp. */
#ifndef BERTH_RUNTIME_SECCOMP_H
#define BERTH_RUNTIME_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/spec.h"
#include "util/error.h"

/* Builds the filter and loads it into the calling process.  When a rule uses
 * SCMP_ACT_NOTIFY, *notify_fd receives the listener fd (else -1).  It does
 * not set no_new_privs: without it the kernel needs CAP_SYS_ADMIN, so load
 * before dropping capabilities. */
int seccomp_install(const struct spec_seccomp *seccomp, int *notify_fd, berth_error **err);
/* Builds the filter and writes its BPF program to fd without loading it:
 * validation and tests.  (Not named seccomp_export_bpf: libseccomp exports
 * that symbol, and the two would clash at compile and static link time.) */
int seccomp_spec_export_bpf(const struct spec_seccomp *seccomp, int fd, berth_error **err);
/* Sends the notify fd with the container process state (runtime-spec
 * "containerProcessState" JSON) to the unix socket at listener_path. */
int seccomp_send_to_listener(const char *listener_path, int notify_fd, const char *process_state_json,
                             berth_error **err);
/* Checks names of actions, architectures, flags and operators without
 * building; syscall names unknown to this kernel are skipped, as runc does. */
int seccomp_validate(const struct spec_seccomp *seccomp, berth_error **err);

/* Whether the profile surely lets a call of syscall_name through (allowed or
 * logged, whatever its arguments); false when in doubt. */
bool seccomp_lets_through(const struct spec_seccomp *seccomp, const char *syscall_name);

/* Names known, for `features`: NULL-terminated static arrays. */
extern const char *const seccomp_action_names[];
extern const char *const seccomp_arch_names[];
extern const char *const seccomp_flag_names[];
extern const char *const seccomp_op_names[];

/* Whether a SECCOMP_FILTER_FLAG_* name can be used with this libseccomp and
 * kernel (`features` supportedFlags). */
bool seccomp_flag_supported(const char *flag);
/* The libseccomp version in use, "2.5.4", written into buf. */
void seccomp_library_version(char *buf, size_t len);

#endif
