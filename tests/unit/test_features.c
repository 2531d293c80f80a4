/* `features` and `spec` documents: valid JSON with the expected content, and
 * the default config loads back through spec_parse. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/features.h"
#include "runtime/spec.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/json.h"

/* Follows a dotted path of object keys; NULL when any is missing. */
static struct json_object *at(struct json_object *obj, const char *path) {
  char buf[256];
  snprintf(buf, sizeof(buf), "%s", path);
  char *save = NULL;
  for (char *key = strtok_r(buf, ".", &save); key != NULL && obj != NULL; key = strtok_r(NULL, ".", &save))
    if (!json_object_object_get_ex(obj, key, &obj))
      return NULL;
  return obj;
}

static const char *str_at(struct json_object *obj, const char *path) {
  struct json_object *v = at(obj, path);
  return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool array_has(struct json_object *arr, const char *s) {
  if (arr == NULL || !json_object_is_type(arr, json_type_array))
    return false;
  for (size_t i = 0; i < json_object_array_length(arr); i++)
    if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
      return true;
  return false;
}

static size_t array_len(struct json_object *arr) {
  return arr != NULL && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
}

static bool bool_at(struct json_object *obj, const char *path, bool want) {
  struct json_object *v = at(obj, path);
  return v != NULL && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v) == want;
}

static void test_features(void) {
  cleanup_error berth_error *err = NULL;
  cleanup_free char *text = features_json(&err);
  EXPECT(text != NULL);
  cleanup_json struct json_object *doc = text != NULL ? json_tokener_parse(text) : NULL;
  EXPECT(doc != NULL);
  EXPECT_STR(str_at(doc, "ociVersionMin"), "1.0.0");
  EXPECT_STR(str_at(doc, "ociVersionMax"), "1.2.0");
  EXPECT(array_len(at(doc, "hooks")) == 6);
  EXPECT(array_has(at(doc, "hooks"), "createRuntime"));
  EXPECT(array_has(at(doc, "mountOptions"), "rbind"));
  EXPECT(array_has(at(doc, "mountOptions"), "tmpcopyup"));
  EXPECT(array_has(at(doc, "mountOptions"), "rnosymfollow"));
  EXPECT(array_len(at(doc, "linux.namespaces")) == 8);
  EXPECT(array_has(at(doc, "linux.namespaces"), "time"));
  EXPECT(array_len(at(doc, "linux.capabilities")) == 41);
  EXPECT(array_has(at(doc, "linux.capabilities"), "CAP_CHECKPOINT_RESTORE"));
  EXPECT(bool_at(doc, "linux.cgroup.v1", true));
  EXPECT(bool_at(doc, "linux.cgroup.v2", true));
  EXPECT(bool_at(doc, "linux.cgroup.systemd", false));
  EXPECT(bool_at(doc, "linux.seccomp.enabled", true));
  EXPECT(array_has(at(doc, "linux.seccomp.actions"), "SCMP_ACT_NOTIFY"));
  EXPECT(array_has(at(doc, "linux.seccomp.operators"), "SCMP_CMP_MASKED_EQ"));
  EXPECT(array_has(at(doc, "linux.seccomp.archs"), "SCMP_ARCH_X86_64"));
  EXPECT(array_has(at(doc, "linux.seccomp.knownFlags"), "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"));
  EXPECT(array_has(at(doc, "linux.seccomp.supportedFlags"), "SECCOMP_FILTER_FLAG_TSYNC"));
  /* supportedFlags is a subset of knownFlags */
  struct json_object *supported = at(doc, "linux.seccomp.supportedFlags");
  for (size_t i = 0; i < array_len(supported); i++)
    EXPECT(array_has(at(doc, "linux.seccomp.knownFlags"),
                     json_object_get_string(json_object_array_get_idx(supported, i))));
  EXPECT(bool_at(doc, "linux.apparmor.enabled", false));
  EXPECT(bool_at(doc, "linux.selinux.enabled", false));
  EXPECT(bool_at(doc, "linux.intelRdt.enabled", false));
  EXPECT(bool_at(doc, "linux.mountExtensions.idmap.enabled", false));
  /* the key contains dots, so no at() */
  struct json_object *ann = at(doc, "annotations"), *ver = NULL;
  EXPECT(ann != NULL && json_object_object_get_ex(ann, "io.github.seccomp.libseccomp.version", &ver));
  EXPECT(ver != NULL && strchr(json_object_get_string(ver), '.') != NULL);
  /* slashes are not escaped */
  EXPECT(text == NULL || strstr(text, "\\/") == NULL);
}

static bool has_namespace(struct json_object *doc, const char *type) {
  struct json_object *ns = at(doc, "linux.namespaces");
  for (size_t i = 0; i < array_len(ns); i++) {
    const char *t = str_at(json_object_array_get_idx(ns, i), "type");
    if (t != NULL && strcmp(t, type) == 0)
      return true;
  }
  return false;
}

static struct json_object *mount_at(struct json_object *doc, const char *dest) {
  struct json_object *mounts = at(doc, "mounts");
  for (size_t i = 0; i < array_len(mounts); i++) {
    struct json_object *m = json_object_array_get_idx(mounts, i);
    const char *d = str_at(m, "destination");
    if (d != NULL && strcmp(d, dest) == 0)
      return m;
  }
  return NULL;
}

/* The document must load through the same parser `run` uses. */
static void expect_loads(const char *text) {
  cleanup_error berth_error *err = NULL;
  struct spec *spec = spec_parse(text, strlen(text), "/tmp", "config.json", &err);
  EXPECT(spec != NULL);
  if (spec == NULL) {
    printf("#   spec_parse: %s\n", err != NULL ? err->msg : "?");
    return;
  }
  EXPECT(spec->has_process && spec->process.n_args == 1);
  EXPECT(spec->n_mounts == 7);
  spec_free(spec);
}

static void test_spec_default(void) {
  cleanup_error berth_error *err = NULL;
  cleanup_free char *text = spec_default_json(false, &err);
  EXPECT(text != NULL);
  cleanup_json struct json_object *doc = text != NULL ? json_tokener_parse(text) : NULL;
  EXPECT(doc != NULL);
  struct json_object *args = at(doc, "process.args");
  EXPECT(array_len(args) == 1);
  EXPECT(array_has(args, "sh"));
  EXPECT_STR(str_at(doc, "ociVersion"), "1.2.0");
  EXPECT_STR(str_at(doc, "hostname"), "berth");
  EXPECT(bool_at(doc, "process.terminal", true));
  EXPECT(bool_at(doc, "process.noNewPrivileges", true));
  EXPECT(bool_at(doc, "root.readonly", true));
  EXPECT(array_len(at(doc, "process.capabilities.bounding")) == 3);
  EXPECT(at(doc, "process.capabilities.ambient") == NULL);
  EXPECT(has_namespace(doc, "network"));
  EXPECT(has_namespace(doc, "cgroup"));
  EXPECT(!has_namespace(doc, "user"));
  EXPECT(at(doc, "linux.resources.devices") != NULL);
  EXPECT(array_has(at(doc, "linux.maskedPaths"), "/sys/devices/virtual/powercap"));
  EXPECT(array_has(at(mount_at(doc, "/dev/pts"), "options"), "gid=5"));
  EXPECT_STR(str_at(mount_at(doc, "/sys"), "type"), "sysfs");
  if (text != NULL)
    expect_loads(text);
}

static void test_spec_default_rootless(void) {
  cleanup_error berth_error *err = NULL;
  cleanup_free char *text = spec_default_json(true, &err);
  EXPECT(text != NULL);
  cleanup_json struct json_object *doc = text != NULL ? json_tokener_parse(text) : NULL;
  EXPECT(doc != NULL);
  EXPECT(array_has(at(doc, "process.args"), "sh"));
  EXPECT(has_namespace(doc, "user"));
  EXPECT(!has_namespace(doc, "network"));
  EXPECT(has_namespace(doc, "pid"));
  EXPECT(at(doc, "linux.resources") == NULL);
  struct json_object *uid = at(doc, "linux.uidMappings"), *gid = at(doc, "linux.gidMappings");
  EXPECT(array_len(uid) == 1 && array_len(gid) == 1);
  if (array_len(uid) == 1 && array_len(gid) == 1) {
    struct json_object *u = json_object_array_get_idx(uid, 0), *g = json_object_array_get_idx(gid, 0);
    EXPECT(json_object_get_int64(at(u, "hostID")) == (int64_t)geteuid());
    EXPECT(json_object_get_int64(at(u, "containerID")) == 0);
    EXPECT(json_object_get_int64(at(u, "size")) == 1);
    EXPECT(json_object_get_int64(at(g, "hostID")) == (int64_t)getegid());
  }
  struct json_object *sys = mount_at(doc, "/sys");
  EXPECT_STR(str_at(sys, "type"), "none");
  EXPECT_STR(str_at(sys, "source"), "/sys");
  EXPECT(array_has(at(sys, "options"), "rbind"));
  EXPECT(!array_has(at(mount_at(doc, "/dev/pts"), "options"), "gid=5"));
  EXPECT(array_has(at(mount_at(doc, "/dev/pts"), "options"), "newinstance"));
  EXPECT(array_len(at(doc, "linux.maskedPaths")) == 11);
  EXPECT(array_len(at(doc, "linux.readonlyPaths")) == 5);
  if (text != NULL)
    expect_loads(text);
}

int main(void) {
  RUN(test_features);
  RUN(test_spec_default);
  RUN(test_spec_default_rootless);
  return tap_done();
}
