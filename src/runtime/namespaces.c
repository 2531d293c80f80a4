#include "runtime/namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int ns_new_flags(const struct spec_linux *l) {
  int flags = 0;
  for (int t = 0; t < NS_TYPE_COUNT; t++)
    if (t != NS_CGROUP && l->namespaces[t].present && l->namespaces[t].path == NULL)
      flags |= spec_ns_clone_flag((enum spec_ns_type)t);
  return flags;
}

bool ns_needs_intermediate(const struct spec_linux *l) {
  for (int t = 0; t < NS_TYPE_COUNT; t++)
    if (l->namespaces[t].present && l->namespaces[t].path != NULL)
      return true;
  return l->namespaces[NS_TIME].present;
}

static int write_map(pid_t pid, const char *file, const struct spec_id_mapping *maps, size_t n, berth_error **err) {
  char buf[4096];
  size_t used = 0;
  for (size_t i = 0; i < n; i++) {
    int w = snprintf(buf + used, sizeof(buf) - used, "%u %u %u\n", maps[i].container_id, maps[i].host_id, maps[i].size);
    if (w < 0 || (size_t)w >= sizeof(buf) - used)
      return berth_fail(err, E2BIG, "%s has too many entries", file);
    used += (size_t)w;
  }
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
  if (fs_write_file_at(AT_FDCWD, path, buf, used, 0, err) < 0)
    return berth_error_wrap(err, "write %s", file);
  return 0;
}

int ns_write_id_maps(pid_t pid, const struct spec_linux *l, berth_error **err) {
  if (write_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings, err) < 0 ||
      write_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings, err) < 0)
    return -1;
  return 0;
}

int ns_join_paths(const struct spec_linux *l, berth_error **err) {
  /* The user namespace first: the others are then joined with its
   * capabilities.  The mount namespace last: after it, host paths are gone. */
  static const enum spec_ns_type order[] = {NS_USER, NS_IPC, NS_UTS, NS_NETWORK, NS_PID, NS_CGROUP, NS_TIME, NS_MOUNT};
  int fds[NS_TYPE_COUNT];
  for (int t = 0; t < NS_TYPE_COUNT; t++)
    fds[t] = -1;
  int ret = 0;
  /* Open all first: a path may not resolve once a mount namespace is joined. */
  for (int t = 0; t < NS_TYPE_COUNT; t++) {
    const char *path = l->namespaces[t].path;
    if (!l->namespaces[t].present || path == NULL)
      continue;
    fds[t] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[t] < 0) {
      ret = berth_fail(err, errno, "open %s namespace \"%s\"", spec_ns_name((enum spec_ns_type)t), path);
      goto out;
    }
  }
  for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
    enum spec_ns_type t = order[i];
    if (fds[t] < 0)
      continue;
    if (setns(fds[t], spec_ns_clone_flag(t)) < 0) {
      ret = berth_fail(err, errno, "join %s namespace \"%s\"", spec_ns_name(t), l->namespaces[t].path);
      goto out;
    }
  }
out:
  for (int t = 0; t < NS_TYPE_COUNT; t++)
    if (fds[t] >= 0)
      close(fds[t]);
  return ret;
}

int ns_set_time_offsets(const struct spec_linux *l, berth_error **err) {
  if (!l->has_time_offsets)
    return 0;
  char buf[128];
  int n = snprintf(buf, sizeof(buf), "monotonic %lld %u\nboottime %lld %u\n", (long long)l->time_monotonic.secs,
                   l->time_monotonic.nanosecs, (long long)l->time_boottime.secs, l->time_boottime.nanosecs);
  if (fs_write_file_at(AT_FDCWD, "/proc/self/timens_offsets", buf, (size_t)n, 0, err) < 0)
    return berth_error_wrap(err, "set time namespace offsets");
  return 0;
}

pid_t ns_clone(unsigned long flags) {
  return (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, NULL, NULL, 0);
}
