#include "registry/curl_loader.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define LIBCURL "libcurl.so.4"

/* The functions the client uses, resolved from the library. */
#define CURL_FUNCTIONS(X)                                                                           \
  X(CURLcode, curl_global_init, (long flags))                                                       \
  X(void, curl_global_cleanup, (void))                                                              \
  X(CURL *, curl_easy_init, (void))                                                                 \
  X(void, curl_easy_cleanup, (CURL * h))                                                            \
  X(void, curl_easy_reset, (CURL * h))                                                              \
  X(CURLcode, curl_easy_perform, (CURL * h))                                                        \
  X(CURLcode, curl_easy_getinfo, (CURL * h, CURLINFO info, ...))                                    \
  X(CURLcode, curl_easy_setopt, (CURL * h, CURLoption option, ...))                                 \
  X(const char *, curl_easy_strerror, (CURLcode code))                                              \
  X(CURLSH *, curl_share_init, (void))                                                              \
  X(CURLSHcode, curl_share_setopt, (CURLSH * sh, CURLSHoption option, ...))                         \
  X(CURLSHcode, curl_share_cleanup, (CURLSH * sh))                                                  \
  X(struct curl_slist *, curl_slist_append, (struct curl_slist * list, const char *s))              \
  X(void, curl_slist_free_all, (struct curl_slist * list))                                          \
  X(void, curl_free, (void *p))                                                                     \
  X(CURLU *, curl_url, (void))                                                                      \
  X(void, curl_url_cleanup, (CURLU * u))                                                            \
  X(CURLUcode, curl_url_get, (CURLU * u, CURLUPart what, char **part, unsigned int flags))     \
  X(CURLUcode, curl_url_set, (CURLU * u, CURLUPart what, const char *part, unsigned int flags))

#define DECLARE(ret, name, args) static ret(*real_##name) args;
CURL_FUNCTIONS(DECLARE)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[256];

static void load(void) {
  void *lib = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    snprintf(load_error, sizeof(load_error), "%s", dlerror());
    return;
  }
#define RESOLVE(ret, name, args)                                                   \
  *(void **)&real_##name = dlsym(lib, #name);                                      \
  if (real_##name == NULL) {                                                       \
    snprintf(load_error, sizeof(load_error), "%s has no %s", LIBCURL, #name);      \
    return;                                                                        \
  }
  CURL_FUNCTIONS(RESOLVE)
}

int registry_curl_load(berth_error **err) {
  pthread_once(&once, load);
  if (load_error[0] != '\0')
    return berth_fail(err, 0, "registry access needs libcurl (%s): %s", LIBCURL, load_error);
  return 0;
}

/* Every forwarding function loads the library on first use: URL helpers
 * run before any client exists.  Without it there is no way on; clients
 * report the failure properly first (registry_client_new). */
static void ensure(void) {
  pthread_once(&once, load);
  if (load_error[0] != '\0') {
    fprintf(stderr, "berth: registry access needs libcurl (%s): %s\n", LIBCURL, load_error);
    abort();
  }
}

/* The forwarding definitions.  curl.h turns some names into type-checking
 * macros under GCC; these are the functions behind them. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_share_setopt

CURLcode curl_global_init(long flags) {
  ensure();
  return real_curl_global_init(flags);
}
void curl_global_cleanup(void) {
  ensure();
  real_curl_global_cleanup();
}
CURL *curl_easy_init(void) {
  ensure();
  return real_curl_easy_init();
}
void curl_easy_cleanup(CURL *h) {
  ensure();
  real_curl_easy_cleanup(h);
}
void curl_easy_reset(CURL *h) {
  ensure();
  real_curl_easy_reset(h);
}
CURLcode curl_easy_perform(CURL *h) {
  ensure();
  return real_curl_easy_perform(h);
}
const char *curl_easy_strerror(CURLcode code) {
  ensure();
  return real_curl_easy_strerror(code);
}
CURLSH *curl_share_init(void) {
  ensure();
  return real_curl_share_init();
}
CURLSHcode curl_share_cleanup(CURLSH *sh) {
  ensure();
  return real_curl_share_cleanup(sh);
}
struct curl_slist *curl_slist_append(struct curl_slist *list, const char *s) {
  ensure();
  return real_curl_slist_append(list, s);
}
void curl_slist_free_all(struct curl_slist *list) {
  ensure();
  real_curl_slist_free_all(list);
}
void curl_free(void *p) {
  ensure();
  real_curl_free(p);
}
CURLU *curl_url(void) {
  ensure();
  return real_curl_url();
}
void curl_url_cleanup(CURLU *u) {
  ensure();
  real_curl_url_cleanup(u);
}
CURLUcode curl_url_get(CURLU *u, CURLUPart what, char **part, unsigned int flags) {
  ensure();
  return real_curl_url_get(u, what, part, flags);
}
CURLUcode curl_url_set(CURLU *u, CURLUPart what, const char *part, unsigned int flags) {
  ensure();
  return real_curl_url_set(u, what, part, flags);
}

/* Variadic ones: the option's number tells the type of its one argument
 * (curl.h's CURLOPTTYPE_* ranges), which is read and passed on as such. */
CURLcode curl_easy_setopt(CURL *h, CURLoption option, ...) {
  ensure();
  va_list ap;
  va_start(ap, option);
  CURLcode r;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    long v = va_arg(ap, long);
    r = real_curl_easy_setopt(h, option, v);
  } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {
    void *v = va_arg(ap, void *);
    r = real_curl_easy_setopt(h, option, v);
  } else if (option < CURLOPTTYPE_OFF_T) {
    void (*v)(void) = va_arg(ap, void (*)(void));
    r = real_curl_easy_setopt(h, option, v);
  } else if (option < CURLOPTTYPE_BLOB) {
    curl_off_t v = va_arg(ap, curl_off_t);
    r = real_curl_easy_setopt(h, option, v);
  } else {
    void *v = va_arg(ap, void *);
    r = real_curl_easy_setopt(h, option, v);
  }
  va_end(ap);
  return r;
}

/* CURLINFO_* encode their result type; every one is written through a
 * pointer. */
CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...) {
  ensure();
  va_list ap;
  va_start(ap, info);
  void *out = va_arg(ap, void *);
  va_end(ap);
  return real_curl_easy_getinfo(h, info, out);
}

CURLSHcode curl_share_setopt(CURLSH *sh, CURLSHoption option, ...) {
  ensure();
  va_list ap;
  va_start(ap, option);
  CURLSHcode r;
  if (option == CURLSHOPT_SHARE || option == CURLSHOPT_UNSHARE) {
    long v = va_arg(ap, long);
    r = real_curl_share_setopt(sh, option, v);
  } else if (option == CURLSHOPT_LOCKFUNC || option == CURLSHOPT_UNLOCKFUNC) {
    void (*v)(void) = va_arg(ap, void (*)(void));
    r = real_curl_share_setopt(sh, option, v);
  } else {
    void *v = va_arg(ap, void *);
    r = real_curl_share_setopt(sh, option, v);
  }
  va_end(ap);
  return r;
}
