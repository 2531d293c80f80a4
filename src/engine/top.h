/* `docker top`: the host's ps, run with the caller's options, keeping the
 * rows of the container's processes. */
#ifndef BERTH_ENGINE_TOP_H
#define BERTH_ENGINE_TOP_H

#include <stddef.h>
#include <sys/types.h>

#include "engine/engine.h"

struct top_table {
  char **titles; /* ps's header, split on blanks */
  size_t n_titles;
  char **cells; /* n_rows * n_titles; the last column keeps its blanks (CMD) */
  size_t n_rows;
};

/* Runs `ps ARGS` (default -ef) on the host for the running container ref.
 * Errors as docker's: "container ID is not running", "ps: <ps's first
 * line of errors>", "specifying \"user=PID\" is not allowed". */
int top_container(struct engine *e, const char *ref, char *const *ps_args, size_t n_args, struct top_table *out,
                  berth_error **err);
void top_table_clear(struct top_table *t);

/* For the unit tests. */
/* Refuses a column renamed to PID other than pid's own (docker's check
 * over the options joined with blanks). */
int top_check_ps_args(const char *joined, berth_error **err);
/* ps's output -> the rows whose PID column is one of pids; a thread row
 * ("-" as PID, ps -L/m) follows its process. */
int top_parse_ps(const char *output, const pid_t *pids, size_t n_pids, struct top_table *out, berth_error **err);

#endif
