/* The engine database opened by many processes at once: the first opens
 * create the file, switch it to WAL and create tables, and none of them may
 * fail with "database is locked" (it did, once in a few hundred tries,
 * before the set-up was serialised). */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/db.h"
#include "tap.h"

static const char schema[] = "CREATE TABLE IF NOT EXISTS things (name TEXT PRIMARY KEY);";

static int open_and_insert(const char *path, int n) {
  berth_error *err = NULL;
  sqlite3 *db = db_open(path, &err);
  if (db == NULL || db_ensure_schema(db, path, "things", 1, schema, &err) < 0) {
    fprintf(stderr, "# %s\n", err ? err->msg : "?");
    return 1;
  }
  char name[16];
  snprintf(name, sizeof(name), "%d", n);
  int rc = db_begin(db, &err) < 0 || db_exec_text(db, &err, "INSERT INTO things (name) VALUES (?)", name, NULL) < 0 ||
           db_commit(db, &err) < 0;
  if (rc)
    fprintf(stderr, "# %s\n", err->msg);
  db_close(db);
  return rc;
}

static int count(const char *path) {
  berth_error *err = NULL;
  sqlite3 *db = db_open(path, &err);
  sqlite3_stmt *st = db ? db_prepare(db, "SELECT count(*) FROM things", &err) : NULL;
  int n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  sqlite3_finalize(st);
  db_close(db);
  return n;
}

static void concurrent_first_opens(void) {
  enum { ROUNDS = 80, PROCS = 12 };
  int failures = 0, wrong_counts = 0;
  for (int round = 0; round < ROUNDS; round++) {
    char dir[] = "/tmp/berth-db-XXXXXX";
    if (mkdtemp(dir) == NULL) {
      EXPECT(0);
      return;
    }
    char path[64];
    snprintf(path, sizeof(path), "%s/berth.db", dir);
    for (int i = 0; i < PROCS; i++)
      if (fork() == 0)
        _exit(open_and_insert(path, i));
    int status;
    while (wait(&status) > 0)
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        failures++;
    if (count(path) != PROCS)
      wrong_counts++;
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
      EXPECT(0);
  }
  EXPECT(failures == 0);
  EXPECT(wrong_counts == 0);
}

static void schema_versions_are_recorded(void) {
  char dir[] = "/tmp/berth-db-XXXXXX";
  EXPECT(mkdtemp(dir) != NULL);
  char path[64];
  snprintf(path, sizeof(path), "%s/berth.db", dir);
  berth_error *err = NULL;
  sqlite3 *db = db_open(path, &err);
  EXPECT(db != NULL);
  EXPECT(db_ensure_schema(db, path, "things", 1, schema, &err) == 0);
  /* version 2 adds a column; applying it twice must not run it twice */
  const char *v2 = "ALTER TABLE things ADD COLUMN size INTEGER NOT NULL DEFAULT 0;";
  EXPECT(db_ensure_schema(db, path, "things", 2, v2, &err) == 0);
  EXPECT(db_ensure_schema(db, path, "things", 2, v2, &err) == 0);
  /* a failing change leaves the version where it was, with an error */
  EXPECT(db_ensure_schema(db, path, "things", 3, "ALTER TABLE nothing ADD COLUMN x;", &err) < 0);
  EXPECT(err != NULL);
  EXPECT_CONTAINS(err ? err->msg : NULL, "things");
  berth_error_free(err);
  err = NULL;
  sqlite3_stmt *st = db_prepare(db, "SELECT version FROM schema_versions WHERE component = 'things'", &err);
  EXPECT(st != NULL && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 2);
  sqlite3_finalize(st);
  db_close(db);
  char cmd[96];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  EXPECT(system(cmd) == 0);
}

int main(void) {
  RUN(concurrent_first_opens);
  RUN(schema_versions_are_recorded);
  return tap_done();
}
