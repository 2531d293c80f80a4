#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int berth_failv(berth_error **err, int errnum, const char *fmt, va_list ap) {
  if (err == NULL)
    return -1;
  char *text = NULL;
  if (vasprintf(&text, fmt, ap) < 0)
    text = NULL;
  char *msg = NULL;
  if (text != NULL && errnum != 0) {
    if (asprintf(&msg, "%s: %s", text, strerror(errnum)) < 0)
      msg = NULL;
    free(text);
  } else {
    msg = text;
  }
  berth_error *e = calloc(1, sizeof(*e));
  if (e == NULL) {
    free(msg);
    return -1;
  }
  e->errnum = errnum;
  e->msg = msg != NULL ? msg : strdup("out of memory");
  berth_error_free(*err);
  *err = e;
  return -1;
}

int berth_fail(berth_error **err, int errnum, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  berth_failv(err, errnum, fmt, ap);
  va_end(ap);
  return -1;
}

int berth_error_wrap(berth_error **err, const char *fmt, ...) {
  if (err == NULL || *err == NULL)
    return -1;
  char *prefix = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&prefix, fmt, ap);
  va_end(ap);
  if (r < 0)
    return -1;
  char *msg = NULL;
  if (asprintf(&msg, "%s: %s", prefix, (*err)->msg) >= 0) {
    free((*err)->msg);
    (*err)->msg = msg;
  }
  free(prefix);
  return -1;
}

void berth_error_free(berth_error *err) {
  if (err == NULL)
    return;
  free(err->msg);
  free(err);
}

void berth_error_freep(berth_error **err) {
  berth_error_free(*err);
  *err = NULL;
}
