#include "image/config_change.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

/* ---- Dockerfile words ---- */

struct words {
  char **v;
  size_t n;
};

static void words_free(struct words *w) {
  for (size_t i = 0; i < w->n; i++)
    free(w->v[i]);
  free(w->v);
}

static int words_add(struct words *w, char *word) {
  char **grown = realloc(w->v, (w->n + 1) * sizeof(*w->v));
  if (grown == NULL) {
    free(word);
    return -1;
  }
  w->v = grown;
  w->v[w->n++] = word;
  return 0;
}

/* One word from *p: quotes group, backslashes escape (in double quotes
 * only before '"', '\\' and '$', as the shell), the quotes themselves go. */
static char *next_word(const char **p) {
  const char *s = *p;
  char *out = malloc(strlen(s) + 1);
  if (out == NULL)
    return NULL;
  size_t n = 0;
  char quote = 0;
  for (; *s != '\0'; s++) {
    if (quote == 0 && isspace((unsigned char)*s))
      break;
    if (quote == 0 && (*s == '"' || *s == '\'')) {
      quote = *s;
    } else if (quote != 0 && *s == quote) {
      quote = 0;
    } else if (*s == '\\' && quote != '\'' && s[1] != '\0' &&
               (quote == 0 || s[1] == '"' || s[1] == '\\' || s[1] == '$')) {
      out[n++] = *++s;
    } else {
      out[n++] = *s;
    }
  }
  out[n] = '\0';
  *p = s;
  return out;
}

static int split_words(const char *text, struct words *w) {
  *w = (struct words){0};
  for (const char *p = text;;) {
    while (isspace((unsigned char)*p))
      p++;
    if (*p == '\0')
      return 0;
    char *word = next_word(&p);
    if (word == NULL || words_add(w, word) < 0) {
      words_free(w);
      return -1;
    }
  }
}

/* A JSON array of strings ("exec form"), or NULL. */
static struct json_object *json_strings(const char *text) {
  struct json_object *v = json_tokener_parse(text);
  if (v == NULL || !json_object_is_type(v, json_type_array)) {
    json_object_put(v);
    return NULL;
  }
  for (size_t i = 0; i < json_object_array_length(v); i++)
    if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string)) {
      json_object_put(v);
      return NULL;
    }
  return v;
}

/* CMD/ENTRYPOINT: the exec form, or the shell form run by /bin/sh -c. */
static struct json_object *command_value(const char *text) {
  struct json_object *v = json_strings(text);
  if (v != NULL)
    return v;
  struct json_object *a = json_object_new_array();
  json_object_array_add(a, json_object_new_string("/bin/sh"));
  json_object_array_add(a, json_object_new_string("-c"));
  json_object_array_add(a, json_object_new_string(text));
  return a;
}

static struct json_object *member(struct json_object *cfg, const char *key, enum json_type type) {
  struct json_object *v = NULL;
  if (json_object_object_get_ex(cfg, key, &v) && json_object_is_type(v, type))
    return v;
  v = type == json_type_array ? json_object_new_array() : json_object_new_object();
  json_object_object_add(cfg, key, v);
  return v;
}

/* KEY=VALUE in Env: replaces the entry of the same KEY where it is, as a
 * Dockerfile ENV does, or joins the end. */
static void env_set(struct json_object *env, const char *key, size_t klen, const char *entry) {
  for (size_t i = 0; i < json_object_array_length(env); i++) {
    const char *e = json_object_get_string(json_object_array_get_idx(env, i));
    if (e != NULL && strncmp(e, key, klen) == 0 && (e[klen] == '=' || e[klen] == '\0')) {
      json_object_array_put_idx(env, i, json_object_new_string(entry));
      return;
    }
  }
  json_object_array_add(env, json_object_new_string(entry));
}

/* ENV and LABEL: "k=v k2=v2" or the old "k v w" (one pair, the rest of the
 * line its value). */
static int name_values(struct json_object *cfg, const char *instr, const char *args, berth_error **err) {
  bool env = strcmp(instr, "ENV") == 0;
  struct words w;
  if (split_words(args, &w) < 0)
    return berth_fail(err, ENOMEM, "%s", instr);
  int ret = 0;
  if (w.n == 0) {
    ret = berth_fail(err, 0, "%s requires at least one argument", instr);
  } else if (strchr(w.v[0], '=') == NULL) {
    const char *rest = args + strspn(args, " \t");
    rest += strcspn(rest, " \t");
    rest += strspn(rest, " \t");
    if (*rest == '\0') {
      ret = berth_fail(err, 0, "%s names can not be blank... must be of the form: %s name=value", instr, instr);
    } else {
      const char *p = rest;
      cleanup_free char *value = next_word(&p);
      /* the old form keeps the rest of the line as it is written */
      cleanup_free char *entry = NULL;
      if (value == NULL || asprintf(&entry, "%s=%s", w.v[0], *p == '\0' ? value : rest) < 0)
        ret = berth_fail(err, ENOMEM, "%s", instr);
      else if (env)
        env_set(member(cfg, "Env", json_type_array), w.v[0], strlen(w.v[0]), entry);
      else
        json_object_object_add(member(cfg, "Labels", json_type_object), w.v[0],
                               json_object_new_string(entry + strlen(w.v[0]) + 1));
    }
  } else {
    for (size_t i = 0; i < w.n && ret == 0; i++) {
      char *eq = strchr(w.v[i], '=');
      if (eq == NULL || eq == w.v[i]) {
        ret = berth_fail(err, 0, "Syntax error - can't find = in \"%s\". Must be of the form: name=value", w.v[i]);
        break;
      }
      if (env) {
        env_set(member(cfg, "Env", json_type_array), w.v[i], (size_t)(eq - w.v[i]), w.v[i]);
      } else {
        *eq = '\0';
        json_object_object_add(member(cfg, "Labels", json_type_object), w.v[i], json_object_new_string(eq + 1));
      }
    }
  }
  words_free(&w);
  return ret;
}

static int parse_port(const char *text, unsigned long *out) {
  char *end = NULL;
  errno = 0;
  unsigned long v = strtoul(text, &end, 10);
  if (errno != 0 || end == text || !isdigit((unsigned char)*text) || v == 0 || v > 65535)
    return -1;
  *out = v;
  return (int)(end - text);
}

/* "80", "80/udp", "8000-8002/tcp": each port of it, docker's "N/proto". */
static int expose(struct json_object *cfg, const char *spec, berth_error **err) {
  char proto[16] = "tcp";
  const char *slash = strchr(spec, '/');
  if (slash != NULL) {
    size_t n = strlen(slash + 1);
    if (n == 0 || n >= sizeof(proto))
      return berth_fail(err, 0, "invalid proto: %s", slash + 1);
    for (size_t i = 0; i <= n; i++)
      proto[i] = (char)tolower((unsigned char)slash[1 + i]);
    if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "sctp") != 0)
      return berth_fail(err, 0, "invalid proto: %s", slash + 1);
  }
  size_t len = slash != NULL ? (size_t)(slash - spec) : strlen(spec);
  unsigned long lo, hi;
  int used = parse_port(spec, &lo);
  if (used < 0)
    return berth_fail(err, 0, "invalid containerPort: %.*s", (int)len, spec);
  hi = lo;
  if ((size_t)used < len) {
    int more = spec[used] == '-' ? parse_port(spec + used + 1, &hi) : -1;
    if (more < 0 || (size_t)(used + 1 + more) != len || hi < lo)
      return berth_fail(err, 0, "invalid containerPort: %.*s", (int)len, spec);
  }
  struct json_object *ports = member(cfg, "ExposedPorts", json_type_object);
  for (unsigned long p = lo; p <= hi; p++) {
    char key[32];
    snprintf(key, sizeof(key), "%lu/%s", p, proto);
    json_object_object_add(ports, key, json_object_new_object());
  }
  return 0;
}

/* docker's signal.ParseSignal: a number, or a name with or without SIG. */
static bool valid_signal(const char *text) {
  char *end = NULL;
  long n = strtol(text, &end, 10);
  if (end != text && *end == '\0')
    return n > 0 && n < NSIG;
  const char *name = strncasecmp(text, "SIG", 3) == 0 ? text + 3 : text;
  for (int s = 1; s < SIGRTMIN; s++) {
    const char *abbrev = sigabbrev_np(s);
    if (abbrev != NULL && strcasecmp(abbrev, name) == 0)
      return true;
  }
  int base = strncasecmp(name, "RTMIN", 5) == 0 ? SIGRTMIN : strncasecmp(name, "RTMAX", 5) == 0 ? SIGRTMAX : 0;
  if (base == 0)
    return false;
  if (name[5] == '\0')
    return true;
  n = strtol(name + 5, &end, 10);
  return *end == '\0' && base + n >= SIGRTMIN && base + n <= SIGRTMAX &&
         ((base == SIGRTMIN && name[5] == '+') || (base == SIGRTMAX && name[5] == '-'));
}

/* WORKDIR: a relative path continues the current one; cleaned. */
static char *join_workdir(const char *current, const char *requested) {
  size_t cap = strlen(current) + strlen(requested) + 3;
  cleanup_free char *joined = malloc(cap);
  char *out = malloc(cap);
  if (joined == NULL || out == NULL) {
    free(out);
    return NULL;
  }
  snprintf(joined, cap, "%s/%s", requested[0] == '/' ? "" : current, requested);
  size_t n = 0;
  char *save = NULL;
  for (char *part = strtok_r(joined, "/", &save); part != NULL; part = strtok_r(NULL, "/", &save)) {
    if (strcmp(part, ".") == 0)
      continue;
    if (strcmp(part, "..") == 0) {
      while (n > 0 && out[n - 1] != '/')
        n--;
      if (n > 0)
        n--;
      continue;
    }
    out[n++] = '/';
    n += (size_t)sprintf(out + n, "%s", part);
  }
  if (n == 0)
    out[n++] = '/';
  out[n] = '\0';
  return out;
}

static const char *string_member(struct json_object *cfg, const char *key) {
  struct json_object *v = NULL;
  return json_object_object_get_ex(cfg, key, &v) && json_object_is_type(v, json_type_string)
             ? json_object_get_string(v)
             : NULL;
}

/* USER, WORKDIR, STOPSIGNAL: exactly one word. */
static char *one_word(const char *instr, const char *args, berth_error **err) {
  struct words w;
  if (split_words(args, &w) < 0) {
    berth_fail(err, ENOMEM, "%s", instr);
    return NULL;
  }
  char *word = NULL;
  if (w.n != 1)
    berth_fail(err, 0, "%s requires exactly one argument", instr);
  else
    word = TAKE_PTR(w.v[0]);
  words_free(&w);
  return word;
}

static int volumes(struct json_object *cfg, const char *args, berth_error **err) {
  struct json_object *list = json_strings(args);
  struct words w = {0};
  if (list == NULL && split_words(args, &w) < 0)
    return berth_fail(err, ENOMEM, "VOLUME");
  size_t n = list != NULL ? json_object_array_length(list) : w.n;
  int ret = n == 0 ? berth_fail(err, 0, "VOLUME requires at least one argument") : 0;
  struct json_object *vols = ret == 0 ? member(cfg, "Volumes", json_type_object) : NULL;
  for (size_t i = 0; i < n && ret == 0; i++) {
    const char *v = list != NULL ? json_object_get_string(json_object_array_get_idx(list, i)) : w.v[i];
    if (v[strspn(v, " \t")] == '\0')
      ret = berth_fail(err, 0, "VOLUME specified can not be an empty string");
    else
      json_object_object_add(vols, v, json_object_new_object());
  }
  json_object_put(list);
  words_free(&w);
  return ret;
}

int config_change_apply(struct json_object *cfg, const char *change, struct config_change_state *st,
                        berth_error **err) {
  const char *p = change + strspn(change, " \t\r\n");
  size_t klen = strcspn(p, " \t\r\n");
  char instr[16];
  if (klen == 0)
    return berth_fail(err, 0, "--change \"%s\": no Dockerfile instruction", change);
  if (klen >= sizeof(instr))
    return berth_fail(err, 0, "%.*s is not a valid change command", (int)klen, p);
  for (size_t i = 0; i < klen; i++)
    instr[i] = (char)toupper((unsigned char)p[i]);
  instr[klen] = '\0';
  const char *args = p + klen;
  args += strspn(args, " \t");
  size_t alen = strlen(args);
  while (alen > 0 && isspace((unsigned char)args[alen - 1]))
    alen--;
  cleanup_free char *a = strndup(args, alen);
  if (a == NULL)
    return berth_fail(err, ENOMEM, "--change");

  if (strcmp(instr, "CMD") == 0 || strcmp(instr, "ENTRYPOINT") == 0) {
    if (*a == '\0')
      return berth_fail(err, 0, "%s requires at least one argument", instr);
    bool cmd = instr[0] == 'C';
    json_object_object_add(cfg, cmd ? "Cmd" : "Entrypoint", command_value(a));
    if (cmd)
      st->cmd_set = true;
    else if (!st->cmd_set)
      json_object_object_add(cfg, "Cmd", NULL);
    return 0;
  }
  if (strcmp(instr, "ENV") == 0 || strcmp(instr, "LABEL") == 0)
    return name_values(cfg, instr, a, err);
  if (strcmp(instr, "EXPOSE") == 0) {
    struct words w;
    if (split_words(a, &w) < 0)
      return berth_fail(err, ENOMEM, "EXPOSE");
    int ret = w.n == 0 ? berth_fail(err, 0, "EXPOSE requires at least one argument") : 0;
    for (size_t i = 0; i < w.n && ret == 0; i++)
      ret = expose(cfg, w.v[i], err);
    words_free(&w);
    return ret;
  }
  if (strcmp(instr, "VOLUME") == 0)
    return volumes(cfg, a, err);
  if (strcmp(instr, "ONBUILD") == 0) {
    size_t tlen = strcspn(a, " \t");
    if (tlen == 0)
      return berth_fail(err, 0, "ONBUILD requires at least one argument");
    if (strncasecmp(a, "ONBUILD", tlen) == 0 && tlen == 7)
      return berth_fail(err, 0, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    if ((tlen == 4 && strncasecmp(a, "FROM", 4) == 0) || (tlen == 10 && strncasecmp(a, "MAINTAINER", 10) == 0))
      return berth_fail(err, 0, "%.*s isn't allowed as an ONBUILD trigger", (int)tlen, a);
    json_object_array_add(member(cfg, "OnBuild", json_type_array), json_object_new_string(a));
    return 0;
  }
  if (strcmp(instr, "USER") == 0 || strcmp(instr, "WORKDIR") == 0 || strcmp(instr, "STOPSIGNAL") == 0) {
    cleanup_free char *word = one_word(instr, a, err);
    if (word == NULL)
      return -1;
    if (instr[0] == 'U') {
      json_object_object_add(cfg, "User", json_object_new_string(word));
    } else if (instr[0] == 'S') {
      if (!valid_signal(word))
        return berth_fail(err, 0, "Invalid signal: %s", word);
      json_object_object_add(cfg, "StopSignal", json_object_new_string(word));
    } else {
      const char *current = string_member(cfg, "WorkingDir");
      cleanup_free char *dir = join_workdir(current != NULL && *current != '\0' ? current : "/", word);
      if (dir == NULL)
        return berth_fail(err, ENOMEM, "WORKDIR");
      json_object_object_add(cfg, "WorkingDir", json_object_new_string(dir));
    }
    return 0;
  }
  if (strcmp(instr, "HEALTHCHECK") == 0)
    return berth_fail(err, 0, "--change HEALTHCHECK is not supported by berth yet");
  for (size_t i = 0; i < klen; i++)
    instr[i] = (char)tolower((unsigned char)instr[i]);
  return berth_fail(err, 0, "%s is not a valid change command", instr);
}

int config_change_apply_all(struct json_object *cfg, const char *const *changes, berth_error **err) {
  struct config_change_state st = {0};
  for (size_t i = 0; changes != NULL && changes[i] != NULL; i++)
    if (config_change_apply(cfg, changes[i], &st, err) < 0)
      return -1;
  return 0;
}
