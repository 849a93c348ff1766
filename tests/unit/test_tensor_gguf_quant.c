/* test_tensor_gguf_quant.c - our block decoders and quantisers against data
 * llama.cpp itself produced.
 *
 * testdata/models/random/qwen3-tiny-f32.gguf holds f32 weights; llama.cpp's
 * llama-quantize made qwen3-tiny-{q2_k,...,q8_0,f16}.gguf from them. For
 * every non-f32 tensor of those files:
 *  1. dequantise it (tensor_dequantize_row) and check its relative RMS error
 *     against the f32 original: below the type's bound (tight for Q8_0/F16),
 *     which an independent misreading of the layout would exceed by far;
 *  2. quantise the f32 original with tensor_quantize_row to the same type
 *     and compare the bytes with llama.cpp's: they must be identical
 *     (llama-quantize without an importance matrix uses the reference
 *     quantisers). Where some blocks differ (float evaluation order), the
 *     RMS error of ours must be no worse than llama.cpp's (x 1.001).
 * qwen3-tiny-hf-bf16.gguf was converted from a separate HF bf16 checkpoint
 * (not made by llama-quantize); it turns out to hold exactly the f32
 * model's weights rounded to bf16 (nearest even), which is checked
 * bit-exactly against tensor_f32_to_bf16. */
#include "test_util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "tensor/tensor_types.h"

struct bound { int type; double max_rel_rms; };
/* Relative RMS bounds for Gaussian-like weights (measured values are
 * printed; bounds have ~1.5-2x headroom). */
static const struct bound BOUNDS[] = {
    {TENSOR_TYPE_F16, 0.0005},  {TENSOR_TYPE_BF16, 0.004}, {TENSOR_TYPE_Q8_0, 0.006},
    {TENSOR_TYPE_Q6_K, 0.025},  {TENSOR_TYPE_Q5_1, 0.05},  {TENSOR_TYPE_Q5_0, 0.05},
    {TENSOR_TYPE_Q5_K, 0.05},   {TENSOR_TYPE_Q4_1, 0.10},  {TENSOR_TYPE_Q4_0, 0.11},
    {TENSOR_TYPE_Q4_K, 0.10},   {TENSOR_TYPE_Q3_K, 0.22},  {TENSOR_TYPE_Q2_K, 0.45},
};

static double bound_of(int t)
{
    for (size_t i = 0; i < sizeof BOUNDS / sizeof BOUNDS[0]; i++)
        if (BOUNDS[i].type == t) return BOUNDS[i].max_rel_rms;
    return 0;
}

static double rel_rms(const float *a, const float *ref, int64_t n)
{
    double e = 0, s = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - ref[i];
        e += d * d;
        s += (double)ref[i] * ref[i];
    }
    return s > 0 ? sqrt(e / s) : sqrt(e);
}

static struct gguf_file *open_or_null(const char *rel)
{
    const char *p = test_data_path(rel);
    if (!p) return NULL;
    struct gguf_file *f = NULL;
    inf_error err = {0};
    if (gguf_open(p, &f, &err) != 0) {
        fprintf(stderr, "FAIL open %s: %s\n", rel, err.message);
        test_failed_count++;
        return NULL;
    }
    return f;
}

static void check_file(struct gguf_file *orig, const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "models/random/qwen3-tiny-%s.gguf", name);
    struct gguf_file *q = open_or_null(rel);
    CHECK_MSG(q != NULL, "%s: llama-quantize's file is missing", rel);
    if (!q) return;
    int n_checked = 0;
    for (int64_t i = 0; i < gguf_n_tensors(q); i++) {
        const struct gguf_tensor *tq = gguf_tensor_at(q, i);
        if (tq->type == TENSOR_TYPE_F32) continue;
        const struct gguf_tensor *to = gguf_get_tensor(orig, tq->name);
        CHECK_MSG(to != NULL, "%s: %s not in the f32 model", name, tq->name);
        if (!to) continue;
        CHECK(to->type == TENSOR_TYPE_F32);
        CHECK_MSG(!memcmp(to->ne, tq->ne, sizeof to->ne), "%s: %s shape differs", name, tq->name);
        const int t = (int)tq->type;
        CHECK_MSG(tensor_type_is_supported(t), "%s: %s has unsupported type %s", name, tq->name, tensor_type_name(t));
        if (!tensor_type_is_supported(t)) continue;
        const int64_t k = tq->ne[0], rows = (int64_t)(tq->size / (uint64_t)tensor_row_bytes(t, k));
        const int64_t rb = tensor_row_bytes(t, k);
        CHECK(rb > 0 && (uint64_t)(rb * rows) == tq->size && rows * k * 4 == (int64_t)to->size);
        float *deq = malloc(sizeof(float) * (size_t)(rows * k));
        float *ours_deq = malloc(sizeof(float) * (size_t)k);
        unsigned char *ours = malloc((size_t)rb);
        const float *of = to->data; /* f32, 32-byte aligned in the mapping */
        int64_t diff_rows = 0, diff_bytes = 0;
        double our_err = 0, their_err = 0, ref_ss = 0;
        for (int64_t r = 0; r < rows; r++) {
            const unsigned char *qrow = (const unsigned char *)tq->data + r * rb;
            CHECK(tensor_dequantize_row(t, qrow, deq + r * k, k) == 0);
            CHECK(tensor_quantize_row(t, of + r * k, ours, k) == rb);
            if (memcmp(ours, qrow, (size_t)rb)) {
                diff_rows++;
                for (int64_t b = 0; b < rb; b++) diff_bytes += ours[b] != qrow[b];
            }
            tensor_dequantize_row(t, ours, ours_deq, k);
            for (int64_t j = 0; j < k; j++) {
                double o = of[r * k + j];
                our_err += (ours_deq[j] - o) * (ours_deq[j] - o);
                their_err += (deq[r * k + j] - o) * (deq[r * k + j] - o);
                ref_ss += o * o;
            }
        }
        const double rel = rel_rms(deq, of, rows * k);
        const double b = bound_of(t);
        CHECK_MSG(rel <= b, "%s: %s (%s) relative RMS error %.5f > bound %.5f", name, tq->name,
                  tensor_type_name(t), rel, b);
        CHECK_MSG(diff_rows == 0 || our_err <= their_err * 1.001,
                  "%s: %s: our %s quantisation is worse than llama.cpp's (%.6g vs %.6g)", name, tq->name,
                  tensor_type_name(t), sqrt(our_err / ref_ss), sqrt(their_err / ref_ss));
        if (t == TENSOR_TYPE_F16 || t == TENSOR_TYPE_Q8_0 || t == TENSOR_TYPE_Q4_0 || t == TENSOR_TYPE_Q4_1 ||
            t == TENSOR_TYPE_Q5_0 || t == TENSOR_TYPE_Q5_1)
            CHECK_MSG(diff_rows == 0, "%s: %s: %lld of %lld rows differ from llama.cpp's bytes", name, tq->name,
                      (long long)diff_rows, (long long)rows);
        printf("  %-8s %-28s %-5s rel_rms %.5f (bound %.4f)  requantised: %s", name, tq->name,
               tensor_type_name(t), rel, b, diff_rows ? "" : "bit-exact\n");
        if (diff_rows)
            printf("%lld/%lld rows differ (%lld bytes); rms ours %.6f llama %.6f\n", (long long)diff_rows,
                   (long long)rows, (long long)diff_bytes, sqrt(our_err / ref_ss), sqrt(their_err / ref_ss));
        n_checked++;
        free(deq); free(ours); free(ours_deq);
    }
    CHECK_MSG(n_checked > 0, "%s: no quantised tensor checked", name);
    gguf_close(q);
}

static void check_hf_bf16(struct gguf_file *orig)
{
    struct gguf_file *q = open_or_null("models/random/qwen3-tiny-hf-bf16.gguf");
    if (!q) return;
    int n = 0, n_same = 0;
    double worst = 0;
    for (int64_t i = 0; i < gguf_n_tensors(q); i++) {
        const struct gguf_tensor *tq = gguf_tensor_at(q, i);
        if (tq->type != TENSOR_TYPE_BF16) continue;
        const int64_t total = (int64_t)(tq->size / 2);
        float *deq = malloc(sizeof(float) * (size_t)total);
        uint16_t *back = malloc(2 * (size_t)total);
        CHECK(tensor_dequantize_row(TENSOR_TYPE_BF16, tq->data, deq, total) == 0);
        CHECK(tensor_quantize_row(TENSOR_TYPE_BF16, deq, back, total) == total * 2);
        CHECK_MSG(!memcmp(back, tq->data, (size_t)total * 2), "hf-bf16 %s: bf16 round trip not exact", tq->name);
        int finite = 1;
        for (int64_t j = 0; j < total; j++) finite &= isfinite(deq[j]) != 0;
        CHECK(finite);
        const struct gguf_tensor *to = gguf_get_tensor(orig, tq->name);
        if (to && to->size == (uint64_t)total * 4) {
            const double r = rel_rms(deq, to->data, total);
            if (r > worst) worst = r;
            /* the hf-bf16 checkpoint holds the f32 model's weights rounded
             * to bf16 (nearest even): our f32->bf16 must give its bytes */
            CHECK(tensor_quantize_row(TENSOR_TYPE_BF16, to->data, back, total) == total * 2);
            if (!memcmp(back, tq->data, (size_t)total * 2)) n_same++;
            CHECK_MSG(r <= bound_of(TENSOR_TYPE_BF16), "hf-bf16 %s rel_rms %.5f", tq->name, r);
        }
        n++;
        free(deq); free(back);
    }
    CHECK(n > 0);
    CHECK_MSG(n_same == n, "hf-bf16: only %d of %d tensors equal bf16(f32 model)", n_same, n);
    printf("  hf-bf16: %d bf16 tensors round-trip exactly; %d of them are bit-exactly bf16(f32 model), "
           "worst rel_rms %.5f\n", n, n_same, worst);
    gguf_close(q);
}

int main(void)
{
    struct gguf_file *orig = open_or_null("models/random/qwen3-tiny-f32.gguf");
    if (!orig) TEST_FAIL("testdata/models/random/qwen3-tiny-f32.gguf not available");
    static const char *files[] = {"f16", "q8_0", "q6_k", "q5_k_m", "q5_k_s", "q5_1", "q5_0", "q4_k_m",
                                  "q4_k_s", "q4_1", "q4_0", "q3_k_m", "q3_k_s", "q2_k"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) check_file(orig, files[i]);
    check_hf_bf16(orig);
    gguf_close(orig);
    return TEST_DONE();
}
