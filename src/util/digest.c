#include "util/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct digester {
  EVP_MD_CTX *ctx;
};

static void to_text(const unsigned char raw[32], char out[DIGEST_TEXT_MAX]) {
  static const char hex[] = "0123456789abcdef";
  memcpy(out, "sha256:", 7);
  for (unsigned i = 0; i < 32; i++) {
    out[7 + 2 * i] = hex[raw[i] >> 4];
    out[8 + 2 * i] = hex[raw[i] & 15];
  }
  out[7 + DIGEST_HEX_LEN] = '\0';
}

struct digester *digester_new(void) {
  struct digester *d = calloc(1, sizeof(*d));
  if (d == NULL)
    return NULL;
  d->ctx = EVP_MD_CTX_new();
  if (d->ctx == NULL || EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1) {
    digester_free(d);
    return NULL;
  }
  return d;
}

void digester_update(struct digester *d, const void *data, size_t len) {
  EVP_DigestUpdate(d->ctx, data, len);
}

void digester_final(struct digester *d, char out[DIGEST_TEXT_MAX]) {
  unsigned char raw[EVP_MAX_MD_SIZE];
  EVP_DigestFinal_ex(d->ctx, raw, NULL);
  to_text(raw, out);
}

void digester_reset(struct digester *d) {
  EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL);
}

void digester_free(struct digester *d) {
  if (d == NULL)
    return;
  EVP_MD_CTX_free(d->ctx);
  free(d);
}

void digest_bytes(const void *data, size_t len, char out[DIGEST_TEXT_MAX]) {
  unsigned char raw[32];
  EVP_Digest(data, len, raw, NULL, EVP_sha256(), NULL);
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
