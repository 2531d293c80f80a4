/* Signal names as kill(1) and runc accept them: with or without "SIG", any
 * case, a number, or a real-time signal relative to RTMIN/RTMAX. */
#include "runtime/signals.h"

#include <ctype.h>
#include <signal.h>
#include <stddef.h>
#include <strings.h>

#include "util/cleanup.h"

struct signal_entry {
  const char *name; /* "SIGHUP"; input is matched without the "SIG" */
  int number;
};

/* The first entry for a number is its canonical name; later ones are aliases
 * accepted on input only. */
static const struct signal_entry signal_table[] = {
    {"SIGHUP", SIGHUP},       {"SIGINT", SIGINT},       {"SIGQUIT", SIGQUIT},   {"SIGILL", SIGILL},
    {"SIGTRAP", SIGTRAP},     {"SIGABRT", SIGABRT},     {"SIGBUS", SIGBUS},     {"SIGFPE", SIGFPE},
    {"SIGKILL", SIGKILL},     {"SIGUSR1", SIGUSR1},     {"SIGSEGV", SIGSEGV},   {"SIGUSR2", SIGUSR2},
    {"SIGPIPE", SIGPIPE},     {"SIGALRM", SIGALRM},     {"SIGTERM", SIGTERM},
#ifdef SIGSTKFLT
    {"SIGSTKFLT", SIGSTKFLT},
#endif
    {"SIGCHLD", SIGCHLD},     {"SIGCONT", SIGCONT},     {"SIGSTOP", SIGSTOP},   {"SIGTSTP", SIGTSTP},
    {"SIGTTIN", SIGTTIN},     {"SIGTTOU", SIGTTOU},     {"SIGURG", SIGURG},     {"SIGXCPU", SIGXCPU},
    {"SIGXFSZ", SIGXFSZ},     {"SIGVTALRM", SIGVTALRM}, {"SIGPROF", SIGPROF},   {"SIGWINCH", SIGWINCH},
    {"SIGIO", SIGIO},
#ifdef SIGPWR
    {"SIGPWR", SIGPWR},
#endif
    {"SIGSYS", SIGSYS},
    /* aliases */
    {"SIGIOT", SIGABRT},      {"SIGCLD", SIGCHLD},      {"SIGPOLL", SIGIO},
};

/* Real-time signal names for signal_name(): SIGRTMIN+N, N = sig - SIGRTMIN. */
static const char *const rt_names[] = {
    "SIGRTMIN",    "SIGRTMIN+1",  "SIGRTMIN+2",  "SIGRTMIN+3",  "SIGRTMIN+4",  "SIGRTMIN+5",
    "SIGRTMIN+6",  "SIGRTMIN+7",  "SIGRTMIN+8",  "SIGRTMIN+9",  "SIGRTMIN+10", "SIGRTMIN+11",
    "SIGRTMIN+12", "SIGRTMIN+13", "SIGRTMIN+14", "SIGRTMIN+15", "SIGRTMIN+16", "SIGRTMIN+17",
    "SIGRTMIN+18", "SIGRTMIN+19", "SIGRTMIN+20", "SIGRTMIN+21", "SIGRTMIN+22", "SIGRTMIN+23",
    "SIGRTMIN+24", "SIGRTMIN+25", "SIGRTMIN+26", "SIGRTMIN+27", "SIGRTMIN+28", "SIGRTMIN+29",
    "SIGRTMIN+30", "SIGRTMIN+31", "SIGRTMIN+32",
};

/* Parses a run of decimal digits that makes up the whole string; -1 if the
 * string is empty, has anything else, or is implausibly large. */
static int parse_digits(const char *s) {
  if (*s == '\0')
    return -1;
  int v = 0;
  for (; *s != '\0'; s++) {
    if (!isdigit((unsigned char)*s))
      return -1;
    v = v * 10 + (*s - '0');
    if (v > 1024)
      return -1;
  }
  return v;
}

/* "RTMIN", "RTMIN+3", "RTMAX", "RTMAX-2" (prefix "SIG" already removed). */
static int parse_realtime(const char *s) {
  int base, sign;
  if (strncasecmp(s, "RTMIN", 5) == 0) {
    base = SIGRTMIN;
    sign = 1;
  } else if (strncasecmp(s, "RTMAX", 5) == 0) {
    base = SIGRTMAX;
    sign = -1;
  } else {
    return -1;
  }
  s += 5;
  if (*s == '\0')
    return base;
  if (*s != (sign > 0 ? '+' : '-'))
    return -1;
  int off = parse_digits(s + 1);
  if (off < 0)
    return -1;
  int sig = base + sign * off;
  if (sig < SIGRTMIN || sig > SIGRTMAX)
    return -1;
  return sig;
}

int signal_parse(const char *text) {
  if (text == NULL || *text == '\0')
    return -1;
  if (isdigit((unsigned char)*text)) {
    int sig = parse_digits(text);
    return sig >= 1 && sig <= SIGRTMAX ? sig : -1;
  }
  const char *s = text;
  if (strncasecmp(s, "SIG", 3) == 0)
    s += 3;
  for (size_t i = 0; i < ARRAY_SIZE(signal_table); i++)
    if (strcasecmp(s, signal_table[i].name + 3) == 0)
      return signal_table[i].number;
  return parse_realtime(s);
}

const char *signal_name(int sig) {
  if (sig <= 0)
    return NULL;
  for (size_t i = 0; i < ARRAY_SIZE(signal_table); i++)
    if (signal_table[i].number == sig)
      return signal_table[i].name;
  if (sig >= SIGRTMIN && sig <= SIGRTMAX && (size_t)(sig - SIGRTMIN) < ARRAY_SIZE(rt_names))
    return rt_names[sig - SIGRTMIN];
  return NULL;
}
