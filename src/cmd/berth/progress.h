/* Per-layer progress of pull and push as docker prints it: on a terminal
 * one live line per layer with a bar, otherwise one line per finished
 * layer. */
#ifndef BERTH_CMD_BERTH_PROGRESS_H
#define BERTH_CMD_BERTH_PROGRESS_H

#include <stdbool.h>

#include "image/transfer.h"

struct progress_view;

struct progress_view *progress_view_new(bool push, bool quiet);
void progress_view_free(struct progress_view *v);
/* The callbacks to hand to image_pull / image_push. */
struct transfer_progress progress_view_callbacks(struct progress_view *v);

#endif
