/* A client of the OCI distribution-spec v2 (the Docker registry HTTP API):
 * manifests and blobs pulled and pushed over libcurl, with the Basic and
 * Bearer-token authentication registries use.
 *
 * One client is meant to be shared: every call may run concurrently from
 * several threads (layers are pulled and pushed in parallel), connections
 * and tokens are shared between them.  Callbacks run on the calling thread.
 *
 * domain is a registry host as image references write it ("docker.io",
 * "quay.io", "127.0.0.1:5000", "[::1]:5000"); repo is the repository path as
 * the registry knows it ("library/busybox": adding "library/" for Docker Hub
 * is the reference parser's job).  Errors name the operation, the object and
 * the registry:
 *   pull manifest "library/busybox:latest" from 127.0.0.1:5000: 404 Not Found (MANIFEST_UNKNOWN: manifest unknown)
 * and their errnum tells callers what happened: ENOENT for 404, EACCES for
 * 401/403, EBADMSG for content that does not match its digest, EINVAL for
 * names that are not valid, EIO for other registry and transport failures;
 * a failing local file call carries its own errno. */
#ifndef BERTH_REGISTRY_CLIENT_H
#define BERTH_REGISTRY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/digest.h"
#include "util/error.h"

/* Manifests larger than this are refused: a hostile registry cannot make
 * berth hold an unbounded document in memory. */
#define REGISTRY_MANIFEST_MAX (4u << 20)

struct registry_options {
  /* false (--tls-verify=false): certificates are not verified, and a
   * registry whose TLS handshake fails is spoken to in plain http.
   * localhost, 127.0.0.0/8 and [::1] always use plain http. */
  bool tls_verify;
  /* berth's credentials file; NULL: registry_default_auth_file(). */
  const char *auth_file;
  /* NULL: "berth/<version>". */
  const char *user_agent;
  /* Blobs larger than this are pushed in PATCH chunks of this size; 0
   * pushes every blob in one PUT. */
  uint64_t chunk_size;
};

struct registry_client;

/* o NULL: verified TLS, the default auth file, one PUT per blob. */
struct registry_client *registry_client_new(const struct registry_options *o, berth_error **err);
void registry_client_free(struct registry_client *c);

/* reference is a tag or a digest; accept is a NULL-terminated list of media
 * types.  On success: *body (malloc'd, NUL-terminated, at most
 * REGISTRY_MANIFEST_MAX) and *len; *media_type (malloc'd: Content-Type
 * without parameters, or the body's "mediaType" when that is absent or
 * generic such as application/json, else ""); digest, of the body (when
 * reference is a digest the body must have it, else this fails). */
int registry_get_manifest(struct registry_client *c, const char *domain, const char *repo,
                          const char *reference, const char *const *accept, char **body, size_t *len,
                          char **media_type, char digest[DIGEST_TEXT_MAX], berth_error **err);

/* Called as bytes move; total is 0 while unknown. */
typedef void registry_progress_fn(void *arg, uint64_t done, uint64_t total);

/* Downloads a blob into fd (a regular file, written with pwrite), resuming
 * after the fd's current size with a Range request: a registry that ignores
 * the range makes it restart from 0 (truncating).  Redirects to storage are
 * followed without the registry's credentials.  Returns 0 only when the
 * sha256 of the whole file equals digest; on a mismatch the file is
 * truncated to 0.  A transfer cut short leaves what arrived in the file, so
 * calling again resumes it.  size (the descriptor's; 0 when unknown) bounds
 * what is accepted: a registry that sends more is cut off at once, before
 * it can fill the disk. */
int registry_fetch_blob(struct registry_client *c, const char *domain, const char *repo, const char *digest,
                        uint64_t size, int fd, registry_progress_fn *progress, void *arg, berth_error **err);

/* HEAD of the blob: *exists true on 200, false on 404. */
int registry_blob_exists(struct registry_client *c, const char *domain, const char *repo, const char *digest,
                         bool *exists, berth_error **err);

/* Cross-repository mount (POST .../blobs/uploads/?mount=<digest>&from=<from_repo>).
 * *mounted is false when the registry started an ordinary upload instead
 * (which is cancelled): the caller then pushes the blob. */
int registry_mount_blob(struct registry_client *c, const char *domain, const char *repo, const char *digest,
                        const char *from_repo, bool *mounted, berth_error **err);

/* Uploads size bytes of fd (read with pread from offset 0): POST, then one
 * PUT ?digest=, or PATCH chunks and an empty PUT when the options ask for
 * chunks.  The registry checks the digest. */
int registry_push_blob(struct registry_client *c, const char *domain, const char *repo, const char *digest,
                       int fd, uint64_t size, registry_progress_fn *progress, void *arg, berth_error **err);

/* PUT of a manifest under a tag or its digest. */
int registry_put_manifest(struct registry_client *c, const char *domain, const char *repo,
                          const char *reference, const char *media_type, const char *body, size_t len,
                          berth_error **err);

/* Checks user/password against the registry (GET /v2/ through the Basic or
 * token flow), without reading or caching stored credentials: `berth login`.
 * A registry that asks for no authentication accepts anything. */
int registry_check_login(struct registry_client *c, const char *domain, const char *user, const char *password,
                         berth_error **err);

/* Credentials, in berth's auth file (docker's config.json format:
 * {"auths": {"<domain>": {"auth": base64("user:password")}}}, mode 0600,
 * replaced atomically).  auth_file NULL means registry_default_auth_file(). */

/* $XDG_CONFIG_HOME/berth/auth.json, else ~/.config/berth/auth.json (malloc'd). */
char *registry_default_auth_file(berth_error **err);
int registry_creds_store(const char *auth_file, const char *domain, const char *user, const char *password,
                         berth_error **err);
/* Fails with errnum ENOENT when the file holds nothing for domain. */
int registry_creds_remove(const char *auth_file, const char *domain, berth_error **err);
/* Reads berth's file, then docker's ($DOCKER_CONFIG/config.json or
 * ~/.docker/config.json, where Docker Hub is "https://index.docker.io/v1/").
 * Returns 0 with *user and *password malloc'd, or both NULL when neither
 * file has credentials for domain; -1 when a file cannot be read or parsed. */
int registry_creds_lookup(const char *auth_file, const char *domain, char **user, char **password,
                          berth_error **err);

#endif
