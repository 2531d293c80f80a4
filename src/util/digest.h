/* Content digests as the OCI image-spec writes them: "sha256:<64 hex>".
 * Streaming, so a blob is hashed while it is read, written or unpacked. */
#ifndef BERTH_UTIL_DIGEST_H
#define BERTH_UTIL_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* "sha256:" + 64 hex digits + NUL */
#define DIGEST_TEXT_MAX 72
#define DIGEST_HEX_LEN 64

struct digester;

struct digester *digester_new(void);
void digester_update(struct digester *d, const void *data, size_t len);
/* Writes "sha256:<hex>" into out; the digester can then be freed or reused
 * after digester_reset. */
void digester_final(struct digester *d, char out[DIGEST_TEXT_MAX]);
void digester_reset(struct digester *d);
void digester_free(struct digester *d);

/* One-shot digest of a buffer. */
void digest_bytes(const void *data, size_t len, char out[DIGEST_TEXT_MAX]);
/* Digest of everything readable from fd (from its current offset). */
int digest_fd(int fd, char out[DIGEST_TEXT_MAX], berth_error **err);

/* True for "sha256:" followed by exactly 64 lowercase hex digits; other
 * algorithms are refused (the image-spec registers sha512 too, but nothing
 * in use writes it). */
bool digest_valid(const char *text);
/* The hex part of a valid digest (text + 7). */
const char *digest_hex(const char *digest);

#endif
