/* The runtime-spec features document (features.md, features-linux.md).
 *
 * The lists come from the same tables the parsers use (capabilities,
 * seccomp names), so `features` cannot drift from what berth accepts. */
#include "runtime/features.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>

#include "runtime/caps.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "util/cleanup.h"
#include "util/json.h"

static const char *const hook_names[] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop", NULL,
};

/* Every mount option of the spec's list that spec.c decodes (features.md
 * asks for flags only, not filesystem data options). */
static const char *const mount_option_names[] = {
    "async",       "atime",      "bind",           "defaults",  "dev",        "diratime",    "dirsync",
    "exec",        "iversion",   "lazytime",       "loud",      "mand",       "noatime",     "nodev",
    "nodiratime",  "noexec",     "noiversion",     "nolazytime", "nomand",    "norelatime",  "nostrictatime",
    "nosuid",      "nosymfollow", "private",       "ratime",    "rbind",      "rdev",        "rdiratime",
    "relatime",    "remount",    "rexec",          "rnoatime",  "rnodev",     "rnodiratime", "rnoexec",
    "rnorelatime", "rnostrictatime", "rnosuid",    "rnosymfollow", "ro",      "rprivate",    "rrelatime",
    "rro",         "rrw",        "rshared",        "rslave",    "rstrictatime", "rsuid",     "rsymfollow",
    "runbindable", "rw",         "shared",         "silent",    "slave",      "strictatime", "suid",
    "symfollow",   "sync",       "tmpcopyup",      "unbindable", NULL,
};

static const char *const namespace_names[] = {
    "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time", NULL,
};

/* Adds val under key; on failure val is released, so callers can chain
 * calls that create values inline. */
static int put(struct json_object *obj, const char *key, struct json_object *val) {
  if (val == NULL)
    return -1;
  if (json_object_object_add(obj, key, val) < 0) {
    json_object_put(val);
    return -1;
  }
  return 0;
}

static struct json_object *string_array(const char *const *names, bool (*keep)(const char *)) {
  struct json_object *arr = json_object_new_array();
  if (arr == NULL)
    return NULL;
  for (const char *const *n = names; *n != NULL; n++) {
    if (keep != NULL && !keep(*n))
      continue;
    struct json_object *s = json_object_new_string(*n);
    if (s == NULL || json_object_array_add(arr, s) < 0) {
      json_object_put(s);
      json_object_put(arr);
      return NULL;
    }
  }
  return arr;
}

/* {"enabled": enabled} */
static struct json_object *enabled_object(bool enabled) {
  struct json_object *o = json_object_new_object();
  if (o == NULL)
    return NULL;
  if (put(o, "enabled", json_object_new_boolean(enabled)) < 0) {
    json_object_put(o);
    return NULL;
  }
  return o;
}

static struct json_object *cgroup_object(void) {
  struct json_object *o = json_object_new_object();
  if (o == NULL)
    return NULL;
  if (put(o, "v1", json_object_new_boolean(true)) < 0 || put(o, "v2", json_object_new_boolean(true)) < 0 ||
      put(o, "systemd", json_object_new_boolean(false)) < 0 ||
      put(o, "systemdUser", json_object_new_boolean(false)) < 0 ||
      put(o, "rdma", json_object_new_boolean(false)) < 0) {
    json_object_put(o);
    return NULL;
  }
  return o;
}

static struct json_object *seccomp_object(void) {
  struct json_object *o = json_object_new_object();
  if (o == NULL)
    return NULL;
  if (put(o, "enabled", json_object_new_boolean(true)) < 0 ||
      put(o, "actions", string_array(seccomp_action_names, NULL)) < 0 ||
      put(o, "operators", string_array(seccomp_op_names, NULL)) < 0 ||
      put(o, "archs", string_array(seccomp_arch_names, NULL)) < 0 ||
      put(o, "knownFlags", string_array(seccomp_flag_names, NULL)) < 0 ||
      put(o, "supportedFlags", string_array(seccomp_flag_names, seccomp_flag_supported)) < 0) {
    json_object_put(o);
    return NULL;
  }
  return o;
}

static struct json_object *mount_extensions_object(void) {
  struct json_object *o = json_object_new_object();
  if (o == NULL)
    return NULL;
  if (put(o, "idmap", enabled_object(false)) < 0) {
    json_object_put(o);
    return NULL;
  }
  return o;
}

static struct json_object *linux_object(void) {
  struct json_object *o = json_object_new_object();
  if (o == NULL)
    return NULL;
  if (put(o, "namespaces", string_array(namespace_names, NULL)) < 0 ||
      put(o, "capabilities", string_array(caps_all_names, NULL)) < 0 || put(o, "cgroup", cgroup_object()) < 0 ||
      put(o, "seccomp", seccomp_object()) < 0 || put(o, "apparmor", enabled_object(false)) < 0 ||
      put(o, "selinux", enabled_object(false)) < 0 || put(o, "intelRdt", enabled_object(false)) < 0 ||
      put(o, "mountExtensions", mount_extensions_object()) < 0) {
    json_object_put(o);
    return NULL;
  }
  return o;
}

static struct json_object *annotations_object(void) {
  char version[32];
  seccomp_library_version(version, sizeof(version));
  struct json_object *o = json_object_new_object();
  if (o == NULL)
    return NULL;
  if (put(o, "io.github.seccomp.libseccomp.version", json_object_new_string(version)) < 0) {
    json_object_put(o);
    return NULL;
  }
  return o;
}

char *features_json(berth_error **err) {
  cleanup_json struct json_object *doc = json_object_new_object();
  if (doc == NULL || put(doc, "ociVersionMin", json_object_new_string("1.0.0")) < 0 ||
      put(doc, "ociVersionMax", json_object_new_string("1.2.0")) < 0 ||
      put(doc, "hooks", string_array(hook_names, NULL)) < 0 ||
      put(doc, "mountOptions", string_array(mount_option_names, NULL)) < 0 ||
      put(doc, "linux", linux_object()) < 0 || put(doc, "annotations", annotations_object()) < 0) {
    berth_fail(err, ENOMEM, "build the features document");
    return NULL;
  }
  const char *text = json_object_to_json_string_ext(
      doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
  char *out = text != NULL ? strdup(text) : NULL;
  if (out == NULL)
    berth_fail(err, ENOMEM, "format the features document");
  return out;
}
