/* tokenizer.c - vocabulary, added/special tokens, the encode pipeline,
 * decoding, and the small accessors. See tokenizer.h for the contract and
 * tokenizer_impl.h for the description the loaders fill. */
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

static int matcher_add(struct tok_matcher *m, int32_t id, uint32_t off, uint32_t len, uint32_t flags, bool special)
{
    if (m->n_pats == m->cap_pats) {
        uint32_t nc = m->cap_pats ? m->cap_pats * 2 : 32;
        struct tok_pattern *np = realloc(m->pats, nc * sizeof *np);
        if (!np) return -1;
        m->pats = np;
        m->cap_pats = nc;
    }
    m->pats[m->n_pats++] = (struct tok_pattern){id, NULL, off, len, flags, special};
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

/* ---- trie ---- */

static uint32_t edge_hash(uint32_t key) { return (key * 0x9E3779B1u) ^ (key >> 15); }

static int trie_node(struct tok_trie *tr)
{
    if (tr->n_nodes == tr->cap_nodes) {
        uint32_t nc = tr->cap_nodes ? tr->cap_nodes * 2 : 256;
        int32_t *nn = realloc(tr->node_tok, nc * sizeof *nn);
        if (!nn) return -1;
        tr->node_tok = nn;
        tr->cap_nodes = nc;
    }
    tr->node_tok[tr->n_nodes] = -1;
    return (int)tr->n_nodes++;
}

static uint32_t trie_child(const struct tok_trie *tr, uint32_t node, unsigned char c)
{
    if (!tr->edges) return 0;
    uint32_t key = ((node << 8) | c) + 1;
    uint32_t h = edge_hash(key) & tr->edge_mask;
    while (tr->edges[h].key_hi) {
        if (tr->edges[h].key_hi == key) return tr->edges[h].child;
        h = (h + 1) & tr->edge_mask;
    }
    return 0;
}

static int trie_set_child(struct tok_trie *tr, uint32_t node, unsigned char c, uint32_t child)
{
    if (!tr->edges || (tr->n_edges + 1) * 2 > tr->edge_mask + 1) {
        uint32_t nsz = tr->edges ? (tr->edge_mask + 1) * 2 : 1024;
        struct tok_edge *ne = calloc(nsz, sizeof *ne);
        if (!ne) return -1;
        for (uint32_t i = 0; tr->edges && i <= tr->edge_mask; i++) {
            if (!tr->edges[i].key_hi) continue;
            uint32_t h = edge_hash(tr->edges[i].key_hi) & (nsz - 1);
            while (ne[h].key_hi) h = (h + 1) & (nsz - 1);
            ne[h] = tr->edges[i];
        }
        free(tr->edges);
        tr->edges = ne;
        tr->edge_mask = nsz - 1;
    }
    uint32_t key = ((node << 8) | c) + 1;
    uint32_t h = edge_hash(key) & tr->edge_mask;
    while (tr->edges[h].key_hi) h = (h + 1) & tr->edge_mask;
    tr->edges[h] = (struct tok_edge){key, child};
    tr->n_edges++;
    return 0;
}

static int matcher_build(struct tok_matcher *m)
{
    struct tok_trie *tr = &m->trie;
    if (trie_node(tr) < 0) return -1; /* root = 0 */
    for (uint32_t p = 0; p < m->n_pats; p++) {
        const struct tok_pattern *pt = &m->pats[p];
        if (pt->len == 0) continue;
        uint32_t node = 0;
        for (uint32_t i = 0; i < pt->len; i++) {
            unsigned char c = (unsigned char)pt->text[i];
            uint32_t ch = trie_child(tr, node, c);
            if (!ch) {
                int nn = trie_node(tr);
                if (nn < 0 || trie_set_child(tr, node, c, (uint32_t)nn)) return -1;
                ch = (uint32_t)nn;
            }
            node = ch;
        }
        if (tr->node_tok[node] < 0) tr->node_tok[node] = (int32_t)p;
        unsigned char c0 = (unsigned char)pt->text[0];
        tr->first_byte[c0 >> 3] |= (uint8_t)(1u << (c0 & 7));
    }
    return 0;
}

static void matcher_free(struct tok_matcher *m)
{
    free(m->pats);
    free(m->trie.node_tok);
    free(m->trie.edges);
    memset(m, 0, sizeof *m);
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
            if (matcher_add(&t->m_raw, id, t->toks[id].off, t->toks[id].len, a,
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
                if (matcher_add(&t->m_raw, id, t->toks[id].off, t->toks[id].len, a, special)) goto oom;
            } else {
                size_t nl;
                char *nt = tok_normalize(t, tok_text_of(t, id), t->toks[id].len, &nl);
                if (!nt) goto oom;
                uint32_t off;
                int rc = pool_add(t, nt, nl, &off);
                free(nt);
                if (rc || matcher_add(&t->m_norm, id, off, (uint32_t)nl, a, special)) goto oom;
            }
        }
    }
    for (uint32_t i = 0; i < t->m_raw.n_pats; i++) t->m_raw.pats[i].text = t->pool + t->m_raw.pats[i].off;
    for (uint32_t i = 0; i < t->m_norm.n_pats; i++) t->m_norm.pats[i].text = t->pool + t->m_norm.pats[i].off;
    if (matcher_build(&t->m_raw) || matcher_build(&t->m_norm)) goto oom;
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
    matcher_free(&t->m_raw);
    matcher_free(&t->m_norm);
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

/* ---- partition: special/added tokens ---- */

struct frag { size_t off, len; int32_t id; }; /* id >= 0: token; else raw text */
struct frags { struct frag *v; size_t n, cap; };

static int frags_push(struct frags *f, size_t off, size_t len, int32_t id)
{
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 16;
        struct frag *nv = realloc(f->v, nc * sizeof *nv);
        if (!nv) return -1;
        f->v = nv;
        f->cap = nc;
    }
    f->v[f->n++] = (struct frag){off, len, id};
    return 0;
}

static inline bool may_start(const struct tok_trie *tr, unsigned char c)
{
    return (tr->first_byte[c >> 3] >> (c & 7)) & 1;
}

/* Longest pattern starting at s[i] (pattern index or -1). */
static int32_t longest_at(const struct tok_matcher *m, const char *s, size_t n, size_t i)
{
    const struct tok_trie *tr = &m->trie;
    uint32_t node = 0;
    int32_t best = -1;
    for (size_t k = i; k < n; k++) {
        node = trie_child(tr, node, (unsigned char)s[k]);
        if (!node) break;
        if (tr->node_tok[node] >= 0) best = tr->node_tok[node];
    }
    return best;
}

static uint32_t cp_before(const char *s, size_t end, size_t *start)
{
    size_t st = end - 1;
    while (st > 0 && ((unsigned char)s[st] & 0xC0) == 0x80 && end - st < 4) st--;
    uint32_t cp;
    size_t l = tu_decode_strict((const unsigned char *)s + st, end - st, &cp);
    if (l != end - st) { st = end - 1; cp = 0xFFFD; }
    *start = st;
    return cp;
}

/* HF AddedVocabulary::find_matches (leftmost-longest) over s[0..n);
 * offsets are relative to s, fragments pushed with base added. */
static int split_hf(const struct tok_matcher *m, const char *s, size_t n, size_t base, bool parse_special,
                    struct frags *out)
{
    size_t start_offset = 0;
    if (m->n_pats == 0 || n == 0) return frags_push(out, base, n, -1);
    size_t i = 0;
    while (i < n) {
        if (!may_start(&m->trie, (unsigned char)s[i])) { i++; continue; }
        int32_t p = longest_at(m, s, n, i);
        if (p < 0) { i++; continue; }
        const struct tok_pattern *pt = &m->pats[p];
        size_t start = i, stop = i + pt->len;
        i = stop; /* the automaton resumes after the match in every case */
        if (pt->special && !parse_special) continue;
        if (pt->flags & TOK_ATTR_SINGLE_WORD) {
            bool start_space = true, stop_space = true;
            if (start > 0) {
                size_t ps;
                start_space = !tu_is_word(cp_before(s, start, &ps));
            }
            if (stop < n) {
                uint32_t cp;
                size_t l = tu_decode_strict((const unsigned char *)s + stop, n - stop, &cp);
                stop_space = !(l && tu_is_word(cp));
            }
            if (!start_space || !stop_space) continue;
        }
        if (pt->flags & TOK_ATTR_LSTRIP) {
            size_t ns = start;
            while (ns > 0) {
                size_t ps;
                uint32_t cp = cp_before(s, ns, &ps);
                if (!tu_is_whitespace(cp)) break;
                ns = ps;
            }
            start = ns > start_offset ? ns : start_offset;
        }
        if (pt->flags & TOK_ATTR_RSTRIP) {
            while (stop < n) {
                uint32_t cp;
                size_t l = tu_decode_strict((const unsigned char *)s + stop, n - stop, &cp);
                if (!l || !tu_is_whitespace(cp)) break;
                stop += l;
            }
            i = stop > i ? stop : i;
        }
        if (start_offset < start && frags_push(out, base + start_offset, start - start_offset, -1)) return -1;
        if (frags_push(out, base + start, stop - start, pt->id)) return -1;
        start_offset = stop;
    }
    if (start_offset != n && frags_push(out, base + start_offset, n - start_offset, -1)) return -1;
    return 0;
}

struct occ { size_t pos; uint32_t len; int32_t pat; int32_t id; };

static int cmp_occ(const void *a, const void *b)
{
    const struct occ *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static int cmp_occ_pos(const void *a, const void *b)
{
    const struct occ *x = a, *y = b;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* llama.cpp tokenizer_st_partition: special tokens by decreasing length,
 * each splitting the remaining raw fragments left to right. */
static int split_llama(const struct tok_matcher *m, const char *s, size_t n, bool parse_special, struct frags *out)
{
    if (n == 0) return 0;
    if (m->n_pats == 0) return frags_push(out, 0, n, -1);
    struct occ *oc = NULL;
    size_t no = 0, co = 0;
    const struct tok_trie *tr = &m->trie;
    for (size_t i = 0; i < n; i++) {
        if (!may_start(tr, (unsigned char)s[i])) continue;
        uint32_t node = 0;
        for (size_t k = i; k < n; k++) {
            node = trie_child(tr, node, (unsigned char)s[k]);
            if (!node) break;
            int32_t p = tr->node_tok[node];
            if (p < 0) continue;
            if (!parse_special && m->pats[p].special) continue;
            if (no == co) {
                co = co ? co * 2 : 16;
                struct occ *nv = realloc(oc, co * sizeof *nv);
                if (!nv) { free(oc); return -1; }
                oc = nv;
            }
            oc[no++] = (struct occ){i, m->pats[p].len, p, m->pats[p].id};
        }
    }
    if (no == 0) { free(oc); return frags_push(out, 0, n, -1); }
    qsort(oc, no, sizeof *oc, cmp_occ);
    unsigned char *state = calloc(n, 1); /* 0 raw, 1 token, 2 dropped */
    if (!state) { free(oc); return -1; }
    size_t acc = 0;
    for (size_t k = 0; k < no; k++) {
        size_t p = oc[k].pos, e = p + oc[k].len;
        bool free_ = true;
        for (size_t j = p; j < e; j++)
            if (state[j]) { free_ = false; break; }
        if (!free_) continue;
        memset(state + p, 1, e - p);
        uint32_t fl = m->pats[oc[k].pat].flags;
        if (fl & TOK_ATTR_LSTRIP)
            for (size_t j = p; j > 0 && !state[j - 1] && isspace((unsigned char)s[j - 1]); j--) state[j - 1] = 2;
        if (fl & TOK_ATTR_RSTRIP)
            for (size_t j = e; j < n && !state[j] && isspace((unsigned char)s[j]); j++) state[j] = 2;
        oc[acc++] = oc[k];
    }
    qsort(oc, acc, sizeof *oc, cmp_occ_pos);
    size_t i = 0, k = 0;
    int rc = 0;
    while (i < n && !rc) {
        if (state[i] == 1) {
            rc = frags_push(out, i, oc[k].len, oc[k].id);
            i += oc[k].len;
            k++;
        } else if (state[i] == 2) {
            i++;
        } else {
            size_t j = i;
            while (j < n && state[j] == 0) j++;
            rc = frags_push(out, i, j - i, -1);
            i = j;
        }
    }
    free(state);
    free(oc);
    return rc;
}

/* ---- encode ---- */

struct enc {
    const struct tokenizer *t;
    struct tok_ids out;
    struct tok_scratch sc;
    struct tok_pieces p1, p2;
};

static int run_model(struct enc *e, const char *s, size_t n)
{
    const struct tokenizer *t = e->t;
    switch (t->model) {
    case TOK_MODEL_BPE: return tok_bpe_word(t, s, n, &e->out, &e->sc);
    case TOK_MODEL_SPM: return tok_spm_text(t, s, n, &e->out, &e->sc);
    case TOK_MODEL_WPM: return tok_wpm_text(t, s, n, &e->out);
    default: return -1;
    }
}

static int pre_and_model(struct enc *e, const char *s, size_t n, bool first)
{
    if (n == 0) return 0;
    if (tok_pretokenize(e->t, s, n, first, &e->p1, &e->p2)) return -1;
    for (size_t k = 0; k < e->p1.n; k++)
        if (run_model(e, e->p1.buf + e->p1.p[k].off, e->p1.p[k].len)) return -1;
    return 0;
}

static int encode_hf_fragment(struct enc *e, const char *s, size_t n, bool first, bool parse_special)
{
    const struct tokenizer *t = e->t;
    if (t->n_norms == 0 && t->m_norm.n_pats == 0) return pre_and_model(e, s, n, first);
    size_t nl = n;
    char *ns = t->n_norms ? tok_normalize(t, s, n, &nl) : (char *)s;
    if (!ns) return -1;
    int rc = 0;
    if (t->m_norm.n_pats == 0) {
        rc = pre_and_model(e, ns, nl, first);
    } else {
        struct frags fr = {0};
        rc = split_hf(&t->m_norm, ns, nl, 0, parse_special, &fr);
        for (size_t k = 0; k < fr.n && !rc; k++) {
            if (fr.v[k].id >= 0) rc = tok_ids_push(&e->out, fr.v[k].id);
            else rc = pre_and_model(e, ns + fr.v[k].off, fr.v[k].len, first && fr.v[k].off == 0);
        }
        free(fr.v);
    }
    if (ns != s) free(ns);
    return rc;
}

static int encode_llama_fragment(struct enc *e, const char *s, size_t n, bool *prev_special)
{
    const struct tokenizer *t = e->t;
    int rc;
    if (t->model == TOK_MODEL_SPM) {
        /* prefix a space after BOS/specials, then ' ' -> U+2581 */
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++) cnt += s[i] == ' ';
        bool pre = t->add_space_prefix && *prev_special;
        size_t cap = n + (cnt + 1) * 3;
        char *buf = malloc(cap);
        if (!buf) return -1;
        size_t o = 0;
        if (pre) { memcpy(buf, "\xe2\x96\x81", 3); o = 3; }
        for (size_t i = 0; i < n; i++) {
            if (s[i] == ' ') { memcpy(buf + o, "\xe2\x96\x81", 3); o += 3; }
            else buf[o++] = s[i];
        }
        rc = tok_spm_text(t, buf, o, &e->out, &e->sc);
        free(buf);
    } else if (t->model == TOK_MODEL_BPE) {
        char *buf = malloc(n * 3 + 1);
        if (!buf) return -1;
        size_t o = tu_sanitize_llama(s, n, buf);
        rc = pre_and_model(e, buf, o, true);
        free(buf);
    } else {
        rc = tok_wpm_text(t, s, n, &e->out);
    }
    *prev_special = false;
    return rc;
}

int tok_encode(const struct tokenizer *t, const char *text, size_t len, int flags, int32_t **ids, size_t *n,
               inf_error *err)
{
    *ids = NULL;
    *n = 0;
    if (!t || (!text && len)) { err_fail(err, INF_ERR_FORMAT, "invalid argument"); return -1; }
    struct enc e = {.t = t};
    const bool add_special = (flags & TOK_ADD_SPECIAL) != 0;
    const bool parse_special = (flags & TOK_PARSE_SPECIAL) != 0;
    struct frags fr = {0};
    char *san = NULL;
    int rc = 0;
    if (t->flavor == TOK_FLAVOR_HF) {
        if (!tu_is_valid(text, len)) {
            san = malloc(len * 3 + 1);
            if (!san) goto oom;
            len = tu_sanitize_lossy(text, len, san);
            text = san;
        }
        for (int i = 0; add_special && i < t->n_post_pre; i++)
            if (tok_ids_push(&e.out, t->post_pre[i])) goto oom;
        if (split_hf(&t->m_raw, text, len, 0, parse_special, &fr)) goto oom;
        for (size_t k = 0; k < fr.n && !rc; k++) {
            if (fr.v[k].id >= 0) rc = tok_ids_push(&e.out, fr.v[k].id);
            else rc = encode_hf_fragment(&e, text + fr.v[k].off, fr.v[k].len, fr.v[k].off == 0, parse_special);
        }
        for (int i = 0; !rc && add_special && i < t->n_post_post; i++) rc = tok_ids_push(&e.out, t->post_post[i]);
    } else {
        if (split_llama(&t->m_raw, text, len, parse_special, &fr)) goto oom;
        bool prev_special = true;
        if (add_special) {
            if (t->model == TOK_MODEL_WPM) {
                if (t->cls >= 0) rc = tok_ids_push(&e.out, t->cls);
                else if (t->bos >= 0) rc = tok_ids_push(&e.out, t->bos);
            } else if (t->add_bos && t->bos >= 0) {
                rc = tok_ids_push(&e.out, t->bos);
            }
        }
        for (size_t k = 0; k < fr.n && !rc; k++) {
            if (fr.v[k].id >= 0) {
                rc = tok_ids_push(&e.out, fr.v[k].id);
                prev_special = true;
            } else {
                rc = encode_llama_fragment(&e, text + fr.v[k].off, fr.v[k].len, &prev_special);
            }
        }
        if (!rc && add_special) {
            if (t->model == TOK_MODEL_WPM) {
                if (t->sep >= 0) rc = tok_ids_push(&e.out, t->sep);
            } else {
                if (t->add_eos && t->eos >= 0) rc = tok_ids_push(&e.out, t->eos);
                if (!rc && t->add_sep && t->sep >= 0) rc = tok_ids_push(&e.out, t->sep);
            }
        }
    }
    if (rc) goto oom;
    free(fr.v);
    free(san);
    tok_scratch_free(&e.sc);
    tok_pieces_free(&e.p1);
    tok_pieces_free(&e.p2);
    *ids = e.out.v;
    *n = e.out.n;
    return 0;
oom:
    free(fr.v);
    free(san);
    free(e.out.v);
    tok_scratch_free(&e.sc);
    tok_pieces_free(&e.p1);
    tok_pieces_free(&e.p2);
    err_fail(err, INF_ERR_NO_MEMORY, "tokenization failed (out of memory or regex error)");
    return -1;
}

/* ---- decode ---- */

struct sbuf { char *v; size_t n, cap; };

static int sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 64;
        while (nc < b->n + n + 1) nc *= 2;
        char *nv = realloc(b->v, nc);
        if (!nv) return -1;
        b->v = nv;
        b->cap = nc;
    }
    memcpy(b->v + b->n, s, n);
    b->n += n;
    b->v[b->n] = 0;
    return 0;
}

/* list of strings in one arena */
struct slist { struct sbuf a; size_t *off, *len; size_t n, cap; };

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
    free(l->a.v);
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
static int bytelevel_token(const char *s, size_t n, struct sbuf *out)
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
    struct sbuf b = {0};
    size_t i = 0;
    if (sb_put(&b, "", 0)) return NULL;
    while (i < n) {
        const char *f = pl ? memmem(s + i, n - i, pat, pl) : NULL;
        if (!f) break;
        size_t st = (size_t)(f - s);
        if (sb_put(&b, s + i, st - i) || sb_put(&b, rep, rl)) { free(b.v); return NULL; }
        i = st + pl;
    }
    if (sb_put(&b, s + i, n - i)) { free(b.v); return NULL; }
    *ol = b.n;
    return b.v;
}

struct rcb { struct sbuf *b; const char *s; size_t prev; const char *rep; size_t rl; };
static int rcb_fn(void *c, size_t st, size_t en)
{
    struct rcb *x = c;
    if (sb_put(x->b, x->s + x->prev, st - x->prev) || sb_put(x->b, x->rep, x->rl)) return -1;
    x->prev = en;
    return 0;
}

static int apply_decoder(const struct tok_dec *d, struct slist *in, struct slist *out, bool streaming)
{
    switch (d->kind) {
    case DEC_BYTELEVEL: {
        struct sbuf b = {0};
        int rc = sb_put(&b, "", 0);
        for (size_t i = 0; i < in->n && !rc; i++) rc = bytelevel_token(in->a.v + in->off[i], in->len[i], &b);
        if (!rc) rc = streaming ? sl_add(out, b.v, b.n) : lossy_into(out, b.v, b.n);
        free(b.v);
        return rc;
    }
    case DEC_FUSE: {
        struct sbuf b = {0};
        int rc = sb_put(&b, "", 0);
        for (size_t i = 0; i < in->n && !rc; i++) rc = sb_put(&b, in->a.v + in->off[i], in->len[i]);
        if (!rc) rc = sl_add(out, b.v, b.n);
        free(b.v);
        return rc;
    }
    case DEC_BYTEFALLBACK: {
        struct sbuf pend = {0};
        int rc = sb_put(&pend, "", 0);
        for (size_t i = 0; i <= in->n && !rc; i++) {
            unsigned char byte;
            if (i < in->n && is_byte_token(in->a.v + in->off[i], in->len[i], &byte)) {
                rc = sb_put(&pend, (char *)&byte, 1);
                continue;
            }
            if (pend.n) {
                if (streaming || tu_is_valid(pend.v, pend.n)) rc = sl_add(out, pend.v, pend.n);
                else
                    for (size_t k = 0; k < pend.n && !rc; k++) rc = sl_add(out, "\xEF\xBF\xBD", 3);
                pend.n = 0;
            }
            if (!rc && i < in->n) rc = sl_add(out, in->a.v + in->off[i], in->len[i]);
        }
        free(pend.v);
        return rc;
    }
    case DEC_METASPACE:
    case DEC_REPLACE:
    case DEC_STRIP:
    case DEC_WORDPIECE:
        for (size_t i = 0; i < in->n; i++) {
            const char *s = in->a.v + in->off[i];
            size_t n = in->len[i];
            int rc = 0;
            if (d->kind == DEC_METASPACE) {
                char rep[5];
                int rl = tu_encode(d->cp, rep);
                bool drop = i == 0 && d->prepend_scheme != PS_NEVER && !streaming;
                size_t ol;
                char *r = replace_all(s, n, rep, (size_t)rl, " ", drop ? 0 : 1, &ol);
                if (!r) return -1;
                rc = sl_add(out, r, ol);
                free(r);
            } else if (d->kind == DEC_REPLACE) {
                if (d->re) {
                    struct sbuf b = {0};
                    struct rcb x = {&b, s, 0, d->b, d->blen};
                    rc = sb_put(&b, "", 0);
                    if (!rc) rc = tok_regex_foreach(d->re, s, n, rcb_fn, &x);
                    if (!rc) rc = sb_put(&b, s + x.prev, n - x.prev);
                    if (!rc) rc = sl_add(out, b.v, b.n);
                    free(b.v);
                } else {
                    size_t ol;
                    char *r = replace_all(s, n, d->a, d->alen, d->b, d->blen, &ol);
                    if (!r) return -1;
                    rc = sl_add(out, r, ol);
                    free(r);
                }
            } else if (d->kind == DEC_STRIP) {
                if (streaming) { rc = sl_add(out, s, n); }
                else {
                    size_t a = 0, b = n;
                    for (size_t k = 0; k < d->start && a < b; k++) {
                        if ((size_t)(b - a) >= d->alen && memcmp(s + a, d->a, d->alen) == 0) a += d->alen;
                        else break;
                    }
                    for (size_t k = 0; k < d->stop && b > a; k++) {
                        if ((size_t)(b - a) >= d->alen && memcmp(s + b - d->alen, d->a, d->alen) == 0) b -= d->alen;
                        else break;
                    }
                    rc = sl_add(out, s + a, b - a);
                }
            } else { /* WordPiece: strip the prefix, else prepend a space (not on the first token) */
                if (n >= d->alen && d->alen && memcmp(s, d->a, d->alen) == 0) rc = sl_add(out, s + d->alen, n - d->alen);
                else {
                    struct sbuf b = {0};
                    rc = sb_put(&b, (i == 0 && !streaming) ? "" : " ", (i == 0 && !streaming) ? 0 : 1);
                    if (!rc) rc = sb_put(&b, s, n);
                    if (!rc) rc = sl_add(out, b.v, b.n);
                    free(b.v);
                }
            }
            if (rc) return -1;
        }
        return 0;
    default:
        return -1;
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
    struct sbuf r = {0};
    if (!rc) rc = sb_put(&r, "", 0);
    for (size_t i = 0; i < a.n && !rc; i++) {
        if (t->n_decs == 0 && i > 0) rc = sb_put(&r, " ", 1);
        if (!rc) rc = sb_put(&r, a.a.v + a.off[i], a.len[i]);
    }
    sl_free(&a);
    sl_free(&b);
    if (rc) { free(r.v); return NULL; }
    if (out_len) *out_len = r.n;
    return r.v;
}

/* llama.cpp token_to_piece (special = render control/unknown text). */
static int llama_piece(const struct tokenizer *t, int32_t id, bool special, struct sbuf *out)
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

static void clean_spaces(struct sbuf *b)
{
    char *text = b->v;
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
    b->v[o] = 0;
}

char *tok_decode(const struct tokenizer *t, const int32_t *ids, size_t n, int flags, size_t *out_len)
{
    if (!t || (!ids && n)) return NULL;
    if (t->flavor == TOK_FLAVOR_HF) return decode_hf(t, ids, n, flags, false, out_len);
    const bool remove_special = (flags & TOK_DECODE_SKIP_SPECIAL) != 0;
    const bool unparse = !remove_special;
    struct sbuf r = {0};
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
        if (llama_piece(t, id, unparse, &r)) { free(r.v); return NULL; }
        if (remove_space && r.n > before && r.v[before] == ' ') {
            memmove(r.v + before, r.v + before + 1, r.n - before - 1);
            r.n--;
            r.v[r.n] = 0;
        }
        remove_space = false;
    }
    if (t->clean_spaces) clean_spaces(&r);
    if (out_len) *out_len = r.n;
    return r.v;
}

int tok_token_to_piece(const struct tokenizer *t, int32_t id, int flags, char *buf, size_t cap)
{
    if (!t || id < 0 || id >= t->n_vocab) return -1;
    size_t len = 0;
    char *s = NULL;
    struct sbuf r = {0};
    if (t->flavor == TOK_FLAVOR_HF) {
        if ((flags & TOK_DECODE_SKIP_SPECIAL) && hf_is_special(t, id)) return 0;
        s = decode_hf(t, &id, 1, flags, true, &len);
        if (!s) return -1;
    } else {
        if (sb_put(&r, "", 0) || llama_piece(t, id, !(flags & TOK_DECODE_SKIP_SPECIAL), &r)) { free(r.v); return -1; }
        s = r.v;
        len = r.n;
    }
    if (buf && cap) memcpy(buf, s, len < cap ? len : cap);
    free(s);
    return len > (size_t)INT32_MAX ? -1 : (int)len;
}

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
