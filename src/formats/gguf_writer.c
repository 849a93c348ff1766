/* gguf_writer.c - see gguf_writer.h. */
#include "formats/gguf_writer.h"

#include "formats/gguf.h"

#include <stdlib.h>
#include <string.h>

void gguf_wbuf_put(struct gguf_wbuf *b, const void *data, size_t n)
{
    if (b->oom || n == 0) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

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

void gguf_wbuf_free(struct gguf_wbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

int gguf_write_all(FILE *fp, const void *data, size_t n)
{
    return n == 0 || fwrite(data, 1, n, fp) == n ? 0 : -1;
}

int gguf_write_zeros(FILE *fp, uint64_t n)
{
    static const unsigned char zeros[256];
    while (n > 0) {
        size_t k = n > sizeof zeros ? sizeof zeros : (size_t)n;
        if (gguf_write_all(fp, zeros, k)) return -1;
        n -= k;
    }
    return 0;
}
