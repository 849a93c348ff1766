/* safetensors_writer.c - see safetensors_writer.h. */
#include "offline/safetensors_writer.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint64_t safetensors_wtensor_bytes(const struct safetensors_wtensor *t)
{
    uint64_t n = safetensors_dtype_size(t->dtype);
    for (int d = 0; d < t->n_dims; d++) n *= (uint64_t)t->shape[d];
    return n;
}

/* The JSON header, compact (as json.dumps with separators (",", ":")). */
static char *header_json(const struct safetensors_wtensor *t, int n, const char *const *meta)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    if (meta) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        for (int i = 0; m && meta[i] && meta[i + 1]; i += 2) cJSON_AddStringToObject(m, meta[i], meta[i + 1]);
    }
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_AddObjectToObject(root, t[i].name);
        if (!e) break;
        cJSON_AddStringToObject(e, "dtype", safetensors_dtype_name(t[i].dtype));
        cJSON *shape = cJSON_AddArrayToObject(e, "shape");
        for (int d = 0; shape && d < t[i].n_dims; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i].shape[d]));
        uint64_t size = safetensors_wtensor_bytes(&t[i]);
        cJSON *offs = cJSON_AddArrayToObject(e, "data_offsets");
        if (offs) {
            cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
            cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + size)));
        }
        off += size;
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

static int write_tensors(FILE *fp, const struct safetensors_wtensor *t, int n, safetensors_fill_fn fill, void *user,
                         const char *path, inf_error *err)
{
    for (int i = 0; i < n; i++) {
        size_t size = (size_t)safetensors_wtensor_bytes(&t[i]);
        void *buf = malloc(size ? size : 1);
        if (!buf) {
            err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory for tensor '%s'", path, t[i].name);
            return -1;
        }
        int rc = fill(user, i, buf, size, err);
        if (rc == 0 && fwrite(buf, 1, size, fp) != size) {
            err_fail(err, INF_ERR_IO, "%s: write failed: %s", path, strerror(errno));
            rc = -1;
        }
        free(buf);
        if (rc != 0) return -1;
    }
    return 0;
}

int safetensors_write(const char *path, const struct safetensors_wtensor *tensors, int n, const char *const *meta,
                      safetensors_fill_fn fill, void *user, inf_error *err)
{
    for (int i = 0; i < n; i++)
        if (!tensors[i].name || safetensors_dtype_size(tensors[i].dtype) == 0 || tensors[i].n_dims < 1 ||
            tensors[i].n_dims > SAFETENSORS_MAX_DIMS) {
            err_fail(err, INF_ERR_FORMAT, "%s: tensor %d has no name, an unknown dtype or a bad shape", path, i);
            return -1;
        }
    char *json = header_json(tensors, n, meta);
    if (!json) {
        err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory building the header", path);
        return -1;
    }
    size_t jl = strlen(json), padded = (jl + 7) / 8 * 8;
    size_t plen = strlen(path) + 8;
    char *tmp = malloc(plen);
    FILE *fp = NULL;
    int rc = -1;
    if (!tmp) {
        err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", path);
        goto done;
    }
    snprintf(tmp, plen, "%s.tmp", path);
    fp = fopen(tmp, "wb");
    if (!fp) {
        err_fail(err, INF_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        goto done;
    }
    uint64_t hl = padded;
    static const char spaces[8] = "        ";
    if (fwrite(&hl, 8, 1, fp) != 1 || fwrite(json, 1, jl, fp) != jl || fwrite(spaces, 1, padded - jl, fp) != padded - jl) {
        err_fail(err, INF_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        goto done;
    }
    if (write_tensors(fp, tensors, n, fill, user, path, err) != 0) goto done;
    int closed = fclose(fp);
    fp = NULL;
    if (closed != 0 || rename(tmp, path) != 0) {
        err_fail(err, INF_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (fp) fclose(fp);
    if (rc != 0 && tmp) unlink(tmp);
    free(tmp);
    cJSON_free(json);
    return rc;
}
