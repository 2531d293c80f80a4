/* libcurl is loaded (dlopen) the first time a registry client is made,
 * not when berth starts: it drags in some thirty shared libraries, whose
 * loading cost every berth command 4-5 ms though only pull, push and login
 * talk to a registry.  curl_loader.c defines the libcurl functions the
 * client calls, each forwarding to the loaded library. */
#ifndef BERTH_REGISTRY_CURL_LOADER_H
#define BERTH_REGISTRY_CURL_LOADER_H

#include "util/error.h"

/* Loads libcurl once (thread-safe); -1 with *err when it cannot. */
int registry_curl_load(berth_error **err);

#endif
