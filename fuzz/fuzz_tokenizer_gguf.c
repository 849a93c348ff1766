/* fuzz_tokenizer_gguf.c - libFuzzer harness for the GGUF tokenizer loader
 * (tok_load_gguf: the tokenizer.ggml.* metadata with llama.cpp's
 * semantics) on top of the GGUF reader.
 *
 * Input: a GGUF file. When it opens and a tokenizer loads from it, a few
 * fixed strings are encoded (every flag combination), every id is checked
 * against the vocabulary size, and the ids are decoded whole and piece by
 * piece. The GGUF is closed before the tokenizer is used, as the loader
 * promises to copy everything it needs. */
#include "formats/gguf.h"
#include "text/tokenizer.h"
#include "fuzz_common.h"

#include <stdio.h>

static volatile uint64_t fuzz_sink;

static const char *const probe_texts[] = {
    "Hello world! 123 <s></s><|im_start|>user\n", " \t\n  leading  spaces", "\xe2\x96\x81x\xf0\x9f\x98\x80 caf\xc3\xa9",
    "\xff\xfe broken \xc3", "",
};

static void exercise(const struct tokenizer *tok)
{
    int32_t n_vocab = tok_n_vocab(tok);
    for (size_t t = 0; t < sizeof probe_texts / sizeof probe_texts[0]; t++) {
        for (int flags = 0; flags < 4; flags++) {
            int32_t *ids = NULL;
            size_t n = 0;
            inf_error err = {0};
            if (tok_encode(tok, probe_texts[t], strlen(probe_texts[t]), flags, &ids, &n, &err) == 0) {
                for (size_t i = 0; i < n; i++) {
                    if (ids[i] < 0 || ids[i] >= n_vocab) {
                        fprintf(stderr, "fuzz_tokenizer_gguf: id %d outside the vocabulary (%d)\n", ids[i], n_vocab);
                        abort();
                    }
                    char piece[64];
                    fuzz_sink += (uint64_t)tok_token_to_piece(tok, ids[i], flags & 1, piece, sizeof piece);
                }
                size_t out_len = 0;
                char *text = tok_decode(tok, ids, n, flags & 1 ? TOK_DECODE_SKIP_SPECIAL : 0, &out_len);
                if (text) fuzz_sink += out_len;
                free(text);
            }
            free(ids);
        }
    }
    size_t n_eog = 0;
    const int32_t *eog = tok_eog_ids(tok, &n_eog);
    for (size_t i = 0; i < n_eog; i++) fuzz_sink += (uint64_t)tok_is_eog(tok, eog[i]);
    const char *tmpl = tok_chat_template(tok);
    if (tmpl) fuzz_sink += strlen(tmpl);
    fuzz_sink += strlen(tok_bos_text(tok)) + strlen(tok_eos_text(tok));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = fuzz_copy(data, size);
    if (!copy) return 0;
    struct gguf_file *f = NULL;
    inf_error err = {0};
    if (gguf_open_memory(copy, size, "fuzz.gguf", &f, &err) == 0) {
        struct tokenizer *tok = NULL;
        int rc = tok_load_gguf(f, &tok, &err);
        gguf_close(f);
        if (rc == 0) {
            exercise(tok);
            tok_free(tok);
        }
    }
    free(copy);
    return 0;
}
