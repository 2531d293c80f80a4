/* Confined path resolution (util/path.c) against a temporary root holding
 * hostile symlinks.  Every case runs twice: with openat2(RESOLVE_IN_ROOT) and
 * with the fallback walk forced, on a fresh tree each time.  Each returned fd
 * is checked by inode and by its /proc/self/fd link to be inside the root, and
 * the host is checked for files that must never appear outside it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "util/error.h"
#include "util/path.h"

static char root[128]; /* the temporary root, no trailing slash */
static int rootfd = -1;
static const char *mode_name;

/* Host paths that an escape would create; removed again if a bug made them. */
static char host_evil_top[128], host_evil_up[128], host_evil_tmp[128];
static char evil_top[64], evil_up[64], evil_tmp[64];

static void fail_setup(const char *what) {
  printf("#   setup: %s: %s\n", what, strerror(errno));
  tap_current_failed = 1;
}

static void rel(char *out, size_t size, const char *path) {
  snprintf(out, size, "%s/%s", root, path);
}

static void mkdir_rel(const char *path) {
  char p[PATH_MAX];
  rel(p, sizeof(p), path);
  if (mkdir(p, 0755) < 0)
    fail_setup(p);
}

static void symlink_rel(const char *target, const char *path) {
  char p[PATH_MAX];
  rel(p, sizeof(p), path);
  if (symlink(target, p) < 0)
    fail_setup(p);
}

static void write_rel(const char *path, const char *content) {
  char p[PATH_MAX];
  rel(p, sizeof(p), path);
  FILE *f = fopen(p, "w");
  if (f == NULL) {
    fail_setup(p);
    return;
  }
  fputs(content, f);
  fclose(f);
}

/* The tree:
 *   a/b/c/file            "hello"
 *   tmp/                  what a/b/esc must land in
 *   etc      -> /         absolute symlink to the root
 *   up       -> ../../../../                      relative escape attempt
 *   a/b/esc  -> ../../../../../../tmp             nested escape attempt
 *   loop1 -> loop2 -> loop1, self -> self         loops
 *   chain1 -> chain2 -> /chain3 -> a/../a/b       a chain ending in a/b
 *   fileln   -> /a/b/c/file
 *   procself -> /proc/self/cwd                    a magic link on the host
 *   dangling -> /made/by/link                     dangling, absolute
 *   dangling_rel -> target_rel                    dangling, relative
 *   etc2/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf
 *   n0 -> n1 -> ... -> n40 -> a   (n0 takes 41 links, n1 takes 40) */
static void make_tree(void) {
  snprintf(root, sizeof(root), "/tmp/berth-ut-path-XXXXXX");
  if (mkdtemp(root) == NULL) {
    fail_setup("mkdtemp");
    return;
  }
  mkdir_rel("a");
  mkdir_rel("a/b");
  mkdir_rel("a/b/c");
  write_rel("a/b/c/file", "hello");
  mkdir_rel("tmp");
  mkdir_rel("etc2");
  symlink_rel("/", "etc");
  symlink_rel("../../../../", "up");
  symlink_rel("../../../../../../tmp", "a/b/esc");
  symlink_rel("loop2", "loop1");
  symlink_rel("loop1", "loop2");
  symlink_rel("self", "self");
  symlink_rel("chain2", "chain1");
  symlink_rel("/chain3", "chain2");
  symlink_rel("a/../a/b", "chain3");
  symlink_rel("/a/b/c/file", "fileln");
  symlink_rel("/proc/self/cwd", "procself");
  symlink_rel("/made/by/link", "dangling");
  symlink_rel("target_rel", "dangling_rel");
  symlink_rel("../run/systemd/resolve/stub-resolv.conf", "etc2/resolv.conf");
  for (int i = 0; i <= 40; i++) {
    char name[16], target[16];
    snprintf(name, sizeof(name), "n%d", i);
    if (i < 40)
      snprintf(target, sizeof(target), "n%d", i + 1);
    else
      snprintf(target, sizeof(target), "a");
    symlink_rel(target, name);
  }
  rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    fail_setup(root);
}

static void remove_tree_at(int parent, const char *name) {
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    DIR *d = fdopendir(fd);
    if (d != NULL) {
      struct dirent *e;
      while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
          remove_tree_at(dirfd(d), e->d_name);
      closedir(d);
    } else {
      close(fd);
    }
    unlinkat(parent, name, AT_REMOVEDIR);
  } else {
    unlinkat(parent, name, 0);
  }
}

static void remove_tree(void) {
  if (rootfd >= 0)
    close(rootfd);
  rootfd = -1;
  if (root[0] != '\0')
    remove_tree_at(AT_FDCWD, root);
  root[0] = '\0';
}

/* True when fd is the object at <root>/relpath (not following a final link). */
static bool fd_is(int fd, const char *relpath) {
  char p[PATH_MAX];
  if (relpath[0] == '\0')
    snprintf(p, sizeof(p), "%s", root);
  else
    rel(p, sizeof(p), relpath);
  struct stat a, b;
  if (fd < 0 || fstat(fd, &a) < 0 || lstat(p, &b) < 0)
    return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* True when the kernel's name for fd is the root or below it. */
static bool fd_inside_root(int fd) {
  char link[64], target[PATH_MAX];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof(target) - 1);
  if (n < 0)
    return false;
  target[n] = '\0';
  size_t rl = strlen(root);
  return strncmp(target, root, rl) == 0 && (target[rl] == '\0' || target[rl] == '/');
}

static bool fd_cloexec(int fd) {
  int f = fcntl(fd, F_GETFD);
  return f >= 0 && (f & FD_CLOEXEC) != 0;
}

static bool host_exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

static bool rel_is(const char *relpath, mode_t type) {
  char p[PATH_MAX];
  rel(p, sizeof(p), relpath);
  struct stat st;
  return lstat(p, &st) == 0 && (st.st_mode & S_IFMT) == type;
}

/* Opens relpath in the root and expects it to be <root>/expect. */
#define EXPECT_OPENS(path, flags, expect)                                                    \
  do {                                                                                       \
    berth_error *_err = NULL;                                                                \
    int _fd = path_open_in_root(rootfd, (path), (flags), &_err);                             \
    if (_fd < 0)                                                                             \
      printf("#   %s: open \"%s\" failed: %s\n", mode_name, (path), _err ? _err->msg : "?"); \
    EXPECT(_fd >= 0);                                                                        \
    EXPECT(_err == NULL);                                                                    \
    if (_fd >= 0) {                                                                          \
      EXPECT(fd_is(_fd, (expect)));                                                          \
      EXPECT(fd_inside_root(_fd));                                                           \
      EXPECT(fd_cloexec(_fd));                                                               \
      close(_fd);                                                                            \
    }                                                                                        \
    berth_error_free(_err);                                                                  \
  } while (0)

/* Opens path and expects failure with errno e and the exact message. */
#define EXPECT_OPEN_FAILS(path, flags, e, want)                  \
  do {                                                           \
    berth_error *_err = NULL;                                    \
    int _fd = path_open_in_root(rootfd, (path), (flags), &_err); \
    EXPECT(_fd == -1);                                           \
    if (_fd >= 0)                                                \
      close(_fd);                                                \
    EXPECT(_err != NULL);                                        \
    if (_err != NULL) {                                          \
      EXPECT(_err->errnum == (e));                               \
      EXPECT_STR(_err->msg, (want));                             \
    }                                                            \
    berth_error_free(_err);                                      \
  } while (0)

/* ---- path_open_in_root --------------------------------------------------- */

static void test_open_plain(void) {
  EXPECT_OPENS("a/b/c/file", O_RDONLY, "a/b/c/file");
  EXPECT_OPENS("/a/b/c/file", O_RDONLY, "a/b/c/file");
  EXPECT_OPENS("a//b/./c/file", O_RDONLY, "a/b/c/file");
  EXPECT_OPENS("a/b", O_PATH | O_DIRECTORY, "a/b");
  EXPECT_OPENS("a/b/", O_PATH, "a/b");
  EXPECT_OPENS("/", O_PATH, "");
  EXPECT_OPENS(".", O_PATH, "");
  /* The fd really reads the file. */
  berth_error *err = NULL;
  int fd = path_open_in_root(rootfd, "a/b/c/file", O_RDONLY, &err);
  char buf[16] = {0};
  EXPECT(fd >= 0 && read(fd, buf, sizeof(buf) - 1) == 5);
  EXPECT_STR(buf, "hello");
  if (fd >= 0)
    close(fd);
  berth_error_free(err);
}

static void test_open_absolute_symlink(void) {
  /* etc -> "/" is the root, never the host's "/". */
  EXPECT_OPENS("etc", O_PATH | O_DIRECTORY, "");
  EXPECT_OPENS("/etc", O_PATH, "");
  EXPECT_OPENS("etc/a/b/c/file", O_RDONLY, "a/b/c/file");
  EXPECT_OPENS("/etc/etc/etc/a", O_PATH, "a");
  EXPECT_OPENS("etc/tmp", O_PATH, "tmp");
  EXPECT_OPENS("fileln", O_RDONLY, "a/b/c/file");
  /* The host's /etc/passwd is not reachable: <root>/passwd does not exist. */
  EXPECT_OPEN_FAILS("etc/etc/passwd", O_RDONLY, ENOENT,
                    "open \"etc/etc/passwd\" in the rootfs: No such file or directory");
  /* A magic link name resolves as a plain path inside the root. */
  EXPECT_OPEN_FAILS("procself", O_PATH, ENOENT, "open \"procself\" in the rootfs: No such file or directory");
}

static void test_open_relative_escape(void) {
  EXPECT_OPENS("up", O_PATH | O_DIRECTORY, "");
  EXPECT_OPENS("up/a/b", O_PATH, "a/b");
  EXPECT_OPENS("up/up/up/a/b/c/file", O_RDONLY, "a/b/c/file");
  /* a/b/esc -> ../../../../../../tmp is <root>/tmp, not the host's /tmp. */
  EXPECT_OPENS("a/b/esc", O_PATH | O_DIRECTORY, "tmp");
  EXPECT_OPENS("a/b/esc/", O_PATH, "tmp");
  struct stat host_tmp, got;
  berth_error *err = NULL;
  int fd = path_open_in_root(rootfd, "a/b/esc", O_PATH, &err);
  EXPECT(fd >= 0 && stat("/tmp", &host_tmp) == 0 && fstat(fd, &got) == 0 &&
         !(got.st_dev == host_tmp.st_dev && got.st_ino == host_tmp.st_ino));
  if (fd >= 0)
    close(fd);
  berth_error_free(err);
  EXPECT_OPEN_FAILS("up/etc/passwd", O_RDONLY, ENOENT,
                    "open \"up/etc/passwd\" in the rootfs: No such file or directory");
}

static void test_open_dotdot(void) {
  EXPECT_OPENS("..", O_PATH, "");
  EXPECT_OPENS("../../../a", O_PATH, "a");
  EXPECT_OPENS("/../../a/b", O_PATH, "a/b");
  EXPECT_OPENS("a/..", O_PATH, "");
  EXPECT_OPENS("a/b/..", O_PATH, "a");
  EXPECT_OPENS("a/b/../../../../a/b/c/file", O_RDONLY, "a/b/c/file");
  EXPECT_OPENS("a/b/c/../../b/c/file", O_RDONLY, "a/b/c/file");
  /* ".." after a symlink steps back from the link's target. */
  EXPECT_OPENS("chain1/..", O_PATH, "a");
  EXPECT_OPENS("a/b/esc/../a", O_PATH, "a");
  EXPECT_OPEN_FAILS("../../etc/passwd", O_RDONLY, ENOENT,
                    "open \"../../etc/passwd\" in the rootfs: No such file or directory");
}

static void test_open_loops(void) {
  EXPECT_OPEN_FAILS("loop1", O_PATH, ELOOP, "open \"loop1\" in the rootfs: Too many levels of symbolic links");
  EXPECT_OPEN_FAILS("loop2/x", O_RDONLY, ELOOP, "open \"loop2/x\" in the rootfs: Too many levels of symbolic links");
  EXPECT_OPEN_FAILS("self", O_RDONLY, ELOOP, "open \"self\" in the rootfs: Too many levels of symbolic links");
  /* 40 links are followed, the 41st is one too many (as the kernel does). */
  EXPECT_OPENS("n1", O_PATH, "a");
  EXPECT_OPENS("n1/b/c/file", O_RDONLY, "a/b/c/file");
  EXPECT_OPEN_FAILS("n0", O_PATH, ELOOP, "open \"n0\" in the rootfs: Too many levels of symbolic links");
}

static void test_open_chain(void) {
  EXPECT_OPENS("chain1", O_PATH | O_DIRECTORY, "a/b");
  EXPECT_OPENS("chain1/c/file", O_RDONLY, "a/b/c/file");
  EXPECT_OPENS("/etc/up/chain2/c", O_PATH, "a/b/c");
}

static void test_open_errors(void) {
  EXPECT_OPEN_FAILS("a/nope", O_RDONLY, ENOENT, "open \"a/nope\" in the rootfs: No such file or directory");
  EXPECT_OPEN_FAILS("nope/a", O_PATH, ENOENT, "open \"nope/a\" in the rootfs: No such file or directory");
  EXPECT_OPEN_FAILS("a/b/c/file/x", O_PATH, ENOTDIR, "open \"a/b/c/file/x\" in the rootfs: Not a directory");
  EXPECT_OPEN_FAILS("fileln/x", O_RDONLY, ENOTDIR, "open \"fileln/x\" in the rootfs: Not a directory");
  EXPECT_OPEN_FAILS("a/b/c/file", O_RDONLY | O_DIRECTORY, ENOTDIR,
                    "open \"a/b/c/file\" in the rootfs: Not a directory");
  EXPECT_OPEN_FAILS("dangling", O_RDONLY, ENOENT, "open \"dangling\" in the rootfs: No such file or directory");
  char longname[300];
  memset(longname, 'x', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  berth_error *err = NULL;
  EXPECT(path_open_in_root(rootfd, longname, O_PATH, &err) == -1);
  EXPECT(err != NULL && err->errnum == ENAMETOOLONG);
  berth_error_free(err);
  /* No err pointer: still fails cleanly. */
  EXPECT(path_open_in_root(rootfd, "a/nope", O_RDONLY, NULL) == -1);
}

static void test_open_nofollow(void) {
  /* O_NOFOLLOW|O_PATH opens the final symlink itself. */
  berth_error *err = NULL;
  int fd = path_open_in_root(rootfd, "etc", O_PATH | O_NOFOLLOW, &err);
  struct stat st;
  EXPECT(fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode));
  EXPECT(fd_is(fd, "etc"));
  if (fd >= 0)
    close(fd);
  berth_error_free(err);
  err = NULL;
  /* ... but symlinks before the last component are still followed. */
  fd = path_open_in_root(rootfd, "chain1/c/file", O_RDONLY | O_NOFOLLOW, &err);
  EXPECT(fd_is(fd, "a/b/c/file"));
  if (fd >= 0)
    close(fd);
  berth_error_free(err);
  EXPECT_OPEN_FAILS("fileln", O_RDONLY | O_NOFOLLOW, ELOOP,
                    "open \"fileln\" in the rootfs: Too many levels of symbolic links");
}

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    return -1;
  int n = 0;
  while (readdir(d) != NULL)
    n++;
  closedir(d);
  return n;
}

static void test_no_fd_leak(void) {
  int before = count_fds();
  static const char *const paths[] = {"a/b/c/file", "loop1",         "n0",      "a/b/c/file/x", "a/nope/x",
                                      "chain1/c",   "../../a/b/esc", "dangling"};
  for (int round = 0; round < 3; round++) {
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
      berth_error *err = NULL;
      int fd = path_open_in_root(rootfd, paths[i], O_PATH, &err);
      if (fd >= 0)
        close(fd);
      berth_error_free(err);
      err = NULL;
      fd = path_create_in_root(rootfd, "loop1/x", false, &err);
      if (fd >= 0)
        close(fd);
      berth_error_free(err);
    }
  }
  EXPECT(before > 0);
  EXPECT(count_fds() == before);
}

/* ---- path_create_in_root / path_mkdir_in_root ---------------------------- */

/* Creates path and expects <root>/expect of the given type. */
#define EXPECT_CREATES(path, directory, expect, type)                                          \
  do {                                                                                         \
    berth_error *_err = NULL;                                                                  \
    int _fd = path_create_in_root(rootfd, (path), (directory), &_err);                         \
    if (_fd < 0)                                                                               \
      printf("#   %s: create \"%s\" failed: %s\n", mode_name, (path), _err ? _err->msg : "?"); \
    EXPECT(_fd >= 0);                                                                          \
    EXPECT(_err == NULL);                                                                      \
    EXPECT(rel_is((expect), (type)));                                                          \
    if (_fd >= 0) {                                                                            \
      EXPECT(fd_is(_fd, (expect)));                                                            \
      EXPECT(fd_inside_root(_fd));                                                             \
      EXPECT(fd_cloexec(_fd));                                                                 \
      EXPECT((fcntl(_fd, F_GETFL) & O_PATH) == O_PATH);                                        \
      close(_fd);                                                                              \
    }                                                                                          \
    berth_error_free(_err);                                                                    \
  } while (0)

#define EXPECT_MKDIRS(path, expect)                                                           \
  do {                                                                                        \
    berth_error *_err = NULL;                                                                 \
    int _fd = path_mkdir_in_root(rootfd, (path), &_err);                                \
    if (_fd < 0)                                                                              \
      printf("#   %s: mkdir \"%s\" failed: %s\n", mode_name, (path), _err ? _err->msg : "?"); \
    EXPECT(_fd >= 0);                                                                         \
    EXPECT(_err == NULL);                                                                     \
    EXPECT(rel_is((expect), S_IFDIR));                                                        \
    if (_fd >= 0) {                                                                           \
      EXPECT(fd_is(_fd, (expect)));                                                           \
      EXPECT(fd_inside_root(_fd));                                                            \
      EXPECT((fcntl(_fd, F_GETFL) & O_PATH) == O_PATH);                                       \
      close(_fd);                                                                             \
    }                                                                                         \
    berth_error_free(_err);                                                                   \
  } while (0)

static void check_host_clean(const char *host_path) {
  if (host_exists(host_path)) {
    printf("#   %s: ESCAPE: %s was created on the host\n", mode_name, host_path);
    tap_current_failed = 1;
    unlink(host_path);
    rmdir(host_path);
  }
}

static void test_create_through_absolute_symlink(void) {
  EXPECT(!host_exists(host_evil_top));
  char p[PATH_MAX];
  /* etc -> "/": "etc/<name>" is <root>/<name>, never /<name>. */
  snprintf(p, sizeof(p), "etc/%s", evil_top);
  EXPECT_CREATES(p, false, evil_top, S_IFREG);
  check_host_clean(host_evil_top);
  /* Created again: the existing file is returned. */
  EXPECT_CREATES(p, false, evil_top, S_IFREG);
  snprintf(p, sizeof(p), "/etc/etc/%s.d/sub", evil_top);
  char expect[PATH_MAX];
  snprintf(expect, sizeof(expect), "%s.d/sub", evil_top);
  EXPECT_CREATES(p, true, expect, S_IFDIR);
  char host_d[PATH_MAX];
  snprintf(host_d, sizeof(host_d), "%s.d", host_evil_top);
  check_host_clean(host_d);
}

static void test_create_through_relative_escape(void) {
  EXPECT(!host_exists(host_evil_up));
  EXPECT(!host_exists(host_evil_tmp));
  char p[PATH_MAX], expect[PATH_MAX];
  snprintf(p, sizeof(p), "up/%s", evil_up);
  EXPECT_CREATES(p, false, evil_up, S_IFREG);
  check_host_clean(host_evil_up);
  /* a/b/esc -> ../../../../../../tmp: lands in <root>/tmp, not /tmp. */
  snprintf(p, sizeof(p), "a/b/esc/%s", evil_tmp);
  snprintf(expect, sizeof(expect), "tmp/%s", evil_tmp);
  EXPECT_CREATES(p, false, expect, S_IFREG);
  check_host_clean(host_evil_tmp);
}

static void test_create_dotdot(void) {
  EXPECT_CREATES("../../../x/y/z", false, "x/y/z", S_IFREG);
  EXPECT(rel_is("x/y", S_IFDIR));
  EXPECT_CREATES("a/../../../../xd/e", true, "xd/e", S_IFDIR);
  EXPECT_MKDIRS("up/../../m1/m2/m3", "m1/m2/m3");
  EXPECT_MKDIRS("/etc/mk/", "mk");
}

static void test_create_through_chain(void) {
  EXPECT_CREATES("chain1/newfile", false, "a/b/newfile", S_IFREG);
  EXPECT_CREATES("chain1/newdir/deeper", true, "a/b/newdir/deeper", S_IFDIR);
  EXPECT_MKDIRS("chain2/c/m", "a/b/c/m");
}

static void test_create_existing(void) {
  /* An existing entry of the other kind is kept. */
  EXPECT_CREATES("a/b/c/file", true, "a/b/c/file", S_IFREG);
  EXPECT_CREATES("a/b", false, "a/b", S_IFDIR);
  EXPECT_CREATES("fileln", false, "a/b/c/file", S_IFREG);
  EXPECT_MKDIRS("a/b", "a/b");
  EXPECT_MKDIRS("chain1", "a/b");
  /* mkdir on a file is an error. */
  berth_error *err = NULL;
  int fd = path_mkdir_in_root(rootfd, "a/b/c/file", &err);
  EXPECT(fd == -1);
  EXPECT(err != NULL);
  if (err != NULL) {
    EXPECT(err->errnum == ENOTDIR);
    EXPECT_STR(err->msg, "mkdir \"a/b/c/file\" in the rootfs: Not a directory");
  }
  if (fd >= 0)
    close(fd);
  berth_error_free(err);
  char buf[16] = {0};
  char p[PATH_MAX];
  rel(p, sizeof(p), "a/b/c/file");
  FILE *f = fopen(p, "r");
  EXPECT(f != NULL && fread(buf, 1, sizeof(buf) - 1, f) == 5);
  if (f != NULL)
    fclose(f);
  EXPECT_STR(buf, "hello"); /* not truncated */
}

#define EXPECT_CREATE_FAILS(call, e, want) \
  do {                                     \
    berth_error *_err = NULL;              \
    int _fd = (call);                      \
    EXPECT(_fd == -1);                     \
    if (_fd >= 0)                          \
      close(_fd);                          \
    EXPECT(_err != NULL);                  \
    if (_err != NULL) {                    \
      EXPECT(_err->errnum == (e));         \
      EXPECT_STR(_err->msg, (want));       \
    }                                      \
    berth_error_free(_err);                \
  } while (0)

static void test_create_errors(void) {
  EXPECT_CREATE_FAILS(path_create_in_root(rootfd, "loop1/x", false, &_err), ELOOP,
                      "create \"loop1/x\" in the rootfs: Too many levels of symbolic links");
  EXPECT_CREATE_FAILS(path_create_in_root(rootfd, "loop1", true, &_err), ELOOP,
                      "create \"loop1\" in the rootfs: Too many levels of symbolic links");
  EXPECT_CREATE_FAILS(path_mkdir_in_root(rootfd, "self/x/y", &_err), ELOOP,
                      "mkdir \"self/x/y\" in the rootfs: Too many levels of symbolic links");
  EXPECT_CREATE_FAILS(path_create_in_root(rootfd, "a/b/c/file/x", false, &_err), ENOTDIR,
                      "create \"a/b/c/file/x\" in the rootfs: Not a directory");
  EXPECT_CREATE_FAILS(path_mkdir_in_root(rootfd, "fileln/d", &_err), ENOTDIR,
                      "mkdir \"fileln/d\" in the rootfs: Not a directory");
  EXPECT(!rel_is("loop1/x", S_IFREG));
}

/* A dangling symlink's target is created inside the root (runc does so
 * through securejoin, e.g. for an image's /etc/resolv.conf pointing to
 * ../run/systemd/resolve/stub-resolv.conf) and never on the host. */
static void test_create_dangling(void) {
  EXPECT(!host_exists("/made"));
  EXPECT_CREATES("dangling", false, "made/by/link", S_IFREG);
  EXPECT(!host_exists("/made"));
  EXPECT_CREATES("dangling_rel", true, "target_rel", S_IFDIR);
  EXPECT_CREATES("etc2/resolv.conf", false, "run/systemd/resolve/stub-resolv.conf", S_IFREG);
  EXPECT(rel_is("dangling", S_IFLNK));
  check_host_clean("/made/by/link");
  check_host_clean("/made/by");
  check_host_clean("/made");
}

/* Whatever happens to a dangling symlink, nothing appears outside the root. */
static void test_create_dangling_stays_inside(void) {
  berth_error *err = NULL;
  int fd = path_create_in_root(rootfd, "dangling", false, &err);
  if (fd >= 0) {
    EXPECT(fd_inside_root(fd));
    close(fd);
  }
  berth_error_free(err);
  err = NULL;
  fd = path_mkdir_in_root(rootfd, "dangling/sub", &err);
  if (fd >= 0) {
    EXPECT(fd_inside_root(fd));
    close(fd);
  }
  berth_error_free(err);
  EXPECT(!host_exists("/made"));
  EXPECT(rel_is("dangling", S_IFLNK)); /* the link itself is left alone */
}

static void run_all(bool fallback) {
  mode_name = fallback ? "fallback" : "openat2";
  printf("# mode: %s\n", mode_name);
  path_force_fallback(fallback);
  tap_current_failed = 0;
  make_tree();
  if (tap_current_failed || rootfd < 0) {
    RUN(make_tree); /* reports the setup failure */
    remove_tree();
    return;
  }
  RUN(test_open_plain);
  RUN(test_open_absolute_symlink);
  RUN(test_open_relative_escape);
  RUN(test_open_dotdot);
  RUN(test_open_loops);
  RUN(test_open_chain);
  RUN(test_open_errors);
  RUN(test_open_nofollow);
  RUN(test_no_fd_leak);
  RUN(test_create_through_absolute_symlink);
  RUN(test_create_through_relative_escape);
  RUN(test_create_dotdot);
  RUN(test_create_through_chain);
  RUN(test_create_existing);
  RUN(test_create_errors);
  RUN(test_create_dangling_stays_inside);
  RUN(test_create_dangling);
  remove_tree();
}

int main(void) {
  pid_t pid = getpid();
  snprintf(evil_top, sizeof(evil_top), "berth-ut-escape-top-%d", (int)pid);
  snprintf(evil_up, sizeof(evil_up), "berth-ut-escape-up-%d", (int)pid);
  snprintf(evil_tmp, sizeof(evil_tmp), "berth-ut-escape-tmp-%d", (int)pid);
  snprintf(host_evil_top, sizeof(host_evil_top), "/%s", evil_top);
  snprintf(host_evil_up, sizeof(host_evil_up), "/%s", evil_up);
  snprintf(host_evil_tmp, sizeof(host_evil_tmp), "/tmp/%s", evil_tmp);
  run_all(false);
  run_all(true);
  path_force_fallback(false);
  return tap_done();
}
