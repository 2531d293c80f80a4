#include <signal.h>

#include "runtime/signals.h"
#include "tap.h"

static void test_names(void) {
  EXPECT(signal_parse("KILL") == SIGKILL);
  EXPECT(signal_parse("SIGKILL") == SIGKILL);
  EXPECT(signal_parse("kill") == SIGKILL);
  EXPECT(signal_parse("sigkill") == SIGKILL);
  EXPECT(signal_parse("SigTerm") == SIGTERM);
  EXPECT(signal_parse("HUP") == SIGHUP);
  EXPECT(signal_parse("WINCH") == SIGWINCH);
  EXPECT(signal_parse("SIGSYS") == SIGSYS);
  EXPECT(signal_parse("PWR") == SIGPWR);
  /* aliases map to the canonical number */
  EXPECT(signal_parse("IOT") == SIGABRT);
  EXPECT(signal_parse("SIGCLD") == SIGCHLD);
  EXPECT(signal_parse("POLL") == SIGIO);
}

static void test_numbers(void) {
  EXPECT(signal_parse("9") == 9);
  EXPECT(signal_parse("1") == 1);
  EXPECT(signal_parse("15") == SIGTERM);
  EXPECT(signal_parse("009") == 9);
  char buf[16];
  snprintf(buf, sizeof(buf), "%d", SIGRTMAX);
  EXPECT(signal_parse(buf) == SIGRTMAX);
  snprintf(buf, sizeof(buf), "%d", SIGRTMAX + 1);
  EXPECT(signal_parse(buf) == -1);
  EXPECT(signal_parse("0") == -1);
  EXPECT(signal_parse("-9") == -1);
  EXPECT(signal_parse("+9") == -1);
  EXPECT(signal_parse("99999999999999999999") == -1);
}

static void test_realtime(void) {
  EXPECT(signal_parse("RTMIN") == SIGRTMIN);
  EXPECT(signal_parse("RTMIN+3") == SIGRTMIN + 3);
  EXPECT(signal_parse("sigrtmin+3") == SIGRTMIN + 3);
  EXPECT(signal_parse("SIGRTMAX") == SIGRTMAX);
  EXPECT(signal_parse("SIGRTMAX-2") == SIGRTMAX - 2);
  EXPECT(signal_parse("RTMAX-0") == SIGRTMAX);
  /* wrong direction, past the range, junk after the offset */
  EXPECT(signal_parse("RTMIN-1") == -1);
  EXPECT(signal_parse("RTMAX+1") == -1);
  EXPECT(signal_parse("RTMIN+100") == -1);
  EXPECT(signal_parse("RTMIN+") == -1);
  EXPECT(signal_parse("RTMIN+3x") == -1);
}

static void test_junk(void) {
  EXPECT(signal_parse("") == -1);
  EXPECT(signal_parse(NULL) == -1);
  EXPECT(signal_parse("9x") == -1);
  EXPECT(signal_parse("SIGFOO") == -1);
  EXPECT(signal_parse("SIG") == -1);
  EXPECT(signal_parse("SIGSIGKILL") == -1);
  EXPECT(signal_parse(" KILL") == -1);
  EXPECT(signal_parse("KILL ") == -1);
}

static void test_signal_name(void) {
  EXPECT_STR(signal_name(SIGKILL), "SIGKILL");
  EXPECT_STR(signal_name(SIGTERM), "SIGTERM");
  EXPECT_STR(signal_name(SIGABRT), "SIGABRT");
  EXPECT_STR(signal_name(SIGCHLD), "SIGCHLD");
  EXPECT_STR(signal_name(SIGIO), "SIGIO");
  EXPECT_STR(signal_name(SIGRTMIN), "SIGRTMIN");
  EXPECT_STR(signal_name(SIGRTMIN + 3), "SIGRTMIN+3");
  EXPECT(signal_name(0) == NULL);
  EXPECT(signal_name(-1) == NULL);
  EXPECT(signal_name(SIGRTMAX + 1) == NULL);
  /* every name round-trips */
  for (int sig = 1; sig <= SIGRTMAX; sig++) {
    const char *name = signal_name(sig);
    if (name != NULL)
      EXPECT(signal_parse(name) == sig);
  }
}

int main(void) {
  RUN(test_names);
  RUN(test_numbers);
  RUN(test_realtime);
  RUN(test_junk);
  RUN(test_signal_name);
  return tap_done();
}
