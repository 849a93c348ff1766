/* tokenizer_special.c - special and added tokens: the byte trie that finds
 * them in a text, and the partition of a text into their matches and the
 * plain runs between (Hugging Face's rules: lstrip/rstrip/single_word,
 * normalized; llama.cpp's: longest match, control tokens only when asked). */
#include "text/tokenizer_impl.h"
#include "text/unicode.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tok_matcher_add(struct tok_matcher *m, int32_t id, uint32_t off, uint32_t len, uint32_t flags, bool special)
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

int tok_matcher_build(struct tok_matcher *m)
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

void tok_matcher_free(struct tok_matcher *m)
{
    free(m->pats);
    free(m->trie.node_tok);
    free(m->trie.edges);
    memset(m, 0, sizeof *m);
}

/* ---- partition: special/added tokens ---- */


int tok_frags_push(struct frags *f, size_t off, size_t len, int32_t id)
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
int tok_split_hf(const struct tok_matcher *m, const char *s, size_t n, size_t base, bool parse_special,
                 struct frags *out)
{
    size_t start_offset = 0;
    if (m->n_pats == 0 || n == 0) return tok_frags_push(out, base, n, -1);
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
        if (start_offset < start && tok_frags_push(out, base + start_offset, start - start_offset, -1)) return -1;
        if (tok_frags_push(out, base + start, stop - start, pt->id)) return -1;
        start_offset = stop;
    }
    if (start_offset != n && tok_frags_push(out, base + start_offset, n - start_offset, -1)) return -1;
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
int tok_split_llama(const struct tok_matcher *m, const char *s, size_t n, bool parse_special, struct frags *out)
{
    if (n == 0) return 0;
    if (m->n_pats == 0) return tok_frags_push(out, 0, n, -1);
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
    if (no == 0) { free(oc); return tok_frags_push(out, 0, n, -1); }
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
            rc = tok_frags_push(out, i, oc[k].len, oc[k].id);
            i += oc[k].len;
            k++;
        } else if (state[i] == 2) {
            i++;
        } else {
            size_t j = i;
            while (j < n && state[j] == 0) j++;
            rc = tok_frags_push(out, i, j - i, -1);
            i = j;
        }
    }
    free(state);
    free(oc);
    return rc;
}
