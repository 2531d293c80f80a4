#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *log_progname = "berth";
static int log_fd = -1;
static bool log_json;
static bool log_debug;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void berth_log_init(const char *progname) {
  log_progname = progname;
}

int berth_log_open(const char *path, bool json, bool debug, berth_error **err) {
  log_json = json;
  log_debug = debug;
  if (path == NULL || path[0] == '\0')
    return 0;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return berth_fail(err, errno, "open log file \"%s\"", path);
  if (log_fd >= 0)
    close(log_fd);
  log_fd = fd;
  return 0;
}

void berth_log_set_json(bool json) {
  log_json = json;
}

void berth_log_set_debug(bool debug) {
  log_debug = debug;
}

bool berth_log_debug_enabled(void) {
  return log_debug;
}

int berth_log_fd(void) {
  return log_fd;
}

/* JSON string escaping for the message field. */
static void put_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c == '\n')
      fputs("\\n", f);
    else if (c == '\t')
      fputs("\\t", f);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

static void format_line(FILE *f, bool json, enum berth_log_level level, const char *msg) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  char when[64];
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
  if (json) {
    fprintf(f, "{\"level\":\"%s\",\"msg\":", level_names[level]);
    put_json_string(f, msg);
    fprintf(f, ",\"time\":\"%s.%06ldZ\"}\n", when, (long)tv.tv_usec);
  } else {
    fprintf(f, "time=\"%s.%06ldZ\" level=%s msg=", when, (long)tv.tv_usec, level_names[level]);
    put_json_string(f, msg);
    fputc('\n', f);
  }
}

/* One write(2) per line, so lines from parent and child never interleave. */
static void write_line(int fd, bool json, enum berth_log_level level, const char *msg) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL)
    return;
  format_line(f, json, level, msg);
  fclose(f);
  ssize_t r = write(fd, buf, len);
  (void)r;
  free(buf);
}

static void emit(enum berth_log_level level, const char *msg) {
  int saved = errno;
  if (log_fd >= 0)
    write_line(log_fd, log_json, level, msg);
  if (log_json && log_fd < 0) {
    write_line(STDERR_FILENO, true, level, msg);
  } else if (level <= BERTH_LOG_WARNING || log_fd < 0) {
    char *line = NULL;
    int n = asprintf(&line, "%s: %s%s\n", log_progname, level == BERTH_LOG_WARNING ? "warning: " : "", msg);
    if (n > 0) {
      ssize_t r = write(STDERR_FILENO, line, (size_t)n);
      (void)r;
    }
    free(line);
  }
  errno = saved;
}

void berth_log(enum berth_log_level level, const char *fmt, ...) {
  if (level == BERTH_LOG_DEBUG && !log_debug)
    return;
  char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&msg, fmt, ap);
  va_end(ap);
  if (r < 0)
    return;
  emit(level, msg);
  free(msg);
}

void berth_log_error(const berth_error *err) {
  emit(BERTH_LOG_ERROR, err != NULL && err->msg != NULL ? err->msg : "unknown error");
}
