/* tokenizer_impl.h - the tokenizer's internal description, shared by the
 * loaders (tokenizer_gguf.c, tokenizer_json.c) and the algorithms
 * (tokenizer.c, tokenizer_bpe.c, tokenizer_spm.c, tokenizer_wordpiece.c,
 * pretokenize.c). Not API.
 *
 * A loader creates a tokenizer with tokd_new(), fills the vocabulary
 * (tokd_set_token), builds the lookup map (tokd_index_vocab), adds merges and
 * added tokens, appends pipeline steps, sets the special ids and flags, and
 * calls tokd_finalize(). After that the object is immutable. */
#ifndef INF_TEXT_TOKENIZER_IMPL_H
#define INF_TEXT_TOKENIZER_IMPL_H

#include "base/error.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "text/tokenizer.h"

enum tok_model { TOK_MODEL_SPM = 1, TOK_MODEL_BPE, TOK_MODEL_WPM };
enum tok_flavor { TOK_FLAVOR_LLAMA = 1, TOK_FLAVOR_HF };

/* ---- hash map: byte string -> int32 ---- */
struct tok_strmap {
    struct tok_strmap_slot { uint32_t hash; int32_t val; uint32_t off; uint32_t len; } *slots;
    uint32_t mask;
    uint32_t count;
    char *const *base;           /* keys are offsets into *base (the tokenizer's string pool) */
};
uint32_t tok_hash_bytes(const char *s, size_t n);
int tok_strmap_init(struct tok_strmap *m, size_t expected, char *const *base);
void tok_strmap_free(struct tok_strmap *m);
/* key is *base + off. Overwrites when overwrite, else keeps the old. 1 when it existed. */
int tok_strmap_put(struct tok_strmap *m, uint32_t off, uint32_t len, int32_t val, bool overwrite);
int32_t tok_strmap_get(const struct tok_strmap *m, const char *key, size_t len); /* -1 absent */

/* ---- merges: (id a, id b) -> (rank, merged id) ---- */
struct tok_mergemap {
    struct tok_merge_slot { uint64_t key; int32_t rank; int32_t id; } *slots; /* key 0 = empty */
    uint32_t mask;
    uint32_t count;
};

static inline uint64_t tok_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}
static inline uint64_t tok_merge_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)(a + 1) << 32) | (uint32_t)b; }
int tok_mergemap_reserve(struct tok_mergemap *m, size_t n);
int tok_mergemap_put(struct tok_mergemap *m, int32_t a, int32_t b, int32_t rank, int32_t id, bool first_wins);

/* ---- added/special token matcher (byte trie) ---- */
struct tok_trie {
    int32_t *node_tok;       /* per node: pattern index ending here, or -1 */
    uint32_t n_nodes, cap_nodes;
    struct tok_edge { uint32_t key_hi; uint32_t child; } *edges; /* key_hi = node<<8|byte, +1; 0 empty */
    uint32_t edge_mask, n_edges;
    uint8_t first_byte[32];  /* bitmap of possible first bytes */
};

struct tok_pattern {         /* one matchable added token */
    int32_t id;
    const char *text;        /* pattern bytes (may be a normalized copy); set at the end of finalize */
    uint32_t off;            /* its offset in the pool */
    uint32_t len;
    uint32_t flags;          /* TOK_ATTR_* (lstrip, rstrip, single_word, control...) */
    bool special;            /* HF "special": skipped by the plain-text mode */
};

struct tok_matcher {
    struct tok_pattern *pats;
    uint32_t n_pats, cap_pats;
    struct tok_trie trie;
};

/* ---- pipeline steps (HF vocabulary; GGUF BPE is expressed with them) ---- */
enum tok_norm_kind { NM_NFC = 1, NM_NFD, NM_NFKC, NM_NFKD, NM_PREPEND, NM_REPLACE, NM_LOWERCASE, NM_STRIP,
                     NM_STRIP_ACCENTS };
struct tok_norm {
    int kind;
    char *a; size_t alen;        /* prepend text / replace pattern (literal) */
    char *b; size_t blen;        /* replace content */
    pcre2_code *re;              /* replace regex */
    bool left, right;            /* strip */
};

enum tok_split_behavior { SB_REMOVED = 1, SB_ISOLATED, SB_MERGED_PREV, SB_MERGED_NEXT, SB_CONTIGUOUS };
enum tok_pre_kind { PT_SPLIT = 1, PT_BYTELEVEL, PT_METASPACE, PT_DIGITS, PT_WHITESPACE, PT_WHITESPACE_SPLIT,
                    PT_PUNCT, PT_BERT };
enum tok_prepend_scheme { PS_ALWAYS = 1, PS_FIRST, PS_NEVER };
struct tok_pre {
    int kind;
    pcre2_code *re;              /* split regex (or NULL with a literal) */
    char *lit; size_t lit_len;   /* split literal */
    int behavior;
    bool invert;
    bool add_prefix_space, use_regex;   /* bytelevel */
    uint32_t repl_cp; char repl[5]; int repl_len; int prepend_scheme; bool split; /* metaspace */
    bool individual_digits;
};

enum tok_dec_kind { DEC_BYTELEVEL = 1, DEC_METASPACE, DEC_BYTEFALLBACK, DEC_FUSE, DEC_STRIP, DEC_REPLACE,
                    DEC_WORDPIECE };
struct tok_dec {
    int kind;
    char *a; size_t alen;        /* replace pattern / strip content (utf-8 of one char) / wordpiece prefix */
    char *b; size_t blen;        /* replace content */
    pcre2_code *re;
    uint32_t cp;                 /* metaspace replacement / strip content */
    int prepend_scheme;
    size_t start, stop;          /* strip */
    bool cleanup;                /* wordpiece */
};

struct tok_token {
    uint32_t off, len;           /* into pool */
    float score;
    uint32_t attr;
};

struct tokenizer {
    int model, flavor;
    uint64_t serial;             /* unique per tokenizer: keys the per-thread BPE word cache */
    int32_t n_vocab;
    struct tok_token *toks;
    char *pool; size_t pool_len, pool_cap;

    struct tok_strmap vocab;     /* model vocabulary (GGUF: all tokens) */
    struct tok_strmap added;     /* HF added tokens (content -> id) */
    struct tok_mergemap merges;
    bool merges_first_wins;      /* llama.cpp keeps the first of duplicate merges */
    int32_t max_token_len;

    /* added/special tokens */
    struct tok_matcher m_raw;    /* matched on the raw text */
    struct tok_matcher m_norm;   /* HF: matched on normalized text */
    bool llama_longest_first;    /* llama.cpp partition order */

    /* pipeline */
    struct tok_norm *norms; int n_norms;
    struct tok_pre *pres; int n_pres;
    struct tok_dec *decs; int n_decs;
    int32_t *post_pre; int n_post_pre;   /* ids before the sequence (TOK_ADD_SPECIAL) */
    int32_t *post_post; int n_post_post; /* ids after */

    /* BPE options */
    bool byte_fallback, ignore_merges, fuse_unk;
    char *cont_prefix; size_t cont_prefix_len;
    char *eow_suffix; size_t eow_suffix_len;
    int32_t unk_id;              /* HF model unk (BPE unk_token), -1 none */
    int32_t byte_ids[256];       /* <0xXX> ids, -1 none */
    int32_t bytechar_ids[256];   /* byte-level single-char tokens, -1 none */

    /* llama.cpp options */
    bool add_space_prefix;       /* SPM */
    bool clean_spaces;
    bool wpm_lowercase, wpm_strip_accents;
    bool llama_sanitize;         /* llama.cpp FFFD replacement before the regex */

    /* special ids */
    int32_t bos, eos, eot, eom, unk, sep, pad, cls, mask;
    bool add_bos, add_eos, add_sep;
    int32_t *eog; size_t n_eog;

    char *chat_template;
    char *name;
    char *bos_text, *eos_text;
};

/* ---- building ---- */
struct tokenizer *tokd_new(int model, int flavor);
int tokd_set_vocab_size(struct tokenizer *t, int32_t n);
/* Copies text. */
int tokd_set_token(struct tokenizer *t, int32_t id, const char *text, size_t len, float score, uint32_t attr);
int tokd_index_vocab(struct tokenizer *t, inf_error *err); /* builds t->vocab */
/* Merge "a b" by strings (resolved with t->vocab; prefix stripped from b as HF does). Returns 0, or 1 when an
 * element is missing from the vocabulary (skipped). */
int tokd_add_merge(struct tokenizer *t, const char *a, size_t alen, const char *b, size_t blen, int32_t rank);
/* Many merges at once (batched, with prefetching: loading is bound by
 * hash-table cache misses). Ranks are base_rank + i. *first_missing gets the
 * index of the first merge with a part missing from the vocabulary (skipped),
 * or (size_t)-1. */
struct tok_merge_src { const char *a, *b; uint32_t alen, blen; };
int tokd_add_merges(struct tokenizer *t, const struct tok_merge_src *m, size_t n, int32_t base_rank,
                    size_t *first_missing);
/* HF added token (also registers content -> id). */
int tokd_add_added(struct tokenizer *t, int32_t id, const char *content, size_t len, bool special,
                   bool normalized, bool lstrip, bool rstrip, bool single_word);
struct tok_norm *tokd_push_norm(struct tokenizer *t, int kind);
struct tok_pre *tokd_push_pre(struct tokenizer *t, int kind);
struct tok_dec *tokd_push_dec(struct tokenizer *t, int kind);
int tokd_set_post(struct tokenizer *t, const int32_t *pre, int n_pre, const int32_t *post, int n_post);
/* Compiles a pattern with the flavor's flags; NULL + message on error. */
pcre2_code *tokd_compile_regex(const struct tokenizer *t, const char *pat, size_t len, inf_error *err);
char *tokd_strdup(const char *s, size_t n);
/* Derives byte tables, matchers, EOG set. */
int tokd_finalize(struct tokenizer *t, inf_error *err);

static inline const char *tok_text_of(const struct tokenizer *t, int32_t id) { return t->pool + t->toks[id].off; }

/* ---- algorithms (per piece) ---- */
struct tok_ids { int32_t *v; size_t n, cap; };
int tok_ids_push(struct tok_ids *o, int32_t id);

/* scratch reused across pieces of one encode call */
struct tok_scratch {
    void *sym; size_t sym_cap;
    void *heap; size_t heap_cap;
    char *buf; size_t buf_cap;
};
void tok_scratch_free(struct tok_scratch *s);

int tok_bpe_word(const struct tokenizer *t, const char *w, size_t n, struct tok_ids *out, struct tok_scratch *s);
int tok_spm_text(const struct tokenizer *t, const char *w, size_t n, struct tok_ids *out, struct tok_scratch *s);
int tok_wpm_text(const struct tokenizer *t, const char *w, size_t n, struct tok_ids *out);

/* ---- pre-tokenization ---- */
struct tok_piece { size_t off, len; bool first; };
struct tok_pieces {
    char *buf; size_t len, cap;
    struct tok_piece *p; size_t n, cap_p;
};
void tok_pieces_free(struct tok_pieces *ps);
void tok_pieces_reset(struct tok_pieces *ps);
int tok_pieces_add(struct tok_pieces *ps, const char *s, size_t n, bool first);
/* Runs t's pre-tokenizer steps over text (one fragment). first: whether the
 * fragment starts at offset 0 of the input (Metaspace prepend_scheme first).
 * The result lands in *out (tmp is scratch). */
int tok_pretokenize(const struct tokenizer *t, const char *text, size_t n, bool first, struct tok_pieces *out,
                    struct tok_pieces *tmp);
/* Normalizers over one fragment: malloc'd result. */
char *tok_normalize(const struct tokenizer *t, const char *text, size_t n, size_t *out_len);
/* Regex iteration: calls fn(start, end) for each non-empty match in s[0..n). */
typedef int (*tok_match_fn)(void *ctx, size_t start, size_t end);
int tok_regex_foreach(const pcre2_code *re, const char *s, size_t n, tok_match_fn fn, void *ctx);

/* ---- special tokens (tokenizer_special.c) ---- */
struct frag { size_t off, len; int32_t id; }; /* id >= 0: token; else raw text */
struct frags { struct frag *v; size_t n, cap; };
int tok_matcher_add(struct tok_matcher *m, int32_t id, uint32_t off, uint32_t len, uint32_t flags, bool special);
int tok_matcher_build(struct tok_matcher *m);
void tok_matcher_free(struct tok_matcher *m);
int tok_frags_push(struct frags *f, size_t off, size_t len, int32_t id);
/* A text cut into matches of the added tokens and the plain runs between,
 * by Hugging Face's rules (split_hf) or llama.cpp's (split_llama). */
int tok_split_hf(const struct tok_matcher *m, const char *s, size_t n, size_t base, bool parse_special,
                 struct frags *out);
int tok_split_llama(const struct tok_matcher *m, const char *s, size_t n, bool parse_special, struct frags *out);

#endif
