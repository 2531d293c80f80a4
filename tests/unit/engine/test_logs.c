/* Unit tests of src/engine/logs.c: json-file logs written into a temp dir,
 * printed into memfds and compared exactly. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/logs.h"
#include "tap.h"

static char tmpdir[64];

static char *path_in(const char *name) {
  static __thread char buf[8][256]; /* per thread: the follow tests' writers use it too */
  static __thread int i;
  char *p = buf[i++ % 8];
  snprintf(p, sizeof(buf[0]), "%s/%s", tmpdir, name);
  return p;
}

static void put(const char *name, const char *content) {
  int fd = open(path_in(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content)) {
    printf("# cannot write %s: %s\n", name, strerror(errno));
    exit(2);
  }
  close(fd);
}

static void append_fd(int fd, const char *s) {
  size_t n = strlen(s);
  if (write(fd, s, n) != (ssize_t)n) {
    printf("# append: %s\n", strerror(errno));
    exit(2);
  }
}

static void clean(void) {
  static const char *const names[] = {"log", "log.1", "log.2", "log.3", "big", "f", "f.1", "f.2", "g", "h"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    unlink(path_in(names[i]));
}

static char *read_all(int fd) {
  off_t size = lseek(fd, 0, SEEK_END);
  char *buf = malloc((size_t)size + 1);
  if (buf == NULL || pread(fd, buf, (size_t)size, 0) != size)
    exit(2);
  buf[size] = '\0';
  return buf;
}

struct result {
  int rc;
  char *out, *err;
  char *msg;
};

static void result_free(struct result *r) {
  free(r->out);
  free(r->err);
  free(r->msg);
}

static struct logs_options defaults(void) {
  return (struct logs_options){.tail = -1, .max_file = 1};
}

/* Runs logs_print on name with stdout and stderr captured apart (or into
 * one fd when same is set, whose text is in out). */
static struct result run_opts(const char *name, const struct logs_options *o, bool same) {
  struct result r = {0};
  int out = memfd_create("out", MFD_CLOEXEC), err = same ? out : memfd_create("err", MFD_CLOEXEC);
  berth_error *e = NULL;
  r.rc = logs_print(path_in(name), o, out, err, &e);
  if (e != NULL) {
    r.msg = strdup(e->msg);
    berth_error_free(e);
  }
  r.out = read_all(out);
  r.err = same ? strdup("") : read_all(err);
  close(out);
  if (!same)
    close(err);
  return r;
}

#define L(stream, time, text) "{\"log\":\"" text "\",\"stream\":\"" stream "\",\"time\":\"" time "\"}\n"
#define T(s) "2026-11-23T15:49:" s "Z"

static void test_missing_file_is_empty(void) {
  clean();
  struct logs_options o = defaults();
  o.max_file = 5;
  struct result r = run_opts("log", &o, false);
  EXPECT(r.rc == 0);
  EXPECT_STR(r.out, "");
  EXPECT_STR(r.err, "");
  result_free(&r);
  o.tail = 3;
  r = run_opts("log", &o, false);
  EXPECT(r.rc == 0);
  EXPECT_STR(r.out, "");
  result_free(&r);

  /* Something that is not a file is an error naming it. */
  mkdir(path_in("log"), 0755);
  r = run_opts("log", &o, false);
  EXPECT(r.rc < 0);
  EXPECT_CONTAINS(r.msg, "/log\": not a regular file");
  EXPECT_CONTAINS(r.msg, "open log \"");
  result_free(&r);
  rmdir(path_in("log"));
}

static void test_order_and_streams(void) {
  clean();
  put("log.3", L("stdout", T("00.0"), "too old\\n")); /* beyond max_file */
  put("log.2", L("stdout", T("01.0"), "one\\n") L("stderr", T("02.0"), "two\\n"));
  put("log.1", L("stdout", T("03.0"), "three\\n"));
  put("log", L("stderr", T("04.0"), "four\\n") L("stdout", T("05.0"), "five\\n"));
  struct logs_options o = defaults();
  o.max_file = 3;
  struct result r = run_opts("log", &o, false);
  EXPECT(r.rc == 0);
  EXPECT_STR(r.out, "one\nthree\nfive\n");
  EXPECT_STR(r.err, "two\nfour\n");
  result_free(&r);

  /* One fd for both: the order of the entries is kept. */
  r = run_opts("log", &o, true);
  EXPECT_STR(r.out, "one\ntwo\nthree\nfour\nfive\n");
  result_free(&r);

  /* Two fds on one file: the same. */
  int out = memfd_create("out", MFD_CLOEXEC), err = dup(out);
  EXPECT(logs_print(path_in("log"), &o, out, err, NULL) == 0);
  char *got = read_all(out);
  EXPECT_STR(got, "one\ntwo\nthree\nfour\nfive\n");
  free(got);
  close(out);
  close(err);

  /* -1: that stream is not wanted. */
  out = memfd_create("out", MFD_CLOEXEC);
  EXPECT(logs_print(path_in("log"), &o, -1, out, NULL) == 0);
  got = read_all(out);
  EXPECT_STR(got, "two\nfour\n");
  free(got);
  close(out);

  /* max_file 1: PATH only. */
  o.max_file = 1;
  r = run_opts("log", &o, true);
  EXPECT_STR(r.out, "four\nfive\n");
  result_free(&r);

  /* A gap in the rotated files is no error. */
  unlink(path_in("log.1"));
  o.max_file = 3;
  r = run_opts("log", &o, true);
  EXPECT_STR(r.out, "one\ntwo\nfour\nfive\n");
  result_free(&r);
}

static void test_escapes(void) {
  clean();
  put("log",
      L("stdout", T("01.0"), "tab\\there \\\"q\\\" back\\\\slash \\/ \\b\\f\\r\\n")
      L("stdout", T("02.0"), "\\u00e9\\u20ac\\ud83d\\ude00 \\u003cb\\u003e\\n")
      L("stdout", T("03.0"), "lone \\ud800x \\udc00y \\ud800\\u0041\\n")
      /* keys in another order, spaces, an attrs object and unknown values */
      "{ \"time\" : \"" T("04.0") "\" , \"attrs\":{\"a\":[1,2.5e3,{\"b\":null}],\"c\":\"x\\\"}\"},"
      " \"stream\":\"stdout\", \"n\":-1, \"t\":true, \"log\" : \"reordered\\n\" }\n"
      /* escaped key and stream value */
      "{\"l\\u006fg\":\"escaped key\\n\",\"stream\":\"std\\u006fut\",\"time\":\"" T("05.0") "\"}\n"
      L("stdout", T("06.0"), "no newline escape") L("stdout", T("07.0"), " joined\\n"));
  struct logs_options o = defaults();
  struct result r = run_opts("log", &o, false);
  EXPECT(r.rc == 0);
  EXPECT_STR(r.out, "tab\there \"q\" back\\slash / \b\f\r\n"
                    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 <b>\n"
                    "lone \xef\xbf\xbdx \xef\xbf\xbdy \xef\xbf\xbd" "A\n"
                    "reordered\n"
                    "escaped key\n"
                    "no newline escape joined\n");
  result_free(&r);
}

static void test_malformed_and_partial(void) {
  clean();
  put("log", "not json\n"
             "\n"
             L("stdout", T("01.0"), "ok1\\n")
             "{\"log\":\"no stream\\n\",\"time\":\"" T("02.0") "\"}\n"
             "{\"log\":\"no time\\n\",\"stream\":\"stdout\"}\n"
             "{\"stream\":\"stdout\",\"time\":\"" T("02.0") "\"}\n"
             L("stdin", T("02.0"), "other stream\\n")
             L("stdout", "2026-11-23 15:49:02Z", "bad time\\n")
             L("stdout", "2026-02-30T15:49:02Z", "bad date\\n")
             L("stdout", T("02.0"), "bad escape \\x\\n")
             L("stdout", T("02.0"), "bad unicode \\u12G4\\n")
             "{\"log\":\"trailing\\n\",\"stream\":\"stdout\",\"time\":\"" T("02.0") "\"} x\n"
             "{\"log\":\"unterminated\\n,\"stream\":\"stdout\",\"time\":\"" T("02.0") "\"\n"
             "{\"log\":\"cut" "\n"
             "[1,2]\n"
             L("stderr", T("03.0"), "ok2\\n")
             "{\"log\":\"being written\\n\",\"stream\":\"stdout\",\"ti");
  struct logs_options o = defaults();
  struct result r = run_opts("log", &o, true);
  EXPECT(r.rc == 0);
  EXPECT_STR(r.out, "ok1\nok2\n");
  result_free(&r);
  /* The incomplete last line is not counted by --tail either. */
  o.tail = 1;
  r = run_opts("log", &o, true);
  EXPECT_STR(r.out, "ok2\n");
  result_free(&r);
  /* And malformed lines are not entries for --tail. */
  o.tail = 2;
  r = run_opts("log", &o, true);
  EXPECT_STR(r.out, "ok1\nok2\n");
  result_free(&r);
}

static void test_timestamps(void) {
  clean();
  put("log", L("stdout", "2026-11-23T15:49:09.123456789Z", "a\\n")
             L("stdout", "2026-11-23T15:49:09.1Z", "b\\n")
             L("stderr", "2026-11-23T15:49:09Z", "c\\n")
             L("stdout", "2026-11-23T16:49:09.000000001+01:00", "d\\n")
             L("stdout", "2026-11-23T15:49:09.5+00:00", "e\\n")
             L("stdout", "2026-01-01T01:00:00.000001234-02:30", "f\\n")
             L("stdout", "2026-11-23T15:49:09.1234567891Z", "partial ")
             L("stdout", "2026-11-23T15:49:10.2Z", "line\\n"));
  struct logs_options o = defaults();
  o.timestamps = true;
  struct result r = run_opts("log", &o, true);
  EXPECT(r.rc == 0);
  EXPECT_STR(r.out, "2026-11-23T15:49:09.123456789Z a\n"
                    "2026-11-23T15:49:09.100000000Z b\n"
                    "2026-11-23T15:49:09.000000000Z c\n"
                    "2026-11-23T16:49:09.000000001+01:00 d\n"
                    "2026-11-23T15:49:09.500000000Z e\n"
                    "2026-01-01T01:00:00.000001234-02:30 f\n"
                    "2026-11-23T15:49:09.123456789Z partial 2026-11-23T15:49:10.200000000Z line\n");
  result_free(&r);
}

#define NS(sec, frac) ((int64_t)(sec) * 1000000000LL + (frac))
#define E 1795448949LL /* 2026-11-23T15:49:09Z */

static void test_since_until(void) {
  clean();
  put("log.1", L("stdout", T("05.0"), "5\\n") L("stdout", T("07.0"), "7\\n"));
  put("log", L("stdout", T("08.0"), "8\\n") L("stdout", T("09.0"), "9\\n") L("stdout", T("09.5"), "9.5\\n")
                 L("stdout", T("11.0"), "11\\n"));
  struct logs_options o = defaults();
  o.max_file = 2;
  o.since_ns = NS(E - 2, 0); /* 15:49:07, inclusive */
  struct result r = run_opts("log", &o, true);
  EXPECT_STR(r.out, "7\n8\n9\n9.5\n11\n");
  result_free(&r);

  o.until_ns = NS(E, 500000000); /* 15:49:09.5, inclusive */
  r = run_opts("log", &o, true);
  EXPECT_STR(r.out, "7\n8\n9\n9.5\n");
  result_free(&r);

  o.since_ns = NS(E, 1);
  o.until_ns = NS(E, 499999999);
  r = run_opts("log", &o, true);
  EXPECT_STR(r.out, "");
  result_free(&r);

  /* since after everything */
  o.since_ns = NS(E + 100, 0);
  o.until_ns = 0;
  r = run_opts("log", &o, true);
  EXPECT_STR(r.out, "");
  result_free(&r);

  /* As docker: since is checked until the first entry at or after it;
   * until ends everything at the first entry after it. */
  put("log", L("stdout", T("01.0"), "1\\n") L("stdout", T("05.0"), "5\\n") L("stdout", T("02.0"), "2\\n")
                 L("stdout", T("20.0"), "20\\n") L("stdout", T("06.0"), "6\\n"));
  o = defaults();
  o.since_ns = NS(E - 5, 0); /* 15:49:04 */
  o.until_ns = NS(E - 3, 0); /* 15:49:06 */
  r = run_opts("log", &o, true);
  EXPECT_STR(r.out, "5\n2\n");
  result_free(&r);
}

static void test_tail(void) {
  clean();
  put("log.2", L("stdout", T("01.0"), "1\\n") L("stderr", T("02.0"), "2\\n"));
  put("log.1", L("stdout", T("03.0"), "3\\n") "garbage\n" L("stdout", T("04.0"), "4\\n"));
  put("log", L("stdout", T("05.0"), "5\\n") "{bad}\n" L("stderr", T("06.0"), "6\\n") "\n");
  struct logs_options o = defaults();
  o.max_file = 3;
  static const struct {
    long tail;
    const char *out;
  } cases[] = {
      {0, ""},
      {1, "6\n"},
      {2, "5\n6\n"},
      {3, "4\n5\n6\n"},
      {4, "3\n4\n5\n6\n"},
      {5, "2\n3\n4\n5\n6\n"},
      {6, "1\n2\n3\n4\n5\n6\n"},
      {1000, "1\n2\n3\n4\n5\n6\n"},
      {-1, "1\n2\n3\n4\n5\n6\n"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    o.tail = cases[i].tail;
    struct result r = run_opts("log", &o, true);
    EXPECT(r.rc == 0);
    if (strcmp(r.out, cases[i].out) != 0)
      printf("#   tail %ld: got \"%s\"\n", cases[i].tail, r.out);
    EXPECT_STR(r.out, cases[i].out);
    result_free(&r);
  }
  /* Apart: the stderr entries among the last four. */
  o.tail = 4;
  struct result r = run_opts("log", &o, false);
  EXPECT_STR(r.out, "3\n4\n5\n");
  EXPECT_STR(r.err, "6\n");
  result_free(&r);

  /* tail then since, as docker: the last 4, of which those from 15:49:04. */
  o.tail = 4;
  o.since_ns = NS(E - 5, 0);
  r = run_opts("log", &o, true);
  EXPECT_STR(r.out, "4\n5\n6\n");
  result_free(&r);

  /* Only the current file. */
  o = defaults();
  o.tail = 5;
  r = run_opts("log", &o, true);
  EXPECT_STR(r.out, "5\n6\n");
  result_free(&r);
}

/* Lines longer than the backward and forward read blocks. */
static void test_long_lines(void) {
  clean();
  size_t n = 300 * 1024;
  char *big = malloc(n + 1);
  for (size_t i = 0; i < n; i++)
    big[i] = (char)('a' + i % 26);
  big[n] = '\0';
  char *content = NULL;
  if (asprintf(&content, L("stdout", T("01.0"), "small\\n") "{\"log\":\"%s\\n\",\"stream\":\"stderr\",\"time\":\"" T(
                             "02.0") "\"}\n" L("stdout", T("03.0"), "end\\n"),
               big) < 0)
    exit(2);
  put("log", content);
  struct logs_options o = defaults();
  struct result r = run_opts("log", &o, false);
  EXPECT_STR(r.out, "small\nend\n");
  EXPECT(strlen(r.err) == n + 1 && memcmp(r.err, big, n) == 0);
  result_free(&r);
  o.tail = 2;
  r = run_opts("log", &o, false);
  EXPECT_STR(r.out, "end\n");
  EXPECT(strlen(r.err) == n + 1 && memcmp(r.err, big, n) == 0);
  result_free(&r);
  free(content);
  free(big);
}

static long long read_chars(void) {
  FILE *f = fopen("/proc/thread-self/io", "re");
  if (f == NULL)
    return -1;
  char line[128];
  long long v = -1;
  while (fgets(line, sizeof(line), f) != NULL)
    if (sscanf(line, "rchar: %lld", &v) == 1)
      break;
  fclose(f);
  return v;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_big_file_tail(void) {
  clean();
  enum { LINES = 200000 };
  FILE *f = fopen(path_in("big"), "we");
  for (int i = 0; i < LINES; i++)
    fprintf(f, "{\"log\":\"line %d of the big log\\n\",\"stream\":\"%s\",\"time\":\"2026-11-23T15:49:09.%09dZ\"}\n",
            i, i % 3 == 0 ? "stderr" : "stdout", i);
  fclose(f);
  struct stat st;
  stat(path_in("big"), &st);

  struct logs_options o = defaults();
  o.tail = 3;
  long long before = read_chars();
  double t0 = now_s();
  struct result r = run_opts("big", &o, true);
  double took = now_s() - t0;
  long long read = read_chars() - before;
  EXPECT(r.rc == 0);
  EXPECT_STR(r.out, "line 199997 of the big log\nline 199998 of the big log\nline 199999 of the big log\n");
  printf("# tail 3 of %lld bytes: %.2f ms, read(2) %lld bytes (output read back included)\n",
         (long long)st.st_size, took * 1e3, read);
  EXPECT(before < 0 || read < 256 * 1024);
  result_free(&r);

  /* Everything, and a count. */
  o.tail = -1;
  t0 = now_s();
  r = run_opts("big", &o, false);
  took = now_s() - t0;
  printf("# all of %lld bytes: %.2f ms\n", (long long)st.st_size, took * 1e3);
  size_t nout = 0, nerr = 0;
  for (const char *p = r.out; (p = strchr(p, '\n')) != NULL; p++)
    nout++;
  for (const char *p = r.err; (p = strchr(p, '\n')) != NULL; p++)
    nerr++;
  EXPECT(nout == LINES - (LINES + 2) / 3 && nerr == (LINES + 2) / 3);
  EXPECT(strncmp(r.out, "line 1 of the big log\nline 2 of", 31) == 0);
  EXPECT(strncmp(r.err, "line 0 of the big log\nline 3 of", 31) == 0);
  result_free(&r);

  /* --until in the middle stops reading there. */
  o.until_ns = NS(E, 99999);
  r = run_opts("big", &o, true);
  EXPECT(strstr(r.out, "line 99999 of") != NULL && strstr(r.out, "line 100000 of") == NULL);
  result_free(&r);
}

/* ---- follow ---- */

struct writer {
  atomic_bool finished;
  atomic_bool following; /* done() was called: logs_print is in its follow loop */
  bool wait_following;   /* start writing only then (a --tail 0 test) */
  int phase_lines; /* lines per phase */
  int rotations;
  long delay_us;
};

static void *writer_main(void *arg) {
  struct writer *w = arg;
  int n = 100;
  char line[256];
  while (w->wait_following && !atomic_load(&w->following))
    usleep(1000);
  int fd = open(path_in("f"), O_WRONLY | O_APPEND | O_CLOEXEC);
  for (int phase = 0; phase <= w->rotations; phase++) {
    if (phase > 0) {
      /* rotation as the monitor does it: PATH.1 -> PATH.2, PATH -> PATH.1, new PATH */
      rename(path_in("f.1"), path_in("f.2"));
      close(fd);
      rename(path_in("f"), path_in("f.1"));
      usleep(20000);
      fd = open(path_in("f"), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    }
    for (int i = 0; i < w->phase_lines; i++, n++) {
      snprintf(line, sizeof(line), L("%s", "2099-01-01T00:00:30.%09dZ", "follow %d\\n"), n, n % 2 ? "stderr" : "stdout", n);
      if (i == w->phase_lines / 2) { /* half a line, then the rest */
        size_t half = strlen(line) / 2;
        if (write(fd, line, half) != (ssize_t)half)
          exit(2);
        usleep(250000); /* longer than the follow poll interval */
        append_fd(fd, line + half);
      } else {
        append_fd(fd, line);
      }
      if (w->delay_us > 0 && i % 10 == 0)
        usleep((useconds_t)w->delay_us);
    }
  }
  close(fd);
  atomic_store(&w->finished, true);
  return NULL;
}

static bool writer_done(void *arg) {
  struct writer *w = arg;
  atomic_store(&w->following, true);
  return atomic_load(&w->finished);
}

static char *follow_expected(int first, int count) {
  size_t cap = (size_t)count * 32 + 1, len = 0;
  char *s = malloc(cap);
  s[0] = '\0';
  for (int n = first; n < first + count; n++)
    len += (size_t)snprintf(s + len, cap - len, "follow %d\n", n);
  return s;
}

static void test_follow_rotation(void) {
  clean();
  put("f.1", L("stdout", T("01.0"), "old\\n"));
  put("f", L("stdout", T("02.0"), "before\\n"));
  struct writer w = {.phase_lines = 60, .rotations = 1, .delay_us = 2000};
  pthread_t th;
  struct logs_options o = defaults();
  o.follow = true;
  o.max_file = 3;
  o.done = writer_done;
  o.done_arg = &w;
  int out = memfd_create("out", MFD_CLOEXEC);
  pthread_create(&th, NULL, writer_main, &w);
  berth_error *e = NULL;
  double t0 = now_s();
  int rc = logs_print(path_in("f"), &o, out, out, &e);
  double took = now_s() - t0;
  pthread_join(th, NULL);
  EXPECT(rc == 0);
  if (e != NULL) {
    printf("# %s\n", e->msg);
    berth_error_free(e);
  }
  char *got = read_all(out);
  char *tail = follow_expected(100, 120);
  char *want = NULL;
  if (asprintf(&want, "old\nbefore\n%s", tail) < 0)
    exit(2);
  EXPECT_STR(got, want);
  EXPECT(took < 10);
  free(got);
  free(want);
  free(tail);
  close(out);
}

static void test_follow_tail0_and_apart(void) {
  clean();
  put("f", L("stdout", T("02.0"), "before\\n"));
  struct writer w = {.phase_lines = 30, .rotations = 2, .wait_following = true};
  pthread_t th;
  struct logs_options o = defaults();
  o.follow = true;
  o.tail = 0;
  o.max_file = 3;
  o.done = writer_done;
  o.done_arg = &w;
  int out = memfd_create("out", MFD_CLOEXEC), err = memfd_create("err", MFD_CLOEXEC);
  pthread_create(&th, NULL, writer_main, &w);
  berth_error *e = NULL;
  int rc = logs_print(path_in("f"), &o, out, err, &e);
  pthread_join(th, NULL);
  EXPECT(rc == 0 && e == NULL);
  berth_error_free(e);
  char *got_out = read_all(out), *got_err = read_all(err);
  char want_out[4096] = "", want_err[4096] = "";
  for (int n = 100; n < 190; n++) {
    char *w2 = n % 2 ? want_err : want_out;
    snprintf(w2 + strlen(w2), 4096 - strlen(w2), "follow %d\n", n);
  }
  EXPECT_STR(got_out, want_out);
  EXPECT_STR(got_err, want_err);
  free(got_out);
  free(got_err);
  close(out);
  close(err);
}

static bool never(void *arg) {
  double *deadline = arg;
  return now_s() > *deadline; /* safety: a broken until would hang the test */
}

/* -f ends by itself at the first entry after until. */
static void test_follow_until(void) {
  clean();
  put("f", L("stdout", T("02.0"), "before\\n"));
  double deadline = now_s() + 20;
  struct writer w = {.phase_lines = 40, .rotations = 0, .delay_us = 1000};
  pthread_t th;
  struct logs_options o = defaults();
  o.follow = true;
  o.until_ns = NS(4070908800LL + 30, 109); /* 2099-01-01T00:00:30.000000109: lines 100..109 */
  o.done = never;
  o.done_arg = &deadline;
  int out = memfd_create("out", MFD_CLOEXEC);
  pthread_create(&th, NULL, writer_main, &w);
  berth_error *e = NULL;
  int rc = logs_print(path_in("f"), &o, out, out, &e);
  EXPECT(now_s() < deadline);
  pthread_join(th, NULL);
  EXPECT(rc == 0 && e == NULL);
  berth_error_free(e);
  char *got = read_all(out), *tail = follow_expected(100, 10), *want = NULL;
  if (asprintf(&want, "before\n%s", tail) < 0)
    exit(2);
  EXPECT_STR(got, want);
  free(got);
  free(tail);
  free(want);
  close(out);
}

static void *creator_main(void *arg) {
  struct writer *w = arg;
  usleep(300000);
  put("f", L("stdout", T("30.000000100"), "follow 100\\n"));
  usleep(50000);
  int fd = open(path_in("f"), O_WRONLY | O_APPEND | O_CLOEXEC);
  append_fd(fd, L("stderr", T("30.000000101"), "follow 101\\n"));
  close(fd);
  atomic_store(&w->finished, true);
  return NULL;
}

/* The rotation happens while the follower is inside done() (so it cannot
 * have read the last lines of the old file): they must still be printed,
 * from the old fd, before the new file. */
static int rotate_calls;
static bool rotate_in_done(void *arg) {
  (void)arg;
  if (rotate_calls++ == 0) {
    int fd = open(path_in("f"), O_WRONLY | O_APPEND | O_CLOEXEC);
    append_fd(fd, L("stdout", T("03.0"), "old 1\\n"));
    append_fd(fd, L("stderr", T("04.0"), "old 2\\n") "{\"log\":\"never completed");
    close(fd);
    rename(path_in("f"), path_in("f.1"));
    put("f", L("stdout", T("05.0"), "new 1\\n"));
    return false;
  }
  if (rotate_calls == 2) { /* a second rotation, this time to a file not yet written */
    rename(path_in("f"), path_in("f.1"));
    put("f", "");
    return false;
  }
  if (rotate_calls == 3) {
    int fd = open(path_in("f"), O_WRONLY | O_APPEND | O_CLOEXEC);
    append_fd(fd, L("stdout", T("06.0"), "new 2\\n"));
    close(fd);
  }
  return rotate_calls >= 3; /* then a final read */
}

static void test_follow_reads_old_file_to_its_end(void) {
  clean();
  put("f", L("stdout", T("02.0"), "before\\n"));
  rotate_calls = 0;
  struct logs_options o = defaults();
  o.follow = true;
  o.done = rotate_in_done;
  struct result r = run_opts("f", &o, true);
  EXPECT(r.rc == 0);
  EXPECT_STR(r.out, "before\nold 1\nold 2\nnew 1\nnew 2\n");
  EXPECT(rotate_calls == 3);
  result_free(&r);
}

/* -f on a file that does not exist yet waits for it. */
static void test_follow_missing_then_created(void) {
  clean();
  struct writer w = {0};
  pthread_t th;
  struct logs_options o = defaults();
  o.follow = true;
  o.done = writer_done;
  o.done_arg = &w;
  int out = memfd_create("out", MFD_CLOEXEC);
  pthread_create(&th, NULL, creator_main, &w);
  berth_error *e = NULL;
  int rc = logs_print(path_in("f"), &o, out, out, &e);
  pthread_join(th, NULL);
  EXPECT(rc == 0 && e == NULL);
  berth_error_free(e);
  char *got = read_all(out);
  EXPECT_STR(got, "follow 100\nfollow 101\n");
  free(got);
  close(out);
}

/* An until already past ends -f once the log is idle, without done(). */
static void test_follow_until_past(void) {
  clean();
  put("f", L("stdout", T("02.0"), "before\\n"));
  double deadline = now_s() + 20;
  struct logs_options o = defaults();
  o.follow = true;
  o.until_ns = NS(E - 1, 0); /* in the past of the clock */
  o.done = never;
  o.done_arg = &deadline;
  struct result r = run_opts("f", &o, true);
  EXPECT(r.rc == 0);
  EXPECT_STR(r.out, "before\n");
  EXPECT(now_s() < deadline);
  result_free(&r);
}

static void test_parse_time(void) {
  setenv("TZ", "<+02>-2", 1); /* local time is UTC+2 */
  tzset();
  const int64_t now = NS(E, 500000000);
  const int64_t mid = 1795392000LL; /* 2026-11-23T00:00:00Z */
  static const struct {
    const char *text;
    int64_t want;
  } good[] = {
      {"2026-11-23T15:49:09Z", NS(E, 0)},
      {"2026-11-23T15:49:09.123456789Z", NS(E, 123456789)},
      {"2026-11-23T15:49:09.1Z", NS(E, 100000000)},
      {"2026-11-23T15:49:09.1234567891Z", NS(E, 123456789)},
      {"2026-11-23T16:49:09+01:00", NS(E, 0)},
      {"2026-11-23T14:49:09-01:00", NS(E, 0)},
      {"2026-11-23T15:49:09.5-01:00", NS(E + 3600, 500000000)},
      {"2026-11-23T15:49Z", NS(E - 9, 0)},
      {"2026-11-23T15Z", NS(E - 49 * 60 - 9, 0)},
      {"2026-11-23T16:49+01:00", NS(E - 9, 0)},
      {"2026-11-23Z", NS(mid, 0)},
      {"2026-11-23+01:00", NS(mid - 3600, 0)},
      {"2026-11-23-01:00", NS(mid + 3600, 0)},
      /* local (UTC+2) */
      {"2026-11-23", NS(mid - 7200, 0)},
      {"2026-11-23T15:49:09", NS(E - 7200, 0)},
      {"2026-11-23T15:49:09.25", NS(E - 7200, 250000000)},
      {"2026-11-23T15:49", NS(E - 7200 - 9, 0)},
      {"2026-11-23T15", NS(E - 7200 - 49 * 60 - 9, 0)},
      {"2026-11-23T5", NS(mid - 7200 + 5 * 3600, 0)},
      {"2024-02-29", NS(1709164800LL - 7200, 0)},
      /* unix */
      {"1700000000", NS(1700000000, 0)},
      {"1700000000.5", NS(1700000000, 500000000)},
      {"1700000000.000000001", NS(1700000000, 1)},
      {"1700000000.1234567891", NS(1700000000, 123456789)},
      {"0", 0},
      {"10", NS(10, 0)}, /* no unit: not a duration but a unix time */
      {"+5", NS(5, 0)},
      /* durations: now minus, in whole seconds as docker */
      {"10m", NS(E - 600, 0)},
      {"1h30m", NS(E - 5400, 0)},
      {"1.5h", NS(E - 5400, 0)},
      {"90s", NS(E - 90, 0)},
      {"300ms", NS(E, 0)},
      {"600ms", NS(E - 1, 0)},
      {"0s", NS(E, 0)},
      {"-10m", NS(E + 600, 0)},
      {"2h45m30.5s", NS(E - 9930, 0)},
      {"1\xc2\xb5s", NS(E, 0)},
      {".5m", NS(E - 30, 0)},
  };
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    int64_t got = -42;
    berth_error *e = NULL;
    int rc = logs_parse_time(good[i].text, now, &got, &e);
    if (rc != 0 || got != good[i].want) {
      printf("#   \"%s\": rc %d got %lld want %lld (%s)\n", good[i].text, rc, (long long)got,
             (long long)good[i].want, e ? e->msg : "");
      tap_current_failed = 1;
    }
    berth_error_free(e);
  }
  static const char *const bad[] = {
      "",
      "abc",
      "yesterday",
      "2026-13-01",
      "2026-02-29",
      "2026-11-31",
      "2026-11-23T24:00:00Z",
      "2026-11-23T15:60:00Z",
      "2026-11-23T15:49:60Z",
      "2026-11-23T15:49:09+0100",
      "2026-11-23T15:49:09.Z",
      "2026-11-23T15:49:09Zjunk",
      "2026-11-23 15:49:09",
      "26-11-23",
      "2026-1-23",
      "10x",
      "1h30",
      "1700000000.",
      "1.2.3",
      "12:30",
      ".",
      "-",
      "99999999999999999999",
      "9999999999",
      "3000-01-01",
      "1e9",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int64_t got = -42;
    berth_error *e = NULL;
    int rc = logs_parse_time(bad[i], now, &got, &e);
    if (rc >= 0 || e == NULL || got != -42 || strstr(e->msg, bad[i]) == NULL) {
      printf("#   \"%s\": rc %d got %lld msg %s\n", bad[i], rc, (long long)got, e ? e->msg : "(none)");
      tap_current_failed = 1;
    }
    berth_error_free(e);
  }
  berth_error *e = NULL;
  int64_t got;
  logs_parse_time("nope", now, &got, &e);
  EXPECT_STR(e->msg, "invalid time \"nope\": not a date-time, a unix timestamp or a duration");
  berth_error_free(e);
  unsetenv("TZ");
  tzset();
}

int main(void) {
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/berth-test-logs-XXXXXX");
  if (mkdtemp(tmpdir) == NULL)
    return 2;
  RUN(test_missing_file_is_empty);
  RUN(test_order_and_streams);
  RUN(test_escapes);
  RUN(test_malformed_and_partial);
  RUN(test_timestamps);
  RUN(test_since_until);
  RUN(test_tail);
  RUN(test_long_lines);
  RUN(test_big_file_tail);
  RUN(test_follow_rotation);
  RUN(test_follow_tail0_and_apart);
  RUN(test_follow_until);
  RUN(test_follow_reads_old_file_to_its_end);
  RUN(test_follow_missing_then_created);
  RUN(test_follow_until_past);
  RUN(test_parse_time);
  clean();
  rmdir(tmpdir);
  return tap_done();
}
