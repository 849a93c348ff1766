/* tokenizer_json_scan.c - see tokenizer_json_scan.h: a structural JSON
 * scanner that finds model.vocab and model.merges and decodes them without
 * building a tree. */
#include "text/tokenizer_json_scan.h"
#include "text/unicode.h"

#include <stdlib.h>
#include <string.h>

static const char *js_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

/* p at '"': returns the position after the closing quote, or NULL */
static const char *js_skip_string(const char *p, const char *e)
{
    p++;
    while (p < e) {
        const char *q = memchr(p, '"', (size_t)(e - p));
        if (!q) return NULL;
        /* count the backslashes before the quote */
        const char *b = q;
        while (b > p && b[-1] == '\\') b--;
        if (((q - b) & 1) == 0) return q + 1;
        p = q + 1;
    }
    return NULL;
}

static const char *js_skip_value(const char *p, const char *e, int depth)
{
    p = js_ws(p, e);
    if (p >= e || depth > 256) return NULL;
    if (*p == '"') return js_skip_string(p, e);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = js_ws(p + 1, e);
        if (p < e && *p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                p = js_ws(p, e);
                if (p >= e || *p != '"' || !(p = js_skip_string(p, e))) return NULL;
                p = js_ws(p, e);
                if (p >= e || *p != ':') return NULL;
                p++;
            }
            if (!(p = js_skip_value(p, e, depth + 1))) return NULL;
            p = js_ws(p, e);
            if (p >= e) return NULL;
            if (*p == ',') { p++; continue; }
            if (*p == close) return p + 1;
            return NULL;
        }
    }
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') p++;
    return p;
}

static int hexval(char c)
{
    return (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}

/* Decodes the JSON string at p ('"') into out (room for the raw length);
 * returns the position after it, or NULL. */
static const char *js_decode_string(const char *p, const char *e, char *out, size_t *out_len)
{
    size_t o = 0;
    p++;
    while (p < e) {
        const char *q = p;
        while (q < e && *q != '"' && *q != '\\') q++;
        memcpy(out + o, p, (size_t)(q - p));
        o += (size_t)(q - p);
        p = q;
        if (p >= e) return NULL;
        if (*p == '"') { *out_len = o; return p + 1; }
        if (p + 1 >= e) return NULL;
        char c = p[1];
        p += 2;
        switch (c) {
        case '"': out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; break;
        case '/': out[o++] = '/'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            if (e - p < 4) return NULL;
            int v = 0;
            for (int i = 0; i < 4; i++) {
                int h = hexval(p[i]);
                if (h < 0) return NULL;
                v = v * 16 + h;
            }
            p += 4;
            uint32_t cp = (uint32_t)v;
            if (cp >= 0xD800 && cp <= 0xDBFF && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                int w = 0, ok = 1;
                for (int i = 0; i < 4; i++) {
                    int h = hexval(p[2 + i]);
                    if (h < 0) { ok = 0; break; }
                    w = w * 16 + h;
                }
                if (ok && w >= 0xDC00 && w <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (uint32_t)(w - 0xDC00);
                    p += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD; /* lone surrogate */
            o += (size_t)tu_encode(cp, out + o);
            break;
        }
        default:
            return NULL;
        }
    }
    return NULL;
}

static int parse_vocab_span(const char *p, const char *e, struct vent **out, size_t *n, char **buf, int32_t *max_id,
                            const char **endp);
static int parse_merges_span(const char *p, const char *e, struct tok_merge_src **out, size_t *n, char **buf,
                             const char **endp);

/* Finds root.model.vocab and root.model.merges. 0 ok (spans may be NULL). */
int find_big(const char *json, size_t len, struct big_spans *sp)
{
    const char *p = json, *e = json + len;
    memset(sp, 0, sizeof *sp);
    sp->max_id = -1;
    p = js_ws(p, e);
    if (p >= e || *p != '{') return -1;
    p = js_ws(p + 1, e);
    if (p < e && *p == '}') return 0;
    for (;;) {
        p = js_ws(p, e);
        if (p >= e || *p != '"') return -1;
        const char *k = p + 1, *ke = js_skip_string(p, e);
        if (!ke) return -1;
        bool is_model = ke - k - 1 == 5 && memcmp(k, "model", 5) == 0;
        p = js_ws(ke, e);
        if (p >= e || *p != ':') return -1;
        p = js_ws(p + 1, e);
        if (is_model && p < e && *p == '{') {
            p = js_ws(p + 1, e);
            if (p < e && *p == '}') p++;
            else
                for (;;) {
                    p = js_ws(p, e);
                    if (p >= e || *p != '"') return -1;
                    const char *k2 = p + 1, *ke2 = js_skip_string(p, e);
                    if (!ke2) return -1;
                    size_t kl = (size_t)(ke2 - k2 - 1);
                    p = js_ws(ke2, e);
                    if (p >= e || *p != ':') return -1;
                    p = js_ws(p + 1, e);
                    const char *vs = p, *ve;
                    if (kl == 5 && vs < e && memcmp(k2, "vocab", 5) == 0 && *vs == '{' && !sp->vocab) {
                        if (parse_vocab_span(vs, e, &sp->ve, &sp->nv, &sp->vbuf, &sp->max_id, &ve)) { sp->bad = 1; return -1; }
                        sp->vocab = vs;
                        sp->vocab_end = ve;
                    } else if (kl == 6 && vs < e && memcmp(k2, "merges", 6) == 0 && *vs == '[' && !sp->merges) {
                        if (parse_merges_span(vs, e, &sp->ms, &sp->nm, &sp->mbuf, &ve)) { sp->bad = 2; return -1; }
                        sp->merges = vs;
                        sp->merges_end = ve;
                    } else if (!(ve = js_skip_value(p, e, 1))) {
                        return -1;
                    }
                    p = js_ws(ve, e);
                    if (p < e && *p == ',') { p++; continue; }
                    if (p < e && *p == '}') { p++; break; }
                    return -1;
                }
        } else {
            if (!(p = js_skip_value(p, e, 1))) return -1;
        }
        p = js_ws(p, e);
        if (p < e && *p == ',') { p++; continue; }
        if (p < e && *p == '}') return 0;
        return -1;
    }
}

/* "key": id pairs, strings decoded into *buf */
static int parse_vocab_span(const char *p, const char *e, struct vent **out, size_t *n, char **buf, int32_t *max_id,
                            const char **endp)
{
    size_t cap = 1024, k = 0, bo = 0;
    struct vent *v = malloc(cap * sizeof *v);
    char *b = malloc((size_t)(e - p) + 1);
    if (!v || !b) { free(v); free(b); return -1; }
    p = js_ws(p + 1, e); /* after '{' */
    while (p < e && *p != '}') {
        if (*p != '"') goto bad;
        size_t sl;
        const char *q = js_decode_string(p, e, b + bo, &sl);
        if (!q) goto bad;
        p = js_ws(q, e);
        if (p >= e || *p != ':') goto bad;
        p = js_ws(p + 1, e);
        /* bounded integer parse (the text need not be NUL-terminated) */
        const char *ne = p;
        long id = 0;
        while (ne < e && *ne >= '0' && *ne <= '9' && id <= 16777216) id = id * 10 + (*ne++ - '0');
        if (ne == p || id > 16777216) goto bad;
        p = js_ws(ne, e);
        if (p < e && *p == '.') { /* 12.0 */
            while (p < e && *p != ',' && *p != '}') p++;
        }
        if (k == cap) {
            cap *= 2;
            struct vent *nv = realloc(v, cap * sizeof *nv);
            if (!nv) goto bad;
            v = nv;
        }
        v[k++] = (struct vent){(int32_t)id, (uint32_t)bo, (uint32_t)sl};
        if ((int32_t)id > *max_id) *max_id = (int32_t)id;
        bo += sl;
        p = js_ws(p, e);
        if (p < e && *p == ',') p = js_ws(p + 1, e);
    }
    if (p >= e) goto bad;
    *endp = p + 1;
    *out = v;
    *n = k;
    *buf = b;
    return 0;
bad:
    free(v);
    free(b);
    return -1;
}

/* "a b" strings or ["a", "b"] pairs */
static int parse_merges_span(const char *p, const char *e, struct tok_merge_src **out, size_t *n, char **buf,
                             const char **endp)
{
    size_t cap = 1024, k = 0, bo = 0;
    struct tok_merge_src *v = malloc(cap * sizeof *v);
    char *b = malloc((size_t)(e - p) + 1);
    size_t *aoff = NULL;
    if (!v || !b) goto bad;
    /* offsets first (the buffer does not move, but keep it simple) */
    p = js_ws(p + 1, e);
    while (p < e && *p != ']') {
        if (k == cap) {
            cap *= 2;
            struct tok_merge_src *nv = realloc(v, cap * sizeof *nv);
            if (!nv) goto bad;
            v = nv;
        }
        if (*p == '"') {
            size_t sl;
            const char *q = js_decode_string(p, e, b + bo, &sl);
            if (!q) goto bad;
            char *s = b + bo;
            char *sp = sl > 1 ? memchr(s + 1, ' ', sl - 1) : NULL;
            if (!sp) goto bad;
            v[k++] = (struct tok_merge_src){s, sp + 1, (uint32_t)(sp - s), (uint32_t)(sl - (size_t)(sp - s) - 1)};
            bo += sl;
            p = q;
        } else if (*p == '[') {
            p = js_ws(p + 1, e);
            size_t al, bl;
            if (p >= e || *p != '"') goto bad;
            const char *q = js_decode_string(p, e, b + bo, &al);
            if (!q) goto bad;
            char *a = b + bo;
            bo += al;
            p = js_ws(q, e);
            if (p >= e || *p != ',') goto bad;
            p = js_ws(p + 1, e);
            if (p >= e || *p != '"') goto bad;
            q = js_decode_string(p, e, b + bo, &bl);
            if (!q) goto bad;
            v[k++] = (struct tok_merge_src){a, b + bo, (uint32_t)al, (uint32_t)bl};
            bo += bl;
            p = js_ws(q, e);
            if (p >= e || *p != ']') goto bad;
            p++;
        } else {
            goto bad;
        }
        p = js_ws(p, e);
        if (p < e && *p == ',') p = js_ws(p + 1, e);
    }
    if (p >= e) goto bad;
    *endp = p + 1;
    free(aoff);
    *out = v;
    *n = k;
    *buf = b;
    return 0;
bad:
    free(aoff);
    free(v);
    free(b);
    return -1;
}

