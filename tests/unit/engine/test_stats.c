/* The pure parts of stats and top: docker's units and percentages, /proc
 * parsers, ps output filtering and docker's check of ps options. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/stats.h"
#include "engine/top.h"
#include "tap.h"

static void test_bytes_size(void) {
  static const struct {
    uint64_t in;
    const char *out;
  } cases[] = {
      {0, "0B"},
      {1023, "1023B"},
      {1024, "1KiB"},
      {1536, "1.5KiB"},
      {491520, "480KiB"},
      {20971520, "20MiB"},
      {21474836, "20.48MiB"},
      {67108864, "64MiB"},
      {1073741824, "1GiB"},
      {25275633664ull, "23.54GiB"},
  };
  char buf[32];
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    stats_bytes_size(cases[i].in, buf, sizeof(buf));
    EXPECT_STR(buf, cases[i].out);
  }
}

static void test_percentages(void) {
  struct stats_sample prev = {.running = true, .cpu_ns = 1000000000, .system_ns = 10000000000, .online_cpus = 2};
  struct stats_sample cur = prev;
  /* half a CPU for one second, on a host whose 2 CPUs gave 2 s */
  cur.cpu_ns += 500000000;
  cur.system_ns += 2000000000;
  double p = stats_cpu_percent(&prev, &cur);
  EXPECT(p > 49.99 && p < 50.01);
  /* no time passed, a stopped container, a counter reset: 0 */
  EXPECT(stats_cpu_percent(&cur, &cur) == 0.0);
  struct stats_sample stopped = {0};
  EXPECT(stats_cpu_percent(&prev, &stopped) == 0.0);
  EXPECT(stats_cpu_percent(&cur, &prev) == 0.0);
  struct stats_sample m = {.mem_usage = 16 << 20, .mem_limit = 64 << 20};
  EXPECT(stats_mem_percent(&m) == 25.0);
  m.mem_limit = 0;
  EXPECT(stats_mem_percent(&m) == 0.0);
}

static void test_proc_parsers(void) {
  uint64_t ns = 0, rx = 1, tx = 1;
  /* user nice system idle iowait irq softirq (steal and the rest not counted) */
  EXPECT(stats_parse_proc_stat("cpu  100 0 50 800 20 5 25 1000 0 0\ncpu0 50 0 25 400 10 2 13 0 0 0\n", 100, &ns));
  EXPECT(ns == 10000000000ull);
  EXPECT(stats_parse_proc_stat("cpu  1 0 0 0 0 0 0\n", 3, &ns) && ns == 333333333);
  EXPECT(!stats_parse_proc_stat("cpu0 1 2 3\n", 100, &ns));
  EXPECT(!stats_parse_proc_stat("cpu  1 2 3\n", 100, &ns));
  const char *dev = "Inter-|   Receive                                                |  Transmit\n"
                    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop "
                    "fifo colls carrier compressed\n"
                    "    lo:    5000      10    0    0    0     0          0         0     5000      10    0    0    "
                    "0     0       0          0\n"
                    "  eth0:    1200      12    0    0    0     0          0         0      340       3    0    0    "
                    "0     0       0          0\n"
                    "  eth1:100 1 0 0 0 0 0 0 7 1 0 0 0 0 0 0\n";
  stats_parse_net_dev(dev, &rx, &tx);
  EXPECT(rx == 1300 && tx == 347);
  stats_parse_net_dev("Inter-|\n face |\n    lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n", &rx, &tx);
  EXPECT(rx == 0 && tx == 0);
}

static void test_ps_args(void) {
  berth_error *err = NULL;
  EXPECT(top_check_ps_args(" -ef", &err) == 0);
  EXPECT(top_check_ps_args(" -o pid=PID,comm", &err) == 0);
  EXPECT(top_check_ps_args(" -o user=PID", &err) < 0);
  EXPECT_STR(err != NULL ? err->msg : NULL, "specifying \"user=PID\" is not allowed");
  berth_error_free(err);
  err = NULL;
  EXPECT(top_check_ps_args(" -o comm= PIDX", &err) < 0);
  EXPECT_STR(err != NULL ? err->msg : NULL, "specifying \"comm=PIDX\" is not allowed");
  berth_error_free(err);
  err = NULL;
  /* docker's pattern needs blank space before the key */
  EXPECT(top_check_ps_args("-ouser=PID", &err) == 0);
}

static void test_ps_output(void) {
  const pid_t pids[] = {200, 201};
  const char *out = "UID          PID    PPID  C STIME TTY          TIME CMD\n"
                    "root           1       0  0 11:31 ?        00:00:01 /sbin/init splash\n"
                    "root         200     150  0 11:32 ?        00:00:00 sleep 1000\n"
                    "root         201     200  0 11:32 ?        00:00:00 sh -c while true; do x; done\n"
                    "root         300     200  0 11:32 ?        00:00:00 elsewhere\n";
  struct top_table t;
  berth_error *err = NULL;
  EXPECT(top_parse_ps(out, pids, 2, &t, &err) == 0);
  EXPECT(t.n_titles == 8 && t.n_rows == 2);
  if (t.n_titles == 8 && t.n_rows == 2) {
    EXPECT_STR(t.titles[7], "CMD");
    EXPECT_STR(t.cells[1], "200");
    EXPECT_STR(t.cells[7], "sleep 1000");
    EXPECT_STR(t.cells[8 + 7], "sh -c while true; do x; done");
  }
  top_table_clear(&t);
  /* thread rows ("-" as PID, ps -L style) follow their process */
  const char *threads = "PID TID CMD\n200 - sleep\n- 200 -\n300 - other\n- 300 -\n";
  EXPECT(top_parse_ps(threads, pids, 2, &t, &err) == 0);
  EXPECT(t.n_rows == 2);
  top_table_clear(&t);
  EXPECT(top_parse_ps("USER COMMAND\nroot x\n", pids, 2, &t, &err) < 0);
  EXPECT_STR(err != NULL ? err->msg : NULL, "Couldn't find PID field in ps output");
  berth_error_free(err);
  err = NULL;
  EXPECT(top_parse_ps("PID CMD\nabc x\n", pids, 2, &t, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "Unexpected pid 'abc'");
  berth_error_free(err);
}

int main(void) {
  RUN(test_bytes_size);
  RUN(test_percentages);
  RUN(test_proc_parsers);
  RUN(test_ps_args);
  RUN(test_ps_output);
  return tap_done();
}
