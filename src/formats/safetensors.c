/* safetensors.c - the validating safetensors reader and the shard set
 * (see safetensors.h for the format and the checks made). JSON via cJSON. */
#include "formats/safetensors.h"
#include "base/file.h"
#include "base/str.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct safetensors_file {
    char *path;
    const unsigned char *base; /* start of the file / buffer */
    size_t size;
    void *map;                 /* non-NULL when we mmap'd it */
    size_t map_size;
    struct safetensors_tensor *tensors; /* sorted by name */
    int64_t n_tensors;
    char **meta_keys, **meta_values;
    int n_meta;
};

static const struct {
    const char *name;
    size_t size;
} dtype_table[SAFETENSORS_DTYPE_COUNT] = {
    [SAFETENSORS_BOOL] = {"BOOL", 1}, [SAFETENSORS_U8] = {"U8", 1},
    [SAFETENSORS_I8] = {"I8", 1},     [SAFETENSORS_U16] = {"U16", 2},
    [SAFETENSORS_I16] = {"I16", 2},   [SAFETENSORS_F16] = {"F16", 2},
    [SAFETENSORS_BF16] = {"BF16", 2}, [SAFETENSORS_U32] = {"U32", 4},
    [SAFETENSORS_I32] = {"I32", 4},   [SAFETENSORS_F32] = {"F32", 4},
    [SAFETENSORS_U64] = {"U64", 8},   [SAFETENSORS_I64] = {"I64", 8},
    [SAFETENSORS_F64] = {"F64", 8},   [SAFETENSORS_F8_E4M3] = {"F8_E4M3", 1},
    [SAFETENSORS_F8_E5M2] = {"F8_E5M2", 1},
};

const char *safetensors_dtype_name(int dtype)
{
    if (dtype < 0 || dtype >= SAFETENSORS_DTYPE_COUNT) return "unknown";
    return dtype_table[dtype].name;
}

int safetensors_dtype_from_name(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < SAFETENSORS_DTYPE_COUNT; i++)
        if (strcmp(dtype_table[i].name, name) == 0) return i;
    return -1;
}

size_t safetensors_dtype_size(int dtype)
{
    if (dtype < 0 || dtype >= SAFETENSORS_DTYPE_COUNT) return 0;
    return dtype_table[dtype].size;
}

/* A JSON number that is a whole, non-negative integer below 2^53 (cJSON
 * keeps numbers as doubles, exact up to there). */
static bool json_uint(const cJSON *item, uint64_t *out)
{
    if (!cJSON_IsNumber(item)) return false;
    double v = item->valuedouble;
    if (!(v >= 0.0) || v > 9007199254740992.0 || v != (double)(uint64_t)v) return false;
    *out = (uint64_t)v;
    return true;
}

static int cmp_tensor_name(const void *a, const void *b)
{
    return strcmp(((const struct safetensors_tensor *)a)->name,
                  ((const struct safetensors_tensor *)b)->name);
}

static int cmp_tensor_ptr_begin(const void *a, const void *b)
{
    const struct safetensors_tensor *x = *(const struct safetensors_tensor *const *)a;
    const struct safetensors_tensor *y = *(const struct safetensors_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Fill one tensor from its JSON entry and check dtype, shape and span. */
static int parse_tensor_entry(struct safetensors_file *f, const cJSON *entry,
                              struct safetensors_tensor *t, uint64_t data_size,
                              inf_error *err)
{
    const char *fn = f->path, *tn = t->name;
    if (!cJSON_IsObject(entry)) {
        err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s': header entry is not an object", fn, tn);
        return -1;
    }
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    if (!cJSON_IsString(dt) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs)) {
        err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s': needs string \"dtype\", array \"shape\" and array \"data_offsets\"", fn, tn);
        return -1;
    }
    t->dtype = safetensors_dtype_from_name(dt->valuestring);
    if (t->dtype < 0) {
        err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%s'", fn, tn, dt->valuestring);
        return -1;
    }
    int nd = cJSON_GetArraySize(shape);
    if (nd > SAFETENSORS_MAX_DIMS) {
        err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s': %d dimensions (at most %d)", fn, tn, nd, SAFETENSORS_MAX_DIMS);
        return -1;
    }
    t->n_dims = nd;
    /* Product of dims, refusing overflow: every real tensor fits in 2^62 bytes. */
    uint64_t n = 1;
    for (int i = 0; i < nd; i++) {
        uint64_t d;
        if (!json_uint(cJSON_GetArrayItem(shape, i), &d)) {
            err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s': shape[%d] is not a non-negative integer", fn, tn, i);
            return -1;
        }
        if (d != 0 && n > (UINT64_C(1) << 62) / d) {
            err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s': shape is too large", fn, tn);
            return -1;
        }
        n *= d;
        t->shape[i] = (int64_t)d;
    }
    for (int i = nd; i < SAFETENSORS_MAX_DIMS; i++) t->shape[i] = 1;
    t->n_elements = (int64_t)n;
    uint64_t esz = safetensors_dtype_size(t->dtype);
    if (n > (UINT64_C(1) << 62) / esz) {
        err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s': shape is too large", fn, tn);
        return -1;
    }
    if (cJSON_GetArraySize(offs) != 2 || !json_uint(cJSON_GetArrayItem(offs, 0), &t->begin) ||
        !json_uint(cJSON_GetArrayItem(offs, 1), &t->end)) {
        err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s': data_offsets must be two non-negative integers", fn, tn);
        return -1;
    }
    if (t->end < t->begin) {
        err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] end before they begin", fn, tn,
                (unsigned long long)t->begin, (unsigned long long)t->end);
        return -1;
    }
    if (t->end > data_size) {
        err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] extend past the end of the data (%llu bytes)",
                fn, tn, (unsigned long long)t->begin, (unsigned long long)t->end, (unsigned long long)data_size);
        return -1;
    }
    t->size = t->end - t->begin;
    if (t->size != n * esz) {
        err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s': dtype %s and shape of %llu elements need %llu bytes, but data_offsets span %llu",
                fn, tn, dt->valuestring, (unsigned long long)n, (unsigned long long)(n * esz),
                (unsigned long long)t->size);
        return -1;
    }
    return 0;
}

static int parse_metadata(struct safetensors_file *f, const cJSON *meta, inf_error *err)
{
    if (!cJSON_IsObject(meta)) {
        err_fail(err, INF_ERR_FORMAT, "%s: \"__metadata__\" is not an object", f->path);
        return -1;
    }
    if (f->meta_keys) { /* a second "__metadata__" would leak (and replace) the first */
        err_fail(err, INF_ERR_FORMAT, "%s: duplicate \"__metadata__\"", f->path);
        return -1;
    }
    int n = cJSON_GetArraySize(meta);
    f->meta_keys = calloc((size_t)n + 1, sizeof(char *));
    f->meta_values = calloc((size_t)n + 1, sizeof(char *));
    if (!f->meta_keys || !f->meta_values) {
        err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", f->path);
        return -1;
    }
    for (const cJSON *it = meta->child; it; it = it->next) {
        if (!cJSON_IsString(it)) {
            err_fail(err, INF_ERR_FORMAT, "%s: __metadata__ value '%s' is not a string", f->path, it->string);
            return -1;
        }
        f->meta_keys[f->n_meta] = str_dup(it->string);
        f->meta_values[f->n_meta] = str_dup(it->valuestring);
        f->n_meta++;
        if (!f->meta_keys[f->n_meta - 1] || !f->meta_values[f->n_meta - 1]) {
            err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", f->path);
            return -1;
        }
    }
    return 0;
}

/* Spans sorted by begin must tile [0, data_size) exactly: no overlap, no
 * hole (zero-size tensors may sit anywhere inside). */
static int check_spans(struct safetensors_file *f, uint64_t data_size, inf_error *err)
{
    if (f->n_tensors == 0) {
        if (data_size != 0) {
            err_fail(err, INF_ERR_FORMAT, "%s: %llu bytes of data but no tensors", f->path, (unsigned long long)data_size);
            return -1;
        }
        return 0;
    }
    struct safetensors_tensor **order = malloc((size_t)f->n_tensors * sizeof *order);
    if (!order) {
        err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", f->path);
        return -1;
    }
    for (int64_t i = 0; i < f->n_tensors; i++) order[i] = &f->tensors[i];
    qsort(order, (size_t)f->n_tensors, sizeof *order, cmp_tensor_ptr_begin);
    uint64_t covered = 0;
    const struct safetensors_tensor *prev = NULL;
    int rc = 0;
    for (int64_t i = 0; i < f->n_tensors && rc == 0; i++) {
        const struct safetensors_tensor *t = order[i];
        if (t->size == 0) continue;
        if (t->begin < covered) {
            err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s' [%llu, %llu] overlaps tensor '%s' [%llu, %llu]", f->path,
                    t->name, (unsigned long long)t->begin, (unsigned long long)t->end, prev->name,
                    (unsigned long long)prev->begin, (unsigned long long)prev->end);
            rc = -1;
        } else if (t->begin > covered) {
            err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s' begins at %llu, leaving bytes [%llu, %llu) of the data unused",
                    f->path, t->name, (unsigned long long)t->begin, (unsigned long long)covered,
                    (unsigned long long)t->begin);
            rc = -1;
        }
        covered = t->end;
        prev = t;
    }
    if (rc == 0 && covered != data_size) {
        err_fail(err, INF_ERR_FORMAT, "%s: the data has %llu bytes but the tensors cover %llu (trailing bytes)", f->path,
                (unsigned long long)data_size, (unsigned long long)covered);
        rc = -1;
    }
    free(order);
    return rc;
}

static int parse_header(struct safetensors_file *f, inf_error *err)
{
    if (f->size < 8) {
        err_fail(err, INF_ERR_FORMAT, "%s: file of %zu bytes is too short for a safetensors header length (8 bytes)",
                f->path, f->size);
        return -1;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | f->base[i];
    if (hlen > f->size - 8) {
        err_fail(err, INF_ERR_FORMAT, "%s: header length %llu is larger than the %zu bytes after it (truncated file?)",
                f->path, (unsigned long long)hlen, f->size - 8);
        return -1;
    }
    if (hlen > SAFETENSORS_MAX_HEADER || hlen < 2) {
        err_fail(err, INF_ERR_FORMAT, "%s: header length %llu is out of range", f->path, (unsigned long long)hlen);
        return -1;
    }
    const char *json = (const char *)f->base + 8;
    if (json[0] != '{') {
        err_fail(err, INF_ERR_FORMAT, "%s: header does not start with '{'", f->path);
        return -1;
    }
    const char *end_ptr = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, (size_t)hlen, &end_ptr, false);
    if (!root || !cJSON_IsObject(root)) {
        size_t at = end_ptr && end_ptr >= json ? (size_t)(end_ptr - json) : 0;
        err_fail(err, INF_ERR_FORMAT, "%s: header is not a JSON object (error near byte %zu of %llu)", f->path, at,
                (unsigned long long)hlen);
        cJSON_Delete(root);
        return -1;
    }
    /* Only padding (spaces) may follow the JSON inside the header. */
    for (const char *p = end_ptr; p && p < json + hlen; p++) {
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t' && *p != '\0') {
            err_fail(err, INF_ERR_FORMAT, "%s: unexpected bytes after the header JSON", f->path);
            cJSON_Delete(root);
            return -1;
        }
    }
    uint64_t data_size = f->size - 8 - hlen;
    const unsigned char *data = f->base + 8 + hlen;
    int n_items = cJSON_GetArraySize(root);
    f->tensors = calloc((size_t)n_items + 1, sizeof *f->tensors);
    if (!f->tensors) {
        err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", f->path);
        cJSON_Delete(root);
        return -1;
    }
    int rc = 0;
    for (const cJSON *it = root->child; it && rc == 0; it = it->next) {
        if (!it->string) continue;
        if (strcmp(it->string, "__metadata__") == 0) {
            rc = parse_metadata(f, it, err);
            continue;
        }
        struct safetensors_tensor *t = &f->tensors[f->n_tensors];
        t->name = str_dup(it->string);
        if (!t->name) {
            err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", f->path);
            rc = -1;
            break;
        }
        f->n_tensors++;
        rc = parse_tensor_entry(f, it, t, data_size, err);
        if (rc == 0) t->data = data + t->begin;
    }
    cJSON_Delete(root);
    if (rc != 0) return rc;
    qsort(f->tensors, (size_t)f->n_tensors, sizeof *f->tensors, cmp_tensor_name);
    for (int64_t i = 1; i < f->n_tensors; i++) {
        if (strcmp(f->tensors[i - 1].name, f->tensors[i].name) == 0) {
            err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s' appears twice in the header", f->path, f->tensors[i].name);
            return -1;
        }
    }
    return check_spans(f, data_size, err);
}

void safetensors_close(struct safetensors_file *f)
{
    if (!f) return;
    for (int64_t i = 0; i < f->n_tensors; i++) free((char *)f->tensors[i].name);
    free(f->tensors);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->meta_keys);
    free(f->meta_values);
    if (f->map) munmap(f->map, f->map_size);
    free(f->path);
    free(f);
}

int safetensors_open_memory(const void *data, size_t size, const char *name,
                            struct safetensors_file **out, inf_error *err)
{
    *out = NULL;
    struct safetensors_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = str_dup(name ? name : "<memory>"))) {
        free(f);
        err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", name ? name : "<memory>");
        return -1;
    }
    f->base = data;
    f->size = data ? size : 0;
    if (parse_header(f, err) != 0) {
        safetensors_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

int safetensors_open(const char *path, struct safetensors_file **out, inf_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_fail(err, INF_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        err_fail(err, INF_ERR_FORMAT, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    void *map = NULL;
    if (size > 0) {
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            err_fail(err, INF_ERR_IO, "%s: cannot map %zu bytes: %s", path, size, strerror(errno));
            close(fd);
            return -1;
        }
    }
    close(fd);
    static const unsigned char empty[1];
    if (safetensors_open_memory(map ? map : empty, size, path, out, err) != 0) {
        if (map) munmap(map, size);
        return -1;
    }
    (*out)->map = map;
    (*out)->map_size = size;
    return 0;
}

const char *safetensors_path(const struct safetensors_file *f) { return f->path; }
int64_t safetensors_n_tensors(const struct safetensors_file *f) { return f->n_tensors; }

const struct safetensors_tensor *safetensors_tensor_at(const struct safetensors_file *f, int64_t i)
{
    return (i >= 0 && i < f->n_tensors) ? &f->tensors[i] : NULL;
}

const struct safetensors_tensor *safetensors_find(const struct safetensors_file *f, const char *name)
{
    int64_t lo = 0, hi = f->n_tensors;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->tensors[mid].name, name);
        if (c == 0) return &f->tensors[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const char *safetensors_metadata(const struct safetensors_file *f, const char *key)
{
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_values[i];
    return NULL;
}

/* ---------------------------------------------------------------- sets -- */

struct safetensors_set {
    struct safetensors_file **files;
    int n_files;
    int64_t n_tensors;
};

void safetensors_set_close(struct safetensors_set *s)
{
    if (!s) return;
    for (int i = 0; i < s->n_files; i++) safetensors_close(s->files[i]);
    free(s->files);
    free(s);
}


/* A shard name must be a plain file name inside the directory. */
static bool plain_file_name(const char *s)
{
    return s[0] && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

void safetensors_index_free(char **files, int n_files)
{
    if (!files) return;
    for (int i = 0; i < n_files; i++) free(files[i]);
    free(files);
}

int safetensors_index_parse(const char *json, size_t len, const char *name,
                            char ***files_out, int *n_files_out, inf_error *err)
{
    *files_out = NULL;
    *n_files_out = 0;
    if (!name) name = "model.safetensors.index.json";
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        err_fail(err, INF_ERR_FORMAT, "%s: not a JSON object", name);
        cJSON_Delete(root);
        return -1;
    }
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(map) || !map->child) {
        err_fail(err, INF_ERR_FORMAT, "%s: missing or empty \"weight_map\" object", name);
        cJSON_Delete(root);
        return -1;
    }
    int cap = cJSON_GetArraySize(map);
    char **files = calloc((size_t)cap + 1, sizeof *files);
    int n = 0, rc = 0;
    if (!files) {
        err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", name);
        rc = -1;
    }
    for (const cJSON *it = map->child; it && rc == 0; it = it->next) {
        if (!cJSON_IsString(it) || !plain_file_name(it->valuestring)) {
            err_fail(err, INF_ERR_FORMAT, "%s: weight_map entry '%s' is not a plain file name", name,
                    it->string ? it->string : "?");
            rc = -1;
            break;
        }
        bool seen = false;
        for (int i = 0; i < n && !seen; i++) seen = strcmp(files[i], it->valuestring) == 0;
        if (seen) continue;
        if (!(files[n] = str_dup(it->valuestring))) {
            err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", name);
            rc = -1;
            break;
        }
        n++;
    }
    if (rc != 0) {
        safetensors_index_free(files, n);
        cJSON_Delete(root);
        return -1;
    }
    cJSON_Delete(root);
    *files_out = files;
    *n_files_out = n;
    return 0;
}

static int set_add_file(struct safetensors_set *s, const char *dir, const char *file, inf_error *err)
{
    size_t plen = strlen(dir) + strlen(file) + 2;
    char *path = malloc(plen);
    struct safetensors_file **nf = realloc(s->files, (size_t)(s->n_files + 1) * sizeof *nf);
    if (!path || !nf) {
        free(path);
        if (nf) s->files = nf;
        err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", dir);
        return -1;
    }
    s->files = nf;
    snprintf(path, plen, "%s/%s", dir, file);
    int rc = safetensors_open(path, &s->files[s->n_files], err);
    free(path);
    if (rc != 0) return -1;
    s->n_tensors += safetensors_n_tensors(s->files[s->n_files]);
    s->n_files++;
    return 0;
}

/* Every tensor the index maps must be in the shard it names, and no name may
 * be in two shards. */
static int set_check_index(struct safetensors_set *s, const cJSON *map, const char *idx_path,
                           inf_error *err)
{
    for (const cJSON *it = map->child; it; it = it->next) {
        const struct safetensors_file *where = NULL;
        const struct safetensors_tensor *t = safetensors_set_find(s, it->string, &where);
        const char *base = where ? strrchr(safetensors_path(where), '/') : NULL;
        base = base ? base + 1 : (where ? safetensors_path(where) : NULL);
        if (!t || strcmp(base, it->valuestring) != 0) {
            err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s' is not in %s as the weight_map says", idx_path, it->string,
                    it->valuestring);
            return -1;
        }
    }
    for (int i = 0; i < s->n_files; i++)
        for (int64_t k = 0; k < safetensors_n_tensors(s->files[i]); k++) {
            const char *name = safetensors_tensor_at(s->files[i], k)->name;
            for (int j = i + 1; j < s->n_files; j++)
                if (safetensors_find(s->files[j], name)) {
                    err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s' is in both %s and %s", idx_path, name,
                            safetensors_path(s->files[i]), safetensors_path(s->files[j]));
                    return -1;
                }
        }
    return 0;
}

static int set_open_index(struct safetensors_set *s, const char *dir, const char *idx_path,
                          inf_error *err)
{
    size_t len = 0;
    char *text = file_read_all(idx_path, 256u << 20, &len, err);
    if (!text) return -1;
    char **files = NULL;
    int n_files = 0;
    int rc = safetensors_index_parse(text, len, idx_path, &files, &n_files, err);
    for (int i = 0; rc == 0 && i < n_files; i++) rc = set_add_file(s, dir, files[i], err);
    safetensors_index_free(files, n_files);
    if (rc == 0) {
        cJSON *root = cJSON_ParseWithLength(text, len);
        rc = root ? set_check_index(s, cJSON_GetObjectItemCaseSensitive(root, "weight_map"), idx_path, err)
                  : -1;
        cJSON_Delete(root);
    }
    free(text);
    return rc;
}

/* No index and no model.safetensors: accept exactly one *.safetensors. */
static int set_open_single(struct safetensors_set *s, const char *dir, inf_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        err_fail(err, INF_ERR_IO, "%s: cannot open directory: %s", dir, strerror(errno));
        return -1;
    }
    char *found = NULL;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 12 && strcmp(e->d_name + n - 12, ".safetensors") == 0) {
            count++;
            if (!found) found = str_dup(e->d_name);
        }
    }
    closedir(d);
    int rc;
    if (count != 1) {
        err_fail(err, INF_ERR_FORMAT, "%s: no model.safetensors.index.json or model.safetensors, and %d *.safetensors files",
                dir, count);
        rc = -1;
    } else {
        rc = found ? set_add_file(s, dir, found, err) : -1;
    }
    free(found);
    return rc;
}

int safetensors_set_open(const char *dir, struct safetensors_set **out, inf_error *err)
{
    *out = NULL;
    struct safetensors_set *s = calloc(1, sizeof *s);
    if (!s) {
        err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", dir);
        return -1;
    }
    size_t plen = strlen(dir) + 64;
    char *p = malloc(plen);
    if (!p) {
        free(s);
        err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", dir);
        return -1;
    }
    struct stat st;
    int rc;
    snprintf(p, plen, "%s/model.safetensors.index.json", dir);
    if (stat(p, &st) == 0) {
        rc = set_open_index(s, dir, p, err);
    } else {
        snprintf(p, plen, "%s/model.safetensors", dir);
        if (stat(p, &st) == 0) rc = set_add_file(s, dir, "model.safetensors", err);
        else rc = set_open_single(s, dir, err);
    }
    free(p);
    if (rc != 0) {
        safetensors_set_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

int safetensors_set_n_files(const struct safetensors_set *s) { return s->n_files; }

const struct safetensors_file *safetensors_set_file(const struct safetensors_set *s, int i)
{
    return (i >= 0 && i < s->n_files) ? s->files[i] : NULL;
}

int64_t safetensors_set_n_tensors(const struct safetensors_set *s) { return s->n_tensors; }

const struct safetensors_tensor *safetensors_set_tensor_at(const struct safetensors_set *s, int64_t i)
{
    for (int f = 0; f < s->n_files && i >= 0; f++) {
        int64_t n = safetensors_n_tensors(s->files[f]);
        if (i < n) return safetensors_tensor_at(s->files[f], i);
        i -= n;
    }
    return NULL;
}

const struct safetensors_tensor *safetensors_set_find(const struct safetensors_set *s, const char *name,
                                                      const struct safetensors_file **file)
{
    for (int i = 0; i < s->n_files; i++) {
        const struct safetensors_tensor *t = safetensors_find(s->files[i], name);
        if (t) {
            if (file) *file = s->files[i];
            return t;
        }
    }
    if (file) *file = NULL;
    return NULL;
}

void safetensors_set_release_range(const struct safetensors_set *s, const void *p, uint64_t n)
{
    if (!s || !p) return;
    const uintptr_t lo = (uintptr_t)p, page = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < safetensors_set_n_files(s); i++) {
        const struct safetensors_file *f = safetensors_set_file(s, i);
        const uintptr_t base = (uintptr_t)f->base;
        if (!f->map || lo < base || lo - base > f->size || n > f->size - (lo - base)) continue;
        const uintptr_t start = (lo + page - 1) & ~(page - 1), end = (lo + n) & ~(page - 1);
        if (end > start) madvise((void *)start, end - start, MADV_DONTNEED);
        return;
    }
}
