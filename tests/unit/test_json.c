/* The typed json-c getters of util/json.c: the 1/0/-1 contract (present,
 * absent or null, wrong type or range), the exact wording of their errors and
 * json_parse_text's diagnostics. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util/error.h"
#include "util/json.h"

static const struct json_ctx ctx = {.origin = "config.json", .path = "process.user"};

/* Parses text that the test knows is valid; NULL (and a failed test) if not. */
static struct json_object *parse(const char *text) {
  berth_error *err = NULL;
  struct json_object *o = json_parse_text(text, strlen(text), "test.json", &err);
  if (o == NULL) {
    printf("#   parse failed: %s\n", err != NULL ? err->msg : "(no error)");
    tap_current_failed = 1;
  }
  berth_error_free(err);
  return o;
}

/* The message of a failed parse, or NULL when the parse succeeded. */
static char *parse_error(const char *text, size_t len) {
  berth_error *err = NULL;
  struct json_object *o = json_parse_text(text, len, "config.json", &err);
  if (o != NULL) {
    json_object_put(o);
    berth_error_free(err);
    return NULL;
  }
  char *msg = err != NULL && err->msg != NULL ? strdup(err->msg) : strdup("(no error set)");
  berth_error_free(err);
  return msg;
}

static const char sample[] = "{"
                             "\"s\": \"text\", \"b\": true, \"f\": false, \"i\": 42, \"neg\": -7,"
                             "\"zero\": 0, \"d\": 1.5, \"n\": null, \"o\": {\"k\": 1}, \"a\": [1, 2],"
                             "\"big\": 9223372036854775807, \"bigger\": 9223372036854775808,"
                             "\"umax\": 18446744073709551615, \"imin\": -9223372036854775808,"
                             "\"sv\": [\"x\", \"yy\", \"\"], \"empty\": [], \"mixed\": [\"x\", 3, \"z\"],"
                             "\"mixed_obj\": [{}]"
                             "}";

static void test_string(void) {
  cleanup_json struct json_object *o = parse(sample);
  berth_error *err = NULL;
  const char *s = "untouched";
  EXPECT(json_get_string(&ctx, o, "s", &s, &err) == 1);
  EXPECT_STR(s, "text");
  EXPECT(err == NULL);

  s = "untouched";
  EXPECT(json_get_string(&ctx, o, "missing", &s, &err) == 0);
  EXPECT_STR(s, "untouched");
  EXPECT(json_get_string(&ctx, o, "n", &s, &err) == 0);
  EXPECT_STR(s, "untouched");
  EXPECT(err == NULL);

  EXPECT(json_get_string(&ctx, o, "i", &s, &err) == -1);
  EXPECT_STR(s, "untouched");
  EXPECT(err != NULL);
  if (err != NULL) {
    EXPECT_STR(err->msg, "config.json: process.user.i: expected a string, got an integer");
    EXPECT(err->errnum == 0);
  }
  berth_error_free(err);
  err = NULL;

  /* A NULL object reads as "absent". */
  EXPECT(json_get_string(&ctx, NULL, "s", &s, &err) == 0);
  EXPECT(err == NULL);
}

static void test_type_phrases(void) {
  cleanup_json struct json_object *o = parse(sample);
  static const struct {
    const char *key, *msg;
  } cases[] = {
      {"b", "config.json: process.user.b: expected a string, got a boolean"},
      {"d", "config.json: process.user.d: expected a string, got a number"},
      {"o", "config.json: process.user.o: expected a string, got an object"},
      {"a", "config.json: process.user.a: expected a string, got an array"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    berth_error *err = NULL;
    const char *s = NULL;
    EXPECT(json_get_string(&ctx, o, cases[i].key, &s, &err) == -1);
    EXPECT(err != NULL);
    if (err != NULL)
      EXPECT_STR(err->msg, cases[i].msg);
    berth_error_free(err);
  }
  struct json_object *n = json_object_new_null();
  EXPECT_STR(json_type_phrase(n), "null");
  EXPECT_STR(json_type_phrase(NULL), "null");
  json_object_put(n);
}

static void test_bool(void) {
  cleanup_json struct json_object *o = parse(sample);
  berth_error *err = NULL;
  bool v = false;
  EXPECT(json_get_bool(&ctx, o, "b", &v, &err) == 1);
  EXPECT(v == true);
  EXPECT(json_get_bool(&ctx, o, "f", &v, &err) == 1);
  EXPECT(v == false);
  v = true;
  EXPECT(json_get_bool(&ctx, o, "missing", &v, &err) == 0);
  EXPECT(json_get_bool(&ctx, o, "n", &v, &err) == 0);
  EXPECT(v == true);
  EXPECT(err == NULL);
  /* 0 and "true" are not booleans. */
  EXPECT(json_get_bool(&ctx, o, "zero", &v, &err) == -1);
  EXPECT(err != NULL);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.zero: expected a boolean, got an integer");
  berth_error_free(err);
  err = NULL;
  EXPECT(json_get_bool(&ctx, o, "s", &v, &err) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.s: expected a boolean, got a string");
  EXPECT(v == true);
  berth_error_free(err);
}

static void test_int64(void) {
  cleanup_json struct json_object *o = parse(sample);
  berth_error *err = NULL;
  int64_t v = 99;
  EXPECT(json_get_int64(&ctx, o, "i", &v, &err) == 1);
  EXPECT(v == 42);
  EXPECT(json_get_int64(&ctx, o, "neg", &v, &err) == 1);
  EXPECT(v == -7);
  EXPECT(json_get_int64(&ctx, o, "big", &v, &err) == 1);
  EXPECT(v == INT64_MAX);
  EXPECT(json_get_int64(&ctx, o, "imin", &v, &err) == 1);
  EXPECT(v == INT64_MIN);
  EXPECT(err == NULL);
  v = 99;
  EXPECT(json_get_int64(&ctx, o, "missing", &v, &err) == 0);
  EXPECT(json_get_int64(&ctx, o, "n", &v, &err) == 0);
  EXPECT(v == 99);

  /* INT64_MAX + 1 does not fit. */
  EXPECT(json_get_int64(&ctx, o, "bigger", &v, &err) == -1);
  EXPECT(err != NULL);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.bigger: integer out of range");
  berth_error_free(err);
  err = NULL;
  EXPECT(json_get_int64(&ctx, o, "umax", &v, &err) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.umax: integer out of range");
  berth_error_free(err);
  err = NULL;
  EXPECT(v == 99);

  /* A fraction is not an integer. */
  EXPECT(json_get_int64(&ctx, o, "d", &v, &err) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.d: expected an integer, got a number");
  berth_error_free(err);
  err = NULL;
  EXPECT(json_get_int64(&ctx, o, "s", &v, &err) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.s: expected an integer, got a string");
  berth_error_free(err);
  EXPECT(v == 99);
}

static void test_uint64(void) {
  cleanup_json struct json_object *o = parse(sample);
  berth_error *err = NULL;
  uint64_t v = 99;
  EXPECT(json_get_uint64(&ctx, o, "i", &v, &err) == 1);
  EXPECT(v == 42);
  EXPECT(json_get_uint64(&ctx, o, "zero", &v, &err) == 1);
  EXPECT(v == 0);
  EXPECT(json_get_uint64(&ctx, o, "bigger", &v, &err) == 1);
  EXPECT(v == (uint64_t)INT64_MAX + 1);
  EXPECT(json_get_uint64(&ctx, o, "umax", &v, &err) == 1);
  EXPECT(v == UINT64_MAX);
  EXPECT(err == NULL);
  v = 99;
  EXPECT(json_get_uint64(&ctx, o, "missing", &v, &err) == 0);
  EXPECT(json_get_uint64(&ctx, o, "n", &v, &err) == 0);
  EXPECT(v == 99);

  EXPECT(json_get_uint64(&ctx, o, "neg", &v, &err) == -1);
  EXPECT(err != NULL);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.neg: expected a non-negative integer, got -7");
  berth_error_free(err);
  err = NULL;
  EXPECT(json_get_uint64(&ctx, o, "imin", &v, &err) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.imin: expected a non-negative integer, got -9223372036854775808");
  berth_error_free(err);
  err = NULL;
  EXPECT(json_get_uint64(&ctx, o, "d", &v, &err) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.d: expected an integer, got a number");
  berth_error_free(err);
  EXPECT(v == 99);
}

static void test_uint_max(void) {
  cleanup_json struct json_object *o = parse(sample);
  berth_error *err = NULL;
  uint64_t v = 99;
  EXPECT(json_get_uint_max(&ctx, o, "i", 42, &v, &err) == 1); /* the bound itself is allowed */
  EXPECT(v == 42);
  EXPECT(json_get_uint_max(&ctx, o, "zero", 0, &v, &err) == 1);
  EXPECT(v == 0);
  EXPECT(json_get_uint_max(&ctx, o, "umax", UINT64_MAX, &v, &err) == 1);
  EXPECT(v == UINT64_MAX);
  EXPECT(err == NULL);
  v = 99;
  EXPECT(json_get_uint_max(&ctx, o, "missing", 10, &v, &err) == 0);
  EXPECT(v == 99);

  EXPECT(json_get_uint_max(&ctx, o, "i", 41, &v, &err) == -1);
  EXPECT(v == 99);
  EXPECT(err != NULL);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.i: 42 is out of range (at most 41)");
  berth_error_free(err);
  err = NULL;
  EXPECT(json_get_uint_max(&ctx, o, "neg", 100, &v, &err) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.neg: expected a non-negative integer, got -7");
  berth_error_free(err);
  err = NULL;
  EXPECT(json_get_uint_max(&ctx, o, "s", 100, &v, &err) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.s: expected an integer, got a string");
  berth_error_free(err);
  EXPECT(v == 99);
}

static void test_object_array(void) {
  cleanup_json struct json_object *o = parse(sample);
  berth_error *err = NULL;
  struct json_object *out = NULL;
  EXPECT(json_get_object(&ctx, o, "o", &out, &err) == 1);
  EXPECT(out != NULL && json_object_is_type(out, json_type_object));
  EXPECT(out != NULL && json_object_object_length(out) == 1);
  out = NULL;
  EXPECT(json_get_object(&ctx, o, "n", &out, &err) == 0);
  EXPECT(json_get_object(&ctx, o, "missing", &out, &err) == 0);
  EXPECT(out == NULL);
  EXPECT(json_get_object(&ctx, o, "a", &out, &err) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.a: expected an object, got an array");
  berth_error_free(err);
  err = NULL;
  EXPECT(out == NULL);

  EXPECT(json_get_array(&ctx, o, "a", &out, &err) == 1);
  EXPECT(out != NULL && json_object_array_length(out) == 2);
  out = NULL;
  EXPECT(json_get_array(&ctx, o, "n", &out, &err) == 0);
  EXPECT(json_get_array(&ctx, o, "missing", &out, &err) == 0);
  EXPECT(json_get_array(&ctx, o, "o", &out, &err) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.o: expected an array, got an object");
  berth_error_free(err);
  EXPECT(out == NULL);
}

static void free_strv(char **v) {
  if (v == NULL)
    return;
  for (char **p = v; *p != NULL; p++)
    free(*p);
  free(v);
}

static void test_strv(void) {
  cleanup_json struct json_object *o = parse(sample);
  berth_error *err = NULL;
  char **v = NULL;
  size_t n = 99;
  EXPECT(json_get_strv(&ctx, o, "sv", &v, &n, &err) == 1);
  EXPECT(n == 3);
  EXPECT(v != NULL);
  if (v != NULL) {
    EXPECT_STR(v[0], "x");
    EXPECT_STR(v[1], "yy");
    EXPECT_STR(v[2], "");
    EXPECT(v[3] == NULL);
  }
  free_strv(v);
  v = NULL;

  /* An empty array is a non-NULL, empty vector. */
  EXPECT(json_get_strv(&ctx, o, "empty", &v, &n, &err) == 1);
  EXPECT(n == 0);
  EXPECT(v != NULL && v[0] == NULL);
  free_strv(v);
  v = NULL;

  /* count may be NULL. */
  EXPECT(json_get_strv(&ctx, o, "sv", &v, NULL, &err) == 1);
  EXPECT(v != NULL && v[2] != NULL && v[3] == NULL);
  free_strv(v);
  v = NULL;

  n = 99;
  EXPECT(json_get_strv(&ctx, o, "missing", &v, &n, &err) == 0);
  EXPECT(json_get_strv(&ctx, o, "n", &v, &n, &err) == 0);
  EXPECT(v == NULL && n == 99);
  EXPECT(err == NULL);

  /* A non-string item is named by its index; nothing leaks (LSan). */
  EXPECT(json_get_strv(&ctx, o, "mixed", &v, &n, &err) == -1);
  EXPECT(v == NULL && n == 99);
  EXPECT(err != NULL);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.mixed: item 1: expected a string, got an integer");
  berth_error_free(err);
  err = NULL;
  EXPECT(json_get_strv(&ctx, o, "mixed_obj", &v, &n, &err) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.mixed_obj: item 0: expected a string, got an object");
  berth_error_free(err);
  err = NULL;
  EXPECT(json_get_strv(&ctx, o, "s", &v, &n, &err) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.s: expected an array, got a string");
  berth_error_free(err);
  EXPECT(v == NULL);
}

static void test_error_paths(void) {
  cleanup_json struct json_object *o = parse(sample);
  berth_error *err = NULL;
  const char *s = NULL;
  /* Empty path: no leading dot. */
  struct json_ctx top = {.origin = "config.json", .path = ""};
  EXPECT(json_get_string(&top, o, "i", &s, &err) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: i: expected a string, got an integer");
  berth_error_free(err);
  err = NULL;
  /* NULL path behaves as empty. */
  struct json_ctx nullpath = {.origin = "process.json", .path = NULL};
  EXPECT(json_get_string(&nullpath, o, "b", &s, &err) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "process.json: b: expected a string, got a boolean");
  berth_error_free(err);
  err = NULL;
  /* json_fail_err with no key names the path alone. */
  struct json_ctx item = {.origin = "config.json", .path = "mounts[3]"};
  EXPECT(json_fail_err(&err, &item, NULL, "bad %s %d", "thing", 7) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: mounts[3]: bad thing 7");
  berth_error_free(err);
  err = NULL;
  EXPECT(json_fail_err(&err, &item, "type", "is required") == -1);
  if (err != NULL) {
    EXPECT_STR(err->msg, "config.json: mounts[3].type: is required");
    EXPECT(err->errnum == 0);
  }
  berth_error_free(err);
  err = NULL;
  /* A NULL err is allowed. */
  EXPECT(json_get_string(&ctx, o, "i", &s, NULL) == -1);
}

static void test_parse_ok(void) {
  berth_error *err = NULL;
  const char text[] = " \n\t{\"a\": [1, {\"b\": null}]}\r\n  \n";
  struct json_object *o = json_parse_text(text, strlen(text), "config.json", &err);
  EXPECT(o != NULL);
  EXPECT(err == NULL);
  EXPECT(o != NULL && json_object_is_type(o, json_type_object));
  json_object_put(o);

  /* len bounds the text: the garbage after it is never looked at. */
  const char bounded[] = "{\"a\": 1}garbage";
  o = json_parse_text(bounded, 8, "config.json", &err);
  EXPECT(o != NULL);
  EXPECT(err == NULL);
  json_object_put(o);

  const char arr[] = "[1, 2, 3]";
  o = json_parse_text(arr, strlen(arr), "config.json", &err);
  EXPECT(o != NULL && json_object_is_type(o, json_type_array));
  json_object_put(o);
  berth_error_free(err);
}

static void test_parse_errors(void) {
  char *msg;

  /* The line of the offending character is named. */
  const char bad_line3[] = "{\n  \"a\": 1,\n  \"b\": x\n}\n";
  msg = parse_error(bad_line3, strlen(bad_line3));
  EXPECT_CONTAINS(msg, "config.json: invalid JSON at line 3: ");
  free(msg);

  const char bad_line1[] = "{\"a\" 1}";
  msg = parse_error(bad_line1, strlen(bad_line1));
  EXPECT_CONTAINS(msg, "config.json: invalid JSON at line 1: ");
  free(msg);

  const char bad_line5[] = "{\n\n\n\n  \"a\": [1,,2]\n}";
  msg = parse_error(bad_line5, strlen(bad_line5));
  EXPECT_CONTAINS(msg, "config.json: invalid JSON at line 5: ");
  free(msg);

  /* Truncated input: the line where it ended. */
  const char truncated[] = "{\n  \"a\": [1, 2,\n";
  msg = parse_error(truncated, strlen(truncated));
  EXPECT_STR(msg, "config.json: invalid JSON: unexpected end of input (line 3)");
  free(msg);

  const char open_string[] = "{\"a\": \"abc";
  msg = parse_error(open_string, strlen(open_string));
  EXPECT_STR(msg, "config.json: invalid JSON: unexpected end of input (line 1)");
  free(msg);

  msg = parse_error("", 0);
  EXPECT_STR(msg, "config.json: invalid JSON: unexpected end of input (line 1)");
  free(msg);

  msg = parse_error("  \n  ", 5);
  EXPECT_STR(msg, "config.json: invalid JSON: unexpected end of input (line 2)");
  free(msg);

  /* Anything after the top-level value. */
  const char trailing[] = "{\"a\": 1} x";
  msg = parse_error(trailing, strlen(trailing));
  EXPECT_STR(msg, "config.json: invalid JSON: trailing data after the top-level value");
  free(msg);

  const char two_objects[] = "{}\n{}\n";
  msg = parse_error(two_objects, strlen(two_objects));
  EXPECT_STR(msg, "config.json: invalid JSON: trailing data after the top-level value");
  free(msg);

  const char comma[] = "{\"a\": 1},";
  msg = parse_error(comma, strlen(comma));
  EXPECT_STR(msg, "config.json: invalid JSON: trailing data after the top-level value");
  free(msg);

  /* An embedded NUL within len is not whitespace. */
  const char nul[] = "{}\0{}";
  msg = parse_error(nul, sizeof(nul) - 1);
  EXPECT(msg != NULL);
  free(msg);

  /* The origin given is the one named. */
  berth_error *err = NULL;
  EXPECT(json_parse_text("{", 1, "process.json", &err) == NULL);
  EXPECT(err != NULL);
  if (err != NULL)
    EXPECT_STR(err->msg, "process.json: invalid JSON: unexpected end of input (line 1)");
  berth_error_free(err);
}

/* json-c clamps integers beyond 64 bits without a trace; the getters must
 * still fail rather than return the clamped value as if it had been written.
 * The same digits inside a string or a comment stay as they are. */
static void test_out_of_range_saturation(void) {
  const char text[] = "{\"below\": -9223372036854775809, \"above\": 18446744073709551616,"
                      "\"huge\": 99999999999999999999999}";
  cleanup_json struct json_object *o = parse(text);
  berth_error *err = NULL;
  int64_t i = 7;
  EXPECT(json_get_int64(&ctx, o, "below", &i, &err) == -1);
  EXPECT(i == 7);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.below: integer out of range");
  berth_error_free(err);
  err = NULL;
  uint64_t u = 7;
  EXPECT(json_get_uint64(&ctx, o, "above", &u, &err) == -1);
  EXPECT(u == 7);
  EXPECT(err != NULL);
  berth_error_free(err);
  err = NULL;
  u = 7;
  EXPECT(json_get_uint_max(&ctx, o, "huge", UINT64_MAX, &u, &err) == -1);
  EXPECT(u == 7);
  EXPECT(err != NULL);
  berth_error_free(err);

  const char kept[] = "{\"s\": \"99999999999999999999999\", /* 99999999999999999999999 */"
                      "\"q\": \"\\\" 99999999999999999999999\", \"ok\": 18446744073709551615, \"d\": 1e0}";
  cleanup_json struct json_object *k = parse(kept);
  const char *str = NULL;
  err = NULL;
  EXPECT(json_get_string(&ctx, k, "s", &str, &err) == 1);
  EXPECT_STR(str, "99999999999999999999999");
  EXPECT(json_get_string(&ctx, k, "q", &str, &err) == 1);
  EXPECT_STR(str, "\" 99999999999999999999999");
  EXPECT(json_get_uint64(&ctx, k, "ok", &u, &err) == 1);
  EXPECT(u == UINT64_MAX);
  EXPECT(err == NULL);
  EXPECT(json_get_int64(&ctx, k, "d", &i, &err) == -1);
  if (err != NULL)
    EXPECT_STR(err->msg, "config.json: process.user.d: expected an integer, got a number");
  berth_error_free(err);
}

/* A complete top-level scalar parses: json-c waits for a delimiter after a
 * number or literal, so json_parse_text ends the input for it. */
static void test_parse_top_level_scalar(void) {
  berth_error *err = NULL;
  struct json_object *o = json_parse_text("123", 3, "config.json", &err);
  EXPECT(o != NULL && json_object_is_type(o, json_type_int) && json_object_get_int64(o) == 123);
  if (err != NULL)
    printf("#   got: %s\n", err->msg);
  berth_error_free(err);
  err = NULL;
  json_object_put(o);
  o = json_parse_text("true", 4, "config.json", &err);
  EXPECT(o != NULL && json_object_is_type(o, json_type_boolean));
  berth_error_free(err);
  json_object_put(o);
}

int main(void) {
  RUN(test_string);
  RUN(test_type_phrases);
  RUN(test_bool);
  RUN(test_int64);
  RUN(test_uint64);
  RUN(test_uint_max);
  RUN(test_object_array);
  RUN(test_strv);
  RUN(test_error_paths);
  RUN(test_parse_ok);
  RUN(test_parse_errors);
  RUN(test_out_of_range_saturation);
  RUN(test_parse_top_level_scalar);
  return tap_done();
}
