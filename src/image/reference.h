/* Image references as docker writes them, parsed and normalised:
 * "busybox" is docker.io/library/busybox:latest, "host:5000/a/b:v1" keeps
 * its registry, "name@sha256:..." pins a manifest digest. */
#ifndef BERTH_IMAGE_REFERENCE_H
#define BERTH_IMAGE_REFERENCE_H

#include "util/error.h"

#define REFERENCE_DEFAULT_DOMAIN "docker.io"
#define REFERENCE_DEFAULT_TAG "latest"

struct image_ref {
  char *domain; /* "docker.io", "localhost:5000" */
  char *path;   /* "library/busybox" */
  char *tag;    /* NULL when only a digest was given */
  char *digest; /* "sha256:...", or NULL */
};

/* Parses text; a missing tag becomes "latest" unless a digest is given. */
int image_ref_parse(const char *text, struct image_ref *ref, berth_error **err);
void image_ref_free(struct image_ref *ref);

/* "docker.io/library/busybox" */
char *image_ref_repository(const struct image_ref *ref);
/* "docker.io/library/busybox:latest", or "...@sha256:..." when there is no
 * tag: the key under which a tag is stored. */
char *image_ref_string(const struct image_ref *ref);
/* docker's short form of a full repository or reference string:
 * "docker.io/library/busybox:1" -> "busybox:1", "docker.io/a/b" -> "a/b". */
const char *image_ref_familiar(const char *full);

/* Whether text can be a tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}). */
int image_ref_check_tag(const char *tag, berth_error **err);

#endif
