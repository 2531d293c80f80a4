/* The compiled seccomp filter cache: the program it gives is exactly what
 * libseccomp exports (and what seccomp_install loads), one entry per
 * profile, broken entries rebuilt, concurrent writers tolerated. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/seccomp.h"
#include "runtime/seccomp_cache.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

#define NAMES(...) ((char *[]){__VA_ARGS__, NULL})

/* Name lists that outlive the functions building profiles. */
static char *n_getcwd[] = {"getcwd", NULL};
static char *n_mkdir[] = {"mkdir", NULL};
static char *n_mkdir_rmdir[] = {"mkdir", "rmdir", NULL};
static char *n_rmdir_mkdir[] = {"rmdir", "mkdir", NULL};
static char *n_personality[] = {"personality", NULL};
static char *n_allowed[] = {"read", "write", "exit_group", "getpid", NULL};
static char *n_umask[] = {"umask", NULL};
static char *n_lseek[] = {"lseek", NULL};
static char *n_flock[] = {"flock", NULL};
static char *n_getppid[] = {"getppid", NULL};
static char *n_clone[] = {"clone", NULL};

static char root[] = "/tmp/berth-seccache-XXXXXX";
static int rootfd = -1;

static struct spec_seccomp_syscall rule(char **names, enum spec_seccomp_action action) {
  size_t n = 0;
  while (names[n] != NULL)
    n++;
  return (struct spec_seccomp_syscall){.names = names, .n_names = n, .action = action};
}

static struct spec_seccomp_syscall rule_errno(char **names, unsigned ret) {
  struct spec_seccomp_syscall s = rule(names, SECCOMP_ACTION_ERRNO);
  s.has_errno_ret = true;
  s.errno_ret = ret;
  return s;
}

static char *archs3[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL};

/* ---- profiles ---- */

static struct spec_seccomp_arg pers_arg = {.index = 0, .value = 0xffffffff, .op = SECCOMP_OP_EQ};
static struct spec_seccomp_syscall small_calls[3];

/* allow by default, a few errno rules, one with an argument */
static struct spec_seccomp small_profile(void) {
  small_calls[0] = rule_errno(n_getcwd, 123);
  small_calls[1] = rule(n_mkdir_rmdir, SECCOMP_ACTION_ERRNO);
  small_calls[2] = rule_errno(n_personality, 77);
  small_calls[2].args = &pers_arg;
  small_calls[2].n_args = 1;
  return (struct spec_seccomp){.default_action = SECCOMP_ACTION_ALLOW, .syscalls = small_calls, .n_syscalls = 3};
}

static struct spec_seccomp_arg umask_args[] = {
    {.index = 0, .value = 022, .op = SECCOMP_OP_EQ},
    {.index = 0, .value = 077, .op = SECCOMP_OP_EQ},
};
static struct spec_seccomp_arg lseek_args[] = {
    {.index = 1, .value = 7, .op = SECCOMP_OP_EQ},
    {.index = 2, .value = SEEK_SET, .op = SECCOMP_OP_EQ},
};
static struct spec_seccomp_arg flock_arg = {.index = 1, .value = LOCK_NB | LOCK_EX, .value_two = LOCK_NB,
                                            .op = SECCOMP_OP_MASKED_EQ};
static struct spec_seccomp_syscall arg_calls[5];

/* default ERRNO, an allow list, alternatives on one argument, conditions
 * on two, a masked comparison */
static struct spec_seccomp args_profile(void) {
  arg_calls[0] = rule(n_allowed, SECCOMP_ACTION_ALLOW);
  arg_calls[1] = rule_errno(n_umask, 55);
  arg_calls[1].args = umask_args;
  arg_calls[1].n_args = 2;
  arg_calls[2] = rule_errno(n_lseek, 66);
  arg_calls[2].args = lseek_args;
  arg_calls[2].n_args = 2;
  arg_calls[3] = rule_errno(n_flock, 44);
  arg_calls[3].args = &flock_arg;
  arg_calls[3].n_args = 1;
  arg_calls[4] = rule(n_getppid, SECCOMP_ACTION_KILL_PROCESS);
  return (struct spec_seccomp){.default_action = SECCOMP_ACTION_ERRNO, .has_default_errno_ret = true,
                               .default_errno_ret = 38, .architectures = archs3, .n_architectures = 3,
                               .syscalls = arg_calls, .n_syscalls = 5};
}

/* Like docker's default profile: an allow list of every syscall this
 * libseccomp knows but a few, for three architectures, default ERRNO(1),
 * a personality rule with alternatives and a masked clone rule. */
static char **big_names;
static struct spec_seccomp_syscall big_calls[3];
static struct spec_seccomp_arg big_pers[] = {
    {.index = 0, .value = 0, .op = SECCOMP_OP_EQ},
    {.index = 0, .value = 8, .op = SECCOMP_OP_EQ},
    {.index = 0, .value = 131072, .op = SECCOMP_OP_EQ},
    {.index = 0, .value = 131080, .op = SECCOMP_OP_EQ},
    {.index = 0, .value = 4294967295, .op = SECCOMP_OP_EQ},
};
static struct spec_seccomp_arg big_clone = {.index = 0, .value = 2114060288, .value_two = 0,
                                            .op = SECCOMP_OP_MASKED_EQ};

static bool denied_in_big(const char *name) {
  static const char *const denied[] = {"mkdir", "mkdirat", "reboot", "kexec_load", "personality", "clone", "unshare"};
  for (size_t i = 0; i < ARRAY_SIZE(denied); i++)
    if (strcmp(name, denied[i]) == 0)
      return true;
  return false;
}

static struct spec_seccomp big_profile(void) {
  if (big_names == NULL) {
    big_names = calloc(1024, sizeof(char *));
    size_t n = 0;
    for (int nr = 0; nr < 1000 && n < 1000; nr++) {
      char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
      if (name == NULL)
        continue;
      if (denied_in_big(name))
        free(name);
      else
        big_names[n++] = name;
    }
  }
  size_t n = 0;
  while (big_names[n] != NULL)
    n++;
  big_calls[0] = (struct spec_seccomp_syscall){.names = big_names, .n_names = n, .action = SECCOMP_ACTION_ALLOW};
  big_calls[1] = rule(n_personality, SECCOMP_ACTION_ALLOW);
  big_calls[1].args = big_pers;
  big_calls[1].n_args = ARRAY_SIZE(big_pers);
  big_calls[2] = rule(n_clone, SECCOMP_ACTION_ALLOW);
  big_calls[2].args = &big_clone;
  big_calls[2].n_args = 1;
  return (struct spec_seccomp){.default_action = SECCOMP_ACTION_ERRNO, .has_default_errno_ret = true,
                               .default_errno_ret = 1, .architectures = archs3, .n_architectures = 3,
                               .syscalls = big_calls, .n_syscalls = 3};
}

static void free_big_names(void) {
  for (size_t i = 0; big_names != NULL && big_names[i] != NULL; i++)
    free(big_names[i]);
  free(big_names);
  big_names = NULL;
}

/* ---- helpers ---- */

/* libseccomp's own export of the profile. */
static unsigned char *export_bytes(const struct spec_seccomp *sc, size_t *len) {
  cleanup_close int fd = memfd_create("bpf", MFD_CLOEXEC);
  cleanup_error berth_error *err = NULL;
  if (fd < 0 || seccomp_spec_export_bpf(sc, fd, &err) < 0) {
    printf("#   export: %s\n", err != NULL ? err->msg : strerror(errno));
    return NULL;
  }
  lseek(fd, 0, SEEK_SET);
  return (unsigned char *)fs_read_fd(fd, len, NULL);
}

static bool same_as_export(const struct spec_seccomp *sc, const struct seccomp_program *p) {
  size_t len = 0;
  cleanup_free unsigned char *want = export_bytes(sc, &len);
  if (want == NULL || p->insns == NULL)
    return false;
  if (len != p->n_insns * sizeof(struct sock_filter)) {
    printf("#   program of %zu instructions, libseccomp exports %zu\n", p->n_insns, len / 8);
    return false;
  }
  return memcmp(want, p->insns, len) == 0;
}

/* seccomp_cache_get under `rootdir_fd`; -1 on failure, else whether it hit. */
static int cache_get(int dirfd, const struct spec_seccomp *sc, struct seccomp_program *p) {
  cleanup_error berth_error *err = NULL;
  bool hit = false;
  if (seccomp_cache_get(dirfd, sc, p, &hit, &err) < 0) {
    printf("#   cache get: %s\n", err != NULL ? err->msg : "?");
    return -1;
  }
  return hit;
}

static char *entry_path(const char *dir, const struct spec_seccomp *sc) {
  size_t len = 0;
  cleanup_free unsigned char *key = seccomp_cache_key(sc, &len, NULL);
  if (key == NULL)
    return NULL;
  char name[17];
  seccomp_cache_entry_name(key, len, name);
  char *path = NULL;
  if (asprintf(&path, "%s/" SECCOMP_CACHE_DIR "/%s", dir, name) < 0)
    return NULL;
  return path;
}

static off_t file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Entries in <dir>/seccomp-cache, and whether any is a leftover temp file. */
static int count_entries(const char *dir, bool *temp_left) {
  char path[256];
  snprintf(path, sizeof(path), "%s/" SECCOMP_CACHE_DIR, dir);
  DIR *d = opendir(path);
  if (d == NULL)
    return -1;
  int n = 0;
  *temp_left = false;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    n++;
    if (strlen(de->d_name) != 16)
      *temp_left = true;
  }
  closedir(d);
  return n;
}

static char *make_root(char *tmpl) {
  return mkdtemp(tmpl);
}

/* ---- tests ---- */

static void check_profile(const char *what, const struct spec_seccomp *sc, unsigned want_flags) {
  struct seccomp_program p = {0};
  int hit = cache_get(rootfd, sc, &p);
  if (hit != 0)
    printf("#   %s: first get: %d (want a miss)\n", what, hit);
  EXPECT(hit == 0);
  EXPECT(same_as_export(sc, &p));
  EXPECT(p.flags == want_flags);
  seccomp_program_clear(&p);

  hit = cache_get(rootfd, sc, &p);
  if (hit != 1)
    printf("#   %s: second get: %d (want a hit)\n", what, hit);
  EXPECT(hit == 1);
  EXPECT(same_as_export(sc, &p));
  EXPECT(p.flags == want_flags);

  /* what the cache stores is what the compiler gives */
  struct seccomp_program q = {0};
  cleanup_error berth_error *err = NULL;
  EXPECT(seccomp_spec_compile(sc, &q, &err) == 0);
  EXPECT(q.n_insns == p.n_insns && q.insns != NULL && memcmp(q.insns, p.insns, p.n_insns * 8) == 0);
  seccomp_program_clear(&q);
  seccomp_program_clear(&p);
}

static void test_matches_libseccomp_export(void) {
  struct spec_seccomp small = small_profile();
  check_profile("small", &small, 0);

  struct spec_seccomp with_args = args_profile();
  check_profile("args", &with_args, 0);

  struct spec_seccomp big = big_profile();
  check_profile("big", &big, 0);

  char *log_flag[] = {"SECCOMP_FILTER_FLAG_LOG", NULL};
  struct spec_seccomp logged = small_profile();
  logged.architectures = archs3;
  logged.n_architectures = 3;
  logged.flags = log_flag;
  logged.n_flags = 1;
  check_profile("log", &logged, SECCOMP_FILTER_FLAG_LOG);

  char *more_flags[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL};
  struct spec_seccomp tsync = small_profile();
  tsync.flags = more_flags;
  tsync.n_flags = 2;
  unsigned want = SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  if (seccomp_api_get() >= 6)
    want |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH; /* as libseccomp passes it */
  check_profile("tsync", &tsync, want);

  /* the directory is the runtime's alone */
  char dir[256];
  snprintf(dir, sizeof(dir), "%s/" SECCOMP_CACHE_DIR, root);
  struct stat st;
  EXPECT(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
  bool temp_left = true;
  EXPECT(count_entries(root, &temp_left) == 5);
  EXPECT(!temp_left);
}

/* Any change to a profile makes another key, hence another entry. */
static void test_changed_profile_other_entry(void) {
  struct spec_seccomp base = small_profile();
  size_t base_len = 0;
  cleanup_free unsigned char *base_key = seccomp_cache_key(&base, &base_len, NULL);
  EXPECT(base_key != NULL);
  /* deterministic */
  size_t again_len = 0;
  cleanup_free unsigned char *again = seccomp_cache_key(&base, &again_len, NULL);
  EXPECT(again != NULL && again_len == base_len && memcmp(again, base_key, base_len) == 0);

  struct spec_seccomp_arg other_arg = pers_arg;
  struct spec_seccomp_syscall calls[3];
  int changed = 0, distinct = 0;
  for (int variant = 0; variant < 11; variant++) {
    struct spec_seccomp v = small_profile();
    memcpy(calls, small_calls, sizeof(calls));
    v.syscalls = calls;
    other_arg = pers_arg;
    switch (variant) {
    case 0: v.default_action = SECCOMP_ACTION_LOG; break;
    case 1: v.has_default_errno_ret = true; break;
    case 2: calls[0].errno_ret = 124; break;
    case 3: calls[1].names = n_mkdir; calls[1].n_names = 1; break;
    case 4: calls[1].names = n_rmdir_mkdir; break;
    case 5: other_arg.value = 0xfffffffe; calls[2].args = &other_arg; break;
    case 6: other_arg.op = SECCOMP_OP_NE; calls[2].args = &other_arg; break;
    case 7: other_arg.index = 1; calls[2].args = &other_arg; break;
    case 8: other_arg.value_two = 1; calls[2].args = &other_arg; break;
    case 9: v.architectures = archs3; v.n_architectures = 1; break;
    case 10: v.n_syscalls = 2; break;
    }
    changed++;
    size_t len = 0;
    cleanup_free unsigned char *key = seccomp_cache_key(&v, &len, NULL);
    if (key != NULL && (len != base_len || memcmp(key, base_key, len) != 0))
      distinct++;
    else
      printf("#   variant %d has the base profile's key\n", variant);
  }
  EXPECT(distinct == changed);

  /* names are length-prefixed: ["ab", "c"] and ["a", "bc"] differ */
  struct spec_seccomp_syscall split1[] = {rule(NAMES("ab", "c"), SECCOMP_ACTION_ERRNO)};
  struct spec_seccomp_syscall split2[] = {rule(NAMES("a", "bc"), SECCOMP_ACTION_ERRNO)};
  struct spec_seccomp s1 = {.default_action = SECCOMP_ACTION_ALLOW, .syscalls = split1, .n_syscalls = 1};
  struct spec_seccomp s2 = {.default_action = SECCOMP_ACTION_ALLOW, .syscalls = split2, .n_syscalls = 1};
  size_t l1 = 0, l2 = 0;
  cleanup_free unsigned char *k1 = seccomp_cache_key(&s1, &l1, NULL);
  cleanup_free unsigned char *k2 = seccomp_cache_key(&s2, &l2, NULL);
  EXPECT(k1 != NULL && k2 != NULL && (l1 != l2 || memcmp(k1, k2, l1) != 0));

  /* two profiles, two entries, each with its own program */
  char dir[] = "/tmp/berth-seccache-XXXXXX";
  EXPECT(make_root(dir) != NULL);
  cleanup_close int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct spec_seccomp a = small_profile();
  struct seccomp_program pa = {0}, pb = {0};
  EXPECT(cache_get(dfd, &a, &pa) == 0);
  memcpy(calls, small_calls, sizeof(calls));
  calls[0].errno_ret = 124;
  struct spec_seccomp b = a;
  b.syscalls = calls;
  EXPECT(cache_get(dfd, &b, &pb) == 0); /* a miss: not a's entry */
  EXPECT(same_as_export(&b, &pb));
  EXPECT(pa.n_insns == pb.n_insns && memcmp(pa.insns, pb.insns, pa.n_insns * 8) != 0);
  cleanup_free char *path_a = entry_path(dir, &a);
  cleanup_free char *path_b = entry_path(dir, &b);
  EXPECT(path_a != NULL && path_b != NULL && strcmp(path_a, path_b) != 0);
  EXPECT(file_size(path_a) > 0 && file_size(path_b) > 0);
  seccomp_program_clear(&pa);
  seccomp_program_clear(&pb);
  EXPECT(cache_get(dfd, &a, &pa) == 1 && same_as_export(&a, &pa));
  EXPECT(cache_get(dfd, &b, &pb) == 1 && same_as_export(&b, &pb));
  seccomp_program_clear(&pa);
  seccomp_program_clear(&pb);
  fs_remove_tree_at(AT_FDCWD, dir, NULL);
}

/* Damages the entry of sc with fn, then checks the next get misses, gives
 * the right program and leaves a good entry behind. */
static void check_repaired(const char *what, const struct spec_seccomp *sc, void (*damage)(const char *path)) {
  cleanup_free char *path = entry_path(root, sc);
  struct seccomp_program p = {0};
  EXPECT(path != NULL && cache_get(rootfd, sc, &p) >= 0);
  seccomp_program_clear(&p);
  size_t good_len = 0;
  cleanup_free char *good = fs_read_file_at(AT_FDCWD, path, &good_len, NULL);
  EXPECT(good != NULL);

  damage(path);
  int hit = cache_get(rootfd, sc, &p);
  if (hit != 0)
    printf("#   %s: damaged entry gave %d (want a miss)\n", what, hit);
  EXPECT(hit == 0);
  EXPECT(same_as_export(sc, &p));
  seccomp_program_clear(&p);

  size_t len = 0;
  cleanup_free char *now = fs_read_file_at(AT_FDCWD, path, &len, NULL);
  EXPECT(now != NULL && good != NULL && len == good_len && memcmp(now, good, len) == 0);
  EXPECT(cache_get(rootfd, sc, &p) == 1);
  EXPECT(same_as_export(sc, &p));
  seccomp_program_clear(&p);
}

static void truncate_half(const char *path) {
  EXPECT(truncate(path, file_size(path) / 2) == 0);
}

static void truncate_last_byte(const char *path) {
  EXPECT(truncate(path, file_size(path) - 1) == 0);
}

static void make_empty(const char *path) {
  EXPECT(truncate(path, 0) == 0);
}

static void flip_byte_at(const char *path, off_t at) {
  int fd = open(path, O_RDWR | O_CLOEXEC);
  unsigned char c = 0;
  EXPECT(fd >= 0 && pread(fd, &c, 1, at) == 1);
  c ^= 0x40;
  EXPECT(pwrite(fd, &c, 1, at) == 1);
  close(fd);
}

static void flip_in_program(const char *path) {
  flip_byte_at(path, file_size(path) - 8 - 5); /* an instruction's k */
}

static void flip_in_key(const char *path) {
  flip_byte_at(path, 16 + 30);
}

static void flip_in_magic(const char *path) {
  flip_byte_at(path, 0);
}

static void garbage(const char *path) {
  char junk[4096];
  memset(junk, 'x', sizeof(junk));
  EXPECT(fs_write_file_at(AT_FDCWD, path, junk, sizeof(junk), 0600, NULL) == 0);
}

/* Another profile's valid entry under this profile's name (a collision). */
static void other_profiles_entry(const char *path) {
  struct spec_seccomp other = args_profile();
  struct seccomp_program p = {0};
  EXPECT(cache_get(rootfd, &other, &p) >= 0);
  seccomp_program_clear(&p);
  cleanup_free char *other_path = entry_path(root, &other);
  EXPECT(other_path != NULL && rename(other_path, path) == 0);
}

static void replace_by_directory(const char *path) {
  EXPECT(unlink(path) == 0 && mkdir(path, 0700) == 0);
}

static void test_corrupt_entry_replaced(void) {
  struct spec_seccomp sc = small_profile();
  check_repaired("half", &sc, truncate_half);
  check_repaired("last byte", &sc, truncate_last_byte);
  check_repaired("empty", &sc, make_empty);
  check_repaired("program byte", &sc, flip_in_program);
  check_repaired("key byte", &sc, flip_in_key);
  check_repaired("magic", &sc, flip_in_magic);
  check_repaired("garbage", &sc, garbage);
  check_repaired("collision", &sc, other_profiles_entry);

  /* something that cannot be replaced: compiled all the same */
  cleanup_free char *path = entry_path(root, &sc);
  replace_by_directory(path);
  struct seccomp_program p = {0};
  EXPECT(cache_get(rootfd, &sc, &p) == 0);
  EXPECT(same_as_export(&sc, &p));
  seccomp_program_clear(&p);
  EXPECT(rmdir(path) == 0);
  bool temp_left = true;
  EXPECT(count_entries(root, &temp_left) > 0);
  EXPECT(!temp_left);
}

/* A cache directory others can write to is not used; the program still is. */
static void test_untrusted_dir_unused(void) {
  char dir[] = "/tmp/berth-seccache-XXXXXX";
  EXPECT(make_root(dir) != NULL);
  cleanup_close int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  char cache[256];
  snprintf(cache, sizeof(cache), "%s/" SECCOMP_CACHE_DIR, dir);
  EXPECT(mkdir(cache, 0700) == 0 && chmod(cache, 0777) == 0);
  struct spec_seccomp sc = small_profile();
  struct seccomp_program p = {0};
  EXPECT(cache_get(dfd, &sc, &p) == 0);
  EXPECT(same_as_export(&sc, &p));
  seccomp_program_clear(&p);
  bool temp_left = false;
  EXPECT(count_entries(dir, &temp_left) == 0);
  EXPECT(cache_get(dfd, &sc, &p) == 0); /* never a hit */
  seccomp_program_clear(&p);

  EXPECT(chmod(cache, 0700) == 0);
  EXPECT(cache_get(dfd, &sc, &p) == 0);
  seccomp_program_clear(&p);
  EXPECT(cache_get(dfd, &sc, &p) == 1);
  seccomp_program_clear(&p);
  fs_remove_tree_at(AT_FDCWD, dir, NULL);
}

/* Many containers starting at once: every writer's program is right, one
 * whole entry is left and no temporary file. */
static void test_concurrent_writers(void) {
  char dir[] = "/tmp/berth-seccache-XXXXXX";
  EXPECT(make_root(dir) != NULL);
  struct spec_seccomp sc = big_profile();
  size_t want_len = 0;
  cleanup_free unsigned char *want = export_bytes(&sc, &want_len);
  int go[2];
  EXPECT(want != NULL && pipe(go) == 0);
  enum { WRITERS = 8 };
  pid_t pids[WRITERS];
  fflush(stdout);
  for (int i = 0; i < WRITERS; i++) {
    pids[i] = fork();
    if (pids[i] == 0) {
      close(go[1]);
      char c;
      if (read(go[0], &c, 1) < 0)
        _exit(3);
      int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      struct seccomp_program p = {0};
      berth_error *err = NULL;
      bool hit;
      if (seccomp_cache_get(dfd, &sc, &p, &hit, &err) < 0)
        _exit(2);
      _exit(p.n_insns * 8 == want_len && memcmp(p.insns, want, want_len) == 0 ? 0 : 1);
    }
  }
  close(go[0]);
  close(go[1]); /* all start now */
  int ok = 0;
  for (int i = 0; i < WRITERS; i++) {
    int status = -1;
    if (pids[i] > 0 && waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      ok++;
  }
  EXPECT(ok == WRITERS);
  bool temp_left = true;
  EXPECT(count_entries(dir, &temp_left) == 1);
  EXPECT(!temp_left);
  cleanup_close int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct seccomp_program p = {0};
  EXPECT(cache_get(dfd, &sc, &p) == 1);
  EXPECT(same_as_export(&sc, &p));
  seccomp_program_clear(&p);
  fs_remove_tree_at(AT_FDCWD, dir, NULL);
}

static void test_not_precompilable(void) {
  struct spec_seccomp_syscall calls[] = {rule(NAMES("mkdir"), SECCOMP_ACTION_NOTIFY)};
  struct spec_seccomp sc = {.default_action = SECCOMP_ACTION_ALLOW, .syscalls = calls, .n_syscalls = 1};
  EXPECT(!seccomp_spec_precompilable(&sc));
  struct seccomp_program p = {0};
  cleanup_error berth_error *err = NULL;
  EXPECT(seccomp_cache_get(rootfd, &sc, &p, NULL, &err) < 0 && p.insns == NULL);
  struct spec_seccomp plain = small_profile();
  EXPECT(seccomp_spec_precompilable(&plain));
  char *waitkill[] = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL};
  plain.flags = waitkill;
  plain.n_flags = 1;
  EXPECT(!seccomp_spec_precompilable(&plain));
}

/* ---- what the kernel ends up with ---- */

/* Loads sc in a traced child (libseccomp's seccomp_install, or the cached
 * program), stops it and reads its filter and flags back. */
static int loaded_filter(const struct spec_seccomp *sc, const struct seccomp_program *prog,
                         struct sock_filter **insns, long *n, uint64_t *flags) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    berth_error *err = NULL;
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
      _exit(3);
    int rc = prog != NULL ? seccomp_program_load(prog, &err) : seccomp_install(sc, NULL, &err);
    if (rc < 0)
      _exit(2);
    raise(SIGSTOP);
    _exit(0);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
    printf("#   child did not stop (status 0x%x)\n", status);
    return -1;
  }
  int ret = -1;
  *n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, NULL);
  if (*n > 0) {
    *insns = calloc((size_t)*n, sizeof(struct sock_filter));
    struct __ptrace_seccomp_metadata md = {.filter_off = 0};
    if (ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, *insns) == *n &&
        ptrace(PTRACE_SECCOMP_GET_METADATA, pid, sizeof(md), &md) >= 0) {
      *flags = md.flags;
      ret = 0;
    }
  }
  if (ret < 0)
    ret = errno == EPERM || errno == EACCES || errno == EINVAL || errno == EIO ? 1 : -1;
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return ret;
}

static void check_loaded(const char *what, const struct spec_seccomp *sc) {
  struct seccomp_program p = {0};
  EXPECT(cache_get(rootfd, sc, &p) >= 0);
  cleanup_free struct sock_filter *want = NULL, *got = NULL;
  long n_want = 0, n_got = 0;
  uint64_t f_want = 0, f_got = 0;
  int r1 = loaded_filter(sc, NULL, &want, &n_want, &f_want);
  int r2 = loaded_filter(sc, &p, &got, &n_got, &f_got);
  if (r1 == 1 || r2 == 1) {
    printf("#   skip %s: cannot read filters back with ptrace here\n", what);
  } else {
    EXPECT(r1 == 0 && r2 == 0);
    if (n_want != n_got)
      printf("#   %s: kernel holds %ld instructions from libseccomp, %ld from the cache\n", what, n_want, n_got);
    EXPECT(n_want == n_got && n_want > 0 && memcmp(want, got, (size_t)n_want * sizeof(*want)) == 0);
    EXPECT(f_want == f_got);
  }
  seccomp_program_clear(&p);
}

static void test_kernel_gets_the_same_filter(void) {
  struct spec_seccomp small = small_profile();
  check_loaded("small", &small);
  struct spec_seccomp big = big_profile();
  check_loaded("big", &big);
  char *log_flag[] = {"SECCOMP_FILTER_FLAG_LOG", NULL};
  struct spec_seccomp logged = small_profile();
  logged.flags = log_flag;
  logged.n_flags = 1;
  check_loaded("log", &logged);
  char *more_flags[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL};
  struct spec_seccomp tsync = small_profile();
  tsync.flags = more_flags;
  tsync.n_flags = 2;
  check_loaded("tsync", &tsync);
}

/* Runs probes under the filter (from libseccomp's seccomp_install when prog
 * is NULL, else the cached program) in a child; returns the results, one
 * "rc errno" line per probe, and the child's wait status. */
static char *probe_under_filter(const struct spec_seccomp *sc, const struct seccomp_program *prog, int *status) {
  int out[2];
  if (pipe(out) < 0)
    return NULL;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(out[0]);
    int fd = memfd_create("data", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 64) < 0)
      _exit(100);
    berth_error *err = NULL;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        (prog != NULL ? seccomp_program_load(prog, &err) : seccomp_install(sc, NULL, &err)) < 0)
      _exit(101);
    long probes[16];
    int errs[16];
    size_t i = 0;
    errno = 0; probes[i] = syscall(SYS_umask, 022); errs[i++] = errno;
    errno = 0; probes[i] = syscall(SYS_umask, 077); errs[i++] = errno;
    errno = 0; probes[i] = syscall(SYS_umask, 027); errs[i++] = errno;
    errno = 0; probes[i] = syscall(SYS_lseek, fd, 7, SEEK_SET); errs[i++] = errno;
    errno = 0; probes[i] = syscall(SYS_lseek, fd, 7, SEEK_CUR); errs[i++] = errno;
    errno = 0; probes[i] = syscall(SYS_lseek, fd, 3, SEEK_SET); errs[i++] = errno;
    errno = 0; probes[i] = syscall(SYS_flock, fd, LOCK_SH | LOCK_NB); errs[i++] = errno;
    errno = 0; probes[i] = syscall(SYS_flock, fd, LOCK_SH); errs[i++] = errno;
    errno = 0; probes[i] = syscall(SYS_flock, fd, LOCK_EX | LOCK_NB); errs[i++] = errno;
    errno = 0; probes[i] = syscall(SYS_getcwd, NULL, 0); errs[i++] = errno;
    errno = 0; probes[i] = syscall(SYS_getpid) > 0; errs[i++] = errno;
    char buf[1024];
    size_t used = 0;
    for (size_t k = 0; k < i; k++)
      used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%ld %d\n", probes[k], errs[k]);
    if (syscall(SYS_write, out[1], buf, used) != (long)used)
      syscall(SYS_exit_group, 102);
    syscall(SYS_getppid); /* KILL_PROCESS */
    syscall(SYS_exit_group, 0);
  }
  close(out[1]);
  size_t len = 0;
  char *text = pid > 0 ? fs_read_fd(out[0], &len, NULL) : NULL;
  close(out[0]);
  *status = -1;
  if (pid > 0)
    waitpid(pid, status, 0);
  return text;
}

/* The cached program enforces the profile exactly as libseccomp's load of
 * it does: errno values, argument conditions, the default, a killing rule. */
static void test_enforced_from_cache(void) {
  struct spec_seccomp sc = args_profile();
  struct seccomp_program p = {0};
  EXPECT(cache_get(rootfd, &sc, &p) >= 0);
  seccomp_program_clear(&p);
  EXPECT(cache_get(rootfd, &sc, &p) == 1); /* loads what a hit gives */
  int want_status = 0, got_status = 0;
  cleanup_free char *want = probe_under_filter(&sc, NULL, &want_status);
  cleanup_free char *got = probe_under_filter(&sc, &p, &got_status);
  EXPECT_STR(got, want);
  EXPECT(got_status == want_status);
  EXPECT(WIFSIGNALED(got_status) && WTERMSIG(got_status) == SIGSYS);
  /* and the results are the profile's */
  EXPECT_STR(got, "-1 55\n-1 55\n-1 38\n" /* umask: 022 and 077 denied, others to the default */
                  "-1 66\n-1 38\n-1 38\n" /* lseek: fd 7 SEEK_SET denied, others to the default */
                  "-1 44\n-1 38\n-1 38\n" /* flock: LOCK_NB without LOCK_EX denied */
                  "-1 38\n"                /* getcwd: the default */
                  "1 0\n");                /* getpid: allowed */
  seccomp_program_clear(&p);
}

int main(void) {
  if (make_root(root) == NULL) {
    printf("Bail out! mkdtemp: %s\n", strerror(errno));
    return 1;
  }
  rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  RUN(test_matches_libseccomp_export);
  RUN(test_changed_profile_other_entry);
  RUN(test_corrupt_entry_replaced);
  RUN(test_untrusted_dir_unused);
  RUN(test_concurrent_writers);
  RUN(test_not_precompilable);
  RUN(test_kernel_gets_the_same_filter);
  RUN(test_enforced_from_cache);
  close(rootfd);
  fs_remove_tree_at(AT_FDCWD, root, NULL);
  free_big_names();
  return tap_done();
}
