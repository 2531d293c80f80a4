/* berth system df */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/berth/commands.h"
#include "cmd/berth/format.h"
#include "image/images.h"

static const char usage_text[] = "system df [OPTIONS]";

int cmd_system_df(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    if (c == 'h') {
      printf("Usage:  berth %s\n\nShow berth disk usage\n", usage_text);
      return 0;
    }
    return cmd_usage_error("system df", usage_text, err);
  }
  struct store *s = context_store(ctx, err);
  if (s == NULL)
    return -1;
  struct image_record *recs = NULL;
  size_t n = 0;
  if (images_list(s, &recs, &n, err) < 0)
    return -1;
  image_records_free(recs, n);
  /* Shared layers count once, as docker's SIZE column does. */
  int64_t size = 0;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(s->db, "SELECT coalesce(sum(size), 0) FROM layers", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    size = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  char total[16], images_size[32], reclaim[48];
  snprintf(total, sizeof(total), "%zu", n);
  format_size(size, images_size, sizeof(images_size));
  snprintf(reclaim, sizeof(reclaim), "%s (%d%%)", images_size, size > 0 ? 100 : 0);
  struct table t;
  table_init(&t, 5);
  table_add(&t, (const char *[]){"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"});
  table_add(&t, (const char *[]){"Images", total, "0", images_size, reclaim});
  table_add(&t, (const char *[]){"Containers", "0", "0", "0B", "0B"});
  table_add(&t, (const char *[]){"Local Volumes", "0", "0", "0B", "0B"});
  table_add(&t, (const char *[]){"Build Cache", "0", "0", "0B", "0B"});
  table_print(&t, stdout);
  table_free(&t);
  return 0;
}
