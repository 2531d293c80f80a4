#include "cmd/berth/format.h"

#include <stdlib.h>
#include <string.h>

void format_size(int64_t bytes, char *buf, size_t len) {
  static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = (double)bytes;
  size_t u = 0;
  while (v >= 1000.0 && u < sizeof(units) / sizeof(units[0]) - 1) {
    v /= 1000.0;
    u++;
  }
  /* %.3g, as Go's HumanSizeWithPrecision(size, 3) */
  snprintf(buf, len, "%.3g%s", v, units[u]);
}

void format_since(time_t then, time_t now, char *buf, size_t len) {
  double s = difftime(now, then);
  if (s < 1)
    snprintf(buf, len, "Less than a second ago");
  else if (s < 60)
    snprintf(buf, len, "%d second%s ago", (int)s, (int)s == 1 ? "" : "s");
  else if (s / 60 < 2)
    snprintf(buf, len, "About a minute ago");
  else if (s / 60 < 60)
    snprintf(buf, len, "%d minutes ago", (int)(s / 60));
  else if (s / 3600 < 2)
    snprintf(buf, len, "About an hour ago");
  else if (s / 3600 < 48)
    snprintf(buf, len, "%d hours ago", (int)(s / 3600));
  else if (s / 86400 < 7 * 2)
    snprintf(buf, len, "%d days ago", (int)(s / 86400));
  else if (s / 86400 < 30 * 2)
    snprintf(buf, len, "%d weeks ago", (int)(s / 86400 / 7));
  else if (s / 86400 < 365 * 2)
    snprintf(buf, len, "%d months ago", (int)(s / 86400 / 30));
  else
    snprintf(buf, len, "%d years ago", (int)(s / 86400 / 365));
}

time_t format_parse_rfc3339(const char *text) {
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  if (text == NULL || strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  return timegm(&tm);
}

void table_init(struct table *t, size_t n_cols) {
  memset(t, 0, sizeof(*t));
  t->n_cols = n_cols;
}

void table_add(struct table *t, const char *const *row) {
  if (t->n_rows == t->cap_rows) {
    size_t cap = t->cap_rows == 0 ? 16 : 2 * t->cap_rows;
    char **grown = realloc(t->cells, cap * t->n_cols * sizeof(char *));
    if (grown == NULL)
      return;
    t->cells = grown;
    t->cap_rows = cap;
  }
  for (size_t c = 0; c < t->n_cols; c++)
    t->cells[t->n_rows * t->n_cols + c] = strdup(row[c] != NULL ? row[c] : "");
  t->n_rows++;
}

void table_print(const struct table *t, FILE *out) {
  size_t widths[t->n_cols];
  memset(widths, 0, sizeof(widths));
  for (size_t r = 0; r < t->n_rows; r++)
    for (size_t c = 0; c < t->n_cols; c++) {
      size_t w = strlen(t->cells[r * t->n_cols + c]);
      if (w > widths[c])
        widths[c] = w;
    }
  for (size_t r = 0; r < t->n_rows; r++) {
    for (size_t c = 0; c < t->n_cols; c++) {
      const char *cell = t->cells[r * t->n_cols + c];
      if (c + 1 == t->n_cols)
        fprintf(out, "%s\n", cell);
      else
        fprintf(out, "%-*s   ", (int)widths[c], cell);
    }
  }
}

void table_free(struct table *t) {
  for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
    free(t->cells[i]);
  free(t->cells);
  memset(t, 0, sizeof(*t));
}
