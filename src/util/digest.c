#include "util/digest.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* nettle rather than libcrypto: both hash with the CPU's SHA extensions at
 * about the same speed, but loading libcrypto costs every berth command
 * close to a millisecond before main (measured in bench/README.md). */
struct digester {
  struct sha256_ctx ctx;
};

static void to_text(const unsigned char raw[SHA256_DIGEST_SIZE], char out[DIGEST_TEXT_MAX]) {
  static const char hex[] = "0123456789abcdef";
  memcpy(out, "sha256:", 7);
  for (unsigned i = 0; i < SHA256_DIGEST_SIZE; i++) {
    out[7 + 2 * i] = hex[raw[i] >> 4];
    out[8 + 2 * i] = hex[raw[i] & 15];
  }
  out[7 + DIGEST_HEX_LEN] = '\0';
}

struct digester *digester_new(void) {
  struct digester *d = malloc(sizeof(*d));
  if (d != NULL)
    sha256_init(&d->ctx);
  return d;
}

void digester_update(struct digester *d, const void *data, size_t len) {
  sha256_update(&d->ctx, len, data);
}

void digester_final(struct digester *d, char out[DIGEST_TEXT_MAX]) {
  unsigned char raw[SHA256_DIGEST_SIZE];
  sha256_digest(&d->ctx, sizeof(raw), raw);
  to_text(raw, out);
}

void digester_reset(struct digester *d) {
  sha256_init(&d->ctx);
}

void digester_free(struct digester *d) {
  free(d);
}

void digest_bytes(const void *data, size_t len, char out[DIGEST_TEXT_MAX]) {
  struct sha256_ctx ctx;
  unsigned char raw[SHA256_DIGEST_SIZE];
  sha256_init(&ctx);
  sha256_update(&ctx, len, data);
  sha256_digest(&ctx, sizeof(raw), raw);
  to_text(raw, out);
}

int digest_fd(int fd, char out[DIGEST_TEXT_MAX], berth_error **err) {
  struct digester *d = digester_new();
  if (d == NULL)
    return berth_fail(err, ENOMEM, "sha256");
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;
      digester_free(d);
      return berth_fail(err, saved, "read for sha256");
    }
    if (n == 0)
      break;
    digester_update(d, buf, (size_t)n);
  }
  digester_final(d, out);
  digester_free(d);
  return 0;
}

bool digest_valid(const char *text) {
  if (text == NULL || strncmp(text, "sha256:", 7) != 0 || strlen(text) != 7 + DIGEST_HEX_LEN)
    return false;
  for (const char *p = text + 7; *p != '\0'; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return true;
}

const char *digest_hex(const char *digest) {
  return digest + 7;
}
