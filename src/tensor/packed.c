/* packed.c - repacking weight matrices into 16-row interleaved layouts, and
 * the driver of the packed GEMM/GEMV (activation quantisation, work split).
 * The layouts are described in packed.h; the compute is in
 * kernels_packed_avx512.c. */
#include "packed.h"

#include "cpu_features.h"
#include "kernels.h"
#include "packed_internal.h"
#include "quant_blocks.h"
#include "tensor_types.h"
#include "threadpool.h"
#include "type_traits.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int tensor_pack_supported(int w_type, int64_t k)
{
    if (getenv("INF_NO_PACK")) return 0;
    if (cpu_level() < CPU_LEVEL_AVX512 || !cpu_features_get()->avx512vnni) return 0;
    if (w_type == TENSOR_TYPE_BF16 && !cpu_features_get()->avx512bf16) return 0;
    const struct tensor_type_traits *tt = tensor_type_traits(w_type);
    if (!tt || !tt->pack || !packed_kernel_avx512(w_type)) return 0;
    return k > 0 && k % tt->pack_elems == 0;
}

/* ---- repacking: one group of 16 rows at a time ---- */

struct pack_job {
    struct packed_matrix *pm;
    struct pack_src src;
    pack_group_fn pack;
    atomic_llong next;
};

/* Row r of the group, or NULL for a padding row. */
static const uint8_t *group_row(const struct pack_src *j, int64_t g, int r)
{
    int64_t row = g * PK_ROWS + r;
    return row < j->rows ? j->w + (size_t)row * j->ws : NULL;
}

/* The packers walk the destination in order (block by block, the 16 rows
 * inside each), reading the 16 source rows side by side. */
void pk_pack_f16(const struct pack_src *j, int64_t g, uint8_t *dst)
{
    uint16_t *out = (uint16_t *)dst;
    const uint8_t *src[PK_ROWS];
    for (int r = 0; r < PK_ROWS; r++) src[r] = group_row(j, g, r);
    for (int64_t c = 0; c < j->k; c++)
        for (int r = 0; r < PK_ROWS; r++) out[c * PK_ROWS + r] = src[r] ? rd_u16(src[r] + 2 * c) : 0;
}

/* BF16: per pair of columns, the 16 rows' two values side by side (one
 * 32-bit lane per row, the even column in the low half), as vdpbf16ps
 * pairs them. */
void pk_pack_bf16(const struct pack_src *j, int64_t g, uint8_t *dst)
{
    uint16_t *out = (uint16_t *)dst;
    const uint8_t *src[PK_ROWS];
    for (int r = 0; r < PK_ROWS; r++) src[r] = group_row(j, g, r);
    for (int64_t p = 0; p < j->k / 2; p++)
        for (int r = 0; r < PK_ROWS; r++)
            for (int e = 0; e < 2; e++)
                out[(p * PK_ROWS + r) * 2 + e] = src[r] ? rd_u16(src[r] + 2 * (2 * p + e)) : 0;
}

void pk_pack_q8_0(const struct pack_src *j, int64_t g, uint8_t *dst)
{
    const int64_t nb = j->k / 32;
    const uint8_t *rows[PK_ROWS];
    for (int r = 0; r < PK_ROWS; r++) rows[r] = group_row(j, g, r);
    for (int64_t b = 0; b < nb; b++) {
        for (int r = 0; r < PK_ROWS; r++) {
            uint8_t *o = dst + (size_t)b * PK_Q8_0_BLOCK;
            const block_q8_0 *x = rows[r] ? (const block_q8_0 *)rows[r] + b : NULL;
            uint16_t d = x ? rd_u16(&x->d) : 0;
            memcpy(o + 2 * r, &d, 2);
            for (int i = 0; i < 8; i++)
                for (int e = 0; e < 4; e++) o[32 + 64 * i + 4 * r + e] = x ? (uint8_t)(x->qs[4 * i + e] + 128) : 0;
        }
    }
}

void pk_pack_q4_0(const struct pack_src *j, int64_t g, uint8_t *dst)
{
    const int64_t nb = j->k / 32;
    const uint8_t *rows[PK_ROWS];
    for (int r = 0; r < PK_ROWS; r++) rows[r] = group_row(j, g, r);
    for (int64_t b = 0; b < nb; b++) {
        for (int r = 0; r < PK_ROWS; r++) {
            uint8_t *o = dst + (size_t)b * PK_Q4_0_BLOCK;
            const block_q4_0 *x = rows[r] ? (const block_q4_0 *)rows[r] + b : NULL;
            uint16_t d = x ? rd_u16(&x->d) : 0;
            memcpy(o + 2 * r, &d, 2);
            for (int p = 0; p < 4; p++)
                for (int e = 0; e < 4; e++) o[32 + 64 * p + 4 * r + e] = x ? x->qs[4 * p + e] : 0;
        }
    }
}

void pk_pack_q4_k(const struct pack_src *j, int64_t g, uint8_t *dst)
{
    const int64_t nb = j->k / 256;
    const uint8_t *rows[PK_ROWS];
    for (int r = 0; r < PK_ROWS; r++) rows[r] = group_row(j, g, r);
    for (int64_t b = 0; b < nb; b++) {
        for (int r = 0; r < PK_ROWS; r++) {
            uint8_t *o = dst + (size_t)b * PK_Q4_K_BLOCK;
            const block_q4_K *x = rows[r] ? (const block_q4_K *)rows[r] + b : NULL;
            uint16_t d = x ? rd_u16(&x->d) : 0, dmin = x ? rd_u16(&x->dmin) : 0;
            memcpy(o + 2 * r, &d, 2);
            memcpy(o + 32 + 2 * r, &dmin, 2);
            for (int s = 0; s < 8; s++) {
                uint8_t sc = 0, mn = 0;
                if (x) get_scale_min_k4(s, x->scales, &sc, &mn);
                o[64 + 16 * s + r] = sc;
                o[192 + 32 * (s / 2) + 2 * r + (s & 1)] = mn;
            }
            for (int c = 0; c < 4; c++)
                for (int p = 0; p < 8; p++)
                    for (int e = 0; e < 4; e++)
                        o[320 + (c * 8 + p) * 64 + 4 * r + e] = x ? x->qs[32 * c + 4 * p + e] : 0;
        }
    }
}

/* Q6_K: the 256 unsigned 6-bit values of a block in element order. */
static void q6_k_values(const block_q6_K *x, uint8_t u[256])
{
    for (int n = 0; n < 2; n++)
        for (int l = 0; l < 32; l++) {
            const uint8_t ql0 = x->ql[64 * n + l], ql1 = x->ql[64 * n + l + 32], qh = x->qh[32 * n + l];
            u[128 * n + l] = (uint8_t)((ql0 & 0xF) | ((qh & 3) << 4));
            u[128 * n + l + 32] = (uint8_t)((ql1 & 0xF) | (((qh >> 2) & 3) << 4));
            u[128 * n + l + 64] = (uint8_t)((ql0 >> 4) | (((qh >> 4) & 3) << 4));
            u[128 * n + l + 96] = (uint8_t)((ql1 >> 4) | (((qh >> 6) & 3) << 4));
        }
}

void pk_pack_q6_k(const struct pack_src *j, int64_t g, uint8_t *dst)
{
    const int64_t nb = j->k / 256;
    uint8_t u[256];
    const uint8_t *rows[PK_ROWS];
    for (int r = 0; r < PK_ROWS; r++) rows[r] = group_row(j, g, r);
    for (int64_t b = 0; b < nb; b++) {
        for (int r = 0; r < PK_ROWS; r++) {
            uint8_t *o = dst + (size_t)b * PK_Q6_K_BLOCK;
            const block_q6_K *x = rows[r] ? (const block_q6_K *)rows[r] + b : NULL;
            uint16_t d = x ? rd_u16(&x->d) : 0;
            memcpy(o + 2 * r, &d, 2);
            if (x) q6_k_values(x, u);
            else memset(u, 0, sizeof u);
            for (int s = 0; s < 16; s++) o[32 + 32 * (s / 2) + 2 * r + (s & 1)] = x ? (uint8_t)x->scales[s] : 0;
            for (int gi = 0; gi < 16; gi++) {
                const uint8_t *v = u + 16 * gi;
                uint8_t *q = o + 288 + (size_t)gi * 192;
                for (int e = 0; e < 4; e++) {
                    q[4 * r + e] = (uint8_t)((v[e] & 0xF) | (v[4 + e] & 0xF) << 4);
                    q[64 + 4 * r + e] = (uint8_t)((v[8 + e] & 0xF) | (v[12 + e] & 0xF) << 4);
                    q[128 + 4 * r + e] =
                        (uint8_t)((v[e] >> 4) | (v[4 + e] >> 4) << 2 | (v[8 + e] >> 4) << 4 | (v[12 + e] >> 4) << 6);
                }
            }
        }
    }
}

static void pack_worker(void *arg, int ith, int nth)
{
    (void)ith;
    (void)nth;
    struct pack_job *j = arg;
    struct packed_matrix *pm = j->pm;
    for (;;) {
        const int64_t g = atomic_fetch_add(&j->next, 1);
        if (g >= pm->n_groups) break;
        j->pack(&j->src, g, pm->data + (size_t)g * pm->group_bytes);
    }
}

/* Memory for a packed copy, 64-byte aligned. Large copies get their own
 * mapping with transparent huge pages requested: decode streams through
 * every byte once per token, and 2 MiB pages spare it most TLB misses
 * (worth a few per cent of bandwidth here). *mapped: bytes to munmap, or 0
 * when the block came from malloc. */
#define PK_HUGE (2u << 20)
static uint8_t *packed_alloc(size_t size, size_t *mapped)
{
    *mapped = 0;
    if (size >= 2 * PK_HUGE) {
        const size_t len = (size + PK_HUGE - 1) & ~(size_t)(PK_HUGE - 1);
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
#ifdef MADV_HUGEPAGE
            madvise(p, len, MADV_HUGEPAGE);
#endif
            *mapped = len;
            return p;
        }
    }
    return aligned_alloc(64, (size + 63) & ~(size_t)63);
}

struct packed_matrix *tensor_pack(const void *w, int w_type, int64_t rows, int64_t k, size_t w_row_stride,
                                  struct threadpool *tp)
{
    if (!w || rows <= 0 || !tensor_pack_supported(w_type, k)) return NULL;
    int64_t rb = tensor_row_bytes(w_type, k);
    if (rb < 0 || w_row_stride < (size_t)rb) return NULL;
    struct packed_matrix *pm = calloc(1, sizeof *pm);
    if (!pm) return NULL;
    pm->type = w_type;
    pm->rows = rows;
    pm->k = k;
    pm->n_groups = (rows + PK_ROWS - 1) / PK_ROWS;
    const struct tensor_type_traits *tt = tensor_type_traits(w_type);
    pm->group_bytes = (size_t)(k / tt->pack_elems) * tt->pack_bytes;
    pm->data = packed_alloc((size_t)pm->n_groups * pm->group_bytes, &pm->mapped_bytes);
    if (!pm->data) {
        free(pm);
        return NULL;
    }
    struct pack_job j = {pm, {w, w_row_stride, rows, k}, tt->pack, 0};
    threadpool_run(tp, pack_worker, &j);
    return pm;
}

void packed_free(struct packed_matrix *pm)
{
    if (!pm) return;
    if (pm->mapped_bytes) munmap(pm->data, pm->mapped_bytes);
    else free(pm->data);
    free(pm);
}

size_t packed_bytes(const struct packed_matrix *pm)
{
    return pm ? (size_t)pm->n_groups * pm->group_bytes + sizeof *pm : 0;
}

/* ---- one row back out (embedding lookups) ---- */

static float h2f(const uint8_t *p) { return tensor_f16_to_f32(rd_u16(p)); }

void pk_row_f16(const uint8_t *g, int rr, int64_t k, float *out)
{
    for (int64_t c = 0; c < k; c++) out[c] = h2f(g + (size_t)(c * PK_ROWS + rr) * 2);
}

void pk_row_bf16(const uint8_t *g, int rr, int64_t k, float *out)
{
    for (int64_t c = 0; c < k; c++)
        out[c] = tensor_bf16_to_f32(rd_u16(g + (size_t)(((c / 2) * PK_ROWS + rr) * 2 + (c & 1)) * 2));
}

void pk_row_q8_0(const uint8_t *g, int rr, int64_t k, float *out)
{
    for (int64_t b = 0; b < k / 32; b++) {
        const uint8_t *blk = g + (size_t)b * PK_Q8_0_BLOCK;
        const float d = h2f(blk + 2 * rr);
        for (int i = 0; i < 8; i++)
            for (int e = 0; e < 4; e++) out[32 * b + 4 * i + e] = (float)(blk[32 + 64 * i + 4 * rr + e] - 128) * d;
    }
}

void pk_row_q4_0(const uint8_t *g, int rr, int64_t k, float *out)
{
    for (int64_t b = 0; b < k / 32; b++) {
        const uint8_t *blk = g + (size_t)b * PK_Q4_0_BLOCK;
        const float d = h2f(blk + 2 * rr);
        for (int p = 0; p < 4; p++)
            for (int e = 0; e < 4; e++) {
                const uint8_t v = blk[32 + 64 * p + 4 * rr + e];
                out[32 * b + 4 * p + e] = (float)((v & 0xF) - 8) * d;
                out[32 * b + 16 + 4 * p + e] = (float)((v >> 4) - 8) * d;
            }
    }
}

void pk_row_q4_k(const uint8_t *g, int rr, int64_t k, float *out)
{
    for (int64_t b = 0; b < k / 256; b++) {
        const uint8_t *blk = g + (size_t)b * PK_Q4_K_BLOCK;
        const float d = h2f(blk + 2 * rr), dmin = h2f(blk + 32 + 2 * rr);
        for (int s = 0; s < 8; s++) {
            const float d1 = d * blk[64 + 16 * s + rr], m1 = dmin * blk[192 + 32 * (s / 2) + 2 * rr + (s & 1)];
            const int c = s / 2, hi = s & 1;
            for (int p = 0; p < 8; p++)
                for (int e = 0; e < 4; e++) {
                    const uint8_t v = blk[320 + (c * 8 + p) * 64 + 4 * rr + e];
                    out[256 * b + 64 * c + 32 * hi + 4 * p + e] = d1 * (hi ? v >> 4 : v & 0xF) - m1;
                }
        }
    }
}

void pk_row_q6_k(const uint8_t *g, int rr, int64_t k, float *out)
{
    for (int64_t b = 0; b < k / 256; b++) {
        const uint8_t *blk = g + (size_t)b * PK_Q6_K_BLOCK;
        const float d = h2f(blk + 2 * rr);
        for (int gi = 0; gi < 16; gi++) {
            const float ds = d * (float)(int8_t)blk[32 + 32 * (gi / 2) + 2 * rr + (gi & 1)];
            const uint8_t *q = blk + 288 + (size_t)gi * 192;
            for (int e = 0; e < 4; e++) {
                const uint8_t n0 = q[4 * rr + e], n1 = q[64 + 4 * rr + e], h = q[128 + 4 * rr + e];
                float *o = out + 256 * b + 16 * gi + e;
                o[0] = ds * (float)(((n0 & 0xF) | ((h & 3) << 4)) - 32);
                o[4] = ds * (float)(((n0 >> 4) | (((h >> 2) & 3) << 4)) - 32);
                o[8] = ds * (float)(((n1 & 0xF) | (((h >> 4) & 3) << 4)) - 32);
                o[12] = ds * (float)(((n1 >> 4) | (((h >> 6) & 3) << 4)) - 32);
            }
        }
    }
}

int packed_get_row(const struct packed_matrix *pm, int64_t r, float *out)
{
    if (!pm || r < 0 || r >= pm->rows) return -1;
    const uint8_t *g = pm->data + (size_t)(r / PK_ROWS) * pm->group_bytes;
    tensor_type_traits(pm->type)->packed_row(g, (int)(r % PK_ROWS), pm->k, out);
    return 0;
}

/* ---- the multiplication ---- */

/* One matrix of a run: its kernel, its output and where its items start
 * in the run's item list. */
struct pk_part {
    const struct packed_matrix *pm;
    packed_kernel_fn kernel;
    float *y;
    int64_t ldy;
    int64_t groups_per_item, first_item;
};

#define PK_MAX_PARTS 4

struct pk_run {
    struct pk_part part[PK_MAX_PARTS];
    int n_parts;
    int64_t k;
    const float *x;
    int64_t ldx, n_x;
    int fmt;              /* ACT_F32, ACT_Q8_32, ACT_Q8_K or PK_ACT_BF16 */
    char *xq;             /* quantised activations (scratch) */
    const char *xa;
    size_t xs, extra_off;
    int64_t tokens_per_item, n_tok_items, n_items;
    struct threadpool *tp;
    struct work_ranges work; /* items claimed as threadpool.h describes */
};

/* BF16 weights take their activations rounded to bf16 (as llama.cpp does
 * for vdpbf16ps): a row of k uint16. */
#define PK_ACT_BF16 100

static int pk_act_format(int type) { return type == TENSOR_TYPE_BF16 ? PK_ACT_BF16 : act_format_of(type); }

/* Quantises activation row t and appends the kernels' extra sums. */
static void pk_quantise_row(const struct pk_run *p, int64_t t)
{
    const struct kernel_table *kt = kernels_get();
    const int64_t k = p->k;
    char *row = p->xq + (size_t)t * p->xs;
    if (p->fmt == PK_ACT_BF16) {
        tensor_f32_to_bf16_row(p->x + t * p->ldx, (uint16_t *)row, k);
    } else if (p->fmt == ACT_Q8_32) {
        kt->quant_act32(p->x + t * p->ldx, row, k);
        int32_t *sq = (int32_t *)(row + p->extra_off);
        const int8_t *qs = ACT32_QS(row);
        for (int64_t b = 0; b < k / 32; b++) {
            int s = 0;
            for (int i = 0; i < 32; i++) s += qs[32 * b + i];
            sq[b] = s;
        }
    } else {
        kt->quant_actk(p->x + t * p->ldx, row, k);
        int16_t *bp = (int16_t *)(row + p->extra_off);
        const int16_t *bs = ACTK_BS(row, k);
        for (int64_t i = 0; i < k / 32; i++) bp[i] = (int16_t)(bs[2 * i] + bs[2 * i + 1]);
    }
}

/* Item it: in one part, a row chunk of groups_per_item groups x a token
 * chunk. */
static void pk_run_item(const struct pk_run *p, int64_t it)
{
    int pi = 0;
    while (pi + 1 < p->n_parts && it >= p->part[pi + 1].first_item) pi++;
    const struct pk_part *pt = &p->part[pi];
    it -= pt->first_item;
    const int64_t rc = it / p->n_tok_items, tc = it % p->n_tok_items;
    const int64_t g0 = rc * pt->groups_per_item;
    const int64_t g1 = g0 + pt->groups_per_item < pt->pm->n_groups ? g0 + pt->groups_per_item : pt->pm->n_groups;
    const int64_t t0 = tc * p->tokens_per_item;
    const int64_t nt = t0 + p->tokens_per_item < p->n_x ? p->tokens_per_item : p->n_x - t0;
    pt->kernel(pt->pm, g0, g1, p->xa + (size_t)t0 * p->xs, p->xs, p->extra_off, nt, pt->y + t0 * pt->ldy,
               pt->ldy);
}

static void pk_worker(void *arg, int ith, int nth)
{
    struct pk_run *p = arg;
    if (p->fmt != ACT_F32) {
        for (int64_t t = ith; t < p->n_x; t += nth) pk_quantise_row(p, t);
        threadpool_barrier(nth > 1 ? p->tp : NULL);
    }
    /* Consecutive items share a row chunk (its weights stay in cache) and
     * differ in token chunk. */
    for (long long it; (it = work_ranges_next(&p->work, ith)) >= 0;) pk_run_item(p, it);
}

int tensor_matmul_packed_multi(const struct packed_product *prods, int n_prods, const float *x, int64_t ldx,
                               int64_t n_x, struct threadpool *tp)
{
    if (!prods || n_prods < 1 || n_prods > PK_MAX_PARTS || !prods[0].pm || n_x < 0 || !x) return -1;
    struct pk_run p;
    memset(&p, 0, sizeof p);
    p.k = prods[0].pm->k;
    p.fmt = pk_act_format(prods[0].pm->type);
    int64_t total_groups = 0;
    double work = 0;
    for (int i = 0; i < n_prods; i++) {
        const struct packed_matrix *pm = prods[i].pm;
        if (!pm || !prods[i].y || pm->k != p.k || pk_act_format(pm->type) != p.fmt || prods[i].ldy < pm->rows)
            return -1;
        p.part[i] = (struct pk_part){ .pm = pm, .kernel = packed_kernel_avx512(pm->type), .y = prods[i].y,
                                      .ldy = prods[i].ldy };
        if (!p.part[i].kernel) return -1;
        total_groups += pm->n_groups;
        work += (double)pm->rows * (double)p.k * (double)n_x;
    }
    p.n_parts = n_prods;
    if (ldx < p.k) return -1;
    if (n_x == 0) return 0;
    p.x = x;
    p.ldx = ldx;
    p.n_x = n_x;
    const int64_t k = p.k;
    if (p.fmt == ACT_F32) {
        p.xa = (const char *)x;
        p.xs = (size_t)ldx * sizeof(float);
    } else if (p.fmt == PK_ACT_BF16) {
        p.xs = ((size_t)k * 2 + 63) & ~(size_t)63;
        p.xq = tensor_thread_scratch(p.xs * (size_t)n_x);
        if (!p.xq) return -1;
        p.xa = p.xq;
    } else {
        p.extra_off = p.fmt == ACT_Q8_32 ? act32_row_bytes(k) : actk_row_bytes(k);
        p.xs = (p.extra_off + (p.fmt == ACT_Q8_32 ? pk_act32_extra(k) : pk_actk_extra(k)) + 63) & ~(size_t)63;
        p.xq = tensor_thread_scratch(p.xs * (size_t)n_x);
        if (!p.xq) return -1;
        p.xa = p.xq;
    }
    if (work < (double)(1 << 17)) tp = NULL;
    p.tp = tp;
    const int nth = threadpool_n_threads(tp);
    /* Token chunks: the activations of one chunk (<= 256 KiB) stay in L2
     * while a chunk of weight groups passes over them. */
    int64_t tb = (int64_t)((256 * 1024) / p.xs);
    tb = tb < 8 ? 8 : tb / 8 * 8;
    p.tokens_per_item = n_x < tb ? n_x : tb;
    /* Row chunks: enough items for every thread to take several (a busy
     * core then takes fewer), but at least one group. */
    const int64_t n_tc = (n_x + p.tokens_per_item - 1) / p.tokens_per_item;
    int64_t gpi = total_groups * n_tc / (8 * (int64_t)nth);
    if (gpi > 16) gpi = 16;
    if (gpi < 1) gpi = 1;
    p.n_tok_items = n_tc;
    for (int i = 0; i < n_prods; i++) {
        p.part[i].groups_per_item = gpi;
        p.part[i].first_item = p.n_items;
        p.n_items += (p.part[i].pm->n_groups + gpi - 1) / gpi * n_tc;
    }
    work_ranges_init(&p.work, p.n_items, nth);
    if (nth > 1) threadpool_run(tp, pk_worker, &p);
    else pk_worker(&p, 0, 1);
    return 0;
}

int tensor_matmul_packed(const struct packed_matrix *pm, const float *x, int64_t ldx, int64_t n_x, float *y,
                         int64_t ldy, struct threadpool *tp)
{
    const struct packed_product one = { pm, y, ldy };
    return tensor_matmul_packed_multi(&one, 1, x, ldx, n_x, tp);
}
