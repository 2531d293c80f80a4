/* berth volume create / ls / inspect / rm / prune: docker's flags, output
 * and errors (docker CLI 28). */
#include "cmd/berth/volume.h"

#include <ctype.h>
#include <getopt.h>
#include <json-c/json.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/berth/template.h"
#include "engine/volumes.h"
#include "util/cleanup.h"
#include "util/json.h"

/* ---- argument handling shared by the subcommands ---- */

/* docker's messages for what getopt refused (opterr is 0); status 125. */
static int flag_error(const char *sub, int c, char **argv) {
  const char *arg = optind > 0 ? argv[optind - 1] : "";
  bool is_long = strncmp(arg, "--", 2) == 0;
  berth_error *e = NULL;
  if (c == ':' && is_long)
    berth_fail(&e, 0, "flag needs an argument: %s", arg);
  else if (c == ':')
    berth_fail(&e, 0, "flag needs an argument: '%c' in -%c", optopt, optopt);
  else if (optopt != 0 && !is_long)
    berth_fail(&e, 0, "unknown shorthand flag: '%c' in -%c", optopt, optopt);
  else
    berth_fail(&e, 0, "unknown flag: %.*s", (int)strcspn(arg, "="), arg);
  char command[32];
  snprintf(command, sizeof(command), "volume %s", sub);
  return cmd_flag_error(command, &e);
}

/* A value a flag refused: "invalid argument "x" for "--label" flag: why". */
static int bad_flag_value(const char *sub, const char *value, const char *flag, const char *why) {
  berth_error *e = NULL;
  berth_fail(&e, 0, "invalid argument \"%s\" for \"%s\" flag: %s", value, flag, why);
  char command[32];
  snprintf(command, sizeof(command), "volume %s", sub);
  return cmd_flag_error(command, &e);
}

static int arg_count_error(const char *sub, const char *what, berth_error **err) {
  return berth_fail(err, 0, "'berth volume %s' %s. See 'berth volume %s --help'", sub, what, sub);
}

/* docker replaces \t and \n written as two characters in --format. */
static char *unescape_format(const char *format) {
  char *out = malloc(strlen(format) + 1);
  if (out == NULL)
    return NULL;
  char *o = out;
  for (const char *p = format; *p != '\0'; p++) {
    if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
      *o++ = p[1] == 't' ? '\t' : '\n';
      p++;
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
  return out;
}

/* ---- printing ---- */

/* Go's sortorder.NaturalLess: digit runs compare as numbers. */
static int natural_cmp(const char *a, const char *b) {
  while (*a != '\0' && *b != '\0') {
    if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
      const char *za = a, *zb = b;
      while (*a == '0')
        a++;
      while (*b == '0')
        b++;
      const char *sa = a, *sb = b;
      while (isdigit((unsigned char)*a))
        a++;
      while (isdigit((unsigned char)*b))
        b++;
      size_t la = (size_t)(a - sa), lb = (size_t)(b - sb);
      if (la != lb)
        return la < lb ? -1 : 1;
      int c = strncmp(sa, sb, la);
      if (c != 0)
        return c;
      if (sa - za != sb - zb)
        return sa - za < sb - zb ? -1 : 1;
      continue;
    }
    if (*a != *b)
      return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
    a++;
    b++;
  }
  return *a == *b ? 0 : *a == '\0' ? -1 : 1;
}

static int volume_order(const void *x, const void *y) {
  return natural_cmp(((const struct volume *)x)->name, ((const struct volume *)y)->name);
}

static int key_order(const void *x, const void *y) {
  return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The keys of an object, sorted (Go prints maps so). */
static const char **sorted_keys(struct json_object *o, size_t *n) {
  *n = (size_t)json_object_object_length(o);
  const char **keys = calloc(*n + 1, sizeof(*keys));
  if (keys == NULL) {
    *n = 0;
    return NULL;
  }
  size_t i = 0;
  json_object_object_foreach(o, k, v) {
    (void)v;
    keys[i++] = k;
  }
  qsort(keys, *n, sizeof(*keys), key_order);
  return keys;
}

/* A copy of a string map with its keys in order. */
static struct json_object *sorted_map(struct json_object *o) {
  struct json_object *copy = json_object_new_object();
  size_t n;
  cleanup_free const char **keys = sorted_keys(o, &n);
  for (size_t i = 0; keys != NULL && i < n; i++)
    json_object_object_add(copy, keys[i], json_object_get(json_object_object_get(o, keys[i])));
  return copy;
}

/* "k=v,k2=v2" (ls's Labels column). */
static char *joined_labels(struct json_object *labels) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL)
    return NULL;
  size_t n;
  cleanup_free const char **keys = sorted_keys(labels, &n);
  for (size_t i = 0; keys != NULL && i < n; i++)
    fprintf(f, "%s%s=%s", i > 0 ? "," : "", keys[i], json_object_get_string(json_object_object_get(labels, keys[i])));
  fclose(f);
  return buf;
}

/* RFC 3339 in local time, as Go's time.RFC3339. */
static void rfc3339_local(int64_t ns, char *buf, size_t len) {
  time_t t = (time_t)(ns / 1000000000);
  struct tm tm;
  if (localtime_r(&t, &tm) == NULL) {
    snprintf(buf, len, "0001-01-01T00:00:00Z");
    return;
  }
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  long off = labs(tm.tm_gmtoff);
  if (tm.tm_gmtoff == 0)
    snprintf(buf + n, len - n, "Z");
  else
    snprintf(buf + n, len - n, "%c%02d:%02d", tm.tm_gmtoff < 0 ? '-' : '+', (int)(off / 3600 % 100),
             (int)(off % 3600 / 60));
}

/* docker's Volume as `volume inspect` shows it. */
static struct json_object *inspect_object(const struct volume *v) {
  char created[48];
  rfc3339_local(v->created_ns, created, sizeof(created));
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "CreatedAt", json_object_new_string(created));
  json_object_object_add(o, "Driver", json_object_new_string("local"));
  json_object_object_add(o, "Labels", sorted_map(v->labels));
  json_object_object_add(o, "Mountpoint", json_object_new_string(v->mountpoint));
  json_object_object_add(o, "Name", json_object_new_string(v->name));
  json_object_object_add(o, "Options", sorted_map(v->options));
  json_object_object_add(o, "Scope", json_object_new_string("local"));
  return o;
}

/* The fields `volume ls --format` knows (docker's volumeContext). */
static struct json_object *ls_object(const struct volume *v) {
  cleanup_free char *labels = joined_labels(v->labels);
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "Availability", json_object_new_string("N/A"));
  json_object_object_add(o, "Driver", json_object_new_string("local"));
  json_object_object_add(o, "Group", json_object_new_string("N/A"));
  json_object_object_add(o, "Labels", json_object_new_string(labels != NULL ? labels : ""));
  json_object_object_add(o, "Links", json_object_new_string("N/A"));
  json_object_object_add(o, "Mountpoint", json_object_new_string(v->mountpoint));
  json_object_object_add(o, "Name", json_object_new_string(v->name));
  json_object_object_add(o, "Scope", json_object_new_string("local"));
  json_object_object_add(o, "Size", json_object_new_string("N/A"));
  json_object_object_add(o, "Status", json_object_new_string("N/A"));
  return o;
}

static struct json_object *ls_header(void) {
  static const char *const headers[][2] = {
      {"Availability", "AVAILABILITY"}, {"Driver", "DRIVER"}, {"Group", "GROUP"}, {"Labels", "LABELS"},
      {"Links", "LINKS"},   {"Mountpoint", "MOUNTPOINT"}, {"Name", "VOLUME NAME"}, {"Scope", "SCOPE"},
      {"Size", "SIZE"},     {"Status", "STATUS"},
  };
  struct json_object *o = json_object_new_object();
  for (size_t i = 0; i < ARRAY_SIZE(headers); i++)
    json_object_object_add(o, headers[i][0], json_object_new_string(headers[i][1]));
  return o;
}

static void put_plain(FILE *out, struct json_object *v) {
  fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), out);
}

/* Go's json.MarshalIndent(v, "", "    "): what docker's inspect prints. */
static void put_indented(FILE *out, struct json_object *v, int depth) {
  bool object = json_object_is_type(v, json_type_object), array = json_object_is_type(v, json_type_array);
  if ((!object && !array) ||
      (object ? json_object_object_length(v) == 0 : json_object_array_length(v) == 0)) {
    if (object || array)
      fputs(object ? "{}" : "[]", out);
    else
      put_plain(out, v);
    return;
  }
  fputs(object ? "{\n" : "[\n", out);
  size_t i = 0, n = object ? (size_t)json_object_object_length(v) : json_object_array_length(v);
  if (object) {
    json_object_object_foreach(v, key, val) {
      fprintf(out, "%*s", 4 * (depth + 1), "");
      struct json_object *k = json_object_new_string(key);
      put_plain(out, k);
      json_object_put(k);
      fputs(": ", out);
      put_indented(out, val, depth + 1);
      fputs(++i < n ? ",\n" : "\n", out);
    }
  } else {
    for (; i < n;) {
      fprintf(out, "%*s", 4 * (depth + 1), "");
      put_indented(out, json_object_array_get_idx(v, i), depth + 1);
      fputs(++i < n ? ",\n" : "\n", out);
    }
  }
  fprintf(out, "%*s%s", 4 * depth, "", object ? "}" : "]");
}

/* Lines of tab-separated cells aligned as docker's tabwriter (minimum
 * width 10, padding 3); the last cell of a line is not padded. */
static void print_aligned(FILE *out, const char *text) {
  size_t widths[64] = {0};
  const char *line = text;
  while (*line != '\0') {
    const char *end = strchr(line, '\n');
    size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
    size_t col = 0;
    for (const char *cell = line; col < ARRAY_SIZE(widths);) {
      const char *tab = memchr(cell, '\t', len - (size_t)(cell - line));
      if (tab == NULL)
        break;
      size_t w = (size_t)(tab - cell) + 3;
      if (w < 10)
        w = 10;
      if (w > widths[col])
        widths[col] = w;
      col++;
      cell = tab + 1;
    }
    line += len + (end != NULL);
  }
  line = text;
  while (*line != '\0') {
    const char *end = strchr(line, '\n');
    size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
    size_t col = 0;
    const char *cell = line;
    for (; col < ARRAY_SIZE(widths); col++) {
      const char *tab = memchr(cell, '\t', len - (size_t)(cell - line));
      if (tab == NULL)
        break;
      fprintf(out, "%-*.*s", (int)widths[col], (int)(tab - cell), cell);
      cell = tab + 1;
    }
    fprintf(out, "%.*s\n", (int)(len - (size_t)(cell - line)), cell);
    line += len + (end != NULL);
  }
}

/* ---- create ---- */

static const char create_usage[] = "Usage:  berth volume create [OPTIONS] [VOLUME]\n";

/* docker's ValidateLabel: a name, without whitespace. */
static const char *label_problem(const char *label, char *why, size_t len) {
  const char *eq = strchr(label, '=');
  size_t klen = eq != NULL ? (size_t)(eq - label) : strlen(label);
  size_t start = 0;
  while (start < klen && isspace((unsigned char)label[start]))
    start++;
  while (klen > start && isspace((unsigned char)label[klen - 1]))
    klen--;
  if (klen == start) {
    snprintf(why, len, "invalid label '%s': empty name", label);
    return why;
  }
  for (size_t i = start; i < klen; i++)
    if (isspace((unsigned char)label[i])) {
      snprintf(why, len, "label '%s' contains whitespaces", label);
      return why;
    }
  return NULL;
}

/* "k=v" (or "k", an empty value) into o. */
static void add_pair(struct json_object *o, const char *text) {
  const char *eq = strchr(text, '=');
  cleanup_free char *key = strndup(text, eq != NULL ? (size_t)(eq - text) : strlen(text));
  if (key != NULL)
    json_object_object_add(o, key, json_object_new_string(eq != NULL ? eq + 1 : ""));
}

static int volume_create(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  enum { OPT_LABEL = 256, OPT_NAME };
  static const struct option options[] = {
      {"driver", required_argument, NULL, 'd'},  {"label", required_argument, NULL, OPT_LABEL},
      {"opt", required_argument, NULL, 'o'},     {"name", required_argument, NULL, OPT_NAME},
      {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
  };
  const char *driver = "local", *name = NULL;
  cleanup_json struct json_object *labels = json_object_new_object();
  cleanup_json struct json_object *opts = json_object_new_object();
  int c;
  while ((c = getopt_long(argc, argv, ":d:o:h", options, NULL)) != -1) {
    switch (c) {
    case 'd':
      driver = optarg;
      break;
    case OPT_LABEL: {
      char why[512];
      if (label_problem(optarg, why, sizeof(why)) != NULL)
        return bad_flag_value("create", optarg, "--label", why);
      add_pair(labels, optarg);
      break;
    }
    case 'o':
      add_pair(opts, optarg);
      break;
    case OPT_NAME:
      name = optarg;
      break;
    case 'h':
      printf("%s\nCreate a volume\n\nOptions:\n"
             "  -d, --driver string   Specify volume driver name (default \"local\")\n"
             "      --label list      Set metadata for a volume\n"
             "  -o, --opt map         Set driver specific options (default map[])\n",
             create_usage);
      return 0;
    default:
      return flag_error("create", c, argv);
    }
  }
  if (argc - optind > 1)
    return arg_count_error("create", "requires at most 1 argument", err);
  if (optind < argc) {
    if (name != NULL)
      return berth_fail(err, 0, "conflicting options: cannot specify a volume-name through both --name and as a "
                                "positional arg");
    name = argv[optind];
  }
  if (name != NULL && name[0] == '\0')
    name = NULL;
  if (strcmp(driver, "local") != 0)
    return berth_fail(err, 0, "create %s: error looking up volume plugin %s: plugin \"%s\" not found",
                      name != NULL ? name : "", driver, driver);
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  struct volume v;
  if (volumes_create(e, name, labels, opts, false, &v, err) < 0)
    return -1;
  printf("%s\n", v.name);
  volume_clear(&v);
  return 0;
}

/* ---- ls ---- */

static const char ls_usage[] = "Usage:  berth volume ls [OPTIONS]\n";

struct ls_filters {
  int dangling; /* -1 any, 1 only unused, 0 only used */
  const char *names[16], *drivers[16], *labels[16];
  size_t n_names, n_drivers, n_labels;
};

static int parse_ls_filter(struct ls_filters *f, const char *text, berth_error **err) {
  const char *eq = strchr(text, '=');
  size_t klen = (size_t)(eq - text);
  const char *v = eq + 1;
#define KEY_IS(k) (klen == strlen(k) && strncmp(text, k, klen) == 0)
  if (KEY_IS("dangling")) {
    if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
      f->dangling = 1;
    else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
      f->dangling = 0;
    else
      return berth_fail(err, 0, "invalid filter 'dangling=%s'", v);
  } else if (KEY_IS("name") && f->n_names < ARRAY_SIZE(f->names)) {
    f->names[f->n_names++] = v;
  } else if (KEY_IS("driver") && f->n_drivers < ARRAY_SIZE(f->drivers)) {
    f->drivers[f->n_drivers++] = v;
  } else if (KEY_IS("label") && f->n_labels < ARRAY_SIZE(f->labels)) {
    f->labels[f->n_labels++] = v;
  } else {
    return berth_fail(err, 0, "invalid filter '%.*s'", (int)klen, text);
  }
#undef KEY_IS
  return 0;
}

/* docker's name filter: the exact name, or a regular expression found in it. */
static bool name_matches(const char *pattern, const char *name) {
  if (strcmp(pattern, name) == 0)
    return true;
  regex_t re;
  if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
    return false;
  bool match = regexec(&re, name, 0, NULL, 0) == 0;
  regfree(&re);
  return match;
}

static bool label_matches(struct json_object *labels, const char *filter) {
  const char *eq = strchr(filter, '=');
  size_t klen = eq != NULL ? (size_t)(eq - filter) : strlen(filter);
  json_object_object_foreach(labels, key, val) {
    if (strlen(key) == klen && strncmp(key, filter, klen) == 0)
      return eq == NULL || strcmp(json_object_get_string(val), eq + 1) == 0;
  }
  return false;
}

static bool ls_selected(const struct ls_filters *f, const struct volume *v) {
  if (f->dangling >= 0 && (v->n_users == 0) != (f->dangling == 1))
    return false;
  bool any = f->n_names == 0;
  for (size_t i = 0; i < f->n_names && !any; i++)
    any = name_matches(f->names[i], v->name);
  if (!any)
    return false;
  any = f->n_drivers == 0;
  for (size_t i = 0; i < f->n_drivers && !any; i++)
    any = strcmp(f->drivers[i], "local") == 0;
  if (!any)
    return false;
  for (size_t i = 0; i < f->n_labels; i++)
    if (!label_matches(v->labels, f->labels[i]))
      return false;
  return true;
}

static int volume_ls(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  enum { OPT_FORMAT = 256 };
  static const struct option options[] = {
      {"quiet", no_argument, NULL, 'q'},       {"filter", required_argument, NULL, 'f'},
      {"format", required_argument, NULL, OPT_FORMAT}, {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool quiet = false;
  const char *format_arg = NULL;
  const char *filter_texts[32];
  size_t n_filters = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":qf:h", options, NULL)) != -1) {
    switch (c) {
    case 'q':
      quiet = true;
      break;
    case 'f':
      if (strchr(optarg, '=') == NULL)
        return bad_flag_value("ls", optarg, "-f, --filter", "bad format of filter (expected name=value)");
      if (n_filters == ARRAY_SIZE(filter_texts))
        return berth_fail(err, 0, "too many filters");
      filter_texts[n_filters++] = optarg;
      break;
    case OPT_FORMAT:
      format_arg = optarg;
      break;
    case 'h':
      printf("%s\nList volumes\n\nAliases:\n  berth volume ls, berth volume list\n\nOptions:\n"
             "  -f, --filter filter   Provide filter values (e.g. \"dangling=true\")\n"
             "      --format string   Format output using a custom template:\n"
             "                        'table':            Print output in table format with column headers "
             "(default)\n"
             "                        'table TEMPLATE':   Print output in table format using the given Go template\n"
             "                        'json':             Print in JSON format\n"
             "                        'TEMPLATE':         Print output using the given Go template\n"
             "  -q, --quiet           Only display volume names\n",
             ls_usage);
      return 0;
    default:
      return flag_error("ls", c, argv);
    }
  }
  if (optind < argc)
    return arg_count_error("ls", "accepts no arguments", err);
  struct ls_filters f = {.dangling = -1};
  for (size_t i = 0; i < n_filters; i++)
    if (parse_ls_filter(&f, filter_texts[i], err) < 0)
      return -1;
  cleanup_free char *format = unescape_format(format_arg != NULL ? format_arg : "");
  if (format == NULL)
    return berth_fail(err, ENOMEM, "volume ls");
  /* docker: "table" (the default), "table TEMPLATE" (with a header row),
   * "json" (a line per volume) or a template; -q alone prints names */
  bool json = strcmp(format, "json") == 0;
  bool table = !json && (format[0] == '\0' || strncmp(format, "table", 5) == 0);
  const char *tmpl = format;
  if (table) {
    tmpl = format + (format[0] != '\0' ? 5 : 0);
    while (*tmpl == ' ')
      tmpl++;
    if (tmpl[0] == '\0' && quiet) {
      tmpl = "{{.Name}}";
      table = false;
    } else if (tmpl[0] == '\0') {
      tmpl = "{{.Driver}}\t{{.Name}}";
    }
  }
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  struct volume *list = NULL;
  size_t n = 0;
  if (volumes_list(e, &list, &n, err) < 0)
    return -1;
  if (n > 1)
    qsort(list, n, sizeof(*list), volume_order);
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  int ret = out != NULL ? 0 : berth_fail(err, ENOMEM, "volume ls");
  if (ret == 0 && table) {
    cleanup_json struct json_object *header = ls_header();
    ret = template_print(out, tmpl, header, err);
  }
  for (size_t i = 0; ret == 0 && i < n; i++) {
    if (!ls_selected(&f, &list[i]))
      continue;
    cleanup_json struct json_object *o = ls_object(&list[i]);
    if (json) {
      put_plain(out, o);
      fputc('\n', out);
    } else {
      ret = template_print(out, tmpl, o, err);
    }
  }
  if (out != NULL)
    fclose(out);
  if (ret == 0 && text != NULL) {
    if (table)
      print_aligned(stdout, text);
    else
      fputs(text, stdout);
  }
  free(text);
  volumes_free(list, n);
  return ret;
}

/* ---- inspect ---- */

static const char inspect_usage[] = "Usage:  berth volume inspect [OPTIONS] VOLUME [VOLUME...]\n";

static int volume_inspect(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {
      {"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  const char *format = NULL;
  int c;
  while ((c = getopt_long(argc, argv, ":f:h", options, NULL)) != -1) {
    switch (c) {
    case 'f':
      format = optarg;
      break;
    case 'h':
      printf("%s\nDisplay detailed information on one or more volumes\n\nOptions:\n"
             "  -f, --format string   Format output using a custom template:\n"
             "                        'json':             Print in JSON format\n"
             "                        'TEMPLATE':         Print output using the given Go template\n",
             inspect_usage);
      return 0;
    default:
      return flag_error("inspect", c, argv);
    }
  }
  if (optind >= argc)
    return arg_count_error("inspect", "requires at least 1 argument", err);
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  cleanup_json struct json_object *all = json_object_new_array();
  berth_error *errors[64];
  size_t n_errors = 0;
  for (int i = optind; i < argc; i++) {
    struct volume v;
    berth_error *one = NULL;
    if (volumes_get(e, argv[i], &v, &one) < 0) {
      if (n_errors < ARRAY_SIZE(errors))
        errors[n_errors++] = one;
      else
        berth_error_free(one);
      continue;
    }
    json_object_array_add(all, inspect_object(&v));
    volume_clear(&v);
  }
  int ret = 0;
  size_t n = json_object_array_length(all);
  if (format == NULL || format[0] == '\0') {
    put_indented(stdout, all, 0);
    fputc('\n', stdout);
  } else if (strcmp(format, "json") == 0) {
    put_plain(stdout, all);
    fputc('\n', stdout);
  } else {
    for (size_t i = 0; i < n && ret == 0; i++)
      ret = template_print(stdout, format, json_object_array_get_idx(all, i), err);
    if (n == 0)
      fputc('\n', stdout);
  }
  fflush(stdout);
  for (size_t i = 0; i < n_errors; i++)
    cmd_report(errors[i]);
  if (ret < 0)
    return -1;
  return n_errors > 0 || n < (size_t)(argc - optind) ? 1 : 0;
}

/* ---- rm ---- */

static const char rm_usage[] = "Usage:  berth volume rm [OPTIONS] VOLUME [VOLUME...]\n";

static int volume_rm(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {
      {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  bool force = false;
  int c;
  while ((c = getopt_long(argc, argv, ":fh", options, NULL)) != -1) {
    switch (c) {
    case 'f':
      force = true;
      break;
    case 'h':
      printf("%s\nRemove one or more volumes. You cannot remove a volume that is in use by a container.\n\n"
             "Aliases:\n  berth volume rm, berth volume remove\n\nOptions:\n"
             "  -f, --force   Force the removal of one or more volumes\n",
             rm_usage);
      return 0;
    default:
      return flag_error("rm", c, argv);
    }
  }
  if (optind >= argc)
    return arg_count_error("rm", "requires at least 1 argument", err);
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  berth_error *errors[64];
  size_t n_errors = 0;
  int status = 0;
  for (int i = optind; i < argc; i++) {
    berth_error *one = NULL;
    if (volumes_remove(e, argv[i], force, &one) < 0) {
      status = 1;
      if (n_errors < ARRAY_SIZE(errors))
        errors[n_errors++] = one;
      else
        berth_error_free(one);
      continue;
    }
    printf("%s\n", argv[i]);
  }
  fflush(stdout);
  /* docker reports the failures together, after the names removed */
  for (size_t i = 0; i < n_errors; i++)
    cmd_report(errors[i]);
  return status;
}

/* ---- prune ---- */

static const char prune_usage[] = "Usage:  berth volume prune [OPTIONS]\n";

static void print_removed(const char *name, void *arg) {
  bool *any = arg;
  if (!*any)
    printf("Deleted Volumes:\n");
  *any = true;
  printf("%s\n", name);
}

/* docker's units.HumanSize: decimal units, four significant digits. */
static void human_size(uint64_t bytes, char *buf, size_t len) {
  static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double v = (double)bytes;
  size_t u = 0;
  while (v >= 1000.0 && u + 1 < ARRAY_SIZE(units)) {
    v /= 1000.0;
    u++;
  }
  snprintf(buf, len, "%.4g%s", v, units[u]);
}

static int volume_prune(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  enum { OPT_FILTER = 256 };
  static const struct option options[] = {
      {"all", no_argument, NULL, 'a'},      {"force", no_argument, NULL, 'f'},
      {"filter", required_argument, NULL, OPT_FILTER}, {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool all = false, force = false;
  int all_filter = -1;
  char *labels[33];
  size_t n_labels = 0;
  cleanup_strv char **owned = calloc(ARRAY_SIZE(labels), sizeof(char *));
  if (owned == NULL)
    return berth_fail(err, ENOMEM, "volume prune");
  int c;
  while ((c = getopt_long(argc, argv, ":afh", options, NULL)) != -1) {
    switch (c) {
    case 'a':
      all = true;
      break;
    case 'f':
      force = true;
      break;
    case OPT_FILTER: {
      const char *eq = strchr(optarg, '=');
      if (eq == NULL)
        return bad_flag_value("prune", optarg, "--filter", "bad format of filter (expected name=value)");
      size_t klen = (size_t)(eq - optarg);
      bool negate = klen == 6 && strncmp(optarg, "label!", 6) == 0;
      if (klen == 3 && strncmp(optarg, "all", 3) == 0) {
        if (strcasecmp(eq + 1, "true") == 0 || strcmp(eq + 1, "1") == 0)
          all_filter = 1;
        else if (strcasecmp(eq + 1, "false") == 0 || strcmp(eq + 1, "0") == 0)
          all_filter = 0;
        else
          return berth_fail(err, 0, "invalid filter 'all': strconv.ParseBool: parsing \"%s\": invalid syntax", eq + 1);
        break;
      }
      if (!negate && !(klen == 5 && strncmp(optarg, "label", 5) == 0))
        return berth_fail(err, 0, "invalid filter '%.*s'", (int)klen, optarg);
      if (n_labels + 1 == ARRAY_SIZE(labels))
        return berth_fail(err, 0, "too many filters");
      if (asprintf(&owned[n_labels], "%s%s", negate ? "!" : "", eq + 1) < 0)
        return berth_fail(err, ENOMEM, "volume prune");
      labels[n_labels] = owned[n_labels];
      n_labels++;
      break;
    }
    case 'h':
      printf("%s\nRemove unused local volumes\n\nOptions:\n"
             "  -a, --all             Remove all unused volumes, not just anonymous ones\n"
             "      --filter filter   Provide filter values (e.g. \"label=<label>\")\n"
             "  -f, --force           Do not prompt for confirmation\n",
             prune_usage);
      return 0;
    default:
      return flag_error("prune", c, argv);
    }
  }
  if (optind < argc)
    return arg_count_error("prune", "accepts no arguments", err);
  labels[n_labels] = NULL;
  if (all && all_filter >= 0)
    return berth_fail(err, 0, "conflicting options: cannot specify both --all and --filter all=1");
  if (all_filter == 1)
    all = true;
  if (!force) {
    printf("WARNING! This will remove %s local volumes not used by at least one container.\n"
           "Are you sure you want to continue? [y/N] ",
           all ? "all" : "anonymous");
    fflush(stdout);
    char answer[64] = "";
    if (fgets(answer, sizeof(answer), stdin) == NULL)
      return 0;
    char *a = answer;
    while (isspace((unsigned char)*a))
      a++;
    size_t l = strlen(a);
    while (l > 0 && isspace((unsigned char)a[l - 1]))
      a[--l] = '\0';
    if (strcasecmp(a, "y") != 0)
      return 0; /* docker: cancelled, status 0, nothing more */
  }
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  bool any = false;
  uint64_t freed = 0;
  int ret = volumes_prune(e, all, labels, print_removed, &any, &freed, err);
  char size[32];
  human_size(any ? freed : 0, size, sizeof(size));
  printf("%sTotal reclaimed space: %s\n", any ? "\n" : "", size);
  return ret;
}

/* ---- the group ---- */

struct subcommand {
  const char *name;
  int (*fn)(struct berth_context *ctx, int argc, char **argv, berth_error **err);
  const char *help;
};

static const struct subcommand subcommands[] = {
    {"create", volume_create, "Create a volume"},
    {"inspect", volume_inspect, "Display detailed information on one or more volumes"},
    {"ls", volume_ls, "List volumes"},
    {"list", volume_ls, NULL},
    {"prune", volume_prune, "Remove unused local volumes"},
    {"rm", volume_rm, "Remove one or more volumes"},
    {"remove", volume_rm, NULL},
};

static void group_usage(FILE *out) {
  fprintf(out, "Usage:  berth volume COMMAND\n\nManage volumes\n\nCommands:\n");
  for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
    if (subcommands[i].help != NULL)
      fprintf(out, "  %-11s %s\n", subcommands[i].name, subcommands[i].help);
  fprintf(out, "\nRun 'berth volume COMMAND --help' for more information on a command.\n");
}

int cmd_volume(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    group_usage(stdout); /* docker: the group's help, status 0 */
    return 0;
  }
  if (argv[1][0] == '-') {
    berth_error *e = NULL;
    berth_fail(&e, 0, "unknown flag: %s", argv[1]);
    return cmd_flag_error("volume", &e);
  }
  for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
    if (strcmp(argv[1], subcommands[i].name) == 0) {
      optind = 0; /* a fresh getopt scan */
      opterr = 0; /* the subcommands word docker's messages themselves */
      return subcommands[i].fn(ctx, argc - 1, argv + 1, err);
    }
  return berth_fail(err, 0, "unknown command: berth volume %s. See 'berth volume --help'", argv[1]);
}
