/* berth rename, berth version */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "cmd/berth/commands.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "engine/events.h"

int cmd_rename(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  static const char usage_text[] = "rename CONTAINER NEW_NAME";
  static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    if (c != 'h')
      return cmd_usage_error("rename", usage_text, err);
    printf("Usage:  berth %s\n\nRename a container\n", usage_text);
    return 0;
  }
  if (argc - optind != 2)
    return cmd_usage_error("rename", usage_text, err);
  const char *name = argv[optind + 1][0] == '/' ? argv[optind + 1] + 1 : argv[optind + 1];
  struct engine *e = context_engine(ctx, err);
  struct container ct;
  if (e == NULL || containers_check_name(name, err) < 0 || containers_find(e, argv[optind], &ct, err) < 0)
    return -1;
  int ret = 0;
  if (strcmp(ct.name, name) == 0)
    ret = berth_fail(err, 0, "Renaming a container with the same name as its current name");
  else
    ret = containers_rename(e, ct.id, name, err);
  if (ret == 0) {
    /* docker's attribute keeps the old name's "/" */
    char *old_name = ct.name, old_attr[260];
    snprintf(old_attr, sizeof(old_attr), "/%s", old_name);
    ct.name = (char *)name;
    events_container(e, &ct, "rename", (struct event_attr[]){{"oldName", old_attr}}, 1);
    ct.name = old_name;
  }
  container_clear(&ct);
  return ret;
}

int cmd_version(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  (void)ctx;
  static const struct option options[] = {{"format", required_argument, NULL, 'f'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "f:h", options, NULL)) != -1) {
    if (c == 'h') {
      printf("Usage:  berth version\n\nShow the berth version information\n");
      return 0;
    }
    if (c != 'f')
      return cmd_usage_error("version", "version", err);
  }
  struct utsname u;
  uname(&u);
  printf("Client:\n Version:           %s\n API version:       1.50\n OS/Arch:           linux/%s\n"
         " Engine:            daemonless (berth runs containers itself)\n"
         " Kernel Version:    %s\n",
         BERTH_VERSION, strcmp(u.machine, "x86_64") == 0 ? "amd64" : u.machine, u.release);
  return 0;
}
