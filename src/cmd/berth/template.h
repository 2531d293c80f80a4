/* The small part of Go templates people pass to docker's --format for
 * inspect output: text with {{.Path.To.Field}} and {{json .Path}}. */
#ifndef BERTH_CMD_BERTH_TEMPLATE_H
#define BERTH_CMD_BERTH_TEMPLATE_H

#include <json-c/json.h>
#include <stdio.h>

#include "util/error.h"

/* Writes the template applied to obj, plus a newline. */
int template_print(FILE *out, const char *tmpl, struct json_object *obj, berth_error **err);

/* docker's inspect output: the array as indented JSON (format NULL or
 * "json"), or the template applied to each element. */
int template_print_inspect(FILE *out, const char *format, struct json_object *array, berth_error **err);

#endif
