/* layer_unpack on well-formed layers, checked from the outside: what stat,
 * readlink and getxattr show after the unpack, and both digests against
 * sha256sum(1) of the fixture bytes.  The same layer goes through every
 * input form: plain, gzip (one and several members), zstd (one and several
 * frames), from a file and from a pipe, in pax and GNU tar format, and
 * with the fallback resolver. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "layer_fixture.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define T0 ((time_t)1600000000)
#define T1 ((time_t)1610000000)
#define T2 ((time_t)1620000000)
#define T3 ((time_t)1630000000)
#define T4 ((time_t)1640000000)

/* More than one of the reader's chunks, so a file spans several. */
static unsigned char big[(3 << 20) + 12345];
/* vfs_cap_data revision 2, effective, permitted CAP_NET_RAW (13). */
static const unsigned char cap_net_raw[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20};

static void fill_big(void) {
  uint32_t x = 12345;
  for (size_t i = 0; i < sizeof(big); i++) {
    x = x * 1103515245 + 12345;
    big[i] = (unsigned char)(x >> 24);
  }
}

#define TXT(s) .data = s, .size = sizeof(s) - 1

/* Every kind of entry the unpacker handles, with metadata to check. */
static const struct ent everything[] = {
    {"./", S_IFDIR, 0751, .mtime = T0},
    {"etc/", S_IFDIR},
    {"etc/hostname", TXT("berth\n")},
    {"etc/shadow", .perm = 0640, .gid = 42, TXT("root:*:1::::::\n")},
    {"home/", S_IFDIR},
    {"home/user/", S_IFDIR, 0700, 1000, 1000, .mtime = T1},
    {"home/user/file", .uid = 1000, .gid = 1000, .mtime = T2, .mtime_nsec = 123456789, TXT("hello")},
    {"tmp/", S_IFDIR, 01777},
    {"usr/bin/su", .perm = 04755, TXT("ELF su")},
    {"usr/bin/own", .perm = 06755, .uid = 1000, .gid = 100, TXT("ELF own")},
    {"usr/bin/ping", .perm = 0755, .uid = 1000, TXT("ELF ping"), .xattr = "security.capability",
     .xattr_value = cap_net_raw, .xattr_size = sizeof(cap_net_raw)},
    {"usr/lib/big", .data = big, .size = sizeof(big)},
    {"usr/lib/empty"},
    {"usr/lib/libx.so", S_IFLNK, 0777, 5, 6, T3, .symlink = "libx.so.1"},
    {"usr/lib/abs", S_IFLNK, 0777, .symlink = "/etc/hostname"},
    {"usr/lib/dangling", S_IFLNK, 0777, .symlink = "../nowhere/at/all"},
    {"usr/lib/hl", .hardlink = "usr/lib/big"},
    {"usr/lib/hl2", .hardlink = "./etc/hostname"},
    {"usr/lib/hl-abs", .hardlink = "usr/lib/abs"},
    {"usr/share/doc/", S_IFDIR, .xattr = "user.note", .xattr_value = "kept", .xattr_size = 4},
    {"usr/lib/xl", S_IFLNK, 0777, .symlink = "x", .xattr = "trusted.berth", .xattr_value = "link", .xattr_size = 4},
    {"run/xfifo", S_IFIFO, 0644, .xattr = "trusted.berth", .xattr_value = "fifo", .xattr_size = 4},
    {"usr/lib/redirected", TXT("x"), .xattr = "trusted.overlay.redirect", .xattr_value = "/etc", .xattr_size = 4},
    {"dev/null", S_IFCHR, 0666, .rdev_major = 1, .rdev_minor = 3},
    {"dev/loop0", S_IFBLK, 0660, .gid = 6, .rdev_major = 7, .rdev_minor = 0},
    {"run/fifo", S_IFIFO, 0600},
    {"deep/a/b/c/d/e/f", TXT("no parents in the tar")},
    {"opq/", S_IFDIR, .mtime = T4},
    {"opq/.wh..wh..opq"},
    {"opq/keep", TXT("new")},
    {".wh.gone"},
    {"etc/.wh.motd"},
    {".wh..wh.plnk/", S_IFDIR},
    {".wh..wh.plnk/1234.5678", TXT("aufs")},
    {".wh..wh.aufs"},
    {"usr/lib/lo/ng/" "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789/name", TXT("long")},
};

static uint64_t content_bytes(const struct ent *ents, size_t n) {
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++)
    if (ents[i].hardlink == NULL && strstr(ents[i].name, ".wh.") == NULL)
      sum += ents[i].size;
  return sum;
}

static struct stat lst(const char *rel) {
  struct stat st;
  if (lstat(in_dest(rel), &st) < 0) {
    printf("#   lstat %s: %s\n", rel, strerror(errno));
    memset(&st, 0, sizeof(st));
    tap_current_failed = 1;
  }
  return st;
}

static bool missing(const char *rel) {
  struct stat st;
  return lstat(in_dest(rel), &st) < 0 && errno == ENOENT;
}

static void expect_content(const char *rel, const void *data, size_t len) {
  FILE *f = fopen(in_dest(rel), "rb");
  EXPECT(f != NULL);
  if (f == NULL)
    return;
  unsigned char *buf = malloc(len + 1);
  size_t got = fread(buf, 1, len + 1, f);
  fclose(f);
  EXPECT(got == len);
  EXPECT(got == len && memcmp(buf, data, len) == 0);
  free(buf);
}

static void expect_link(const char *rel, const char *target) {
  char buf[256];
  ssize_t n = readlink(in_dest(rel), buf, sizeof(buf) - 1);
  buf[n < 0 ? 0 : n] = '\0';
  EXPECT_STR(buf, target);
}

static void expect_xattr(const char *rel, const char *name, const void *value, size_t len) {
  char buf[64];
  ssize_t n = lgetxattr(in_dest(rel), name, buf, sizeof(buf));
  if (n < 0)
    printf("#   getxattr %s %s: %s\n", rel, name, strerror(errno));
  EXPECT(n == (ssize_t)len);
  EXPECT(n == (ssize_t)len && memcmp(buf, value, len) == 0);
}

static void expect_whiteout(const char *rel) {
  struct stat st = lst(rel);
  EXPECT(S_ISCHR(st.st_mode));
  EXPECT(st.st_rdev == makedev(0, 0));
}

/* What the kernel shows after unpacking `everything`; GNU tar's format has
 * no place for xattrs and nanoseconds. */
static void check_everything(bool gnu) {
  struct stat st = lst("");
  EXPECT((st.st_mode & 07777) == 0751);
  EXPECT(st.st_mtime == T0);

  st = lst("etc/hostname");
  EXPECT(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644 && st.st_uid == 0);
  EXPECT(st.st_mtime == FIXTURE_MTIME);
  expect_content("etc/hostname", "berth\n", 6);
  st = lst("etc/shadow");
  EXPECT((st.st_mode & 07777) == 0640 && st.st_gid == 42);

  /* Directory times survive the entries made in them afterwards. */
  st = lst("home/user");
  EXPECT(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700);
  EXPECT(st.st_uid == 1000 && st.st_gid == 1000);
  EXPECT(st.st_mtime == T1);
  st = lst("home/user/file");
  EXPECT(st.st_uid == 1000 && st.st_gid == 1000);
  EXPECT(st.st_mtim.tv_sec == T2 && st.st_mtim.tv_nsec == (gnu ? 0 : 123456789));
  st = lst("tmp");
  EXPECT((st.st_mode & 07777) == 01777);

  /* Modes set after owners: chown clears setuid and setgid. */
  st = lst("usr/bin/su");
  EXPECT((st.st_mode & 07777) == 04755);
  st = lst("usr/bin/own");
  EXPECT((st.st_mode & 07777) == 06755 && st.st_uid == 1000 && st.st_gid == 100);
  /* ... and security.capability, which is set after both. */
  st = lst("usr/bin/ping");
  EXPECT(st.st_uid == 1000);
  if (!gnu) {
    expect_xattr("usr/bin/ping", "security.capability", cap_net_raw, sizeof(cap_net_raw));
    expect_xattr("usr/share/doc", "user.note", "kept", 4);
    /* Set on the node itself, not on what a symlink names. */
    expect_xattr("usr/lib/xl", "trusted.berth", "link", 4);
    expect_xattr("run/xfifo", "trusted.berth", "fifo", 4);
    /* overlayfs's own attributes do not come from a tar. */
    char buf[8];
    EXPECT(lgetxattr(in_dest("usr/lib/redirected"), "trusted.overlay.redirect", buf, sizeof(buf)) < 0 &&
           errno == ENODATA);
  }

  st = lst("usr/lib/big");
  EXPECT(st.st_size == (off_t)sizeof(big) && st.st_nlink == 2);
  expect_content("usr/lib/big", big, sizeof(big));
  struct stat hl = lst("usr/lib/hl");
  EXPECT(hl.st_ino == st.st_ino);
  EXPECT(lst("usr/lib/hl2").st_ino == lst("etc/hostname").st_ino);
  EXPECT(lst("etc/hostname").st_nlink == 2);
  st = lst("usr/lib/hl-abs"); /* a hard link to a symlink is the symlink */
  EXPECT(S_ISLNK(st.st_mode) && st.st_nlink == 2);
  EXPECT(lst("usr/lib/empty").st_size == 0);

  st = lst("usr/lib/libx.so");
  EXPECT(S_ISLNK(st.st_mode) && st.st_uid == 5 && st.st_gid == 6 && st.st_mtime == T3);
  expect_link("usr/lib/libx.so", "libx.so.1");
  expect_link("usr/lib/abs", "/etc/hostname");
  expect_link("usr/lib/dangling", "../nowhere/at/all");

  st = lst("dev/null");
  EXPECT(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3) && (st.st_mode & 07777) == 0666);
  st = lst("dev/loop0");
  EXPECT(S_ISBLK(st.st_mode) && st.st_rdev == makedev(7, 0) && st.st_gid == 6);
  st = lst("run/fifo");
  EXPECT(S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0600);

  st = lst("deep/a/b/c/d/e");
  EXPECT(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755);
  expect_content("deep/a/b/c/d/e/f", "no parents in the tar", 21);

  expect_xattr("opq", "trusted.overlay.opaque", "y", 1);
  EXPECT(missing("opq/.wh..wh..opq"));
  expect_content("opq/keep", "new", 3);
  EXPECT(lst("opq").st_mtime == T4);
  expect_whiteout("gone");
  expect_whiteout("etc/motd");
  EXPECT(missing(".wh.gone") && missing("etc/.wh.motd"));
  EXPECT(missing(".wh..wh.plnk") && missing(".wh..wh.aufs"));
  /* Nothing in the root that the layer does not name. */
  EXPECT(count_entries(in_dest("")) == 9);
  EXPECT(count_entries(in_sibling("")) == 0);
}

enum form { PLAIN, GZIP, GZIP_MEMBERS, ZSTD, ZSTD_FRAMES };

/* Unpacks `everything` in the given form and checks tree and digests. */
static void run_everything(enum form form, bool gnu, bool pipe) {
  fresh_dest();
  struct blob tar = tar_of(everything, ARRAY_SIZE(everything), gnu);
  struct blob blob = {0};
  /* Several members or frames: the tar split at an odd offset. */
  struct blob head = blob_head(&tar, 70001);
  struct blob tail = {tar.data + 70001, tar.len - 70001};
  struct blob a = {0}, b = {0};
  switch (form) {
  case PLAIN:
    blob = blob_cat(&tar, &(struct blob){0});
    break;
  case GZIP:
    blob = gzip_of(&tar);
    break;
  case ZSTD:
    blob = zstd_of(&tar);
    break;
  case GZIP_MEMBERS:
    a = gzip_of(&head), b = gzip_of(&tail);
    blob = blob_cat(&a, &b);
    break;
  case ZSTD_FRAMES:
    a = zstd_of(&head), b = zstd_of(&tail);
    blob = blob_cat(&a, &b);
    break;
  }
  char want_digest[DIGEST_TEXT_MAX], want_diff_id[DIGEST_TEXT_MAX];
  sha256sum_of(&blob, want_digest);
  sha256sum_of(&tar, want_diff_id);

  struct layer_unpack_result res;
  cleanup_error berth_error *err = NULL;
  int r = unpack(&blob, pipe, &res, &err);
  if (r < 0)
    printf("#   layer_unpack: %s\n", err->msg);
  EXPECT(r == 0);
  if (r == 0) {
    EXPECT_STR(res.digest, want_digest);
    EXPECT_STR(res.diff_id, want_diff_id);
    EXPECT(res.size == blob.len);
    EXPECT(res.unpacked_size == content_bytes(everything, ARRAY_SIZE(everything)));
    check_everything(gnu);
  }
  blob_free(&a);
  blob_free(&b);
  blob_free(&head);
  blob_free(&blob);
  blob_free(&tar);
}

static void test_plain(void) { run_everything(PLAIN, false, false); }
static void test_plain_gnu_format(void) { run_everything(PLAIN, true, false); }
static void test_gzip(void) { run_everything(GZIP, false, false); }
static void test_gzip_members(void) { run_everything(GZIP_MEMBERS, false, false); }
static void test_gzip_pipe(void) { run_everything(GZIP, false, true); }
static void test_zstd(void) { run_everything(ZSTD, false, false); }
static void test_zstd_frames(void) { run_everything(ZSTD_FRAMES, false, false); }
static void test_zstd_pipe(void) { run_everything(ZSTD, false, true); }
static void test_plain_pipe(void) { run_everything(PLAIN, false, true); }

static void test_fallback_resolver(void) {
  layer_unpack_force_fallback(true);
  run_everything(GZIP, false, false);
  layer_unpack_force_fallback(false);
}

/* Later entries take over names of earlier ones; a directory over a
 * directory only changes its metadata; nothing is followed out. */
static void test_replace(void) {
  fresh_dest();
  const struct ent ents[] = {
      {"r/", S_IFDIR},
      {"r/f", TXT("one")},
      {"r/f", S_IFLNK, 0777, .symlink = "elsewhere"},
      {"r/l", S_IFLNK, 0777, .symlink = "../../sibling/victim"},
      {"r/l", TXT("two")},
      {"r/d/", S_IFDIR},
      {"r/d/x", TXT("x")},
      {"r/d", TXT("three")},
      {"r/e/", S_IFDIR, 0700},
      {"r/e/y", TXT("y")},
      {"r/e/", S_IFDIR, 0750, 7, 8, .mtime = T2},
      {"r/n", S_IFIFO},
      {"r/n", TXT("four")},
      {"r/w/", S_IFDIR},
      {"r/w/z", TXT("z")},
      {"r/.wh.w"},
      {"r/dl", S_IFLNK, 0777, .symlink = "../../sibling"},
      {"r/dl/", S_IFDIR},
      {"r/dl/x", TXT("inside")},
      {"r/dev", S_IFLNK, 0777, .symlink = "../../sibling/dev"},
      {"r/dev", S_IFCHR, 0600, .rdev_major = 1, .rdev_minor = 5},
      {"r/h", S_IFLNK, 0777, .symlink = "../../sibling/h"},
      {"r/h", .hardlink = "r/l"},
  };
  struct blob tar = tar_of(ents, ARRAY_SIZE(ents), false);
  struct layer_unpack_result res;
  cleanup_error berth_error *err = NULL;
  int r = unpack(&tar, false, &res, &err);
  if (r < 0)
    printf("#   layer_unpack: %s\n", err->msg);
  EXPECT(r == 0);
  EXPECT(S_ISLNK(lst("r/f").st_mode));
  expect_link("r/f", "elsewhere");
  EXPECT(S_ISREG(lst("r/l").st_mode));
  expect_content("r/l", "two", 3);
  EXPECT(S_ISREG(lst("r/d").st_mode));
  expect_content("r/d", "three", 5);
  struct stat st = lst("r/e");
  EXPECT(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0750 && st.st_uid == 7 && st.st_gid == 8);
  EXPECT(st.st_mtime == T2);
  expect_content("r/e/y", "y", 1);
  expect_content("r/n", "four", 4);
  expect_whiteout("r/w");
  EXPECT(S_ISDIR(lst("r/dl").st_mode));
  expect_content("r/dl/x", "inside", 6);
  st = lst("r/dev");
  EXPECT(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 5));
  EXPECT(lst("r/h").st_ino == lst("r/l").st_ino);
  EXPECT(count_entries(in_sibling("")) == 0);
  blob_free(&tar);
}

/* Names are bytes: UTF-8 (which pax stores as such) and Latin-1 (which
 * the C locale cannot convert) come out as they went in. */
static void test_non_ascii_names(void) {
  for (int gnu = 0; gnu < 2; gnu++) {
    fresh_dest();
    const struct ent ents[] = {
        {"caf\xc3\xa9", TXT("utf-8")},
        {"lat\xe9/", S_IFDIR},
        {"lat\xe9/x", TXT("latin-1")},
        {"sym", S_IFLNK, 0777, .symlink = "caf\xc3\xa9"},
    };
    struct blob tar = tar_of(ents, ARRAY_SIZE(ents), gnu);
    struct layer_unpack_result res;
    cleanup_error berth_error *err = NULL;
    int r = unpack(&tar, false, &res, &err);
    if (r < 0)
      printf("#   layer_unpack: %s\n", err->msg);
    EXPECT(r == 0);
    expect_content("caf\xc3\xa9", "utf-8", 5);
    expect_content("lat\xe9/x", "latin-1", 7);
    expect_link("sym", "caf\xc3\xa9");
    blob_free(&tar);
  }
}

/* GNU tar's sparse entries: holes stay holes and the size is whole. */
static void test_sparse(void) {
  fresh_dest();
  char src[PATH_MAX], tarpath[PATH_MAX], cmd[3 * PATH_MAX];
  snprintf(src, sizeof(src), "%s/sparse-src", top_dir());
  snprintf(tarpath, sizeof(tarpath), "%s/sparse.tar", top_dir());
  mkdir(src, 0755);
  snprintf(cmd, sizeof(cmd),
           "cd %s && truncate -s 8M s && printf one | dd of=s bs=1 seek=1048576 conv=notrunc status=none && "
           "printf two | dd of=s bs=1 seek=5242880 conv=notrunc status=none && tar -S --format=posix -cf %s s",
           src, tarpath);
  EXPECT(system(cmd) == 0);
  struct blob tar = {0};
  cleanup_error berth_error *err = NULL;
  tar.data = (unsigned char *)fs_read_file_at(AT_FDCWD, tarpath, &tar.len, &err);
  EXPECT(tar.data != NULL);
  if (tar.data == NULL)
    return;
  struct layer_unpack_result res;
  int r = unpack(&tar, false, &res, &err);
  if (r < 0)
    printf("#   layer_unpack: %s\n", err->msg);
  EXPECT(r == 0);
  struct stat st = lst("s");
  EXPECT(st.st_size == 8 << 20);
  EXPECT(st.st_blocks * 512 < 1 << 20); /* holes, not 8 MiB of zeros */
  int fd = open(in_dest("s"), O_RDONLY);
  char buf[4] = "";
  EXPECT(pread(fd, buf, 3, 1048576) == 3 && memcmp(buf, "one", 3) == 0);
  EXPECT(pread(fd, buf, 3, 5242880) == 3 && memcmp(buf, "two", 3) == 0);
  EXPECT(pread(fd, buf, 3, 4096) == 3 && memcmp(buf, "\0\0\0", 3) == 0);
  close(fd);
  blob_free(&tar);
  fs_remove_tree_at(AT_FDCWD, src, &err);
  unlink(tarpath);
}

int main(void) {
  if (geteuid() != 0) {
    printf("1..0 # SKIP layer_unpack needs root (owners, devices, trusted xattrs)\n");
    return 0;
  }
  fill_big();
  fixture_setup();
  RUN(test_plain);
  RUN(test_plain_gnu_format);
  RUN(test_plain_pipe);
  RUN(test_gzip);
  RUN(test_gzip_members);
  RUN(test_gzip_pipe);
  RUN(test_zstd);
  RUN(test_zstd_frames);
  RUN(test_zstd_pipe);
  RUN(test_fallback_resolver);
  RUN(test_replace);
  RUN(test_non_ascii_names);
  RUN(test_sparse);
  fixture_teardown();
  return tap_done();
}
