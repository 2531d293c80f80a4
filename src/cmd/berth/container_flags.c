#include "cmd/berth/container_flags.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "engine/options.h"
#include "util/cleanup.h"

enum {
  OPT_RM = 256, OPT_NAME, OPT_ENV_FILE, OPT_ENTRYPOINT, OPT_MOUNT, OPT_TMPFS, OPT_READ_ONLY, OPT_MEMORY_SWAP,
  OPT_MEMORY_RESERVATION, OPT_CPUS, OPT_CPU_QUOTA, OPT_CPU_PERIOD, OPT_CPUSET_CPUS, OPT_CPUSET_MEMS, OPT_PIDS_LIMIT,
  OPT_ULIMIT, OPT_CAP_ADD, OPT_CAP_DROP, OPT_PRIVILEGED, OPT_SECURITY_OPT, OPT_DEVICE, OPT_INIT, OPT_RESTART,
  OPT_STOP_SIGNAL, OPT_STOP_TIMEOUT, OPT_LABEL_FILE, OPT_HEALTH_CMD, OPT_HEALTH_INTERVAL, OPT_HEALTH_RETRIES,
  OPT_HEALTH_START_PERIOD, OPT_HEALTH_TIMEOUT, OPT_NO_HEALTHCHECK, OPT_USERNS, OPT_LOG_DRIVER, OPT_LOG_OPT,
  OPT_NETWORK, OPT_SHM_SIZE, OPT_OOM_SCORE_ADJ, OPT_SIG_PROXY, OPT_DETACH_KEYS, OPT_PULL, OPT_PLATFORM,
  OPT_DOMAINNAME, OPT_GROUP_ADD, OPT_HELP, OPT_PUBLISH_ALL, OPT_EXPOSE,
};

static const struct option long_options[] = {
    {"attach", required_argument, NULL, 'a'},
    {"detach", no_argument, NULL, 'd'},
    {"interactive", no_argument, NULL, 'i'},
    {"tty", no_argument, NULL, 't'},
    {"rm", no_argument, NULL, OPT_RM},
    {"name", required_argument, NULL, OPT_NAME},
    {"env", required_argument, NULL, 'e'},
    {"env-file", required_argument, NULL, OPT_ENV_FILE},
    {"workdir", required_argument, NULL, 'w'},
    {"user", required_argument, NULL, 'u'},
    {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
    {"hostname", required_argument, NULL, 'h'},
    {"domainname", required_argument, NULL, OPT_DOMAINNAME},
    {"volume", required_argument, NULL, 'v'},
    {"mount", required_argument, NULL, OPT_MOUNT},
    {"tmpfs", required_argument, NULL, OPT_TMPFS},
    {"read-only", no_argument, NULL, OPT_READ_ONLY},
    {"memory", required_argument, NULL, 'm'},
    {"memory-swap", required_argument, NULL, OPT_MEMORY_SWAP},
    {"memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"cpu-shares", required_argument, NULL, 'c'},
    {"cpu-quota", required_argument, NULL, OPT_CPU_QUOTA},
    {"cpu-period", required_argument, NULL, OPT_CPU_PERIOD},
    {"cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS},
    {"cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS},
    {"pids-limit", required_argument, NULL, OPT_PIDS_LIMIT},
    {"ulimit", required_argument, NULL, OPT_ULIMIT},
    {"cap-add", required_argument, NULL, OPT_CAP_ADD},
    {"cap-drop", required_argument, NULL, OPT_CAP_DROP},
    {"privileged", no_argument, NULL, OPT_PRIVILEGED},
    {"security-opt", required_argument, NULL, OPT_SECURITY_OPT},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"init", no_argument, NULL, OPT_INIT},
    {"restart", required_argument, NULL, OPT_RESTART},
    {"stop-signal", required_argument, NULL, OPT_STOP_SIGNAL},
    {"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
    {"label", required_argument, NULL, 'l'},
    {"label-file", required_argument, NULL, OPT_LABEL_FILE},
    {"health-cmd", required_argument, NULL, OPT_HEALTH_CMD},
    {"health-interval", required_argument, NULL, OPT_HEALTH_INTERVAL},
    {"health-retries", required_argument, NULL, OPT_HEALTH_RETRIES},
    {"health-start-period", required_argument, NULL, OPT_HEALTH_START_PERIOD},
    {"health-timeout", required_argument, NULL, OPT_HEALTH_TIMEOUT},
    {"no-healthcheck", no_argument, NULL, OPT_NO_HEALTHCHECK},
    {"userns", required_argument, NULL, OPT_USERNS},
    {"log-driver", required_argument, NULL, OPT_LOG_DRIVER},
    {"log-opt", required_argument, NULL, OPT_LOG_OPT},
    {"network", required_argument, NULL, OPT_NETWORK},
    {"net", required_argument, NULL, OPT_NETWORK},
    {"publish", required_argument, NULL, 'p'},
    {"publish-all", no_argument, NULL, 'P'},
    {"expose", required_argument, NULL, OPT_EXPOSE},
    {"shm-size", required_argument, NULL, OPT_SHM_SIZE},
    {"oom-score-adj", required_argument, NULL, OPT_OOM_SCORE_ADJ},
    {"sig-proxy", optional_argument, NULL, OPT_SIG_PROXY},
    {"detach-keys", required_argument, NULL, OPT_DETACH_KEYS},
    {"pull", required_argument, NULL, OPT_PULL},
    {"platform", required_argument, NULL, OPT_PLATFORM},
    {"group-add", required_argument, NULL, OPT_GROUP_ADD},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

void container_flags_usage(FILE *out, bool run) {
  fprintf(out,
          "Usage:  berth %s [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n%s\n\nOptions:\n"
          "  -a, --attach list                  Attach to STDIN, STDOUT or STDERR\n"
          "      --cap-add list                 Add Linux capabilities\n"
          "      --cap-drop list                Drop Linux capabilities\n"
          "  -c, --cpu-shares int               CPU shares (relative weight)\n"
          "      --cpu-period int               Limit CPU CFS (Completely Fair Scheduler) period\n"
          "      --cpu-quota int                Limit CPU CFS (Completely Fair Scheduler) quota\n"
          "      --cpus decimal                 Number of CPUs\n"
          "      --cpuset-cpus string           CPUs in which to allow execution (0-3, 0,1)\n"
          "      --cpuset-mems string           MEMs in which to allow execution (0-3, 0,1)\n"
          "%s"
          "      --device list                  Add a host device to the container\n"
          "      --entrypoint string            Overwrite the default ENTRYPOINT of the image\n"
          "  -e, --env list                     Set environment variables\n"
          "      --env-file list                Read in a file of environment variables\n"
          "      --health-cmd string            Command to run to check health\n"
          "      --health-interval duration     Time between running the check (ms|s|m|h) (default 0s)\n"
          "      --health-retries int           Consecutive failures needed to report unhealthy\n"
          "      --health-start-period duration Start period for the container to initialize before starting\n"
          "                                     health-retries countdown (ms|s|m|h) (default 0s)\n"
          "      --health-timeout duration      Maximum time to allow one check to run (ms|s|m|h) (default 0s)\n"
          "      --help                         Print usage\n"
          "  -h, --hostname string              Container host name\n"
          "      --init                         Run an init inside the container that forwards signals and reaps\n"
          "                                     processes\n"
          "  -i, --interactive                  Keep STDIN open even if not attached\n"
          "  -l, --label list                   Set meta data on a container\n"
          "      --label-file list              Read in a line delimited file of labels\n"
          "      --log-opt list                 Log driver options (max-size, max-file)\n"
          "  -m, --memory bytes                 Memory limit\n"
          "      --memory-reservation bytes     Memory soft limit\n"
          "      --memory-swap bytes            Swap limit equal to memory plus swap: '-1' to enable unlimited swap\n"
          "      --mount mount                  Attach a filesystem mount to the container\n"
          "      --name string                  Assign a name to the container\n"
          "      --network network              Connect a container to a network (none, host)\n"
          "      --no-healthcheck               Disable any container-specified HEALTHCHECK\n"
          "      --oom-score-adj int            Tune host's OOM preferences (-1000 to 1000)\n"
          "      --pids-limit int               Tune container pids limit (set -1 for unlimited)\n"
          "      --privileged                   Give extended privileges to this container\n"
          "      --pull string                  Pull image before running (\"always\", \"missing\", \"never\") (default\n"
          "                                     \"missing\")\n"
          "      --read-only                    Mount the container's root filesystem as read only\n"
          "      --restart string               Restart policy to apply when a container exits (default \"no\")\n"
          "      --rm                           Automatically remove the container and its associated anonymous\n"
          "                                     volumes when it exits\n"
          "      --security-opt list            Security Options\n"
          "      --shm-size bytes               Size of /dev/shm\n"
          "%s"
          "      --stop-signal string           Signal to stop the container\n"
          "      --stop-timeout int             Timeout (in seconds) to stop a container\n"
          "      --tmpfs list                   Mount a tmpfs directory\n"
          "  -t, --tty                          Allocate a pseudo-TTY\n"
          "      --ulimit ulimit                Ulimit options (default [])\n"
          "  -u, --user string                  Username or UID (format: <name|uid>[:<group|gid>])\n"
          "      --userns string                User namespace to use\n"
          "  -v, --volume list                  Bind mount a volume\n"
          "  -w, --workdir string               Working directory inside the container\n",
          run ? "run" : "create",
          run ? "Create and run a new container from an image" : "Create a new container",
          run ? "  -d, --detach                       Run container in background and print container ID\n"
                "      --detach-keys string           Override the key sequence for detaching a container\n"
              : "",
          run ? "      --sig-proxy                    Proxy received signals to the process (default true)\n" : "");
}

static struct json_object *object_of(struct json_object *parent, const char *key) {
  struct json_object *o;
  if (json_object_object_get_ex(parent, key, &o))
    return o;
  o = json_object_new_object();
  json_object_object_add(parent, key, o);
  return o;
}

static struct json_object *array_of(struct json_object *parent, const char *key) {
  struct json_object *a;
  if (json_object_object_get_ex(parent, key, &a))
    return a;
  a = json_object_new_array();
  json_object_object_add(parent, key, a);
  return a;
}

static void append(struct json_object *parent, const char *key, const char *value) {
  json_object_array_add(array_of(parent, key), json_object_new_string(value));
}

static int flag_error(berth_error **err, const char *value, const char *flag, berth_error *cause) {
  berth_fail(err, 0, "invalid argument \"%s\" for \"%s\" flag: %s", value, flag, cause->msg);
  berth_error_free(cause);
  return -1;
}

static struct json_object *mount_json(const struct mount_request *m) {
  static const char *const kinds[] = {[MOUNT_BIND] = "bind", [MOUNT_VOLUME] = "volume", [MOUNT_TMPFS] = "tmpfs"};
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "Type", json_object_new_string(kinds[m->kind]));
  if (m->source != NULL)
    json_object_object_add(o, "Source", json_object_new_string(m->source));
  json_object_object_add(o, "Target", json_object_new_string(m->target));
  if (m->read_only)
    json_object_object_add(o, "ReadOnly", json_object_new_boolean(true));
  if (m->kind == MOUNT_BIND && m->propagation != NULL) {
    struct json_object *b = json_object_new_object();
    json_object_object_add(b, "Propagation", json_object_new_string(m->propagation));
    json_object_object_add(o, "BindOptions", b);
  }
  if (m->kind == MOUNT_VOLUME && m->no_copy) {
    struct json_object *v = json_object_new_object();
    json_object_object_add(v, "NoCopy", json_object_new_boolean(true));
    json_object_object_add(o, "VolumeOptions", v);
  }
  if (m->kind == MOUNT_TMPFS && (m->tmpfs_size > 0 || m->tmpfs_mode != 0 || m->tmpfs_options != NULL)) {
    struct json_object *t = json_object_new_object();
    if (m->tmpfs_size > 0)
      json_object_object_add(t, "SizeBytes", json_object_new_int64(m->tmpfs_size));
    if (m->tmpfs_mode != 0)
      json_object_object_add(t, "Mode", json_object_new_int64(m->tmpfs_mode));
    if (m->tmpfs_options != NULL)
      json_object_object_add(t, "Options", json_object_new_string(m->tmpfs_options));
    json_object_object_add(o, "TmpfsOptions", t);
  }
  return o;
}

static int add_mount(struct container_flags *f, int kind, const char *value, const char *flag, berth_error **err) {
  struct mount_request m = {0};
  berth_error *cause = NULL;
  int rc = kind == 'v'        ? options_parse_volume(value, &m, &cause)
           : kind == OPT_MOUNT ? options_parse_mount(value, &m, &cause)
                               : options_parse_tmpfs(value, &m, &cause);
  if (rc < 0)
    return flag_error(err, value, flag, cause);
  json_object_array_add(array_of(f->host_config, "Mounts"), mount_json(&m));
  if (kind == 'v')
    append(f->host_config, "Binds", value);
  options_mount_request_clear(&m);
  return 0;
}

static int add_strv(struct json_object *parent, const char *key, char **v, size_t n) {
  for (size_t i = 0; i < n; i++)
    append(parent, key, v[i]);
  return 0;
}

static int set_bytes(struct json_object *o, const char *key, const char *value, const char *flag, berth_error **err) {
  int64_t n;
  berth_error *cause = NULL;
  if (strcmp(value, "-1") == 0)
    n = -1;
  else if (options_parse_bytes(value, &n, &cause) < 0)
    return flag_error(err, value, flag, cause);
  json_object_object_add(o, key, json_object_new_int64(n));
  return 0;
}

static int set_int(struct json_object *o, const char *key, const char *value, const char *flag, berth_error **err) {
  char *end;
  long long n = strtoll(value, &end, 10);
  if (*value == '\0' || *end != '\0')
    return berth_fail(err, 0, "invalid argument \"%s\" for \"%s\" flag: strconv.ParseInt: parsing \"%s\": invalid syntax",
                      value, flag, value);
  json_object_object_add(o, key, json_object_new_int64(n));
  return 0;
}

static int set_duration(struct json_object *o, const char *key, const char *value, const char *flag,
                        berth_error **err) {
  int64_t ns;
  berth_error *cause = NULL;
  if (options_parse_duration(value, &ns, &cause) < 0)
    return flag_error(err, value, flag, cause);
  json_object_object_add(o, key, json_object_new_int64(ns));
  return 0;
}

static int parse_one(struct container_flags *f, int c, const char *value, char ***env, size_t *n_env,
                     char ***labels, size_t *n_labels, berth_error **err) {
  struct json_object *cfg = f->config, *hc = f->host_config;
  berth_error *cause = NULL;
  switch (c) {
  case 'a':
    if (strcasecmp(value, "stdin") == 0)
      json_object_object_add(cfg, "AttachStdin", json_object_new_boolean(true));
    else if (strcasecmp(value, "stdout") == 0)
      json_object_object_add(cfg, "AttachStdout", json_object_new_boolean(true));
    else if (strcasecmp(value, "stderr") == 0)
      json_object_object_add(cfg, "AttachStderr", json_object_new_boolean(true));
    else
      return berth_fail(err, 0, "invalid argument \"%s\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR", value);
    return 0;
  case 'd':
    f->detach = true;
    return 0;
  case 'i':
    json_object_object_add(cfg, "OpenStdin", json_object_new_boolean(true));
    return 0;
  case 't':
    json_object_object_add(cfg, "Tty", json_object_new_boolean(true));
    return 0;
  case OPT_RM:
    json_object_object_add(hc, "AutoRemove", json_object_new_boolean(true));
    return 0;
  case OPT_NAME:
    f->name = value;
    return 0;
  case 'e':
    return options_add_env(env, n_env, value, err);
  case OPT_ENV_FILE:
    return options_read_env_file(env, n_env, value, true, err);
  case 'w':
    if (value[0] != '/')
      return berth_fail(err, 0, "the working directory '%s' is invalid, it needs to be an absolute path", value);
    json_object_object_add(cfg, "WorkingDir", json_object_new_string(value));
    return 0;
  case 'u':
    if (options_check_user(value, &cause) < 0)
      return flag_error(err, value, "-u, --user", cause);
    json_object_object_add(cfg, "User", json_object_new_string(value));
    return 0;
  case OPT_ENTRYPOINT: {
    struct json_object *a = json_object_new_array();
    if (*value != '\0')
      json_object_array_add(a, json_object_new_string(value));
    json_object_object_add(cfg, "Entrypoint", a);
    return 0;
  }
  case 'h':
    json_object_object_add(cfg, "Hostname", json_object_new_string(value));
    return 0;
  case OPT_DOMAINNAME:
    json_object_object_add(cfg, "Domainname", json_object_new_string(value));
    return 0;
  case 'v':
    return add_mount(f, 'v', value, "-v, --volume", err);
  case OPT_MOUNT:
    return add_mount(f, OPT_MOUNT, value, "--mount", err);
  case OPT_TMPFS:
    return add_mount(f, OPT_TMPFS, value, "--tmpfs", err);
  case OPT_READ_ONLY:
    json_object_object_add(hc, "ReadonlyRootfs", json_object_new_boolean(true));
    return 0;
  case 'm':
    return set_bytes(hc, "Memory", value, "-m, --memory", err);
  case OPT_MEMORY_SWAP:
    return set_bytes(hc, "MemorySwap", value, "--memory-swap", err);
  case OPT_MEMORY_RESERVATION:
    return set_bytes(hc, "MemoryReservation", value, "--memory-reservation", err);
  case OPT_SHM_SIZE:
    return set_bytes(hc, "ShmSize", value, "--shm-size", err);
  case OPT_CPUS: {
    int64_t nano;
    if (options_parse_nano_cpus(value, &nano, &cause) < 0)
      return flag_error(err, value, "--cpus", cause);
    json_object_object_add(hc, "NanoCpus", json_object_new_int64(nano));
    return 0;
  }
  case 'c':
    return set_int(hc, "CpuShares", value, "-c, --cpu-shares", err);
  case OPT_CPU_QUOTA:
    return set_int(hc, "CpuQuota", value, "--cpu-quota", err);
  case OPT_CPU_PERIOD:
    return set_int(hc, "CpuPeriod", value, "--cpu-period", err);
  case OPT_PIDS_LIMIT:
    return set_int(hc, "PidsLimit", value, "--pids-limit", err);
  case OPT_OOM_SCORE_ADJ:
    return set_int(hc, "OomScoreAdj", value, "--oom-score-adj", err);
  case OPT_CPUSET_CPUS:
  case OPT_CPUSET_MEMS:
    if (options_check_cpuset(value, &cause) < 0)
      return flag_error(err, value, c == OPT_CPUSET_CPUS ? "--cpuset-cpus" : "--cpuset-mems", cause);
    json_object_object_add(hc, c == OPT_CPUSET_CPUS ? "CpusetCpus" : "CpusetMems", json_object_new_string(value));
    return 0;
  case OPT_ULIMIT: {
    struct ulimit u;
    if (options_parse_ulimit(value, &u, &cause) < 0)
      return flag_error(err, value, "--ulimit", cause);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Name", json_object_new_string(u.name));
    json_object_object_add(o, "Hard", json_object_new_int64(u.hard == UINT64_MAX ? -1 : (int64_t)u.hard));
    json_object_object_add(o, "Soft", json_object_new_int64(u.soft == UINT64_MAX ? -1 : (int64_t)u.soft));
    json_object_array_add(array_of(hc, "Ulimits"), o);
    return 0;
  }
  case OPT_CAP_ADD:
    append(hc, "CapAdd", value);
    return 0;
  case OPT_CAP_DROP:
    append(hc, "CapDrop", value);
    return 0;
  case OPT_PRIVILEGED:
    json_object_object_add(hc, "Privileged", json_object_new_boolean(true));
    return 0;
  case OPT_SECURITY_OPT:
    if (strncmp(value, "seccomp", 7) != 0 && strncmp(value, "no-new-privileges", 17) != 0 &&
        strncmp(value, "label", 5) != 0 && strncmp(value, "apparmor", 8) != 0)
      return berth_fail(err, 0, "invalid --security-opt: %s", value);
    append(hc, "SecurityOpt", value);
    return 0;
  case OPT_DEVICE: {
    struct device_request d;
    if (options_parse_device(value, &d, &cause) < 0)
      return flag_error(err, value, "--device", cause);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "PathOnHost", json_object_new_string(d.host));
    json_object_object_add(o, "PathInContainer", json_object_new_string(d.container));
    json_object_object_add(o, "CgroupPermissions", json_object_new_string(d.perms));
    json_object_array_add(array_of(hc, "Devices"), o);
    options_device_request_clear(&d);
    return 0;
  }
  case OPT_INIT:
    json_object_object_add(hc, "Init", json_object_new_boolean(true));
    return 0;
  case OPT_RESTART: {
    struct restart_policy p;
    if (options_parse_restart(value, &p, &cause) < 0)
      return flag_error(err, value, "--restart", cause);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Name", json_object_new_string(options_restart_name(p.kind)));
    json_object_object_add(o, "MaximumRetryCount", json_object_new_int(p.max_retries));
    json_object_object_add(hc, "RestartPolicy", o);
    return 0;
  }
  case OPT_STOP_SIGNAL: {
    int sig;
    if (options_parse_signal(value, &sig, &cause) < 0)
      return flag_error(err, value, "--stop-signal", cause);
    json_object_object_add(cfg, "StopSignal", json_object_new_string(value));
    return 0;
  }
  case OPT_STOP_TIMEOUT:
    return set_int(cfg, "StopTimeout", value, "--stop-timeout", err);
  case 'l':
    return options_add_label(labels, n_labels, value, err);
  case OPT_LABEL_FILE:
    return options_read_env_file(labels, n_labels, value, false, err);
  case OPT_HEALTH_CMD: {
    struct json_object *test = json_object_new_array();
    json_object_array_add(test, json_object_new_string("CMD-SHELL"));
    json_object_array_add(test, json_object_new_string(value));
    json_object_object_add(object_of(cfg, "Healthcheck"), "Test", test);
    f->health_cmd = true;
    return 0;
  }
  case OPT_HEALTH_INTERVAL:
    return set_duration(object_of(cfg, "Healthcheck"), "Interval", value, "--health-interval", err);
  case OPT_HEALTH_TIMEOUT:
    return set_duration(object_of(cfg, "Healthcheck"), "Timeout", value, "--health-timeout", err);
  case OPT_HEALTH_START_PERIOD:
    return set_duration(object_of(cfg, "Healthcheck"), "StartPeriod", value, "--health-start-period", err);
  case OPT_HEALTH_RETRIES:
    return set_int(object_of(cfg, "Healthcheck"), "Retries", value, "--health-retries", err);
  case OPT_NO_HEALTHCHECK: {
    f->no_healthcheck = true;
    struct json_object *test = json_object_new_array();
    json_object_array_add(test, json_object_new_string("NONE"));
    json_object_object_add(object_of(cfg, "Healthcheck"), "Test", test);
    return 0;
  }
  case OPT_USERNS:
    if (strcmp(value, "host") != 0 && strcmp(value, "keep-id") != 0 && strcmp(value, "") != 0)
      return berth_fail(err, 0, "invalid argument \"%s\" for \"--userns\" flag: expected host or keep-id", value);
    json_object_object_add(hc, "UsernsMode", json_object_new_string(value));
    return 0;
  case OPT_LOG_DRIVER:
    if (strcmp(value, "json-file") != 0)
      return berth_fail(err, 0, "logging driver \"%s\" is not supported: only json-file is", value);
    return 0;
  case OPT_LOG_OPT: {
    struct log_options lo = {0};
    if (options_parse_log_opt(value, &lo, err) < 0)
      return -1;
    const char *eq = strchr(value, '=');
    char key[32];
    snprintf(key, sizeof(key), "%.*s", (int)(eq - value), value);
    struct json_object *log = object_of(hc, "LogConfig");
    json_object_object_add(object_of(log, "Config"), key, json_object_new_string(eq + 1));
    return 0;
  }
  case OPT_NETWORK:
    if (strcmp(value, "none") != 0 && strcmp(value, "host") != 0)
      return berth_fail(err, 0, "network %s not found", value);
    json_object_object_add(hc, "NetworkMode", json_object_new_string(value));
    return 0;
  case 'p':
  case 'P':
  case OPT_EXPOSE:
    return berth_fail(err, 0, "publishing ports needs a bridge network, which berth does not have yet");
  case OPT_SIG_PROXY:
    f->sig_proxy = value == NULL || strcmp(value, "true") == 0;
    return 0;
  case OPT_DETACH_KEYS:
    f->detach_keys = value;
    return 0;
  case OPT_PULL:
    if (strcmp(value, "missing") != 0 && strcmp(value, "always") != 0 && strcmp(value, "never") != 0)
      return berth_fail(err, 0, "invalid pull option: '%s': must be one of \"always\", \"missing\" or \"never\"", value);
    f->pull = value;
    return 0;
  case OPT_PLATFORM:
    f->platform = value;
    return 0;
  case OPT_GROUP_ADD: {
    struct json_object *groups = NULL;
    if (!json_object_object_get_ex(hc, "GroupAdd", &groups)) {
      groups = json_object_new_array();
      json_object_object_add(hc, "GroupAdd", groups);
    }
    json_object_array_add(groups, json_object_new_string(value));
    return 0;
  }
  case 'q':
    f->quiet = true;
    return 0;
  }
  return berth_fail(err, 0, "unhandled flag");
}

int container_flags_parse(int argc, char **argv, bool run, struct container_flags *f, berth_error **err) {
  memset(f, 0, sizeof(*f));
  f->config = json_object_new_object();
  f->host_config = json_object_new_object();
  f->sig_proxy = true;
  f->pull = "missing";
  cleanup_strv char **env = NULL, **labels = NULL;
  size_t n_env = 0, n_labels = 0;
  int c;
  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, "+a:ditkqe:w:u:h:v:m:c:l:p:P", long_options, NULL)) != -1) {
    if (c == '?' || c == ':') {
      const char *bad = argv[optind - 1];
      if (optopt != 0 && optopt < 256 && strchr("aewuhvmclp", optopt) != NULL)
        return berth_fail(err, 0, "flag needs an argument: '%c' in -%c", optopt, optopt);
      if (bad[1] != '-' && optopt != 0)
        return berth_fail(err, 0, "unknown shorthand flag: '%c' in %s", optopt, bad);
      return berth_fail(err, 0, "unknown flag: %s", bad);
    }
    if (c == OPT_HELP) {
      f->help = true;
      return 0;
    }
    if (!run && (c == 'd' || c == OPT_SIG_PROXY || c == OPT_DETACH_KEYS))
      return berth_fail(err, 0, "unknown flag: %s", argv[optind - 1]);
    if (parse_one(f, c, optarg, &env, &n_env, &labels, &n_labels, err) < 0)
      return -1;
  }
  if (optind >= argc)
    return berth_fail(err, 0, "\"berth %s\" requires at least 1 argument.", run ? "run" : "create");
  f->image = argv[optind++];
  add_strv(f->config, "Env", env, n_env);
  if (n_labels > 0) {
    struct json_object *l = object_of(f->config, "Labels");
    for (size_t i = 0; i < n_labels; i++) {
      const char *eq = strchr(labels[i], '=');
      char *key = strndup(labels[i], eq != NULL ? (size_t)(eq - labels[i]) : strlen(labels[i]));
      json_object_object_add(l, key, json_object_new_string(eq != NULL ? eq + 1 : ""));
      free(key);
    }
  }
  if (optind < argc) {
    struct json_object *cmd = json_object_new_array();
    for (int i = optind; i < argc; i++)
      json_object_array_add(cmd, json_object_new_string(argv[i]));
    json_object_object_add(f->config, "Cmd", cmd);
  }
  struct json_object *v;
  bool in = json_object_object_get_ex(f->config, "OpenStdin", &v) && json_object_get_boolean(v);
  bool auto_remove = json_object_object_get_ex(f->host_config, "AutoRemove", &v) && json_object_get_boolean(v);
  struct json_object *restart = NULL;
  json_object_object_get_ex(f->host_config, "RestartPolicy", &restart);
  if (auto_remove && restart != NULL && json_object_object_get_ex(restart, "Name", &v) &&
      strcmp(json_object_get_string(v), "no") != 0)
    return berth_fail(err, 0, "Conflicting options: --restart and --rm");
  /* docker's attach defaults: stdout and stderr unless detached; stdin with -i */
  if (run && !f->detach) {
    if (!json_object_object_get_ex(f->config, "AttachStdout", &v) &&
        !json_object_object_get_ex(f->config, "AttachStderr", &v) &&
        !json_object_object_get_ex(f->config, "AttachStdin", &v)) {
      json_object_object_add(f->config, "AttachStdout", json_object_new_boolean(true));
      json_object_object_add(f->config, "AttachStderr", json_object_new_boolean(true));
    }
    if (in) {
      json_object_object_add(f->config, "AttachStdin", json_object_new_boolean(true));
      json_object_object_add(f->config, "StdinOnce", json_object_new_boolean(true));
    }
  }
  struct json_object *health = NULL;
  if (json_object_object_get_ex(f->config, "Healthcheck", &health)) {
    if (f->no_healthcheck && (f->health_cmd || json_object_object_length(health) > 1))
      return berth_fail(err, 0, "--no-healthcheck conflicts with --health-* options");
    json_object_object_foreach(health, key, value) {
      if (strcmp(key, "Test") == 0)
        continue;
      if (json_object_get_int64(value) < 0)
        return berth_fail(err, 0, "--health-%s cannot be negative",
                          strcmp(key, "StartPeriod") == 0 ? "start-period" : strcmp(key, "Retries") == 0 ? "retries"
                                                                          : strcmp(key, "Interval") == 0 ? "interval"
                                                                                                          : "timeout");
      if (strcmp(key, "Retries") != 0 && json_object_get_int64(value) > 0 && json_object_get_int64(value) < 1000000)
        return berth_fail(err, 0, "%s in Healthcheck cannot be less than 1ms", key);
    }
  }
  if (!json_object_object_get_ex(f->host_config, "NetworkMode", &v))
    json_object_object_add(f->host_config, "NetworkMode", json_object_new_string("none"));
  /* as docker's client: the pty starts with our terminal's size, so the
   * first thing the program reads is right (a resize comes only later) */
  struct winsize ws;
  if (json_object_object_get_ex(f->config, "Tty", &v) && json_object_get_boolean(v) &&
      ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
    struct json_object *size = json_object_new_array();
    json_object_array_add(size, json_object_new_int(ws.ws_row));
    json_object_array_add(size, json_object_new_int(ws.ws_col));
    json_object_object_add(f->host_config, "ConsoleSize", size);
  }
  struct json_object *log = object_of(f->host_config, "LogConfig");
  json_object_object_add(log, "Type", json_object_new_string("json-file"));
  object_of(log, "Config");
  return 0;
}

void container_flags_clear(struct container_flags *f) {
  json_object_put(f->config);
  json_object_put(f->host_config);
  memset(f, 0, sizeof(*f));
}
