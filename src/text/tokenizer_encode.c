/* tokenizer_encode.c - text to ids: the two pipelines over the partition
 * of special tokens, Hugging Face's (normaliser, pre-tokenizer, model,
 * post-processor) and llama.cpp's SentencePiece/GGUF one (space prefix,
 * pre-tokenizer regexes, model, BOS/EOS). */
#include "text/tokenizer_impl.h"
#include "text/unicode.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        rc = tok_split_hf(&t->m_norm, ns, nl, 0, parse_special, &fr);
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
        if (tok_split_hf(&t->m_raw, text, len, 0, parse_special, &fr)) goto oom;
        for (size_t k = 0; k < fr.n && !rc; k++) {
            if (fr.v[k].id >= 0) rc = tok_ids_push(&e.out, fr.v[k].id);
            else rc = encode_hf_fragment(&e, text + fr.v[k].off, fr.v[k].len, fr.v[k].off == 0, parse_special);
        }
        for (int i = 0; !rc && add_special && i < t->n_post_post; i++) rc = tok_ids_push(&e.out, t->post_post[i]);
    } else {
        if (tok_split_llama(&t->m_raw, text, len, parse_special, &fr)) goto oom;
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
