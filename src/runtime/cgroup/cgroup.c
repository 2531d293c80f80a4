/* The cgroup manager: finds the hierarchies, resolves the container's path in
 * each, and hands the work to the back ends (v1.c, v2.c).
 *
 * The mode and the hierarchies come from /proc/self/mountinfo (the super
 * options name a v1 mount's controllers, the root field says which part of
 * the hierarchy is visible) and /proc/self/cgroup (the caller's cgroup in
 * each hierarchy).  Paths follow runc: absolute from each hierarchy's top,
 * relative below the caller's own cgroup, none as "<own>/<id>".  Where a
 * mount shows only part of a hierarchy (mountinfo root "/docker/x"), the
 * caller's cgroup and an absolute path under that root are taken relative
 * to it; other absolute paths start at the visible top.
 *
 * A systemd-style path "slice:prefix:name" is taken as the cgroupfs path
 * "/slice/prefix-name.scope" (no systemd is asked; the slice name is not
 * expanded into its parents as systemd would). */
#include "runtime/cgroup/cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cgroup/internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/sys.h"

#define DEFAULT_SYSFS "/sys/fs/cgroup"
/* How long destroy waits for a cgroup to empty after its last process died. */
#define RMDIR_BUDGET_MS 1000

static char *test_sysfs, *test_mountinfo, *test_self_cgroup;
static bool mode_cached;
static enum cgroup_mode cached_mode;

void cgroup_set_roots_for_test(const char *sysfs_root, const char *mountinfo_path,
                               const char *self_cgroup_path) {
  free(test_sysfs);
  free(test_mountinfo);
  free(test_self_cgroup);
  test_sysfs = sysfs_root != NULL ? strdup(sysfs_root) : NULL;
  test_mountinfo = mountinfo_path != NULL ? strdup(mountinfo_path) : NULL;
  test_self_cgroup = self_cgroup_path != NULL ? strdup(self_cgroup_path) : NULL;
  mode_cached = false;
}

/* ---- small helpers shared with the back ends --------------------------- */

int cg_try_write(const char *dir, const char *file, const char *value) {
  cleanup_free char *path = NULL;
  if (asprintf(&path, "%s/%s", dir, file) < 0)
    return -ENOMEM;
  if (berth_sys->write_file(path, value, strlen(value)) < 0)
    return errno != 0 ? -errno : -EIO;
  return 0;
}

int cg_write(const char *dir, const char *file, const char *value, berth_error **err) {
  int r = cg_try_write(dir, file, value);
  if (r < 0)
    return berth_fail(err, -r, "write \"%s/%s\" = \"%s\"", dir, file, value);
  return 0;
}

int cg_writef(const char *dir, const char *file, berth_error **err, const char *fmt, ...) {
  cleanup_free char *value = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&value, fmt, ap);
  va_end(ap);
  if (r < 0)
    return berth_fail(err, ENOMEM, "write \"%s/%s\"", dir, file);
  return cg_write(dir, file, value, err);
}

char *cg_read(const char *dir, const char *file, berth_error **err) {
  cleanup_free char *path = NULL;
  if (asprintf(&path, "%s/%s", dir, file) < 0) {
    berth_fail(err, ENOMEM, "read \"%s/%s\"", dir, file);
    return NULL;
  }
  /* cgroup files report no size: grow until a read leaves room to spare. */
  for (size_t size = 4096; size <= (64u << 20); size *= 4) {
    char *buf = malloc(size);
    if (buf == NULL)
      break;
    ssize_t n = berth_sys->read_file(path, buf, size);
    if (n < 0) {
      int e = errno;
      free(buf);
      berth_fail(err, e, "read \"%s\"", path);
      return NULL;
    }
    if ((size_t)n < size - 1) {
      while (n > 0 && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
      return buf;
    }
    free(buf);
  }
  berth_fail(err, ENOMEM, "read \"%s\"", path);
  return NULL;
}

int cg_read_key(const char *dir, const char *file, const char *key, unsigned long long *value,
                berth_error **err) {
  cleanup_free char *text = cg_read(dir, file, err);
  if (text == NULL)
    return -1;
  size_t klen = strlen(key);
  for (const char *line = text; line != NULL;) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
      char *end = NULL;
      *value = strtoull(line + klen + 1, &end, 10);
      if (end > line + klen + 1)
        return 0;
      break;
    }
    line = strchr(line, '\n');
    line = line != NULL ? line + 1 : NULL;
  }
  return berth_fail(err, 0, "\"%s/%s\" has no \"%s <number>\" line", dir, file, key);
}

bool cg_exists(const char *dir, const char *file) {
  cleanup_free char *path = NULL;
  if (asprintf(&path, "%s/%s", dir, file) < 0)
    return false;
  return berth_sys->access(path, F_OK) == 0;
}

bool cg_list_has(const char *list, const char *word) {
  size_t wlen = strlen(word);
  for (const char *p = list; *p != '\0';) {
    size_t n = strcspn(p, ", \t\n");
    if (n == wlen && strncmp(p, word, n) == 0)
      return true;
    p += n;
    if (*p != '\0')
      p++;
  }
  return false;
}

void cg_fmt_i64(char *buf, size_t size, int64_t value, const char *unlimited) {
  if (value < 0)
    snprintf(buf, size, "%s", unlimited);
  else
    snprintf(buf, size, "%" PRId64, value);
}

static void sleep_ms(unsigned ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int cg_poll(int (*check)(void *ctx, berth_error **err), void *ctx, unsigned timeout_ms,
            berth_error **err) {
  uint64_t deadline = now_ms() + timeout_ms;
  unsigned pause = 1;
  for (;;) {
    int r = check(ctx, err);
    if (r != 0)
      return r < 0 ? -1 : 1;
    if (now_ms() >= deadline)
      return 0;
    sleep_ms(pause);
    if (pause < 20)
      pause *= 2;
  }
}

int cg_hugetlb_name(const char *page_size, char *buf, size_t size, berth_error **err) {
  char *end = NULL;
  errno = 0;
  unsigned long long n = strtoull(page_size, &end, 10);
  if (errno != 0 || end == page_size || n == 0)
    return berth_fail(err, 0, "hugepage size \"%s\": not a size like \"2MB\"", page_size);
  unsigned long long unit;
  switch (toupper((unsigned char)*end)) {
  case 'K': unit = 1ull << 10; break;
  case 'M': unit = 1ull << 20; break;
  case 'G': unit = 1ull << 30; break;
  default: return berth_fail(err, 0, "hugepage size \"%s\": not a size like \"2MB\"", page_size);
  }
  end++;
  if (*end == 'i')
    end++;
  if (*end == 'B' || *end == 'b')
    end++;
  if (*end != '\0' || n > (UINT64_MAX >> 30))
    return berth_fail(err, 0, "hugepage size \"%s\": not a size like \"2MB\"", page_size);
  unsigned long long bytes = n * unit;
  /* The kernel names the files after the size in its largest whole unit. */
  if (bytes >= (1ull << 30))
    snprintf(buf, size, "%lluGB", bytes >> 30);
  else if (bytes >= (1ull << 20))
    snprintf(buf, size, "%lluMB", bytes >> 20);
  else
    snprintf(buf, size, "%lluKB", bytes >> 10);
  return 0;
}

/* ---- paths ------------------------------------------------------------- */

/* The part of path below prefix ("/" when equal), or NULL when it is not
 * below it; compares whole components. */
static const char *path_below(const char *path, const char *prefix) {
  size_t n = strlen(prefix);
  while (n > 0 && prefix[n - 1] == '/')
    n--;
  if (n == 0)
    return path;
  if (strncmp(path, prefix, n) != 0)
    return NULL;
  if (path[n] == '\0')
    return "/";
  return path[n] == '/' ? path + n : NULL;
}

/* "/a/b" from any spelling ("a//b/./"); "/" when empty; ".." refused, since
 * it could climb out of the hierarchy or out of the caller's cgroup. */
static int clean_path(const char *in, char **out, berth_error **err) {
  char *res = malloc(strlen(in) + 2);
  if (res == NULL)
    return berth_fail(err, ENOMEM, "cgroup path \"%s\"", in);
  size_t used = 0;
  for (const char *p = in; *p != '\0';) {
    while (*p == '/')
      p++;
    if (*p == '\0')
      break;
    const char *e = strchrnul(p, '/');
    size_t len = (size_t)(e - p);
    if (len == 2 && p[0] == '.' && p[1] == '.') {
      free(res);
      return berth_fail(err, 0, "cgroup path \"%s\": \"..\" components are not allowed", in);
    }
    if (!(len == 1 && p[0] == '.')) {
      res[used++] = '/';
      memcpy(res + used, p, len);
      used += len;
    }
    p = e;
  }
  if (used == 0)
    res[used++] = '/';
  res[used] = '\0';
  *out = res;
  return 0;
}

static char *join_rel(const char *a, const char *b) {
  char *out = NULL;
  if (strcmp(b, "/") == 0)
    return strdup(a);
  if (asprintf(&out, "%s%s", strcmp(a, "/") == 0 ? "" : a, b) < 0)
    return NULL;
  return out;
}

/* "slice:prefix:name" -> "/slice/prefix-name.scope" (see the top comment). */
static int systemd_path(const char *in, char **out, berth_error **err) {
  const char *c1 = strchr(in, ':');
  const char *c2 = strchr(c1 + 1, ':');
  const char *name = c2 + 1;
  if (*name == '\0')
    return berth_fail(err, 0, "cgroup path \"%s\": systemd form \"slice:prefix:name\" needs a name", in);
  /* systemd puts units without a slice into system.slice. */
  const char *slice = c1 > in ? in : "system.slice";
  int slice_len = c1 > in ? (int)(c1 - in) : (int)strlen(slice);
  int prefix_len = (int)(c2 - c1 - 1);
  int r;
  if (prefix_len == 0)
    r = asprintf(out, "/%.*s/%s.scope", slice_len, slice, name);
  else
    r = asprintf(out, "/%.*s/%.*s-%s.scope", slice_len, slice, prefix_len, c1 + 1, name);
  if (r < 0)
    return berth_fail(err, ENOMEM, "cgroup path \"%s\"", in);
  return 0;
}

static bool is_systemd_form(const char *p) {
  if (p[0] == '/' || strchr(p, '/') != NULL)
    return false;
  int colons = 0;
  for (; *p != '\0'; p++)
    colons += *p == ':';
  return colons == 2;
}

/* ---- discovery --------------------------------------------------------- */

/* mountinfo escapes blanks and backslashes as \ooo. */
static void unescape_octal(char *s) {
  char *w = s;
  for (char *r = s; *r != '\0'; r++) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
        r[3] <= '7') {
      *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
      r += 3;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
}

struct mnt {
  const char *root, *point, *fstype, *opts;
};

/* Keeps the cgroup and cgroup2 mounts; the strings point into text. */
static size_t parse_mountinfo(char *text, struct mnt *out, size_t max) {
  size_t n = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
    char *f[64];
    size_t nf = 0;
    char *fsave = NULL;
    for (char *t = strtok_r(line, " ", &fsave); t != NULL && nf < ARRAY_SIZE(f);
         t = strtok_r(NULL, " ", &fsave))
      f[nf++] = t;
    size_t sep = 6;
    while (sep < nf && strcmp(f[sep], "-") != 0)
      sep++;
    if (sep + 3 >= nf)
      continue;
    const char *fstype = f[sep + 1];
    if (strcmp(fstype, "cgroup") != 0 && strcmp(fstype, "cgroup2") != 0)
      continue;
    if (n == max)
      break;
    unescape_octal(f[3]);
    unescape_octal(f[4]);
    out[n++] = (struct mnt){.root = f[3], .point = f[4], .fstype = fstype, .opts = f[sep + 3]};
  }
  return n;
}

/* Mounts under /sys/fs/cgroup win over other mounts of the same hierarchy
 * (bind mounts elsewhere, a container's view). */
static int mount_rank(const struct mnt *m) {
  if (strcmp(m->point, DEFAULT_SYSFS) == 0)
    return 2;
  return path_below(m->point, DEFAULT_SYSFS) != NULL ? 1 : 0;
}

static char *map_mount_point(const char *point) {
  const char *rest = path_below(point, DEFAULT_SYSFS);
  if (test_sysfs == NULL || rest == NULL)
    return strdup(point);
  return join_rel(test_sysfs, rest);
}

static bool opts_have_all(const char *opts, const char *controllers) {
  cleanup_free char *copy = strdup(controllers);
  if (copy == NULL)
    return false;
  char *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
    if (!cg_list_has(opts, t))
      return false;
  return true;
}

/* Where the container's cgroup goes: target is cleaned; absolute ones are
 * taken from each hierarchy's top, relative ones below the caller's cgroup. */
struct target {
  const char *given, *path;
  bool absolute;
};

static int add_hier(struct cgroup *cg, int version, const char *controllers, const struct mnt *m,
                    const char *own_path, const struct target *t, berth_error **err) {
  struct cg_hier *h = &cg->hier[cg->n_hier++];
  h->version = version;
  h->controllers = strdup(controllers);
  h->mount = map_mount_point(m->point);
  if (t->absolute) {
    /* A path naming the visible part's own place in the hierarchy is taken
     * relative to it; any other from the visible top. */
    const char *below = path_below(t->path, m->root);
    h->rel = strdup(below != NULL ? below : t->path);
  } else {
    /* A caller outside the visible part (a cgroup namespace's "/.."):
     * start from the visible top. */
    const char *own = path_below(own_path, m->root);
    h->rel = join_rel(own != NULL ? own : "/", t->path);
  }
  if (h->controllers == NULL || h->mount == NULL || h->rel == NULL ||
      asprintf(&h->path, "%s%s", h->mount, h->rel) < 0) {
    h->path = NULL;
    return berth_fail(err, ENOMEM, "cgroup");
  }
  if (strcmp(h->rel, "/") == 0)
    return berth_fail(err, 0, "cgroup path \"%s\" is the root of the %s hierarchy", t->given,
                      version == 2 ? "cgroup2" : controllers);
  return 0;
}

/* Finds the mode and, when cg is not NULL, fills in its hierarchies with
 * the container's place in each. */
static int discover(struct cgroup *cg, const struct target *t, enum cgroup_mode *mode, berth_error **err) {
  const char *mi_path = test_mountinfo != NULL ? test_mountinfo : "/proc/self/mountinfo";
  const char *sc_path = test_self_cgroup != NULL ? test_self_cgroup : "/proc/self/cgroup";
  cleanup_free char *mi = fs_read_file_at(AT_FDCWD, mi_path, NULL, err);
  if (mi == NULL)
    return -1;
  cleanup_free char *sc = fs_read_file_at(AT_FDCWD, sc_path, NULL, err);
  if (sc == NULL)
    return -1;
  struct mnt mounts[128];
  size_t n_mounts = parse_mountinfo(mi, mounts, ARRAY_SIZE(mounts));

  /* Lines of /proc/self/cgroup: "id:controllers:path". */
  struct {
    const char *controllers, *path;
  } lines[64];
  size_t n_lines = 0;
  char *save = NULL;
  for (char *l = strtok_r(sc, "\n", &save); l != NULL && n_lines < ARRAY_SIZE(lines);
       l = strtok_r(NULL, "\n", &save)) {
    char *c1 = strchr(l, ':');
    char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL)
      continue;
    *c1 = *c2 = '\0';
    lines[n_lines].controllers = c1 + 1;
    lines[n_lines++].path = c2 + 1;
  }

  const struct mnt *v2 = NULL;
  const char *v2_own = "/";
  for (size_t i = 0; i < n_mounts; i++)
    if (strcmp(mounts[i].fstype, "cgroup2") == 0 && (v2 == NULL || mount_rank(&mounts[i]) > mount_rank(v2)))
      v2 = &mounts[i];
  for (size_t i = 0; i < n_lines; i++)
    if (lines[i].controllers[0] == '\0')
      v2_own = lines[i].path;
  if (cg != NULL && (cg->hier = calloc(n_lines + 1, sizeof(*cg->hier))) == NULL)
    return berth_fail(err, ENOMEM, "cgroup");

  if (v2 != NULL && mount_rank(v2) == 2) {
    *mode = CGROUP_MODE_V2;
    return cg != NULL ? add_hier(cg, 2, "", v2, v2_own, t, err) : 0;
  }
  size_t found = 0;
  for (size_t i = 0; i < n_lines; i++) {
    if (lines[i].controllers[0] == '\0')
      continue;
    const struct mnt *best = NULL;
    for (size_t j = 0; j < n_mounts; j++)
      if (strcmp(mounts[j].fstype, "cgroup") == 0 && opts_have_all(mounts[j].opts, lines[i].controllers) &&
          (best == NULL || mount_rank(&mounts[j]) > mount_rank(best)))
        best = &mounts[j];
    if (best == NULL)
      continue;
    found++;
    if (cg != NULL && add_hier(cg, 1, lines[i].controllers, best, lines[i].path, t, err) < 0)
      return -1;
  }
  if (found == 0 && v2 == NULL)
    return berth_fail(err, 0, "no cgroup file system is mounted (read \"%s\")", mi_path);
  *mode = found == 0 ? CGROUP_MODE_V2 : v2 != NULL ? CGROUP_MODE_HYBRID : CGROUP_MODE_V1;
  return cg != NULL && v2 != NULL ? add_hier(cg, 2, "", v2, v2_own, t, err) : 0;
}

int cgroup_detect_mode(enum cgroup_mode *mode, berth_error **err) {
  if (!mode_cached && discover(NULL, NULL, &cached_mode, err) < 0)
    return -1;
  mode_cached = true;
  *mode = cached_mode;
  return 0;
}

/* The one place that knows what each mode is made of. */
static const struct {
  const struct cgroup_ops *parts[2];
  size_t n_parts;
  bool v2_enable_all;
} layouts[] = {
    [CGROUP_MODE_V1] = {{&cgroup_v1_ops}, 1, false},
    [CGROUP_MODE_V2] = {{&cgroup_v2_ops}, 1, true},
    [CGROUP_MODE_HYBRID] = {{&cgroup_v1_ops, &cgroup_v2_ops}, 2, false},
};

static void compose(struct cgroup *cg) {
  cg->parts[0] = layouts[cg->mode].parts[0];
  cg->parts[1] = layouts[cg->mode].parts[1];
  cg->n_parts = layouts[cg->mode].n_parts;
  cg->v2_enable_all = layouts[cg->mode].v2_enable_all;
}

void cgroup_free(struct cgroup *cg) {
  if (cg == NULL)
    return;
  for (size_t i = 0; i < cg->n_hier; i++) {
    free(cg->hier[i].controllers);
    free(cg->hier[i].mount);
    free(cg->hier[i].rel);
    free(cg->hier[i].path);
  }
  free(cg->hier);
  free(cg);
}

static void cgroup_freep(struct cgroup **cg) {
  cgroup_free(*cg);
}
#define cleanup_cgroup __attribute__((cleanup(cgroup_freep)))

static bool valid_id(const char *id) {
  return id != NULL && id[0] != '\0' && strchr(id, '/') == NULL && strcmp(id, ".") != 0 &&
         strcmp(id, "..") != 0;
}

struct cgroup *cgroup_new(const char *cgroups_path, const char *id, berth_error **err) {
  cleanup_free char *clean = NULL, *converted = NULL;
  struct target t = {.given = cgroups_path != NULL ? cgroups_path : ""};
  const char *p = cgroups_path;
  if (cgroups_path == NULL || cgroups_path[0] == '\0') {
    if (!valid_id(id)) {
      berth_fail(err, 0, "container id \"%s\" cannot name a cgroup", id != NULL ? id : "");
      return NULL;
    }
    p = id;
  } else if (is_systemd_form(p)) {
    if (systemd_path(p, &converted, err) < 0)
      return NULL;
    p = converted;
  }
  t.absolute = p[0] == '/';
  if (clean_path(p, &clean, err) < 0)
    return NULL;
  t.path = clean;

  cleanup_cgroup struct cgroup *cg = calloc(1, sizeof(*cg));
  if (cg == NULL) {
    berth_fail(err, ENOMEM, "cgroup");
    return NULL;
  }
  if (discover(cg, &t, &cg->mode, err) < 0)
    return NULL;
  if (!mode_cached) {
    cached_mode = cg->mode;
    mode_cached = true;
  }
  compose(cg);
  return TAKE_PTR(cg);
}

/* ---- operations ------------------------------------------------------- */

/* Calls fn on each directory inside dir (the cgroups below it). */
static int each_child(const char *dir, int (*fn)(const char *child, void *ctx, berth_error **err),
                      void *ctx, berth_error **err) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return 0;
  int r = 0;
  struct dirent *de;
  while (r == 0 && (de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    cleanup_free char *child = NULL;
    if (asprintf(&child, "%s/%s", dir, de->d_name) < 0)
      r = berth_fail(err, ENOMEM, "\"%s\"", dir);
    else
      r = fn(child, ctx, err);
  }
  closedir(d);
  return r;
}

/* Removes one directory, and the cgroups the container made inside it
 * first; waits (within *budget_ms) while the kernel still reports it busy. */
static int remove_tree(const char *path, void *budget, berth_error **err) {
  unsigned *budget_ms = budget;
  /* Most containers make no cgroups of their own: try the plain rmdir
   * before reading the directory. */
  if (berth_sys->rmdir(path) == 0 || errno == ENOENT)
    return 0;
  if (each_child(path, remove_tree, budget, err) < 0)
    return -1;
  for (;;) {
    if (berth_sys->rmdir(path) == 0 || errno == ENOENT)
      return 0;
    int e = errno;
    if (e != EBUSY || *budget_ms == 0)
      return berth_fail(err, e, "rmdir \"%s\"", path);
    sleep_ms(10);
    *budget_ms = *budget_ms > 10 ? *budget_ms - 10 : 0;
  }
}

static int remove_made(struct cg_hier *h, unsigned *budget_ms, berth_error **err) {
  if (h->made == 0)
    return 0;
  if (remove_tree(h->path, budget_ms, err) < 0)
    return -1;
  /* Parents this container made may hold another container's cgroup by
   * now: leave them then, they are not ours alone any more. */
  cleanup_free char *dir = strdup(h->path);
  if (dir == NULL)
    return berth_fail(err, ENOMEM, "rmdir \"%s\"", h->path);
  for (unsigned i = 1; i < h->made; i++) {
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
      break;
    *slash = '\0';
    if (berth_sys->rmdir(dir) < 0 && errno != ENOENT) {
      berth_debug("cgroup: leaving \"%s\": %s", dir, strerror(errno));
      break;
    }
  }
  h->made = 0;
  return 0;
}

/* Removes the deepest `made` levels of dir, deepest first. */
static void unmake(char *dir, unsigned made) {
  for (unsigned i = 0; i < made; i++) {
    if (berth_sys->rmdir(dir) < 0 && errno != ENOENT)
      berth_debug("cgroup: cleaning up \"%s\": %s", dir, strerror(errno));
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
      break;
    *slash = '\0';
  }
}

int cg_make_dirs(struct cg_hier *h, int (*made_hook)(const char *dir, void *ctx, berth_error **err),
                 void *ctx, berth_error **err) {
  cleanup_free char *dir = strdup(h->path);
  if (dir == NULL)
    return berth_fail(err, ENOMEM, "mkdir \"%s\"", h->path);
  for (char *p = dir + strlen(h->mount) + 1;; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    char saved = *p;
    *p = '\0';
    if (berth_sys->mkdir(dir, 0755) == 0) {
      h->made++;
      if (made_hook != NULL && made_hook(dir, ctx, err) < 0)
        goto fail;
    } else if (errno != EEXIST) {
      berth_fail(err, errno, "mkdir \"%s\"", dir);
      *strrchr(dir, '/') = '\0';
      goto fail;
    } else if (h->made > 0) {
      /* Someone raced us below a level we made: it is in our tree all the same. */
      h->made++;
    }
    *p = saved;
    if (saved == '\0')
      return 0;
  }
fail:
  /* The levels made so far end here, not at the leaf, where cgroup_destroy
   * would look for them: remove them now. */
  unmake(dir, h->made);
  h->made = 0;
  return -1;
}

static void undo_create(struct cgroup *cg) {
  unsigned budget = RMDIR_BUDGET_MS;
  for (size_t i = 0; i < cg->n_hier; i++) {
    cleanup_error berth_error *e = NULL;
    if (remove_made(&cg->hier[i], &budget, &e) < 0)
      berth_debug("cgroup: cleaning up: %s", e->msg);
  }
}

static unsigned resource_features(const struct spec_resources *r);

/* In hybrid mode the cgroup2 part is made only when a resource needs it
 * (hugetlb, unified): joining a cgroup2 hierarchy moves the whole thread
 * group, which costs an RCU grace period (see cgroup_enter_self). */
static bool part_needed(struct cgroup *cg, size_t part, const struct spec_resources *resources) {
  if (cg->mode != CGROUP_MODE_HYBRID || part == 0)
    return true;
  unsigned left = resources != NULL ? resource_features(resources) : 0;
  left &= ~cg->parts[0]->features(cg);
  return (cg->parts[part]->features(cg) & left) != 0;
}

int cgroup_create(struct cgroup *cg, const struct spec_resources *resources, berth_error **err) {
  for (size_t i = 0; i < cg->n_parts; i++) {
    if (!part_needed(cg, i, resources))
      continue;
    if (cg->parts[i]->create(cg, err) < 0) {
      undo_create(cg);
      return -1;
    }
  }
  if (resources != NULL && cgroup_apply(cg, resources, err) < 0) {
    undo_create(cg);
    return -1;
  }
  return 0;
}

/* A hybrid host's cgroup2 directory that create did not make (no resource
 * needed it) is not joined. */
static bool skip_hier(const struct cgroup *cg, const struct cg_hier *h) {
  return cg->mode == CGROUP_MODE_HYBRID && h->version == 2 && berth_sys->access(h->path, F_OK) < 0;
}

int cgroup_enter(struct cgroup *cg, pid_t pid, berth_error **err) {
  for (size_t i = 0; i < cg->n_hier; i++)
    if (!skip_hier(cg, &cg->hier[i]) && cg_writef(cg->hier[i].path, "cgroup.procs", err, "%d", (int)pid) < 0)
      return -1;
  return 0;
}

int cgroup_enter_self(struct cgroup *cg, berth_error **err) {
  for (size_t i = 0; i < cg->n_hier; i++) {
    const struct cg_hier *h = &cg->hier[i];
    if (skip_hier(cg, h))
      continue;
    /* "0" in a v1 tasks file moves only the calling thread, which the
     * kernel does without taking cgroup_threadgroup_rwsem for writing: the
     * first writer of that lock waits a full RCU grace period (10-20 ms). */
    if (cg_write(h->path, h->version == 1 ? "tasks" : "cgroup.procs", "0", err) < 0)
      return -1;
  }
  return 0;
}

static const struct {
  unsigned bit;
  const char *what;
} feature_names[] = {
    {CG_F_MEMORY, "memory limits need the memory controller"},
    {CG_F_CPU, "cpu shares/quota need the cpu controller"},
    {CG_F_CPU_RT, "cpu realtime runtime/period need the cgroup v1 cpu controller"},
    {CG_F_CPUSET, "cpus/mems need the cpuset controller"},
    {CG_F_PIDS, "a pids limit needs the pids controller"},
    {CG_F_IO, "block io limits need the blkio (v1) or io (v2) controller"},
    {CG_F_HUGETLB, "hugepage limits need the hugetlb controller"},
    {CG_F_DEVICES, "device rules need the devices controller"},
    {CG_F_NET_CLS, "network classID needs the cgroup v1 net_cls controller"},
    {CG_F_NET_PRIO, "network priorities need the cgroup v1 net_prio controller"},
    {CG_F_UNIFIED, "unified resources need cgroup v2"},
};

static unsigned resource_features(const struct spec_resources *r) {
  unsigned f = 0;
  if (r->has_memory_limit || r->has_memory_reservation || r->has_memory_swap ||
      (r->has_memory_swappiness && r->memory_swappiness != UINT64_MAX) ||
      (r->has_disable_oom_killer && r->disable_oom_killer))
    f |= CG_F_MEMORY;
  if (r->has_cpu_shares || r->has_cpu_quota || r->has_cpu_period || r->has_cpu_burst || r->has_cpu_idle)
    f |= CG_F_CPU;
  if (r->has_cpu_rt_runtime || r->has_cpu_rt_period)
    f |= CG_F_CPU_RT;
  if ((r->cpu_cpus != NULL && r->cpu_cpus[0] != '\0') || (r->cpu_mems != NULL && r->cpu_mems[0] != '\0'))
    f |= CG_F_CPUSET;
  if (r->has_pids_limit)
    f |= CG_F_PIDS;
  bool io = r->has_blkio_weight || r->has_blkio_leaf_weight || r->n_blkio_weight_device > 0;
  for (size_t i = 0; i < 4; i++)
    io = io || r->n_blkio_throttle[i] > 0;
  if (io)
    f |= CG_F_IO;
  if (r->n_hugepage_limits > 0)
    f |= CG_F_HUGETLB;
  if (r->n_devices > 0)
    f |= CG_F_DEVICES;
  if (r->has_net_class_id)
    f |= CG_F_NET_CLS;
  if (r->n_net_priorities > 0)
    f |= CG_F_NET_PRIO;
  if (r->n_unified > 0)
    f |= CG_F_UNIFIED;
  return f;
}

/* Checks made before anything is written, so a bad update changes nothing. */
static int validate_resources(const struct spec_resources *r, berth_error **err) {
  for (size_t i = 0; i < r->n_unified; i++) {
    const char *k = r->unified[i].key;
    if (k == NULL || k[0] == '\0' || strchr(k, '/') != NULL || strstr(k, "..") != NULL)
      return berth_fail(err, 0, "unified resource key \"%s\": must be a file name without \"/\" or \"..\"",
                        k != NULL ? k : "");
    if (r->unified[i].value == NULL)
      return berth_fail(err, 0, "unified resource \"%s\" has no value", k);
  }
  if (r->has_memory_swappiness && r->memory_swappiness != UINT64_MAX && r->memory_swappiness > 100)
    return berth_fail(err, 0, "memory swappiness %" PRIu64 " is out of range 0..100", r->memory_swappiness);
  char name[32];
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    if (cg_hugetlb_name(r->hugepage_limits[i].page_size != NULL ? r->hugepage_limits[i].page_size : "",
                        name, sizeof(name), err) < 0)
      return -1;
  return 0;
}

int cgroup_apply(struct cgroup *cg, const struct spec_resources *resources, berth_error **err) {
  if (resources == NULL)
    return 0;
  if (validate_resources(resources, err) < 0)
    return -1;
  unsigned left = resource_features(resources);
  unsigned mask[2] = {0, 0};
  for (size_t i = 0; i < cg->n_parts; i++) {
    mask[i] = cg->parts[i]->features(cg) & left;
    left &= ~mask[i];
  }
  for (size_t i = 0; i < ARRAY_SIZE(feature_names); i++)
    if (left & feature_names[i].bit)
      return berth_fail(err, 0, "cgroup \"%s\": %s, which this host does not have", cg->hier[0].rel,
                        feature_names[i].what);
  for (size_t i = 0; i < cg->n_parts; i++)
    if (cg->parts[i]->apply(cg, resources, mask[i], err) < 0)
      return -1;
  return 0;
}

static const struct cgroup_ops *part_with(struct cgroup *cg, unsigned feature) {
  for (size_t i = 0; i < cg->n_parts; i++)
    if (cg->parts[i]->features(cg) & feature)
      return cg->parts[i];
  return NULL;
}

int cgroup_freeze(struct cgroup *cg, bool frozen, berth_error **err) {
  const struct cgroup_ops *ops = part_with(cg, CG_F_FREEZER);
  if (ops == NULL)
    return berth_fail(err, 0, "cgroup \"%s\": no freezer on this host", cg->hier[0].rel);
  return ops->freeze(cg, frozen, err);
}

int cgroup_is_frozen(struct cgroup *cg, bool *frozen, berth_error **err) {
  const struct cgroup_ops *ops = part_with(cg, CG_F_FREEZER);
  if (ops == NULL)
    return berth_fail(err, 0, "cgroup \"%s\": no freezer on this host", cg->hier[0].rel);
  return ops->is_frozen(cg, frozen, err);
}

struct pid_vec {
  pid_t *v;
  size_t n, cap;
};

static int append_pids(const char *dir, void *ctx, berth_error **err) {
  struct pid_vec *pv = ctx;
  cleanup_error berth_error *e = NULL;
  cleanup_free char *text = cg_read(dir, "cgroup.procs", &e);
  if (text == NULL) {
    /* A cgroup below may go away while we walk. */
    if (pv->cap > 0 && e->errnum == ENOENT)
      return 0;
    return berth_fail(err, e->errnum, "read \"%s/cgroup.procs\"", dir);
  }
  if (pv->cap == 0 && (pv->v = malloc((pv->cap = 64) * sizeof(*pv->v))) == NULL)
    return berth_fail(err, ENOMEM, "list \"%s\"", dir);
  for (char *p = text, *end = NULL;; p = end) {
    long v = strtol(p, &end, 10);
    if (end == p)
      break;
    if (pv->n == pv->cap) {
      pid_t *nv = realloc(pv->v, pv->cap * 2 * sizeof(*nv));
      if (nv == NULL)
        return berth_fail(err, ENOMEM, "list \"%s\"", dir);
      pv->v = nv;
      pv->cap *= 2;
    }
    pv->v[pv->n++] = (pid_t)v;
  }
  return each_child(dir, append_pids, pv, err);
}

int cgroup_pids(struct cgroup *cg, pid_t **pids, size_t *n, berth_error **err) {
  struct pid_vec pv = {0};
  if (append_pids(cg->parts[0]->procs_dir(cg), &pv, err) < 0) {
    free(pv.v);
    return -1;
  }
  *pids = pv.v;
  *n = pv.n;
  return 0;
}

/* A v1 freezer holds even a killed task until it is thawed, so after
 * SIGKILL the cgroup is thawed whatever its state was; other signals leave
 * a paused container paused (they are delivered on resume). */
static int thaw_after_kill(struct cgroup *cg, int r, berth_error **err) {
  bool frozen = false;
  cleanup_error berth_error *e = NULL;
  if (cgroup_is_frozen(cg, &frozen, &e) < 0 || !frozen)
    return r;
  if (cgroup_freeze(cg, false, r < 0 ? &e : err) < 0)
    return -1;
  return r;
}

int cgroup_kill_all(struct cgroup *cg, int sig, berth_error **err) {
  for (size_t i = 0; sig == SIGKILL && i < cg->n_parts; i++) {
    int r = cg->parts[i]->kill != NULL ? cg->parts[i]->kill(cg, err) : 0;
    if (r != 0)
      return thaw_after_kill(cg, r < 0 ? -1 : 0, err);
  }
  /* Frozen, the processes cannot fork a child we would miss. */
  bool was_frozen = false, froze = false;
  cleanup_error berth_error *ferr = NULL;
  if (cgroup_is_frozen(cg, &was_frozen, &ferr) == 0 && !was_frozen)
    froze = cgroup_freeze(cg, true, &ferr) == 0;
  if (ferr != NULL)
    berth_debug("cgroup: killing without freezing: %s", ferr->msg);
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  int r = cgroup_pids(cg, &pids, &n, err);
  for (size_t i = 0; r == 0 && i < n; i++)
    if (kill(pids[i], sig) < 0 && errno != ESRCH)
      r = berth_fail(err, errno, "kill %d with signal %d", (int)pids[i], sig);
  if (froze || (sig == SIGKILL && was_frozen)) {
    if (cgroup_freeze(cg, false, r < 0 ? &ferr : err) < 0 && r == 0)
      r = -1;
  }
  return r;
}

int cgroup_oom_kills(struct cgroup *cg, unsigned long long *count, berth_error **err) {
  const struct cgroup_ops *ops = part_with(cg, CG_F_MEMORY);
  if (ops == NULL)
    return berth_fail(err, 0, "cgroup \"%s\": no memory controller on this host", cg->hier[0].rel);
  return ops->oom_kills(cg, count, err);
}

int cgroup_destroy(struct cgroup *cg, berth_error **err) {
  unsigned budget = RMDIR_BUDGET_MS;
  int r = 0;
  for (size_t i = 0; i < cg->n_hier; i++) {
    /* Keep the first error, but still remove what can be removed. */
    cleanup_error berth_error *e = NULL;
    if (remove_made(&cg->hier[i], &budget, r == 0 ? err : &e) < 0)
      r = -1;
  }
  return r;
}

const char *cgroup_controller_path(struct cgroup *cg, const char *controller) {
  struct cg_hier *v2 = NULL;
  for (size_t i = 0; i < cg->n_hier; i++) {
    struct cg_hier *h = &cg->hier[i];
    if (h->version == 2) {
      v2 = h;
      continue;
    }
    if (controller[0] != '\0' &&
        (cg_list_has(h->controllers, controller) ||
         (strncmp(h->controllers, "name=", 5) == 0 && strcmp(h->controllers + 5, controller) == 0)))
      return h->path;
  }
  if (v2 == NULL)
    return NULL;
  if (controller[0] == '\0')
    return v2->path;
  cleanup_free char *avail = cg_read(v2->mount, "cgroup.controllers", NULL);
  return avail != NULL && cg_list_has(avail, controller) ? v2->path : NULL;
}

/* ---- serialization ---------------------------------------------------- */
/* "cg1|<mode>|<n>" then per hierarchy "|<version>|<controllers>|<made>|<mount>|<rel>",
 * each text field percent-encoded so '|', '%', blanks and newlines survive. */

static const char *const mode_names[] = {"v1", "v2", "hybrid"};

static void put_encoded(FILE *f, const char *s) {
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if (c <= ' ' || c == '%' || c == '|' || c >= 0x7f)
      fprintf(f, "%%%02X", c);
    else
      fputc(c, f);
  }
}

char *cgroup_serialize(const struct cgroup *cg, berth_error **err) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL) {
    berth_fail(err, errno, "serialize cgroup");
    return NULL;
  }
  fprintf(f, "cg1|%s|%zu", mode_names[cg->mode], cg->n_hier);
  for (size_t i = 0; i < cg->n_hier; i++) {
    const struct cg_hier *h = &cg->hier[i];
    fprintf(f, "|%d|", h->version);
    put_encoded(f, h->controllers);
    fprintf(f, "|%u|", h->made);
    put_encoded(f, h->mount);
    fputc('|', f);
    put_encoded(f, h->rel);
  }
  if (fclose(f) != 0 || buf == NULL) {
    free(buf);
    berth_fail(err, ENOMEM, "serialize cgroup");
    return NULL;
  }
  return buf;
}

/* Decodes in place; false on a malformed escape. */
static bool decode(char *s) {
  char *w = s;
  for (char *r = s; *r != '\0'; r++) {
    unsigned v;
    if (*r != '%') {
      *w++ = *r;
      continue;
    }
    if (!isxdigit((unsigned char)r[1]) || !isxdigit((unsigned char)r[2]) || sscanf(r + 1, "%2x", &v) != 1)
      return false;
    *w++ = (char)v;
    r += 2;
  }
  *w = '\0';
  return true;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out) {
  char *end = NULL;
  errno = 0;
  *out = strtoul(s, &end, 10);
  return errno == 0 && end != s && *end == '\0' && *out <= max;
}

/* The state file is ours, but a damaged one must not make destroy walk
 * outside the hierarchy. */
static bool sane_rel(const char *rel, unsigned long made) {
  cleanup_free char *clean = NULL;
  if (rel[0] != '/' || clean_path(rel, &clean, NULL) < 0 || strcmp(clean, rel) != 0 || strcmp(rel, "/") == 0)
    return false;
  unsigned long depth = 0;
  for (const char *p = rel; *p != '\0'; p++)
    depth += *p == '/';
  return made <= depth;
}

struct cgroup *cgroup_deserialize(const char *text, berth_error **err) {
  cleanup_free char *copy = strdup(text != NULL ? text : "");
  cleanup_cgroup struct cgroup *cg = NULL;
  char *f[3 + 5 * 64];
  size_t nf = 0;
  char *rest = copy;
  while (rest != NULL && nf < ARRAY_SIZE(f))
    f[nf++] = strsep(&rest, "|");
  unsigned long n = 0, mode = 0;
  if (copy == NULL || rest != NULL || nf < 3 || strcmp(f[0], "cg1") != 0 || !parse_uint(f[2], 64, &n) ||
      n == 0 || nf != 3 + 5 * n)
    goto bad;
  while (mode < ARRAY_SIZE(mode_names) && strcmp(f[1], mode_names[mode]) != 0)
    mode++;
  if (mode == ARRAY_SIZE(mode_names))
    goto bad;
  cg = calloc(1, sizeof(*cg));
  if (cg == NULL || (cg->hier = calloc(n, sizeof(*cg->hier))) == NULL)
    goto oom;
  cg->mode = (enum cgroup_mode)mode;
  for (size_t i = 0; i < n; i++) {
    char **hf = &f[3 + 5 * i];
    struct cg_hier *h = &cg->hier[i];
    unsigned long version = 0, made = 0;
    if (!parse_uint(hf[0], 2, &version) || version == 0 || !parse_uint(hf[2], 4096, &made) ||
        !decode(hf[1]) || !decode(hf[3]) || !decode(hf[4]) || hf[3][0] != '/' || !sane_rel(hf[4], made))
      goto bad;
    h->version = (int)version;
    h->made = (unsigned)made;
    h->controllers = strdup(hf[1]);
    h->mount = strdup(hf[3]);
    h->rel = strdup(hf[4]);
    cg->n_hier++;
    if (h->controllers == NULL || h->mount == NULL || h->rel == NULL ||
        asprintf(&h->path, "%s%s", h->mount, h->rel) < 0) {
      h->path = NULL;
      goto oom;
    }
  }
  compose(cg);
  return TAKE_PTR(cg);
bad:
  if (copy != NULL) {
    berth_fail(err, 0, "cgroup state \"%s\" is malformed", text != NULL ? text : "");
    return NULL;
  }
oom:
  berth_fail(err, ENOMEM, "cgroup state");
  return NULL;
}
