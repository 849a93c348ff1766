/* tokenizer_vocab.c - the vocabulary a tokenizer is built from: the
 * string map of pieces, the builders the loaders call (tokens, merges,
 * added tokens, normalisers, pre-tokenizers, decoders), finalising
 * (special ids, end-of-generation set), freeing and the accessors. See
 * tokenizer.h for the contract and tokenizer_impl.h for the description
 * the loaders fill. */
#include "text/tokenizer_impl.h"
#include "text/unicode.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- string map ---- */

uint32_t tok_hash_bytes(const char *s, size_t n)
{
    /* FNV-1a on 8-byte words then bytes, finished with a 32-bit mix */
    uint64_t h = 0xcbf29ce484222325ULL ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    h ^= h >> 32;
    h *= 0x9E3779B97F4A7C15ULL;
    uint32_t r = (uint32_t)(h >> 32);
    return r ? r : 1u; /* never 0: 0 marks an empty slot */
}

int tok_strmap_init(struct tok_strmap *m, size_t expected, char *const *base)
{
    m->base = base;
    uint32_t sz = 64;
    while (sz < expected * 2 + 16) sz *= 2;
    m->slots = calloc(sz, sizeof *m->slots);
    if (!m->slots) return -1;
    m->mask = sz - 1;
    m->count = 0;
    return 0;
}

void tok_strmap_free(struct tok_strmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static int strmap_grow(struct tok_strmap *m)
{
    uint32_t nsz = (m->mask + 1) * 2;
    struct tok_strmap_slot *ns = calloc(nsz, sizeof *ns);
    if (!ns) return -1;
    for (uint32_t i = 0; i <= m->mask; i++) {
        if (!m->slots[i].hash) continue;
        uint32_t h = m->slots[i].hash & (nsz - 1);
        while (ns[h].hash) h = (h + 1) & (nsz - 1);
        ns[h] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->mask = nsz - 1;
    return 0;
}

int tok_strmap_put(struct tok_strmap *m, uint32_t off, uint32_t len, int32_t val, bool overwrite)
{
    if (!m->slots) return -1;
    if ((m->count + 1) * 2 > m->mask + 1 && strmap_grow(m)) return -1;
    const char *key = *m->base + off;
    uint32_t hv = tok_hash_bytes(key, len);
    uint32_t h = hv & m->mask;
    while (m->slots[h].hash) {
        struct tok_strmap_slot *sl = &m->slots[h];
        if (sl->hash == hv && sl->len == len && memcmp(*m->base + sl->off, key, len) == 0) {
            if (overwrite) sl->val = val;
            return 1;
        }
        h = (h + 1) & m->mask;
    }
    m->slots[h] = (struct tok_strmap_slot){hv, val, off, len};
    m->count++;
    return 0;
}

int32_t tok_strmap_get(const struct tok_strmap *m, const char *key, size_t len)
{
    if (!m->slots) return -1;
    uint32_t hv = tok_hash_bytes(key, len);
    uint32_t h = hv & m->mask;
    while (m->slots[h].hash) {
        const struct tok_strmap_slot *sl = &m->slots[h];
        if (sl->hash == hv && sl->len == len && memcmp(*m->base + sl->off, key, len) == 0) return sl->val;
        h = (h + 1) & m->mask;
    }
    return -1;
}

/* ---- ids / scratch ---- */

int tok_ids_push(struct tok_ids *o, int32_t id)
{
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 64;
        int32_t *nv = realloc(o->v, nc * sizeof *nv);
        if (!nv) return -1;
        o->v = nv;
        o->cap = nc;
    }
    o->v[o->n++] = id;
    return 0;
}

void tok_scratch_free(struct tok_scratch *s)
{
    free(s->sym);
    free(s->heap);
    free(s->buf);
    memset(s, 0, sizeof *s);
}

/* ---- building ---- */

char *tokd_strdup(const char *s, size_t n)
{
    char *r = malloc(n + 1);
    if (!r) return NULL;
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

struct tokenizer *tokd_new(int model, int flavor)
{
    struct tokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    static uint64_t g_serial;
    t->model = model;
    t->flavor = flavor;
    t->serial = __atomic_add_fetch(&g_serial, 1, __ATOMIC_RELAXED);
    t->bos = t->eos = t->eot = t->eom = t->unk = t->sep = t->pad = t->cls = t->mask = -1;
    t->unk_id = -1;
    for (int i = 0; i < 256; i++) t->byte_ids[i] = t->bytechar_ids[i] = -1;
    t->llama_longest_first = flavor == TOK_FLAVOR_LLAMA;
    t->merges_first_wins = flavor == TOK_FLAVOR_LLAMA;
    return t;
}

int tokd_set_vocab_size(struct tokenizer *t, int32_t n)
{
    if (n < 0) return -1;
    struct tok_token *nt = realloc(t->toks, (size_t)(n ? n : 1) * sizeof *nt);
    if (!nt) return -1;
    for (int32_t i = t->n_vocab; i < n; i++) nt[i] = (struct tok_token){0, 0, 0.0f, TOK_ATTR_UNDEFINED};
    t->toks = nt;
    if (!t->pool) {
        t->pool_cap = 4096;
        t->pool = malloc(t->pool_cap);
        if (!t->pool) return -1;
        t->pool[0] = 0; /* offset 0: the empty string, for holes */
        t->pool_len = 1;
    }
    t->n_vocab = n;
    return 0;
}

static int pool_add(struct tokenizer *t, const char *s, size_t n, uint32_t *off)
{
    if (t->pool_len + n + 1 > t->pool_cap) {
        size_t nc = t->pool_cap;
        while (nc < t->pool_len + n + 1) nc *= 2;
        char *np = realloc(t->pool, nc);
        if (!np) return -1;
        t->pool = np;
        t->pool_cap = nc;
    }
    if (t->pool_len + n + 1 > UINT32_MAX) return -1;
    *off = (uint32_t)t->pool_len;
    memcpy(t->pool + t->pool_len, s, n);
    t->pool[t->pool_len + n] = 0;
    t->pool_len += n + 1;
    return 0;
}

int tokd_set_token(struct tokenizer *t, int32_t id, const char *text, size_t len, float score, uint32_t attr)
{
    if (id < 0) return -1;
    if (id >= t->n_vocab && tokd_set_vocab_size(t, id + 1)) return -1;
    uint32_t off;
    if (pool_add(t, text, len, &off)) return -1;
    t->toks[id] = (struct tok_token){off, (uint32_t)len, score, attr};
    if ((int32_t)len > t->max_token_len) t->max_token_len = (int32_t)len;
    return 0;
}

int tokd_index_vocab(struct tokenizer *t, inf_error *err)
{
    tok_strmap_free(&t->vocab);
    if (tok_strmap_init(&t->vocab, (size_t)t->n_vocab, &t->pool)) { err_fail(err, INF_ERR_NO_MEMORY, "out of memory"); return -1; }
    for (int32_t i = 0; i < t->n_vocab; i++) {
        if (t->toks[i].attr & (1u << 31)) continue; /* not part of the model vocabulary */
        if (t->toks[i].off == 0 && t->toks[i].len == 0) continue; /* hole */
        int r = tok_strmap_put(&t->vocab, t->toks[i].off, t->toks[i].len, i, false);
        if (r < 0) { err_fail(err, INF_ERR_NO_MEMORY, "out of memory"); return -1; }
        if (r == 1 && t->flavor == TOK_FLAVOR_LLAMA) {
            err_fail(err, INF_ERR_FORMAT, "duplicate token in vocabulary: '%s' has ids %d and %d", t->pool + t->toks[i].off,
                    tok_strmap_get(&t->vocab, t->pool + t->toks[i].off, t->toks[i].len), i);
            return -1;
        }
    }
    return 0;
}

int tok_mergemap_put(struct tok_mergemap *m, int32_t a, int32_t b, int32_t rank, int32_t id, bool first_wins);

int tokd_add_merge(struct tokenizer *t, const char *a, size_t alen, const char *b, size_t blen, int32_t rank)
{
    int32_t ia = tok_strmap_get(&t->vocab, a, alen);
    int32_t ib = tok_strmap_get(&t->vocab, b, blen);
    if (ia < 0 || ib < 0) return 1;
    size_t skip = 0;
    if (t->cont_prefix_len && blen >= t->cont_prefix_len && memcmp(b, t->cont_prefix, t->cont_prefix_len) == 0)
        skip = t->cont_prefix_len;
    char stackbuf[512];
    size_t nl = alen + blen - skip;
    char *buf = nl <= sizeof stackbuf ? stackbuf : malloc(nl);
    if (!buf) return -1;
    memcpy(buf, a, alen);
    memcpy(buf + alen, b + skip, blen - skip);
    int32_t im = tok_strmap_get(&t->vocab, buf, nl);
    if (buf != stackbuf) free(buf);
    if (im < 0) return 1;
    return tok_mergemap_put(&t->merges, ia, ib, rank, im, t->merges_first_wins);
}

static inline uint32_t strmap_probe(const struct tok_strmap *m, const char *key, size_t len, uint32_t hv)
{
    uint32_t h = hv & m->mask;
    while (m->slots[h].hash) {
        const struct tok_strmap_slot *sl = &m->slots[h];
        if (sl->hash == hv && sl->len == len && memcmp(*m->base + sl->off, key, len) == 0) return h;
        h = (h + 1) & m->mask;
    }
    return UINT32_MAX;
}

int tokd_add_merges(struct tokenizer *t, const struct tok_merge_src *m, size_t n, int32_t base_rank,
                    size_t *first_missing)
{
    enum { B = 32 };
    *first_missing = (size_t)-1;
    if (!t->vocab.slots || tok_mergemap_reserve(&t->merges, n)) return -1;
    const struct tok_strmap *vm = &t->vocab;
    char *cat = NULL;
    size_t cat_cap = 0;
    for (size_t i0 = 0; i0 < n; i0 += B) {
        size_t nb = n - i0 < B ? n - i0 : B;
        uint32_t ha[B], hb[B], hc[B];
        size_t coff[B], clen[B], need = 0;
        for (size_t k = 0; k < nb; k++) need += m[i0 + k].alen + m[i0 + k].blen;
        if (need > cat_cap) {
            char *nc = realloc(cat, need);
            if (!nc) { free(cat); return -1; }
            cat = nc;
            cat_cap = need;
        }
        size_t o = 0;
        for (size_t k = 0; k < nb; k++) {
            const struct tok_merge_src *s = &m[i0 + k];
            ha[k] = tok_hash_bytes(s->a, s->alen);
            hb[k] = tok_hash_bytes(s->b, s->blen);
            __builtin_prefetch(&vm->slots[ha[k] & vm->mask]);
            __builtin_prefetch(&vm->slots[hb[k] & vm->mask]);
            size_t skip = 0;
            if (t->cont_prefix_len && s->blen >= t->cont_prefix_len &&
                memcmp(s->b, t->cont_prefix, t->cont_prefix_len) == 0)
                skip = t->cont_prefix_len;
            coff[k] = o;
            memcpy(cat + o, s->a, s->alen);
            memcpy(cat + o + s->alen, s->b + skip, s->blen - skip);
            clen[k] = s->alen + s->blen - skip;
            o += clen[k];
            hc[k] = tok_hash_bytes(cat + coff[k], clen[k]);
            __builtin_prefetch(&vm->slots[hc[k] & vm->mask]);
        }
        int32_t ia[B], ib[B], ic[B];
        for (size_t k = 0; k < nb; k++) {
            const struct tok_merge_src *s = &m[i0 + k];
            uint32_t x = strmap_probe(vm, s->a, s->alen, ha[k]);
            uint32_t y = strmap_probe(vm, s->b, s->blen, hb[k]);
            uint32_t z = strmap_probe(vm, cat + coff[k], clen[k], hc[k]);
            ia[k] = x == UINT32_MAX ? -1 : vm->slots[x].val;
            ib[k] = y == UINT32_MAX ? -1 : vm->slots[y].val;
            ic[k] = z == UINT32_MAX ? -1 : vm->slots[z].val;
            if (ia[k] >= 0 && ib[k] >= 0)
                __builtin_prefetch(&t->merges.slots[(uint32_t)tok_mix64(tok_merge_key(ia[k], ib[k])) & t->merges.mask]);
        }
        for (size_t k = 0; k < nb; k++) {
            if (ia[k] < 0 || ib[k] < 0 || ic[k] < 0) {
                if (*first_missing == (size_t)-1) *first_missing = i0 + k;
                continue;
            }
            if (tok_mergemap_put(&t->merges, ia[k], ib[k], base_rank + (int32_t)(i0 + k), ic[k], t->merges_first_wins)) {
                free(cat);
                return -1;
            }
        }
    }
    free(cat);
    return 0;
}

int tokd_add_added(struct tokenizer *t, int32_t id, const char *content, size_t len, bool special, bool normalized,
                   bool lstrip, bool rstrip, bool single_word)
{
    if (id < 0) return -1;
    if (id >= t->n_vocab && tokd_set_vocab_size(t, id + 1)) return -1;
    uint32_t attr = special ? TOK_ATTR_CONTROL : TOK_ATTR_USER_DEFINED;
    if (normalized) attr |= TOK_ATTR_NORMALIZED;
    if (lstrip) attr |= TOK_ATTR_LSTRIP;
    if (rstrip) attr |= TOK_ATTR_RSTRIP;
    if (single_word) attr |= TOK_ATTR_SINGLE_WORD;
    /* keep the model's text when the id already exists with the same text */
    bool in_model = tok_strmap_get(&t->vocab, content, len) == id;
    uint32_t off;
    if (in_model) off = t->toks[id].off;
    else if (pool_add(t, content, len, &off)) return -1;
    struct tok_token *tk = &t->toks[id];
    tk->off = off;
    tk->len = (uint32_t)len;
    tk->attr = attr | (in_model ? 0 : (1u << 31));
    if ((int32_t)len > t->max_token_len) t->max_token_len = (int32_t)len;
    if (!t->added.slots && tok_strmap_init(&t->added, 64, &t->pool)) return -1;
    return tok_strmap_put(&t->added, off, (uint32_t)len, id, true) < 0 ? -1 : 0;
}

struct tok_norm *tokd_push_norm(struct tokenizer *t, int kind)
{
    struct tok_norm *n = realloc(t->norms, (size_t)(t->n_norms + 1) * sizeof *n);
    if (!n) return NULL;
    t->norms = n;
    memset(&n[t->n_norms], 0, sizeof *n);
    n[t->n_norms].kind = kind;
    return &n[t->n_norms++];
}

struct tok_pre *tokd_push_pre(struct tokenizer *t, int kind)
{
    struct tok_pre *p = realloc(t->pres, (size_t)(t->n_pres + 1) * sizeof *p);
    if (!p) return NULL;
    t->pres = p;
    memset(&p[t->n_pres], 0, sizeof *p);
    p[t->n_pres].kind = kind;
    return &p[t->n_pres++];
}

struct tok_dec *tokd_push_dec(struct tokenizer *t, int kind)
{
    struct tok_dec *d = realloc(t->decs, (size_t)(t->n_decs + 1) * sizeof *d);
    if (!d) return NULL;
    t->decs = d;
    memset(&d[t->n_decs], 0, sizeof *d);
    d[t->n_decs].kind = kind;
    return &d[t->n_decs++];
}

int tokd_set_post(struct tokenizer *t, const int32_t *pre, int n_pre, const int32_t *post, int n_post)
{
    free(t->post_pre);
    free(t->post_post);
    t->post_pre = t->post_post = NULL;
    t->n_post_pre = t->n_post_post = 0;
    /* ids outside the vocabulary are dropped */
    if (n_pre) {
        t->post_pre = malloc((size_t)n_pre * sizeof(int32_t));
        if (!t->post_pre) return -1;
        for (int i = 0; i < n_pre; i++)
            if (pre[i] >= 0 && pre[i] < t->n_vocab) t->post_pre[t->n_post_pre++] = pre[i];
    }
    if (n_post) {
        t->post_post = malloc((size_t)n_post * sizeof(int32_t));
        if (!t->post_post) return -1;
        for (int i = 0; i < n_post; i++)
            if (post[i] >= 0 && post[i] < t->n_vocab) t->post_post[t->n_post_post++] = post[i];
    }
    return 0;
}

pcre2_code *tokd_compile_regex(const struct tokenizer *t, const char *pat, size_t len, inf_error *err)
{
    uint32_t opts = PCRE2_UTF | PCRE2_UCP;
    if (t->flavor == TOK_FLAVOR_LLAMA) opts |= PCRE2_DOLLAR_ENDONLY | PCRE2_MATCH_INVALID_UTF;
    else opts |= PCRE2_MULTILINE; /* Oniguruma (Ruby syntax): ^ and $ are line anchors */
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, len, opts, &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        err_fail(err, INF_ERR_FORMAT, "regex error at offset %zu: %s in /%.*s/", (size_t)eo, (const char *)msg,
                (int)(len > 200 ? 200 : len), pat);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter when JIT is unavailable */
    return re;
}

/* ---- finalize ---- */

static int32_t find_text(const struct tokenizer *t, const char *s)
{
    size_t n = strlen(s);
    int32_t id = tok_strmap_get(&t->added, s, n);
    if (id >= 0) return id;
    return tok_strmap_get(&t->vocab, s, n);
}

static int eog_add(struct tokenizer *t, int32_t id)
{
    if (id < 0 || id >= t->n_vocab) return 0;
    for (size_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id) return 0;
    int32_t *ne = realloc(t->eog, (t->n_eog + 1) * sizeof *ne);
    if (!ne) return -1;
    t->eog = ne;
    t->eog[t->n_eog++] = id;
    return 0;
}

static void eog_remove(struct tokenizer *t, int32_t id)
{
    for (size_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id) { t->eog[i] = t->eog[--t->n_eog]; return; }
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* llama.cpp's text-based detection of EOT / FIM / EOG tokens. In the llama
 * flavor a detected token that is not control-typed becomes control. */
static int detect_special(struct tokenizer *t)
{
    static const char *const eot_names[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                            "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
                                            "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>",
                                            "<end_of_utterance>", NULL};
    static const char *const fim_pad[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL};
    static const char *const fim_rep[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", NULL};
    static const char *const fim_sep[] = {"<|file_sep|>", NULL};
    static const char *const eog_names[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
                                            "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>",
                                            "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
                                            "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
                                            "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>",
                                            "[e~[", NULL};
    const bool llama = t->flavor == TOK_FLAVOR_LLAMA;
#define MARK_CONTROL(id) do { if (llama && !(t->toks[id].attr & TOK_ATTR_CONTROL)) t->toks[id].attr |= TOK_ATTR_CONTROL; } while (0)
    if (t->eot < 0)
        for (int i = 0; eot_names[i]; i++) {
            int32_t id = find_text(t, eot_names[i]);
            if (id >= 0) { t->eot = id; MARK_CONTROL(id); break; }
        }
    if (t->eom < 0) {
        int32_t id = find_text(t, "<|eom_id|>");
        if (id >= 0) { t->eom = id; MARK_CONTROL(id); }
    }
    const char *const *fims[3] = {fim_pad, fim_rep, fim_sep};
    for (int f = 0; f < 3; f++)
        for (int i = 0; fims[f][i]; i++) {
            int32_t id = find_text(t, fims[f][i]);
            if (id >= 0) {
                MARK_CONTROL(id);
                if (eog_add(t, id)) return -1;
                break;
            }
        }
    /* FIM prefix/suffix/middle are marked control too (not EOG) */
    static const char *const fim_other[] = {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<PRE>",
                                            "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>",
                                            "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<SUF>",
                                            "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>",
                                            "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<MID>",
                                            "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>",
                                            "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>",
                                            "<\xef\xbd\x9c" "fim\xe2\x96\x81" "hole\xef\xbd\x9c>",
                                            "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", NULL};
    for (int i = 0; fim_other[i]; i++) {
        int32_t id = find_text(t, fim_other[i]);
        if (id >= 0) MARK_CONTROL(id);
    }
    if (llama)
        for (int32_t id = 0; id < t->n_vocab; id++)
            if ((t->toks[id].attr & TOK_ATTR_CONTROL) && strstr(tok_text_of(t, id), "unused"))
                t->toks[id].attr |= TOK_ATTR_UNUSED;
    for (int i = 0; eog_names[i]; i++) {
        int32_t id = find_text(t, eog_names[i]);
        if (id >= 0) {
            MARK_CONTROL(id);
            if (eog_add(t, id)) return -1;
        }
    }
    if (eog_add(t, t->eos) || eog_add(t, t->eot) || eog_add(t, t->eom)) return -1;
    /* o200k_harmony / solar-open: <|end|> is not EOG when <|return|>+<|call|> (or <|calls|>+<|flush|>) exist */
    int32_t end_id = find_text(t, "<|end|>");
    bool has_ret = find_text(t, "<|return|>") >= 0, has_call = find_text(t, "<|call|>") >= 0 ||
                   find_text(t, "<|calls|>") >= 0, has_flush = find_text(t, "<|flush|>") >= 0;
    if (end_id >= 0 && ((has_ret && has_call) || (has_call && has_flush))) {
        eog_remove(t, end_id);
        if (llama) t->toks[end_id].attr = TOK_ATTR_USER_DEFINED;
    }
    int32_t s_id = find_text(t, "</s>");
    if (s_id >= 0 && find_text(t, "<|tool_response>") >= 0) {
        eog_remove(t, s_id);
        if (llama) t->toks[s_id].attr = TOK_ATTR_NORMAL;
    }
#undef MARK_CONTROL
    if (t->n_eog > 1) qsort(t->eog, t->n_eog, sizeof *t->eog, cmp_i32); /* eog is NULL when empty */
    return 0;
}

static char *dup_text(const struct tokenizer *t, int32_t id)
{
    if (id < 0 || id >= t->n_vocab) return tokd_strdup("", 0);
    return tokd_strdup(tok_text_of(t, id), t->toks[id].len);
}

int tokd_finalize(struct tokenizer *t, inf_error *err)
{
    if (t->n_vocab <= 0) { err_fail(err, INF_ERR_FORMAT, "empty vocabulary"); return -1; }
    if (!t->vocab.slots && tokd_index_vocab(t, err)) return -1;
    /* byte fallback tokens <0xXX> */
    for (int b = 0; b < 256; b++) {
        char buf[8];
        snprintf(buf, sizeof buf, "<0x%02X>", b);
        t->byte_ids[b] = tok_strmap_get(&t->vocab, buf, 6);
        int l;
        const char *u = tu_byte_to_utf8((unsigned char)b, &l);
        t->bytechar_ids[b] = tok_strmap_get(&t->vocab, u, (size_t)l);
    }
    if (detect_special(t)) { err_fail(err, INF_ERR_NO_MEMORY, "out of memory"); return -1; }

    /* special-token matchers */
    if (t->flavor == TOK_FLAVOR_LLAMA) {
        for (int32_t id = 0; id < t->n_vocab; id++) {
            uint32_t a = t->toks[id].attr;
            if (!(a & (TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED | TOK_ATTR_UNKNOWN))) continue;
            if (t->toks[id].len == 0) continue;
            if (tok_matcher_add(&t->m_raw, id, t->toks[id].off, t->toks[id].len, a,
                            (a & (TOK_ATTR_CONTROL | TOK_ATTR_UNKNOWN)) != 0)) goto oom;
        }
    } else {
        /* HF: non-normalized tokens on the raw text, normalized ones on the
         * normalized text (their patterns normalized the same way) */
        for (int32_t id = 0; id < t->n_vocab; id++) {
            uint32_t a = t->toks[id].attr;
            if (!(a & (TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED))) continue;
            if (tok_strmap_get(&t->added, tok_text_of(t, id), t->toks[id].len) != id) continue;
            bool special = (a & TOK_ATTR_CONTROL) != 0;
            if (!(a & TOK_ATTR_NORMALIZED)) {
                if (tok_matcher_add(&t->m_raw, id, t->toks[id].off, t->toks[id].len, a, special)) goto oom;
            } else {
                size_t nl;
                char *nt = tok_normalize(t, tok_text_of(t, id), t->toks[id].len, &nl);
                if (!nt) goto oom;
                uint32_t off;
                int rc = pool_add(t, nt, nl, &off);
                free(nt);
                if (rc || tok_matcher_add(&t->m_norm, id, off, (uint32_t)nl, a, special)) goto oom;
            }
        }
    }
    for (uint32_t i = 0; i < t->m_raw.n_pats; i++) t->m_raw.pats[i].text = t->pool + t->m_raw.pats[i].off;
    for (uint32_t i = 0; i < t->m_norm.n_pats; i++) t->m_norm.pats[i].text = t->pool + t->m_norm.pats[i].off;
    if (tok_matcher_build(&t->m_raw) || tok_matcher_build(&t->m_norm)) goto oom;
    t->bos_text = dup_text(t, t->bos);
    t->eos_text = dup_text(t, t->eos);
    if (!t->bos_text || !t->eos_text) goto oom;
    return 0;
oom:
    err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
    return -1;
}

void tok_free(struct tokenizer *t)
{
    if (!t) return;
    free(t->toks);
    free(t->pool);
    tok_strmap_free(&t->vocab);
    tok_strmap_free(&t->added);
    free(t->merges.slots);
    tok_matcher_free(&t->m_raw);
    tok_matcher_free(&t->m_norm);
    for (int i = 0; i < t->n_norms; i++) {
        free(t->norms[i].a);
        free(t->norms[i].b);
        if (t->norms[i].re) pcre2_code_free(t->norms[i].re);
    }
    free(t->norms);
    for (int i = 0; i < t->n_pres; i++) {
        free(t->pres[i].lit);
        if (t->pres[i].re) pcre2_code_free(t->pres[i].re);
    }
    free(t->pres);
    for (int i = 0; i < t->n_decs; i++) {
        free(t->decs[i].a);
        free(t->decs[i].b);
        if (t->decs[i].re) pcre2_code_free(t->decs[i].re);
    }
    free(t->decs);
    free(t->post_pre);
    free(t->post_post);
    free(t->cont_prefix);
    free(t->eow_suffix);
    free(t->eog);
    free(t->chat_template);
    free(t->name);
    free(t->bos_text);
    free(t->eos_text);
    free(t);
}

/* ---- accessors ---- */

int32_t tok_n_vocab(const struct tokenizer *t) { return t ? t->n_vocab : 0; }
int32_t tok_bos(const struct tokenizer *t) { return t->bos; }
int32_t tok_eos(const struct tokenizer *t) { return t->eos; }
int32_t tok_eot(const struct tokenizer *t) { return t->eot; }
int32_t tok_pad(const struct tokenizer *t) { return t->pad; }
int32_t tok_unk(const struct tokenizer *t) { return t->unk; }

bool tok_add_bos(const struct tokenizer *t)
{
    if (t->flavor == TOK_FLAVOR_HF) {
        for (int i = 0; i < t->n_post_pre; i++)
            if (t->post_pre[i] == t->bos) return true;
        return false;
    }
    return t->model == TOK_MODEL_WPM ? (t->cls >= 0 || t->bos >= 0) : (t->add_bos && t->bos >= 0);
}

bool tok_add_eos(const struct tokenizer *t)
{
    if (t->flavor == TOK_FLAVOR_HF) {
        for (int i = 0; i < t->n_post_post; i++)
            if (t->post_post[i] == t->eos) return true;
        return false;
    }
    return t->model != TOK_MODEL_WPM && t->add_eos && t->eos >= 0;
}

bool tok_is_eog(const struct tokenizer *t, int32_t id)
{
    if (id < 0) return false;
    size_t lo = 0, hi = t->n_eog;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->eog[mid] == id) return true;
        if (t->eog[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return false;
}

const int32_t *tok_eog_ids(const struct tokenizer *t, size_t *n)
{
    *n = t->n_eog;
    return t->eog;
}

bool tok_is_special(const struct tokenizer *t, int32_t id)
{
    if (id < 0 || id >= t->n_vocab) return false;
    return (t->toks[id].attr & (TOK_ATTR_CONTROL | TOK_ATTR_UNKNOWN)) != 0;
}

uint32_t tok_token_attr(const struct tokenizer *t, int32_t id)
{
    if (id < 0 || id >= t->n_vocab) return 0;
    return t->toks[id].attr & ~(1u << 31);
}

const char *tok_token_text(const struct tokenizer *t, int32_t id, size_t *len)
{
    if (!t || id < 0 || id >= t->n_vocab) return NULL;
    if (len) *len = t->toks[id].len;
    return tok_text_of(t, id);
}

int32_t tok_id_of(const struct tokenizer *t, const char *text, size_t len)
{
    int32_t id = tok_strmap_get(&t->added, text, len);
    if (id >= 0) return id;
    return tok_strmap_get(&t->vocab, text, len);
}

const char *tok_chat_template(const struct tokenizer *t) { return t->chat_template; }
const char *tok_bos_text(const struct tokenizer *t) { return t->bos_text ? t->bos_text : ""; }
const char *tok_eos_text(const struct tokenizer *t) { return t->eos_text ? t->eos_text : ""; }

const char *tok_model_name(const struct tokenizer *t)
{
    return t->model == TOK_MODEL_SPM ? "spm" : t->model == TOK_MODEL_BPE ? "bpe" : "wpm";
}

const char *tok_source_name(const struct tokenizer *t) { return t->flavor == TOK_FLAVOR_LLAMA ? "gguf" : "hf"; }
