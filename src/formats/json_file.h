/* json_file.h - a JSON file of a model folder read whole and parsed (the
 * config.json, tokenizer.json and tokenizer_config.json of Hugging Face
 * folders). */
#ifndef INF_FORMATS_JSON_FILE_H
#define INF_FORMATS_JSON_FILE_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* The document in dir/file (files up to max bytes), released with
 * cJSON_Delete. NULL with err filled when it cannot be read or is not JSON;
 * a missing file that is not required gives NULL with err untouched. */
cJSON *json_read_file(const char *dir, const char *file, size_t max, bool required, inf_error *err);

#endif
