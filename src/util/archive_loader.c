/* libarchive, loaded when first used.
 *
 * Linked normally, libarchive.so brings libxml2, ICU and libstdc++ (for
 * archive formats berth never opens) into every berth process, and the
 * dynamic loader spends more than a millisecond relocating them before
 * main: a tenth of `berth run`.  Only commands that read or write tar
 * streams (pull, load, save, import, cp, export, commit, the first run
 * of the built-in image) need it.  So berth defines the libarchive
 * functions it calls here, and each one loads the library on first use
 * and calls through to it.  The prototypes come from libarchive's own
 * headers, so the compiler checks every definition against them.
 * A libarchive statically linked would still need libxml2: its format
 * table references every writer. */
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define LIBARCHIVE "libarchive.so.13"

typedef struct archive archive;
typedef struct archive_entry entry;

/* X(return type, name, parameters, arguments) */
#define RETURNING(X)                                                                                     \
  X(time_t, archive_entry_atime, (entry * e), (e))                                                       \
  X(int, archive_entry_atime_is_set, (entry * e), (e))                                                   \
  X(long, archive_entry_atime_nsec, (entry * e), (e))                                                    \
  X(__LA_MODE_T, archive_entry_filetype, (entry * e), (e))                                               \
  X(la_int64_t, archive_entry_gid, (entry * e), (e))                                                     \
  X(const char *, archive_entry_hardlink, (entry * e), (e))                                              \
  X(time_t, archive_entry_mtime, (entry * e), (e))                                                       \
  X(long, archive_entry_mtime_nsec, (entry * e), (e))                                                    \
  X(entry *, archive_entry_new, (void), ())                                                              \
  X(const char *, archive_entry_pathname, (entry * e), (e))                                              \
  X(__LA_MODE_T, archive_entry_perm, (entry * e), (e))                                                   \
  X(dev_t, archive_entry_rdev, (entry * e), (e))                                                         \
  X(dev_t, archive_entry_rdevmajor, (entry * e), (e))                                                    \
  X(dev_t, archive_entry_rdevminor, (entry * e), (e))                                                    \
  X(la_int64_t, archive_entry_size, (entry * e), (e))                                                    \
  X(int, archive_entry_size_is_set, (entry * e), (e))                                                    \
  X(const char *, archive_entry_symlink, (entry * e), (e))                                               \
  X(la_int64_t, archive_entry_uid, (entry * e), (e))                                                     \
  X(int, archive_entry_xattr_count, (entry * e), (e))                                                    \
  X(int, archive_entry_xattr_next, (entry * e, const char **name, const void **value, size_t *size),     \
    (e, name, value, size))                                                                              \
  X(int, archive_entry_xattr_reset, (entry * e), (e))                                                    \
  X(int, archive_errno, (archive * a), (a))                                                              \
  X(const char *, archive_error_string, (archive * a), (a))                                              \
  X(la_int64_t, archive_filter_bytes, (archive * a, int n), (a, n))                                      \
  X(la_ssize_t, archive_read_data, (archive * a, void *buf, size_t size), (a, buf, size))                \
  X(int, archive_read_data_block, (archive * a, const void **buf, size_t *size, la_int64_t *offset),     \
    (a, buf, size, offset))                                                                              \
  X(int, archive_read_free, (archive * a), (a))                                                          \
  X(archive *, archive_read_new, (void), ())                                                             \
  X(int, archive_read_next_header, (archive * a, entry * *e), (a, e))                                    \
  X(int, archive_read_open,                                                                              \
    (archive * a, void *data, archive_open_callback *open, archive_read_callback *read,                  \
     archive_close_callback *close),                                                                     \
    (a, data, open, read, close))                                                                        \
  X(int, archive_read_open_fd, (archive * a, int fd, size_t block_size), (a, fd, block_size))            \
  X(int, archive_read_support_filter_all, (archive * a), (a))                                            \
  X(int, archive_read_support_filter_gzip, (archive * a), (a))                                           \
  X(int, archive_read_support_filter_zstd, (archive * a), (a))                                           \
  X(int, archive_read_support_format_raw, (archive * a), (a))                                            \
  X(int, archive_read_support_format_tar, (archive * a), (a))                                            \
  X(int, archive_write_close, (archive * a), (a))                                                        \
  X(la_ssize_t, archive_write_data, (archive * a, const void *buf, size_t size), (a, buf, size))         \
  X(int, archive_write_finish_entry, (archive * a), (a))                                                 \
  X(int, archive_write_free, (archive * a), (a))                                                         \
  X(int, archive_write_header, (archive * a, entry * e), (a, e))                                         \
  X(archive *, archive_write_new, (void), ())                                                            \
  X(int, archive_write_open,                                                                             \
    (archive * a, void *data, archive_open_callback *open, archive_write_callback *write,                \
     archive_close_callback *close),                                                                     \
    (a, data, open, write, close))                                                                       \
  X(int, archive_write_open_fd, (archive * a, int fd), (a, fd))                                          \
  X(int, archive_write_set_bytes_in_last_block, (archive * a, int bytes), (a, bytes))                    \
  X(int, archive_write_set_bytes_per_block, (archive * a, int bytes), (a, bytes))                        \
  X(int, archive_write_set_format_option, (archive * a, const char *module, const char *option,          \
                                           const char *value),                                           \
    (a, module, option, value))                                                                          \
  X(int, archive_write_set_format_pax_restricted, (archive * a), (a))

#define VOID(X)                                                                                          \
  X(archive_entry_free, (entry * e), (e))                                                                \
  X(archive_entry_set_filetype, (entry * e, unsigned int type), (e, type))                               \
  X(archive_entry_set_gid, (entry * e, la_int64_t gid), (e, gid))                                        \
  X(archive_entry_set_hardlink, (entry * e, const char *target), (e, target))                            \
  X(archive_entry_set_mtime, (entry * e, time_t sec, long nsec), (e, sec, nsec))                         \
  X(archive_entry_set_pathname, (entry * e, const char *path), (e, path))                                \
  X(archive_entry_set_perm, (entry * e, __LA_MODE_T perm), (e, perm))                                    \
  X(archive_entry_set_rdev, (entry * e, dev_t rdev), (e, rdev))                                          \
  X(archive_entry_set_size, (entry * e, la_int64_t size), (e, size))                                     \
  X(archive_entry_set_symlink, (entry * e, const char *target), (e, target))                             \
  X(archive_entry_set_uid, (entry * e, la_int64_t uid), (e, uid))                                        \
  X(archive_entry_xattr_add_entry, (entry * e, const char *name, const void *value, size_t size),        \
    (e, name, value, size))

#define DECLARE(ret, name, params, args) static ret(*real_##name) params;
#define DECLARE_VOID(name, params, args) static void(*real_##name) params;
RETURNING(DECLARE)
VOID(DECLARE_VOID)
static void (*real_archive_set_error)(archive *a, int err, const char *fmt, ...);

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* libarchive is a dependency of the berth package: without it there is
 * no way on, and no caller could do better than this one line. */
static void *resolve(void *lib, const char *name) {
  void *fn = dlsym(lib, name);
  if (fn == NULL) {
    fprintf(stderr, "berth: %s has no %s\n", LIBARCHIVE, name);
    exit(127);
  }
  return fn;
}

static void load(void) {
  void *lib = dlopen(LIBARCHIVE, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "berth: reading and writing tar streams needs %s: %s\n", LIBARCHIVE, dlerror());
    exit(127);
  }
#define RESOLVE(ret, name, params, args) *(void **)&real_##name = resolve(lib, #name);
#define RESOLVE_VOID(name, params, args) *(void **)&real_##name = resolve(lib, #name);
  RETURNING(RESOLVE)
  VOID(RESOLVE_VOID)
  *(void **)&real_archive_set_error = resolve(lib, "archive_set_error");
}

#define FORWARD(ret, name, params, args)                                                                 \
  ret name params {                                                                                      \
    pthread_once(&once, load);                                                                           \
    return real_##name args;                                                                             \
  }
#define FORWARD_VOID(name, params, args)                                                                 \
  void name params {                                                                                     \
    pthread_once(&once, load);                                                                           \
    real_##name args;                                                                                    \
  }
RETURNING(FORWARD)
VOID(FORWARD_VOID)

void archive_set_error(archive *a, int err, const char *fmt, ...) {
  pthread_once(&once, load);
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  real_archive_set_error(a, err, "%s", text);
}
