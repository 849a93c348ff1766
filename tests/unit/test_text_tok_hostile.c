/* test_text_tok_hostile.c - hostile Hugging Face tokenizer.json and
 * tokenizer_config.json texts against tok_load_hf_json().
 *
 * Each must either load into a tokenizer that encodes and decodes without
 * producing an id outside its vocabulary, or be refused with a message; never
 * crash, under ASan, and quickly. The texts are passed without a NUL
 * terminator, in exactly sized heap copies. */
#include "text/tokenizer.h"
#include "test_util.h"

#include <time.h>

static char *heap_copy(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    if (n) memcpy(p, s, n);
    return p;
}

/* want_fail: 1 must be refused, 0 may go either way. */
static void try_load(const char *what, const char *json, const char *config, int want_fail, const char *want)
{
    size_t jl = strlen(json), cl = config ? strlen(config) : 0;
    char *j = heap_copy(json, jl);
    char *c = config ? heap_copy(config, cl) : NULL;
    struct tokenizer *tok = NULL;
    inf_error err = {0};
    clock_t t0 = clock();
    int rc = tok_load_hf_json(j, jl, c, cl, &tok, &err);
    if (rc == 0) {
        const char *texts[] = {"hello world ab", "\xff\xfe<s> x", ""};
        for (size_t t = 0; t < 3; t++) {
            for (int flags = 0; flags < 4; flags++) {
                int32_t *ids = NULL;
                size_t n = 0;
                inf_error e2 = {0};
                if (tok_encode(tok, texts[t], strlen(texts[t]), flags, &ids, &n, &e2) == 0) {
                    for (size_t i = 0; i < n; i++)
                        CHECK_MSG(ids[i] >= 0 && ids[i] < tok_n_vocab(tok), "%s: id %d outside the vocab of %d", what,
                                  ids[i], tok_n_vocab(tok));
                    free(tok_decode(tok, ids, n, flags & 1, NULL));
                }
                free(ids);
            }
        }
        tok_free(tok);
    }
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    if (want_fail) CHECK_MSG(rc != 0, "%s: accepted", what);
    if (rc != 0) CHECK_MSG(err.message[0] != 0, "%s: refused without a message", what);
    if (want && rc != 0) CHECK_MSG(strstr(err.message, want) != NULL, "%s: message '%s' lacks '%s'", what, err.message, want);
    CHECK_MSG(secs < 5.0, "%s: took %.1f s", what, secs);
    printf("%-32s -> %s\n", what, rc == 0 ? "loaded" : err.message);
    free(j);
    free(c);
}

#define BPE_HEAD "{\"version\":\"1.0\",\"added_tokens\":["
#define BPE_MID "],\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false," \
    "\"trim_offsets\":true,\"use_regex\":true},\"post_processor\":null,\"decoder\":{\"type\":\"ByteLevel\"}," \
    "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"byte_fallback\":false,"

int main(void)
{
    /* a sane base */
    try_load("base", BPE_HEAD BPE_MID "\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"h\":3},\"merges\":[\"a b\"]}}", NULL, 0, NULL);
    /* merges naming missing tokens, malformed merges */
    try_load("merges with unknown tokens",
             BPE_HEAD BPE_MID "\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"x y\",\"a b\",\"a\",\"\",\"a b c\"]}}", NULL, 0, NULL);
    try_load("merges wrong type", BPE_HEAD BPE_MID "\"vocab\":{\"a\":0},\"merges\":[1,[2],{\"a\":1}]}}", NULL, 0, NULL);
    try_load("no merges key", BPE_HEAD BPE_MID "\"vocab\":{\"a\":0,\"b\":1}}}", NULL, 0, NULL);
    /* ids: negative, huge, duplicated, holes */
    try_load("negative id", BPE_HEAD BPE_MID "\"vocab\":{\"a\":-1,\"b\":1},\"merges\":[]}}", NULL, 1, NULL);
    try_load("huge id", BPE_HEAD BPE_MID "\"vocab\":{\"a\":0,\"b\":4000000000},\"merges\":[]}}", NULL, 1, NULL);
    try_load("id 2^31-1 (a 2^31 vocab)", BPE_HEAD BPE_MID "\"vocab\":{\"a\":0,\"b\":2147483647},\"merges\":[]}}", NULL, 0, NULL);
    try_load("fractional id", BPE_HEAD BPE_MID "\"vocab\":{\"a\":0.5},\"merges\":[]}}", NULL, 0, NULL);
    try_load("duplicate ids", BPE_HEAD BPE_MID "\"vocab\":{\"a\":0,\"b\":0},\"merges\":[]}}", NULL, 0, NULL);
    try_load("hole in ids", BPE_HEAD BPE_MID "\"vocab\":{\"a\":0,\"b\":5},\"merges\":[]}}", NULL, 0, NULL);
    try_load("empty vocab", BPE_HEAD BPE_MID "\"vocab\":{},\"merges\":[]}}", NULL, 0, NULL);
    /* added tokens outside the vocab, malformed */
    try_load("added token id out of range",
             BPE_HEAD "{\"id\":99999999,\"content\":\"<x>\",\"special\":true}" BPE_MID "\"vocab\":{\"a\":0},\"merges\":[]}}",
             NULL, 0, NULL);
    try_load("added token negative id",
             BPE_HEAD "{\"id\":-3,\"content\":\"<x>\",\"special\":true}" BPE_MID "\"vocab\":{\"a\":0},\"merges\":[]}}", NULL, 1,
             NULL);
    try_load("added token empty content",
             BPE_HEAD "{\"id\":1,\"content\":\"\",\"special\":true}" BPE_MID "\"vocab\":{\"a\":0},\"merges\":[]}}", NULL, 0,
             NULL);
    try_load("added token no content", BPE_HEAD "{\"id\":1}" BPE_MID "\"vocab\":{\"a\":0},\"merges\":[]}}", NULL, 0, NULL);
    /* components that do not exist or are broken */
    try_load("unknown model type", "{\"model\":{\"type\":\"Martian\",\"vocab\":{}}}", NULL, 1, "Martian");
    try_load("model missing", "{\"version\":\"1.0\"}", NULL, 1, NULL);
    try_load("not an object", "[1,2,3]", NULL, 1, NULL);
    try_load("not JSON", "tokenizer", NULL, 1, NULL);
    try_load("truncated", BPE_HEAD BPE_MID "\"vocab\":{\"a\":0", NULL, 1, NULL);
    try_load("unknown pre_tokenizer",
             "{\"pre_tokenizer\":{\"type\":\"Quantum\"},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", NULL, 1,
             "Quantum");
    try_load("bad split regex",
             "{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(((\"},\"behavior\":\"Isolated\",\"invert\":false},"
             "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", NULL, 1, NULL);
    try_load("catastrophic regex",
             "{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(a+)+$\"},\"behavior\":\"Isolated\",\"invert\":false},"
             "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", NULL, 0, NULL);
    try_load("unknown normalizer",
             "{\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Nope\"}]},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}",
             NULL, 1, "Nope");
    try_load("wordpiece without unk",
             "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0},\"continuing_subword_prefix\":\"##\"}}", NULL, 0, NULL);
    try_load("post processor naming missing token",
             "{\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<zz>\",\"type_id\":0}},"
             "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"special_tokens\":{}},"
             "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", NULL, 0, NULL);
    try_load("post processor id out of range",
             "{\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<zz>\",\"type_id\":0}},"
             "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"special_tokens\":{\"<zz>\":{\"id\":\"<zz>\",\"ids\":[77777],\"tokens\":[\"<zz>\"]}}},"
             "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", NULL, 0, NULL);
    /* deeply nested JSON must not overflow the stack */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = 0;
    try_load("deeply nested JSON", deep, NULL, 1, NULL);
    /* tokenizer_config.json: hostile but the tokenizer.json is fine */
    const char *base = BPE_HEAD BPE_MID "\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b\"]}}";
    try_load("config not JSON", base, "{{{", 0, NULL);
    try_load("config chat_template wrong type", base, "{\"chat_template\":42,\"bos_token\":[1]}", 0, NULL);
    try_load("config template list malformed", base, "{\"chat_template\":[{\"name\":1},{\"template\":null},3]}", 0, NULL);
    try_load("config bos naming missing token", base,
             "{\"bos_token\":\"<nope>\",\"eos_token\":{\"content\":\"<gone>\"},\"add_bos_token\":true}", 0, NULL);
    try_load("config deeply nested", base, deep, 0, NULL);
    free(deep);
    return TEST_DONE();
}
