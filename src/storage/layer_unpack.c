/* Tar entries to files: libarchive parses the uncompressed stream that
 * layer_stream.c delivers, and each entry is made here with *at() calls on
 * directories that layer_tree.c resolved beneath the destination.
 * archive_write_disk is not used: it resolves names itself, and a layer's
 * whiteouts and trust boundaries are ours to handle. */
#include "storage/layer_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "storage/layer_stream.h"
#include "storage/layer_tree.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define WHITEOUT ".wh."
#define OPAQUE ".wh..wh..opq"
#define OPAQUE_XATTR "trusted.overlay.opaque"

struct unpack {
  struct archive *ar;
  struct layer_stream *stream;
  berth_error *stream_err; /* why the stream stopped, when it failed */
  struct layer_tree *tree;
  char *name, *link; /* cleaned entry and hard link target names */
  size_t name_cap, link_cap;
  uint64_t unpacked;
};

/* What every entry carries besides its name and type. */
struct meta {
  uid_t uid;
  gid_t gid;
  mode_t perm;
  struct timespec ts[2]; /* atime, mtime */
};

void layer_unpack_force_fallback(bool on) {
  layer_tree_force_fallback(on);
}

/* A copy of text safe to print on one line: names in a hostile tar may hold
 * newlines and terminal escapes.  Control bytes become \xNN. */
static char *printable(const char *text) {
  size_t len = strlen(text);
  char *out = malloc(4 * len + 1);
  if (out == NULL)
    return NULL;
  char *o = out;
  for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
    if (*p < 0x20 || *p == 0x7f)
      o += sprintf(o, "\\x%02x", *p);
    else
      *o++ = (char)*p;
  }
  *o = '\0';
  return out;
}

/* "layer entry "NAME": <what>: <strerror(errnum)>", NAME as in the tar. */
__attribute__((format(printf, 4, 5))) static int entry_fail(berth_error **err, int errnum, const char *name,
                                                            const char *fmt, ...) {
  cleanup_free char *what = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&what, fmt, ap) < 0)
    what = NULL;
  va_end(ap);
  cleanup_free char *pname = printable(name);
  cleanup_free char *pwhat = what != NULL ? printable(what) : NULL;
  return berth_fail(err, errnum, "layer entry \"%s\": %s", pname != NULL ? pname : "?",
                    pwhat != NULL ? pwhat : "out of memory");
}

/* A failed libarchive call: the stream's own error says more (a truncated
 * gzip stream, not "truncated tar archive") when there is one.  after
 * names the last entry read, for errors between entries. */
static int archive_fail(struct unpack *u, const char *name, const char *after, const char *what, berth_error **err) {
  if (u->stream_err != NULL) {
    berth_error *e = TAKE_PTR(u->stream_err);
    if (err == NULL) {
      berth_error_free(e);
      return -1;
    }
    berth_error_free(*err);
    *err = e;
    return -1;
  }
  const char *why = archive_error_string(u->ar);
  if (why == NULL)
    why = "unknown tar error";
  if (name != NULL)
    return entry_fail(err, 0, name, "%s: %s", what, why);
  cleanup_free char *pafter = after != NULL ? printable(after) : NULL;
  if (pafter != NULL)
    return berth_fail(err, 0, "layer tar: %s after \"%s\": %s", what, pafter, why);
  return berth_fail(err, 0, "layer tar: %s: %s", what, why);
}

static la_ssize_t read_stream(struct archive *ar, void *opaque, const void **buf) {
  struct unpack *u = opaque;
  ssize_t n = layer_stream_next(u->stream, buf, &u->stream_err);
  if (n < 0) {
    archive_set_error(ar, EIO, "%s", u->stream_err != NULL ? u->stream_err->msg : "layer read failed");
    return -1;
  }
  return n;
}

static int grow(char **buf, size_t *cap, size_t need) {
  if (need <= *cap)
    return 0;
  size_t cap2 = *cap ? *cap : 256;
  while (cap2 < need)
    cap2 *= 2;
  char *p = realloc(*buf, cap2);
  if (p == NULL)
    return -1;
  *buf = p;
  *cap = cap2;
  return 0;
}

static int read_meta(struct archive_entry *e, const char *name, struct meta *m, berth_error **err) {
  int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
  /* (uid_t)-1 means "leave unchanged" to chown. */
  if (uid < 0 || uid >= (int64_t)UINT32_MAX || gid < 0 || gid >= (int64_t)UINT32_MAX)
    return entry_fail(err, 0, name, "owner %lld:%lld out of range", (long long)uid, (long long)gid);
  m->uid = (uid_t)uid;
  m->gid = (gid_t)gid;
  m->perm = archive_entry_perm(e) & 07777;
  m->ts[1].tv_sec = archive_entry_mtime(e);
  m->ts[1].tv_nsec = archive_entry_mtime_nsec(e);
  if (archive_entry_atime_is_set(e)) {
    m->ts[0].tv_sec = archive_entry_atime(e);
    m->ts[0].tv_nsec = archive_entry_atime_nsec(e);
  } else {
    m->ts[0] = m->ts[1];
  }
  for (int i = 0; i < 2; i++)
    if (m->ts[i].tv_nsec < 0 || m->ts[i].tv_nsec >= 1000000000)
      m->ts[i].tv_nsec = 0;
  return 0;
}

/* overlayfs reads trusted.overlay.* as instructions (redirects, metacopy,
 * origins); a layer speaks to it only through whiteout entries. */
static bool xattr_allowed(const char *key) {
  return strncmp(key, "trusted.overlay.", 16) != 0;
}

/* The entry's PAX xattrs (SCHILY.xattr.*), set through fd, or when fd is
 * -1 on the node base in dirfd without following it (a symlink, device or
 * fifo: opened O_PATH and named through /proc, since there is no
 * lsetxattr relative to a directory fd).  After chown and chmod: chown
 * clears security.capability. */
static int set_xattrs(struct archive_entry *e, int fd, int dirfd, const char *base, const char *name,
                      berth_error **err) {
  if (archive_entry_xattr_reset(e) == 0)
    return 0;
  cleanup_close int node = -1;
  char proc[64];
  if (fd < 0) {
    node = openat(dirfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (node < 0)
      return entry_fail(err, errno, name, "open for xattrs");
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", node);
  }
  const char *key;
  const void *value;
  size_t size;
  while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
    if (!xattr_allowed(key))
      continue;
    int r = fd >= 0 ? fsetxattr(fd, key, value, size, 0) : setxattr(proc, key, value, size, 0);
    if (r < 0)
      return entry_fail(err, errno, name, "set xattr %s", key);
  }
  return 0;
}

/* Ownership, then mode (chown clears setuid/setgid), through an open fd. */
static int own_fd(int fd, const struct meta *m, const char *name, berth_error **err) {
  if (fchown(fd, m->uid, m->gid) < 0)
    return entry_fail(err, errno, name, "chown %u:%u", m->uid, m->gid);
  if (fchmod(fd, m->perm) < 0)
    return entry_fail(err, errno, name, "chmod %04o", m->perm);
  return 0;
}

/* The same for base in dirfd, which was just made by us and is not a
 * symlink unless is_link (symlinks keep the mode they are made with). */
static int own_at(int dirfd, const char *base, bool is_link, const struct meta *m, const char *name,
                  berth_error **err) {
  if (fchownat(dirfd, base, m->uid, m->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return entry_fail(err, errno, name, "chown %u:%u", m->uid, m->gid);
  if (!is_link && fchmodat(dirfd, base, m->perm, 0) < 0)
    return entry_fail(err, errno, name, "chmod %04o", m->perm);
  return 0;
}

/* Makes room for a non-directory entry: whatever has the name goes. */
static int take_name(struct unpack *u, int dirfd, const char *base, const char *name, berth_error **err) {
  int r = layer_tree_take_name(u->tree, dirfd, base, false);
  if (r < 0)
    return entry_fail(err, -r, name, "replace the existing entry");
  return 0;
}

static int put_file(struct unpack *u, struct archive_entry *e, int dirfd, const char *base, const char *name,
                    const struct meta *m, berth_error **err) {
  cleanup_close int fd = -1;
  for (int attempt = 0;; attempt++) {
    fd = openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0)
      break;
    if (errno != EEXIST || attempt > 0)
      return entry_fail(err, errno, name, "create file");
    if (take_name(u, dirfd, base, name, err) < 0)
      return -1;
  }
  /* Blocks point into the stream's chunks: no copy on the way.  A sparse
   * entry's blocks skip its holes, which lseek leaves unwritten. */
  int64_t pos = 0;
  for (;;) {
    const void *buf;
    size_t len;
    la_int64_t off;
    int r = archive_read_data_block(u->ar, &buf, &len, &off);
    if (r == ARCHIVE_EOF)
      break;
    if (r < ARCHIVE_WARN)
      return archive_fail(u, name, NULL, "read data", err);
    if (off != pos) {
      if (lseek(fd, off, SEEK_SET) < 0)
        return entry_fail(err, errno, name, "seek to %lld", (long long)off);
      pos = off;
    }
    if (fs_write_all(fd, buf, len) < 0)
      return entry_fail(err, errno, name, "write");
    pos += (int64_t)len;
    u->unpacked += len;
  }
  int64_t size = archive_entry_size(e);
  if (pos < size && ftruncate(fd, size) < 0)
    return entry_fail(err, errno, name, "extend to %lld bytes", (long long)size);
  if (own_fd(fd, m, name, err) < 0 || set_xattrs(e, fd, -1, NULL, name, err) < 0)
    return -1;
  if (futimens(fd, m->ts) < 0)
    return entry_fail(err, errno, name, "set times");
  return 0;
}

static int put_dir(struct unpack *u, struct archive_entry *e, int dirfd, const char *base, const char *path,
                   const char *name, const struct meta *m, berth_error **err) {
  cleanup_close int fd = -1;
  if (base == NULL) {
    /* The layer root itself ("./"). */
    fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || own_fd(fd, m, name, err) < 0)
      return fd < 0 ? entry_fail(err, errno, name, "open the layer root") : -1;
  } else {
    for (int attempt = 0;; attempt++) {
      if (mkdirat(dirfd, base, 0700) == 0)
        break;
      if (errno != EEXIST || attempt > 0)
        return entry_fail(err, errno, name, "mkdir");
      /* An existing directory only takes the new metadata. */
      int r = layer_tree_take_name(u->tree, dirfd, base, true);
      if (r < 0)
        return entry_fail(err, -r, name, "replace the existing entry");
      if (r == 1)
        break;
    }
    if (own_at(dirfd, base, false, m, name, err) < 0)
      return -1;
    if (archive_entry_xattr_count(e) > 0) {
      fd = openat(dirfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return entry_fail(err, errno, name, "open for xattrs");
    }
  }
  if (fd >= 0 && set_xattrs(e, fd, -1, NULL, name, err) < 0)
    return -1;
  int r = layer_tree_defer_times(u->tree, path, m->ts);
  if (r < 0)
    return entry_fail(err, -r, name, "remember times");
  return 0;
}

static int put_symlink(struct unpack *u, struct archive_entry *e, int dirfd, const char *base, const char *name,
                       const struct meta *m, berth_error **err) {
  const char *target = archive_entry_symlink(e);
  if (target == NULL || target[0] == '\0')
    return entry_fail(err, 0, name, "symlink without a target");
  for (int attempt = 0;; attempt++) {
    if (symlinkat(target, dirfd, base) == 0)
      break;
    if (errno != EEXIST || attempt > 0)
      return entry_fail(err, errno, name, "symlink to \"%s\"", target);
    if (take_name(u, dirfd, base, name, err) < 0)
      return -1;
  }
  if (own_at(dirfd, base, true, m, name, err) < 0 || set_xattrs(e, -1, dirfd, base, name, err) < 0)
    return -1;
  if (utimensat(dirfd, base, m->ts, AT_SYMLINK_NOFOLLOW) < 0)
    return entry_fail(err, errno, name, "set times");
  return 0;
}

/* Character and block devices, fifos. */
static int put_node(struct unpack *u, struct archive_entry *e, int dirfd, const char *base, const char *name,
                    const struct meta *m, berth_error **err) {
  mode_t type = archive_entry_filetype(e);
  dev_t dev = type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
  for (int attempt = 0;; attempt++) {
    if (mknodat(dirfd, base, type | 0600, dev) == 0)
      break;
    if (errno != EEXIST || attempt > 0)
      return entry_fail(err, errno, name, "mknod");
    if (take_name(u, dirfd, base, name, err) < 0)
      return -1;
  }
  if (own_at(dirfd, base, false, m, name, err) < 0 || set_xattrs(e, -1, dirfd, base, name, err) < 0)
    return -1;
  if (utimensat(dirfd, base, m->ts, AT_SYMLINK_NOFOLLOW) < 0)
    return entry_fail(err, errno, name, "set times");
  return 0;
}

/* A hard link joins two names of this layer: the target, checked like an
 * entry name, must already be here; linkat does not follow a symlink
 * target, so linking one links the symlink itself. */
static int put_hardlink(struct unpack *u, const char *target_raw, int dirfd, const char *base, const char *path,
                        const char *name, berth_error **err) {
  const char *why = NULL;
  if (grow(&u->link, &u->link_cap, strlen(target_raw) + 1) < 0)
    return entry_fail(err, ENOMEM, name, "hard link");
  if (layer_name_clean(target_raw, u->link, &why) < 0)
    return entry_fail(err, 0, name, "hard link target \"%s\": %s", target_raw, why);
  if (u->link[0] == '\0')
    return entry_fail(err, 0, name, "hard link target \"%s\" is the layer root", target_raw);
  if (strcmp(u->link, path) == 0)
    return 0; /* a link to itself: already true */
  char *slash = strrchr(u->link, '/');
  const char *tbase = slash != NULL ? slash + 1 : u->link;
  if (slash != NULL)
    *slash = '\0';
  int tdir = layer_tree_dir(u->tree, slash != NULL ? u->link : "", false);
  if (tdir == -EXDEV)
    return entry_fail(err, 0, name, "hard link target \"%s\" resolves outside the layer", target_raw);
  if (tdir == -ENOENT || tdir == -ENOTDIR)
    return entry_fail(err, 0, name, "hard link target \"%s\" is missing", target_raw);
  if (tdir < 0)
    return entry_fail(err, -tdir, name, "hard link target \"%s\"", target_raw);
  for (int attempt = 0;; attempt++) {
    if (linkat(tdir, tbase, dirfd, base, 0) == 0)
      break;
    if (errno == ENOENT)
      return entry_fail(err, 0, name, "hard link target \"%s\" is missing", target_raw);
    if (errno == EPERM)
      return entry_fail(err, 0, name, "hard link target \"%s\" is a directory or not linkable", target_raw);
    if (errno != EEXIST || attempt > 0)
      return entry_fail(err, errno, name, "hard link to \"%s\"", target_raw);
    if (take_name(u, dirfd, base, name, err) < 0)
      return -1;
  }
  return 0;
}

/* ".wh.NAME" hides NAME of the layers below: a 0/0 character device. */
static int put_whiteout(struct unpack *u, int dirfd, const char *hidden, const char *name, const struct meta *m,
                        berth_error **err) {
  if (hidden[0] == '\0' || strcmp(hidden, ".") == 0 || strcmp(hidden, "..") == 0)
    return entry_fail(err, 0, name, "whiteout of no name");
  for (int attempt = 0;; attempt++) {
    if (mknodat(dirfd, hidden, S_IFCHR, makedev(0, 0)) == 0)
      break;
    if (errno != EEXIST || attempt > 0)
      return entry_fail(err, errno, name, "make whiteout device");
    if (take_name(u, dirfd, hidden, name, err) < 0)
      return -1;
  }
  if (fchownat(dirfd, hidden, m->uid, m->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return entry_fail(err, errno, name, "chown whiteout %u:%u", m->uid, m->gid);
  return 0;
}

/* ".wh..wh..opq" hides everything below its directory in lower layers. */
static int put_opaque(int dirfd, const char *name, berth_error **err) {
  cleanup_close int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return entry_fail(err, errno, name, "open its directory");
  if (fsetxattr(fd, OPAQUE_XATTR, "y", 1, 0) < 0)
    return entry_fail(err, errno, name, "set %s", OPAQUE_XATTR);
  return 0;
}

/* aufs bookkeeping: a ".wh..wh." name other than the opaque marker, or
 * anything under one (the hard link farm in .wh..wh.plnk). */
static bool aufs_metadata(const char *path) {
  const char *p = path;
  for (;;) {
    const char *slash = strchr(p, '/');
    if (strncmp(p, WHITEOUT WHITEOUT, 2 * strlen(WHITEOUT)) == 0 && (slash != NULL || strcmp(p, OPAQUE) != 0))
      return true;
    if (slash == NULL)
      return false;
    p = slash + 1;
  }
}

static int unpack_entry(struct unpack *u, struct archive_entry *e, berth_error **err) {
  const char *raw = archive_entry_pathname(e);
  if (raw == NULL)
    return berth_fail(err, 0, "layer tar: an entry has no name");
  const char *why = NULL;
  if (grow(&u->name, &u->name_cap, strlen(raw) + 1) < 0)
    return entry_fail(err, ENOMEM, raw, "name");
  if (layer_name_clean(raw, u->name, &why) < 0)
    return entry_fail(err, 0, raw, "refused: %s", why);
  if (strstr(u->name, WHITEOUT WHITEOUT) != NULL && aufs_metadata(u->name))
    return 0;
  struct meta m;
  if (read_meta(e, raw, &m, err) < 0)
    return -1;
  const char *hardlink = archive_entry_hardlink(e);
  mode_t type = archive_entry_filetype(e);

  if (u->name[0] == '\0') {
    if (hardlink != NULL || type != AE_IFDIR)
      return entry_fail(err, 0, raw, "the layer root must be a directory");
    return put_dir(u, e, layer_tree_dir(u->tree, "", false), NULL, "", raw, &m, err);
  }
  /* name is "dir/base" or "base"; path is the whole cleaned name. */
  const char *path = u->name;
  char *slash = strrchr(u->name, '/');
  const char *base = slash != NULL ? slash + 1 : u->name;
  if (slash != NULL)
    *slash = '\0';
  int dirfd = layer_tree_dir(u->tree, slash != NULL ? u->name : "", true);
  if (dirfd < 0) {
    if (dirfd == -EXDEV)
      return entry_fail(err, 0, raw, "parent \"%s\" resolves outside the layer (through a symlink)", u->name);
    return entry_fail(err, -dirfd, raw, "parent \"%s\"", u->name);
  }
  if (slash != NULL)
    *slash = '/';

  if (strncmp(base, WHITEOUT, strlen(WHITEOUT)) == 0) {
    if (strcmp(base, OPAQUE) == 0)
      return put_opaque(dirfd, raw, err);
    return put_whiteout(u, dirfd, base + strlen(WHITEOUT), raw, &m, err);
  }
  if (hardlink != NULL)
    return put_hardlink(u, hardlink, dirfd, base, path, raw, err);
  switch (type) {
  case AE_IFREG:
    return put_file(u, e, dirfd, base, raw, &m, err);
  case AE_IFDIR:
    return put_dir(u, e, dirfd, base, path, raw, &m, err);
  case AE_IFLNK:
    return put_symlink(u, e, dirfd, base, raw, &m, err);
  case AE_IFCHR:
  case AE_IFBLK:
  case AE_IFIFO:
    return put_node(u, e, dirfd, base, raw, &m, err);
  default:
    return entry_fail(err, 0, raw, "unsupported entry type 0%o", (unsigned)type);
  }
}

static bool all_zero(const unsigned char *p, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (p[i] != 0)
      return false;
  return true;
}

static int unpack_entries(struct unpack *u, struct layer_stream_summary *sum, berth_error **err) {
  archive_read_support_format_tar(u->ar); /* ustar, pax and GNU tar */
  if (archive_read_open(u->ar, u, NULL, read_stream, NULL) != ARCHIVE_OK)
    return archive_fail(u, NULL, NULL, "open", err);
  cleanup_free char *last = NULL; /* the last entry's name, for errors between entries */
  size_t last_cap = 0;
  for (;;) {
    layer_tree_next_entry(u->tree);
    struct archive_entry *e;
    int r = archive_read_next_header(u->ar, &e);
    if (r == ARCHIVE_EOF)
      break;
    /* Warnings are about names the C locale cannot convert; the bytes
     * are kept as they are, which is what a layer means. */
    if (r < ARCHIVE_WARN)
      return archive_fail(u, NULL, last, last != NULL ? "read the header" : "read the first header", err);
    if (unpack_entry(u, e, err) < 0)
      return -1;
    const char *raw = archive_entry_pathname(e);
    if (grow(&last, &last_cap, strlen(raw) + 1) < 0)
      return berth_fail(err, ENOMEM, "layer tar");
    strcpy(last, raw);
  }
  /* Bytes of the tar stream that the reader consumed, end blocks included. */
  int64_t consumed = archive_filter_bytes(u->ar, 0);
  if (layer_stream_finish(u->stream, sum, err) < 0)
    return -1;
  if (sum->uncompressed_size == 0)
    return berth_fail(err, 0, "layer tar: empty stream");
  /* libarchive takes the end of the input at an entry boundary for the end
   * of the archive; a tar cut there has no zero blocks at its end. */
  if ((uint64_t)consumed == sum->uncompressed_size && !all_zero(sum->tail, sum->tail_len)) {
    cleanup_free char *plast = printable(last != NULL ? last : "");
    return berth_fail(err, 0, "layer tar: truncated after \"%s\": no end-of-archive blocks", plast ? plast : "?");
  }
  const char *failed = NULL;
  int r = layer_tree_apply_times(u->tree, &failed);
  if (r < 0) {
    cleanup_free char *pfailed = printable(failed);
    return berth_fail(err, -r, "layer directory \"%s\": set times", pfailed ? pfailed : "?");
  }
  return 0;
}

int layer_unpack(int in_fd, int dest_dirfd, struct layer_unpack_result *res, berth_error **err) {
  struct unpack u = {0};
  int ret = -1;
  u.tree = layer_tree_new(dest_dirfd);
  if (u.tree == NULL) {
    berth_fail(err, errno, "layer destination");
    goto out;
  }
  u.ar = archive_read_new();
  if (u.ar == NULL) {
    berth_fail(err, ENOMEM, "layer tar reader");
    goto out;
  }
  u.stream = layer_stream_start(in_fd, err);
  if (u.stream == NULL)
    goto out;
  struct layer_stream_summary sum;
  if (unpack_entries(&u, &sum, err) < 0)
    goto out;
  memcpy(res->digest, sum.digest, sizeof(res->digest));
  memcpy(res->diff_id, sum.diff_id, sizeof(res->diff_id));
  res->size = sum.size;
  res->unpacked_size = u.unpacked;
  ret = 0;
out:
  /* The reader thread goes first: libarchive's close does not read, but
   * the thread must not outlive the fd the caller may close next. */
  layer_stream_free(u.stream);
  if (u.ar != NULL)
    archive_read_free(u.ar);
  layer_tree_free(u.tree);
  berth_error_free(u.stream_err);
  free(u.name);
  free(u.link);
  return ret;
}
