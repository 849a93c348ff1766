/* hostile_build.h - byte builders for the hostile-file tests (and for
 * fuzz seeds): a GGUF writer that records where each section of the file
 * ends, so that a test can truncate at every boundary or patch any field,
 * and a growable byte buffer for safetensors files.
 *
 * Header-only (static functions) so that each test_hostile_*.c stays one
 * self-contained program. Allocation failure aborts the test: this is test
 * code, never library code. */
#ifndef INF_TEST_HOSTILE_BUILD_H
#define INF_TEST_HOSTILE_BUILD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hb_buf {
    unsigned char *p;
    size_t n, cap;
    size_t marks[512];   /* offsets where a section ends */
    size_t n_marks;
};

static inline void hb_reserve(struct hb_buf *b, size_t extra)
{
    if (b->n + extra <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) { fprintf(stderr, "hostile_build: out of memory\n"); exit(2); }
    b->p = p;
    b->cap = cap;
}

static inline void hb_bytes(struct hb_buf *b, const void *src, size_t n)
{
    hb_reserve(b, n);
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}

static inline void hb_u32(struct hb_buf *b, uint32_t v) { hb_bytes(b, &v, 4); }
static inline void hb_u64(struct hb_buf *b, uint64_t v) { hb_bytes(b, &v, 8); }
static inline void hb_f32(struct hb_buf *b, float v) { hb_bytes(b, &v, 4); }
static inline void hb_zeros(struct hb_buf *b, size_t n) { hb_reserve(b, n); memset(b->p + b->n, 0, n); b->n += n; }
static inline void hb_str(struct hb_buf *b, const char *s) { hb_u64(b, strlen(s)); hb_bytes(b, s, strlen(s)); }
static inline void hb_mark(struct hb_buf *b) { if (b->n_marks < 512) b->marks[b->n_marks++] = b->n; }
static inline void hb_free(struct hb_buf *b) { free(b->p); memset(b, 0, sizeof *b); }
static inline void hb_align(struct hb_buf *b, size_t a) { while (b->n % a) hb_zeros(b, 1); }

/* ---- GGUF ---- */
enum { HB_U32 = 4, HB_I32 = 5, HB_F32 = 6, HB_BOOL = 7, HB_STR = 8, HB_ARR = 9, HB_U64 = 10 };

/* Starts a GGUF file: magic, version, counts. The caller then appends the
 * key/value pairs and tensor infos with the helpers below, then the data. */
static inline void hb_gguf_header(struct hb_buf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
    hb_bytes(b, "GGUF", 4); hb_mark(b);
    hb_u32(b, version); hb_mark(b);
    hb_u64(b, n_tensors); hb_mark(b);
    hb_u64(b, n_kv); hb_mark(b);
}

static inline void hb_kv_u32(struct hb_buf *b, const char *key, uint32_t v)
{ hb_str(b, key); hb_u32(b, HB_U32); hb_u32(b, v); hb_mark(b); }
static inline void hb_kv_f32(struct hb_buf *b, const char *key, float v)
{ hb_str(b, key); hb_u32(b, HB_F32); hb_f32(b, v); hb_mark(b); }
static inline void hb_kv_bool(struct hb_buf *b, const char *key, int v)
{ unsigned char c = (unsigned char)(v != 0); hb_str(b, key); hb_u32(b, HB_BOOL); hb_bytes(b, &c, 1); hb_mark(b); }
static inline void hb_kv_str(struct hb_buf *b, const char *key, const char *v)
{ hb_str(b, key); hb_u32(b, HB_STR); hb_str(b, v); hb_mark(b); }

static inline void hb_kv_str_array(struct hb_buf *b, const char *key, const char *const *v, size_t n)
{
    hb_str(b, key); hb_u32(b, HB_ARR); hb_u32(b, HB_STR); hb_u64(b, n);
    for (size_t i = 0; i < n; i++) hb_str(b, v[i]);
    hb_mark(b);
}

static inline void hb_kv_f32_array(struct hb_buf *b, const char *key, const float *v, size_t n)
{
    hb_str(b, key); hb_u32(b, HB_ARR); hb_u32(b, HB_F32); hb_u64(b, n);
    for (size_t i = 0; i < n; i++) hb_f32(b, v[i]);
    hb_mark(b);
}

static inline void hb_kv_i32_array(struct hb_buf *b, const char *key, const int32_t *v, size_t n)
{
    hb_str(b, key); hb_u32(b, HB_ARR); hb_u32(b, HB_I32); hb_u64(b, n);
    for (size_t i = 0; i < n; i++) hb_u32(b, (uint32_t)v[i]);
    hb_mark(b);
}

/* One tensor info: name, dims (ne[0] innermost), ggml type, data offset. */
static inline void hb_tensor_info(struct hb_buf *b, const char *name, uint32_t n_dims, const uint64_t *ne,
                           uint32_t type, uint64_t offset)
{
    hb_str(b, name);
    hb_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) hb_u64(b, ne[d]);
    hb_u32(b, type);
    hb_u64(b, offset);
    hb_mark(b);
}

/* Writes the buffer to path; 0 on success. */
static inline int hb_write_file(const struct hb_buf *b, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(b->p, 1, b->n, f);
    return (fclose(f) == 0 && w == b->n) ? 0 : -1;
}

#endif
