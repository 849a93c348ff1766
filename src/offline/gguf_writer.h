/* gguf_writer.h - the pieces of writing a GGUF file that every writer
 * shares: a growable little-endian byte buffer for the header (key/value
 * pairs and tensor infos, counting the pairs it holds) and plain file writes
 * with zero padding. Used by `infer convert` (formats/hf_convert.c) and
 * `infer quantize` (model/quantize.c). Layout per the GGUF v3 specification:
 * strings are a u64 length then bytes; a pair is key, u32 type, value. */
#ifndef INF_OFFLINE_GGUF_WRITER_H
#define INF_OFFLINE_GGUF_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"

/* The bytes (base/buf.h: check b.oom once at the end) and the number of
 * key/value pairs written so far. */
struct gguf_wbuf {
    struct buf b;
    uint64_t n_kv; /* pairs started with gguf_wbuf_kv_key */
};

/* Append bytes; on allocation failure b.oom is set and this and later
 * writes are ignored. */
void gguf_wbuf_put(struct gguf_wbuf *b, const void *data, size_t n);
void gguf_wbuf_u32(struct gguf_wbuf *b, uint32_t v);
void gguf_wbuf_u64(struct gguf_wbuf *b, uint64_t v);
void gguf_wbuf_str(struct gguf_wbuf *b, const char *s, size_t n);

/* A key and its value type (enum gguf_type); the value follows. */
void gguf_wbuf_kv_key(struct gguf_wbuf *b, const char *key, uint32_t type);
void gguf_wbuf_kv_str(struct gguf_wbuf *b, const char *key, const char *v);
void gguf_wbuf_kv_u32(struct gguf_wbuf *b, const char *key, uint32_t v);
void gguf_wbuf_kv_f32(struct gguf_wbuf *b, const char *key, float v);
void gguf_wbuf_kv_bool(struct gguf_wbuf *b, const char *key, bool v);
/* An array's key, element type and count; the elements follow. */
void gguf_wbuf_kv_array(struct gguf_wbuf *b, const char *key, uint32_t elem_type, uint64_t n);

/* Copy pair i of an open GGUF file (key, type and value) as it is; counts
 * it in n_kv. 0, or -1 when the value cannot be read back. */
struct gguf_file;
int gguf_wbuf_copy_kv(struct gguf_wbuf *b, const struct gguf_file *f, int64_t i);

void gguf_wbuf_free(struct gguf_wbuf *b);


#endif
