#include "engine/users.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/path.h"

static bool parse_id(const char *s, unsigned long *out) {
  if (*s == '\0')
    return false;
  for (const char *p = s; *p != '\0'; p++)
    if (!isdigit((unsigned char)*p))
      return false;
  errno = 0;
  *out = strtoul(s, NULL, 10);
  return errno == 0 && *out <= 0xfffffffeUL;
}

/* The file's text, or NULL (and no error) when the image has none. */
static char *read_in_root(int rootfd, const char *path) {
  berth_error *err = NULL;
  cleanup_close int fd = path_open_in_root(rootfd, path, O_RDONLY, &err);
  berth_error_free(err);
  if (fd < 0)
    return NULL;
  err = NULL;
  char *text = fs_read_fd(fd, NULL, &err);
  berth_error_free(err);
  return text;
}

/* Splits a colon-separated line in place into at most max fields. */
static size_t split_fields(char *line, char **fields, size_t max) {
  size_t n = 0;
  fields[n++] = line;
  for (char *p = line; *p != '\0' && n < max; p++)
    if (*p == ':') {
      *p = '\0';
      fields[n++] = p + 1;
    }
  return n;
}

/* Finds the passwd entry whose name (or, when numeric, uid) matches. */
static bool find_passwd(char *text, const char *user, bool numeric, unsigned long uid, struct resolved_user *out,
                        char **name) {
  char *lines = NULL;
  for (char *line = strtok_r(text, "\n", &lines); line != NULL; line = strtok_r(NULL, "\n", &lines)) {
    char *f[7];
    unsigned long u, g;
    if (split_fields(line, f, 7) < 7 || !parse_id(f[2], &u) || !parse_id(f[3], &g))
      continue;
    if (numeric ? u != uid : strcmp(f[0], user) != 0)
      continue;
    out->uid = (uid_t)u;
    out->gid = (gid_t)g;
    out->home = strdup(*f[5] != '\0' ? f[5] : "/");
    *name = f[0];
    return true;
  }
  return false;
}

static int add_group(struct resolved_user *out, gid_t gid) {
  for (size_t i = 0; i < out->n_groups; i++)
    if (out->groups[i] == gid)
      return 0;
  gid_t *grown = realloc(out->groups, (out->n_groups + 1) * sizeof(gid_t));
  if (grown == NULL)
    return -1;
  out->groups = grown;
  out->groups[out->n_groups++] = gid;
  return 0;
}

/* Resolves an explicit group (name or gid) and collects the user's
 * supplementary groups (those listing name as a member). */
static int scan_groups(char *text, const char *group, const char *name, struct resolved_user *out,
                       bool *group_found) {
  char *lines = NULL;
  for (char *line = strtok_r(text, "\n", &lines); line != NULL; line = strtok_r(NULL, "\n", &lines)) {
    char *f[4];
    unsigned long g;
    if (split_fields(line, f, 4) < 4 || !parse_id(f[2], &g))
      continue;
    if (group != NULL && strcmp(f[0], group) == 0) {
      out->gid = (gid_t)g;
      *group_found = true;
    }
    if (name == NULL)
      continue;
    char *save = NULL;
    for (char *member = strtok_r(f[3], ",", &save); member != NULL; member = strtok_r(NULL, ",", &save))
      if (strcmp(member, name) == 0 && add_group(out, (gid_t)g) < 0)
        return -1;
  }
  return 0;
}

int users_resolve(int rootfd, const char *spec, struct resolved_user *out, berth_error **err) {
  memset(out, 0, sizeof(*out));
  cleanup_free char *copy = strdup(spec != NULL && *spec != '\0' ? spec : "0");
  if (copy == NULL)
    return berth_fail(err, ENOMEM, "user");
  char *group = strchr(copy, ':');
  if (group != NULL)
    *group++ = '\0';
  unsigned long uid = 0, gid = 0;
  bool numeric = parse_id(copy, &uid);
  cleanup_free char *passwd = read_in_root(rootfd, "/etc/passwd");
  char *name = NULL;
  if (passwd == NULL || !find_passwd(passwd, copy, numeric, uid, out, &name)) {
    if (!numeric)
      return berth_fail(err, 0, "unable to find user %s: no matching entries in passwd file", copy);
    out->uid = (uid_t)uid;
    out->gid = 0;
  }
  if (out->home == NULL && (out->home = strdup("/")) == NULL)
    return berth_fail(err, ENOMEM, "user");
  bool explicit_gid = group != NULL && parse_id(group, &gid);
  if (explicit_gid)
    out->gid = (gid_t)gid;
  cleanup_free char *groups = read_in_root(rootfd, "/etc/group");
  bool group_found = explicit_gid;
  /* supplementary groups only come with a named user and no explicit group */
  const char *member = group == NULL ? name : NULL;
  if (groups != NULL && scan_groups(groups, explicit_gid ? NULL : group, member, out, &group_found) < 0) {
    users_clear(out);
    return berth_fail(err, ENOMEM, "user groups");
  }
  if (group != NULL && !group_found) {
    users_clear(out);
    return berth_fail(err, 0, "unable to find group %s: no matching entries in group file", group);
  }
  return 0;
}

int users_add_groups(int rootfd, struct json_object *names, struct resolved_user *u, berth_error **err) {
  size_t n = names != NULL && json_object_is_type(names, json_type_array) ? json_object_array_length(names) : 0;
  if (n == 0)
    return 0;
  cleanup_free char *groups = read_in_root(rootfd, "/etc/group");
  for (size_t i = 0; i < n; i++) {
    const char *want = json_object_get_string(json_object_array_get_idx(names, i));
    unsigned long gid;
    bool found = parse_id(want, &gid);
    cleanup_free char *text = !found && groups != NULL ? strdup(groups) : NULL;
    char *lines = NULL;
    for (char *line = text != NULL ? strtok_r(text, "\n", &lines) : NULL; line != NULL && !found;
         line = strtok_r(NULL, "\n", &lines)) {
      char *f[4];
      found = split_fields(line, f, 4) >= 3 && strcmp(f[0], want) == 0 && parse_id(f[2], &gid);
    }
    if (!found)
      return berth_fail(err, 0, "unable to find group %s: no matching entries in group file", want);
    if (add_group(u, (gid_t)gid) < 0)
      return berth_fail(err, ENOMEM, "user groups");
  }
  return 0;
}

void users_clear(struct resolved_user *u) {
  free(u->groups);
  free(u->home);
  memset(u, 0, sizeof(*u));
}
