/* buf.h - a growable byte buffer, the one every writer of text or binary
 * data uses (JSON and SSE bodies, GGUF headers, decoded pieces).
 *
 * Appends never fail loudly: when memory runs out the buffer is marked oom
 * and later appends are dropped, so a writer checks once, at the end. The
 * bytes are kept NUL-terminated (b->p[b->n] == 0 once anything was added),
 * so text can be used as a C string; binary data may hold NULs. */
#ifndef INF_BASE_BUF_H
#define INF_BASE_BUF_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
    char *p;
    size_t n, cap;
    bool oom;
};

void buf_put(struct buf *b, const void *data, size_t n);
void buf_putc(struct buf *b, char c);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) INF_PRINTF(2, 3);
void buf_u32(struct buf *b, uint32_t v); /* little-endian, as GGUF */
void buf_u64(struct buf *b, uint64_t v);
/* The capacity to grow cap to so that need bytes fit (doubling from 64);
 * 0 when that overflows. The policy of every growable buffer here,
 * including the Jinja renderer's arena strings. */
size_t buf_grow_cap(size_t cap, size_t need);
/* Room for n more bytes (then b->p + b->n is writable up to n); 0 or -1. */
int buf_reserve(struct buf *b, size_t n);
/* Forget the contents, keep the memory. */
void buf_clear(struct buf *b);
/* The contents as a malloc'd NUL-terminated string the caller frees (""
 * for an empty buffer); NULL after an allocation failure. The buffer is
 * left empty. */
char *buf_detach(struct buf *b);
void buf_free(struct buf *b);

#endif
