#include "cmd/berth/progress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/berth/format.h"

struct layer_line {
  char id[16];
  enum transfer_state state;
  uint64_t done, total;
};

struct progress_view {
  bool push, quiet, tty;
  pthread_mutex_t lock;
  struct layer_line *lines;
  size_t n;
};

static const char *state_text(const struct progress_view *v, enum transfer_state st) {
  switch (st) {
  case TRANSFER_WAITING:
    return v->push ? "Preparing" : "Pulling fs layer";
  case TRANSFER_ACTIVE:
    return v->push ? "Pushing" : "Downloading";
  case TRANSFER_EXISTS:
    return v->push ? "Layer already exists" : "Already exists";
  case TRANSFER_MOUNTED:
    return "Mounted from another repository";
  case TRANSFER_VERIFIED:
    return v->push ? "Pushed" : "Download complete";
  case TRANSFER_UNPACKED:
    return "Pull complete";
  }
  return "";
}

static void draw(const struct progress_view *v, const struct layer_line *l) {
  printf("%s: %s", l->id, state_text(v, l->state));
  if (l->state == TRANSFER_ACTIVE && l->total > 0) {
    char done[32], total[32], bar[51];
    format_size((int64_t)l->done, done, sizeof(done));
    format_size((int64_t)l->total, total, sizeof(total));
    size_t fill = (size_t)(50 * (l->done > l->total ? 1.0 : (double)l->done / (double)l->total));
    memset(bar, '=', fill);
    if (fill < 50)
      bar[fill] = '>';
    memset(bar + (fill < 50 ? fill + 1 : 50), ' ', fill < 49 ? 49 - fill : 0);
    bar[50] = '\0';
    printf(" [%s] %s/%s", bar, done, total);
  }
}

static void begin(void *arg, const char *const *ids, size_t n) {
  struct progress_view *v = arg;
  pthread_mutex_lock(&v->lock);
  free(v->lines);
  v->lines = calloc(n + 1, sizeof(*v->lines));
  v->n = v->lines != NULL ? n : 0;
  for (size_t i = 0; i < v->n; i++) {
    snprintf(v->lines[i].id, sizeof(v->lines[i].id), "%s", ids[i]);
    if (v->tty && !v->quiet) {
      draw(v, &v->lines[i]);
      putchar('\n');
    }
  }
  fflush(stdout);
  pthread_mutex_unlock(&v->lock);
}

static void update(void *arg, size_t index, enum transfer_state st, uint64_t done, uint64_t total) {
  struct progress_view *v = arg;
  pthread_mutex_lock(&v->lock);
  if (index < v->n && !v->quiet) {
    struct layer_line *l = &v->lines[index];
    if (l->state == TRANSFER_EXISTS && st == TRANSFER_UNPACKED)
      st = TRANSFER_EXISTS; /* docker leaves "Already exists" */
    bool changed = l->state != st;
    l->state = st;
    l->done = done;
    l->total = total;
    if (v->tty) {
      /* up to the layer's line, redraw it, back down */
      size_t up = v->n - index;
      printf("\033[%zuA\r\033[2K", up);
      draw(v, l);
      printf("\033[%zuB\r", up);
      fflush(stdout);
    } else if (changed && st != TRANSFER_ACTIVE) {
      draw(v, l);
      putchar('\n');
      fflush(stdout);
    }
  }
  pthread_mutex_unlock(&v->lock);
}

struct progress_view *progress_view_new(bool push, bool quiet) {
  struct progress_view *v = calloc(1, sizeof(*v));
  if (v == NULL)
    return NULL;
  v->push = push;
  v->quiet = quiet;
  v->tty = isatty(STDOUT_FILENO);
  pthread_mutex_init(&v->lock, NULL);
  return v;
}

void progress_view_free(struct progress_view *v) {
  if (v == NULL)
    return;
  pthread_mutex_destroy(&v->lock);
  free(v->lines);
  free(v);
}

struct transfer_progress progress_view_callbacks(struct progress_view *v) {
  return (struct transfer_progress){.begin = begin, .update = update, .arg = v};
}
