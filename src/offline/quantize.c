/* quantize.c - `infer quantize` engine: choose each tensor's type the way
 * llama.cpp's llama-quantize does (file types and their Q*_K_M mixes),
 * re-serialise the GGUF metadata, and stream the tensors through
 * dequantise -> quantise in row chunks on a thread pool.
 *
 * The row quantisers themselves live in tensor/tensor_types.c and are
 * bit-exact with llama.cpp's reference quantisers (which llama-quantize
 * uses when no importance matrix is given), so a tensor quantised here is
 * byte-identical to the same tensor quantised by llama.cpp. */
#include "offline/quantize.h"
#include "base/os.h"
#include "base/file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "offline/gguf_writer.h"
#include "offline/hf_convert.h"
#include "tensor/tensor_types.h"
#include "tensor/threadpool.h"

#define QUANT_VERSION 2
/* Rows per chunk are chosen so one chunk of f32 input stays under this. */
#define CHUNK_F32_BYTES (8u << 20)

/* ------------------------------------------------------------------ */
/* file types                                                          */

static const struct {
    const char *name;
    int ftype;
} FTYPE_NAMES[] = {
    {"f32", MODEL_FTYPE_F32},       {"f16", MODEL_FTYPE_F16},       {"bf16", MODEL_FTYPE_BF16},
    {"q8_0", MODEL_FTYPE_Q8_0},     {"q4_0", MODEL_FTYPE_Q4_0},     {"q4_1", MODEL_FTYPE_Q4_1},
    {"q5_0", MODEL_FTYPE_Q5_0},     {"q5_1", MODEL_FTYPE_Q5_1},     {"q2_k", MODEL_FTYPE_Q2_K},
    {"q3_k_s", MODEL_FTYPE_Q3_K_S}, {"q3_k_m", MODEL_FTYPE_Q3_K_M}, {"q3_k_l", MODEL_FTYPE_Q3_K_L},
    {"q4_k_s", MODEL_FTYPE_Q4_K_S}, {"q4_k_m", MODEL_FTYPE_Q4_K_M}, {"q5_k_s", MODEL_FTYPE_Q5_K_S},
    {"q5_k_m", MODEL_FTYPE_Q5_K_M}, {"q6_k", MODEL_FTYPE_Q6_K},
    /* aliases: the plain K types are llama.cpp's "small" variants */
    {"q3_k", MODEL_FTYPE_Q3_K_S},   {"q4_k", MODEL_FTYPE_Q4_K_S},   {"q5_k", MODEL_FTYPE_Q5_K_S},
};

int model_ftype_from_name(const char *name)
{
    if (!name) return -1;
    for (size_t i = 0; i < sizeof FTYPE_NAMES / sizeof FTYPE_NAMES[0]; i++)
        if (strcasecmp(name, FTYPE_NAMES[i].name) == 0) return FTYPE_NAMES[i].ftype;
    return -1;
}

const char *model_ftype_name(int ftype)
{
    switch (ftype) {
    case MODEL_FTYPE_F32: return "F32";
    case MODEL_FTYPE_F16: return "F16";
    case MODEL_FTYPE_BF16: return "BF16";
    case MODEL_FTYPE_Q8_0: return "Q8_0";
    case MODEL_FTYPE_Q4_0: return "Q4_0";
    case MODEL_FTYPE_Q4_1: return "Q4_1";
    case MODEL_FTYPE_Q5_0: return "Q5_0";
    case MODEL_FTYPE_Q5_1: return "Q5_1";
    case MODEL_FTYPE_Q2_K: return "Q2_K";
    case MODEL_FTYPE_Q3_K_S: return "Q3_K_S";
    case MODEL_FTYPE_Q3_K_M: return "Q3_K_M";
    case MODEL_FTYPE_Q3_K_L: return "Q3_K_L";
    case MODEL_FTYPE_Q4_K_S: return "Q4_K_S";
    case MODEL_FTYPE_Q4_K_M: return "Q4_K_M";
    case MODEL_FTYPE_Q5_K_S: return "Q5_K_S";
    case MODEL_FTYPE_Q5_K_M: return "Q5_K_M";
    case MODEL_FTYPE_Q6_K: return "Q6_K";
    default: return "unknown";
    }
}

int model_ftype_base_type(int ftype)
{
    switch (ftype) {
    case MODEL_FTYPE_F32: return TENSOR_TYPE_F32;
    case MODEL_FTYPE_F16: return TENSOR_TYPE_F16;
    case MODEL_FTYPE_BF16: return TENSOR_TYPE_BF16;
    case MODEL_FTYPE_Q8_0: return TENSOR_TYPE_Q8_0;
    case MODEL_FTYPE_Q4_0: return TENSOR_TYPE_Q4_0;
    case MODEL_FTYPE_Q4_1: return TENSOR_TYPE_Q4_1;
    case MODEL_FTYPE_Q5_0: return TENSOR_TYPE_Q5_0;
    case MODEL_FTYPE_Q5_1: return TENSOR_TYPE_Q5_1;
    case MODEL_FTYPE_Q2_K: return TENSOR_TYPE_Q2_K;
    case MODEL_FTYPE_Q3_K_S:
    case MODEL_FTYPE_Q3_K_M:
    case MODEL_FTYPE_Q3_K_L: return TENSOR_TYPE_Q3_K;
    case MODEL_FTYPE_Q4_K_S:
    case MODEL_FTYPE_Q4_K_M: return TENSOR_TYPE_Q4_K;
    case MODEL_FTYPE_Q5_K_S:
    case MODEL_FTYPE_Q5_K_M: return TENSOR_TYPE_Q5_K;
    case MODEL_FTYPE_Q6_K: return TENSOR_TYPE_Q6_K;
    default: return -1;
    }
}

/* ------------------------------------------------------------------ */
/* which tensor gets which type                                        */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

bool model_quant_wants(const char *name, int n_dims)
{
    if (!name || n_dims < 2 || !ends_with(name, "weight")) return false;
    if (strstr(name, "_norm.weight")) return false;
    static const char *const never[] = {"ffn_gate_inp.weight", "pos_embd.weight", "token_types.weight",
                                        "ssm_conv1d.weight", "attn_rel_b.weight", "rope_freqs.weight"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (strstr(name, never[i])) return false;
    return true;
}

/* The block index N of "blk.N.xxx", or -1. */
static int layer_of(const char *name)
{
    if (strncmp(name, "blk.", 4) != 0) return -1;
    char *end;
    long v = strtol(name + 4, &end, 10);
    return (end != name + 4 && *end == '.' && v >= 0 && v < 1000000) ? (int)v : -1;
}

/* llama.cpp's use_more_bits: the first and last eighth of the layers and
 * every third one between get more bits in the _M mixes. */
static bool use_more_bits(int i, int n)
{
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

static bool is_k_type(int t)
{
    return t == TENSOR_TYPE_Q2_K || t == TENSOR_TYPE_Q3_K || t == TENSOR_TYPE_Q4_K || t == TENSOR_TYPE_Q5_K ||
           t == TENSOR_TYPE_Q6_K;
}

/* The mix rules for one matrix (llama.cpp's llama_tensor_get_type for the
 * non-IQ file types). */
static int mix_type(struct model_quant_ctx *c, const char *name, int t)
{
    int f = c->ftype;
    bool is_output = strcmp(name, "output.weight") == 0 ||
                     (!c->has_output && strcmp(name, "token_embd.weight") == 0);
    if (is_output) return t != TENSOR_TYPE_Q8_0 ? TENSOR_TYPE_Q6_K : t;
    if (strstr(name, "attn_v.weight")) {
        int i = c->i_attn_v++;
        if (f == MODEL_FTYPE_Q2_K) t = c->n_gqa >= 4 ? TENSOR_TYPE_Q4_K : TENSOR_TYPE_Q3_K;
        else if (f == MODEL_FTYPE_Q3_K_M) t = i < 2 ? TENSOR_TYPE_Q5_K : TENSOR_TYPE_Q4_K;
        else if (f == MODEL_FTYPE_Q3_K_L) t = TENSOR_TYPE_Q5_K;
        else if ((f == MODEL_FTYPE_Q4_K_M || f == MODEL_FTYPE_Q5_K_M) && use_more_bits(i, c->n_attn_v))
            t = TENSOR_TYPE_Q6_K;
        else if (f == MODEL_FTYPE_Q4_K_S && i < 4) t = TENSOR_TYPE_Q5_K;
        return t;
    }
    if (strstr(name, "ffn_down")) {
        int i = layer_of(name), n = c->n_layer;
        if (i < 0) i = 0;
        if (f == MODEL_FTYPE_Q2_K) t = TENSOR_TYPE_Q3_K;
        else if (f == MODEL_FTYPE_Q3_K_M) t = i < n / 16 ? TENSOR_TYPE_Q5_K : TENSOR_TYPE_Q4_K;
        else if (f == MODEL_FTYPE_Q3_K_L) t = TENSOR_TYPE_Q5_K;
        else if ((f == MODEL_FTYPE_Q4_K_M || f == MODEL_FTYPE_Q5_K_M) && use_more_bits(i, n)) t = TENSOR_TYPE_Q6_K;
        return t;
    }
    if (strstr(name, "attn_output.weight")) {
        if (f == MODEL_FTYPE_Q2_K) t = TENSOR_TYPE_Q3_K;
        else if (f == MODEL_FTYPE_Q3_K_M) t = TENSOR_TYPE_Q4_K;
        else if (f == MODEL_FTYPE_Q3_K_L) t = TENSOR_TYPE_Q5_K;
        return t;
    }
    if (strstr(name, "attn_qkv.weight")) {
        if (f == MODEL_FTYPE_Q3_K_M || f == MODEL_FTYPE_Q3_K_L) t = TENSOR_TYPE_Q4_K;
        else if (f == MODEL_FTYPE_Q4_K_M) t = TENSOR_TYPE_Q5_K;
        else if (f == MODEL_FTYPE_Q5_K_M) t = TENSOR_TYPE_Q6_K;
    }
    return t;
}

/* Rows whose length the block does not divide: llama.cpp's substitutes. */
static int fallback_type(int t, int64_t ne0)
{
    if (ne0 % tensor_type_block_size(t) == 0) return t;
    if (is_k_type(t)) {
        switch (t) {
        case TENSOR_TYPE_Q4_K: t = TENSOR_TYPE_Q5_0; break;
        case TENSOR_TYPE_Q5_K: t = TENSOR_TYPE_Q5_1; break;
        case TENSOR_TYPE_Q6_K: t = TENSOR_TYPE_Q8_0; break;
        default: t = TENSOR_TYPE_Q5_0; break; /* llama.cpp: IQ4_NL (not writable here) */
        }
    }
    if (ne0 % tensor_type_block_size(t) != 0) t = TENSOR_TYPE_F16;
    return t;
}

int model_quant_tensor_type(struct model_quant_ctx *ctx, const char *name, int64_t ne0)
{
    int t = model_ftype_base_type(ctx->ftype);
    if (t < 0) return -1;
    bool keep_base = ctx->pure || ctx->ftype == MODEL_FTYPE_F32 || ctx->ftype == MODEL_FTYPE_F16 ||
                     ctx->ftype == MODEL_FTYPE_BF16;
    if (!keep_base) t = mix_type(ctx, name, t);
    else if (strstr(name, "attn_v.weight"))
        ctx->i_attn_v++;
    return fallback_type(t, ne0);
}

/* ------------------------------------------------------------------ */
/* GGUF output: the header, copied from the input (offline/gguf_writer.h) */

/* The metadata of f, then general.quantization_version and
 * general.file_type. Like llama.cpp's gguf_set_val (remove the key, then
 * append it), those two always go last, so our header matches
 * llama-quantize's byte for byte. Returns the number of pairs, or -1. */
static int64_t put_metadata(struct gguf_wbuf *b, const struct gguf_file *f, int ftype, inf_error *err)
{
    int64_t n = gguf_n_kv(f), written = 0;
    for (int64_t i = 0; i < n; i++) {
        const char *key = gguf_key_at(f, i);
        enum gguf_type t = gguf_kv_type(f, i);
        if (strcmp(key, "general.file_type") == 0 || strcmp(key, "general.quantization_version") == 0) continue;
        if (gguf_wbuf_copy_kv(b, f, i) != 0) {
            err_fail(err, INF_ERR_FORMAT, "%s: cannot copy metadata key '%s' (%s)", gguf_path(f), key, gguf_type_name(t));
            return -1;
        }
        written++;
    }
    gguf_wbuf_kv_u32(b, "general.quantization_version", QUANT_VERSION);
    gguf_wbuf_kv_u32(b, "general.file_type", (uint32_t)ftype);
    return written + 2;
}

/* ------------------------------------------------------------------ */
/* the plan: every tensor's output type and offset                     */

struct plan_entry {
    const struct gguf_tensor *in;
    int out_type;
    bool convert;        /* type changes (else bytes are copied) */
    bool fell_back;
    uint64_t out_size;
    uint64_t out_offset; /* relative to the data section */
};

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

static void count_model(const struct gguf_file *f, struct model_quant_ctx *c)
{
    const char *arch = NULL;
    gguf_get_string(f, "general.architecture", &arch, NULL);
    c->n_gqa = 1;
    if (arch) {
        char k1[160], k2[160];
        uint32_t nh = 0, nkv = 0;
        snprintf(k1, sizeof k1, "%s.attention.head_count", arch);
        snprintf(k2, sizeof k2, "%s.attention.head_count_kv", arch);
        if (gguf_get_u32(f, k1, &nh) == GGUF_OK && gguf_get_u32(f, k2, &nkv) == GGUF_OK && nkv > 0)
            c->n_gqa = (int)(nh / nkv);
    }
    for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
        const char *name = gguf_tensor_at(f, i)->name;
        if (strcmp(name, "output.weight") == 0) c->has_output = true;
        if (strstr(name, "attn_v.weight")) c->n_attn_v++;
        if (strstr(name, "ffn_down")) c->n_layer++;
    }
}

static int make_plan(const struct gguf_file *f, const struct model_quantize_params *p, struct plan_entry *plan,
                     uint64_t *data_size, inf_error *err)
{
    struct model_quant_ctx ctx = {.ftype = p->ftype, .pure = p->pure};
    count_model(f, &ctx);
    uint64_t align = gguf_alignment(f), off = 0;
    for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
        const struct gguf_tensor *t = gguf_tensor_at(f, i);
        struct plan_entry *e = &plan[i];
        e->in = t;
        e->out_type = (int)t->type;
        if (model_quant_wants(t->name, (int)t->n_dims) && tensor_type_is_supported((int)t->type)) {
            int base = model_ftype_base_type(p->ftype);
            int want = model_quant_tensor_type(&ctx, t->name, t->ne[0]);
            e->fell_back = t->ne[0] % tensor_type_block_size(base) != 0;
            e->out_type = want;
        }
        e->convert = e->out_type != (int)t->type;
        int64_t nel = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) nel *= t->ne[d];
        int64_t sz = tensor_row_bytes(e->out_type, nel);
        if (sz < 0) {
            err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s': cannot size %lld elements of %s", gguf_path(f), t->name,
                    (long long)nel, tensor_type_name(e->out_type));
            return -1;
        }
        e->out_size = (uint64_t)sz;
        e->out_offset = off;
        off = align_up(off + e->out_size, align);
    }
    *data_size = off;
    return 0;
}

static int put_header(struct gguf_wbuf *b, const struct gguf_file *f, const struct plan_entry *plan, int ftype,
                      inf_error *err)
{
    gguf_wbuf_put(b, GGUF_MAGIC, 4);
    gguf_wbuf_u32(b, 3);
    int64_t nt = gguf_n_tensors(f);
    gguf_wbuf_u64(b, (uint64_t)nt);
    size_t n_kv_at = b->b.n;
    gguf_wbuf_u64(b, 0); /* patched below */
    int64_t nkv = put_metadata(b, f, ftype, err);
    if (nkv < 0) return -1;
    if (!b->b.oom) memcpy(b->b.p + n_kv_at, &nkv, 8);
    for (int64_t i = 0; i < nt; i++) {
        const struct gguf_tensor *t = plan[i].in;
        gguf_wbuf_str(b, t->name, strlen(t->name));
        gguf_wbuf_u32(b, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) gguf_wbuf_u64(b, (uint64_t)t->ne[d]);
        gguf_wbuf_u32(b, (uint32_t)plan[i].out_type);
        gguf_wbuf_u64(b, plan[i].out_offset);
    }
    uint64_t pad = align_up(b->b.n, gguf_alignment(f)) - b->b.n;
    static const unsigned char zeros[64];
    while (pad > 0) {
        size_t k = pad > sizeof zeros ? sizeof zeros : (size_t)pad;
        gguf_wbuf_put(b, zeros, k);
        pad -= k;
    }
    if (b->b.oom) {
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory building the GGUF header");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* streaming conversion                                                */

struct chunk_job {
    int in_type, out_type;
    int64_t ne0, nrows;
    const unsigned char *src; /* first row of the chunk */
    unsigned char *dst;
    size_t in_row, out_row;
    float **scratch;          /* one row of floats per thread */
    int failed;
};

static void chunk_worker(void *arg, int ith, int nth)
{
    struct chunk_job *j = arg;
    long long r0, r1;
    threadpool_split(j->nrows, ith, nth, &r0, &r1);
    float *row = j->scratch[ith];
    for (long long r = r0; r < r1; r++) {
        const void *s = j->src + (size_t)r * j->in_row;
        if (tensor_dequantize_row(j->in_type, s, row, j->ne0) != 0 ||
            tensor_quantize_row(j->out_type, row, j->dst + (size_t)r * j->out_row, j->ne0) < 0) {
            j->failed = 1;
            return;
        }
    }
}

struct run_state {
    FILE *fp;
    const char *out_path;
    struct threadpool *tp;
    int n_threads;
    float **scratch;
    unsigned char *outbuf;
    size_t outbuf_cap;
    uint64_t done, total;
    const struct model_quantize_params *p;
};

/* The input is memory-mapped: once a tensor is written, tell the kernel we
 * are done with its pages so the resident set stays at a few tensors
 * rather than growing to the whole model (the file is read-only and
 * shared, so dropping the pages loses nothing). */
static void release_pages(const void *data, uint64_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0 || size == 0) return;
    uintptr_t a = (uintptr_t)data, start = (a + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t end = (a + (uintptr_t)size) & ~((uintptr_t)page - 1);
    if (end > start) madvise((void *)start, end - start, MADV_DONTNEED);
}

static int convert_tensor(struct run_state *s, const struct plan_entry *e, inf_error *err)
{
    const struct gguf_tensor *t = e->in;
    int64_t ne0 = t->ne[0], nrows = 1;
    for (uint32_t d = 1; d < t->n_dims; d++) nrows *= t->ne[d];
    int64_t in_row = tensor_row_bytes((int)t->type, ne0), out_row = tensor_row_bytes(e->out_type, ne0);
    if (in_row <= 0 || out_row <= 0) {
        err_fail(err, INF_ERR_FORMAT, "tensor '%s': bad row length %lld for %s -> %s", t->name, (long long)ne0,
                tensor_type_name((int)t->type), tensor_type_name(e->out_type));
        return -1;
    }
    int64_t rows_per_chunk = (int64_t)(CHUNK_F32_BYTES / ((size_t)ne0 * 4));
    if (rows_per_chunk < s->n_threads) rows_per_chunk = s->n_threads;
    for (int64_t r = 0; r < nrows; r += rows_per_chunk) {
        int64_t n = nrows - r < rows_per_chunk ? nrows - r : rows_per_chunk;
        size_t need = (size_t)n * (size_t)out_row;
        if (need > s->outbuf_cap) {
            unsigned char *q = realloc(s->outbuf, need);
            if (!q) { err_fail(err, INF_ERR_NO_MEMORY, "out of memory (tensor '%s')", t->name); return -1; }
            s->outbuf = q;
            s->outbuf_cap = need;
        }
        struct chunk_job j = {
            .in_type = (int)t->type, .out_type = e->out_type, .ne0 = ne0, .nrows = n,
            .src = (const unsigned char *)t->data + (size_t)r * (size_t)in_row, .dst = s->outbuf,
            .in_row = (size_t)in_row, .out_row = (size_t)out_row, .scratch = s->scratch,
        };
        threadpool_run(s->tp, chunk_worker, &j);
        if (j.failed) {
            err_fail(err, INF_ERR_FORMAT, "tensor '%s': cannot convert %s to %s (non-finite value?)", t->name,
                    tensor_type_name((int)t->type), tensor_type_name(e->out_type));
            return -1;
        }
        if (file_write_all(s->fp, s->outbuf, need)) {
            err_fail(err, INF_ERR_IO, "%s: write failed: %s", s->out_path, strerror(errno));
            return -1;
        }
        release_pages(j.src, (uint64_t)n * (uint64_t)in_row);
        s->done += (uint64_t)n * (uint64_t)in_row;
        if (s->p->progress) s->p->progress(s->p->progress_user, s->done, s->total, t->name);
    }
    return 0;
}

static int ensure_scratch(struct run_state *s, const struct plan_entry *plan, int64_t nt, inf_error *err)
{
    int64_t max_ne0 = 0;
    for (int64_t i = 0; i < nt; i++)
        if (plan[i].convert && plan[i].in->ne[0] > max_ne0) max_ne0 = plan[i].in->ne[0];
    s->scratch = calloc((size_t)s->n_threads, sizeof *s->scratch);
    if (!s->scratch) goto oom;
    for (int i = 0; i < s->n_threads; i++)
        if (!(s->scratch[i] = malloc((size_t)(max_ne0 > 0 ? max_ne0 : 1) * sizeof(float)))) goto oom;
    return 0;
oom:
    err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
    return -1;
}

static int write_tensors(struct run_state *s, const struct plan_entry *plan, int64_t nt, uint64_t align, inf_error *err)
{
    for (int64_t i = 0; i < nt; i++) {
        const struct plan_entry *e = &plan[i];
        if (e->convert) {
            if (convert_tensor(s, e, err)) return -1;
        } else {
            if (file_write_all(s->fp, e->in->data, e->out_size)) {
                err_fail(err, INF_ERR_IO, "%s: write failed: %s", s->out_path, strerror(errno));
                return -1;
            }
            s->done += e->in->size;
            if (s->p->progress) s->p->progress(s->p->progress_user, s->done, s->total, e->in->name);
        }
        release_pages(e->in->data, e->in->size);
        uint64_t pad = align_up(e->out_offset + e->out_size, align) - (e->out_offset + e->out_size);
        if (i + 1 < nt && file_write_zeros(s->fp, pad)) {
            err_fail(err, INF_ERR_IO, "%s: write failed: %s", s->out_path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static void fill_stats(struct model_quantize_stats *st, const struct plan_entry *plan, int64_t nt)
{
    if (!st) return;
    memset(st, 0, sizeof *st);
    st->n_tensors = nt;
    for (int64_t i = 0; i < nt; i++) {
        st->n_quantized += plan[i].convert;
        st->n_fallback += plan[i].fell_back;
        st->bytes_in += plan[i].in->size;
        st->bytes_out += plan[i].out_size;
        if (plan[i].out_type >= 0 && plan[i].out_type < TENSOR_TYPE_COUNT) st->type_count[plan[i].out_type]++;
    }
}

static int quantize_gguf(const struct gguf_file *f, const char *out_path, const struct model_quantize_params *p,
                         struct model_quantize_stats *stats, inf_error *err)
{
    int64_t nt = gguf_n_tensors(f);
    struct plan_entry *plan = calloc((size_t)(nt > 0 ? nt : 1), sizeof *plan);
    struct gguf_wbuf hdr = {0};
    struct run_state s = {.out_path = out_path, .p = p};
    char *tmp = NULL;
    int rc = -1;
    uint64_t data_size = 0;
    if (!plan) { err_fail(err, INF_ERR_NO_MEMORY, "out of memory"); goto done; }
    if (make_plan(f, p, plan, &data_size, err)) goto done;
    if (put_header(&hdr, f, plan, p->ftype, err)) goto done;
    for (int64_t i = 0; i < nt; i++) s.total += plan[i].in->size;

    s.n_threads = p->n_threads > 0 ? p->n_threads : os_physical_cores();
    if (s.n_threads < 1) s.n_threads = 1;
    if (s.n_threads > 1 && !(s.tp = threadpool_create(s.n_threads))) s.n_threads = 1;
    if (ensure_scratch(&s, plan, nt, err)) goto done;

    size_t tl = strlen(out_path) + 8;
    if (!(tmp = malloc(tl))) { err_fail(err, INF_ERR_NO_MEMORY, "out of memory"); goto done; }
    snprintf(tmp, tl, "%s.tmp", out_path);
    if (!(s.fp = fopen(tmp, "wb"))) {
        err_fail(err, INF_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        goto done;
    }
    if (file_write_all(s.fp, hdr.b.p, hdr.b.n)) {
        err_fail(err, INF_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
        goto done;
    }
    if (write_tensors(&s, plan, nt, gguf_alignment(f), err)) goto done;
    FILE *fp = s.fp;
    s.fp = NULL;
    if (fclose(fp) != 0) {
        err_fail(err, INF_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
        goto done;
    }
    if (rename(tmp, out_path) != 0) {
        err_fail(err, INF_ERR_IO, "%s: cannot rename to %s: %s", tmp, out_path, strerror(errno));
        goto done;
    }
    fill_stats(stats, plan, nt);
    rc = 0;
done:
    if (s.fp) fclose(s.fp);
    if (rc != 0 && tmp) unlink(tmp);
    if (s.scratch)
        for (int i = 0; i < s.n_threads; i++) free(s.scratch[i]);
    free(s.scratch);
    free(s.outbuf);
    threadpool_free(s.tp);
    free(tmp);
    gguf_wbuf_free(&hdr);
    free(plan);
    return rc;
}

static bool is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int model_quantize_file(const char *in_path, const char *out_path, const struct model_quantize_params *params,
                        struct model_quantize_stats *stats, inf_error *err)
{
    if (!in_path || !out_path || !params) {
        err_fail(err, INF_ERR_FORMAT, "model_quantize_file: missing argument");
        return -1;
    }
    if (model_ftype_base_type(params->ftype) < 0) {
        err_fail(err, INF_ERR_FORMAT, "unknown quantization file type %d", params->ftype);
        return -1;
    }
    char *converted = NULL;
    const char *src = in_path;
    if (is_directory(in_path)) {
        size_t n = strlen(out_path) + 16;
        if (!(converted = malloc(n))) {
            err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
            return -1;
        }
        snprintf(converted, n, "%s.hf.tmp", out_path);
        if (hf_convert_to_gguf(in_path, converted, NULL, err) != 0) {
            free(converted);
            return -1;
        }
        src = converted;
    }
    struct gguf_file *f = NULL;
    int rc = gguf_open(src, &f, err);
    if (rc == 0) rc = quantize_gguf(f, out_path, params, stats, err);
    gguf_close(f);
    if (converted) {
        unlink(converted);
        free(converted);
    }
    return rc;
}
