/* The cgroup manager against fake hosts (a temporary directory, fake
 * mountinfo and /proc/self/cgroup, and a berth_sys that records every write)
 * and, when run as root on a host with cgroup v1 memory, the real kernel. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup/cgroup.h"
#include "runtime/cgroup/internal.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/sys.h"

#define SKIP(name, reason)                                         \
  do {                                                             \
    tap_count++;                                                   \
    printf("ok %d - %s # SKIP %s\n", tap_count, name, reason);     \
    fflush(stdout);                                                \
  } while (0)

/* ---- the fake host ----------------------------------------------------- */

static char tmp_root[64]; /* mkdtemp */
static char fs_root[96];  /* tmp_root/fs: stands for /sys/fs/cgroup */

struct fake_file {
  char *path, *data; /* path relative to fs_root */
};

static struct {
  struct fake_file files[256];
  size_t n_files;
  char *log[512]; /* "W <path>=<value>", "M <path>", "R <path>" */
  size_t n_log;
  const char *missing[8]; /* path suffixes that do not exist */
  const char *fail_write; /* path suffix whose writes fail with fail_errno */
  const char *fail_mkdir; /* path suffix whose mkdir fails with fail_errno */
  int fail_errno;
  bool memsw_rule; /* enforce memory.limit_in_bytes <= memory.memsw.limit_in_bytes */
} fk;

static const char *rel_of(const char *path) {
  size_t n = strlen(fs_root);
  return strncmp(path, fs_root, n) == 0 ? path + n : path;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool is_missing(const char *rel) {
  for (size_t i = 0; i < ARRAY_SIZE(fk.missing) && fk.missing[i] != NULL; i++)
    if (ends_with(rel, fk.missing[i]))
      return true;
  return false;
}

static struct fake_file *fake_find(const char *rel) {
  for (size_t i = 0; i < fk.n_files; i++)
    if (strcmp(fk.files[i].path, rel) == 0)
      return &fk.files[i];
  return NULL;
}

static void fake_set(const char *rel, const char *data) {
  struct fake_file *f = fake_find(rel);
  if (f == NULL && fk.n_files < ARRAY_SIZE(fk.files)) {
    f = &fk.files[fk.n_files++];
    f->path = strdup(rel);
    f->data = NULL;
  }
  if (f != NULL) {
    free(f->data);
    f->data = strdup(data);
  }
}

static const char *fake_get(const char *rel) {
  struct fake_file *f = fake_find(rel);
  return f != NULL ? f->data : NULL;
}

static void fake_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fake_log(const char *fmt, ...) {
  if (fk.n_log == ARRAY_SIZE(fk.log))
    return;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&fk.log[fk.n_log], fmt, ap) >= 0)
    fk.n_log++;
  va_end(ap);
}

/* Index of an exact log entry, or -1. */
static int log_index(const char *entry) {
  for (size_t i = 0; i < fk.n_log; i++)
    if (strcmp(fk.log[i], entry) == 0)
      return (int)i;
  return -1;
}

static size_t log_count(const char *prefix) {
  size_t n = 0;
  for (size_t i = 0; i < fk.n_log; i++)
    n += strncmp(fk.log[i], prefix, strlen(prefix)) == 0;
  return n;
}

static void log_dump(void) {
  for (size_t i = 0; i < fk.n_log; i++)
    printf("#     log[%zu] %s\n", i, fk.log[i]);
}

static long long limit_value(const char *s) {
  if (s == NULL || strcmp(s, "-1") == 0)
    return INT64_MAX;
  return strtoll(s, NULL, 10);
}

static char *sibling(const char *rel, const char *name) {
  char *out = NULL;
  const char *slash = strrchr(rel, '/');
  if (asprintf(&out, "%.*s/%s", (int)(slash - rel), rel, name) < 0)
    return NULL;
  return out;
}

static int fake_write(const char *path, const char *data, size_t len) {
  const char *rel = rel_of(path);
  cleanup_free char *value = strndup(data, len);
  if (is_missing(rel)) {
    errno = ENOENT;
    return -1;
  }
  if (fk.fail_write != NULL && ends_with(rel, fk.fail_write)) {
    errno = fk.fail_errno;
    return -1;
  }
  if (fk.memsw_rule && ends_with(rel, "/memory.limit_in_bytes")) {
    cleanup_free char *other = sibling(rel, "memory.memsw.limit_in_bytes");
    if (limit_value(value) > limit_value(fake_get(other))) {
      errno = EINVAL;
      return -1;
    }
  }
  if (fk.memsw_rule && ends_with(rel, "/memory.memsw.limit_in_bytes")) {
    cleanup_free char *other = sibling(rel, "memory.limit_in_bytes");
    if (limit_value(value) < limit_value(fake_get(other)) && fake_get(other) != NULL) {
      errno = EINVAL;
      return -1;
    }
  }
  fake_log("W %s=%s", rel, value);
  if (ends_with(rel, "/cgroup.subtree_control") && value[0] == '+') {
    /* The kernel lists what is enabled, not what was written last. */
    const char *cur = fake_get(rel);
    cleanup_free char *joined = NULL;
    if (asprintf(&joined, "%s%s%s", cur != NULL ? cur : "", cur != NULL && cur[0] ? " " : "", value + 1) >= 0)
      fake_set(rel, joined);
    return 0;
  }
  if (ends_with(rel, "/cgroup.freeze")) {
    cleanup_free char *events = sibling(rel, "cgroup.events");
    fake_set(events, strcmp(value, "1") == 0 ? "populated 1\nfrozen 1\n" : "populated 1\nfrozen 0\n");
  }
  fake_set(rel, value);
  return 0;
}

static ssize_t fake_read(const char *path, char *buf, size_t size) {
  const char *rel = rel_of(path);
  if (is_missing(rel)) {
    errno = ENOENT;
    return -1;
  }
  /* Every other cgroup file exists, empty unless set. */
  const char *data = fake_get(rel);
  if (data == NULL)
    data = "";
  size_t n = strlen(data);
  if (n > size - 1)
    n = size - 1;
  memcpy(buf, data, n);
  buf[n] = '\0';
  return (ssize_t)n;
}

static int fake_access(const char *path, int mode) {
  (void)mode;
  if (is_missing(rel_of(path))) {
    errno = ENOENT;
    return -1;
  }
  return 0;
}

static int fake_mkdir(const char *path, mode_t mode) {
  if (fk.fail_mkdir != NULL && ends_with(rel_of(path), fk.fail_mkdir)) {
    errno = fk.fail_errno;
    return -1;
  }
  if (mkdir(path, mode) < 0)
    return -1;
  fake_log("M %s", rel_of(path));
  return 0;
}

static int fake_rmdir(const char *path) {
  if (rmdir(path) < 0)
    return -1;
  fake_log("R %s", rel_of(path));
  return 0;
}

static const struct berth_sys fake_sys = {
    .mkdir = fake_mkdir,
    .rmdir = fake_rmdir,
    .write_file = fake_write,
    .read_file = fake_read,
    .access = fake_access,
};

static void fake_clear(void) {
  for (size_t i = 0; i < fk.n_files; i++) {
    free(fk.files[i].path);
    free(fk.files[i].data);
  }
  for (size_t i = 0; i < fk.n_log; i++)
    free(fk.log[i]);
  memset(&fk, 0, sizeof(fk));
}

static void log_clear(void) {
  for (size_t i = 0; i < fk.n_log; i++)
    free(fk.log[i]);
  fk.n_log = 0;
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f != NULL) {
    fputs(text, f);
    fclose(f);
  }
}

/* A fresh fake host: mountinfo and self-cgroup texts, and the directories
 * (below fs_root) that exist beforehand, NULL-terminated. */
static void host(const char *mountinfo, const char *self_cgroup, const char *const *dirs) {
  fake_clear();
  snprintf(tmp_root, sizeof(tmp_root), "/tmp/berth-cgtest-XXXXXX");
  if (mkdtemp(tmp_root) == NULL)
    abort();
  snprintf(fs_root, sizeof(fs_root), "%s/fs", tmp_root);
  char mi[128], sc[128];
  snprintf(mi, sizeof(mi), "%s/mountinfo", tmp_root);
  snprintf(sc, sizeof(sc), "%s/cgroup", tmp_root);
  write_text(mi, mountinfo);
  write_text(sc, self_cgroup);
  for (size_t i = 0; dirs != NULL && dirs[i] != NULL; i++) {
    char d[512];
    snprintf(d, sizeof(d), "%s%s", fs_root, dirs[i]);
    fs_mkdir_p(d, 0755, NULL);
  }
  fs_mkdir_p(fs_root, 0755, NULL);
  cgroup_set_roots_for_test(fs_root, mi, sc);
  berth_sys = &fake_sys;
}

static void host_done(void) {
  berth_sys = &berth_sys_real;
  cgroup_set_roots_for_test(NULL, NULL, NULL);
  fs_remove_tree_at(AT_FDCWD, tmp_root, NULL);
  fake_clear();
}

static bool dir_exists(const char *rel) {
  char d[512];
  struct stat st;
  snprintf(d, sizeof(d), "%s%s", fs_root, rel);
  return stat(d, &st) == 0;
}

/* Path of a controller relative to fs_root, for comparisons. */
static const char *cpath(struct cgroup *cg, const char *controller) {
  const char *p = cgroup_controller_path(cg, controller);
  return p != NULL ? rel_of(p) : "(none)";
}

static void print_err(const berth_error *err) {
  if (err != NULL)
    printf("#   error: %s\n", err->msg);
}

/* ---- fixtures ---------------------------------------------------------- */

/* Legacy, with co-mounted cpu,cpuacct and net_cls,net_prio, and a bind mount
 * of memory elsewhere that must not be chosen. */
static const char V1_MOUNTINFO[] =
    "25 20 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid shared:9 - cgroup cgroup rw,xattr,name=systemd\n"
    "40 20 0:25 /user.slice /mnt/mem rw - cgroup cgroup rw,memory\n"
    "27 25 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:10 - cgroup cgroup rw,cpu,cpuacct\n"
    "28 25 0:25 / /sys/fs/cgroup/memory rw,nosuid shared:11 - cgroup cgroup rw,memory\n"
    "29 25 0:26 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
    "30 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n"
    "31 25 0:28 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"
    "32 25 0:29 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n"
    "33 25 0:30 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices\n"
    "34 25 0:31 / /sys/fs/cgroup/blkio rw - cgroup cgroup rw,blkio\n"
    "35 25 0:32 / /sys/fs/cgroup/hugetlb rw - cgroup cgroup rw,hugetlb\n";
static const char V1_SELF[] = "11:hugetlb:/\n10:blkio:/user.slice\n9:devices:/user.slice\n"
                              "8:freezer:/\n7:cpuset:/\n6:net_cls,net_prio:/\n5:pids:/user.slice/s1.scope\n"
                              "4:cpu,cpuacct:/user.slice\n3:memory:/user.slice/s1.scope\n"
                              "1:name=systemd:/user.slice/s1.scope\n0::/user.slice/s1.scope\n";
static const char *const V1_DIRS[] = {
    "/systemd/user.slice/s1.scope", "/cpu,cpuacct/user.slice", "/memory/user.slice/s1.scope",
    "/pids/user.slice/s1.scope", "/net_cls,net_prio", "/cpuset", "/freezer",
    "/devices/user.slice", "/blkio/user.slice", "/hugetlb", NULL};

/* This machine: separate v1 controllers plus cgroup2 with only hugetlb. */
static const char HYBRID_MOUNTINFO[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char HYBRID_SELF[] = "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
                                  "4:memory:/process_api/abc\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";
static const char *const HYBRID_DIRS[] = {"/cpu", "/cpuacct", "/cpuset", "/memory/process_api/abc",
                                          "/devices", "/freezer", "/blkio", "/pids", "/systemd",
                                          "/unified", NULL};

static const char V2_MOUNTINFO[] =
    "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
    "30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec - cgroup2 cgroup2 rw,nsdelegate\n"
    "31 30 0:40 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n";
static const char V2_SELF[] = "1:name=systemd:/\n0::/user.slice/u.scope\n";
static const char *const V2_DIRS[] = {"/user.slice/u.scope", NULL};

static void hybrid_host(void) {
  host(HYBRID_MOUNTINFO, HYBRID_SELF, HYBRID_DIRS);
  fake_set("/unified/cgroup.controllers", "hugetlb");
}

static void v2_host(void) {
  host(V2_MOUNTINFO, V2_SELF, V2_DIRS);
  fake_set("/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc");
}

/* ---- discovery and paths ----------------------------------------------- */

static void test_detect_mode(void) {
  cleanup_error berth_error *err = NULL;
  enum cgroup_mode mode = CGROUP_MODE_V2;
  host(V1_MOUNTINFO, V1_SELF, V1_DIRS);
  EXPECT(cgroup_detect_mode(&mode, &err) == 0 && mode == CGROUP_MODE_V1);
  host_done();
  hybrid_host();
  EXPECT(cgroup_detect_mode(&mode, &err) == 0 && mode == CGROUP_MODE_HYBRID);
  host_done();
  /* A legacy name=systemd mount on a v2 host does not make it hybrid. */
  v2_host();
  EXPECT(cgroup_detect_mode(&mode, &err) == 0 && mode == CGROUP_MODE_V2);
  host_done();
  host("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", "0::/\n", NULL);
  EXPECT(cgroup_detect_mode(&mode, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "no cgroup file system is mounted");
  host_done();
}

static void test_paths_v1(void) {
  cleanup_error berth_error *err = NULL;
  host(V1_MOUNTINFO, V1_SELF, V1_DIRS);
  struct cgroup *cg = cgroup_new(NULL, "c1", &err);
  EXPECT(cg != NULL);
  print_err(err);
  if (cg != NULL) {
    EXPECT_STR(cpath(cg, "memory"), "/memory/user.slice/s1.scope/c1");
    EXPECT_STR(cpath(cg, "cpu"), "/cpu,cpuacct/user.slice/c1");
    EXPECT_STR(cpath(cg, "cpuacct"), "/cpu,cpuacct/user.slice/c1");
    EXPECT_STR(cpath(cg, "net_prio"), "/net_cls,net_prio/c1");
    EXPECT_STR(cpath(cg, "name=systemd"), "/systemd/user.slice/s1.scope/c1");
    EXPECT_STR(cpath(cg, "systemd"), "/systemd/user.slice/s1.scope/c1");
    EXPECT_STR(cpath(cg, "freezer"), "/freezer/c1");
    EXPECT_STR(cpath(cg, ""), "(none)");
    EXPECT_STR(cpath(cg, "rdma"), "(none)");
    cgroup_free(cg);
  }
  cg = cgroup_new("a/b", "c1", &err);
  EXPECT(cg != NULL);
  if (cg != NULL) {
    EXPECT_STR(cpath(cg, "pids"), "/pids/user.slice/s1.scope/a/b");
    EXPECT_STR(cpath(cg, "cpuset"), "/cpuset/a/b");
    cgroup_free(cg);
  }
  cg = cgroup_new("//berth/./c1/", "ignored", &err);
  EXPECT(cg != NULL);
  if (cg != NULL) {
    EXPECT_STR(cpath(cg, "memory"), "/memory/berth/c1");
    EXPECT_STR(cpath(cg, "cpuacct"), "/cpu,cpuacct/berth/c1");
    cgroup_free(cg);
  }
  host_done();
}

/* Inside a container without a cgroup namespace: mountinfo's root field
 * says which part of the hierarchy the mount shows. */
static void test_paths_mount_root(void) {
  cleanup_error berth_error *err = NULL;
  host("28 25 0:25 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n",
       "3:memory:/docker/abc/sub\n0::/\n", (const char *const[]){"/memory/sub", NULL});
  struct cgroup *cg = cgroup_new("x", NULL, &err);
  EXPECT(cg != NULL && strcmp(cpath(cg, "memory"), "/memory/sub/x") == 0);
  cgroup_free(cg);
  cg = cgroup_new("/docker/abc/y", NULL, &err);
  EXPECT(cg != NULL && strcmp(cpath(cg, "memory"), "/memory/y") == 0);
  cgroup_free(cg);
  cg = cgroup_new("/y", NULL, &err);
  EXPECT(cg != NULL && strcmp(cpath(cg, "memory"), "/memory/y") == 0);
  cgroup_free(cg);
  cg = cgroup_new(NULL, "id1", &err);
  EXPECT(cg != NULL && strcmp(cpath(cg, "memory"), "/memory/sub/id1") == 0);
  cgroup_free(cg);
  host_done();
}

static void test_paths_hybrid_v2(void) {
  cleanup_error berth_error *err = NULL;
  hybrid_host();
  struct cgroup *cg = cgroup_new(NULL, "c1", &err);
  EXPECT(cg != NULL);
  if (cg != NULL) {
    EXPECT_STR(cpath(cg, "memory"), "/memory/process_api/abc/c1");
    EXPECT_STR(cpath(cg, "cpu"), "/cpu/c1");
    EXPECT_STR(cpath(cg, "cpuacct"), "/cpuacct/c1");
    EXPECT_STR(cpath(cg, "name=systemd"), "/systemd/c1");
    EXPECT_STR(cpath(cg, ""), "/unified/c1");
    /* hugetlb lives on the cgroup2 side here */
    EXPECT_STR(cpath(cg, "hugetlb"), "/unified/c1");
    cgroup_free(cg);
  }
  host_done();

  v2_host();
  cg = cgroup_new(NULL, "c1", &err);
  EXPECT(cg != NULL);
  if (cg != NULL) {
    EXPECT_STR(cpath(cg, ""), "/user.slice/u.scope/c1");
    EXPECT_STR(cpath(cg, "memory"), "/user.slice/u.scope/c1");
    EXPECT_STR(cpath(cg, "systemd"), "(none)");
    cgroup_free(cg);
  }
  cg = cgroup_new("/machine/c2", "c2", &err);
  EXPECT(cg != NULL && strcmp(cpath(cg, ""), "/machine/c2") == 0);
  cgroup_free(cg);
  /* systemd's slice:prefix:name, without systemd */
  cg = cgroup_new("machine.slice:berth:abc", "abc", &err);
  EXPECT(cg != NULL && strcmp(cpath(cg, ""), "/machine.slice/berth-abc.scope") == 0);
  cgroup_free(cg);
  cg = cgroup_new(":berth:abc", "abc", &err);
  EXPECT(cg != NULL && strcmp(cpath(cg, ""), "/system.slice/berth-abc.scope") == 0);
  cgroup_free(cg);
  host_done();
}

static void test_path_rejects(void) {
  v2_host();
  static const char *const bad[] = {"../x", "a/../../b", "/a/..", ".."};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    cleanup_error berth_error *err = NULL;
    struct cgroup *cg = cgroup_new(bad[i], "c1", &err);
    EXPECT(cg == NULL);
    cgroup_free(cg);
    EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "\"..\" components are not allowed");
  }
  cleanup_error berth_error *err = NULL;
  EXPECT(cgroup_new(NULL, "a/b", &err) == NULL);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "container id \"a/b\"");
  EXPECT(cgroup_new("/", "c1", &err) == NULL);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "is the root of the cgroup2 hierarchy");
  EXPECT(fk.n_log == 0);
  host_done();
}

/* ---- v2 resources ------------------------------------------------------ */

static void test_v2_conversions(void) {
  cleanup_error berth_error *err = NULL;
  v2_host();
  struct cgroup *cg = cgroup_new("/berth/c1", "c1", &err);
  EXPECT(cg != NULL);
  if (cg == NULL)
    return host_done();
  struct spec_throttle_device rbps[] = {{8, 0, 1048576}, {8, 16, 0}};
  struct spec_throttle_device wiops[] = {{8, 0, 100}};
  struct spec_hugepage_limit huge[] = {{"2MB", 4194304}, {"1GB", 0}, {"64KB", 65536}, {"2048KB", 1}};
  struct spec_weight_device wdev[] = {{8, 0, true, false, 1000, 0}};
  struct spec_key_value unified[] = {{"memory.high", "50000000"}, {"pids.max", "7"}};
  struct spec_resources r = {
      .has_memory_limit = true, .memory_limit = 104857600,
      .has_memory_swap = true, .memory_swap = 314572800,
      .has_memory_reservation = true, .memory_reservation = 52428800,
      .has_cpu_shares = true, .cpu_shares = 1024, .has_cpu_quota = true, .cpu_quota = 50000,
      .has_cpu_period = true, .cpu_period = 100000, .cpu_cpus = "0-1", .cpu_mems = "0",
      .has_pids_limit = true, .pids_limit = 100, .has_blkio_weight = true, .blkio_weight = 500,
      .blkio_weight_device = wdev, .n_blkio_weight_device = 1,
      .blkio_throttle = {rbps, NULL, NULL, wiops}, .n_blkio_throttle = {2, 0, 0, 1},
      .hugepage_limits = huge, .n_hugepage_limits = 4, .unified = unified, .n_unified = 2,
  };
  EXPECT(cgroup_create(cg, &r, &err) == 0);
  print_err(err);
  EXPECT(log_index("M /berth") >= 0 && log_index("M /berth/c1") >= 0);
  /* controllers enabled top-down in both ancestors, not in the leaf */
  EXPECT_STR(fake_get("/cgroup.subtree_control"), "cpuset cpu io memory hugetlb pids rdma misc");
  EXPECT_STR(fake_get("/berth/cgroup.subtree_control"), "cpuset cpu io memory hugetlb pids rdma misc");
  EXPECT(fake_get("/berth/c1/cgroup.subtree_control") == NULL);
  EXPECT(log_index("W /cgroup.subtree_control=+memory") <
         log_index("W /berth/cgroup.subtree_control=+memory"));
  EXPECT(log_index("W /berth/c1/memory.max=104857600") >= 0);
  EXPECT(log_index("W /berth/c1/memory.low=52428800") >= 0);
  EXPECT(log_index("W /berth/c1/memory.swap.max=209715200") >= 0);
  /* 1 + ((1024 - 2) * 9999) / 262142 */
  EXPECT(log_index("W /berth/c1/cpu.weight=39") >= 0);
  EXPECT(log_index("W /berth/c1/cpu.max=50000 100000") >= 0);
  EXPECT(log_index("W /berth/c1/cpuset.cpus=0-1") >= 0);
  EXPECT(log_index("W /berth/c1/cpuset.mems=0") >= 0);
  EXPECT(log_index("W /berth/c1/pids.max=100") >= 0);
  /* 1 + (500 - 10) * 9999 / 990 */
  EXPECT(log_index("W /berth/c1/io.weight=default 4950") >= 0);
  EXPECT(log_index("W /berth/c1/io.weight=8:0 10000") >= 0);
  EXPECT(log_index("W /berth/c1/io.max=8:0 rbps=1048576 wiops=100") >= 0);
  EXPECT(log_index("W /berth/c1/io.max=8:16 rbps=max") >= 0);
  EXPECT(log_index("W /berth/c1/hugetlb.2MB.max=4194304") >= 0);
  EXPECT(log_index("W /berth/c1/hugetlb.1GB.max=0") >= 0);
  EXPECT(log_index("W /berth/c1/hugetlb.64KB.max=65536") >= 0);
  EXPECT(log_index("W /berth/c1/hugetlb.2MB.max=1") >= 0);
  /* unified last, so it overrides pids.max=100 */
  EXPECT(log_index("W /berth/c1/memory.high=50000000") > log_index("W /berth/c1/pids.max=100"));
  EXPECT(log_index("W /berth/c1/pids.max=7") > log_index("W /berth/c1/pids.max=100"));
  if (tap_current_failed)
    log_dump();

  /* update: quota -1 -> max; a period alone keeps the quota there is;
   * shares at the ends of the range; swap -1 -> max */
  log_clear();
  struct spec_resources u = {.has_cpu_quota = true,
                             .cpu_quota = -1,
                             .has_cpu_period = true,
                             .cpu_period = 100000,
                             .has_memory_limit = true,
                             .memory_limit = 1 << 20,
                             .has_memory_swap = true,
                             .memory_swap = -1,
                             .has_cpu_shares = true,
                             .cpu_shares = 2,
                             .has_pids_limit = true};
  EXPECT(cgroup_apply(cg, &u, &err) == 0);
  EXPECT(log_index("W /berth/c1/cpu.max=max 100000") >= 0);
  EXPECT(log_index("W /berth/c1/memory.swap.max=max") >= 0);
  EXPECT(log_index("W /berth/c1/cpu.weight=1") >= 0);
  EXPECT(log_index("W /berth/c1/pids.max=max") >= 0);
  fake_set("/berth/c1/cpu.max", "20000 100000");
  struct spec_resources u2 = {.has_cpu_period = true, .cpu_period = 250000, .has_cpu_shares = true,
                              .cpu_shares = 262144};
  EXPECT(cgroup_apply(cg, &u2, &err) == 0);
  EXPECT(log_index("W /berth/c1/cpu.max=20000 250000") >= 0);
  EXPECT(log_index("W /berth/c1/cpu.weight=10000") >= 0);
  /* swap below the limit, and swap without a limit */
  struct spec_resources bad = {.has_memory_limit = true, .memory_limit = 200, .has_memory_swap = true,
                               .memory_swap = 100};
  EXPECT(cgroup_apply(cg, &bad, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "memory+swap limit 100 is below the memory limit 200");
  log_clear();
  EXPECT(cgroup_apply(cg, &bad, &err) < 0 && log_count("W ") == 0);
  /* swap alone is measured against the limit in force */
  fake_set("/berth/c1/memory.max", "max");
  struct spec_resources bad2 = {.has_memory_swap = true, .memory_swap = 100};
  EXPECT(cgroup_apply(cg, &bad2, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "needs a memory limit");
  fake_set("/berth/c1/memory.max", "1000");
  struct spec_resources swap_only = {.has_memory_swap = true, .memory_swap = 1500};
  EXPECT(cgroup_apply(cg, &swap_only, &err) == 0);
  EXPECT(log_index("W /berth/c1/memory.swap.max=500") >= 0);
  /* realtime has no v2 files */
  struct spec_resources rt = {.has_cpu_rt_runtime = true, .cpu_rt_runtime = 1000};
  EXPECT(cgroup_apply(cg, &rt, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "realtime");
  if (tap_current_failed)
    log_dump();

  EXPECT(cgroup_destroy(cg, &err) == 0);
  EXPECT(!dir_exists("/berth/c1") && !dir_exists("/berth"));
  EXPECT(log_index("R /berth/c1") >= 0 && log_index("R /berth/c1") < log_index("R /berth"));
  cgroup_free(cg);
  host_done();
}

static void test_v2_enable_busy(void) {
  cleanup_error berth_error *err = NULL;
  v2_host();
  struct cgroup *cg = cgroup_new(NULL, "c1", &err);
  fk.fail_write = "/user.slice/u.scope/cgroup.subtree_control";
  fk.fail_errno = EBUSY;
  struct spec_resources r = {.has_pids_limit = true, .pids_limit = 5};
  EXPECT(cg != NULL && cgroup_create(cg, &r, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "enable controller \"pids\"");
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "u.scope/cgroup.subtree_control\" = \"+pids\"");
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "Device or resource busy");
  EXPECT(!dir_exists("/user.slice/u.scope/c1") && dir_exists("/user.slice/u.scope"));
  cgroup_free(cg);
  host_done();
}

static void test_unified_validation(void) {
  cleanup_error berth_error *err = NULL;
  v2_host();
  struct cgroup *cg = cgroup_new("/c1", "c1", &err);
  static const char *const keys[] = {"../memory.max", "a/b", "..", "", "memory..max"};
  for (size_t i = 0; cg != NULL && i < ARRAY_SIZE(keys); i++) {
    struct spec_key_value kv[] = {{"memory.high", "1"}, {(char *)keys[i], "1"}};
    struct spec_resources r = {.unified = kv, .n_unified = 2};
    EXPECT(cgroup_apply(cg, &r, &err) < 0);
    EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "unified resource key");
  }
  EXPECT(log_count("W ") == 0);
  cgroup_free(cg);
  host_done();

  host(V1_MOUNTINFO, V1_SELF, V1_DIRS);
  cg = cgroup_new("/c1", "c1", &err);
  struct spec_key_value kv[] = {{"memory.high", "1"}};
  struct spec_resources r = {.unified = kv, .n_unified = 1, .has_pids_limit = true, .pids_limit = 3};
  EXPECT(cg != NULL && cgroup_apply(cg, &r, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "unified resources need cgroup v2");
  EXPECT(log_count("W ") == 0);
  cgroup_free(cg);
  host_done();
}

/* ---- v1 resources ------------------------------------------------------ */

static void test_v1_memsw_order(void) {
  cleanup_error berth_error *err = NULL;
  host(V1_MOUNTINFO, V1_SELF, V1_DIRS);
  fk.memsw_rule = true;
  struct cgroup *cg = cgroup_new("/c1", "c1", &err);
  EXPECT(cg != NULL && cgroup_create(cg, NULL, &err) == 0);
  if (cg == NULL)
    return host_done();
  const char *lim = "W /memory/c1/memory.limit_in_bytes=", *sw = "W /memory/c1/memory.memsw.limit_in_bytes=";
  char a[128], b[128];
  /* from unlimited: the limit goes first */
  struct spec_resources r = {.has_memory_limit = true, .memory_limit = 100, .has_memory_swap = true,
                             .memory_swap = 200};
  log_clear();
  EXPECT(cgroup_apply(cg, &r, &err) == 0);
  snprintf(a, sizeof(a), "%s100", lim);
  snprintf(b, sizeof(b), "%s200", sw);
  EXPECT(log_index(a) == 0 && log_index(b) == 1);
  /* raising above the current memsw: memsw first */
  r.memory_limit = 300;
  r.memory_swap = 400;
  log_clear();
  EXPECT(cgroup_apply(cg, &r, &err) == 0);
  snprintf(a, sizeof(a), "%s300", lim);
  snprintf(b, sizeof(b), "%s400", sw);
  EXPECT(log_index(b) == 0 && log_index(a) == 1);
  /* lowering both: limit first */
  r.memory_limit = 50;
  r.memory_swap = 60;
  log_clear();
  EXPECT(cgroup_apply(cg, &r, &err) == 0);
  snprintf(a, sizeof(a), "%s50", lim);
  snprintf(b, sizeof(b), "%s60", sw);
  EXPECT(log_index(a) == 0 && log_index(b) == 1);
  /* unlimited again, from finite values */
  r.memory_limit = -1;
  r.memory_swap = -1;
  log_clear();
  EXPECT(cgroup_apply(cg, &r, &err) == 0);
  snprintf(a, sizeof(a), "%s-1", lim);
  snprintf(b, sizeof(b), "%s-1", sw);
  EXPECT(log_index(b) == 0 && log_index(a) == 1);
  if (tap_current_failed)
    log_dump();
  print_err(err);
  cgroup_destroy(cg, NULL);
  cgroup_free(cg);
  host_done();
}

static void test_v1_no_swap_accounting(void) {
  cleanup_error berth_error *err = NULL;
  host(V1_MOUNTINFO, V1_SELF, V1_DIRS);
  fk.missing[0] = "/memory.memsw.limit_in_bytes";
  struct cgroup *cg = cgroup_new("/c1", "c1", &err);
  EXPECT(cg != NULL && cgroup_create(cg, NULL, &err) == 0);
  struct spec_resources same = {.has_memory_limit = true, .memory_limit = 4096, .has_memory_swap = true,
                                .memory_swap = 4096};
  EXPECT(cg != NULL && cgroup_apply(cg, &same, &err) == 0);
  struct spec_resources unl = {.has_memory_limit = true, .memory_limit = 4096, .has_memory_swap = true,
                               .memory_swap = -1};
  EXPECT(cg != NULL && cgroup_apply(cg, &unl, &err) == 0);
  EXPECT(log_count("W /memory/c1/memory.limit_in_bytes=4096") == 2);
  EXPECT(log_count("W /memory/c1/memory.memsw") == 0);
  struct spec_resources more = {.has_memory_limit = true, .memory_limit = 4096, .has_memory_swap = true,
                                .memory_swap = 8192};
  EXPECT(cg != NULL && cgroup_apply(cg, &more, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL,
                  "memory/c1/memory.memsw.limit_in_bytes\", which does not exist");
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "memory+swap limit 8192");
  cgroup_destroy(cg, NULL);
  cgroup_free(cg);
  host_done();
}

static void test_v1_resources(void) {
  cleanup_error berth_error *err = NULL;
  host(V1_MOUNTINFO, V1_SELF, V1_DIRS);
  fake_set("/cpuset/cpuset.cpus", "0-7");
  fake_set("/cpuset/cpuset.mems", "0");
  fk.missing[0] = "/blkio.weight";
  fk.missing[1] = "/blkio.bfq.weight";
  struct cgroup *cg = cgroup_new("/berth/c1", "c1", &err);
  if (cg == NULL)
    return host_done();
  struct spec_throttle_device wbps[] = {{8, 0, 2097152}};
  struct spec_hugepage_limit huge[] = {{"2MB", 4194304}};
  struct spec_device_rule dev[] = {
      {false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rwm"}, {true, 'c', 136, -1, "rw"}};
  struct spec_key_value prio[] = {{"eth0", "5"}};
  struct spec_resources r = {
      .has_memory_limit = true, .memory_limit = 4096, .has_memory_reservation = true,
      .memory_reservation = 2048, .has_memory_swappiness = true, .memory_swappiness = 10,
      .has_disable_oom_killer = true, .disable_oom_killer = true, .has_memory_kernel = true,
      .memory_kernel = 1, .has_cpu_shares = true, .cpu_shares = 512, .has_cpu_quota = true,
      .cpu_quota = 20000, .has_cpu_period = true, .cpu_period = 100000, .has_cpu_rt_runtime = true,
      .cpu_rt_runtime = 500, .has_cpu_rt_period = true, .cpu_rt_period = 1000, .has_cpu_idle = true,
      .cpu_idle = 1, .cpu_cpus = "1", .has_pids_limit = true, .pids_limit = 0, .has_blkio_weight = true,
      .blkio_weight = 300, .blkio_throttle = {NULL, wbps, NULL, NULL}, .n_blkio_throttle = {0, 1, 0, 0},
      .hugepage_limits = huge, .n_hugepage_limits = 1, .devices = dev, .n_devices = 3,
      .has_net_class_id = true, .net_class_id = 0x100001, .net_priorities = prio, .n_net_priorities = 1,
  };
  EXPECT(cgroup_create(cg, &r, &err) == 0);
  print_err(err);
  /* cpuset: each new level gets its parent's cpus/mems before the next */
  EXPECT(log_index("M /cpuset/berth") < log_index("W /cpuset/berth/cpuset.cpus=0-7"));
  EXPECT(log_index("W /cpuset/berth/cpuset.cpus=0-7") < log_index("M /cpuset/berth/c1"));
  EXPECT(log_index("W /cpuset/berth/cpuset.mems=0") >= 0);
  EXPECT(log_index("W /cpuset/berth/c1/cpuset.cpus=0-7") >= 0);
  EXPECT(log_index("W /cpuset/berth/c1/cpuset.cpus=1") > log_index("W /cpuset/berth/c1/cpuset.cpus=0-7"));
  EXPECT(log_index("W /memory/berth/c1/memory.limit_in_bytes=4096") >= 0);
  EXPECT(log_index("W /memory/berth/c1/memory.soft_limit_in_bytes=2048") >= 0);
  EXPECT(log_index("W /memory/berth/c1/memory.swappiness=10") >= 0);
  EXPECT(log_index("W /memory/berth/c1/memory.oom_control=1") >= 0);
  EXPECT(log_count("W /memory/berth/c1/memory.kmem") == 0);
  EXPECT(log_index("W /cpu,cpuacct/berth/c1/cpu.shares=512") >= 0);
  EXPECT(log_index("W /cpu,cpuacct/berth/c1/cpu.cfs_period_us=100000") <
         log_index("W /cpu,cpuacct/berth/c1/cpu.cfs_quota_us=20000"));
  EXPECT(log_index("W /cpu,cpuacct/berth/c1/cpu.cfs_period_us=100000") >= 0);
  EXPECT(log_index("W /cpu,cpuacct/berth/c1/cpu.rt_period_us=1000") <
         log_index("W /cpu,cpuacct/berth/c1/cpu.rt_runtime_us=500"));
  EXPECT(log_index("W /cpu,cpuacct/berth/c1/cpu.rt_period_us=1000") >= 0);
  EXPECT(log_index("W /cpu,cpuacct/berth/c1/cpu.idle=1") >= 0);
  EXPECT(log_index("W /pids/berth/c1/pids.max=max") >= 0);
  EXPECT(log_count("W /blkio/berth/c1/blkio.weight") == 0);
  EXPECT(log_index("W /blkio/berth/c1/blkio.throttle.write_bps_device=8:0 2097152") >= 0);
  EXPECT(log_index("W /hugetlb/berth/c1/hugetlb.2MB.limit_in_bytes=4194304") >= 0);
  EXPECT(log_index("W /devices/berth/c1/devices.deny=a *:* rwm") ==
         log_index("W /devices/berth/c1/devices.allow=c 1:3 rwm") - 1);
  EXPECT(log_index("W /devices/berth/c1/devices.allow=c 136:* rw") >= 0);
  EXPECT(log_index("W /net_cls,net_prio/berth/c1/net_cls.classid=1048577") >= 0);
  EXPECT(log_index("W /net_cls,net_prio/berth/c1/net_prio.ifpriomap=eth0 5") >= 0);
  if (tap_current_failed)
    log_dump();
  EXPECT(cgroup_destroy(cg, &err) == 0);
  EXPECT(!dir_exists("/memory/berth") && !dir_exists("/cpu,cpuacct/berth") && !dir_exists("/systemd/berth"));
  cgroup_free(cg);
  host_done();
}

/* ---- lifecycle --------------------------------------------------------- */

/* In hybrid mode the cgroup2 hierarchy is left alone unless a resource needs
 * it, and init joins the v1 hierarchies by writing "0" to their tasks files
 * (the per-thread move the kernel does without an RCU grace period). */
static void test_hybrid_enter_self(void) {
  cleanup_error berth_error *err = NULL;
  hybrid_host();
  fs_mkdir_p(fs_root, 0755, NULL);
  struct cgroup *cg = cgroup_new("/x/y", "c1", &err);
  EXPECT(cg != NULL && cgroup_create(cg, NULL, &err) == 0);
  EXPECT(log_index("M /memory/x/y") >= 0 && log_index("M /pids/x/y") >= 0);
  EXPECT(log_index("M /unified/x") < 0 && !dir_exists("/unified/x"));
  fk.missing[0] = "/unified/x/y"; /* the fake access(2) knows only what it is told */
  EXPECT(cgroup_enter_self(cg, &err) == 0);
  EXPECT(log_index("W /memory/x/y/tasks=0") >= 0 && log_index("W /cpu/x/y/tasks=0") >= 0);
  EXPECT(log_index("W /unified/x/y/cgroup.procs=0") < 0);
  EXPECT(cgroup_destroy(cg, &err) == 0);
  EXPECT(!dir_exists("/memory/x") && !dir_exists("/pids/x"));
  cgroup_free(cg);
  host_done();
}

static void test_create_failure_cleanup(void) {
  cleanup_error berth_error *err = NULL;
  hybrid_host();
  fs_mkdir_p(fs_root, 0755, NULL);
  /* mkdir fails in the last hierarchy (cgroup2, made in hybrid mode only
   * for a resource that lives there), after all others were made */
  fk.fail_mkdir = "/unified/x/y";
  fk.fail_errno = EACCES;
  struct spec_hugepage_limit huge = {.page_size = (char *)"2MB", .limit = 2097152};
  struct spec_resources needs_v2 = {.hugepage_limits = &huge, .n_hugepage_limits = 1};
  struct cgroup *cg = cgroup_new("/x/y", "c1", &err);
  EXPECT(cg != NULL && cgroup_create(cg, &needs_v2, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "mkdir \"");
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "/fs/unified/x/y\": Permission denied");
  EXPECT(log_index("M /cpu/x/y") >= 0 && log_index("R /cpu/x/y") >= 0 && log_index("R /cpu/x") >= 0);
  EXPECT(log_index("M /unified/x") >= 0 && log_index("R /unified/x") >= 0);
  EXPECT(log_index("M /pids/x/y") >= 0 && log_index("R /pids/x/y") >= 0);
  EXPECT(!dir_exists("/cpu/x") && !dir_exists("/memory/x") && !dir_exists("/pids/x") &&
         !dir_exists("/unified/x"));
  EXPECT(log_count("M ") == log_count("R "));
  cgroup_free(cg);

  /* a write fails while applying: the error names file and value, and
   * only what was made goes, the pre-existing parent stays */
  fk.fail_mkdir = NULL;
  fk.fail_write = "/memory.limit_in_bytes";
  fk.fail_errno = EBUSY;
  fs_mkdir_p(strcat(strcpy((char[256]){0}, fs_root), "/memory/pre"), 0755, NULL);
  log_clear();
  cg = cgroup_new("/pre/c", "c1", &err);
  struct spec_resources r = {.has_memory_limit = true, .memory_limit = 4096};
  EXPECT(cg != NULL && cgroup_create(cg, &r, &err) < 0);
  char want[512];
  snprintf(want, sizeof(want),
           "write \"%s/memory/pre/c/memory.limit_in_bytes\" = \"4096\": Device or resource busy", fs_root);
  EXPECT_STR(err != NULL ? err->msg : NULL, want);
  EXPECT(dir_exists("/memory/pre") && !dir_exists("/memory/pre/c"));
  EXPECT(!dir_exists("/cpu/pre") && !dir_exists("/unified/pre"));
  EXPECT(log_index("R /memory/pre") < 0);
  cgroup_free(cg);

  /* a made parent shared by another container's cgroup stays */
  fk.fail_write = NULL;
  cg = cgroup_new("/shared/c1", "c1", &err);
  EXPECT(cg != NULL && cgroup_create(cg, NULL, &err) == 0);
  fs_mkdir_p(strcat(strcpy((char[256]){0}, fs_root), "/memory/shared/c2"), 0755, NULL);
  EXPECT(cgroup_destroy(cg, &err) == 0);
  EXPECT(dir_exists("/memory/shared/c2") && !dir_exists("/memory/shared/c1") && !dir_exists("/cpu/shared"));
  cgroup_free(cg);
  if (tap_current_failed)
    log_dump();
  host_done();
}

static void test_hybrid_split(void) {
  cleanup_error berth_error *err = NULL;
  hybrid_host();
  struct cgroup *cg = cgroup_new(NULL, "c1", &err);
  struct spec_hugepage_limit huge[] = {{"2MB", 2097152}};
  struct spec_resources r = {.has_memory_limit = true, .memory_limit = 8192, .hugepage_limits = huge,
                             .n_hugepage_limits = 1};
  EXPECT(cg != NULL && cgroup_create(cg, &r, &err) == 0);
  print_err(err);
  EXPECT(log_index("W /memory/process_api/abc/c1/memory.limit_in_bytes=8192") >= 0);
  EXPECT(log_index("W /unified/cgroup.subtree_control=+hugetlb") >= 0);
  EXPECT(log_index("W /unified/c1/hugetlb.2MB.max=2097152") >= 0);
  /* the hybrid cgroup2 side enables only what is needed */
  EXPECT(log_count("W /unified/cgroup.subtree_control=") == 1);
  EXPECT(cgroup_enter(cg, 1234, &err) == 0);
  EXPECT(log_index("W /systemd/c1/cgroup.procs=1234") >= 0);
  EXPECT(log_index("W /unified/c1/cgroup.procs=1234") >= 0);
  EXPECT(log_index("W /memory/process_api/abc/c1/cgroup.procs=1234") >= 0);
  EXPECT(log_count("W ") == 3 + 10);
  /* a v1 controller this host lacks */
  struct spec_resources net = {.has_net_class_id = true, .net_class_id = 1};
  EXPECT(cgroup_apply(cg, &net, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "net_cls controller");
  if (tap_current_failed)
    log_dump();
  cgroup_destroy(cg, NULL);
  cgroup_free(cg);
  host_done();
}

static void test_serialize(void) {
  cleanup_error berth_error *err = NULL;
  hybrid_host();
  struct cgroup *cg = cgroup_new("my cg|x%y/c 1", "c1", &err);
  EXPECT(cg != NULL && cgroup_create(cg, NULL, &err) == 0);
  cleanup_free char *text = cg != NULL ? cgroup_serialize(cg, &err) : NULL;
  EXPECT(text != NULL && strchr(text, '\n') == NULL && strchr(text, ' ') == NULL);
  EXPECT(text != NULL && strncmp(text, "cg1|hybrid|10|", 14) == 0);
  struct cgroup *back = text != NULL ? cgroup_deserialize(text, &err) : NULL;
  EXPECT(back != NULL);
  if (back != NULL) {
    EXPECT_STR(cpath(back, "memory"), "/memory/process_api/abc/my cg|x%y/c 1");
    EXPECT_STR(cpath(back, ""), "/unified/my cg|x%y/c 1");
    EXPECT_STR(cpath(back, "cpu"), "/cpu/my cg|x%y/c 1");
    cleanup_free char *again = cgroup_serialize(back, &err);
    EXPECT_STR(again, text);
    /* another process destroys what this one made */
    EXPECT(cgroup_destroy(back, &err) == 0);
    EXPECT(!dir_exists("/memory/process_api/abc/my cg|x%y") && !dir_exists("/unified/my cg|x%y"));
    EXPECT(dir_exists("/memory/process_api/abc"));
  }
  cgroup_free(back);
  cgroup_free(cg);
  static const char *const bad[] = {"",
                                    "cg1",
                                    "cg1|v1|1|1|cpu|0|/a",
                                    "cg2|v1|0",
                                    "cg1|v9|1|1|cpu|0|/a|/b",
                                    "cg1|v1|1|1|cpu|x|/a|/b",
                                    "cg1|v1|1|1|cpu|0|/a|b",
                                    "cg1|v1|1|1|c%Zu|0|/a|/b"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    struct cgroup *b = cgroup_deserialize(bad[i], &err);
    EXPECT(b == NULL);
    cgroup_free(b);
  }
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "is malformed");
  host_done();
}

static void test_freeze_pids_oom(void) {
  cleanup_error berth_error *err = NULL;
  host(V1_MOUNTINFO, V1_SELF, V1_DIRS);
  struct cgroup *cg = cgroup_new("/c1", "c1", &err);
  EXPECT(cg != NULL && cgroup_create(cg, NULL, &err) == 0);
  bool frozen = true;
  EXPECT(cgroup_freeze(cg, true, &err) == 0);
  EXPECT(log_index("W /freezer/c1/freezer.state=FROZEN") >= 0);
  EXPECT(cgroup_is_frozen(cg, &frozen, &err) == 0 && frozen);
  EXPECT(cgroup_freeze(cg, false, &err) == 0);
  EXPECT(cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen);
  fake_set("/memory/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  unsigned long long kills = 0;
  EXPECT(cgroup_oom_kills(cg, &kills, &err) == 0 && kills == 3);
  /* processes of child cgroups count too */
  fake_set("/freezer/c1/cgroup.procs", "10\n11\n");
  fake_set("/freezer/c1/sub/cgroup.procs", "12\n");
  fs_mkdir_p(strcat(strcpy((char[256]){0}, fs_root), "/freezer/c1/sub"), 0755, NULL);
  pid_t *pids = NULL;
  size_t n = 0;
  EXPECT(cgroup_pids(cg, &pids, &n, &err) == 0 && n == 3);
  if (n == 3)
    EXPECT(pids[0] + pids[1] + pids[2] == 33);
  free(pids);
  /* destroy removes the cgroup the container made inside first */
  log_clear();
  EXPECT(cgroup_destroy(cg, &err) == 0);
  EXPECT(log_index("R /freezer/c1/sub") >= 0 && log_index("R /freezer/c1/sub") < log_index("R /freezer/c1"));
  EXPECT(cgroup_destroy(cg, &err) == 0);
  cgroup_free(cg);
  host_done();

  v2_host();
  cg = cgroup_new("/c1", "c1", &err);
  EXPECT(cg != NULL && cgroup_create(cg, NULL, &err) == 0);
  EXPECT(cgroup_freeze(cg, true, &err) == 0);
  EXPECT(log_index("W /c1/cgroup.freeze=1") >= 0);
  EXPECT(cgroup_is_frozen(cg, &frozen, &err) == 0 && frozen);
  EXPECT(cgroup_freeze(cg, false, &err) == 0);
  EXPECT(cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen);
  fake_set("/c1/memory.events", "low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\noom_group_kill 0\n");
  EXPECT(cgroup_oom_kills(cg, &kills, &err) == 0 && kills == 2);
  /* SIGKILL goes through cgroup.kill */
  EXPECT(cgroup_kill_all(cg, SIGKILL, &err) == 0);
  EXPECT(log_index("W /c1/cgroup.kill=1") >= 0);
  print_err(err);
  cgroup_destroy(cg, NULL);
  cgroup_free(cg);
  host_done();
}

/* ---- device programs --------------------------------------------------- */

/* Runs a device program on one request, interpreting the few instructions
 * the compiler emits; -1 for anything else. */
static int run_prog(const struct bpf_insn *p, size_t n, char type, const char *access, uint32_t major,
                    uint32_t minor) {
  uint32_t acc = 0;
  for (; *access != '\0'; access++)
    acc |= *access == 'r' ? BPF_DEVCG_ACC_READ : *access == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  uint32_t ctx[3] = {acc << 16 | (type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK), major, minor};
  uint64_t reg[11] = {0};
  for (size_t pc = 0; pc < n; pc++) {
    const struct bpf_insn *i = &p[pc];
    uint64_t imm = (uint64_t)(int64_t)i->imm;
    switch (i->code) {
    case BPF_LDX | BPF_W | BPF_MEM:
      if (i->src_reg != 1 || i->off % 4 != 0 || i->off / 4 > 2)
        return -1;
      reg[i->dst_reg] = ctx[i->off / 4];
      break;
    case BPF_ALU64 | BPF_MOV | BPF_X: reg[i->dst_reg] = reg[i->src_reg]; break;
    case BPF_ALU64 | BPF_MOV | BPF_K: reg[i->dst_reg] = imm; break;
    case BPF_ALU64 | BPF_AND | BPF_K: reg[i->dst_reg] &= imm; break;
    case BPF_ALU64 | BPF_RSH | BPF_K: reg[i->dst_reg] >>= imm; break;
    case BPF_JMP | BPF_JNE | BPF_K: if (reg[i->dst_reg] != imm) pc += (size_t)i->off; break;
    case BPF_JMP | BPF_JEQ | BPF_K: if (reg[i->dst_reg] == imm) pc += (size_t)i->off; break;
    case BPF_JMP | BPF_EXIT: return (int)reg[0];
    default: return -1;
    }
  }
  return -2;
}

static void test_device_program(void) {
  cleanup_error berth_error *err = NULL;
  struct spec_device_rule rules[] = {{false, 'a', -1, -1, "rwm"},
                                     {true, 'c', 1, 3, "rwm"},
                                     {true, 'c', 136, -1, "rw"},
                                     {false, 'c', 1, 3, "w"}};
  struct bpf_insn *p = NULL;
  size_t n = 0;
  EXPECT(cg_v2_device_program(rules, 4, &p, &n, &err) == 0);
  EXPECT(run_prog(p, n, 'c', "r", 1, 3) == 1);
  EXPECT(run_prog(p, n, 'c', "rw", 1, 3) == 0);
  EXPECT(run_prog(p, n, 'c', "m", 1, 3) == 1);
  EXPECT(run_prog(p, n, 'c', "rw", 136, 5) == 1);
  EXPECT(run_prog(p, n, 'c', "m", 136, 5) == 0);
  EXPECT(run_prog(p, n, 'b', "r", 1, 3) == 0);
  EXPECT(run_prog(p, n, 'c', "r", 1, 5) == 0);
  /* nothing after the catch-all deny: the verifier refuses dead code */
  EXPECT(n > 0 && p[n - 1].code == (BPF_JMP | BPF_EXIT) && p[n - 2].imm == 0);
  free(p);
  /* no deny-all: everything else stays allowed, as on v1 */
  struct spec_device_rule some[] = {{false, 'b', 8, -1, "w"}};
  EXPECT(cg_v2_device_program(some, 1, &p, &n, &err) == 0);
  EXPECT(run_prog(p, n, 'b', "w", 8, 1) == 0);
  EXPECT(run_prog(p, n, 'b', "r", 8, 1) == 1);
  EXPECT(run_prog(p, n, 'c', "w", 8, 1) == 1);
  free(p);
  struct spec_device_rule badtype[] = {{true, 'x', -1, -1, "rwm"}};
  EXPECT(cg_v2_device_program(badtype, 1, &p, &n, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "type 'x'");
  struct spec_device_rule badacc[] = {{true, 'c', 1, 1, "rx"}};
  EXPECT(cg_v2_device_program(badacc, 1, &p, &n, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "access \"rx\"");
}

static void test_hugetlb_names(void) {
  char b[32];
  static const char *const in[] = {"2MB", "1GB", "64KB", "2048KB", "2M", "2MiB", "1024MB", "16GB"};
  static const char *const out[] = {"2MB", "1GB", "64KB", "2MB", "2MB", "2MB", "1GB", "16GB"};
  for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
    b[0] = '\0';
    EXPECT(cg_hugetlb_name(in[i], b, sizeof(b), NULL) == 0);
    EXPECT_STR(b, out[i]);
  }
  EXPECT(cg_hugetlb_name("2XB", b, sizeof(b), NULL) < 0);
  EXPECT(cg_hugetlb_name("MB", b, sizeof(b), NULL) < 0);
  EXPECT(cg_hugetlb_name("2MBx", b, sizeof(b), NULL) < 0);
}

/* ---- the real kernel ----------------------------------------------------- */

static char *read_text(const char *dir, const char *file) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, file);
  char *s = fs_read_file_at(AT_FDCWD, path, NULL, NULL);
  if (s != NULL)
    s[strcspn(s, "\n")] = '\0';
  return s;
}

/* A child that waits for a byte on fd, forks a grandchild if asked, says
 * "ready" and sleeps. */
static pid_t spawn_sleeper(int *ctl, int *ready, bool grandchild) {
  int a[2], b[2];
  if (pipe(a) < 0 || pipe(b) < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    close(a[1]);
    close(b[0]);
    if (read(a[0], &c, 1) != 1)
      _exit(1);
    if (grandchild && fork() == 0) {
      for (;;)
        pause();
    }
    if (write(b[1], "r", 1) != 1)
      _exit(1);
    for (;;)
      pause();
  }
  close(a[0]);
  close(b[1]);
  *ctl = a[1];
  *ready = b[0];
  return pid;
}

static void reap_all(void) {
  while (waitpid(-1, NULL, 0) > 0)
    ;
}

static void test_real_kernel(void) {
  berth_sys = &berth_sys_real;
  cgroup_set_roots_for_test(NULL, NULL, NULL);
  /* grandchildren come back to us, so nothing lingers as a zombie */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  cleanup_error berth_error *err = NULL;
  char id[64];
  snprintf(id, sizeof(id), "berth-unit-%d", (int)getpid());
  struct cgroup *cg = cgroup_new(NULL, id, &err);
  EXPECT(cg != NULL);
  print_err(err);
  if (cg == NULL)
    return;
  struct spec_device_rule dev[] = {{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rwm"}};
  struct spec_resources r = {.has_memory_limit = true, .memory_limit = 64 << 20, .has_pids_limit = true,
                             .pids_limit = 32, .has_memory_swap = true, .memory_swap = 128 << 20,
                             .has_cpu_shares = true, .cpu_shares = 512, .has_cpu_quota = true,
                             .cpu_quota = 50000, .has_cpu_period = true, .cpu_period = 100000,
                             .has_blkio_weight = true, .blkio_weight = 500, .devices = dev, .n_devices = 2};
  EXPECT(cgroup_create(cg, &r, &err) == 0);
  print_err(err);
  /* remember every directory, to check that none is left */
  static const char *const names[] = {"memory", "pids", "cpu", "cpuacct", "cpuset", "devices", "freezer",
                                      "blkio", "name=systemd", ""};
  char *dirs[ARRAY_SIZE(names)] = {0};
  for (size_t i = 0; i < ARRAY_SIZE(names); i++)
    dirs[i] = cgroup_controller_path(cg, names[i]) ? strdup(cgroup_controller_path(cg, names[i])) : NULL;

  cleanup_free char *limit = read_text(cgroup_controller_path(cg, "memory"), "memory.limit_in_bytes");
  EXPECT_STR(limit, "67108864");
  cleanup_free char *pmax = read_text(cgroup_controller_path(cg, "pids"), "pids.max");
  EXPECT_STR(pmax, "32");
  const char *mem = cgroup_controller_path(cg, "memory");
  if (cg_exists(mem, "memory.memsw.limit_in_bytes")) {
    cleanup_free char *memsw = read_text(mem, "memory.memsw.limit_in_bytes");
    EXPECT_STR(memsw, "134217728");
    /* lowering both needs the limit first, the kernel enforces it */
    struct spec_resources lower = {.has_memory_limit = true, .memory_limit = 32 << 20,
                                   .has_memory_swap = true, .memory_swap = 48 << 20};
    EXPECT(cgroup_apply(cg, &lower, &err) == 0);
    print_err(err);
    cleanup_free char *l2 = read_text(mem, "memory.limit_in_bytes");
    cleanup_free char *s2 = read_text(mem, "memory.memsw.limit_in_bytes");
    EXPECT_STR(l2, "33554432");
    EXPECT_STR(s2, "50331648");
    /* raising above memsw needs memsw first */
    struct spec_resources raise = {.has_memory_limit = true, .memory_limit = 96 << 20,
                                   .has_memory_swap = true, .memory_swap = 160 << 20};
    EXPECT(cgroup_apply(cg, &raise, &err) == 0);
    print_err(err);
    cleanup_free char *l3 = read_text(mem, "memory.limit_in_bytes");
    EXPECT_STR(l3, "100663296");
  }
  cleanup_free char *shares = read_text(cgroup_controller_path(cg, "cpu"), "cpu.shares");
  EXPECT_STR(shares, "512");
  cleanup_free char *quota = read_text(cgroup_controller_path(cg, "cpu"), "cpu.cfs_quota_us");
  EXPECT_STR(quota, "50000");
  cleanup_free char *devs = read_text(cgroup_controller_path(cg, "devices"), "devices.list");
  EXPECT_STR(devs, "c 1:3 rwm");
  if (cgroup_controller_path(cg, "cpuset") != NULL) {
    cleanup_free char *cpus = read_text(cgroup_controller_path(cg, "cpuset"), "cpuset.cpus");
    EXPECT(cpus != NULL && cpus[0] != '\0');
  }

  int ctl = -1, ready = -1;
  char c = 'x';
  pid_t child = spawn_sleeper(&ctl, &ready, true);
  EXPECT(child > 0 && cgroup_enter(cg, child, &err) == 0);
  print_err(err);
  EXPECT(write(ctl, "go", 1) == 1 && read(ready, &c, 1) == 1);
  close(ctl);
  close(ready);
  /* a cgroup the container makes inside its own */
  const char *fdir = cgroup_controller_path(cg, "freezer");
  char sub[512] = "";
  if (fdir != NULL) {
    snprintf(sub, sizeof(sub), "%s/inner", fdir);
    EXPECT(mkdir(sub, 0755) == 0);
  }

  pid_t *pids = NULL;
  size_t n = 0;
  EXPECT(cgroup_pids(cg, &pids, &n, &err) == 0 && n == 2);
  bool has_child = false;
  for (size_t i = 0; i < n; i++)
    has_child = has_child || pids[i] == child;
  EXPECT(has_child);
  if (sub[0] != '\0' && n == 2) {
    /* move the grandchild into the inner cgroup: still listed */
    pid_t other = pids[0] == child ? pids[1] : pids[0];
    char v[32];
    snprintf(v, sizeof(v), "%d", (int)other);
    EXPECT(cg_write(sub, "cgroup.procs", v, &err) == 0);
    free(pids);
    pids = NULL;
    EXPECT(cgroup_pids(cg, &pids, &n, &err) == 0 && n == 2);
  }
  free(pids);

  bool frozen = false;
  EXPECT(cgroup_freeze(cg, true, &err) == 0);
  print_err(err);
  EXPECT(cgroup_is_frozen(cg, &frozen, &err) == 0 && frozen);
  EXPECT(cgroup_freeze(cg, false, &err) == 0);
  EXPECT(cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen);
  unsigned long long kills = 99;
  EXPECT(cgroup_oom_kills(cg, &kills, &err) == 0 && kills == 0);

  /* SIGTERM: freeze, signal each, thaw */
  EXPECT(cgroup_kill_all(cg, SIGTERM, &err) == 0);
  print_err(err);
  reap_all();
  EXPECT(cgroup_pids(cg, &pids, &n, &err) == 0 && n == 0);
  free(pids);
  EXPECT(cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen);

  /* SIGKILL (cgroup.kill where there is one) on a paused container: a v1
   * freezer would hold the killed process until thawed */
  child = spawn_sleeper(&ctl, &ready, false);
  EXPECT(child > 0 && cgroup_enter(cg, child, &err) == 0);
  EXPECT(write(ctl, "go", 1) == 1 && read(ready, &c, 1) == 1);
  close(ctl);
  close(ready);
  EXPECT(cgroup_freeze(cg, true, &err) == 0);
  EXPECT(cgroup_kill_all(cg, SIGKILL, &err) == 0);
  EXPECT(cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen);
  int status = 0;
  pid_t got = 0;
  for (int i = 0; i < 300 && (got = waitpid(child, &status, WNOHANG)) == 0; i++)
    usleep(10000);
  EXPECT(got == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  if (got != child) {
    cgroup_freeze(cg, false, NULL);
    kill(child, SIGKILL);
  }
  reap_all();

  /* `delete` runs in another process: go through the state string */
  cleanup_free char *state = cgroup_serialize(cg, &err);
  struct cgroup *again = state != NULL ? cgroup_deserialize(state, &err) : NULL;
  EXPECT(again != NULL && cgroup_destroy(again, &err) == 0);
  print_err(err);
  cgroup_free(again);
  for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
    struct stat st;
    if (dirs[i] != NULL && stat(dirs[i], &st) == 0) {
      printf("#   left behind: %s\n", dirs[i]);
      tap_current_failed = 1;
      rmdir(dirs[i]);
    }
    free(dirs[i]);
  }
  cgroup_free(cg);
}

static const char *real_v2_mount(void) {
  static const char *const candidates[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
  for (size_t i = 0; i < ARRAY_SIZE(candidates); i++) {
    char p[128];
    snprintf(p, sizeof(p), "%s/cgroup.subtree_control", candidates[i]);
    if (access(p, F_OK) == 0)
      return candidates[i];
  }
  return NULL;
}

/* Runs a child in dir that opens /dev/null for reading and for writing;
 * returns bit 0 = read allowed, bit 1 = write allowed. */
static int probe_dev_null(const char *dir) {
  pid_t pid = fork();
  if (pid == 0) {
    char v[32];
    snprintf(v, sizeof(v), "%d", (int)getpid());
    if (cg_write(dir, "cgroup.procs", v, NULL) < 0)
      _exit(100);
    int rd = open("/dev/null", O_RDONLY), wr = open("/dev/null", O_WRONLY);
    _exit((rd >= 0 ? 1 : 0) | (wr >= 0 ? 2 : 0));
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

static void test_real_device_program(void) {
  berth_sys = &berth_sys_real;
  cleanup_error berth_error *err = NULL;
  char dir[256];
  snprintf(dir, sizeof(dir), "%s/berth-unit-bpf-%d", real_v2_mount(), (int)getpid());
  EXPECT(mkdir(dir, 0755) == 0);
  struct spec_device_rule ro[] = {{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "r"}};
  EXPECT(cg_v2_set_devices(dir, ro, 2, &err) == 0);
  print_err(err);
  EXPECT(probe_dev_null(dir) == 1);
  /* an update replaces the program, it does not add to it */
  struct spec_device_rule rw[] = {{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rw"}};
  EXPECT(cg_v2_set_devices(dir, rw, 2, &err) == 0);
  print_err(err);
  EXPECT(probe_dev_null(dir) == 3);
  EXPECT(rmdir(dir) == 0);
}

int main(void) {
  RUN(test_detect_mode);
  RUN(test_paths_v1);
  RUN(test_paths_mount_root);
  RUN(test_paths_hybrid_v2);
  RUN(test_path_rejects);
  RUN(test_v2_conversions);
  RUN(test_v2_enable_busy);
  RUN(test_unified_validation);
  RUN(test_v1_memsw_order);
  RUN(test_v1_no_swap_accounting);
  RUN(test_v1_resources);
  RUN(test_create_failure_cleanup);
  RUN(test_hybrid_enter_self);
  RUN(test_hybrid_split);
  RUN(test_serialize);
  RUN(test_freeze_pids_oom);
  RUN(test_device_program);
  RUN(test_hugetlb_names);
  if (geteuid() != 0)
    SKIP("test_real_kernel", "not root");
  else if (access("/sys/fs/cgroup/memory", F_OK) != 0)
    SKIP("test_real_kernel", "no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory");
  else
    RUN(test_real_kernel);
  if (geteuid() != 0)
    SKIP("test_real_device_program", "not root");
  else if (real_v2_mount() == NULL)
    SKIP("test_real_device_program", "no cgroup2 mount");
  else
    RUN(test_real_device_program);
  return tap_done();
}
