/* docker update's checks and merge into a HostConfig (moby's
 * verifyPlatformContainerResources and UpdateContainer). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "engine/update.h"
#include "tap.h"

static int64_t get(struct json_object *o, const char *key) {
  struct json_object *v;
  return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -12345;
}

/* The error's message (freed), or NULL when rc says success. */
static char msg[512];
static const char *check(int rc, berth_error *err) {
  if (rc == 0) {
    berth_error_free(err);
    return NULL;
  }
  snprintf(msg, sizeof(msg), "%s", err != NULL ? err->msg : "(no message)");
  berth_error_free(err);
  return msg;
}

static const char *validate(struct update_request r) {
  berth_error *err = NULL;
  int rc = update_validate(&r, &err);
  return check(rc, err);
}

static const char *merge(struct json_object *hc, struct update_request r) {
  berth_error *err = NULL;
  int rc = update_merge(hc, &r, &err);
  return check(rc, err);
}

static void test_validate(void) {
  EXPECT(validate((struct update_request){.memory = 6 << 20}) == NULL);
  EXPECT_STR(validate((struct update_request){.memory = 1 << 20}), "Minimum memory limit allowed is 6MB");
  EXPECT_STR(validate((struct update_request){.memory = 64 << 20, .memory_swap = 32 << 20}),
             "Minimum memoryswap limit should be larger than memory limit, see usage");
  EXPECT(validate((struct update_request){.memory = 64 << 20, .memory_swap = -1}) == NULL);
  EXPECT_STR(validate((struct update_request){.memory_reservation = 1024}),
             "Minimum memory reservation allowed is 6MB");
  EXPECT_STR(validate((struct update_request){.memory = 10 << 20, .memory_reservation = 20 << 20}),
             "Minimum memory limit can not be less than memory reservation limit, see usage");
  EXPECT_STR(validate((struct update_request){.nano_cpus = 500000000, .cpu_period = 100000}),
             "Conflicting options: Nano CPUs and CPU Period cannot both be set");
  EXPECT_STR(validate((struct update_request){.nano_cpus = 500000000, .cpu_quota = 50000}),
             "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  EXPECT_CONTAINS(validate((struct update_request){.nano_cpus = 1000000000000}), "Range of CPUs is from 0.01 to ");
  EXPECT_STR(validate((struct update_request){.cpu_period = 999}),
             "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  EXPECT_STR(validate((struct update_request){.cpu_quota = 999}), "CPU cfs quota can not be less than 1ms (i.e. 1000)");
  EXPECT(validate((struct update_request){.cpu_quota = -1}) == NULL);
  EXPECT(validate((struct update_request){.cpuset_cpus = "0"}) == NULL);
  EXPECT_CONTAINS(validate((struct update_request){.cpuset_cpus = "0-4095"}),
                  "Requested CPUs are not available - requested 0-4095, available: ");
}

static void test_merge(void) {
  struct json_object *hc = json_tokener_parse("{\"Memory\": 67108864, \"NetworkMode\": \"none\"}");
  /* -m alone at create means twice as much memory+swap, as docker records */
  EXPECT(merge(hc, (struct update_request){.cpu_shares = 512}) == NULL);
  EXPECT(get(hc, "MemorySwap") == 134217728 && get(hc, "CpuShares") == 512);
  EXPECT_STR(merge(hc, (struct update_request){.memory = 200 << 20}),
             "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same "
             "time");
  EXPECT(get(hc, "Memory") == 67108864);
  EXPECT(merge(hc, (struct update_request){.memory = 200 << 20, .memory_swap = -1}) == NULL);
  EXPECT(get(hc, "Memory") == 200 << 20 && get(hc, "MemorySwap") == -1);
  EXPECT(merge(hc, (struct update_request){.memory = 300 << 20}) == NULL);
  /* --cpus and a CFS period/quota exclude each other across updates */
  EXPECT(merge(hc, (struct update_request){.nano_cpus = 1500000000}) == NULL);
  EXPECT_STR(merge(hc, (struct update_request){.cpu_quota = 50000}),
             "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set");
  EXPECT_STR(merge(hc, (struct update_request){.cpu_period = 50000}),
             "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set");
  json_object_put(hc);
  hc = json_tokener_parse("{\"CpuPeriod\": 50000, \"AutoRemove\": true, \"PidsLimit\": 10}");
  EXPECT_STR(merge(hc, (struct update_request){.nano_cpus = 1000000000}),
             "Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set");
  EXPECT_STR(merge(hc, (struct update_request){.has_restart = true, .restart = {.kind = RESTART_ALWAYS}}),
             "Restart policy cannot be updated because AutoRemove is enabled for the container");
  EXPECT(merge(hc, (struct update_request){.has_restart = true, .restart = {.kind = RESTART_NO}}) == NULL);
  /* no pids limit: the key goes (docker shows null) */
  EXPECT(merge(hc, (struct update_request){.has_pids_limit = true, .pids_limit = -1}) == NULL);
  EXPECT(get(hc, "PidsLimit") == -12345);
  EXPECT(merge(hc, (struct update_request){.has_pids_limit = true, .pids_limit = 7, .cpuset_cpus = "0"}) == NULL);
  EXPECT(get(hc, "PidsLimit") == 7);
  struct json_object *v = NULL;
  EXPECT(json_object_object_get_ex(hc, "CpusetCpus", &v) && strcmp(json_object_get_string(v), "0") == 0);
  json_object_put(hc);
}

int main(void) {
  RUN(test_validate);
  RUN(test_merge);
  return tap_done();
}
