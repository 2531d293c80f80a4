/* berth save */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/berth/commands.h"
#include "engine/events.h"
#include "image/archives.h"
#include "image/builtin.h"
#include "image/images.h"
#include "image/reference.h"
#include "util/cleanup.h"

static const char usage_text[] = "save [OPTIONS] IMAGE [IMAGE...]";

int cmd_save(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {{"output", required_argument, NULL, 'o'},
                                          {"format", required_argument, NULL, 'F'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  const char *output = NULL, *format_name = "docker-archive";
  int c;
  while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
    switch (c) {
    case 'o':
      output = optarg;
      break;
    case 'F':
      format_name = optarg;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nSave one or more images to a tar archive (streamed to STDOUT by default)\n\n"
             "Options:\n      --format string   docker-archive (default), oci-archive or oci-dir\n"
             "  -o, --output string   Write to a file (a directory for oci-dir), instead of STDOUT\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("save", usage_text, err);
    }
  }
  enum archive_format format;
  if (optind >= argc)
    return cmd_usage_error("save", usage_text, err);
  if (archive_format_parse(format_name, &format, err) < 0)
    return -1;
  if (format == ARCHIVE_OCI_DIR && output == NULL)
    return berth_fail(err, 0, "--format oci-dir needs -o DIRECTORY");
  if (format != ARCHIVE_OCI_DIR && output == NULL && isatty(STDOUT_FILENO))
    return berth_fail(err, 0, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  struct store *s = context_store(ctx, err);
  if (s == NULL)
    return -1;
  size_t n = (size_t)(argc - optind);
  cleanup_free char(*ids)[DIGEST_TEXT_MAX] = calloc(n, DIGEST_TEXT_MAX);
  cleanup_free const char **id_ptrs = calloc(n, sizeof(char *));
  cleanup_free const char *const **tag_lists = calloc(n, sizeof(char **));
  cleanup_free char **owned = calloc(n + 1, sizeof(char *));
  if (ids == NULL || id_ptrs == NULL || tag_lists == NULL || owned == NULL)
    return berth_fail(err, ENOMEM, "save");
  const char *no_tags[] = {NULL};
  int ret = -1;
  cleanup_close int fd = -1;
  cleanup_free char *tmp = NULL;
  bool replace = false;
  for (size_t i = 0; i < n; i++) {
    const char *name = argv[optind + (int)i];
    enum image_match how = IMAGE_MATCH_TAG;
    if (images_find(s, name, ids[i], err) < 0 || images_resolve_how(s, name, ids[i], &how, err) < 0)
      goto out;
    id_ptrs[i] = ids[i];
    /* A name keeps its tag in the archive; an ID alone saves no tag. */
    struct image_ref ref;
    tag_lists[i] = no_tags;
    if (how == IMAGE_MATCH_TAG && image_ref_parse(name, &ref, NULL) == 0) {
      if (ref.tag != NULL) {
        owned[i] = image_ref_string(&ref);
        const char **one = calloc(2, sizeof(char *));
        if (one != NULL) {
          one[0] = owned[i];
          tag_lists[i] = one;
        }
      }
      image_ref_free(&ref);
    }
  }
  /* A regular file is written beside and renamed over, so a failure
   * leaves what was there before (docker does the same). */
  struct stat st;
  replace = format != ARCHIVE_OCI_DIR && output != NULL &&
            (stat(output, &st) < 0 ? errno == ENOENT : S_ISREG(st.st_mode));
  if (replace) {
    if (asprintf(&tmp, "%s.berth-XXXXXX", output) < 0 || (fd = mkostemp(tmp, O_CLOEXEC)) < 0 ||
        fchmod(fd, 0644) < 0) {
      berth_fail(err, errno, "open %s", output);
      goto out;
    }
  } else if (format != ARCHIVE_OCI_DIR) {
    fd = output != NULL ? open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : dup(STDOUT_FILENO);
    if (fd < 0) {
      berth_fail(err, errno, "open %s", output != NULL ? output : "stdout");
      goto out;
    }
  }
  ret = archive_save(s, format, id_ptrs, tag_lists, n, fd, output, err);
  for (size_t i = 0; ret == 0 && i < n; i++)
    events_image(s->root, ids[i], ids[i], "save");
  if (replace) {
    if (ret == 0 && rename(tmp, output) < 0)
      ret = berth_fail(err, errno, "save %s", output);
    if (ret < 0)
      unlink(tmp);
  }
out:
  for (size_t i = 0; i < n; i++) {
    if (tag_lists[i] != no_tags)
      free((void *)tag_lists[i]);
    free(owned[i]);
  }
  return ret < 0 ? -1 : 0;
}
