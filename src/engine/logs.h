/* Reading a container's json-file log (docker's format, written by the
 * monitor: one {"log","stream","time"} object per line, rotated to
 * PATH.1 .. PATH.N-1 with the oldest last) for `berth logs`. */
#ifndef BERTH_ENGINE_LOGS_H
#define BERTH_ENGINE_LOGS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

struct logs_options {
  bool follow;      /* -f: keep printing what is appended (and across rotation) until done() says so */
  bool timestamps;  /* -t: prefix each line with its RFC 3339 nano time and a space, as docker does */
  int64_t since_ns; /* unix ns, 0 = from the start */
  int64_t until_ns; /* unix ns, 0 = no end */
  long tail;        /* last N lines only, -1 = all */
  int max_file;     /* rotated files to read: PATH.1 .. PATH.(max_file-1), oldest first */
  /* -f: called when the log has no more data for a while (and on each
   * inotify wake-up); returning true ends the follow after a final read. */
  bool (*done)(void *arg);
  void *done_arg;
};

/* Writes stdout entries to out_fd and stderr entries to err_fd. A missing
 * log file is an empty log. A malformed line is skipped. */
int logs_print(const char *path, const struct logs_options *opts, int out_fd, int err_fd, berth_error **err);

/* docker's --since/--until values: RFC 3339 date-times (with or without
 * fraction and zone, "2026-11-23", "2026-11-23T15:04:05", "...Z",
 * "...+01:00"), unix timestamps "1700000000[.123456789]", or a Go duration
 * relative to now ("10m", "1h30m") -> unix ns. "invalid value for
 * \"since\": ..." style errors name the value. */
int logs_parse_time(const char *text, int64_t now_ns, int64_t *out_ns, berth_error **err);

#endif
