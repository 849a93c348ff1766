/* pretokenize.c - normalizers and pre-tokenizers (Hugging Face semantics;
 * llama.cpp's per-`tokenizer.ggml.pre` regex lists are expressed as Split
 * steps, see tokenizer_gguf.c), and the PCRE2 regex driver. */
#include "text/tokenizer_impl.h"
#include "text/unicode.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- regex driver ---- */

/* Per-thread PCRE2 scratch: match data with one pair (only the whole match
 * is read) and a JIT stack big enough for long whitespace/letter runs. Never
 * shared between threads, so tokenizers stay immutable. */
static _Thread_local pcre2_match_data *tl_md;
static _Thread_local pcre2_match_context *tl_mc;
static _Thread_local pcre2_jit_stack *tl_js;

static pthread_key_t g_tls_key;
static pthread_once_t g_tls_once = PTHREAD_ONCE_INIT;

/* frees this thread's scratch when the thread exits */
static void tls_release(void *unused)
{
    (void)unused;
    pcre2_match_data_free(tl_md);
    pcre2_match_context_free(tl_mc);
    pcre2_jit_stack_free(tl_js);
    tl_md = NULL;
    tl_mc = NULL;
    tl_js = NULL;
}

static void tls_key_init(void) { pthread_key_create(&g_tls_key, tls_release); }

static int regex_tls(void)
{
    if (tl_md) return 0;
    pthread_once(&g_tls_once, tls_key_init);
    pthread_setspecific(g_tls_key, (void *)1);
    tl_md = pcre2_match_data_create(1, NULL);
    tl_mc = pcre2_match_context_create(NULL);
    tl_js = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, NULL);
    if (!tl_md || !tl_mc || !tl_js) return -1;
    pcre2_jit_stack_assign(tl_mc, NULL, tl_js);
    return 0;
}

int tok_regex_foreach(const pcre2_code *re, const char *s, size_t n, tok_match_fn fn, void *ctx)
{
    if (regex_tls()) return -1;
    size_t pos = 0;
    while (pos <= n) {
        /* subjects are valid UTF-8 (sanitized input), or the pattern was compiled
         * with PCRE2_MATCH_INVALID_UTF: skip the per-call whole-subject check */
        int rc = pcre2_match(re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, tl_md, tl_mc);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) return -1;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(tl_md);
        size_t st = ov[0], en = ov[1];
        if (en <= st) { /* empty match: step one character */
            if (st >= n) break;
            pos = st + 1;
            while (pos < n && ((unsigned char)s[pos] & 0xC0) == 0x80) pos++;
            continue;
        }
        if (fn(ctx, st, en)) return -1;
        pos = en;
    }
    return 0;
}

/* ---- pieces ---- */

void tok_pieces_free(struct tok_pieces *ps)
{
    free(ps->buf);
    free(ps->p);
    memset(ps, 0, sizeof *ps);
}

void tok_pieces_reset(struct tok_pieces *ps) { ps->len = 0; ps->n = 0; }

static int pieces_reserve_bytes(struct tok_pieces *ps, size_t extra)
{
    if (ps->len + extra <= ps->cap) return 0;
    size_t nc = ps->cap ? ps->cap : 256;
    while (nc < ps->len + extra) nc *= 2;
    char *nb = realloc(ps->buf, nc);
    if (!nb) return -1;
    ps->buf = nb;
    ps->cap = nc;
    return 0;
}

static int pieces_new(struct tok_pieces *ps, bool first)
{
    if (ps->n == ps->cap_p) {
        size_t nc = ps->cap_p ? ps->cap_p * 2 : 64;
        struct tok_piece *np = realloc(ps->p, nc * sizeof *np);
        if (!np) return -1;
        ps->p = np;
        ps->cap_p = nc;
    }
    ps->p[ps->n].off = ps->len;
    ps->p[ps->n].len = 0;
    ps->p[ps->n].first = first;
    ps->n++;
    return 0;
}

static int pieces_append(struct tok_pieces *ps, const char *s, size_t n)
{
    if (pieces_reserve_bytes(ps, n)) return -1;
    memcpy(ps->buf + ps->len, s, n);
    ps->len += n;
    ps->p[ps->n - 1].len += n;
    return 0;
}

int tok_pieces_add(struct tok_pieces *ps, const char *s, size_t n, bool first)
{
    if (pieces_new(ps, first)) return -1;
    return pieces_append(ps, s, n);
}

/* ---- splitting (NormalizedString::split) ---- */

struct seg { size_t s, e; bool m; };
struct segs { struct seg *v; size_t n, cap; };

static int segs_push(struct segs *g, size_t s, size_t e, bool m)
{
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 64;
        struct seg *nv = realloc(g->v, nc * sizeof *nv);
        if (!nv) return -1;
        g->v = nv;
        g->cap = nc;
    }
    g->v[g->n++] = (struct seg){s, e, m};
    return 0;
}

struct rx_ctx { struct segs *g; size_t prev; };

static int rx_cb(void *c, size_t st, size_t en)
{
    struct rx_ctx *x = c;
    if (x->prev != st && segs_push(x->g, x->prev, st, false)) return -1;
    if (segs_push(x->g, st, en, true)) return -1;
    x->prev = en;
    return 0;
}

static int find_regex(const pcre2_code *re, const char *s, size_t n, struct segs *g)
{
    struct rx_ctx x = {g, 0};
    if (tok_regex_foreach(re, s, n, rx_cb, &x)) return -1;
    if (x.prev != n && segs_push(g, x.prev, n, false)) return -1;
    return 0;
}

static int find_literal(const char *lit, size_t ll, const char *s, size_t n, struct segs *g)
{
    size_t prev = 0;
    if (ll) {
        size_t pos = 0;
        while (pos + ll <= n) {
            const char *f = memmem(s + pos, n - pos, lit, ll);
            if (!f) break;
            size_t st = (size_t)(f - s);
            if (prev != st && segs_push(g, prev, st, false)) return -1;
            if (segs_push(g, st, st + ll, true)) return -1;
            prev = pos = st + ll;
        }
    }
    if (prev != n && segs_push(g, prev, n, false)) return -1;
    return 0;
}

typedef bool (*cp_pred)(uint32_t cp);

static int find_pred(cp_pred pred, const char *s, size_t n, struct segs *g)
{
    size_t last = 0, i = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = tu_decode_strict((const unsigned char *)s + i, n - i, &cp);
        if (!l) { cp = 0xFFFD; l = 1; }
        if (pred(cp)) {
            if (last < i && segs_push(g, last, i, false)) return -1;
            if (segs_push(g, i, i + l, true)) return -1;
            last = i + l;
        }
        i += l;
    }
    if (n > last && segs_push(g, last, n, false)) return -1;
    return 0;
}

/* Applies behavior/invert to the segments of piece s[0..n) and emits the
 * kept parts into out. first: the piece starts at input offset 0. */
static int emit_split(struct tok_pieces *out, const char *s, struct segs *g, int behavior, bool invert, bool first)
{
    if (invert)
        for (size_t i = 0; i < g->n; i++) g->v[i].m = !g->v[i].m;
    struct seg *v = g->v;
    size_t k = 0; /* compacted output in place: (s, e, removed) */
    bool prev = false;
    switch (behavior) {
    case SB_ISOLATED:
        for (size_t i = 0; i < g->n; i++) v[i].m = false;
        k = g->n;
        break;
    case SB_REMOVED:
        k = g->n;
        break;
    case SB_CONTIGUOUS:
        for (size_t i = 0; i < g->n; i++) {
            bool m = v[i].m;
            if (m == prev && k > 0) v[k - 1].e = v[i].e;
            else v[k++] = (struct seg){v[i].s, v[i].e, false};
            prev = m;
        }
        break;
    case SB_MERGED_PREV:
        for (size_t i = 0; i < g->n; i++) {
            bool m = v[i].m;
            if (m && !prev && k > 0) v[k - 1].e = v[i].e;
            else v[k++] = (struct seg){v[i].s, v[i].e, false};
            prev = m;
        }
        break;
    case SB_MERGED_NEXT: {
        /* right to left, then the result is in reverse order */
        size_t w = g->n;
        for (size_t ii = g->n; ii-- > 0;) {
            bool m = v[ii].m;
            struct seg cur = v[ii];
            if (m && !prev && w < g->n) v[w].s = cur.s;
            else v[--w] = (struct seg){cur.s, cur.e, false};
            prev = m;
        }
        memmove(v, v + w, (g->n - w) * sizeof *v);
        k = g->n - w;
        break;
    }
    default:
        return -1;
    }
    for (size_t i = 0; i < k; i++) {
        if (v[i].m) continue;             /* removed */
        if (v[i].e <= v[i].s) continue;   /* empty splits are dropped */
        if (tok_pieces_add(out, s + v[i].s, v[i].e - v[i].s, first && v[i].s == 0)) return -1;
    }
    return 0;
}

/* ---- normalizers ---- */

static char *replace_literal(const char *s, size_t n, const char *pat, size_t pl, const char *rep, size_t rl,
                             size_t *out_len)
{
    size_t cnt = 0;
    if (pl)
        for (const char *p = s; (p = memmem(p, n - (size_t)(p - s), pat, pl)); p += pl) cnt++;
    size_t cap = n + cnt * rl + 1;
    char *r = malloc(cap);
    if (!r) return NULL;
    size_t o = 0, i = 0;
    while (i < n) {
        const char *f = pl ? memmem(s + i, n - i, pat, pl) : NULL;
        if (!f) break;
        size_t st = (size_t)(f - s);
        memcpy(r + o, s + i, st - i); o += st - i;
        memcpy(r + o, rep, rl); o += rl;
        i = st + pl;
    }
    memcpy(r + o, s + i, n - i);
    o += n - i;
    r[o] = 0;
    *out_len = o;
    return r;
}

struct rep_ctx { const char *s; char *r; size_t o, cap, prev; const char *rep; size_t rl; };

static int rep_cb(void *c, size_t st, size_t en)
{
    struct rep_ctx *x = c;
    size_t need = x->o + (st - x->prev) + x->rl + 1;
    if (need > x->cap) {
        size_t nc = x->cap * 2 > need ? x->cap * 2 : need;
        char *nr = realloc(x->r, nc);
        if (!nr) return -1;
        x->r = nr;
        x->cap = nc;
    }
    memcpy(x->r + x->o, x->s + x->prev, st - x->prev); x->o += st - x->prev;
    memcpy(x->r + x->o, x->rep, x->rl); x->o += x->rl;
    x->prev = en;
    return 0;
}

static char *replace_regex(const pcre2_code *re, const char *s, size_t n, const char *rep, size_t rl, size_t *out_len)
{
    struct rep_ctx x = {s, malloc(n + 16), 0, n + 16, 0, rep, rl};
    if (!x.r) return NULL;
    if (tok_regex_foreach(re, s, n, rep_cb, &x)) { free(x.r); return NULL; }
    size_t need = x.o + (n - x.prev) + 1;
    if (need > x.cap) {
        char *nr = realloc(x.r, need);
        if (!nr) { free(x.r); return NULL; }
        x.r = nr;
    }
    memcpy(x.r + x.o, s + x.prev, n - x.prev);
    x.o += n - x.prev;
    x.r[x.o] = 0;
    *out_len = x.o;
    return x.r;
}

static char *map_chars(const char *s, size_t n, int mode, size_t *out_len)
{
    /* mode 0: lowercase; 1: drop combining marks */
    char *r = malloc(n * 4 + 1);
    if (!r) return NULL;
    size_t i = 0, o = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = tu_decode_strict((const unsigned char *)s + i, n - i, &cp);
        if (!l) { r[o++] = s[i++]; continue; }
        i += l;
        if (mode == 0) {
            /* Rust char::to_lowercase per character (HF NormalizedString::lowercase):
             * U+0130 -> "i\u0307"; no final-sigma context */
            if (cp == 0x130) { memcpy(r + o, "i\xcc\x87", 3); o += 3; continue; }
            o += (size_t)tu_encode(tu_tolower(cp), r + o);
        }
        else if (!(tu_flags(cp) & TU_CAT_M)) o += (size_t)tu_encode(cp, r + o);
    }
    r[o] = 0;
    *out_len = o;
    return r;
}

char *tok_normalize(const struct tokenizer *t, const char *text, size_t n, size_t *out_len)
{
    char *cur = malloc(n + 1);
    if (!cur) return NULL;
    memcpy(cur, text, n);
    cur[n] = 0;
    size_t len = n;
    for (int i = 0; i < t->n_norms; i++) {
        const struct tok_norm *nm = &t->norms[i];
        char *nx = NULL;
        size_t nl = 0;
        switch (nm->kind) {
        case NM_NFC: nx = tu_normalize(cur, len, 'C', &nl); break;
        case NM_NFD: nx = tu_normalize(cur, len, 'D', &nl); break;
        case NM_NFKC: nx = tu_normalize(cur, len, 'K', &nl); break;
        case NM_NFKD: nx = tu_normalize(cur, len, 'k', &nl); break;
        case NM_PREPEND:
            if (len == 0) continue;
            nx = malloc(len + nm->alen + 1);
            if (nx) {
                memcpy(nx, nm->a, nm->alen);
                memcpy(nx + nm->alen, cur, len);
                nl = len + nm->alen;
                nx[nl] = 0;
            }
            break;
        case NM_REPLACE:
            if (nm->re) nx = replace_regex(nm->re, cur, len, nm->b, nm->blen, &nl);
            else nx = replace_literal(cur, len, nm->a, nm->alen, nm->b, nm->blen, &nl);
            break;
        case NM_LOWERCASE: nx = map_chars(cur, len, 0, &nl); break;
        case NM_STRIP_ACCENTS: nx = map_chars(cur, len, 1, &nl); break;
        case NM_STRIP: {
            size_t a = 0, b = len;
            if (nm->left)
                while (a < b) {
                    uint32_t cp;
                    size_t l = tu_decode_strict((const unsigned char *)cur + a, b - a, &cp);
                    if (!l || !tu_is_whitespace(cp)) break;
                    a += l;
                }
            if (nm->right)
                while (b > a) {
                    size_t st = b - 1;
                    while (st > a && ((unsigned char)cur[st] & 0xC0) == 0x80) st--;
                    uint32_t cp;
                    size_t l = tu_decode_strict((const unsigned char *)cur + st, b - st, &cp);
                    if (!l || !tu_is_whitespace(cp)) break;
                    b = st;
                }
            memmove(cur, cur + a, b - a);
            len = b - a;
            cur[len] = 0;
            continue;
        }
        default:
            free(cur);
            return NULL;
        }
        free(cur);
        if (!nx) return NULL;
        cur = nx;
        len = nl;
    }
    *out_len = len;
    return cur;
}

/* ---- pre-tokenizers ---- */

static bool pred_numeric(uint32_t cp) { return tu_is_numeric(cp); }
static bool pred_ws(uint32_t cp) { return tu_is_whitespace(cp); }
static bool pred_punct(uint32_t cp)
{
    if (cp < 0x80) return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
                          (cp >= 0x7B && cp <= 0x7E);
    return (tu_flags(cp) & TU_CAT_P) != 0;
}
static bool pred_bert_punct(uint32_t cp)
{
    /* BertPreTokenizer: ascii punctuation or Unicode punctuation */
    return pred_punct(cp);
}

static pcre2_code *g_ws_re; /* \w+|[^\w\s]+ for the Whitespace pre-tokenizer */

static const pcre2_code *whitespace_re(void)
{
    pcre2_code *re = __atomic_load_n(&g_ws_re, __ATOMIC_ACQUIRE);
    if (re) return re;
    int ec;
    PCRE2_SIZE eo;
    re = pcre2_compile((PCRE2_SPTR) "\\w+|[^\\w\\s]+", PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
    if (!re) return NULL;
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    pcre2_code *expected = NULL;
    if (!__atomic_compare_exchange_n(&g_ws_re, &expected, re, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        pcre2_code_free(re);
        return expected;
    }
    return re;
}

/* BERT: whitespace-split, then punctuation isolated within each part. */
static int step_bert(const struct tok_pre *st, const char *s, size_t n, bool first, struct tok_pieces *out, struct segs *g)
{
    (void)st;
    if (find_pred(pred_ws, s, n, g)) return -1;
    struct segs g2 = {0};
    int rc = 0;
    for (size_t i = 0; i < g->n && !rc; i++) {
        if (g->v[i].m || g->v[i].e <= g->v[i].s) continue;
        g2.n = 0;
        const char *p = s + g->v[i].s;
        if (find_pred(pred_bert_punct, p, g->v[i].e - g->v[i].s, &g2)) rc = -1;
        else rc = emit_split(out, p, &g2, SB_ISOLATED, false, first && g->v[i].s == 0);
    }
    free(g2.v);
    return rc;
}

/* Metaspace: ' ' becomes the replacement (U+2581), prepended as the scheme
 * says, optionally split before each replacement. */
static int step_metaspace(const struct tok_pre *st, const char *s, size_t n, bool first, struct tok_pieces *out, struct segs *g)
{
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++) cnt += s[i] == ' ';
    size_t cap = n + cnt * (size_t)st->repl_len + (size_t)st->repl_len;
    char *tmp = malloc(cap + 1);
    if (!tmp) return -1;
    size_t o = 0;
    bool starts = (n > 0 && s[0] == ' ') ||
                  (n >= (size_t)st->repl_len && memcmp(s, st->repl, (size_t)st->repl_len) == 0);
    if (n > 0 && !starts && (st->prepend_scheme == PS_ALWAYS || (st->prepend_scheme == PS_FIRST && first))) {
        memcpy(tmp, st->repl, (size_t)st->repl_len);
        o = (size_t)st->repl_len;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') { memcpy(tmp + o, st->repl, (size_t)st->repl_len); o += (size_t)st->repl_len; }
        else tmp[o++] = s[i];
    }
    int rc;
    if (st->split) {
        if (find_literal(st->repl, (size_t)st->repl_len, tmp, o, g)) rc = -1;
        else rc = emit_split(out, tmp, g, SB_MERGED_NEXT, false, first);
    } else {
        rc = o ? tok_pieces_add(out, tmp, o, first) : 0;
    }
    free(tmp);
    return rc;
}

/* ByteLevel: optionally a prefix space and the GPT-2 regex split, then
 * every byte mapped to its printable stand-in character. */
static int step_bytelevel(const struct tok_pre *st, const char *s, size_t n, bool first, struct tok_pieces *out, struct segs *g)
{
    char *pref = NULL;
    const char *src = s;
    size_t sn = n;
    if (st->add_prefix_space && n > 0 && s[0] != ' ') {
        pref = malloc(n + 1);
        if (!pref) return -1;
        pref[0] = ' ';
        memcpy(pref + 1, s, n);
        src = pref;
        sn = n + 1;
    }
    struct tok_pieces parts = {0};
    int rc = 0;
    const struct tok_pieces *use = NULL;
    if (st->use_regex && st->re) {
        if (find_regex(st->re, src, sn, g) || emit_split(&parts, src, g, SB_ISOLATED, false, first)) rc = -1;
        use = &parts;
    }
    size_t np = use ? use->n : (sn ? 1 : 0);
    for (size_t k = 0; k < np && !rc; k++) {
        const char *ps = use ? use->buf + use->p[k].off : src;
        size_t pn = use ? use->p[k].len : sn;
        bool pf = use ? use->p[k].first : first;
        if (pieces_new(out, pf) || pieces_reserve_bytes(out, pn * 2)) { rc = -1; break; }
        char *d = out->buf + out->len;
        size_t o = 0;
        for (size_t i = 0; i < pn; i++) {
            int bl;
            const char *b = tu_byte_to_utf8((unsigned char)ps[i], &bl);
            d[o++] = b[0];
            if (bl == 2) d[o++] = b[1];
        }
        out->len += o;
        out->p[out->n - 1].len = o;
    }
    tok_pieces_free(&parts);
    free(pref);
    return rc;
}

static int step_one(const struct tok_pre *st, const char *s, size_t n, bool first, struct tok_pieces *out,
                    struct segs *g)
{
    g->n = 0;
    switch (st->kind) {
    case PT_SPLIT:
        if (st->re ? find_regex(st->re, s, n, g) : find_literal(st->lit, st->lit_len, s, n, g)) return -1;
        return emit_split(out, s, g, st->behavior, st->invert, first);
    case PT_DIGITS:
        if (find_pred(pred_numeric, s, n, g)) return -1;
        return emit_split(out, s, g, st->individual_digits ? SB_ISOLATED : SB_CONTIGUOUS, false, first);
    case PT_WHITESPACE_SPLIT:
        if (find_pred(pred_ws, s, n, g)) return -1;
        return emit_split(out, s, g, SB_REMOVED, false, first);
    case PT_PUNCT:
        if (find_pred(pred_punct, s, n, g)) return -1;
        return emit_split(out, s, g, st->behavior, false, first);
    case PT_WHITESPACE: {
        const pcre2_code *re = whitespace_re();
        if (!re || find_regex(re, s, n, g)) return -1;
        return emit_split(out, s, g, SB_REMOVED, true, first);
    }
    case PT_BERT: return step_bert(st, s, n, first, out, g);
    case PT_METASPACE: return step_metaspace(st, s, n, first, out, g);
    case PT_BYTELEVEL: return step_bytelevel(st, s, n, first, out, g);
    default:
        return -1;
    }
}

int tok_pretokenize(const struct tokenizer *t, const char *text, size_t n, bool first, struct tok_pieces *out,
                    struct tok_pieces *tmp)
{
    tok_pieces_reset(out);
    if (n == 0) return 0;
    if (t->n_pres == 0) return tok_pieces_add(out, text, n, first);
    struct segs g = {0};
    /* step 0 reads text; later steps ping-pong between out and tmp */
    struct tok_pieces *src = NULL, *dst = out;
    if (t->n_pres % 2 == 0) dst = tmp;
    tok_pieces_reset(dst);
    int rc = step_one(&t->pres[0], text, n, first, dst, &g);
    for (int i = 1; i < t->n_pres && !rc; i++) {
        src = dst;
        dst = (src == out) ? tmp : out;
        tok_pieces_reset(dst);
        for (size_t k = 0; k < src->n && !rc; k++)
            rc = step_one(&t->pres[i], src->buf + src->p[k].off, src->p[k].len, src->p[k].first, dst, &g);
    }
    free(g.v);
    return rc;
}
