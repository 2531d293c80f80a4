/* berth stats [OPTIONS] [CONTAINER...]: docker's columns and units.  The
 * first figures come after a short interval (CPU % needs two samples),
 * then, unless --no-stream, the screen is redrawn every second. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/berth/commands.h"
#include "cmd/berth/format.h"
#include "cmd/berth/template.h"
#include "engine/containers.h"
#include "engine/lifecycle.h"
#include "engine/stats.h"
#include "util/cleanup.h"
#include "util/json.h"

static const char usage_text[] = "stats [OPTIONS] [CONTAINER...]";

#define FIRST_INTERVAL_MS 500
#define INTERVAL_MS 1000
#define DEFAULT_TEMPLATE                                                                                               \
  "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

struct target {
  char id[CONTAINER_ID_LEN + 1];
  char *given; /* the argument as typed (docker's .Container), or the full ID */
  struct stats_sample prev;
  bool have_prev;
};

struct targets {
  struct target *v;
  size_t n;
};

static void targets_clear(struct targets *t) {
  for (size_t i = 0; i < t->n; i++)
    free(t->v[i].given);
  free(t->v);
  *t = (struct targets){0};
}

static struct target *targets_add(struct targets *t, const char *id, const char *given) {
  struct target *grown = realloc(t->v, (t->n + 1) * sizeof(*grown));
  if (grown == NULL)
    return NULL;
  t->v = grown;
  struct target *x = &t->v[t->n];
  *x = (struct target){0};
  snprintf(x->id, sizeof(x->id), "%s", id);
  if ((x->given = strdup(given)) == NULL)
    return NULL;
  t->n++;
  return x;
}

static void sleep_ms(long ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0)
    ;
}

/* The columns of one container, under docker's field names. */
static struct json_object *row_json(const struct container *c, const char *given, const struct stats_sample *prev,
                                    const struct stats_sample *cur, bool trunc) {
  char buf[96], a[32], b[32];
  struct json_object *o = json_object_new_object();
  format_size((int64_t)cur->blk_read, a, sizeof(a));
  format_size((int64_t)cur->blk_write, b, sizeof(b));
  snprintf(buf, sizeof(buf), "%s / %s", a, b);
  json_object_object_add(o, "BlockIO", json_object_new_string(buf));
  snprintf(buf, sizeof(buf), "%.2f%%", prev != NULL ? stats_cpu_percent(prev, cur) : 0.0);
  json_object_object_add(o, "CPUPerc", json_object_new_string(buf));
  json_object_object_add(o, "Container", json_object_new_string(given));
  snprintf(buf, sizeof(buf), "%.*s", trunc ? 12 : CONTAINER_ID_LEN, c->id);
  json_object_object_add(o, "ID", json_object_new_string(buf));
  snprintf(buf, sizeof(buf), "%.2f%%", stats_mem_percent(cur));
  json_object_object_add(o, "MemPerc", json_object_new_string(buf));
  stats_bytes_size(cur->mem_usage, a, sizeof(a));
  stats_bytes_size(cur->mem_limit, b, sizeof(b));
  snprintf(buf, sizeof(buf), "%s / %s", a, b);
  json_object_object_add(o, "MemUsage", json_object_new_string(buf));
  json_object_object_add(o, "Name", json_object_new_string(c->name != NULL && *c->name ? c->name : "--"));
  format_size((int64_t)cur->net_rx, a, sizeof(a));
  format_size((int64_t)cur->net_tx, b, sizeof(b));
  snprintf(buf, sizeof(buf), "%s / %s", a, b);
  json_object_object_add(o, "NetIO", json_object_new_string(buf));
  snprintf(buf, sizeof(buf), "%llu", (unsigned long long)cur->pids);
  json_object_object_add(o, "PIDs", json_object_new_string(buf));
  return o;
}

/* What each field is called in a table's header. */
static struct json_object *header_json(void) {
  static const char *const names[][2] = {
      {"BlockIO", "BLOCK I/O"}, {"CPUPerc", "CPU %"}, {"Container", "CONTAINER"},
      {"ID", "CONTAINER ID"},   {"MemPerc", "MEM %"}, {"MemUsage", "MEM USAGE / LIMIT"},
      {"Name", "NAME"},         {"NetIO", "NET I/O"}, {"PIDs", "PIDS"},
  };
  struct json_object *o = json_object_new_object();
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    json_object_object_add(o, names[i][0], json_object_new_string(names[i][1]));
  return o;
}

/* The template applied to obj, without its newline. */
static char *render(const char *tmpl, struct json_object *obj, berth_error **err) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (f == NULL) {
    berth_fail(err, 0, "out of memory");
    return NULL;
  }
  int r = template_print(f, tmpl, obj, err);
  fclose(f);
  if (r < 0) {
    free(text);
    return NULL;
  }
  if (len > 0 && text[len - 1] == '\n')
    text[len - 1] = '\0';
  return text;
}

/* Rows of tab-separated cells aligned as docker's tabwriter does (minimum
 * width 10, padding 3, the last cell of a line unpadded). */
static void print_table(char **lines, size_t n, FILE *out) {
  size_t widths[32] = {0};
  for (size_t r = 0; r < n; r++) {
    size_t col = 0;
    for (const char *p = lines[r]; col < 32; col++) {
      const char *tab = strchr(p, '\t');
      if (tab == NULL)
        break;
      if ((size_t)(tab - p) + 3 > widths[col])
        widths[col] = (size_t)(tab - p) + 3;
      p = tab + 1;
    }
  }
  for (size_t r = 0; r < n; r++) {
    size_t col = 0;
    const char *p = lines[r];
    for (const char *tab; (tab = strchr(p, '\t')) != NULL && col < 32; col++, p = tab + 1)
      fprintf(out, "%-*.*s", (int)(widths[col] > 10 ? widths[col] : 10), (int)(tab - p), p);
    fprintf(out, "%s\n", p);
  }
}

/* The containers to show this round: the named ones, or every running one
 * (all with -a), keeping the previous sample of those already shown. */
static int round_targets(struct engine *e, const struct targets *named, bool all, const struct targets *before,
                         struct targets *cur, struct container **out, size_t *n_out, berth_error **err) {
  struct container *list = NULL;
  size_t n = 0;
  *out = NULL;
  *n_out = 0;
  if (named->n > 0) {
    if ((list = calloc(named->n, sizeof(*list))) == NULL)
      return berth_fail(err, 0, "out of memory");
    for (; n < named->n; n++) {
      berth_error *gone = NULL;
      if (containers_get(e, named->v[n].id, &list[n], &gone) < 0) {
        berth_error_free(gone);
        containers_free(list, n);
        return berth_fail(err, 0, "No such container: %s", named->v[n].given);
      }
    }
  } else if (containers_list(e, &list, &n, err) < 0) {
    return -1;
  }
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    struct container *c = &list[i];
    lifecycle_sync(e, c);
    bool live = c->status == CONTAINER_RUNNING || c->status == CONTAINER_PAUSED || c->status == CONTAINER_RESTARTING;
    struct target *t = NULL;
    if (named->n > 0 || all || live) {
      if ((t = targets_add(cur, c->id, named->n > 0 ? named->v[i].given : c->id)) == NULL) {
        for (size_t k = i; k < n; k++)
          container_clear(&list[k]);
        containers_free(list, kept);
        return berth_fail(err, 0, "out of memory");
      }
    }
    if (t == NULL) {
      container_clear(c);
      continue;
    }
    for (size_t k = 0; k < before->n; k++)
      if (strcmp(before->v[k].id, c->id) == 0 && before->v[k].have_prev) {
        t->prev = before->v[k].prev;
        t->have_prev = true;
      }
    if (kept != i)
      list[kept] = *c;
    kept++;
  }
  *out = list;
  *n_out = kept;
  return 0;
}

static int show(struct engine *e, struct targets *named, bool all, bool stream, bool trunc, const char *format,
                berth_error **err) {
  bool json = format != NULL && strcmp(format, "json") == 0;
  bool table = format == NULL || strncmp(format, "table", 5) == 0;
  cleanup_free char *tmpl = NULL;
  const char *given_tmpl = format == NULL || strcmp(format, "table") == 0 ? DEFAULT_TEMPLATE
                           : table                                        ? format + 5
                           : json                                         ? "{{json .}}"
                                                                          : format;
  /* docker's formatter: "\t" and "\n" as typed stand for the characters */
  tmpl = malloc(strlen(given_tmpl) + 1);
  if (tmpl == NULL)
    return berth_fail(err, 0, "out of memory");
  size_t w = 0;
  for (const char *p = given_tmpl + strspn(given_tmpl, " "); *p != '\0'; p++) {
    if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
      tmpl[w++] = p[1] == 't' ? '\t' : '\n';
      p++;
    } else {
      tmpl[w++] = *p;
    }
  }
  tmpl[w] = '\0';
  cleanup_json struct json_object *header_obj = header_json();
  cleanup_free char *header = table ? render(tmpl, header_obj, err) : NULL;
  if (table && header == NULL)
    return -1;

  struct targets before = {0};
  int ret = -1;
  for (bool first = true;; first = false) {
    struct targets cur = {0};
    struct container *list = NULL;
    size_t n = 0;
    if (round_targets(e, named, all, &before, &cur, &list, &n, err) < 0)
      goto round_fail;
    for (size_t i = 0; i < n; i++) {
      if (cur.v[i].have_prev)
        continue;
      if (stats_sample(e, &list[i], &cur.v[i].prev, err) < 0)
        goto round_fail;
      cur.v[i].have_prev = true;
    }
    if (first)
      sleep_ms(FIRST_INTERVAL_MS);
    char **lines = calloc(n + 1, sizeof(*lines));
    size_t n_lines = 0;
    if (lines == NULL) {
      berth_fail(err, 0, "out of memory");
      goto round_fail;
    }
    if (table)
      lines[n_lines++] = strdup(header);
    for (size_t i = 0; i < n; i++) {
      struct stats_sample now;
      if (stats_sample(e, &list[i], &now, err) < 0)
        break;
      cleanup_json struct json_object *row = row_json(&list[i], cur.v[i].given, &cur.v[i].prev, &now, trunc);
      cur.v[i].prev = now;
      if ((lines[n_lines] = render(tmpl, row, err)) == NULL)
        break;
      n_lines++;
    }
    bool complete = n_lines == n + (table ? 1 : 0);
    if (complete) {
      if (stream)
        fputs("\033[2J\033[H", stdout);
      if (table) {
        print_table(lines, n_lines, stdout);
      } else {
        for (size_t i = 0; i < n_lines; i++)
          printf("%s\n", lines[i]);
      }
      fflush(stdout);
    }
    for (size_t i = 0; i < n_lines; i++)
      free(lines[i]);
    free(lines);
    containers_free(list, n);
    targets_clear(&before);
    before = cur;
    if (!complete)
      break;
    if (!stream) {
      ret = 0;
      break;
    }
    sleep_ms(INTERVAL_MS);
    continue;
  round_fail:
    containers_free(list, n);
    targets_clear(&cur);
    break;
  }
  targets_clear(&before);
  return ret;
}

int cmd_stats(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  enum { OPT_FORMAT = 256, OPT_NO_STREAM, OPT_NO_TRUNC };
  static const struct option options[] = {{"all", no_argument, NULL, 'a'},
                                          {"format", required_argument, NULL, OPT_FORMAT},
                                          {"no-stream", no_argument, NULL, OPT_NO_STREAM},
                                          {"no-trunc", no_argument, NULL, OPT_NO_TRUNC},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  bool all = false, stream = true, trunc = true;
  const char *format = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "ah", options, NULL)) != -1) {
    switch (c) {
    case 'a':
      all = true;
      break;
    case OPT_FORMAT:
      format = optarg;
      break;
    case OPT_NO_STREAM:
      stream = false;
      break;
    case OPT_NO_TRUNC:
      trunc = false;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nDisplay a live stream of container(s) resource usage statistics\n\nOptions:\n"
             "  -a, --all             Show all containers (default shows just running)\n"
             "      --format string   Format output using a custom template:\n"
             "                        'table':            Print output in table format with column headers "
             "(default)\n"
             "                        'table TEMPLATE':   Print output in table format using the given Go template\n"
             "                        'json':             Print in JSON format\n"
             "                        'TEMPLATE':         Print output using the given Go template.\n"
             "      --no-stream       Disable streaming stats and only pull the first result\n"
             "      --no-trunc        Do not truncate output\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("stats", usage_text, err);
    }
  }
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  struct targets named = {0};
  int failed = 0;
  for (int i = optind; i < argc; i++) {
    struct container ct;
    berth_error *one = NULL;
    if (containers_find(e, argv[i], &ct, &one) < 0) {
      cmd_report(one);
      failed = 1;
      continue;
    }
    struct target *t = targets_add(&named, ct.id, argv[i]);
    container_clear(&ct);
    if (t == NULL) {
      targets_clear(&named);
      return berth_fail(err, 0, "out of memory");
    }
  }
  int ret = failed ? 1 : show(e, &named, all, stream, trunc, format, err);
  targets_clear(&named);
  return ret;
}
