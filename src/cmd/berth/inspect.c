/* berth inspect / container inspect: docker's ContainerJSON */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/berth/commands.h"
#include "cmd/berth/template.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"
#include "image/images.h"
#include "util/cleanup.h"
#include "util/json.h"

static struct json_object *path_json(struct engine *e, const char *id, const char *name) {
  cleanup_free char *p = engine_container_path(e, id, name);
  return json_object_new_string(p != NULL ? p : "");
}

static struct json_object *state_json(const struct container *c) {
  struct json_object *s = json_object_new_object();
  json_object_object_add(s, "Status", json_object_new_string(container_status_name(c->status)));
  json_object_object_add(s, "Running",
                         json_object_new_boolean(c->status == CONTAINER_RUNNING || c->status == CONTAINER_PAUSED));
  json_object_object_add(s, "Paused", json_object_new_boolean(c->status == CONTAINER_PAUSED));
  json_object_object_add(s, "Restarting", json_object_new_boolean(c->status == CONTAINER_RESTARTING));
  json_object_object_add(s, "OOMKilled", json_object_new_boolean(false));
  json_object_object_add(s, "Dead", json_object_new_boolean(c->status == CONTAINER_DEAD));
  bool live = c->status == CONTAINER_RUNNING || c->status == CONTAINER_PAUSED;
  json_object_object_add(s, "Pid", json_object_new_int(live ? c->pid : 0));
  json_object_object_add(s, "ExitCode", json_object_new_int(c->exit_code));
  json_object_object_add(s, "Error", json_object_new_string(c->error != NULL ? c->error : ""));
  json_object_object_add(s, "StartedAt", json_new_time(c->started_ns));
  json_object_object_add(s, "FinishedAt", json_new_time(c->finished_ns));
  if (c->health != NULL)
    json_object_object_add(s, "Health", json_object_get(c->health));
  return s;
}

/* docker's top-level Mounts: what each mount resolved to. */
static struct json_object *mounts_json(struct engine *e, const struct container *c) {
  struct json_object *out = json_object_new_array(), *given = NULL;
  json_object_object_get_ex(c->host_config, "Mounts", &given);
  for (size_t i = 0; given != NULL && i < json_object_array_length(given); i++) {
    struct json_object *m = json_object_array_get_idx(given, i), *v;
    const char *type = json_object_object_get_ex(m, "Type", &v) ? json_object_get_string(v) : "";
    const char *source = json_object_object_get_ex(m, "Source", &v) ? json_object_get_string(v) : "";
    bool ro = json_object_object_get_ex(m, "ReadOnly", &v) && json_object_get_boolean(v);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Type", json_object_new_string(type));
    if (strcmp(type, "volume") == 0) {
      json_object_object_add(o, "Name", json_object_new_string(source));
      char *path = NULL;
      if (asprintf(&path, "%s/volumes/%s/_data", e->root, source) >= 0)
        json_object_object_add(o, "Source", json_object_new_string(path));
      free(path);
      json_object_object_add(o, "Driver", json_object_new_string("local"));
    } else {
      json_object_object_add(o, "Source", json_object_new_string(source));
    }
    json_object_object_add(o, "Destination", json_object_get(json_object_object_get(m, "Target")));
    json_object_object_add(o, "Mode", json_object_new_string(strcmp(type, "bind") == 0 && !ro ? "" : ro ? "ro" : "z"));
    json_object_object_add(o, "RW", json_object_new_boolean(!ro));
    json_object_object_add(o, "Propagation", json_object_new_string(strcmp(type, "bind") == 0 ? "rprivate" : ""));
    json_object_array_add(out, o);
  }
  return out;
}

static struct json_object *graph_driver(struct engine *e, const struct container *c) {
  struct json_object *g = json_object_new_object(), *data = json_object_new_object();
  struct image_record r;
  berth_error *ignored = NULL;
  if (images_get(e->store, c->image_id, &r, &ignored) == 0) {
    size_t len = 0, cap = 1;
    for (size_t i = 0; i < r.n_layers; i++)
      cap += 200;
    char *lower = calloc(1, cap);
    for (size_t i = r.n_layers; lower != NULL && i > 0; i--) {
      cleanup_free char *p = images_layer_path(e->store, r.chain_ids[i - 1]);
      len += (size_t)snprintf(lower + len, cap - len, "%s%s", len ? ":" : "", p != NULL ? p : "");
    }
    json_object_object_add(data, "LowerDir", json_object_new_string(lower != NULL ? lower : ""));
    free(lower);
    image_record_free(&r);
  }
  berth_error_free(ignored);
  json_object_object_add(data, "MergedDir", path_json(e, c->id, "rootfs"));
  json_object_object_add(data, "UpperDir", path_json(e, c->id, "diff"));
  json_object_object_add(data, "WorkDir", path_json(e, c->id, "work"));
  json_object_object_add(g, "Data", data);
  json_object_object_add(g, "Name", json_object_new_string("overlay2"));
  return g;
}

struct json_object *container_inspect_object(struct engine *e, const char *ref, berth_error **err) {
  struct container c;
  if (containers_find(e, ref, &c, err) < 0)
    return NULL;
  lifecycle_sync(e, &c);
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "Id", json_object_new_string(c.id));
  json_object_object_add(o, "Created", json_new_time(c.created_ns));
  struct json_object *entry = NULL, *cmd = NULL, *args = json_object_new_array();
  json_object_object_get_ex(c.config, "Entrypoint", &entry);
  json_object_object_get_ex(c.config, "Cmd", &cmd);
  /* the first word of Entrypoint + Cmd is Path, the rest Args */
  const char *path = "";
  struct json_object *parts[2] = {entry, cmd};
  for (int p = 0; p < 2; p++)
    for (size_t i = 0; parts[p] != NULL && json_object_is_type(parts[p], json_type_array) &&
                       i < json_object_array_length(parts[p]);
         i++) {
      struct json_object *word = json_object_array_get_idx(parts[p], i);
      if (*path == '\0')
        path = json_object_get_string(word);
      else
        json_object_array_add(args, json_object_get(word));
    }
  json_object_object_add(o, "Path", json_object_new_string(path));
  json_object_object_add(o, "Args", args);
  json_object_object_add(o, "State", state_json(&c));
  json_object_object_add(o, "Image", json_object_new_string(c.image_id));
  json_object_object_add(o, "ResolvConfPath", path_json(e, c.id, "resolv.conf"));
  json_object_object_add(o, "HostnamePath", path_json(e, c.id, "hostname"));
  json_object_object_add(o, "HostsPath", path_json(e, c.id, "hosts"));
  cleanup_free char *log = lifecycle_log_path(e, c.id);
  json_object_object_add(o, "LogPath", json_object_new_string(log != NULL ? log : ""));
  char name[512];
  snprintf(name, sizeof(name), "/%s", c.name);
  json_object_object_add(o, "Name", json_object_new_string(name));
  json_object_object_add(o, "RestartCount", json_object_new_int(c.restart_count));
  json_object_object_add(o, "Driver", json_object_new_string("overlay2"));
  json_object_object_add(o, "Platform", json_object_new_string("linux"));
  json_object_object_add(o, "MountLabel", json_object_new_string(""));
  json_object_object_add(o, "ProcessLabel", json_object_new_string(""));
  json_object_object_add(o, "AppArmorProfile", json_object_new_string(""));
  json_object_object_add(o, "ExecIDs", NULL);
  json_object_object_add(o, "HostConfig", json_object_get(c.host_config));
  json_object_object_add(o, "GraphDriver", graph_driver(e, &c));
  json_object_object_add(o, "Mounts", mounts_json(e, &c));
  json_object_object_add(o, "Config", json_object_get(c.config));
  struct json_object *net = json_object_new_object();
  json_object_object_add(net, "Networks", json_object_new_object());
  json_object_object_add(o, "NetworkSettings", net);
  container_clear(&c);
  return o;
}

static int inspect(struct berth_context *ctx, int argc, char **argv, bool containers_only, berth_error **err) {
  const char *usage_text = containers_only ? "container inspect [OPTIONS] CONTAINER [CONTAINER...]"
                                           : "inspect [OPTIONS] NAME|ID [NAME|ID...]";
  static const struct option options[] = {{"format", required_argument, NULL, 'f'},
                                          {"size", no_argument, NULL, 's'},
                                          {"type", required_argument, NULL, 'T'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  const char *format = NULL, *type = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "f:sh", options, NULL)) != -1) {
    switch (c) {
    case 'f':
      format = optarg;
      break;
    case 's':
      break;
    case 'T':
      type = optarg;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nReturn low-level information on %s\n\nOptions:\n"
             "  -f, --format string   Format output using a template ({{.Field}}, {{json .Field}}) or \"json\"\n",
             usage_text, containers_only ? "one or more containers" : "berth objects");
      return 0;
    default:
      return cmd_usage_error(containers_only ? "container inspect" : "inspect", usage_text, err);
    }
  }
  if (optind >= argc)
    return cmd_usage_error(containers_only ? "container inspect" : "inspect", usage_text, err);
  struct engine *e = context_engine(ctx, err);
  if (e == NULL)
    return -1;
  bool want_containers = type == NULL || strcmp(type, "container") == 0;
  bool want_images = !containers_only && (type == NULL || strcmp(type, "image") == 0);
  cleanup_json struct json_object *all = json_object_new_array();
  int status = 0;
  for (int i = optind; i < argc; i++) {
    berth_error *one = NULL;
    struct json_object *o = want_containers ? container_inspect_object(e, argv[i], &one) : NULL;
    if (o == NULL && want_images) {
      berth_error_free(one);
      one = NULL;
      o = image_inspect_object(e->store, argv[i], &one);
      if (o == NULL) {
        berth_error_free(one);
        one = NULL;
        berth_fail(&one, 0, "No such object: %s", argv[i]);
      }
    }
    if (o == NULL) {
      fprintf(stderr, "Error: %s\n", one->msg);
      berth_error_free(one);
      status = 1;
      continue;
    }
    json_object_array_add(all, o);
  }
  return template_print_inspect(stdout, format, all, err) < 0 ? -1 : status;
}

int cmd_inspect(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  return inspect(ctx, argc, argv, false, err);
}

int cmd_container_inspect(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  return inspect(ctx, argc, argv, true, err);
}
