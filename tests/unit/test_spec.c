/* config.json -> struct spec (runtime/spec*.c): a full, realistic config with
 * every decoded field checked, then one bad input per validation rule with the
 * exact error text, then spec_parse_process, spec_parse_resources and
 * spec_load on a temporary bundle.  Every parsed struct is freed, so running
 * under ASan/LSan also checks the error paths for leaks.
 *
 * The JSON texts are written with single quotes for readability; j() turns
 * them into double quotes (no test text needs a literal single quote). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/spec.h"
#include "tap.h"
#include "util/error.h"

#define BIT(n) (1ULL << (n))

/* A copy of s with ' turned into ". */
static char *j(const char *s) {
  char *out = strdup(s);
  if (out == NULL)
    abort();
  for (char *p = out; *p != '\0'; p++)
    if (*p == '\'')
      *p = '"';
  return out;
}

/* Parses single-quoted JSON; NULL (and the error printed) on failure. */
static struct spec *parse_q(const char *text, const char *bundle) {
  char *t = j(text);
  berth_error *err = NULL;
  struct spec *s = spec_parse(t, strlen(t), bundle, "config.json", &err);
  if (s == NULL)
    printf("#   spec_parse failed: %s\n", err != NULL ? err->msg : "(no error)");
  if (s != NULL && err != NULL)
    printf("#   spec_parse succeeded but set an error: %s\n", err->msg);
  berth_error_free(err);
  free(t);
  return s;
}

/* Parses single-quoted JSON that must fail; returns the message (to free). */
static char *parse_error_q(const char *text) {
  char *t = j(text);
  berth_error *err = NULL;
  struct spec *s = spec_parse(t, strlen(t), "/bundle", "config.json", &err);
  free(t);
  char *msg;
  if (s != NULL) {
    spec_free(s);
    msg = strdup("(parse succeeded)");
  } else if (err == NULL || err->msg == NULL) {
    msg = strdup("(no error set)");
  } else if (err->errnum != 0) {
    /* Validation errors carry no errno. */
    if (asprintf(&msg, "(errnum %d) %s", err->errnum, err->msg) < 0)
      msg = NULL;
  } else {
    msg = strdup(err->msg);
  }
  berth_error_free(err);
  return msg;
}

#define EXPECT_BAD(text, want)      \
  do {                              \
    char *_m = parse_error_q(text); \
    EXPECT_STR(_m, (want));         \
    free(_m);                       \
  } while (0)

/* Pieces of a minimal valid config. */
#define OCI "'ociVersion': '1.0.2'"
#define ROOT "'root': {'path': 'rootfs'}"
#define PROC "'process': {'cwd': '/', 'args': ['sh']}"
#define BASE OCI ", " ROOT ", " PROC
/* A config whose process object is P. */
#define WITH_PROC(p) "{" OCI ", " ROOT ", 'process': {'cwd': '/', 'args': ['sh'], " p "}}"
/* A config whose linux object is L. */
#define WITH_LINUX(l) "{" BASE ", 'linux': {" l "}}"
#define WITH_RES(r) WITH_LINUX("'resources': {" r "}")
#define WITH_SECCOMP(s) WITH_LINUX("'seccomp': {" s "}")

static const char *kv_get(const struct spec_key_value *kv, size_t n, const char *key) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(kv[i].key, key) == 0)
      return kv[i].value;
  return NULL;
}

/* ---- the full config ----------------------------------------------------- */

static const char full_config[] =
    "{"
    " 'ociVersion': '1.0.2-dev',"
    " 'process': {"
    "  'terminal': true,"
    "  'consoleSize': {'height': 25, 'width': 80},"
    "  'user': {'uid': 1000, 'gid': 1001, 'umask': 18, 'additionalGids': [5, 6, 4294967294]},"
    "  'args': ['sh', '-c', 'echo hi'],"
    "  'env': ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm', 'EMPTY='],"
    "  'cwd': '/home/user',"
    "  'capabilities': {"
    "   'bounding': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],"
    "   'effective': ['CAP_AUDIT_WRITE', 'CAP_KILL'],"
    "   'inheritable': [],"
    "   'permitted': ['CAP_CHOWN', 'CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_ADMIN',"
    "                 'CAP_CHECKPOINT_RESTORE'],"
    "   'ambient': ['CAP_NET_BIND_SERVICE']"
    "  },"
    "  'rlimits': ["
    "   {'type': 'RLIMIT_NOFILE', 'hard': 1024, 'soft': 1024},"
    "   {'type': 'RLIMIT_CORE', 'hard': 18446744073709551615, 'soft': 0},"
    "   {'type': 'RLIMIT_NPROC', 'soft': 10, 'hard': 20},"
    "   {'type': 'RLIMIT_RTTIME', 'soft': 5, 'hard': 5}"
    "  ],"
    "  'noNewPrivileges': true,"
    "  'oomScoreAdj': -500,"
    "  'apparmorProfile': 'berth-default',"
    "  'selinuxLabel': 'system_u:system_r:container_t:s0',"
    "  'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': 4}"
    " },"
    " 'root': {'path': 'rootfs', 'readonly': true},"
    " 'hostname': 'berth',"
    " 'domainname': 'example.org',"
    " 'mounts': ["
    /* 0 */ "  {'destination': '/proc', 'type': 'proc', 'source': 'proc'},"
    /* 1 */ "  {'destination': '/dev', 'type': 'tmpfs', 'source': 'tmpfs',"
    "   'options': ['nosuid', 'strictatime', 'mode=755', 'size=65536k']},"
    /* 2 */ "  {'destination': '/dev/pts', 'type': 'devpts', 'source': 'devpts',"
    "   'options': ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']},"
    /* 3 */
    "  {'destination': '/sys', 'type': 'sysfs', 'source': 'sysfs', 'options': ['nosuid', 'noexec', 'nodev', 'ro']},"
    /* 4 */
    "  {'destination': '/data', 'type': 'none', 'source': '/srv/data', 'options': ['rbind', 'rprivate', 'rro']},"
    /* 5 */ "  {'destination': '/mnt/disk', 'type': 'ext4', 'source': '/dev/sda1',"
    "   'options': ['ro', 'nosuid', 'nodev', 'noexec', 'relatime']},"
    /* 6 */ "  {'destination': '/cfg', 'type': 'bind', 'source': 'conf/app'},"
    /* 7 */ "  {'destination': '/run', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['mode=755', 'size=64k']},"
    /* 8 */ "  {'destination': '/scratch', 'type': 'tmpfs', 'source': 'tmpfs',"
    "   'options': ['ro', 'rw', 'suid', 'nosuid', 'exec', 'tmpcopyup', 'shared', 'rnosuid', 'rsuid', 'rnodev']},"
    /* 9 */ "  {'destination': '/etc/hosts', 'source': '/var/lib/hosts', 'options': ['bind', 'ro', 'rslave']},"
    /* 10 */ "  {'destination': '/etc/resolv.conf', 'type': 'none', 'source': 'resolv.conf', 'options': ['rbind']},"
    /* 11 */
    "  {'destination': '/opt', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['mode=755,size=64k', 'unbindable']}"
    " ],"
    " 'hooks': {"
    "  'prestart': [{'path': '/usr/bin/fix-mounts', 'args': ['fix-mounts', 'arg1', 'arg2'], 'env': ['key1=value1']}],"
    "  'createRuntime': [{'path': '/usr/bin/setup-network'}],"
    "  'createContainer': [{'path': '/usr/bin/c1', 'timeout': 5}, {'path': '/usr/bin/c2', 'args': ['c2']}],"
    "  'startContainer': [{'path': '/usr/bin/refresh-ldcache'}],"
    "  'poststart': [{'path': '/usr/bin/notify-start', 'timeout': 2147483647}],"
    "  'poststop': [{'path': '/usr/sbin/cleanup.sh', 'args': ['cleanup.sh', '-f']}]"
    " },"
    " 'annotations': {'com.example.key1': 'value1', 'com.example.key2': 'value2'},"
    " 'linux': {"
    "  'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': '/var/run/netns/neta'}, {'type': 'ipc'},"
    "                 {'type': 'uts'}, {'type': 'mount'}, {'type': 'user'}, {'type': 'cgroup'}, {'type': 'time'}],"
    "  'uidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}],"
    "  'gidMappings': [{'containerID': 0, 'hostID': 200000, 'size': 65536},"
    "                  {'containerID': 65536, 'hostID': 4294967295, 'size': 1}],"
    "  'timeOffsets': {'monotonic': {'secs': 172800, 'nanosecs': 0},"
    "                  'boottime': {'secs': -86400, 'nanosecs': 999999999}},"
    "  'devices': [{'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229, 'fileMode': 438, 'uid': 0, 'gid': 7},"
    "              {'path': '/dev/sda', 'type': 'b', 'major': 8, 'minor': 0},"
    "              {'path': '/dev/fifo', 'type': 'p'}],"
    "  'cgroupsPath': '/myRuntime/myContainer',"
    "  'resources': {"
    "   'memory': {'limit': 536870912, 'reservation': 268435456, 'swap': 1073741824, 'kernel': -1,"
    "              'kernelTCP': 1048576, 'swappiness': 0, 'disableOOMKiller': false, 'useHierarchy': true,"
    "              'checkBeforeUpdate': true},"
    "   'cpu': {'shares': 1024, 'quota': 50000, 'burst': 10000, 'period': 100000, 'realtimeRuntime': 950000,"
    "           'realtimePeriod': 1000000, 'cpus': '2-3', 'mems': '0-7', 'idle': 1},"
    "   'pids': {'limit': 32771},"
    "   'blockIO': {'weight': 10, 'leafWeight': 1000,"
    "               'weightDevice': [{'major': 8, 'minor': 0, 'weight': 500, 'leafWeight': 300},"
    "                                {'major': 8, 'minor': 16, 'weight': 500}],"
    "               'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 600}],"
    "               'throttleWriteIOPSDevice': [{'major': 8, 'minor': 16, 'rate': 300},"
    "                                           {'major': 8, 'minor': 32, 'rate': 0}]},"
    "   'hugepageLimits': [{'pageSize': '2MB', 'limit': 9223372036854771712}, {'pageSize': '64KB', 'limit': 1024},"
    "                      {'pageSize': '1GB', 'limit': 0}],"
    "   'devices': [{'allow': false, 'access': 'rwm'},"
    "               {'allow': true, 'type': 'c', 'major': 10, 'minor': 229, 'access': 'rw'},"
    "               {'allow': true, 'type': 'b', 'major': 8, 'access': 'r'}],"
    "   'network': {'classID': 1048577,"
    "               'priorities': [{'name': 'eth0', 'priority': 500}, {'name': 'eth1', 'priority': 1000}]},"
    "   'unified': {'io.max': '8:0 rbps=1048576', 'memory.high': '500000000'}"
    "  },"
    "  'rootfsPropagation': 'rslave',"
    "  'seccomp': {"
    "   'defaultAction': 'SCMP_ACT_ERRNO',"
    "   'defaultErrnoRet': 38,"
    "   'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],"
    "   'flags': ['SECCOMP_FILTER_FLAG_LOG'],"
    "   'listenerPath': '/run/seccomp-agent.sock',"
    "   'listenerMetadata': 'meta',"
    "   'syscalls': ["
    /* 0 */ "    {'names': ['getcwd', 'chmod'], 'action': 'SCMP_ACT_ALLOW'},"
    /* 1 */ "    {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW', 'args': ["
    "      {'index': 0, 'value': 0, 'op': 'SCMP_CMP_EQ'},"
    "      {'index': 5, 'value': 255, 'valueTwo': 8, 'op': 'SCMP_CMP_MASKED_EQ'}]},"
    /* 2 */ "    {'names': ['mkdir'], 'action': 'SCMP_ACT_NOTIFY'},"
    /* 3 */ "    {'names': ['kill'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1, 'args': ["
    "      {'index': 1, 'value': 9, 'op': 'SCMP_CMP_NE'}, {'index': 1, 'value': 2, 'op': 'SCMP_CMP_LT'},"
    "      {'index': 2, 'value': 3, 'op': 'SCMP_CMP_LE'},"
    "      {'index': 3, 'value': 18446744073709551615, 'op': 'SCMP_CMP_GE'},"
    "      {'index': 4, 'value': 5, 'op': 'SCMP_CMP_GT'}]},"
    /* 4 */ "    {'names': ['reboot'], 'action': 'SCMP_ACT_KILL_PROCESS'},"
    /* 5 */ "    {'names': ['swapon'], 'action': 'SCMP_ACT_KILL'},"
    /* 6 */ "    {'names': ['swapoff'], 'action': 'SCMP_ACT_KILL_THREAD'},"
    /* 7 */ "    {'names': ['acct'], 'action': 'SCMP_ACT_TRAP'},"
    /* 8 */ "    {'names': ['ptrace'], 'action': 'SCMP_ACT_TRACE', 'errnoRet': 4095},"
    /* 9 */ "    {'names': ['bpf'], 'action': 'SCMP_ACT_LOG'}"
    "   ]"
    "  },"
    "  'sysctl': {'net.ipv4.ip_forward': '1', 'net.core.somaxconn': '256'},"
    "  'maskedPaths': ['/proc/kcore', '/proc/latency_stats', '/sys/firmware'],"
    "  'readonlyPaths': ['/proc/asound', '/proc/bus'],"
    "  'mountLabel': 'system_u:object_r:svirt_sandbox_file_t:s0:c715,c811',"
    "  'personality': {'domain': 'LINUX32', 'flags': ['FLAG_A', 'FLAG_B']}"
    " }"
    "}";

static void test_full_top(void) {
  struct spec *s = parse_q(full_config, "/run/bundles/b1");
  EXPECT(s != NULL);
  if (s == NULL)
    return;
  EXPECT_STR(s->oci_version, "1.0.2-dev");
  EXPECT_STR(s->bundle, "/run/bundles/b1");
  EXPECT_STR(s->root.path, "/run/bundles/b1/rootfs"); /* relative root.path against the bundle */
  EXPECT(s->root.readonly == true);
  EXPECT_STR(s->hostname, "berth");
  EXPECT_STR(s->domainname, "example.org");
  EXPECT(s->n_annotations == 2);
  EXPECT_STR(kv_get(s->annotations, s->n_annotations, "com.example.key1"), "value1");
  EXPECT_STR(kv_get(s->annotations, s->n_annotations, "com.example.key2"), "value2");
  spec_free(s);
}

static void test_full_process(void) {
  struct spec *s = parse_q(full_config, "/run/bundles/b1");
  EXPECT(s != NULL);
  if (s == NULL)
    return;
  struct spec_process *p = &s->process;
  EXPECT(s->has_process == true);
  EXPECT(p->terminal == true);
  EXPECT(p->has_console_size == true);
  EXPECT(p->console_height == 25);
  EXPECT(p->console_width == 80);
  EXPECT_STR(p->cwd, "/home/user");
  EXPECT(p->n_args == 3);
  EXPECT_STR(p->args[0], "sh");
  EXPECT_STR(p->args[1], "-c");
  EXPECT_STR(p->args[2], "echo hi");
  EXPECT(p->args[3] == NULL);
  EXPECT(p->n_env == 3);
  EXPECT_STR(p->env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  EXPECT_STR(p->env[1], "TERM=xterm");
  EXPECT_STR(p->env[2], "EMPTY=");
  EXPECT(p->env[3] == NULL);
  /* user */
  EXPECT(p->user.uid == 1000);
  EXPECT(p->user.gid == 1001);
  EXPECT(p->user.has_umask == true);
  EXPECT(p->user.umask == 022);
  EXPECT(p->user.n_additional_gids == 3);
  EXPECT(p->user.additional_gids[0] == 5);
  EXPECT(p->user.additional_gids[1] == 6);
  EXPECT(p->user.additional_gids[2] == 4294967294U);
  EXPECT(p->user.username == NULL);
  /* capabilities, bit n = capability n */
  EXPECT(p->caps.present == true);
  EXPECT(p->caps.bounding == (BIT(29) | BIT(5) | BIT(10)));
  EXPECT(p->caps.effective == (BIT(29) | BIT(5)));
  EXPECT(p->caps.inheritable == 0);
  EXPECT(p->caps.permitted == (BIT(0) | BIT(29) | BIT(5) | BIT(10) | BIT(21) | BIT(40)));
  EXPECT(p->caps.ambient == BIT(10));
  /* rlimits, in order, with their resource numbers */
  EXPECT(p->n_rlimits == 4);
  if (p->n_rlimits == 4) {
    EXPECT_STR(p->rlimits[0].type, "RLIMIT_NOFILE");
    EXPECT(p->rlimits[0].resource == RLIMIT_NOFILE);
    EXPECT(p->rlimits[0].soft == 1024 && p->rlimits[0].hard == 1024);
    EXPECT_STR(p->rlimits[1].type, "RLIMIT_CORE");
    EXPECT(p->rlimits[1].resource == RLIMIT_CORE);
    EXPECT(p->rlimits[1].soft == 0);
    EXPECT(p->rlimits[1].hard == UINT64_MAX);
    EXPECT(p->rlimits[2].resource == RLIMIT_NPROC);
    EXPECT(p->rlimits[2].soft == 10 && p->rlimits[2].hard == 20);
    EXPECT(p->rlimits[3].resource == RLIMIT_RTTIME);
  }
  EXPECT(p->no_new_privileges == true);
  EXPECT(p->has_oom_score_adj == true);
  EXPECT(p->oom_score_adj == -500);
  EXPECT_STR(p->apparmor_profile, "berth-default");
  EXPECT_STR(p->selinux_label, "system_u:system_r:container_t:s0");
  EXPECT(p->has_io_priority == true);
  EXPECT(p->io_priority_class == 2); /* IOPRIO_CLASS_BE */
  EXPECT(p->io_priority == 4);
  spec_free(s);
}

static void test_full_mounts(void) {
  struct spec *s = parse_q(full_config, "/run/bundles/b1");
  EXPECT(s != NULL);
  if (s == NULL)
    return;
  EXPECT(s->n_mounts == 12);
  if (s->n_mounts != 12) {
    spec_free(s);
    return;
  }
  struct spec_mount *m = s->mounts;
  /* proc: no options at all */
  EXPECT_STR(m[0].destination, "/proc");
  EXPECT_STR(m[0].type, "proc");
  EXPECT_STR(m[0].source, "proc"); /* not a bind mount: left alone */
  EXPECT(m[0].n_options == 0 && m[0].options == NULL);
  EXPECT(m[0].flags == 0 && m[0].clear_flags == 0 && m[0].propagation == 0);
  EXPECT(m[0].data == NULL);
  EXPECT(m[0].bind == false);
  /* /dev: flags and file system data kept apart, data in order */
  EXPECT(m[1].flags == (MS_NOSUID | MS_STRICTATIME));
  EXPECT_STR(m[1].data, "mode=755,size=65536k");
  EXPECT(m[1].n_options == 4);
  EXPECT_STR(m[1].options[2], "mode=755");
  EXPECT(m[1].options[4] == NULL);
  /* /dev/pts */
  EXPECT(m[2].flags == (MS_NOSUID | MS_NOEXEC));
  EXPECT_STR(m[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  /* /sys */
  EXPECT(m[3].flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
  EXPECT(m[3].data == NULL);
  /* /data: rbind, rprivate, rro */
  EXPECT(m[4].bind == true);
  EXPECT(m[4].flags == (MS_BIND | MS_REC));
  EXPECT(m[4].propagation == (MS_PRIVATE | MS_REC));
  EXPECT(m[4].rec_attr_set == MOUNT_ATTR_RDONLY);
  EXPECT(m[4].rec_attr_clr == 0);
  EXPECT_STR(m[4].source, "/srv/data");
  EXPECT(m[4].data == NULL);
  /* /mnt/disk: "ro,nosuid,nodev,noexec,relatime" */
  EXPECT(m[5].flags == (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME));
  EXPECT(m[5].clear_flags == 0);
  EXPECT(m[5].bind == false);
  EXPECT(m[5].data == NULL);
  EXPECT(m[5].propagation == 0);
  EXPECT(m[5].rec_attr_set == 0 && m[5].rec_attr_clr == 0);
  /* /cfg: "type": "bind" and no bind option is a bind mount; relative source */
  EXPECT(m[6].bind == true);
  EXPECT(m[6].flags == MS_BIND);
  EXPECT_STR(m[6].type, "bind");
  EXPECT_STR(m[6].source, "/run/bundles/b1/conf/app");
  /* /run: mode=755,size=64k */
  EXPECT_STR(m[7].data, "mode=755,size=64k");
  EXPECT(m[7].flags == 0);
  /* /scratch: later options override earlier ones */
  EXPECT(m[8].flags == MS_NOSUID);
  EXPECT(m[8].clear_flags == (MS_RDONLY | MS_NOEXEC));
  EXPECT(m[8].propagation == MS_SHARED);
  EXPECT(m[8].copy_up == true);
  EXPECT(m[8].rec_attr_set == MOUNT_ATTR_NODEV);
  EXPECT(m[8].rec_attr_clr == MOUNT_ATTR_NOSUID);
  EXPECT(m[8].data == NULL);
  EXPECT(m[8].idmap == false);
  /* /etc/hosts: bind option without a type */
  EXPECT(m[9].type == NULL);
  EXPECT(m[9].bind == true);
  EXPECT(m[9].flags == (MS_BIND | MS_RDONLY));
  EXPECT(m[9].propagation == (MS_SLAVE | MS_REC));
  EXPECT_STR(m[9].source, "/var/lib/hosts");
  /* /etc/resolv.conf: rbind with a relative source */
  EXPECT(m[10].flags == (MS_BIND | MS_REC));
  EXPECT_STR(m[10].source, "/run/bundles/b1/resolv.conf");
  /* /opt: an option with a comma is file system data as it stands */
  EXPECT_STR(m[11].data, "mode=755,size=64k");
  EXPECT(m[11].propagation == MS_UNBINDABLE);
  spec_free(s);
}

static void test_full_hooks(void) {
  struct spec *s = parse_q(full_config, "/run/bundles/b1");
  EXPECT(s != NULL);
  if (s == NULL)
    return;
  struct spec_hooks *h = &s->hooks;
  EXPECT(h->count[HOOK_PRESTART] == 1);
  EXPECT(h->count[HOOK_CREATE_RUNTIME] == 1);
  EXPECT(h->count[HOOK_CREATE_CONTAINER] == 2);
  EXPECT(h->count[HOOK_START_CONTAINER] == 1);
  EXPECT(h->count[HOOK_POSTSTART] == 1);
  EXPECT(h->count[HOOK_POSTSTOP] == 1);
  if (h->count[HOOK_PRESTART] == 1) {
    struct spec_hook *k = &h->list[HOOK_PRESTART][0];
    EXPECT_STR(k->path, "/usr/bin/fix-mounts");
    EXPECT(k->args != NULL);
    if (k->args != NULL) {
      EXPECT_STR(k->args[0], "fix-mounts");
      EXPECT_STR(k->args[2], "arg2");
      EXPECT(k->args[3] == NULL);
    }
    EXPECT(k->env != NULL && k->env[1] == NULL);
    EXPECT(k->env != NULL);
    if (k->env != NULL)
      EXPECT_STR(k->env[0], "key1=value1");
    EXPECT(k->has_timeout == false);
  }
  if (h->count[HOOK_CREATE_RUNTIME] == 1) {
    EXPECT_STR(h->list[HOOK_CREATE_RUNTIME][0].path, "/usr/bin/setup-network");
    EXPECT(h->list[HOOK_CREATE_RUNTIME][0].args == NULL);
    EXPECT(h->list[HOOK_CREATE_RUNTIME][0].env == NULL);
  }
  if (h->count[HOOK_CREATE_CONTAINER] == 2) {
    EXPECT_STR(h->list[HOOK_CREATE_CONTAINER][0].path, "/usr/bin/c1");
    EXPECT(h->list[HOOK_CREATE_CONTAINER][0].has_timeout == true);
    EXPECT(h->list[HOOK_CREATE_CONTAINER][0].timeout == 5);
    EXPECT_STR(h->list[HOOK_CREATE_CONTAINER][1].path, "/usr/bin/c2");
    EXPECT(h->list[HOOK_CREATE_CONTAINER][1].has_timeout == false);
  }
  if (h->count[HOOK_START_CONTAINER] == 1)
    EXPECT_STR(h->list[HOOK_START_CONTAINER][0].path, "/usr/bin/refresh-ldcache");
  if (h->count[HOOK_POSTSTART] == 1) {
    EXPECT(h->list[HOOK_POSTSTART][0].has_timeout == true);
    EXPECT(h->list[HOOK_POSTSTART][0].timeout == 2147483647);
  }
  if (h->count[HOOK_POSTSTOP] == 1) {
    EXPECT_STR(h->list[HOOK_POSTSTOP][0].path, "/usr/sbin/cleanup.sh");
    EXPECT(h->list[HOOK_POSTSTOP][0].args != NULL);
    if (h->list[HOOK_POSTSTOP][0].args != NULL)
      EXPECT_STR(h->list[HOOK_POSTSTOP][0].args[1], "-f");
  }
  /* the names used in messages */
  EXPECT_STR(spec_hook_kind_name(HOOK_PRESTART), "prestart");
  EXPECT_STR(spec_hook_kind_name(HOOK_CREATE_RUNTIME), "createRuntime");
  EXPECT_STR(spec_hook_kind_name(HOOK_CREATE_CONTAINER), "createContainer");
  EXPECT_STR(spec_hook_kind_name(HOOK_START_CONTAINER), "startContainer");
  EXPECT_STR(spec_hook_kind_name(HOOK_POSTSTART), "poststart");
  EXPECT_STR(spec_hook_kind_name(HOOK_POSTSTOP), "poststop");
  EXPECT_STR(spec_hook_kind_name(HOOK_KIND_COUNT), "unknown");
  spec_free(s);
}

static void test_full_linux(void) {
  struct spec *s = parse_q(full_config, "/run/bundles/b1");
  EXPECT(s != NULL);
  if (s == NULL)
    return;
  struct spec_linux *l = &s->lnx;
  for (int i = 0; i < NS_TYPE_COUNT; i++) {
    EXPECT(l->namespaces[i].present == true);
    if (i != NS_NETWORK)
      EXPECT(l->namespaces[i].path == NULL);
  }
  EXPECT_STR(l->namespaces[NS_NETWORK].path, "/var/run/netns/neta");
  /* id mappings */
  EXPECT(l->n_uid_mappings == 1);
  if (l->n_uid_mappings == 1) {
    EXPECT(l->uid_mappings[0].container_id == 0);
    EXPECT(l->uid_mappings[0].host_id == 100000);
    EXPECT(l->uid_mappings[0].size == 65536);
  }
  EXPECT(l->n_gid_mappings == 2);
  if (l->n_gid_mappings == 2) {
    EXPECT(l->gid_mappings[0].host_id == 200000);
    EXPECT(l->gid_mappings[1].container_id == 65536);
    EXPECT(l->gid_mappings[1].host_id == 4294967295U);
    EXPECT(l->gid_mappings[1].size == 1);
  }
  /* time offsets */
  EXPECT(l->has_time_offsets == true);
  EXPECT(l->time_monotonic.secs == 172800);
  EXPECT(l->time_monotonic.nanosecs == 0);
  EXPECT(l->time_boottime.secs == -86400);
  EXPECT(l->time_boottime.nanosecs == 999999999);
  /* devices */
  EXPECT(l->n_devices == 3);
  if (l->n_devices == 3) {
    struct spec_device *d = l->devices;
    EXPECT_STR(d[0].path, "/dev/fuse");
    EXPECT(d[0].type == 'c');
    EXPECT(d[0].major == 10 && d[0].minor == 229);
    EXPECT(d[0].has_file_mode == true && d[0].file_mode == 0666);
    EXPECT(d[0].has_uid == true && d[0].uid == 0);
    EXPECT(d[0].has_gid == true && d[0].gid == 7);
    EXPECT(d[1].type == 'b');
    EXPECT(d[1].major == 8 && d[1].minor == 0);
    EXPECT(d[1].has_file_mode == false && d[1].has_uid == false && d[1].has_gid == false);
    EXPECT(d[2].type == 'p');
  }
  EXPECT_STR(l->cgroups_path, "/myRuntime/myContainer");
  EXPECT(l->rootfs_propagation == (MS_SLAVE | MS_REC));
  EXPECT(l->n_sysctl == 2);
  EXPECT_STR(kv_get(l->sysctl, l->n_sysctl, "net.ipv4.ip_forward"), "1");
  EXPECT_STR(kv_get(l->sysctl, l->n_sysctl, "net.core.somaxconn"), "256");
  EXPECT(l->n_masked_paths == 3);
  if (l->n_masked_paths == 3) {
    EXPECT_STR(l->masked_paths[0], "/proc/kcore");
    EXPECT_STR(l->masked_paths[2], "/sys/firmware");
    EXPECT(l->masked_paths[3] == NULL);
  }
  EXPECT(l->n_readonly_paths == 2);
  if (l->n_readonly_paths == 2)
    EXPECT_STR(l->readonly_paths[1], "/proc/bus");
  EXPECT_STR(l->mount_label, "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811");
  EXPECT(l->personality != NULL);
  if (l->personality != NULL) {
    EXPECT(l->personality->domain == PER_LINUX32);
    EXPECT(l->personality->n_flags == 2);
    if (l->personality->n_flags == 2)
      EXPECT_STR(l->personality->flags[1], "FLAG_B");
  }
  /* namespace names and clone flags */
  EXPECT_STR(spec_ns_name(NS_PID), "pid");
  EXPECT_STR(spec_ns_name(NS_NETWORK), "network");
  EXPECT_STR(spec_ns_name(NS_TIME), "time");
  EXPECT_STR(spec_ns_name(NS_TYPE_COUNT), "unknown");
  EXPECT(spec_ns_clone_flag(NS_PID) == 0x20000000);     /* CLONE_NEWPID */
  EXPECT(spec_ns_clone_flag(NS_NETWORK) == 0x40000000); /* CLONE_NEWNET */
  EXPECT(spec_ns_clone_flag(NS_MOUNT) == 0x00020000);   /* CLONE_NEWNS */
  EXPECT(spec_ns_clone_flag(NS_IPC) == 0x08000000);     /* CLONE_NEWIPC */
  EXPECT(spec_ns_clone_flag(NS_UTS) == 0x04000000);     /* CLONE_NEWUTS */
  EXPECT(spec_ns_clone_flag(NS_USER) == 0x10000000);    /* CLONE_NEWUSER */
  EXPECT(spec_ns_clone_flag(NS_CGROUP) == 0x02000000);  /* CLONE_NEWCGROUP */
  EXPECT(spec_ns_clone_flag(NS_TIME) == 0x00000080);    /* CLONE_NEWTIME */
  EXPECT(spec_ns_clone_flag(NS_TYPE_COUNT) == 0);
  spec_free(s);
}

static void test_full_resources(void) {
  struct spec *s = parse_q(full_config, "/run/bundles/b1");
  EXPECT(s != NULL);
  if (s == NULL)
    return;
  EXPECT(s->lnx.has_resources == true);
  struct spec_resources *r = &s->lnx.resources;
  /* memory */
  EXPECT(r->has_memory_limit && r->memory_limit == 536870912);
  EXPECT(r->has_memory_reservation && r->memory_reservation == 268435456);
  EXPECT(r->has_memory_swap && r->memory_swap == 1073741824);
  EXPECT(r->has_memory_kernel && r->memory_kernel == -1);
  EXPECT(r->has_memory_kernel_tcp && r->memory_kernel_tcp == 1048576);
  EXPECT(r->has_memory_swappiness && r->memory_swappiness == 0);
  EXPECT(r->has_disable_oom_killer && r->disable_oom_killer == false);
  EXPECT(r->has_use_hierarchy && r->use_hierarchy == true);
  EXPECT(r->has_check_before_update && r->check_before_update == true);
  /* cpu */
  EXPECT(r->has_cpu_shares && r->cpu_shares == 1024);
  EXPECT(r->has_cpu_quota && r->cpu_quota == 50000);
  EXPECT(r->has_cpu_burst && r->cpu_burst == 10000);
  EXPECT(r->has_cpu_period && r->cpu_period == 100000);
  EXPECT(r->has_cpu_rt_runtime && r->cpu_rt_runtime == 950000);
  EXPECT(r->has_cpu_rt_period && r->cpu_rt_period == 1000000);
  EXPECT(r->has_cpu_idle && r->cpu_idle == 1);
  EXPECT_STR(r->cpu_cpus, "2-3");
  EXPECT_STR(r->cpu_mems, "0-7");
  /* pids */
  EXPECT(r->has_pids_limit && r->pids_limit == 32771);
  /* block io */
  EXPECT(r->has_blkio_weight && r->blkio_weight == 10);
  EXPECT(r->has_blkio_leaf_weight && r->blkio_leaf_weight == 1000);
  EXPECT(r->n_blkio_weight_device == 2);
  if (r->n_blkio_weight_device == 2) {
    struct spec_weight_device *w = r->blkio_weight_device;
    EXPECT(w[0].major == 8 && w[0].minor == 0);
    EXPECT(w[0].has_weight && w[0].weight == 500);
    EXPECT(w[0].has_leaf_weight && w[0].leaf_weight == 300);
    EXPECT(w[1].major == 8 && w[1].minor == 16);
    EXPECT(w[1].has_weight && w[1].weight == 500);
    EXPECT(w[1].has_leaf_weight == false);
  }
  EXPECT(r->n_blkio_throttle[0] == 1); /* read bps */
  if (r->n_blkio_throttle[0] == 1)
    EXPECT(r->blkio_throttle[0][0].major == 8 && r->blkio_throttle[0][0].minor == 0 &&
           r->blkio_throttle[0][0].rate == 600);
  EXPECT(r->n_blkio_throttle[1] == 0 && r->blkio_throttle[1] == NULL); /* write bps */
  EXPECT(r->n_blkio_throttle[2] == 0 && r->blkio_throttle[2] == NULL); /* read iops */
  EXPECT(r->n_blkio_throttle[3] == 2);                                 /* write iops */
  if (r->n_blkio_throttle[3] == 2) {
    EXPECT(r->blkio_throttle[3][0].minor == 16 && r->blkio_throttle[3][0].rate == 300);
    EXPECT(r->blkio_throttle[3][1].minor == 32 && r->blkio_throttle[3][1].rate == 0);
  }
  /* hugetlb */
  EXPECT(r->n_hugepage_limits == 3);
  if (r->n_hugepage_limits == 3) {
    EXPECT_STR(r->hugepage_limits[0].page_size, "2MB");
    EXPECT(r->hugepage_limits[0].limit == 9223372036854771712ULL);
    EXPECT_STR(r->hugepage_limits[1].page_size, "64KB");
    EXPECT(r->hugepage_limits[1].limit == 1024);
    EXPECT_STR(r->hugepage_limits[2].page_size, "1GB");
    EXPECT(r->hugepage_limits[2].limit == 0);
  }
  /* devices cgroup: defaults are "all devices, rwm" */
  EXPECT(r->n_devices == 3);
  if (r->n_devices == 3) {
    struct spec_device_rule *d = r->devices;
    EXPECT(d[0].allow == false && d[0].type == 'a' && d[0].major == -1 && d[0].minor == -1);
    EXPECT_STR(d[0].access, "rwm");
    EXPECT(d[1].allow == true && d[1].type == 'c' && d[1].major == 10 && d[1].minor == 229);
    EXPECT_STR(d[1].access, "rw");
    EXPECT(d[2].allow == true && d[2].type == 'b' && d[2].major == 8 && d[2].minor == -1);
    EXPECT_STR(d[2].access, "r");
  }
  /* network */
  EXPECT(r->has_net_class_id && r->net_class_id == 1048577);
  EXPECT(r->n_net_priorities == 2);
  EXPECT_STR(kv_get(r->net_priorities, r->n_net_priorities, "eth0"), "500");
  EXPECT_STR(kv_get(r->net_priorities, r->n_net_priorities, "eth1"), "1000");
  /* unified */
  EXPECT(r->n_unified == 2);
  EXPECT_STR(kv_get(r->unified, r->n_unified, "io.max"), "8:0 rbps=1048576");
  EXPECT_STR(kv_get(r->unified, r->n_unified, "memory.high"), "500000000");
  spec_free(s);
}

static void test_full_seccomp(void) {
  struct spec *s = parse_q(full_config, "/run/bundles/b1");
  EXPECT(s != NULL);
  if (s == NULL)
    return;
  struct spec_seccomp *sc = s->lnx.seccomp;
  EXPECT(sc != NULL);
  if (sc == NULL) {
    spec_free(s);
    return;
  }
  EXPECT(sc->default_action == SECCOMP_ACTION_ERRNO);
  EXPECT(sc->has_default_errno_ret == true);
  EXPECT(sc->default_errno_ret == 38);
  EXPECT(sc->n_architectures == 3);
  if (sc->n_architectures == 3) {
    EXPECT_STR(sc->architectures[0], "SCMP_ARCH_X86_64");
    EXPECT_STR(sc->architectures[2], "SCMP_ARCH_X32");
  }
  EXPECT(sc->n_flags == 1);
  if (sc->n_flags == 1)
    EXPECT_STR(sc->flags[0], "SECCOMP_FILTER_FLAG_LOG");
  EXPECT_STR(sc->listener_path, "/run/seccomp-agent.sock");
  EXPECT_STR(sc->listener_metadata, "meta");
  EXPECT(sc->n_syscalls == 10);
  if (sc->n_syscalls != 10) {
    spec_free(s);
    return;
  }
  struct spec_seccomp_syscall *c = sc->syscalls;
  EXPECT(c[0].n_names == 2);
  EXPECT_STR(c[0].names[0], "getcwd");
  EXPECT_STR(c[0].names[1], "chmod");
  EXPECT(c[0].names[2] == NULL);
  EXPECT(c[0].action == SECCOMP_ACTION_ALLOW);
  EXPECT(c[0].has_errno_ret == false);
  EXPECT(c[0].n_args == 0);
  /* args */
  EXPECT(c[1].n_args == 2);
  if (c[1].n_args == 2) {
    EXPECT(c[1].args[0].index == 0 && c[1].args[0].value == 0 && c[1].args[0].value_two == 0);
    EXPECT(c[1].args[0].op == SECCOMP_OP_EQ);
    EXPECT(c[1].args[1].index == 5 && c[1].args[1].value == 255 && c[1].args[1].value_two == 8);
    EXPECT(c[1].args[1].op == SECCOMP_OP_MASKED_EQ);
  }
  EXPECT(c[2].action == SECCOMP_ACTION_NOTIFY);
  EXPECT(c[3].action == SECCOMP_ACTION_ERRNO);
  EXPECT(c[3].has_errno_ret == true && c[3].errno_ret == 1);
  EXPECT(c[3].n_args == 5);
  if (c[3].n_args == 5) {
    EXPECT(c[3].args[0].op == SECCOMP_OP_NE && c[3].args[0].index == 1 && c[3].args[0].value == 9);
    EXPECT(c[3].args[1].op == SECCOMP_OP_LT);
    EXPECT(c[3].args[2].op == SECCOMP_OP_LE && c[3].args[2].index == 2);
    EXPECT(c[3].args[3].op == SECCOMP_OP_GE && c[3].args[3].value == UINT64_MAX);
    EXPECT(c[3].args[4].op == SECCOMP_OP_GT && c[3].args[4].index == 4 && c[3].args[4].value == 5);
  }
  EXPECT(c[4].action == SECCOMP_ACTION_KILL_PROCESS);
  EXPECT(c[5].action == SECCOMP_ACTION_KILL);
  EXPECT(c[6].action == SECCOMP_ACTION_KILL_THREAD);
  EXPECT(c[7].action == SECCOMP_ACTION_TRAP);
  EXPECT(c[8].action == SECCOMP_ACTION_TRACE);
  EXPECT(c[8].has_errno_ret == true && c[8].errno_ret == 4095);
  EXPECT(c[9].action == SECCOMP_ACTION_LOG);
  spec_free(s);
}

/* Optional fields left out stay "absent", not zero-valued look-alikes. */
static void test_minimal(void) {
  struct spec *s = parse_q("{" OCI ", 'root': {'path': '/abs/rootfs'}}", "/b");
  EXPECT(s != NULL);
  if (s == NULL)
    return;
  EXPECT_STR(s->oci_version, "1.0.2");
  EXPECT_STR(s->root.path, "/abs/rootfs"); /* absolute: kept as is */
  EXPECT(s->root.readonly == false);
  EXPECT(s->has_process == false);
  EXPECT(s->process.cwd == NULL && s->process.args == NULL);
  EXPECT(s->hostname == NULL && s->domainname == NULL);
  EXPECT(s->n_mounts == 0 && s->mounts == NULL);
  for (int k = 0; k < HOOK_KIND_COUNT; k++)
    EXPECT(s->hooks.count[k] == 0 && s->hooks.list[k] == NULL);
  EXPECT(s->n_annotations == 0);
  for (int i = 0; i < NS_TYPE_COUNT; i++)
    EXPECT(s->lnx.namespaces[i].present == false);
  EXPECT(s->lnx.has_resources == false);
  EXPECT(s->lnx.seccomp == NULL);
  EXPECT(s->lnx.personality == NULL);
  EXPECT(s->lnx.rootfs_propagation == 0);
  EXPECT(s->lnx.has_time_offsets == false);
  EXPECT(s->lnx.cgroups_path == NULL);
  spec_free(s);

  s = parse_q("{" BASE ", 'linux': {'resources': {}}}", "/b");
  EXPECT(s != NULL);
  if (s != NULL) {
    struct spec_process *p = &s->process;
    EXPECT(s->has_process == true);
    EXPECT(p->terminal == false && p->has_console_size == false);
    EXPECT(p->user.uid == 0 && p->user.gid == 0 && p->user.has_umask == false);
    EXPECT(p->caps.present == false);
    EXPECT(p->n_rlimits == 0);
    EXPECT(p->has_oom_score_adj == false);
    EXPECT(p->has_io_priority == false);
    EXPECT(p->n_env == 0 && p->env == NULL);
    EXPECT_STR(s->root.path, "/b/rootfs");
    struct spec_resources *r = &s->lnx.resources;
    EXPECT(s->lnx.has_resources == true);
    EXPECT(!r->has_memory_limit && !r->has_memory_swap && !r->has_memory_swappiness);
    EXPECT(!r->has_cpu_shares && !r->has_cpu_quota && !r->has_cpu_period && r->cpu_cpus == NULL);
    EXPECT(!r->has_pids_limit && !r->has_blkio_weight && !r->has_net_class_id);
    EXPECT(r->n_devices == 0 && r->n_unified == 0 && r->n_hugepage_limits == 0);
    spec_free(s);
  }

  /* null reads as absent */
  s = parse_q("{" BASE ", 'hostname': null, 'mounts': null, 'linux': {'seccomp': null, 'namespaces': null}}", "/b");
  EXPECT(s != NULL);
  if (s != NULL) {
    EXPECT(s->hostname == NULL && s->n_mounts == 0 && s->lnx.seccomp == NULL);
    spec_free(s);
  }

  /* A user namespace that is joined needs no mappings; a hostname with a uts ns. */
  s = parse_q("{" BASE ", 'hostname': 'h', 'linux': {'namespaces': [{'type': 'user', 'path': '/proc/1/ns/user'},"
              " {'type': 'uts'}]}}",
              "/b");
  EXPECT(s != NULL);
  if (s != NULL) {
    EXPECT(s->lnx.namespaces[NS_USER].present == true);
    EXPECT_STR(s->lnx.namespaces[NS_USER].path, "/proc/1/ns/user");
    EXPECT(s->lnx.n_uid_mappings == 0);
    spec_free(s);
  }

  /* A NULL bundle means ".". */
  s = parse_q("{" BASE ", 'mounts': [{'destination': '/x', 'type': 'bind', 'source': 'src'}]}", NULL);
  EXPECT(s != NULL);
  if (s != NULL) {
    EXPECT_STR(s->bundle, ".");
    EXPECT_STR(s->root.path, "./rootfs");
    EXPECT(s->n_mounts == 1);
    if (s->n_mounts == 1)
      EXPECT_STR(s->mounts[0].source, "./src");
    spec_free(s);
  }
}

static void test_mount_options(void) {
  struct spec *s =
      parse_q("{" BASE ", 'mounts': ["
              "{'destination': '/a', 'type': 'tmpfs', 'source': 't', 'options': ['defaults', 'sync', 'dirsync',"
              " 'noatime', 'nodiratime', 'mand', 'iversion', 'lazytime', 'silent', 'remount', 'nosymfollow']},"
              "{'destination': '/b', 'type': 'tmpfs', 'source': 't', 'options': ['sync', 'async', 'noatime', 'atime',"
              " 'nodev', 'dev', 'nodiratime', 'diratime', 'mand', 'nomand', 'iversion', 'noiversion',"
              " 'lazytime', 'nolazytime', 'silent', 'loud', 'relatime', 'norelatime', 'strictatime',"
              " 'nostrictatime', 'nosymfollow', 'symfollow']},"
              "{'destination': '/c', 'type': 'tmpfs', 'source': 't', 'options': ['rro', 'rrw', 'rnoexec',"
              " 'rnodiratime', 'rnosymfollow', 'rnosuid', 'rexec']},"
              "{'destination': '/d', 'type': 'tmpfs', 'source': 't', 'options': ['slave', 'private',"
              " 'rshared', 'runbindable']},"
              "{'destination': '/e', 'type': 'tmpfs', 'source': 't', 'options': ['rrw', 'rro', 'rdev',"
              " 'rdiratime', 'rsymfollow', 'rsuid']}"
              "]}",
              "/b");
  EXPECT(s != NULL);
  if (s == NULL)
    return;
  EXPECT(s->n_mounts == 5);
  if (s->n_mounts == 5) {
    struct spec_mount *m = s->mounts;
    EXPECT(m[0].flags == (MS_SYNCHRONOUS | MS_DIRSYNC | MS_NOATIME | MS_NODIRATIME | MS_MANDLOCK | MS_I_VERSION |
                          MS_LAZYTIME | MS_SILENT | MS_REMOUNT | 256 /* MS_NOSYMFOLLOW */));
    EXPECT(m[0].clear_flags == 0);
    EXPECT(m[0].data == NULL);
    EXPECT(m[1].flags == 0);
    EXPECT(m[1].clear_flags == (MS_SYNCHRONOUS | MS_NOATIME | MS_NODEV | MS_NODIRATIME | MS_MANDLOCK | MS_I_VERSION |
                                MS_LAZYTIME | MS_SILENT | MS_RELATIME | MS_STRICTATIME | 256));
    EXPECT(m[2].rec_attr_set == (MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSUID | 0x00200000 /* MOUNT_ATTR_NOSYMFOLLOW */));
    EXPECT(m[2].rec_attr_clr == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC));
    EXPECT(m[2].flags == 0 && m[2].data == NULL);
    EXPECT(m[3].propagation == (MS_UNBINDABLE | MS_REC)); /* the last one wins */
    EXPECT(m[4].rec_attr_set == MOUNT_ATTR_RDONLY);
    EXPECT(m[4].rec_attr_clr == (MOUNT_ATTR_NODEV | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSUID | 0x00200000));
  }
  spec_free(s);
}

/* ---- bad input ----------------------------------------------------------- */

static void test_bad_json(void) {
  /* invalid JSON names the line */
  char *m = parse_error_q("{\n 'ociVersion': '1.0.2',\n 'root': {'path': 'rootfs'},\n 'process': }\n}");
  EXPECT(m != NULL && strncmp(m, "config.json: invalid JSON at line 4: ", 37) == 0);
  if (m != NULL && strncmp(m, "config.json: invalid JSON at line 4: ", 37) != 0)
    printf("#   got: %s\n", m);
  free(m);
  m = parse_error_q("{'ociVersion': '1.0.2',\n\n 'root' {'path': 'rootfs'}}");
  EXPECT(m != NULL && strncmp(m, "config.json: invalid JSON at line 3: ", 37) == 0);
  free(m);
  EXPECT_BAD("{'ociVersion': '1.0.2', 'root': {", "config.json: invalid JSON: unexpected end of input (line 1)");
  EXPECT_BAD("{'ociVersion': '1.0.2',\n 'root': {'path': 'rootfs'}\n",
             "config.json: invalid JSON: unexpected end of input (line 3)");
  EXPECT_BAD("", "config.json: invalid JSON: unexpected end of input (line 1)");
  EXPECT_BAD("[]", "config.json: expected a JSON object, got an array");
  EXPECT_BAD("[{" BASE "}]", "config.json: expected a JSON object, got an array");
  EXPECT_BAD("'1.0.2'", "config.json: expected a JSON object, got a string");
  EXPECT_BAD("123", "config.json: expected a JSON object, got an integer");
  EXPECT_BAD("true", "config.json: expected a JSON object, got a boolean");
  EXPECT_BAD("{" BASE "} x", "config.json: invalid JSON: trailing data after the top-level value");
  EXPECT_BAD("{" BASE "}\n{}", "config.json: invalid JSON: trailing data after the top-level value");
}

static void test_bad_top(void) {
  EXPECT_BAD("{" ROOT ", " PROC "}", "config.json: ociVersion: is required");
  EXPECT_BAD("{'ociVersion': '2.0.0', " ROOT "}",
             "config.json: ociVersion: unsupported version \"2.0.0\" (1.x is supported)");
  EXPECT_BAD("{'ociVersion': '', " ROOT "}", "config.json: ociVersion: unsupported version \"\" (1.x is supported)");
  EXPECT_BAD("{'ociVersion': 1, " ROOT "}", "config.json: ociVersion: expected a string, got an integer");
  EXPECT_BAD("{" OCI ", " PROC "}", "config.json: root: is required");
  EXPECT_BAD("{" OCI ", 'root': 'rootfs'}", "config.json: root: expected an object, got a string");
  EXPECT_BAD("{" OCI ", 'root': {}}", "config.json: root.path: is required");
  EXPECT_BAD("{" OCI ", 'root': {'path': 'r', 'readonly': 'yes'}}",
             "config.json: root.readonly: expected a boolean, got a string");
  EXPECT_BAD("{" BASE ", 'hostname': 'h'}", "config.json: hostname: needs a uts namespace");
  EXPECT_BAD("{" BASE ", 'hostname': 'h', 'linux': {'namespaces': [{'type': 'pid'}]}}",
             "config.json: hostname: needs a uts namespace");
  EXPECT_BAD("{" BASE ", 'domainname': 'd'}", "config.json: domainname: needs a uts namespace");
  EXPECT_BAD("{" BASE ", 'hostname': 7}", "config.json: hostname: expected a string, got an integer");
  EXPECT_BAD("{" BASE ", 'annotations': {'a': 1}}", "config.json: annotations.a: expected a string, got an integer");
  EXPECT_BAD("{" BASE ", 'annotations': []}", "config.json: annotations: expected an object, got an array");
  EXPECT_BAD("{" BASE ", 'linux': []}", "config.json: linux: expected an object, got an array");
  EXPECT_BAD("{" OCI ", " ROOT ", 'process': []}", "config.json: process: expected an object, got an array");
}

static void test_bad_process(void) {
  EXPECT_BAD("{" OCI ", " ROOT ", 'process': {'args': ['sh']}}", "config.json: process.cwd: is required");
  EXPECT_BAD("{" OCI ", " ROOT ", 'process': {'cwd': 'tmp', 'args': ['sh']}}",
             "config.json: process.cwd: \"tmp\" is not an absolute path");
  EXPECT_BAD("{" OCI ", " ROOT ", 'process': {'cwd': '', 'args': ['sh']}}",
             "config.json: process.cwd: \"\" is not an absolute path");
  EXPECT_BAD("{" OCI ", " ROOT ", 'process': {'cwd': '/', 'args': 'sh'}}",
             "config.json: process.args: expected an array, got a string");
  EXPECT_BAD("{" OCI ", " ROOT ", 'process': {'cwd': '/', 'args': []}}",
             "config.json: process.args: must name the program to run");
  EXPECT_BAD("{" OCI ", " ROOT ", 'process': {'cwd': '/'}}", "config.json: process.args: must name the program to run");
  EXPECT_BAD("{" OCI ", " ROOT ", 'process': {'cwd': '/', 'args': ['sh', 1]}}",
             "config.json: process.args: item 1: expected a string, got an integer");
  EXPECT_BAD(WITH_PROC("'env': ['A=1', 'FOO']"), "config.json: process.env: \"FOO\" is not of the form KEY=value");
  EXPECT_BAD(WITH_PROC("'env': 'A=1'"), "config.json: process.env: expected an array, got a string");
  EXPECT_BAD(WITH_PROC("'terminal': 1"), "config.json: process.terminal: expected a boolean, got an integer");
  EXPECT_BAD(WITH_PROC("'consoleSize': {'height': 65536, 'width': 80}"),
             "config.json: process.consoleSize.height: 65536 is out of range (at most 65535)");
  /* user */
  EXPECT_BAD(WITH_PROC("'user': {'uid': -1}"),
             "config.json: process.user.uid: expected a non-negative integer, got -1");
  EXPECT_BAD(WITH_PROC("'user': {'uid': 4294967295}"),
             "config.json: process.user.uid: 4294967295 is out of range (at most 4294967294)");
  EXPECT_BAD(WITH_PROC("'user': {'gid': '0'}"), "config.json: process.user.gid: expected an integer, got a string");
  EXPECT_BAD(WITH_PROC("'user': {'umask': 512}"), "config.json: process.user.umask: 512 is out of range (at most 511)");
  EXPECT_BAD(WITH_PROC("'user': {'additionalGids': [1, -2]}"),
             "config.json: process.user.additionalGids: item 1: expected a gid, got an integer");
  EXPECT_BAD(WITH_PROC("'user': {'additionalGids': ['1']}"),
             "config.json: process.user.additionalGids: item 0: expected a gid, got a string");
  EXPECT_BAD(WITH_PROC("'user': 0"), "config.json: process.user: expected an object, got an integer");
  /* rlimits */
  EXPECT_BAD(WITH_PROC("'rlimits': [{'type': 'RLIMIT_FOO', 'soft': 1, 'hard': 1}]"),
             "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"");
  EXPECT_BAD(WITH_PROC("'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 2048, 'hard': 1024}]"),
             "config.json: process.rlimits[0]: RLIMIT_NOFILE soft limit 2048 is above the hard limit 1024");
  EXPECT_BAD(
      WITH_PROC("'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 1, 'hard': 1},"
                " {'type': 'RLIMIT_CORE', 'soft': 1, 'hard': 1}, {'type': 'RLIMIT_NOFILE', 'soft': 2, 'hard': 2}]"),
      "config.json: process.rlimits[2].type: RLIMIT_NOFILE is given twice");
  EXPECT_BAD(WITH_PROC("'rlimits': [{'soft': 1, 'hard': 1}]"), "config.json: process.rlimits[0].type: is required");
  EXPECT_BAD(WITH_PROC("'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': -1, 'hard': 1}]"),
             "config.json: process.rlimits[0].soft: expected a non-negative integer, got -1");
  EXPECT_BAD(WITH_PROC("'rlimits': ['RLIMIT_NOFILE']"),
             "config.json: process.rlimits[0]: expected an object, got a string");
  /* capabilities */
  EXPECT_BAD(WITH_PROC("'capabilities': {'bounding': ['CAP_KILL', 'CAP_FOO']}"),
             "config.json: process.capabilities.bounding: unknown capability \"CAP_FOO\"");
  EXPECT_BAD(WITH_PROC("'capabilities': {'ambient': ['kill']}"),
             "config.json: process.capabilities.ambient: unknown capability \"kill\"");
  EXPECT_BAD(WITH_PROC("'capabilities': {'effective': 'CAP_KILL'}"),
             "config.json: process.capabilities.effective: expected an array, got a string");
  EXPECT_BAD(WITH_PROC("'capabilities': ['CAP_KILL']"),
             "config.json: process.capabilities: expected an object, got an array");
  /* scheduler and execCPUAffinity */
  EXPECT_BAD(WITH_PROC("'scheduler': {'nice': 1}"), "config.json: process.scheduler.policy: is required");
  EXPECT_BAD(WITH_PROC("'scheduler': {'policy': 'SCHED_FOO'}"),
             "config.json: process.scheduler.policy: unknown policy \"SCHED_FOO\"");
  EXPECT_BAD(WITH_PROC("'scheduler': {'policy': 'SCHED_OTHER', 'nice': 20}"),
             "config.json: process.scheduler.nice: 20 is out of range (-20 to 19)");
  EXPECT_BAD(WITH_PROC("'scheduler': {'policy': 'SCHED_FIFO', 'flags': ['SCHED_FLAG_X']}"),
             "config.json: process.scheduler.flags: unknown flag \"SCHED_FLAG_X\"");
  EXPECT_BAD(WITH_PROC("'execCPUAffinity': {'initial': '0-'}"),
             "config.json: process.execCPUAffinity.initial: \"0-\" is not a CPU list");
  EXPECT_BAD(WITH_PROC("'execCPUAffinity': {'final': '3-1'}"),
             "config.json: process.execCPUAffinity.final: \"3-1\" is not a CPU list");
  {
    struct spec *sp = parse_q(WITH_PROC("'scheduler': {'policy': 'SCHED_DEADLINE', 'runtime': 10, 'deadline': 20,"
                                        " 'period': 30, 'flags': ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM']},"
                                        " 'execCPUAffinity': {'initial': '0,2-3', 'final': '1'}"),
                              "/b");
    EXPECT(sp != NULL && sp->process.has_scheduler && sp->process.sched_policy == 6 &&
           sp->process.sched_flags == 3 && sp->process.sched_runtime == 10 && sp->process.sched_deadline == 20 &&
           sp->process.sched_period == 30);
    EXPECT_STR(sp != NULL ? sp->process.cpu_affinity_initial : NULL, "0,2-3");
    cpu_set_t set;
    EXPECT(spec_parse_cpu_list("0,2-3", &set) == 0 && CPU_COUNT(&set) == 3 && CPU_ISSET(0, &set) &&
           !CPU_ISSET(1, &set) && CPU_ISSET(3, &set));
    spec_free(sp);
  }
  /* oomScoreAdj */
  EXPECT_BAD(WITH_PROC("'oomScoreAdj': 1001"),
             "config.json: process.oomScoreAdj: 1001 is out of range (-1000 to 1000)");
  EXPECT_BAD(WITH_PROC("'oomScoreAdj': -1001"),
             "config.json: process.oomScoreAdj: -1001 is out of range (-1000 to 1000)");
  EXPECT_BAD(WITH_PROC("'oomScoreAdj': 1.5"), "config.json: process.oomScoreAdj: expected an integer, got a number");
  /* ioPriority */
  EXPECT_BAD(WITH_PROC("'ioPriority': {'class': 'IOPRIO_CLASS_FOO', 'priority': 1}"),
             "config.json: process.ioPriority.class: expected IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE");
  EXPECT_BAD(WITH_PROC("'ioPriority': {'priority': 1}"),
             "config.json: process.ioPriority.class: expected IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE");
  EXPECT_BAD(WITH_PROC("'ioPriority': {'class': 'IOPRIO_CLASS_RT', 'priority': 8}"),
             "config.json: process.ioPriority.priority: 8 is out of range (0 to 7)");
  EXPECT_BAD(WITH_PROC("'ioPriority': {'class': 'IOPRIO_CLASS_RT', 'priority': -1}"),
             "config.json: process.ioPriority.priority: -1 is out of range (0 to 7)");
  EXPECT_BAD(WITH_PROC("'apparmorProfile': ['x']"),
             "config.json: process.apparmorProfile: expected a string, got an array");
}

static void test_io_priority_classes(void) {
  static const struct {
    const char *cls;
    int value;
  } cases[] = {{"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char text[512];
    snprintf(text, sizeof(text), WITH_PROC("'ioPriority': {'class': '%s', 'priority': 7}"), cases[i].cls);
    struct spec *s = parse_q(text, "/b");
    EXPECT(s != NULL);
    if (s != NULL) {
      EXPECT(s->process.has_io_priority == true);
      EXPECT(s->process.io_priority_class == cases[i].value);
      EXPECT(s->process.io_priority == 7);
      spec_free(s);
    }
  }
}

static void test_bad_linux(void) {
  /* newer fields berth does not implement are refused, not ignored */
  EXPECT_BAD(WITH_LINUX("'intelRdt': {'closID': 'x'}"), "config.json: linux.intelRdt: is not supported by berth-runtime");
  EXPECT_BAD(WITH_LINUX("'netDevices': {'eth1': {}}"), "config.json: linux.netDevices: is not supported by berth-runtime");
  EXPECT_BAD(WITH_LINUX("'memoryPolicy': {'mode': 'MPOL_X'}"),
             "config.json: linux.memoryPolicy.mode: unknown mode \"MPOL_X\"");
  EXPECT_BAD(WITH_LINUX("'memoryPolicy': {'mode': 'MPOL_BIND', 'nodes': 'a'}"),
             "config.json: linux.memoryPolicy.nodes: \"a\" is not a node list");
  EXPECT_BAD(WITH_LINUX("'memoryPolicy': {'mode': 'MPOL_BIND', 'nodes': '0', 'flags': ['MPOL_F_X']}"),
             "config.json: linux.memoryPolicy.flags: unknown flag \"MPOL_F_X\"");
  {
    struct spec *sp = parse_q(WITH_LINUX("'memoryPolicy': {'mode': 'MPOL_BIND', 'nodes': '0,2',"
                                         " 'flags': ['MPOL_F_STATIC_NODES']}"), "/b");
    EXPECT(sp != NULL && sp->lnx.has_memory_policy && sp->lnx.mpol_mode == (2 | (1 << 15)) &&
           sp->lnx.mpol_has_nodes && sp->lnx.mpol_nodes[0] == 5);
    spec_free(sp);
  }
  /* namespaces */
  EXPECT_BAD(WITH_LINUX("'namespaces': [{'type': 'pid'}, {'type': 'foo'}]"),
             "config.json: linux.namespaces[1].type: unknown namespace type \"foo\"");
  EXPECT_BAD(WITH_LINUX("'namespaces': [{'type': 'pid'}, {'type': 'pid'}]"),
             "config.json: linux.namespaces[1].type: namespace \"pid\" is given twice");
  EXPECT_BAD(WITH_LINUX("'namespaces': [{'type': 'network', 'path': 'proc/1/ns/net'}]"),
             "config.json: linux.namespaces[0].path: \"proc/1/ns/net\" is not an absolute path");
  EXPECT_BAD(WITH_LINUX("'namespaces': [{'path': '/proc/1/ns/net'}]"),
             "config.json: linux.namespaces[0].type: is required");
  EXPECT_BAD(WITH_LINUX("'namespaces': ['pid']"), "config.json: linux.namespaces[0]: expected an object, got a string");
  EXPECT_BAD(WITH_LINUX("'namespaces': {'type': 'pid'}"),
             "config.json: linux.namespaces: expected an array, got an object");
  /* user namespace and id mappings */
  EXPECT_BAD(WITH_LINUX("'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}],"
                        " 'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]"),
             "config.json: linux.uidMappings: needs a user namespace");
  EXPECT_BAD(WITH_LINUX("'namespaces': [{'type': 'user'}]"),
             "config.json: linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
  EXPECT_BAD(
      WITH_LINUX("'namespaces': [{'type': 'user'}], 'uidMappings': [{'containerID': 0, 'hostID': 1, 'size': 1}]"),
      "config.json: linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
  EXPECT_BAD(WITH_LINUX("'namespaces': [{'type': 'user'}], 'uidMappings': [{'containerID': 0, 'hostID': 1}]"),
             "config.json: linux.uidMappings[0]: containerID, hostID and size are required");
  EXPECT_BAD(
      WITH_LINUX(
          "'namespaces': [{'type': 'user'}], 'gidMappings': [{'containerID': 0, 'hostID': 4294967296, 'size': 1}]"),
      "config.json: linux.gidMappings[0].hostID: 4294967296 is out of range (at most 4294967295)");
  /* time offsets */
  EXPECT_BAD(WITH_LINUX("'timeOffsets': {'monotonic': {'secs': 1}}"),
             "config.json: linux.timeOffsets: needs a time namespace");
  EXPECT_BAD(
      WITH_LINUX("'namespaces': [{'type': 'time'}], 'timeOffsets': {'boottime': {'secs': 1, 'nanosecs': 1000000000}}"),
      "config.json: linux.timeOffsets.boottime.nanosecs: 1000000000 is out of range (at most 999999999)");
  EXPECT_BAD(WITH_LINUX("'namespaces': [{'type': 'time'}], 'timeOffsets': {'monotonic': {'secs': '1'}}"),
             "config.json: linux.timeOffsets.monotonic.secs: expected an integer, got a string");
  /* devices */
  EXPECT_BAD(WITH_LINUX("'devices': [{'path': '/dev/x', 'type': 'x', 'major': 1, 'minor': 1}]"),
             "config.json: linux.devices[0].type: device \"/dev/x\": unknown type \"x\" (c, b, u or p)");
  EXPECT_BAD(WITH_LINUX("'devices': [{'path': '/dev/x', 'type': 'cb', 'major': 1, 'minor': 1}]"),
             "config.json: linux.devices[0].type: device \"/dev/x\": unknown type \"cb\" (c, b, u or p)");
  EXPECT_BAD(WITH_LINUX("'devices': [{'path': '/dev/x', 'type': 'c'}]"),
             "config.json: linux.devices[0]: device \"/dev/x\": major and minor are required for a c device");
  EXPECT_BAD(WITH_LINUX("'devices': [{'path': '/dev/x', 'type': 'b', 'major': 8}]"),
             "config.json: linux.devices[0]: device \"/dev/x\": major and minor are required for a b device");
  EXPECT_BAD(WITH_LINUX("'devices': [{'path': '/dev/x', 'type': 'u', 'minor': 8}]"),
             "config.json: linux.devices[0]: device \"/dev/x\": major and minor are required for a u device");
  EXPECT_BAD(WITH_LINUX("'devices': [{'path': 'dev/x', 'type': 'c', 'major': 1, 'minor': 1}]"),
             "config.json: linux.devices[0].path: \"dev/x\" is not an absolute path");
  EXPECT_BAD(WITH_LINUX("'devices': [{'type': 'c', 'major': 1, 'minor': 1}]"),
             "config.json: linux.devices[0].path: is required");
  EXPECT_BAD(WITH_LINUX("'devices': [{'path': '/dev/x', 'major': 1, 'minor': 1}]"),
             "config.json: linux.devices[0].type: is required");
  EXPECT_BAD(WITH_LINUX("'devices': [{'path': '/dev/x', 'type': 'c', 'major': 1, 'minor': 1, 'fileMode': 4096}]"),
             "config.json: linux.devices[0].fileMode: 4096 is out of range (at most 4095)");
  /* paths, propagation, personality, sysctl */
  EXPECT_BAD(WITH_LINUX("'maskedPaths': ['/proc/kcore', 'proc/keys']"),
             "config.json: linux.maskedPaths: \"proc/keys\" is not an absolute path");
  EXPECT_BAD(WITH_LINUX("'readonlyPaths': ['sys']"),
             "config.json: linux.readonlyPaths: \"sys\" is not an absolute path");
  EXPECT_BAD(WITH_LINUX("'rootfsPropagation': 'rfoo'"),
             "config.json: linux.rootfsPropagation: unknown propagation \"rfoo\"");
  EXPECT_BAD(WITH_LINUX("'personality': {'domain': 'LINUX64'}"),
             "config.json: linux.personality.domain: unknown domain \"LINUX64\" (LINUX or LINUX32)");
  EXPECT_BAD(WITH_LINUX("'personality': {'flags': []}"), "config.json: linux.personality.domain: is required");
  EXPECT_BAD(WITH_LINUX("'sysctl': {'net.ipv4.ip_forward': 1}"),
             "config.json: linux.sysctl.net.ipv4.ip_forward: expected a string, got an integer");
  EXPECT_BAD(WITH_LINUX("'cgroupsPath': 5"), "config.json: linux.cgroupsPath: expected a string, got an integer");
}

static void test_bad_mounts(void) {
  EXPECT_BAD("{" BASE ", 'mounts': [{'destination': 'proc', 'type': 'proc', 'source': 'proc'}]}",
             "config.json: mounts[0].destination: \"proc\" is not an absolute path");
  EXPECT_BAD("{" BASE ", 'mounts': [{'type': 'proc', 'source': 'proc'}]}",
             "config.json: mounts[0].destination: is required");
  EXPECT_BAD("{" BASE ", 'mounts': [{'destination': '/proc', 'type': 'proc'}, {'destination': '/x', 'source': 'x'}]}",
             "config.json: mounts[1].type: is required for a mount that is not a bind mount");
  EXPECT_BAD("{" BASE ", 'mounts': [{'destination': '/x', 'type': '', 'source': 'x', 'options': ['ro']}]}",
             "config.json: mounts[0].type: is required for a mount that is not a bind mount");
  EXPECT_BAD("{" BASE ", 'mounts': [{'destination': '/x', 'type': 'bind'}]}",
             "config.json: mounts[0].source: is required for a bind mount");
  EXPECT_BAD("{" BASE ", 'mounts': [{'destination': '/x', 'options': ['rbind']}]}",
             "config.json: mounts[0].source: is required for a bind mount");
  EXPECT_BAD("{" BASE
             ", 'mounts': [{'destination': '/x', 'type': 'bind', 'source': '/x', 'options': ['bind', 'idmap']}]}",
             "config.json: mounts[0].options: idmapped mounts are not supported");
  EXPECT_BAD("{" BASE ", 'mounts': [{'destination': '/x', 'type': 'bind', 'source': '/x', 'options': ['ridmap']}]}",
             "config.json: mounts[0].options: idmapped mounts are not supported");
  EXPECT_BAD("{" BASE ", 'mounts': [{'destination': '/x', 'type': 'tmpfs', 'source': 't', 'options': 'ro'}]}",
             "config.json: mounts[0].options: expected an array, got a string");
  EXPECT_BAD("{" BASE ", 'mounts': [{'destination': '/x', 'type': 'tmpfs', 'source': 't', 'options': ['ro', 1]}]}",
             "config.json: mounts[0].options: item 1: expected a string, got an integer");
  EXPECT_BAD("{" BASE ", 'mounts': ['/proc']}", "config.json: mounts[0]: expected an object, got a string");
  EXPECT_BAD("{" BASE ", 'mounts': {}}", "config.json: mounts: expected an array, got an object");
}

static void test_bad_hooks(void) {
  EXPECT_BAD("{" BASE ", 'hooks': {'prestart': [{'path': 'bin/hook'}]}}",
             "config.json: hooks.prestart[0].path: \"bin/hook\" is not an absolute path");
  EXPECT_BAD("{" BASE ", 'hooks': {'poststop': [{'path': '/bin/a'}, {'path': '/bin/hook', 'timeout': 0}]}}",
             "config.json: hooks.poststop[1].timeout: must be a positive number of seconds, got 0");
  EXPECT_BAD("{" BASE ", 'hooks': {'createRuntime': [{'path': '/bin/hook', 'timeout': -5}]}}",
             "config.json: hooks.createRuntime[0].timeout: must be a positive number of seconds, got -5");
  EXPECT_BAD("{" BASE ", 'hooks': {'startContainer': [{'path': '/bin/hook', 'timeout': 2147483648}]}}",
             "config.json: hooks.startContainer[0].timeout: must be a positive number of seconds, got 2147483648");
  EXPECT_BAD("{" BASE ", 'hooks': {'createContainer': [{'args': ['x']}]}}",
             "config.json: hooks.createContainer[0].path: is required");
  EXPECT_BAD("{" BASE ", 'hooks': {'poststart': [{'path': '/bin/hook', 'env': 'A=1'}]}}",
             "config.json: hooks.poststart[0].env: expected an array, got a string");
  EXPECT_BAD("{" BASE ", 'hooks': {'prestart': {'path': '/bin/hook'}}}",
             "config.json: hooks.prestart: expected an array, got an object");
  EXPECT_BAD("{" BASE ", 'hooks': {'prestart': ['/bin/hook']}}",
             "config.json: hooks.prestart[0]: expected an object, got a string");
}

static void test_bad_seccomp(void) {
  EXPECT_BAD(WITH_SECCOMP("'defaultAction': 'SCMP_ACT_FOO'"),
             "config.json: linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_FOO\"");
  EXPECT_BAD(WITH_SECCOMP("'architectures': ['SCMP_ARCH_X86_64']"),
             "config.json: linux.seccomp.defaultAction: is required");
  EXPECT_BAD(
      WITH_SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['kill'], 'action': 'SCMP_ACT_BAR'}]"),
      "config.json: linux.seccomp.syscalls[0].action: unknown seccomp action \"SCMP_ACT_BAR\"");
  EXPECT_BAD(WITH_SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['kill']}]"),
             "config.json: linux.seccomp.syscalls[0].action: is required");
  EXPECT_BAD(WITH_SECCOMP(
                 "'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_NOTIFY'}]"),
             "config.json: linux.seccomp.listenerPath: is required when SCMP_ACT_NOTIFY is used");
  EXPECT_BAD(WITH_SECCOMP("'defaultAction': 'SCMP_ACT_NOTIFY', 'listenerPath': '/run/agent.sock'"),
             "config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  EXPECT_BAD(
      WITH_SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['kill'], 'action': 'SCMP_ACT_ERRNO',"
                   " 'args': [{'index': 0, 'value': 1, 'op': 'SCMP_CMP_FOO'}]}]"),
      "config.json: linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\"");
  EXPECT_BAD(
      WITH_SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['kill'], 'action': 'SCMP_ACT_ERRNO',"
                   " 'args': [{'index': 6, 'value': 1, 'op': 'SCMP_CMP_EQ'}]}]"),
      "config.json: linux.seccomp.syscalls[0].args[0].index: 6 is out of range (at most 5)");
  EXPECT_BAD(
      WITH_SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['kill'], 'action': 'SCMP_ACT_ERRNO',"
                   " 'args': [{'index': 1, 'value': 1}]}]"),
      "config.json: linux.seccomp.syscalls[0].args[0]: index and op are required");
  EXPECT_BAD(
      WITH_SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['kill'], 'action': 'SCMP_ACT_ERRNO',"
                   " 'args': [{'index': 1, 'value': -1, 'op': 'SCMP_CMP_EQ'}]}]"),
      "config.json: linux.seccomp.syscalls[0].args[0].value: expected a non-negative integer, got -1");
  EXPECT_BAD(WITH_SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': [], 'action': 'SCMP_ACT_ERRNO'}]"),
             "config.json: linux.seccomp.syscalls[0].names: must name at least one system call");
  EXPECT_BAD(
      WITH_SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['kill'], 'action': 'SCMP_ACT_ERRNO',"
                   " 'errnoRet': 4096}]"),
      "config.json: linux.seccomp.syscalls[0].errnoRet: 4096 is out of range (at most 4095)");
  EXPECT_BAD(WITH_SECCOMP("'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': -1"),
             "config.json: linux.seccomp.defaultErrnoRet: expected a non-negative integer, got -1");
  EXPECT_BAD(WITH_SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ['kill']"),
             "config.json: linux.seccomp.syscalls[0]: expected an object, got a string");
  EXPECT_BAD(WITH_LINUX("'seccomp': []"), "config.json: linux.seccomp: expected an object, got an array");
}

static void test_bad_resources(void) {
  EXPECT_BAD(WITH_RES("'unified': {'memory.max': '1', 'a/b': '1'}"),
             "config.json: linux.resources.unified: \"a/b\" is not a cgroup file name");
  EXPECT_BAD(WITH_RES("'unified': {'..': '1'}"),
             "config.json: linux.resources.unified: \"..\" is not a cgroup file name");
  EXPECT_BAD(WITH_RES("'unified': {'memory.max': 1}"),
             "config.json: linux.resources.unified: memory.max: expected a string, got an integer");
  EXPECT_BAD(WITH_RES("'memory': {'limit': 2000, 'swap': 1000}"),
             "config.json: linux.resources.memory.swap: memory+swap 1000 is below the memory limit 2000");
  EXPECT_BAD(WITH_RES("'memory': {'limit': -2}"), "config.json: linux.resources.memory.limit: -2 is not a valid limit");
  EXPECT_BAD(WITH_RES("'memory': {'swappiness': 101}"),
             "config.json: linux.resources.memory.swappiness: 101 is out of range (0 to 100)");
  EXPECT_BAD(WITH_RES("'memory': {'limit': '1G'}"),
             "config.json: linux.resources.memory.limit: expected an integer, got a string");
  EXPECT_BAD(WITH_RES("'memory': {'disableOOMKiller': 1}"),
             "config.json: linux.resources.memory.disableOOMKiller: expected a boolean, got an integer");
  EXPECT_BAD(WITH_RES("'cpu': {'period': 999}"),
             "config.json: linux.resources.cpu.period: 999 is out of range (1000 to 1000000 microseconds)");
  EXPECT_BAD(WITH_RES("'cpu': {'period': 1000001}"),
             "config.json: linux.resources.cpu.period: 1000001 is out of range (1000 to 1000000 microseconds)");
  EXPECT_BAD(WITH_RES("'cpu': {'shares': -1}"),
             "config.json: linux.resources.cpu.shares: expected a non-negative integer, got -1");
  EXPECT_BAD(WITH_RES("'cpu': {'cpus': 3}"),
             "config.json: linux.resources.cpu.cpus: expected a string, got an integer");
  EXPECT_BAD(WITH_RES("'hugepageLimits': [{'pageSize': '2XB', 'limit': 1}]"),
             "config.json: linux.resources.hugepageLimits[0].pageSize: \"2XB\" is not a page size such as 2MB or 1GB");
  EXPECT_BAD(WITH_RES("'hugepageLimits': [{'pageSize': 'MB', 'limit': 1}]"),
             "config.json: linux.resources.hugepageLimits[0].pageSize: \"MB\" is not a page size such as 2MB or 1GB");
  EXPECT_BAD(WITH_RES("'hugepageLimits': [{'pageSize': '2mb', 'limit': 1}]"),
             "config.json: linux.resources.hugepageLimits[0].pageSize: \"2mb\" is not a page size such as 2MB or 1GB");
  EXPECT_BAD(WITH_RES("'hugepageLimits': [{'pageSize': '2MB'}]"),
             "config.json: linux.resources.hugepageLimits[0].limit: is required");
  EXPECT_BAD(WITH_RES("'hugepageLimits': [{'limit': 1}]"),
             "config.json: linux.resources.hugepageLimits[0].pageSize: is required");
  EXPECT_BAD(WITH_RES("'devices': [{'access': 'rwm'}]"), "config.json: linux.resources.devices[0].allow: is required");
  EXPECT_BAD(WITH_RES("'devices': [{'allow': true, 'access': 'rwx'}]"),
             "config.json: linux.resources.devices[0].access: \"rwx\" is not a combination of r, w and m");
  EXPECT_BAD(WITH_RES("'devices': [{'allow': true, 'access': ''}]"),
             "config.json: linux.resources.devices[0].access: \"\" is not a combination of r, w and m");
  EXPECT_BAD(WITH_RES("'devices': [{'allow': true, 'type': 'p'}]"),
             "config.json: linux.resources.devices[0].type: unknown device type \"p\" (a, c or b)");
  EXPECT_BAD(WITH_RES("'blockIO': {'weight': 1001}"),
             "config.json: linux.resources.blockIO.weight: 1001 is out of range (at most 1000)");
  EXPECT_BAD(WITH_RES("'blockIO': {'weightDevice': [{'major': 8, 'weight': 10}]}"),
             "config.json: linux.resources.blockIO.weightDevice[0]: major and minor are required");
  EXPECT_BAD(WITH_RES("'blockIO': {'throttleReadBpsDevice': [{'major': 8, 'minor': 0}]}"),
             "config.json: linux.resources.blockIO.throttleReadBpsDevice[0]: major, minor and rate are required");
  EXPECT_BAD(
      WITH_RES("'blockIO': {'throttleWriteIOPSDevice': [{'major': 8, 'minor': 0, 'rate': -1}]}"),
      "config.json: linux.resources.blockIO.throttleWriteIOPSDevice[0].rate: expected a non-negative integer, got -1");
  EXPECT_BAD(WITH_RES("'network': {'classID': 4294967296}"),
             "config.json: linux.resources.network.classID: 4294967296 is out of range (at most 4294967295)");
  EXPECT_BAD(WITH_RES("'network': {'priorities': [{'priority': 1}]}"),
             "config.json: linux.resources.network.priorities[0].name: is required");
  EXPECT_BAD(WITH_RES("'pids': {'limit': 'max'}"),
             "config.json: linux.resources.pids.limit: expected an integer, got a string");
  EXPECT_BAD(WITH_LINUX("'resources': []"), "config.json: linux.resources: expected an object, got an array");
}

/* Swap equal to the limit, swap -1 (unlimited) and limit -1 are all fine. */
static void test_resource_edges(void) {
  static const char *const ok[] = {
      WITH_RES("'memory': {'limit': 1000, 'swap': 1000}"),
      WITH_RES("'memory': {'limit': 1000, 'swap': -1}"),
      WITH_RES("'memory': {'limit': -1, 'swap': 10}"),
      WITH_RES("'memory': {'swappiness': 100}"),
      WITH_RES("'cpu': {'period': 0}"),
      WITH_RES("'cpu': {'period': 1000}"),
      WITH_RES("'cpu': {'period': 1000000}"),
      WITH_RES("'pids': {'limit': -1}"),
      WITH_RES("'unified': {}"),
  };
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    struct spec *s = parse_q(ok[i], "/b");
    if (s == NULL)
      printf("#   case %zu rejected\n", i);
    EXPECT(s != NULL);
    spec_free(s);
  }
  struct spec *s = parse_q(WITH_RES("'pids': {'limit': -1}, 'cpu': {'period': 0}"), "/b");
  EXPECT(s != NULL);
  if (s != NULL) {
    EXPECT(s->lnx.resources.has_pids_limit && s->lnx.resources.pids_limit == -1);
    EXPECT(s->lnx.resources.has_cpu_period && s->lnx.resources.cpu_period == 0);
    spec_free(s);
  }
}

/* Per syscall action name -> enum, and every operator. */
static void test_seccomp_names(void) {
  static const struct {
    const char *name;
    enum spec_seccomp_action action;
  } actions[] = {
      {"SCMP_ACT_KILL", SECCOMP_ACTION_KILL},
      {"SCMP_ACT_KILL_PROCESS", SECCOMP_ACTION_KILL_PROCESS},
      {"SCMP_ACT_KILL_THREAD", SECCOMP_ACTION_KILL_THREAD},
      {"SCMP_ACT_TRAP", SECCOMP_ACTION_TRAP},
      {"SCMP_ACT_ERRNO", SECCOMP_ACTION_ERRNO},
      {"SCMP_ACT_TRACE", SECCOMP_ACTION_TRACE},
      {"SCMP_ACT_ALLOW", SECCOMP_ACTION_ALLOW},
      {"SCMP_ACT_LOG", SECCOMP_ACTION_LOG},
  };
  for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
    char text[512];
    snprintf(text, sizeof(text), WITH_SECCOMP("'defaultAction': '%s'"), actions[i].name);
    struct spec *s = parse_q(text, "/b");
    EXPECT(s != NULL && s->lnx.seccomp != NULL);
    if (s != NULL && s->lnx.seccomp != NULL) {
      EXPECT(s->lnx.seccomp->default_action == actions[i].action);
      EXPECT(s->lnx.seccomp->has_default_errno_ret == false);
      EXPECT(s->lnx.seccomp->n_syscalls == 0);
    }
    spec_free(s);
  }
  static const struct {
    const char *name;
    enum spec_seccomp_op op;
  } ops[] = {
      {"SCMP_CMP_NE", SECCOMP_OP_NE},
      {"SCMP_CMP_LT", SECCOMP_OP_LT},
      {"SCMP_CMP_LE", SECCOMP_OP_LE},
      {"SCMP_CMP_EQ", SECCOMP_OP_EQ},
      {"SCMP_CMP_GE", SECCOMP_OP_GE},
      {"SCMP_CMP_GT", SECCOMP_OP_GT},
      {"SCMP_CMP_MASKED_EQ", SECCOMP_OP_MASKED_EQ},
  };
  for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
    char text[512];
    snprintf(text, sizeof(text),
             WITH_SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['x'], 'action': 'SCMP_ACT_ERRNO',"
                          " 'args': [{'index': 2, 'value': 7, 'op': '%s'}]}]"),
             ops[i].name);
    struct spec *s = parse_q(text, "/b");
    EXPECT(s != NULL && s->lnx.seccomp != NULL && s->lnx.seccomp->n_syscalls == 1);
    if (s != NULL && s->lnx.seccomp != NULL && s->lnx.seccomp->n_syscalls == 1) {
      struct spec_seccomp_syscall *c = &s->lnx.seccomp->syscalls[0];
      EXPECT(c->n_args == 1);
      if (c->n_args == 1)
        EXPECT(c->args[0].op == ops[i].op && c->args[0].index == 2 && c->args[0].value == 7);
    }
    spec_free(s);
  }
}

static void test_rlimit_names(void) {
  static const struct {
    const char *name;
    int resource;
  } names[] = {
      {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},
      {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},
      {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
      {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_STACK", RLIMIT_STACK},
  };
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    char text[512];
    snprintf(text, sizeof(text), WITH_PROC("'rlimits': [{'type': '%s', 'soft': %zu, 'hard': 100}]"), names[i].name, i);
    struct spec *s = parse_q(text, "/b");
    EXPECT(s != NULL && s->process.n_rlimits == 1);
    if (s != NULL && s->process.n_rlimits == 1) {
      EXPECT(s->process.rlimits[0].resource == names[i].resource);
      EXPECT_STR(s->process.rlimits[0].type, names[i].name);
      EXPECT(s->process.rlimits[0].soft == i && s->process.rlimits[0].hard == 100);
    }
    spec_free(s);
  }
}

static void test_propagation_names(void) {
  static const struct {
    const char *name;
    unsigned long flags;
  } cases[] = {
      {"private", MS_PRIVATE | MS_REC},       {"rprivate", MS_PRIVATE | MS_REC},       {"slave", MS_SLAVE | MS_REC},
      {"rslave", MS_SLAVE | MS_REC},          {"shared", MS_SHARED | MS_REC},          {"rshared", MS_SHARED | MS_REC},
      {"unbindable", MS_UNBINDABLE | MS_REC}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char text[512];
    snprintf(text, sizeof(text), WITH_LINUX("'rootfsPropagation': '%s'"), cases[i].name);
    struct spec *s = parse_q(text, "/b");
    EXPECT(s != NULL);
    if (s != NULL)
      EXPECT(s->lnx.rootfs_propagation == cases[i].flags);
    spec_free(s);
  }
}

/* ---- spec_parse_process / spec_parse_resources --------------------------- */

static void test_parse_process(void) {
  char *t = j("{'terminal': true, 'cwd': '/work', 'args': ['ls', '-l'], 'env': ['A=1'],"
              " 'user': {'uid': 5, 'gid': 6, 'additionalGids': [7]},"
              " 'capabilities': {'bounding': ['CAP_SYS_ADMIN']},"
              " 'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 10, 'hard': 20}], 'oomScoreAdj': 1000,"
              " 'noNewPrivileges': true}");
  struct spec_process p;
  memset(&p, 0, sizeof(p));
  berth_error *err = NULL;
  EXPECT(spec_parse_process(t, strlen(t), "process.json", &p, &err) == 0);
  EXPECT(err == NULL);
  EXPECT(p.terminal == true);
  EXPECT_STR(p.cwd, "/work");
  EXPECT(p.n_args == 2);
  if (p.n_args == 2)
    EXPECT_STR(p.args[1], "-l");
  EXPECT(p.n_env == 1);
  EXPECT(p.user.uid == 5 && p.user.gid == 6);
  EXPECT(p.user.n_additional_gids == 1 && p.user.additional_gids[0] == 7);
  EXPECT(p.caps.present == true && p.caps.bounding == BIT(21) && p.caps.effective == 0);
  EXPECT(p.n_rlimits == 1 && p.rlimits[0].resource == RLIMIT_NOFILE && p.rlimits[0].hard == 20);
  EXPECT(p.has_oom_score_adj && p.oom_score_adj == 1000);
  EXPECT(p.no_new_privileges == true);
  spec_process_clear(&p);
  EXPECT(p.cwd == NULL && p.args == NULL && p.n_args == 0 && p.rlimits == NULL);
  free(t);
  berth_error_free(err);
}

static void test_parse_process_errors(void) {
  static const struct {
    const char *text, *want;
  } cases[] = {
      {"{'args': ['ls']}", "process.json: cwd: is required"},
      {"{'cwd': '/', 'args': []}", "process.json: args: must name the program to run"},
      {"{'cwd': 'rel', 'args': ['ls']}", "process.json: cwd: \"rel\" is not an absolute path"},
      {"{'cwd': '/', 'args': ['ls'], 'env': ['X']}", "process.json: env: \"X\" is not of the form KEY=value"},
      /* fails after much was allocated: LSan checks the clean-up */
      {"{'cwd': '/', 'args': ['ls'], 'env': ['A=1'], 'user': {'additionalGids': [1]}, 'apparmorProfile': 'p',"
       " 'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 1, 'hard': 1}, {'type': 'RLIMIT_BAD'}]}",
       "process.json: rlimits[1].type: unknown rlimit \"RLIMIT_BAD\""},
      {"{'cwd': '/', 'args': ['ls'], 'selinuxLabel': 'x', 'ioPriority': {'class': 'IOPRIO_CLASS_RT', 'priority': 9}}",
       "process.json: ioPriority.priority: 9 is out of range (0 to 7)"},
      {"['ls']", "process.json: expected a JSON object, got an array"},
      {"{'cwd': '/', 'args': ['ls']", "process.json: invalid JSON: unexpected end of input (line 1)"},
      {"{'cwd': '/', 'args': ['ls']} []", "process.json: invalid JSON: trailing data after the top-level value"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *t = j(cases[i].text);
    struct spec_process p;
    memset(&p, 0, sizeof(p));
    berth_error *err = NULL;
    EXPECT(spec_parse_process(t, strlen(t), "process.json", &p, &err) == -1);
    EXPECT(err != NULL);
    if (err != NULL)
      EXPECT_STR(err->msg, cases[i].want);
    /* cleared on failure */
    EXPECT(p.cwd == NULL && p.args == NULL && p.env == NULL && p.rlimits == NULL && p.apparmor_profile == NULL);
    berth_error_free(err);
    free(t);
  }
}

static void test_parse_resources(void) {
  char *t = j("{'memory': {'limit': 1048576, 'swap': -1}, 'cpu': {'quota': -1, 'period': 100000, 'cpus': '0'},"
              " 'pids': {'limit': 0}, 'blockIO': {'weight': 100},"
              " 'devices': [{'allow': true, 'type': 'c', 'major': 1, 'minor': 3, 'access': 'm'}],"
              " 'unified': {'cpu.weight': '100'}}");
  struct spec_resources r;
  memset(&r, 0, sizeof(r));
  berth_error *err = NULL;
  EXPECT(spec_parse_resources(t, strlen(t), "update.json", &r, &err) == 0);
  EXPECT(err == NULL);
  EXPECT(r.has_memory_limit && r.memory_limit == 1048576);
  EXPECT(r.has_memory_swap && r.memory_swap == -1);
  EXPECT(!r.has_memory_reservation);
  EXPECT(r.has_cpu_quota && r.cpu_quota == -1);
  EXPECT(r.has_cpu_period && r.cpu_period == 100000);
  EXPECT(!r.has_cpu_shares);
  EXPECT_STR(r.cpu_cpus, "0");
  EXPECT(r.has_pids_limit && r.pids_limit == 0);
  EXPECT(r.has_blkio_weight && r.blkio_weight == 100);
  EXPECT(r.n_devices == 1);
  if (r.n_devices == 1) {
    EXPECT(r.devices[0].allow && r.devices[0].type == 'c' && r.devices[0].major == 1 && r.devices[0].minor == 3);
    EXPECT_STR(r.devices[0].access, "m");
  }
  EXPECT(r.n_unified == 1);
  EXPECT_STR(kv_get(r.unified, r.n_unified, "cpu.weight"), "100");
  spec_resources_clear(&r);
  EXPECT(r.cpu_cpus == NULL && r.devices == NULL && r.n_devices == 0 && r.unified == NULL);
  free(t);

  /* empty object: nothing set */
  memset(&r, 0, sizeof(r));
  EXPECT(spec_parse_resources("{}", 2, "update.json", &r, &err) == 0);
  EXPECT(!r.has_memory_limit && !r.has_cpu_quota && !r.has_pids_limit && r.n_devices == 0);
  spec_resources_clear(&r);
  berth_error_free(err);
}

static void test_parse_resources_errors(void) {
  static const struct {
    const char *text, *want;
  } cases[] = {
      {"{'memory': {'limit': 2000, 'swap': 1000}}",
       "update.json: memory.swap: memory+swap 1000 is below the memory limit 2000"},
      {"{'cpu': {'period': 10}}", "update.json: cpu.period: 10 is out of range (1000 to 1000000 microseconds)"},
      /* fails late, after cpus, devices and hugepages were allocated */
      {"{'cpu': {'cpus': '0-1', 'mems': '0'}, 'devices': [{'allow': true}],"
       " 'blockIO': {'weightDevice': [{'major': 8, 'minor': 0}],"
       "  'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 1}]},"
       " 'hugepageLimits': [{'pageSize': '2MB', 'limit': 1}],"
       " 'network': {'priorities': [{'name': 'eth0', 'priority': 1}]},"
       " 'unified': {'a': 'b', 'x/y': 'z'}}",
       "update.json: unified: \"x/y\" is not a cgroup file name"},
      {"{'hugepageLimits': [{'pageSize': '2XB', 'limit': 1}]}",
       "update.json: hugepageLimits[0].pageSize: \"2XB\" is not a page size such as 2MB or 1GB"},
      {"{'pids': 5}", "update.json: pids: expected an object, got an integer"},
      {"[]", "update.json: expected a JSON object, got an array"},
      {"{", "update.json: invalid JSON: unexpected end of input (line 1)"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *t = j(cases[i].text);
    struct spec_resources r;
    memset(&r, 0, sizeof(r));
    berth_error *err = NULL;
    EXPECT(spec_parse_resources(t, strlen(t), "update.json", &r, &err) == -1);
    EXPECT(err != NULL);
    if (err != NULL)
      EXPECT_STR(err->msg, cases[i].want);
    EXPECT(r.cpu_cpus == NULL && r.devices == NULL && r.unified == NULL && r.hugepage_limits == NULL);
    berth_error_free(err);
    free(t);
  }
}

/* Large error-path configs: everything allocated before the failure is freed
 * (checked by LSan in the sanitizer build). */
static void test_error_paths_free(void) {
  EXPECT_BAD(
      "{'ociVersion': '1.0.0', 'root': {'path': 'r'}, 'process': {'cwd': '/', 'args': ['a'], 'env': ['A=1'],"
      " 'capabilities': {'bounding': ['CAP_KILL']}, 'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 1, 'hard': 1}]},"
      " 'hostname': 'h', 'mounts': [{'destination': '/a', 'type': 'bind', 'source': 'x', 'options': ['ro', 'mode=1']}],"
      " 'hooks': {'prestart': [{'path': '/h', 'args': ['h'], 'env': ['E=1']}]}, 'annotations': {'a': 'b'},"
      " 'linux': {'namespaces': [{'type': 'network', 'path': '/n'}, {'type': 'uts'}],"
      "  'devices': [{'path': '/dev/x', 'type': 'c', 'major': 1, 'minor': 1}], 'cgroupsPath': 'c',"
      "  'sysctl': {'a': 'b'}, 'maskedPaths': ['/m'], 'readonlyPaths': ['/r'], 'mountLabel': 'l',"
      "  'personality': {'domain': 'LINUX', 'flags': ['f']},"
      "  'resources': {'cpu': {'cpus': '0'}, 'devices': [{'allow': true}], 'unified': {'a': 'b'}},"
      "  'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['a'], 'flags': ['f'],"
      "   'listenerMetadata': 'm', 'syscalls': [{'names': ['a'], 'action': 'SCMP_ACT_ERRNO',"
      "   'args': [{'index': 0, 'op': 'SCMP_CMP_EQ'}]}]},"
      "  'rootfsPropagation': 'bogus'}}",
      "config.json: linux.rootfsPropagation: unknown propagation \"bogus\"");
  EXPECT_BAD("{'ociVersion': '1.0.0', 'root': {'path': 'r'},"
             " 'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/l', 'syscalls': ["
             "  {'names': ['a', 'b'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'op': 'SCMP_CMP_EQ'},"
             "  {'index': 0, 'op': 'SCMP_CMP_XX'}]}]}}}",
             "config.json: linux.seccomp.syscalls[0].args[1].op: unknown operator \"SCMP_CMP_XX\"");
  EXPECT_BAD(
      "{'ociVersion': '1.0.0', 'root': {'path': 'r'}, 'linux': {'personality': {'domain': 'BSD', 'flags': ['x']}}}",
      "config.json: linux.personality.domain: unknown domain \"BSD\" (LINUX or LINUX32)");
  EXPECT_BAD("{'ociVersion': '1.0.0', 'root': {'path': 'r'}, 'linux': {'namespaces': [{'type': 'ipc', 'path': '/a'},"
             " {'type': 'ipc', 'path': '/b'}]}}",
             "config.json: linux.namespaces[1].type: namespace \"ipc\" is given twice");
  EXPECT_BAD("{'ociVersion': '1.0.0', 'root': {'path': 'r'}, 'linux': {'devices': [{'path': '/dev/a', 'type': 'c',"
             " 'major': 1, 'minor': 1}, {'path': '/dev/b', 'type': 'z'}]}}",
             "config.json: linux.devices[1].type: device \"/dev/b\": unknown type \"z\" (c, b, u or p)");
  EXPECT_BAD("{'ociVersion': '1.0.0', 'root': {'path': 'r'}, 'hooks': {'prestart': [{'path': '/a', 'args': ['a']},"
             " {'path': '/b', 'args': ['b'], 'timeout': 0}]}}",
             "config.json: hooks.prestart[1].timeout: must be a positive number of seconds, got 0");
}

/* ---- spec_load ----------------------------------------------------------- */

static char bundle_dir[128];

static int write_file(const char *dir, const char *name, const char *text) {
  char p[256];
  if (snprintf(p, sizeof(p), "%s/%s", dir, name) >= (int)sizeof(p))
    return -1;
  FILE *f = fopen(p, "w");
  if (f == NULL)
    return -1;
  fputs(text, f);
  return fclose(f);
}

static void test_spec_load(void) {
  snprintf(bundle_dir, sizeof(bundle_dir), "/tmp/berth-ut-spec-XXXXXX");
  EXPECT(mkdtemp(bundle_dir) != NULL);
  char *config = j("{" BASE ", 'mounts': [{'destination': '/c', 'type': 'bind', 'source': 'conf'}]}\n");
  EXPECT(write_file(bundle_dir, "config.json", config) == 0);

  /* an absolute bundle, written untidily */
  char untidy[256], want_root[256], want_src[256];
  snprintf(untidy, sizeof(untidy), "%s/./sub/..//", bundle_dir);
  snprintf(want_root, sizeof(want_root), "%s/rootfs", bundle_dir);
  snprintf(want_src, sizeof(want_src), "%s/conf", bundle_dir);
  berth_error *err = NULL;
  char *raw = NULL;
  size_t raw_len = 0;
  struct spec *s = spec_load(untidy, &raw, &raw_len, &err);
  if (s == NULL)
    printf("#   spec_load: %s\n", err != NULL ? err->msg : "?");
  EXPECT(s != NULL);
  if (s != NULL) {
    EXPECT_STR(s->bundle, bundle_dir);
    EXPECT_STR(s->root.path, want_root);
    EXPECT(s->n_mounts == 1);
    if (s->n_mounts == 1)
      EXPECT_STR(s->mounts[0].source, want_src);
    EXPECT(raw != NULL && raw_len == strlen(config) && memcmp(raw, config, raw_len) == 0);
  }
  spec_free(s);
  free(raw);
  berth_error_free(err);
  err = NULL;

  /* a relative bundle comes back absolute; raw may be NULL */
  char cwd[PATH_MAX];
  EXPECT(getcwd(cwd, sizeof(cwd)) != NULL);
  EXPECT(chdir("/tmp") == 0);
  s = spec_load(bundle_dir + strlen("/tmp/"), NULL, NULL, &err);
  EXPECT(chdir(cwd) == 0);
  EXPECT(s != NULL);
  if (s != NULL) {
    EXPECT_STR(s->bundle, bundle_dir);
    EXPECT_STR(s->root.path, want_root);
  }
  spec_free(s);
  berth_error_free(err);
  err = NULL;

  /* an invalid config.json names config.json */
  EXPECT(write_file(bundle_dir, "config.json", "{\"ociVersion\": \"1.0.0\"}") == 0);
  raw = NULL;
  s = spec_load(bundle_dir, &raw, &raw_len, &err);
  EXPECT(s == NULL);
  EXPECT(raw == NULL);
  EXPECT(err != NULL);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: root: is required");
  spec_free(s);
  berth_error_free(err);
  err = NULL;

  /* no config.json: the error names the bundle */
  char path[256], want[512];
  snprintf(path, sizeof(path), "%s/config.json", bundle_dir);
  EXPECT(unlink(path) == 0);
  s = spec_load(bundle_dir, NULL, NULL, &err);
  EXPECT(s == NULL);
  EXPECT(err != NULL);
  snprintf(want, sizeof(want), "bundle \"%s\": open \"config.json\": No such file or directory", bundle_dir);
  if (err != NULL) {
    EXPECT_STR(err->msg, want);
    EXPECT(err->errnum == ENOENT);
  }
  berth_error_free(err);
  err = NULL;

  /* no bundle directory */
  EXPECT(rmdir(bundle_dir) == 0);
  s = spec_load(bundle_dir, NULL, NULL, &err);
  EXPECT(s == NULL);
  snprintf(want, sizeof(want), "bundle \"%s\": No such file or directory", bundle_dir);
  if (err != NULL)
    EXPECT_STR(err->msg, want);
  EXPECT(err != NULL && err->errnum == ENOENT);
  berth_error_free(err);
  free(config);
}

/* ---- fixed bugs ---------------------------------------------------------- */

/* gidMappings without a user namespace (and no uidMappings) is reported
 * against linux.gidMappings, the field the config has. */
static void test_gid_mappings_named(void) {
  EXPECT_BAD(WITH_LINUX("'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]"),
             "config.json: linux.gidMappings: needs a user namespace");
}

/* The recursive atime options: the MOUNT_ATTR_* atime modes are an enum under
 * MOUNT_ATTR__ATIME, not bits.  mount_setattr(2) wants MOUNT_ATTR__ATIME in
 * attr_clr whenever attr_set names an atime mode (EINVAL otherwise), and
 * MOUNT_ATTR_RELATIME is 0, so the mask alone asks for relatime.  The "undo"
 * forms go back to the default, relatime; the last atime option wins. */
static void test_recursive_atime(void) {
  struct spec *s = parse_q("{" BASE ", 'mounts': ["
                           "{'destination': '/a', 'type': 'tmpfs', 'source': 't', 'options': ['rnoatime']},"
                           "{'destination': '/b', 'type': 'tmpfs', 'source': 't', 'options': ['rstrictatime']},"
                           "{'destination': '/c', 'type': 'tmpfs', 'source': 't', 'options': ['rrelatime']}]}",
                           "/b");
  EXPECT(s != NULL && s->n_mounts == 3);
  if (s != NULL && s->n_mounts == 3) {
    EXPECT(s->mounts[0].rec_attr_set == MOUNT_ATTR_NOATIME);
    EXPECT(s->mounts[0].rec_attr_clr == MOUNT_ATTR__ATIME);
    EXPECT(s->mounts[1].rec_attr_set == MOUNT_ATTR_STRICTATIME);
    EXPECT(s->mounts[1].rec_attr_clr == MOUNT_ATTR__ATIME);
    EXPECT(s->mounts[2].rec_attr_set == MOUNT_ATTR_RELATIME);
    EXPECT(s->mounts[2].rec_attr_clr == MOUNT_ATTR__ATIME);
  }
  spec_free(s);
  s = parse_q("{" BASE ", 'mounts': ["
              "{'destination': '/a', 'type': 'tmpfs', 'source': 't', 'options': ['rnoatime', 'ratime']},"
              "{'destination': '/b', 'type': 'tmpfs', 'source': 't', 'options': ['rstrictatime', 'rnostrictatime']},"
              "{'destination': '/c', 'type': 'tmpfs', 'source': 't', 'options': ['rnorelatime', 'rro']},"
              "{'destination': '/d', 'type': 'tmpfs', 'source': 't', 'options': ['rstrictatime', 'rnoatime']}]}",
              "/b");
  EXPECT(s != NULL && s->n_mounts == 4);
  if (s != NULL && s->n_mounts == 4) {
    for (int i = 0; i < 3; i++)
      EXPECT(s->mounts[i].rec_attr_clr == MOUNT_ATTR__ATIME);
    EXPECT(s->mounts[0].rec_attr_set == MOUNT_ATTR_RELATIME);
    EXPECT(s->mounts[1].rec_attr_set == MOUNT_ATTR_RELATIME);
    EXPECT(s->mounts[2].rec_attr_set == (MOUNT_ATTR_RELATIME | MOUNT_ATTR_RDONLY));
    EXPECT(s->mounts[3].rec_attr_set == MOUNT_ATTR_NOATIME);
    EXPECT(s->mounts[3].rec_attr_clr == MOUNT_ATTR__ATIME);
  }
  spec_free(s);
}

/* "... are required" errors come after a getter returned 0 (absent); with a
 * NULL err (berth_fail allows it) they must not read *err. */
static void test_null_err(void) {
  static const char *const texts[] = {
      WITH_LINUX("'namespaces': [{'type': 'user'}], 'uidMappings': [{'containerID': 0, 'hostID': 1}]"),
      WITH_RES("'hugepageLimits': [{'pageSize': '2MB'}]"),
      WITH_RES("'blockIO': {'throttleReadBpsDevice': [{'major': 8, 'minor': 0}]}"),
      WITH_SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['a'], 'action': 'SCMP_ACT_ALLOW',"
                   " 'args': [{'value': 1}]}]"),
      WITH_PROC("'cwd': 'relative'"), /* a control that works today */
  };
  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    char *t = j(texts[i]);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
      if (devnull >= 0)
        dup2(devnull, STDERR_FILENO); /* no sanitizer report for the expected crash */
      struct spec *s = spec_parse(t, strlen(t), "/b", "config.json", NULL);
      _exit(s == NULL ? 0 : 1);
    }
    int status = 0;
    EXPECT(pid > 0 && waitpid(pid, &status, 0) == pid);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
      printf("#   case %zu: child %s %d\n", i, WIFSIGNALED(status) ? "killed by signal" : "exited",
             WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free(t);
  }
}

int main(void) {
  RUN(test_full_top);
  RUN(test_full_process);
  RUN(test_full_mounts);
  RUN(test_full_hooks);
  RUN(test_full_linux);
  RUN(test_full_resources);
  RUN(test_full_seccomp);
  RUN(test_minimal);
  RUN(test_mount_options);
  RUN(test_bad_json);
  RUN(test_bad_top);
  RUN(test_bad_process);
  RUN(test_io_priority_classes);
  RUN(test_bad_linux);
  RUN(test_bad_mounts);
  RUN(test_bad_hooks);
  RUN(test_bad_seccomp);
  RUN(test_bad_resources);
  RUN(test_resource_edges);
  RUN(test_seccomp_names);
  RUN(test_rlimit_names);
  RUN(test_propagation_names);
  RUN(test_parse_process);
  RUN(test_parse_process_errors);
  RUN(test_parse_resources);
  RUN(test_parse_resources_errors);
  RUN(test_error_paths_free);
  RUN(test_spec_load);
  RUN(test_gid_mappings_named);
  RUN(test_recursive_atime);
  RUN(test_null_err);
  return tap_done();
}
