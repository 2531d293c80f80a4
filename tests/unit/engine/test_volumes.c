/* Volumes: records, directories, users, prune, populate (a copy that keeps
 * owners, modes, times, links and xattrs, and never follows a symlink out
 * of the rootfs), mount options, crash leftovers and concurrent creators.
 * Runs as root (chown, mknod, mount); mount tests run in a private mount
 * namespace and are skipped when one cannot be made. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/volumes.h"
#include "image/db.h"
#include "image/store.h"
#include "tap.h"
#include "util/fs.h"

static char root[64];
static struct engine *eng;
static bool can_mount;

static struct engine *open_engine(void) {
  berth_error *err = NULL;
  struct store *s = store_open(root, &err);
  struct engine *e = s != NULL ? engine_open(s, NULL, &err) : NULL;
  char db_path[128];
  snprintf(db_path, sizeof(db_path), "%s/berth.db", root);
  if (e == NULL || volumes_schema(e, db_path, &err) < 0) {
    printf("# open engine: %s\n", err != NULL ? err->msg : "?");
    berth_error_free(err);
    if (e == NULL)
      store_close(s);
    engine_close(e);
    return NULL;
  }
  return e;
}

static char *path_of(const char *fmt, const char *a) {
  static char buf[4][512];
  static int i;
  char *p = buf[i++ % 4];
  char rel[400];
  snprintf(rel, sizeof(rel), fmt, a);
  snprintf(p, 512, "%s/%s", root, rel);
  return p;
}

static bool exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

static int count_rows(const char *table) {
  char sql[128];
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
  sqlite3_stmt *st = db_prepare(eng->db, sql, NULL);
  int n = st != NULL && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  sqlite3_finalize(st);
  return n;
}

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    fs_write_all(fd, text, strlen(text));
    close(fd);
  }
}

static char *read_text(const char *path) {
  return fs_read_file_at(AT_FDCWD, path, NULL, NULL);
}

static void names(void) {
  const char *good[] = {"ab", "a1", "Data_01.x-y", "0a"};
  const char *bad[] = {"", "-ab", ".ab", "_ab", "a b", "a/b", "../x", "a:b", "ä1"};
  for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
    EXPECT(volumes_check_name(good[i], NULL) == 0);
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
    EXPECT(volumes_check_name(bad[i], NULL) < 0);
  berth_error *err = NULL;
  EXPECT(volumes_create(eng, "a b", NULL, NULL, false, NULL, &err) < 0);
  EXPECT_STR(err != NULL ? err->msg : NULL,
             "create a b: \"a b\" includes invalid characters for a local volume name, only "
             "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path");
  berth_error_freep(&err);
  EXPECT(volumes_create(eng, "a", NULL, NULL, false, NULL, &err) < 0);
  EXPECT_STR(err != NULL ? err->msg : NULL,
             "create a: volume name is too short, names should be at least two alphanumeric characters");
  berth_error_freep(&err);
  char longname[300];
  memset(longname, 'x', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  EXPECT(volumes_create(eng, longname, NULL, NULL, false, NULL, &err) < 0);
  berth_error_freep(&err);
  EXPECT(count_rows("volumes") == 0);
  /* no name where one is needed: an error, not a crash */
  char *path = NULL;
  EXPECT(volumes_get(eng, NULL, NULL, &err) < 0 && volumes_mount_path(eng, NULL, &path, &err) < 0);
  EXPECT(volumes_remove(eng, "", true, &err) < 0);
  const char *none[] = {NULL};
  EXPECT(volumes_attach(eng, "c0", none, 1, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "no name given");
  berth_error_freep(&err);
}

static void create_get_list(void) {
  berth_error *err = NULL;
  struct json_object *labels = json_object_new_object();
  json_object_object_add(labels, "team", json_object_new_string("blue"));
  json_object_object_add(labels, "empty", json_object_new_string(""));
  struct volume v = {0};
  EXPECT(volumes_create(eng, "data", labels, NULL, false, &v, &err) == 0);
  EXPECT_STR(v.name, "data");
  EXPECT_STR(v.mountpoint, path_of("volumes/%s/_data", "data"));
  EXPECT(!v.anonymous && v.n_users == 0 && v.created_ns > 0);
  EXPECT_STR(json_object_get_string(json_object_object_get(v.labels, "team")), "blue");
  EXPECT(json_object_object_length(v.options) == 0);
  struct stat st;
  EXPECT(stat(v.mountpoint, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755);
  EXPECT(stat(path_of("volumes/%s", "data"), &st) == 0 && (st.st_mode & 07777) == 0701);
  int64_t created = v.created_ns;
  volume_clear(&v);
  /* again: the existing one, untouched */
  json_object_object_add(labels, "team", json_object_new_string("red"));
  EXPECT(volumes_create(eng, "data", labels, NULL, false, &v, &err) == 0);
  EXPECT(v.created_ns == created);
  EXPECT_STR(json_object_get_string(json_object_object_get(v.labels, "team")), "blue");
  volume_clear(&v);
  json_object_put(labels);
  EXPECT(volumes_get(eng, "data", &v, &err) == 0 && v.created_ns == created);
  volume_clear(&v);
  EXPECT(volumes_get(eng, "nothing", &v, &err) < 0);
  EXPECT_STR(err != NULL ? err->msg : NULL, "get nothing: no such volume");
  berth_error_freep(&err);
  /* anonymous: 64 hex digits and docker's label */
  EXPECT(volumes_create(eng, NULL, NULL, NULL, false, &v, &err) == 0);
  EXPECT(v.name != NULL && strlen(v.name) == 64 && strspn(v.name, "0123456789abcdef") == 64);
  EXPECT(v.anonymous && json_object_object_get_ex(v.labels, VOLUME_ANONYMOUS_LABEL, NULL));
  EXPECT(exists(v.mountpoint));
  char anon[65];
  snprintf(anon, sizeof(anon), "%s", v.name ? v.name : "");
  volume_clear(&v);
  struct volume *list = NULL;
  size_t n = 0;
  EXPECT(volumes_list(eng, &list, &n, &err) == 0 && n == 2);
  if (n == 2) {
    EXPECT_STR(list[0].name, strcmp(anon, "data") < 0 ? anon : "data");
    EXPECT(list[0].labels != NULL && list[1].options != NULL);
  }
  volumes_free(list, n);
  EXPECT(volumes_remove(eng, anon, false, &err) == 0);
  EXPECT(volumes_remove(eng, "data", false, &err) == 0);
  EXPECT(!exists(path_of("volumes/%s", "data")));
  if (err != NULL)
    printf("# %s\n", err->msg);
  berth_error_freep(&err);
}

static void options(void) {
  struct {
    const char *k[3], *v[3];
    const char *msg;
  } cases[] = {
      {{"foo"}, {"1"}, "create opt: invalid option: \"foo\""},
      {{"type"}, {"tmpfs"}, "create opt: missing required option: \"device\""},
      {{"device"}, {"tmpfs"}, "create opt: missing required option: \"type\""},
      {{"o"}, {"size=1m"}, "create opt: missing required option: \"type\""},
      {{"size"}, {"10G"}, "create opt: quota size requested but no quota support"},
      {{"size"}, {"lots"}, "create opt: invalid size: 'lots'"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    struct json_object *o = json_object_new_object();
    for (int k = 0; k < 3 && cases[i].k[k] != NULL; k++)
      json_object_object_add(o, cases[i].k[k], json_object_new_string(cases[i].v[k]));
    berth_error *err = NULL;
    EXPECT(volumes_create(eng, "opt", NULL, o, false, NULL, &err) < 0);
    EXPECT_STR(err != NULL ? err->msg : NULL, cases[i].msg);
    berth_error_free(err);
    json_object_put(o);
  }
  EXPECT(count_rows("volumes") == 0);
  EXPECT(!exists(path_of("volumes/%s", "opt")));
  /* a valid set is stored as given */
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "type", json_object_new_string("tmpfs"));
  json_object_object_add(o, "device", json_object_new_string("tmpfs"));
  json_object_object_add(o, "o", json_object_new_string("size=1m,uid=1000"));
  struct volume v = {0};
  berth_error *err = NULL;
  EXPECT(volumes_create(eng, "opt", NULL, o, false, &v, &err) == 0);
  EXPECT_STR(json_object_get_string(json_object_object_get(v.options, "o")), "size=1m,uid=1000");
  volume_clear(&v);
  json_object_put(o);
  EXPECT(volumes_remove(eng, "opt", false, &err) == 0);
  berth_error_freep(&err);
}

static void users(void) {
  berth_error *err = NULL;
  EXPECT(volumes_create(eng, "shared", NULL, NULL, false, NULL, &err) == 0);
  const char *both[] = {"shared", "fresh"};
  EXPECT(volumes_attach(eng, "c1", both, 2, &err) == 0);
  EXPECT(volumes_attach(eng, "c1", both, 2, &err) == 0); /* twice: one use */
  EXPECT(volumes_attach(eng, "c2", both, 1, &err) == 0);
  struct volume v = {0};
  EXPECT(volumes_get(eng, "fresh", &v, &err) == 0 && v.n_users == 1 && !v.anonymous);
  EXPECT(exists(v.mountpoint));
  volume_clear(&v);
  EXPECT(volumes_get(eng, "shared", &v, &err) == 0 && v.n_users == 2);
  volume_clear(&v);
  EXPECT(volumes_remove(eng, "shared", false, &err) < 0);
  EXPECT_STR(err != NULL ? err->msg : NULL, "remove shared: volume is in use - [c1, c2]");
  berth_error_freep(&err);
  EXPECT(volumes_remove(eng, "shared", true, &err) < 0); /* -f does not remove a volume in use */
  berth_error_freep(&err);
  /* a bad name among them: nothing recorded, nothing made */
  const char *bad[] = {"okname", "x y"};
  EXPECT(volumes_attach(eng, "c3", bad, 2, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "create x y:");
  berth_error_freep(&err);
  EXPECT(volumes_get(eng, "okname", &v, NULL) < 0);
  EXPECT(!exists(path_of("volumes/%s", "okname")));
  EXPECT(volumes_detach(eng, "c1", true, &err) == 0);
  EXPECT(volumes_get(eng, "shared", &v, &err) == 0 && v.n_users == 1);
  volume_clear(&v);
  EXPECT(volumes_detach(eng, "c2", true, &err) == 0);
  /* named volumes stay after rm -v */
  EXPECT(volumes_get(eng, "shared", &v, &err) == 0 && v.n_users == 0);
  volume_clear(&v);
  EXPECT(volumes_remove(eng, "shared", false, &err) == 0);
  EXPECT(volumes_remove(eng, "fresh", false, &err) == 0);
  EXPECT(!exists(path_of("volumes/%s", "shared")) && !exists(path_of("volumes/%s", "fresh")));
  EXPECT(volumes_remove(eng, "fresh", false, &err) < 0);
  EXPECT_STR(err != NULL ? err->msg : NULL, "get fresh: no such volume");
  berth_error_freep(&err);
  EXPECT(volumes_remove(eng, "fresh", true, &err) == 0);
  EXPECT(count_rows("volume_users") == 0);
  if (err != NULL)
    printf("# %s\n", err->msg);
  berth_error_freep(&err);
}

static void anonymous_detach(void) {
  berth_error *err = NULL;
  struct volume a = {0};
  EXPECT(volumes_create(eng, NULL, NULL, NULL, true, &a, &err) == 0);
  const char *names_[] = {a.name};
  EXPECT(volumes_attach(eng, "c1", names_, 1, &err) == 0);
  EXPECT(volumes_attach(eng, "c2", names_, 1, &err) == 0);
  EXPECT(volumes_detach(eng, "c1", true, &err) == 0);
  EXPECT(volumes_get(eng, a.name, NULL, &err) == 0); /* c2 still uses it */
  EXPECT(volumes_detach(eng, "c2", false, &err) == 0);
  EXPECT(volumes_get(eng, a.name, NULL, &err) == 0); /* without -v it stays */
  EXPECT(volumes_attach(eng, "c3", names_, 1, &err) == 0);
  EXPECT(volumes_detach(eng, "c3", true, &err) == 0);
  EXPECT(volumes_get(eng, a.name, NULL, NULL) < 0);
  EXPECT(!exists(a.mountpoint) && !exists(path_of("volumes/%s", a.name)));
  volume_clear(&a);
  if (err != NULL)
    printf("# %s\n", err->msg);
  berth_error_freep(&err);
}

struct pruned {
  char names[8][80];
  int n;
};

static void note_pruned(const char *name, void *arg) {
  struct pruned *p = arg;
  if (p->n < 8)
    snprintf(p->names[p->n++], sizeof(p->names[0]), "%s", name);
}

static void prune(void) {
  berth_error *err = NULL;
  struct volume anon_free = {0}, anon_used = {0};
  EXPECT(volumes_create(eng, NULL, NULL, NULL, true, &anon_free, &err) == 0);
  EXPECT(volumes_create(eng, NULL, NULL, NULL, true, &anon_used, &err) == 0);
  struct json_object *labels = json_object_new_object();
  json_object_object_add(labels, "keep", json_object_new_string("yes"));
  EXPECT(volumes_create(eng, "named", NULL, NULL, false, NULL, &err) == 0);
  EXPECT(volumes_create(eng, "labelled", labels, NULL, false, NULL, &err) == 0);
  json_object_put(labels);
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "type", json_object_new_string("tmpfs"));
  json_object_object_add(o, "device", json_object_new_string("tmpfs"));
  EXPECT(volumes_create(eng, "mounted", NULL, o, false, NULL, &err) == 0);
  json_object_put(o);
  const char *used[] = {anon_used.name};
  EXPECT(volumes_attach(eng, "c1", used, 1, &err) == 0);
  /* 3 + 1000 bytes, a hard link counted once, a symlink by its length */
  char path[600];
  snprintf(path, sizeof(path), "%s/f", anon_free.mountpoint);
  write_file(path, "abc");
  char big[1001];
  memset(big, 'x', 1000);
  big[1000] = '\0';
  snprintf(path, sizeof(path), "%s/sub", anon_free.mountpoint);
  mkdir(path, 0755);
  snprintf(path, sizeof(path), "%s/sub/big", anon_free.mountpoint);
  write_file(path, big);
  char lnk[600];
  snprintf(lnk, sizeof(lnk), "%s/hard", anon_free.mountpoint);
  EXPECT(link(path, lnk) == 0);
  snprintf(lnk, sizeof(lnk), "%s/sym", anon_free.mountpoint);
  EXPECT(symlink("sub/big", lnk) == 0);
  struct pruned p = {0};
  uint64_t freed = 0;
  EXPECT(volumes_prune(eng, false, NULL, note_pruned, &p, &freed, &err) == 0);
  EXPECT(p.n == 1 && strcmp(p.names[0], anon_free.name) == 0);
  EXPECT(freed == 3 + 1000 + 7);
  EXPECT(!exists(anon_free.mountpoint));
  EXPECT(volumes_get(eng, anon_used.name, NULL, &err) == 0);
  /* label filters, with --all */
  char *not_keep[] = {"!keep", NULL};
  memset(&p, 0, sizeof(p));
  EXPECT(volumes_prune(eng, true, not_keep, note_pruned, &p, &freed, &err) == 0);
  EXPECT(p.n == 1 && strcmp(p.names[0], "named") == 0 && freed == 0);
  char *keep_no[] = {"keep=no", NULL};
  memset(&p, 0, sizeof(p));
  EXPECT(volumes_prune(eng, true, keep_no, note_pruned, &p, &freed, &err) == 0 && p.n == 0);
  char *keep_yes[] = {"keep=yes", NULL};
  EXPECT(volumes_prune(eng, true, keep_yes, note_pruned, &p, &freed, &err) == 0);
  EXPECT(p.n == 1 && strcmp(p.names[0], "labelled") == 0);
  /* left: the one in use and the one with mount options */
  EXPECT(count_rows("volumes") == 2);
  EXPECT(volumes_detach(eng, "c1", true, &err) == 0);
  EXPECT(volumes_remove(eng, "mounted", false, &err) == 0);
  EXPECT(count_rows("volumes") == 0);
  volume_clear(&anon_free);
  volume_clear(&anon_used);
  if (err != NULL)
    printf("# %s\n", err->msg);
  berth_error_freep(&err);
}

/* A rootfs with what an image may hold at a volume's target. */
static void make_rootfs(const char *rfs) {
  char p[512];
  mkdir(rfs, 0755);
  snprintf(p, sizeof(p), "%s/data", rfs);
  mkdir(p, 0750);
  chown(p, 1000, 1000);
  snprintf(p, sizeof(p), "%s/data/a.txt", rfs);
  write_file(p, "hello\n");
  chown(p, 1001, 1002);
  chmod(p, 0640);
  setxattr(p, "user.berth", "yes", 3, 0);
  struct timespec t[2] = {{1000000000, 0}, {1234567890, 123456789}};
  char q[512];
  snprintf(q, sizeof(q), "%s/data/a.hard", rfs);
  link(p, q);
  utimensat(AT_FDCWD, p, t, 0);
  snprintf(p, sizeof(p), "%s/data/sub", rfs);
  mkdir(p, 0700);
  snprintf(p, sizeof(p), "%s/data/sub/tool", rfs);
  write_file(p, "#!/bin/sh\n");
  chmod(p, 04755);
  snprintf(p, sizeof(p), "%s/data/sub/fifo", rfs);
  mkfifo(p, 0600);
  snprintf(p, sizeof(p), "%s/data/sub/null", rfs);
  mknod(p, S_IFCHR | 0666, makedev(1, 3));
  snprintf(p, sizeof(p), "%s/data/out", rfs);
  symlink("/etc", p); /* kept as a link, never followed */
  lchown(p, 1003, 1003);
  snprintf(p, sizeof(p), "%s/data/up", rfs);
  symlink("../../../../etc/passwd", p);
  snprintf(p, sizeof(p), "%s/data/sub", rfs);
  utimensat(AT_FDCWD, p, t, 0);
  /* targets that are symlinks leading out of the rootfs */
  snprintf(p, sizeof(p), "%s/escape", rfs);
  symlink("/../../../../../../etc", p);
  snprintf(p, sizeof(p), "%s/alias", rfs);
  symlink("data", p);
}

static void populate(void) {
  berth_error *err = NULL;
  char rfs[256];
  snprintf(rfs, sizeof(rfs), "%s/rootfs", root);
  make_rootfs(rfs);
  struct volume v = {0};
  EXPECT(volumes_create(eng, "pop", NULL, NULL, false, &v, &err) == 0);
  EXPECT(volumes_populate(eng, "pop", rfs, "/data", false, &err) == 0);
  if (err != NULL)
    printf("# %s\n", err->msg);
  berth_error_freep(&err);
  char p[1300], q[600];
  struct stat st, st2;
  /* the volume's root takes the directory's owner and mode */
  EXPECT(stat(v.mountpoint, &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000 && (st.st_mode & 07777) == 0750);
  snprintf(p, sizeof(p), "%s/a.txt", v.mountpoint);
  char *text = read_text(p);
  EXPECT_STR(text, "hello\n");
  free(text);
  EXPECT(stat(p, &st) == 0 && st.st_uid == 1001 && st.st_gid == 1002 && (st.st_mode & 07777) == 0640);
  EXPECT(st.st_mtim.tv_sec == 1234567890 && st.st_mtim.tv_nsec == 123456789);
  char xv[8] = "";
  EXPECT(getxattr(p, "user.berth", xv, sizeof(xv)) == 3 && memcmp(xv, "yes", 3) == 0);
  snprintf(q, sizeof(q), "%s/a.hard", v.mountpoint);
  EXPECT(stat(q, &st2) == 0 && st2.st_ino == st.st_ino && st.st_nlink == 2);
  snprintf(p, sizeof(p), "%s/sub", v.mountpoint);
  EXPECT(stat(p, &st) == 0 && (st.st_mode & 07777) == 0700 && st.st_mtim.tv_sec == 1234567890);
  snprintf(p, sizeof(p), "%s/sub/tool", v.mountpoint);
  EXPECT(stat(p, &st) == 0 && (st.st_mode & 07777) == 04755);
  snprintf(p, sizeof(p), "%s/sub/fifo", v.mountpoint);
  EXPECT(lstat(p, &st) == 0 && S_ISFIFO(st.st_mode));
  snprintf(p, sizeof(p), "%s/sub/null", v.mountpoint);
  EXPECT(lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
  char target[64] = "";
  snprintf(p, sizeof(p), "%s/out", v.mountpoint);
  EXPECT(readlink(p, target, sizeof(target) - 1) == 4 && strncmp(target, "/etc", 4) == 0);
  EXPECT(lstat(p, &st) == 0 && S_ISLNK(st.st_mode) && st.st_uid == 1003);
  snprintf(p, sizeof(p), "%s/up", v.mountpoint);
  EXPECT(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));
  snprintf(q, sizeof(q), "%s/pop/.populate", path_of("volumes", ""));
  EXPECT(!exists(q));
  /* a volume with content is left alone */
  snprintf(p, sizeof(p), "%s/a.txt", v.mountpoint);
  write_file(p, "changed");
  EXPECT(volumes_populate(eng, "pop", rfs, "/data", false, &err) == 0);
  text = read_text(p);
  EXPECT_STR(text, "changed");
  free(text);
  volume_clear(&v);
  /* a copy a crash interrupted is thrown away and made again */
  struct volume v2 = {0};
  EXPECT(volumes_create(eng, "pop2", NULL, NULL, false, &v2, &err) == 0);
  snprintf(q, sizeof(q), "%s/pop2/.populate", path_of("volumes", ""));
  mkdir(q, 0700);
  snprintf(p, sizeof(p), "%s/junk", q);
  write_file(p, "half");
  EXPECT(volumes_populate(eng, "pop2", rfs, "/data", false, &err) == 0);
  EXPECT(!exists(q));
  snprintf(p, sizeof(p), "%s/junk", v2.mountpoint);
  EXPECT(!exists(p));
  snprintf(p, sizeof(p), "%s/sub/tool", v2.mountpoint);
  EXPECT(exists(p));
  EXPECT(volumes_remove(eng, "pop2", false, &err) == 0);
  volume_clear(&v2);
  /* a target that leads out of the rootfs resolves inside it: /etc of the
   * rootfs does not exist, so nothing is copied */
  EXPECT(volumes_create(eng, "esc", NULL, NULL, false, &v, &err) == 0);
  EXPECT(volumes_populate(eng, "esc", rfs, "/escape", false, &err) == 0);
  EXPECT(volumes_populate(eng, "esc", rfs, "/escape/passwd", false, &err) == 0);
  EXPECT(volumes_populate(eng, "esc", rfs, "/../../etc", false, &err) == 0);
  snprintf(p, sizeof(p), "%s/passwd", v.mountpoint);
  EXPECT(!exists(p));
  /* missing, a file, no_copy: nothing */
  EXPECT(volumes_populate(eng, "esc", rfs, "/nowhere/at/all", false, &err) == 0);
  EXPECT(volumes_populate(eng, "esc", rfs, "/data/a.txt", false, &err) == 0);
  EXPECT(volumes_populate(eng, "esc", rfs, "/data", true, &err) == 0);
  snprintf(p, sizeof(p), "%s/a.txt", v.mountpoint);
  EXPECT(!exists(p));
  /* a symlink inside the rootfs is followed there */
  EXPECT(volumes_populate(eng, "esc", rfs, "/alias", false, &err) == 0);
  EXPECT(exists(p));
  volume_clear(&v);
  EXPECT(volumes_populate(eng, "nosuch", rfs, "/data", false, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "get nosuch: no such volume");
  berth_error_freep(&err);
  EXPECT(volumes_remove(eng, "pop", false, &err) == 0 && volumes_remove(eng, "esc", false, &err) == 0);
  if (err != NULL)
    printf("# %s\n", err->msg);
  berth_error_freep(&err);
}

/* What a crash or a rolled-back transaction leaves is invisible and goes. */
static void leftovers(void) {
  berth_error *err = NULL;
  char p[600];
  /* a directory without a row */
  mkdir(path_of("volumes/%s", "ghost"), 0701);
  mkdir(path_of("volumes/%s/_data", "ghost"), 0755);
  snprintf(p, sizeof(p), "%s/old", path_of("volumes/%s/_data", "ghost"));
  write_file(p, "stale");
  struct volume *list = NULL;
  size_t n = 0;
  EXPECT(volumes_list(eng, &list, &n, &err) == 0 && n == 0);
  volumes_free(list, n);
  /* created again: fresh and empty */
  EXPECT(volumes_create(eng, "ghost", NULL, NULL, false, NULL, &err) == 0);
  EXPECT(!exists(p));
  EXPECT(volumes_remove(eng, "ghost", false, &err) == 0);
  mkdir(path_of("volumes/%s", "ghost2"), 0701);
  EXPECT(volumes_sweep(eng, &err) == 0);
  EXPECT(!exists(path_of("volumes/%s", "ghost2")));
  /* attach inside a transaction that rolls back */
  EXPECT(db_begin(eng->db, &err) == 0);
  const char *tx[] = {"txvol"};
  EXPECT(volumes_attach(eng, "c9", tx, 1, &err) == 0);
  db_rollback(eng->db);
  EXPECT(volumes_get(eng, "txvol", NULL, NULL) < 0);
  EXPECT(volumes_sweep(eng, &err) == 0);
  EXPECT(!exists(path_of("volumes/%s", "txvol")));
  /* attach and create inside one that commits */
  EXPECT(db_begin(eng->db, &err) == 0);
  struct volume a = {0};
  EXPECT(volumes_create(eng, NULL, NULL, NULL, true, &a, &err) == 0);
  const char *both[] = {"txvol", a.name};
  EXPECT(volumes_attach(eng, "c9", both, 2, &err) == 0);
  EXPECT(db_commit(eng->db, &err) == 0);
  EXPECT(count_rows("volume_users") == 2);
  /* detach -v inside a transaction: rows now, directories at the sweep */
  EXPECT(db_begin(eng->db, &err) == 0);
  EXPECT(volumes_detach(eng, "c9", true, &err) == 0);
  EXPECT(db_commit(eng->db, &err) == 0);
  EXPECT(volumes_get(eng, a.name, NULL, NULL) < 0);
  EXPECT(exists(a.mountpoint));
  EXPECT(volumes_sweep(eng, &err) == 0);
  EXPECT(!exists(a.mountpoint));
  EXPECT(volumes_get(eng, "txvol", NULL, &err) == 0 && exists(path_of("volumes/%s/_data", "txvol")));
  EXPECT(volumes_remove(eng, "txvol", false, &err) == 0);
  volume_clear(&a);
  if (err != NULL)
    printf("# %s\n", err->msg);
  berth_error_freep(&err);
}

static int child_work(int i) {
  struct engine *e = open_engine();
  if (e == NULL)
    return 1;
  berth_error *err = NULL;
  char mine[32], cid[32];
  snprintf(mine, sizeof(mine), "own%d", i);
  snprintf(cid, sizeof(cid), "ctr%d", i);
  int rc = 0;
  for (int round = 0; round < 10 && rc == 0; round++) {
    const char *names_[] = {"shared", mine};
    if (volumes_create(e, "shared", NULL, NULL, false, NULL, &err) < 0 || volumes_attach(e, cid, names_, 2, &err) < 0 ||
        volumes_detach(e, cid, true, &err) < 0 || volumes_prune(e, false, NULL, NULL, NULL, NULL, &err) < 0)
      rc = 1;
    /* removing "shared" races with the others' attaches: in use is fine */
    berth_error *busy = NULL;
    if (volumes_remove(e, "shared", true, &busy) < 0 && strstr(busy->msg, "volume is in use") == NULL) {
      fprintf(stderr, "# %s\n", busy->msg);
      rc = 1;
    }
    berth_error_free(busy);
    if (volumes_remove(e, mine, false, &err) < 0)
      rc = 1;
  }
  if (rc != 0)
    fprintf(stderr, "# child %d: %s\n", i, err != NULL ? err->msg : "?");
  berth_error_free(err);
  engine_close(e);
  return rc;
}

static void concurrency(void) {
  enum { PROCS = 8 };
  for (int i = 0; i < PROCS; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      fflush(stdout);
      _exit(child_work(i));
    }
  }
  int status, failures = 0;
  while (wait(&status) > 0)
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      failures++;
  EXPECT(failures == 0);
  /* each row has its directory and each directory its row */
  struct volume *list = NULL;
  size_t n = 0;
  berth_error *err = NULL;
  EXPECT(volumes_list(eng, &list, &n, &err) == 0);
  EXPECT(n <= 1);
  for (size_t i = 0; i < n; i++)
    EXPECT(exists(list[i].mountpoint) && strcmp(list[i].name, "shared") == 0);
  volumes_free(list, n);
  EXPECT(count_rows("volume_users") == 0);
  EXPECT(volumes_sweep(eng, &err) == 0);
  int dirs = 0;
  DIR *d = opendir(path_of("volumes", ""));
  struct dirent *de;
  while (d != NULL && (de = readdir(d)) != NULL)
    dirs += de->d_name[0] != '.';
  if (d != NULL)
    closedir(d);
  EXPECT(dirs == (int)n);
  /* many creators of one new name: one row */
  for (int i = 0; i < PROCS; i++)
    if (fork() == 0) {
      struct engine *e = open_engine();
      berth_error *e2 = NULL;
      int rc = e == NULL || volumes_create(e, "race", NULL, NULL, false, NULL, &e2) < 0;
      berth_error_free(e2);
      engine_close(e);
      _exit(rc);
    }
  failures = 0;
  while (wait(&status) > 0)
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      failures++;
  EXPECT(failures == 0);
  EXPECT(volumes_remove(eng, "race", false, &err) == 0);
  volumes_remove(eng, "shared", true, NULL);
  EXPECT(count_rows("volumes") == 0);
  if (err != NULL)
    printf("# %s\n", err->msg);
  berth_error_freep(&err);
}

static bool is_fs(const char *path, long magic) {
  struct statfs sfs;
  return statfs(path, &sfs) == 0 && sfs.f_type == magic;
}

static void mount_options(void) {
  if (!can_mount) {
    printf("# skipped: no private mount namespace\n");
    return;
  }
  berth_error *err = NULL;
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "type", json_object_new_string("tmpfs"));
  json_object_object_add(o, "device", json_object_new_string("tmpfs"));
  json_object_object_add(o, "o", json_object_new_string("size=1m,mode=0711,nosuid"));
  EXPECT(volumes_create(eng, "tmp", NULL, o, false, NULL, &err) == 0);
  json_object_put(o);
  char *path = NULL;
  EXPECT(volumes_mount_path(eng, "tmp", &path, &err) == 0);
  EXPECT(path != NULL && is_fs(path, 0x01021994 /* TMPFS_MAGIC */));
  struct stat st;
  EXPECT(path != NULL && stat(path, &st) == 0 && (st.st_mode & 07777) == 0711);
  free(path);
  path = NULL;
  EXPECT(volumes_mount_path(eng, "tmp", &path, &err) == 0); /* once, not stacked */
  /* populate straight into the mount */
  char rfs[256];
  snprintf(rfs, sizeof(rfs), "%s/rootfs", root);
  EXPECT(volumes_populate(eng, "tmp", rfs, "/data", false, &err) == 0);
  char p[600];
  snprintf(p, sizeof(p), "%s/a.txt", path ? path : "");
  EXPECT(exists(p));
  EXPECT(volumes_remove(eng, "tmp", false, &err) == 0);
  EXPECT(path != NULL && !exists(path));
  free(path);
  /* a bind of a host directory */
  char host[256];
  snprintf(host, sizeof(host), "%s/hostdir", root);
  mkdir(host, 0755);
  snprintf(p, sizeof(p), "%s/marker", host);
  write_file(p, "x");
  o = json_object_new_object();
  json_object_object_add(o, "type", json_object_new_string("none"));
  json_object_object_add(o, "device", json_object_new_string(host));
  json_object_object_add(o, "o", json_object_new_string("bind,ro"));
  EXPECT(volumes_create(eng, "bound", NULL, o, false, NULL, &err) == 0);
  json_object_put(o);
  path = NULL;
  EXPECT(volumes_mount_path(eng, "bound", &path, &err) == 0);
  snprintf(p, sizeof(p), "%s/marker", path ? path : "");
  EXPECT(exists(p));
  snprintf(p, sizeof(p), "%s/new", path ? path : "");
  EXPECT(open(p, O_WRONLY | O_CREAT, 0644) < 0 && errno == EROFS);
  EXPECT(volumes_remove(eng, "bound", false, &err) == 0);
  snprintf(p, sizeof(p), "%s/marker", host);
  EXPECT(exists(p)); /* the host's files are not the volume's to remove */
  free(path);
  /* a mount that fails says why */
  o = json_object_new_object();
  json_object_object_add(o, "type", json_object_new_string("nosuchfs"));
  json_object_object_add(o, "device", json_object_new_string("x"));
  EXPECT(volumes_create(eng, "badfs", NULL, o, false, NULL, &err) == 0);
  json_object_put(o);
  path = NULL;
  EXPECT(volumes_mount_path(eng, "badfs", &path, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "failed to mount local volume: mount x:");
  berth_error_freep(&err);
  EXPECT(volumes_remove(eng, "badfs", false, &err) == 0);
  if (err != NULL)
    printf("# %s\n", err->msg);
  berth_error_freep(&err);
}

int main(void) {
  if (geteuid() != 0) {
    printf("1..0 # SKIP needs root\n");
    return 0;
  }
  snprintf(root, sizeof(root), "/tmp/berth-volumes-XXXXXX");
  if (mkdtemp(root) == NULL) {
    printf("Bail out! mkdtemp\n");
    return 1;
  }
  /* our own mount namespace, so volume mounts never reach the host's */
  can_mount = unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
  eng = open_engine();
  if (eng == NULL) {
    printf("Bail out! engine\n");
    return 1;
  }
  RUN(names);
  RUN(create_get_list);
  RUN(options);
  RUN(users);
  RUN(anonymous_detach);
  RUN(prune);
  RUN(populate);
  RUN(leftovers);
  RUN(concurrency);
  RUN(mount_options);
  engine_close(eng);
  fs_remove_tree_at(AT_FDCWD, root, NULL);
  return tap_done();
}
