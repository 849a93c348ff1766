/* tokenizer_wordpiece.c - BERT WordPiece as llama.cpp's
 * llm_tokenizer_wpm_session (GGUF "bert" vocabularies, whose continuation
 * pieces were stored without "##" and word starts with a U+2581 prefix):
 * lower-case / strip accents, split on whitespace, punctuation, ASCII symbols
 * and CJK ideographs, then greedy longest match per word; a word that cannot
 * be covered becomes [UNK]. */
#include "text/tokenizer_impl.h"
#include "base/buf.h"
#include "text/unicode.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static bool is_chinese(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static bool is_ctrl(uint32_t c)
{
    if (c > 0x10FFFF) return false;
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CO: case UTF8PROC_CATEGORY_CS:
        return true;
    default:
        return false;
    }
}

static int word_tokens(const struct tokenizer *t, const char *w, size_t wl, struct tok_ids *out)
{
    if (wl == 0) return 0;
    /* "\u2581" + word */
    char *s = malloc(wl + 3);
    if (!s) return -1;
    memcpy(s, "\xe2\x96\x81", 3);
    memcpy(s + 3, w, wl);
    size_t n = wl + 3;
    size_t base = out->n;
    for (size_t i = 0; i < n; i++) {
        bool match = false;
        size_t jmax = i + (size_t)t->max_token_len + 1;
        if (jmax > n) jmax = n;
        for (size_t j = jmax; j > i; j--) {
            int32_t id = tok_strmap_get(&t->vocab, s + i, j - i);
            if (id >= 0) {
                if (tok_ids_push(out, id)) { free(s); return -1; }
                match = true;
                i = j - 1;
                break;
            }
        }
        if (!match) { out->n = base; break; }
    }
    free(s);
    if (out->n == base && t->unk >= 0) return tok_ids_push(out, t->unk);
    return 0;
}

int tok_wpm_text(const struct tokenizer *t, const char *text, size_t n, struct tok_ids *out)
{
    /* code points, llama.cpp style */
    uint32_t *cp = malloc((n + 1) * sizeof *cp);
    if (!cp) return -1;
    size_t nc = 0;
    for (size_t i = 0; i < n;) {
        size_t adv;
        cp[nc++] = tu_decode_llama((const unsigned char *)text + i, n - i, &adv);
        i += adv;
    }
    if (t->wpm_strip_accents) {
        /* llama.cpp's "NFD" maps each code point to the first code point of
         * its canonical decomposition (its table has one target per range),
         * so marks are dropped rather than split off; Hangul syllables map to
         * their leading jamo. */
        for (size_t i = 0; i < nc; i++) {
            uint32_t c = cp[i];
            if (c < 0xC0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) continue;
            utf8proc_int32_t dst[32];
            int last = 0;
            utf8proc_ssize_t r = utf8proc_decompose_char((utf8proc_int32_t)c, dst, 32, UTF8PROC_DECOMPOSE, &last);
            if (r >= 1 && r <= 32) cp[i] = (uint32_t)dst[0];
        }
    }
    struct buf word = {0};
    int rc = 0;
    for (size_t i = 0; i < nc && !rc; i++) {
        uint32_t c = cp[i];
        unsigned f = tu_flags(c);
        if (f & TU_WS) {
            rc = word_tokens(t, word.p, word.n, out);
            word.n = 0;
            continue;
        }
        if (c == 0 || c == 0xFFFD || is_ctrl(c)) continue;
        if (t->wpm_strip_accents && (f & TU_CAT_M)) continue;
        if (t->wpm_lowercase) c = tu_tolower(c);
        char e[4];
        int el = tu_encode(c, e);
        if ((f & TU_CAT_P) || (c < 0x7F && (f & TU_CAT_S)) || is_chinese(c)) {
            rc = word_tokens(t, word.p, word.n, out);
            word.n = 0;
            if (!rc) rc = word_tokens(t, e, (size_t)el, out);
        } else {
            buf_put(&word, e, (size_t)el);
            rc = word.oom ? -1 : 0;
        }
    }
    if (!rc) rc = word_tokens(t, word.p, word.n, out);
    free(word.p);
    free(cp);
    return rc;
}
