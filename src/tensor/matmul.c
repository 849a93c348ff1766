/* matmul.c - tensor_matmul driver: validation, on-the-fly activation
 * quantisation, work split over the pool, cache tiling. Kernels are in
 * kernels_*.c. See matmul.h. */
#include "matmul.h"
#include "kernels_mlx.h"
#include "kernels.h"
#include "quant_blocks.h"
#include "tensor_types.h"
#include "threadpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- per-calling-thread scratch ---- */

struct scratch { void *p; size_t size; };
static pthread_key_t g_scratch_key;
static pthread_once_t g_scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
    struct scratch *s = p;
    if (s) { free(s->p); free(s); }
}
static void scratch_key_init(void) { pthread_key_create(&g_scratch_key, scratch_free); }

void *tensor_thread_scratch(size_t size)
{
    pthread_once(&g_scratch_once, scratch_key_init);
    struct scratch *s = pthread_getspecific(g_scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return NULL;
        if (pthread_setspecific(g_scratch_key, s) != 0) { free(s); return NULL; }
    }
    if (s->size < size) {
        size_t ns = (size + 4095) & ~(size_t)4095;
        void *p = aligned_alloc(64, ns);
        if (!p) return NULL;
        free(s->p);
        s->p = p;
        s->size = ns;
    }
    return s->p;
}

/* ---- the run ---- */

struct mm {
    const char *w;
    int type;
    int64_t rows, k;
    size_t ws;
    const float *x;
    int64_t ldx, n_x;
    float *y;
    int64_t ldy;
    const struct kernel_table *kt;
    int fmt;
    const char *xa;     /* activations in the kernel's format */
    char *xq;           /* quantisation target (scratch) */
    size_t xa_stride;   /* bytes between activation rows */
    dot_fn dot;
    dot2_fn dot2;
    struct threadpool *tp;
    /* tiling */
    int64_t rb;         /* rows per row chunk */
    int64_t tb;         /* tokens per token chunk */
    int64_t n_rc, n_tc;
    struct work_ranges work; /* tiles claimed as threadpool.h describes */
};

static void mm_compute_tile(const struct mm *m, int64_t r0, int64_t r1, int64_t t0, int64_t t1)
{
    for (int64_t t = t0; t < t1; t += MM_NC) {
        int nc = (int)(t1 - t < MM_NC ? t1 - t : MM_NC);
        const char *xa = m->xa + (size_t)t * m->xa_stride;
        float *y = m->y + t * m->ldy;
        int64_t r = r0;
        if (m->dot2)
            for (; r + 2 <= r1; r += 2)
                m->dot2(m->k, m->w + (size_t)r * m->ws, m->ws, xa, m->xa_stride, nc, y + r, m->ldy);
        for (; r < r1; r++)
            m->dot(m->k, m->w + (size_t)r * m->ws, xa, m->xa_stride, nc, y + r, m->ldy);
    }
}

static void mm_worker(void *arg, int ith, int nth)
{
    struct mm *m = arg;
    if (m->fmt != ACT_F32) {
        act_quant_fn q = m->fmt == ACT_Q8_32 ? m->kt->quant_act32 : m->kt->quant_actk;
        for (int64_t t = ith; t < m->n_x; t += nth)
            q(m->x + t * m->ldx, m->xq + (size_t)t * m->xa_stride, m->k);
        threadpool_barrier(nth > 1 ? m->tp : NULL);
    }
    for (long long it; (it = work_ranges_next(&m->work, ith)) >= 0;) {
        const int64_t rc = it / m->n_tc, tc = it % m->n_tc;
        const int64_t r0 = rc * m->rb, r1 = r0 + m->rb < m->rows ? r0 + m->rb : m->rows;
        const int64_t t0 = tc * m->tb, t1 = t0 + m->tb < m->n_x ? t0 + m->tb : m->n_x;
        mm_compute_tile(m, r0, r1, t0, t1);
    }
}

static int mm_run(const struct kernel_table *kt, const void *w, int w_type, int64_t rows, int64_t k,
                  size_t w_row_stride, const float *x, int64_t ldx, int64_t n_x, float *y,
                  int64_t ldy, struct threadpool *tp)
{
    if (!tensor_type_is_supported(w_type) || rows < 0 || k < 0 || n_x < 0) return -1;
    int64_t rbytes = tensor_row_bytes(w_type, k);
    if (rbytes < 0) return -1;
    if (rows == 0 || n_x == 0) return 0;
    if (!w || !x || !y || w_row_stride < (size_t)rbytes || ldx < k || ldy < rows) return -1;
    if (k == 0) {
        for (int64_t t = 0; t < n_x; t++) memset(y + t * ldy, 0, (size_t)rows * sizeof(float));
        return 0;
    }
    struct mm m;
    memset(&m, 0, sizeof m);
    m.w = w; m.type = w_type; m.rows = rows; m.k = k; m.ws = w_row_stride;
    m.x = x; m.ldx = ldx; m.n_x = n_x; m.y = y; m.ldy = ldy;
    m.kt = kt; m.fmt = act_format_of(w_type); m.dot = kt->dot[w_type]; m.tp = tp;
    m.dot2 = n_x > 1 ? kt->dot2[w_type] : NULL;
    if (!m.dot) return -1;
    if (m.fmt == ACT_F32) {
        m.xa = (const char *)x;
        m.xa_stride = (size_t)ldx * sizeof(float);
    } else {
        m.xa_stride = m.fmt == ACT_Q8_32 ? act32_row_bytes(k) : actk_row_bytes(k);
        m.xq = tensor_thread_scratch(m.xa_stride * (size_t)n_x);
        if (!m.xq) return -1;
        m.xa = m.xq;
    }
    /* Tiny products (e.g. the 256-wide test models) are faster on the
     * calling thread than a pool dispatch (a few microseconds). */
    if ((double)rows * (double)k * (double)n_x < (double)(1 << 17)) tp = NULL;
    m.tp = tp;
    const int nth = threadpool_n_threads(tp);
    /* Tiling for prefill: a chunk of weight rows (~128 KiB) stays in L2
     * while every token of the chunk's token range passes over it. */
    int64_t rb = (int64_t)((128 * 1024) / (size_t)rbytes);
    if (rb < 4) rb = 4;
    if (rb > 256) rb = 256;
    /* enough row chunks to keep every thread busy */
    while (rb > 4 && (rows + rb - 1) / rb < 4 * nth) rb /= 2;
    m.rb = rb;
    m.n_rc = (rows + rb - 1) / rb;
    m.tb = n_x;
    if (m.n_rc < 2 * nth && n_x > MM_NC) {
        /* few rows, many tokens: split tokens as well (multiples of MM_NC) */
        int64_t want = (2 * nth + m.n_rc - 1) / m.n_rc;
        int64_t tb = (n_x + want - 1) / want;
        tb = (tb + MM_NC - 1) / MM_NC * MM_NC;
        m.tb = tb < MM_NC ? MM_NC : tb;
    }
    m.n_tc = (n_x + m.tb - 1) / m.tb;
    work_ranges_init(&m.work, m.n_rc * m.n_tc, nth);
    if (nth > 1) threadpool_run(tp, mm_worker, &m);
    else mm_worker(&m, 0, 1);
    return 0;
}

int tensor_matmul_ex(const void *w, int w_type, int64_t rows, int64_t k, size_t w_row_stride,
                     const float *x, int64_t ldx, int64_t n_x, float *y, int64_t ldy,
                     struct threadpool *tp)
{
    if (tensor_mlx_type_is(w_type))
        return tensor_mlx_matmul_ex(w, w_type, rows, k, w_row_stride, x, ldx, n_x, y, ldy, tp);
    return mm_run(kernels_get(), w, w_type, rows, k, w_row_stride, x, ldx, n_x, y, ldy, tp);
}

int tensor_matmul(const void *w, int w_type, int64_t rows, int64_t k, size_t w_row_stride,
                  const float *x, int64_t n_x, float *y, struct threadpool *tp)
{
    if (tensor_mlx_type_is(w_type))
        return tensor_mlx_matmul_ex(w, w_type, rows, k, w_row_stride, x, k, n_x, y, rows, tp);
    return mm_run(kernels_get(), w, w_type, rows, k, w_row_stride, x, k, n_x, y, rows, tp);
}

int tensor_matmul_ref(const void *w, int w_type, int64_t rows, int64_t k, size_t w_row_stride,
                      const float *x, int64_t n_x, float *y)
{
    return mm_run(kernels_scalar(), w, w_type, rows, k, w_row_stride, x, k, n_x, y, rows, NULL);
}
