/* test_offline_quantize.c - `infer quantize`'s engine (src/model/quantize.c)
 * against llama.cpp's own quantised files (make conformance) and llama.cpp
 * running ours (make test).
 *
 * Under make conformance, ../shared/testdata/models/random/qwen3-tiny-<type>.gguf were written by llama.cpp's
 * llama-quantize from qwen3-tiny-f32.gguf (with --pure for the single
 * types, its default mixes for q3_k_m/q4_k_m/q5_k_m). For each, we quantise
 * the same f32 file the same way and require:
 *   - every tensor: same type, byte-identical data;
 *   - the metadata: same keys in the same order (llama-quantize moves
 *     general.quantization_version and general.file_type last), same file
 *     size;
 *   - the RMS weight error (ours vs theirs, both against the f32 weights):
 *     ours no worse; the table is printed.
 * Always: the mix rules on a synthetic 32-layer model, fallbacks for row
 * lengths K-quants cannot take, stories260K's RMS table, our engine on our
 * files vs llama.cpp's goldens (log-softmax; make test's goldens are
 * llama.cpp on the very files our quantiser wrote), thread-count
 * independence, the Hugging Face directory input, and errors on bad input. */
#include "golden.h"
#include "test_util.h"

#include "formats/gguf.h"
#include "model/model.h"
#include "offline/quantize.h"
#include "tensor/tensor_types.h"

#include <cJSON.h>
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[2048];

static const char *tmp_path(const char *name)
{
    static char buf[4][4096];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static int quantize(const char *in, const char *out, const char *type, bool pure, int threads)
{
    struct model_quantize_params p = {.ftype = model_ftype_from_name(type), .pure = pure, .n_threads = threads};
    inf_error err = {0};
    int rc = model_quantize_file(in, out, &p, NULL, &err);
    if (rc) fprintf(stderr, "quantize %s -> %s (%s): %s\n", in, out, type, err.message);
    return rc;
}

/* ---- mix rules ---- */

static void test_rules(void)
{
    CHECK(model_ftype_from_name("Q4_K_M") == MODEL_FTYPE_Q4_K_M);
    CHECK(model_ftype_from_name("q4_k") == MODEL_FTYPE_Q4_K_S);
    CHECK(model_ftype_from_name("q9_9") == -1);
    CHECK(model_ftype_from_name(NULL) == -1);
    CHECK_STREQ(model_ftype_name(MODEL_FTYPE_Q5_K_M), "Q5_K_M");

    CHECK(model_quant_wants("blk.0.attn_q.weight", 2));
    CHECK(!model_quant_wants("blk.0.attn_norm.weight", 1));
    CHECK(!model_quant_wants("blk.0.attn_q_norm.weight", 2));
    CHECK(!model_quant_wants("blk.0.ffn_gate_inp.weight", 2));
    CHECK(!model_quant_wants("blk.0.attn_q.bias", 2));

    /* Q4_K_M on 32 layers: attn_v/ffn_down get Q6_K where use_more_bits:
     * i < 4, i >= 28, or (i - 4) % 3 == 2. */
    struct model_quant_ctx c = {.ftype = MODEL_FTYPE_Q4_K_M, .has_output = true, .n_layer = 32, .n_attn_v = 32, .n_gqa = 4};
    int bad = 0;
    for (int i = 0; i < 32; i++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%d.attn_v.weight", i);
        bool more = i < 4 || i >= 28 || (i - 4) % 3 == 2;
        int want = more ? TENSOR_TYPE_Q6_K : TENSOR_TYPE_Q4_K;
        if (model_quant_tensor_type(&c, name, 4096) != want) bad++;
        snprintf(name, sizeof name, "blk.%d.ffn_down.weight", i);
        if (model_quant_tensor_type(&c, name, 4096) != want) bad++;
        snprintf(name, sizeof name, "blk.%d.attn_q.weight", i);
        if (model_quant_tensor_type(&c, name, 4096) != TENSOR_TYPE_Q4_K) bad++;
    }
    CHECK_MSG(bad == 0, "%d Q4_K_M choices differ from llama.cpp's rule", bad);
    CHECK(model_quant_tensor_type(&c, "output.weight", 4096) == TENSOR_TYPE_Q6_K);
    CHECK(model_quant_tensor_type(&c, "token_embd.weight", 4096) == TENSOR_TYPE_Q4_K);

    struct model_quant_ctx m3 = {.ftype = MODEL_FTYPE_Q3_K_M, .n_layer = 32, .n_attn_v = 32};
    CHECK(model_quant_tensor_type(&m3, "blk.0.attn_v.weight", 4096) == TENSOR_TYPE_Q5_K);
    CHECK(model_quant_tensor_type(&m3, "blk.1.attn_v.weight", 4096) == TENSOR_TYPE_Q5_K);
    CHECK(model_quant_tensor_type(&m3, "blk.2.attn_v.weight", 4096) == TENSOR_TYPE_Q4_K);
    CHECK(model_quant_tensor_type(&m3, "blk.1.ffn_down.weight", 4096) == TENSOR_TYPE_Q5_K);
    CHECK(model_quant_tensor_type(&m3, "blk.2.ffn_down.weight", 4096) == TENSOR_TYPE_Q4_K);
    CHECK(model_quant_tensor_type(&m3, "blk.2.attn_output.weight", 4096) == TENSOR_TYPE_Q4_K);
    CHECK(model_quant_tensor_type(&m3, "blk.2.ffn_up.weight", 4096) == TENSOR_TYPE_Q3_K);
    /* no output.weight: the tied token_embd is the output matrix */
    CHECK(model_quant_tensor_type(&m3, "token_embd.weight", 4096) == TENSOR_TYPE_Q6_K);

    struct model_quant_ctx q8 = {.ftype = MODEL_FTYPE_Q8_0, .has_output = true};
    CHECK(model_quant_tensor_type(&q8, "output.weight", 4096) == TENSOR_TYPE_Q8_0);
    struct model_quant_ctx q40 = {.ftype = MODEL_FTYPE_Q4_0, .has_output = true};
    CHECK(model_quant_tensor_type(&q40, "output.weight", 4096) == TENSOR_TYPE_Q6_K);
    struct model_quant_ctx pure = {.ftype = MODEL_FTYPE_Q4_0, .pure = true, .has_output = true};
    CHECK(model_quant_tensor_type(&pure, "output.weight", 4096) == TENSOR_TYPE_Q4_0);

    /* rows K-quants cannot take: llama.cpp's substitutes, then f16 */
    struct model_quant_ctx k = {.ftype = MODEL_FTYPE_Q4_K_S, .pure = true};
    CHECK(model_quant_tensor_type(&k, "blk.0.attn_q.weight", 64) == TENSOR_TYPE_Q5_0);
    CHECK(model_quant_tensor_type(&k, "blk.0.ffn_down.weight", 172) == TENSOR_TYPE_F16);
    struct model_quant_ctx k6 = {.ftype = MODEL_FTYPE_Q6_K, .pure = true};
    CHECK(model_quant_tensor_type(&k6, "blk.0.attn_q.weight", 96) == TENSOR_TYPE_Q8_0);
}

/* ---- RMS weight error ---- */

struct rms {
    double sum_sq;
    double n;
};

/* Adds the squared error of every quantised matrix of q against the same
 * tensor of the f32 reference. */
static int add_rms(const struct gguf_file *ref, const struct gguf_file *q, struct rms *acc)
{
    for (int64_t i = 0; i < gguf_n_tensors(q); i++) {
        const struct gguf_tensor *t = gguf_tensor_at(q, i);
        const struct gguf_tensor *rt = gguf_get_tensor(ref, t->name);
        if (!rt || rt->type != TENSOR_TYPE_F32) return -1;
        if (t->type == TENSOR_TYPE_F32) continue;
        int64_t ne0 = t->ne[0], rows = (int64_t)(rt->size / 4) / ne0;
        size_t rb = (size_t)tensor_row_bytes((int)t->type, ne0);
        float *row = malloc((size_t)ne0 * sizeof *row);
        if (!row) return -1;
        for (int64_t r = 0; r < rows; r++) {
            if (tensor_dequantize_row((int)t->type, (const char *)t->data + (size_t)r * rb, row, ne0)) {
                free(row);
                return -1;
            }
            const float *x = (const float *)rt->data + (size_t)r * (size_t)ne0;
            for (int64_t j = 0; j < ne0; j++) {
                double d = (double)row[j] - x[j];
                acc->sum_sq += d * d;
            }
            acc->n += (double)ne0;
        }
        free(row);
    }
    return 0;
}

static double rms_of_file(const struct gguf_file *ref, const char *path)
{
    struct gguf_file *q = NULL;
    inf_error err = {0};
    if (gguf_open(path, &q, &err)) return NAN;
    struct rms r = {0};
    int rc = add_rms(ref, q, &r);
    gguf_close(q);
    return rc || r.n == 0 ? NAN : sqrt(r.sum_sq / r.n);
}

/* ---- identity with llama.cpp's files ---- */

static void compare_files(const char *label, const char *ours, const char *theirs, bool same_order)
{
    struct gguf_file *a = NULL, *b = NULL;
    inf_error err = {0};
    if (gguf_open(ours, &a, &err) || gguf_open(theirs, &b, &err)) {
        CHECK_MSG(0, "%s: %s", label, err.message);
        gguf_close(a);
        return;
    }
    CHECK_MSG(gguf_file_size(a) == gguf_file_size(b), "%s: size %llu vs llama.cpp %llu", label,
              (unsigned long long)gguf_file_size(a), (unsigned long long)gguf_file_size(b));
    CHECK(gguf_n_kv(a) == gguf_n_kv(b));
    int key_diffs = 0;
    for (int64_t i = 0; i < gguf_n_kv(a) && i < gguf_n_kv(b); i++) {
        int64_t j = same_order ? i : gguf_find_key(b, gguf_key_at(a, i));
        key_diffs += j < 0 || strcmp(gguf_key_at(a, i), gguf_key_at(b, j)) != 0 || gguf_kv_type(a, i) != gguf_kv_type(b, j);
    }
    CHECK_MSG(key_diffs == 0, "%s: %d metadata keys differ in name/order/type", label, key_diffs);
    uint32_t fa = 0, fb = 1;
    gguf_get_u32(a, "general.file_type", &fa);
    gguf_get_u32(b, "general.file_type", &fb);
    CHECK_MSG(fa == fb, "%s: file_type %u vs %u", label, fa, fb);
    CHECK(gguf_n_tensors(a) == gguf_n_tensors(b));
    int type_diffs = 0, data_diffs = 0;
    for (int64_t i = 0; i < gguf_n_tensors(a); i++) {
        const struct gguf_tensor *ta = gguf_tensor_at(a, i), *tb = gguf_get_tensor(b, ta->name);
        if (!tb || ta->type != tb->type) {
            type_diffs++;
            continue;
        }
        if (ta->size != tb->size || memcmp(ta->data, tb->data, ta->size) != 0) data_diffs++;
    }
    CHECK_MSG(type_diffs == 0, "%s: %d tensor types differ from llama.cpp's", label, type_diffs);
    CHECK_MSG(data_diffs == 0, "%s: %d tensors not byte-identical to llama.cpp's", label, data_diffs);
    gguf_close(a);
    gguf_close(b);
}

static void test_against_llamacpp(const char *f32)
{
    static const struct {
        const char *type;
        bool pure;
    } refs[] = {{"q8_0", true},    {"q4_0", true},   {"q4_1", true},   {"q5_0", true},
                {"q5_1", true},    {"q2_k", true},   {"q3_k_s", true}, {"q4_k_s", true},
                {"q5_k_s", true},  {"q6_k", true},   {"q3_k_m", false}, {"q4_k_m", false},
                {"q5_k_m", false}};
    struct gguf_file *ref = NULL;
    inf_error err = {0};
    if (gguf_open(f32, &ref, &err)) {
        CHECK_MSG(0, "%s", err.message);
        return;
    }
    printf("RMS weight error vs qwen3-tiny-f32 (quantised matrices):\n");
    printf("  %-8s %-12s %-12s %s\n", "type", "ours", "llama.cpp", "ours - llama.cpp");
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        char rel[256], name[64];
        snprintf(rel, sizeof rel, "models/random/qwen3-tiny-%s.gguf", refs[i].type);
        const char *theirs = test_data_path(rel);
        if (!theirs) continue; /* test_data_path failed the test */
        char theirs_copy[4096];
        snprintf(theirs_copy, sizeof theirs_copy, "%s", theirs);
        snprintf(name, sizeof name, "qt_%s.gguf", refs[i].type);
        const char *ours = tmp_path(name);
        /* q8_0 was written by make_model.py and verified byte-identical to
         * llama-quantize's default q8_0 (output stays q8_0 either way). */
        if (quantize(f32, ours, refs[i].type, refs[i].pure, 2)) {
            CHECK_MSG(0, "quantize %s failed", refs[i].type);
            continue;
        }
        compare_files(refs[i].type, ours, theirs_copy, strcmp(refs[i].type, "q8_0") != 0);
        double ro = rms_of_file(ref, ours), rt = rms_of_file(ref, theirs_copy);
        printf("  %-8s %-12.6g %-12.6g %.3g\n", refs[i].type, ro, rt, ro - rt);
        CHECK_MSG(isfinite(ro) && ro <= rt * (1 + 1e-12), "%s: our RMS %.6g worse than llama.cpp's %.6g",
                  refs[i].type, ro, rt);
        unlink(ours);
    }
    gguf_close(ref);
}

/* ---- stories260K: RMS per type (no llama.cpp file to compare with; our
 * row quantisers are the ones shown byte-identical above) ---- */

static void test_stories(void)
{
    const char *p = test_data_path("models/stories260K.gguf");
    if (!p) return; /* test_data_path failed the test */
    char path[4096];
    snprintf(path, sizeof path, "%s", p);
    struct gguf_file *ref = NULL;
    inf_error err = {0};
    if (gguf_open(path, &ref, &err)) {
        CHECK_MSG(0, "%s", err.message);
        return;
    }
    static const char *types[] = {"q8_0", "q6_k", "q5_1", "q5_0", "q5_k_m", "q4_1", "q4_0", "q4_k_m", "q3_k_m", "q2_k"};
    double r[10];
    printf("RMS weight error vs stories260K f32 (rows of 64: K-quants fall back to Q5_0/Q5_1/Q8_0, rows of 172 to F16):\n");
    for (size_t i = 0; i < 10; i++) {
        const char *out = tmp_path("qt_stories.gguf");
        r[i] = quantize(path, out, types[i], false, 2) ? NAN : rms_of_file(ref, out);
        printf("  %-8s %.6g\n", types[i], r[i]);
        CHECK_MSG(isfinite(r[i]) && r[i] > 0, "%s: RMS %g", types[i], r[i]);
        unlink(out);
    }
    CHECK(r[0] < r[2] && r[2] < r[5] && r[3] < r[6]); /* q8_0 < q5_1 < q4_1, q5_0 < q4_0 */
    gguf_close(ref);
}

/* ---- our engine on our files: llama.cpp's golden logits ---- */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n] = 0;
    if (len) *len = (size_t)n;
    fclose(f);
    return b;
}

static void test_engine_on_ours(const char *f32, const char *type, bool pure, double tol)
{
    char name[64];
    snprintf(name, sizeof name, "qwen3-tiny-%s", type);
    golden g;
    golden_load(name, 0, &g);
    const char *out = tmp_path("qt_engine.gguf");
    struct model *m = NULL;
    inf_error err = {0};
    float *logits = NULL;
    struct kv_cache *c = NULL;
    if (quantize(f32, out, type, pure, 2) || model_load(out, NULL, &m, &err)) {
        CHECK_MSG(0, "%s: setup failed: %s", type, err.message);
        goto done;
    }
    int V = model_hparams(m)->n_vocab;
    CHECK(V == g.n_vocab);
    c = kv_cache_create(m, 256, &err);
    int32_t pos[GOLDEN_MAX_IDS];
    struct kv_cache *cs[GOLDEN_MAX_IDS];
    for (int i = 0; i < g.n_prompt_ids; i++) pos[i] = i, cs[i] = c;
    logits = malloc((size_t)V * sizeof *logits);
    struct model_batch b = {g.n_prompt_ids, g.prompt_ids, pos, cs, NULL};
    if (c && logits && V == g.n_vocab && model_forward(m, NULL, &b, logits, NULL, &err) == 0) {
        int am = 0, gm = 0;
        for (int i = 0; i < V; i++) {
            if (logits[i] > logits[am]) am = i;
            if (g.logprobs[i] > g.logprobs[gm]) gm = i;
        }
        double rel = golden_rel_diff(&g, logits);
        printf("engine on our %-7s: max|log-prob - llama.cpp golden| %.3g of range, argmax %d vs %d\n", type, rel, am,
               gm);
        CHECK_MSG(rel <= tol, "%s: log-probabilities differ by %.3g of the range", type, rel);
        CHECK(am == gm || g.logprobs[gm] - g.logprobs[am] <= tol * g.range);
    } else
        CHECK_MSG(0, "%s: forward failed: %s", type, err.message);
done:
    free(logits);
    kv_cache_free(c);
    model_free(m);
    unlink(out);
    golden_free(&g);
}

/* ---- threads, HF directories, errors ---- */

static void test_threads_identical(const char *f32)
{
    const char *a = tmp_path("qt_t1.gguf"), *b = tmp_path("qt_t3.gguf");
    CHECK(quantize(f32, a, "q4_k_m", false, 1) == 0);
    CHECK(quantize(f32, b, "q4_k_m", false, 3) == 0);
    size_t la = 0, lb = 0;
    char *da = read_all(a, &la), *db = read_all(b, &lb);
    CHECK(da && db && la == lb && memcmp(da, db, la) == 0);
    free(da);
    free(db);
    unlink(a);
    unlink(b);
}

static void test_hf_dir(void)
{
    const char *d = test_data_path("models/random/qwen3-tiny-hf-bf16/config.json");
    const char *g = test_data_path("models/random/qwen3-tiny-hf-bf16.gguf");
    if (!d || !g) return;
    char dir[4096], gg[4096];
    snprintf(dir, sizeof dir, "%s", test_data_path("models/random/qwen3-tiny-hf-bf16/config.json"));
    *strrchr(dir, '/') = 0;
    snprintf(gg, sizeof gg, "%s", test_data_path("models/random/qwen3-tiny-hf-bf16.gguf"));
    const char *a = tmp_path("qt_hf_dir.gguf"), *b = tmp_path("qt_hf_gguf.gguf");
    CHECK(quantize(dir, a, "q8_0", false, 2) == 0);
    CHECK(quantize(gg, b, "q8_0", false, 2) == 0);
    struct gguf_file *fa = NULL, *fb = NULL;
    inf_error err = {0};
    if (gguf_open(a, &fa, &err) == 0 && gguf_open(b, &fb, &err) == 0) {
        int diffs = 0;
        CHECK(gguf_n_tensors(fa) == gguf_n_tensors(fb));
        for (int64_t i = 0; i < gguf_n_tensors(fb); i++) {
            const struct gguf_tensor *tb = gguf_tensor_at(fb, i), *ta = gguf_get_tensor(fa, tb->name);
            diffs += !ta || ta->type != tb->type || ta->size != tb->size || memcmp(ta->data, tb->data, ta->size);
        }
        CHECK_MSG(diffs == 0, "HF directory vs its GGUF: %d tensors differ after q8_0", diffs);
    } else
        CHECK_MSG(0, "%s", err.message);
    gguf_close(fa);
    gguf_close(fb);
    struct stat st;
    char leftover[4200];
    snprintf(leftover, sizeof leftover, "%s.hf.tmp", a);
    CHECK(stat(leftover, &st) != 0); /* the temporary conversion is removed */
    unlink(a);
    unlink(b);
}

static void test_errors(const char *f32)
{
    inf_error err = {0};
    struct model_quantize_params p = {.ftype = MODEL_FTYPE_Q4_0};
    const char *out = tmp_path("qt_err.gguf");
    struct stat st;
    CHECK(model_quantize_file("/nonexistent/model.gguf", out, &p, NULL, &err) == -1);
    CHECK(strstr(err.message, "/nonexistent/model.gguf") != NULL);
    CHECK(stat(out, &st) != 0);
    p.ftype = 99;
    CHECK(model_quantize_file(f32, out, &p, NULL, &err) == -1);
    CHECK(stat(out, &st) != 0);
    p.ftype = MODEL_FTYPE_Q4_0;
    CHECK(model_quantize_file(f32, "/nonexistent-dir/x.gguf", &p, NULL, &err) == -1);
    CHECK(strstr(err.message, "/nonexistent-dir/x.gguf") != NULL);
    CHECK(model_quantize_file(NULL, out, &p, NULL, &err) == -1);

    /* a truncated GGUF is refused by the reader, nothing written */
    size_t len = 0;
    char *all = read_all(f32, &len);
    const char *trunc = tmp_path("qt_trunc.gguf");
    FILE *f = fopen(trunc, "wb");
    if (all && f) fwrite(all, 1, len / 2, f);
    if (f) fclose(f);
    free(all);
    CHECK(model_quantize_file(trunc, out, &p, NULL, &err) == -1);
    CHECK(stat(out, &st) != 0);
    unlink(trunc);
}

int main(void)
{
    const char *bd = getenv("INF_BUILD_DIR");
    snprintf(tmpdir, sizeof tmpdir, "%s", bd ? bd : "/tmp");
    test_rules();
    char f32[4096];
    snprintf(f32, sizeof f32, "%s", test_data_path("models/random/qwen3-tiny-f32.gguf"));
    test_errors(f32);
    /* llama-quantize's own files are conformance data; make test's
     * qwen3-tiny-<type>.gguf are ours, checked by llama.cpp running them
     * (test_engine_on_ours here, test_model_golden for every type). */
    if (test_conformance()) test_against_llamacpp(f32);
    test_stories();
    test_engine_on_ours(f32, "q4_0", true, 4e-2);
    test_engine_on_ours(f32, "q4_k_m", false, 4e-2);
    test_engine_on_ours(f32, "q5_1", true, 2e-2);
    test_threads_identical(f32);
    test_hf_dir();
    return TEST_DONE();
}
