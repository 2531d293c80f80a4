/* Small helpers for the libc-free monitor: numbers, messages, times. */
#ifndef BERTH_MONITOR_UTIL_H
#define BERTH_MONITOR_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* "2026-11-23T15:49:09.123456789Z" */
#define TIME_TEXT_LEN 30

/* Decimal digits of v (no NUL); returns their count (at most 20). */
size_t fmt_u64(char *out, uint64_t v);
/* Strict decimal: digits only, no overflow.  0 or -1. */
int parse_u64(const char *s, uint64_t *out);
/* RFC 3339 with nanoseconds in UTC, as docker's json-file writes it. */
void fmt_time(char out[TIME_TEXT_LEN], int64_t unix_ns);
/* strerror(3) for the errors the monitor can meet, "error N" otherwise. */
const char *err_text(int errnum);
/* Writes "berth-monitor: " and the NULL-terminated strings, then
 * ": <strerror(errnum)>" when errnum != 0, as one line on fd 2. */
void say(int errnum, ...) __attribute__((sentinel));
/* All of buf, retrying on EINTR, waiting while the fd is non-blocking
 * and full; 0 or -errno. */
int write_all(int fd, const void *buf, size_t n);

#endif
