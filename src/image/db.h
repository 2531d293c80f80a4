/* The engine's SQLite database (<root>/berth.db, WAL): images, tags and
 * layers now; containers, volumes and networks join it later.  Many berth
 * processes use it at once: writers take BEGIN IMMEDIATE and wait on the
 * busy timeout instead of failing. */
#ifndef BERTH_IMAGE_DB_H
#define BERTH_IMAGE_DB_H

#include <sqlite3.h>

#include "util/error.h"

/* Opens (creating when missing) the database, in WAL mode. */
sqlite3 *db_open(const char *path, berth_error **err);
/* Creates the tables of one component (images, containers, ...) unless the
 * database records that version of them already; sql must be idempotent
 * (CREATE ... IF NOT EXISTS) or a migration from the previous version. */
int db_ensure_schema(sqlite3 *db, const char *path, const char *component, int version, const char *sql,
                     berth_error **err);
void db_close(sqlite3 *db);

int db_begin(sqlite3 *db, berth_error **err);
int db_commit(sqlite3 *db, berth_error **err);
void db_rollback(sqlite3 *db);

/* Prepares sql; NULL with *err naming the statement's purpose. */
sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql, berth_error **err);
/* Runs a statement with text parameters (NULL-terminated list), no rows. */
int db_exec_text(sqlite3 *db, berth_error **err, const char *sql, ...);
static inline void db_finalizep(sqlite3_stmt **st) {
  sqlite3_finalize(*st);
}
#define cleanup_sqlite_stmt __attribute__((cleanup(db_finalizep)))

/* The error for the last failed call on db. */
int db_fail(sqlite3 *db, berth_error **err, const char *what);

#endif
