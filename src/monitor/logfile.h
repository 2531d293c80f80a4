/* The container's log in docker's json-file format: one
 *   {"log":"<line>\n","stream":"stdout","time":"<RFC 3339 nano UTC>"}
 * per line; a line longer than LOG_LINE_MAX bytes, or unfinished at EOF, is
 * written in pieces whose "log" has no trailing newline (docker's partial
 * messages).  Rotation: before a line would take the file past max_size,
 * PATH.(N-2) -> PATH.(N-1) ... PATH -> PATH.1 and a new PATH (max_file N;
 * N = 1 truncates). */
#ifndef BERTH_MONITOR_LOGFILE_H
#define BERTH_MONITOR_LOGFILE_H

#include <stddef.h>
#include <stdint.h>

#define LOG_LINE_MAX 16384

struct logfile {
  int fd;             /* -1: no log (no --log, or it could not be reopened) */
  const char *path;
  uint64_t size;      /* bytes in the current file */
  uint64_t max_size;  /* 0: no rotation */
  unsigned max_file;
};

/* The unfinished line of one stream. */
struct logline {
  size_t n;
  char buf[LOG_LINE_MAX];
};

/* Opens (appends to) path; 0 or -errno.  path NULL or "": no log. */
int logfile_open(struct logfile *lf, const char *path, uint64_t max_size, unsigned max_file);
/* Adds data read from a stream ("stdout", "stderr") at time now_ns. */
void logfile_feed(struct logfile *lf, struct logline *line, const char *stream, const char *data, size_t n,
                  int64_t now_ns);
/* The stream ended: writes its unfinished line, if any, as a partial one. */
void logfile_end(struct logfile *lf, struct logline *line, const char *stream, int64_t now_ns);

/* JSON-escapes the character at s[0] (n > 0 bytes available) as docker's
 * json-file does (Go's rules: \" \\ \n \r \t, other control characters and
 * < > & as \u00XX, U+2028/9 escaped, each byte of invalid UTF-8 as \ufffd).
 * Stores the text in out and returns its length; *used gets the number of
 * input bytes taken. */
size_t json_escape_char(const unsigned char *s, size_t n, size_t *used, char out[6]);

#endif
