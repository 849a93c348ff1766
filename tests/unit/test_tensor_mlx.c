/* test_tensor_mlx.c - the MLX affine kernels (tensor/kernels_mlx.h).
 *
 *  1. Every (bits 4/8) x (group 32/64/128) x (scales f16/bf16/f32): pack
 *     random MLX arrays, dequantise, and compare bit for bit with values
 *     decoded straight from the MLX layout (word >> j*bits).
 *  2. The matmul against a float64 reference over the dequantised weights
 *     (bound 1e-5 of the output scale), for 1 and 5 activation rows, and the
 *     same bits with 1 and 3 threads; at every SIMD level the CPU has.
 *  3. The test data's qwen3-tiny-mlx4 directory: every quantised matrix
 *     dequantises to within a step of the f32 weights it was made from
 *     (build/make-model writes the same seed's masters).
 *  4. Bad arguments are refused. */
#include "test_util.h"

#include "formats/gguf.h"
#include "formats/hf_config.h"
#include "formats/hf_tensor_map.h"
#include "formats/safetensors.h"
#include "tensor/cpu_features.h"
#include "tensor/kernels_mlx.h"
#include "tensor/tensor_types.h"
#include "tensor/threadpool.h"

#include <math.h>
#include <stdint.h>
#include <unistd.h>

static uint64_t rng = 88172645463325252ull;
static uint32_t next_u32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}
static float next_f(void) { return (float)(next_u32() % 20001) / 10000.0f - 1.0f; }

static void put_scale(unsigned char *p, float v, enum tensor_mlx_scale s)
{
    if (s == TENSOR_MLX_SCALE_F32) {
        memcpy(p, &v, 4);
        return;
    }
    uint16_t h = s == TENSOR_MLX_SCALE_BF16 ? tensor_f32_to_bf16(v) : tensor_f32_to_f16(v);
    memcpy(p, &h, 2);
}

static float get_scale(const unsigned char *p, enum tensor_mlx_scale s)
{
    if (s == TENSOR_MLX_SCALE_F32) {
        float v;
        memcpy(&v, p, 4);
        return v;
    }
    uint16_t h;
    memcpy(&h, p, 2);
    return s == TENSOR_MLX_SCALE_BF16 ? tensor_bf16_to_f32(h) : tensor_f16_to_f32(h);
}

static void test_combo(int bits, int group, enum tensor_mlx_scale sd, struct threadpool *tp)
{
    const int rows = 9, k = 384 > group ? 384 : group;
    const int sb = sd == TENSOR_MLX_SCALE_F32 ? 4 : 2, groups = k / group;
    int type = tensor_mlx_type(bits, group, sd);
    CHECK(type >= TENSOR_TYPE_MLX_FIRST && tensor_mlx_type_is(type));
    int b2, g2;
    enum tensor_mlx_scale s2;
    CHECK(tensor_mlx_type_params(type, &b2, &g2, &s2) == 0 && b2 == bits && g2 == group && s2 == sd);
    uint32_t *words = malloc((size_t)rows * k * bits / 32 * 4);
    unsigned char *sc = malloc((size_t)rows * groups * sb), *bi = malloc((size_t)rows * groups * sb);
    for (int i = 0; i < rows * k * bits / 32; i++) words[i] = next_u32();
    for (int i = 0; i < rows * groups; i++) {
        put_scale(sc + i * sb, next_f() * 0.05f, sd); /* negative scales too, as MLX makes */
        put_scale(bi + i * sb, next_f() * 0.3f, sd);
    }
    int64_t rb = tensor_mlx_row_bytes(type, k);
    CHECK(rb == (int64_t)groups * (2 * sb + group * bits / 8));
    unsigned char *packed = malloc((size_t)(rb * rows));
    CHECK(tensor_mlx_pack(type, words, sc, bi, rows, k, packed) == 0);

    /* Reference decode straight from the MLX arrays. */
    float *ref = malloc((size_t)rows * k * sizeof(float)), *got = malloc((size_t)k * sizeof(float));
    const int per_word = 32 / bits;
    const uint32_t mask = (1u << bits) - 1;
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < k; j++) {
            uint32_t w = words[(size_t)r * (k / per_word) + j / per_word];
            uint32_t q = (w >> ((j % per_word) * bits)) & mask;
            int gi = r * groups + j / group;
            ref[(size_t)r * k + j] = get_scale(sc + gi * sb, sd) * (float)q + get_scale(bi + gi * sb, sd);
        }
    int exact = 1;
    for (int r = 0; r < rows; r++) {
        CHECK(tensor_mlx_dequantize_row(type, packed + r * rb, got, k) == 0);
        if (memcmp(got, ref + (size_t)r * k, (size_t)k * sizeof(float)) != 0) exact = 0;
    }
    CHECK_MSG(exact, "%s: dequantised rows differ from the MLX layout", tensor_mlx_type_name(type));

    /* Matmul against float64 over the reference values. */
    const int nx = 5;
    float *x = malloc((size_t)nx * k * sizeof(float)), *y = malloc((size_t)nx * rows * sizeof(float));
    float *y1 = malloc((size_t)nx * rows * sizeof(float));
    for (int i = 0; i < nx * k; i++) x[i] = next_f();
    CHECK(tensor_mlx_matmul_ex(packed, type, rows, k, (size_t)rb, x, k, nx, y, rows, NULL) == 0);
    double worst = 0, scale = 0;
    for (int t = 0; t < nx; t++)
        for (int r = 0; r < rows; r++) {
            double acc = 0, mag = 0;
            for (int j = 0; j < k; j++) {
                acc += (double)ref[(size_t)r * k + j] * x[(size_t)t * k + j];
                mag += fabs((double)ref[(size_t)r * k + j] * x[(size_t)t * k + j]);
            }
            double d = fabs(acc - y[t * rows + r]);
            if (d > worst) worst = d;
            if (mag > scale) scale = mag;
        }
    CHECK_MSG(worst <= 1e-5 * scale, "%s: matmul error %g (scale %g)", tensor_mlx_type_name(type), worst, scale);
    /* One activation row, threads: identical bits. */
    CHECK(tensor_mlx_matmul_ex(packed, type, rows, k, (size_t)rb, x, k, 1, y1, rows, tp) == 0);
    CHECK(memcmp(y1, y, (size_t)rows * sizeof(float)) == 0);
    CHECK(tensor_mlx_matmul_ex(packed, type, rows, k, (size_t)rb, x, k, nx, y1, rows, tp) == 0);
    CHECK(memcmp(y1, y, (size_t)nx * rows * sizeof(float)) == 0);
    free(words);
    free(sc);
    free(bi);
    free(packed);
    free(ref);
    free(got);
    free(x);
    free(y);
    free(y1);
}

static void test_bad_args(void)
{
    int type = tensor_mlx_type(4, 64, TENSOR_MLX_SCALE_BF16);
    float x[64] = {0}, y[2];
    unsigned char w[72] = {0};
    CHECK(tensor_mlx_type(3, 64, TENSOR_MLX_SCALE_BF16) == -1);
    CHECK(tensor_mlx_type(4, 16, TENSOR_MLX_SCALE_BF16) == -1);
    CHECK(!tensor_mlx_type_is(TENSOR_TYPE_Q4_0) && !tensor_mlx_type_is(TENSOR_TYPE_MLX_LAST + 1));
    CHECK(strcmp(tensor_mlx_type_name(type), "mlx_q4_g64_bf16") == 0);
    CHECK(strcmp(tensor_mlx_type_name(TENSOR_TYPE_F32), "unknown") == 0);
    CHECK(tensor_mlx_row_bytes(type, 100) == -1);
    CHECK(tensor_mlx_dequantize_row(type, w, x, 63) == -1);
    CHECK(tensor_mlx_dequantize_row(TENSOR_TYPE_F16, w, x, 64) == -1);
    CHECK(tensor_mlx_matmul_ex(w, type, 2, 64, 10, x, 64, 1, y, 2, NULL) == -1); /* stride too small */
    CHECK(tensor_mlx_matmul_ex(w, type, 2, 60, 36, x, 64, 1, y, 2, NULL) == -1); /* k not a multiple */
    CHECK(tensor_mlx_matmul_ex(w, TENSOR_TYPE_Q8_0, 2, 64, 72, x, 64, 1, y, 2, NULL) == -1);
}

/* The test data's MLX 4-bit checkpoint against the float32 weights it was
 * quantised from: build/make-model writes the same seed's master weights
 * as an f32 directory, and every dequantised weight must lie within a
 * quantisation step (|scale|) of its original, with the RMS error of
 * uniform rounding, which any misreading of the packing, the scales or the
 * biases breaks by far. */
static void test_real(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", test_data_path("models/random/qwen3-tiny-mlx4/config.json"));
    *strrchr(dir, '/') = '\0';
    const char *bd = getenv("INF_BUILD_DIR");
    if (!bd) TEST_FAIL("INF_BUILD_DIR is not set (run through ctest)");
    char f32dir[4200], cmd[16384];
    snprintf(f32dir, sizeof f32dir, "%s/testdata-mlx-f32", bd);
    snprintf(cmd, sizeof cmd, "'%s/make-model' --arch qwen3 --seed 1 --tokenizer '%s/tokenizers/qwen3' --vocab-limit 8192 "
             "--type f32 -o '%s' >/dev/null 2>&1", bd, test_data_root(), f32dir);
    if (system(cmd) != 0) TEST_FAIL("make-model could not write %s", f32dir);
    struct hf_config cfg;
    struct safetensors_set *set = NULL, *ref = NULL;
    inf_error err = {0};
    CHECK(hf_config_load_dir(dir, &cfg, &err) == 0);
    CHECK(safetensors_set_open(dir, &set, &err) == 0);
    CHECK_MSG(safetensors_set_open(f32dir, &ref, &err) == 0, "%s", err.message);
    int n_mat = 0, n_ok = 0;
    for (int64_t i = 0; set && ref && i < safetensors_set_n_tensors(set); i++) {
        const struct safetensors_tensor *t = safetensors_set_tensor_at(set, i);
        if (t->dtype != SAFETENSORS_U32) continue;
        char base[512], sn[600], bn[600];
        snprintf(base, sizeof base, "%.*s", (int)(strlen(t->name) - 7), t->name);
        snprintf(sn, sizeof sn, "%s.scales", base);
        snprintf(bn, sizeof bn, "%s.biases", base);
        const struct safetensors_tensor *sc = safetensors_set_find(set, sn, NULL), *bi = safetensors_set_find(set, bn, NULL);
        const struct safetensors_tensor *w = safetensors_set_find(ref, t->name, NULL);
        int64_t rows = t->shape[0], k = t->shape[1] * 32 / cfg.quant_bits;
        CHECK_MSG(sc && bi && w && w->dtype == SAFETENSORS_F32 && w->n_elements == rows * k, "%s: no f32 original",
                  t->name);
        if (!sc || !bi || !w || w->n_elements != rows * k) continue;
        int type = tensor_mlx_type(cfg.quant_bits, cfg.quant_group, TENSOR_MLX_SCALE_BF16);
        int64_t rb = tensor_mlx_row_bytes(type, k), groups = k / cfg.quant_group;
        unsigned char *packed = malloc((size_t)(rb * rows));
        float *row = malloc((size_t)k * sizeof(float)), *orig = malloc((size_t)k * sizeof(float));
        tensor_mlx_pack(type, t->data, sc->data, bi->data, rows, k, packed);
        int within = 1;
        double worst = 0, sq = 0;
        for (int64_t r = 0; r < rows; r++) {
            tensor_mlx_dequantize_row(type, packed + r * rb, row, k);
            memcpy(orig, (const float *)w->data + r * k, (size_t)k * sizeof(float));
            for (int64_t j = 0; j < k; j++) {
                uint16_t sbits;
                memcpy(&sbits, (const unsigned char *)sc->data + (size_t)(r * groups + j / cfg.quant_group) * 2, 2);
                float step = fabsf(tensor_bf16_to_f32(sbits));
                double ratio = fabsf(row[j] - orig[j]) / step;
                if (ratio > worst) worst = ratio;
                sq += ratio * ratio;
            }
        }
        /* Rounding costs at most half a step inside the group's grid; the
         * extreme opposite the exact edge may be clipped by up to a step
         * (measured 1.02 at most); the RMS of uniform rounding is 0.29. */
        double rms = sqrt(sq / (double)(rows * k));
        within = worst <= 1.1 && rms <= 0.32;
        if (!within) printf("%s: worst error %.3f steps, RMS %.3f\n", t->name, worst, rms);
        n_mat++;
        n_ok += within;
        CHECK_MSG(within, "%s: a dequantised weight is more than half a step from its original", t->name);
        free(packed);
        free(row);
        free(orig);
    }
    printf("qwen3-tiny-mlx4: %d of %d MLX matrices dequantise within a step (RMS 0.29 steps) of make-model's f32 masters\n", n_ok,
           n_mat);
    CHECK(n_mat == 1 + 2 * 7); /* embedding + 7 linears per layer */
    safetensors_set_close(set);
    safetensors_set_close(ref);
}

int main(void)
{
    struct threadpool *tp = threadpool_create(3);
    static const int bits[] = {4, 8}, groups[] = {32, 64, 128};
    /* Every SIMD level this CPU has (scalar, AVX2...) against the reference. */
    const int max_level = cpu_level_max();
    for (int level = CPU_LEVEL_SCALAR; level <= max_level; level++) {
        cpu_set_level(level);
        int before = test_failed_count;
        for (int b = 0; b < 2; b++)
            for (int g = 0; g < 3; g++)
                for (int s = 0; s < 3; s++) test_combo(bits[b], groups[g], (enum tensor_mlx_scale)s, tp);
        printf("level %-6s: 18 MLX types, dequantisation exact, matmul within 1e-5: %s\n", cpu_level_name(level),
               test_failed_count == before ? "ok" : "FAILED");
    }
    cpu_set_level(max_level);
    threadpool_free(tp);
    test_bad_args();
    test_real();
    return TEST_DONE();
}
