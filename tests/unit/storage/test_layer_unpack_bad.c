/* layer_unpack on hostile and broken layers: every one must fail with a
 * message that names the entry (or the stream) and the cause, and nothing
 * may appear outside the destination: the sibling directory next to it
 * stays empty and a file in a third directory keeps its single link. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "layer_fixture.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define TXT(s) .data = s, .size = sizeof(s) - 1

static char outside[PATH_MAX / 2];      /* <top>/outside: holds secret */
static char outside_secret[PATH_MAX]; /* must keep st_nlink == 1 */
static char sibling_abs[PATH_MAX];    /* absolute path of the sibling */

static void expect_nothing_outside(void) {
  EXPECT(count_entries(in_sibling("")) == 0);
  EXPECT(count_entries(outside) == 1);
  struct stat st;
  EXPECT(stat(outside_secret, &st) == 0 && st.st_nlink == 1 && st.st_size == 6);
}

/* Unpacks blob, expects failure with a message holding each of want[]. */
static void expect_failure_blob(const struct blob *blob, bool pipe, const char *const *want) {
  fresh_dest();
  struct layer_unpack_result res;
  cleanup_error berth_error *err = NULL;
  int r = unpack(blob, pipe, &res, &err);
  EXPECT(r == -1);
  EXPECT(err != NULL && err->msg != NULL);
  if (r == -1 && err != NULL) {
    printf("#   error: %s\n", err->msg);
    EXPECT(strchr(err->msg, '\n') == NULL);
    for (const char *const *w = want; *w != NULL; w++)
      EXPECT_CONTAINS(err->msg, *w);
  }
  expect_nothing_outside();
}

#define WANT(...) ((const char *const[]){__VA_ARGS__, NULL})

static void expect_failure(const struct ent *ents, size_t n, const char *const *want) {
  struct blob tar = tar_of(ents, n, false);
  expect_failure_blob(&tar, false, want);
  /* The same through gzip: errors from the entries, not the stream. */
  struct blob gz = gzip_of(&tar);
  expect_failure_blob(&gz, false, want);
  blob_free(&gz);
  blob_free(&tar);
}

#define FAILS(ents, ...) expect_failure(ents, ARRAY_SIZE(ents), WANT(__VA_ARGS__))

static void test_absolute_name(void) {
  const struct ent ents[] = {{"ok", TXT("fine")}, {"/etc/evil", TXT("evil")}};
  FAILS(ents, "layer entry \"/etc/evil\"", "absolute name");
  /* A name that would start a new line in a log comes out escaped. */
  const struct ent nl[] = {{"/evil\nlayer entry \"x\": fine\x1b[2J", TXT("evil")}};
  FAILS(nl, "layer entry \"/evil\\x0alayer entry \"x\": fine\\x1b[2J\": refused: absolute name");
}

static void test_dotdot_names(void) {
  const struct ent up[] = {{"../sibling/evil", TXT("evil")}};
  FAILS(up, "layer entry \"../sibling/evil\"", "\"..\" component");
  const struct ent deep[] = {{"a/", S_IFDIR}, {"a/../../sibling/evil", TXT("evil")}};
  FAILS(deep, "\"a/../../sibling/evil\"", "\"..\" component");
  /* Even a ".." that would stay inside is refused: no layer writer makes one. */
  const struct ent inside[] = {{"a/b/../c", TXT("c")}};
  FAILS(inside, "\"a/b/../c\"", "\"..\" component");
  const struct ent dir[] = {{"x/../", S_IFDIR}};
  FAILS(dir, "\"x/../\"", "\"..\" component");
}

static void test_symlink_parent_escapes(void) {
  const struct ent rel[] = {{"esc", S_IFLNK, 0777, .symlink = "../sibling"}, {"esc/evil", TXT("evil")}};
  FAILS(rel, "layer entry \"esc/evil\"", "parent \"esc\" resolves outside the layer");
  const struct ent abs[] = {{"abs", S_IFLNK, 0777, .symlink = sibling_abs}, {"abs/evil", TXT("evil")}};
  FAILS(abs, "\"abs/evil\"", "resolves outside the layer");
  /* Through a directory, a chain of links, and for a directory entry. */
  const struct ent nested[] = {
      {"d/", S_IFDIR},
      {"d/up", S_IFLNK, 0777, .symlink = "../.."},
      {"d/up/sibling/evil", TXT("evil")},
  };
  FAILS(nested, "\"d/up/sibling/evil\"", "parent \"d/up/sibling\" resolves outside the layer");
  const struct ent chain[] = {
      {"l1", S_IFLNK, 0777, .symlink = "l2"},
      {"l2", S_IFLNK, 0777, .symlink = "../sibling"},
      {"l1/new/", S_IFDIR},
  };
  FAILS(chain, "\"l1/new/\"", "resolves outside the layer");
  /* Whiteouts and opaque markers are made in a parent too. */
  const struct ent wh[] = {{"esc", S_IFLNK, 0777, .symlink = "../sibling"}, {"esc/.wh.x"}};
  FAILS(wh, "\"esc/.wh.x\"", "resolves outside the layer");
  const struct ent opq[] = {{"esc", S_IFLNK, 0777, .symlink = "../sibling"}, {"esc/.wh..wh..opq"}};
  FAILS(opq, "\"esc/.wh..wh..opq\"", "resolves outside the layer");
}

static void test_hardlink_escapes(void) {
  const struct ent abs[] = {{"hl", .hardlink = "/etc/passwd"}};
  FAILS(abs, "layer entry \"hl\"", "hard link target \"/etc/passwd\"", "absolute name");
  const struct ent up[] = {{"hl", .hardlink = "../outside/secret"}};
  FAILS(up, "\"hl\"", "\"../outside/secret\"", "\"..\" component");
  const struct ent missing[] = {{"a", TXT("a")}, {"hl", .hardlink = "nothere"}};
  FAILS(missing, "\"hl\"", "hard link target \"nothere\" is missing");
  const struct ent missing_dir[] = {{"hl", .hardlink = "no/such/dir/file"}};
  FAILS(missing_dir, "\"hl\"", "hard link target \"no/such/dir/file\" is missing");
  const struct ent through[] = {{"esc", S_IFLNK, 0777, .symlink = "../outside"}, {"hl", .hardlink = "esc/secret"}};
  FAILS(through, "\"hl\"", "hard link target \"esc/secret\" resolves outside the layer");
  const struct ent dir[] = {{"d/", S_IFDIR}, {"hl", .hardlink = "d"}};
  FAILS(dir, "\"hl\"", "hard link target \"d\" is a directory");
  const struct ent root[] = {{"hl", .hardlink = "./"}};
  FAILS(root, "\"hl\"", "is the layer root");
}

static void test_bad_entries(void) {
  const struct ent wh[] = {{".wh."}};
  FAILS(wh, "\".wh.\"", "whiteout of no name");
  const struct ent wh_dot[] = {{"d/.wh.."}};
  FAILS(wh_dot, "\"d/.wh..\"", "whiteout of no name");
  const struct ent root_fifo[] = {{".", S_IFIFO}};
  FAILS(root_fifo, "\".\"", "the layer root must be a directory");
  const struct ent root_link[] = {{"./", S_IFLNK, 0777, .symlink = "/"}};
  FAILS(root_link, "\"./\"", "the layer root must be a directory");
}

/* A tar with two entries, large enough that compression is not trivial. */
static struct blob sample_tar(void) {
  static unsigned char data[200000];
  uint32_t x = 7;
  for (size_t i = 0; i < sizeof(data); i++) {
    x = x * 1103515245 + 12345;
    data[i] = (unsigned char)((x >> 24) % 16 + 'a');
  }
  const struct ent ents[] = {{"first", TXT("first file")}, {"second", .data = data, .size = sizeof(data)}};
  return tar_of(ents, ARRAY_SIZE(ents), true);
}

static void test_truncated_gzip(void) {
  struct blob tar = sample_tar(), gz = gzip_of(&tar);
  struct blob half = blob_head(&gz, gz.len / 2);
  expect_failure_blob(&half, false, WANT("gzip", "truncated"));
  expect_failure_blob(&half, true, WANT("gzip", "truncated"));
  /* Everything but the trailer: the tar is whole, the gzip is not. */
  struct blob no_trailer = blob_head(&gz, gz.len - 4);
  expect_failure_blob(&no_trailer, false, WANT("gzip", "truncated"));
  blob_free(&half);
  blob_free(&no_trailer);
  blob_free(&gz);
  blob_free(&tar);
}

static void test_corrupt_gzip(void) {
  struct blob tar = sample_tar(), gz = gzip_of(&tar);
  struct blob bad = blob_head(&gz, gz.len);
  for (size_t i = bad.len / 2; i < bad.len / 2 + 16; i++)
    bad.data[i] ^= 0x5a;
  expect_failure_blob(&bad, false, WANT("gzip", "corrupt"));
  /* A CRC that does not match the data. */
  struct blob crc = blob_head(&gz, gz.len);
  crc.data[crc.len - 6] ^= 1;
  expect_failure_blob(&crc, false, WANT("gzip", "corrupt", "incorrect data check"));
  /* Bytes after the last member that are not another member. */
  struct blob junk = blob_cat(&gz, &(struct blob){(unsigned char *)"trailing junk", 13});
  expect_failure_blob(&junk, false, WANT("gzip", "corrupt", "incorrect header check"));
  blob_free(&bad);
  blob_free(&crc);
  blob_free(&junk);
  blob_free(&gz);
  blob_free(&tar);
}

static void test_truncated_zstd(void) {
  struct blob tar = sample_tar(), zst = zstd_of(&tar);
  struct blob half = blob_head(&zst, zst.len / 2);
  expect_failure_blob(&half, false, WANT("zstd", "truncated"));
  expect_failure_blob(&half, true, WANT("zstd", "truncated"));
  struct blob magic_only = blob_head(&zst, 4);
  expect_failure_blob(&magic_only, false, WANT("zstd", "truncated"));
  blob_free(&half);
  blob_free(&magic_only);
  blob_free(&zst);
  blob_free(&tar);
}

static void test_corrupt_zstd(void) {
  struct blob tar = sample_tar(), zst = zstd_of(&tar);
  /* The frame header's descriptor byte: reserved bit set. */
  struct blob bad = blob_head(&zst, zst.len);
  bad.data[4] |= 0x08;
  expect_failure_blob(&bad, false, WANT("zstd", "corrupt"));
  struct blob junk = blob_cat(&zst, &(struct blob){(unsigned char *)"trailing junk", 13});
  expect_failure_blob(&junk, false, WANT("zstd", "corrupt"));
  blob_free(&bad);
  blob_free(&junk);
  blob_free(&zst);
  blob_free(&tar);
}

static void test_truncated_tar(void) {
  struct blob tar = sample_tar();
  /* GNU format, so: header "first" 512, data 512, header "second" at 1024,
   * its data from 1536. */
  struct blob in_data = blob_head(&tar, 1536 + 100000);
  expect_failure_blob(&in_data, false, WANT("layer entry \"second\"", "runcated"));
  struct blob in_header = blob_head(&tar, 1024 + 300);
  expect_failure_blob(&in_header, false, WANT("layer tar: read the header after \"first\"", "runcated"));
  /* Cut where an entry ends: only the missing end blocks tell. */
  struct blob at_boundary = blob_head(&tar, 1024);
  expect_failure_blob(&at_boundary, false, WANT("truncated after \"first\"", "end-of-archive"));
  /* Inside a valid gzip stream. */
  struct blob gz = gzip_of(&in_data);
  expect_failure_blob(&gz, false, WANT("layer entry \"second\"", "runcated"));
  blob_free(&in_data);
  blob_free(&in_header);
  blob_free(&at_boundary);
  blob_free(&gz);
  blob_free(&tar);
}

static void test_not_a_tar(void) {
  struct blob empty = {(unsigned char *)"", 0};
  expect_failure_blob(&empty, false, WANT("layer", "empty"));
  struct blob empty_gz = gzip_of(&empty);
  expect_failure_blob(&empty_gz, false, WANT("layer tar", "Unrecognized archive format"));
  blob_free(&empty_gz);
  struct blob text = {(unsigned char *)"this is not a tar archive at all, just some text\n", 49};
  expect_failure_blob(&text, false, WANT("layer tar"));
  struct blob xz = {(unsigned char *)"\xfd" "7zXZ\0\0\0\0\0\0\0\0", 12};
  expect_failure_blob(&xz, false, WANT("xz compression is not supported"));
  struct blob bz = {(unsigned char *)"BZh91AY&SY\0\0", 12};
  expect_failure_blob(&bz, false, WANT("bzip2 compression is not supported"));
}

/* A failing entry early in a large layer on a pipe whose writer never
 * closes it: layer_unpack must stop its reader and return, not hang. */
static void test_stops_reading_on_error(void) {
  fresh_dest();
  static unsigned char filler[4 << 20];
  const struct ent ents[] = {{"/evil", TXT("x")}, {"filler", .data = filler, .size = sizeof(filler)}};
  struct blob tar = tar_of(ents, ARRAY_SIZE(ents), false);
  int p[2];
  EXPECT(pipe2(p, O_CLOEXEC) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    fs_write_all(p[1], tar.data, tar.len);
    for (;;)
      pause(); /* keep the pipe open */
  }
  close(p[1]);
  cleanup_close int dest = open(in_dest(""), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct layer_unpack_result res;
  cleanup_error berth_error *err = NULL;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  EXPECT(layer_unpack(p[0], dest, &res, &err) == -1);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  EXPECT(t1.tv_sec - t0.tv_sec < 5);
  EXPECT(err != NULL && strstr(err->msg, "absolute name") != NULL);
  close(p[0]);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);

  /* And a pipe that stays open and silent after a valid prefix: the error
   * is the entry's, the reader blocked in read is woken. */
  fresh_dest();
  EXPECT(pipe2(p, O_CLOEXEC) == 0);
  pid = fork();
  if (pid == 0) {
    close(p[0]);
    fs_write_all(p[1], tar.data, 2048);
    for (;;)
      pause();
  }
  close(p[1]);
  berth_error_freep(&err);
  EXPECT(layer_unpack(p[0], dest, &res, &err) == -1);
  EXPECT(err != NULL && strstr(err->msg, "absolute name") != NULL);
  close(p[0]);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  blob_free(&tar);
  expect_nothing_outside();
}

/* Without openat2 the walk of util/path.h confines a symlink to the layer
 * instead of refusing it: the unpack may succeed, but nothing gets out. */
static void test_fallback_confines(void) {
  layer_unpack_force_fallback(true);
  const struct ent ents[] = {
      {"esc", S_IFLNK, 0777, .symlink = "../sibling"},
      {"esc/evil", TXT("evil")},
      {"abs", S_IFLNK, 0777, .symlink = sibling_abs},
      {"abs/evil2", TXT("evil")},
      {"up", S_IFLNK, 0777, .symlink = "../outside"},
      {"up/secret", TXT("evil")},
  };
  struct blob tar = tar_of(ents, ARRAY_SIZE(ents), false);
  fresh_dest();
  struct layer_unpack_result res;
  cleanup_error berth_error *err = NULL;
  int r = unpack(&tar, false, &res, &err);
  printf("#   fallback: %s\n", r == 0 ? "unpacked" : err->msg);
  expect_nothing_outside();
  layer_unpack_force_fallback(false);
  blob_free(&tar);
}

int main(void) {
  if (geteuid() != 0) {
    printf("1..0 # SKIP layer_unpack needs root (owners, devices, trusted xattrs)\n");
    return 0;
  }
  fixture_setup();
  snprintf(outside, sizeof(outside), "%s/outside", top_dir());
  snprintf(outside_secret, sizeof(outside_secret), "%s/secret", outside);
  snprintf(sibling_abs, sizeof(sibling_abs), "%s", in_sibling(""));
  cleanup_error berth_error *err = NULL;
  if (mkdir(outside, 0755) < 0 || fs_write_file_at(AT_FDCWD, outside_secret, "secret", 6, 0644, &err) < 0) {
    printf("Bail out! cannot make %s\n", outside);
    return 1;
  }
  RUN(test_absolute_name);
  RUN(test_dotdot_names);
  RUN(test_symlink_parent_escapes);
  RUN(test_hardlink_escapes);
  RUN(test_bad_entries);
  RUN(test_truncated_gzip);
  RUN(test_corrupt_gzip);
  RUN(test_truncated_zstd);
  RUN(test_corrupt_zstd);
  RUN(test_truncated_tar);
  RUN(test_not_a_tar);
  RUN(test_stops_reading_on_error);
  RUN(test_fallback_confines);
  fixture_teardown();
  return tap_done();
}
