/* berth update [OPTIONS] CONTAINER...: docker's flags and output (each
 * container as given, errors one per line, exit 1 if any failed). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/berth/commands.h"
#include "engine/options.h"
#include "engine/update.h"

static const char usage_text[] = "update [OPTIONS] CONTAINER [CONTAINER...]";

static int flag_error(const char *value, const char *flag, berth_error *cause, berth_error **err) {
  berth_fail(err, 0, "invalid argument \"%s\" for \"%s\" flag: %s", value, flag, cause->msg);
  berth_error_free(cause);
  return cmd_flag_error("update", err);
}

/* Go's strconv.ParseInt for an int64 flag. */
static int parse_int(const char *value, const char *flag, int64_t *out, berth_error **err) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(value, &end, 10);
  if (*value == '\0' || *end != '\0' || errno != 0) {
    berth_fail(err, 0, "invalid argument \"%s\" for \"%s\" flag: strconv.ParseInt: parsing \"%s\": %s", value, flag,
               value, errno == ERANGE ? "value out of range" : "invalid syntax");
    return cmd_flag_error("update", err);
  }
  *out = v;
  return 0;
}

static void usage(void) {
  printf("Usage:  berth %s\n\nUpdate configuration of one or more containers\n\nOptions:\n"
         "      --cpu-period int             Limit CPU CFS (Completely Fair Scheduler) period\n"
         "      --cpu-quota int              Limit CPU CFS (Completely Fair Scheduler) quota\n"
         "  -c, --cpu-shares int             CPU shares (relative weight)\n"
         "      --cpus decimal               Number of CPUs\n"
         "      --cpuset-cpus string         CPUs in which to allow execution (0-3, 0,1)\n"
         "      --cpuset-mems string         MEMs in which to allow execution (0-3, 0,1)\n"
         "  -m, --memory bytes               Memory limit\n"
         "      --memory-reservation bytes   Memory soft limit\n"
         "      --memory-swap bytes          Swap limit equal to memory plus swap: -1 to enable unlimited swap\n"
         "      --pids-limit int             Tune container pids limit (set -1 for unlimited)\n"
         "      --restart string             Restart policy to apply when a container exits\n",
         usage_text);
}

int cmd_update(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  enum {
    OPT_CPU_PERIOD = 256,
    OPT_CPU_QUOTA,
    OPT_CPUS,
    OPT_CPUSET_CPUS,
    OPT_CPUSET_MEMS,
    OPT_MEMORY_RESERVATION,
    OPT_MEMORY_SWAP,
    OPT_PIDS_LIMIT,
    OPT_RESTART
  };
  static const struct option options[] = {{"cpu-period", required_argument, NULL, OPT_CPU_PERIOD},
                                          {"cpu-quota", required_argument, NULL, OPT_CPU_QUOTA},
                                          {"cpu-shares", required_argument, NULL, 'c'},
                                          {"cpus", required_argument, NULL, OPT_CPUS},
                                          {"cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS},
                                          {"cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS},
                                          {"memory", required_argument, NULL, 'm'},
                                          {"memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION},
                                          {"memory-swap", required_argument, NULL, OPT_MEMORY_SWAP},
                                          {"pids-limit", required_argument, NULL, OPT_PIDS_LIMIT},
                                          {"restart", required_argument, NULL, OPT_RESTART},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  struct update_request req = {0};
  int n_flags = 0, c;
  berth_error *cause = NULL;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":c:m:h", options, NULL)) != -1) {
    n_flags++;
    switch (c) {
    case 'm':
      if (options_parse_bytes(optarg, &req.memory, &cause) < 0)
        return flag_error(optarg, "-m, --memory", cause, err);
      break;
    case OPT_MEMORY_RESERVATION:
      if (options_parse_bytes(optarg, &req.memory_reservation, &cause) < 0)
        return flag_error(optarg, "--memory-reservation", cause, err);
      break;
    case OPT_MEMORY_SWAP:
      if (strcmp(optarg, "-1") == 0)
        req.memory_swap = -1;
      else if (options_parse_bytes(optarg, &req.memory_swap, &cause) < 0)
        return flag_error(optarg, "--memory-swap", cause, err);
      break;
    case OPT_CPUS:
      if (options_parse_nano_cpus(optarg, &req.nano_cpus, &cause) < 0)
        return flag_error(optarg, "--cpus", cause, err);
      break;
    case 'c':
      if (parse_int(optarg, "-c, --cpu-shares", &req.cpu_shares, err) != 0)
        return 125;
      break;
    case OPT_CPU_PERIOD:
      if (parse_int(optarg, "--cpu-period", &req.cpu_period, err) != 0)
        return 125;
      break;
    case OPT_CPU_QUOTA:
      if (parse_int(optarg, "--cpu-quota", &req.cpu_quota, err) != 0)
        return 125;
      break;
    case OPT_PIDS_LIMIT:
      if (parse_int(optarg, "--pids-limit", &req.pids_limit, err) != 0)
        return 125;
      req.has_pids_limit = true;
      break;
    case OPT_CPUSET_CPUS:
    case OPT_CPUSET_MEMS:
      if (options_check_cpuset(optarg, &cause) < 0)
        return flag_error(optarg, c == OPT_CPUSET_CPUS ? "--cpuset-cpus" : "--cpuset-mems", cause, err);
      if (c == OPT_CPUSET_CPUS)
        req.cpuset_cpus = optarg;
      else
        req.cpuset_mems = optarg;
      break;
    case OPT_RESTART:
      /* docker's CLI parses the policy after the flags: not a flag error */
      if (options_parse_restart(optarg, &req.restart, err) < 0)
        return -1;
      req.has_restart = true;
      break;
    case 'h':
      usage();
      return 0;
    case ':':
      berth_fail(err, 0, "flag needs an argument: %s", argv[optind - 1]);
      return cmd_flag_error("update", err);
    default:
      if (optopt != 0 && optopt < 256)
        berth_fail(err, 0, "unknown shorthand flag: '%c' in %s", optopt, argv[optind - 1]);
      else
        berth_fail(err, 0, "unknown flag: %s", argv[optind - 1]);
      return cmd_flag_error("update", err);
    }
  }
  if (optind >= argc)
    return berth_fail(err, 0, "\"update\" requires at least 1 argument (usage: berth %s)", usage_text);
  if (n_flags == 0)
    return berth_fail(err, 0, "you must provide one or more flags when using this command");
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  int failed = 0;
  for (int i = optind; i < argc; i++) {
    berth_error *one = NULL;
    if (update_container(e, argv[i], &req, &one) < 0) {
      cmd_report(one);
      failed = 1;
    } else {
      printf("%s\n", argv[i]);
      fflush(stdout);
    }
  }
  return failed;
}
