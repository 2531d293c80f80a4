/* The container's init re-executes itself through a read-only mount of the
 * runtime binary (CVE-2019-5736, see exe_guard.h) right after clone, while
 * the runtime is still creating its cgroup: the exec then costs no time on
 * the critical path.  What init needs crosses the exec as fds and argv:
 *   berth-runtime init SYNC_FD FIFO_FD CONFIG_FD FLAGS PRESERVE_FDS ID BUNDLE CGROUP */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/exe_guard.h"
#include "runtime/init.h"
#include "runtime/sync.h"
#include "util/cleanup.h"
#include "util/fs.h"

enum {
  FLAG_INTERMEDIATE = 1 << 0,
  FLAG_NO_PIVOT = 1 << 1,
  FLAG_NO_NEW_KEYRING = 1 << 2,
  FLAG_ENTER_CGROUP = 1 << 3,
  FLAG_UNSHARE_NET = 1 << 4,
};

static int keep_across_exec(int fd, bool keep) {
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0)
    return -1;
  return fcntl(fd, F_SETFD, keep ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC);
}

int init_reexec(const struct init_args *a, int exe_fd, int config_fd, const char *cgroup_text, berth_error **err) {
  char sync_s[16], fifo_s[16], config_s[16], flags_s[16], preserve_s[16];
  int flags = (a->intermediate ? FLAG_INTERMEDIATE : 0) | (a->no_pivot ? FLAG_NO_PIVOT : 0) |
              (a->no_new_keyring ? FLAG_NO_NEW_KEYRING : 0) | (a->enter_cgroup ? FLAG_ENTER_CGROUP : 0) |
              (a->unshare_net ? FLAG_UNSHARE_NET : 0);
  snprintf(sync_s, sizeof(sync_s), "%d", a->sync_fd);
  snprintf(fifo_s, sizeof(fifo_s), "%d", a->fifo_fd);
  snprintf(config_s, sizeof(config_s), "%d", config_fd);
  snprintf(flags_s, sizeof(flags_s), "%d", flags);
  snprintf(preserve_s, sizeof(preserve_s), "%d", a->preserve_fds);
  char *argv[] = {(char *)"berth-runtime", (char *)"init", sync_s, fifo_s, config_s, flags_s, preserve_s,
                  (char *)a->id, a->spec->bundle, (char *)cgroup_text, NULL};
  if (keep_across_exec(a->sync_fd, true) < 0 || keep_across_exec(a->fifo_fd, true) < 0 ||
      keep_across_exec(config_fd, true) < 0)
    return berth_fail(err, errno, "prepare the container process");
  return exe_guard_exec_fd(exe_fd, argv, err);
}

static int parse_fd(const char *text) {
  char *end = NULL;
  long v = strtol(text, &end, 10);
  return end != text && *end == '\0' && v >= 0 && v < 65536 ? (int)v : -1;
}

_Noreturn void init_main_from_argv(int argc, char **argv) {
  berth_error *err = NULL;
  int sync_fd = argc == 10 ? parse_fd(argv[2]) : -1;
  if (sync_fd < 0) {
    fprintf(stderr, "berth-runtime: \"init\" is internal to berth-runtime\n");
    _exit(2);
  }
  int fifo_fd = parse_fd(argv[3]), config_fd = parse_fd(argv[4]);
  int flags = parse_fd(argv[5]), preserve = parse_fd(argv[6]);
  keep_across_exec(sync_fd, false);
  keep_across_exec(fifo_fd, false);
  size_t len = 0;
  char *text = NULL;
  struct spec *spec = NULL;
  struct cgroup *cg = NULL;
  if (lseek(config_fd, 0, SEEK_SET) < 0 || (text = fs_read_fd(config_fd, &len, &err)) == NULL ||
      (spec = spec_parse(text, len, argv[8], "config.json", &err)) == NULL ||
      (cg = cgroup_deserialize(argv[9], &err)) == NULL) {
    sync_send_error(sync_fd, err);
    _exit(127);
  }
  close(config_fd);
  free(text);
  struct init_args a = {
      .spec = spec,
      .id = argv[7],
      .annotations_json = spec_annotations_json(spec),
      .cgroup = cg,
      .enter_cgroup = flags & FLAG_ENTER_CGROUP,
      .unshare_net = flags & FLAG_UNSHARE_NET,
      .sync_fd = sync_fd,
      .fifo_fd = fifo_fd,
      .intermediate = flags & FLAG_INTERMEDIATE,
      .no_pivot = flags & FLAG_NO_PIVOT,
      .no_new_keyring = flags & FLAG_NO_NEW_KEYRING,
      .preserve_fds = preserve,
      .start_stub_fd = -1,
  };
  init_main(&a);
}
