/* berth-unpack-layer DIR < LAYER: unpacks a layer blob (tar, tar+gzip,
 * tar+zstd) from stdin into DIR (made if missing, else it should be empty)
 * with layer_unpack() and prints what it measured.  Used by bench/unpack. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/layer_unpack.h"
#include "util/cleanup.h"
#include "util/error.h"

int main(int argc, char **argv) {
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: berth-unpack-layer DIR < LAYER\n");
    return 2;
  }
  if (mkdir(argv[1], 0755) < 0 && errno != EEXIST) {
    fprintf(stderr, "berth-unpack-layer: mkdir \"%s\": %s\n", argv[1], strerror(errno));
    return 1;
  }
  cleanup_close int dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    fprintf(stderr, "berth-unpack-layer: open \"%s\": %s\n", argv[1], strerror(errno));
    return 1;
  }
  cleanup_error berth_error *err = NULL;
  struct layer_unpack_result res;
  if (layer_unpack(STDIN_FILENO, dir, &res, &err) < 0) {
    fprintf(stderr, "berth-unpack-layer: %s\n", err->msg);
    return 1;
  }
  printf("digest %s\ndiff_id %s\nsize %llu\nunpacked %llu\n", res.digest, res.diff_id,
         (unsigned long long)res.size, (unsigned long long)res.unpacked_size);
  return 0;
}
