/* json_file.c - see json_file.h. */
#include "formats/json_file.h"

#include "base/file.h"

#include <stdio.h>
#include <stdlib.h>

cJSON *json_read_file(const char *dir, const char *file, size_t max, bool required, inf_error *err)
{
    char path[4200];
    int n = snprintf(path, sizeof path, "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= sizeof path) {
        err_fail(err, INF_ERR_INVALID_ARGUMENT, "%s/%s: path too long", dir, file);
        return NULL;
    }
    if (!required && !file_is_regular(path)) return NULL;
    size_t len;
    char *text = file_read_all(path, max, &len, err);
    if (!text) return NULL;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    if (!j) err_fail(err, INF_ERR_FORMAT, "%s: not valid JSON", path);
    return j;
}
