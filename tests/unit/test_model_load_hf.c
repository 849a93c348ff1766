/* test_model_load_hf.c - Hugging Face directories through the engine, against
 * their GGUF twins (same engine) and llama.cpp's goldens.
 *
 *  1. qwen3-tiny-hf-bf16 and llama3-tiny-hf-f16 give the logits of their
 *     GGUF conversions (the engine running both: only float summation order
 *     may differ; llama's GGUF has permuted q/k and interleaved RoPE, the
 *     directory rotate-half RoPE), and those of llama.cpp (goldens) within
 *     the engine issue's tolerance (5e-3 of the logit range).
 *  2. A 3-shard bf16 directory gives exactly the single-file logits.
 *  3. gemma3-tiny-hf-bf16 (norms stored as w, run as 1 + w) against a bf16
 *     GGUF of the same seed made by build/make-model: same blocks, and the
 *     logits agree on the ids both vocabularies share.
 *  4. A Llama with Llama-3.1 rope scaling: the loader's rope factors against
 *     the converter's rope_freqs.weight.
 *  5. MLX 4-bit g64 and 8-bit g32 (sharded), run as MLX blocks: against
 *     their dequantised f32 twins (bound 2e-4 of the logit range) and
 *     (4-bit) llama.cpp's goldens.
 *  6. Gemma3ForConditionalGeneration made from the text model (both tensor
 *     prefixes, a vision tensor to ignore): the text model's logits exactly.
 *  7. Errors: missing tensors name the HF tensor; a wrong vocab size.
 * Generated files (build/make-model, about 3 s) go to $INF_BUILD_DIR/testdata-hf. */
#include "golden.h"
#include "base/file.h"
#include "test_util.h"

#include "formats/hf_config.h"
#include "model/load_hf.h"
#include "model/model.h"
#include "tensor/kernels_mlx.h"
#include "tensor/matmul.h"
#include "tensor/tensor_types.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static char td[2048];   /* testdata */
static char gen[2048];  /* generated files */

/* Models this test needs beyond the test data, made by build/make-model
 * and converted by the library's converter into $INF_BUILD_DIR/testdata-hf
 * (kept for the next run; about 3 s). */
static void generate(void)
{
    const char *bd = getenv("INF_BUILD_DIR");
    if (!bd) TEST_FAIL("INF_BUILD_DIR is not set (run through ctest)");
    snprintf(gen, sizeof gen, "%s/testdata-hf", bd);
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "( set -e; mkdir -p '%s'; cd '%s'; TD='%s'; M='%s/make-model'; I='%s/infer'; "
             "Q=\"--arch qwen3 --seed 1 --tokenizer $TD/tokenizers/qwen3 --vocab-limit 8192\"; "
             "[ -f done.5 ] && [ done.5 -nt \"$M\" ] && exit 0; rm -rf ./*; "
             "$M --arch gemma3 --seed 1 --tokenizer $TD/tokenizers/gemma3 --vocab-limit 8192 --type bf16 "
             "  -o gemma3-tiny-bf16.gguf; "
             "$M $Q --type bf16 --shards 3 -o qwen3-bf16-s3; "
             "$M $Q --type mlx8 --mlx-group 32 --shards 2 -o qwen3-mlx8-g32; "
             "$I convert qwen3-mlx8-g32 qwen3-mlx8-g32.gguf; "
             "$I convert $TD/models/random/qwen3-tiny-mlx4 qwen3-tiny-mlx4.gguf; "
             "$M --arch llama --seed 2 --rope-scaling llama3 --tokenizer $TD/tokenizers/llama3 "
             "  --vocab-limit 8192 --type f16 -o llama-rope; "
             "$I convert llama-rope llama-rope.gguf; "
             "touch done.5 ) >/dev/null 2>&1",
             gen, gen, td, bd, bd);
    if (system(cmd) != 0) TEST_FAIL("making the extra models in %s failed (build/make-model, build/infer)", gen);
}

/* Loads a .gguf with model_load or a directory with model_load_hf_dir. */
static struct model *load(const char *path)
{
    inf_error err = {0};
    struct model *m = NULL;
    struct stat st;
    int rc = (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) ? model_load_hf_dir(path, NULL, &m, &err)
                                                          : model_load(path, NULL, &m, &err);
    CHECK_MSG(rc == 0 && m, "load %s: %s", path, err.message);
    return rc == 0 ? m : NULL;
}

/* model_free releases what the HF loader keeps (model_hf_release). */
static void unload(struct model *m)
{
    model_free(m);
}

/* Logits of the last of ids (a fresh cache). */
static float *logits_of(struct model *m, const int32_t *ids, int n)
{
    inf_error err = {0};
    struct kv_cache *c = kv_cache_create(m, 256, &err);
    int V = model_hparams(m)->n_vocab;
    float *out = malloc((size_t)V * sizeof *out);
    int32_t pos[256];
    struct kv_cache *caches[256];
    for (int i = 0; i < n; i++) {
        pos[i] = i;
        caches[i] = c;
    }
    struct model_batch b = {n, ids, pos, caches, NULL};
    int rc = c ? model_forward(m, NULL, &b, out, NULL, &err) : -1;
    CHECK_MSG(rc == 0, "forward: %s", err.message);
    kv_cache_free(c);
    if (rc) {
        free(out);
        return NULL;
    }
    return out;
}

/* max |a - b| over n, relative to the range of b. */
static double rel_diff(const float *a, const float *b, int n)
{
    float lo = b[0], hi = b[0];
    double worst = 0;
    for (int i = 0; i < n; i++) {
        if (b[i] < lo) lo = b[i];
        if (b[i] > hi) hi = b[i];
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= worst)) worst = d; /* NaN propagates */
    }
    return worst / (hi - lo);
}

/* HF dir vs GGUF twin (same engine) and vs llama.cpp's goldens. */
static void compare_pair(const char *dir, const char *gguf, const char *golden_name, double twin_tol, double gold_tol)
{
    struct model *h = load(dir), *g = load(gguf);
    if (h && g) {
        int V = model_hparams(h)->n_vocab;
        CHECK(V == model_hparams(g)->n_vocab);
        CHECK(model_hparams(h)->n_layer == model_hparams(g)->n_layer);
        double worst_twin = 0, worst_gold = 0;
        for (int k = 0; k < 3; k++) {
            static const int32_t fixed[] = {1, 17, 300, 4000, 42, 8000, 5};
            golden gd = {0};
            if (golden_name) golden_load(golden_name, k, &gd);
            const int32_t *ids = golden_name ? gd.prompt_ids : fixed;
            int n = golden_name ? gd.n_prompt_ids : 7;
            float *lh = logits_of(h, ids, n), *lg = logits_of(g, ids, n);
            if (lh && lg) {
                double d = rel_diff(lh, lg, V);
                if (!(d <= worst_twin)) worst_twin = d;
                if (golden_name) {
                    CHECK(gd.n_vocab == V);
                    double dg = gd.n_vocab == V ? golden_rel_diff(&gd, lh) : INFINITY;
                    if (!(dg <= worst_gold)) worst_gold = dg;
                }
            }
            golden_free(&gd);
            free(lh);
            free(lg);
        }
        if (golden_name)
            printf("%-40s vs GGUF twin: max |diff| %.3g of range (bound %.0e); vs llama.cpp: %.3g (bound %.0e)\n",
                   strrchr(dir, '/') + 1, worst_twin, twin_tol, worst_gold, gold_tol);
        else
            printf("%-40s vs GGUF twin: max |diff| %.3g of range (bound %.0e)\n", strrchr(dir, '/') + 1, worst_twin,
                   twin_tol);
        CHECK_MSG(worst_twin <= twin_tol, "%s: twin diff %g", dir, worst_twin);
        CHECK_MSG(worst_gold <= gold_tol, "%s: golden diff %g", dir, worst_gold);
    }
    if (h) unload(h);
    if (g) unload(g);
}

static void test_pairs(void)
{
    char d[4096], g[4096];
    snprintf(d, sizeof d, "%s/models/random/qwen3-tiny-hf-bf16", td);
    snprintf(g, sizeof g, "%s/models/random/qwen3-tiny-hf-bf16.gguf", td);
    compare_pair(d, g, "qwen3-tiny-hf-bf16", 1e-4, 5e-3);
    snprintf(d, sizeof d, "%s/models/random/llama3-tiny-hf-f16", td);
    snprintf(g, sizeof g, "%s/models/random/llama3-tiny-hf-f16.gguf", td);
    compare_pair(d, g, "llama3-tiny-hf-f16", 1e-4, 5e-3);
    snprintf(d, sizeof d, "%s/llama-rope", gen);
    snprintf(g, sizeof g, "%s/llama-rope.gguf", gen);
    compare_pair(d, g, NULL, 1e-4, 1);
    struct model *m = load(d);
    if (m) {
        const struct model_hparams *hp = model_hparams(m);
        CHECK(hp->has_rope_freqs && !hp->tied_output); /* rope factors synthesised from config.json */
        unload(m);
    }
}

/* Info facts and the sharded directory. */
static void test_config_and_shards(void)
{
    char d[4096];
    snprintf(d, sizeof d, "%s/models/random/qwen3-tiny-hf-bf16", td);
    struct model *m = load(d);
    if (!m) return;
    const struct hf_config *c = model_hf_config(m);
    CHECK(c && strcmp(c->model_type, "qwen3") == 0 && c->n_eos == 2 && c->quant_bits == 0);
    CHECK(model_hparams(m)->rope_type == MODEL_ROPE_NEOX && model_hparams(m)->tied_output);
    char s[4096];
    snprintf(s, sizeof s, "%s/qwen3-bf16-s3", gen);
    struct model *ms = load(s);
    if (ms) {
        int32_t ids[] = {1, 2, 3, 500, 8000};
        float *a = logits_of(m, ids, 5), *b = logits_of(ms, ids, 5);
        CHECK_MSG(a && b && memcmp(a, b, (size_t)model_hparams(m)->n_vocab * 4) == 0,
                  "3-shard logits differ from single-file ones");
        free(a);
        free(b);
        unload(ms);
    }
    model_hf_release(m);
    CHECK(model_hf_config(m) == NULL); /* released */
    model_hf_release(m);               /* twice is safe */
    unload(m);
}

/* Gemma 3: same blocks as a GGUF of the same seed; vocabularies differ, so
 * compare the logits of ids below both sizes with ids both have. */
static void test_gemma(void)
{
    char d[4096], g[4096];
    snprintf(d, sizeof d, "%s/models/random/gemma3-tiny-hf-bf16", td);
    snprintf(g, sizeof g, "%s/gemma3-tiny-bf16.gguf", gen);
    struct model *h = load(d), *m = load(g);
    if (h && m) {
        const struct model_hparams *hp = model_hparams(h);
        int V = hp->n_vocab < model_hparams(m)->n_vocab ? hp->n_vocab : model_hparams(m)->n_vocab;
        CHECK(hp->n_swa == 64 && hp->rope_freq_base_swa == 10000.0f && V > 8192);
        int32_t ids[100];
        for (int i = 0; i < 100; i++) ids[i] = (int32_t)((i * 7919 + 3) % V); /* > window 64: SWA matters */
        float *a = logits_of(h, ids, 100), *b = logits_of(m, ids, 100);
        if (a && b) {
            double diff = rel_diff(a, b, V);
            printf("%-40s vs same-seed bf16 GGUF (ids < %d, 100 tokens): %.3g of range (bound 1e-4)\n",
                   "gemma3-tiny-hf-bf16", V, diff);
            CHECK_MSG(diff <= 1e-4, "gemma3 diff %g", diff);
        }
        free(a);
        free(b);
    }
    if (h) unload(h);
    if (m) unload(m);
}

/* Whether tensor_matmul runs MLX types (the dispatch lives in matmul.c). */
static int mlx_dispatch_wired(void)
{
    int type = tensor_mlx_type(4, 32, TENSOR_MLX_SCALE_F16);
    unsigned char w[20] = {0};
    float x[32] = {0}, y[1];
    return tensor_matmul(w, type, 1, 32, sizeof w, x, 1, y, NULL) == 0;
}

static void test_mlx(void)
{
    char d[4096], g[4096];
    CHECK_MSG(mlx_dispatch_wired(), "tensor_matmul does not run MLX types");
    snprintf(d, sizeof d, "%s/models/random/qwen3-tiny-mlx4", td);
    struct model *m = load(d);
    if (!m) return;
    const struct hf_config *c = model_hf_config(m);
    CHECK(c && c->quant_bits == 4 && c->quant_group == 64);
    int bits = 0, group = 0;
    /* Matrices stay MLX blocks (4-bit g64 bf16: 36 bytes per 64 elements). */
    struct model_type_stat st[8];
    int nt = model_type_stats(m, st, 8);
    int found = 0;
    for (int i = 0; i < nt && i < 8; i++)
        if (tensor_mlx_type_is(st[i].type) && tensor_mlx_type_params(st[i].type, &bits, &group, NULL) == 0) found = 1;
    CHECK_MSG(found && bits == 4 && group == 64, "MLX weights not kept quantised");
    unload(m);
    snprintf(g, sizeof g, "%s/qwen3-tiny-mlx4.gguf", gen);
    /* Dequantised f32 twin: the values are identical, so the differences
     * come from summation order only (MLX blocks sum per group, then scale);
     * measured about 5e-5 of the logit range, bound 2e-4. */
    compare_pair(d, g, "qwen3-tiny-mlx4", 2e-4, 5e-3);
    snprintf(d, sizeof d, "%s/qwen3-mlx8-g32", gen);
    snprintf(g, sizeof g, "%s/qwen3-mlx8-g32.gguf", gen);
    compare_pair(d, g, NULL, 2e-4, 1);
}

/* A Gemma3ForConditionalGeneration directory made from the text model:
 * tensors renamed under prefix, plus a stray vision tensor, and a config
 * with the text hyper-parameters under "text_config". */
static int make_wrapper(const char *src_dir, const char *out_dir, const char *prefix)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/model.safetensors", src_dir);
    size_t len;
    unsigned char *file = (unsigned char *)file_read_all(p, 64u << 20, &len, NULL);
    if (!file || len < 8) return -1;
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | file[i];
    cJSON *h = cJSON_ParseWithLength((const char *)file + 8, (size_t)hl);
    cJSON *nh = cJSON_CreateObject();
    uint64_t data_len = len - 8 - hl;
    for (cJSON *it = h ? h->child : NULL; it; it = it->next) {
        char name[512];
        if (strcmp(it->string, "__metadata__") == 0) continue;
        snprintf(name, sizeof name, "%s%s", prefix, it->string + strlen("model."));
        cJSON_AddItemToObject(nh, name, cJSON_Duplicate(it, 1));
    }
    /* A vision tensor the text loader must ignore: 4 bytes appended. */
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "dtype", "F32");
    cJSON_AddItemToObject(v, "shape", cJSON_CreateIntArray((const int[]){1}, 1));
    cJSON *offs = cJSON_CreateArray();
    cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)data_len));
    cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)data_len + 4));
    cJSON_AddItemToObject(v, "data_offsets", offs);
    cJSON_AddItemToObject(nh, "vision_tower.vision_model.post_layernorm.weight", v);
    char *text = cJSON_PrintUnformatted(nh);
    uint64_t nl = strlen(text);
    snprintf(p, sizeof p, "%s/model.safetensors", out_dir);
    FILE *f = fopen(p, "wb");
    unsigned char lenb[8];
    for (int i = 0; i < 8; i++) lenb[i] = (unsigned char)(nl >> (8 * i));
    float one = 1.0f;
    int ok = f && fwrite(lenb, 1, 8, f) == 8 && fwrite(text, 1, nl, f) == nl &&
             fwrite(file + 8 + hl, 1, data_len, f) == data_len && fwrite(&one, 1, 4, f) == 4;
    if (f) fclose(f);
    free(text);
    cJSON_Delete(nh);
    cJSON_Delete(h);
    free(file);
    /* config.json: text_config = the text model's config. */
    snprintf(p, sizeof p, "%s/config.json", src_dir);
    char *cfg_text = file_read_all(p, 1 << 20, &len, NULL);
    cJSON *tc = cfg_text ? cJSON_Parse(cfg_text) : NULL;
    free(cfg_text);
    cJSON *root = cJSON_CreateObject();
    cJSON *archs = cJSON_CreateArray();
    cJSON_AddItemToArray(archs, cJSON_CreateString("Gemma3ForConditionalGeneration"));
    cJSON_AddItemToObject(root, "architectures", archs);
    cJSON_AddStringToObject(root, "model_type", "gemma3");
    cJSON_AddItemToObject(root, "text_config", tc);
    cJSON_AddItemToObject(root, "vision_config", cJSON_CreateObject());
    text = cJSON_PrintUnformatted(root);
    snprintf(p, sizeof p, "%s/config.json", out_dir);
    f = fopen(p, "w");
    ok = ok && f && fputs(text, f) >= 0;
    if (f) fclose(f);
    free(text);
    cJSON_Delete(root);
    return ok ? 0 : -1;
}

static void test_gemma_wrapper(void)
{
    char src[4096];
    snprintf(src, sizeof src, "%s/models/random/gemma3-tiny-hf-bf16", td);
    struct model *ref = load(src);
    if (!ref) return;
    int32_t ids[] = {2, 100, 2000, 8000, 5, 77};
    float *want = logits_of(ref, ids, 6);
    static const char *const prefixes[] = {"language_model.model.", "model.language_model."};
    for (int i = 0; i < 2; i++) {
        char dir[] = "/tmp/test_hf_wrap_XXXXXX";
        if (!mkdtemp(dir)) break;
        CHECK(make_wrapper(src, dir, prefixes[i]) == 0);
        struct model *m = load(dir);
        if (m) {
            const struct hf_config *c = model_hf_config(m);
            CHECK(c && c->multimodal_wrapper && strcmp(c->model_type, "gemma3") == 0);
            float *got = logits_of(m, ids, 6);
            CHECK_MSG(got && want && memcmp(got, want, (size_t)model_hparams(ref)->n_vocab * sizeof(float)) == 0,
                      "Gemma3ForConditionalGeneration (%s) logits differ from the text model's", prefixes[i]);
            free(got);
            unload(m);
        }
        char p[4200];
        snprintf(p, sizeof p, "%s/model.safetensors", dir);
        unlink(p);
        snprintf(p, sizeof p, "%s/config.json", dir);
        unlink(p);
        rmdir(dir);
    }
    printf("%-40s text part under both prefixes = Gemma3ForCausalLM logits\n", "Gemma3ForConditionalGeneration");
    free(want);
    unload(ref);
}

static void test_errors(void)
{
    inf_error err = {0};
    struct model *m = NULL;
    CHECK(model_load_hf_dir("/nonexistent", NULL, &m, &err) != 0 && !m);
    CHECK(strstr(err.message, "/nonexistent") != NULL);
    /* A config asking for 3 layers over a 2-layer checkpoint. */
    char dir[] = "/tmp/test_hf_load_XXXXXX";
    if (!mkdtemp(dir)) return;
    char p[4200], t[4200];
    snprintf(t, sizeof t, "%s/models/random/qwen3-tiny-hf-bf16/model.safetensors", td);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    if (symlink(t, p) != 0) return;
    snprintf(p, sizeof p, "%s/config.json", dir);
    FILE *f = fopen(p, "w");
    fputs("{\"model_type\":\"qwen3\",\"vocab_size\":8218,\"hidden_size\":256,\"intermediate_size\":768,"
          "\"num_hidden_layers\":3,\"num_attention_heads\":4,\"num_key_value_heads\":2,\"head_dim\":128,"
          "\"tie_word_embeddings\":true}", f);
    fclose(f);
    CHECK(model_load_hf_dir(dir, NULL, &m, &err) != 0 && !m);
    CHECK_MSG(strstr(err.message, "model.layers.2.") != NULL, "%s", err.message);
    f = fopen(p, "w");
    fputs("{\"model_type\":\"qwen3\",\"vocab_size\":9000,\"hidden_size\":256,\"intermediate_size\":768,"
          "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,\"head_dim\":128}", f);
    fclose(f);
    CHECK(model_load_hf_dir(dir, NULL, &m, &err) != 0 && !m);
    CHECK_MSG(strstr(err.message, "vocab_size") != NULL, "%s", err.message);
    unlink(p);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    unlink(p);
    rmdir(dir);
    CHECK(model_hf_is_dir("/nonexistent") == 0);
}

int main(void)
{
    snprintf(td, sizeof td, "%s", test_data_root());
    test_data_path("models/random/qwen3-tiny-hf-bf16/config.json");
    test_data_path("models/random/gemma3-tiny-hf-bf16/config.json");
    generate();
    test_config_and_shards();
    test_pairs();
    test_gemma();
    test_gemma_wrapper();
    test_mlx();
    test_errors();
    return TEST_DONE();
}
