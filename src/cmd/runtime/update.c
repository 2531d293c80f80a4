#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/runtime/commands.h"
#include "runtime/spec.h"
#include "util/cleanup.h"
#include "util/fs.h"

static int parse_int64(const char *option, const char *text, int64_t *out, berth_error **err) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0')
    return berth_fail(err, 0, "%s: \"%s\" is not a number", option, text);
  *out = v;
  return 0;
}

int cmd_update(struct runtime_context *ctx, int argc, char **argv, berth_error **err) {
  enum {
    OPT_MEMORY = 300, OPT_MEMORY_SWAP, OPT_MEMORY_RESERVATION, OPT_CPU_SHARES, OPT_CPU_QUOTA, OPT_CPU_PERIOD,
    OPT_CPUSET_CPUS, OPT_CPUSET_MEMS, OPT_PIDS_LIMIT, OPT_BLKIO_WEIGHT, OPT_KERNEL_MEMORY
  };
  static const struct option options[] = {
      {"resources", required_argument, NULL, 'r'},
      {"memory", required_argument, NULL, OPT_MEMORY},
      {"memory-swap", required_argument, NULL, OPT_MEMORY_SWAP},
      {"memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION},
      {"cpu-shares", required_argument, NULL, OPT_CPU_SHARES},
      {"cpu-quota", required_argument, NULL, OPT_CPU_QUOTA},
      {"cpu-period", required_argument, NULL, OPT_CPU_PERIOD},
      {"cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS},
      {"cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS},
      {"pids-limit", required_argument, NULL, OPT_PIDS_LIMIT},
      {"blkio-weight", required_argument, NULL, OPT_BLKIO_WEIGHT},
      {"kernel-memory", required_argument, NULL, OPT_KERNEL_MEMORY},
      {NULL, 0, NULL, 0},
  };
  struct spec_resources res = {0};
  const char *resources_file = NULL;
  int ret = -1;
  int c;
  int64_t v = 0;
  unsigned long long u = 0;
  /* Flags are applied after the -r file, so they win over it. */
  struct {
    int opt;
    const char *value;
  } flags[32];
  size_t n_flags = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+r:", options, NULL)) != -1) {
    if (c == 'r') {
      resources_file = optarg;
    } else if (c >= OPT_MEMORY && c <= OPT_KERNEL_MEMORY && n_flags < 32) {
      flags[n_flags].opt = c;
      flags[n_flags++].value = optarg;
    } else {
      return berth_fail(err, 0, "update: unknown option \"%s\"", argv[optind - 1]);
    }
  }
  if (cmd_expect_args("update", argc, optind, 1, "[options] CONTAINER_ID", err) < 0)
    return -1;
  if (resources_file != NULL) {
    size_t len;
    cleanup_free char *text = strcmp(resources_file, "-") == 0 ? fs_read_fd(STDIN_FILENO, &len, err)
                                                              : fs_read_file_at(AT_FDCWD, resources_file, &len, err);
    if (text == NULL || spec_parse_resources(text, len, resources_file, &res, err) < 0)
      goto out;
  }
  for (size_t i = 0; i < n_flags; i++) {
    const char *val = flags[i].value;
    switch (flags[i].opt) {
    case OPT_MEMORY:
      if (parse_int64("--memory", val, &res.memory_limit, err) < 0)
        goto out;
      res.has_memory_limit = true;
      break;
    case OPT_MEMORY_SWAP:
      if (parse_int64("--memory-swap", val, &res.memory_swap, err) < 0)
        goto out;
      res.has_memory_swap = true;
      break;
    case OPT_MEMORY_RESERVATION:
      if (parse_int64("--memory-reservation", val, &res.memory_reservation, err) < 0)
        goto out;
      res.has_memory_reservation = true;
      break;
    case OPT_KERNEL_MEMORY:
      if (parse_int64("--kernel-memory", val, &res.memory_kernel, err) < 0)
        goto out;
      res.has_memory_kernel = true;
      break;
    case OPT_CPU_SHARES:
      if (cmd_parse_uint("--cpu-shares", val, &u, err) < 0)
        goto out;
      res.cpu_shares = u;
      res.has_cpu_shares = true;
      break;
    case OPT_CPU_QUOTA:
      if (parse_int64("--cpu-quota", val, &v, err) < 0)
        goto out;
      res.cpu_quota = v;
      res.has_cpu_quota = true;
      break;
    case OPT_CPU_PERIOD:
      if (cmd_parse_uint("--cpu-period", val, &u, err) < 0)
        goto out;
      res.cpu_period = u;
      res.has_cpu_period = true;
      break;
    case OPT_CPUSET_CPUS:
      free(res.cpu_cpus);
      res.cpu_cpus = strdup(val);
      break;
    case OPT_CPUSET_MEMS:
      free(res.cpu_mems);
      res.cpu_mems = strdup(val);
      break;
    case OPT_PIDS_LIMIT:
      if (parse_int64("--pids-limit", val, &res.pids_limit, err) < 0)
        goto out;
      res.has_pids_limit = true;
      break;
    case OPT_BLKIO_WEIGHT:
      if (cmd_parse_uint("--blkio-weight", val, &u, err) < 0)
        goto out;
      if (u != 0 && (u < 10 || u > 1000)) {
        berth_fail(err, 0, "--blkio-weight: %llu is out of range (10 to 1000)", u);
        goto out;
      }
      res.blkio_weight = (uint16_t)u;
      res.has_blkio_weight = true;
      break;
    }
  }
  ret = container_update(ctx, argv[optind], &res, err) < 0 ? -1 : 0;
out:
  spec_resources_clear(&res);
  return ret;
}
