/* How docker's CLI prints things: aligned tables, human sizes and ages. */
#ifndef BERTH_CMD_BERTH_FORMAT_H
#define BERTH_CMD_BERTH_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* "4.26MB": decimal units, three significant digits (docker's SIZE). */
void format_size(int64_t bytes, char *buf, size_t len);
/* "4 months ago", "About an hour ago", "Less than a second ago". */
void format_since(time_t then, time_t now, char *buf, size_t len);
/* The unix time of an RFC 3339 timestamp, or 0. */
time_t format_parse_rfc3339(const char *text);

/* Rows of cells printed with columns padded to their widest cell plus three
 * spaces, as Go's tabwriter does for docker. */
struct table {
  size_t n_cols;
  char **cells; /* n_rows * n_cols, owned */
  size_t n_rows, cap_rows;
};
void table_init(struct table *t, size_t n_cols);
/* Adds a row of n_cols strings (copied). */
void table_add(struct table *t, const char *const *row);
void table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

#endif
