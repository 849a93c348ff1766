/* gguf_lookup.c - the GGUF reader's accessors (see gguf.h): the file's
 * facts, metadata by key or index with type conversions, array elements,
 * tensors by name. */
#include "formats/gguf_internal.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

const size_t gguf_type_sizes[GGUF_TYPE_COUNT] = {
    [GGUF_TYPE_UINT8] = 1, [GGUF_TYPE_INT8] = 1, [GGUF_TYPE_UINT16] = 2, [GGUF_TYPE_INT16] = 2,
    [GGUF_TYPE_UINT32] = 4, [GGUF_TYPE_INT32] = 4, [GGUF_TYPE_FLOAT32] = 4, [GGUF_TYPE_BOOL] = 1,
    [GGUF_TYPE_STRING] = 0, [GGUF_TYPE_ARRAY] = 0, [GGUF_TYPE_UINT64] = 8, [GGUF_TYPE_INT64] = 8,
    [GGUF_TYPE_FLOAT64] = 8,
};

const char *gguf_path(const struct gguf_file *f) { return f->path; }
uint32_t gguf_version(const struct gguf_file *f) { return f->version; }
uint64_t gguf_file_size(const struct gguf_file *f) { return f->size; }
const void *gguf_file_data(const struct gguf_file *f) { return f->base; }
uint64_t gguf_alignment(const struct gguf_file *f) { return f->alignment; }
uint64_t gguf_data_offset(const struct gguf_file *f) { return f->data_offset; }

/* ---- metadata access ---- */

int64_t gguf_n_kv(const struct gguf_file *f) { return f->n_kv; }

int64_t gguf_find_key(const struct gguf_file *f, const char *key)
{
    if (!key) return -1;
    return gguf_bsearch_name(f, f->kv_sorted, f->n_kv, key, 0);
}

const char *gguf_key_at(const struct gguf_file *f, int64_t i)
{
    return i >= 0 && i < f->n_kv ? f->kv[i].key : NULL;
}

enum gguf_type gguf_kv_type(const struct gguf_file *f, int64_t i)
{
    return i >= 0 && i < f->n_kv ? f->kv[i].type : GGUF_TYPE_COUNT;
}

enum gguf_type gguf_kv_array_type(const struct gguf_file *f, int64_t i)
{
    return i >= 0 && i < f->n_kv && f->kv[i].type == GGUF_TYPE_ARRAY ? f->kv[i].arr_type : GGUF_TYPE_COUNT;
}

uint64_t gguf_kv_array_n(const struct gguf_file *f, int64_t i)
{
    return i >= 0 && i < f->n_kv && f->kv[i].type == GGUF_TYPE_ARRAY ? f->kv[i].arr_n : 0;
}

static const struct gguf_kv *kv_at(const struct gguf_file *f, int64_t i)
{
    return i >= 0 && i < f->n_kv ? &f->kv[i] : NULL;
}

int gguf_kv_get_i64(const struct gguf_file *f, int64_t i, int64_t *out)
{
    const struct gguf_kv *kv = kv_at(f, i);
    if (!kv) return GGUF_ERR_NOT_FOUND;
    int64_t s;
    uint64_t u;
    int neg;
    int r = gguf_kv_int(kv, &s, &u, &neg);
    if (r) return r;
    if (!neg && u > (uint64_t)INT64_MAX) return GGUF_ERR_RANGE;
    *out = neg ? s : (int64_t)u;
    return GGUF_OK;
}

int gguf_kv_get_u64(const struct gguf_file *f, int64_t i, uint64_t *out)
{
    const struct gguf_kv *kv = kv_at(f, i);
    if (!kv) return GGUF_ERR_NOT_FOUND;
    int64_t s;
    uint64_t u;
    int neg;
    int r = gguf_kv_int(kv, &s, &u, &neg);
    if (r) return r;
    if (neg) return GGUF_ERR_RANGE;
    *out = u;
    return GGUF_OK;
}

int gguf_kv_get_f64(const struct gguf_file *f, int64_t i, double *out)
{
    const struct gguf_kv *kv = kv_at(f, i);
    if (!kv) return GGUF_ERR_NOT_FOUND;
    if (kv->type == GGUF_TYPE_FLOAT32) {
        float v;
        memcpy(&v, kv->raw, 4);
        *out = v;
        return GGUF_OK;
    }
    if (kv->type == GGUF_TYPE_FLOAT64) {
        memcpy(out, kv->raw, 8);
        return GGUF_OK;
    }
    int64_t s;
    uint64_t u;
    int neg;
    if (kv->type == GGUF_TYPE_BOOL) return GGUF_ERR_TYPE;
    int r = gguf_kv_int(kv, &s, &u, &neg);
    if (r) return r;
    *out = neg ? (double)s : (double)u;
    return GGUF_OK;
}

int gguf_kv_get_string(const struct gguf_file *f, int64_t i, const char **s, size_t *len)
{
    const struct gguf_kv *kv = kv_at(f, i);
    if (!kv) return GGUF_ERR_NOT_FOUND;
    if (kv->type != GGUF_TYPE_STRING) return GGUF_ERR_TYPE;
    *s = kv->str;
    if (len) *len = (size_t)kv->str_len;
    return GGUF_OK;
}

int gguf_kv_get_array(const struct gguf_file *f, int64_t i, struct gguf_array *out)
{
    const struct gguf_kv *kv = kv_at(f, i);
    if (!kv) return GGUF_ERR_NOT_FOUND;
    if (kv->type != GGUF_TYPE_ARRAY) return GGUF_ERR_TYPE;
    out->type = kv->arr_type;
    out->n = kv->arr_n;
    out->data = kv->arr_data;
    out->elem_size = gguf_type_sizes[kv->arr_type];
    out->priv_ = kv->str_offsets;
    return GGUF_OK;
}

int gguf_get_i64(const struct gguf_file *f, const char *key, int64_t *out)
{
    return gguf_kv_get_i64(f, gguf_find_key(f, key), out);
}

int gguf_get_u64(const struct gguf_file *f, const char *key, uint64_t *out)
{
    return gguf_kv_get_u64(f, gguf_find_key(f, key), out);
}

int gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *out)
{
    uint64_t v;
    int r = gguf_kv_get_u64(f, gguf_find_key(f, key), &v);
    if (r) return r;
    if (v > UINT32_MAX) return GGUF_ERR_RANGE;
    *out = (uint32_t)v;
    return GGUF_OK;
}

int gguf_get_i32(const struct gguf_file *f, const char *key, int32_t *out)
{
    int64_t v;
    int r = gguf_kv_get_i64(f, gguf_find_key(f, key), &v);
    if (r) return r;
    if (v > INT32_MAX || v < INT32_MIN) return GGUF_ERR_RANGE;
    *out = (int32_t)v;
    return GGUF_OK;
}

int gguf_get_f64(const struct gguf_file *f, const char *key, double *out)
{
    return gguf_kv_get_f64(f, gguf_find_key(f, key), out);
}

int gguf_get_f32(const struct gguf_file *f, const char *key, float *out)
{
    double v;
    int r = gguf_kv_get_f64(f, gguf_find_key(f, key), &v);
    if (r) return r;
    *out = (float)v;
    return GGUF_OK;
}

int gguf_get_bool(const struct gguf_file *f, const char *key, bool *out)
{
    const struct gguf_kv *kv = kv_at(f, gguf_find_key(f, key));
    if (!kv) return GGUF_ERR_NOT_FOUND;
    int64_t s;
    uint64_t u;
    int neg;
    int r = gguf_kv_int(kv, &s, &u, &neg);
    if (r) return r;
    *out = neg ? true : u != 0;
    return GGUF_OK;
}

int gguf_get_string(const struct gguf_file *f, const char *key, const char **s, size_t *len)
{
    return gguf_kv_get_string(f, gguf_find_key(f, key), s, len);
}

int gguf_get_array(const struct gguf_file *f, const char *key, struct gguf_array *out)
{
    return gguf_kv_get_array(f, gguf_find_key(f, key), out);
}

int gguf_array_string(const struct gguf_array *a, uint64_t i, const char **s, size_t *len)
{
    if (a->type != GGUF_TYPE_STRING) return GGUF_ERR_TYPE;
    if (i >= a->n) return GGUF_ERR_NOT_FOUND;
    const uint64_t *offs = a->priv_;
    const uint8_t *p = (const uint8_t *)a->data + offs[i];
    uint64_t n;
    memcpy(&n, p, 8);
    *s = (const char *)(p + 8);
    if (len) *len = (size_t)n;
    return GGUF_OK;
}

int gguf_array_i64(const struct gguf_array *a, uint64_t i, int64_t *out)
{
    if (i >= a->n) return GGUF_ERR_NOT_FOUND;
    const uint8_t *p = (const uint8_t *)a->data + i * a->elem_size;
    switch (a->type) {
    case GGUF_TYPE_UINT8: *out = p[0]; return GGUF_OK;
    case GGUF_TYPE_BOOL: *out = p[0] != 0; return GGUF_OK;
    case GGUF_TYPE_INT8: { int8_t v; memcpy(&v, p, 1); *out = v; return GGUF_OK; }
    case GGUF_TYPE_UINT16: { uint16_t v; memcpy(&v, p, 2); *out = v; return GGUF_OK; }
    case GGUF_TYPE_INT16: { int16_t v; memcpy(&v, p, 2); *out = v; return GGUF_OK; }
    case GGUF_TYPE_UINT32: { uint32_t v; memcpy(&v, p, 4); *out = v; return GGUF_OK; }
    case GGUF_TYPE_INT32: { int32_t v; memcpy(&v, p, 4); *out = v; return GGUF_OK; }
    case GGUF_TYPE_INT64: memcpy(out, p, 8); return GGUF_OK;
    case GGUF_TYPE_UINT64: {
        uint64_t v;
        memcpy(&v, p, 8);
        if (v > (uint64_t)INT64_MAX) return GGUF_ERR_RANGE;
        *out = (int64_t)v;
        return GGUF_OK;
    }
    default: return GGUF_ERR_TYPE;
    }
}

int gguf_array_f32(const struct gguf_array *a, uint64_t i, float *out)
{
    if (i >= a->n) return GGUF_ERR_NOT_FOUND;
    const uint8_t *p = (const uint8_t *)a->data + i * a->elem_size;
    if (a->type == GGUF_TYPE_FLOAT32) { memcpy(out, p, 4); return GGUF_OK; }
    if (a->type == GGUF_TYPE_FLOAT64) { double d; memcpy(&d, p, 8); *out = (float)d; return GGUF_OK; }
    if (a->type == GGUF_TYPE_BOOL) return GGUF_ERR_TYPE;
    int64_t v;
    int r = gguf_array_i64(a, i, &v);
    if (r == GGUF_ERR_RANGE) { uint64_t u; memcpy(&u, p, 8); *out = (float)u; return GGUF_OK; }
    if (r) return r;
    *out = (float)v;
    return GGUF_OK;
}

/* ---- tensors ---- */

int64_t gguf_n_tensors(const struct gguf_file *f) { return f->n_tensors; }

const struct gguf_tensor *gguf_tensor_at(const struct gguf_file *f, int64_t i)
{
    return i >= 0 && i < f->n_tensors ? &f->tensors[i] : NULL;
}

int64_t gguf_find_tensor(const struct gguf_file *f, const char *name)
{
    if (!name) return -1;
    return gguf_bsearch_name(f, f->t_sorted, f->n_tensors, name, 1);
}

const struct gguf_tensor *gguf_get_tensor(const struct gguf_file *f, const char *name)
{
    return gguf_tensor_at(f, gguf_find_tensor(f, name));
}

void gguf_release_range(const struct gguf_file *f, const void *p, uint64_t n)
{
    if (!f || !f->mapped || !p) return;
    const uintptr_t base = (uintptr_t)f->base, lo = (uintptr_t)p;
    if (lo < base || lo - base > f->size || n > f->size - (lo - base)) return;
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t start = (lo + page - 1) & ~(page - 1), end = (lo + n) & ~(page - 1);
    if (end > start) madvise((void *)start, end - start, MADV_DONTNEED);
}
