/* Signal names, as kill(1) and runc accept them. */
#ifndef BERTH_RUNTIME_SIGNALS_H
#define BERTH_RUNTIME_SIGNALS_H

/* "KILL", "SIGKILL", "kill", "9", "RTMIN+3", "SIGRTMAX-1" -> number; -1 when unknown. */
int signal_parse(const char *text);
/* 9 -> "SIGKILL"; NULL when unknown. */
const char *signal_name(int sig);

#endif
