/* berth-monitor's internals (the protocol is in protocol.h). */
#ifndef BERTH_MONITOR_MONITOR_H
#define BERTH_MONITOR_MONITOR_H

#include <stdint.h>

#define MONITOR_MAX_PERIODIC_ARGS 64

struct monitor_config {
  const char *id;
  int pid;
  const char *exit_file;
  const char *log_path;
  uint64_t log_max_size; /* 0: no rotation */
  unsigned log_max_file; /* 1 unless given */
  int stdin_fd, stdout_fd, stderr_fd, tty_fd, client_fd, ready_fd; /* -1 when absent */
  const char *socket_path;
  uint64_t periodic_ms; /* 0: none */
  char *periodic_argv[MONITOR_MAX_PERIODIC_ARGS + 1];
  char **exit_argv; /* NULL or empty: no exit command */
};

/* Parses the command line (protocol.h); on error prints one line and
 * returns -1. */
int monitor_parse_args(int argc, char **argv, struct monitor_config *cfg);

int monitor_main(int argc, char **argv, char **envp);

#endif
