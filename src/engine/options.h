/* Parsers for the values of docker's run/create flags: pure functions, no
 * I/O except --env-file and --label-file.  Each returns 0, or -1 with *err
 * set to the one-line message docker gives, e.g.
 *   invalid argument "12xb" for "-m, --memory" flag: invalid size: '12xb'
 * (the caller knows the flag; these functions name the value). */
#ifndef BERTH_ENGINE_OPTIONS_H
#define BERTH_ENGINE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* docker's RAMInBytes: "12", "12b", "12k", "12kb", "1.5g", "2GiB"?: binary
 * units b k m g t p, case-insensitive, optional trailing "b"/"ib"; rejects
 * "12xb", "", "-1", "k"; "invalid size: '12xb'". */
int options_parse_bytes(const char *text, int64_t *out, berth_error **err);
/* --cpus "1.5" -> 1500000000 nano CPUs; "0" is 0; rejects negatives,
 * garbage and more CPUs than 1e9 ("invalid value: ..."). */
int options_parse_nano_cpus(const char *text, int64_t *out, berth_error **err);
/* Go duration syntax: "1m30s", "500ms", "2h", "1.5s", "10us", "0" -> ns.
 * A bare number other than 0 is refused ("missing unit in duration"). */
int options_parse_duration(const char *text, int64_t *out_ns, berth_error **err);
/* "10" or "10s" style for --stop-timeout / -t: whole seconds, may be -1. */
int options_parse_seconds(const char *text, int *out, berth_error **err);

/* --ulimit NAME=SOFT[:HARD]; NAME is docker's (nofile, nproc, core, ...),
 * stored as the OCI type "RLIMIT_NOFILE"; -1 or "unlimited" is infinity
 * (UINT64_MAX); hard defaults to soft; soft > hard is refused. */
struct ulimit {
  char type[24]; /* "RLIMIT_NOFILE" */
  char name[16]; /* "nofile" */
  uint64_t soft, hard;
};
int options_parse_ulimit(const char *text, struct ulimit *out, berth_error **err);

/* --restart no | always | unless-stopped | on-failure[:N] */
enum restart_kind { RESTART_NO, RESTART_ALWAYS, RESTART_UNLESS_STOPPED, RESTART_ON_FAILURE };
struct restart_policy {
  enum restart_kind kind;
  int max_retries; /* on-failure only; 0 = unlimited */
};
int options_parse_restart(const char *text, struct restart_policy *out, berth_error **err);
/* "no", "always", "unless-stopped", "on-failure" (docker's Name). */
const char *options_restart_name(enum restart_kind kind);

/* A mount request from -v, --mount or --tmpfs. */
enum mount_kind { MOUNT_BIND, MOUNT_VOLUME, MOUNT_TMPFS };
struct mount_request {
  enum mount_kind kind;
  char *source;      /* host path (bind, made absolute), volume name (NULL: anonymous), NULL for tmpfs */
  char *target;      /* absolute path in the container, cleaned */
  bool read_only;
  char *propagation; /* bind: "rprivate" (default), "private", "rshared", "shared", "rslave", "slave" */
  bool no_copy;      /* volume: volume-nocopy / "nocopy" */
  int64_t tmpfs_size; /* bytes, 0 = kernel default */
  uint32_t tmpfs_mode; /* 0 = default 1777 */
  char *tmpfs_options; /* --tmpfs's raw options, e.g. "rw,noexec,nosuid,size=65536k" (NULL when none) */
};
/* -v SRC:DST[:OPTS] | -v DST (anonymous volume) | -v NAME:DST[:OPTS].
 * SRC starting with "/" or "." is a bind (relative made absolute against
 * the current directory); otherwise a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*).
 * OPTS: ro, rw, z, Z (accepted, ignored), nocopy, propagation modes.
 * Errors as docker: "invalid volume specification: 'a:b:c:d'", "invalid
 * mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute". */
int options_parse_volume(const char *text, struct mount_request *out, berth_error **err);
/* --mount type=bind|volume|tmpfs,source|src=..,target|dst|destination=..,
 * readonly|ro[=true|false],bind-propagation=..,volume-nocopy,tmpfs-size=..,tmpfs-mode=0700
 * (CSV, so a field may be quoted). type defaults to volume. A bind source
 * must be absolute here (docker refuses relative ones). */
int options_parse_mount(const char *text, struct mount_request *out, berth_error **err);
/* --tmpfs /path[:opts] */
int options_parse_tmpfs(const char *text, struct mount_request *out, berth_error **err);
void options_mount_request_clear(struct mount_request *m);

/* --device HOST[:CONTAINER[:PERMS]], PERMS a non-empty subset of "rwm"
 * (default "rwm"); CONTAINER defaults to HOST; both absolute. */
struct device_request {
  char *host, *container;
  char perms[4];
};
int options_parse_device(const char *text, struct device_request *out, berth_error **err);
void options_device_request_clear(struct device_request *d);

/* -e KEY=VALUE (kept), -e KEY (taken from our environment, dropped when
 * unset): appends to *env (NULL-terminated, malloc'd, *n entries). An empty
 * key ("=x") is refused: "invalid environment variable: =x". */
int options_add_env(char ***env, size_t *n, const char *text, berth_error **err);
/* --env-file PATH: one KEY=VALUE or KEY per line; "#" comments and blank
 * lines skipped; leading whitespace of the key trimmed; errors name the
 * file and line. Also used for --label-file (labels never read the
 * environment: pass from_environment = false). */
int options_read_env_file(char ***env, size_t *n, const char *path, bool from_environment, berth_error **err);
/* --label KEY[=VALUE] (value "" when absent). */
int options_add_label(char ***labels, size_t *n, const char *text, berth_error **err);
/* Frees a NULL-terminated vector. */
void options_strv_free(char **v);

/* --stop-signal / kill -s: "TERM", "SIGTERM", "15", "SIGRTMIN+3" -> number;
 * "invalid signal: FOO". */
int options_parse_signal(const char *text, int *out, berth_error **err);

/* --cpuset-cpus "0-2,4": checked syntax (numbers, ranges a-b with a<=b, commas). */
int options_check_cpuset(const char *text, berth_error **err);

/* --user NAME|UID[:GROUP|GID]: checked syntax only; resolution against the
 * image's /etc/passwd happens at create. */
int options_check_user(const char *text, berth_error **err);

/* --log-opt max-size=10m / max-file=3 (other keys refused: "unknown log opt 'x' for json-file log driver"). */
struct log_options {
  int64_t max_size; /* bytes, 0 = unlimited */
  int max_file;     /* >= 1, default 1 */
};
int options_parse_log_opt(const char *text, struct log_options *out, berth_error **err);

#endif
