/* Compiled seccomp filters kept under the state root, so that a profile is
 * built with libseccomp once per host instead of once per container.
 *
 * <root>/seccomp-cache/<16 hex digits>: the digits are a 64-bit FNV-1a hash
 * of the entry's key; the file holds the whole key and the BPF program, and
 * a lookup compares the key byte for byte, so a hash collision or a changed
 * profile can only miss, never load another profile's program.  The key is
 * a deterministic serialization of everything the program depends on: the
 * parsed linux.seccomp (as build_filter reads it), SECCOMP_BUILD_VERSION and
 * the berth version, the libseccomp version, the native architecture and
 * the kernel's seccomp API level.
 *
 * File: "BERTHSC1", u32 key length, u32 instruction count, the key, the
 * instructions (struct sock_filter), then a u64 FNV-1a of everything before
 * it; all in host byte order.  Files are written whole under a temporary
 * name and renamed into place, so concurrent writers of one entry each leave
 * a complete file; a file that fails any check is rebuilt and replaced. */
#ifndef BERTH_RUNTIME_SECCOMP_CACHE_H
#define BERTH_RUNTIME_SECCOMP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "util/error.h"

#define SECCOMP_CACHE_DIR "seccomp-cache"

/* Fills *prog with the program for seccomp (which must pass
 * seccomp_spec_precompilable): from the cache under the state root rootfd
 * when it has a valid entry (*hit true), else compiled and stored.  Failing
 * to store is logged at debug level only: the program is still returned.
 * Fails only when the program cannot be compiled. */
int seccomp_cache_get(int rootfd, const struct spec_seccomp *seccomp, struct seccomp_program *prog, bool *hit,
                      berth_error **err);

/* The cache key of seccomp (malloc'ed, *len bytes) and its file name
 * (16 hex digits and a NUL): for tests. */
unsigned char *seccomp_cache_key(const struct spec_seccomp *seccomp, size_t *len, berth_error **err);
void seccomp_cache_entry_name(const unsigned char *key, size_t len, char name[17]);

/* 64-bit FNV-1a of data, continuing from h (start with SECCOMP_CACHE_FNV_INIT). */
#define SECCOMP_CACHE_FNV_INIT 0xcbf29ce484222325ULL
uint64_t seccomp_cache_fnv1a(uint64_t h, const void *data, size_t len);

#endif
