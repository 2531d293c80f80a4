/* The compiled-filter cache: see seccomp_cache.h for the layout. */
#include "runtime/seccomp_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "dev"
#endif

#define ENTRY_MAGIC "BERTHSC1"
#define KEY_MAGIC "berth seccomp cache key"
/* sock_fprog.len is an unsigned short; the kernel takes far fewer anyway. */
#define MAX_INSNS USHRT_MAX
/* A key is a few KiB for docker's profile; anything near this is not ours. */
#define MAX_KEY (16u << 20)

struct entry_header {
  char magic[8];
  uint32_t key_len;
  uint32_t n_insns;
};
_Static_assert(sizeof(struct entry_header) == 16, "entry header has padding");
_Static_assert(sizeof(struct sock_filter) == 8, "unexpected struct sock_filter");

uint64_t seccomp_cache_fnv1a(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

/* ---- the key ---- */

struct keybuf {
  unsigned char *data;
  size_t len, cap;
  bool failed;
};

static void key_add(struct keybuf *b, const void *p, size_t n) {
  if (b->failed || n == 0)
    return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap != 0 ? b->cap : 4096;
    while (cap < b->len + n)
      cap *= 2;
    unsigned char *bigger = cap <= MAX_KEY ? realloc(b->data, cap) : NULL;
    if (bigger == NULL) {
      b->failed = true;
      return;
    }
    b->data = bigger;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void key_u32(struct keybuf *b, uint32_t v) {
  key_add(b, &v, sizeof(v));
}

static void key_u64(struct keybuf *b, uint64_t v) {
  key_add(b, &v, sizeof(v));
}

/* Length-prefixed, so that no two lists of strings serialize alike; NULL
 * is told apart from "". */
static void key_str(struct keybuf *b, const char *s) {
  if (s == NULL) {
    key_u32(b, UINT32_MAX);
    return;
  }
  size_t n = strlen(s);
  key_u32(b, (uint32_t)n);
  key_add(b, s, n);
}

static void key_strv(struct keybuf *b, char **v, size_t n) {
  key_u64(b, n);
  for (size_t i = 0; i < n; i++)
    key_str(b, v[i]);
}

/* Every field build_filter reads (listenerPath and listenerMetadata only
 * matter with SCMP_ACT_NOTIFY, which is never cached). */
static void key_spec(struct keybuf *b, const struct spec_seccomp *sc) {
  key_u32(b, (uint32_t)sc->default_action);
  key_u32(b, sc->has_default_errno_ret);
  key_u32(b, sc->default_errno_ret);
  key_strv(b, sc->architectures, sc->n_architectures);
  key_strv(b, sc->flags, sc->n_flags);
  key_u64(b, sc->n_syscalls);
  for (size_t i = 0; i < sc->n_syscalls; i++) {
    const struct spec_seccomp_syscall *s = &sc->syscalls[i];
    key_strv(b, s->names, s->n_names);
    key_u32(b, (uint32_t)s->action);
    key_u32(b, s->has_errno_ret);
    key_u32(b, s->errno_ret);
    key_u64(b, s->n_args);
    for (size_t k = 0; k < s->n_args; k++) {
      const struct spec_seccomp_arg *a = &s->args[k];
      key_u32(b, a->index);
      key_u32(b, (uint32_t)a->op);
      key_u64(b, a->value);
      key_u64(b, a->value_two);
    }
  }
}

unsigned char *seccomp_cache_key(const struct spec_seccomp *seccomp, size_t *len, berth_error **err) {
  struct keybuf b = {0};
  key_add(&b, KEY_MAGIC, sizeof(KEY_MAGIC));
  key_u32(&b, SECCOMP_BUILD_VERSION);
  key_str(&b, BERTH_VERSION);
  /* The library that builds the program (its syscall tables, its code
   * generator) and what it was asked to build for. */
  const struct scmp_version *v = seccomp_version();
  key_u32(&b, v != NULL ? v->major : 0);
  key_u32(&b, v != NULL ? v->minor : 0);
  key_u32(&b, v != NULL ? v->micro : 0);
  key_u32(&b, seccomp_arch_native());
  /* What libseccomp accepts (actions, flags) depends on the kernel. */
  key_u32(&b, seccomp_api_get());
  key_spec(&b, seccomp);
  if (b.failed) {
    free(b.data);
    berth_fail(err, ENOMEM, "seccomp cache key");
    return NULL;
  }
  *len = b.len;
  return b.data;
}

void seccomp_cache_entry_name(const unsigned char *key, size_t len, char name[17]) {
  snprintf(name, 17, "%016llx", (unsigned long long)seccomp_cache_fnv1a(SECCOMP_CACHE_FNV_INIT, key, len));
}

/* ---- the directory ---- */

/* <root>/seccomp-cache, made when missing; refused unless it is ours and
 * nobody else can write to it (whoever can, chooses our filters). */
static int open_cache_dir(int rootfd, berth_error **err) {
  int fd = openat(rootfd, SECCOMP_CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    if (mkdirat(rootfd, SECCOMP_CACHE_DIR, 0700) < 0 && errno != EEXIST)
      return berth_fail(err, errno, "create %s", SECCOMP_CACHE_DIR);
    fd = openat(rootfd, SECCOMP_CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0)
    return berth_fail(err, errno, "open %s", SECCOMP_CACHE_DIR);
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    close(fd);
    return berth_fail(err, 0, "%s is not owned by uid %u and writable by it alone: not used", SECCOMP_CACHE_DIR,
                      (unsigned)geteuid());
  }
  return fd;
}

/* ---- entries ---- */

static int read_all_at(int fd, void *buf, size_t len) {
  for (size_t done = 0; done < len;) {
    ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    done += (size_t)n;
  }
  return 0;
}

/* Loads the entry `name` into prog->insns when it is whole and holds key;
 * otherwise returns 0 with *why saying what was wrong (NULL: no entry). */
static int read_entry(int dirfd, const char *name, const unsigned char *key, size_t key_len,
                      struct seccomp_program *prog, const char **why) {
  *why = NULL;
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT)
      *why = "cannot be opened";
    return 0;
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    *why = "not a regular file";
    return 0;
  }
  size_t fixed = sizeof(struct entry_header) + key_len + sizeof(uint64_t);
  size_t size = (size_t)st.st_size;
  if (st.st_size < 0 || size < fixed + sizeof(struct sock_filter) ||
      size > fixed + (size_t)MAX_INSNS * sizeof(struct sock_filter) || (size - fixed) % sizeof(struct sock_filter)) {
    *why = "wrong size (truncated, or another key)";
    return 0;
  }
  cleanup_free unsigned char *buf = malloc(size);
  if (buf == NULL || read_all_at(fd, buf, size) < 0) {
    *why = "cannot be read";
    return 0;
  }
  struct entry_header h;
  memcpy(&h, buf, sizeof(h));
  size_t n_insns = (size - fixed) / sizeof(struct sock_filter);
  if (memcmp(h.magic, ENTRY_MAGIC, sizeof(h.magic)) != 0 || h.key_len != key_len || h.n_insns != n_insns) {
    *why = "bad header";
    return 0;
  }
  uint64_t sum;
  memcpy(&sum, buf + size - sizeof(sum), sizeof(sum));
  if (seccomp_cache_fnv1a(SECCOMP_CACHE_FNV_INIT, buf, size - sizeof(sum)) != sum) {
    *why = "checksum mismatch";
    return 0;
  }
  if (memcmp(buf + sizeof(h), key, key_len) != 0) {
    *why = "holds another key";
    return 0;
  }
  size_t prog_size = n_insns * sizeof(struct sock_filter);
  struct sock_filter *insns = malloc(prog_size);
  if (insns == NULL) {
    *why = "out of memory";
    return 0;
  }
  memcpy(insns, buf + sizeof(h) + key_len, prog_size);
  prog->insns = insns;
  prog->n_insns = n_insns;
  return 1;
}

/* Gives the O_TMPFILE fd a name in dirfd. */
static int link_tmpfile(int fd, int dirfd, const char *name) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  if (linkat(AT_FDCWD, path, dirfd, name, AT_SYMLINK_FOLLOW) == 0)
    return 0;
  /* no /proc: this way needs CAP_DAC_READ_SEARCH */
  return linkat(fd, "", dirfd, name, AT_EMPTY_PATH);
}

/* Writes the entry under a name of its own, then renames it over `name`:
 * readers see the old file or the new one, whole, and concurrent writers
 * of the same entry each rename a complete file. */
static int write_entry(int dirfd, const char *name, const unsigned char *key, size_t key_len,
                       const struct seccomp_program *prog, berth_error **err) {
  size_t prog_size = prog->n_insns * sizeof(struct sock_filter);
  size_t size = sizeof(struct entry_header) + key_len + prog_size + sizeof(uint64_t);
  cleanup_free unsigned char *buf = malloc(size);
  if (buf == NULL)
    return berth_fail(err, ENOMEM, "seccomp cache entry %s", name);
  struct entry_header h = {.key_len = (uint32_t)key_len, .n_insns = (uint32_t)prog->n_insns};
  memcpy(h.magic, ENTRY_MAGIC, sizeof(h.magic));
  memcpy(buf, &h, sizeof(h));
  memcpy(buf + sizeof(h), key, key_len);
  memcpy(buf + sizeof(h) + key_len, prog->insns, prog_size);
  uint64_t sum = seccomp_cache_fnv1a(SECCOMP_CACHE_FNV_INIT, buf, size - sizeof(sum));
  memcpy(buf + size - sizeof(sum), &sum, sizeof(sum));

  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  char tmp[64];
  snprintf(tmp, sizeof(tmp), "%s.%d.%lx.tmp", name, (int)getpid(), (unsigned long)ts.tv_nsec);
  bool named = false;
  cleanup_close int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    /* a file system without O_TMPFILE */
    fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
      return berth_fail(err, errno, "create seccomp cache entry %s", tmp);
    named = true;
  }
  if (fs_write_all(fd, buf, size) < 0 || (!named && link_tmpfile(fd, dirfd, tmp) < 0)) {
    int saved = errno;
    if (named)
      unlinkat(dirfd, tmp, 0);
    return berth_fail(err, saved, "write seccomp cache entry %s", tmp);
  }
  if (renameat(dirfd, tmp, dirfd, name) < 0) {
    int saved = errno;
    unlinkat(dirfd, tmp, 0);
    return berth_fail(err, saved, "rename seccomp cache entry %s", tmp);
  }
  return 0;
}

int seccomp_cache_get(int rootfd, const struct spec_seccomp *seccomp, struct seccomp_program *prog, bool *hit,
                      berth_error **err) {
  *prog = (struct seccomp_program){0};
  if (hit != NULL)
    *hit = false;
  if (!seccomp_spec_precompilable(seccomp))
    return berth_fail(err, 0, "seccomp: this profile is only loaded by libseccomp");
  size_t key_len = 0;
  cleanup_free unsigned char *key = seccomp_cache_key(seccomp, &key_len, err);
  if (key == NULL)
    return -1;
  char name[17];
  seccomp_cache_entry_name(key, key_len, name);

  berth_error *cache_err = NULL;
  cleanup_close int dirfd = open_cache_dir(rootfd, &cache_err);
  if (dirfd < 0) {
    berth_debug("seccomp cache: %s", cache_err->msg);
    berth_error_free(cache_err);
    cache_err = NULL;
  } else {
    const char *why = NULL;
    if (read_entry(dirfd, name, key, key_len, prog, &why) > 0) {
      /* The flags follow from the profile; checked as a build checks them. */
      if (seccomp_spec_load_flags(seccomp, &prog->flags, err) < 0) {
        seccomp_program_clear(prog);
        return -1;
      }
      if (hit != NULL)
        *hit = true;
      return 0;
    }
    if (why != NULL)
      berth_debug("seccomp cache: entry %s %s: replacing it", name, why);
  }

  if (seccomp_spec_compile(seccomp, prog, err) < 0)
    return -1;
  if (dirfd >= 0 && write_entry(dirfd, name, key, key_len, prog, &cache_err) < 0) {
    berth_debug("seccomp cache: %s", cache_err->msg);
    berth_error_free(cache_err);
  }
  return 0;
}
