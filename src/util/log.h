/* Diagnostics: warnings and debug lines, and the one place errors are printed.
 * With --log they also go to that file, as text or as JSON lines (the format
 * containerd's shim and podman read back). */
#ifndef BERTH_UTIL_LOG_H
#define BERTH_UTIL_LOG_H

#include <stdbool.h>

#include "util/error.h"

enum berth_log_level { BERTH_LOG_ERROR, BERTH_LOG_WARNING, BERTH_LOG_INFO, BERTH_LOG_DEBUG };

/* The program name shown before messages on stderr ("berth-runtime"). */
void berth_log_init(const char *progname);
/* Opens the log file (appending); json selects JSON lines. */
int berth_log_open(const char *path, bool json, bool debug, berth_error **err);
void berth_log_set_json(bool json);
void berth_log_set_debug(bool debug);
bool berth_log_debug_enabled(void);
/* The log file descriptor, or -1: children keep it to report late errors. */
int berth_log_fd(void);

void berth_log(enum berth_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define berth_warn(...) berth_log(BERTH_LOG_WARNING, __VA_ARGS__)
#define berth_debug(...)               \
  do {                                 \
    if (berth_log_debug_enabled())     \
      berth_log(BERTH_LOG_DEBUG, __VA_ARGS__); \
  } while (0)

/* Prints an error once: "<prog>: <msg>" on stderr, and to the log file. */
void berth_log_error(const berth_error *err);

#endif
