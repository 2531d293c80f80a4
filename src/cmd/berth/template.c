#include "cmd/berth/template.h"

#include <stdbool.h>
#include <string.h>

#include "util/cleanup.h"

static void print_value(FILE *out, struct json_object *v, bool as_json) {
  if (v == NULL) {
    fputs(as_json ? "null" : "<no value>", out);
    return;
  }
  if (as_json || json_object_is_type(v, json_type_object)) {
    fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), out);
    return;
  }
  if (json_object_is_type(v, json_type_array)) {
    /* Go prints a slice as [a b c] */
    fputc('[', out);
    for (size_t i = 0; i < json_object_array_length(v); i++) {
      if (i > 0)
        fputc(' ', out);
      print_value(out, json_object_array_get_idx(v, i), false);
    }
    fputc(']', out);
    return;
  }
  fputs(json_object_get_string(v), out);
}

int template_print(FILE *out, const char *tmpl, struct json_object *obj, berth_error **err) {
  const char *p = tmpl;
  while (*p != '\0') {
    const char *open = strstr(p, "{{");
    if (open == NULL) {
      fputs(p, out);
      break;
    }
    fwrite(p, 1, (size_t)(open - p), out);
    const char *close = strstr(open, "}}");
    if (close == NULL)
      return berth_fail(err, 0, "template: unclosed action in \"%s\"", tmpl);
    char action[256];
    size_t len = (size_t)(close - open - 2);
    if (len >= sizeof(action))
      return berth_fail(err, 0, "template: action too long");
    memcpy(action, open + 2, len);
    action[len] = '\0';
    char *a = action;
    while (*a == ' ')
      a++;
    for (char *end = a + strlen(a); end > a && end[-1] == ' ';)
      *--end = '\0';
    bool as_json = strncmp(a, "json ", 5) == 0;
    if (as_json)
      a += 5;
    while (*a == ' ')
      a++;
    if (a[0] != '.')
      return berth_fail(err, 0, "template: \"{{%s}}\": berth supports {{.Field}} and {{json .Field}}", action);
    struct json_object *v = obj;
    char *save = NULL;
    for (char *key = strtok_r(a + 1, ".", &save); key != NULL && v != NULL; key = strtok_r(NULL, ".", &save))
      if (!json_object_object_get_ex(v, key, &v))
        v = NULL;
    print_value(out, v, as_json);
    p = close + 2;
  }
  fputc('\n', out);
  return 0;
}

int template_print_inspect(FILE *out, const char *format, struct json_object *array, berth_error **err) {
  if (format == NULL || strcmp(format, "json") == 0) {
    fprintf(out, "%s\n",
            json_object_to_json_string_ext(array, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE |
                                                      JSON_C_TO_STRING_SPACED));
    return 0;
  }
  for (size_t i = 0; i < json_object_array_length(array); i++)
    if (template_print(out, format, json_object_array_get_idx(array, i), err) < 0)
      return -1;
  return 0;
}
