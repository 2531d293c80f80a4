#include "engine/volumes.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "engine/events.h"
#include "image/db.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/path.h"

/* Locking: every change of rows takes the database's write lock first
 * (BEGIN IMMEDIATE, or the caller's transaction), then <root>/volumes/.lock
 * (flock) around directory changes.  A removal deletes the row, commits,
 * and removes the directory still holding .lock, so a create of the same
 * name, which takes .lock after its INSERT, never sees a directory that is
 * about to go.  With the write lock held, a directory without a row is an
 * orphan (creators insert the row before making the directory, inside
 * their transaction).  Populate and mount take a flock on the volume's
 * own directory: they run without the database lock, for a long time. */

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS volumes ("
    "  name TEXT PRIMARY KEY,"
    "  driver TEXT NOT NULL DEFAULT 'local',"
    "  created INTEGER NOT NULL," /* unix ns */
    "  labels TEXT NOT NULL DEFAULT '{}',"
    "  options TEXT NOT NULL DEFAULT '{}',"
    "  anonymous INTEGER NOT NULL DEFAULT 0);"
    /* no foreign key to containers: the containers module owns that table */
    "CREATE TABLE IF NOT EXISTS volume_users ("
    "  volume TEXT NOT NULL REFERENCES volumes(name),"
    "  container_id TEXT NOT NULL,"
    "  PRIMARY KEY (volume, container_id));"
    "CREATE INDEX IF NOT EXISTS volume_users_by_container ON volume_users(container_id);";

#define SELECT_VOLUME                                                                                             \
  "SELECT v.name, v.created, v.labels, v.options, v.anonymous, "                                                  \
  "(SELECT COUNT(*) FROM volume_users u WHERE u.volume = v.name) FROM volumes v "

void volume_clear(struct volume *v) {
  free(v->name);
  free(v->mountpoint);
  json_object_put(v->labels);
  json_object_put(v->options);
  memset(v, 0, sizeof(*v));
}

void volumes_free(struct volume *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    volume_clear(&list[i]);
  free(list);
}

int volumes_schema(struct engine *e, const char *db_path, berth_error **err) {
  return db_ensure_schema(e->db, db_path, "volumes", 1, schema, err);
}

int volumes_check_name(const char *name, berth_error **err) {
  size_t len = strlen(name);
  if (len == 1)
    return berth_fail(err, 0, "volume name is too short, names should be at least two alphanumeric characters");
  bool ok = len > 1 && isalnum((unsigned char)name[0]);
  for (const char *p = name; ok && *p != '\0'; p++)
    ok = isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-';
  if (!ok)
    return berth_fail(err, 0,
                      "\"%s\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" "
                      "are allowed. If you intended to pass a host directory, use absolute path",
                      name);
  if (len > NAME_MAX)
    return berth_fail(err, ENAMETOOLONG, "volume name \"%.32s...\"", name);
  return 0;
}

/* ---- paths, locks, transactions ---- */

static char *data_path(struct engine *e, const char *name) {
  cleanup_free char *root = fs_absolute_path(e->root, NULL);
  char *path = NULL;
  if (root == NULL || asprintf(&path, "%s/volumes/%s/_data", strcmp(root, "/") == 0 ? "" : root, name) < 0)
    return NULL;
  return path;
}

/* <root>/volumes, made when missing (0701 as docker: others may reach a
 * volume's _data, not list the volumes). */
static int open_volumes_dir(struct engine *e, berth_error **err) {
  if (mkdirat(e->store->rootfd, "volumes", 0701) < 0 && errno != EEXIST)
    return berth_fail(err, errno, "mkdir \"%s/volumes\"", e->root);
  int fd = openat(e->store->rootfd, "volumes", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "open \"%s/volumes\"", e->root);
  return fd;
}

static int flock_fd(int fd, const char *what, berth_error **err) {
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return berth_fail(err, errno, "lock %s", what);
  return 0;
}

/* Takes <root>/volumes/.lock (once: *lockfd stays set until the caller closes it). */
static int lock_volumes(int vdir, int *lockfd, berth_error **err) {
  if (*lockfd >= 0)
    return 0;
  int fd = openat(vdir, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return berth_fail(err, errno, "open volumes/.lock");
  if (flock_fd(fd, "volumes/.lock", err) < 0) {
    close(fd);
    return -1;
  }
  *lockfd = fd;
  return 0;
}

/* A write transaction of our own (BEGIN IMMEDIATE), or a savepoint inside
 * the caller's: *own says which. */
static int tx_begin(struct engine *e, bool *own, berth_error **err) {
  *own = sqlite3_get_autocommit(e->db) != 0;
  if (*own)
    return db_begin(e->db, err);
  return sqlite3_exec(e->db, "SAVEPOINT volumes", NULL, NULL, NULL) == SQLITE_OK ? 0
                                                                                 : db_fail(e->db, err, "savepoint");
}

static int tx_commit(struct engine *e, bool own, berth_error **err) {
  if (own)
    return db_commit(e->db, err);
  if (sqlite3_exec(e->db, "RELEASE volumes", NULL, NULL, NULL) == SQLITE_OK)
    return 0;
  db_fail(e->db, err, "release savepoint");
  sqlite3_exec(e->db, "ROLLBACK TO volumes; RELEASE volumes", NULL, NULL, NULL);
  return -1;
}

static void tx_rollback(struct engine *e, bool own) {
  if (own)
    db_rollback(e->db);
  else
    sqlite3_exec(e->db, "ROLLBACK TO volumes; RELEASE volumes", NULL, NULL, NULL);
}

/* Removes <root>/volumes/<name> (unmounting _data first when it is a mount). */
static bool is_mounted(int vfd);

static int remove_volume_dir(int vdir, const char *name, berth_error **err) {
  cleanup_close int vfd = openat(vdir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (vfd < 0 && errno == ENOENT)
    return 0;
  if (vfd >= 0) {
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d/_data", vfd);
    /* EINVAL: not a mount point, the usual case */
    for (int i = 0; i < 16 && umount2(proc, MNT_DETACH | UMOUNT_NOFOLLOW) == 0; i++)
      ;
    /* the removal would go into a mounted host directory (o=bind) */
    if (is_mounted(vfd))
      return berth_fail(err, EBUSY, "remove volume \"%s\": unmount \"%s/_data\"", name, name);
  }
  if (fs_remove_tree_at(vdir, name, err) < 0)
    return berth_error_wrap(err, "remove volume \"%s\"", name);
  return 0;
}

/* Makes <root>/volumes/<name>/_data; a leftover directory of that name
 * (an orphan: the caller holds the write lock and has no row for it) is
 * removed first.  Caller holds .lock. */
static int make_volume_dir(int vdir, const char *name, berth_error **err) {
  if (remove_volume_dir(vdir, name, err) < 0)
    return -1;
  if (mkdirat(vdir, name, 0701) < 0)
    return berth_fail(err, errno, "error while creating volume root path \"%s\"", name);
  cleanup_close int fd = openat(vdir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || mkdirat(fd, "_data", 0755) < 0) {
    int saved = errno;
    unlinkat(vdir, name, AT_REMOVEDIR);
    return berth_fail(err, saved, "error while creating volume data path \"%s/_data\"", name);
  }
  return 0;
}

/* ---- rows ---- */

static struct json_object *parse_object(const unsigned char *text) {
  struct json_object *o = text != NULL ? json_tokener_parse((const char *)text) : NULL;
  if (o != NULL && json_object_is_type(o, json_type_object))
    return o;
  json_object_put(o);
  return json_object_new_object();
}

static int read_row(struct engine *e, sqlite3_stmt *st, struct volume *v, berth_error **err) {
  memset(v, 0, sizeof(*v));
  const char *name = (const char *)sqlite3_column_text(st, 0);
  v->name = strdup(name != NULL ? name : "");
  v->mountpoint = v->name != NULL ? data_path(e, v->name) : NULL;
  v->created_ns = sqlite3_column_int64(st, 1);
  v->labels = parse_object(sqlite3_column_text(st, 2));
  v->options = parse_object(sqlite3_column_text(st, 3));
  v->anonymous = sqlite3_column_int(st, 4) != 0;
  v->n_users = (size_t)sqlite3_column_int64(st, 5);
  if (v->name == NULL || v->mountpoint == NULL || v->labels == NULL || v->options == NULL) {
    volume_clear(v);
    return berth_fail(err, ENOMEM, "volume record");
  }
  return 0;
}

/* 1 found, 0 not, -1 error. */
static int find_row(struct engine *e, const char *name, struct volume *out, berth_error **err) {
  if (name == NULL || name[0] == '\0')
    return berth_fail(err, EINVAL, "volume: no name given");
  cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(e->db, SELECT_VOLUME "WHERE v.name = ?", err);
  if (st == NULL)
    return -1;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE)
    return 0;
  if (rc != SQLITE_ROW)
    return db_fail(e->db, err, "read volume");
  if (out == NULL)
    return 1;
  return read_row(e, st, out, err) < 0 ? -1 : 1;
}

int volumes_get(struct engine *e, const char *name, struct volume *out, berth_error **err) {
  int found = find_row(e, name, out, err);
  if (found < 0)
    return -1;
  return found == 1 ? 0 : berth_fail(err, 0, "get %s: no such volume", name);
}

int volumes_list(struct engine *e, struct volume **out, size_t *n, berth_error **err) {
  *out = NULL;
  *n = 0;
  cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(e->db, SELECT_VOLUME "ORDER BY v.name", err);
  if (st == NULL)
    return -1;
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      size_t new_cap = cap == 0 ? 16 : cap * 2;
      struct volume *grown = realloc(*out, new_cap * sizeof(**out));
      if (grown == NULL) {
        berth_fail(err, ENOMEM, "list volumes");
        goto fail;
      }
      *out = grown;
      cap = new_cap;
    }
    if (read_row(e, st, &(*out)[*n], err) < 0)
      goto fail;
    (*n)++;
  }
  if (rc == SQLITE_DONE)
    return 0;
  db_fail(e->db, err, "list volumes");
fail:
  volumes_free(*out, *n);
  *out = NULL;
  *n = 0;
  return -1;
}

static const char *json_text(struct json_object *o) {
  return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* A copy of o (an object of strings, or NULL) with every value a string. */
static struct json_object *string_map(struct json_object *o) {
  struct json_object *copy = json_object_new_object();
  if (copy == NULL || o == NULL || !json_object_is_type(o, json_type_object))
    return copy;
  json_object_object_foreach(o, key, val) {
    const char *s = val == NULL ? "" : json_object_get_string(val);
    json_object_object_add(copy, key, json_object_new_string(s));
  }
  return copy;
}

/* docker's local driver options: type, o, device and size; type and device
 * go together, o needs both; size needs quotas, which berth does not set. */
static int check_options(struct json_object *options, berth_error **err) {
  static const char *const valid[] = {"type", "o", "device", "size"};
  json_object_object_foreach(options, key, val) {
    (void)val;
    bool known = false;
    for (size_t i = 0; i < ARRAY_SIZE(valid); i++)
      known = known || strcmp(key, valid[i]) == 0;
    if (!known)
      return berth_fail(err, 0, "invalid option: \"%s\"", key);
  }
  struct json_object *size = NULL;
  if (json_object_object_get_ex(options, "size", &size)) {
    const char *s = json_object_get_string(size);
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno != 0 || v < 0)
      return berth_fail(err, 0, "invalid size: '%s'", s);
    if (v > 0)
      return berth_fail(err, 0, "quota size requested but no quota support");
  }
  bool has_type = json_object_object_get_ex(options, "type", NULL);
  bool has_device = json_object_object_get_ex(options, "device", NULL);
  bool has_o = json_object_object_get_ex(options, "o", NULL);
  if ((has_device || has_o) && !has_type)
    return berth_fail(err, 0, "missing required option: \"type\"");
  if ((has_type || has_o) && !has_device)
    return berth_fail(err, 0, "missing required option: \"device\"");
  return 0;
}

static bool needs_mount(struct json_object *options) {
  return json_object_object_get_ex(options, "type", NULL) || json_object_object_get_ex(options, "device", NULL);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int random_name(char out[65], berth_error **err) {
  unsigned char bytes[32];
  if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
    return berth_fail(err, errno, "volume name: getrandom");
  for (size_t i = 0; i < sizeof(bytes); i++)
    snprintf(out + 2 * i, 3, "%02x", bytes[i]);
  return 0;
}

/* Inserts the row, then makes the directory (under .lock, taken into
 * *lockfd); both inside the caller's transaction, so a crash or rollback
 * leaves at most an orphan directory. */
static int insert_volume(struct engine *e, int vdir, int *lockfd, const char *name, struct json_object *labels,
                         struct json_object *options, bool anonymous, int64_t created, berth_error **err) {
  cleanup_sqlite_stmt sqlite3_stmt *st = db_prepare(
      e->db, "INSERT INTO volumes (name, created, labels, options, anonymous) VALUES (?, ?, ?, ?, ?)", err);
  if (st == NULL)
    return -1;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, created);
  sqlite3_bind_text(st, 3, json_text(labels), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, json_text(options), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 5, anonymous);
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_fail(e->db, err, "insert volume");
  if (lock_volumes(vdir, lockfd, err) < 0 || make_volume_dir(vdir, name, err) < 0)
    return -1;
  return 0;
}

int volumes_create(struct engine *e, const char *name, struct json_object *labels_in,
                   struct json_object *options_in, bool anonymous, struct volume *out, berth_error **err) {
  char generated[65];
  if (name == NULL) {
    if (random_name(generated, err) < 0)
      return -1;
    name = generated;
    anonymous = true;
  } else if (volumes_check_name(name, err) < 0) {
    return berth_error_wrap(err, "create %s", name);
  }
  cleanup_json struct json_object *labels = string_map(labels_in);
  cleanup_json struct json_object *options = string_map(options_in);
  if (labels == NULL || options == NULL)
    return berth_fail(err, ENOMEM, "create %s", name);
  if (check_options(options, err) < 0)
    return berth_error_wrap(err, "create %s", name);
  if (anonymous)
    json_object_object_add(labels, VOLUME_ANONYMOUS_LABEL, json_object_new_string(""));
  cleanup_close int vdir = open_volumes_dir(e, err);
  if (vdir < 0)
    return -1;
  cleanup_close int lockfd = -1;
  bool own;
  if (tx_begin(e, &own, err) < 0)
    return -1;
  int found = find_row(e, name, out, err);
  if (found != 0) {
    if (found < 0 || tx_commit(e, own, err) < 0) {
      if (found > 0 && out != NULL)
        volume_clear(out);
      tx_rollback(e, own);
      return -1;
    }
    return 0;
  }
  int64_t created = now_ns();
  if (insert_volume(e, vdir, &lockfd, name, labels, options, anonymous, created, err) < 0 ||
      tx_commit(e, own, err) < 0) {
    tx_rollback(e, own);
    if (lockfd >= 0)
      remove_volume_dir(vdir, name, NULL);
    return berth_error_wrap(err, "create %s", name);
  }
  events_volume(e, name, "create");
  if (out == NULL)
    return 0;
  memset(out, 0, sizeof(*out));
  out->name = strdup(name);
  out->mountpoint = data_path(e, name);
  out->created_ns = created;
  out->labels = json_object_get(labels);
  out->options = json_object_get(options);
  out->anonymous = anonymous;
  if (out->name == NULL || out->mountpoint == NULL) {
    volume_clear(out);
    return berth_fail(err, ENOMEM, "create %s", name);
  }
  return 0;
}

/* "id1, id2" of the containers using a volume ("" when none). */
static int users_of(struct engine *e, const char *name, char **out, berth_error **err) {
  cleanup_sqlite_stmt sqlite3_stmt *st =
      db_prepare(e->db, "SELECT container_id FROM volume_users WHERE volume = ? ORDER BY container_id", err);
  if (st == NULL)
    return -1;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL)
    return berth_fail(err, errno, "users of volume %s", name);
  int rc, n = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    fprintf(f, "%s%s", n++ > 0 ? ", " : "", (const char *)sqlite3_column_text(st, 0));
  fclose(f);
  if (rc != SQLITE_DONE) {
    free(buf);
    return db_fail(e->db, err, "users of a volume");
  }
  *out = buf;
  return 0;
}

int volumes_remove(struct engine *e, const char *name, bool force, berth_error **err) {
  cleanup_close int vdir = open_volumes_dir(e, err);
  if (vdir < 0)
    return -1;
  cleanup_close int lockfd = -1;
  cleanup_free char *users = NULL;
  bool own;
  if (tx_begin(e, &own, err) < 0)
    return -1;
  int found = find_row(e, name, NULL, err);
  if (found <= 0) {
    tx_rollback(e, own);
    if (found < 0)
      return -1;
    return force ? 0 : berth_fail(err, 0, "get %s: no such volume", name);
  }
  if (users_of(e, name, &users, err) < 0)
    goto fail;
  if (users[0] != '\0') {
    berth_fail(err, 0, "remove %s: volume is in use - [%s]", name, users);
    goto fail;
  }
  if (lock_volumes(vdir, &lockfd, err) < 0 ||
      db_exec_text(e->db, err, "DELETE FROM volumes WHERE name = ?", name, NULL) < 0 || tx_commit(e, own, err) < 0)
    goto fail;
  events_volume(e, name, "destroy");
  /* inside a caller's transaction the directory is the sweep's */
  if (own && remove_volume_dir(vdir, name, err) < 0)
    return berth_error_wrap(err, "remove %s", name);
  return 0;
fail:
  tx_rollback(e, own);
  return -1;
}

/* ---- sweep and prune ---- */

struct names {
  char **v;
  size_t n, cap;
};

static int names_add(struct names *l, const char *name) {
  if (l->n == l->cap) {
    size_t cap = l->cap == 0 ? 8 : 2 * l->cap;
    char **grown = realloc(l->v, cap * sizeof(*grown));
    if (grown == NULL)
      return -1;
    l->v = grown;
    l->cap = cap;
  }
  if ((l->v[l->n] = strdup(name)) == NULL)
    return -1;
  l->n++;
  return 0;
}

static void names_free(struct names *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof(*l));
}

/* Directories in <root>/volumes without a row; the caller holds the write
 * lock.  except (may be NULL) are left out. */
static int find_orphans(struct engine *e, int vdir, const struct names *except, struct names *out, berth_error **err) {
  int fd = fcntl(vdir, F_DUPFD_CLOEXEC, 3);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d == NULL) {
    if (fd >= 0)
      close(fd);
    return berth_fail(err, errno, "read %s/volumes", e->root);
  }
  rewinddir(d);
  int ret = 0;
  struct dirent *de;
  while (ret == 0 && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue; /* ., .., .lock: no volume name starts with a dot */
    bool skip = false;
    for (size_t i = 0; except != NULL && i < except->n && !skip; i++)
      skip = strcmp(except->v[i], de->d_name) == 0;
    if (skip)
      continue;
    int found = find_row(e, de->d_name, NULL, err);
    if (found < 0)
      ret = -1;
    else if (found == 0 && names_add(out, de->d_name) < 0)
      ret = berth_fail(err, ENOMEM, "sweep volumes");
  }
  closedir(d);
  return ret;
}

int volumes_sweep(struct engine *e, berth_error **err) {
  cleanup_close int vdir = open_volumes_dir(e, err);
  if (vdir < 0)
    return -1;
  cleanup_close int lockfd = -1;
  struct names orphans = {0};
  if (db_begin(e->db, err) < 0)
    return -1;
  if (lock_volumes(vdir, &lockfd, err) < 0 || find_orphans(e, vdir, NULL, &orphans, err) < 0 ||
      db_commit(e->db, err) < 0) {
    db_rollback(e->db);
    names_free(&orphans);
    return -1;
  }
  int ret = 0;
  for (size_t i = 0; i < orphans.n; i++)
    if (remove_volume_dir(vdir, orphans.v[i], ret == 0 ? err : NULL) < 0)
      ret = -1;
  names_free(&orphans);
  return ret;
}

/* "key", "key=value", "!key", "!key=value": all must hold. */
static bool labels_match(struct json_object *labels, char **filters) {
  for (size_t i = 0; filters != NULL && filters[i] != NULL; i++) {
    const char *f = filters[i];
    bool negate = f[0] == '!';
    f += negate;
    const char *eq = strchr(f, '=');
    size_t klen = eq != NULL ? (size_t)(eq - f) : strlen(f);
    bool match = false;
    json_object_object_foreach(labels, key, val) {
      if (strlen(key) == klen && strncmp(key, f, klen) == 0)
        match = eq == NULL || strcmp(json_object_get_string(val), eq + 1) == 0;
    }
    if (match == negate)
      return false;
  }
  return true;
}

static uint64_t volume_size(int vdir, const char *name) {
  char data[NAME_MAX + 16];
  snprintf(data, sizeof(data), "%s/_data", name);
  cleanup_close int fd = openat(vdir, data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return 0;
  return fs_tree_size(fd);
}

int volumes_prune(struct engine *e, bool all_volumes, char **label_filters,
                  void (*removed)(const char *name, void *arg), void *arg, uint64_t *freed, berth_error **err) {
  if (freed != NULL)
    *freed = 0;
  cleanup_close int vdir = open_volumes_dir(e, err);
  if (vdir < 0)
    return -1;
  cleanup_close int lockfd = -1;
  struct volume *list = NULL;
  size_t n = 0;
  struct names doomed = {0}, orphans = {0};
  if (db_begin(e->db, err) < 0)
    return -1;
  if (volumes_list(e, &list, &n, err) < 0)
    goto fail;
  for (size_t i = 0; i < n; i++) {
    const struct volume *v = &list[i];
    bool anonymous = v->anonymous || json_object_object_get_ex(v->labels, VOLUME_ANONYMOUS_LABEL, NULL);
    /* volumes with mount options are not local data: docker keeps them */
    if (v->n_users > 0 || json_object_object_length(v->options) > 0 || (!all_volumes && !anonymous) ||
        !labels_match(v->labels, label_filters))
      continue;
    if (names_add(&doomed, v->name) < 0) {
      berth_fail(err, ENOMEM, "prune volumes");
      goto fail;
    }
  }
  if (lock_volumes(vdir, &lockfd, err) < 0)
    goto fail;
  for (size_t i = 0; i < doomed.n; i++)
    if (db_exec_text(e->db, err, "DELETE FROM volumes WHERE name = ?", doomed.v[i], NULL) < 0)
      goto fail;
  if (find_orphans(e, vdir, &doomed, &orphans, err) < 0 || db_commit(e->db, err) < 0)
    goto fail;
  int ret = 0;
  for (size_t i = 0; i < doomed.n; i++) {
    uint64_t size = volume_size(vdir, doomed.v[i]);
    if (remove_volume_dir(vdir, doomed.v[i], ret == 0 ? err : NULL) < 0) {
      ret = -1;
      continue;
    }
    if (freed != NULL)
      *freed += size;
    events_volume(e, doomed.v[i], "destroy");
    if (removed != NULL)
      removed(doomed.v[i], arg);
  }
  for (size_t i = 0; i < orphans.n; i++)
    remove_volume_dir(vdir, orphans.v[i], NULL);
  volumes_free(list, n);
  names_free(&doomed);
  names_free(&orphans);
  return ret;
fail:
  db_rollback(e->db);
  volumes_free(list, n);
  names_free(&doomed);
  names_free(&orphans);
  return -1;
}

/* ---- attach, detach ---- */

int volumes_attach(struct engine *e, const char *container_id, const char *const *names, size_t n,
                   berth_error **err) {
  cleanup_close int vdir = open_volumes_dir(e, err);
  if (vdir < 0)
    return -1;
  cleanup_close int lockfd = -1;
  struct names made = {0};
  cleanup_json struct json_object *empty = json_object_new_object();
  bool own;
  if (empty == NULL)
    return berth_fail(err, ENOMEM, "attach volumes");
  if (tx_begin(e, &own, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    int found = find_row(e, names[i], NULL, err);
    if (found < 0)
      goto fail;
    if (found == 0) {
      if (volumes_check_name(names[i], err) < 0) {
        berth_error_wrap(err, "create %s", names[i]);
        goto fail;
      }
      if (insert_volume(e, vdir, &lockfd, names[i], empty, empty, false, now_ns(), err) < 0) {
        berth_error_wrap(err, "create %s", names[i]);
        goto fail;
      }
      if (names_add(&made, names[i]) < 0) {
        berth_fail(err, ENOMEM, "attach volumes");
        goto fail;
      }
    }
    if (db_exec_text(e->db, err, "INSERT OR IGNORE INTO volume_users (volume, container_id) VALUES (?, ?)",
                     names[i], container_id, NULL) < 0)
      goto fail;
  }
  if (tx_commit(e, own, err) < 0)
    goto fail;
  for (size_t i = 0; i < made.n; i++)
    events_volume(e, made.v[i], "create");
  names_free(&made);
  return 0;
fail:
  tx_rollback(e, own);
  /* the rows are gone and we still hold the write lock: no one else can
   * have started using these directories */
  for (size_t i = 0; i < made.n; i++)
    remove_volume_dir(vdir, made.v[i], NULL);
  names_free(&made);
  return -1;
}

int volumes_detach(struct engine *e, const char *container_id, bool remove_anonymous, berth_error **err) {
  cleanup_close int vdir = open_volumes_dir(e, err);
  if (vdir < 0)
    return -1;
  cleanup_close int lockfd = -1;
  struct names doomed = {0};
  bool own;
  if (tx_begin(e, &own, err) < 0)
    return -1;
  if (remove_anonymous) {
    cleanup_sqlite_stmt sqlite3_stmt *st =
        db_prepare(e->db,
                   "SELECT u.volume FROM volume_users u JOIN volumes v ON v.name = u.volume "
                   "WHERE u.container_id = ?1 AND v.anonymous != 0 AND NOT EXISTS "
                   "(SELECT 1 FROM volume_users o WHERE o.volume = u.volume AND o.container_id != ?1)",
                   err);
    if (st == NULL)
      goto fail;
    sqlite3_bind_text(st, 1, container_id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
      if (names_add(&doomed, (const char *)sqlite3_column_text(st, 0)) < 0) {
        berth_fail(err, ENOMEM, "detach volumes");
        goto fail;
      }
    if (rc != SQLITE_DONE) {
      db_fail(e->db, err, "anonymous volumes of a container");
      goto fail;
    }
  }
  if (db_exec_text(e->db, err, "DELETE FROM volume_users WHERE container_id = ?", container_id, NULL) < 0)
    goto fail;
  if (doomed.n > 0 && lock_volumes(vdir, &lockfd, err) < 0)
    goto fail;
  for (size_t i = 0; i < doomed.n; i++)
    if (db_exec_text(e->db, err, "DELETE FROM volumes WHERE name = ?", doomed.v[i], NULL) < 0)
      goto fail;
  if (tx_commit(e, own, err) < 0)
    goto fail;
  int ret = 0;
  for (size_t i = 0; i < doomed.n; i++)
    events_volume(e, doomed.v[i], "destroy");
  for (size_t i = 0; own && i < doomed.n; i++)
    if (remove_volume_dir(vdir, doomed.v[i], ret == 0 ? err : NULL) < 0)
      ret = -1;
  names_free(&doomed);
  return ret;
fail:
  tx_rollback(e, own);
  names_free(&doomed);
  return -1;
}

/* ---- mount options ---- */

struct mount_flag {
  const char *name;
  unsigned long set, clear;
};

static const struct mount_flag mount_flags[] = {
    {"defaults", 0, 0},
    {"ro", MS_RDONLY, 0},
    {"rw", 0, MS_RDONLY},
    {"suid", 0, MS_NOSUID},
    {"nosuid", MS_NOSUID, 0},
    {"dev", 0, MS_NODEV},
    {"nodev", MS_NODEV, 0},
    {"exec", 0, MS_NOEXEC},
    {"noexec", MS_NOEXEC, 0},
    {"sync", MS_SYNCHRONOUS, 0},
    {"async", 0, MS_SYNCHRONOUS},
    {"dirsync", MS_DIRSYNC, 0},
    {"mand", MS_MANDLOCK, 0},
    {"nomand", 0, MS_MANDLOCK},
    {"atime", 0, MS_NOATIME},
    {"noatime", MS_NOATIME, 0},
    {"diratime", 0, MS_NODIRATIME},
    {"nodiratime", MS_NODIRATIME, 0},
    {"relatime", MS_RELATIME, 0},
    {"norelatime", 0, MS_RELATIME},
    {"strictatime", MS_STRICTATIME, 0},
    {"nostrictatime", 0, MS_STRICTATIME},
    {"bind", MS_BIND, 0},
    {"rbind", MS_BIND | MS_REC, 0},
};

static const struct mount_flag propagation_flags[] = {
    {"private", MS_PRIVATE, 0},       {"rprivate", MS_PRIVATE | MS_REC, 0},
    {"shared", MS_SHARED, 0},         {"rshared", MS_SHARED | MS_REC, 0},
    {"slave", MS_SLAVE, 0},           {"rslave", MS_SLAVE | MS_REC, 0},
    {"unbindable", MS_UNBINDABLE, 0}, {"runbindable", MS_UNBINDABLE | MS_REC, 0},
};

/* Splits o= into mount flags, a propagation and file-system data (what
 * mount(8) would pass on), as docker's mount package does. */
static int parse_mount_options(const char *o, unsigned long *flags, unsigned long *propagation, char **data) {
  *flags = *propagation = 0;
  *data = NULL;
  cleanup_free char *copy = strdup(o != NULL ? o : "");
  size_t cap = strlen(o != NULL ? o : "") + 1;
  char *out = calloc(1, cap);
  if (copy == NULL || out == NULL) {
    free(out);
    return -1;
  }
  char *save = NULL;
  for (char *opt = strtok_r(copy, ",", &save); opt != NULL; opt = strtok_r(NULL, ",", &save)) {
    bool known = false;
    for (size_t i = 0; i < ARRAY_SIZE(mount_flags) && !known; i++)
      if (strcmp(opt, mount_flags[i].name) == 0) {
        *flags = (*flags | mount_flags[i].set) & ~mount_flags[i].clear;
        known = true;
      }
    for (size_t i = 0; i < ARRAY_SIZE(propagation_flags) && !known; i++)
      if (strcmp(opt, propagation_flags[i].name) == 0) {
        *propagation = propagation_flags[i].set;
        known = true;
      }
    if (known)
      continue;
    if (out[0] != '\0')
      strcat(out, ",");
    strcat(out, opt);
  }
  *data = out;
  return 0;
}

/* Whether vfd/_data is a mount point (its mount differs from vfd's). */
static bool is_mounted(int vfd) {
  struct statx a, b;
  if (statx(vfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &a) < 0 ||
      statx(vfd, "_data", AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &b) < 0)
    return false;
  if ((a.stx_mask & b.stx_mask & STATX_MNT_ID) != 0)
    return a.stx_mnt_id != b.stx_mnt_id;
  return a.stx_dev_major != b.stx_dev_major || a.stx_dev_minor != b.stx_dev_minor;
}

/* docker hides a CIFS password in mount errors. */
static char *masked(const char *o) {
  char *copy = strdup(o);
  char *p = copy != NULL ? strstr(copy, "password=") : NULL;
  if (p != NULL) {
    char *end = strchr(p, ',');
    size_t tail = end != NULL ? strlen(end) : 0;
    memmove(p + 17, end != NULL ? end : p + strlen(p), tail + 1);
    memcpy(p, "password=********", 17);
  }
  return copy;
}

/* Mounts a volume with type/device options on its _data unless it is
 * mounted already.  Caller holds the volume's directory lock (vfd). */
static int ensure_mounted(struct engine *e, const struct volume *v, int vfd, berth_error **err) {
  if (!needs_mount(v->options) || is_mounted(vfd))
    return 0;
  struct json_object *jt = NULL, *jd = NULL, *jo = NULL;
  json_object_object_get_ex(v->options, "type", &jt);
  json_object_object_get_ex(v->options, "device", &jd);
  json_object_object_get_ex(v->options, "o", &jo);
  const char *type = jt != NULL ? json_object_get_string(jt) : "";
  const char *device = jd != NULL ? json_object_get_string(jd) : "";
  const char *o = jo != NULL ? json_object_get_string(jo) : "";
  if (device[0] == '\0')
    return berth_fail(err, 0, "error while mounting volume '%s': missing device in volume options", v->mountpoint);
  unsigned long flags, propagation;
  cleanup_free char *data = NULL;
  if (parse_mount_options(o, &flags, &propagation, &data) < 0)
    return berth_fail(err, ENOMEM, "mount volume %s", v->name);
  (void)e;
  int rc;
  if (flags & MS_BIND) {
    rc = mount(device, v->mountpoint, NULL, MS_BIND | (flags & MS_REC), NULL);
    unsigned long rest = flags & ~(MS_BIND | MS_REC);
    if (rc == 0 && rest != 0 && mount(NULL, v->mountpoint, NULL, MS_BIND | MS_REMOUNT | rest, NULL) < 0) {
      int saved = errno;
      umount2(v->mountpoint, MNT_DETACH);
      errno = saved;
      rc = -1;
    }
  } else {
    rc = mount(device, v->mountpoint, type, flags, data[0] != '\0' ? data : NULL);
  }
  if (rc == 0 && propagation != 0 && mount(NULL, v->mountpoint, NULL, propagation, NULL) < 0) {
    int saved = errno;
    umount2(v->mountpoint, MNT_DETACH);
    errno = saved;
    rc = -1;
  }
  if (rc < 0) {
    int saved = errno;
    cleanup_free char *shown = masked(o);
    return berth_fail(err, saved,
                      "error while mounting volume '%s': failed to mount local volume: mount %s:%s, data: %s",
                      v->mountpoint, device, v->mountpoint, shown != NULL ? shown : "");
  }
  return 0;
}

/* The volume's directory, opened and locked (flock) for mount and populate. */
static int open_volume_locked(int vdir, const char *name, berth_error **err) {
  int fd = openat(vdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "open volume %s", name);
  if (flock_fd(fd, name, err) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int volumes_mount_path(struct engine *e, const char *name, char **path, berth_error **err) {
  struct volume v;
  if (volumes_get(e, name, &v, err) < 0)
    return -1;
  int ret = 0;
  if (needs_mount(v.options)) {
    cleanup_close int vdir = open_volumes_dir(e, err);
    cleanup_close int vfd = vdir >= 0 ? open_volume_locked(vdir, name, err) : -1;
    ret = vfd >= 0 ? ensure_mounted(e, &v, vfd, err) : -1;
  }
  if (ret == 0) {
    *path = TAKE_PTR(v.mountpoint);
    if (*path == NULL)
      ret = berth_fail(err, ENOMEM, "volume %s", name);
  }
  volume_clear(&v);
  return ret;
}

/* ---- populate: a copy that keeps what the image had ---- */

struct copy_ctx {
  int top;          /* the copy's root, for hard links */
  char path[PATH_MAX]; /* the entry being copied, relative to top */
  struct copied {
    dev_t dev;
    ino_t ino;
    char *path;
  } *links;
  size_t n_links, cap_links;
  unsigned depth;
};

static void copy_xattrs(int from, int to) {
  char names[8192];
  ssize_t len = flistxattr(from, names, sizeof(names));
  for (ssize_t off = 0; len > 0 && off < len; off += (ssize_t)strlen(names + off) + 1) {
    char value[65536];
    ssize_t vlen = fgetxattr(from, names + off, value, sizeof(value));
    if (vlen >= 0)
      fsetxattr(to, names + off, value, (size_t)vlen, 0); /* best effort */
  }
}

static int copy_data(int from, int to) {
  for (;;) {
    ssize_t n = copy_file_range(from, NULL, to, NULL, 1 << 30, 0);
    if (n == 0)
      return 0;
    if (n > 0)
      continue;
    if (errno == EINTR)
      continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP && errno != EBADF)
      return -1;
    break;
  }
  char buf[65536];
  for (;;) {
    ssize_t n = read(from, buf, sizeof(buf));
    if (n == 0)
      return 0;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (fs_write_all(to, buf, (size_t)n) < 0)
      return -1;
  }
}

/* Ownership, then mode (chown clears set-id bits), then xattrs (chown
 * drops security.capability), then times. */
static int copy_attrs(int fd, const struct stat *st, int from) {
  if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0)
    return -1;
  if (from >= 0)
    copy_xattrs(from, fd);
  struct timespec times[2] = {st->st_atim, st->st_mtim};
  return futimens(fd, times);
}

static const char *link_target(struct copy_ctx *c, const struct stat *st) {
  for (size_t i = 0; i < c->n_links; i++)
    if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino)
      return c->links[i].path;
  return NULL;
}

static void note_link(struct copy_ctx *c, const struct stat *st) {
  if (c->n_links == c->cap_links) {
    size_t cap = c->cap_links == 0 ? 16 : 2 * c->cap_links;
    struct copied *grown = realloc(c->links, cap * sizeof(*grown));
    if (grown == NULL)
      return; /* later links become copies */
    c->links = grown;
    c->cap_links = cap;
  }
  char *path = strdup(c->path);
  if (path != NULL)
    c->links[c->n_links++] = (struct copied){st->st_dev, st->st_ino, path};
}

static int copy_dir(struct copy_ctx *c, int sfd, int dfd, berth_error **err);

static int copy_entry(struct copy_ctx *c, int sfd, int dfd, const char *name, berth_error **err) {
  struct stat st;
  if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return berth_fail(err, errno, "stat \"%s\"", c->path);
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    const char *first = link_target(c, &st);
    if (first != NULL && linkat(c->top, first, dfd, name, 0) == 0)
      return 0;
  }
  switch (st.st_mode & S_IFMT) {
  case S_IFDIR: {
    if (mkdirat(dfd, name, 0700) < 0)
      return berth_fail(err, errno, "mkdir \"%s\"", c->path);
    cleanup_close int from = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    cleanup_close int to = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (from < 0 || to < 0)
      return berth_fail(err, errno, "open \"%s\"", c->path);
    if (c->depth >= 512)
      return berth_fail(err, ELOOP, "copy \"%s\"", c->path);
    c->depth++;
    int r = copy_dir(c, from, to, err);
    c->depth--;
    if (r < 0)
      return -1;
    if (copy_attrs(to, &st, from) < 0)
      return berth_fail(err, errno, "set attributes of \"%s\"", c->path);
    return 0;
  }
  case S_IFREG: {
    cleanup_close int from = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (from < 0)
      return berth_fail(err, errno, "open \"%s\"", c->path);
    cleanup_close int to = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (to < 0)
      return berth_fail(err, errno, "create \"%s\"", c->path);
    if (copy_data(from, to) < 0)
      return berth_fail(err, errno, "copy \"%s\"", c->path);
    if (copy_attrs(to, &st, from) < 0)
      return berth_fail(err, errno, "set attributes of \"%s\"", c->path);
    break;
  }
  case S_IFLNK: {
    char target[PATH_MAX];
    ssize_t n = readlinkat(sfd, name, target, sizeof(target) - 1);
    if (n < 0)
      return berth_fail(err, errno, "readlink \"%s\"", c->path);
    target[n] = '\0';
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (symlinkat(target, dfd, name) < 0 || fchownat(dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
        utimensat(dfd, name, times, AT_SYMLINK_NOFOLLOW) < 0)
      return berth_fail(err, errno, "symlink \"%s\"", c->path);
    break;
  }
  default: { /* devices, fifos, sockets */
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (mknodat(dfd, name, (st.st_mode & S_IFMT) | 0600, st.st_rdev) < 0 ||
        fchownat(dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
        fchmodat(dfd, name, st.st_mode & 07777, 0) < 0 || utimensat(dfd, name, times, AT_SYMLINK_NOFOLLOW) < 0)
      return berth_fail(err, errno, "mknod \"%s\"", c->path);
    break;
  }
  }
  if (st.st_nlink > 1)
    note_link(c, &st);
  return 0;
}

static int copy_dir(struct copy_ctx *c, int sfd, int dfd, berth_error **err) {
  int fd = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d == NULL) {
    if (fd >= 0)
      close(fd);
    return berth_fail(err, errno, "read \"%s\"", c->path[0] != '\0' ? c->path : ".");
  }
  size_t len = strlen(c->path);
  int ret = 0;
  struct dirent *de;
  errno = 0;
  while (ret == 0 && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    int n = snprintf(c->path + len, sizeof(c->path) - len, "%s%s", len > 0 ? "/" : "", de->d_name);
    if (n < 0 || (size_t)n >= sizeof(c->path) - len) {
      ret = berth_fail(err, ENAMETOOLONG, "copy \"%.64s...\"", c->path);
      break;
    }
    ret = copy_entry(c, sfd, dfd, de->d_name, err);
    c->path[len] = '\0';
    errno = 0;
  }
  if (ret == 0 && errno != 0)
    ret = berth_fail(err, errno, "read \"%s\"", c->path);
  c->path[len] = '\0';
  closedir(d);
  return ret;
}

static int dir_is_empty(int fd, bool *empty) {
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
  if (d == NULL) {
    if (dup >= 0)
      close(dup);
    return -1;
  }
  *empty = true;
  struct dirent *de;
  while (*empty && (de = readdir(d)) != NULL)
    *empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
  closedir(d);
  return 0;
}

/* Moves every entry of from into to (same file system, to empty). */
static int move_entries(int from, int to, berth_error **err) {
  int fd = fcntl(from, F_DUPFD_CLOEXEC, 3);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d == NULL) {
    if (fd >= 0)
      close(fd);
    return berth_fail(err, errno, "read the volume's copy");
  }
  int ret = 0;
  struct dirent *de;
  while (ret == 0 && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (renameat2(from, de->d_name, to, de->d_name, RENAME_NOREPLACE) < 0)
      ret = berth_fail(err, errno, "move \"%s\" into the volume", de->d_name);
  }
  closedir(d);
  return ret;
}

static void copy_ctx_free(struct copy_ctx *c) {
  for (size_t i = 0; i < c->n_links; i++)
    free(c->links[i].path);
  free(c->links);
}

/* Copies source (a directory) into the empty _data of the volume vfd. */
static int populate_from(int vfd, int source, int data, berth_error **err) {
  struct stat sst, vst, dst;
  if (fstat(source, &sst) < 0 || fstat(vfd, &vst) < 0 || fstat(data, &dst) < 0)
    return berth_fail(err, errno, "stat");
  struct copy_ctx c = {.top = -1};
  int ret;
  /* Beside the volume and moved in, unless _data is another file system
   * (a mounted volume): then straight in. */
  if (vst.st_dev == dst.st_dev && !is_mounted(vfd)) {
    static const char tmp[] = ".populate";
    fs_remove_tree_at(vfd, tmp, NULL);
    if (mkdirat(vfd, tmp, 0700) < 0)
      return berth_fail(err, errno, "mkdir the volume's copy");
    c.top = openat(vfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (c.top < 0)
      ret = berth_fail(err, errno, "open the volume's copy");
    else
      ret = copy_dir(&c, source, c.top, err);
    if (ret == 0)
      ret = move_entries(c.top, data, err);
    if (c.top >= 0)
      close(c.top);
    fs_remove_tree_at(vfd, tmp, NULL);
  } else {
    c.top = data;
    ret = copy_dir(&c, source, data, err);
  }
  copy_ctx_free(&c);
  if (ret < 0)
    return -1;
  /* docker gives the volume's root the owner and mode of the image's directory */
  if (fchown(data, sst.st_uid, sst.st_gid) < 0 || fchmod(data, sst.st_mode & 07777) < 0)
    return berth_fail(err, errno, "set owner and mode of the volume");
  copy_xattrs(source, data);
  return 0;
}

int volumes_populate(struct engine *e, const char *name, const char *rootfs, const char *target, bool no_copy,
                     berth_error **err) {
  struct volume v;
  if (volumes_get(e, name, &v, err) < 0)
    return -1;
  int ret = -1;
  cleanup_close int vdir = open_volumes_dir(e, err);
  cleanup_close int vfd = vdir >= 0 ? open_volume_locked(vdir, name, err) : -1;
  cleanup_close int data = -1, rootfd = -1, source = -1;
  if (vfd < 0 || ensure_mounted(e, &v, vfd, err) < 0)
    goto out;
  ret = 0;
  if (no_copy)
    goto out;
  ret = -1;
  data = openat(vfd, "_data", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  bool empty = false;
  if (data < 0 || dir_is_empty(data, &empty) < 0) {
    berth_fail(err, errno, "open volume %s", name);
    goto out;
  }
  ret = 0;
  if (!empty)
    goto out;
  ret = -1;
  rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) {
    berth_fail(err, errno, "open rootfs \"%s\"", rootfs);
    goto out;
  }
  berth_error *missing = NULL;
  source = path_open_in_root(rootfd, target, O_RDONLY | O_DIRECTORY | O_NOCTTY, &missing);
  if (source < 0) {
    /* nothing in the image there (or not a directory): nothing to copy */
    ret = missing != NULL && (missing->errnum == ENOENT || missing->errnum == ENOTDIR) ? 0 : -1;
    if (ret < 0)
      berth_fail(err, missing != NULL ? missing->errnum : 0, "open \"%s\" in the rootfs", target);
    berth_error_free(missing);
    goto out;
  }
  ret = populate_from(vfd, source, data, err);
out:
  if (ret < 0)
    berth_error_wrap(err, "populate volume %s from \"%s\"", name, target);
  volume_clear(&v);
  return ret;
}
