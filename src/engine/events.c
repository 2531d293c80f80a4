#include "engine/events.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/reference.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

#define EVENTS_DIR "events"
#define EVENTS_FILE "events.log"
#define EVENTS_TMP "events.log.tmp"

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the line ---- */

struct buf {
  char *p;
  size_t len, cap;
  bool failed;
};

static void buf_put(struct buf *b, const char *s, size_t n) {
  if (b->failed)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap == 0 ? 512 : b->cap;
    while (b->len + n + 1 > cap)
      cap *= 2;
    char *grown = realloc(b->p, cap);
    if (grown == NULL) {
      b->failed = true;
      return;
    }
    b->p = grown;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s) {
  buf_put(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (of n bytes), 0 when invalid:
 * Go's rules (no surrogates, no overlong forms, nothing past U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else
    return 0;
  if (n < len || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xBF)
      return 0;
  return len;
}

/* A JSON string as Go's encoder writes it for docker's {{json .}} (HTML
 * characters kept, U+2028/U+2029 escaped, invalid UTF-8 as U+FFFD). */
static void buf_json_string(struct buf *b, const char *text) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)(text != NULL ? text : "");
  size_t n = strlen((const char *)s);
  buf_put(b, "\"", 1);
  size_t i = 0, start = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      i++;
      continue;
    }
    size_t ulen = c >= 0x80 ? utf8_len(s + i, n - i) : 1;
    if (c >= 0x80 && ulen > 0 &&
        !(ulen == 3 && s[i] == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))) {
      i += ulen;
      continue;
    }
    buf_put(b, (const char *)s + start, i - start);
    char esc[8];
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      buf_put(b, esc, 2);
    } else if (c == '\n') {
      buf_put(b, "\\n", 2);
    } else if (c == '\r') {
      buf_put(b, "\\r", 2);
    } else if (c == '\t') {
      buf_put(b, "\\t", 2);
    } else if (c == '\b') {
      buf_put(b, "\\b", 2);
    } else if (c == '\f') {
      buf_put(b, "\\f", 2);
    } else if (c < 0x20) {
      snprintf(esc, sizeof(esc), "\\u00%c%c", hex[c >> 4], hex[c & 0xF]);
      buf_put(b, esc, 6);
    } else if (ulen == 3) {
      buf_str(b, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
    } else {
      buf_str(b, "\\ufffd");
      ulen = 1;
    }
    i += ulen;
    start = i;
  }
  buf_put(b, (const char *)s + start, n - start);
  buf_put(b, "\"", 1);
}

static int attr_cmp(const void *a, const void *b) {
  return strcmp(((const struct event_attr *)a)->key, ((const struct event_attr *)b)->key);
}

/* The attributes sorted by key (Go marshals a map so), a later duplicate
 * replacing an earlier one; NULL values are left out. */
static struct event_attr *sorted_attrs(const struct event_attr *attrs, size_t n, size_t *out_n) {
  struct event_attr *v = malloc((n > 0 ? n : 1) * sizeof(*v));
  if (v == NULL)
    return NULL;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (attrs[i].key == NULL || attrs[i].value == NULL)
      continue;
    size_t j = 0;
    while (j < m && strcmp(v[j].key, attrs[i].key) != 0)
      j++;
    v[j] = attrs[i];
    if (j == m)
      m++;
  }
  qsort(v, m, sizeof(*v), attr_cmp);
  *out_n = m;
  return v;
}

char *events_format(const char *type, const char *action, const char *actor_id, const struct event_attr *attrs,
                    size_t n_attrs, int64_t time_ns, size_t *len) {
  size_t n = 0;
  cleanup_free struct event_attr *sorted = sorted_attrs(attrs, n_attrs, &n);
  if (sorted == NULL)
    return NULL;
  struct buf b = {0};
  buf_put(&b, "{", 1);
  /* docker fills the deprecated fields for containers and images only */
  bool legacy = strcmp(type, "container") == 0 || strcmp(type, "image") == 0;
  if (legacy) {
    const char *from = NULL;
    for (size_t i = 0; i < n; i++)
      if (strcmp(type, "container") == 0 && strcmp(sorted[i].key, "image") == 0)
        from = sorted[i].value;
    if (*action != '\0') {
      buf_str(&b, "\"status\":");
      buf_json_string(&b, action);
      buf_put(&b, ",", 1);
    }
    if (*actor_id != '\0') {
      buf_str(&b, "\"id\":");
      buf_json_string(&b, actor_id);
      buf_put(&b, ",", 1);
    }
    if (from != NULL && *from != '\0') {
      buf_str(&b, "\"from\":");
      buf_json_string(&b, from);
      buf_put(&b, ",", 1);
    }
  }
  buf_str(&b, "\"Type\":");
  buf_json_string(&b, type);
  buf_str(&b, ",\"Action\":");
  buf_json_string(&b, action);
  buf_str(&b, ",\"Actor\":{\"ID\":");
  buf_json_string(&b, actor_id);
  buf_str(&b, ",\"Attributes\":{");
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      buf_put(&b, ",", 1);
    buf_json_string(&b, sorted[i].key);
    buf_put(&b, ":", 1);
    buf_json_string(&b, sorted[i].value);
  }
  char tail[96];
  int64_t sec = time_ns / 1000000000;
  snprintf(tail, sizeof(tail), "}},\"scope\":\"local\",\"time\":%lld,\"timeNano\":%lld}\n", (long long)sec,
           (long long)time_ns);
  buf_str(&b, tail);
  if (b.failed) {
    free(b.p);
    return NULL;
  }
  *len = b.len;
  return b.p;
}

/* ---- the file ---- */

static int open_dir(const char *root, bool create, berth_error **err) {
  char dir[PATH_MAX];
  if ((size_t)snprintf(dir, sizeof(dir), "%s/" EVENTS_DIR, root) >= sizeof(dir))
    return berth_fail(err, ENAMETOOLONG, "events directory under \"%s\"", root);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
      return berth_fail(err, errno, "mkdir \"%s\"", dir);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (fd < 0)
    return berth_fail(err, errno, "open \"%s\"", dir);
  return fd;
}

static int lock(int fd, int how) {
  int r;
  while ((r = flock(fd, how)) < 0 && errno == EINTR)
    ;
  return r;
}

/* Copies [from, to) of in to out. */
static int copy_range(int in, off_t from, off_t to, int out) {
  off_t pos = from;
  while (pos < to) {
    ssize_t n = copy_file_range(in, &pos, out, NULL, (size_t)(to - pos), 0);
    if (n > 0)
      continue;
    if (n == 0)
      return -1; /* shorter than it was a moment ago: cannot be, under the lock */
    if (errno == EINTR)
      continue;
    if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
      return -1;
    char chunk[65536];
    while (pos < to) {
      size_t want = (size_t)(to - pos) < sizeof(chunk) ? (size_t)(to - pos) : sizeof(chunk);
      ssize_t r = pread(in, chunk, want, pos);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0 || fs_write_all(out, chunk, (size_t)r) < 0)
        return -1;
      pos += r;
    }
  }
  return 0;
}

/* Under the exclusive lock: replaces the file by its newest half (from a
 * line's start), unless another writer did already. */
static int rotate(int dirfd, off_t max_size, berth_error **err) {
  cleanup_close int fd = openat(dirfd, EVENTS_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return berth_fail(err, errno, "rotate " EVENTS_FILE);
  if (st.st_size <= max_size)
    return 0;
  off_t start = st.st_size - max_size / 2;
  char chunk[4096];
  for (;;) {
    ssize_t n = pread(fd, chunk, sizeof(chunk), start);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return berth_fail(err, n < 0 ? errno : 0, "rotate " EVENTS_FILE ": no line end");
    char *nl = memchr(chunk, '\n', (size_t)n);
    if (nl != NULL) {
      start += nl - chunk + 1;
      break;
    }
    start += n;
  }
  cleanup_close int out = openat(dirfd, EVENTS_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return berth_fail(err, errno, "rotate " EVENTS_FILE ": create " EVENTS_TMP);
  if (copy_range(fd, start, st.st_size, out) < 0 || renameat(dirfd, EVENTS_TMP, dirfd, EVENTS_FILE) < 0) {
    int saved = errno;
    unlinkat(dirfd, EVENTS_TMP, 0);
    return berth_fail(err, saved, "rotate " EVENTS_FILE);
  }
  return 0;
}

int events_append(const char *root, const char *line, size_t len, off_t max_size, berth_error **err) {
  cleanup_close int dirfd = open_dir(root, true, err);
  if (dirfd < 0)
    return -1;
  /* shared: writers append side by side; a rotation takes it exclusively,
   * so nothing is written to a file it is replacing */
  if (lock(dirfd, LOCK_SH) < 0)
    return berth_fail(err, errno, "lock %s/" EVENTS_DIR, root);
  int fd = openat(dirfd, EVENTS_FILE, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return berth_fail(err, errno, "open %s/" EVENTS_DIR "/" EVENTS_FILE, root);
  ssize_t n = write(fd, line, len);
  int saved = errno;
  if (n >= 0 && (size_t)n < len && write(fd, "\n", 1) < 0) {
    /* a torn line stays one line: readers skip it */
  }
  struct stat st;
  bool full = fstat(fd, &st) == 0 && st.st_size > max_size;
  close(fd);
  if (n < 0 || (size_t)n < len)
    return berth_fail(err, n < 0 ? saved : ENOSPC, "write %s/" EVENTS_DIR "/" EVENTS_FILE, root);
  if (!full)
    return 0;
  if (lock(dirfd, LOCK_EX) < 0)
    return berth_fail(err, errno, "lock %s/" EVENTS_DIR, root);
  return rotate(dirfd, max_size, err);
}

void events_record(const char *root, const char *type, const char *action, const char *actor_id,
                   const struct event_attr *attrs, size_t n_attrs) {
  size_t len;
  cleanup_free char *line = events_format(type, action, actor_id != NULL ? actor_id : "", attrs, n_attrs,
                                          now_ns(), &len);
  berth_error *err = NULL;
  if (line == NULL)
    berth_fail(&err, ENOMEM, "event");
  if (line == NULL || events_append(root, line, len, EVENTS_MAX_SIZE, &err) < 0) {
    berth_debug("event %s %s %s not recorded: %s", type, action, actor_id != NULL ? actor_id : "", err->msg);
    berth_error_free(err);
  }
}

void events_container(struct engine *e, const struct container *c, const char *action,
                      const struct event_attr *extra, size_t n_extra) {
  struct json_object *labels = NULL;
  if (c->config != NULL && json_object_object_get_ex(c->config, "Labels", &labels) &&
      !json_object_is_type(labels, json_type_object))
    labels = NULL;
  size_t n_labels = labels != NULL ? (size_t)json_object_object_length(labels) : 0;
  cleanup_free struct event_attr *attrs = malloc((n_extra + n_labels + 2) * sizeof(*attrs));
  if (attrs == NULL)
    return;
  size_t n = 0;
  for (size_t i = 0; i < n_extra; i++)
    attrs[n++] = extra[i];
  if (labels != NULL) {
    json_object_object_foreach(labels, key, value) {
      attrs[n++] = (struct event_attr){key, json_object_get_string(value)};
    }
  }
  if (c->image != NULL && *c->image != '\0')
    attrs[n++] = (struct event_attr){"image", c->image};
  attrs[n++] = (struct event_attr){"name", c->name != NULL ? c->name : ""};
  events_record(e->root, "container", action, c->id, attrs, n);
}

void events_container_die(struct engine *e, const struct container *c) {
  char code[16], duration[24];
  snprintf(code, sizeof(code), "%d", c->exit_code);
  int64_t ran = c->started_ns > 0 && c->finished_ns > c->started_ns ? c->finished_ns - c->started_ns : 0;
  snprintf(duration, sizeof(duration), "%lld", (long long)(ran / 1000000000));
  struct event_attr extra[2] = {{"execDuration", duration}, {"exitCode", code}};
  events_container(e, c, "die", extra, 2);
}

void events_container_kill(struct engine *e, const struct container *c, int sig) {
  char number[16];
  snprintf(number, sizeof(number), "%d", sig);
  struct event_attr extra[1] = {{"signal", number}};
  events_container(e, c, "kill", extra, 1);
}

void events_container_exec(struct engine *e, const struct container *c, const char *action,
                           const char *exec_id, char *const *argv, int exit_code) {
  struct buf b = {0};
  buf_str(&b, action);
  if (argv != NULL && argv[0] != NULL) {
    /* docker's: "exec_start: " + entrypoint + " " + args joined */
    buf_str(&b, ": ");
    buf_str(&b, argv[0]);
    buf_str(&b, " ");
    for (size_t i = 1; argv[i] != NULL; i++) {
      if (i > 1)
        buf_str(&b, " ");
      buf_str(&b, argv[i]);
    }
  }
  char code[16];
  snprintf(code, sizeof(code), "%d", exit_code);
  struct event_attr extra[2] = {{"execID", exec_id}, {"exitCode", code}};
  if (!b.failed)
    events_container(e, c, b.p, extra, argv == NULL ? 2 : 1);
  free(b.p);
}

void events_image(const char *root, const char *id, const char *name, const char *action) {
  struct event_attr attrs[1] = {{"name", name}};
  events_record(root, "image", action, id, attrs, name != NULL ? 1 : 0);
}

void events_volume(struct engine *e, const char *name, const char *action) {
  struct event_attr attrs[1] = {{"driver", "local"}};
  events_record(e->root, "volume", action, name, attrs, 1);
}

/* ---- filters ---- */

static const char *const filter_keys[] = {"config", "container", "daemon", "event",   "image",  "label", "network",
                                          "node",   "plugin",    "scope",  "secret",  "service", "type", "volume"};
static const char *const event_types[] = {"builder", "config", "container", "daemon", "image", "network",
                                          "node",    "plugin", "secret",    "service", "volume"};

static bool in_list(const char *s, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(s, list[i]) == 0)
      return true;
  return false;
}

static char *trimmed(const char *s, size_t n) {
  while (n > 0 && (*s == ' ' || *s == '\t')) {
    s++;
    n--;
  }
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  return strndup(s, n);
}

int events_filter_add(struct events_filter *f, const char *text, berth_error **err) {
  const char *eq = strchr(text, '=');
  if (eq == NULL)
    return berth_fail(err, 0, "bad format of filter (expected name=value)");
  cleanup_free char *key = trimmed(text, (size_t)(eq - text));
  cleanup_free char *value = trimmed(eq + 1, strlen(eq + 1));
  if (key == NULL || value == NULL)
    return berth_fail(err, ENOMEM, "filter");
  for (char *k = key; *k != '\0'; k++)
    if (*k >= 'A' && *k <= 'Z')
      *k = (char)(*k - 'A' + 'a');
  if (strcmp(key, "action") == 0) /* podman's name for docker's "event" */
    strcpy(key, "event");
  if (!in_list(key, filter_keys, ARRAY_SIZE(filter_keys)))
    return berth_fail(err, 0, "invalid filter '%s'", key);
  if (strcmp(key, "type") == 0 && !in_list(value, event_types, ARRAY_SIZE(event_types)))
    return berth_fail(err, 0, "invalid filter 'type=%s'", value);
  struct events_filter_term *grown = realloc(f->terms, (f->n + 1) * sizeof(*grown));
  if (grown == NULL)
    return berth_fail(err, ENOMEM, "filter");
  f->terms = grown;
  f->terms[f->n].key = TAKE_PTR(key);
  f->terms[f->n].value = TAKE_PTR(value);
  f->n++;
  return 0;
}

void events_filter_free(struct events_filter *f) {
  for (size_t i = 0; i < f->n; i++) {
    free(f->terms[i].key);
    free(f->terms[i].value);
  }
  free(f->terms);
  f->terms = NULL;
  f->n = 0;
}

static bool has_key(const struct events_filter *f, const char *key) {
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->terms[i].key, key) == 0)
      return true;
  return false;
}

/* docker's filters.Args: ExactMatch and FuzzyMatch (a value or a prefix
 * of it); both true when the key is not filtered on. */
static bool match(const struct events_filter *f, const char *key, const char *source, bool fuzzy) {
  if (!has_key(f, key))
    return true;
  if (source == NULL)
    source = "";
  for (size_t i = 0; i < f->n; i++) {
    if (strcmp(f->terms[i].key, key) != 0)
      continue;
    const char *v = f->terms[i].value;
    if (strcmp(v, source) == 0 || (fuzzy && strncmp(source, v, strlen(v)) == 0))
      return true;
  }
  return false;
}

static const char *attr(const struct event *ev, const char *key) {
  struct json_object *v = NULL;
  if (ev->attributes == NULL || !json_object_object_get_ex(ev->attributes, key, &v))
    return NULL;
  return json_object_get_string(v);
}

static bool match_name(const struct events_filter *f, const struct event *ev, const char *type) {
  return match(f, type, ev->actor_id, true) || match(f, type, attr(ev, "name"), true);
}

/* "busybox" for "docker.io/library/busybox:latest", as docker's stripTag. */
static char *strip_tag(const char *image) {
  if (image == NULL || strncmp(image, "sha256:", 7) == 0)
    return NULL;
  struct image_ref ref;
  berth_error *err = NULL;
  if (image_ref_parse(image, &ref, &err) < 0) {
    berth_error_free(err);
    return NULL;
  }
  cleanup_free char *repo = image_ref_repository(&ref);
  image_ref_free(&ref);
  return repo != NULL ? strdup(image_ref_familiar(repo)) : NULL;
}

static bool match_image(const struct events_filter *f, const struct event *ev) {
  if (!has_key(f, "image"))
    return true;
  const char *name = attr(ev, strcmp(ev->type, "image") == 0 ? "name" : "image");
  if (match(f, "image", ev->actor_id, false) || (name != NULL && match(f, "image", name, false)))
    return true;
  cleanup_free char *id_repo = strip_tag(ev->actor_id);
  cleanup_free char *name_repo = strip_tag(name);
  return (id_repo != NULL && match(f, "image", id_repo, false)) ||
         (name_repo != NULL && match(f, "image", name_repo, false));
}

/* Every label term must hold: "key" present, "key=value" equal. */
static bool match_labels(const struct events_filter *f, const struct event *ev) {
  for (size_t i = 0; i < f->n; i++) {
    if (strcmp(f->terms[i].key, "label") != 0)
      continue;
    const char *term = f->terms[i].value, *eq = strchr(term, '=');
    char key[1024];
    snprintf(key, sizeof(key), "%.*s", (int)(eq != NULL ? (size_t)(eq - term) : strlen(term)), term);
    const char *v = attr(ev, key);
    if (v == NULL || (eq != NULL && strcmp(v, eq + 1) != 0))
      return false;
  }
  return true;
}

static bool match_event(const struct events_filter *f, const struct event *ev) {
  /* docker: exec_create, exec_start and health_status match the actions
   * that carry a command or a status after them */
  bool fuzzy = false;
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->terms[i].key, "event") == 0 &&
        (strcmp(f->terms[i].value, "exec_create") == 0 || strcmp(f->terms[i].value, "exec_start") == 0 ||
         strcmp(f->terms[i].value, "health_status") == 0))
      fuzzy = true;
  return match(f, "event", ev->action, fuzzy);
}

bool events_filter_match(const struct events_filter *f, const struct event *ev) {
  if (f == NULL || f->n == 0)
    return true;
  static const char *const named[] = {"daemon", "container", "plugin", "volume", "network",
                                      "service", "node", "secret", "config"};
  if (!match_event(f, ev) || !match(f, "type", ev->type, false) || !match(f, "scope", "local", false))
    return false;
  for (size_t i = 0; i < ARRAY_SIZE(named); i++)
    if (!match_name(f, ev, named[i]))
      return false;
  return match_image(f, ev) && match_labels(f, ev);
}

/* ---- reading ---- */

struct reader {
  const struct events_read_options *o;
  char path[PATH_MAX];
  int fd;
  dev_t dev;
  ino_t ino;
  off_t pos;       /* where the first line not taken yet starts */
  char *buf;       /* lines being assembled */
  size_t cap;
  char *last;      /* the last complete line taken: where to go on after a rotation */
  size_t last_len, last_cap;
};

static const char *get_string(struct json_object *o, const char *key) {
  struct json_object *v = NULL;
  return o != NULL && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
             ? json_object_get_string(v)
             : NULL;
}

/* One line: remembered, and when emit, parsed, checked and passed on. */
static int take_line(struct reader *r, const char *line, size_t len, bool emit, bool live, berth_error **err) {
  if (len + 1 > r->last_cap) {
    char *grown = realloc(r->last, len + 1);
    if (grown == NULL)
      return berth_fail(err, ENOMEM, "events");
    r->last = grown;
    r->last_cap = len + 1;
  }
  memcpy(r->last, line, len);
  r->last_len = len;
  if (!emit)
    return 0;
  const struct events_read_options *o = r->o;
  struct json_tokener *tok = json_tokener_new();
  if (tok == NULL)
    return berth_fail(err, ENOMEM, "events");
  struct json_object *obj = json_tokener_parse_ex(tok, line, (int)len);
  bool complete = json_tokener_get_error(tok) == json_tokener_success;
  json_tokener_free(tok);
  if (obj == NULL || !complete || !json_object_is_type(obj, json_type_object)) {
    json_object_put(obj); /* a torn line (a full disk): skipped */
    return 0;
  }
  struct json_object *actor = NULL, *tn = NULL;
  json_object_object_get_ex(obj, "Actor", &actor);
  json_object_object_get_ex(obj, "timeNano", &tn);
  struct event ev = {.line = line, .len = len, .obj = obj};
  ev.type = get_string(obj, "Type");
  ev.action = get_string(obj, "Action");
  ev.actor_id = get_string(actor, "ID");
  if (actor == NULL || !json_object_object_get_ex(actor, "Attributes", &ev.attributes) ||
      !json_object_is_type(ev.attributes, json_type_object))
    ev.attributes = NULL;
  ev.time_ns = tn != NULL ? json_object_get_int64(tn) : 0;
  int ret = 0;
  if (ev.type == NULL || ev.action == NULL || ev.actor_id == NULL)
    goto out;
  if (!live && o->has_since && ev.time_ns < o->since_ns)
    goto out;
  if (o->has_until && ev.time_ns > o->until_ns)
    goto out;
  if (!events_filter_match(o->filter, &ev))
    goto out;
  ret = o->emit(&ev, o->arg, err);
out:
  json_object_put(obj);
  return ret;
}

/* Takes the complete lines from pos to the end of the file; a line still
 * being written is left for later. */
static int take_lines(struct reader *r, bool emit, bool live, berth_error **err) {
  if (r->fd < 0)
    return 0;
  size_t have = 0;
  for (;;) {
    if (have == r->cap) {
      size_t cap = r->cap == 0 ? 65536 : 2 * r->cap;
      char *grown = realloc(r->buf, cap);
      if (grown == NULL)
        return berth_fail(err, ENOMEM, "events");
      r->buf = grown;
      r->cap = cap;
    }
    ssize_t n = pread(r->fd, r->buf + have, r->cap - have, r->pos + (off_t)have);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return berth_fail(err, errno, "read \"%s\"", r->path);
    if (n == 0)
      return 0;
    have += (size_t)n;
    char *start = r->buf, *end = r->buf + have, *nl;
    while ((nl = memchr(start, '\n', (size_t)(end - start))) != NULL) {
      if (take_line(r, start, (size_t)(nl - start), emit, live, err) < 0)
        return -1;
      start = nl + 1;
    }
    size_t used = (size_t)(start - r->buf);
    r->pos += (off_t)used;
    memmove(r->buf, start, have - used);
    have -= used;
  }
}

/* Opens the file now at the path: 1, or 0 when there is none. */
static int open_file(struct reader *r, int *fd, struct stat *st, berth_error **err) {
  *fd = open(r->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (*fd < 0)
    return errno == ENOENT ? 0 : berth_fail(err, errno, "open \"%s\"", r->path);
  if (fstat(*fd, st) < 0) {
    close(*fd);
    *fd = -1;
    return berth_fail(err, errno, "stat \"%s\"", r->path);
  }
  return 1;
}

static void use_file(struct reader *r, int fd, const struct stat *st) {
  if (r->fd >= 0)
    close(r->fd);
  r->fd = fd;
  r->dev = st->st_dev;
  r->ino = st->st_ino;
  r->pos = 0;
}

/* After the path was replaced (a rotation, or its first creation): the
 * old file is complete (the rotation held every writer off), so it is
 * read to its end; the new one starts with the old one's newest half,
 * whose lines were taken already: go on after the last line taken.  When
 * it is not there, two rotations passed meanwhile and all of it is new. */
static int follow_rotation(struct reader *r, berth_error **err) {
  struct stat st;
  if (stat(r->path, &st) < 0 || (r->fd >= 0 && st.st_dev == r->dev && st.st_ino == r->ino))
    return 0;
  /* the new file is held before the old one is drained: a further
   * rotation meanwhile cannot take it away */
  int fd;
  int opened = open_file(r, &fd, &st, err);
  if (opened <= 0)
    return opened;
  if (take_lines(r, true, true, err) < 0) {
    close(fd);
    return -1;
  }
  use_file(r, fd, &st);
  if (r->last_len == 0)
    return 1;
  size_t len;
  berth_error *ignored = NULL;
  cleanup_free char *text = fs_read_fd(r->fd, &len, &ignored);
  berth_error_free(ignored);
  if (text == NULL)
    return 0;
  for (const char *p = text; (size_t)(p - text) + r->last_len < len;) {
    if (memcmp(p, r->last, r->last_len) == 0 && p[r->last_len] == '\n') {
      r->pos = (off_t)(p - text) + (off_t)r->last_len + 1;
      break;
    }
    const char *nl = memchr(p, '\n', len - (size_t)(p - text));
    if (nl == NULL)
      break;
    p = nl + 1;
  }
  return 1;
}

static int stopped(int fd) {
  if (fd < 0)
    return 0;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, 0) > 0;
}

static int follow(struct reader *r, const char *dir, berth_error **err) {
  const struct events_read_options *o = r->o;
  cleanup_close int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ifd >= 0 && inotify_add_watch(ifd, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
    close(ifd);
    ifd = -1;
  }
  /* what came between the first read and the watch */
  bool final = false;
  for (;;) {
    if (follow_rotation(r, err) < 0 || take_lines(r, true, true, err) < 0)
      return -1;
    if (final)
      return 0;
    int timeout = ifd >= 0 ? 2000 : 100;
    if (o->has_until) {
      int64_t left = o->until_ns - now_ns();
      if (left < 0) {
        final = true; /* one last read: events stamped before until may land late */
        continue;
      }
      if (left / 1000000 + 1 < timeout)
        timeout = (int)(left / 1000000 + 1);
    }
    struct pollfd p[2] = {{.fd = ifd, .events = POLLIN}, {.fd = o->stop_fd, .events = POLLIN}};
    int n = poll(p, 2, timeout);
    if (n < 0 && errno != EINTR)
      return berth_fail(err, errno, "follow events: poll");
    if (o->stop_fd >= 0 && stopped(o->stop_fd))
      return 0;
    if (n > 0 && ifd >= 0 && (p[0].revents & POLLIN)) {
      char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
      while (read(ifd, events, sizeof(events)) > 0)
        ;
    }
  }
}

int events_read(const char *root, const struct events_read_options *o, berth_error **err) {
  char dir[PATH_MAX];
  if ((size_t)snprintf(dir, sizeof(dir), "%s/" EVENTS_DIR, root) >= sizeof(dir))
    return berth_fail(err, ENAMETOOLONG, "events directory under \"%s\"", root);
  struct reader r = {.o = o, .fd = -1};
  if ((size_t)snprintf(r.path, sizeof(r.path), "%s/" EVENTS_DIR "/" EVENTS_FILE, root) >= sizeof(r.path))
    return berth_fail(err, ENAMETOOLONG, "events directory under \"%s\"", root);
  /* the directory to watch, made now if nothing was ever recorded */
  int dirfd = open_dir(root, o->follow, err);
  if (dirfd < 0 && (o->follow || (*err)->errnum != ENOENT))
    return -1;
  if (dirfd < 0) {
    berth_error_free(*err);
    *err = NULL;
    return 0;
  }
  close(dirfd);
  int fd;
  struct stat st;
  int ret = open_file(&r, &fd, &st, err);
  if (ret > 0)
    use_file(&r, fd, &st);
  if (ret >= 0)
    ret = take_lines(&r, o->has_since || o->has_until, false, err);
  if (ret >= 0 && o->follow)
    ret = follow(&r, dir, err);
  if (r.fd >= 0)
    close(r.fd);
  free(r.buf);
  free(r.last);
  return ret < 0 ? -1 : 0;
}
