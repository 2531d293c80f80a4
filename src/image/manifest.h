/* OCI image-spec documents (and Docker's schema2 equivalents, accepted on
 * pull and load): descriptors, manifests, indexes / manifest lists, image
 * configs.  Parsing validates what berth relies on; writing produces OCI. */
#ifndef BERTH_IMAGE_MANIFEST_H
#define BERTH_IMAGE_MANIFEST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/digest.h"
#include "util/error.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* Manifests and configs are small; anything bigger is refused. */
#define MANIFEST_MAX_SIZE (4u << 20)

struct descriptor {
  char *media_type;
  char digest[DIGEST_TEXT_MAX];
  uint64_t size;
  /* in an index */
  char *os, *architecture, *variant;
  char *ref_name; /* annotations."org.opencontainers.image.ref.name" */
};

struct manifest {
  char *media_type;
  struct descriptor config;
  struct descriptor *layers;
  size_t n_layers;
};

struct image_index {
  char *media_type;
  struct descriptor *manifests;
  size_t n_manifests;
};

struct image_config {
  char *created;
  char *architecture;
  char *os;
  char *variant;
  char **diff_ids; /* rootfs.diff_ids, NULL-terminated */
  size_t n_diff_ids;
};

bool media_type_is_index(const char *mt);
bool media_type_is_manifest(const char *mt);
bool media_type_is_layer(const char *mt);

/* The media type a document declares, or guessed from its shape when it
 * declares none (OCI makes mediaType optional). */
char *manifest_sniff_media_type(const char *text, size_t len);

int manifest_parse(const char *text, size_t len, const char *origin, struct manifest *m, berth_error **err);
void manifest_free(struct manifest *m);
int index_parse(const char *text, size_t len, const char *origin, struct image_index *idx, berth_error **err);
void index_free(struct image_index *idx);
/* The entry for os/architecture[/variant]; NULL with *err listing what the
 * index offers when nothing matches. */
const struct descriptor *index_select(const struct image_index *idx, const char *os, const char *arch,
                                      const char *variant, berth_error **err);
int image_config_parse(const char *text, size_t len, const char *origin, struct image_config *c, berth_error **err);
void image_config_free(struct image_config *c);
void descriptor_free(struct descriptor *d);

/* An OCI image manifest for a config and layers. */
char *manifest_write_oci(const struct descriptor *config, const struct descriptor *layers, size_t n_layers);
/* A descriptor as a json-c object (mediaType, digest, size). */
struct json_object *descriptor_to_json(const struct descriptor *d);

/* The platform berth runs: "linux", "amd64" (GOARCH names), variant or NULL. */
void platform_default(const char **os, const char **arch, const char **variant);
/* Parses "os/arch[/variant]" into static-lifetime pieces of buf. */
int platform_parse(char *buf, const char **os, const char **arch, const char **variant, berth_error **err);

#endif
