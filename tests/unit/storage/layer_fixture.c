#include "layer_fixture.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "util/cleanup.h"
#include "util/fs.h"

static char top[64];
static int dest_fd = -1;

/* Setup that cannot go on: TAP's way to stop the whole run. */
__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("Bail out! ");
  vprintf(fmt, ap);
  printf(" (%s)\n", strerror(errno));
  va_end(ap);
  exit(1);
}

static struct blob read_all_fd(int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0)
    die("fstat");
  struct blob b = {malloc((size_t)st.st_size + 1), (size_t)st.st_size};
  if (b.data == NULL || pread(fd, b.data, b.len, 0) != (ssize_t)b.len)
    die("read fixture");
  return b;
}

struct blob tar_of(const struct ent *ents, size_t n, bool gnu) {
  cleanup_close int fd = memfd_create("fixture.tar", MFD_CLOEXEC);
  if (fd < 0)
    die("memfd_create");
  struct archive *a = archive_write_new();
  if (gnu)
    archive_write_set_format_gnutar(a);
  else
    archive_write_set_format_pax(a);
  if (archive_write_open_fd(a, fd) != ARCHIVE_OK)
    die("archive_write_open_fd: %s", archive_error_string(a));
  for (size_t i = 0; i < n; i++) {
    const struct ent *x = &ents[i];
    struct archive_entry *e = archive_entry_new();
    mode_t type = x->type ? x->type : S_IFREG;
    archive_entry_set_pathname(e, x->name);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, x->perm ? x->perm : type == S_IFDIR ? 0755 : 0644);
    archive_entry_set_uid(e, x->uid);
    archive_entry_set_gid(e, x->gid);
    archive_entry_set_mtime(e, x->mtime ? x->mtime : FIXTURE_MTIME, x->mtime_nsec);
    if (x->symlink != NULL)
      archive_entry_set_symlink(e, x->symlink);
    if (x->hardlink != NULL)
      archive_entry_set_hardlink(e, x->hardlink);
    if (type == S_IFCHR || type == S_IFBLK) {
      archive_entry_set_rdevmajor(e, x->rdev_major);
      archive_entry_set_rdevminor(e, x->rdev_minor);
    }
    if (x->xattr != NULL)
      archive_entry_xattr_add_entry(e, x->xattr, x->xattr_value, x->xattr_size);
    archive_entry_set_size(e, type == S_IFREG && x->hardlink == NULL ? (la_int64_t)x->size : 0);
    if (archive_write_header(a, e) < ARCHIVE_WARN)
      die("archive_write_header %s: %s", x->name, archive_error_string(a));
    if (x->size > 0 && archive_write_data(a, x->data, x->size) != (la_ssize_t)x->size)
      die("archive_write_data %s: %s", x->name, archive_error_string(a));
    archive_entry_free(e);
  }
  if (archive_write_close(a) != ARCHIVE_OK)
    die("archive_write_close: %s", archive_error_string(a));
  archive_write_free(a);
  return read_all_fd(fd);
}

struct blob gzip_of(const struct blob *in) {
  z_stream z = {0};
  if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    die("deflateInit2");
  struct blob out = {malloc(deflateBound(&z, in->len) + 64), 0};
  z.next_in = in->data;
  z.avail_in = (uInt)in->len;
  z.next_out = out.data;
  z.avail_out = (uInt)deflateBound(&z, in->len) + 64;
  if (deflate(&z, Z_FINISH) != Z_STREAM_END)
    die("deflate");
  out.len = z.total_out;
  deflateEnd(&z);
  return out;
}

struct blob zstd_of(const struct blob *in) {
  size_t cap = ZSTD_compressBound(in->len);
  struct blob out = {malloc(cap), 0};
  out.len = ZSTD_compress(out.data, cap, in->data, in->len, 3);
  if (ZSTD_isError(out.len))
    die("ZSTD_compress");
  return out;
}

struct blob blob_cat(const struct blob *a, const struct blob *b) {
  struct blob out = {malloc(a->len + b->len + 1), a->len + b->len};
  if (a->len > 0) /* an empty blob may have no buffer */
    memcpy(out.data, a->data, a->len);
  if (b->len > 0)
    memcpy(out.data + a->len, b->data, b->len);
  return out;
}

struct blob blob_head(const struct blob *in, size_t len) {
  struct blob out = {malloc(len + 1), len};
  memcpy(out.data, in->data, len);
  return out;
}

void blob_free(struct blob *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
}

void sha256sum_of(const struct blob *b, char out[DIGEST_TEXT_MAX]) {
  char path[128], cmd[160];
  snprintf(path, sizeof(path), "%s/blob", top);
  cleanup_error berth_error *err = NULL;
  if (fs_write_file_at(AT_FDCWD, path, b->data, b->len, 0600, &err) < 0)
    die("write %s", path);
  snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
  FILE *p = popen(cmd, "r");
  char hex[DIGEST_HEX_LEN + 1] = "";
  if (p == NULL || fscanf(p, "%64s", hex) != 1)
    die("sha256sum");
  pclose(p);
  unlink(path);
  snprintf(out, DIGEST_TEXT_MAX, "sha256:%s", hex);
}

const char *top_dir(void) {
  return top;
}

static const char *rotate(const char *sub, const char *rel) {
  static char bufs[8][PATH_MAX];
  static unsigned next;
  char *b = bufs[next++ % 8];
  snprintf(b, PATH_MAX, "%s/%s%s%s", top, sub, rel[0] ? "/" : "", rel);
  return b;
}

const char *in_dest(const char *rel) {
  return rotate("dest", rel);
}

const char *in_sibling(const char *rel) {
  return rotate("sibling", rel);
}

void fixture_setup(void) {
  snprintf(top, sizeof(top), "/tmp/berth-ut-layer-XXXXXX");
  if (mkdtemp(top) == NULL)
    die("mkdtemp");
  if (mkdir(in_dest(""), 0755) < 0 || mkdir(in_sibling(""), 0755) < 0)
    die("mkdir in %s", top);
  dest_fd = open(in_dest(""), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dest_fd < 0)
    die("open dest");
}

void fixture_teardown(void) {
  cleanup_error berth_error *err = NULL;
  close(dest_fd);
  fs_remove_tree_at(AT_FDCWD, top, &err);
}

void fresh_dest(void) {
  cleanup_error berth_error *err = NULL;
  cleanup_close int fd = open(in_dest(""), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    die("open dest");
  DIR *d = fdopendir(dup(fd));
  struct dirent *de;
  while (d != NULL && (de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
        fs_remove_tree_at(fd, de->d_name, &err) < 0)
      die("empty dest: %s", err->msg);
  if (d != NULL)
    closedir(d);
  /* A layer's "./" entry may have changed the root itself. */
  if (fchmod(fd, 0755) < 0 || fchown(fd, 0, 0) < 0)
    die("reset dest");
  if (fremovexattr(fd, "trusted.overlay.opaque") < 0 && errno != ENODATA)
    die("reset dest xattr");
}

int unpack(const struct blob *b, bool through_pipe, struct layer_unpack_result *res, berth_error **err) {
  if (!through_pipe) {
    cleanup_close int fd = memfd_create("layer", MFD_CLOEXEC);
    if (fd < 0 || fs_write_all(fd, b->data, b->len) < 0 || lseek(fd, 0, SEEK_SET) < 0)
      die("memfd");
    return layer_unpack(fd, dest_fd, res, err);
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    die("pipe");
  pid_t pid = fork();
  if (pid < 0)
    die("fork");
  if (pid == 0) {
    close(p[0]);
    _exit(fs_write_all(p[1], b->data, b->len) < 0 ? 1 : 0);
  }
  close(p[1]);
  int r = layer_unpack(p[0], dest_fd, res, err);
  close(p[0]);
  int status;
  waitpid(pid, &status, 0);
  return r;
}

int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return -1;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}
