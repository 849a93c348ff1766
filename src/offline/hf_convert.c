/* hf_convert.c - Hugging Face directory -> GGUF v3 (see hf_convert.h):
 * the tensor plan (names, types, value transforms), the model metadata and
 * the file; the tokenizer metadata is formats/hf_tokenizer_convert.c's. */
#include "offline/hf_convert.h"
#include "base/file.h"
#include "formats/gguf.h"
#include "offline/gguf_writer.h"

#include "formats/hf_config.h"
#include "offline/hf_tokenizer_convert.h"
#include "formats/hf_tensor_map.h"
#include "formats/safetensors.h"
#include "tensor/kernels_mlx.h"
#include "tensor/tensor_types.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALIGN 32

/* ---- tensors ---- */

struct out_tensor {
    char name[96];
    int type;             /* f32 / f16 / bf16 */
    int n_dims;
    int64_t ne[2];        /* ne[0] = row length */
    uint64_t size, offset;
    const struct safetensors_tensor *src, *scales, *biases; /* biases: MLX only */
    unsigned flags;       /* HF_MAP_NORM_PLUS1 */
    int permute_heads;    /* Llama q/k: heads to re-order (0 = none) */
    float *synth;         /* generated data (rope factors), owned */
};

struct plan {
    struct out_tensor *t;
    int n, cap;
};

static int st_engine_type(int dtype)
{
    return dtype == SAFETENSORS_F32 ? TENSOR_TYPE_F32
         : dtype == SAFETENSORS_F16 ? TENSOR_TYPE_F16
         : dtype == SAFETENSORS_BF16 ? TENSOR_TYPE_BF16 : -1;
}

static struct out_tensor *plan_add(struct plan *p)
{
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 64;
        struct out_tensor *t = realloc(p->t, (size_t)cap * sizeof *t);
        if (!t) return NULL;
        p->t = t;
        p->cap = cap;
    }
    struct out_tensor *t = &p->t[p->n++];
    memset(t, 0, sizeof *t);
    return t;
}

static void plan_free(struct plan *p)
{
    for (int i = 0; i < p->n; i++) free(p->t[i].synth);
    free(p->t);
}

/* Llama q/k (weights and biases): heads re-ordered for interleaved RoPE. */
static int permute_heads_for(const struct hf_config *cfg, const char *gguf)
{
    if (cfg->arch != HF_ARCH_LLAMA) return 0;
    const char *dot = strchr(gguf + 4, '.'); /* after "blk.N" */
    if (strncmp(gguf, "blk.", 4) != 0 || !dot) return 0;
    if (strncmp(dot, ".attn_q.", 8) == 0) return cfg->num_heads;
    if (strncmp(dot, ".attn_k.", 8) == 0) return cfg->num_kv_heads;
    return 0;
}

static int plan_one(struct plan *p, const struct hf_config *cfg, const struct safetensors_set *set,
                    const struct safetensors_tensor *t, const struct safetensors_file *f, inf_error *err)
{
    char gname[96];
    unsigned flags = 0;
    int kind = 0;
    if (hf_map_to_gguf(cfg, t->name, gname, sizeof gname, &flags, &kind) != 0 || kind != 0) return 0;
    if (strcmp(gname, "output.weight") == 0 && cfg->tie_word_embeddings) return 0;
    struct out_tensor *o = plan_add(p);
    if (!o) {
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        return -1;
    }
    snprintf(o->name, sizeof o->name, "%s", gname);
    o->src = t;
    o->flags = flags;
    o->permute_heads = permute_heads_for(cfg, gname);
    if (t->dtype == SAFETENSORS_U32) {
        char base[600], n2[620];
        snprintf(base, sizeof base, "%.*s", (int)(strlen(t->name) - 7), t->name);
        snprintf(n2, sizeof n2, "%s.scales", base);
        o->scales = safetensors_set_find(set, n2, NULL);
        snprintf(n2, sizeof n2, "%s.biases", base);
        o->biases = safetensors_set_find(set, n2, NULL);
        int bits = cfg->quant_bits;
        if (!o->scales || !o->biases || bits == 0 || t->n_dims != 2 || o->scales->n_dims != 2 ||
            o->scales->dtype != o->biases->dtype) {
            err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s': uint32 weight without usable MLX scales/biases", safetensors_path(f),
                    t->name);
            return -1;
        }
        o->ne[0] = t->shape[1] * 32 / bits;
        o->ne[1] = t->shape[0];
        int sd = o->scales->dtype == SAFETENSORS_BF16 ? TENSOR_MLX_SCALE_BF16
               : o->scales->dtype == SAFETENSORS_F16  ? TENSOR_MLX_SCALE_F16 : TENSOR_MLX_SCALE_F32;
        int mt = tensor_mlx_type(bits, cfg->quant_group, (enum tensor_mlx_scale)sd);
        if (mt < 0 || o->ne[0] % cfg->quant_group || o->scales->shape[0] != o->ne[1] ||
            o->scales->shape[1] != o->ne[0] / cfg->quant_group || o->biases->shape[0] != o->ne[1] ||
            o->biases->shape[1] != o->ne[0] / cfg->quant_group) {
            err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s': MLX scales/biases do not fit the weight", safetensors_path(f), t->name);
            return -1;
        }
        o->type = TENSOR_TYPE_F32;
        o->n_dims = 2;
    } else {
        int type = st_engine_type(t->dtype);
        if (type < 0 || t->n_dims < 1 || t->n_dims > 2) {
            err_fail(err, INF_ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s with %d dimensions cannot be converted", safetensors_path(f),
                    t->name, safetensors_dtype_name(t->dtype), t->n_dims);
            return -1;
        }
        o->n_dims = t->n_dims;
        o->ne[0] = t->shape[t->n_dims - 1];
        o->ne[1] = t->n_dims == 2 ? t->shape[0] : 1;
        /* Vectors are f32 in GGUF (llama.cpp needs f32 norms). */
        o->type = t->n_dims == 1 ? TENSOR_TYPE_F32 : type;
    }
    if (o->permute_heads && (o->ne[o->n_dims == 2 ? 1 : 0] % (2 * o->permute_heads) != 0)) {
        err_fail(err, INF_ERR_FORMAT, "%s: tensor '%s': %lld rows cannot be split into %d heads", safetensors_path(f), t->name,
                (long long)o->ne[1], o->permute_heads);
        return -1;
    }
    return 0;
}

static int cmp_begin(const void *a, const void *b)
{
    const struct safetensors_tensor *x = *(const struct safetensors_tensor *const *)a;
    const struct safetensors_tensor *y = *(const struct safetensors_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Tensors in storage order (shard by shard, by offset), as llama.cpp's
 * converter and make_model.py's hf2gguf walk them, so that equal inputs
 * give byte-identical files. */
static int build_plan(struct plan *p, const struct hf_config *cfg, const struct safetensors_set *set, inf_error *err)
{
    for (int fi = 0; fi < safetensors_set_n_files(set); fi++) {
        const struct safetensors_file *f = safetensors_set_file(set, fi);
        int64_t n = safetensors_n_tensors(f);
        const struct safetensors_tensor **order = malloc((size_t)(n ? n : 1) * sizeof *order);
        if (!order) {
            err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
            return -1;
        }
        for (int64_t i = 0; i < n; i++) order[i] = safetensors_tensor_at(f, i);
        qsort(order, (size_t)n, sizeof *order, cmp_begin);
        int rc = 0;
        for (int64_t i = 0; i < n && rc == 0; i++) rc = plan_one(p, cfg, set, order[i], f, err);
        free(order);
        if (rc != 0) return -1;
    }
    int n = cfg->head_dim / 2;
    if (strcmp(cfg->rope_scaling_type, "llama3") == 0 && cfg->arch == HF_ARCH_LLAMA && n > 0) {
        struct out_tensor *o = plan_add(p);
        if (!o || !(o->synth = malloc((size_t)n * sizeof(float)))) {
            err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
            return -1;
        }
        hf_config_rope_factors(cfg, o->synth, n);
        snprintf(o->name, sizeof o->name, "rope_freqs.weight");
        o->type = TENSOR_TYPE_F32;
        o->n_dims = 1;
        o->ne[0] = n;
        o->ne[1] = 1;
    }
    uint64_t off = 0;
    for (int i = 0; i < p->n; i++) {
        struct out_tensor *o = &p->t[i];
        o->size = (uint64_t)tensor_row_bytes(o->type, o->ne[0]) * (uint64_t)o->ne[1];
        o->offset = off;
        off += (o->size + ALIGN - 1) / ALIGN * ALIGN;
    }
    return 0;
}

/* The bytes of one output tensor (malloc'd, o->size long). */
static unsigned char *tensor_bytes(const struct out_tensor *o, const struct hf_config *cfg)
{
    unsigned char *out = malloc(o->size ? o->size : 1);
    if (!out) return NULL;
    const int64_t rows = o->ne[1], k = o->ne[0];
    if (o->synth) {
        memcpy(out, o->synth, o->size);
        return out;
    }
    unsigned char *tmp = NULL;
    const unsigned char *src;
    if (o->scales) { /* MLX: pack, then dequantise row by row to f32 */
        int sd = o->scales->dtype == SAFETENSORS_BF16 ? TENSOR_MLX_SCALE_BF16
               : o->scales->dtype == SAFETENSORS_F16  ? TENSOR_MLX_SCALE_F16 : TENSOR_MLX_SCALE_F32;
        int mt = tensor_mlx_type(cfg->quant_bits, cfg->quant_group, (enum tensor_mlx_scale)sd);
        int64_t rb = tensor_mlx_row_bytes(mt, k);
        tmp = malloc((size_t)(rb * rows));
        if (!tmp || tensor_mlx_pack(mt, o->src->data, o->scales->data, o->biases->data, rows, k, tmp) != 0) {
            free(tmp);
            free(out);
            return NULL;
        }
        for (int64_t r = 0; r < rows; r++) tensor_mlx_dequantize_row(mt, tmp + r * rb, (float *)out + r * k, k);
        free(tmp);
        tmp = NULL;
        src = out;
    } else if (o->type == TENSOR_TYPE_F32 && o->src->dtype != SAFETENSORS_F32) {
        /* a vector widened to f32 */
        tensor_dequantize_row(st_engine_type(o->src->dtype), o->src->data, (float *)out, k * rows);
        src = out;
    } else {
        memcpy(out, o->src->data, o->size);
        src = out;
    }
    if (o->flags & HF_MAP_NORM_PLUS1)
        for (int64_t i = 0; i < k * rows; i++) ((float *)out)[i] += 1.0f;
    if (o->permute_heads) {
        /* Rows (or bias elements) of each head: new 2j + t = old t * d/2 + j. */
        const bool vec = o->n_dims == 1;
        const int64_t n_rows = vec ? k : rows;
        const size_t rb = vec ? sizeof(float) : o->size / (size_t)rows;
        const int64_t d = n_rows / o->permute_heads;
        tmp = malloc(o->size ? o->size : 1);
        if (!tmp) {
            free(out);
            return NULL;
        }
        memcpy(tmp, src, o->size);
        for (int64_t h = 0; h < o->permute_heads; h++)
            for (int64_t j = 0; j < d / 2; j++)
                for (int t = 0; t < 2; t++)
                    memcpy(out + (size_t)(h * d + 2 * j + t) * rb, tmp + (size_t)(h * d + t * (d / 2) + j) * rb, rb);
        free(tmp);
    }
    return out;
}

/* ---- metadata ---- */

static void model_kvs(struct gguf_wbuf *b, const struct hf_config *c, const char *name, int file_type)
{
    const char *a = c->engine_arch;
    char key[128];
#define K(suffix) (snprintf(key, sizeof key, "%s.%s", a, suffix), key)
    gguf_wbuf_kv_str(b, "general.architecture", a);
    gguf_wbuf_kv_str(b, "general.type", "model");
    gguf_wbuf_kv_str(b, "general.name", name);
    gguf_wbuf_kv_u32(b, "general.file_type", (uint32_t)file_type);
    gguf_wbuf_kv_u32(b, "general.quantization_version", 2);
    gguf_wbuf_kv_u32(b, K("block_count"), (uint32_t)c->num_layers);
    gguf_wbuf_kv_u32(b, K("context_length"), (uint32_t)c->max_position_embeddings);
    gguf_wbuf_kv_u32(b, K("embedding_length"), (uint32_t)c->hidden_size);
    gguf_wbuf_kv_u32(b, K("feed_forward_length"), (uint32_t)c->intermediate_size);
    gguf_wbuf_kv_u32(b, K("attention.head_count"), (uint32_t)c->num_heads);
    gguf_wbuf_kv_u32(b, K("attention.head_count_kv"), (uint32_t)c->num_kv_heads);
    gguf_wbuf_kv_f32(b, K("rope.freq_base"), c->rope_theta);
    gguf_wbuf_kv_f32(b, K("attention.layer_norm_rms_epsilon"), c->rms_norm_eps);
    gguf_wbuf_kv_u32(b, K("attention.key_length"), (uint32_t)c->head_dim);
    gguf_wbuf_kv_u32(b, K("attention.value_length"), (uint32_t)c->head_dim);
    if (c->arch == HF_ARCH_LLAMA) {
        gguf_wbuf_kv_u32(b, K("vocab_size"), (uint32_t)c->vocab_size);
        gguf_wbuf_kv_u32(b, K("rope.dimension_count"), (uint32_t)c->head_dim);
    }
    if (strcmp(c->rope_scaling_type, "linear") == 0) {
        gguf_wbuf_kv_str(b, K("rope.scaling.type"), "linear");
        gguf_wbuf_kv_f32(b, K("rope.scaling.factor"), c->rope_factor);
    }
    if (c->arch == HF_ARCH_GEMMA3) {
        gguf_wbuf_kv_u32(b, K("attention.sliding_window"), (uint32_t)c->sliding_window);
        gguf_wbuf_kv_f32(b, K("rope.freq_base_swa"), c->rope_local_theta);
        if (c->sliding_window_pattern != 6)
            gguf_wbuf_kv_u32(b, K("attention.sliding_window_pattern"), (uint32_t)c->sliding_window_pattern);
        if (c->final_logit_softcapping > 0) gguf_wbuf_kv_f32(b, K("final_logit_softcapping"), c->final_logit_softcapping);
        if (c->attn_logit_softcapping > 0) gguf_wbuf_kv_f32(b, K("attn_logit_softcapping"), c->attn_logit_softcapping);
    }
#undef K
}

/* ---- writing ---- */

static int write_padding(FILE *fp, uint64_t at)
{
    return file_write_zeros(fp, (ALIGN - at % ALIGN) % ALIGN);
}

static int write_file(const char *out_path, struct gguf_wbuf *hdr, const struct plan *p, const struct hf_config *cfg,
                      inf_error *err)
{
    size_t plen = strlen(out_path) + 16;
    char *tmp_path = malloc(plen);
    if (!tmp_path) {
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        return -1;
    }
    snprintf(tmp_path, plen, "%s.tmpXXXXXX", out_path);
    int fd = mkstemp(tmp_path);
    FILE *fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!fp) {
        err_fail(err, INF_ERR_IO, "%s: cannot create: %s", out_path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp_path);
        }
        free(tmp_path);
        return -1;
    }
    int rc = (file_write_all(fp, hdr->b.p, hdr->b.n) || write_padding(fp, hdr->b.n)) ? -1 : 0;
    for (int i = 0; i < p->n && rc == 0; i++) {
        unsigned char *data = tensor_bytes(&p->t[i], cfg);
        if (!data) {
            err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory converting '%s'", out_path, p->t[i].name);
            rc = -2;
            break;
        }
        rc = (file_write_all(fp, data, p->t[i].size) || write_padding(fp, p->t[i].size)) ? -1 : 0;
        free(data);
    }
    if (fclose(fp) != 0 && rc == 0) rc = -1;
    if (rc == -1 || (rc == 0 && rename(tmp_path, out_path) != 0)) {
        err_fail(err, INF_ERR_IO, "%s: write failed: %s", out_path, strerror(errno));
        rc = -1;
    }
    if (rc != 0) unlink(tmp_path);
    free(tmp_path);
    return rc ? -1 : 0;
}

int hf_convert_to_gguf(const char *dir, const char *out_path, const struct hf_convert_options *opts,
                       inf_error *err)
{
    struct hf_config cfg;
    struct safetensors_set *set = NULL;
    struct plan plan = {0};
    struct gguf_wbuf kvs = {0}, hdr = {0};
    int rc = -1;
    if (hf_config_load_dir(dir, &cfg, err) != 0 || safetensors_set_open(dir, &set, err) != 0)
        goto done;
    if (build_plan(&plan, &cfg, set, err) != 0) goto done;
    /* file type: the embedding's (MLX is written as f32). */
    int file_type = 0;
    for (int i = 0; i < plan.n; i++)
        if (strcmp(plan.t[i].name, "token_embd.weight") == 0)
            file_type = plan.t[i].type == TENSOR_TYPE_F16 ? 1 : plan.t[i].type == TENSOR_TYPE_BF16 ? 32 : 0;
    char name[256];
    if (opts && opts->name) {
        snprintf(name, sizeof name, "%s", opts->name);
    } else {
        size_t l = strlen(dir);
        while (l > 1 && dir[l - 1] == '/') l--;
        const char *s = dir + l;
        while (s > dir && s[-1] != '/') s--;
        snprintf(name, sizeof name, "%.*s", (int)(dir + l - s), s);
    }
    model_kvs(&kvs, &cfg, name, file_type);
    if (opts && opts->vocab_from) {
        int n_tokens = 0;
        if (gguf_tokenizer_copy_kvs(&kvs, opts->vocab_from, &n_tokens, err) != 0) goto done;
        if (n_tokens != cfg.vocab_size) {
            err_fail(err, INF_ERR_FORMAT, "%s has %d tokens but %s/config.json says vocab_size %d", opts->vocab_from,
                    n_tokens, dir, cfg.vocab_size);
            goto done;
        }
    } else if (hf_tokenizer_gguf_kvs(&kvs, dir, cfg.vocab_size, opts ? opts->pre : NULL, err) != 0) {
        goto done;
    }
    gguf_wbuf_put(&hdr, "GGUF", 4);
    gguf_wbuf_u32(&hdr, 3);
    gguf_wbuf_u64(&hdr, (uint64_t)plan.n);
    gguf_wbuf_u64(&hdr, kvs.n_kv);
    gguf_wbuf_put(&hdr, kvs.b.p, kvs.b.n);
    for (int i = 0; i < plan.n; i++) {
        const struct out_tensor *o = &plan.t[i];
        gguf_wbuf_str(&hdr, o->name, strlen(o->name));
        gguf_wbuf_u32(&hdr, (uint32_t)o->n_dims);
        for (int d = 0; d < o->n_dims; d++) gguf_wbuf_u64(&hdr, (uint64_t)o->ne[d]);
        gguf_wbuf_u32(&hdr, (uint32_t)o->type);
        gguf_wbuf_u64(&hdr, o->offset);
    }
    if (hdr.b.oom || kvs.b.oom) {
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    rc = write_file(out_path, &hdr, &plan, &cfg, err);
done:
    gguf_wbuf_free(&kvs);
    gguf_wbuf_free(&hdr);
    plan_free(&plan);
    safetensors_set_close(set);
    return rc;
}
