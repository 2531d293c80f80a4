/* berth images / image ls */
#include <fnmatch.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/berth/commands.h"
#include "cmd/berth/format.h"
#include "image/images.h"
#include "image/reference.h"
#include "util/cleanup.h"
#include "util/json.h"

static const char usage_text[] = "images [OPTIONS] [REPOSITORY[:TAG]]";

struct filters {
  int dangling; /* -1 any, 0 tagged only, 1 untagged only */
  const char *reference;
  time_t before, since; /* added times of the named images, 0 = none */
};

/* docker's reference filter and positional argument: the familiar or full
 * repository, with an optional tag; '*' matches within a path component. */
static bool reference_matches(const char *pattern, const char *full_tag) {
  const char *familiar = image_ref_familiar(full_tag);
  bool has_tag = strrchr(pattern, ':') != NULL && strchr(strrchr(pattern, ':'), '/') == NULL;
  char repo_only[512];
  snprintf(repo_only, sizeof(repo_only), "%s", familiar);
  char *colon = strrchr(repo_only, ':');
  if (colon != NULL && strchr(colon, '/') == NULL)
    *colon = '\0';
  char full_repo[512];
  snprintf(full_repo, sizeof(full_repo), "%s", full_tag);
  colon = strrchr(full_repo, ':');
  if (colon != NULL && strchr(colon, '/') == NULL)
    *colon = '\0';
  const char *targets[] = {has_tag ? familiar : repo_only, has_tag ? full_tag : full_repo};
  for (size_t i = 0; i < 2; i++)
    if (fnmatch(pattern, targets[i], FNM_PATHNAME) == 0)
      return true;
  return false;
}

static int parse_filter(struct store *s, struct filters *f, const char *text, berth_error **err) {
  const char *eq = strchr(text, '=');
  if (eq == NULL)
    return berth_fail(err, 0, "bad format of filter (expected name=value): %s", text);
  size_t klen = (size_t)(eq - text);
  const char *v = eq + 1;
  if (klen == 8 && strncmp(text, "dangling", 8) == 0) {
    if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
      return berth_fail(err, 0, "invalid filter 'dangling=%s': expected true or false", v);
    f->dangling = strcmp(v, "true") == 0;
  } else if (klen == 9 && strncmp(text, "reference", 9) == 0) {
    f->reference = v;
  } else if ((klen == 6 && strncmp(text, "before", 6) == 0) || (klen == 5 && strncmp(text, "since", 5) == 0)) {
    char id[DIGEST_TEXT_MAX];
    struct image_record r;
    if (images_resolve(s, v, id, err) < 0 || images_get(s, id, &r, err) < 0)
      return -1;
    *(klen == 6 ? &f->before : &f->since) = (time_t)r.added;
    image_record_free(&r);
  } else {
    return berth_fail(err, 0, "invalid filter '%.*s'", (int)klen, text);
  }
  return 0;
}

static const char *repo_digest_for(const struct image_record *r, const char *repo) {
  size_t len = strlen(repo);
  for (size_t i = 0; i < r->n_repo_digests; i++)
    if (strncmp(r->repo_digests[i], repo, len) == 0 && r->repo_digests[i][len] == '@')
      return r->repo_digests[i] + len + 1;
  return NULL;
}

struct row {
  const struct image_record *r;
  char repo[512];
  char tag[160];
  const char *digest;
};

static void print_json(const struct row *row, time_t now) {
  char size[32], since[64], id[16], created_at[64] = "";
  format_size(row->r->size, size, sizeof(size));
  time_t created = format_parse_rfc3339(row->r->created);
  format_since(created, now, since, sizeof(since));
  snprintf(id, sizeof(id), "%.12s", digest_hex(row->r->id));
  struct tm tm;
  if (created != 0 && localtime_r(&created, &tm) != NULL)
    strftime(created_at, sizeof(created_at), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  cleanup_json struct json_object *o = json_object_new_object();
  json_object_object_add(o, "Containers", json_object_new_string("N/A"));
  json_object_object_add(o, "CreatedAt", json_object_new_string(created_at));
  json_object_object_add(o, "CreatedSince", json_object_new_string(since));
  json_object_object_add(o, "Digest", json_object_new_string(row->digest != NULL ? row->digest : "<none>"));
  json_object_object_add(o, "ID", json_object_new_string(id));
  json_object_object_add(o, "Repository", json_object_new_string(row->repo));
  json_object_object_add(o, "SharedSize", json_object_new_string("N/A"));
  json_object_object_add(o, "Size", json_object_new_string(size));
  json_object_object_add(o, "Tag", json_object_new_string(row->tag));
  json_object_object_add(o, "UniqueSize", json_object_new_string("N/A"));
  json_object_object_add(o, "VirtualSize", json_object_new_string(size));
  printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

int cmd_images(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const struct option options[] = {
      {"all", no_argument, NULL, 'a'},        {"quiet", no_argument, NULL, 'q'},
      {"digests", no_argument, NULL, 'd'},    {"no-trunc", no_argument, NULL, 'n'},
      {"filter", required_argument, NULL, 'f'}, {"format", required_argument, NULL, 'F'},
      {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
  };
  bool quiet = false, digests = false, no_trunc = false;
  const char *format = NULL;
  const char *filter_texts[16];
  size_t n_filters = 0;
  int c;
  while ((c = getopt_long(argc, argv, "aqf:h", options, NULL)) != -1) {
    switch (c) {
    case 'a':
      break; /* no intermediate images in berth's store */
    case 'q':
      quiet = true;
      break;
    case 'd':
      digests = true;
      break;
    case 'n':
      no_trunc = true;
      break;
    case 'f':
      if (n_filters == sizeof(filter_texts) / sizeof(filter_texts[0]))
        return berth_fail(err, 0, "too many filters");
      filter_texts[n_filters++] = optarg;
      break;
    case 'F':
      format = optarg;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nList images\n\nOptions:\n  -a, --all             Show all images\n"
             "      --digests         Show digests\n  -f, --filter filter   Filter output based on conditions provided\n"
             "      --format string   \"table\" or \"json\"\n      --no-trunc        Don't truncate output\n"
             "  -q, --quiet           Only show image IDs\n",
             usage_text);
      return 0;
    default:
      return cmd_usage_error("images", usage_text, err);
    }
  }
  if (argc - optind > 1)
    return cmd_usage_error("images", usage_text, err);
  if (format != NULL && strcmp(format, "json") != 0 && strcmp(format, "table") != 0)
    return berth_fail(err, 0, "--format \"%s\": berth supports \"table\" and \"json\"", format);
  struct store *s = context_store(ctx, err);
  if (s == NULL)
    return -1;
  struct filters f = {.dangling = -1};
  for (size_t i = 0; i < n_filters; i++)
    if (parse_filter(s, &f, filter_texts[i], err) < 0)
      return -1;
  const char *positional = optind < argc ? argv[optind] : NULL;
  struct image_record *recs = NULL;
  size_t n = 0;
  if (images_list(s, &recs, &n, err) < 0)
    return -1;
  time_t now = time(NULL);
  struct table t;
  table_init(&t, digests ? 6 : 5);
  if (digests)
    table_add(&t, (const char *[]){"REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"});
  else
    table_add(&t, (const char *[]){"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"});
  char last_quiet[DIGEST_TEXT_MAX] = "";
  for (size_t i = 0; i < n; i++) {
    const struct image_record *r = &recs[i];
    bool dangling = r->n_tags == 0 && r->n_repo_digests == 0;
    if ((f.dangling == 1 && !dangling) || (f.dangling == 0 && dangling))
      continue;
    if ((f.before != 0 && r->added >= f.before) || (f.since != 0 && r->added <= f.since))
      continue;
    /* a row per tag; an image pulled only by digest gets one per digest */
    size_t rows = r->n_tags > 0 ? r->n_tags : r->n_repo_digests > 0 ? r->n_repo_digests : 1;
    for (size_t k = 0; k < rows; k++) {
      struct row row = {.r = r};
      const char *tag = r->n_tags > 0 ? r->tags[k] : NULL;
      const char *by_digest = r->n_tags == 0 && r->n_repo_digests > 0 ? r->repo_digests[k] : NULL;
      if ((positional != NULL || f.reference != NULL) && tag == NULL)
        continue;
      if ((positional != NULL && !reference_matches(positional, tag)) ||
          (f.reference != NULL && !reference_matches(f.reference, tag)))
        continue;
      if (tag != NULL) {
        snprintf(row.repo, sizeof(row.repo), "%s", image_ref_familiar(tag));
        char *colon = strrchr(row.repo, ':');
        if (colon != NULL && strchr(colon, '/') == NULL) {
          snprintf(row.tag, sizeof(row.tag), "%s", colon + 1);
          *colon = '\0';
        }
        char full_repo[512];
        snprintf(full_repo, sizeof(full_repo), "%s", tag);
        colon = strrchr(full_repo, ':');
        if (colon != NULL)
          *colon = '\0';
        row.digest = repo_digest_for(r, full_repo);
      } else if (by_digest != NULL) {
        snprintf(row.repo, sizeof(row.repo), "%s", image_ref_familiar(by_digest));
        char *at = strchr(row.repo, '@');
        if (at != NULL)
          *at = '\0';
        snprintf(row.tag, sizeof(row.tag), "<none>");
        row.digest = strchr(by_digest, '@') != NULL ? strchr(by_digest, '@') + 1 : NULL;
      } else {
        snprintf(row.repo, sizeof(row.repo), "<none>");
        snprintf(row.tag, sizeof(row.tag), "<none>");
      }
      if (quiet) {
        if (strcmp(last_quiet, r->id) != 0)
          printf(no_trunc ? "%s\n" : "%.12s\n", no_trunc ? r->id : digest_hex(r->id));
        memcpy(last_quiet, r->id, DIGEST_TEXT_MAX);
        continue;
      }
      if (format != NULL && strcmp(format, "json") == 0) {
        print_json(&row, now);
        continue;
      }
      char id[80], since[64], size[32];
      snprintf(id, sizeof(id), no_trunc ? "%s" : "%.12s", no_trunc ? r->id : digest_hex(r->id));
      format_since(format_parse_rfc3339(r->created), now, since, sizeof(since));
      format_size(r->size, size, sizeof(size));
      if (digests)
        table_add(&t, (const char *[]){row.repo, row.tag, row.digest != NULL ? row.digest : "<none>", id, since, size});
      else
        table_add(&t, (const char *[]){row.repo, row.tag, id, since, size});
    }
  }
  if (!quiet && (format == NULL || strcmp(format, "table") == 0))
    table_print(&t, stdout);
  table_free(&t);
  image_records_free(recs, n);
  return 0;
}
