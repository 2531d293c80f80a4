/* A minimal TAP producer for the unit tests: each RUN() is one test line,
 * failing if any EXPECT inside it failed. */
#ifndef BERTH_TESTS_TAP_H
#define BERTH_TESTS_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count __attribute__((unused)), tap_failed __attribute__((unused)), tap_current_failed __attribute__((unused));

#define EXPECT(cond)                                                           \
  do {                                                                         \
    if (!(cond)) {                                                             \
      printf("#   %s:%d: expected %s\n", __FILE__, __LINE__, #cond);           \
      tap_current_failed = 1;                                                  \
    }                                                                          \
  } while (0)

#define EXPECT_STR(a, b)                                                       \
  do {                                                                         \
    const char *_a = (a), *_b = (b);                                           \
    if (_a == NULL || _b == NULL || strcmp(_a, _b) != 0) {                     \
      printf("#   %s:%d: expected \"%s\" == \"%s\"\n", __FILE__, __LINE__,       \
             _a ? _a : "(null)", _b ? _b : "(null)");                          \
      tap_current_failed = 1;                                                  \
    }                                                                          \
  } while (0)

/* Passes when haystack contains needle. */
#define EXPECT_CONTAINS(haystack, needle)                                      \
  do {                                                                         \
    const char *_h = (haystack), *_n = (needle);                               \
    if (_h == NULL || strstr(_h, _n) == NULL) {                                \
      printf("#   %s:%d: expected \"%s\" to contain \"%s\"\n", __FILE__,        \
             __LINE__, _h ? _h : "(null)", _n);                                \
      tap_current_failed = 1;                                                  \
    }                                                                          \
  } while (0)

#define RUN(fn)                                                                \
  do {                                                                         \
    tap_current_failed = 0;                                                    \
    fn();                                                                      \
    tap_count++;                                                               \
    if (tap_current_failed)                                                    \
      tap_failed++;                                                            \
    printf("%s %d - %s\n", tap_current_failed ? "not ok" : "ok", tap_count, #fn); \
    fflush(stdout);                                                            \
  } while (0)

static inline int tap_done(void) {
  printf("1..%d\n", tap_count);
  return tap_failed ? 1 : 0;
}

#endif
