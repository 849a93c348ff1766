/* fuzz_tokenizer_json.c - libFuzzer harness for the Hugging Face
 * tokenizer.json + tokenizer_config.json loader (tok_load_hf_json).
 *
 * Input: tokenizer.json text, optionally followed by FUZZ_SPLIT and a
 * tokenizer_config.json text. Both are passed as exactly sized buffers
 * without NUL terminators. When the tokenizer loads, a few fixed strings are
 * encoded (with and without special-token parsing) and decoded again, and
 * the vocabulary facts are read, so that a loader that accepts an
 * inconsistent description (ids out of range, empty vocab, dangling merges)
 * shows up as a memory error in the algorithms. */
#include "text/tokenizer.h"
#include "fuzz_common.h"

static volatile uint64_t fuzz_sink;

static const char *const probe_texts[] = {
    "Hello world! 123 <s></s><|im_start|>user\n", " \t\n  leading spaces", "\xe2\x96\x81x\xf0\x9f\x98\x80 caf\xc3\xa9",
    "\xff\xfe broken \xc3", "",
};

static void exercise(const struct tokenizer *tok)
{
    int32_t n_vocab = tok_n_vocab(tok);
    fuzz_sink += (uint64_t)n_vocab + (uint64_t)tok_bos(tok) + (uint64_t)tok_eos(tok) + (uint64_t)tok_eot(tok);
    fuzz_sink += (uint64_t)tok_pad(tok) + (uint64_t)tok_unk(tok) + tok_add_bos(tok) + tok_add_eos(tok);
    size_t n_eog = 0;
    const int32_t *eog = tok_eog_ids(tok, &n_eog);
    for (size_t i = 0; i < n_eog; i++) fuzz_sink += (uint64_t)eog[i];
    const char *tmpl = tok_chat_template(tok);
    if (tmpl) fuzz_sink += strlen(tmpl);
    fuzz_sink += strlen(tok_bos_text(tok)) + strlen(tok_eos_text(tok));
    fuzz_sink += strlen(tok_model_name(tok)) + strlen(tok_source_name(tok));
    for (int32_t id = 0; id < n_vocab && id < 512; id++) {
        size_t len = 0;
        const char *s = tok_token_text(tok, id, &len);
        if (s) fuzz_sink += len + (uint64_t)tok_id_of(tok, s, len);
        char piece[64];
        fuzz_sink += (uint64_t)tok_token_to_piece(tok, id, 0, piece, sizeof piece);
    }
    for (size_t t = 0; t < sizeof probe_texts / sizeof probe_texts[0]; t++) {
        for (int flags = 0; flags < 4; flags++) {
            int32_t *ids = NULL;
            size_t n = 0;
            inf_error err = {0};
            if (tok_encode(tok, probe_texts[t], strlen(probe_texts[t]), flags, &ids, &n, &err) == 0) {
                size_t out_len = 0;
                char *text = tok_decode(tok, ids, n, flags & 1 ? TOK_DECODE_SKIP_SPECIAL : 0, &out_len);
                if (text) fuzz_sink += out_len;
                free(text);
            }
            free(ids);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t a_len, b_len;
    const char *b;
    fuzz_split((const char *)data, size, &a_len, &b, &b_len);
    char *json = fuzz_copy(data, a_len);
    char *config = b ? fuzz_copy(b, b_len) : NULL;
    if (!json || (b && !config)) { free(json); free(config); return 0; }
    struct tokenizer *tok = NULL;
    inf_error err = {0};
    if (tok_load_hf_json(json, a_len, config, b_len, &tok, &err) == 0) {
        exercise(tok);
        tok_free(tok);
    }
    free(json);
    free(config);
    return 0;
}
