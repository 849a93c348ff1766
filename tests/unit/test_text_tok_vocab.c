/* test_text_tok_vocab.c - llama.cpp's tokenizer test vectors (make conformance: ../shared/testdata/vocab,
 * see FORMAT.md there): every .inp case must encode (no BOS, special text not
 * parsed) to exactly the ids of its .out line. Vectors whose GGUF was too
 * large to ship run through the matching tokenizer.json (PROVENANCE.md). */
#include "test_util.h"
#include "text/tokenizer.h"

#include <stdint.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    if (b) { b[n] = 0; *len = (size_t)n; }
    fclose(f);
    return b;
}

static int failures_shown;

static void run_set(const char *name, const char *source, int n_cases_max)
{
    char rel[512], inp_path[4096], out_path[4096];
    snprintf(rel, sizeof rel, "vocab/ggml-vocab-%s.gguf.inp", name);
    const char *p = test_data_path(rel);
    if (!p) return; /* test_data_path failed the test */
    snprintf(inp_path, sizeof inp_path, "%s", p);
    snprintf(rel, sizeof rel, "vocab/ggml-vocab-%s.gguf.out", name);
    p = test_data_path(rel);
    if (!p) return;
    snprintf(out_path, sizeof out_path, "%s", p);

    struct tokenizer *tok = NULL;
    inf_error err = {0};
    int rc;
    if (source) {
        const char *dir = test_data_path(source);
        char dpath[4096];
        /* test_data_path checks a file; the directory holds tokenizer.json */
        snprintf(rel, sizeof rel, "%s/tokenizer.json", source);
        test_data_path(rel);
        (void)dir;
        snprintf(dpath, sizeof dpath, "%s/%s", test_data_root(), source);
        rc = tok_load_hf_dir(dpath, &tok, &err);
    } else {
        snprintf(rel, sizeof rel, "vocab/ggml-vocab-%s.gguf", name);
        p = test_data_path(rel);
        if (!p) return; /* test_data_path failed the test */
        rc = tok_load_gguf_path(p, &tok, &err);
    }
    CHECK_MSG(rc == 0, "%s: load failed: %s", name, err.message);
    if (rc) return;

    size_t il, ol;
    char *inp = slurp(inp_path, &il), *out = slurp(out_path, &ol);
    CHECK(inp && out);
    if (!inp || !out) { free(inp); free(out); tok_free(tok); return; }
    static const char sep[] = "\n__ggml_vocab_test__\n";
    size_t pos = 0, opos = 0;
    int ncase = 0, npass = 0;
    while (pos < il && (n_cases_max < 0 || ncase < n_cases_max)) {
        const char *next = memmem(inp + pos, il - pos, sep, sizeof sep - 1);
        size_t end = next ? (size_t)(next - inp) : il;
        /* expected line */
        const char *nl = memchr(out + opos, '\n', ol - opos);
        size_t lend = nl ? (size_t)(nl - out) : ol;
        int32_t exp[4096];
        size_t ne = 0;
        char *q = out + opos;
        while (q < out + lend) {
            while (q < out + lend && *q == ' ') q++;
            if (q >= out + lend) break;
            exp[ne++] = (int32_t)strtol(q, &q, 10);
        }
        opos = lend + 1;

        int32_t *ids = NULL;
        size_t n = 0;
        int er = tok_encode(tok, inp + pos, end - pos, 0, &ids, &n, &err);
        bool same = er == 0 && n == ne && (n == 0 || memcmp(ids, exp, n * sizeof *ids) == 0);
        if (same) npass++;
        else if (failures_shown++ < 40) {
            fprintf(stderr, "FAIL %s case %d: \"%.*s\"\n  got:", name, ncase, (int)(end - pos > 80 ? 80 : end - pos), inp + pos);
            for (size_t i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", ids[i]);
            fprintf(stderr, "\n  exp:");
            for (size_t i = 0; i < ne && i < 40; i++) fprintf(stderr, " %d", exp[i]);
            fprintf(stderr, "\n");
        }
        CHECK_MSG(same, "%s case %d", name, ncase);
        free(ids);
        ncase++;
        if (!next) break;
        pos = end + sizeof sep - 1;
    }
    fprintf(stderr, "%-16s %-22s %d/%d cases\n", name, source ? source : "(gguf)", npass, ncase);
    free(inp);
    free(out);
    tok_free(tok);
}

int main(void)
{
    if (!test_data_path("vocab/FORMAT.md")) TEST_FAIL("no vocab folder in the test data");
    static const char *gguf_sets[] = {"llama-spm", "phi-3", "gpt-2", "deepseek-llm", "deepseek-coder", "falcon",
                                      "starcoder", "refact", "mpt", "bert-bge", NULL};
    for (int i = 0; gguf_sets[i]; i++) run_set(gguf_sets[i], NULL, -1);
    /* GGUF too large to ship: the same tokenizer's tokenizer.json */
    run_set("llama-bpe", "tokenizers/llama3", -1);
    run_set("qwen2", "tokenizers/qwen3", -1);
    run_set("gemma-4", "tokenizers/gemma3", -1);
    /* command-r and qwen35 have no matching tokenizer here (see FORMAT.md) */
    return TEST_DONE();
}
