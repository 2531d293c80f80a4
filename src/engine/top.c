/* `berth top`: the host's ps, filtered to the container's pids.  Like
 * docker, the pids are passed to ps with -q (so ps need not list the whole
 * host), and ps is run again without it when the options cannot take -q
 * (BSD-style "f"); the rows are filtered by the PID column either way. */
#include "engine/top.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/containers.h"
#include "engine/lifecycle.h"
#include "runtime/container.h"
#include "util/cleanup.h"
#include "util/fs.h"

void top_table_clear(struct top_table *t) {
  for (size_t i = 0; i < t->n_titles; i++)
    free(t->titles[i]);
  for (size_t i = 0; i < t->n_rows * t->n_titles; i++)
    free(t->cells[i]);
  free(t->titles);
  free(t->cells);
  *t = (struct top_table){0};
}

int top_check_ps_args(const char *joined, berth_error **err) {
  /* docker's pattern: \s+([^\s]*)=\s*(PID[^\s]*) */
  for (const char *p = joined; *p != '\0'; p++) {
    if (!isspace((unsigned char)*p))
      continue;
    const char *key = p + strspn(p, " \t\n\v\f\r");
    size_t klen = strcspn(key, " \t\n\v\f\r=");
    if (key[klen] != '=')
      continue;
    const char *value = key + klen + 1;
    value += strspn(value, " \t\n\v\f\r");
    if (strncmp(value, "PID", 3) != 0 || (klen == 3 && strncmp(key, "pid", 3) == 0))
      continue;
    return berth_fail(err, 0, "specifying \"%.*s=%.*s\" is not allowed", (int)klen, key,
                      (int)strcspn(value, " \t\n\v\f\r"), value);
  }
  return 0;
}

/* Splits on ASCII blanks (docker's fieldsASCII): a vector of copies. */
static char **fields(const char *line, size_t len, size_t *n) {
  char **v = NULL;
  *n = 0;
  for (size_t i = 0; i < len;) {
    while (i < len && isspace((unsigned char)line[i]))
      i++;
    if (i == len)
      break;
    size_t start = i;
    while (i < len && !isspace((unsigned char)line[i]))
      i++;
    char **grown = realloc(v, (*n + 1) * sizeof(*v));
    char *f = strndup(line + start, i - start);
    if (grown == NULL || f == NULL) {
      free(f);
      v = grown != NULL ? grown : v;
      for (size_t k = 0; k < *n; k++)
        free(v[k]);
      free(v);
      *n = 0;
      return NULL;
    }
    v = grown;
    v[(*n)++] = f;
  }
  return v;
}

static void free_fields(char **v, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

/* Adds a row: as many cells as titles, the overhanging fields joined into
 * the last (the command's words), missing ones empty. */
static int add_row(struct top_table *t, char **f, size_t nf) {
  char **grown = realloc(t->cells, (t->n_rows + 1) * t->n_titles * sizeof(*grown));
  if (grown == NULL)
    return -1;
  t->cells = grown;
  char **row = &t->cells[t->n_rows * t->n_titles];
  size_t last = t->n_titles - 1;
  for (size_t i = 0; i < last; i++)
    row[i] = strdup(i < nf ? f[i] : "");
  size_t len = 0;
  for (size_t i = last; i < nf; i++)
    len += strlen(f[i]) + 1;
  row[last] = calloc(1, len + 1);
  for (size_t i = last; i < nf && row[last] != NULL; i++) {
    if (i > last)
      strcat(row[last], " ");
    strcat(row[last], f[i]);
  }
  t->n_rows++;
  for (size_t i = 0; i <= last; i++)
    if (row[i] == NULL)
      return -1;
  return 0;
}

static bool has_pid(const pid_t *pids, size_t n, long pid) {
  for (size_t i = 0; i < n; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

int top_parse_ps(const char *output, const pid_t *pids, size_t n_pids, struct top_table *out, berth_error **err) {
  *out = (struct top_table){0};
  const char *eol = strchr(output, '\n');
  size_t hlen = eol != NULL ? (size_t)(eol - output) : strlen(output);
  out->titles = fields(output, hlen, &out->n_titles);
  size_t pid_col = out->n_titles;
  for (size_t i = 0; i < out->n_titles; i++)
    if (strcmp(out->titles[i], "PID") == 0) {
      pid_col = i;
      break;
    }
  if (pid_col == out->n_titles) {
    top_table_clear(out);
    return berth_fail(err, 0, "Couldn't find PID field in ps output");
  }
  bool in_container = false; /* whether the last process row was kept */
  for (const char *line = eol != NULL ? eol + 1 : NULL; line != NULL && *line != '\0';) {
    eol = strchr(line, '\n');
    size_t len = eol != NULL ? (size_t)(eol - line) : strlen(line);
    size_t nf = 0;
    char **f = fields(line, len, &nf);
    line = eol != NULL ? eol + 1 : NULL;
    if (nf <= pid_col) {
      free_fields(f, nf);
      continue;
    }
    bool keep;
    if (strcmp(f[pid_col], "-") == 0) {
      keep = in_container;
    } else {
      char *end = NULL;
      long pid = strtol(f[pid_col], &end, 10);
      if (*end != '\0' || end == f[pid_col]) {
        berth_fail(err, 0, "Unexpected pid '%s': strconv.Atoi: parsing \"%s\": invalid syntax", f[pid_col], f[pid_col]);
        free_fields(f, nf);
        top_table_clear(out);
        return -1;
      }
      keep = in_container = has_pid(pids, n_pids, pid);
    }
    int r = keep ? add_row(out, f, nf) : 0;
    free_fields(f, nf);
    if (r < 0) {
      top_table_clear(out);
      return berth_fail(err, ENOMEM, "ps output");
    }
  }
  return 0;
}

/* Runs ps with argv; 0 with its output, 1 when it failed (*stderr_line
 * gets the first line of its errors), -1 when it could not be run. */
static int run_ps(char **argv, char **output, char **stderr_line, berth_error **err) {
  *output = *stderr_line = NULL;
  int out[2];
  cleanup_close int errfd = memfd_create("ps-stderr", MFD_CLOEXEC);
  if (errfd < 0 || pipe2(out, O_CLOEXEC) < 0)
    return berth_fail(err, errno, "ps");
  pid_t pid = fork();
  if (pid < 0) {
    close(out[0]);
    close(out[1]);
    return berth_fail(err, errno, "fork ps");
  }
  if (pid == 0) {
    if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(errfd, STDERR_FILENO) < 0)
      _exit(127);
    execvp("ps", argv);
    dprintf(STDERR_FILENO, "exec: \"ps\": %s\n", strerror(errno));
    _exit(127);
  }
  close(out[1]);
  size_t len = 0;
  berth_error *rerr = NULL;
  *output = fs_read_fd(out[0], &len, &rerr);
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (*output == NULL) {
    *err = rerr;
    return -1;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  char buf[512];
  ssize_t n = pread(errfd, buf, sizeof(buf) - 1, 0);
  buf[n > 0 ? n : 0] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  *stderr_line = strdup(buf);
  free(*output);
  *output = NULL;
  return 1;
}

int top_container(struct engine *e, const char *ref, char *const *ps_args, size_t n_args, struct top_table *out,
                  berth_error **err) {
  *out = (struct top_table){0};
  static char *const default_args[] = {"-ef"};
  if (n_args == 0) {
    ps_args = default_args;
    n_args = 1;
  }
  /* docker checks the options as one string, the CLI having joined them */
  size_t jlen = 1;
  for (size_t i = 0; i < n_args; i++)
    jlen += strlen(ps_args[i]) + 1;
  cleanup_free char *joined = calloc(1, jlen + 1);
  if (joined == NULL)
    return berth_fail(err, ENOMEM, "top");
  for (size_t i = 0; i < n_args; i++) {
    strcat(joined, " ");
    strcat(joined, ps_args[i]);
  }
  if (top_check_ps_args(joined, err) < 0)
    return -1;

  struct container c;
  if (containers_find(e, ref, &c, err) < 0)
    return -1;
  lifecycle_sync(e, &c);
  int ret = -1;
  cleanup_free pid_t *pids = NULL;
  cleanup_free char *qlist = NULL, *output = NULL, *why = NULL;
  char **argv = NULL;
  size_t n_pids = 0;
  if (c.status != CONTAINER_RUNNING && c.status != CONTAINER_PAUSED) {
    berth_fail(err, 0, "container %s is not running", c.id);
    goto out;
  }
  if (container_pids(&e->runtime, c.id, &pids, &n_pids, err) < 0)
    goto out;

  /* ps ARGS -q PID,PID,... then, if ps refuses that, ps ARGS */
  size_t qlen = 1 + 12 * n_pids;
  argv = calloc(n_args + 4, sizeof(*argv));
  qlist = calloc(1, qlen);
  if (argv == NULL || qlist == NULL) {
    berth_fail(err, ENOMEM, "top");
    goto out;
  }
  for (size_t i = 0, off = 0; i < n_pids; i++)
    off += (size_t)snprintf(qlist + off, qlen - off, "%s%d", i > 0 ? "," : "", (int)pids[i]);
  argv[0] = "ps";
  for (size_t i = 0; i < n_args; i++)
    argv[i + 1] = ps_args[i];
  argv[n_args + 1] = "-q";
  argv[n_args + 2] = qlist;
  int r = n_pids > 0 ? run_ps(argv, &output, &why, err) : 1;
  if (r == 1) {
    free(why);
    why = NULL;
    argv[n_args + 1] = NULL;
    r = run_ps(argv, &output, &why, err);
  }
  if (r == 1) {
    berth_fail(err, 0, "ps: %s", why != NULL && *why != '\0' ? why : "failed");
    goto out;
  }
  if (r == 0)
    ret = top_parse_ps(output, pids, n_pids, out, err);
out:
  free(argv);
  container_clear(&c);
  return ret;
}
