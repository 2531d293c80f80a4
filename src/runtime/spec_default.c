/* The config.json that `spec` writes: the same starting point as `runc spec`,
 * so bundles and habits carry over.  The rootless variant follows runc's
 * rules: a user namespace mapping the caller to root, no network namespace
 * (an unprivileged user cannot configure one), /sys bind-mounted (sysfs
 * cannot be mounted without a network namespace of one's own), no devpts
 * gid (group 5 is not mapped) and no cgroup resources (not delegated). */
#include "runtime/spec.h"

#include <errno.h>
#include <stdio.h>
#include <json-c/json.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/json.h"

/* Kept as text: it reads as the document it produces. */
static const char default_config[] =
    "{"
    "  \"ociVersion\": \"1.2.0\","
    "  \"process\": {"
    "    \"terminal\": true,"
    "    \"user\": { \"uid\": 0, \"gid\": 0 },"
    "    \"args\": [ \"sh\" ],"
    "    \"env\": ["
    "      \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
    "      \"TERM=xterm\""
    "    ],"
    "    \"cwd\": \"/\","
    "    \"capabilities\": {"
    "      \"bounding\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],"
    "      \"effective\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],"
    "      \"permitted\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ]"
    "    },"
    "    \"rlimits\": [ { \"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024 } ],"
    "    \"noNewPrivileges\": true"
    "  },"
    "  \"root\": { \"path\": \"rootfs\", \"readonly\": true },"
    "  \"hostname\": \"berth\","
    "  \"mounts\": ["
    "    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },"
    "    { \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
    "      \"options\": [ \"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\" ] },"
    "    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\","
    "      \"options\": [ \"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", \"gid=5\" ] },"
    "    { \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\","
    "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\" ] },"
    "    { \"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\","
    "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\" ] },"
    "    { \"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\","
    "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"ro\" ] },"
    "    { \"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\","
    "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\" ] }"
    "  ],"
    "  \"linux\": {"
    "    \"resources\": { \"devices\": [ { \"allow\": false, \"access\": \"rwm\" } ] },"
    "    \"namespaces\": ["
    "      { \"type\": \"pid\" }, { \"type\": \"network\" }, { \"type\": \"ipc\" },"
    "      { \"type\": \"uts\" }, { \"type\": \"mount\" }, { \"type\": \"cgroup\" }"
    "    ],"
    "    \"maskedPaths\": ["
    "      \"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\", \"/proc/latency_stats\","
    "      \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\", \"/sys/firmware\","
    "      \"/proc/scsi\", \"/sys/devices/virtual/powercap\""
    "    ],"
    "    \"readonlyPaths\": ["
    "      \"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\""
    "    ]"
    "  }"
    "}";

/* [{"containerID": 0, "hostID": host, "size": 1}] */
static struct json_object *single_mapping(unsigned host) {
  char text[96];
  snprintf(text, sizeof(text), "[{\"containerID\": 0, \"hostID\": %u, \"size\": 1}]", host);
  return json_tokener_parse(text);
}

/* Moves key from src to dst (shared reference), if src has it. */
static int move_key(struct json_object *dst, struct json_object *src, const char *key) {
  struct json_object *v;
  if (!json_object_object_get_ex(src, key, &v))
    return 0;
  json_object_get(v);
  if (json_object_object_add(dst, key, v) < 0) {
    json_object_put(v);
    return -1;
  }
  return 0;
}

static int rootless_mounts(struct json_object *mounts) {
  size_t n = json_object_array_length(mounts);
  for (size_t i = 0; i < n; i++) {
    struct json_object *m = json_object_array_get_idx(mounts, i), *dest, *opts;
    if (!json_object_object_get_ex(m, "destination", &dest))
      continue;
    const char *d = json_object_get_string(dest);
    if (strcmp(d, "/sys") == 0) {
      struct json_object *type = json_object_new_string("none"), *src = json_object_new_string("/sys");
      opts = json_tokener_parse("[\"rbind\", \"nosuid\", \"noexec\", \"nodev\", \"ro\"]");
      if (type == NULL || src == NULL || opts == NULL) {
        json_object_put(type);
        json_object_put(src);
        json_object_put(opts);
        return -1;
      }
      /* Replacing existing keys cannot need new table slots. */
      json_object_object_add(m, "type", type);
      json_object_object_add(m, "source", src);
      json_object_object_add(m, "options", opts);
    } else if (strcmp(d, "/dev/pts") == 0 && json_object_object_get_ex(m, "options", &opts)) {
      for (size_t k = json_object_array_length(opts); k-- > 0;) {
        const char *o = json_object_get_string(json_object_array_get_idx(opts, k));
        if (strncmp(o, "gid=", 4) == 0)
          json_object_array_del_idx(opts, k, 1);
      }
    }
  }
  return 0;
}

/* Rebuilds "linux" so the mappings come first, as runc writes them. */
static int rootless_linux(struct json_object *doc) {
  struct json_object *old, *ns;
  if (!json_object_object_get_ex(doc, "linux", &old) || !json_object_object_get_ex(old, "namespaces", &ns))
    return -1;
  for (size_t k = json_object_array_length(ns); k-- > 0;) {
    struct json_object *type;
    if (json_object_object_get_ex(json_object_array_get_idx(ns, k), "type", &type) &&
        (strcmp(json_object_get_string(type), "network") == 0 || strcmp(json_object_get_string(type), "user") == 0))
      json_object_array_del_idx(ns, k, 1);
  }
  struct json_object *user = json_tokener_parse("{\"type\": \"user\"}");
  if (user == NULL || json_object_array_add(ns, user) < 0) {
    json_object_put(user);
    return -1;
  }

  cleanup_json struct json_object *lnx = json_object_new_object();
  if (lnx == NULL)
    return -1;
  struct json_object *uids = single_mapping(geteuid());
  if (uids == NULL || json_object_object_add(lnx, "uidMappings", uids) < 0) {
    json_object_put(uids);
    return -1;
  }
  struct json_object *gids = single_mapping(getegid());
  if (gids == NULL || json_object_object_add(lnx, "gidMappings", gids) < 0) {
    json_object_put(gids);
    return -1;
  }
  if (move_key(lnx, old, "namespaces") < 0 || move_key(lnx, old, "maskedPaths") < 0 ||
      move_key(lnx, old, "readonlyPaths") < 0)
    return -1;
  /* Replaces (and releases) the old object: an existing key, no allocation. */
  json_object_object_add(doc, "linux", TAKE_PTR(lnx));
  return 0;
}

static int make_rootless(struct json_object *doc) {
  struct json_object *mounts;
  if (json_object_object_get_ex(doc, "mounts", &mounts) && rootless_mounts(mounts) < 0)
    return -1;
  return rootless_linux(doc);
}

char *spec_default_json(bool rootless, berth_error **err) {
  cleanup_json struct json_object *doc = json_tokener_parse(default_config);
  if (doc == NULL) {
    berth_fail(err, ENOMEM, "build the default configuration");
    return NULL;
  }
  if (rootless && make_rootless(doc) < 0) {
    berth_fail(err, ENOMEM, "build the rootless default configuration");
    return NULL;
  }
  /* Tabs and "key": value spacing: the layout `runc spec` writes. */
  int flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB | JSON_C_TO_STRING_SPACED |
              JSON_C_TO_STRING_NOSLASHESCAPE;
  const char *text = json_object_to_json_string_ext(doc, flags);
  char *out = text != NULL ? strdup(text) : NULL;
  if (out == NULL)
    berth_fail(err, ENOMEM, "format the default configuration");
  return out;
}
