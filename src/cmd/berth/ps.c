/* berth ps / container ls */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/berth/commands.h"
#include "cmd/berth/format.h"
#include "cmd/berth/template.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"
#include "image/images.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"

static const char usage_text[] = "ps [OPTIONS]";

struct ps_filter {
  char key[16];
  const char *value;
};

static const char *label_value(const struct container *c, const char *key) {
  struct json_object *labels, *v;
  if (!json_object_object_get_ex(c->config, "Labels", &labels) || !json_object_object_get_ex(labels, key, &v))
    return NULL;
  return json_object_get_string(v);
}

static bool matches(const struct container *c, const struct ps_filter *f) {
  if (strcmp(f->key, "status") == 0)
    return strcmp(container_status_name(c->status), f->value) == 0;
  if (strcmp(f->key, "name") == 0)
    return strstr(c->name, f->value) != NULL;
  if (strcmp(f->key, "id") == 0)
    return strncmp(c->id, f->value, strlen(f->value)) == 0;
  if (strcmp(f->key, "exited") == 0)
    return c->status == CONTAINER_EXITED && c->exit_code == atoi(f->value);
  if (strcmp(f->key, "ancestor") == 0)
    return strcmp(c->image, f->value) == 0 || strstr(c->image_id, f->value) != NULL;
  if (strcmp(f->key, "health") == 0) {
    /* docker: "none" for a container without a health check */
    struct json_object *status;
    if (c->health == NULL || !json_object_object_get_ex(c->health, "Status", &status))
      return strcmp(f->value, "none") == 0;
    return strcmp(json_object_get_string(status), f->value) == 0;
  }
  if (strcmp(f->key, "label") == 0) {
    const char *eq = strchr(f->value, '=');
    char key[256];
    snprintf(key, sizeof(key), "%.*s", eq != NULL ? (int)(eq - f->value) : (int)strlen(f->value), f->value);
    const char *v = label_value(c, key);
    return v != NULL && (eq == NULL || strcmp(v, eq + 1) == 0);
  }
  return false;
}

/* docker groups filters by key: any value of one key, every key. */
static bool matches_all(const struct container *c, const struct ps_filter *filters, size_t n) {
  for (size_t i = 0; i < n; i++) {
    bool any = false, seen = false;
    for (size_t j = 0; j < n; j++) {
      if (strcmp(filters[j].key, filters[i].key) != 0)
        continue;
      seen = true;
      any = any || matches(c, &filters[j]);
    }
    if (seen && !any)
      return false;
  }
  return true;
}

static void command_text(const struct container *c, char *buf, size_t len, bool trunc) {
  struct json_object *parts[2] = {NULL, NULL};
  json_object_object_get_ex(c->config, "Entrypoint", &parts[0]);
  json_object_object_get_ex(c->config, "Cmd", &parts[1]);
  size_t used = 0;
  buf[0] = '\0';
  for (int p = 0; p < 2; p++)
    for (size_t i = 0; parts[p] != NULL && json_object_is_type(parts[p], json_type_array) &&
                       i < json_object_array_length(parts[p]);
         i++)
      used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s", used > 0 ? " " : "",
                               json_object_get_string(json_object_array_get_idx(parts[p], i)));
  /* docker: 20 characters, the last an ellipsis */
  if (trunc && strlen(buf) > 20)
    strcpy(buf + 19, "\xe2\x80\xa6");
}

static void status_text(const struct container *c, time_t now, char *buf, size_t len) {
  char ago[64];
  switch (c->status) {
  case CONTAINER_RUNNING:
  case CONTAINER_PAUSED:
    format_since((time_t)(c->started_ns / 1000000000), now, ago, sizeof(ago));
    /* "Up 5 seconds": docker's duration without "ago" */
    if (strlen(ago) > 4 && strcmp(ago + strlen(ago) - 4, " ago") == 0)
      ago[strlen(ago) - 4] = '\0';
    snprintf(buf, len, "Up %s%s", ago, c->status == CONTAINER_PAUSED ? " (Paused)" : "");
    break;
  case CONTAINER_RESTARTING:
    format_since((time_t)(c->finished_ns / 1000000000), now, ago, sizeof(ago));
    snprintf(buf, len, "Restarting (%d) %s", c->exit_code, ago);
    break;
  case CONTAINER_EXITED:
    format_since((time_t)(c->finished_ns / 1000000000), now, ago, sizeof(ago));
    snprintf(buf, len, "Exited (%d) %s", c->exit_code, ago);
    break;
  case CONTAINER_CREATED:
    snprintf(buf, len, "Created");
    break;
  case CONTAINER_REMOVING:
    snprintf(buf, len, "Removal In Progress");
    break;
  case CONTAINER_DEAD:
    snprintf(buf, len, "Dead");
    break;
  }
  struct json_object *health;
  if (c->status == CONTAINER_RUNNING && c->health != NULL && json_object_object_get_ex(c->health, "Status", &health)) {
    const char *h = json_object_get_string(health);
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, " (%s)", strcmp(h, "starting") == 0 ? "health: starting" : h);
  }
}

/* docker's SIZE: what the container wrote (its upper layer), and that plus
 * its image ("virtual"). */
static void size_text(struct engine *e, const struct container *c, char *buf, size_t len) {
  cleanup_free char *upper = engine_container_path(e, c->id, "diff");
  cleanup_close int fd = upper != NULL ? open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  int64_t written = fd >= 0 ? (int64_t)fs_tree_size(fd) : 0, image = 0;
  struct image_record r;
  berth_error *ignored = NULL;
  if (images_get(e->store, c->image_id, &r, &ignored) == 0) {
    image = r.size;
    image_record_free(&r);
  }
  berth_error_free(ignored);
  char a[32], b[32];
  format_size(written, a, sizeof(a));
  format_size(written + image, b, sizeof(b));
  snprintf(buf, len, "%s (virtual %s)", a, b);
}

static struct json_object *row_json(struct engine *e, const struct container *c, time_t now, bool trunc, bool size) {
  char command[4096], status[128], created[64], since[64], quoted[4100];
  command_text(c, command, sizeof(command), trunc);
  snprintf(quoted, sizeof(quoted), "\"%s\"", command);
  status_text(c, now, status, sizeof(status));
  time_t created_s = (time_t)(c->created_ns / 1000000000);
  struct tm tm;
  localtime_r(&created_s, &tm);
  strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  format_since(created_s, now, since, sizeof(since));
  struct json_object *o = json_object_new_object();
  char short_id[13];
  snprintf(short_id, sizeof(short_id), "%.12s", c->id);
  json_object_object_add(o, "Command", json_object_new_string(quoted));
  json_object_object_add(o, "CreatedAt", json_object_new_string(created));
  json_object_object_add(o, "ID", json_object_new_string(trunc ? short_id : c->id));
  json_object_object_add(o, "Image", json_object_new_string(c->image));
  struct json_object *labels = NULL;
  json_object_object_get_ex(c->config, "Labels", &labels);
  char label_text[4096] = "";
  size_t used = 0;
  if (labels != NULL && json_object_is_type(labels, json_type_object)) {
    json_object_object_foreach(labels, k, v) used += (size_t)snprintf(
        label_text + used, used < sizeof(label_text) ? sizeof(label_text) - used : 0, "%s%s=%s", used ? "," : "", k,
        json_object_get_string(v));
  }
  json_object_object_add(o, "Labels", json_object_new_string(label_text));
  json_object_object_add(o, "Names", json_object_new_string(c->name));
  json_object_object_add(o, "Ports", json_object_new_string(""));
  json_object_object_add(o, "RunningFor", json_object_new_string(since));
  json_object_object_add(o, "State", json_object_new_string(container_status_name(c->status)));
  json_object_object_add(o, "Status", json_object_new_string(status));
  if (size) {
    char text[96];
    size_text(e, c, text, sizeof(text));
    json_object_object_add(o, "Size", json_object_new_string(text));
  }
  return o;
}

int cmd_ps(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"all", no_argument, NULL, 'a'},
                                          {"quiet", no_argument, NULL, 'q'},
                                          {"size", no_argument, NULL, 's'},
                                          {"filter", required_argument, NULL, 'f'},
                                          {"format", required_argument, NULL, 'F'},
                                          {"no-trunc", no_argument, NULL, 'T'},
                                          {"last", required_argument, NULL, 'n'},
                                          {"latest", no_argument, NULL, 'l'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  bool all = false, quiet = false, trunc = true, size = false;
  const char *format = NULL;
  long last = -1;
  struct ps_filter filters[32];
  size_t n_filters = 0;
  int c;
  while ((c = getopt_long(argc, argv, "aqsf:n:lh", options, NULL)) != -1) {
    switch (c) {
    case 'a':
      all = true;
      break;
    case 'q':
      quiet = true;
      break;
    case 's':
      size = true;
      break;
    case 'f': {
      const char *eq = strchr(optarg, '=');
      static const char *const known[] = {"status", "name", "id", "exited", "ancestor", "label", "health", NULL};
      bool ok = false;
      for (size_t i = 0; eq != NULL && known[i] != NULL && !ok; i++)
        ok = strlen(known[i]) == (size_t)(eq - optarg) && strncmp(optarg, known[i], (size_t)(eq - optarg)) == 0;
      if (!ok)
        return berth_fail(err, 0, "invalid filter '%s'", optarg);
      if (n_filters == sizeof(filters) / sizeof(filters[0]))
        return berth_fail(err, 0, "too many filters");
      snprintf(filters[n_filters].key, sizeof(filters[0].key), "%.*s", (int)(eq - optarg), optarg);
      filters[n_filters++].value = eq + 1;
      /* docker: a status or exited filter shows stopped containers too */
      if (strncmp(optarg, "status=", 7) == 0 || strncmp(optarg, "exited=", 7) == 0)
        all = true;
      break;
    }
    case 'F':
      format = optarg;
      break;
    case 'T':
      trunc = false;
      break;
    case 'n':
      last = atol(optarg);
      all = true;
      break;
    case 'l':
      last = 1;
      all = true;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nList containers\n\nOptions:\n"
             "  -a, --all             Show all containers (default shows just running)\n"
             "  -f, --filter filter   Filter output based on conditions provided\n"
             "      --format string   \"table\", \"json\" or a Go template\n"
             "  -n, --last int        Show n last created containers (includes all states) (default -1)\n"
             "  -l, --latest          Show the latest created container (includes all states)\n"
             "      --no-trunc        Don't truncate output\n"
             "  -q, --quiet           Only display container IDs\n"
             "  -s, --size            Display total file sizes\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("ps", usage_text, err);
    }
  }
  if (optind != argc)
    return cmd_usage_error("ps", usage_text, err);
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  struct container *list;
  size_t n;
  if (containers_list(e, &list, &n, err) < 0)
    return -1;
  time_t now = time(NULL);
  struct table t;
  bool table = !quiet && (format == NULL || strcmp(format, "table") == 0);
  bool json = format != NULL && strcmp(format, "json") == 0;
  size_t columns = size ? 8 : 7;
  table_init(&t, columns);
  if (table) {
    const char *header[] = {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES", "SIZE"};
    table_add(&t, header);
  }
  int ret = 0;
  long shown = 0;
  for (size_t i = 0; i < n && (last < 0 || shown < last); i++) {
    struct container *ct = &list[i];
    lifecycle_sync(e, ct);
    if (!all && ct->status != CONTAINER_RUNNING && ct->status != CONTAINER_PAUSED &&
        ct->status != CONTAINER_RESTARTING)
      continue;
    if (!matches_all(ct, filters, n_filters))
      continue;
    shown++;
    if (quiet) {
      printf("%.*s\n", trunc ? 12 : CONTAINER_ID_LEN, ct->id);
      continue;
    }
    cleanup_json struct json_object *row = row_json(e, ct, now, trunc, size);
    if (json) {
      printf("%s\n", json_object_to_json_string_ext(row, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    } else if (table) {
      const char *cells[8];
      const char *keys[] = {"ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names", "Size"};
      for (size_t k = 0; k < columns; k++)
        cells[k] = json_object_get_string(json_object_object_get(row, keys[k]));
      table_add(&t, cells);
    } else if (template_print(stdout, strncmp(format, "table ", 6) == 0 ? format + 6 : format, row, err) < 0) {
      ret = -1;
      break;
    }
  }
  if (table && ret == 0)
    table_print(&t, stdout);
  table_free(&t);
  containers_free(list, n);
  return ret;
}
