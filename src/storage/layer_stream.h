/* The reading half of a layer unpack: a thread that reads the blob once,
 * hashes it (the blob digest), detects and undoes gzip or zstd compression,
 * hashes the result (the diff_id) and hands the uncompressed tar stream to
 * the extracting thread in large chunks through a bounded queue.
 *
 * Two threads because decompression and hashing on one side, and the file
 * system calls of extraction on the other, each take about as long as the
 * other: GNU tar gets the same overlap by running gzip or zstd in a
 * separate process. */
#ifndef BERTH_STORAGE_LAYER_STREAM_H
#define BERTH_STORAGE_LAYER_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/digest.h"
#include "util/error.h"

enum layer_compression {
  LAYER_PLAIN,
  LAYER_GZIP,
  LAYER_ZSTD,
};

struct layer_stream_summary {
  enum layer_compression compression;
  char digest[DIGEST_TEXT_MAX];  /* of the bytes read from the fd */
  char diff_id[DIGEST_TEXT_MAX]; /* of the uncompressed stream */
  uint64_t size;                 /* bytes read from the fd */
  uint64_t uncompressed_size;
  /* The last min(512, uncompressed_size) bytes of the uncompressed stream,
   * so the tar reader can tell an archive cut at an entry boundary from one
   * that ends with its end-of-archive blocks. */
  unsigned char tail[512];
  size_t tail_len;
};

struct layer_stream;

/* Starts the reading thread on in_fd; the fd stays the caller's. */
struct layer_stream *layer_stream_start(int in_fd, berth_error **err);

/* Gives the next chunk of the uncompressed stream in *buf, valid until the
 * next call (the previous chunk goes back to the reader).  Returns its
 * length, 0 at the end of the stream, or -1 with *err set when reading or
 * decompressing failed. */
ssize_t layer_stream_next(struct layer_stream *s, const void **buf, berth_error **err);

/* Reads and hashes whatever the tar reader left unread (end-of-archive
 * padding, trailing bytes), waits for the thread and fills *out.  The blob
 * must be read to its end for its digest to match the manifest's. */
int layer_stream_finish(struct layer_stream *s, struct layer_stream_summary *out, berth_error **err);

/* Stops the thread if it still runs (it may be blocked on a pipe: it is
 * woken) and frees everything.  NULL is a no-op. */
void layer_stream_free(struct layer_stream *s);

#endif
