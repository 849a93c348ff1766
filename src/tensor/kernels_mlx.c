/* kernels_mlx.c - MLX affine blocks: type ids, packing from MLX's three
 * arrays, row dequantisation and the matmul (see kernels_mlx.h). Scalar C
 * written so that gcc vectorises the inner loops. */
#include "tensor/kernels_mlx.h"

#include "tensor/cpu_features.h"
#include "tensor/kernels_mlx_internal.h"

#include "tensor/tensor_types.h"
#include "tensor/type_traits.h"
#include "tensor/threadpool.h"

#include <stdlib.h>
#include <string.h>

static const int mlx_bits[2] = {4, 8};
static const int mlx_groups[3] = {32, 64, 128};

int tensor_mlx_type(int bits, int group, enum tensor_mlx_scale scale)
{
    int bi = bits == 4 ? 0 : bits == 8 ? 1 : -1;
    int gi = group == 32 ? 0 : group == 64 ? 1 : group == 128 ? 2 : -1;
    if (bi < 0 || gi < 0 || (int)scale < 0 || (int)scale > 2) return -1;
    return TENSOR_TYPE_MLX_FIRST + (bi * 3 + gi) * 3 + (int)scale;
}

int tensor_mlx_type_is(int type)
{
    const struct tensor_type_traits *tt = tensor_type_traits(type);
    return tt && tt->mlx;
}

int tensor_mlx_type_params(int type, int *bits, int *group, enum tensor_mlx_scale *scale)
{
    if (!tensor_mlx_type_is(type)) return -1;
    int i = type - TENSOR_TYPE_MLX_FIRST;
    if (scale) *scale = (enum tensor_mlx_scale)(i % 3);
    if (group) *group = mlx_groups[(i / 3) % 3];
    if (bits) *bits = mlx_bits[i / 9];
    return 0;
}

const char *tensor_mlx_type_name(int type) { return tensor_mlx_type_is(type) ? tensor_type_name(type) : "unknown"; }

static size_t scale_bytes(enum tensor_mlx_scale s)
{
    return s == TENSOR_MLX_SCALE_F32 ? 4 : 2;
}

size_t tensor_mlx_block_bytes(int type) { return tensor_mlx_type_is(type) ? tensor_type_traits(type)->block_bytes : 0; }

int64_t tensor_mlx_row_bytes(int type, int64_t k)
{
    int group;
    if (tensor_mlx_type_params(type, NULL, &group, NULL) || k < 0 || k % group) return -1;
    return k / group * (int64_t)tensor_mlx_block_bytes(type);
}

/* One scale or bias value (any alignment). */
static inline float load_scale(const unsigned char *p, enum tensor_mlx_scale s)
{
    if (s == TENSOR_MLX_SCALE_F32) {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, p, 2);
    return s == TENSOR_MLX_SCALE_BF16 ? tensor_bf16_to_f32(h) : tensor_f16_to_f32(h);
}

int tensor_mlx_pack(int type, const void *q_words, const void *scales, const void *biases,
                    int64_t rows, int64_t k, void *dst)
{
    int bits, group;
    enum tensor_mlx_scale s;
    if (tensor_mlx_type_params(type, &bits, &group, &s) || rows < 0 || k <= 0 || k % group) return -1;
    const size_t sb = scale_bytes(s), qb = (size_t)group * (size_t)bits / 8;
    const int64_t groups = k / group;
    const unsigned char *q = q_words, *sc = scales, *bi = biases;
    unsigned char *out = dst;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t g = 0; g < groups; g++) {
            const int64_t gi = r * groups + g;
            memcpy(out, sc + gi * sb, sb);
            memcpy(out + sb, bi + gi * sb, sb);
            memcpy(out + 2 * sb, q + (size_t)gi * qb, qb);
            out += 2 * sb + qb;
        }
    return 0;
}

int tensor_mlx_dequantize_row(int type, const void *src, float *dst, int64_t n)
{
    int bits, group;
    enum tensor_mlx_scale s;
    if (tensor_mlx_type_params(type, &bits, &group, &s) || n < 0 || n % group) return -1;
    const size_t sb = scale_bytes(s), bb = tensor_mlx_block_bytes(type);
    const unsigned char *p = src;
    for (int64_t g = 0; g < n / group; g++, p += bb) {
        const float scale = load_scale(p, s), bias = load_scale(p + sb, s);
        const unsigned char *q = p + 2 * sb;
        float *o = dst + g * group;
        if (bits == 4) {
            for (int i = 0; i < group / 2; i++) {
                o[2 * i] = scale * (float)(q[i] & 15) + bias;
                o[2 * i + 1] = scale * (float)(q[i] >> 4) + bias;
            }
        } else {
            for (int i = 0; i < group; i++) o[i] = scale * (float)q[i] + bias;
        }
    }
    return 0;
}

/* sum_j q_j x_j over one group. */
static inline float dot_q4(const unsigned char *q, const float *x, int group)
{
    float lo = 0.0f, hi = 0.0f;
    for (int i = 0; i < group / 2; i++) {
        lo += (float)(q[i] & 15) * x[2 * i];
        hi += (float)(q[i] >> 4) * x[2 * i + 1];
    }
    return lo + hi;
}

static inline float dot_q8(const unsigned char *q, const float *x, int group)
{
    float acc[8] = {0};
    for (int i = 0; i < group; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += (float)q[i + j] * x[i + j];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

struct mlx_mm_job {
    const unsigned char *w;
    int64_t rows, k, ldx, n_x, ldy;
    size_t stride, bb, sb;
    int bits, group;
    enum tensor_mlx_scale scale;
    int use_avx2; /* chosen once per call from cpu_level() */
    const float *x, *xsum; /* xsum: [n_x][k / group] group sums of x */
    float *y;
};

static float row_dot(const struct mlx_mm_job *j, const unsigned char *row, const float *x, const float *xs)
{
    const int64_t groups = j->k / j->group;
    float acc = 0.0f;
    for (int64_t g = 0; g < groups; g++, row += j->bb) {
        const float scale = load_scale(row, j->scale), bias = load_scale(row + j->sb, j->scale);
        const unsigned char *q = row + 2 * j->sb;
        const float *xg = x + g * j->group;
        float d = j->bits == 4 ? dot_q4(q, xg, j->group) : dot_q8(q, xg, j->group);
        acc += scale * d + bias * xs[g];
    }
    return acc;
}

/* Rows split among threads; a tile of rows is reused across all tokens. */
static void mlx_mm_worker(void *arg, int ith, int nth)
{
    const struct mlx_mm_job *j = arg;
    long long r0, r1;
    threadpool_split(j->rows, ith, nth, &r0, &r1);
    const int64_t groups = j->k / j->group;
    enum { TILE = 16 };
    for (long long rt = r0; rt < r1; rt += TILE) {
        long long re = rt + TILE < r1 ? rt + TILE : r1;
        for (int64_t t = 0; t < j->n_x; t++) {
            const float *x = j->x + t * j->ldx, *xs = j->xsum + t * groups;
            float *y = j->y + t * j->ldy;
            for (long long r = rt; r < re; r++) {
                const unsigned char *row = j->w + (size_t)r * j->stride;
#if defined(__x86_64__)
                if (j->use_avx2) {
                    y[r] = tensor_mlx_row_dot_avx2(row, x, xs, groups, j->group, j->bits, (int)j->scale);
                    continue;
                }
#endif
                y[r] = row_dot(j, row, x, xs);
            }
        }
    }
}

int tensor_mlx_matmul_ex(const void *w, int w_type, int64_t rows, int64_t k, size_t w_row_stride,
                         const float *x, int64_t ldx, int64_t n_x, float *y, int64_t ldy,
                         struct threadpool *tp)
{
    struct mlx_mm_job j;
    memset(&j, 0, sizeof j);
    if (tensor_mlx_type_params(w_type, &j.bits, &j.group, &j.scale)) return -1;
    int64_t rb = tensor_mlx_row_bytes(w_type, k);
    if (rows < 0 || n_x < 0 || rb < 0 || w_row_stride < (size_t)rb || ldx < k || ldy < rows) return -1;
    if (rows == 0 || n_x == 0) return 0;
    const int64_t groups = k / j.group;
    float *xsum = malloc((size_t)(n_x * groups) * sizeof *xsum);
    if (!xsum) return -1;
    for (int64_t t = 0; t < n_x; t++)
        for (int64_t g = 0; g < groups; g++) {
            const float *xg = x + t * ldx + g * j.group;
            float s = 0.0f;
            for (int i = 0; i < j.group; i++) s += xg[i];
            xsum[t * groups + g] = s;
        }
    j.w = w;
    j.rows = rows;
    j.k = k;
    j.ldx = ldx;
    j.n_x = n_x;
    j.ldy = ldy;
    j.stride = w_row_stride;
    j.bb = tensor_mlx_block_bytes(w_type);
    j.sb = scale_bytes(j.scale);
    j.x = x;
    j.xsum = xsum;
    j.y = y;
    j.use_avx2 = cpu_level() >= CPU_LEVEL_AVX2;
    if (tp) threadpool_run(tp, mlx_mm_worker, &j);
    else mlx_mm_worker(&j, 0, 1);
    free(xsum);
    return 0;
}
