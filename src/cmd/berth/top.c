/* berth top CONTAINER [ps OPTIONS] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/berth/commands.h"
#include "engine/top.h"

static const char usage_text[] = "top CONTAINER [ps OPTIONS]";

/* docker prints ps's table through a tabwriter with a minimum cell width
 * of 20 and 3 blanks of padding; the last column is not padded. */
static void print_row(char *const *cells, size_t n, const size_t *widths) {
  for (size_t i = 0; i < n; i++) {
    if (i + 1 == n)
      printf("%s\n", cells[i]);
    else
      printf("%-*s", (int)widths[i], cells[i]);
  }
}

int cmd_top(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  int c;
  /* "+": what follows the container is ps's, flags included */
  while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
    if (c != 'h')
      return cmd_usage_error("top", usage_text, err);
    printf("Usage:  berth %s\n\nDisplay the running processes of a container\n", usage_text);
    return 0;
  }
  if (optind >= argc)
    return cmd_usage_error("top", usage_text, err);
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  struct top_table t;
  if (top_container(e, argv[optind], argv + optind + 1, (size_t)(argc - optind - 1), &t, err) < 0)
    return -1;
  size_t widths[t.n_titles];
  for (size_t i = 0; i < t.n_titles; i++) {
    size_t w = strlen(t.titles[i]);
    for (size_t r = 0; r < t.n_rows; r++)
      if (strlen(t.cells[r * t.n_titles + i]) > w)
        w = strlen(t.cells[r * t.n_titles + i]);
    widths[i] = w + 3 > 20 ? w + 3 : 20;
  }
  print_row(t.titles, t.n_titles, widths);
  for (size_t r = 0; r < t.n_rows; r++)
    print_row(&t.cells[r * t.n_titles], t.n_titles, widths);
  top_table_clear(&t);
  return 0;
}
