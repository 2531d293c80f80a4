/* The registry client against real servers on 127.0.0.1: Debian's
 * docker-registry (distribution 2.8), plain and with htpasswd Basic auth,
 * and fake_registry.py for what a real registry cannot be made to do on
 * demand (a token server, a 500, a connection cut mid-blob, bytes that do
 * not match their digest, redirects, ignored ranges).
 *
 * Usage: test_registry_net [python3 fake_registry.py] (the build's by
 * default).  Tests whose server is missing report "# SKIP". */
#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry/internal.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"

#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define HTUSER "tester"
#define HTPASS "hunter2-pass"

static char tmpdir[] = "/tmp/berth-registry-net.XXXXXX";
static pid_t registry_pid = -1, auth_registry_pid = -1, fake_pid = -1;
static char reg_domain[64], auth_domain[64], fake_domain[64], extra_domain[96];
static int fake_port;

static char *layer, *config, *manifest;
static size_t layer_len, config_len, manifest_len;
static char layer_digest[DIGEST_TEXT_MAX], config_digest[DIGEST_TEXT_MAX], manifest_digest[DIGEST_TEXT_MAX];
static char *layer_path, *config_path;
static bool blobs_pushed;

/* The digest of the fake's blob (bytes 0..255 forty times). */
static char fake_blob[10240];
static char fake_digest[DIGEST_TEXT_MAX];

/* --- processes and files --- */

static char *tmp_path(const char *name) {
  char *p = NULL;
  if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
    abort();
  return p;
}

static pid_t spawn(char *const argv[], int out_fd, const char *log) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    /* Dies with the test, whatever way the test ends. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(1);
    int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (logfd >= 0) {
      dup2(out_fd >= 0 ? out_fd : logfd, 1);
      dup2(logfd, 2);
    }
    execvp(argv[0], argv);
    _exit(127);
  }
  return pid;
}

static void stop(pid_t *pid) {
  if (*pid <= 0)
    return;
  kill(*pid, SIGTERM);
  waitpid(*pid, NULL, 0);
  *pid = -1;
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(a);
  int port = -1;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0)
    close(fd);
  return port;
}

static bool wait_listening(const char *addr, int port, pid_t pid) {
  for (int i = 0; i < 500; i++) {
    if (waitpid(pid, NULL, WNOHANG) == pid)
      return false;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, addr, &a.sin_addr);
    int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
    close(fd);
    if (r == 0)
      return true;
    usleep(20000);
  }
  return false;
}

static bool write_file(const char *path, const void *data, size_t len) {
  berth_error *err = NULL;
  int r = fs_write_file_at(AT_FDCWD, path, data, len, 0600, &err);
  if (r < 0)
    printf("# %s\n", err->msg);
  berth_error_free(err);
  return r == 0;
}

static char *read_fd_all(int fd, size_t *len) {
  berth_error *err = NULL;
  lseek(fd, 0, SEEK_SET);
  char *text = fs_read_fd(fd, len, &err);
  berth_error_free(err);
  return text;
}

static uint64_t fd_size(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? (uint64_t)st.st_size : UINT64_MAX;
}

/* A fresh blob file holding the first n bytes of data. */
static int blob_file(const char *name, const void *data, size_t n) {
  cleanup_free char *path = tmp_path(name);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0 && n > 0 && fs_write_all(fd, data, n) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static bool fd_holds(int fd, const void *data, size_t n) {
  size_t len = 0;
  cleanup_free char *got = read_fd_all(fd, &len);
  return got != NULL && len == n && memcmp(got, data, n) == 0;
}

/* --- servers --- */

static pid_t start_registry(const char *name, const char *addr, int port, bool htpasswd) {
  cleanup_free char *dir = tmp_path(name);
  cleanup_free char *cfg = NULL, *yml = NULL, *log = NULL, *pw = NULL;
  if (asprintf(&cfg, "%s/config.yml", dir) < 0 || asprintf(&log, "%s/registry.log", dir) < 0 ||
      asprintf(&pw, "%s/htpasswd", dir) < 0)
    abort();
  berth_error *err = NULL;
  fs_mkdir_p(dir, 0700, &err);
  if (htpasswd) {
    /* bcrypt at the lowest cost: the registry checks it on every request. */
    static struct crypt_data cd;
    const char *salt = crypt_gensalt_rn("$2b$", 4, NULL, 0, cd.setting, sizeof(cd.setting));
    const char *hash = salt != NULL ? crypt_r(HTPASS, salt, &cd) : NULL;
    if (hash == NULL || hash[0] == '*')
      return -1;
    cleanup_free char *line = NULL;
    if (asprintf(&line, "%s:%s\n", HTUSER, hash) < 0 || !write_file(pw, line, strlen(line)))
      return -1;
  }
  if (asprintf(&yml,
               "version: 0.1\n"
               "log:\n  level: error\n  accesslog:\n    disabled: true\n"
               "storage:\n  filesystem:\n    rootdirectory: %s/data\n"
               "http:\n  addr: %s:%d\n  secret: berth-test-secret\n"
               "%s%s%s",
               dir, addr, port, htpasswd ? "auth:\n  htpasswd:\n    realm: berth-test\n    path: " : "",
               htpasswd ? pw : "", htpasswd ? "\n" : "") < 0 ||
      !write_file(cfg, yml, strlen(yml)))
    return -1;
  char *argv[] = {"docker-registry", "serve", cfg, NULL};
  pid_t pid = spawn(argv, -1, log);
  if (pid > 0 && !wait_listening(addr, port, pid)) {
    printf("# %s did not start, see %s\n", name, log);
    stop(&pid);
    return -1;
  }
  return pid;
}

/* The first non-loopback IPv4 address that is up: a host that is not
 * "local", so the client tries https there first. */
static bool outside_address(char *buf, size_t size) {
  struct ifaddrs *ifs = NULL;
  bool found = false;
  if (getifaddrs(&ifs) < 0)
    return false;
  for (struct ifaddrs *i = ifs; i != NULL && !found; i = i->ifa_next) {
    if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
        (i->ifa_flags & IFF_LOOPBACK))
      continue;
    found = inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, (socklen_t)size) != NULL;
  }
  freeifaddrs(ifs);
  return found;
}

static bool start_fake(const char *python, const char *script) {
  char extra[64] = "";
  bool have_extra = outside_address(extra, sizeof(extra));
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return false;
  cleanup_free char *log = tmp_path("fake.log");
  char *argv[] = {(char *)python, (char *)script, have_extra ? extra : NULL, NULL};
  fake_pid = spawn(argv, pipefd[1], log);
  close(pipefd[1]);
  char line[128] = "";
  size_t n = 0;
  while (n + 1 < sizeof(line) && strchr(line, '\n') == NULL) {
    struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
    if (poll(&p, 1, 10000) <= 0)
      break;
    ssize_t r = read(pipefd[0], line + n, sizeof(line) - 1 - n);
    if (r <= 0)
      break;
    n += (size_t)r;
    line[n] = '\0';
  }
  close(pipefd[0]);
  int extra_port = 0;
  if (sscanf(line, "ports %d %d", &fake_port, &extra_port) != 2) {
    printf("# fake registry did not start, see %s\n", log);
    stop(&fake_pid);
    return false;
  }
  snprintf(fake_domain, sizeof(fake_domain), "127.0.0.1:%d", fake_port);
  if (extra_port > 0)
    snprintf(extra_domain, sizeof(extra_domain), "%s:%d", extra, extra_port);
  return true;
}

/* --- the fake's /stats --- */

static size_t collect(char *ptr, size_t size, size_t n, void *arg) {
  struct {
    char *buf;
    size_t len;
  } *b = arg;
  char *bigger = realloc(b->buf, b->len + size * n + 1);
  if (bigger == NULL)
    return 0;
  memcpy(bigger + b->len, ptr, size * n);
  b->buf = bigger;
  b->len += size * n;
  b->buf[b->len] = '\0';
  return size * n;
}

static struct json_object *fake_stats(void) {
  struct {
    char *buf;
    size_t len;
  } b = {0};
  char url[64];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/stats", fake_port);
  CURL *h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
  CURLcode rc = curl_easy_perform(h);
  curl_easy_cleanup(h);
  struct json_object *o = rc == CURLE_OK && b.buf != NULL ? json_tokener_parse(b.buf) : NULL;
  free(b.buf);
  return o;
}

static int64_t stat_int(const char *key) {
  cleanup_json struct json_object *o = fake_stats();
  struct json_object *v = NULL;
  return o != NULL && json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

/* The last element of a list in /stats (malloc'd). */
static char *stat_last(const char *key) {
  cleanup_json struct json_object *o = fake_stats();
  struct json_object *v = NULL;
  if (o == NULL || !json_object_object_get_ex(o, key, &v) || json_object_array_length(v) == 0)
    return NULL;
  return strdup(json_object_get_string(json_object_array_get_idx(v, json_object_array_length(v) - 1)));
}

/* --- clients --- */

static struct registry_client *client_with(bool tls_verify, const char *auth_name, uint64_t chunk) {
  cleanup_free char *auth = tmp_path(auth_name != NULL ? auth_name : "none.json");
  struct registry_options o = {.tls_verify = tls_verify, .auth_file = auth, .chunk_size = chunk};
  berth_error *err = NULL;
  struct registry_client *c = registry_client_new(&o, &err);
  if (c == NULL)
    printf("# %s\n", err->msg);
  berth_error_free(err);
  return c;
}

static void cleanup_clientp(struct registry_client **c) {
  registry_client_free(*c);
}
#define cleanup_client __attribute__((cleanup(cleanup_clientp)))

struct progress {
  int calls;
  uint64_t first, last, total;
  bool backwards;
};

static void on_progress(void *arg, uint64_t done, uint64_t total) {
  struct progress *p = arg;
  if (p->calls++ == 0)
    p->first = done;
  else if (done < p->last)
    p->backwards = true;
  p->last = done;
  p->total = total;
}

#define EXPECT_OK(call)                                                      \
  do {                                                                       \
    berth_error *_e = NULL;                                                  \
    berth_error **err = &_e;                                                 \
    if ((call) < 0) {                                                        \
      printf("#   %s:%d: %s failed: %s\n", __FILE__, __LINE__, #call,        \
             _e != NULL ? _e->msg : "?");                                    \
      tap_current_failed = 1;                                                \
    }                                                                        \
    berth_error_free(_e);                                                    \
  } while (0)

/* Runs call, expects it to fail, and leaves the error in e. */
#define EXPECT_FAIL(e, call)                                                 \
  do {                                                                       \
    berth_error_freep(&(e));                                                 \
    berth_error **err = &(e);                                                \
    if ((call) == 0) {                                                       \
      printf("#   %s:%d: %s succeeded\n", __FILE__, __LINE__, #call);        \
      tap_current_failed = 1;                                                \
    } else {                                                                 \
      printf("#   error: %s\n", (e) != NULL ? (e)->msg : "(none)");          \
    }                                                                        \
  } while (0)

/* --- docker-registry --- */

static void test_push_and_fetch_blobs(void) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  cleanup_close int cfd = open(config_path, O_RDONLY | O_CLOEXEC);
  cleanup_close int lfd = open(layer_path, O_RDONLY | O_CLOEXEC);
  struct progress up = {0}, down = {0};
  EXPECT_OK(registry_push_blob(c, reg_domain, "test/app", config_digest, cfd, config_len, NULL, NULL, err));
  EXPECT_OK(registry_push_blob(c, reg_domain, "test/app", layer_digest, lfd, layer_len, on_progress, &up, err));
  EXPECT(up.calls > 1 && !up.backwards && up.last == layer_len && up.total == layer_len);

  bool exists = false;
  EXPECT_OK(registry_blob_exists(c, reg_domain, "test/app", layer_digest, &exists, err));
  EXPECT(exists);
  EXPECT_OK(registry_blob_exists(c, reg_domain, "test/app", fake_digest, &exists, err));
  EXPECT(!exists);

  cleanup_close int out = blob_file("fetched", NULL, 0);
  EXPECT_OK(registry_fetch_blob(c, reg_domain, "test/app", layer_digest, 0, out, on_progress, &down, err));
  EXPECT(fd_holds(out, layer, layer_len));
  EXPECT(down.calls > 0 && down.first < layer_len && down.last == layer_len && down.total == layer_len);
  blobs_pushed = !tap_current_failed;
}

static void test_push_chunked(void) {
  /* 64 KiB chunks: the layer goes in five PATCHes and an empty PUT. */
  cleanup_client struct registry_client *c = client_with(true, NULL, 64 << 10);
  cleanup_close int lfd = open(layer_path, O_RDONLY | O_CLOEXEC);
  struct progress up = {0};
  EXPECT_OK(registry_push_blob(c, reg_domain, "test/chunked", layer_digest, lfd, layer_len, on_progress, &up, err));
  EXPECT(!up.backwards && up.last == layer_len);
  cleanup_close int out = blob_file("chunked", NULL, 0);
  EXPECT_OK(registry_fetch_blob(c, reg_domain, "test/chunked", layer_digest, 0, out, NULL, NULL, err));
  EXPECT(fd_holds(out, layer, layer_len));
}

static void test_push_wrong_digest(void) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  cleanup_close int cfd = open(config_path, O_RDONLY | O_CLOEXEC);
  cleanup_error berth_error *e = NULL;
  EXPECT_FAIL(e, registry_push_blob(c, reg_domain, "test/wrong", layer_digest, cfd, config_len, NULL, NULL, err));
  char want[512];
  snprintf(want, sizeof(want), "push blob \"test/wrong@%s\" to %s: 400 Bad Request (DIGEST_INVALID: ", layer_digest,
           reg_domain);
  EXPECT_CONTAINS(e ? e->msg : NULL, want);
  bool exists = true;
  EXPECT_OK(registry_blob_exists(c, reg_domain, "test/wrong", layer_digest, &exists, err));
  EXPECT(!exists);
  /* A file shorter than the size given fails on our side. */
  EXPECT_FAIL(e, registry_push_blob(c, reg_domain, "test/wrong", config_digest, cfd, config_len + 10, NULL, NULL, err));
  EXPECT_CONTAINS(e ? e->msg : NULL, "the blob file ends at byte");
}

static void test_manifest_roundtrip(void) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  EXPECT_OK(registry_put_manifest(c, reg_domain, "test/app", "v1", OCI_MANIFEST, manifest, manifest_len, err));
  const char *accept[] = {OCI_MANIFEST, "application/vnd.docker.distribution.manifest.v2+json", NULL};
  const char *refs[] = {"v1", manifest_digest};
  for (size_t i = 0; i < ARRAY_SIZE(refs); i++) {
    cleanup_free char *body = NULL, *mt = NULL;
    size_t len = 0;
    char digest[DIGEST_TEXT_MAX] = "";
    EXPECT_OK(registry_get_manifest(c, reg_domain, "test/app", refs[i], accept, &body, &len, &mt, digest, err));
    EXPECT(body != NULL && len == manifest_len && memcmp(body, manifest, len) == 0);
    EXPECT_STR(mt, OCI_MANIFEST);
    EXPECT_STR(digest, manifest_digest);
  }
  /* By digest too, as pushes of multi-platform images do. */
  EXPECT_OK(registry_put_manifest(c, reg_domain, "test/app", manifest_digest, OCI_MANIFEST, manifest, manifest_len,
                                  err));
}

static void test_manifest_unknown(void) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  cleanup_free char *body = NULL, *mt = NULL;
  size_t len = 0;
  char digest[DIGEST_TEXT_MAX];
  cleanup_error berth_error *e = NULL;
  EXPECT_FAIL(e, registry_get_manifest(c, reg_domain, "test/app", "nope", NULL, &body, &len, &mt, digest, err));
  char want[512];
  snprintf(want, sizeof(want),
           "pull manifest \"test/app:nope\" from %s: 404 Not Found (MANIFEST_UNKNOWN: manifest unknown)", reg_domain);
  EXPECT_STR(e ? e->msg : NULL, want);
  EXPECT(e != NULL && e->errnum == ENOENT);
  EXPECT(body == NULL && mt == NULL);
}

static void test_mount(void) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  bool mounted = false, exists = false;
  EXPECT_OK(registry_mount_blob(c, reg_domain, "other/app", layer_digest, "test/app", &mounted, err));
  EXPECT(mounted);
  EXPECT_OK(registry_blob_exists(c, reg_domain, "other/app", layer_digest, &exists, err));
  EXPECT(exists);
  /* Nothing to mount: the registry opens an upload, which is cancelled. */
  EXPECT_OK(registry_mount_blob(c, reg_domain, "other/app", fake_digest, "test/app", &mounted, err));
  EXPECT(!mounted);
}

static void test_missing_blob(void) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  cleanup_close int out = blob_file("missing", NULL, 0);
  cleanup_error berth_error *e = NULL;
  EXPECT_FAIL(e, registry_fetch_blob(c, reg_domain, "test/app", fake_digest, 0, out, NULL, NULL, err));
  char want[512];
  snprintf(want, sizeof(want),
           "pull blob \"test/app@%s\" from %s: 404 Not Found (BLOB_UNKNOWN: blob unknown to registry)", fake_digest,
           reg_domain);
  EXPECT_STR(e ? e->msg : NULL, want);
  EXPECT(e != NULL && e->errnum == ENOENT);
  EXPECT(fd_size(out) == 0);
}

static void test_resume(void) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  size_t half = layer_len / 2;
  /* Half there: only the rest is asked for (the first progress report
   * is already past the half). */
  cleanup_close int a = blob_file("resume-a", layer, half);
  struct progress p = {0};
  EXPECT_OK(registry_fetch_blob(c, reg_domain, "test/app", layer_digest, 0, a, on_progress, &p, err));
  EXPECT(fd_holds(a, layer, layer_len));
  EXPECT(p.first > half && p.last == layer_len && p.total == layer_len);

  /* All there: the registry answers 416 and the file is kept. */
  cleanup_close int b = blob_file("resume-b", layer, layer_len);
  EXPECT_OK(registry_fetch_blob(c, reg_domain, "test/app", layer_digest, 0, b, NULL, NULL, err));
  EXPECT(fd_holds(b, layer, layer_len));

  /* A wrong prefix cannot be resumed from: a mismatch, and an empty file
   * for the caller's retry. */
  cleanup_free char *bad = malloc(half);
  memcpy(bad, layer, half);
  bad[10] ^= 1;
  cleanup_close int d = blob_file("resume-d", bad, half);
  cleanup_error berth_error *e = NULL;
  EXPECT_FAIL(e, registry_fetch_blob(c, reg_domain, "test/app", layer_digest, 0, d, NULL, NULL, err));
  EXPECT_CONTAINS(e ? e->msg : NULL, ": digest mismatch (got sha256:");
  EXPECT(e != NULL && e->errnum == EBADMSG);
  EXPECT(fd_size(d) == 0);
  EXPECT_OK(registry_fetch_blob(c, reg_domain, "test/app", layer_digest, 0, d, NULL, NULL, err));
  EXPECT(fd_holds(d, layer, layer_len));

  /* Longer than the blob: 416, not the blob, so it starts over. */
  cleanup_free char *longer = calloc(1, layer_len + 100);
  cleanup_close int f = blob_file("resume-f", longer, layer_len + 100);
  EXPECT_OK(registry_fetch_blob(c, reg_domain, "test/app", layer_digest, 0, f, NULL, NULL, err));
  EXPECT(fd_holds(f, layer, layer_len));

  /* A registry sending more than the descriptor's size is cut off before
   * the file grows past it (a hostile one cannot fill the disk). */
  cleanup_close int g = blob_file("resume-g", layer, 0);
  EXPECT_FAIL(e, registry_fetch_blob(c, reg_domain, "test/app", layer_digest, 100, g, NULL, NULL, err));
  EXPECT_CONTAINS(e ? e->msg : NULL, "more than the 100 bytes the manifest gives");
  EXPECT(fd_size(g) <= 100);
  /* the right size passes */
  EXPECT_OK(registry_fetch_blob(c, reg_domain, "test/app", layer_digest, layer_len, g, NULL, NULL, err));
  EXPECT(fd_holds(g, layer, layer_len));
}

struct worker {
  struct registry_client *c;
  const char *domain, *repo, *digest, *data;
  size_t len;
  int index;
  int failures;
};

static void *worker_main(void *arg) {
  struct worker *w = arg;
  for (int i = 0; i < 3; i++) {
    char name[48];
    snprintf(name, sizeof(name), "parallel-%s-%d-%d", w->domain, w->index, i);
    int fd = blob_file(name, NULL, 0);
    berth_error *err = NULL;
    bool exists = false;
    if (fd < 0 || registry_blob_exists(w->c, w->domain, w->repo, w->digest, &exists, &err) < 0 || !exists ||
        registry_fetch_blob(w->c, w->domain, w->repo, w->digest, 0, fd, NULL, NULL, &err) < 0 ||
        !fd_holds(fd, w->data, w->len)) {
      printf("#   worker %d: %s\n", w->index, err != NULL ? err->msg : "wrong content");
      w->failures++;
    }
    berth_error_free(err);
    if (fd >= 0)
      close(fd);
  }
  return NULL;
}

/* Four threads share one client (its connections, and tokens where the
 * registry wants them). */
static void run_workers(const char *domain, const char *repo, const char *digest, const char *data, size_t len) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  struct worker w[4];
  pthread_t t[4];
  for (int i = 0; i < 4; i++) {
    w[i] = (struct worker){.c = c, .domain = domain, .repo = repo, .digest = digest, .data = data, .len = len,
                           .index = i};
    EXPECT(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    EXPECT(w[i].failures == 0);
  }
}

static void test_parallel(void) {
  run_workers(reg_domain, "test/app", layer_digest, layer, layer_len);
}

static void test_parallel_bearer(void) {
  int64_t before = stat_int("tokens");
  run_workers(fake_domain, "bearer/many", fake_digest, fake_blob, sizeof(fake_blob));
  /* Threads racing on the first 401 may each fetch a token, no more. */
  int64_t tokens = stat_int("tokens") - before;
  EXPECT(tokens >= 1 && tokens <= 4);
}

static void test_basic_auth(void) {
  cleanup_free char *auth_file = tmp_path("basic-auth.json");
  cleanup_error berth_error *e = NULL;
  {
    cleanup_client struct registry_client *c = client_with(true, "basic-auth.json", 0);
    bool exists = true;
    EXPECT_FAIL(e, registry_blob_exists(c, auth_domain, "test/app", layer_digest, &exists, err));
    char want[512];
    snprintf(want, sizeof(want), "check blob \"test/app@%s\" on %s: unauthorized: authentication required "
             "(no credentials for %s)", layer_digest, auth_domain, auth_domain);
    EXPECT_STR(e ? e->msg : NULL, want);
    EXPECT(e != NULL && e->errnum == EACCES);
    EXPECT_FAIL(e, registry_check_login(c, auth_domain, HTUSER, "wrong", err));
    snprintf(want, sizeof(want), "log in to %s: unauthorized: authentication required", auth_domain);
    EXPECT_STR(e ? e->msg : NULL, want);
    EXPECT_OK(registry_check_login(c, auth_domain, HTUSER, HTPASS, err));
    /* A checked login is not remembered: that is the auth file's job. */
    EXPECT_FAIL(e, registry_blob_exists(c, auth_domain, "test/app", layer_digest, &exists, err));
  }
  EXPECT_OK(registry_creds_store(auth_file, auth_domain, HTUSER, HTPASS, err));
  cleanup_client struct registry_client *c = client_with(true, "basic-auth.json", 0);
  cleanup_close int lfd = open(layer_path, O_RDONLY | O_CLOEXEC);
  EXPECT_OK(registry_push_blob(c, auth_domain, "test/app", layer_digest, lfd, layer_len, NULL, NULL, err));
  bool exists = false;
  EXPECT_OK(registry_blob_exists(c, auth_domain, "test/app", layer_digest, &exists, err));
  EXPECT(exists);
  cleanup_close int out = blob_file("basic-fetched", NULL, 0);
  EXPECT_OK(registry_fetch_blob(c, auth_domain, "test/app", layer_digest, 0, out, NULL, NULL, err));
  EXPECT(fd_holds(out, layer, layer_len));
  /* A stored wrong password gets the registry's refusal. */
  EXPECT_OK(registry_creds_store(auth_file, auth_domain, HTUSER, "wrong", err));
  cleanup_client struct registry_client *c2 = client_with(true, "basic-auth.json", 0);
  EXPECT_FAIL(e, registry_blob_exists(c2, auth_domain, "test/app", layer_digest, &exists, err));
  EXPECT_CONTAINS(e ? e->msg : NULL, ": unauthorized: authentication required");
  EXPECT(e != NULL && strstr(e->msg, "no credentials") == NULL);
}

static void test_connection_refused(void) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  char domain[32];
  snprintf(domain, sizeof(domain), "127.0.0.1:%d", free_port());
  cleanup_free char *body = NULL, *mt = NULL;
  size_t len;
  char digest[DIGEST_TEXT_MAX];
  cleanup_error berth_error *e = NULL;
  EXPECT_FAIL(e, registry_get_manifest(c, domain, "test/app", "v1", NULL, &body, &len, &mt, digest, err));
  char want[512];
  snprintf(want, sizeof(want), "pull manifest \"test/app:v1\" from %s: Failed to connect to 127.0.0.1 port", domain);
  EXPECT_CONTAINS(e ? e->msg : NULL, want);
}

/* --- the fake registry --- */

static void test_bearer_pull(void) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  int64_t before = stat_int("tokens");
  for (int i = 0; i < 2; i++) {
    cleanup_free char *body = NULL, *mt = NULL;
    size_t len;
    char digest[DIGEST_TEXT_MAX];
    EXPECT_OK(registry_get_manifest(c, fake_domain, "bearer/app", "v1", NULL, &body, &len, &mt, digest, err));
    /* Content-Type parameters are dropped. */
    EXPECT_STR(mt, OCI_MANIFEST);
  }
  /* One token, reused for the second request. */
  EXPECT(stat_int("tokens") == before + 1);
  cleanup_free char *scope = stat_last("token_scopes");
  EXPECT_STR(scope, "repository:bearer/app:pull");
  cleanup_free char *user = stat_last("token_users");
  EXPECT_STR(user, "");

  /* A digest reference whose bytes differ is refused. */
  cleanup_free char *body = NULL, *mt = NULL;
  size_t len;
  char digest[DIGEST_TEXT_MAX];
  cleanup_error berth_error *e = NULL;
  EXPECT_FAIL(e, registry_get_manifest(c, fake_domain, "bearer/app", fake_digest, NULL, &body, &len, &mt, digest, err));
  EXPECT_CONTAINS(e ? e->msg : NULL, ": digest mismatch (got sha256:");
  EXPECT(body == NULL);
}

static void test_bearer_push(void) {
  const char *m = "{\"schemaVersion\":2}";
  cleanup_error berth_error *e = NULL;
  {
    /* Anonymous: the token server grants pull only. */
    cleanup_client struct registry_client *c = client_with(true, "bearer-anon.json", 0);
    EXPECT_FAIL(e, registry_put_manifest(c, fake_domain, "bearer/app", "v2", OCI_MANIFEST, m, strlen(m), err));
    char want[512];
    snprintf(want, sizeof(want), "push manifest \"bearer/app:v2\" to %s: unauthorized: authentication required "
             "(no credentials for %s)", fake_domain, fake_domain);
    EXPECT_STR(e ? e->msg : NULL, want);
  }
  cleanup_free char *wrong_file = tmp_path("bearer-wrong.json");
  EXPECT_OK(registry_creds_store(wrong_file, fake_domain, "alice", "nope", err));
  {
    cleanup_client struct registry_client *c = client_with(true, "bearer-wrong.json", 0);
    EXPECT_FAIL(e, registry_put_manifest(c, fake_domain, "bearer/app", "v2", OCI_MANIFEST, m, strlen(m), err));
    char want[512];
    snprintf(want, sizeof(want), "push manifest \"bearer/app:v2\" to %s: unauthorized: get token from "
             "http://127.0.0.1:%d/token: 401 Unauthorized (incorrect username or password)", fake_domain, fake_port);
    EXPECT_STR(e ? e->msg : NULL, want);
    EXPECT(e != NULL && e->errnum == EACCES);
  }
  cleanup_free char *file = tmp_path("bearer-alice.json");
  EXPECT_OK(registry_creds_store(file, fake_domain, "alice", "wonderland", err));
  cleanup_client struct registry_client *c = client_with(true, "bearer-alice.json", 0);
  int64_t puts_before = stat_int("manifests_put");
  EXPECT_OK(registry_put_manifest(c, fake_domain, "bearer/app", "v2", OCI_MANIFEST, m, strlen(m), err));
  EXPECT(stat_int("manifests_put") == puts_before + 1);
  cleanup_free char *scope = stat_last("token_scopes");
  EXPECT_STR(scope, "repository:bearer/app:pull,push");
  cleanup_free char *user = stat_last("token_users");
  EXPECT_STR(user, "alice");

  /* A mount asks for both repositories at once. */
  bool mounted = false;
  EXPECT_OK(registry_mount_blob(c, fake_domain, "bearer/app", fake_digest, "bearer/base", &mounted, err));
  EXPECT(mounted);
  cleanup_free char *mscope = stat_last("token_scopes");
  EXPECT_STR(mscope, "repository:bearer/app:pull,push repository:bearer/base:pull");
  /* Not readable there: the registry opens an upload instead, which is
   * cancelled. */
  int64_t cancelled = stat_int("cancelled");
  EXPECT_OK(registry_mount_blob(c, fake_domain, "bearer/app", fake_digest, "private/base", &mounted, err));
  EXPECT(!mounted);
  EXPECT(stat_int("cancelled") == cancelled + 1);
}

static void test_bearer_login(void) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  EXPECT_OK(registry_check_login(c, fake_domain, "alice", "wonderland", err));
  cleanup_free char *user = stat_last("token_users");
  EXPECT_STR(user, "alice");
  cleanup_error berth_error *e = NULL;
  EXPECT_FAIL(e, registry_check_login(c, fake_domain, "alice", "rabbit", err));
  char want[512];
  snprintf(want, sizeof(want), "log in to %s: unauthorized: get token from http://127.0.0.1:%d/token: 401", fake_domain,
           fake_port);
  EXPECT_CONTAINS(e ? e->msg : NULL, want);
}

static void test_server_error(void) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  cleanup_free char *body = NULL, *mt = NULL;
  size_t len;
  char digest[DIGEST_TEXT_MAX];
  cleanup_error berth_error *e = NULL;
  EXPECT_FAIL(e, registry_get_manifest(c, fake_domain, "open/broken", "x", NULL, &body, &len, &mt, digest, err));
  char want[512];
  snprintf(want, sizeof(want), "pull manifest \"open/broken:x\" from %s: 500 Internal Server Error (UNKNOWN: boom)",
           fake_domain);
  EXPECT_STR(e ? e->msg : NULL, want);
  EXPECT(e != NULL && e->errnum == EIO);

  /* A generic Content-Type: the manifest says what it is. */
  EXPECT_OK(registry_get_manifest(c, fake_domain, "open/json", "x", NULL, &body, &len, &mt, digest, err));
  EXPECT_STR(mt, OCI_MANIFEST);
  free(body);
  free(mt);
  body = mt = NULL;

  EXPECT_FAIL(e, registry_get_manifest(c, fake_domain, "open/huge", "x", NULL, &body, &len, &mt, digest, err));
  EXPECT_CONTAINS(e ? e->msg : NULL, "pull manifest \"open/huge:x\" from ");
  EXPECT_CONTAINS(e ? e->msg : NULL, ": the response is larger than 4 MiB");
}

static void test_cut_and_resume(void) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  cleanup_close int fd = blob_file("cut", NULL, 0);
  cleanup_error berth_error *e = NULL;
  EXPECT_FAIL(e, registry_fetch_blob(c, fake_domain, "open/cut", fake_digest, 0, fd, NULL, NULL, err));
  char want[512];
  snprintf(want, sizeof(want), "pull blob \"open/cut@%s\" from %s: transfer closed with 7240 bytes remaining to read",
           fake_digest, fake_domain);
  EXPECT_STR(e ? e->msg : NULL, want);
  /* What arrived stays, and the next call asks for the rest. */
  EXPECT(fd_size(fd) == 3000);
  EXPECT_OK(registry_fetch_blob(c, fake_domain, "open/range", fake_digest, 0, fd, NULL, NULL, err));
  cleanup_free char *range = stat_last("ranges");
  EXPECT_STR(range, "bytes=3000-");
  EXPECT(fd_holds(fd, fake_blob, sizeof(fake_blob)));
}

static void test_fake_digest_mismatch(void) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  cleanup_close int fd = blob_file("mismatch", NULL, 0);
  cleanup_error berth_error *e = NULL;
  EXPECT_FAIL(e, registry_fetch_blob(c, fake_domain, "open/mismatch", fake_digest, 0, fd, NULL, NULL, err));
  char got[DIGEST_TEXT_MAX], want[512];
  const char *served = "not the blob you asked for";
  digest_bytes(served, strlen(served), got);
  snprintf(want, sizeof(want), "pull blob \"open/mismatch@%s\" from %s: digest mismatch (got %s)", fake_digest,
           fake_domain, got);
  EXPECT_STR(e ? e->msg : NULL, want);
  EXPECT(e != NULL && e->errnum == EBADMSG);
  EXPECT(fd_size(fd) == 0);
}

static void test_redirect(void) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  int64_t hits = stat_int("storage_requests");
  cleanup_close int fd = blob_file("redirect", NULL, 0);
  EXPECT_OK(registry_fetch_blob(c, fake_domain, "bearer/redirect", fake_digest, 0, fd, NULL, NULL, err));
  EXPECT(fd_holds(fd, fake_blob, sizeof(fake_blob)));
  EXPECT(stat_int("storage_requests") == hits + 1);
  /* The token went to the registry only, not to the storage host. */
  EXPECT(stat_int("storage_auth") == 0);
  /* A resumed download keeps its range across the redirect. */
  cleanup_close int part = blob_file("redirect-part", fake_blob, 1000);
  EXPECT_OK(registry_fetch_blob(c, fake_domain, "bearer/redirect", fake_digest, 0, part, NULL, NULL, err));
  cleanup_free char *range = stat_last("ranges");
  EXPECT_STR(range, "bytes=1000-");
  EXPECT(fd_holds(part, fake_blob, sizeof(fake_blob)));
  EXPECT(stat_int("storage_auth") == 0);
}

static void test_ranges(void) {
  cleanup_client struct registry_client *c = client_with(true, NULL, 0);
  /* A server that ignores Range: the file starts over. */
  cleanup_close int a = blob_file("norange", fake_blob, 5000);
  struct progress p = {0};
  EXPECT_OK(registry_fetch_blob(c, fake_domain, "open/norange", fake_digest, 0, a, on_progress, &p, err));
  EXPECT(fd_holds(a, fake_blob, sizeof(fake_blob)));
  EXPECT(!p.backwards && p.last == sizeof(fake_blob) && p.total == sizeof(fake_blob));
  cleanup_free char *range = stat_last("ranges");
  EXPECT_STR(range, "bytes=5000-");
  /* A 206 from the wrong place is refused, the file untouched. */
  cleanup_close int b = blob_file("badrange", fake_blob, 5000);
  cleanup_error berth_error *e = NULL;
  EXPECT_FAIL(e, registry_fetch_blob(c, fake_domain, "open/badrange", fake_digest, 0, b, NULL, NULL, err));
  EXPECT_CONTAINS(e ? e->msg : NULL, "asked for bytes from 5000, the registry sent them from 0");
  EXPECT(fd_holds(b, fake_blob, 5000));
}

static void test_tls_fallback(void) {
  cleanup_free char *body = NULL, *mt = NULL;
  size_t len;
  char digest[DIGEST_TEXT_MAX];
  cleanup_error berth_error *e = NULL;
  {
    /* Verified TLS is required of a non-local registry. */
    cleanup_client struct registry_client *c = client_with(true, NULL, 0);
    EXPECT_FAIL(e, registry_get_manifest(c, extra_domain, "open/plain", "v1", NULL, &body, &len, &mt, digest, err));
    char want[512];
    snprintf(want, sizeof(want), "pull manifest \"open/plain:v1\" from %s: ", extra_domain);
    EXPECT_CONTAINS(e ? e->msg : NULL, want);
  }
  cleanup_client struct registry_client *c = client_with(false, NULL, 0);
  for (int i = 0; i < 2; i++) {
    free(body);
    free(mt);
    body = mt = NULL;
    EXPECT_OK(registry_get_manifest(c, extra_domain, "open/plain", "v1", NULL, &body, &len, &mt, digest, err));
    EXPECT_STR(mt, OCI_MANIFEST);
  }
}

/* The same against docker-registry, whose Go server answers a TLS
 * handshake on its plain port in its own way. */
static void test_tls_fallback_registry(void) {
  char addr[64], domain[96];
  EXPECT(outside_address(addr, sizeof(addr)));
  int port = free_port();
  snprintf(domain, sizeof(domain), "%s:%d", addr, port);
  pid_t pid = start_registry("outside", addr, port, false);
  EXPECT(pid > 0);
  if (pid <= 0)
    return;
  cleanup_error berth_error *e = NULL;
  bool exists = true;
  {
    cleanup_client struct registry_client *c = client_with(true, NULL, 0);
    EXPECT_FAIL(e, registry_blob_exists(c, domain, "test/app", config_digest, &exists, err));
    EXPECT_CONTAINS(e ? e->msg : NULL, "SSL");
  }
  cleanup_client struct registry_client *c = client_with(false, NULL, 0);
  cleanup_close int cfd = open(config_path, O_RDONLY | O_CLOEXEC);
  EXPECT_OK(registry_push_blob(c, domain, "test/app", config_digest, cfd, config_len, NULL, NULL, err));
  EXPECT_OK(registry_blob_exists(c, domain, "test/app", config_digest, &exists, err));
  EXPECT(exists);
  stop(&pid);
}

/* --- setup --- */

static void make_test_data(void) {
  layer_len = 300000;
  layer = malloc(layer_len);
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < layer_len; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    layer[i] = (char)x;
  }
  digest_bytes(layer, layer_len, layer_digest);
  if (asprintf(&config, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
               "\"diff_ids\":[\"%s\"]}}", layer_digest) < 0)
    abort();
  config_len = strlen(config);
  digest_bytes(config, config_len, config_digest);
  if (asprintf(&manifest, "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MANIFEST "\",\"config\":{\"mediaType\":"
               "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{"
               "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}]}",
               config_digest, config_len, layer_digest, layer_len) < 0)
    abort();
  manifest_len = strlen(manifest);
  digest_bytes(manifest, manifest_len, manifest_digest);
  layer_path = tmp_path("layer");
  config_path = tmp_path("config");
  write_file(layer_path, layer, layer_len);
  write_file(config_path, config, config_len);
  for (size_t i = 0; i < sizeof(fake_blob); i++)
    fake_blob[i] = (char)(i % 256);
  digest_bytes(fake_blob, sizeof(fake_blob), fake_digest);
}

static bool have_program(const char *name) {
  const char *path = getenv("PATH");
  cleanup_free char *copy = strdup(path != NULL ? path : "/usr/bin:/bin");
  for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save)) {
    cleanup_free char *full = NULL;
    if (asprintf(&full, "%s/%s", dir, name) >= 0 && access(full, X_OK) == 0)
      return true;
  }
  return false;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (mkdtemp(tmpdir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  make_test_data();
  /* The registry's own tests must not read the user's credentials. */
  cleanup_free char *home = tmp_path("home");
  setenv("HOME", home, 1);
  unsetenv("XDG_CONFIG_HOME");
  unsetenv("DOCKER_CONFIG");

  bool have_registry = have_program("docker-registry");
  if (have_registry) {
    int p1 = free_port(), p2 = free_port();
    snprintf(reg_domain, sizeof(reg_domain), "127.0.0.1:%d", p1);
    snprintf(auth_domain, sizeof(auth_domain), "127.0.0.1:%d", p2);
    registry_pid = start_registry("plain", "127.0.0.1", p1, false);
    auth_registry_pid = start_registry("htpasswd", "127.0.0.1", p2, true);
  }
  bool have_fake = start_fake(argc >= 3 ? argv[1] : PYTHON3, argc >= 3 ? argv[2] : FAKE_REGISTRY_SCRIPT);

  char outside[64];
  bool have_outside = outside_address(outside, sizeof(outside));
  const char *no_registry = registry_pid > 0 ? NULL : "docker-registry is not installed or did not start";
  const char *no_fake = have_fake ? NULL : "python3 or fake_registry.py is missing or did not start";
  const char *no_outside = have_outside ? NULL : "no non-loopback IPv4 address to listen on";
  /* The first test pushes the blobs most of the others read. */
  const char *no_blobs = "the blobs were not pushed";
  const struct {
    const char *name;
    void (*fn)(void);
    const char *const *skip[2]; /* reasons not to run, NULL when none */
  } tests[] = {
      {"test_push_and_fetch_blobs", test_push_and_fetch_blobs, {&no_registry}},
      {"test_push_chunked", test_push_chunked, {&no_registry}},
      {"test_push_wrong_digest", test_push_wrong_digest, {&no_registry}},
      {"test_manifest_roundtrip", test_manifest_roundtrip, {&no_registry, &no_blobs}},
      {"test_mount", test_mount, {&no_registry, &no_blobs}},
      {"test_resume", test_resume, {&no_registry, &no_blobs}},
      {"test_parallel", test_parallel, {&no_registry, &no_blobs}},
      {"test_manifest_unknown", test_manifest_unknown, {&no_registry}},
      {"test_missing_blob", test_missing_blob, {&no_registry}},
      {"test_basic_auth", test_basic_auth, {auth_registry_pid > 0 ? NULL : &no_registry}},
      {"test_tls_fallback_registry", test_tls_fallback_registry, {&no_registry, &no_outside}},
      {"test_connection_refused", test_connection_refused, {NULL}},
      {"test_bearer_pull", test_bearer_pull, {&no_fake}},
      {"test_bearer_push", test_bearer_push, {&no_fake}},
      {"test_bearer_login", test_bearer_login, {&no_fake}},
      {"test_server_error", test_server_error, {&no_fake}},
      {"test_cut_and_resume", test_cut_and_resume, {&no_fake}},
      {"test_fake_digest_mismatch", test_fake_digest_mismatch, {&no_fake}},
      {"test_redirect", test_redirect, {&no_fake}},
      {"test_ranges", test_ranges, {&no_fake}},
      {"test_parallel_bearer", test_parallel_bearer, {&no_fake}},
      {"test_tls_fallback", test_tls_fallback, {&no_fake, extra_domain[0] != '\0' ? NULL : &no_outside}},
  };
  for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
    const char *why = NULL;
    for (size_t k = 0; k < 2 && why == NULL; k++)
      if (tests[i].skip[k] != NULL)
        why = *tests[i].skip[k];
    if (why != NULL) {
      tap_count++;
      printf("ok %d - %s # SKIP %s\n", tap_count, tests[i].name, why);
      fflush(stdout);
      continue;
    }
    tap_current_failed = 0;
    tests[i].fn();
    tap_count++;
    tap_failed += tap_current_failed;
    printf("%s %d - %s\n", tap_current_failed ? "not ok" : "ok", tap_count, tests[i].name);
    fflush(stdout);
    no_blobs = blobs_pushed ? NULL : "the blobs were not pushed";
  }

  stop(&registry_pid);
  stop(&auth_registry_pid);
  stop(&fake_pid);
  berth_error *err = NULL;
  fs_remove_tree_at(AT_FDCWD, tmpdir, &err);
  rmdir(tmpdir);
  berth_error_free(err);
  free(layer);
  free(config);
  free(manifest);
  free(layer_path);
  free(config_path);
  curl_global_cleanup();
  return tap_done();
}
