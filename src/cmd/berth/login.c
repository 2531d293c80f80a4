/* berth login / logout */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/berth/commands.h"
#include "cmd/berth/registry_flags.h"
#include "image/reference.h"
#include "util/cleanup.h"

static const char login_usage[] = "login [OPTIONS] [SERVER]";
static const char logout_usage[] = "logout [OPTIONS] [SERVER]";

/* docker's "docker.io" spellings all mean Docker Hub. */
static const char *server_domain(const char *server) {
  if (server == NULL || strcmp(server, "index.docker.io") == 0 || strcmp(server, "registry-1.docker.io") == 0 ||
      strncmp(server, "https://index.docker.io", 23) == 0)
    return REFERENCE_DEFAULT_DOMAIN;
  if (strncmp(server, "https://", 8) == 0)
    server += 8;
  else if (strncmp(server, "http://", 7) == 0)
    server += 7;
  /* "https://host:5000/v2/" is the host: credentials are kept per host */
  static char host[256];
  snprintf(host, sizeof(host), "%.*s", (int)strcspn(server, "/"), server);
  return host;
}

static char *read_line(bool echo) {
  struct termios old, quiet;
  bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty && !echo) {
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, stdin);
  if (tty && !echo) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    putchar('\n');
  }
  if (n < 0) {
    free(line);
    return NULL;
  }
  line[strcspn(line, "\r\n")] = '\0';
  return line;
}

int cmd_login(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  (void)ctx;
  enum { OPT_STDIN = 256 };
  static const struct option options[] = {{"username", required_argument, NULL, 'u'},
                                          {"password", required_argument, NULL, 'p'},
                                          {"password-stdin", no_argument, NULL, OPT_STDIN},
                                          REGISTRY_FLAG_OPTIONS,
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  struct registry_flags rf = {.tls_verify = true};
  const char *user = NULL, *password = NULL;
  bool password_stdin = false;
  int c;
  while ((c = getopt_long(argc, argv, "u:p:h", options, NULL)) != -1) {
    switch (c) {
    case 'u':
      user = optarg;
      break;
    case 'p':
      password = optarg;
      break;
    case OPT_STDIN:
      password_stdin = true;
      break;
    case REGISTRY_OPT_TLS:
    case REGISTRY_OPT_AUTHFILE:
      if (registry_flag(&rf, c, optarg, err) < 0)
        return -1;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nLog in to a registry (Docker Hub when no server is given)\n\nOptions:\n"
             "  -p, --password string   Password\n      --password-stdin    Take the password from stdin\n"
             "  -u, --username string   Username\n      --tls-verify[=bool]\n      --authfile string\n",
             login_usage);
      return 0;
    default:
      return cmd_usage_error("login", login_usage, err);
    }
  }
  if (argc - optind > 1)
    return cmd_usage_error("login", login_usage, err);
  if (password != NULL && password_stdin)
    return berth_fail(err, 0, "--password and --password-stdin are mutually exclusive");
  if (password_stdin && user == NULL)
    return berth_fail(err, 0, "must provide --username with --password-stdin");
  const char *domain = server_domain(optind < argc ? argv[optind] : NULL);
  cleanup_free char *typed_user = NULL, *typed_password = NULL;
  if (user == NULL) {
    printf("Username: ");
    fflush(stdout);
    user = typed_user = read_line(true);
  }
  if (password == NULL) {
    if (!password_stdin) {
      printf("Password: ");
      fflush(stdout);
    }
    password = typed_password = read_line(password_stdin);
  }
  if (user == NULL || *user == '\0' || password == NULL || *password == '\0')
    return berth_fail(err, 0, "login %s: username and password are required", domain);
  struct registry_client *client = registry_flags_client(&rf, err);
  if (client == NULL)
    return -1;
  int ret = registry_check_login(client, domain, user, password, err);
  registry_client_free(client);
  if (ret < 0 || registry_creds_store(rf.auth_file, domain, user, password, err) < 0)
    return -1;
  printf("Login Succeeded\n");
  return 0;
}

int cmd_logout(struct berth_context *ctx, int argc, char **argv, berth_error **err) {
  (void)ctx;
  enum { OPT_AUTHFILE = 256 };
  static const struct option options[] = {{"authfile", required_argument, NULL, OPT_AUTHFILE},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  const char *auth_file = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    switch (c) {
    case OPT_AUTHFILE:
      auth_file = optarg;
      break;
    case 'h':
      printf("Usage:  berth %s\n\nLog out from a registry\n", logout_usage);
      return 0;
    default:
      return cmd_usage_error("logout", logout_usage, err);
    }
  }
  if (argc - optind > 1)
    return cmd_usage_error("logout", logout_usage, err);
  const char *domain = server_domain(optind < argc ? argv[optind] : NULL);
  berth_error *e = NULL;
  if (registry_creds_remove(auth_file, domain, &e) < 0) {
    if (e->errnum != ENOENT) {
      *err = e;
      return -1;
    }
    berth_error_free(e);
    printf("Not logged in to %s\n", domain);
    return 0;
  }
  printf("Removing login credentials for %s\n", domain);
  return 0;
}
