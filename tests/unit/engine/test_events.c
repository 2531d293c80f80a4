/* Unit tests of src/engine/events.c: docker's line format, the filters,
 * the time window, rotation under concurrent writers, and a follower that
 * reads across rotations without losing or repeating a line. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/events.h"
#include "tap.h"

static char tmpdir[64];

static char *fresh_root(const char *name) {
  static char path[256];
  snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
  mkdir(path, 0700);
  return path;
}

static void test_format_container_line(void) {
  struct event_attr attrs[] = {{"exitCode", "0"}, {"name", "web"}, {"image", "busybox"}, {"a", "x"},
                               {"a", "y"}}; /* a later key wins */
  size_t len = 0;
  char *line = events_format("container", "die", "abc", attrs, 5, 1700000000123456789LL, &len);
  EXPECT_STR(line, "{\"status\":\"die\",\"id\":\"abc\",\"from\":\"busybox\",\"Type\":\"container\",\"Action\":\"die\","
                   "\"Actor\":{\"ID\":\"abc\",\"Attributes\":{\"a\":\"y\",\"exitCode\":\"0\",\"image\":\"busybox\","
                   "\"name\":\"web\"}},\"scope\":\"local\",\"time\":1700000000,\"timeNano\":1700000000123456789}\n");
  EXPECT(line != NULL && len == strlen(line));
  free(line);
}

static void test_format_volume_has_no_legacy_fields(void) {
  struct event_attr attrs[] = {{"driver", "local"}};
  size_t len;
  char *line = events_format("volume", "create", "v1", attrs, 1, 2000000000LL, &len);
  EXPECT_STR(line, "{\"Type\":\"volume\",\"Action\":\"create\",\"Actor\":{\"ID\":\"v1\",\"Attributes\":{\"driver\":"
                   "\"local\"}},\"scope\":\"local\",\"time\":2,\"timeNano\":2000000000}\n");
  free(line);
}

static void test_format_escapes_as_go(void) {
  /* quotes, control characters, HTML kept (docker's {{json .}} turns
   * escaping off), U+2028, and an invalid byte as U+FFFD */
  struct event_attr attrs[] = {{"k", "a\"b\\c\n\t\x01<&>\xe2\x80\xa8\xff\xc3\xa9"}};
  size_t len;
  char *line = events_format("image", "tag", "sha256:1", attrs, 1, 1000000000LL, &len);
  EXPECT_CONTAINS(line, "\"k\":\"a\\\"b\\\\c\\n\\t\\u0001<&>\\u2028\\ufffd\xc3\xa9\"");
  free(line);
}

static struct json_object *parse(const char *line) {
  return json_tokener_parse(line);
}

static struct event make_event(struct json_object *o) {
  struct event ev = {.obj = o};
  struct json_object *v, *actor = NULL;
  json_object_object_get_ex(o, "Type", &v);
  ev.type = json_object_get_string(v);
  json_object_object_get_ex(o, "Action", &v);
  ev.action = json_object_get_string(v);
  json_object_object_get_ex(o, "Actor", &actor);
  json_object_object_get_ex(actor, "ID", &v);
  ev.actor_id = json_object_get_string(v);
  json_object_object_get_ex(actor, "Attributes", &ev.attributes);
  return ev;
}

/* Whether the filter made of the given terms matches a line. */
static int matches(const char *line, const char *const *terms) {
  struct events_filter f = {0};
  for (size_t i = 0; terms[i] != NULL; i++) {
    berth_error *err = NULL;
    if (events_filter_add(&f, terms[i], &err) < 0) {
      printf("# filter %s: %s\n", terms[i], err->msg);
      berth_error_free(err);
      events_filter_free(&f);
      return -1;
    }
  }
  struct json_object *o = parse(line);
  struct event ev = make_event(o);
  int r = events_filter_match(&f, &ev);
  json_object_put(o);
  events_filter_free(&f);
  return r;
}

static void test_filters(void) {
  const char *ctr = "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"3f4e5d\",\"Attributes\":"
                    "{\"image\":\"docker.io/library/busybox:latest\",\"name\":\"web\",\"tier\":\"db\",\"x\":\"1\"}}}";
  const char *img = "{\"Type\":\"image\",\"Action\":\"tag\",\"Actor\":{\"ID\":\"sha256:aa\",\"Attributes\":"
                    "{\"name\":\"busybox:v1\"}}}";
  const char *exec = "{\"Type\":\"container\",\"Action\":\"exec_start: sh -c ls\",\"Actor\":{\"ID\":\"3f4e5d\","
                     "\"Attributes\":{\"name\":\"web\"}}}";
  EXPECT(matches(ctr, (const char *[]){NULL}) == 1);
  EXPECT(matches(ctr, (const char *[]){"type=container", NULL}) == 1);
  EXPECT(matches(ctr, (const char *[]){"type=image", NULL}) == 0);
  /* one key's values are alternatives */
  EXPECT(matches(ctr, (const char *[]){"type=image", "type=container", NULL}) == 1);
  EXPECT(matches(ctr, (const char *[]){"event=start", NULL}) == 1);
  EXPECT(matches(ctr, (const char *[]){"action=die", NULL}) == 0);
  /* container: ID or name, by prefix as docker's FuzzyMatch */
  EXPECT(matches(ctr, (const char *[]){"container=3f4", NULL}) == 1);
  EXPECT(matches(ctr, (const char *[]){"container=we", NULL}) == 1);
  EXPECT(matches(ctr, (const char *[]){"container=db", NULL}) == 0);
  /* different keys: all must hold */
  EXPECT(matches(ctr, (const char *[]){"container=web", "event=die", NULL}) == 0);
  /* a container filter leaves out events of other objects */
  EXPECT(matches(img, (const char *[]){"container=web", NULL}) == 0);
  /* image: the container's image or the image's name, with or without tag */
  EXPECT(matches(ctr, (const char *[]){"image=busybox", NULL}) == 1);
  EXPECT(matches(ctr, (const char *[]){"image=alpine", NULL}) == 0);
  EXPECT(matches(img, (const char *[]){"image=busybox", NULL}) == 1);
  EXPECT(matches(img, (const char *[]){"image=busybox:v1", NULL}) == 1);
  EXPECT(matches(img, (const char *[]){"image=sha256:aa", NULL}) == 1);
  /* labels: every one must match */
  EXPECT(matches(ctr, (const char *[]){"label=tier", NULL}) == 1);
  EXPECT(matches(ctr, (const char *[]){"label=tier=db", "label=x=1", NULL}) == 1);
  EXPECT(matches(ctr, (const char *[]){"label=tier=db", "label=x=2", NULL}) == 0);
  EXPECT(matches(ctr, (const char *[]){"label=nope", NULL}) == 0);
  /* exec_start matches the action with its command */
  EXPECT(matches(exec, (const char *[]){"event=exec_start", NULL}) == 1);
  EXPECT(matches(exec, (const char *[]){"event=exec_create", NULL}) == 0);
  /* docker's name filters look at any event's name attribute */
  EXPECT(matches(ctr, (const char *[]){"volume=web", NULL}) == 1);
  EXPECT(matches(ctr, (const char *[]){"volume=vv", NULL}) == 0);
  EXPECT(matches(ctr, (const char *[]){"scope=local", NULL}) == 1);
  /* bad input */
  EXPECT(matches(ctr, (const char *[]){"colour=red", NULL}) == -1);
  EXPECT(matches(ctr, (const char *[]){"type=containers", NULL}) == -1);
  EXPECT(matches(ctr, (const char *[]){"novalue", NULL}) == -1);
}

struct collect {
  atomic_int count;
  char seen[64][256];
  int n_seen;
};

static int collect(const struct event *ev, void *arg, berth_error **err) {
  (void)err;
  struct collect *c = arg;
  if (c->n_seen < 64)
    snprintf(c->seen[c->n_seen++], sizeof(c->seen[0]), "%s %s", ev->action, ev->actor_id);
  atomic_fetch_add(&c->count, 1);
  return 0;
}

static void append_at(const char *root, const char *action, const char *id, int64_t t) {
  size_t len;
  char *line = events_format("container", action, id, NULL, 0, t, &len);
  berth_error *err = NULL;
  if (line == NULL || events_append(root, line, len, EVENTS_MAX_SIZE, &err) < 0) {
    printf("# append: %s\n", err != NULL ? err->msg : "format");
    berth_error_free(err);
  }
  free(line);
}

static void test_time_window(void) {
  const char *root = fresh_root("window");
  const int64_t s = 1000000000LL;
  append_at(root, "create", "a", 100 * s);
  append_at(root, "start", "a", 200 * s);
  append_at(root, "die", "a", 300 * s);
  /* a torn line (a full disk) is skipped */
  char path[300];
  snprintf(path, sizeof(path), "%s/events/events.log", root);
  int fd = open(path, O_WRONLY | O_APPEND);
  EXPECT(fd >= 0 && write(fd, "{\"Type\":\"contai\n", 16) == 16);
  close(fd);
  append_at(root, "destroy", "a", 400 * s);

  struct collect c = {0};
  struct events_read_options o = {.has_since = true, .since_ns = 200 * s, .has_until = true, .until_ns = 300 * s,
                                  .stop_fd = -1, .emit = collect, .arg = &c};
  berth_error *err = NULL;
  EXPECT(events_read(root, &o, &err) == 0);
  EXPECT(c.n_seen == 2);
  EXPECT_STR(c.seen[0], "start a");
  EXPECT_STR(c.seen[1], "die a");

  /* until alone: everything up to it */
  memset(&c, 0, sizeof(c));
  o.has_since = false;
  o.until_ns = 1000 * s;
  EXPECT(events_read(root, &o, &err) == 0);
  EXPECT(c.n_seen == 4);
  EXPECT_STR(c.seen[3], "destroy a");

  /* neither: no past events (docker shows only new ones) */
  memset(&c, 0, sizeof(c));
  o.has_until = false;
  EXPECT(events_read(root, &o, &err) == 0);
  EXPECT(c.n_seen == 0);

  /* nothing recorded yet: nothing, and no error */
  memset(&c, 0, sizeof(c));
  o.has_since = true;
  o.since_ns = 0;
  EXPECT(events_read(fresh_root("never"), &o, &err) == 0);
  EXPECT(c.n_seen == 0);
}

/* ---- rotation with concurrent writers and a follower ---- */

#define WRITERS 4
#define PER_WRITER 1500
#define SMALL_MAX ((off_t)128 * 1024)

struct writer_arg {
  const char *root;
  int n;
};

static void *writer(void *p) {
  struct writer_arg *w = p;
  for (int i = 0; i < PER_WRITER; i++) {
    char id[32];
    snprintf(id, sizeof(id), "w%d-%05d", w->n, i);
    struct event_attr attrs[] = {{"padding", "................................................................"}};
    size_t len;
    char *line = events_format("container", "start", id, attrs, 1, 1, &len);
    berth_error *err = NULL;
    if (events_append(w->root, line, len, SMALL_MAX, &err) < 0) {
      printf("# append: %s\n", err->msg);
      berth_error_free(err);
    }
    free(line);
    /* a follower that falls two rotations behind loses what lay between
     * them (by design: the file is bounded); keep the rate to what a
     * follower takes, some 16000 events a second (rotation every 16 ms) */
    if (i % 4 == 3)
      usleep(1000);
  }
  return NULL;
}

struct follower {
  const char *root;
  int stop_fd;
  int next[WRITERS]; /* the next index expected from each writer */
  atomic_int taken;
  atomic_int bad; /* lost, repeated or out of order */
  int result;
};

static int check_order(const struct event *ev, void *arg, berth_error **err) {
  (void)err;
  struct follower *f = arg;
  int w, i;
  if (sscanf(ev->actor_id, "w%d-%d", &w, &i) != 2 || w < 0 || w >= WRITERS || i != f->next[w]) {
    if (atomic_fetch_add(&f->bad, 1) < 3)
      printf("#   follower: got %s, expected w%d-%05d\n", ev->actor_id, w, w >= 0 && w < WRITERS ? f->next[w] : -1);
    if (w >= 0 && w < WRITERS)
      f->next[w] = i + 1;
  } else {
    f->next[w]++;
  }
  atomic_fetch_add(&f->taken, 1);
  return 0;
}

static void *follow_thread(void *p) {
  struct follower *f = p;
  struct events_read_options o = {.follow = true, .stop_fd = f->stop_fd, .emit = check_order, .arg = f};
  berth_error *err = NULL;
  f->result = events_read(f->root, &o, &err);
  if (err != NULL) {
    printf("# follow: %s\n", err->msg);
    berth_error_free(err);
  }
  return NULL;
}

static void test_rotation_concurrent_writers_and_follower(void) {
  const char *root = strdup(fresh_root("rotate"));
  struct follower f = {.root = root, .stop_fd = eventfd(0, EFD_CLOEXEC)};
  pthread_t reader, writers[WRITERS];
  struct writer_arg args[WRITERS];
  pthread_create(&reader, NULL, follow_thread, &f);
  usleep(50000); /* the follower is watching: it sees every line */
  for (int i = 0; i < WRITERS; i++) {
    args[i] = (struct writer_arg){root, i};
    pthread_create(&writers[i], NULL, writer, &args[i]);
  }
  for (int i = 0; i < WRITERS; i++)
    pthread_join(writers[i], NULL);
  for (int i = 0; i < 500 && atomic_load(&f.taken) < WRITERS * PER_WRITER; i++)
    usleep(10000);
  uint64_t one = 1;
  EXPECT(write(f.stop_fd, &one, sizeof(one)) == sizeof(one));
  pthread_join(reader, NULL);
  EXPECT(f.result == 0);
  EXPECT(atomic_load(&f.taken) == WRITERS * PER_WRITER);
  EXPECT(atomic_load(&f.bad) == 0);
  if (atomic_load(&f.taken) != WRITERS * PER_WRITER)
    printf("#   follower took %d of %d\n", atomic_load(&f.taken), WRITERS * PER_WRITER);

  /* the file stayed bounded, holds whole lines only, the newest last, and
   * no temporary file is left */
  size_t mlen;
  char *marker = events_format("container", "destroy", "marker", NULL, 0, 1, &mlen);
  berth_error *err = NULL;
  EXPECT(events_append(root, marker, mlen, SMALL_MAX, &err) == 0);
  free(marker);
  char path[300];
  snprintf(path, sizeof(path), "%s/events/events.log", root);
  struct stat st;
  EXPECT(stat(path, &st) == 0 && st.st_size <= SMALL_MAX + 512);
  FILE *in = fopen(path, "r");
  char line[1024];
  int lines = 0, bad = 0;
  bool last_is_marker = false;
  while (in != NULL && fgets(line, sizeof(line), in) != NULL) {
    lines++;
    struct json_object *o = json_tokener_parse(line);
    if (o == NULL || line[strlen(line) - 1] != '\n')
      bad++;
    json_object_put(o);
    last_is_marker = strstr(line, "\"marker\"") != NULL;
  }
  if (in != NULL)
    fclose(in);
  EXPECT(lines > 50);
  EXPECT(bad == 0);
  EXPECT(last_is_marker);
  snprintf(path, sizeof(path), "%s/events/events.log.tmp", root);
  EXPECT(access(path, F_OK) < 0);
  close(f.stop_fd);
  free((void *)root);
}

static char *read_log(const char *root) {
  char path[300];
  snprintf(path, sizeof(path), "%s/events/events.log", root);
  FILE *f = fopen(path, "r");
  static char text[8192];
  size_t n = f != NULL ? fread(text, 1, sizeof(text) - 1, f) : 0;
  text[n] = '\0';
  if (f != NULL)
    fclose(f);
  return text;
}

/* What the lifecycle and exec record: labels, image, name, and docker's
 * exec actions with the command in them. */
static void test_container_events(void) {
  char root[256];
  snprintf(root, sizeof(root), "%s", fresh_root("ctr"));
  struct engine e = {.root = root};
  struct container c = {.id = "c0ffee", .name = "web", .image = "busybox", .exit_code = 137,
                        .started_ns = 5000000000LL, .finished_ns = 7500000000LL};
  c.config = json_tokener_parse("{\"Labels\":{\"tier\":\"db\",\"name\":\"label-loses\"}}");
  events_container_die(&e, &c);
  EXPECT_CONTAINS(read_log(root), "\"Action\":\"die\",\"Actor\":{\"ID\":\"c0ffee\",\"Attributes\":{"
                                  "\"execDuration\":\"2\",\"exitCode\":\"137\",\"image\":\"busybox\","
                                  "\"name\":\"web\",\"tier\":\"db\"}}");
  char *argv[] = {"sh", "-c", "ls /", NULL};
  events_container_exec(&e, &c, "exec_start", "e1", argv, 0);
  EXPECT_CONTAINS(read_log(root), "\"Action\":\"exec_start: sh -c ls /\",\"Actor\":{\"ID\":\"c0ffee\","
                                  "\"Attributes\":{\"execID\":\"e1\",\"image\"");
  events_container_exec(&e, &c, "exec_die", "e1", NULL, 3);
  EXPECT_CONTAINS(read_log(root), "\"Action\":\"exec_die\",\"Actor\":{\"ID\":\"c0ffee\",\"Attributes\":{"
                                  "\"execID\":\"e1\",\"exitCode\":\"3\",");
  events_container_kill(&e, &c, 15);
  EXPECT_CONTAINS(read_log(root), "\"name\":\"web\",\"signal\":\"15\",\"tier\":\"db\"}");
  events_volume(&e, "v1", "destroy");
  EXPECT_CONTAINS(read_log(root), "{\"Type\":\"volume\",\"Action\":\"destroy\",\"Actor\":{\"ID\":\"v1\"");
  events_image(root, "sha256:ab", "x:1", "untag");
  EXPECT_CONTAINS(read_log(root), "{\"status\":\"untag\",\"id\":\"sha256:ab\",\"Type\":\"image\"");
  json_object_put(c.config);
}

/* What an event costs the operation that records it (run's fast path). */
static void test_record_cost(void) {
  const char *root = fresh_root("cost");
  struct timespec a, b;
  const int n = 2000;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; i++) {
    struct event_attr attrs[] = {{"image", "busybox"}, {"name", "some_name"}};
    events_record(root, "container", "start", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                  attrs, 2);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / n;
  printf("# one event recorded in %.1f us\n", us);
  EXPECT(us < 200);
}

int main(void) {
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/berth-test-events-XXXXXX");
  if (mkdtemp(tmpdir) == NULL)
    return 2;
  RUN(test_format_container_line);
  RUN(test_format_volume_has_no_legacy_fields);
  RUN(test_format_escapes_as_go);
  RUN(test_filters);
  RUN(test_time_window);
  RUN(test_container_events);
  RUN(test_rotation_concurrent_writers_and_follower);
  RUN(test_record_cost);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
  if (system(cmd) != 0)
    printf("# could not remove %s\n", tmpdir);
  return tap_done();
}
