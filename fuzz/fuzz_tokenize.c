/* fuzz_tokenize.c - libFuzzer harness for tokenizer encode and decode on
 * real vocabularies.
 *
 * At start-up it loads the tokenizers of the test data (SPM, BPE and
 * WordPiece GGUF vocabs, Hugging Face tokenizer.json directories) from
 * $INF_TESTDATA (default ../shared/testdata). Each input's first byte picks
 * a tokenizer and the encode flags; the rest is the text. The text is
 * encoded, every id is checked to be in the vocabulary, the ids are decoded
 * whole and token by token through the UTF-8 stream helper; then the raw
 * input bytes are reinterpreted as token ids (many out of range) and decoded,
 * which must skip unknown ids rather than read out of bounds. */
#include "text/tokenizer.h"
#include "fuzz_common.h"

#include <stdio.h>

static volatile uint64_t fuzz_sink;

#define MAX_TOKENIZERS 16
static struct tokenizer *tokenizers[MAX_TOKENIZERS];
static int n_tokenizers;

static void load_gguf(const char *root, const char *rel)
{
    char path[4096];
    inf_error err = {0};
    struct tokenizer *t = NULL;
    snprintf(path, sizeof path, "%s/%s", root, rel);
    if (n_tokenizers < MAX_TOKENIZERS && tok_load_gguf_path(path, &t, &err) == 0)
        tokenizers[n_tokenizers++] = t;
    else
        fprintf(stderr, "fuzz_tokenize: not using %s: %s\n", rel, err.message);
}

static void load_hf(const char *root, const char *rel)
{
    char path[4096];
    inf_error err = {0};
    struct tokenizer *t = NULL;
    snprintf(path, sizeof path, "%s/%s", root, rel);
    if (n_tokenizers < MAX_TOKENIZERS && tok_load_hf_dir(path, &t, &err) == 0)
        tokenizers[n_tokenizers++] = t;
    else
        fprintf(stderr, "fuzz_tokenize: not using %s: %s\n", rel, err.message);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    const char *root = getenv("INF_TESTDATA");
    if (!root) root = "../shared/testdata";
    load_gguf(root, "models/stories260K.gguf");
    load_gguf(root, "vocab/ggml-vocab-llama-spm.gguf");
    load_gguf(root, "vocab/ggml-vocab-gpt-2.gguf");
    load_gguf(root, "vocab/ggml-vocab-bert-bge.gguf");
    load_gguf(root, "vocab/ggml-vocab-deepseek-coder.gguf");
    load_gguf(root, "vocab/ggml-vocab-falcon.gguf");
    load_hf(root, "tokenizers/llama2");
    load_hf(root, "tokenizers/llama3");
    load_hf(root, "tokenizers/qwen3");
    if (n_tokenizers == 0) {
        fprintf(stderr, "fuzz_tokenize: no tokenizer could be loaded from %s\n", root);
        exit(1);
    }
    fprintf(stderr, "fuzz_tokenize: %d tokenizers loaded\n", n_tokenizers);
    return 0;
}

static void decode_pieces(const struct tokenizer *tok, const int32_t *ids, size_t n, int flags)
{
    struct tok_utf8_stream st;
    tok_utf8_stream_init(&st, (flags & 2) != 0);
    char piece[256];
    char out[256 + 12];
    for (size_t i = 0; i < n; i++) {
        int len = tok_token_to_piece(tok, ids[i], flags & 1, piece, sizeof piece);
        if (len < 0) continue;
        size_t got = (size_t)len < sizeof piece ? (size_t)len : sizeof piece;
        int w = tok_utf8_stream_push(&st, piece, got, out, sizeof out);
        if (w > 0) fuzz_sink += (unsigned char)out[w - 1];
    }
    fuzz_sink += (uint64_t)tok_utf8_stream_flush(&st, out, sizeof out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const struct tokenizer *tok = tokenizers[data[0] % n_tokenizers];
    int flags = (data[0] / MAX_TOKENIZERS) & 3;
    char *text = fuzz_copy(data + 1, size - 1);
    if (!text) return 0;
    int32_t *ids = NULL;
    size_t n = 0;
    inf_error err = {0};
    int32_t n_vocab = tok_n_vocab(tok);
    if (tok_encode(tok, text, size - 1, flags, &ids, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (ids[i] < 0 || ids[i] >= n_vocab) {
                fprintf(stderr, "fuzz_tokenize: id %d out of the vocabulary (%d)\n", ids[i], n_vocab);
                abort();
            }
        }
        size_t out_len = 0;
        char *dec = tok_decode(tok, ids, n, flags & 1, &out_len);
        if (dec) fuzz_sink += out_len + strlen(dec);
        free(dec);
        decode_pieces(tok, ids, n, flags);
    }
    free(ids);
    /* The raw bytes as ids: mostly out of range, all must be skipped safely. */
    size_t n_raw = (size - 1) / sizeof(int32_t);
    int32_t *raw = malloc(n_raw ? n_raw * sizeof *raw : 1);
    if (raw) {
        if (n_raw) memcpy(raw, data + 1, n_raw * sizeof *raw);
        for (size_t i = 0; i < n_raw; i++)
            if (data[0] & 0x80) raw[i] = (int32_t)((uint32_t)raw[i] % (uint32_t)(n_vocab + 8)) - 4;
        size_t out_len = 0;
        char *dec = tok_decode(tok, raw, n_raw, flags & 1, &out_len);
        if (dec) fuzz_sink += out_len;
        free(dec);
        decode_pieces(tok, raw, n_raw, flags);
        free(raw);
    }
    free(text);
    return 0;
}
