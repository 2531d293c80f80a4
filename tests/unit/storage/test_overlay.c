/* overlay_mount: 120 layers through the new mount API and through classic
 * mount(2) with short names; what the merged tree shows is checked from
 * the outside (file contents, a whiteout hiding a lower file, writes
 * landing in upper). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "storage/overlay.h"
#include "tap.h"
#include "util/fs.h"

#define LAYERS 120

static char base[] = "/tmp/berth-overlay-XXXXXX";

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f != NULL) {
    fputs(text, f);
    fclose(f);
  }
}

static char *read_text(const char *path) {
  berth_error *err = NULL;
  size_t len = 0;
  char *t = fs_read_file_at(AT_FDCWD, path, &len, &err);
  berth_error_free(err);
  return t;
}

/* layer 0 is the bottom; names are long (64 hex, as the store's) unless short. */
static void make_layers(char **paths, bool short_names) {
  char path[512];
  for (int i = 0; i < LAYERS; i++) {
    snprintf(path, sizeof(path), "%s/layers/%s%03d", base,
             short_names ? "" : "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abc", i);
    mkdir(path, 0755);
    paths[LAYERS - 1 - i] = strdup(path); /* top first */
    char file[600];
    snprintf(file, sizeof(file), "%s/f%d", path, i);
    write_file(file, "x");
    snprintf(file, sizeof(file), "%s/shadow", path);
    write_file(file, i == LAYERS - 1 ? "top" : "lower");
    if (i == 0) {
      snprintf(file, sizeof(file), "%s/gone", path);
      write_file(file, "should be hidden");
    }
    if (i == LAYERS - 1) {
      snprintf(file, sizeof(file), "%s/gone", path);
      mknod(file, S_IFCHR | 0000, makedev(0, 0));
    }
  }
}

static void check_merged(const char *how, bool short_names) {
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "rm -rf %s/layers %s/upper %s/work %s/merged; mkdir -p %s/layers %s/upper %s/work %s/merged",
           base, base, base, base, base, base, base, base);
  if (system(cmd) != 0)
    return;
  char *lower[LAYERS];
  make_layers(lower, short_names);
  char upper[256], work[256], merged[256], path[300];
  snprintf(upper, sizeof(upper), "%s/upper", base);
  snprintf(work, sizeof(work), "%s/work", base);
  snprintf(merged, sizeof(merged), "%s/merged", base);
  berth_error *err = NULL;
  int r = overlay_mount((const char *const *)lower, LAYERS, upper, work, merged, false, &err);
  if (r < 0)
    printf("#   %s: %s\n", how, err->msg);
  EXPECT(r == 0);
  berth_error_free(err);
  if (r == 0) {
    snprintf(path, sizeof(path), "%s/f0", merged);
    EXPECT(access(path, F_OK) == 0);
    snprintf(path, sizeof(path), "%s/f%d", merged, LAYERS - 1);
    EXPECT(access(path, F_OK) == 0);
    snprintf(path, sizeof(path), "%s/shadow", merged);
    char *t = read_text(path);
    EXPECT_STR(t, "top");
    free(t);
    snprintf(path, sizeof(path), "%s/gone", merged);
    EXPECT(access(path, F_OK) < 0 && errno == ENOENT);
    snprintf(path, sizeof(path), "%s/new", merged);
    write_file(path, "written");
    snprintf(path, sizeof(path), "%s/new", upper);
    t = read_text(path);
    EXPECT_STR(t, "written");
    free(t);
    EXPECT(umount2(merged, MNT_DETACH) == 0);
  }
  for (int i = 0; i < LAYERS; i++)
    free(lower[i]);
}

static void test_new_api(void) {
  overlay_force_classic(0);
  check_merged("lowerdir+", false);
}

static void test_classic_short_names(void) {
  overlay_force_classic(1);
  check_merged("classic", true);
  overlay_force_classic(0);
}

static void test_errors(void) {
  berth_error *err = NULL;
  EXPECT(overlay_mount(NULL, 0, "/u", "/w", "/m", false, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "without layers");
  berth_error_free(err);
  err = NULL;
  const char *missing[] = {"/nonexistent/berth/layer"};
  EXPECT(overlay_mount(missing, 1, "/tmp", "/tmp", "/tmp", false, &err) < 0);
  EXPECT_CONTAINS(err != NULL ? err->msg : NULL, "/nonexistent/berth/layer");
  berth_error_free(err);
}

/* volatile: shown in the mount's options, and mounting the same upper and
 * work again works (the kernel's leftover marker is cleared) */
static void test_volatile(void) {
  for (int classic = 0; classic < 2; classic++) {
    overlay_force_classic(classic);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s/layers %s/upper %s/work %s/merged; mkdir -p %s/layers %s/upper %s/work %s/merged",
             base, base, base, base, base, base, base, base);
    if (system(cmd) != 0)
      return;
    char *lower[LAYERS];
    make_layers(lower, classic);
    char upper[256], work[256], merged[256];
    snprintf(upper, sizeof(upper), "%s/upper", base);
    snprintf(work, sizeof(work), "%s/work", base);
    snprintf(merged, sizeof(merged), "%s/merged", base);
    for (int round = 0; round < 2; round++) {
      berth_error *err = NULL;
      int r = overlay_mount((const char *const *)lower, 2, upper, work, merged, true, &err);
      if (r < 0)
        printf("#   volatile (classic %d, round %d): %s\n", classic, round, err->msg);
      berth_error_free(err);
      EXPECT(r == 0);
      if (r < 0)
        break;
      char *info = read_text("/proc/self/mountinfo");
      char *line = info != NULL ? strstr(info, merged) : NULL;
      char *end = line != NULL ? strchr(line, '\n') : NULL;
      if (end != NULL)
        *end = '\0';
      EXPECT(line != NULL && strstr(line, "volatile") != NULL);
      free(info);
      EXPECT(umount2(merged, MNT_DETACH) == 0);
    }
    for (int i = 0; i < LAYERS; i++)
      free(lower[i]);
  }
  overlay_force_classic(0);
}

int main(void) {
  /* a private mount namespace: nothing stays mounted if a check fails */
  if (mkdtemp(base) == NULL || unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
    printf("1..0 # SKIP needs root and a mount namespace\n");
    return 0;
  }
  RUN(test_new_api);
  RUN(test_classic_short_names);
  RUN(test_errors);
  RUN(test_volatile);
  char cmd[300];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
  if (system(cmd) != 0)
    printf("# could not remove %s\n", base);
  return tap_done();
}
