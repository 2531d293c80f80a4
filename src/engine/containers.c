#include "engine/containers.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "image/db.h"
#include "util/cleanup.h"
#include "util/json.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS containers ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    /* no foreign key: rmi decides what happens to the image's containers */
    "  image_id TEXT NOT NULL,"
    "  image TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"     /* unix ns */
    "  config TEXT NOT NULL,"         /* docker's Config, JSON */
    "  host_config TEXT NOT NULL,"    /* docker's HostConfig, JSON */
    "  status INTEGER NOT NULL DEFAULT 0,"
    "  pid INTEGER NOT NULL DEFAULT 0,"
    "  pid_start INTEGER NOT NULL DEFAULT 0,"
    "  monitor_pid INTEGER NOT NULL DEFAULT 0,"
    "  monitor_start INTEGER NOT NULL DEFAULT 0,"
    "  exit_code INTEGER NOT NULL DEFAULT 0,"
    "  started INTEGER NOT NULL DEFAULT 0,"
    "  finished INTEGER NOT NULL DEFAULT 0,"
    "  restart_count INTEGER NOT NULL DEFAULT 0,"
    "  manually_stopped INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT NOT NULL DEFAULT '',"
    "  health TEXT);"
    "CREATE INDEX IF NOT EXISTS containers_by_image ON containers(image_id);";

static const char *const status_names[] = {
    [CONTAINER_CREATED] = "created",   [CONTAINER_RUNNING] = "running", [CONTAINER_PAUSED] = "paused",
    [CONTAINER_RESTARTING] = "restarting", [CONTAINER_REMOVING] = "removing", [CONTAINER_EXITED] = "exited",
    [CONTAINER_DEAD] = "dead",
};

const char *container_status_name(enum container_status_kind s) {
  return (unsigned)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s] : "unknown";
}

void container_clear(struct container *c) {
  free(c->name);
  free(c->image_id);
  free(c->image);
  free(c->error);
  json_object_put(c->config);
  json_object_put(c->host_config);
  json_object_put(c->health);
  memset(c, 0, sizeof(*c));
}

void containers_free(struct container *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    container_clear(&list[i]);
  free(list);
}

int containers_schema(struct engine *e, const char *db_path, berth_error **err) {
  return db_ensure_schema(e->db, db_path, "containers", 1, schema, err);
}

static const char *json_text(struct json_object *o) {
  return o != NULL ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                   : NULL;
}

int containers_insert(struct engine *e, const struct container *c, berth_error **err) {
  cleanup_sqlite_stmt sqlite3_stmt *st =
      db_prepare(e->db,
                 "INSERT INTO containers (id, name, image_id, image, created, config, host_config, status) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 err);
  if (st == NULL)
    return -1;
  sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, c->image_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, c->image, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, c->created_ns);
  sqlite3_bind_text(st, 6, json_text(c->config), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 7, json_text(c->host_config), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 8, c->status);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE)
    return 0;
  if (sqlite3_extended_errcode(e->db) == SQLITE_CONSTRAINT_UNIQUE) {
    struct container other = {0};
    berth_error *ignored = NULL;
    const char *owner = "";
    if (containers_find(e, c->name, &other, &ignored) == 0)
      owner = other.id;
    berth_error_free(ignored);
    berth_fail(err, 0,
               "Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or "
               "rename) that container to be able to reuse that name.",
               c->name, owner);
    container_clear(&other);
    return -1;
  }
  return db_fail(e->db, err, "insert container");
}

#define SELECT_COLUMNS                                                                                            \
  "SELECT id, name, image_id, image, created, config, host_config, status, pid, pid_start, monitor_pid, "         \
  "monitor_start, exit_code, started, finished, restart_count, manually_stopped, error, health FROM containers "

static char *column_dup(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return strdup(t != NULL ? (const char *)t : "");
}

static struct json_object *column_json(sqlite3_stmt *st, int i) {
  const char *t = (const char *)sqlite3_column_text(st, i);
  return t != NULL && *t != '\0' ? json_tokener_parse(t) : NULL;
}

static int read_row(sqlite3_stmt *st, struct container *c, berth_error **err) {
  memset(c, 0, sizeof(*c));
  snprintf(c->id, sizeof(c->id), "%s", (const char *)sqlite3_column_text(st, 0));
  c->name = column_dup(st, 1);
  c->image_id = column_dup(st, 2);
  c->image = column_dup(st, 3);
  c->created_ns = sqlite3_column_int64(st, 4);
  c->config = column_json(st, 5);
  c->host_config = column_json(st, 6);
  c->status = (enum container_status_kind)sqlite3_column_int(st, 7);
  c->pid = (pid_t)sqlite3_column_int(st, 8);
  c->pid_start = (unsigned long long)sqlite3_column_int64(st, 9);
  c->monitor_pid = (pid_t)sqlite3_column_int(st, 10);
  c->monitor_start = (unsigned long long)sqlite3_column_int64(st, 11);
  c->exit_code = sqlite3_column_int(st, 12);
  c->started_ns = sqlite3_column_int64(st, 13);
  c->finished_ns = sqlite3_column_int64(st, 14);
  c->restart_count = sqlite3_column_int(st, 15);
  c->manually_stopped = sqlite3_column_int(st, 16) != 0;
  c->error = column_dup(st, 17);
  c->health = column_json(st, 18);
  if (c->name == NULL || c->image_id == NULL || c->image == NULL || c->error == NULL || c->config == NULL ||
      c->host_config == NULL) {
    container_clear(c);
    return berth_fail(err, ENOMEM, "container record");
  }
  return 0;
}

/* The one row sql selects with text parameter arg: 1 found, 0 not, -1 error. */
static int select_one(struct engine *e, const char *sql, const char *arg, struct container *out, berth_error **err) {
  cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(e->db, sql, err);
  if (st == NULL)
    return -1;
  sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE)
    return 0;
  if (rc != SQLITE_ROW)
    return db_fail(e->db, err, "read container");
  if (read_row(st, out, err) < 0)
    return -1;
  /* an ID prefix must match one container only */
  if (sqlite3_step(st) == SQLITE_ROW) {
    container_clear(out);
    return 2;
  }
  return 1;
}

int containers_get(struct engine *e, const char *id, struct container *out, berth_error **err) {
  int found = select_one(e, SELECT_COLUMNS "WHERE id = ?", id, out, err);
  if (found < 0)
    return -1;
  return found == 1 ? 0 : berth_fail(err, 0, "No such container: %s", id);
}

static bool is_hex_prefix(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > CONTAINER_ID_LEN)
    return false;
  for (; *s != '\0'; s++)
    if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
      return false;
  return true;
}

int containers_find(struct engine *e, const char *ref, struct container *out, berth_error **err) {
  const char *name = ref[0] == '/' ? ref + 1 : ref;
  int found = select_one(e, SELECT_COLUMNS "WHERE id = ?", ref, out, err);
  if (found == 0)
    found = select_one(e, SELECT_COLUMNS "WHERE name = ?", name, out, err);
  if (found == 0 && is_hex_prefix(ref)) {
    cleanup_free char *pattern = NULL;
    if (asprintf(&pattern, "%s*", ref) < 0)
      return berth_fail(err, ENOMEM, "container lookup");
    found = select_one(e, SELECT_COLUMNS "WHERE id GLOB ?", pattern, out, err);
    if (found == 2)
      return berth_fail(err, 0, "multiple containers found with provided prefix: %s", ref);
  }
  if (found < 0)
    return -1;
  return found == 1 ? 0 : berth_fail(err, 0, "No such container: %s", ref);
}

int containers_list(struct engine *e, struct container **out, size_t *n, berth_error **err) {
  *out = NULL;
  *n = 0;
  cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(e->db, SELECT_COLUMNS "ORDER BY created DESC", err);
  if (st == NULL)
    return -1;
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      size_t new_cap = cap == 0 ? 32 : cap * 2;
      struct container *grown = realloc(*out, new_cap * sizeof(**out));
      if (grown == NULL)
        goto oom;
      *out = grown;
      cap = new_cap;
    }
    if (read_row(st, &(*out)[*n], err) < 0)
      goto fail;
    (*n)++;
  }
  if (rc == SQLITE_DONE)
    return 0;
  db_fail(e->db, err, "list containers");
  goto fail;
oom:
  berth_fail(err, ENOMEM, "list containers");
fail:
  containers_free(*out, *n);
  *out = NULL;
  *n = 0;
  return -1;
}

int containers_save_state(struct engine *e, const struct container *c, berth_error **err) {
  cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(
      e->db,
      "UPDATE containers SET status = ?, pid = ?, pid_start = ?, monitor_pid = ?, monitor_start = ?, exit_code = ?, "
      "started = ?, finished = ?, restart_count = ?, manually_stopped = ?, error = ?, health = ? WHERE id = ?",
      err);
  if (st == NULL)
    return -1;
  sqlite3_bind_int(st, 1, c->status);
  sqlite3_bind_int(st, 2, c->pid);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)c->pid_start);
  sqlite3_bind_int(st, 4, c->monitor_pid);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)c->monitor_start);
  sqlite3_bind_int(st, 6, c->exit_code);
  sqlite3_bind_int64(st, 7, c->started_ns);
  sqlite3_bind_int64(st, 8, c->finished_ns);
  sqlite3_bind_int(st, 9, c->restart_count);
  sqlite3_bind_int(st, 10, c->manually_stopped);
  sqlite3_bind_text(st, 11, c->error != NULL ? c->error : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 12, json_text(c->health), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 13, c->id, -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_fail(e->db, err, "save container state");
  return sqlite3_changes(e->db) == 1 ? 0 : berth_fail(err, 0, "No such container: %s", c->id);
}

int containers_set_manually_stopped(struct engine *e, const char *id, bool stopped, berth_error **err) {
  return db_exec_text(e->db, err, "UPDATE containers SET manually_stopped = ? WHERE id = ?", stopped ? "1" : "0", id,
                      NULL);
}

int containers_set_host_config(struct engine *e, const char *id, struct json_object *host_config, berth_error **err) {
  return db_exec_text(e->db, err, "UPDATE containers SET host_config = ? WHERE id = ?", json_text(host_config), id,
                      NULL);
}

int containers_set_health(struct engine *e, const char *id, struct json_object *health, berth_error **err) {
  return db_exec_text(e->db, err, "UPDATE containers SET health = ? WHERE id = ?", json_text(health), id, NULL);
}

int containers_rename(struct engine *e, const char *id, const char *name, berth_error **err) {
  if (db_exec_text(e->db, err, "UPDATE containers SET name = ? WHERE id = ?", name, id, NULL) == 0)
    return 0;
  if (sqlite3_extended_errcode(e->db) == SQLITE_CONSTRAINT_UNIQUE) {
    berth_error_free(*err);
    *err = NULL;
    return berth_fail(err, 0, "Conflict. The container name \"/%s\" is already in use", name);
  }
  return -1;
}

int containers_delete(struct engine *e, const char *id, berth_error **err) {
  return db_exec_text(e->db, err, "DELETE FROM containers WHERE id = ?", id, NULL);
}

int containers_using_image(struct engine *e, const char *image_id, char (*ids)[CONTAINER_ID_LEN + 1], size_t max,
                           size_t *n, berth_error **err) {
  *n = 0;
  cleanup_sqlite_stmt sqlite3_stmt *st =
      db_prepare(e->db, "SELECT id FROM containers WHERE image_id = ? ORDER BY created", err);
  if (st == NULL)
    return -1;
  sqlite3_bind_text(st, 1, image_id, -1, SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n < max)
      snprintf(ids[*n], CONTAINER_ID_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 0));
    (*n)++;
  }
  return rc == SQLITE_DONE ? 0 : db_fail(e->db, err, "containers of an image");
}

int containers_new_id(char out[CONTAINER_ID_LEN + 1], berth_error **err) {
  unsigned char bytes[CONTAINER_ID_LEN / 2];
  if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
    return berth_fail(err, errno, "container ID: getrandom");
  /* docker avoids IDs that are all digits: they would read as numbers */
  bool digits_only = true;
  for (size_t i = 0; i < sizeof(bytes); i++) {
    snprintf(out + 2 * i, 3, "%02x", bytes[i]);
    digits_only = digits_only && isdigit((unsigned char)out[2 * i]) && isdigit((unsigned char)out[2 * i + 1]);
  }
  if (digits_only)
    out[0] = 'a';
  return 0;
}

/* Harbour words, so generated names read like berth's own. */
static const char *const adjectives[] = {
    "amber",   "brave",  "brisk",  "calm",   "clever", "crisp",  "dapper", "eager",  "fair",    "fleet",
    "gentle",  "golden", "hardy",  "jolly",  "keen",   "kind",   "lively", "lucid",  "mellow",  "merry",
    "nimble",  "noble",  "placid", "proud",  "quick",  "quiet",  "rapid",  "ready",  "serene",  "sharp",
    "silent",  "steady", "stout",  "sturdy", "sunny",  "swift",  "tidy",   "trusty", "vivid",   "witty",
};
static const char *const nouns[] = {
    "anchor", "barge",   "beacon", "bollard", "buoy",    "cabin",  "canal",   "capstan", "cargo",  "clipper",
    "compass", "crane",  "dinghy", "dock",    "ferry",   "galley", "harbour", "hull",    "jetty",  "keel",
    "ketch",  "lantern", "marina", "mast",    "mooring", "oar",    "pier",    "pilot",   "quay",   "rudder",
    "sail",   "schooner", "skiff", "sloop",   "tanker",  "tide",   "tugboat", "wharf",   "winch",  "yacht",
};

static bool name_taken(struct engine *e, const char *name) {
  cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(e->db, "SELECT 1 FROM containers WHERE name = ?", NULL);
  if (st == NULL)
    return false;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  return sqlite3_step(st) == SQLITE_ROW;
}

char *containers_new_name(struct engine *e, berth_error **err) {
  for (int attempt = 0; attempt < 20; attempt++) {
    uint32_t r[3];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
      berth_fail(err, errno, "container name: getrandom");
      return NULL;
    }
    char *name = NULL;
    const char *a = adjectives[r[0] % (sizeof(adjectives) / sizeof(adjectives[0]))];
    const char *b = nouns[r[1] % (sizeof(nouns) / sizeof(nouns[0]))];
    /* after a few collisions a number widens the space, as docker does */
    int ok = attempt < 3 ? asprintf(&name, "%s_%s", a, b) : asprintf(&name, "%s_%s%u", a, b, r[2] % 10000);
    if (ok < 0) {
      berth_fail(err, ENOMEM, "container name");
      return NULL;
    }
    if (!name_taken(e, name))
      return name;
    free(name);
  }
  berth_fail(err, 0, "could not find a free container name");
  return NULL;
}

int containers_check_name(const char *name, berth_error **err) {
  const char *n = name[0] == '/' ? name + 1 : name;
  bool ok = isalnum((unsigned char)n[0]) && n[1] != '\0';
  for (const char *p = n; ok && *p != '\0'; p++)
    ok = isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-';
  return ok ? 0 : berth_fail(err, 0, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name);
}
