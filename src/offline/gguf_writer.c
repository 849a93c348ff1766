/* gguf_writer.c - see gguf_writer.h. */
#include "offline/gguf_writer.h"

#include "formats/gguf.h"

#include <stdlib.h>
#include <string.h>

void gguf_wbuf_put(struct gguf_wbuf *b, const void *data, size_t n) { buf_put(&b->b, data, n); }
void gguf_wbuf_u32(struct gguf_wbuf *b, uint32_t v) { gguf_wbuf_put(b, &v, 4); }
void gguf_wbuf_u64(struct gguf_wbuf *b, uint64_t v) { gguf_wbuf_put(b, &v, 8); }

void gguf_wbuf_str(struct gguf_wbuf *b, const char *s, size_t n)
{
    gguf_wbuf_u64(b, n);
    gguf_wbuf_put(b, s, n);
}

void gguf_wbuf_kv_key(struct gguf_wbuf *b, const char *key, uint32_t type)
{
    gguf_wbuf_str(b, key, strlen(key));
    gguf_wbuf_u32(b, type);
    b->n_kv++;
}

void gguf_wbuf_kv_str(struct gguf_wbuf *b, const char *key, const char *v)
{
    gguf_wbuf_kv_key(b, key, GGUF_TYPE_STRING);
    gguf_wbuf_str(b, v, strlen(v));
}

void gguf_wbuf_kv_u32(struct gguf_wbuf *b, const char *key, uint32_t v)
{
    gguf_wbuf_kv_key(b, key, GGUF_TYPE_UINT32);
    gguf_wbuf_u32(b, v);
}

void gguf_wbuf_kv_f32(struct gguf_wbuf *b, const char *key, float v)
{
    gguf_wbuf_kv_key(b, key, GGUF_TYPE_FLOAT32);
    gguf_wbuf_put(b, &v, 4);
}

void gguf_wbuf_kv_bool(struct gguf_wbuf *b, const char *key, bool v)
{
    gguf_wbuf_kv_key(b, key, GGUF_TYPE_BOOL);
    unsigned char c = v;
    gguf_wbuf_put(b, &c, 1);
}

void gguf_wbuf_kv_array(struct gguf_wbuf *b, const char *key, uint32_t elem_type, uint64_t n)
{
    gguf_wbuf_kv_key(b, key, GGUF_TYPE_ARRAY);
    gguf_wbuf_u32(b, elem_type);
    gguf_wbuf_u64(b, n);
}

void gguf_wbuf_free(struct gguf_wbuf *b) { buf_free(&b->b); }

static size_t scalar_size(enum gguf_type t)
{
    switch (t) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

/* Writes one scalar value of type t, read back through the reader's typed
 * getters (little-endian host, so the low bytes of the 64-bit value are the
 * value's own bytes). */
static int put_scalar(struct gguf_wbuf *b, const struct gguf_file *f, int64_t i, enum gguf_type t)
{
    size_t sz = scalar_size(t);
    if (t == GGUF_TYPE_FLOAT32 || t == GGUF_TYPE_FLOAT64) {
        double d;
        if (gguf_kv_get_f64(f, i, &d) != GGUF_OK) return -1;
        if (t == GGUF_TYPE_FLOAT32) {
            float v = (float)d;
            gguf_wbuf_put(b, &v, 4);
        } else
            gguf_wbuf_put(b, &d, 8);
        return 0;
    }
    if (t == GGUF_TYPE_UINT64) {
        uint64_t v;
        if (gguf_kv_get_u64(f, i, &v) != GGUF_OK) return -1;
        gguf_wbuf_put(b, &v, 8);
        return 0;
    }
    int64_t v;
    if (gguf_kv_get_i64(f, i, &v) != GGUF_OK) return -1;
    gguf_wbuf_put(b, &v, sz);
    return 0;
}

static int put_array(struct gguf_wbuf *b, const struct gguf_file *f, int64_t i)
{
    struct gguf_array a;
    if (gguf_kv_get_array(f, i, &a) != GGUF_OK) return -1;
    gguf_wbuf_u32(b, (uint32_t)a.type);
    gguf_wbuf_u64(b, a.n);
    if (a.type == GGUF_TYPE_STRING) {
        for (uint64_t k = 0; k < a.n; k++) {
            const char *s;
            size_t len;
            if (gguf_array_string(&a, k, &s, &len) != GGUF_OK) return -1;
            gguf_wbuf_str(b, s, len);
        }
        return 0;
    }
    if (a.elem_size != scalar_size(a.type)) return -1;
    gguf_wbuf_put(b, a.data, (size_t)a.n * a.elem_size);
    return 0;
}


int gguf_wbuf_copy_kv(struct gguf_wbuf *b, const struct gguf_file *f, int64_t i)
{
    const char *key = gguf_key_at(f, i);
    enum gguf_type t = gguf_kv_type(f, i);
    if (!key) return -1;
    gguf_wbuf_kv_key(b, key, (uint32_t)t);
    if (t == GGUF_TYPE_STRING) {
        const char *s;
        size_t len;
        if (gguf_kv_get_string(f, i, &s, &len) != GGUF_OK) return -1;
        gguf_wbuf_str(b, s, len);
        return 0;
    }
    if (t == GGUF_TYPE_ARRAY) return put_array(b, f, i);
    return scalar_size(t) ? put_scalar(b, f, i, t) : -1;
}
