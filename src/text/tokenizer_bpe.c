/* tokenizer_bpe.c - byte-pair encoding of one pre-tokenized word.
 *
 * One merge loop serves both references: symbols are vocabulary ids, merges
 * are looked up by (left id, right id) in a hash map giving (rank, merged
 * id), and a binary heap pops the lowest rank, leftmost first (HF's
 * Word::merge_all and llama.cpp's llm_bigram_bpe order). Stale heap entries
 * are skipped by re-checking the pair. */
#include "text/tokenizer_impl.h"
#include "text/unicode.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct sym { int32_t id; int32_t prev, next; uint32_t len; };
struct hent { int32_t rank; int32_t pos; int32_t id; };

#define mix64 tok_mix64
#define merge_key tok_merge_key

static int mergemap_resize(struct tok_mergemap *m, uint32_t nsz)
{
    struct tok_merge_slot *ns = calloc(nsz, sizeof *ns);
    if (!ns) return -1;
    for (uint32_t i = 0; m->slots && i <= m->mask; i++) {
        if (!m->slots[i].key) continue;
        uint32_t h = (uint32_t)mix64(m->slots[i].key) & (nsz - 1);
        while (ns[h].key) h = (h + 1) & (nsz - 1);
        ns[h] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->mask = nsz - 1;
    return 0;
}

int tok_mergemap_reserve(struct tok_mergemap *m, size_t n)
{
    uint32_t nsz = 1024;
    while ((size_t)nsz < (m->count + n + 1) * 2) nsz *= 2;
    if (m->slots && nsz <= m->mask + 1) return 0;
    return mergemap_resize(m, nsz);
}

int tok_mergemap_put(struct tok_mergemap *m, int32_t a, int32_t b, int32_t rank, int32_t id, bool first_wins)
{
    if ((m->count + 1) * 2 > m->mask + 1 || !m->slots) {
        if (mergemap_resize(m, m->slots ? (m->mask + 1) * 2 : 1024) != 0) return -1;
    }
    uint64_t k = merge_key(a, b);
    uint32_t h = (uint32_t)mix64(k) & m->mask;
    while (m->slots[h].key) {
        if (m->slots[h].key == k) {
            if (!first_wins) { m->slots[h].rank = rank; m->slots[h].id = id; }
            return 0;
        }
        h = (h + 1) & m->mask;
    }
    m->slots[h] = (struct tok_merge_slot){k, rank, id};
    m->count++;
    return 0;
}

static inline const struct tok_merge_slot *merge_get(const struct tok_mergemap *m, int32_t a, int32_t b)
{
    if (!m->slots || a < 0 || b < 0) return NULL;
    uint64_t k = merge_key(a, b);
    uint32_t h = (uint32_t)mix64(k) & m->mask;
    while (m->slots[h].key) {
        if (m->slots[h].key == k) return &m->slots[h];
        h = (h + 1) & m->mask;
    }
    return NULL;
}

/* min-heap on (rank, pos) */
static inline bool hless(const struct hent *x, const struct hent *y)
{
    return x->rank < y->rank || (x->rank == y->rank && x->pos < y->pos);
}

static void hpush(struct hent *h, size_t *n, struct hent e)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!hless(&e, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = e;
}

static struct hent hpop(struct hent *h, size_t *n)
{
    struct hent top = h[0];
    struct hent last = h[--(*n)];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && hless(&h[c + 1], &h[c])) c++;
        if (!hless(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (m) h[i] = last;
    return top;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np) return -1;
    *p = np;
    *cap = nc;
    return 0;
}

/* Per-thread, direct-mapped cache of short words -> ids (HF keeps a word
 * cache too). Thread-local, so tokenizers stay free of shared mutable state;
 * entries are tagged with the tokenizer's serial, so a freed tokenizer's
 * entries are never reused by another. 4096 entries, ~0.5 MB per thread. */
enum { WC_SIZE = 4096, WC_WORD = 24, WC_IDS = 8 };
struct wc_entry { uint64_t serial; uint32_t hash; uint8_t wlen, nids; char word[WC_WORD]; int32_t ids[WC_IDS]; };
static _Thread_local struct wc_entry *tl_wc;
static pthread_key_t g_wc_key;
static pthread_once_t g_wc_once = PTHREAD_ONCE_INIT;

static void wc_release(void *unused)
{
    (void)unused;
    free(tl_wc);
    tl_wc = NULL;
}

static void wc_key_init(void) { pthread_key_create(&g_wc_key, wc_release); }

static int bpe_word_uncached(const struct tokenizer *t, const char *w, size_t n, struct tok_ids *out,
                             struct tok_scratch *s);

int tok_bpe_word(const struct tokenizer *t, const char *w, size_t n, struct tok_ids *out, struct tok_scratch *s)
{
    if (n == 0) return 0;
    if (n > WC_WORD) return bpe_word_uncached(t, w, n, out, s);
    if (!tl_wc) {
        tl_wc = calloc(WC_SIZE, sizeof *tl_wc);
        if (!tl_wc) return bpe_word_uncached(t, w, n, out, s);
        pthread_once(&g_wc_once, wc_key_init);
        pthread_setspecific(g_wc_key, tl_wc); /* freed at thread exit */
    }
    uint32_t h = tok_hash_bytes(w, n);
    struct wc_entry *e = &tl_wc[h & (WC_SIZE - 1)];
    if (e->serial == t->serial && e->hash == h && e->wlen == n && memcmp(e->word, w, n) == 0) {
        for (int i = 0; i < e->nids; i++)
            if (tok_ids_push(out, e->ids[i])) return -1;
        return 0;
    }
    size_t before = out->n;
    if (bpe_word_uncached(t, w, n, out, s)) return -1;
    size_t k = out->n - before;
    if (k <= WC_IDS) {
        e->serial = t->serial;
        e->hash = h;
        e->wlen = (uint8_t)n;
        e->nids = (uint8_t)k;
        memcpy(e->word, w, n);
        if (k) memcpy(e->ids, out->v + before, k * sizeof(int32_t));
    }
    return 0;
}

/* The id of the character w[i..i+cl) as a symbol, with the model's
 * continuing-subword prefix and end-of-word suffix when it has them. */
static int32_t char_id(const struct tokenizer *t, const char *w, size_t n, size_t i, size_t cl, struct tok_scratch *s,
                       int *oom)
{
    if (!t->cont_prefix_len && !t->eow_suffix_len) return tok_strmap_get(&t->vocab, w + i, cl);
    size_t need = t->cont_prefix_len + cl + t->eow_suffix_len;
    if (grow((void **)&s->buf, &s->buf_cap, need, 1)) {
        *oom = 1;
        return -1;
    }
    size_t o = 0;
    if (i > 0 && t->cont_prefix_len) { memcpy(s->buf, t->cont_prefix, t->cont_prefix_len); o = t->cont_prefix_len; }
    memcpy(s->buf + o, w + i, cl); o += cl;
    if (i + cl == n && t->eow_suffix_len) { memcpy(s->buf + o, t->eow_suffix, t->eow_suffix_len); o += t->eow_suffix_len; }
    return tok_strmap_get(&t->vocab, s->buf, o);
}

/* Where the run of unknown characters stands (Hugging Face: one <unk>
 * symbol per character, or one for the whole run with fuse_unk). */
struct unk_run {
    int32_t id;
    uint32_t len;
};

static void flush_unk(struct sym *sy, int32_t *ns, struct unk_run *u)
{
    if (u->id >= 0) sy[(*ns)++] = (struct sym){u->id, 0, 0, u->len};
    u->id = -1;
}

/* Hugging Face's handling of a character missing from the vocabulary:
 * its bytes as <0xNN> tokens with byte_fallback, else <unk>. */
static void hf_unknown_char(const struct tokenizer *t, const char *w, size_t i, size_t cl, struct sym *sy, int32_t *ns,
                            struct unk_run *u)
{
    if (t->byte_fallback) {
        bool all = true;
        for (size_t k = 0; k < cl; k++)
            if (t->byte_ids[(unsigned char)w[i + k]] < 0) { all = false; break; }
        if (all) {
            flush_unk(sy, ns, u);
            for (size_t k = 0; k < cl; k++) sy[(*ns)++] = (struct sym){t->byte_ids[(unsigned char)w[i + k]], 0, 0, 1};
            return;
        }
    }
    if (t->unk_id < 0) return;
    if (u->id >= 0 && t->fuse_unk) {
        u->len += (uint32_t)cl;
        return;
    }
    flush_unk(sy, ns, u);
    u->id = t->unk_id;
    u->len = (uint32_t)cl;
}

/* The word as a list of one symbol per character, linked both ways. */
static int initial_symbols(const struct tokenizer *t, const char *w, size_t n, struct tok_scratch *s, int32_t *n_sym)
{
    const bool hf = t->flavor == TOK_FLAVOR_HF;
    /* worst case one symbol per byte (byte fallback) */
    if (grow(&s->sym, &s->sym_cap, n + 1, sizeof(struct sym))) return -1;
    struct sym *sy = s->sym;
    int32_t ns = 0;
    struct unk_run u = {-1, 0};
    for (size_t i = 0, cl; i < n; i += cl) {
        if (hf) {
            uint32_t cp;
            cl = tu_decode_strict((const unsigned char *)w + i, n - i, &cp);
            if (!cl) cl = 1; /* cannot happen: HF input is sanitized */
        } else {
            cl = tu_len_lead((unsigned char)w[i]);
            if (cl > n - i) cl = n - i;
        }
        int oom = 0;
        int32_t id = char_id(t, w, n, i, cl, s, &oom);
        if (oom) return -1;
        if (id >= 0) {
            flush_unk(sy, &ns, &u);
            sy[ns++] = (struct sym){id, 0, 0, (uint32_t)cl};
        } else if (hf) {
            hf_unknown_char(t, w, i, cl, sy, &ns, &u);
        } else {
            /* llama.cpp: an unknown character cannot merge; at the end each of
             * its bytes is looked up as a one-byte token (else dropped). */
            sy[ns++] = (struct sym){-2 - (int32_t)i, 0, 0, (uint32_t)cl};
        }
    }
    flush_unk(sy, &ns, &u);
    for (int32_t k = 0; k < ns; k++) { sy[k].prev = k - 1; sy[k].next = k + 1 < ns ? k + 1 : -1; }
    *n_sym = ns;
    return 0;
}

/* Applies the merges lowest rank first: a heap of candidate pairs, stale
 * entries skipped when popped. */
static int merge_symbols(const struct tokenizer *t, struct tok_scratch *s, int32_t ns)
{
    struct sym *sy = s->sym;
    if (grow(&s->heap, &s->heap_cap, (size_t)ns * 2 + 8, sizeof(struct hent))) return -1;
    struct hent *h = s->heap;
    size_t hn = 0;
    for (int32_t k = 0; k + 1 < ns; k++) {
        const struct tok_merge_slot *m = merge_get(&t->merges, sy[k].id, sy[k + 1].id);
        if (m) hpush(h, &hn, (struct hent){m->rank, k, m->id});
    }
    while (hn) {
        struct hent top = hpop(h, &hn);
        struct sym *L = &sy[top.pos];
        if (L->len == 0 || L->next < 0) continue;
        struct sym *R = &sy[L->next];
        const struct tok_merge_slot *m = merge_get(&t->merges, L->id, R->id);
        if (!m || m->id != top.id || m->rank != top.rank) continue;
        L->id = top.id;
        L->len += R->len;
        R->len = 0;
        int32_t rn = R->next;
        L->next = rn;
        if (rn >= 0) sy[rn].prev = top.pos;
        /* the heap never holds more than one entry per live pair plus
         * stale ones; reserve room for two pushes */
        if (hn + 2 > s->heap_cap) {
            if (grow(&s->heap, &s->heap_cap, hn + 2, sizeof(struct hent))) return -1;
            h = s->heap;
        }
        if (L->prev >= 0) {
            const struct tok_merge_slot *pm = merge_get(&t->merges, sy[L->prev].id, L->id);
            if (pm) hpush(h, &hn, (struct hent){pm->rank, L->prev, pm->id});
        }
        if (rn >= 0) {
            const struct tok_merge_slot *nm = merge_get(&t->merges, L->id, sy[rn].id);
            if (nm) hpush(h, &hn, (struct hent){nm->rank, top.pos, nm->id});
        }
    }
    return 0;
}

static int bpe_word_uncached(const struct tokenizer *t, const char *w, size_t n, struct tok_ids *out,
                             struct tok_scratch *s)
{
    if (t->ignore_merges) {
        int32_t id = tok_strmap_get(&t->vocab, w, n);
        if (id >= 0) return tok_ids_push(out, id);
    }
    int32_t ns = 0;
    if (initial_symbols(t, w, n, s, &ns)) return -1;
    if (ns > 1 && t->merges.count && merge_symbols(t, s, ns)) return -1;
    const struct sym *sy = s->sym;
    for (int32_t k = 0; k >= 0 && k < ns; k = sy[k].next) {
        if (sy[k].id >= 0) {
            if (tok_ids_push(out, sy[k].id)) return -1;
            continue;
        }
        /* a llama.cpp unknown character: its bytes one by one */
        size_t off = (size_t)(-(sy[k].id + 2));
        for (uint32_t b = 0; b < sy[k].len; b++) {
            int32_t id = tok_strmap_get(&t->vocab, w + off + b, 1);
            if (id >= 0 && tok_ids_push(out, id)) return -1;
        }
    }
    return 0;
}
