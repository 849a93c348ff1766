/* tokenizer_decode.c - ids to text: Hugging Face's decoder chain
 * (ByteLevel, Metaspace, byte fallback, fuse, strip, replace, CTC ...) and
 * llama.cpp's piece rules, whole sequences and single pieces. */
#include "text/tokenizer_impl.h"
#include "base/buf.h"
#include "text/unicode.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- decode ---- */

/* Appends to b; -1 once memory ran out (the decoders stop at the first
 * failure). sb_put(b, "", 0) makes an empty, NUL-terminated buffer. */
static int sb_put(struct buf *b, const char *s, size_t n)
{
    if (n == 0 && buf_reserve(b, 0) == 0) {
        b->p[b->n] = '\0';
        return 0;
    }
    buf_put(b, s, n);
    return b->oom ? -1 : 0;
}

/* list of strings in one arena */
struct slist { struct buf a; size_t *off, *len; size_t n, cap; };

static int sl_add(struct slist *l, const char *s, size_t n)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        size_t *no = realloc(l->off, nc * sizeof *no);
        if (!no) return -1;
        l->off = no;
        size_t *nl = realloc(l->len, nc * sizeof *nl);
        if (!nl) return -1;
        l->len = nl;
        l->cap = nc;
    }
    l->off[l->n] = l->a.n;
    l->len[l->n] = n;
    l->n++;
    return sb_put(&l->a, s, n);
}

static void sl_free(struct slist *l)
{
    free(l->a.p);
    free(l->off);
    free(l->len);
    memset(l, 0, sizeof *l);
}

static bool is_byte_token(const char *s, size_t n, unsigned char *b)
{
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return false;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = s[i];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (d < 0) return false;
        v = v * 16 + d;
    }
    *b = (unsigned char)v;
    return true;
}

/* ByteLevel: token chars back to bytes; a token with a char outside the
 * alphabet keeps its UTF-8 bytes. Appends raw bytes to out. */
static int bytelevel_token(const char *s, size_t n, struct buf *out)
{
    size_t start = out->n;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = tu_decode_strict((const unsigned char *)s + i, n - i, &cp);
        int b = l ? tu_cp_to_byte(cp) : -1;
        if (b < 0) {
            out->n = start;
            return sb_put(out, s, n);
        }
        char c = (char)b;
        if (sb_put(out, &c, 1)) return -1;
        i += l;
    }
    return 0;
}

static int lossy_into(struct slist *dst, const char *s, size_t n)
{
    if (tu_is_valid(s, n)) return sl_add(dst, s, n);
    char *tmp = malloc(n * 3 + 1);
    if (!tmp) return -1;
    size_t o = tu_sanitize_lossy(s, n, tmp);
    int rc = sl_add(dst, tmp, o);
    free(tmp);
    return rc;
}

static char *replace_all(const char *s, size_t n, const char *pat, size_t pl, const char *rep, size_t rl, size_t *ol)
{
    struct buf b = {0};
    size_t i = 0;
    if (sb_put(&b, "", 0)) return NULL;
    while (i < n) {
        const char *f = pl ? memmem(s + i, n - i, pat, pl) : NULL;
        if (!f) break;
        size_t st = (size_t)(f - s);
        if (sb_put(&b, s + i, st - i) || sb_put(&b, rep, rl)) { free(b.p); return NULL; }
        i = st + pl;
    }
    if (sb_put(&b, s + i, n - i)) { free(b.p); return NULL; }
    *ol = b.n;
    return b.p;
}

struct rcb { struct buf *b; const char *s; size_t prev; const char *rep; size_t rl; };
static int rcb_fn(void *c, size_t st, size_t en)
{
    struct rcb *x = c;
    if (sb_put(x->b, x->s + x->prev, st - x->prev) || sb_put(x->b, x->rep, x->rl)) return -1;
    x->prev = en;
    return 0;
}

/* Decoders over the whole list of pieces. */

static int decode_bytelevel(struct slist *in, struct slist *out, bool streaming)
{
    struct buf b = {0};
    int rc = sb_put(&b, "", 0);
    for (size_t i = 0; i < in->n && !rc; i++) rc = bytelevel_token(in->a.p + in->off[i], in->len[i], &b);
    if (!rc) rc = streaming ? sl_add(out, b.p, b.n) : lossy_into(out, b.p, b.n);
    free(b.p);
    return rc;
}

static int decode_fuse(struct slist *in, struct slist *out)
{
    struct buf b = {0};
    int rc = sb_put(&b, "", 0);
    for (size_t i = 0; i < in->n && !rc; i++) rc = sb_put(&b, in->a.p + in->off[i], in->len[i]);
    if (!rc) rc = sl_add(out, b.p, b.n);
    free(b.p);
    return rc;
}

/* Runs of <0xNN> pieces become their bytes; a run that is not valid UTF-8
 * becomes one U+FFFD per byte (except mid-stream, where the rest may come). */
static int decode_bytefallback(struct slist *in, struct slist *out, bool streaming)
{
    struct buf pend = {0};
    int rc = sb_put(&pend, "", 0);
    for (size_t i = 0; i <= in->n && !rc; i++) {
        unsigned char byte;
        if (i < in->n && is_byte_token(in->a.p + in->off[i], in->len[i], &byte)) {
            rc = sb_put(&pend, (char *)&byte, 1);
            continue;
        }
        if (pend.n) {
            if (streaming || tu_is_valid(pend.p, pend.n)) rc = sl_add(out, pend.p, pend.n);
            else
                for (size_t k = 0; k < pend.n && !rc; k++) rc = sl_add(out, "\xEF\xBF\xBD", 3);
            pend.n = 0;
        }
        if (!rc && i < in->n) rc = sl_add(out, in->a.p + in->off[i], in->len[i]);
    }
    free(pend.p);
    return rc;
}

/* Decoders piece by piece: piece i is s[0..n). */

static int piece_metaspace(const struct tok_dec *d, const char *s, size_t n, size_t i, bool streaming, struct slist *out)
{
    char rep[5];
    int rl = tu_encode(d->cp, rep);
    bool drop = i == 0 && d->prepend_scheme != PS_NEVER && !streaming;
    size_t ol;
    char *r = replace_all(s, n, rep, (size_t)rl, " ", drop ? 0 : 1, &ol);
    if (!r) return -1;
    int rc = sl_add(out, r, ol);
    free(r);
    return rc;
}

static int piece_replace(const struct tok_dec *d, const char *s, size_t n, struct slist *out)
{
    if (!d->re) {
        size_t ol;
        char *r = replace_all(s, n, d->a, d->alen, d->b, d->blen, &ol);
        if (!r) return -1;
        int rc = sl_add(out, r, ol);
        free(r);
        return rc;
    }
    struct buf b = {0};
    struct rcb x = {&b, s, 0, d->b, d->blen};
    int rc = sb_put(&b, "", 0);
    if (!rc) rc = tok_regex_foreach(d->re, s, n, rcb_fn, &x);
    if (!rc) rc = sb_put(&b, s + x.prev, n - x.prev);
    if (!rc) rc = sl_add(out, b.p, b.n);
    free(b.p);
    return rc;
}

/* Strip: up to start copies of the content off the front, stop off the end. */
static int piece_strip(const struct tok_dec *d, const char *s, size_t n, bool streaming, struct slist *out)
{
    if (streaming) return sl_add(out, s, n);
    size_t a = 0, b = n;
    for (size_t k = 0; k < d->start && a < b; k++) {
        if ((size_t)(b - a) >= d->alen && memcmp(s + a, d->a, d->alen) == 0) a += d->alen;
        else break;
    }
    for (size_t k = 0; k < d->stop && b > a; k++) {
        if ((size_t)(b - a) >= d->alen && memcmp(s + b - d->alen, d->a, d->alen) == 0) b -= d->alen;
        else break;
    }
    return sl_add(out, s + a, b - a);
}

/* WordPiece: strip the continuation prefix, else prepend a space (not on
 * the first piece). */
static int piece_wordpiece(const struct tok_dec *d, const char *s, size_t n, size_t i, bool streaming, struct slist *out)
{
    if (n >= d->alen && d->alen && memcmp(s, d->a, d->alen) == 0) return sl_add(out, s + d->alen, n - d->alen);
    bool lead = i == 0 && !streaming;
    struct buf b = {0};
    int rc = sb_put(&b, lead ? "" : " ", lead ? 0 : 1);
    if (!rc) rc = sb_put(&b, s, n);
    if (!rc) rc = sl_add(out, b.p, b.n);
    free(b.p);
    return rc;
}

static int decode_pieces(const struct tok_dec *d, struct slist *in, struct slist *out, bool streaming)
{
    for (size_t i = 0; i < in->n; i++) {
        const char *s = in->a.p + in->off[i];
        size_t n = in->len[i];
        int rc;
        switch (d->kind) {
        case DEC_METASPACE: rc = piece_metaspace(d, s, n, i, streaming, out); break;
        case DEC_REPLACE: rc = piece_replace(d, s, n, out); break;
        case DEC_STRIP: rc = piece_strip(d, s, n, streaming, out); break;
        default: rc = piece_wordpiece(d, s, n, i, streaming, out); break;
        }
        if (rc) return -1;
    }
    return 0;
}

static int apply_decoder(const struct tok_dec *d, struct slist *in, struct slist *out, bool streaming)
{
    switch (d->kind) {
    case DEC_BYTELEVEL: return decode_bytelevel(in, out, streaming);
    case DEC_FUSE: return decode_fuse(in, out);
    case DEC_BYTEFALLBACK: return decode_bytefallback(in, out, streaming);
    case DEC_METASPACE:
    case DEC_REPLACE:
    case DEC_STRIP:
    case DEC_WORDPIECE: return decode_pieces(d, in, out, streaming);
    default: return -1;
    }
}

static bool hf_is_special(const struct tokenizer *t, int32_t id)
{
    return (t->toks[id].attr & TOK_ATTR_CONTROL) &&
           tok_strmap_get(&t->added, tok_text_of(t, id), t->toks[id].len) == id;
}

/* HF decode of ids through the decoder chain. */
static char *decode_hf(const struct tokenizer *t, const int32_t *ids, size_t n, int flags, bool streaming,
                       size_t *out_len)
{
    struct slist a = {0}, b = {0};
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= t->n_vocab) continue;
        if (t->toks[id].off == 0 && t->toks[id].len == 0) continue;
        if ((flags & TOK_DECODE_SKIP_SPECIAL) && hf_is_special(t, id)) continue;
        rc = sl_add(&a, tok_text_of(t, id), t->toks[id].len);
    }
    for (int k = 0; k < t->n_decs && !rc; k++) {
        b.a.n = 0;
        b.n = 0;
        rc = apply_decoder(&t->decs[k], &a, &b, streaming);
        struct slist tmp = a;
        a = b;
        b = tmp;
    }
    struct buf r = {0};
    if (!rc) rc = sb_put(&r, "", 0);
    for (size_t i = 0; i < a.n && !rc; i++) {
        if (t->n_decs == 0 && i > 0) rc = sb_put(&r, " ", 1);
        if (!rc) rc = sb_put(&r, a.a.p + a.off[i], a.len[i]);
    }
    sl_free(&a);
    sl_free(&b);
    if (rc) { free(r.p); return NULL; }
    if (out_len) *out_len = r.n;
    return r.p;
}

/* llama.cpp token_to_piece (special = render control/unknown text). */
static int llama_piece(const struct tokenizer *t, int32_t id, bool special, struct buf *out)
{
    uint32_t a = t->toks[id].attr;
    const char *s = tok_text_of(t, id);
    size_t n = t->toks[id].len;
    if (!special && (a & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL))) return 0;
    if (a & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED)) return sb_put(out, s, n);
    if (a & TOK_ATTR_NORMAL) {
        if (t->model == TOK_MODEL_BPE) {
            /* byte-level decode; characters outside the alphabet keep their bytes */
            size_t i = 0;
            while (i < n) {
                size_t adv;
                uint32_t cp = tu_decode_llama((const unsigned char *)s + i, n - i, &adv);
                int b = tu_cp_to_byte(cp);
                if (b >= 0) {
                    char c = (char)b;
                    if (sb_put(out, &c, 1)) return -1;
                } else {
                    char tmp[64];
                    int l = snprintf(tmp, sizeof tmp, "[UNK_BYTE_0x");
                    if (sb_put(out, tmp, (size_t)l)) return -1;
                    for (size_t k = 0; k < adv; k++) {
                        l = snprintf(tmp, sizeof tmp, "%02x", (unsigned char)s[i + k]);
                        if (sb_put(out, tmp, (size_t)l)) return -1;
                    }
                    if (sb_put(out, s, n) || sb_put(out, "]", 1)) return -1;
                }
                i += adv;
            }
            return 0;
        }
        /* SPM / WPM: U+2581 -> ' ' */
        size_t ol;
        char *r = replace_all(s, n, "\xe2\x96\x81", 3, " ", 1, &ol);
        if (!r) return -1;
        int rc = sb_put(out, r, ol);
        free(r);
        return rc;
    }
    if (a & TOK_ATTR_BYTE) {
        unsigned char b;
        if (is_byte_token(s, n, &b)) return sb_put(out, (char *)&b, 1);
        return 0;
    }
    return 0;
}

static void clean_spaces(struct buf *b)
{
    char *text = b->p;
    size_t total = b->n;
    if (total == 0) return;
    /* pass 1: " ?", " !", " .", " ," */
    size_t t1 = total, o = 1;
    for (size_t i = 1; i < t1; i++) {
        char x = text[i];
        if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) o--;
        text[o++] = x;
    }
    total = o;
    /* pass 2: " ' " -> "'" */
    size_t t2 = total;
    o = total ? 1 : 0;
    for (size_t i = 1; i < t2; i++) {
        char x = text[i];
        if (x == '\'' && i + 1 < t2 && text[i - 1] == ' ' && text[i + 1] == ' ') {
            o--;
            text[++i] = '\0';
        }
        text[o++] = x;
    }
    total = o;
    /* pass 3: " 's", " 'm", " 're", " 've" */
    size_t t3 = total;
    o = total ? 1 : 0;
    for (size_t i = 1; i < t3; i++) {
        char x = text[i];
        if (text[i - 1] == ' ' && x == '\'' && i + 1 < t3) {
            char x1 = text[i + 1];
            if (x1 == 's' || x1 == 'm') o--;
            else if (i + 2 < t3) {
                char x2 = text[i + 2];
                if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) o--;
            }
        }
        text[o++] = x;
    }
    b->n = o;
    b->p[o] = 0;
}

char *tok_decode(const struct tokenizer *t, const int32_t *ids, size_t n, int flags, size_t *out_len)
{
    if (!t || (!ids && n)) return NULL;
    if (t->flavor == TOK_FLAVOR_HF) return decode_hf(t, ids, n, flags, false, out_len);
    const bool remove_special = (flags & TOK_DECODE_SKIP_SPECIAL) != 0;
    const bool unparse = !remove_special;
    struct buf r = {0};
    if (sb_put(&r, "", 0)) return NULL;
    bool remove_space = t->add_space_prefix;
    if (remove_special && t->add_bos && n > 0 && ids[0] == t->bos) {
        remove_space = false;
        ids++;
        n--;
    }
    if (remove_special && t->add_eos && n > 0 && ids[n - 1] == t->eos) n--;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= t->n_vocab) continue;
        size_t before = r.n;
        if (llama_piece(t, id, unparse, &r)) { free(r.p); return NULL; }
        if (remove_space && r.n > before && r.p[before] == ' ') {
            memmove(r.p + before, r.p + before + 1, r.n - before - 1);
            r.n--;
            r.p[r.n] = 0;
        }
        remove_space = false;
    }
    if (t->clean_spaces) clean_spaces(&r);
    if (out_len) *out_len = r.n;
    return r.p;
}

int tok_token_to_piece(const struct tokenizer *t, int32_t id, int flags, char *buf, size_t cap)
{
    if (!t || id < 0 || id >= t->n_vocab) return -1;
    size_t len = 0;
    char *s = NULL;
    struct buf r = {0};
    if (t->flavor == TOK_FLAVOR_HF) {
        if ((flags & TOK_DECODE_SKIP_SPECIAL) && hf_is_special(t, id)) return 0;
        s = decode_hf(t, &id, 1, flags, true, &len);
        if (!s) return -1;
    } else {
        if (sb_put(&r, "", 0) || llama_piece(t, id, !(flags & TOK_DECODE_SKIP_SPECIAL), &r)) { free(r.p); return -1; }
        s = r.p;
        len = r.n;
    }
    if (buf && cap) memcpy(buf, s, len < cap ? len : cap);
    free(s);
    return len > (size_t)INT32_MAX ? -1 : (int)len;
}
