/* cgroup_stats against fake hosts: a temporary directory standing for
 * /sys/fs/cgroup with the files a kernel would show, a fake mountinfo and
 * /proc/self/cgroup (cgroup_set_roots_for_test), read with the real
 * berth_sys. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cgroup/cgroup.h"
#include "runtime/cgroup/stats.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"

static char tmp_root[64];
static char fs_root[96];

static void put(const char *rel, const char *text) {
  char path[512];
  snprintf(path, sizeof(path), "%s%s", fs_root, rel);
  char *slash = strrchr(path, '/');
  *slash = '\0';
  fs_mkdir_p(path, 0755, NULL);
  *slash = '/';
  FILE *f = fopen(path, "w");
  if (f != NULL) {
    fputs(text, f);
    fclose(f);
  }
}

static void host(const char *mountinfo, const char *self_cgroup) {
  snprintf(tmp_root, sizeof(tmp_root), "/tmp/berth-cgstats-XXXXXX");
  if (mkdtemp(tmp_root) == NULL)
    abort();
  snprintf(fs_root, sizeof(fs_root), "%s/fs", tmp_root);
  char mi[128], sc[128];
  snprintf(mi, sizeof(mi), "%s/mountinfo", tmp_root);
  snprintf(sc, sizeof(sc), "%s/cgroup", tmp_root);
  fs_mkdir_p(fs_root, 0755, NULL);
  FILE *f = fopen(mi, "w");
  if (f != NULL) {
    fputs(mountinfo, f);
    fclose(f);
  }
  f = fopen(sc, "w");
  if (f != NULL) {
    fputs(self_cgroup, f);
    fclose(f);
  }
  cgroup_set_roots_for_test(fs_root, mi, sc);
}

static void host_done(void) {
  cgroup_set_roots_for_test(NULL, NULL, NULL);
  fs_remove_tree_at(AT_FDCWD, tmp_root, NULL);
}

static const char V2_MOUNTINFO[] =
    "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
    "30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec - cgroup2 cgroup2 rw,nsdelegate\n";

static const char HYBRID_MOUNTINFO[] = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
                                       "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
                                       "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
                                       "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
                                       "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
                                       "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
                                       "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char HYBRID_SELF[] = "5:pids:/\n4:blkio:/\n3:memory:/process_api/abc\n2:cpuacct:/\n1:cpu:/\n0::/\n";

static void test_parsers(void) {
  uint64_t r = 1, w = 1, v = 0;
  cgroup_stats_parse_blkio("8:0 Read 4096\n8:0 Write 512\n8:0 Sync 4608\n8:0 Async 0\n8:0 Discard 0\n"
                           "8:0 Total 4608\n8:16 Read 100\n8:16 Write 1\n8:16 Total 101\nTotal 4709",
                           &r, &w);
  EXPECT(r == 4196 && w == 513);
  cgroup_stats_parse_blkio("Total 0", &r, &w);
  EXPECT(r == 0 && w == 0);
  cgroup_stats_parse_io_stat("8:0 rbytes=1000 wbytes=20 rios=3 wios=1 dbytes=0 dios=0\n"
                             "253:1 rbytes=5 wbytes=7 rios=1 wios=1 dbytes=9 dios=1",
                             &r, &w);
  EXPECT(r == 1005 && w == 27);
  cgroup_stats_parse_io_stat("", &r, &w);
  EXPECT(r == 0 && w == 0);
  const char *stat = "active_file 7\ninactive_file 42\ntotal_inactive_file 99\nfile 3";
  EXPECT(cgroup_stats_key(stat, "inactive_file", &v) && v == 42);
  EXPECT(cgroup_stats_key(stat, "total_inactive_file", &v) && v == 99);
  EXPECT(cgroup_stats_key(stat, "file", &v) && v == 3);
  EXPECT(!cgroup_stats_key(stat, "inactive", &v));
  EXPECT(cgroup_stats_parse_limit("max") == CGROUP_STATS_UNLIMITED);
  EXPECT(cgroup_stats_parse_limit("9223372036854771712") == CGROUP_STATS_UNLIMITED);
  EXPECT(cgroup_stats_parse_limit("67108864") == 67108864);
}

/* Pure v2: every figure from the one directory, when its controller is
 * enabled for the cgroup. */
static void test_v2(void) {
  cleanup_error berth_error *err = NULL;
  host(V2_MOUNTINFO, "0::/user.slice\n");
  put("/berth/c1/cgroup.controllers", "cpuset cpu io memory pids\n");
  put("/berth/c1/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
  put("/berth/c1/memory.current", "20971520\n");
  put("/berth/c1/memory.max", "max\n");
  put("/berth/c1/memory.stat", "anon 100\nfile 4096\nactive_file 1\ninactive_file 4096\n");
  put("/berth/c1/io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n");
  put("/berth/c1/pids.current", "3\n");
  put("/berth/c1/pids.max", "100\n");
  struct cgroup *cg = cgroup_new("/berth/c1", "c1", &err);
  EXPECT(cg != NULL);
  struct cgroup_stats s;
  if (cg != NULL && cgroup_stats(cg, &s, &err) == 0) {
    EXPECT(s.has_cpu && s.cpu_usage_ns == 1500000);
    EXPECT(s.has_memory && s.memory_usage == 20971520 && s.memory_inactive_file == 4096);
    EXPECT(s.memory_limit == CGROUP_STATS_UNLIMITED);
    EXPECT(s.has_io && s.io_read_bytes == 4096 && s.io_write_bytes == 8192);
    EXPECT(s.has_pids && s.pids_current == 3 && s.pids_limit == 100);
  } else {
    EXPECT(!"cgroup_stats");
  }
  /* memory and io not enabled for this cgroup: their files are not read */
  put("/berth/c1/cgroup.controllers", "cpu pids\n");
  put("/berth/c1/memory.max", "1048576\n");
  if (cg != NULL && cgroup_stats(cg, &s, &err) == 0) {
    EXPECT(!s.has_memory && !s.has_io && s.has_cpu && s.has_pids);
    EXPECT(s.memory_limit == CGROUP_STATS_UNLIMITED);
  }
  cgroup_free(cg);
  /* a cgroup that is gone: no figures, no failure */
  cg = cgroup_new("/berth/gone", "gone", &err);
  if (cg != NULL && cgroup_stats(cg, &s, &err) == 0)
    EXPECT(!s.has_cpu && !s.has_memory && !s.has_io && !s.has_pids);
  else
    EXPECT(!"cgroup_stats on a missing cgroup");
  cgroup_free(cg);
  host_done();
}

/* This machine's layout: the v1 controllers answer; the cgroup2 part has
 * only hugetlb, so its memory files (if any) are not taken. */
static void test_hybrid(void) {
  cleanup_error berth_error *err = NULL;
  host(HYBRID_MOUNTINFO, HYBRID_SELF);
  put("/memory/berth/c2/memory.usage_in_bytes", "1048576\n");
  put("/memory/berth/c2/memory.limit_in_bytes", "9223372036854771712\n");
  put("/memory/berth/c2/memory.stat", "cache 0\ninactive_file 5\ntotal_inactive_file 65536\n");
  put("/cpuacct/berth/c2/cpuacct.usage", "123456789\n");
  put("/blkio/berth/c2/blkio.throttle.io_service_bytes_recursive",
      "8:0 Read 10\n8:0 Write 20\n8:0 Total 30\nTotal 30\n");
  put("/pids/berth/c2/pids.current", "2\n");
  put("/pids/berth/c2/pids.max", "max\n");
  put("/unified/berth/c2/cgroup.controllers", "hugetlb\n");
  put("/unified/berth/c2/memory.current", "1\n");
  struct cgroup *cg = cgroup_new("/berth/c2", "c2", &err);
  EXPECT(cg != NULL);
  struct cgroup_stats s;
  if (cg != NULL && cgroup_stats(cg, &s, &err) == 0) {
    EXPECT(s.has_cpu && s.cpu_usage_ns == 123456789);
    EXPECT(s.has_memory && s.memory_usage == 1048576 && s.memory_inactive_file == 65536);
    EXPECT(s.memory_limit == CGROUP_STATS_UNLIMITED);
    EXPECT(s.has_io && s.io_read_bytes == 10 && s.io_write_bytes == 20);
    EXPECT(s.has_pids && s.pids_current == 2 && s.pids_limit == CGROUP_STATS_UNLIMITED);
  } else {
    EXPECT(!"cgroup_stats");
  }
  /* without the recursive file, the plain one */
  char path[512];
  snprintf(path, sizeof(path), "%s/blkio/berth/c2/blkio.throttle.io_service_bytes_recursive", fs_root);
  unlink(path);
  put("/blkio/berth/c2/blkio.throttle.io_service_bytes", "8:0 Read 7\n8:0 Write 8\nTotal 15\n");
  put("/memory/berth/c2/memory.limit_in_bytes", "67108864\n");
  if (cg != NULL && cgroup_stats(cg, &s, &err) == 0) {
    EXPECT(s.has_io && s.io_read_bytes == 7 && s.io_write_bytes == 8);
    EXPECT(s.memory_limit == 67108864);
  }
  cgroup_free(cg);
  host_done();
}

int main(void) {
  RUN(test_parsers);
  RUN(test_v2);
  RUN(test_hybrid);
  return tap_done();
}
