#include "engine/commit.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "engine/changes.h"
#include "engine/lifecycle_internal.h"
#include "image/compose_image.h"
#include "image/config_change.h"
#include "util/cleanup.h"
#include "util/json.h"

/* ---- the layer: the upper directory as an OCI layer tar ---- */

struct link_seen {
  dev_t dev;
  ino_t ino;
  char *path; /* the name the first entry had in the tar */
};

struct layer_writer {
  struct archive *a;
  size_t entries;
  struct link_seen *links;
  size_t n_links, cap_links;
  char buf[1 << 16];
};

static int archive_fail(struct layer_writer *w, const char *path, berth_error **err) {
  return berth_fail(err, archive_errno(w->a) > 0 ? archive_errno(w->a) : 0, "layer: \"%s\": %s", path,
                    archive_error_string(w->a));
}

static int write_header(struct layer_writer *w, struct archive_entry *e, const char *path, berth_error **err) {
  if (archive_write_header(w->a, e) != ARCHIVE_OK)
    return archive_fail(w, path, err);
  w->entries++;
  return 0;
}

/* The xattrs of the node fd (or, for what cannot be opened for reading,
 * of the O_PATH fd through /proc), but overlay's own. */
static int add_xattrs(struct archive_entry *e, int fd, bool through_proc, const char *path, berth_error **err) {
  char proc[64], names[8192];
  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
  ssize_t len = through_proc ? listxattr(proc, names, sizeof(names)) : flistxattr(fd, names, sizeof(names));
  if (len < 0) {
    if (errno == ENOTSUP || (through_proc && errno == ENOENT))
      return 0;
    return berth_fail(err, errno, "layer: xattrs of \"%s\"", path);
  }
  for (char *name = names; name < names + len; name += strlen(name) + 1) {
    if (strcmp(name, "trusted.overlay.metacopy") == 0)
      return berth_fail(err, 0, "layer: \"%s\" is a metadata-only copy (overlay metacopy), which berth does not read",
                        path);
    if (strncmp(name, "trusted.overlay.", 16) == 0)
      continue;
    char value[65536];
    ssize_t n = through_proc ? getxattr(proc, name, value, sizeof(value)) : fgetxattr(fd, name, value, sizeof(value));
    if (n < 0) {
      if (errno == ENODATA)
        continue;
      return berth_fail(err, errno, "layer: xattr %s of \"%s\"", name, path);
    }
    archive_entry_xattr_add_entry(e, name, value, (size_t)n);
  }
  return 0;
}

/* The content, exactly as long as the header says even if the file
 * changed meanwhile (a container committed without pausing). */
static int copy_data(struct layer_writer *w, int fd, int64_t size, const char *path, berth_error **err) {
  int64_t done = 0;
  while (done < size) {
    size_t want = size - done < (int64_t)sizeof(w->buf) ? (size_t)(size - done) : sizeof(w->buf);
    ssize_t n = read(fd, w->buf, want);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return berth_fail(err, errno, "layer: read \"%s\"", path);
    }
    if (n == 0) {
      memset(w->buf, 0, want);
      n = (ssize_t)want;
    }
    if (archive_write_data(w->a, w->buf, (size_t)n) != n)
      return archive_fail(w, path, err);
    done += n;
  }
  return 0;
}

/* A second name of an inode already in the tar: a hard link entry. */
static const char *link_target(struct layer_writer *w, const struct stat *st, const char *name, berth_error **err,
                               int *failed) {
  if (st->st_nlink < 2 || S_ISDIR(st->st_mode))
    return NULL;
  for (size_t i = 0; i < w->n_links; i++)
    if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino)
      return w->links[i].path;
  if (w->n_links == w->cap_links) {
    size_t cap = w->cap_links == 0 ? 16 : 2 * w->cap_links;
    struct link_seen *grown = realloc(w->links, cap * sizeof(*grown));
    if (grown == NULL) {
      *failed = berth_fail(err, ENOMEM, "layer");
      return NULL;
    }
    w->links = grown;
    w->cap_links = cap;
  }
  struct link_seen *l = &w->links[w->n_links];
  if ((l->path = strdup(name)) == NULL) {
    *failed = berth_fail(err, ENOMEM, "layer");
    return NULL;
  }
  l->dev = st->st_dev;
  l->ino = st->st_ino;
  w->n_links++;
  return NULL;
}

static void set_meta(struct archive_entry *e, const char *name, const struct stat *st) {
  archive_entry_set_pathname(e, name);
  archive_entry_set_uid(e, st->st_uid);
  archive_entry_set_gid(e, st->st_gid);
  archive_entry_set_perm(e, st->st_mode & 07777);
  /* whole seconds, as docker writes layers: the same files give the same
   * diff_id */
  archive_entry_set_mtime(e, st->st_mtim.tv_sec, 0);
}

static int write_entry(struct layer_writer *w, const struct upper_entry *u, const char *name, berth_error **err) {
  struct archive_entry *e = archive_entry_new();
  if (e == NULL)
    return berth_fail(err, ENOMEM, "layer");
  int ret = -1;
  cleanup_close int fd = -1;
  struct stat st = *u->st;
  int failed = 0;
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
    int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0);
    fd = openat(u->dirfd, u->name, flags);
    if (fd < 0 || fstat(fd, &st) < 0) {
      /* gone, or replaced by another kind of file, in a running container */
      ret = errno == ENOENT || errno == ELOOP || errno == ENOTDIR ? 0 : berth_fail(err, errno, "layer: open \"%s\"", u->path);
      goto out;
    }
    if ((st.st_mode & S_IFMT) != (u->st->st_mode & S_IFMT)) {
      ret = 0;
      goto out;
    }
  } else if (!S_ISSOCK(st.st_mode)) {
    fd = openat(u->dirfd, u->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      ret = errno == ENOENT ? 0 : berth_fail(err, errno, "layer: open \"%s\"", u->path);
      goto out;
    }
  }
  set_meta(e, name, &st);
  const char *target = link_target(w, &st, name, err, &failed);
  if (failed < 0)
    goto out;
  if (target != NULL) {
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_hardlink(e, target);
    archive_entry_set_size(e, 0);
    ret = write_header(w, e, u->path, err);
    goto out;
  }
  switch (st.st_mode & S_IFMT) {
  case S_IFREG:
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, st.st_size);
    if (add_xattrs(e, fd, false, u->path, err) < 0 || write_header(w, e, u->path, err) < 0 ||
        copy_data(w, fd, st.st_size, u->path, err) < 0)
      goto out;
    break;
  case S_IFDIR:
    archive_entry_set_filetype(e, AE_IFDIR);
    if (add_xattrs(e, fd, false, u->path, err) < 0 || write_header(w, e, u->path, err) < 0)
      goto out;
    break;
  case S_IFLNK: {
    char link[4096];
    ssize_t n = readlinkat(fd, "", link, sizeof(link) - 1);
    if (n < 0) {
      berth_fail(err, errno, "layer: readlink \"%s\"", u->path);
      goto out;
    }
    link[n] = '\0';
    archive_entry_set_filetype(e, AE_IFLNK);
    archive_entry_set_symlink(e, link);
    if (add_xattrs(e, fd, true, u->path, err) < 0 || write_header(w, e, u->path, err) < 0)
      goto out;
    break;
  }
  case S_IFCHR:
  case S_IFBLK:
  case S_IFIFO:
    archive_entry_set_filetype(e, S_ISCHR(st.st_mode) ? AE_IFCHR : S_ISBLK(st.st_mode) ? AE_IFBLK : AE_IFIFO);
    archive_entry_set_rdev(e, st.st_rdev);
    if (add_xattrs(e, fd, true, u->path, err) < 0 || write_header(w, e, u->path, err) < 0)
      goto out;
    break;
  default: /* sockets: a tar cannot hold them, docker leaves them out too */
    break;
  }
  ret = 0;
out:
  archive_entry_free(e);
  return ret;
}

/* A whiteout as ".wh.NAME"; an opaque directory with ".wh..wh..opq" in
 * it: the OCI forms of what overlayfs keeps as a 0/0 device and an xattr. */
static int layer_visit(void *arg, const struct upper_entry *u, berth_error **err) {
  struct layer_writer *w = arg;
  const char *rel = u->path + 1;
  if (u->whiteout) {
    size_t dir_len = (size_t)(strrchr(rel, '/') != NULL ? strrchr(rel, '/') - rel + 1 : 0);
    cleanup_free char *name = NULL;
    if (asprintf(&name, "%.*s.wh.%s", (int)dir_len, rel, rel + dir_len) < 0)
      return berth_fail(err, ENOMEM, "layer");
    struct archive_entry *e = archive_entry_new();
    struct stat st = *u->st;
    st.st_mode = S_IFREG | 0600;
    set_meta(e, name, &st);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, 0);
    int r = write_header(w, e, u->path, err);
    archive_entry_free(e);
    return r;
  }
  if (write_entry(w, u, rel, err) < 0)
    return -1;
  if (!u->opaque)
    return 0;
  cleanup_free char *name = NULL;
  if (asprintf(&name, "%s/.wh..wh..opq", rel) < 0)
    return berth_fail(err, ENOMEM, "layer");
  struct archive_entry *e = archive_entry_new();
  struct stat st = *u->st;
  st.st_mode = S_IFREG | (st.st_mode & 0777);
  set_meta(e, name, &st);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, 0);
  int r = write_header(w, e, u->path, err);
  archive_entry_free(e);
  return r;
}

/* Writes the layer tar to out_fd; *entries tells whether it holds any. */
static int write_layer(const struct changes_source *src, int out_fd, size_t *entries, berth_error **err) {
  struct layer_writer *w = calloc(1, sizeof(*w));
  if (w == NULL || (w->a = archive_write_new()) == NULL) {
    free(w);
    return berth_fail(err, ENOMEM, "layer");
  }
  int ret = -1;
  archive_write_set_format_pax_restricted(w->a);
  /* xattrs in the records docker and containerd read, once */
  archive_write_set_format_option(w->a, "pax", "xattrheader", "SCHILY");
  /* no padding after the end-of-archive blocks */
  archive_write_set_bytes_in_last_block(w->a, 1);
  if (archive_write_open_fd(w->a, out_fd) != ARCHIVE_OK) {
    archive_fail(w, "/", err);
    goto out;
  }
  if (changes_walk(src, layer_visit, w, err) < 0)
    goto out;
  if (archive_write_close(w->a) != ARCHIVE_OK) {
    archive_fail(w, "/", err);
    goto out;
  }
  *entries = w->entries;
  ret = 0;
out:
  archive_write_free(w->a);
  for (size_t i = 0; i < w->n_links; i++)
    free(w->links[i].path);
  free(w->links);
  free(w);
  return ret;
}

/* ---- the image ---- */

static struct json_object *get(struct json_object *o, const char *key) {
  struct json_object *v = NULL;
  return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void rfc3339_now(char out[40]) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 40 - n, ".%09ldZ", ts.tv_nsec);
}

/* docker's history "created_by" for a commit: the container's Cmd. */
static char *joined_cmd(struct json_object *config) {
  struct json_object *cmd = get(config, "Cmd");
  size_t len = 1;
  for (size_t i = 0; cmd != NULL && json_object_is_type(cmd, json_type_array) && i < json_object_array_length(cmd); i++)
    len += strlen(json_object_get_string(json_object_array_get_idx(cmd, i))) + 1;
  char *out = calloc(1, len);
  for (size_t i = 0; out != NULL && cmd != NULL && json_object_is_type(cmd, json_type_array) &&
                     i < json_object_array_length(cmd);
       i++) {
    if (i > 0)
      strcat(out, " ");
    strcat(out, json_object_get_string(json_object_array_get_idx(cmd, i)));
  }
  return out;
}

/* The container's Config with the changes applied, and docker's merge
 * (Labels always an object). */
static struct json_object *image_config(const struct container *c, const char *const *changes, berth_error **err) {
  struct json_object *cfg = NULL;
  if (c->config == NULL)
    cfg = json_object_new_object();
  else if (json_object_deep_copy(c->config, &cfg, NULL) < 0)
    cfg = NULL;
  if (cfg == NULL) {
    berth_fail(err, ENOMEM, "commit");
    return NULL;
  }
  if (config_change_apply_all(cfg, changes, err) < 0) {
    json_object_put(cfg);
    return NULL;
  }
  if (get(cfg, "Labels") == NULL || !json_object_is_type(get(cfg, "Labels"), json_type_object))
    json_object_object_add(cfg, "Labels", json_object_new_object());
  return cfg;
}

/* Pauses a running container unless told not to: 1 when this call paused
 * it (the caller unpauses), 0 when it was not needed. */
static int pause_for_commit(struct engine *e, const char *id, bool pause, berth_error **err) {
  if (!pause)
    return 0;
  struct container c;
  if (containers_get(e, id, &c, err) < 0)
    return -1;
  lifecycle_sync(e, &c);
  bool running = c.status == CONTAINER_RUNNING;
  container_clear(&c);
  if (!running)
    return 0;
  berth_error *pause_err = NULL;
  if (lifecycle_pause(e, id, true, &pause_err) == 0)
    return 1;
  /* it may have stopped meanwhile: then there is nothing to freeze */
  if (containers_get(e, id, &c, err) < 0) {
    berth_error_free(pause_err);
    return -1;
  }
  lifecycle_sync(e, &c);
  running = c.status == CONTAINER_RUNNING;
  container_clear(&c);
  if (!running) {
    berth_error_free(pause_err);
    return 0;
  }
  *err = pause_err;
  return berth_error_wrap(err, "pause %s for the commit", id);
}

/* The layer, read under the container's lock (so it is not removed
 * meanwhile) and, when asked, with the container frozen.  *layer_fd is -1
 * when the container changed nothing. */
static int read_layer(struct engine *e, const char *id, bool pause, int *layer_fd, berth_error **err) {
  *layer_fd = -1;
  /* an interrupted commit must not leave the container frozen: signals
   * wait until it is unpaused */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  sigaddset(&block, SIGQUIT);
  sigprocmask(SIG_BLOCK, &block, &old);
  int paused = pause_for_commit(e, id, pause, err);
  int ret = -1;
  cleanup_close int lock = -1;
  cleanup_close int tar = -1;
  struct changes_source src = {.upper_fd = -1};
  struct container c;
  bool have_c = false;
  if (paused < 0)
    goto out;
  if (lifecycle_find_locked(e, id, &c, &lock, err) < 0)
    goto out;
  have_c = true;
  size_t entries = 0;
  if (changes_open(e, &c, &src, err) < 0 || (tar = store_tmpfile(e->store, err)) < 0 ||
      write_layer(&src, tar, &entries, err) < 0)
    goto out;
  if (entries > 0)
    *layer_fd = TAKE_FD(tar);
  ret = 0;
out:
  changes_close(&src);
  if (have_c)
    container_clear(&c);
  if (lock >= 0) {
    close(lock);
    lock = -1;
  }
  if (paused > 0) {
    berth_error *unpause_err = NULL;
    if (lifecycle_pause(e, id, false, &unpause_err) < 0) {
      if (ret == 0) {
        *err = unpause_err;
        berth_error_wrap(err, "unpause %s after the commit", id);
        ret = -1;
        if (*layer_fd >= 0)
          close(*layer_fd);
        *layer_fd = -1;
      } else {
        berth_error_free(unpause_err);
      }
    }
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  return ret;
}

int commit_container(struct engine *e, const char *ref, const struct commit_options *o, char id[DIGEST_TEXT_MAX],
                     berth_error **err) {
  struct container c;
  if (containers_find(e, ref, &c, err) < 0)
    return -1;
  lifecycle_sync(e, &c);
  int ret = -1;
  cleanup_close int layer = -1;
  cleanup_free char *created_by = NULL;
  struct image_compose ic = {.layer_fd = -1};
  if (c.status == CONTAINER_DEAD || c.status == CONTAINER_REMOVING) {
    berth_fail(err, 0, "You cannot commit container %s which is %s", c.id,
               c.status == CONTAINER_DEAD ? "Dead" : "being removed");
    goto out;
  }
  /* a bad --change fails before anything is paused or stored */
  ic.config = image_config(&c, o->changes, err);
  if (ic.config == NULL)
    goto out;
  if (read_layer(e, c.id, o->pause, &layer, err) < 0)
    goto out;
  char created[40];
  rfc3339_now(created);
  created_by = joined_cmd(c.config);
  ic.extra = json_object_new_object();
  json_object_object_add(ic.extra, "container", json_object_new_string(c.id));
  json_object_object_add(ic.extra, "container_config", json_object_get(c.config));
  ic.parent_id = c.image_id;
  ic.layer_fd = layer;
  ic.created = created;
  ic.created_by = created_by != NULL ? created_by : "";
  ic.author = o->author;
  ic.comment = o->message;
  ic.tag = o->tag;
  ret = images_compose(e->store, &ic, id, err);
out:
  json_object_put(ic.config);
  json_object_put(ic.extra);
  container_clear(&c);
  return ret;
}
