/* berth events / system events */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cmd/berth/commands.h"
#include "cmd/berth/template.h"
#include "engine/events.h"
#include "engine/logs.h"
#include "util/cleanup.h"
#include "util/json.h"

static const char usage_text[] = "events [OPTIONS]";

struct printer {
  const char *format; /* NULL: docker's default line; "json"; or a template */
};

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int key_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* docker's: RFC 3339 with nine fraction digits in the local zone, type,
 * action, actor, then the attributes sorted by key. */
static void print_default(const struct event *ev) {
  time_t sec = (time_t)(ev->time_ns / 1000000000);
  struct tm tm;
  localtime_r(&sec, &tm);
  char when[64], zone[32] = "Z";
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
  if (tm.tm_gmtoff != 0) {
    long off = tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff;
    snprintf(zone, sizeof(zone), "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+', off / 3600, off / 60 % 60);
  }
  printf("%s.%09lld%s %s %s %s", when, (long long)(ev->time_ns % 1000000000), zone, ev->type, ev->action,
         ev->actor_id);
  size_t n = ev->attributes != NULL ? (size_t)json_object_object_length(ev->attributes) : 0;
  if (n == 0) {
    putchar('\n');
    return;
  }
  const char **keys = malloc(n * sizeof(*keys));
  if (keys == NULL) {
    putchar('\n');
    return;
  }
  size_t i = 0;
  json_object_object_foreach(ev->attributes, key, unused) {
    (void)unused;
    keys[i++] = key;
  }
  qsort(keys, n, sizeof(*keys), key_cmp);
  fputs(" (", stdout);
  for (i = 0; i < n; i++) {
    struct json_object *v = NULL;
    json_object_object_get_ex(ev->attributes, keys[i], &v);
    printf("%s%s=%s", i > 0 ? ", " : "", keys[i], json_object_get_string(v));
  }
  fputs(")\n", stdout);
  free(keys);
}

static struct json_object *string_or_empty(struct json_object *o, const char *key) {
  struct json_object *v = NULL;
  if (o != NULL && json_object_object_get_ex(o, key, &v))
    return json_object_get(v);
  return json_object_new_string("");
}

/* The event as Go's template sees docker's events.Message: field names,
 * not JSON keys. */
static struct json_object *template_object(struct json_object *line) {
  static const char *const fields[][2] = {{"Status", "status"}, {"ID", "id"},         {"From", "from"},
                                          {"Type", "Type"},     {"Action", "Action"}, {"Scope", "scope"}};
  struct json_object *o = json_object_new_object();
  for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
    json_object_object_add(o, fields[i][0], string_or_empty(line, fields[i][1]));
  struct json_object *actor = NULL, *time = NULL, *nano = NULL;
  if (line != NULL)
    json_object_object_get_ex(line, "Actor", &actor);
  if (actor != NULL) {
    json_object_object_add(o, "Actor", json_object_get(actor));
  } else {
    actor = json_object_new_object();
    json_object_object_add(actor, "ID", json_object_new_string(""));
    json_object_object_add(actor, "Attributes", json_object_new_object());
    json_object_object_add(o, "Actor", actor);
  }
  if (line != NULL)
    json_object_object_get_ex(line, "time", &time);
  if (line != NULL)
    json_object_object_get_ex(line, "timeNano", &nano);
  json_object_object_add(o, "Time", time != NULL ? json_object_get(time) : json_object_new_int64(0));
  json_object_object_add(o, "TimeNano", nano != NULL ? json_object_get(nano) : json_object_new_int64(0));
  return o;
}

static int print_event(const struct event *ev, void *arg, berth_error **err) {
  const struct printer *p = arg;
  if (p->format == NULL) {
    print_default(ev);
  } else if (strcmp(p->format, "json") == 0) {
    fwrite(ev->line, 1, ev->len, stdout);
    putchar('\n');
  } else {
    cleanup_json struct json_object *o = template_object(ev->obj);
    if (template_print(stdout, p->format, o, err) < 0)
      return -1;
  }
  /* a follower shows each event as it comes */
  if (fflush(stdout) != 0)
    return berth_fail(err, errno, "write events");
  return 0;
}

/* "json" and "{{json .}}" are docker's events.Message as JSON: the stored
 * line itself. */
static const char *normalize_format(const char *format) {
  if (format == NULL || *format == '\0')
    return NULL;
  size_t start = strspn(format, " "), len = strlen(format + start);
  while (len > 0 && format[start + len - 1] == ' ')
    len--;
  static const char *const as_json[] = {"json", "{{json .}}", "{{ json . }}"};
  for (size_t i = 0; i < ARRAY_SIZE(as_json); i++)
    if (strlen(as_json[i]) == len && strncmp(format + start, as_json[i], len) == 0)
      return "json";
  return format;
}

static void help(void) {
  printf("Usage:  berth %s\n\nGet real time events from the server\n\nAliases:\n"
         "  berth system events, berth events\n\nOptions:\n"
         "  -f, --filter filter   Filter output based on conditions provided\n"
         "      --format string   Format output using a custom template:\n"
         "                        'json':             Print in JSON format\n"
         "                        'TEMPLATE':         Print output using the given Go template.\n"
         "      --since string    Show all events created since timestamp\n"
         "      --until string    Stream events until this timestamp\n",
         usage_text);
}

int cmd_events(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  enum { OPT_SINCE = 256, OPT_UNTIL, OPT_FORMAT };
  static const struct option options[] = {{"filter", required_argument, NULL, 'f'},
                                          {"format", required_argument, NULL, OPT_FORMAT},
                                          {"since", required_argument, NULL, OPT_SINCE},
                                          {"until", required_argument, NULL, OPT_UNTIL},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  struct events_filter filter = {0};
  struct events_read_options o = {.stop_fd = -1, .filter = &filter, .emit = print_event};
  struct printer p = {0};
  const char *since = NULL, *until = NULL;
  int64_t now = now_ns();
  int c, ret = -1;
  cleanup_close int sfd = -1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":f:h", options, NULL)) != -1) {
    switch (c) {
    case 'f':
      if (strchr(optarg, '=') == NULL) {
        berth_fail(err, 0, "invalid argument \"%s\" for \"-f, --filter\" flag: bad format of filter (expected "
                           "name=value)", optarg);
        ret = cmd_flag_error("events", err);
        goto out;
      }
      if (events_filter_add(&filter, optarg, err) < 0)
        goto out;
      break;
    case OPT_FORMAT:
      p.format = optarg;
      break;
    case OPT_SINCE:
      since = optarg;
      if (logs_parse_time(optarg, now, &o.since_ns, err) < 0)
        goto out;
      o.has_since = true;
      break;
    case OPT_UNTIL:
      until = optarg;
      if (logs_parse_time(optarg, now, &o.until_ns, err) < 0)
        goto out;
      o.has_until = true;
      break;
    case 'h':
      help();
      ret = 0;
      goto out;
    case ':':
      berth_fail(err, 0, "flag needs an argument: %s", argv[optind - 1]);
      ret = cmd_flag_error("events", err);
      goto out;
    default:
      berth_fail(err, 0, "unknown flag: %s", argv[optind - 1]);
      ret = cmd_flag_error("events", err);
      goto out;
    }
  }
  if (optind < argc) {
    berth_fail(err, 0, "\"berth events\" accepts no arguments.");
    ret = cmd_flag_error("events", err);
    goto out;
  }
  if (o.has_until && o.has_since && o.until_ns < o.since_ns) {
    berth_fail(err, 0, "`since` time (%s) cannot be after `until` time (%s)", since, until);
    goto out;
  }
  p.format = normalize_format(p.format);
  if (p.format != NULL && strcmp(p.format, "json") != 0) {
    /* docker tries the template on an empty event first */
    FILE *null = fopen("/dev/null", "w");
    cleanup_json struct json_object *empty = template_object(NULL);
    int tried = null != NULL ? template_print(null, p.format, empty, err) : 0;
    if (null != NULL)
      fclose(null);
    if (tried < 0) {
      berth_error_wrap(err, "template parsing error");
      goto out;
    }
  }
  struct store *s = context_store(ctx, err);
  if (s == NULL)
    goto out;
  o.arg = &p;
  o.follow = !o.has_until || o.until_ns > now_ns();
  /* an interrupt ends the follow quietly, as docker's does */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop, NULL);
  o.stop_fd = sfd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
  ret = events_read(s->root, &o, err);
out:
  events_filter_free(&filter);
  return ret;
}
