/* weights.c - the random values of every tensor and the safetensors files
 * that hold them (plain, sharded, MLX affine-quantised). See make_model.h
 * for the random-number convention. */
#include "make_model.h"

#include "offline/safetensors_writer.h"
#include "tensor/tensor_types.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GOLDEN UINT64_C(0x9E3779B97F4A7C15)

uint64_t mm_stream_key(uint64_t seed, const char *name)
{
    char buf[160];
    int n = snprintf(buf, sizeof buf, "%llu/%s", (unsigned long long)seed, name);
    uint64_t h = UINT64_C(0xCBF29CE484222325);
    for (int i = 0; i < n && i < (int)sizeof buf - 1; i++) {
        h ^= (unsigned char)buf[i];
        h *= UINT64_C(0x100000001B3);
    }
    return h;
}

static double uniform_at(uint64_t key, uint64_t counter)
{
    uint64_t z = key + counter * GOLDEN;
    z ^= z >> 30;
    z *= UINT64_C(0xBF58476D1CE4E5B9);
    z ^= z >> 27;
    z *= UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

struct normal_job {
    uint64_t key;
    float *out;
    int64_t begin, end;
};

static void *normal_range(void *arg)
{
    struct normal_job *j = arg;
    const double two_pi = 2.0 * 3.14159265358979323846;
    for (int64_t i = j->begin; i < j->end; i++) {
        double u1 = uniform_at(j->key, 2 * (uint64_t)i + 1), u2 = uniform_at(j->key, 2 * (uint64_t)i + 2);
        j->out[i] = (float)(sqrt(-2.0 * log1p(-u1)) * cos(two_pi * u2));
    }
    return NULL;
}

/* Large tensors (the embeddings and matrices of the 1b shapes) are filled
 * by one thread per core: each element depends only on its index. */
void mm_random_normal(uint64_t key, float *out, int64_t n)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = n < (1 << 20) ? 1 : cores < 1 ? 1 : cores > 16 ? 16 : (int)cores;
    struct normal_job jobs[16];
    pthread_t th[16];
    int started = 0;
    for (int t = 0; t < nt; t++) {
        jobs[t] = (struct normal_job){key, out, n * t / nt, n * (t + 1) / nt};
        if (t > 0 && pthread_create(&th[t], NULL, normal_range, &jobs[t]) == 0) started |= 1 << t;
    }
    normal_range(&jobs[0]);
    for (int t = 1; t < nt; t++) {
        if (started & (1 << t)) pthread_join(th[t], NULL);
        else normal_range(&jobs[t]);
    }
}

/* Matrices N(0, 1/sqrt(fan_in)), so every projection keeps activations at
 * unit scale whatever the size. Embeddings 0.32/sqrt(hidden) (Gemma, whose
 * input is scaled by sqrt(hidden) and renormalised after each block,
 * 0.08/sqrt(hidden)): with tied embeddings a larger one makes greedy
 * decoding repeat its input token. */
static float init_std(const struct mm_spec *s, const struct mm_tensor *t)
{
    if (t->kind == MM_EMBED) {
        if (s->embed_std > 0) return s->embed_std;
        return (float)((s->arch == MM_GEMMA3 ? 0.08 : 0.32) / sqrt((double)s->hidden));
    }
    if (t->kind == MM_BIAS) return 0.1f;
    if (s->matrix_std > 0) return s->matrix_std;
    return (float)(1.0 / sqrt((double)t->shape[1]));
}

static int64_t n_elements(const struct mm_tensor *t) { return t->shape[0] * (t->n_dims == 2 ? t->shape[1] : 1); }

void mm_tensor_values(const struct mm_spec *s, const struct mm_tensor *t, float *out)
{
    int64_t n = n_elements(t);
    if (t->kind == MM_NORM) {
        /* Hugging Face's Gemma stores w for x * (1 + w), so zeros. */
        float base = s->arch == MM_GEMMA3 ? 0.0f : 1.0f;
        if (s->norm_noise > 0) mm_random_normal(mm_stream_key(s->seed, t->name), out, n);
        for (int64_t i = 0; i < n; i++) out[i] = base + (s->norm_noise > 0 ? s->norm_noise * out[i] : 0.0f);
        return;
    }
    mm_random_normal(mm_stream_key(s->seed, t->name), out, n);
    float std = init_std(s, t);
    for (int64_t i = 0; i < n; i++) out[i] = std * out[i];
}

/* ---- MLX affine quantisation (mlx.core.quantize) ----
 * Groups of g consecutive values along a row; per group a scale s and a
 * bias b in the model dtype, value = s * q + b with q in [0, 2^bits - 1].
 * The group's extreme of larger magnitude is kept exact and 0 stays
 * representable, so scales can be negative. s and b are rounded to the
 * storage dtype first and q is computed from the rounded values. Words
 * pack elements k*(32/bits) + j at bit offset j*bits. */

static float round_to(float v, int dtype)
{
    if (dtype == SAFETENSORS_F16) return tensor_f16_to_f32(tensor_f32_to_f16(v));
    if (dtype == SAFETENSORS_BF16) return tensor_bf16_to_f32(tensor_f32_to_bf16(v));
    return v;
}

static void mlx_quantize_group(const float *w, int g, int bits, int dtype, uint32_t *q, float *scale, float *bias)
{
    float hi = w[0], lo = w[0];
    for (int i = 1; i < g; i++) {
        if (w[i] > hi) hi = w[i];
        if (w[i] < lo) lo = w[i];
    }
    const float nbins = (float)((1 << bits) - 1);
    bool lo_wins = fabsf(lo) > fabsf(hi);
    float s = (hi - lo) / nbins;
    if (s < 1e-7f) s = 1e-7f;
    if (!lo_wins) s = -s;
    float edge = lo_wins ? lo : hi;
    float q0 = rintf(edge / s);
    if (q0 != 0.0f) s = edge / q0;
    float b = q0 == 0.0f ? 0.0f : edge;
    *scale = round_to(s, dtype);
    *bias = round_to(b, dtype);
    float safe = *scale != 0.0f ? *scale : 1.0f;
    for (int i = 0; i < g; i++) {
        float v = rintf((w[i] - *bias) / safe);
        q[i] = v < 0 ? 0 : v > nbins ? (uint32_t)nbins : (uint32_t)v;
    }
}

static void store_float(void *dst, int64_t i, float v, int dtype)
{
    if (dtype == SAFETENSORS_F32) ((float *)dst)[i] = v;
    else if (dtype == SAFETENSORS_F16) ((uint16_t *)dst)[i] = tensor_f32_to_f16(v);
    else ((uint16_t *)dst)[i] = tensor_f32_to_bf16(v);
}

/* Quantise a [rows, cols] matrix: packed words, scales and biases. */
static void mlx_quantize(const float *w, int64_t rows, int64_t cols, int bits, int group, int dtype, uint32_t *packed,
                         void *scales, void *biases)
{
    const int per = 32 / bits;
    uint32_t q[128];
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t gi = 0; gi < cols / group; gi++) {
            float s, b;
            mlx_quantize_group(w + r * cols + gi * group, group, bits, dtype, q, &s, &b);
            store_float(scales, r * (cols / group) + gi, s, dtype);
            store_float(biases, r * (cols / group) + gi, b, dtype);
            for (int k = 0; k < group / per; k++) {
                uint32_t word = 0;
                for (int j = 0; j < per; j++) word |= q[k * per + j] << (j * bits);
                packed[(r * cols + gi * group) / per + k] = word;
            }
        }
    }
}

/* ---- the files ---- */

/* One safetensors entry: tensor `src` of the table, and which part of it
 * (the values, or an MLX tensor's packed words, scales or biases). */
enum part { PART_VALUES, PART_WORDS, PART_SCALES, PART_BIASES };

struct entry {
    struct safetensors_wtensor w;
    char name[112];
    int src;
    enum part part;
};

struct writer {
    const struct mm_spec *spec;
    const struct mm_tensor *table;
    const struct mm_hf_options *opt;
    int dtype;
    struct entry *e;           /* the entries of the file being written */
    /* the last MLX-quantised tensor, for its three entries */
    int memo_src;
    uint32_t *memo_words;
    void *memo_scales, *memo_biases;
};

static bool mlx_applies(const struct mm_hf_options *o, const struct mm_tensor *t)
{
    return o->mlx_bits && t->n_dims == 2 && t->shape[1] % o->mlx_group == 0;
}

static int fill_values(struct writer *wr, const struct mm_tensor *t, void *dst)
{
    int64_t n = n_elements(t);
    float *v = malloc((size_t)n * sizeof *v);
    if (!v) return -1;
    mm_tensor_values(wr->spec, t, v);
    if (wr->dtype == SAFETENSORS_F32) memcpy(dst, v, (size_t)n * sizeof *v);
    else if (wr->dtype == SAFETENSORS_F16) tensor_f32_to_f16_row(v, dst, n);
    else tensor_f32_to_bf16_row(v, dst, n);
    free(v);
    return 0;
}

static int ensure_mlx(struct writer *wr, int src)
{
    if (wr->memo_src == src) return 0;
    const struct mm_tensor *t = &wr->table[src];
    const int bits = wr->opt->mlx_bits, g = wr->opt->mlx_group;
    int64_t rows = t->shape[0], cols = t->shape[1];
    size_t fsz = safetensors_dtype_size(wr->dtype);
    float *v = malloc((size_t)(rows * cols) * sizeof *v);
    uint32_t *words = malloc((size_t)(rows * cols / (32 / bits)) * 4);
    void *s = malloc((size_t)(rows * cols / g) * fsz), *b = malloc((size_t)(rows * cols / g) * fsz);
    if (!v || !words || !s || !b) {
        free(v), free(words), free(s), free(b);
        return -1;
    }
    mm_tensor_values(wr->spec, t, v);
    mlx_quantize(v, rows, cols, bits, g, wr->dtype, words, s, b);
    free(v);
    free(wr->memo_words), free(wr->memo_scales), free(wr->memo_biases);
    wr->memo_src = src;
    wr->memo_words = words;
    wr->memo_scales = s;
    wr->memo_biases = b;
    return 0;
}

static int fill(void *user, int i, void *dst, size_t size, inf_error *err)
{
    struct writer *wr = user;
    const struct entry *e = &wr->e[i];
    int rc;
    if (e->part == PART_VALUES) {
        rc = fill_values(wr, &wr->table[e->src], dst);
    } else {
        rc = ensure_mlx(wr, e->src);
        if (rc == 0) {
            const void *from = e->part == PART_WORDS ? (const void *)wr->memo_words
                             : e->part == PART_SCALES ? wr->memo_scales : wr->memo_biases;
            memcpy(dst, from, size);
        }
    }
    if (rc != 0) err_fail(err, INF_ERR_NO_MEMORY, "out of memory making tensor '%s'", e->name);
    return rc;
}

static void set_entry(struct entry *e, const char *name, int src, enum part part, int dtype, int64_t r, int64_t c,
                      int n_dims)
{
    snprintf(e->name, sizeof e->name, "%s", name);
    e->src = src;
    e->part = part;
    e->w.name = e->name;
    e->w.dtype = dtype;
    e->w.n_dims = n_dims;
    e->w.shape[0] = r;
    e->w.shape[1] = c;
}

/* Every entry of the checkpoint: a tensor, or for an MLX-quantised one its
 * words (U32), scales and biases. Returns the count, or -1. */
static int make_entries(const struct writer *wr, int n_table, struct entry **out)
{
    struct entry *e = calloc((size_t)n_table * 3, sizeof *e);
    if (!e) return -1;
    int n = 0;
    for (int i = 0; i < n_table; i++) {
        const struct mm_tensor *t = &wr->table[i];
        if (!mlx_applies(wr->opt, t)) {
            set_entry(&e[n++], t->name, i, PART_VALUES, wr->dtype, t->shape[0], t->shape[1], t->n_dims);
            continue;
        }
        const int bits = wr->opt->mlx_bits, g = wr->opt->mlx_group;
        char base[96];
        snprintf(base, sizeof base, "%.*s", (int)strlen(t->name) - 7, t->name); /* drop ".weight" */
        char nm[112];
        set_entry(&e[n++], t->name, i, PART_WORDS, SAFETENSORS_U32, t->shape[0], t->shape[1] * bits / 32, 2);
        snprintf(nm, sizeof nm, "%s.scales", base);
        set_entry(&e[n++], nm, i, PART_SCALES, wr->dtype, t->shape[0], t->shape[1] / g, 2);
        snprintf(nm, sizeof nm, "%s.biases", base);
        set_entry(&e[n++], nm, i, PART_BIASES, wr->dtype, t->shape[0], t->shape[1] / g, 2);
    }
    *out = e;
    return n;
}

static int cmp_entry_name(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Shard k of n holds the entries up to the point where the running size
 * first reaches k/n of the total (make_model.py's split). */
static int shard_ends(const struct entry *e, int n, int shards, int *end)
{
    uint64_t total = 0, acc = 0;
    for (int i = 0; i < n; i++) total += safetensors_wtensor_bytes(&e[i].w);
    int k = 0;
    for (int i = 0; i < n; i++) {
        acc += safetensors_wtensor_bytes(&e[i].w);
        if (k < shards - 1 && (double)acc >= (double)total * (k + 1) / shards) end[k++] = i + 1;
    }
    if (k == 0 || end[k - 1] != n) end[k++] = n;
    return k;
}

static int write_index(const char *dir, const struct entry *e, int n, const int *end, int k, inf_error *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(root, "metadata");
    uint64_t total = 0;
    for (int i = 0; i < n; i++) total += safetensors_wtensor_bytes(&e[i].w);
    cJSON_AddNumberToObject(meta, "total_size", (double)total);
    struct entry *sorted = malloc((size_t)n * sizeof *sorted);
    int *shard_of = malloc((size_t)n * sizeof *shard_of);
    if (!sorted || !shard_of) {
        free(sorted), free(shard_of), cJSON_Delete(root);
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        return -1;
    }
    for (int s = 0, i = 0; s < k; s++)
        for (; i < end[s]; i++) {
            sorted[i] = e[i];
            sorted[i].src = s; /* reuse: the shard number */
        }
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_entry_name); /* names are read from .name, not .w */
    cJSON *map = cJSON_AddObjectToObject(root, "weight_map");
    for (int i = 0; i < n; i++) {
        char fn[64];
        snprintf(fn, sizeof fn, "model-%05d-of-%05d.safetensors", sorted[i].src + 1, k);
        cJSON_AddStringToObject(map, sorted[i].name, fn);
    }
    free(sorted);
    free(shard_of);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    char path[4200];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    FILE *fp = fopen(path, "w");
    int rc = fp && text && fputs(text, fp) >= 0 ? 0 : -1;
    if (fp && fclose(fp) != 0) rc = -1;
    cJSON_free(text);
    if (rc) err_fail(err, INF_ERR_IO, "%s: cannot write", path);
    return rc;
}

int mm_write_safetensors(const struct mm_spec *s, const struct mm_hf_options *o, const char *dir, inf_error *err)
{
    int n_table;
    struct mm_tensor *table = mm_tensor_table(s, &n_table);
    if (!table) {
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        return -1;
    }
    struct writer wr = {.spec = s, .table = table, .opt = o, .memo_src = -1};
    wr.dtype = strcmp(o->dtype, "f32") == 0 ? SAFETENSORS_F32 : strcmp(o->dtype, "f16") == 0 ? SAFETENSORS_F16
                                                                                              : SAFETENSORS_BF16;
    struct entry *e = NULL;
    int n = make_entries(&wr, n_table, &e), rc = -1;
    if (n < 0) {
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    if (o->sort_by_name) qsort(e, (size_t)n, sizeof *e, cmp_entry_name);
    for (int i = 0; i < n; i++) e[i].w.name = e[i].name; /* the entries moved */
    int end[256], k = shard_ends(e, n, o->shards < 1 ? 1 : o->shards > 256 ? 256 : o->shards, end);
    const char *meta[] = {"format", o->mlx_bits ? "mlx" : "pt", NULL};
    char path[4200];
    for (int sh = 0, first = 0; sh < k; first = end[sh++]) {
        if (k == 1) snprintf(path, sizeof path, "%s/model.safetensors", dir);
        else snprintf(path, sizeof path, "%s/model-%05d-of-%05d.safetensors", dir, sh + 1, k);
        struct safetensors_wtensor *w = malloc((size_t)(end[sh] - first) * sizeof *w);
        if (!w) {
            err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
            goto done;
        }
        for (int i = first; i < end[sh]; i++) w[i - first] = e[i].w;
        wr.e = e + first;
        int wrc = safetensors_write(path, w, end[sh] - first, meta, fill, &wr, err);
        free(w);
        if (wrc != 0) goto done;
    }
    rc = k > 1 ? write_index(dir, e, n, end, k, err) : 0;
done:
    free(e);
    free(table);
    free(wr.memo_words), free(wr.memo_scales), free(wr.memo_biases);
    return rc;
}
