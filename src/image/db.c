#include "image/db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/cleanup.h"

int db_fail(sqlite3 *db, berth_error **err, const char *what) {
  return berth_fail(err, 0, "database: %s: %s", what, sqlite3_errmsg(db));
}

/* Runs fn under an exclusive flock on "<path>.init": the first opens
 * switch the file to WAL and create tables, which take locks SQLite does not
 * always wait for with the busy handler (a connection reading the schema
 * while another changes the journal mode gets "database is locked" at once),
 * so that set-up is done by one process at a time. */
static int under_init_lock(const char *path, int (*fn)(sqlite3 *, void *, berth_error **), sqlite3 *db, void *arg,
                           berth_error **err) {
  cleanup_free char *lock_path = NULL;
  if (asprintf(&lock_path, "%s.init", path) < 0)
    return berth_fail(err, ENOMEM, "database lock");
  cleanup_close int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return berth_fail(err, errno, "database lock \"%s\"", lock_path);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return berth_fail(err, errno, "database lock \"%s\"", lock_path);
  return fn(db, arg, err); /* closing fd releases the lock */
}

/* A component's schema version: 0 when it has none yet, -1 before the
 * database file is set up (no schema_versions table). */
static int version_of(sqlite3 *db, const char *component) {
  sqlite3_stmt *st = NULL;
  int version = 0;
  if (sqlite3_prepare_v2(db, "SELECT version FROM schema_versions WHERE component = ?", -1, &st, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW)
    version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return version;
}

static int setup_file(sqlite3 *db, void *path, berth_error **err) {
  /* WAL lets readers (berth images, ps) run while another process writes;
   * NORMAL sync is durable across process crashes, which is what the
   * engine's crash-safety promise covers. */
  if (sqlite3_exec(db,
                   "PRAGMA journal_mode=WAL;"
                   "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL);",
                   NULL, NULL, NULL) != SQLITE_OK)
    return db_fail(db, err, path);
  return 0;
}

sqlite3 *db_open(const char *path, berth_error **err) {
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    berth_fail(err, 0, "database \"%s\": %s", path, db != NULL ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_busy_timeout(db, 30000);
  /* Every berth command opens and closes the database; by default the last
   * connection to close checkpoints the WAL into the database, syncs it and
   * deletes the WAL and shared-memory files, for the next command to create
   * again: four file operations and two syncs per command.  The WAL is
   * checkpointed when it grows instead, at 100 pages rather than SQLite's
   * 1000: every page read looks the WAL's index up first, and a long WAL
   * cost more than the checkpoints do. */
  sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  sqlite3_wal_autocheckpoint(db, 100);
  if (sqlite3_exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", NULL, NULL, NULL) != SQLITE_OK) {
    db_fail(db, err, path);
    sqlite3_close(db);
    return NULL;
  }
  /* WAL mode and schema_versions persist: once set, opening takes no lock */
  if (version_of(db, "") == -1 && under_init_lock(path, setup_file, db, (void *)path, err) < 0) {
    sqlite3_close(db);
    return NULL;
  }
  return db;
}

struct schema_change {
  const char *component, *sql;
  int version;
};

static int apply_schema(sqlite3 *db, void *arg, berth_error **err) {
  const struct schema_change *c = arg;
  if (version_of(db, c->component) == c->version)
    return 0;
  if (db_begin(db, err) < 0)
    return -1;
  char version[16];
  snprintf(version, sizeof(version), "%d", c->version);
  if (sqlite3_exec(db, c->sql, NULL, NULL, NULL) != SQLITE_OK) {
    db_fail(db, err, c->component);
    db_rollback(db);
    return -1;
  }
  if (db_exec_text(db, err, "INSERT OR REPLACE INTO schema_versions (component, version) VALUES (?, ?)", c->component,
                   version, NULL) < 0) {
    db_rollback(db);
    return -1;
  }
  return db_commit(db, err);
}

int db_ensure_schema(sqlite3 *db, const char *path, const char *component, int version, const char *sql,
                     berth_error **err) {
  struct schema_change c = {component, sql, version};
  if (version_of(db, component) == version)
    return 0;
  return under_init_lock(path, apply_schema, db, &c, err);
}

void db_close(sqlite3 *db) {
  sqlite3_close(db);
}

int db_begin(sqlite3 *db, berth_error **err) {
  return sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : db_fail(db, err, "begin");
}

int db_commit(sqlite3 *db, berth_error **err) {
  if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
    return 0;
  db_fail(db, err, "commit");
  db_rollback(db);
  return -1;
}

void db_rollback(sqlite3 *db) {
  sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql, berth_error **err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    db_fail(db, err, "prepare");
    return NULL;
  }
  return st;
}

int db_exec_text(sqlite3 *db, berth_error **err, const char *sql, ...) {
  sqlite3_stmt *st = db_prepare(db, sql, err);
  if (st == NULL)
    return -1;
  va_list ap;
  va_start(ap, sql);
  int i = 1;
  for (const char *v = va_arg(ap, const char *); v != NULL; v = va_arg(ap, const char *))
    sqlite3_bind_text(st, i++, v, -1, SQLITE_TRANSIENT);
  va_end(ap);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_fail(db, err, "update");
}
