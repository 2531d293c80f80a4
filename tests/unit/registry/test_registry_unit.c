/* Unit tests of the registry client's pure parts: WWW-Authenticate, names
 * and URLs, error bodies and messages, tokens, base64 and the credentials
 * files.  Nothing here touches the network. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "registry/internal.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"

static char tmpdir[] = "/tmp/berth-registry-unit.XXXXXX";

static void test_challenge_bearer(void) {
  struct reg_challenge ch;
  EXPECT(reg_challenge_parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                             "scope=\"repository:library/busybox:pull\"",
                             &ch) == 0);
  EXPECT(ch.scheme == REG_AUTH_BEARER);
  EXPECT_STR(ch.realm, "https://auth.docker.io/token");
  EXPECT_STR(ch.service, "registry.docker.io");
  EXPECT_STR(ch.scope, "repository:library/busybox:pull");
  EXPECT(ch.error == NULL);
  reg_challenge_clear(&ch);

  /* Case does not matter for the scheme or parameter names; spaces around
   * '=' and unquoted values with '/' and ':' are tolerated. */
  EXPECT(reg_challenge_parse("BEARER Realm = https://a.example/t , SERVICE=reg", &ch) == 0);
  EXPECT(ch.scheme == REG_AUTH_BEARER);
  EXPECT_STR(ch.realm, "https://a.example/t");
  EXPECT_STR(ch.service, "reg");
  reg_challenge_clear(&ch);
}

static void test_challenge_basic_and_others(void) {
  struct reg_challenge ch;
  EXPECT(reg_challenge_parse("Basic realm=\"Registry Realm\"", &ch) == 0);
  EXPECT(ch.scheme == REG_AUTH_BASIC);
  EXPECT_STR(ch.realm, "Registry Realm");
  reg_challenge_clear(&ch);

  EXPECT(reg_challenge_parse("Negotiate", &ch) == 0);
  EXPECT(ch.scheme == REG_AUTH_NONE);
  reg_challenge_clear(&ch);

  EXPECT(reg_challenge_parse("", &ch) == 0);
  EXPECT(ch.scheme == REG_AUTH_NONE);
  reg_challenge_clear(&ch);

  /* A token68 after the scheme is skipped, not taken for a parameter. */
  EXPECT(reg_challenge_parse("Basic abc==", &ch) == 0);
  EXPECT(ch.scheme == REG_AUTH_BASIC && ch.realm == NULL);
  reg_challenge_clear(&ch);
}

static void test_challenge_several(void) {
  struct reg_challenge ch;
  /* Bearer wins over Basic wherever it comes, with its own parameters. */
  EXPECT(reg_challenge_parse("Basic realm=\"b\", Bearer realm=\"https://a/t\", service=\"s\"", &ch) == 0);
  EXPECT(ch.scheme == REG_AUTH_BEARER);
  EXPECT_STR(ch.realm, "https://a/t");
  EXPECT_STR(ch.service, "s");
  reg_challenge_clear(&ch);

  EXPECT(reg_challenge_parse("Bearer realm=\"https://a/t\",scope=\"repository:a:pull repository:b:pull\", "
                             "Basic realm=\"b\"",
                             &ch) == 0);
  EXPECT(ch.scheme == REG_AUTH_BEARER);
  EXPECT_STR(ch.realm, "https://a/t");
  EXPECT_STR(ch.scope, "repository:a:pull repository:b:pull");
  reg_challenge_clear(&ch);

  EXPECT(reg_challenge_parse("Negotiate abc, Basic realm=x", &ch) == 0);
  EXPECT(ch.scheme == REG_AUTH_BASIC);
  EXPECT_STR(ch.realm, "x");
  reg_challenge_clear(&ch);
}

static void test_challenge_quoting(void) {
  struct reg_challenge ch;
  /* Commas inside quotes do not split; backslash escapes a quote. */
  EXPECT(reg_challenge_parse("Bearer realm=\"https://a/t?x=1,y=2\",error=\"insufficient_scope\",scope=\"a\\\"b\"",
                             &ch) == 0);
  EXPECT_STR(ch.realm, "https://a/t?x=1,y=2");
  EXPECT_STR(ch.error, "insufficient_scope");
  EXPECT_STR(ch.scope, "a\"b");
  reg_challenge_clear(&ch);

  EXPECT(reg_challenge_parse("Bearer realm=\"https://a/t", &ch) == -1);
  EXPECT(ch.realm == NULL);
  EXPECT(reg_challenge_parse("Bearer realm=\"a\" junk", &ch) == -1);
  EXPECT(reg_challenge_parse("Bearer realm=\"a\", =b", &ch) == -1);
  EXPECT(reg_challenge_parse("B@d realm=a", &ch) == -1);
}

static void test_hosts(void) {
  EXPECT_STR(reg_api_host("docker.io"), "registry-1.docker.io");
  EXPECT_STR(reg_api_host("index.docker.io"), "registry-1.docker.io");
  EXPECT_STR(reg_api_host("quay.io"), "quay.io");

  EXPECT(reg_domain_is_local("localhost"));
  EXPECT(reg_domain_is_local("localhost:5000"));
  EXPECT(reg_domain_is_local("127.0.0.1:5000"));
  EXPECT(reg_domain_is_local("127.10.0.3"));
  EXPECT(reg_domain_is_local("[::1]:5000"));
  EXPECT(!reg_domain_is_local("localhost.example.com"));
  EXPECT(!reg_domain_is_local("128.0.0.1"));
  EXPECT(!reg_domain_is_local("10.0.0.1:5000"));
  EXPECT(!reg_domain_is_local("[::2]:5000"));
  EXPECT(!reg_domain_is_local("127.example.com"));
  EXPECT(!reg_domain_is_local("quay.io"));

  EXPECT(reg_domain_valid("quay.io"));
  EXPECT(reg_domain_valid("127.0.0.1:5000"));
  EXPECT(reg_domain_valid("[::1]:5000"));
  EXPECT(reg_domain_valid("my-registry.local:443"));
  EXPECT(!reg_domain_valid(""));
  EXPECT(!reg_domain_valid("a/b"));
  EXPECT(!reg_domain_valid("a?b"));
  EXPECT(!reg_domain_valid("a#b"));
  EXPECT(!reg_domain_valid("a:"));
  EXPECT(!reg_domain_valid("a:5x"));
  EXPECT(!reg_domain_valid("user@host"));
  EXPECT(!reg_domain_valid("[zz]:1"));
  EXPECT(!reg_domain_valid("a b"));
}

static void test_names(void) {
  EXPECT(reg_repo_valid("library/busybox"));
  EXPECT(reg_repo_valid("a"));
  EXPECT(reg_repo_valid("a/b/c"));
  EXPECT(reg_repo_valid("a.b_c__d-e--f"));
  EXPECT(reg_repo_valid("a0/9b"));
  EXPECT(!reg_repo_valid(""));
  EXPECT(!reg_repo_valid("Library/busybox"));
  EXPECT(!reg_repo_valid("a//b"));
  EXPECT(!reg_repo_valid("/a"));
  EXPECT(!reg_repo_valid("a/"));
  EXPECT(!reg_repo_valid("a..b"));
  EXPECT(!reg_repo_valid("a___b"));
  EXPECT(!reg_repo_valid("-a"));
  EXPECT(!reg_repo_valid("a-"));
  EXPECT(!reg_repo_valid("a/../b"));
  EXPECT(!reg_repo_valid("a?b"));

  char long_tag[130];
  memset(long_tag, 'x', 128);
  long_tag[128] = '\0';
  EXPECT(reg_tag_valid("latest"));
  EXPECT(reg_tag_valid("v1.0.0-rc_1"));
  EXPECT(reg_tag_valid("_x"));
  EXPECT(reg_tag_valid(long_tag));
  long_tag[128] = 'x';
  long_tag[129] = '\0';
  EXPECT(!reg_tag_valid(long_tag));
  EXPECT(!reg_tag_valid(".x"));
  EXPECT(!reg_tag_valid("-x"));
  EXPECT(!reg_tag_valid("a/b"));
  EXPECT(!reg_tag_valid(""));

  EXPECT(reg_reference_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  EXPECT(!reg_reference_valid("sha256:e3b0"));
  EXPECT(!reg_reference_valid("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  EXPECT(reg_reference_valid("latest"));
  EXPECT(!reg_reference_valid("../x"));
}

static void test_urls(void) {
  cleanup_free char *a = reg_url(false, "docker.io", "/v2/");
  EXPECT_STR(a, "https://registry-1.docker.io/v2/");
  cleanup_free char *b = reg_url(true, "127.0.0.1:5000", "/v2/x/manifests/y");
  EXPECT_STR(b, "http://127.0.0.1:5000/v2/x/manifests/y");

  const char *base = "http://127.0.0.1:5000/v2/a/blobs/uploads/";
  cleanup_free char *r1 = reg_url_resolve(base, "/v2/a/blobs/uploads/u1?_state=x");
  EXPECT_STR(r1, "http://127.0.0.1:5000/v2/a/blobs/uploads/u1?_state=x");
  cleanup_free char *r2 = reg_url_resolve(base, "u2");
  EXPECT_STR(r2, "http://127.0.0.1:5000/v2/a/blobs/uploads/u2");
  cleanup_free char *r3 = reg_url_resolve(base, "https://storage.example.com/x?sig=1");
  EXPECT_STR(r3, "https://storage.example.com/x?sig=1");
  EXPECT(reg_url_resolve(base, "ftp://x/y") == NULL);
  EXPECT(reg_url_resolve(base, "file:///etc/passwd") == NULL);
  EXPECT(reg_url_resolve(base, "/a\r\nX-Evil: 1") == NULL);

  cleanup_free char *q1 = reg_url_add_query("http://h/p?_state=abc", "digest", "sha256:00");
  EXPECT(q1 != NULL && strncmp(q1, "http://h/p?_state=abc&digest=sha256%3", 37) == 0);
  cleanup_free char *q2 = reg_url_add_query("http://h/p", "scope", "repository:a b:pull");
  EXPECT(q2 != NULL && strstr(q2, "?scope=repository%3") != NULL && strchr(q2, ' ') == NULL);

  EXPECT(reg_url_same_origin("http://127.0.0.1:5000/a", "http://127.0.0.1:5000/b?c"));
  EXPECT(reg_url_same_origin("https://h/a", "https://H:443/b"));
  EXPECT(!reg_url_same_origin("http://127.0.0.1:5000/a", "http://localhost:5000/a"));
  EXPECT(!reg_url_same_origin("http://127.0.0.1:5000/a", "https://127.0.0.1:5000/a"));
  EXPECT(!reg_url_same_origin("http://127.0.0.1:5000/a", "http://127.0.0.1:5001/a"));

  EXPECT(reg_header_safe("application/vnd.oci.image.manifest.v1+json"));
  EXPECT(!reg_header_safe("a\r\nb"));
}

static void test_error_bodies(void) {
  const char *one = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\","
                    "\"detail\":{\"Tag\":\"x\"}}]}";
  cleanup_free char *a = reg_error_body_text(one, strlen(one), true);
  EXPECT_STR(a, "MANIFEST_UNKNOWN: manifest unknown");
  cleanup_free char *b = reg_error_body_text(one, strlen(one), false);
  EXPECT_STR(b, "manifest unknown");
  const char *two = "{\"errors\":[{\"code\":\"A\",\"message\":\"a\"},{\"code\":\"B\"}]}";
  cleanup_free char *c = reg_error_body_text(two, strlen(two), true);
  EXPECT_STR(c, "A: a; B");
  const char *details = "{\"details\":\"incorrect username or password\"}";
  cleanup_free char *d = reg_error_body_text(details, strlen(details), true);
  EXPECT_STR(d, "incorrect username or password");
  const char *evil = "{\"errors\":[{\"code\":\"X\",\"message\":\"bad\\u001b[31mred\\n\"}]}";
  cleanup_free char *e = reg_error_body_text(evil, strlen(evil), true);
  EXPECT_STR(e, "X: bad [31mred ");
  EXPECT(reg_error_body_text("<html>", 6, true) == NULL);
  EXPECT(reg_error_body_text("", 0, true) == NULL);
  EXPECT(reg_error_body_text("{\"errors\":[]}", 13, true) == NULL);

  EXPECT_STR(reg_status_text(404), "Not Found");
  EXPECT_STR(reg_status_text(999), "");
}

static void test_status_messages(void) {
  const char *body = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}";
  struct reg_call call = {.ctx = "pull manifest \"library/busybox:latest\" from 127.0.0.1:5000",
                          .domain = "127.0.0.1:5000", .status = 404, .body = (char *)body, .body_len = strlen(body)};
  berth_error *err = NULL;
  EXPECT(reg_fail_status(&call, &err) == -1);
  EXPECT_STR(err ? err->msg : NULL, "pull manifest \"library/busybox:latest\" from 127.0.0.1:5000: "
                                    "404 Not Found (MANIFEST_UNKNOWN: manifest unknown)");
  EXPECT(err != NULL && err->errnum == ENOENT);
  berth_error_freep(&err);

  call.status = 401;
  call.body = NULL;
  call.body_len = 0;
  call.unauthorized_no_creds = true;
  reg_fail_status(&call, &err);
  EXPECT_STR(err ? err->msg : NULL, "pull manifest \"library/busybox:latest\" from 127.0.0.1:5000: "
                                    "unauthorized: authentication required (no credentials for 127.0.0.1:5000)");
  EXPECT(err != NULL && err->errnum == EACCES);
  berth_error_freep(&err);

  call.status = 502;
  call.body = "<html>bad gateway</html>";
  call.body_len = strlen(call.body);
  reg_fail_status(&call, &err);
  EXPECT_STR(err ? err->msg : NULL, "pull manifest \"library/busybox:latest\" from 127.0.0.1:5000: 502 Bad Gateway");
  EXPECT(err != NULL && err->errnum == EIO);
  berth_error_freep(&err);

  call.status = 418;
  reg_fail_status(&call, &err);
  EXPECT_STR(err ? err->msg : NULL, "pull manifest \"library/busybox:latest\" from 127.0.0.1:5000: 418");
  berth_error_freep(&err);
}

static void test_token_parse(void) {
  char *token = NULL;
  int64_t exp = 0;
  berth_error *err = NULL;
  const char *a = "{\"token\":\"abc\",\"expires_in\":300,\"issued_at\":\"2024-01-01T00:00:00Z\"}";
  EXPECT(reg_token_parse(a, strlen(a), &token, &exp, &err) == 0);
  EXPECT_STR(token, "abc");
  EXPECT(exp == 300);
  free(token);
  const char *b = "{\"access_token\":\"xyz\"}";
  EXPECT(reg_token_parse(b, strlen(b), &token, &exp, &err) == 0);
  EXPECT_STR(token, "xyz");
  EXPECT(exp == 60);
  free(token);
  const char *c = "{\"token\":\"\",\"access_token\":\"q\"}";
  EXPECT(reg_token_parse(c, strlen(c), &token, &exp, &err) == 0);
  EXPECT_STR(token, "q");
  free(token);

  EXPECT(reg_token_parse("{}", 2, &token, &exp, &err) == -1);
  EXPECT_CONTAINS(err ? err->msg : NULL, "no \"token\"");
  berth_error_freep(&err);
  EXPECT(reg_token_parse("[1]", 3, &token, &exp, &err) == -1);
  berth_error_freep(&err);
  const char *d = "{\"token\":\"a\\nb\"}";
  EXPECT(reg_token_parse(d, strlen(d), &token, &exp, &err) == -1);
  EXPECT_CONTAINS(err ? err->msg : NULL, "control characters");
  berth_error_freep(&err);
  const char *e = "{\"token\":\"t\",\"expires_in\":\"soon\"}";
  EXPECT(reg_token_parse(e, strlen(e), &token, &exp, &err) == -1);
  EXPECT_CONTAINS(err ? err->msg : NULL, "expires_in");
  berth_error_freep(&err);
  EXPECT(token == NULL);
}

static size_t token_count(struct registry_client *c) {
  size_t n = 0;
  for (struct reg_token *t = c->tokens; t != NULL; t = t->next)
    n++;
  return n;
}

static void test_token_cache(void) {
  struct registry_options o = {.tls_verify = true};
  berth_error *err = NULL;
  struct registry_client *c = registry_client_new(&o, &err);
  EXPECT(c != NULL);
  if (c == NULL)
    return;
  int64_t now = reg_now();
  cleanup_free char *pull = reg_token_key("quay.io", "repository:a:pull");
  cleanup_free char *push = reg_token_key("quay.io", "repository:a:pull,push");
  cleanup_free char *other = reg_token_key("ghcr.io", "repository:a:pull");
  EXPECT(reg_token_get(c, pull, now) == NULL);
  EXPECT(reg_token_put(c, pull, "t1", now + 100) == 0);
  cleanup_free char *g1 = reg_token_get(c, pull, now);
  EXPECT_STR(g1, "t1");
  EXPECT(reg_token_get(c, pull, now + 100) == NULL);
  EXPECT(reg_token_get(c, push, now) == NULL);
  EXPECT(reg_token_get(c, other, now) == NULL);
  EXPECT(reg_token_put(c, pull, "t2", now + 100) == 0);
  cleanup_free char *g2 = reg_token_get(c, pull, now);
  EXPECT_STR(g2, "t2");
  EXPECT(token_count(c) == 1);
  /* An expired entry goes when the next one comes. */
  EXPECT(reg_token_put(c, push, "t3", now - 1) == 0);
  EXPECT(token_count(c) == 2);
  EXPECT(reg_token_put(c, other, "t4", now + 100) == 0);
  EXPECT(token_count(c) == 2);
  registry_client_free(c);
}

static void test_base64(void) {
  const char *plain[] = {"", "a", "ab", "abc", "user:pass", "\xff\x00\x80"};
  size_t lens[] = {0, 1, 2, 3, 9, 3};
  const char *coded[] = {"", "YQ==", "YWI=", "YWJj", "dXNlcjpwYXNz", "/wCA"};
  for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
    cleanup_free char *e = reg_base64_encode(plain[i], lens[i]);
    EXPECT_STR(e, coded[i]);
    size_t n = 99;
    cleanup_free char *d = reg_base64_decode(coded[i], &n);
    EXPECT(d != NULL && n == lens[i] && memcmp(d, plain[i], n) == 0);
  }
  size_t n;
  cleanup_free char *unpadded = reg_base64_decode("YQ", &n);
  EXPECT(unpadded != NULL && n == 1 && unpadded[0] == 'a');
  EXPECT(reg_base64_decode("a$==", &n) == NULL);
  EXPECT(reg_base64_decode("Y", &n) == NULL);
}

static void test_auth_keys(void) {
  EXPECT(reg_auth_key_matches("https://index.docker.io/v1/", "docker.io"));
  EXPECT(reg_auth_key_matches("docker.io", "docker.io"));
  EXPECT(reg_auth_key_matches("registry-1.docker.io", "docker.io"));
  EXPECT(reg_auth_key_matches("https://index.docker.io/v1/", "index.docker.io"));
  EXPECT(reg_auth_key_matches("quay.io", "quay.io"));
  EXPECT(reg_auth_key_matches("https://quay.io", "quay.io"));
  EXPECT(reg_auth_key_matches("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"));
  EXPECT(reg_auth_key_matches("QUAY.IO", "quay.io"));
  EXPECT(!reg_auth_key_matches("quay.io:443", "quay.io"));
  EXPECT(!reg_auth_key_matches("quay.io", "docker.io"));
  EXPECT(!reg_auth_key_matches("", "docker.io"));
}

/* tmpdir/<name>, in a static buffer per call site. */
static char *tmp_path(const char *name) {
  char *p = NULL;
  if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
    abort();
  return p;
}

static void write_text(const char *path, const char *text) {
  berth_error *err = NULL;
  char *dir = strdup(path);
  *strrchr(dir, '/') = '\0';
  fs_mkdir_p(dir, 0700, &err);
  free(dir);
  fs_write_file_at(AT_FDCWD, path, text, strlen(text), 0600, &err);
  berth_error_free(err);
}

static char *read_text(const char *path) {
  berth_error *err = NULL;
  char *text = fs_read_file_at(AT_FDCWD, path, NULL, &err);
  berth_error_free(err);
  return text;
}

static void test_creds_store_lookup(void) {
  cleanup_free char *file = tmp_path("store/sub/auth.json");
  berth_error *err = NULL;
  EXPECT(registry_creds_store(file, "127.0.0.1:5000", "alice", "s3cr:et", &err) == 0);
  EXPECT(err == NULL);
  struct stat st;
  EXPECT(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);
  cleanup_free char *text = read_text(file);
  /* base64("alice:s3cr:et") */
  EXPECT_CONTAINS(text, "\"127.0.0.1:5000\"");
  EXPECT_CONTAINS(text, "\"auth\": \"YWxpY2U6czNjcjpldA==\"");

  char *user = NULL, *password = NULL;
  EXPECT(registry_creds_lookup(file, "127.0.0.1:5000", &user, &password, &err) == 0);
  EXPECT_STR(user, "alice");
  EXPECT_STR(password, "s3cr:et");
  free(user);
  free(password);
  EXPECT(registry_creds_lookup(file, "quay.io", &user, &password, &err) == 0);
  EXPECT(user == NULL && password == NULL);

  /* A second registry leaves the first alone; storing again replaces. */
  EXPECT(registry_creds_store(file, "quay.io", "bob", "pw", &err) == 0);
  EXPECT(registry_creds_store(file, "127.0.0.1:5000", "alice", "new", &err) == 0);
  EXPECT(registry_creds_lookup(file, "quay.io", &user, &password, &err) == 0);
  EXPECT_STR(user, "bob");
  free(user);
  free(password);
  EXPECT(registry_creds_lookup(file, "127.0.0.1:5000", &user, &password, &err) == 0);
  EXPECT_STR(password, "new");
  free(user);
  free(password);

  /* No temporary file is left beside it. */
  cleanup_free char *dir = tmp_path("store/sub");
  DIR *d = opendir(dir);
  int entries = 0;
  for (struct dirent *de; d != NULL && (de = readdir(d)) != NULL;)
    if (de->d_name[0] != '.')
      entries++;
  if (d != NULL)
    closedir(d);
  EXPECT(entries == 1);

  EXPECT(registry_creds_store(file, "quay.io", "a:b", "pw", &err) == -1);
  EXPECT_CONTAINS(err ? err->msg : NULL, "user name");
  berth_error_freep(&err);
  EXPECT(registry_creds_store(file, "quay.io/x", "a", "pw", &err) == -1);
  berth_error_freep(&err);
}

static void test_creds_keeps_other_keys(void) {
  cleanup_free char *file = tmp_path("keep/auth.json");
  write_text(file, "{\"auths\":{\"ghcr.io\":{\"auth\":\"eDp5\"}},\"credHelpers\":{\"x.io\":\"helper\"}}");
  berth_error *err = NULL;
  EXPECT(registry_creds_store(file, "quay.io", "bob", "pw", &err) == 0);
  cleanup_free char *text = read_text(file);
  EXPECT_CONTAINS(text, "credHelpers");
  EXPECT_CONTAINS(text, "ghcr.io");
  EXPECT(registry_creds_remove(file, "quay.io", &err) == 0);
  cleanup_free char *after = read_text(file);
  EXPECT_CONTAINS(after, "ghcr.io");
  EXPECT(after != NULL && strstr(after, "quay.io") == NULL);
  struct stat st;
  EXPECT(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);
}

static void test_creds_remove(void) {
  cleanup_free char *file = tmp_path("remove/auth.json");
  berth_error *err = NULL;
  EXPECT(registry_creds_remove(file, "quay.io", &err) == -1);
  EXPECT(err != NULL && err->errnum == ENOENT);
  EXPECT_CONTAINS(err ? err->msg : NULL, "remove credentials for quay.io: not logged in");
  berth_error_freep(&err);

  /* Every spelling of the registry goes. */
  write_text(file, "{\"auths\":{\"docker.io\":{\"auth\":\"eDp5\"},\"https://index.docker.io/v1/\":{\"auth\":\"eDp5\"},"
                   "\"quay.io\":{\"auth\":\"eDp5\"}}}");
  EXPECT(registry_creds_remove(file, "docker.io", &err) == 0);
  char *user = NULL, *password = NULL;
  EXPECT(registry_creds_lookup(file, "docker.io", &user, &password, &err) == 0);
  EXPECT(user == NULL);
  EXPECT(registry_creds_lookup(file, "quay.io", &user, &password, &err) == 0);
  EXPECT_STR(user, "x");
  EXPECT_STR(password, "y");
  free(user);
  free(password);
  EXPECT(registry_creds_remove(file, "docker.io", &err) == -1);
  EXPECT(err != NULL && err->errnum == ENOENT);
  berth_error_freep(&err);
}

static void test_creds_default_paths(void) {
  cleanup_free char *xdg = tmp_path("xdg");
  cleanup_free char *home = tmp_path("home");
  setenv("XDG_CONFIG_HOME", xdg, 1);
  setenv("HOME", home, 1);
  unsetenv("DOCKER_CONFIG");
  berth_error *err = NULL;
  cleanup_free char *p1 = registry_default_auth_file(&err);
  cleanup_free char *want1 = tmp_path("xdg/berth/auth.json");
  EXPECT_STR(p1, want1);
  unsetenv("XDG_CONFIG_HOME");
  cleanup_free char *p2 = registry_default_auth_file(&err);
  cleanup_free char *want2 = tmp_path("home/.config/berth/auth.json");
  EXPECT_STR(p2, want2);

  EXPECT(registry_creds_store(NULL, "quay.io", "carol", "pw", &err) == 0);
  struct stat st;
  EXPECT(stat(want2, &st) == 0 && (st.st_mode & 0777) == 0600);
  char *user = NULL, *password = NULL;
  EXPECT(registry_creds_lookup(NULL, "quay.io", &user, &password, &err) == 0);
  EXPECT_STR(user, "carol");
  free(user);
  free(password);
  EXPECT(registry_creds_remove(NULL, "quay.io", &err) == 0);

  /* Without $HOME, the password database says where home is. */
  unsetenv("HOME");
  cleanup_free char *p3 = registry_default_auth_file(&err);
  EXPECT(p3 != NULL && p3[0] == '/' && strstr(p3, "/.config/berth/auth.json") != NULL);
  setenv("HOME", home, 1);
  berth_error_free(err);
}

static void test_creds_docker_fallback(void) {
  cleanup_free char *home = tmp_path("dhome");
  setenv("HOME", home, 1);
  unsetenv("DOCKER_CONFIG");
  unsetenv("XDG_CONFIG_HOME");
  cleanup_free char *own = tmp_path("dhome/own.json");
  cleanup_free char *docker = tmp_path("dhome/.docker/config.json");
  /* base64("bob:pw") and the older username/password form */
  write_text(docker, "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"Ym9iOnB3\"},"
                     "\"old.example\":{\"username\":\"dan\",\"password\":\"pw2\"}},\"credsStore\":\"desktop\"}");
  berth_error *err = NULL;
  char *user = NULL, *password = NULL;
  EXPECT(registry_creds_lookup(own, "docker.io", &user, &password, &err) == 0);
  EXPECT_STR(user, "bob");
  EXPECT_STR(password, "pw");
  free(user);
  free(password);
  EXPECT(registry_creds_lookup(own, "old.example", &user, &password, &err) == 0);
  EXPECT_STR(user, "dan");
  EXPECT_STR(password, "pw2");
  free(user);
  free(password);

  /* berth's own file comes first. */
  EXPECT(registry_creds_store(own, "docker.io", "carol", "pw3", &err) == 0);
  EXPECT(registry_creds_lookup(own, "docker.io", &user, &password, &err) == 0);
  EXPECT_STR(user, "carol");
  free(user);
  free(password);

  /* $DOCKER_CONFIG moves docker's file. */
  cleanup_free char *dc = tmp_path("dc");
  cleanup_free char *dc_file = tmp_path("dc/config.json");
  write_text(dc_file, "{\"auths\":{\"ghcr.io\":{\"auth\":\"ZXZlOnB3NA==\"}}}");
  setenv("DOCKER_CONFIG", dc, 1);
  EXPECT(registry_creds_lookup(own, "ghcr.io", &user, &password, &err) == 0);
  EXPECT_STR(user, "eve");
  EXPECT_STR(password, "pw4");
  free(user);
  free(password);
  unsetenv("DOCKER_CONFIG");
}

static void test_creds_bad_files(void) {
  cleanup_free char *file = tmp_path("bad/auth.json");
  berth_error *err = NULL;
  char *user = NULL, *password = NULL;
  write_text(file, "{\"auths\": {");
  EXPECT(registry_creds_lookup(file, "quay.io", &user, &password, &err) == -1);
  EXPECT_CONTAINS(err ? err->msg : NULL, "credentials for quay.io: ");
  EXPECT_CONTAINS(err ? err->msg : NULL, file);
  berth_error_freep(&err);
  /* A store does not clobber a file it cannot read. */
  EXPECT(registry_creds_store(file, "quay.io", "a", "b", &err) == -1);
  berth_error_freep(&err);
  cleanup_free char *text = read_text(file);
  EXPECT_STR(text, "{\"auths\": {");

  write_text(file, "{\"auths\":{\"quay.io\":{\"auth\":\"not base64!\"}}}");
  EXPECT(registry_creds_lookup(file, "quay.io", &user, &password, &err) == -1);
  EXPECT_CONTAINS(err ? err->msg : NULL, "auths.quay.io.auth");
  berth_error_freep(&err);
  /* base64 of "nocolon" */
  write_text(file, "{\"auths\":{\"quay.io\":{\"auth\":\"bm9jb2xvbg==\"}}}");
  EXPECT(registry_creds_lookup(file, "quay.io", &user, &password, &err) == -1);
  EXPECT_CONTAINS(err ? err->msg : NULL, "user:password");
  berth_error_freep(&err);
  write_text(file, "{\"auths\":[]}");
  EXPECT(registry_creds_lookup(file, "quay.io", &user, &password, &err) == -1);
  EXPECT_CONTAINS(err ? err->msg : NULL, "auths");
  berth_error_freep(&err);
}

static void test_invalid_requests(void) {
  struct registry_options o = {.tls_verify = true};
  berth_error *err = NULL;
  struct registry_client *c = registry_client_new(&o, &err);
  if (c == NULL) {
    EXPECT(c != NULL);
    return;
  }
  char *body = NULL, *mt = NULL;
  size_t len;
  char digest[DIGEST_TEXT_MAX];
  EXPECT(registry_get_manifest(c, "quay.io", "Bad/Repo", "latest", NULL, &body, &len, &mt, digest, &err) == -1);
  EXPECT_STR(err ? err->msg : NULL, "pull manifest \"Bad/Repo:latest\" from quay.io: "
                                    "\"Bad/Repo\" is not a repository name");
  EXPECT(err != NULL && err->errnum == EINVAL);
  berth_error_freep(&err);
  EXPECT(registry_get_manifest(c, "quay.io/x", "a", "latest", NULL, &body, &len, &mt, digest, &err) == -1);
  EXPECT_CONTAINS(err ? err->msg : NULL, "\"quay.io/x\" is not a registry host name");
  berth_error_freep(&err);
  EXPECT(registry_get_manifest(c, "quay.io", "a", "../x", NULL, &body, &len, &mt, digest, &err) == -1);
  EXPECT_CONTAINS(err ? err->msg : NULL, "neither a tag nor a sha256 digest");
  berth_error_freep(&err);
  bool exists = true;
  EXPECT(registry_blob_exists(c, "quay.io", "a", "sha256:abc", &exists, &err) == -1);
  EXPECT_CONTAINS(err ? err->msg : NULL, "is not a sha256 digest");
  EXPECT(!exists);
  berth_error_freep(&err);
  EXPECT(registry_put_manifest(c, "quay.io", "a", "latest", "bad\ntype", "{}", 2, &err) == -1);
  EXPECT_CONTAINS(err ? err->msg : NULL, "invalid media type");
  berth_error_freep(&err);
  const char *empty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  EXPECT(registry_put_manifest(c, "quay.io", "a", empty, "application/vnd.oci.image.manifest.v1+json", "{}", 2,
                               &err) == -1);
  EXPECT_CONTAINS(err ? err->msg : NULL, "digest mismatch");
  berth_error_freep(&err);
  EXPECT(registry_check_login(c, "quay.io", "a:b", "pw", &err) == -1);
  EXPECT_CONTAINS(err ? err->msg : NULL, "log in to quay.io: ");
  berth_error_freep(&err);
  registry_client_free(c);
}

int main(void) {
  if (mkdtemp(tmpdir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  RUN(test_challenge_bearer);
  RUN(test_challenge_basic_and_others);
  RUN(test_challenge_several);
  RUN(test_challenge_quoting);
  RUN(test_hosts);
  RUN(test_names);
  RUN(test_urls);
  RUN(test_error_bodies);
  RUN(test_status_messages);
  RUN(test_token_parse);
  RUN(test_token_cache);
  RUN(test_base64);
  RUN(test_auth_keys);
  RUN(test_creds_store_lookup);
  RUN(test_creds_keeps_other_keys);
  RUN(test_creds_remove);
  RUN(test_creds_default_paths);
  RUN(test_creds_docker_fallback);
  RUN(test_creds_bad_files);
  RUN(test_invalid_requests);
  berth_error *err = NULL;
  fs_remove_tree_at(AT_FDCWD, tmpdir, &err);
  rmdir(tmpdir);
  berth_error_free(err);
  return tap_done();
}
