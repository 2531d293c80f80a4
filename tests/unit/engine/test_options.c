/* Parsers of docker's run/create flag values.  The expected values and
 * error texts were taken from the docker 28.2 CLI (and moby's daemon-side
 * checks); each table row is one input. */
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/options.h"
#include "tap.h"

#define ARRAY_SIZE_T(a) (sizeof(a) / sizeof((a)[0]))

/* Checks rc/err against an expected error substring (NULL: success) and
 * frees the error.  Names the input when it fails. */
static void check(const char *fn, const char *in, int rc, berth_error *e, const char *want_err) {
  if (want_err == NULL) {
    if (rc != 0)
      printf("#   %s(\"%s\"): unexpected error: %s\n", fn, in, e != NULL ? e->msg : "(no message)");
    EXPECT(rc == 0);
    EXPECT(e == NULL);
  } else {
    if (rc == 0)
      printf("#   %s(\"%s\"): expected an error containing \"%s\"\n", fn, in, want_err);
    EXPECT(rc < 0);
    EXPECT(e != NULL && e->msg != NULL);
    if (e != NULL && e->msg != NULL) {
      if (strstr(e->msg, want_err) == NULL)
        printf("#   %s(\"%s\"):\n", fn, in);
      EXPECT_CONTAINS(e->msg, want_err);
      EXPECT(strchr(e->msg, '\n') == NULL || strstr(want_err, "\n") != NULL);
    }
  }
  berth_error_free(e);
}

struct i64_case {
  const char *in;
  int64_t want;
  const char *err;
};

static void run_i64(const char *fn, int (*parse)(const char *, int64_t *, berth_error **),
                    const struct i64_case *c, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int64_t v = -12345;
    berth_error *e = NULL;
    int rc = parse(c[i].in, &v, &e);
    if (c[i].err == NULL && rc == 0 && v != c[i].want)
      printf("#   %s(\"%s\") = %lld, want %lld\n", fn, c[i].in, (long long)v, (long long)c[i].want);
    if (c[i].err == NULL && rc == 0)
      EXPECT(v == c[i].want);
    check(fn, c[i].in, rc, e, c[i].err);
  }
}

#define RUN_I64(fn, table) run_i64(#fn, fn, table, sizeof(table) / sizeof((table)[0]))

static void test_bytes(void) {
  static const struct i64_case t[] = {
      {"12", 12, NULL},
      {"12b", 12, NULL},
      {"12k", 12288, NULL},
      {"12kb", 12288, NULL},
      {"12KB", 12288, NULL},
      {"1KiB", 1024, NULL},
      {"1.5g", 1610612736, NULL},
      {"2GiB", 2147483648LL, NULL},
      {"1p", 1125899906842624LL, NULL},
      {"1 kb", 1024, NULL},
      {"1 ", 1, NULL},
      {"1e3", 1000, NULL},
      {"1e3k", 1024000, NULL},
      {"1_000", 1000, NULL},
      {"0.5b", 0, NULL},
      {"1.9", 1, NULL},
      {".5k", 512, NULL},
      {"1.k", 1024, NULL},
      {"0x1p4", 16, NULL},
      {"-0", 0, NULL},
      {"+5", 5, NULL},
      {"00012", 12, NULL},
      {"12xb", 0, "invalid suffix: 'xb'"},
      {"1kbi", 0, "invalid suffix: 'kbi'"},
      {"1KBI", 0, "invalid suffix: 'kbi'"},
      {"1ki", 0, "invalid suffix: 'ki'"},
      {"8E", 0, "invalid suffix: 'e'"},
      {"1abcd", 0, "invalid suffix: 'abcd'"},
      {"k", 0, "invalid size: 'k'"},
      {"", 0, "invalid size: ''"},
      {"-1", 0, "invalid size: '-1'"},
      {"1.5.3k", 0, "strconv.ParseFloat: parsing \"1.5.3\": invalid syntax"},
      {" 1", 0, "strconv.ParseFloat: parsing \" 1\": invalid syntax"},
      {"1  k", 0, "strconv.ParseFloat: parsing \"1 \": invalid syntax"},
      {"0x10", 0, "strconv.ParseFloat: parsing \"0x10\": invalid syntax"},
      {"1__0", 0, "strconv.ParseFloat: parsing \"1__0\": invalid syntax"},
      {"1e400", 0, "strconv.ParseFloat: parsing \"1e400\": value out of range"},
      {"9999999999999999999", 0, "invalid size: '9999999999999999999'"},
      {"8192p", 0, "invalid size: '8192p'"},
  };
  RUN_I64(options_parse_bytes, t);
}

static void test_nano_cpus(void) {
  static const struct i64_case t[] = {
      {"1.5", 1500000000, NULL},
      {"0", 0, NULL},
      {"-0", 0, NULL},
      {"3/2", 1500000000, NULL},
      {"2/4", 500000000, NULL},
      {"1e3", 1000000000000LL, NULL},
      {"1E3", 1000000000000LL, NULL},
      {"1.5e0", 1500000000, NULL},
      {"1e-9", 1, NULL},
      {"0x10", 16000000000LL, NULL},
      {"0x1p-2", 250000000, NULL},
      {"0b11", 3000000000LL, NULL},
      {"0o7", 7000000000LL, NULL},
      {"07", 7000000000LL, NULL},
      {"00.5", 500000000, NULL},
      {"+.5", 500000000, NULL},
      {"1.", 1000000000, NULL},
      {"1_0", 10000000000LL, NULL},
      {"0x10/2", 8000000000LL, NULL},
      {"10/0x2", 5000000000LL, NULL},
      {"0.000000001000000", 1, NULL},
      {"5P4", 80000000000LL, NULL},
      {"46.7P1", 93400000000LL, NULL},
      {"0x1.8p1", 3000000000LL, NULL},
      {"0o7e1", 70000000000LL, NULL},
      {"0b1.1", 1500000000, NULL},
      {"1_0.5", 10500000000LL, NULL},
      {"1e0_1", 10000000000LL, NULL},
      {"1/2_0", 50000000, NULL},
      {"1._5", 0, "failed to parse 1._5 as a rational number"},
      {"1000000000", 1000000000000000000LL, NULL},
      {"x", 0, "failed to parse x as a rational number"},
      {"", 0, "failed to parse  as a rational number"},
      {" 1", 0, "failed to parse  1 as a rational number"},
      {"inf", 0, "failed to parse inf as a rational number"},
      {"1/0", 0, "failed to parse 1/0 as a rational number"},
      {"1/-2", 0, "failed to parse 1/-2 as a rational number"},
      {"1/2/3", 0, "failed to parse 1/2/3 as a rational number"},
      {".", 0, "failed to parse . as a rational number"},
      {"1e", 0, "failed to parse 1e as a rational number"},
      {"1__0", 0, "failed to parse 1__0 as a rational number"},
      {"_1", 0, "failed to parse _1 as a rational number"},
      {"1e-10", 0, "value is too precise"},
      {"0.0000000001", 0, "value is too precise"},
      {"1.0000000005", 0, "value is too precise"},
      {"1/3", 0, "value is too precise"},
      {"0.0000000016", 0, "value is too precise"},
      {"0.0000000002p1", 0, "value is too precise"},
      {"-1", 0, "Range of CPUs is from 0.01 to"},
      {"-.5", 0, "Range of CPUs is from 0.01 to"},
      {"2e9", 0, "invalid value: 2e9"},
      {"1e30", 0, "invalid value: 1e30"},
  };
  RUN_I64(options_parse_nano_cpus, t);
}

static void test_duration(void) {
  static const struct i64_case t[] = {
      {"1m30s", 90000000000LL, NULL},
      {"500ms", 500000000, NULL},
      {"2h", 7200000000000LL, NULL},
      {"1.5s", 1500000000, NULL},
      {"1.5h", 5400000000000LL, NULL},
      {"10us", 10000, NULL},
      {"1\xc2\xb5s", 1000, NULL},
      {"1\xce\xbcs", 1000, NULL},
      {"3ns", 3, NULL},
      {"0", 0, NULL},
      {"-0", 0, NULL},
      {"+0", 0, NULL},
      {"-1s", -1000000000, NULL},
      {"+1s", 1000000000, NULL},
      {".5s", 500000000, NULL},
      {"1.s", 1000000000, NULL},
      {"1h1h", 7200000000000LL, NULL},
      {"9223372036854775807ns", INT64_MAX, NULL},
      {"-9223372036854775808ns", INT64_MIN, NULL},
      {"2562047h", 2562047LL * 3600 * 1000000000, NULL},
      {"1", 0, "time: missing unit in duration \"1\""},
      {"1.5.s", 0, "time: missing unit in duration \"1.5.s\""},
      {"", 0, "time: invalid duration \"\""},
      {"-", 0, "time: invalid duration \"-\""},
      {"x", 0, "time: invalid duration \"x\""},
      {".s", 0, "time: invalid duration \".s\""},
      {"1x", 0, "time: unknown unit \"x\" in duration \"1x\""},
      {"1e3s", 0, "time: unknown unit \"e\" in duration \"1e3s\""},
      {"1_0s", 0, "time: unknown unit \"_\" in duration \"1_0s\""},
      {"1\xffs", 0, "time: unknown unit \"\\xffs\" in duration \"1\\xffs\""},
      {"9223372036854775808ns", 0, "time: invalid duration \"9223372036854775808ns\""},
      {"2562048h", 0, "time: invalid duration \"2562048h\""},
  };
  RUN_I64(options_parse_duration, t);
}

static void test_seconds(void) {
  static const struct {
    const char *in;
    int want;
    const char *err;
  } t[] = {
      {"10", 10, NULL},
      {"0", 0, NULL},
      {"-1", -1, NULL},
      {"+5", 5, NULL},
      {"0x10", 16, NULL},
      {"010", 8, NULL},
      {"1_0", 10, NULL},
      {"10s", 10, NULL},
      {"x", 0, "strconv.ParseInt: parsing \"x\": invalid syntax"},
      {"", 0, "strconv.ParseInt: parsing \"\": invalid syntax"},
      {" 1", 0, "strconv.ParseInt: parsing \" 1\": invalid syntax"},
      {"s", 0, "strconv.ParseInt: parsing \"s\": invalid syntax"},
      {"1.5", 0, "strconv.ParseInt: parsing \"1.5\": invalid syntax"},
      {"99999999999999999999", 0, "strconv.ParseInt: parsing \"99999999999999999999\": value out of range"},
      {"3000000000", 0, "value out of range"},
  };
  for (size_t i = 0; i < ARRAY_SIZE_T(t); i++) {
    int v = -7;
    berth_error *e = NULL;
    int rc = options_parse_seconds(t[i].in, &v, &e);
    if (t[i].err == NULL && rc == 0)
      EXPECT(v == t[i].want);
    check("options_parse_seconds", t[i].in, rc, e, t[i].err);
  }
}

static void test_ulimit(void) {
  static const struct {
    const char *in;
    const char *type, *name;
    uint64_t soft, hard;
    const char *err;
  } t[] = {
      {"nofile=1024", "RLIMIT_NOFILE", "nofile", 1024, 1024, NULL},
      {"nofile=1024:2048", "RLIMIT_NOFILE", "nofile", 1024, 2048, NULL},
      {"nofile=-1", "RLIMIT_NOFILE", "nofile", UINT64_MAX, UINT64_MAX, NULL},
      {"nofile=unlimited", "RLIMIT_NOFILE", "nofile", UINT64_MAX, UINT64_MAX, NULL},
      {"nofile=1024:-1", "RLIMIT_NOFILE", "nofile", 1024, UINT64_MAX, NULL},
      {"nproc=+5", "RLIMIT_NPROC", "nproc", 5, 5, NULL},
      {"core=0", "RLIMIT_CORE", "core", 0, 0, NULL},
      {"sigpending=7:9", "RLIMIT_SIGPENDING", "sigpending", 7, 9, NULL},
      {"msgqueue=1", "RLIMIT_MSGQUEUE", "msgqueue", 1, 1, NULL},
      {"nofile=2048:1024", NULL, NULL, 0, 0, "ulimit soft limit must be less than or equal to hard limit: 2048 > 1024"},
      {"nofile=1025:1024", NULL, NULL, 0, 0, "1025 > 1024"},
      {"nofile=1024:1024", "RLIMIT_NOFILE", "nofile", 1024, 1024, NULL},
      {"nofile=-1:1024", NULL, NULL, 0, 0,
       "ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: 1024"},
      {"foo=1", NULL, NULL, 0, 0, "invalid ulimit type: foo"},
      {"NOFILE=1", NULL, NULL, 0, 0, "invalid ulimit type: NOFILE"},
      {"as=1", NULL, NULL, 0, 0, "invalid ulimit type: as"},
      {"nofile", NULL, NULL, 0, 0, "invalid ulimit argument: nofile"},
      {"nofile=1:2:3", NULL, NULL, 0, 0,
       "too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`"},
      {"nofile=", NULL, NULL, 0, 0, "strconv.ParseInt: parsing \"\": invalid syntax"},
      {"nofile=1:", NULL, NULL, 0, 0, "strconv.ParseInt: parsing \"\": invalid syntax"},
      {"nofile=x", NULL, NULL, 0, 0, "strconv.ParseInt: parsing \"x\": invalid syntax"},
      {"nofile=0x10", NULL, NULL, 0, 0, "strconv.ParseInt: parsing \"0x10\": invalid syntax"},
      {"nofile= 1", NULL, NULL, 0, 0, "strconv.ParseInt: parsing \" 1\": invalid syntax"},
      {"nofile=-2", NULL, NULL, 0, 0, "invalid ulimit value: -2"},
  };
  for (size_t i = 0; i < ARRAY_SIZE_T(t); i++) {
    struct ulimit u;
    memset(&u, 0xa5, sizeof(u));
    berth_error *e = NULL;
    int rc = options_parse_ulimit(t[i].in, &u, &e);
    if (t[i].err == NULL && rc == 0) {
      EXPECT_STR(u.type, t[i].type);
      EXPECT_STR(u.name, t[i].name);
      EXPECT(u.soft == t[i].soft);
      EXPECT(u.hard == t[i].hard);
    }
    check("options_parse_ulimit", t[i].in, rc, e, t[i].err);
  }
}

static void test_restart(void) {
  static const struct {
    const char *in;
    enum restart_kind kind;
    int retries;
    const char *err;
  } t[] = {
      {"", RESTART_NO, 0, NULL},
      {"no", RESTART_NO, 0, NULL},
      {"no:0", RESTART_NO, 0, NULL},
      {"always", RESTART_ALWAYS, 0, NULL},
      {"unless-stopped", RESTART_UNLESS_STOPPED, 0, NULL},
      {"on-failure", RESTART_ON_FAILURE, 0, NULL},
      {"on-failure:3", RESTART_ON_FAILURE, 3, NULL},
      {"on-failure:", RESTART_ON_FAILURE, 0, NULL},
      {"on-failure:+3", RESTART_ON_FAILURE, 3, NULL},
      {"on-failure:03", RESTART_ON_FAILURE, 3, NULL},
      {":3", 0, 0, "invalid restart policy format: no policy provided before colon"},
      {"on-failure:x", 0, 0, "invalid restart policy format: maximum retry count must be an integer"},
      {"on-failure:3:4", 0, 0, "invalid restart policy format: maximum retry count must be an integer"},
      {"on-failure:99999999999", 0, 0, "maximum retry count must be an integer"},
      {"on-failure:-1", 0, 0, "invalid restart policy: maximum retry count cannot be negative"},
      {"always:2", 0, 0, "invalid restart policy: maximum retry count can only be used with 'on-failure'"},
      {"no:-2", 0, 0, "maximum retry count can only be used with 'on-failure' and cannot be negative"},
      {"bogus", 0, 0,
       "invalid restart policy: unknown policy 'bogus'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"},
      {"ALWAYS", 0, 0, "unknown policy 'ALWAYS'"},
  };
  for (size_t i = 0; i < ARRAY_SIZE_T(t); i++) {
    struct restart_policy p = {RESTART_ALWAYS, -9};
    berth_error *e = NULL;
    int rc = options_parse_restart(t[i].in, &p, &e);
    if (t[i].err == NULL && rc == 0) {
      EXPECT(p.kind == t[i].kind);
      EXPECT(p.max_retries == t[i].retries);
    }
    check("options_parse_restart", t[i].in, rc, e, t[i].err);
  }
  EXPECT_STR(options_restart_name(RESTART_NO), "no");
  EXPECT_STR(options_restart_name(RESTART_ALWAYS), "always");
  EXPECT_STR(options_restart_name(RESTART_UNLESS_STOPPED), "unless-stopped");
  EXPECT_STR(options_restart_name(RESTART_ON_FAILURE), "on-failure");
}

/* ---- mounts ---- */

struct mount_case {
  const char *in;
  enum mount_kind kind;
  const char *source, *target; /* source "@/x": the current directory + "/x"; "@@/x": its parent + "/x" */
  bool ro;
  const char *propagation;
  bool no_copy;
  int64_t size;
  uint32_t mode;
  const char *options;
  const char *err;
};

static char cwd[4096], parent[4096];

static void expect_source(const char *got, const char *want) {
  char buf[8192];
  if (want != NULL && want[0] == '@') {
    const char *base = want[1] == '@' ? parent : cwd, *rest = want + (want[1] == '@' ? 2 : 1);
    /* join without doubling the "/" when base is the root */
    snprintf(buf, sizeof(buf), "%s%s", strcmp(base, "/") == 0 && *rest == '/' ? "" : base, *rest ? rest : "");
    want = buf;
  }
  if (want == NULL)
    EXPECT(got == NULL);
  else
    EXPECT_STR(got, want);
}

static void run_mounts(const char *fn, int (*parse)(const char *, struct mount_request *, berth_error **),
                       const struct mount_case *t, size_t n) {
  for (size_t i = 0; i < n; i++) {
    struct mount_request m = {0};
    berth_error *e = NULL;
    int rc = parse(t[i].in, &m, &e);
    if (t[i].err == NULL && rc == 0) {
      if (m.kind != t[i].kind || m.read_only != t[i].ro)
        printf("#   %s(\"%s\"): kind %d ro %d\n", fn, t[i].in, m.kind, m.read_only);
      EXPECT(m.kind == t[i].kind);
      expect_source(m.source, t[i].source);
      EXPECT_STR(m.target, t[i].target);
      EXPECT(m.read_only == t[i].ro);
      if (t[i].propagation == NULL)
        EXPECT(m.propagation == NULL);
      else
        EXPECT_STR(m.propagation, t[i].propagation);
      EXPECT(m.no_copy == t[i].no_copy);
      EXPECT(m.tmpfs_size == t[i].size);
      EXPECT(m.tmpfs_mode == t[i].mode);
      if (t[i].options == NULL)
        EXPECT(m.tmpfs_options == NULL);
      else
        EXPECT_STR(m.tmpfs_options, t[i].options);
    } else {
      /* nothing is handed out on failure */
      EXPECT(m.source == NULL && m.target == NULL && m.propagation == NULL && m.tmpfs_options == NULL);
    }
    check(fn, t[i].in, rc, e, t[i].err);
    options_mount_request_clear(&m);
    options_mount_request_clear(&m);
  }
}

#define RUN_MOUNTS(fn, table) run_mounts(#fn, fn, table, ARRAY_SIZE_T(table))

#define BIND(src, dst, ro, prop) MOUNT_BIND, src, dst, ro, prop, false, 0, 0, NULL, NULL
#define VOL(src, dst, ro, nocopy) MOUNT_VOLUME, src, dst, ro, NULL, nocopy, 0, 0, NULL, NULL
#define TMPFS(dst, ro, size, mode, opts) MOUNT_TMPFS, NULL, dst, ro, NULL, false, size, mode, opts, NULL
#define FAIL(msg) 0, NULL, NULL, false, NULL, false, 0, 0, NULL, msg

static void test_volume(void) {
  static const struct mount_case t[] = {
      {"/data", VOL(NULL, "/data", false, false)},
      {"/a:/b", BIND("/a", "/b", false, "rprivate")},
      {"/a:/b:ro", BIND("/a", "/b", true, "rprivate")},
      {"/a:/b:rw", BIND("/a", "/b", false, "rprivate")},
      {"/a:/b//c/../d", BIND("/a", "/b/d", false, "rprivate")},
      {"/host/../x/:/b:rw,z,rshared", BIND("/x", "/b", false, "rshared")},
      {"/a:/b:Z,cached,slave", BIND("/a", "/b", false, "slave")},
      {"/a:/b:rro", BIND("/a", "/b", true, "rprivate")},
      {"/a:/b:ro-non-recursive", BIND("/a", "/b", true, "rprivate")},
      {"vol1:/data:ro,nocopy", VOL("vol1", "/data", true, true)},
      {"my_vol.2-x:/d/", VOL("my_vol.2-x", "/d", false, false)},
      {"./x:/y", BIND("@/x", "/y", false, "rprivate")},
      {".x:/y", BIND("@/.x", "/y", false, "rprivate")},
      {"../x:/y:ro", BIND("@@/x", "/y", true, "rprivate")},
      {"a:b:c:d", FAIL("invalid volume specification: 'a:b:c:d'")},
      {"", FAIL("invalid empty volume spec")},
      {":/a", FAIL("invalid spec: :/a: empty section between colons")},
      {"/a:", FAIL("invalid spec: /a:: empty section between colons")},
      {"/a::ro", FAIL("invalid spec: /a::ro: empty section between colons")},
      {"/a:/b:ro:x", FAIL("invalid spec: /a:/b:ro:x: too many colons")},
      {"/a:ro", FAIL("invalid volume specification: '/a:ro'")},
      {"x:/y:bogus", FAIL("invalid mode: bogus")},
      {"/a:/b:ro,rw", FAIL("invalid mode: ro,rw")},
      {"/a:/b:z,Z", FAIL("invalid mode: z,Z")},
      {"x:rel", FAIL("invalid volume specification: 'x:rel': invalid mount config for type \"volume\": invalid mount "
                     "path: 'rel' mount path must be absolute")},
      {"/x:rel", FAIL("invalid volume specification: '/x:rel': invalid mount config for type \"bind\": invalid mount "
                      "path: 'rel' mount path must be absolute")},
      {"ab", FAIL("invalid mount path: 'ab' mount path must be absolute")},
      {"/", FAIL("invalid specification: destination can't be '/'")},
      {"/a:/", FAIL("invalid volume specification: '/a:/': invalid mount config for type \"bind\": invalid "
                    "specification: destination can't be '/'")},
      {"/a:/b/..", FAIL("destination can't be '/'")},
      {"x/y:/d", FAIL("create x/y: \"x/y\" includes invalid characters for a local volume name, only "
                      "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use "
                      "absolute path")},
      {"~/x:/y", FAIL("\"~/x\" includes invalid characters for a local volume name")},
      {"_v:/y", FAIL("\"_v\" includes invalid characters")},
      {"a:/b", FAIL("create a: volume name is too short, names should be at least two alphanumeric characters")},
      {"/a:/b:nocopy", FAIL("invalid mount config for type \"bind\": field VolumeOptions must not be specified")},
      {"v1:/b:rshared", FAIL("invalid mount config for type \"volume\": field BindOptions must not be specified")},
      {"v1:/b:ro-non-recursive",
       FAIL("mount mode \"ro-non-recursive\" requires a bind mount: invalid volume specification: "
            "'v1:/b:ro-non-recursive'")},
  };
  RUN_MOUNTS(options_parse_volume, t);
}

static void test_mount(void) {
  static const struct mount_case t[] = {
      {"target=/a", VOL(NULL, "/a", false, false)},
      {"type=volume,src=v1,target=/a//b/,volume-nocopy", VOL("v1", "/a/b", false, true)},
      {"type=volume,src=v1,target=/a,volume-nocopy=f", VOL("v1", "/a", false, false)},
      {"type=volume,src=v1,\"target=/a,b\",ro", VOL("v1", "/a,b", true, false)},
      {"src=v1,\"target=/a\"\"b\"", VOL("v1", "/a\"b", false, false)},
      {"src=v1,target=/a,readonly=false,ro", VOL("v1", "/a", true, false)},
      {"src=v1,target=/a,ro=True", VOL("v1", "/a", true, false)},
      {"target=/a,ro=0", VOL(NULL, "/a", false, false)},
      {"target=/a\nro", VOL(NULL, "/a", false, false)},
      {"\n\ntarget=/a\r\n", VOL(NULL, "/a", false, false)},
      {"target=/a,volume-driver=local,consistency=cached", VOL(NULL, "/a", false, false)},
      {"type=bind,src=/x,dst=/b", BIND("/x", "/b", false, "rprivate")},
      {"type=bind,source=/x/./y/,destination=/b", BIND("/x/y", "/b", false, "rprivate")},
      {"TYPE=Bind,Source=/x,Target=/y,bind-propagation=RSHARED", BIND("/x", "/y", false, "rshared")},
      {"type=bind,src=./x,target=/b,readonly", BIND("@/x", "/b", true, "rprivate")},
      {"type=bind,src=.,target=/b", BIND("@", "/b", false, "rprivate")},
      {"type=bind,src=..,target=/b", BIND("@@", "/b", false, "rprivate")},
      {"type=bind,src=/x,target=/a,bind-recursive=enabled", BIND("/x", "/a", false, "rprivate")},
      {"type=bind,src=/x,target=/a,bind-nonrecursive=false", BIND("/x", "/a", false, "rprivate")},
      {"type=tmpfs,target=/a,tmpfs-size=1.5k,tmpfs-mode=700", TMPFS("/a", false, 1536, 0700, NULL)},
      {"type=tmpfs,target=/t,tmpfs-mode=1777,ro", TMPFS("/t", true, 0, 01777, NULL)},
      {"type=tmpfs,target=/t,tmpfs-size=64m", TMPFS("/t", false, 64 << 20, 0, NULL)},
      {"", FAIL("EOF")},
      {"\n", FAIL("EOF")},
      {"src=x", FAIL("target is required")},
      {"target=", FAIL("target is required")},
      {"type=,target=/a", FAIL("type is required")},
      {"ro=yes,target=/a", FAIL("invalid value for ro: yes")},
      {"target=/a,foo=bar", FAIL("unexpected key 'foo' in 'foo=bar'")},
      {" target=/a", FAIL("unexpected key ' target' in ' target=/a'")},
      {"target=/a,foo", FAIL("invalid field 'foo' must be a key=value pair")},
      {"target=/a, ro", FAIL("invalid field ' ro' must be a key=value pair")},
      {"target=/a,,", FAIL("invalid field '' must be a key=value pair")},
      {"target=/a,volume-nocopy=maybe", FAIL("invalid value for volume-nocopy: maybe")},
      {"type=tmpfs,target=/a,tmpfs-size=1x", FAIL("invalid value for tmpfs-size: 1x")},
      {"type=tmpfs,target=/a,tmpfs-size=-1", FAIL("invalid value for tmpfs-size: -1")},
      {"type=tmpfs,target=/a,tmpfs-mode=999", FAIL("invalid value for tmpfs-mode: 999")},
      {"type=tmpfs,target=/a,tmpfs-mode=0o700", FAIL("invalid value for tmpfs-mode: 0o700")},
      {"type=tmpfs,target=/a,tmpfs-mode=40000000000", FAIL("invalid value for tmpfs-mode: 40000000000")},
      {"type=volume,target=/a,bind-propagation=shared", FAIL("cannot mix 'bind-*' options with mount type 'volume'")},
      {"target=/a,image-subpath=x", FAIL("cannot mix 'image-*' options with mount type 'volume'")},
      {"type=tmpfs,target=/a,image-subpath=x,volume-nocopy",
       FAIL("cannot mix 'volume-*' options with mount type 'tmpfs'")},
      {"type=bind,target=/a,tmpfs-size=1", FAIL("cannot mix 'tmpfs-*' options with mount type 'bind'")},
      {"type=bind,src=/x,target=/a,bind-recursive=bogus",
       FAIL("invalid value for bind-recursive: bogus (must be \"enabled\", \"disabled\", \"writable\", or "
            "\"readonly\")")},
      {"type=bind,src=/x,target=/a,bind-recursive=writable",
       FAIL("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction")},
      {"type=bind,src=/x,target=/a,bind-recursive=readonly,ro",
       FAIL("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction")},
      {"target=/a\"b", FAIL("parse error on line 1, column 10: bare \" in non-quoted-field")},
      {"target=\"/a\"", FAIL("parse error on line 1, column 8: bare \" in non-quoted-field")},
      {" \"target=/a\"", FAIL("parse error on line 1, column 2: bare \" in non-quoted-field")},
      {"target=/\xc3\xa9\"", FAIL("parse error on line 1, column 11: bare \" in non-quoted-field")},
      {"\"target=/abc", FAIL("parse error on line 1, column 13: extraneous or missing \" in quoted-field")},
      {"ro,\"target=/b\"c", FAIL("parse error on line 1, column 14: extraneous or missing \" in quoted-field")},
      {"\"target=/a\" ", FAIL("parse error on line 1, column 11: extraneous or missing \" in quoted-field")},
      {"\"target=/a\nb\"x",
       FAIL("record on line 1; parse error on line 2, column 2: extraneous or missing \" in quoted-field")},
      {"\"a\n", FAIL("parse error on line 1, column 4: extraneous or missing \" in quoted-field")},
      {"type=bind,target=/a", FAIL("invalid mount config for type \"bind\": field Source must not be empty")},
      {"type=bind,src=rel,target=/a",
       FAIL("invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute")},
      {"type=bind,src=/x,target=/a,bind-propagation=bogus",
       FAIL("invalid mount config for type \"bind\": invalid propagation mode: bogus")},
      {"type=foo,target=/a", FAIL("invalid mount config for type \"foo\": mount type unknown")},
      {"target=rel",
       FAIL("invalid mount config for type \"volume\": invalid mount path: 'rel' mount path must be absolute")},
      {"target=/", FAIL("invalid mount config for type \"volume\": invalid specification: destination can't be '/'")},
      {"type=tmpfs,src=x,target=/a", FAIL("invalid mount config for type \"tmpfs\": field Source must not be specified")},
      {"target=/a,ro", FAIL("must not set ReadOnly mode when using anonymous volumes")},
      {"type=volume,source=a/b,target=/a", FAIL("create a/b: \"a/b\" includes invalid characters")},
      {"type=volume,source=/abs,target=/a", FAIL("\"/abs\" includes invalid characters")},
      {"type=image,src=busybox,target=/a", FAIL("not supported")},
      {"type=bind,src=/x,target=/a,bind-recursive=disabled", FAIL("not supported")},
      {"src=v1,target=/a,volume-driver=nfs", FAIL("not supported")},
  };
  RUN_MOUNTS(options_parse_mount, t);
}

static void test_tmpfs(void) {
  static const struct mount_case t[] = {
      {"/a", TMPFS("/a", false, 0, 0, NULL)},
      {"/a:", TMPFS("/a", false, 0, 0, NULL)},
      {"/a//b/", TMPFS("/a/b", false, 0, 0, NULL)},
      {"/run:rw,noexec,nosuid,size=65536k", TMPFS("/run", false, 0, 0, "rw,noexec,nosuid,size=65536k")},
      {"/a:ro", TMPFS("/a", true, 0, 0, "ro")},
      {"/a:ro,rw", TMPFS("/a", false, 0, 0, "ro,rw")},
      {"/a:rw,exec,ro", TMPFS("/a", true, 0, 0, "rw,exec,ro")},
      {"/a:defaults,mode=1777,uid=0,gid=0,nr_inodes=5,mpol=default", TMPFS("/a", false, 0, 0,
                                                                            "defaults,mode=1777,uid=0,gid=0,nr_inodes=5,mpol=default")},
      {"rel", FAIL("invalid mount path: 'rel' mount path must be absolute")},
      {"", FAIL("invalid mount path: '' mount path must be absolute")},
      {"/", FAIL("invalid specification: destination can't be '/'")},
      {"/a/..:size=1m", FAIL("invalid specification: destination can't be '/'")},
      {"/a:b:c", FAIL("invalid tmpfs option \"b:c\"")},
      {"/a:foo=bar", FAIL("invalid tmpfs option \"foo\"")},
      {"/a:size", FAIL("invalid tmpfs option \"size\"")},
      {"/a:rw,,noexec", FAIL("invalid tmpfs option \"\"")},
      {"/a:foo,bar", FAIL("invalid tmpfs option \"bar\"")},
  };
  RUN_MOUNTS(options_parse_tmpfs, t);
}

static void test_device(void) {
  static const struct {
    const char *in, *host, *container, *perms, *err;
  } t[] = {
      {"/dev/sda", "/dev/sda", "/dev/sda", "rwm", NULL},
      {"/dev/sda:/dev/xvda:rwm", "/dev/sda", "/dev/xvda", "rwm", NULL},
      {"/dev/sda:/dev/xvda", "/dev/sda", "/dev/xvda", "rwm", NULL},
      {"/dev/sda:rw", "/dev/sda", "/dev/sda", "rw", NULL},
      {"/dev/sda:r", "/dev/sda", "/dev/sda", "r", NULL},
      {"/dev/sda:mr", "/dev/sda", "/dev/sda", "mr", NULL},
      {"/dev/sda:/a//b/", "/dev/sda", "/a/b", "rwm", NULL},
      {"/dev//sda", "/dev/sda", "/dev/sda", "rwm", NULL},
      {"/dev/fuse:/dev/fuse:m", "/dev/fuse", "/dev/fuse", "m", NULL},
      {"/dev/sda:/x:rwx", NULL, NULL, NULL, "bad mode specified: rwx"},
      {"/dev/sda:/x:rr", NULL, NULL, NULL, "bad mode specified: rr"},
      {"/dev/sda:/a:", NULL, NULL, NULL, "bad mode specified: "},
      {"sda", NULL, NULL, NULL, "sda is not an absolute path"},
      {"sda:/x", NULL, NULL, NULL, "sda is not an absolute path"},
      {"/dev/sda:rel", NULL, NULL, NULL, "rel is not an absolute path"},
      {"/dev/sda::r", NULL, NULL, NULL, " is not an absolute path"},
      {"/dev/sda:/a:/b:c", NULL, NULL, NULL, "bad format for path: /dev/sda:/a:/b:c"},
      {"", NULL, NULL, NULL, "bad format for path: "},
      {":/x", NULL, NULL, NULL, "bad format for path: :/x"},
      {"/dev/sd*:/x", NULL, NULL, NULL, "device with * suffix can't have dst: /dev/sd*:/x"},
      {"/dev/sd*", NULL, NULL, NULL, "not supported"},
  };
  for (size_t i = 0; i < ARRAY_SIZE_T(t); i++) {
    struct device_request d = {0};
    berth_error *e = NULL;
    int rc = options_parse_device(t[i].in, &d, &e);
    if (t[i].err == NULL && rc == 0) {
      EXPECT_STR(d.host, t[i].host);
      EXPECT_STR(d.container, t[i].container);
      EXPECT_STR(d.perms, t[i].perms);
    } else {
      EXPECT(d.host == NULL && d.container == NULL);
    }
    check("options_parse_device", t[i].in, rc, e, t[i].err);
    options_device_request_clear(&d);
  }
}

/* ---- environment and labels ---- */

static void expect_strv(char **v, size_t n, const char *const *want) {
  size_t wn = 0;
  while (want[wn] != NULL)
    wn++;
  if (n != wn)
    printf("#   vector has %zu entries, want %zu\n", n, wn);
  EXPECT(n == wn);
  EXPECT(v == NULL ? n == 0 : v[n] == NULL);
  for (size_t i = 0; i < n && i < wn; i++)
    EXPECT_STR(v[i], want[i]);
}

static void test_env(void) {
  setenv("OPTIONS_TEST_SET", "from env", 1);
  setenv("OPTIONS_TEST_EMPTY", "", 1);
  unsetenv("OPTIONS_TEST_UNSET");
  static const struct {
    const char *in, *err;
  } t[] = {
      {"A=1", NULL},  {"B=", NULL},    {" C=1", NULL}, {"EQ=a=b", NULL}, {"OPTIONS_TEST_SET", NULL},
      {"OPTIONS_TEST_EMPTY", NULL}, {"OPTIONS_TEST_UNSET", NULL},
      {"=x", "invalid environment variable: =x"},
      {"", "invalid environment variable: "},
  };
  char **env = NULL;
  size_t n = 0;
  for (size_t i = 0; i < ARRAY_SIZE_T(t); i++) {
    berth_error *e = NULL;
    int rc = options_add_env(&env, &n, t[i].in, &e);
    check("options_add_env", t[i].in, rc, e, t[i].err);
  }
  static const char *const want[] = {"A=1", "B=", " C=1", "EQ=a=b", "OPTIONS_TEST_SET=from env", "OPTIONS_TEST_EMPTY=",
                                     NULL};
  expect_strv(env, n, want);
  options_strv_free(env);
  options_strv_free(NULL);
}

static void test_labels(void) {
  static const struct {
    const char *in, *err;
  } t[] = {
      {" foo=bar", NULL},
      {"x", NULL},
      {"y=", NULL},
      {"a=b c", NULL},
      {"com.example.k=v=w", NULL},
      {"=x", "invalid label '=x': empty name"},
      {"", "invalid label '': empty name"},
      {" \t=v", "invalid label ' \t=v': empty name"},
      {"a b=c", "label 'a b' contains whitespaces"},
      {"a\tb", "label 'a\tb' contains whitespaces"},
  };
  char **labels = NULL;
  size_t n = 0;
  for (size_t i = 0; i < ARRAY_SIZE_T(t); i++) {
    berth_error *e = NULL;
    int rc = options_add_label(&labels, &n, t[i].in, &e);
    check("options_add_label", t[i].in, rc, e, t[i].err);
  }
  static const char *const want[] = {" foo=bar", "x=", "y=", "a=b c", "com.example.k=v=w", NULL};
  expect_strv(labels, n, want);
  options_strv_free(labels);
}

static char tmpdir[] = "/tmp/test_options.XXXXXX";

static char *write_file(const char *name, const char *content) {
  static char path[4096];
  snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "w");
  EXPECT(f != NULL);
  if (f != NULL) {
    fputs(content, f);
    fclose(f);
  }
  return path;
}

static void test_env_file(void) {
  setenv("OPTIONS_TEST_SET", "from env", 1);
  unsetenv("OPTIONS_TEST_UNSET");
  const char *good = write_file("good.env", "\xef\xbb\xbf# a comment\n"
                                            "\n"
                                            "   \n"
                                            "  FOO=bar  \n"
                                            "Q=\"quoted\"\n"
                                            "\t# indented comment\n"
                                            "OPTIONS_TEST_SET\n"
                                            "OPTIONS_TEST_UNSET\n"
                                            "\tTABBED=1\r\n"
                                            "E=\n"
                                            "EQ=a=b\n"
                                            "U=\xc3\xa9t\xc3\xa9\n"
                                            "LAST=no newline");
  char **env = NULL;
  size_t n = 0;
  berth_error *e = NULL;
  EXPECT(options_add_env(&env, &n, "FIRST=1", &e) == 0);
  int rc = options_read_env_file(&env, &n, good, true, &e);
  check("options_read_env_file", good, rc, e, NULL);
  static const char *const want[] = {"FIRST=1", "FOO=bar  ", "Q=\"quoted\"", "OPTIONS_TEST_SET=from env", "TABBED=1",
                                     "E=", "EQ=a=b", "U=\xc3\xa9t\xc3\xa9", "LAST=no newline", NULL};
  expect_strv(env, n, want);

  /* As a label file: keys without a value are left out, never read from
   * the environment. */
  char **labels = NULL;
  size_t nl = 0;
  e = NULL;
  rc = options_read_env_file(&labels, &nl, good, false, &e);
  check("options_read_env_file(labels)", good, rc, e, NULL);
  static const char *const want_labels[] = {"FOO=bar  ", "Q=\"quoted\"", "TABBED=1", "E=", "EQ=a=b",
                                            "U=\xc3\xa9t\xc3\xa9", "LAST=no newline", NULL};
  expect_strv(labels, nl, want_labels);
  options_strv_free(labels);

  /* An empty file adds nothing. */
  const char *empty = write_file("empty.env", "");
  e = NULL;
  rc = options_read_env_file(&env, &n, empty, true, &e);
  check("options_read_env_file", empty, rc, e, NULL);
  EXPECT(n == 9);

  static const struct {
    const char *name, *content, *err;
  } bad[] = {
      {"space.env", "A=1\n# c\nBAD KEY=1\n", ":3): variable 'BAD KEY' contains whitespaces"},
      {"nokey.env", "OK=1\n=nokey\n", ":2): no variable name on line '=nokey'"},
      {"indented.env", "  =x\n", ":1): no variable name on line '=x'"},
      {"utf8.env", "A=1\n\xff\xfe\n", ":2): invalid utf8 bytes at line 2: [255 254]"},
      {"tab.env", "K\tEY=1\n", "variable 'K\tEY' contains whitespaces"},
  };
  for (size_t i = 0; i < ARRAY_SIZE_T(bad); i++) {
    const char *path = write_file(bad[i].name, bad[i].content);
    char want_err[8192];
    snprintf(want_err, sizeof(want_err), "invalid env file (%s%s", path, bad[i].err);
    if (strncmp(bad[i].err, ":", 1) != 0)
      snprintf(want_err, sizeof(want_err), "%s", bad[i].err);
    e = NULL;
    rc = options_read_env_file(&env, &n, path, true, &e);
    check("options_read_env_file", path, rc, e, want_err);
    EXPECT(n == 9); /* nothing of a bad file is kept */
    EXPECT(env[9] == NULL);
  }
  e = NULL;
  rc = options_read_env_file(&env, &n, "/nonexistent/options.env", true, &e);
  check("options_read_env_file", "/nonexistent/options.env", rc, e, "open /nonexistent/options.env");
  EXPECT(n == 9);
  options_strv_free(env);
}

/* ---- signals, cpuset, user, log options ---- */

static void test_signal(void) {
  static const struct {
    const char *in;
    int want;
    const char *err;
  } t[] = {
      {"TERM", SIGTERM, NULL},  {"SIGTERM", SIGTERM, NULL}, {"sigterm", SIGTERM, NULL}, {"15", SIGTERM, NULL},
      {"+15", SIGTERM, NULL},   {"009", 9, NULL},           {"kill", SIGKILL, NULL},   {"SigHup", SIGHUP, NULL},
      {"USR1", SIGUSR1, NULL},  {"WINCH", SIGWINCH, NULL},
      {"FOO", 0, "invalid signal: FOO"},
      {"0", 0, "invalid signal: 0"},
      {"-9", 0, "invalid signal: -9"},
      {"9x", 0, "invalid signal: 9x"},
      {"", 0, "invalid signal: "},
      {"SIGSIGKILL", 0, "invalid signal: SIGSIGKILL"},
      {" KILL", 0, "invalid signal:  KILL"},
      {"SIGRTMIN+100", 0, "invalid signal: SIGRTMIN+100"},
      {"RTMIN-1", 0, "invalid signal: RTMIN-1"},
  };
  for (size_t i = 0; i < ARRAY_SIZE_T(t); i++) {
    int sig = -1;
    berth_error *e = NULL;
    int rc = options_parse_signal(t[i].in, &sig, &e);
    if (t[i].err == NULL && rc == 0)
      EXPECT(sig == t[i].want);
    check("options_parse_signal", t[i].in, rc, e, t[i].err);
  }
  /* the real-time ones depend on the C library's SIGRTMIN */
  int sig = -1;
  berth_error *e = NULL;
  EXPECT(options_parse_signal("SIGRTMIN+3", &sig, &e) == 0 && sig == SIGRTMIN + 3);
  EXPECT(options_parse_signal("rtmax-1", &sig, &e) == 0 && sig == SIGRTMAX - 1);
  EXPECT(options_parse_signal("SIGRTMAX", &sig, &e) == 0 && sig == SIGRTMAX);
  char buf[16];
  snprintf(buf, sizeof(buf), "%d", SIGRTMAX);
  EXPECT(options_parse_signal(buf, &sig, &e) == 0 && sig == SIGRTMAX);
  snprintf(buf, sizeof(buf), "%d", SIGRTMAX + 1);
  int rc = options_parse_signal(buf, &sig, &e);
  check("options_parse_signal", buf, rc, e, "invalid signal: ");
}

static void test_cpuset(void) {
  static const struct {
    const char *in, *err;
  } t[] = {
      {"0-2,4", NULL},
      {"", NULL},
      {"0", NULL},
      {"1,3,5", NULL},
      {"0-0", NULL},
      {"+1", NULL},
      {"1-0", "Invalid value 1-0 for cpuset cpus: invalid format: 1-0"},
      {"a", "Invalid value a for cpuset cpus: invalid format: a"},
      {"0,", "invalid format: 0,"},
      {",0", "invalid format: ,0"},
      {"-1", "invalid format: -1"},
      {"1-2-3", "invalid format: 1-2-3"},
      {"1:2", "invalid format: 1:2"},
      {"0-", "invalid format: 0-"},
      {" 1", "invalid format:  1"},
      {"1-42,,", "Invalid value 1-42,, for cpuset cpus"},
  };
  for (size_t i = 0; i < ARRAY_SIZE_T(t); i++) {
    berth_error *e = NULL;
    int rc = options_check_cpuset(t[i].in, &e);
    check("options_check_cpuset", t[i].in, rc, e, t[i].err);
  }
}

static void test_user(void) {
  static const struct {
    const char *in, *err;
  } t[] = {
      {"", NULL},
      {"root", NULL},
      {"1000", NULL},
      {"1000:1000", NULL},
      {"nobody:nogroup", NULL},
      {"app:0", NULL},
      {"www-data", NULL},
      {"2147483647", NULL},
      {"a:b:c", "invalid user: 'a:b:c'"},
      {":1000", "invalid user: ':1000'"},
      {"1000:", "invalid user: '1000:'"},
      {"-1", "uids and gids must be in range 0-2147483647"},
      {"0:-5", "uids and gids must be in range 0-2147483647"},
      {"2147483648", "uids and gids must be in range 0-2147483647"},
      {"99999999999999999999", "uids and gids must be in range 0-2147483647"},
      {"a b", "invalid user: 'a b'"},
      {"u:g\tg", "invalid user: 'u:g\tg'"},
      {"a/b", "invalid user: 'a/b'"},
  };
  for (size_t i = 0; i < ARRAY_SIZE_T(t); i++) {
    berth_error *e = NULL;
    int rc = options_check_user(t[i].in, &e);
    check("options_check_user", t[i].in, rc, e, t[i].err);
  }
}

static void test_log_opt(void) {
  static const struct {
    const char *in;
    int64_t size;
    int files;
    const char *err;
  } t[] = {
      {"max-size=10m", 10000000, 1, NULL}, /* decimal: docker uses FromHumanSize here */
      {"max-size=1k", 1000, 1, NULL},
      {"max-size=1KiB", 1000, 1, NULL},
      {"max-size=100", 100, 1, NULL},
      {"max-file=3", 0, 3, NULL},
      {"max-file=+2", 0, 2, NULL},
      {"max-size=0", 0, 0, "max-size must be a positive number"},
      {"max-size=x", 0, 0, "invalid size: 'x'"},
      {"max-size=10q", 0, 0, "invalid suffix: 'q'"},
      {"max-size", 0, 0, "invalid size: ''"},
      {"max-size=-1", 0, 0, "invalid size: '-1'"},
      {"max-file=0", 0, 0, "max-file cannot be less than 1"},
      {"max-file=-1", 0, 0, "max-file cannot be less than 1"},
      {"max-file=x", 0, 0, "strconv.Atoi: parsing \"x\": invalid syntax"},
      {"max-file=", 0, 0, "strconv.Atoi: parsing \"\": invalid syntax"},
      {"max-file=99999999999999999999", 0, 0, "strconv.Atoi: parsing \"99999999999999999999\": value out of range"},
      {"foo=bar", 0, 0, "unknown log opt 'foo' for json-file log driver"},
      {"Max-Size=1m", 0, 0, "unknown log opt 'Max-Size' for json-file log driver"},
      {"=x", 0, 0, "unknown log opt '' for json-file log driver"},
      {"compress=true", 0, 0, "log opt 'compress' of the json-file log driver is not supported"},
      {"tag={{.Name}}", 0, 0, "log opt 'tag' of the json-file log driver is not supported"},
  };
  for (size_t i = 0; i < ARRAY_SIZE_T(t); i++) {
    struct log_options lo = {0, 1};
    berth_error *e = NULL;
    int rc = options_parse_log_opt(t[i].in, &lo, &e);
    if (t[i].err == NULL && rc == 0) {
      EXPECT(lo.max_size == t[i].size);
      EXPECT(lo.max_file == t[i].files);
    }
    check("options_parse_log_opt", t[i].in, rc, e, t[i].err);
  }
  /* one call per --log-opt: each sets its own field only */
  struct log_options lo = {0, 1};
  berth_error *e = NULL;
  EXPECT(options_parse_log_opt("max-size=2m", &lo, &e) == 0);
  EXPECT(options_parse_log_opt("max-file=4", &lo, &e) == 0);
  EXPECT(lo.max_size == 2000000 && lo.max_file == 4);
  EXPECT(e == NULL);
}

int main(void) {
  if (getcwd(cwd, sizeof(cwd)) == NULL || mkdtemp(tmpdir) == NULL) {
    perror("setup");
    return 1;
  }
  snprintf(parent, sizeof(parent), "%s", cwd);
  char *slash = strrchr(parent, '/');
  if (slash != NULL)
    slash == parent ? (void)(slash[1] = '\0') : (void)(*slash = '\0');
  RUN(test_bytes);
  RUN(test_nano_cpus);
  RUN(test_duration);
  RUN(test_seconds);
  RUN(test_ulimit);
  RUN(test_restart);
  RUN(test_volume);
  RUN(test_mount);
  RUN(test_tmpfs);
  RUN(test_device);
  RUN(test_env);
  RUN(test_labels);
  RUN(test_env_file);
  RUN(test_signal);
  RUN(test_cpuset);
  RUN(test_user);
  RUN(test_log_opt);
  char cmd[sizeof(tmpdir) + 16];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
  if (system(cmd) != 0)
    printf("# could not remove %s\n", tmpdir);
  return tap_done();
}
