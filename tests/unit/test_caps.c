/* Capability names, and caps_apply checked against what the kernel reports
 * in /proc/self/status.  Changing capabilities is one-way, so each case runs
 * in a forked child that reports failures through its exit status. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "tap.h"
#include "util/error.h"

#define BIT(n) (1ULL << (n))
#define CAP_CHOWN_ 0
#define CAP_KILL_ 5
#define CAP_SETPCAP_ 8
#define CAP_SYS_ADMIN_ 21
#define CAP_SYS_BOOT_ 22

static int child_failures;

/* EXPECT for the child side: prints like tap.h and counts. */
#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      printf("#   %s:%d: (child) expected %s\n", __FILE__, __LINE__, #cond); \
      child_failures++;                                                     \
    }                                                                       \
  } while (0)

/* Reads "<field>:\t<hex>" from /proc/self/status. */
static uint64_t status_mask(const char *field) {
  FILE *f = fopen("/proc/self/status", "re");
  if (f == NULL)
    return UINT64_MAX;
  char line[256];
  size_t flen = strlen(field);
  uint64_t v = UINT64_MAX;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
      v = strtoull(line + flen + 1, NULL, 16);
      break;
    }
  }
  fclose(f);
  return v;
}

static uint64_t all_known(void) {
  int last = caps_last_cap();
  return last >= 63 ? UINT64_MAX : BIT(last + 1) - 1;
}

/* Runs fn in a child and expects it to report no failures. */
static void in_child(void (*fn)(void)) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    child_failures = 0;
    fn();
    fflush(stdout);
    _exit(child_failures > 100 ? 100 : child_failures);
  }
  EXPECT(pid > 0);
  int status = 0;
  EXPECT(waitpid(pid, &status, 0) == pid);
  EXPECT(WIFEXITED(status));
  EXPECT(WEXITSTATUS(status) == 0);
}

static void test_names(void) {
  EXPECT(caps_from_name("CAP_CHOWN") == 0);
  EXPECT(caps_from_name("CAP_SYS_ADMIN") == 21);
  EXPECT(caps_from_name("CAP_AUDIT_READ") == 37);
  EXPECT(caps_from_name("CAP_CHECKPOINT_RESTORE") == 40);
  EXPECT(caps_from_name("CAP_FOO") == -1);
  EXPECT(caps_from_name("SYS_ADMIN") == -1);
  EXPECT(caps_from_name("") == -1);
  EXPECT(caps_from_name(NULL) == -1);
  EXPECT_STR(caps_name(21), "CAP_SYS_ADMIN");
  EXPECT_STR(caps_name(39), "CAP_BPF");
  EXPECT(caps_name(41) == NULL);
  EXPECT(caps_name(-1) == NULL);
  int n = 0;
  for (const char *const *c = caps_all_names; *c != NULL; c++, n++)
    EXPECT(caps_from_name(*c) == n);
  EXPECT(n == 41);
}

static void test_last_cap(void) {
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
  int expected = 40;
  if (f != NULL) {
    EXPECT(fscanf(f, "%d", &expected) == 1);
    fclose(f);
  }
  EXPECT(caps_last_cap() == expected);
  EXPECT(caps_last_cap() == expected); /* cached value */
}

static void child_apply_sets(void) {
  uint64_t bnd_before = status_mask("CapBnd");
  struct spec_capabilities caps = {
      .present = true,
      .bounding = all_known() & ~BIT(CAP_SYS_ADMIN_),
      .effective = BIT(CAP_CHOWN_) | BIT(CAP_KILL_),
      .permitted = BIT(CAP_CHOWN_) | BIT(CAP_KILL_),
      .inheritable = BIT(CAP_KILL_),
      .ambient = BIT(CAP_KILL_),
  };
  cleanup_error berth_error *err = NULL;
  int r = caps_apply(&caps, &err);
  CHECK(r == 0);
  if (err != NULL)
    printf("#   caps_apply: %s\n", err->msg);
  CHECK(status_mask("CapBnd") == (bnd_before & ~BIT(CAP_SYS_ADMIN_)));
  CHECK(status_mask("CapEff") == (BIT(CAP_CHOWN_) | BIT(CAP_KILL_)));
  CHECK(status_mask("CapPrm") == (BIT(CAP_CHOWN_) | BIT(CAP_KILL_)));
  CHECK(status_mask("CapInh") == BIT(CAP_KILL_));
  CHECK(status_mask("CapAmb") == BIT(CAP_KILL_));

  /* Without CAP_SETPCAP the bounding set cannot shrink further: the error
   * names the capability. */
  caps.bounding &= ~BIT(CAP_SYS_BOOT_);
  r = caps_apply(&caps, &err);
  CHECK(r < 0);
  const char *want = "drop capability CAP_SYS_BOOT from the bounding set: Operation not permitted";
  CHECK(err != NULL && strcmp(err->msg, want) == 0);
  if (err != NULL && strcmp(err->msg, want) != 0)
    printf("#   got: %s\n", err->msg);
}

static void test_apply_sets(void) {
  in_child(child_apply_sets);
}

/* runc's default config asks for ambient capabilities that are not
 * inheritable: they are skipped, not an error. */
static void child_ambient_needs_inheritable(void) {
  struct spec_capabilities caps = {
      .present = true,
      .bounding = all_known(),
      .effective = BIT(CAP_KILL_) | BIT(CAP_SETPCAP_),
      .permitted = BIT(CAP_KILL_) | BIT(CAP_SETPCAP_),
      .inheritable = 0,
      .ambient = BIT(CAP_KILL_),
  };
  cleanup_error berth_error *err = NULL;
  CHECK(caps_apply(&caps, &err) == 0);
  if (err != NULL)
    printf("#   got: %s\n", err->msg);
  CHECK(status_mask("CapAmb") == 0);
  CHECK(status_mask("CapEff") == (BIT(CAP_KILL_) | BIT(CAP_SETPCAP_)));
}

static void test_ambient_needs_inheritable(void) {
  in_child(child_ambient_needs_inheritable);
}

static void child_keep_on_setuid(void) {
  cleanup_error berth_error *err = NULL;
  CHECK(caps_keep_on_setuid(true, &err) == 0);
  CHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 1);
  uint64_t prm = status_mask("CapPrm");
  CHECK(setuid(65534) == 0);
  /* setuid empties the effective set but keeps the permitted one */
  CHECK(status_mask("CapEff") == 0);
  CHECK(status_mask("CapPrm") == prm);
  /* caps_apply must still manage the bounding set (needs CAP_SETPCAP
   * effective) from here */
  struct spec_capabilities caps = {
      .present = true,
      .bounding = all_known() & ~BIT(CAP_SYS_ADMIN_),
      .effective = BIT(CAP_CHOWN_),
      .permitted = BIT(CAP_CHOWN_) | BIT(CAP_KILL_),
  };
  CHECK(caps_apply(&caps, &err) == 0);
  if (err != NULL)
    printf("#   caps_apply: %s\n", err->msg);
  CHECK(status_mask("CapEff") == BIT(CAP_CHOWN_));
  CHECK(status_mask("CapPrm") == (BIT(CAP_CHOWN_) | BIT(CAP_KILL_)));
  CHECK((status_mask("CapBnd") & BIT(CAP_SYS_ADMIN_)) == 0);
  CHECK(caps_keep_on_setuid(false, &err) == 0);
  CHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 0);
}

static void test_keep_on_setuid(void) {
  in_child(child_keep_on_setuid);
}

int main(void) {
  RUN(test_names);
  RUN(test_last_cap);
  if (geteuid() != 0 || (status_mask("CapEff") & BIT(CAP_SETPCAP_)) == 0) {
    printf("ok %d - caps_apply tests # SKIP need root with CAP_SETPCAP\n", ++tap_count);
    return tap_done();
  }
  RUN(test_apply_sets);
  RUN(test_ambient_needs_inheritable);
  RUN(test_keep_on_setuid);
  return tap_done();
}
