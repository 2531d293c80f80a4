/* berth container prune, and the internal `container cleanup` that a
 * monitor runs once its container has exited. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/berth/commands.h"
#include "cmd/berth/format.h"
#include "engine/engine.h"
#include "engine/health.h"
#include "engine/lifecycle.h"
#include "engine/logs.h"
#include "util/cleanup.h"
#include "util/fs.h"

int cmd_container_cleanup(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  if (argc != 2)
    return cmd_usage_error("container cleanup", "container cleanup CONTAINER", err);
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  return lifecycle_cleanup(e, argv[1], true, err) < 0 ? -1 : 0;
}

/* run by a container's monitor every health-check interval */
int cmd_container_healthcheck(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  if (argc != 2)
    return cmd_usage_error("container healthcheck", "container healthcheck CONTAINER", err);
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  return health_check(e, argv[1], err) < 0 ? -1 : 0;
}

/* docker's prune filters: until=TIME (created before), label=K[=V] and
 * label!=K[=V]; every one must hold. */
struct prune_filter {
  enum { PRUNE_UNTIL, PRUNE_LABEL, PRUNE_NOT_LABEL } kind;
  const char *value;
  int64_t until_ns;
};

static int parse_prune_filter(const char *text, struct prune_filter *f, berth_error **err) {
  const char *eq = strchr(text, '=');
  if (eq == NULL)
    return berth_fail(err, 0, "bad format of filter (expected name=value)");
  size_t key_len = (size_t)(eq - text);
  f->value = eq + 1;
  if (key_len == 5 && strncmp(text, "until", 5) == 0) {
    f->kind = PRUNE_UNTIL;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return logs_parse_time(f->value, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, &f->until_ns, err);
  }
  if (key_len == 5 && strncmp(text, "label", 5) == 0) {
    f->kind = PRUNE_LABEL;
    return 0;
  }
  if (key_len == 6 && strncmp(text, "label!", 6) == 0) {
    f->kind = PRUNE_NOT_LABEL;
    return 0;
  }
  return berth_fail(err, 0, "invalid filter '%.*s'", (int)key_len, text);
}

static bool has_label(const struct container *c, const char *term) {
  const char *eq = strchr(term, '=');
  size_t key_len = eq != NULL ? (size_t)(eq - term) : strlen(term);
  struct json_object *labels;
  if (!json_object_object_get_ex(c->config, "Labels", &labels) || !json_object_is_type(labels, json_type_object))
    return false;
  json_object_object_foreach(labels, key, value) {
    if (strlen(key) == key_len && strncmp(key, term, key_len) == 0)
      return eq == NULL || strcmp(json_object_get_string(value), eq + 1) == 0;
  }
  return false;
}

static bool prune_matches(const struct container *c, const struct prune_filter *filters, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const struct prune_filter *f = &filters[i];
    if ((f->kind == PRUNE_UNTIL && c->created_ns >= f->until_ns) ||
        (f->kind == PRUNE_LABEL && !has_label(c, f->value)) || (f->kind == PRUNE_NOT_LABEL && has_label(c, f->value)))
      return false;
  }
  return true;
}

static uint64_t upper_size(struct engine *e, const char *id) {
  cleanup_free char *upper = engine_container_path(e, id, "diff");
  cleanup_close int fd = upper != NULL ? open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  return fd >= 0 ? fs_tree_size(fd) : 0;
}

int cmd_container_prune(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const char usage_text[] = "container prune [OPTIONS]";
  static const struct option options[] = {{"force", no_argument, NULL, 'f'},
                                          {"filter", required_argument, NULL, 'F'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  bool force = false;
  struct prune_filter filters[16];
  size_t n_filters = 0;
  int c;
  while ((c = getopt_long(argc, argv, "fh", options, NULL)) != -1) {
    switch (c) {
    case 'f':
      force = true;
      break;
    case 'F':
      if (n_filters == sizeof(filters) / sizeof(filters[0]))
        return berth_fail(err, 0, "too many filters");
      if (parse_prune_filter(optarg, &filters[n_filters++], err) < 0)
        return -1;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nRemove all stopped containers\n\nOptions:\n"
             "      --filter filter   Provide filter values (e.g. \"until=<timestamp>\")\n"
             "  -f, --force           Do not prompt for confirmation\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("container prune", usage_text, err);
    }
  }
  if (optind != argc)
    return cmd_usage_error("container prune", usage_text, err);
  if (!force) {
    fprintf(stderr, "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ");
    char answer[16] = "";
    if (!isatty(0) || fgets(answer, sizeof(answer), stdin) == NULL || (answer[0] != 'y' && answer[0] != 'Y'))
      return 0;
  }
  struct engine *e = context_engine(ctx, err);
  struct container *list;
  size_t n;
  if (e == NULL || containers_list(e, &list, &n, err) < 0)
    return -1;
  bool header = false;
  int status = 0;
  uint64_t reclaimed = 0;
  for (size_t i = 0; i < n; i++) {
    lifecycle_sync(e, &list[i]);
    if ((list[i].status != CONTAINER_EXITED && list[i].status != CONTAINER_CREATED &&
         list[i].status != CONTAINER_DEAD) ||
        !prune_matches(&list[i], filters, n_filters))
      continue;
    uint64_t size = upper_size(e, list[i].id);
    berth_error *one = NULL;
    if (lifecycle_remove(e, list[i].id, false, false, &one) < 0) {
      cmd_report(one);
      status = 1;
      continue;
    }
    reclaimed += size;
    if (!header)
      printf("Deleted Containers:\n");
    header = true;
    printf("%s\n", list[i].id);
  }
  if (header)
    printf("\n");
  char total[32];
  format_size((int64_t)reclaimed, total, sizeof(total));
  printf("Total reclaimed space: %s\n", total);
  containers_free(list, n);
  return status;
}
