/* tokenizer_spm.c - SentencePiece-style merging by score, as llama.cpp's
 * llm_tokenizer_spm_session: start from UTF-8 characters (lead-byte length,
 * so invalid bytes stay single symbols), repeatedly merge the adjacent pair
 * whose concatenation is a vocabulary token with the highest score (ties:
 * leftmost), then emit each symbol's id or its bytes as <0xXX> tokens.
 *
 * The caller has already escaped spaces to U+2581 and added the prefix. */
#include "text/tokenizer_impl.h"
#include "text/unicode.h"

#include <stdlib.h>
#include <string.h>

struct ssym { uint32_t off, n; int32_t prev, next; };
struct sbig { float score; int32_t left, right; uint32_t size; };

static inline bool better(const struct sbig *a, const struct sbig *b)
{
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void push(struct sbig *h, size_t *n, struct sbig e)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!better(&e, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = e;
}

static struct sbig pop(struct sbig *h, size_t *n)
{
    struct sbig top = h[0], last = h[--(*n)];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && better(&h[c + 1], &h[c])) c++;
        if (!better(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (m) h[i] = last;
    return top;
}

static int reserve(void **p, size_t *cap, size_t need, size_t elem)
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

static int try_add(const struct tokenizer *t, const char *w, struct ssym *sy, int32_t l, int32_t r, struct tok_scratch *s,
                   size_t *hn)
{
    if (l < 0 || r < 0) return 0;
    uint32_t size = sy[l].n + sy[r].n;
    int32_t id = tok_strmap_get(&t->vocab, w + sy[l].off, size);
    if (id < 0 || id >= t->n_vocab) return 0;
    if (reserve(&s->heap, &s->heap_cap, *hn + 1, sizeof(struct sbig))) return -1;
    push(s->heap, hn, (struct sbig){t->toks[id].score, l, r, size});
    return 0;
}

static int32_t byte_token(const struct tokenizer *t, unsigned char c)
{
    if (t->byte_ids[c] >= 0) return t->byte_ids[c];
    char b = (char)c;
    int32_t id = tok_strmap_get(&t->vocab, &b, 1);
    return id >= 0 ? id : t->unk;
}

int tok_spm_text(const struct tokenizer *t, const char *w, size_t n, struct tok_ids *out, struct tok_scratch *s)
{
    if (n == 0) return 0;
    if (reserve(&s->sym, &s->sym_cap, n, sizeof(struct ssym))) return -1;
    struct ssym *sy = s->sym;
    int32_t ns = 0;
    for (size_t off = 0; off < n;) {
        size_t l = tu_len_lead((unsigned char)w[off]);
        if (l > n - off) l = n - off;
        sy[ns] = (struct ssym){(uint32_t)off, (uint32_t)l, ns - 1, off + l == n ? -1 : ns + 1};
        ns++;
        off += l;
    }
    size_t hn = 0;
    for (int32_t i = 1; i < ns; i++)
        if (try_add(t, w, sy, i - 1, i, s, &hn)) return -1;
    while (hn) {
        struct sbig b = pop(s->heap, &hn);
        struct ssym *L = &sy[b.left], *R = &sy[b.right];
        if (L->n == 0 || R->n == 0 || L->n + R->n != b.size) continue;
        L->n += R->n;
        R->n = 0;
        L->next = R->next;
        if (R->next >= 0) sy[R->next].prev = b.left;
        if (try_add(t, w, sy, L->prev, b.left, s, &hn)) return -1;
        if (try_add(t, w, sy, b.left, L->next, s, &hn)) return -1;
    }
    for (int32_t i = 0; i != -1; i = sy[i].next) {
        int32_t id = tok_strmap_get(&t->vocab, w + sy[i].off, sy[i].n);
        if (id >= 0) {
            if (tok_ids_push(out, id)) return -1;
            continue;
        }
        for (uint32_t k = 0; k < sy[i].n; k++) {
            int32_t bid = byte_token(t, (unsigned char)w[sy[i].off + k]);
            if (bid >= 0 && tok_ids_push(out, bid)) return -1;
        }
    }
    return 0;
}
