/* linux.seccomp -> a libseccomp filter.
 *
 * The spec has already been decoded by spec.c (actions and operators as
 * enums); architecture and flag names arrive as strings and are checked
 * here, where the tables that give them meaning live. */
#include "runtime/seccomp.h"

#include <errno.h>
#include <limits.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/log.h"

/* libseccomp 2.6 added SCMP_FLTATR_CTL_WAITKILL, an enum value (so it cannot
 * be tested with #ifdef). */
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
#define HAVE_SCMP_WAITKILL 1
#endif

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* Indexed by enum spec_seccomp_action. */
const char *const seccomp_action_names[] = {
    [SECCOMP_ACTION_KILL] = "SCMP_ACT_KILL",
    [SECCOMP_ACTION_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
    [SECCOMP_ACTION_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
    [SECCOMP_ACTION_TRAP] = "SCMP_ACT_TRAP",
    [SECCOMP_ACTION_ERRNO] = "SCMP_ACT_ERRNO",
    [SECCOMP_ACTION_TRACE] = "SCMP_ACT_TRACE",
    [SECCOMP_ACTION_ALLOW] = "SCMP_ACT_ALLOW",
    [SECCOMP_ACTION_LOG] = "SCMP_ACT_LOG",
    [SECCOMP_ACTION_NOTIFY] = "SCMP_ACT_NOTIFY",
    [SECCOMP_ACTION_NOTIFY + 1] = NULL,
};

/* Indexed by enum spec_seccomp_op. */
const char *const seccomp_op_names[] = {
    [SECCOMP_OP_NE] = "SCMP_CMP_NE",
    [SECCOMP_OP_LT] = "SCMP_CMP_LT",
    [SECCOMP_OP_LE] = "SCMP_CMP_LE",
    [SECCOMP_OP_EQ] = "SCMP_CMP_EQ",
    [SECCOMP_OP_GE] = "SCMP_CMP_GE",
    [SECCOMP_OP_GT] = "SCMP_CMP_GT",
    [SECCOMP_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
    [SECCOMP_OP_MASKED_EQ + 1] = NULL,
};

static const enum scmp_compare op_map[] = {
    [SECCOMP_OP_NE] = SCMP_CMP_NE,
    [SECCOMP_OP_LT] = SCMP_CMP_LT,
    [SECCOMP_OP_LE] = SCMP_CMP_LE,
    [SECCOMP_OP_EQ] = SCMP_CMP_EQ,
    [SECCOMP_OP_GE] = SCMP_CMP_GE,
    [SECCOMP_OP_GT] = SCMP_CMP_GT,
    [SECCOMP_OP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

struct arch_entry {
  const char *name;
  uint32_t token;
};

/* Only the architectures this libseccomp knows; the tokens are macros, so
 * a newer library's additions appear when berth is rebuilt against it. */
static const struct arch_entry arch_table[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
#ifdef SCMP_ARCH_LOONGARCH64
    {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#endif
#ifdef SCMP_ARCH_M68K
    {"SCMP_ARCH_M68K", SCMP_ARCH_M68K},
#endif
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
#ifdef SCMP_ARCH_SHEB
    {"SCMP_ARCH_SHEB", SCMP_ARCH_SHEB},
#endif
#ifdef SCMP_ARCH_SH
    {"SCMP_ARCH_SH", SCMP_ARCH_SH},
#endif
};

const char *const seccomp_arch_names[] = {
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
#ifdef SCMP_ARCH_LOONGARCH64
    "SCMP_ARCH_LOONGARCH64",
#endif
#ifdef SCMP_ARCH_M68K
    "SCMP_ARCH_M68K",
#endif
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
#ifdef SCMP_ARCH_SHEB
    "SCMP_ARCH_SHEB",
#endif
#ifdef SCMP_ARCH_SH
    "SCMP_ARCH_SH",
#endif
    NULL,
};

_Static_assert(ARRAY_SIZE(seccomp_arch_names) == ARRAY_SIZE(arch_table) + 1, "arch tables out of step");

struct flag_entry {
  const char *name;
  int attr;              /* enum scmp_filter_attr, or -1 when libseccomp has none */
  unsigned int min_api;  /* seccomp_api_get() level that supports it */
  unsigned int kernel;   /* the SECCOMP_FILTER_FLAG_* seccomp_load passes for it */
};

static const struct flag_entry flag_table[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC, 2, SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG, 3, SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB, 4, SECCOMP_FILTER_FLAG_SPEC_ALLOW},
#ifdef HAVE_SCMP_WAITKILL
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SCMP_FLTATR_CTL_WAITKILL, 7, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
#else
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", -1, 0, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
#endif
};

const char *const seccomp_flag_names[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    NULL,
};

_Static_assert(ARRAY_SIZE(seccomp_flag_names) == ARRAY_SIZE(flag_table) + 1, "flag tables out of step");

/* seccomp(2) argument numbers run 0..5. */
#define SECCOMP_MAX_ARGS 6
/* Same-index alternatives multiply into separate rules; a profile that needs
 * more than this is almost certainly a mistake, and would bloat the filter. */
#define SECCOMP_MAX_COMBINATIONS 256

static void cleanup_scmp_ctxp(scmp_filter_ctx *ctx) {
  if (*ctx != NULL)
    seccomp_release(*ctx);
}
#define cleanup_scmp __attribute__((cleanup(cleanup_scmp_ctxp)))

static const struct arch_entry *find_arch(const char *name) {
  for (size_t i = 0; i < ARRAY_SIZE(arch_table); i++)
    if (strcmp(arch_table[i].name, name) == 0)
      return &arch_table[i];
  return NULL;
}

static const struct flag_entry *find_flag(const char *name) {
  for (size_t i = 0; i < ARRAY_SIZE(flag_table); i++)
    if (strcmp(flag_table[i].name, name) == 0)
      return &flag_table[i];
  return NULL;
}

bool seccomp_flag_supported(const char *flag) {
  const struct flag_entry *f = find_flag(flag);
  return f != NULL && f->attr >= 0 && seccomp_api_get() >= f->min_api;
}

/* The entry for a spec flag name, or an error as a build reports it. */
static const struct flag_entry *usable_flag(const char *name, berth_error **err) {
  const struct flag_entry *f = find_flag(name);
  if (f == NULL) {
    berth_fail(err, 0, "seccomp: unknown flag \"%s\"", name);
    return NULL;
  }
  if (f->attr < 0 || seccomp_api_get() < f->min_api) {
    char version[32];
    seccomp_library_version(version, sizeof(version));
    berth_fail(err, 0, "seccomp: flag %s is not supported by libseccomp %s on this kernel", f->name, version);
    return NULL;
  }
  return f;
}

void seccomp_library_version(char *buf, size_t len) {
  const struct scmp_version *v = seccomp_version();
  if (v == NULL)
    snprintf(buf, len, "%d.%d.%d", SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
  else
    snprintf(buf, len, "%u.%u.%u", v->major, v->minor, v->micro);
}

static const char *action_name(enum spec_seccomp_action action) {
  if ((size_t)action < ARRAY_SIZE(seccomp_action_names) - 1)
    return seccomp_action_names[action];
  return "unknown action";
}

/* The libseccomp action for a spec action; `what` names the rule for errors.
 * ERRNO and TRACE carry errnoRet (EPERM when absent, as runc does). */
static int map_action(enum spec_seccomp_action action, bool has_ret, unsigned ret, const char *what,
                      uint32_t *out, berth_error **err) {
  if (has_ret && ret > 0xffff)
    return berth_fail(err, 0, "seccomp: %s: errnoRet %u does not fit in 16 bits", what, ret);
  unsigned value = has_ret ? ret : EPERM;
  switch (action) {
  case SECCOMP_ACTION_KILL:
    *out = SCMP_ACT_KILL;
    return 0;
  case SECCOMP_ACTION_KILL_PROCESS:
    *out = SCMP_ACT_KILL_PROCESS;
    return 0;
  case SECCOMP_ACTION_KILL_THREAD:
    *out = SCMP_ACT_KILL_THREAD;
    return 0;
  case SECCOMP_ACTION_TRAP:
    *out = SCMP_ACT_TRAP;
    return 0;
  case SECCOMP_ACTION_ERRNO:
    *out = SCMP_ACT_ERRNO(value);
    return 0;
  case SECCOMP_ACTION_TRACE:
    *out = SCMP_ACT_TRACE(value);
    return 0;
  case SECCOMP_ACTION_ALLOW:
    *out = SCMP_ACT_ALLOW;
    return 0;
  case SECCOMP_ACTION_LOG:
    *out = SCMP_ACT_LOG;
    return 0;
  case SECCOMP_ACTION_NOTIFY:
    *out = SCMP_ACT_NOTIFY;
    return 0;
  }
  return berth_fail(err, 0, "seccomp: %s: unknown action %d", what, (int)action);
}

/* Checks one syscall entry's arguments; shared by validate and build. */
static int check_args(const struct spec_seccomp_syscall *sc, const char *what, berth_error **err) {
  for (size_t i = 0; i < sc->n_args; i++) {
    const struct spec_seccomp_arg *a = &sc->args[i];
    if (a->index >= SECCOMP_MAX_ARGS)
      return berth_fail(err, 0, "seccomp: syscall %s: argument index %u is out of range (0-5)", what, a->index);
    if ((size_t)a->op >= ARRAY_SIZE(op_map))
      return berth_fail(err, 0, "seccomp: syscall %s: unknown operator %d", what, (int)a->op);
  }
  return 0;
}

/* The name used in messages for a syscall entry: its first name. */
static const char *entry_label(const struct spec_seccomp_syscall *sc) {
  return sc->n_names > 0 && sc->names[0] != NULL ? sc->names[0] : "(no name)";
}

/* Adds one rule per combination of same-index alternatives.  Comparisons on
 * distinct arguments in one rule are AND-ed by the kernel filter; libseccomp
 * refuses two comparisons on the same argument in one rule, and the spec
 * means them as alternatives, so each alternative gets its own rule (rules
 * are OR-ed).  For args [a0==1, a0==2, a1==5] that gives
 * (a0==1 && a1==5) || (a0==2 && a1==5). */
static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const char *name,
                    const struct spec_seccomp_syscall *sc, berth_error **err) {
  if (sc->n_args == 0) {
    int rc = seccomp_rule_add_array(ctx, action, nr, 0, NULL);
    if (rc < 0)
      return berth_fail(err, -rc, "seccomp: add rule for syscall %s", name);
    return 0;
  }

  /* count[i]: how many alternatives the entry gives for argument i. */
  size_t count[SECCOMP_MAX_ARGS] = {0};
  for (size_t i = 0; i < sc->n_args; i++)
    count[sc->args[i].index]++;
  size_t combinations = 1;
  for (int i = 0; i < SECCOMP_MAX_ARGS; i++) {
    if (count[i] == 0)
      continue;
    combinations *= count[i];
    if (combinations > SECCOMP_MAX_COMBINATIONS)
      return berth_fail(err, 0, "seccomp: syscall %s: too many argument alternatives (more than %d rules)", name,
                        SECCOMP_MAX_COMBINATIONS);
  }

  /* pick[i] selects which of the count[i] alternatives for argument i the
   * current rule uses; it counts like an odometer. */
  size_t pick[SECCOMP_MAX_ARGS] = {0};
  for (size_t n = 0; n < combinations; n++) {
    struct scmp_arg_cmp cmp[SECCOMP_MAX_ARGS];
    unsigned ncmp = 0;
    for (int idx = 0; idx < SECCOMP_MAX_ARGS; idx++) {
      if (count[idx] == 0)
        continue;
      size_t seen = 0;
      for (size_t i = 0; i < sc->n_args; i++) {
        const struct spec_seccomp_arg *a = &sc->args[i];
        if (a->index != (unsigned)idx)
          continue;
        if (seen++ != pick[idx])
          continue;
        /* For MASKED_EQ the spec's value is the mask and valueTwo the
         * expected result, which is libseccomp's datum_a/datum_b order. */
        cmp[ncmp++] = (struct scmp_arg_cmp){
            .arg = a->index, .op = op_map[a->op], .datum_a = a->value, .datum_b = a->value_two};
        break;
      }
    }
    int rc = seccomp_rule_add_array(ctx, action, nr, ncmp, cmp);
    if (rc < 0)
      return berth_fail(err, -rc, "seccomp: add rule for syscall %s", name);
    for (int idx = 0; idx < SECCOMP_MAX_ARGS; idx++) {
      if (count[idx] == 0)
        continue;
      if (++pick[idx] < count[idx])
        break;
      pick[idx] = 0;
    }
  }
  return 0;
}

static int add_syscall_entry(scmp_filter_ctx ctx, uint32_t default_action, const struct spec_seccomp_syscall *sc,
                             bool *uses_notify, berth_error **err) {
  const char *label = entry_label(sc);
  uint32_t action;
  if (check_args(sc, label, err) < 0)
    return -1;
  if (map_action(sc->action, sc->has_errno_ret, sc->errno_ret, label, &action, err) < 0)
    return -1;
  if (action == default_action) {
    /* libseccomp rejects a rule that repeats the default action, and it
     * would change nothing anyway. */
    berth_debug("seccomp: syscall %s: action %s is the default action, skipped", label, action_name(sc->action));
    return 0;
  }
  for (size_t i = 0; i < sc->n_names; i++) {
    const char *name = sc->names[i];
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) {
      /* Profiles list syscalls of newer kernels and other architectures;
       * like runc, skip those this libseccomp cannot resolve. */
      berth_debug("seccomp: syscall %s is unknown to libseccomp, skipped", name);
      continue;
    }
    if (add_rule(ctx, action, nr, name, sc, err) < 0)
      return -1;
    if (sc->action == SECCOMP_ACTION_NOTIFY)
      *uses_notify = true;
  }
  return 0;
}

static int build_filter(const struct spec_seccomp *spec, scmp_filter_ctx *out, bool *uses_notify,
                        berth_error **err) {
  *uses_notify = false;
  if (spec->default_action == SECCOMP_ACTION_NOTIFY)
    return berth_fail(err, 0, "seccomp: SCMP_ACT_NOTIFY cannot be the default action");
  uint32_t default_action;
  if (map_action(spec->default_action, spec->has_default_errno_ret, spec->default_errno_ret, "defaultAction",
                 &default_action, err) < 0)
    return -1;

  cleanup_scmp scmp_filter_ctx ctx = seccomp_init(default_action);
  if (ctx == NULL)
    return berth_fail(err, 0, "seccomp: create a filter with default action %s", action_name(spec->default_action));

  /* The caller sets no_new_privs itself when process.noNewPrivileges asks
   * for it; otherwise the kernel accepts the filter only from a process with
   * CAP_SYS_ADMIN (in its user namespace), so it must be loaded before the
   * capabilities are dropped. */
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (rc < 0)
    return berth_fail(err, -rc, "seccomp: clear the no_new_privs filter attribute");
  /* Without this libseccomp 2.5 reports every kernel refusal as ECANCELED;
   * the real errno is what the user needs to see.  Older libraries lack the
   * attribute, which only costs message quality. */
  (void)seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);

  for (size_t i = 0; i < spec->n_architectures; i++) {
    const struct arch_entry *a = find_arch(spec->architectures[i]);
    if (a == NULL)
      return berth_fail(err, 0, "seccomp: unknown architecture \"%s\"", spec->architectures[i]);
    rc = seccomp_arch_add(ctx, a->token);
    if (rc < 0 && rc != -EEXIST)
      return berth_fail(err, -rc, "seccomp: add architecture %s", a->name);
  }

  bool tsync = false;
  for (size_t i = 0; i < spec->n_flags; i++) {
    const struct flag_entry *f = usable_flag(spec->flags[i], err);
    if (f == NULL)
      return -1;
    rc = seccomp_attr_set(ctx, (enum scmp_filter_attr)f->attr, 1);
    if (rc < 0)
      return berth_fail(err, -rc, "seccomp: set flag %s", f->name);
    if (f->attr == SCMP_FLTATR_CTL_TSYNC)
      tsync = true;
  }

  for (size_t i = 0; i < spec->n_syscalls; i++)
    if (add_syscall_entry(ctx, default_action, &spec->syscalls[i], uses_notify, err) < 0)
      return -1;

  if (*uses_notify) {
    unsigned api = seccomp_api_get();
    if (api < 5)
      return berth_fail(err, 0, "seccomp: SCMP_ACT_NOTIFY is not supported by this kernel or libseccomp");
    if (tsync && api < 6)
      return berth_fail(err, 0,
                        "seccomp: SCMP_ACT_NOTIFY together with SECCOMP_FILTER_FLAG_TSYNC is not supported by "
                        "this kernel or libseccomp");
  }
  *out = TAKE_PTR(ctx);
  return 0;
}

int seccomp_install(const struct spec_seccomp *seccomp, int *notify_fd, berth_error **err) {
  if (notify_fd != NULL)
    *notify_fd = -1;
  bool uses_notify;
  cleanup_scmp scmp_filter_ctx ctx = NULL;
  if (build_filter(seccomp, &ctx, &uses_notify, err) < 0)
    return -1;
  int rc = seccomp_load(ctx);
  if (rc < 0)
    return berth_fail(err, -rc, "seccomp: load the filter");
  if (uses_notify) {
    /* libseccomp keeps the listener in process-wide state; seccomp_release
     * does not close it, so the caller owns it from here. */
    int fd = seccomp_notify_fd(ctx);
    if (fd < 0)
      return berth_fail(err, fd < -1 ? -fd : EBADF, "seccomp: get the notification fd");
    if (notify_fd != NULL)
      *notify_fd = fd;
    else
      close(fd); /* nobody to answer: notified syscalls now fail with ENOSYS */
  }
  return 0;
}

bool seccomp_spec_precompilable(const struct spec_seccomp *seccomp) {
  /* seccomp_spec_load_flags mirrors the load of libseccomp 2.5 and 2.6;
   * another version may pass other flags. */
  const struct scmp_version *v = seccomp_version();
  if (v == NULL || v->major != 2 || v->minor < 5 || v->minor > 6)
    return false;
  if (seccomp->default_action == SECCOMP_ACTION_NOTIFY)
    return false;
  for (size_t i = 0; i < seccomp->n_syscalls; i++)
    if (seccomp->syscalls[i].action == SECCOMP_ACTION_NOTIFY)
      return false;
  /* WAIT_KILLABLE_RECV only means something with a listener, which these
   * filters never have: leave whatever libseccomp makes of it to libseccomp. */
  for (size_t i = 0; i < seccomp->n_flags; i++)
    if (strcmp(seccomp->flags[i], "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0)
      return false;
  return true;
}

int seccomp_spec_load_flags(const struct spec_seccomp *seccomp, unsigned int *flags, berth_error **err) {
  *flags = 0;
  for (size_t i = 0; i < seccomp->n_flags; i++) {
    const struct flag_entry *f = usable_flag(seccomp->flags[i], err);
    if (f == NULL)
      return -1;
    *flags |= f->kernel;
  }
  /* libseccomp (sys_filter_load) adds TSYNC_ESRCH to TSYNC when the kernel
   * has it, which it learns with API level 6: a thread that cannot be
   * synchronized then fails the load with ESRCH instead of returning its id. */
  if ((*flags & SECCOMP_FILTER_FLAG_TSYNC) && seccomp_api_get() >= 6)
    *flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  return 0;
}

void seccomp_program_clear(struct seccomp_program *prog) {
  free(prog->insns);
  *prog = (struct seccomp_program){0};
}

/* seccomp_export_bpf writes to an fd only (libseccomp 2.5 has no export to
 * memory): a memfd, read back. */
int seccomp_spec_compile(const struct spec_seccomp *seccomp, struct seccomp_program *prog, berth_error **err) {
  *prog = (struct seccomp_program){0};
  bool uses_notify;
  cleanup_scmp scmp_filter_ctx ctx = NULL;
  if (build_filter(seccomp, &ctx, &uses_notify, err) < 0)
    return -1;
  if (uses_notify)
    return berth_fail(err, 0, "seccomp: a filter with SCMP_ACT_NOTIFY rules is only loaded by libseccomp");
  unsigned int flags;
  if (seccomp_spec_load_flags(seccomp, &flags, err) < 0)
    return -1;
  cleanup_close int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return berth_fail(err, errno, "seccomp: memfd for the BPF program");
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0)
    return berth_fail(err, -rc, "seccomp: export the BPF program");
  struct stat st;
  if (fstat(fd, &st) < 0)
    return berth_fail(err, errno, "seccomp: BPF program");
  size_t size = (size_t)st.st_size;
  if (size == 0 || size % sizeof(struct sock_filter) != 0 || size / sizeof(struct sock_filter) > USHRT_MAX)
    return berth_fail(err, 0, "seccomp: BPF program of %zu bytes", size);
  cleanup_free struct sock_filter *insns = malloc(size);
  if (insns == NULL)
    return berth_fail(err, ENOMEM, "seccomp: BPF program");
  for (size_t done = 0; done < size;) {
    ssize_t n = pread(fd, (char *)insns + done, size - done, (off_t)done);
    if (n <= 0)
      return berth_fail(err, n < 0 ? errno : EIO, "seccomp: read back the BPF program");
    done += (size_t)n;
  }
  prog->insns = TAKE_PTR(insns);
  prog->n_insns = size / sizeof(struct sock_filter);
  prog->flags = flags;
  return 0;
}

/* What libseccomp's seccomp_load does with the program, given the flags it
 * would pass (seccomp_spec_load_flags) and no listener: seccomp(2), or the
 * prctl of kernels before 3.17. */
int seccomp_program_load(const struct seccomp_program *prog, berth_error **err) {
  if (prog->n_insns == 0 || prog->n_insns > USHRT_MAX)
    return berth_fail(err, EINVAL, "seccomp: load a filter of %zu instructions", prog->n_insns);
  struct sock_fprog fprog = {.len = (unsigned short)prog->n_insns, .filter = prog->insns};
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, prog->flags, &fprog);
  if (rc < 0 && errno == ENOSYS && prog->flags == 0)
    rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog);
  if (rc > 0) /* TSYNC without TSYNC_ESRCH: the id of a thread left behind */
    return berth_fail(err, ESRCH, "seccomp: load the filter");
  if (rc < 0)
    return berth_fail(err, errno, "seccomp: load the filter");
  return 0;
}

int seccomp_spec_export_bpf(const struct spec_seccomp *seccomp, int fd, berth_error **err) {
  bool uses_notify;
  cleanup_scmp scmp_filter_ctx ctx = NULL;
  if (build_filter(seccomp, &ctx, &uses_notify, err) < 0)
    return -1;
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0)
    return berth_fail(err, -rc, "seccomp: export the BPF program");
  return 0;
}

int seccomp_validate(const struct spec_seccomp *seccomp, berth_error **err) {
  uint32_t action;
  if (seccomp->default_action == SECCOMP_ACTION_NOTIFY)
    return berth_fail(err, 0, "seccomp: SCMP_ACT_NOTIFY cannot be the default action");
  if (map_action(seccomp->default_action, seccomp->has_default_errno_ret, seccomp->default_errno_ret,
                 "defaultAction", &action, err) < 0)
    return -1;
  for (size_t i = 0; i < seccomp->n_architectures; i++)
    if (find_arch(seccomp->architectures[i]) == NULL)
      return berth_fail(err, 0, "seccomp: unknown architecture \"%s\"", seccomp->architectures[i]);
  for (size_t i = 0; i < seccomp->n_flags; i++)
    if (find_flag(seccomp->flags[i]) == NULL)
      return berth_fail(err, 0, "seccomp: unknown flag \"%s\"", seccomp->flags[i]);
  for (size_t i = 0; i < seccomp->n_syscalls; i++) {
    const struct spec_seccomp_syscall *sc = &seccomp->syscalls[i];
    const char *label = entry_label(sc);
    if (check_args(sc, label, err) < 0)
      return -1;
    if (map_action(sc->action, sc->has_errno_ret, sc->errno_ret, label, &action, err) < 0)
      return -1;
    for (size_t k = 0; k < sc->n_names; k++)
      if (seccomp_syscall_resolve_name(sc->names[k]) == __NR_SCMP_ERROR)
        berth_debug("seccomp: syscall %s is unknown to libseccomp, skipped", sc->names[k]);
  }
  return 0;
}

static bool action_lets_through(enum spec_seccomp_action a) {
  return a == SECCOMP_ACTION_ALLOW || a == SECCOMP_ACTION_LOG;
}

bool seccomp_lets_through(const struct spec_seccomp *seccomp, const char *syscall_name) {
  bool named = false;
  for (size_t i = 0; i < seccomp->n_syscalls; i++) {
    const struct spec_seccomp_syscall *sc = &seccomp->syscalls[i];
    for (size_t k = 0; k < sc->n_names; k++) {
      if (strcmp(sc->names[k], syscall_name) != 0)
        continue;
      named = true;
      /* A rule with argument conditions may not match: the default decides. */
      if (!action_lets_through(sc->action) || (sc->n_args > 0 && !action_lets_through(seccomp->default_action)))
        return false;
    }
  }
  return named || action_lets_through(seccomp->default_action);
}

/* sendmsg(2) on a stream socket may take part of the buffer; the fd travels
 * with the first byte, the rest follows with plain sends. */
static int send_rest(int sock, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = send(sock, data, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

int seccomp_send_to_listener(const char *listener_path, int notify_fd, const char *process_state_json,
                             berth_error **err) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  size_t plen = strlen(listener_path);
  if (plen == 0 || plen >= sizeof(addr.sun_path))
    return berth_fail(err, ENAMETOOLONG, "seccomp listener \"%s\"", listener_path);
  memcpy(addr.sun_path, listener_path, plen + 1);
  size_t len = strlen(process_state_json);
  if (len == 0)
    return berth_fail(err, EINVAL, "seccomp listener \"%s\": empty process state", listener_path);

  cleanup_close int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return berth_fail(err, errno, "seccomp listener \"%s\": create a socket", listener_path);
  int rc;
  do
    rc = connect(sock, (struct sockaddr *)&addr, sizeof(addr));
  while (rc < 0 && errno == EINTR);
  if (rc < 0)
    return berth_fail(err, errno, "connect to seccomp listener \"%s\"", listener_path);

  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof(control));
  struct iovec iov = {.iov_base = (void *)process_state_json, .iov_len = len};
  struct msghdr msg = {
      .msg_iov = &iov,
      .msg_iovlen = 1,
      .msg_control = control.buf,
      .msg_controllen = sizeof(control.buf),
  };
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &notify_fd, sizeof(int));

  ssize_t n;
  do
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return berth_fail(err, errno, "send the seccomp fd to listener \"%s\"", listener_path);
  if (send_rest(sock, process_state_json + n, len - (size_t)n) < 0)
    return berth_fail(err, errno, "send the process state to seccomp listener \"%s\"", listener_path);
  return 0;
}
