/* docker's --user (NAME|UID[:GROUP|GID]) resolved against the container's
 * own /etc/passwd and /etc/group, read inside its root file system (so a
 * symlinked /etc/passwd cannot point at the host's). */
#ifndef BERTH_ENGINE_USERS_H
#define BERTH_ENGINE_USERS_H

#include <json-c/json.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

struct resolved_user {
  uid_t uid;
  gid_t gid;
  gid_t *groups; /* supplementary groups from /etc/group, malloc'd */
  size_t n_groups;
  char *home; /* from passwd, or "/" */
};

/* spec NULL or "" is root. A name missing from passwd fails: "unable to
 * find user NAME: no matching entries in passwd file"; a numeric UID
 * without an entry is fine (gid 0 unless given). */
int users_resolve(int rootfd, const char *spec, struct resolved_user *out, berth_error **err);
/* docker's --group-add: each a GID or a group name from the container's
 * /etc/group, added to u's supplementary groups.  An unknown name: "unable
 * to find group NAME: no matching entries in group file". */
int users_add_groups(int rootfd, struct json_object *names, struct resolved_user *u, berth_error **err);
void users_clear(struct resolved_user *u);

#endif
