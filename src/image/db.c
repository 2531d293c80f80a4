#include "image/db.h"

#include <stdarg.h>
#include <unistd.h>

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS images ("
    "  id TEXT PRIMARY KEY,"              /* config digest */
    "  manifest_digest TEXT NOT NULL,"
    "  manifest_media_type TEXT NOT NULL,"
    "  created TEXT NOT NULL DEFAULT '',"  /* config.created */
    "  architecture TEXT NOT NULL DEFAULT '',"
    "  os TEXT NOT NULL DEFAULT '',"
    "  size INTEGER NOT NULL,"            /* unpacked bytes of its layers */
    "  added INTEGER NOT NULL);"          /* unix time stored here */
    "CREATE TABLE IF NOT EXISTS tags ("
    "  name TEXT PRIMARY KEY,"            /* docker.io/library/busybox:latest */
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
    "CREATE INDEX IF NOT EXISTS tags_by_image ON tags(image_id);"
    "CREATE TABLE IF NOT EXISTS repo_digests ("
    "  name TEXT NOT NULL,"               /* docker.io/library/busybox@sha256:... */
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (name, image_id));"
    "CREATE TABLE IF NOT EXISTS layers ("
    "  chain_id TEXT PRIMARY KEY,"
    "  diff_id TEXT NOT NULL,"
    "  parent TEXT,"                      /* chain id of the layer below */
    "  blob_digest TEXT NOT NULL,"        /* the blob it was unpacked from */
    "  blob_media_type TEXT NOT NULL,"
    "  blob_size INTEGER NOT NULL,"
    "  size INTEGER NOT NULL);"           /* unpacked bytes */
    "CREATE TABLE IF NOT EXISTS image_layers ("
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  position INTEGER NOT NULL,"
    "  chain_id TEXT NOT NULL REFERENCES layers(chain_id),"
    "  PRIMARY KEY (image_id, position));"
    "CREATE INDEX IF NOT EXISTS image_layers_by_chain ON image_layers(chain_id);"
    /* every blob an image's manifest names (config, layers): a chain id's
     * layer may come from different blobs (gzip from a registry, plain
     * from an archive), and each image keeps its own */
    "CREATE TABLE IF NOT EXISTS image_blobs ("
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  digest TEXT NOT NULL,"
    "  PRIMARY KEY (image_id, digest));"
    "CREATE INDEX IF NOT EXISTS image_blobs_by_digest ON image_blobs(digest);";

int db_fail(sqlite3 *db, berth_error **err, const char *what) {
  return berth_fail(err, 0, "database: %s: %s", what, sqlite3_errmsg(db));
}

sqlite3 *db_open(const char *path, berth_error **err) {
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    berth_fail(err, 0, "database \"%s\": %s", path, db != NULL ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_busy_timeout(db, 30000);
  /* WAL lets readers (berth images, ps) run while another process writes;
   * NORMAL sync is durable across process crashes, which is what the
   * engine's crash-safety promise covers. */
  if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", NULL, NULL,
                   NULL) != SQLITE_OK ||
      sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
    db_fail(db, err, path);
    sqlite3_close(db);
    return NULL;
  }
  return db;
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
