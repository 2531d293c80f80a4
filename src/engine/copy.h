/* docker cp and docker export: files between a container (running or not)
 * and the host, with docker's path rules (a trailing "/." copies a
 * directory's content, a missing destination takes the source's place, a
 * file lands in an existing directory, "-" is a tar stream), through the
 * container's file system view (rootfs_view.h: volumes and binds
 * included, every path resolved inside the container's root). */
#ifndef BERTH_ENGINE_COPY_H
#define BERTH_ENGINE_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"

struct copy_request {
  const char *container;      /* as the user named it */
  const char *container_path; /* as given (relative means from "/") */
  const char *host_path;      /* as given; "-": a tar stream on stream_fd */
  bool to_container;
  bool archive;     /* -a: the source's owners (else root's) */
  bool follow_link; /* -L: a symlink as SRC_PATH stands for its target */
  int stream_fd;    /* stdin or stdout for "-" */
};

struct copy_result {
  uint64_t bytes;    /* the tar stream's size, as docker counts */
  char dest[4096];   /* where it went, as docker reports it */
};

/* Parses "CONTAINER:PATH" as docker does: absolute paths and "./x:y" are
 * local; otherwise what is before the first ":" is a container.  *container
 * is malloc'd (NULL for a local path), *path points into arg. */
int copy_split_arg(const char *arg, char **container, const char **path, berth_error **err);

/* One cp.  Errors in docker's words: "Could not find the file P in
 * container C", "cannot copy directory", "no such directory", ... */
int copy_run(struct engine *e, const struct copy_request *req, struct copy_result *res, berth_error **err);

/* The container's whole file system (its overlay, no volumes or mounts)
 * as a tar stream on fd. */
int copy_export(struct engine *e, const char *ref, int fd, berth_error **err);


#endif
