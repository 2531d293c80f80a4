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
/* A filter compiled ahead of time (seccomp_cache.h), loaded later with the
 * seccomp(2) syscall alone: what seccomp_install would load, without
 * building it again in the container's process. */
struct sock_filter;
struct seccomp_program {
  struct sock_filter *insns; /* malloc'ed */
  size_t n_insns;
  unsigned int flags; /* SECCOMP_FILTER_FLAG_* that seccomp_load would pass */
};

/* Identifies how build_filter turns a spec into a program: part of the
 * seccomp cache key.  Bump it with any change that can make the same spec
 * (with the same libseccomp) build a different program, or cached programs
 * of the old code would go on being loaded. */
#define SECCOMP_BUILD_VERSION 1

/* Whether seccomp_spec_compile + seccomp_program_load can stand in for
 * seccomp_install: no rule uses SCMP_ACT_NOTIFY (its listener fd only comes
 * from libseccomp's own load), and the libseccomp in use is one whose load
 * flags seccomp_spec_load_flags reproduces (2.5 and 2.6). */
bool seccomp_spec_precompilable(const struct spec_seccomp *seccomp);
/* Builds the filter as seccomp_install does and fills *prog with its BPF
 * program and load flags, loading nothing. */
int seccomp_spec_compile(const struct spec_seccomp *seccomp, struct seccomp_program *prog, berth_error **err);
/* The SECCOMP_FILTER_FLAG_* that libseccomp's seccomp_load passes for the
 * spec's flags on this kernel (no notify rules); fails as seccomp_install
 * would for a flag this libseccomp or kernel lacks. */
int seccomp_spec_load_flags(const struct spec_seccomp *seccomp, unsigned int *flags, berth_error **err);
/* Loads prog into the calling process with seccomp(SECCOMP_SET_MODE_FILTER).
 * Like seccomp_install, it does not set no_new_privs. */
int seccomp_program_load(const struct seccomp_program *prog, berth_error **err);
void seccomp_program_clear(struct seccomp_program *prog);

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
