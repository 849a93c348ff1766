/* tokenizer_utf8.c - the UTF-8 stream: pieces of a token stream cut at
 * character boundaries, incomplete characters held back, invalid bytes
 * replaced by U+FFFD on request. */
#include "text/tokenizer_impl.h"
#include "text/unicode.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 stream ---- */

void tok_utf8_stream_init(struct tok_utf8_stream *s, bool replace_invalid)
{
    memset(s, 0, sizeof *s);
    s->replace_invalid = replace_invalid;
}

static int stream_emit(struct tok_utf8_stream *st, const unsigned char *s, size_t n, bool final, char *out,
                       size_t cap, size_t *used)
{
    size_t o = 0, i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            if (o + 1 > cap) return -1;
            out[o++] = (char)s[i++];
            continue;
        }
        uint32_t cp;
        size_t l = tu_decode_strict(s + i, n - i, &cp);
        if (l) {
            if (o + l > cap) return -1;
            memcpy(out + o, s + i, l);
            o += l;
            i += l;
            continue;
        }
        if (!final && tu_is_incomplete(s + i, n - i)) break; /* hold back */
        size_t bad = tu_invalid_len(s + i, n - i);
        if (st->replace_invalid) {
            if (o + 3 > cap) return -1;
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
        } else {
            if (o + bad > cap) return -1;
            memcpy(out + o, s + i, bad);
            o += bad;
        }
        i += bad;
    }
    *used = i;
    return (int)o;
}

int tok_utf8_stream_push(struct tok_utf8_stream *st, const char *in, size_t n, char *out, size_t cap)
{
    /* join pending + in (pending is at most 3 bytes) */
    unsigned char small[64];
    unsigned char *tmp = n + 4 <= sizeof small ? small : malloc(n + 4);
    if (!tmp) return -1;
    size_t tn = (size_t)st->n_pending;
    memcpy(tmp, st->pending, tn);
    if (n) memcpy(tmp + tn, in, n);
    tn += n;
    size_t used = 0;
    int o = stream_emit(st, tmp, tn, false, out, cap, &used);
    if (o >= 0) {
        size_t rest = tn - used;
        if (rest > sizeof st->pending) rest = sizeof st->pending;
        memcpy(st->pending, tmp + used, rest);
        st->n_pending = (int)rest;
    }
    if (tmp != small) free(tmp);
    return o;
}

int tok_utf8_stream_flush(struct tok_utf8_stream *st, char *out, size_t cap)
{
    size_t used = 0;
    int o = stream_emit(st, st->pending, (size_t)st->n_pending, true, out, cap, &used);
    if (o >= 0) st->n_pending = 0;
    return o;
}
