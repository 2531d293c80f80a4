/* Scope-bound resource release with GCC's cleanup attribute.  Ownership is
 * passed on by resetting the variable: TAKE_PTR(p), TAKE_FD(fd). */
#ifndef BERTH_UTIL_CLEANUP_H
#define BERTH_UTIL_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_freep(void *p) {
  free(*(void **)p);
}

static inline void cleanup_closep(int *fd) {
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}

static inline void cleanup_fclosep(FILE **f) {
  if (*f != NULL)
    fclose(*f);
}

/* Frees a NULL-terminated vector of strings. */
static inline void cleanup_strvp(char ***v) {
  if (*v == NULL)
    return;
  for (char **s = *v; *s != NULL; s++)
    free(*s);
  free(*v);
}

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_strv __attribute__((cleanup(cleanup_strvp)))

#define TAKE_PTR(p)            \
  ({                           \
    __typeof__(p) _taken = (p); \
    (p) = NULL;                \
    _taken;                    \
  })
#define TAKE_FD(fd)     \
  ({                    \
    int _taken = (fd);  \
    (fd) = -1;          \
    _taken;             \
  })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
