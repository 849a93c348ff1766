/* test_text_tok_llama.c - our GGUF tokenizers against llama.cpp itself (the
 * node-llama-cpp binding in node_modules, run by tests/scripts/tok_llama_ref.mjs)
 * on the shared corpus, for GGUF vocabularies and the model GGUFs: make
 * test's vocab-only GGUFs of the npm tokenizers (Qwen3, Llama 3, Mistral's
 * SentencePiece, Gemma 3, DeepSeek-V3; build/make-model --vocab-only) and
 * models; make conformance's llama.cpp vocab files in ../shared/testdata
 * (including baichuan and gpt-neox, which have no .inp/.out vectors).
 * Tokenize with parse_special off and on, detokenize with special text
 * rendered or not, detokenize random id sequences, and BOS/EOS/EOT, add-BOS
 * and the end-of-generation set.
 *
 *   test_text_tok_llama              generate the reference with node (seed 1234)
 *   test_text_tok_llama REF.jsonl    compare against an existing file */
#include "test_util.h"
#include "text/tokenizer.h"
#include "text/unicode.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <unistd.h>

static int shown;

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

static size_t unhex(const char *h, unsigned char *out)
{
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (unsigned char)v;
    }
    return n;
}

static int32_t *arr_ids(const cJSON *a, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(a);
    int32_t *v = malloc((*n + 1) * sizeof *v);
    size_t k = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a) v[k++] = (int32_t)x->valuedouble;
    return v;
}

static void show(const char *label, const int32_t *ids, size_t n)
{
    fprintf(stderr, "  %s:", label);
    for (size_t i = 0; i < n && i < 48; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, n > 48 ? " ...\n" : "\n");
}

struct stats { int enc, enc_bad, dec, dec_bad; };

static void check_enc(const struct tokenizer *tok, const unsigned char *b, size_t n, int flags, const cJSON *exp_a,
                      const char *file, const char *hex, struct stats *st)
{
    size_t ne;
    int32_t *exp = arr_ids(exp_a, &ne);
    int32_t *ids = NULL;
    size_t nid = 0;
    inf_error err = {0};
    int rc = tok_encode(tok, (const char *)b, n, flags, &ids, &nid, &err);
    bool ok = rc == 0 && nid == ne && (ne == 0 || memcmp(ids, exp, ne * sizeof *ids) == 0);
    st->enc++;
    if (!ok) {
        st->enc_bad++;
        if (shown++ < 30) {
            fprintf(stderr, "ENCODE MISMATCH %s flags %d hex %s\n", file, flags, hex);
            show("got", ids, nid);
            show("exp", exp, ne);
        }
    }
    CHECK(ok);
    free(ids);
    free(exp);
}

static void check_dec(const struct tokenizer *tok, const int32_t *ids, size_t n, int flags, const char *exp_hex,
                      const char *file, struct stats *st)
{
    size_t ol = 0;
    char *got = tok_decode(tok, ids, n, flags, &ol);
    /* the reference came back through V8: lossy UTF-8 */
    char *lossy = malloc(ol * 3 + 1);
    size_t ll = got ? tu_sanitize_lossy(got, ol, lossy) : 0;
    char *exp = malloc(strlen(exp_hex) / 2 + 1);
    size_t el = unhex(exp_hex, (unsigned char *)exp);
    bool ok = got && el == ll && memcmp(lossy, exp, el) == 0;
    st->dec++;
    if (!ok) {
        st->dec_bad++;
        if (shown++ < 30) {
            fprintf(stderr, "DECODE MISMATCH %s flags %d\n", file, flags);
            show("ids", ids, n);
            fprintf(stderr, "  got: [%.*s]\n  exp: [%.*s]\n", (int)ll, lossy, (int)el, exp);
        }
    }
    CHECK(ok);
    free(got);
    free(lossy);
    free(exp);
}

static int compare_file(const char *path)
{
    size_t len;
    char *data = slurp(path, &len);
    if (!data) { fprintf(stderr, "cannot read %s\n", path); return 1; }
    struct tokenizer *tok = NULL;
    char cur[4096] = "";
    struct stats st = {0};
    unsigned char *bytes = malloc(len / 2 + 16);
    char *line = data;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        cJSON *j = cJSON_Parse(line);
        line = nl ? nl + 1 : NULL;
        if (!j) continue;
        const char *file = cJSON_GetObjectItem(j, "gguf")->valuestring;
        const cJSON *meta = cJSON_GetObjectItem(j, "meta");
        if (meta) {
            if (tok) fprintf(stderr, "%-64s encode %d/%d decode %d/%d\n", cur, st.enc - st.enc_bad, st.enc,
                             st.dec - st.dec_bad, st.dec);
            memset(&st, 0, sizeof st);
            tok_free(tok);
            tok = NULL;
            inf_error err = {0};
            int rc = tok_load_gguf_path(file, &tok, &err);
            CHECK_MSG(rc == 0, "load %s: %s", file, err.message);
            snprintf(cur, sizeof cur, "%s", file);
            if (!tok) { cJSON_Delete(j); continue; }
            const cJSON *v;
            v = cJSON_GetObjectItem(meta, "bos");
            CHECK_MSG(tok_bos(tok) == (cJSON_IsNumber(v) ? (int32_t)v->valuedouble : -1), "%s bos %d", file, tok_bos(tok));
            v = cJSON_GetObjectItem(meta, "eos");
            CHECK_MSG(tok_eos(tok) == (cJSON_IsNumber(v) ? (int32_t)v->valuedouble : -1), "%s eos %d", file, tok_eos(tok));
            /* llama.cpp takes the first EOT-looking token in its hash map's
             * iteration order; we take the first in its list's order. Both
             * are end-of-generation tokens. */
            v = cJSON_GetObjectItem(meta, "eot");
            int32_t exp_eot = cJSON_IsNumber(v) ? (int32_t)v->valuedouble : -1;
            CHECK_MSG(tok_eot(tok) == exp_eot || (tok_is_eog(tok, tok_eot(tok)) && tok_is_eog(tok, exp_eot)),
                      "%s eot %d", file, tok_eot(tok));
            v = cJSON_GetObjectItem(meta, "add_bos");
            CHECK_MSG(tok_add_bos(tok) == cJSON_IsTrue(v), "%s add_bos", file);
            v = cJSON_GetObjectItem(meta, "n_vocab");
            CHECK_MSG(tok_n_vocab(tok) == (int32_t)v->valuedouble, "%s n_vocab %d", file, tok_n_vocab(tok));
            size_t ne;
            int32_t *eog = arr_ids(cJSON_GetObjectItem(meta, "eog"), &ne);
            size_t mine;
            const int32_t *my = tok_eog_ids(tok, &mine);
            bool same = mine == ne && (ne == 0 || memcmp(my, eog, ne * sizeof *eog) == 0);
            if (!same) {
                show("eog got", my, mine);
                show("eog exp", eog, ne);
            }
            CHECK_MSG(same, "%s: end-of-generation set", file);
            free(eog);
            cJSON_Delete(j);
            continue;
        }
        if (!tok) { cJSON_Delete(j); continue; }
        const cJSON *hex = cJSON_GetObjectItem(j, "hex");
        if (hex) {
            size_t n = unhex(hex->valuestring, bytes);
            check_enc(tok, bytes, n, 0, cJSON_GetObjectItem(j, "plain"), file, hex->valuestring, &st);
            check_enc(tok, bytes, n, TOK_PARSE_SPECIAL, cJSON_GetObjectItem(j, "special"), file, hex->valuestring, &st);
            size_t ns, np;
            int32_t *sp = arr_ids(cJSON_GetObjectItem(j, "special"), &ns);
            int32_t *pl = arr_ids(cJSON_GetObjectItem(j, "plain"), &np);
            check_dec(tok, sp, ns, 0, cJSON_GetObjectItem(j, "dec")->valuestring, file, &st);
            check_dec(tok, sp, ns, TOK_DECODE_SKIP_SPECIAL, cJSON_GetObjectItem(j, "dec_skip")->valuestring, file, &st);
            check_dec(tok, pl, np, 0, cJSON_GetObjectItem(j, "dec_plain")->valuestring, file, &st);
            free(sp);
            free(pl);
        } else {
            size_t n;
            int32_t *ids = arr_ids(cJSON_GetObjectItem(j, "ids"), &n);
            check_dec(tok, ids, n, 0, cJSON_GetObjectItem(j, "dec")->valuestring, file, &st);
            check_dec(tok, ids, n, TOK_DECODE_SKIP_SPECIAL, cJSON_GetObjectItem(j, "dec_skip")->valuestring, file, &st);
            free(ids);
        }
        cJSON_Delete(j);
    }
    if (tok) fprintf(stderr, "%-64s encode %d/%d decode %d/%d\n", cur, st.enc - st.enc_bad, st.enc,
                     st.dec - st.dec_bad, st.dec);
    tok_free(tok);
    free(bytes);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        compare_file(argv[1]);
        return TEST_DONE();
    }
    const char *root = test_data_root();
    const char *src = getenv("INF_SOURCE_DIR");
    if (!src) src = ".";
    char mjs[4096];
    snprintf(mjs, sizeof mjs, "%s/tests/scripts/tok_llama_ref.mjs", src);
    char out[] = "/tmp/tok_llama_ref_XXXXXX";
    int fd = mkstemp(out);
    if (fd < 0) TEST_FAIL("mkstemp failed");
    close(fd);
    static const char *const conformance_files[] = {
        "vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-phi-3.gguf", "vocab/ggml-vocab-baichuan.gguf",
        "vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-gpt-neox.gguf", "vocab/ggml-vocab-mpt.gguf",
        "vocab/ggml-vocab-falcon.gguf", "vocab/ggml-vocab-starcoder.gguf", "vocab/ggml-vocab-refact.gguf",
        "vocab/ggml-vocab-deepseek-llm.gguf", "vocab/ggml-vocab-deepseek-coder.gguf", "vocab/ggml-vocab-bert-bge.gguf",
        "models/stories260K.gguf", "models/random/qwen3-tiny-hf-bf16.gguf", "models/random/llama3-tiny-hf-f16.gguf",
        "models/random/gemma3-tiny-q8_0.gguf", NULL};
    static const char *const own_files[] = {
        "vocab/ggml-vocab-qwen3.gguf", "vocab/ggml-vocab-llama3.gguf", "vocab/ggml-vocab-llama2.gguf",
        "vocab/ggml-vocab-gemma3.gguf", "vocab/ggml-vocab-deepseek_v3.gguf", "models/stories260K.gguf",
        "models/random/qwen3-tiny-hf-bf16.gguf", "models/random/llama3-tiny-hf-f16.gguf",
        "models/random/gemma3-tiny-q8_0.gguf", "models/random/gemma3-tiny-hf-bf16.gguf",
        "models/random/llama-tiny-f32.gguf", NULL};
    const char *const *files = test_conformance() ? conformance_files : own_files;
    for (int i = 0; files[i]; i++) test_data_path(files[i]);
    char cmd[16384];
    int o = snprintf(cmd, sizeof cmd, "INF_SOURCE_DIR='%s' node '%s' '%s' 1234", src, mjs, out);
    for (int i = 0; files[i]; i++) o += snprintf(cmd + o, sizeof cmd - (size_t)o, " '%s/%s'", root, files[i]);
    o += snprintf(cmd + o, sizeof cmd - (size_t)o, " 2>/dev/null");
    int rc = system(cmd);
    if (rc != 0) {
        unlink(out);
        TEST_FAIL("the llama.cpp reference (tests/scripts/tok_llama_ref.mjs) failed (%d)", rc);
    }
    compare_file(out);
    unlink(out);
    return TEST_DONE();
}
