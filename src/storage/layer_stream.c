#include "storage/layer_stream.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "util/cleanup.h"

/* Chunks large enough that most files arrive in one piece and the threads
 * meet rarely, few enough that the queue stays in the last-level cache. */
#define CHUNK_SIZE ((size_t)1 << 20)
#define CHUNK_COUNT 6
/* Compressed input per read(2). */
#define IN_SIZE ((size_t)256 << 10)

struct layer_stream {
  int in_fd;
  bool in_pollable; /* a pipe or socket, whose read may block for ever */
  int wake_fd;      /* eventfd that wakes a reader blocked in poll */
  pthread_t thread;
  bool thread_running;

  pthread_mutex_t lock;
  pthread_cond_t changed;
  unsigned char *chunk[CHUNK_COUNT];
  size_t chunk_len[CHUNK_COUNT];
  /* Monotonic chunk counts: the reader fills chunk[produced % N] while
   * produced - released < N; the consumer holds chunk[(taken-1) % N]
   * between two calls of layer_stream_next. */
  uint64_t produced, taken, released;
  bool holding;
  bool done;   /* the reader has pushed its last chunk */
  bool cancel; /* layer_stream_free wants the reader gone */
  berth_error *error;

  /* The consumer hashes the uncompressed chunks it is handed (it sees them
   * all: layer_stream_finish drains the rest): with decompression on the
   * reader's side that balances the two threads, 10-15% faster on the
   * bench layer than hashing both digests in the reader.  Plain tars are
   * hashed once, by the reader, as the blob. */
  struct digester *diff;

  /* Owned by the reader thread until it is joined. */
  unsigned char *out; /* the chunk being filled, NULL between chunks */
  size_t fill;        /* bytes in it */
  unsigned char *in;
  struct digester *blob;
  struct layer_stream_summary sum;
};

static void keep_tail(struct layer_stream *s, const unsigned char *data, size_t len) {
  size_t max = sizeof(s->sum.tail);
  if (len >= max) {
    memcpy(s->sum.tail, data + len - max, max);
    s->sum.tail_len = max;
    return;
  }
  size_t keep = s->sum.tail_len + len > max ? max - len : s->sum.tail_len;
  memmove(s->sum.tail, s->sum.tail + s->sum.tail_len - keep, keep);
  memcpy(s->sum.tail + keep, data, len);
  s->sum.tail_len = keep + len;
}

/* Hands the filled part of the current chunk (if any) to the consumer and,
 * unless this was the last, waits for an empty one; -1 when the stream is
 * being cancelled. */
static int pass_chunk(struct layer_stream *s, bool last) {
  pthread_mutex_lock(&s->lock);
  if (s->out != NULL && s->fill > 0) {
    s->chunk_len[s->produced % CHUNK_COUNT] = s->fill;
    s->produced++;
    pthread_cond_broadcast(&s->changed);
    s->out = NULL;
  }
  if (s->out == NULL && !last) {
    while (!s->cancel && s->produced - s->released >= CHUNK_COUNT)
      pthread_cond_wait(&s->changed, &s->lock);
    if (!s->cancel)
      s->out = s->chunk[s->produced % CHUNK_COUNT];
  }
  bool ok = !s->cancel;
  pthread_mutex_unlock(&s->lock);
  s->fill = 0;
  return ok ? 0 : -1;
}

static int next_chunk(struct layer_stream *s) {
  return pass_chunk(s, false);
}

/* Accounts for len bytes just written at s->out + s->fill. */
static void filled(struct layer_stream *s, size_t len) {
  keep_tail(s, s->out + s->fill, len);
  s->sum.uncompressed_size += len;
  s->fill += len;
}

static int cancelled(berth_error **err) {
  return berth_fail(err, ECANCELED, "layer read");
}

/* Reads and hashes the next bytes of the blob into buf, or when buf is
 * NULL into the rest of the current chunk: the count, 0 at its end, or -1
 * with *err set (also when cancelled). */
static ssize_t read_blob(struct layer_stream *s, unsigned char *buf, size_t len, berth_error **err) {
  for (;;) {
    if (s->in_pollable) {
      /* A slow source (a registry download) must not hold back what has
       * arrived until a whole chunk is full: hand it over before waiting. */
      struct pollfd now = {.fd = s->in_fd, .events = POLLIN};
      if (s->fill > 0 && poll(&now, 1, 0) == 0 && next_chunk(s) < 0)
        return cancelled(err);
      struct pollfd p[2] = {{.fd = s->in_fd, .events = POLLIN}, {.fd = s->wake_fd, .events = POLLIN}};
      if (poll(p, 2, -1) < 0) {
        if (errno == EINTR)
          continue;
        return berth_fail(err, errno, "read layer: poll");
      }
      if (p[1].revents != 0)
        return cancelled(err);
    }
    unsigned char *to = buf != NULL ? buf : s->out + s->fill;
    ssize_t n = read(s->in_fd, to, buf != NULL ? len : CHUNK_SIZE - s->fill);
    if (n < 0) {
      if (errno == EINTR || (errno == EAGAIN && s->in_pollable))
        continue;
      return berth_fail(err, errno, "read layer");
    }
    if (n > 0) {
      digester_update(s->blob, to, (size_t)n);
      s->sum.size += (uint64_t)n;
    }
    return n;
  }
}

/* An uncompressed tar: read straight into the chunks.  Its diff_id is its
 * digest, so it is hashed once. */
static int pass_plain(struct layer_stream *s, size_t have, berth_error **err) {
  if (next_chunk(s) < 0)
    return cancelled(err);
  memcpy(s->out, s->in, have);
  filled(s, have);
  for (;;) {
    if (s->fill == CHUNK_SIZE && next_chunk(s) < 0)
      return cancelled(err);
    ssize_t n = read_blob(s, NULL, 0, err);
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    filled(s, (size_t)n);
  }
  return pass_chunk(s, true) < 0 ? cancelled(err) : 0;
}

static void inflate_endp(z_stream *z) {
  inflateEnd(z);
}

/* gzip, possibly several members back to back (pigz, concatenated
 * streams): each member's end is followed by another member or the end of
 * the blob; anything else, or an end inside a member, is an error. */
static int pass_gzip(struct layer_stream *s, size_t have, berth_error **err) {
  __attribute__((cleanup(inflate_endp))) z_stream z = {0};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
    return berth_fail(err, ENOMEM, "gzip layer: inflateInit2");
  z.next_in = s->in;
  z.avail_in = (uInt)have;
  if (next_chunk(s) < 0)
    return cancelled(err);
  bool eof = false, member_end = false, out_full = false;
  for (;;) {
    if (s->fill == CHUNK_SIZE && next_chunk(s) < 0)
      return cancelled(err);
    /* zlib may hold output back when the last call filled the chunk, so
     * input is only wanted once that has been drained. */
    if (z.avail_in == 0 && !out_full) {
      if (eof) {
        if (!member_end)
          return berth_fail(err, 0, "gzip layer: truncated: the blob ends inside a member, after %llu bytes",
                            (unsigned long long)s->sum.size);
        break;
      }
      ssize_t n = read_blob(s, s->in, IN_SIZE, err);
      if (n < 0)
        return -1;
      eof = n == 0;
      z.next_in = s->in;
      z.avail_in = (uInt)n;
      continue;
    }
    if (member_end) {
      inflateReset(&z);
      member_end = false;
    }
    z.next_out = s->out + s->fill;
    z.avail_out = (uInt)(CHUNK_SIZE - s->fill);
    int zr = inflate(&z, Z_NO_FLUSH);
    size_t made = CHUNK_SIZE - s->fill - z.avail_out;
    filled(s, made);
    out_full = z.avail_out == 0;
    if (zr == Z_STREAM_END) {
      member_end = true;
      out_full = false;
    } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
      return berth_fail(err, zr == Z_MEM_ERROR ? ENOMEM : 0, "gzip layer: corrupt at byte %llu of the blob: %s",
                        (unsigned long long)(s->sum.size - z.avail_in), z.msg != NULL ? z.msg : zError(zr));
    }
  }
  return pass_chunk(s, true) < 0 ? cancelled(err) : 0;
}

static void zstd_freep(ZSTD_DStream **d) {
  ZSTD_freeDStream(*d);
}

/* zstd: the streaming decoder carries on across concatenated and skippable
 * frames by itself; the blob must end where a frame does. */
static int pass_zstd(struct layer_stream *s, size_t have, berth_error **err) {
  __attribute__((cleanup(zstd_freep))) ZSTD_DStream *d = ZSTD_createDStream();
  if (d == NULL)
    return berth_fail(err, ENOMEM, "zstd layer: create decoder");
  ZSTD_initDStream(d);
  ZSTD_inBuffer in = {s->in, have, 0};
  if (next_chunk(s) < 0)
    return cancelled(err);
  size_t hint = 1; /* 0 once a frame is complete */
  bool eof = false, out_full = false;
  for (;;) {
    if (s->fill == CHUNK_SIZE && next_chunk(s) < 0)
      return cancelled(err);
    if (in.pos == in.size && !out_full) {
      if (eof) {
        if (hint != 0)
          return berth_fail(err, 0, "zstd layer: truncated: the blob ends inside a frame, after %llu bytes",
                            (unsigned long long)s->sum.size);
        break;
      }
      ssize_t n = read_blob(s, s->in, IN_SIZE, err);
      if (n < 0)
        return -1;
      eof = n == 0;
      in = (ZSTD_inBuffer){s->in, (size_t)n, 0};
      continue;
    }
    ZSTD_outBuffer ob = {s->out + s->fill, CHUNK_SIZE - s->fill, 0};
    hint = ZSTD_decompressStream(d, &ob, &in);
    if (ZSTD_isError(hint))
      return berth_fail(err, 0, "zstd layer: corrupt at byte %llu of the blob: %s",
                        (unsigned long long)(s->sum.size - (in.size - in.pos)), ZSTD_getErrorName(hint));
    filled(s, ob.pos);
    out_full = ob.pos == ob.size;
  }
  return pass_chunk(s, true) < 0 ? cancelled(err) : 0;
}

static int pass_stream(struct layer_stream *s, berth_error **err) {
  /* Enough of the blob to recognise its magic number, even from a pipe
   * that delivers a byte at a time. */
  size_t have = 0;
  while (have < 6) {
    ssize_t n = read_blob(s, s->in + have, IN_SIZE - have, err);
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    have += (size_t)n;
  }
  if (have == 0)
    return berth_fail(err, 0, "layer: the blob is empty");
  const unsigned char *m = s->in;
  if (have >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
    s->sum.compression = LAYER_GZIP;
    return pass_gzip(s, have, err);
  }
  /* A zstd frame, or a skippable frame (metadata) that precedes one. */
  bool zstd_frame = have >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd;
  bool skippable = have >= 4 && (m[0] & 0xf0) == 0x50 && m[1] == 0x2a && m[2] == 0x4d && m[3] == 0x18;
  if (zstd_frame || skippable) {
    s->sum.compression = LAYER_ZSTD;
    return pass_zstd(s, have, err);
  }
  /* The image-spec allows only the two above; name the usual others rather
   * than leave the tar reader to call them unrecognised. */
  if (have >= 6 && memcmp(m, "\xfd" "7zXZ\0", 6) == 0)
    return berth_fail(err, 0, "layer: xz compression is not supported (only gzip and zstd)");
  if (have >= 3 && memcmp(m, "BZh", 3) == 0)
    return berth_fail(err, 0, "layer: bzip2 compression is not supported (only gzip and zstd)");
  s->sum.compression = LAYER_PLAIN;
  return pass_plain(s, have, err);
}

static void *reader_main(void *arg) {
  struct layer_stream *s = arg;
  berth_error *e = NULL;
  pass_stream(s, &e);
  pthread_mutex_lock(&s->lock);
  s->error = e;
  s->done = true;
  pthread_cond_broadcast(&s->changed);
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

struct layer_stream *layer_stream_start(int in_fd, berth_error **err) {
  struct layer_stream *s = calloc(1, sizeof(*s));
  if (s == NULL) {
    berth_fail(err, ENOMEM, "layer reader");
    return NULL;
  }
  s->in_fd = in_fd;
  s->wake_fd = -1;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->changed, NULL);
  struct stat st;
  if (fstat(in_fd, &st) < 0) {
    berth_fail(err, errno, "layer input fd %d", in_fd);
    goto fail;
  }
  s->in_pollable = !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode);
  s->wake_fd = eventfd(0, EFD_CLOEXEC);
  s->in = malloc(IN_SIZE);
  s->blob = digester_new();
  s->diff = digester_new();
  bool ok = s->wake_fd >= 0 && s->in != NULL && s->blob != NULL && s->diff != NULL;
  for (size_t i = 0; ok && i < CHUNK_COUNT; i++)
    ok = (s->chunk[i] = malloc(CHUNK_SIZE)) != NULL;
  if (!ok) {
    berth_fail(err, s->wake_fd < 0 ? errno : ENOMEM, "layer reader");
    goto fail;
  }
  /* Signals belong to the application's threads, not to this one. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int r = pthread_create(&s->thread, NULL, reader_main, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (r != 0) {
    berth_fail(err, r, "layer reader thread");
    goto fail;
  }
  s->thread_running = true;
  return s;
fail:
  layer_stream_free(s);
  return NULL;
}

ssize_t layer_stream_next(struct layer_stream *s, const void **buf, berth_error **err) {
  pthread_mutex_lock(&s->lock);
  if (s->holding) {
    s->released++;
    s->holding = false;
    pthread_cond_broadcast(&s->changed);
  }
  while (s->taken == s->produced && !s->done)
    pthread_cond_wait(&s->changed, &s->lock);
  ssize_t len = 0;
  if (s->taken < s->produced) {
    *buf = s->chunk[s->taken % CHUNK_COUNT];
    len = (ssize_t)s->chunk_len[s->taken % CHUNK_COUNT];
    s->taken++;
    s->holding = true;
  } else if (s->error != NULL) {
    berth_fail(err, 0, "%s", s->error->msg);
    if (err != NULL && *err != NULL)
      (*err)->errnum = s->error->errnum;
    len = -1;
  }
  /* The compression is known before the first chunk is pushed. */
  bool hash = s->sum.compression != LAYER_PLAIN;
  pthread_mutex_unlock(&s->lock);
  if (len > 0 && hash)
    digester_update(s->diff, *buf, (size_t)len);
  return len;
}

int layer_stream_finish(struct layer_stream *s, struct layer_stream_summary *out, berth_error **err) {
  const void *buf;
  ssize_t n;
  while ((n = layer_stream_next(s, &buf, err)) > 0)
    ;
  if (n < 0)
    return -1;
  pthread_join(s->thread, NULL);
  s->thread_running = false;
  digester_final(s->blob, s->sum.digest);
  if (s->sum.compression == LAYER_PLAIN)
    memcpy(s->sum.diff_id, s->sum.digest, sizeof(s->sum.diff_id));
  else
    digester_final(s->diff, s->sum.diff_id);
  *out = s->sum;
  return 0;
}

void layer_stream_free(struct layer_stream *s) {
  if (s == NULL)
    return;
  if (s->thread_running) {
    pthread_mutex_lock(&s->lock);
    s->cancel = true;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    uint64_t one = 1;
    if (write(s->wake_fd, &one, sizeof(one)) < 0) {
      /* An eventfd write fails only on overflow, which one write cannot cause. */
    }
    pthread_join(s->thread, NULL);
  }
  for (size_t i = 0; i < CHUNK_COUNT; i++)
    free(s->chunk[i]);
  free(s->in);
  digester_free(s->blob);
  digester_free(s->diff);
  if (s->wake_fd >= 0)
    close(s->wake_fd);
  berth_error_free(s->error);
  pthread_cond_destroy(&s->changed);
  pthread_mutex_destroy(&s->lock);
  free(s);
}
