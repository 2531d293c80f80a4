/* Errors carried up to one place that prints them.
 *
 * Every fallible function takes `berth_error **err`, returns a negative value
 * (or NULL) on failure and fills *err with a message that names the object and
 * the cause.  Callers add context with berth_error_wrap(); main() prints once. */
#ifndef BERTH_UTIL_ERROR_H
#define BERTH_UTIL_ERROR_H

#include <stdarg.h>

typedef struct berth_error {
  int errnum;  /* errno of the root cause, 0 when there is none */
  char *msg;
} berth_error;

/* Sets *err to "<fmt>: strerror(errnum)" (or "<fmt>" when errnum is 0) and
 * returns -1, so callers can write `return berth_fail(err, errno, ...)`. */
int berth_fail(berth_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int berth_failv(berth_error **err, int errnum, const char *fmt, va_list ap);

/* Prefixes the message already in *err with "<fmt>: " and returns -1. */
int berth_error_wrap(berth_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void berth_error_free(berth_error *err);
void berth_error_freep(berth_error **err);
#define cleanup_error __attribute__((cleanup(berth_error_freep)))

#endif
