/* buf.c - see buf.h. */
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t buf_grow_cap(size_t cap, size_t need)
{
    if (cap < 64) cap = 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) return 0;
        cap *= 2;
    }
    return cap;
}

int buf_reserve(struct buf *b, size_t n)
{
    if (b->oom) return -1;
    if (b->n + n + 1 <= b->cap) return 0;
    size_t cap = n > SIZE_MAX - b->n - 1 ? 0 : buf_grow_cap(b->cap, b->n + n + 1);
    char *p = cap ? realloc(b->p, cap) : NULL;
    if (!p) {
        b->oom = true;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void buf_put(struct buf *b, const void *data, size_t n)
{
    if (buf_reserve(b, n) != 0) return;
    if (n) memcpy(b->p + b->n, data, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void buf_putc(struct buf *b, char c) { buf_put(b, &c, 1); }
void buf_puts(struct buf *b, const char *s) { buf_put(b, s, strlen(s)); }
void buf_u32(struct buf *b, uint32_t v) { buf_put(b, &v, 4); }
void buf_u64(struct buf *b, uint64_t v) { buf_put(b, &v, 8); }

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0 && buf_reserve(b, (size_t)n) == 0) {
        vsnprintf(b->p + b->n, (size_t)n + 1, fmt, aq);
        b->n += (size_t)n;
    }
    va_end(aq);
}

void buf_clear(struct buf *b)
{
    b->n = 0;
    if (b->p) b->p[0] = '\0';
}

char *buf_detach(struct buf *b)
{
    if (b->oom) {
        buf_free(b);
        return NULL;
    }
    char *p = b->p ? b->p : calloc(1, 1);
    b->p = NULL;
    b->n = b->cap = 0;
    return p;
}

void buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
    b->oom = false;
}
