/* load_hf.c - Hugging Face directories into struct model (see load_hf.h).
 *
 * The engine binds weights by their GGUF names through a weight_source; this
 * file's source answers those names from the safetensors set, applying the
 * HF conventions (Gemma 1 + w norms, MLX packing, synthetic rope_freqs).
 * The hyper-parameters come from config.json via formats/hf_config. */
#include "model/load_hf.h"

#include "formats/hf_config.h"
#include "formats/hf_tensor_map.h"
#include "formats/safetensors.h"
#include "model/model_internal.h"
#include "tensor/kernels_mlx.h"
#include "tensor/tensor_types.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* What an HF-loaded model keeps besides struct model. */
struct hf_owner {
    struct hf_config cfg;
    struct safetensors_set *set;
    void **owned; /* packed MLX matrices, converted norms, rope factors */
    int n_owned, cap_owned;
    inf_error err; /* a conversion error met inside get() (status INF_OK: none) */
    char last_missing[512]; /* HF name of the last tensor looked for in vain */
};

static void owner_free(struct hf_owner *o)
{
    if (!o) return;
    for (int i = 0; i < o->n_owned; i++) free(o->owned[i]);
    free(o->owned);
    safetensors_set_close(o->set);
    free(o);
}

static void *owner_alloc(struct hf_owner *o, size_t bytes)
{
    if (o->n_owned == o->cap_owned) {
        int cap = o->cap_owned ? o->cap_owned * 2 : 64;
        void **p = realloc(o->owned, (size_t)cap * sizeof *p);
        if (!p) return NULL;
        o->owned = p;
        o->cap_owned = cap;
    }
    void *b = malloc(bytes ? bytes : 1);
    if (b) o->owned[o->n_owned++] = b;
    return b;
}

int model_hf_is_dir(const char *path)
{
    struct stat st;
    if (!path || stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
    size_t n = strlen(path) + 16;
    char *p = malloc(n);
    if (!p) return 0;
    snprintf(p, n, "%s/config.json", path);
    int ok = stat(p, &st) == 0 && S_ISREG(st.st_mode);
    free(p);
    return ok;
}

/* ---- the weight source ---- */

static int engine_type_of(int st_dtype)
{
    switch (st_dtype) {
    case SAFETENSORS_F32: return TENSOR_TYPE_F32;
    case SAFETENSORS_F16: return TENSOR_TYPE_F16;
    case SAFETENSORS_BF16: return TENSOR_TYPE_BF16;
    default: return -1;
    }
}

/* Find an HF tensor by its stem-relative name under any stem the config
 * allows (or the root prefixes for lm_head). */
static const struct safetensors_tensor *find_hf(const struct hf_owner *o, const char *rel, int root,
                                                const struct safetensors_file **file)
{
    int n;
    const char *const *pre = root ? hf_map_root_prefixes(&o->cfg, &n) : hf_map_stems(&o->cfg, &n);
    char full[1100];
    for (int i = 0; i < n; i++) {
        snprintf(full, sizeof full, "%s%s", pre[i], rel);
        const struct safetensors_tensor *t = safetensors_set_find(o->set, full, file);
        if (t) return t;
    }
    return NULL;
}

static void source_fail(struct hf_owner *o, const struct safetensors_file *f, const char *name, const char *what)
{
    if (o->err.status == INF_OK)
        err_fail(&o->err, INF_ERR_FORMAT, "%s: tensor '%s': %s", f ? safetensors_path(f) : "model", name, what);
}

/* X.weight as uint32 with X.scales / X.biases: pack into MLX blocks. */
static int source_mlx(struct hf_owner *o, const struct safetensors_tensor *t, const struct safetensors_file *f,
                      const char *rel, int root, struct weight_tensor_desc *out)
{
    char base[512];
    snprintf(base, sizeof base, "%.*s", (int)(strlen(rel) - strlen(".weight")), rel);
    char sn[520], bn[520];
    snprintf(sn, sizeof sn, "%s.scales", base);
    snprintf(bn, sizeof bn, "%s.biases", base);
    const struct safetensors_tensor *sc = find_hf(o, sn, root, NULL), *bi = find_hf(o, bn, root, NULL);
    int bits = o->cfg.quant_bits, group = o->cfg.quant_group;
    if (!sc || !bi || bits == 0) {
        source_fail(o, f, t->name, "uint32 weight without MLX scales/biases or a \"quantization\" config");
        return 0;
    }
    if (t->n_dims != 2 || sc->n_dims != 2 || bi->n_dims != 2 || sc->dtype != bi->dtype) {
        source_fail(o, f, t->name, "MLX weight, scales and biases must be 2-D, scales and biases of one dtype");
        return 0;
    }
    /* mlx-lm may quantise single layers differently (a per-layer entry in
     * "quantization"): when the config's bits do not fit the shapes, take
     * the other supported width if that one does. */
    if (t->shape[1] * 32 / bits != sc->shape[1] * group) {
        int other = bits == 4 ? 8 : 4;
        if (t->shape[1] * 32 / other == sc->shape[1] * group) bits = other;
    }
    int64_t rows = t->shape[0], k = t->shape[1] * 32 / bits;
    enum tensor_mlx_scale sd = sc->dtype == SAFETENSORS_BF16 ? TENSOR_MLX_SCALE_BF16
                             : sc->dtype == SAFETENSORS_F16  ? TENSOR_MLX_SCALE_F16
                             : sc->dtype == SAFETENSORS_F32  ? TENSOR_MLX_SCALE_F32
                                                             : (enum tensor_mlx_scale)-1;
    int type = tensor_mlx_type(bits, group, sd);
    if (type < 0 || k % group != 0 || sc->shape[0] != rows || sc->shape[1] != k / group ||
        bi->shape[0] != rows || bi->shape[1] != k / group) {
        char what[200];
        snprintf(what, sizeof what, "MLX %d-bit group %d: scales/biases shape [%lld, %lld] (%s) do not fit %lld x %lld",
                 bits, group, (long long)sc->shape[0], (long long)sc->shape[1], safetensors_dtype_name(sc->dtype),
                 (long long)rows, (long long)k);
        source_fail(o, f, t->name, what);
        return 0;
    }
    int64_t rb = tensor_mlx_row_bytes(type, k);
    void *buf = owner_alloc(o, (size_t)(rb * rows));
    if (!buf || tensor_mlx_pack(type, t->data, sc->data, bi->data, rows, k, buf) != 0) {
        source_fail(o, f, t->name, "out of memory packing MLX blocks");
        return 0;
    }
    out->data = buf;
    out->type = type;
    out->n_dims = 2;
    out->ne[0] = k;
    out->ne[1] = rows;
    out->ne[2] = out->ne[3] = 1;
    out->size = (uint64_t)(rb * rows);
    return 1;
}

/* Gemma: an f32 copy holding 1 + w. */
static int source_norm_plus1(struct hf_owner *o, const struct safetensors_tensor *t,
                             const struct safetensors_file *f, struct weight_tensor_desc *out)
{
    int type = engine_type_of(t->dtype);
    float *buf = owner_alloc(o, (size_t)t->n_elements * sizeof(float));
    if (type < 0 || !buf || t->n_dims != 1 || tensor_dequantize_row(type, t->data, buf, t->n_elements) != 0) {
        source_fail(o, f, t->name, "norm weight must be a 1-D f32/f16/bf16 vector");
        return 0;
    }
    for (int64_t i = 0; i < t->n_elements; i++) buf[i] += 1.0f;
    out->data = buf;
    out->type = TENSOR_TYPE_F32;
    out->n_dims = 1;
    out->ne[0] = t->n_elements;
    out->ne[1] = out->ne[2] = out->ne[3] = 1;
    out->size = (uint64_t)t->n_elements * sizeof(float);
    return 1;
}

/* Llama 3.1 rope scaling: the rope_freqs factors llama.cpp's converter writes. */
static int source_rope_freqs(struct hf_owner *o, struct weight_tensor_desc *out)
{
    int n = o->cfg.head_dim / 2;
    float *buf = n > 0 ? owner_alloc(o, (size_t)n * sizeof(float)) : NULL;
    if (!buf || hf_config_rope_factors(&o->cfg, buf, n) != n) return 0;
    out->data = buf;
    out->type = TENSOR_TYPE_F32;
    out->n_dims = 1;
    out->ne[0] = n;
    out->ne[1] = out->ne[2] = out->ne[3] = 1;
    out->size = (uint64_t)n * sizeof(float);
    return 1;
}

static int source_get(void *ctx, const char *gguf_name, struct weight_tensor_desc *out)
{
    struct hf_owner *o = ctx;
    memset(out, 0, sizeof *out);
    if (strcmp(gguf_name, "rope_freqs.weight") == 0) return source_rope_freqs(o, out);
    char rel[512];
    unsigned flags = 0;
    if (hf_map_to_hf(o->cfg.arch, gguf_name, rel, sizeof rel, &flags) != 0) return 0;
    int root = (flags & HF_MAP_ROOT) != 0;
    /* Tied: HF computes logits with the embedding even if a checkpoint
     * also carries an lm_head copy. */
    if (root && o->cfg.tie_word_embeddings) return 0;
    const struct safetensors_file *f = NULL;
    const struct safetensors_tensor *t = find_hf(o, rel, root, &f);
    if (!t) {
        int n;
        const char *const *pre = root ? hf_map_root_prefixes(&o->cfg, &n) : hf_map_stems(&o->cfg, &n);
        snprintf(o->last_missing, sizeof o->last_missing, "%s%s", pre[0], rel);
        return 0;
    }
    if (t->dtype == SAFETENSORS_U32) return source_mlx(o, t, f, rel, root, out);
    if (flags & HF_MAP_NORM_PLUS1) return source_norm_plus1(o, t, f, out);
    int type = engine_type_of(t->dtype);
    if (type < 0) {
        char what[96];
        snprintf(what, sizeof what, "dtype %s is not supported (F32, F16, BF16, MLX U32)",
                 safetensors_dtype_name(t->dtype));
        source_fail(o, f, t->name, what);
        return 0;
    }
    if (t->n_dims < 1 || t->n_dims > 4) {
        source_fail(o, f, t->name, "must have 1 to 4 dimensions");
        return 0;
    }
    out->data = t->data;
    out->type = type;
    out->n_dims = t->n_dims;
    /* safetensors shapes are outermost first; the engine's ne[0] is innermost. */
    for (int i = 0; i < 4; i++) out->ne[i] = i < t->n_dims ? t->shape[t->n_dims - 1 - i] : 1;
    out->size = t->size;
    return 1;
}

/* ---- hyper-parameters ---- */

static int fill_hparams(struct model *m, const struct hf_config *c, const struct hf_owner *o, inf_error *err)
{
    const struct model_arch_info *ai = model_arch_find(c->engine_arch);
    if (!ai) return err_fail(err, INF_ERR_UNSUPPORTED, "%s: architecture '%s' is not supported by the engine", m->path,
                              c->engine_arch ? c->engine_arch : "?");
    struct model_hparams *hp = &m->hp;
    m->ai = ai;
    snprintf(hp->arch_name, sizeof hp->arch_name, "%s", ai->name);
    hp->arch = ai->arch;
    /* HF checkpoints always rotate halves (Llama's q/k are not permuted). */
    hp->rope_type = MODEL_ROPE_NEOX;
    hp->arch_flags = ai->flags;
    hp->n_layer = c->num_layers;
    hp->n_embd = c->hidden_size;
    hp->n_ff = c->intermediate_size;
    hp->n_head = c->num_heads;
    hp->n_head_kv = c->num_kv_heads;
    hp->head_dim = hp->head_dim_v = c->head_dim;
    hp->n_rot = c->head_dim;
    hp->n_ctx_train = c->max_position_embeddings;
    hp->norm_eps = c->rms_norm_eps;
    hp->rope_freq_base = c->rope_theta;
    hp->rope_freq_base_swa = c->arch == HF_ARCH_GEMMA3 && c->rope_local_theta > 0 ? c->rope_local_theta
                                                                                  : c->rope_theta;
    hp->rope_freq_scale = 1.0f;
    if (strcmp(c->rope_scaling_type, "linear") == 0 && c->rope_factor > 0) hp->rope_freq_scale = 1.0f / c->rope_factor;
    if (ai->flags & ARCH_F_SWA) {
        hp->n_swa = c->sliding_window;
        hp->swa_pattern = c->sliding_window_pattern > 0 ? c->sliding_window_pattern : ai->default_swa_pattern;
    }
    hp->attn_scale = 1.0f / sqrtf((float)hp->head_dim);
    if (c->arch == HF_ARCH_GEMMA3 && c->query_pre_attn_scalar > 0)
        hp->attn_scale = 1.0f / sqrtf(c->query_pre_attn_scalar);
    hp->embd_scale = (ai->flags & ARCH_F_EMBD_SCALE) ? sqrtf((float)hp->n_embd) : 1.0f;
    hp->final_logit_softcap = c->final_logit_softcapping;
    hp->attn_logit_softcap = c->attn_logit_softcapping;
    /* Vocabulary: rows of the embedding (as the GGUF loader). */
    char rel[128];
    hf_map_to_hf(c->arch, "token_embd.weight", rel, sizeof rel, NULL);
    const struct safetensors_tensor *te = find_hf(o, rel, 0, NULL);
    if (!te || te->n_dims != 2)
        return err_fail(err, INF_ERR_FORMAT, "%s: missing 2-D tensor '%s%s'", m->path, hf_map_stems(c, &(int){0})[0], rel);
    hp->n_vocab = (int)te->shape[0];
    if (hp->n_vocab != c->vocab_size)
        return err_fail(err, INF_ERR_FORMAT, "%s: embed_tokens has %d rows but config.json vocab_size is %d", m->path,
                         hp->n_vocab, c->vocab_size);
    return 0;
}

const struct hf_config *model_hf_config(const struct model *m) { return m && m->hf ? &m->hf->cfg : NULL; }

void model_hf_release_range(const struct model *m, const void *p, uint64_t n)
{
    if (m && m->hf) safetensors_set_release_range(m->hf->set, p, n);
}

void model_hf_release(struct model *m)
{
    if (!m) return;
    owner_free(m->hf);
    m->hf = NULL;
}

/* Frees a half-built model whose owner is not attached yet. */
static void discard(struct model *m, struct hf_owner *o)
{
    model_free(m);
    owner_free(o);
}

int model_load_hf_dir(const char *dir, const struct model_load_params *params, struct model **out,
                      inf_error *err)
{
    *out = NULL;
    inf_error_clear(err);
    struct model_load_params p = params ? *params : model_load_params_default();
    if (p.kv_type != TENSOR_TYPE_F32 && p.kv_type != TENSOR_TYPE_F16 && p.kv_type != TENSOR_TYPE_Q8_0)
        return err_fail(err, INF_ERR_UNSUPPORTED, "%s: KV cache type %s is not supported (f16, f32 or q8_0)", dir,
                         tensor_type_name(p.kv_type));
    struct hf_owner *o = calloc(1, sizeof *o);
    struct model *m = calloc(1, sizeof *m);
    if (!o || !m || !(m->path = strdup(dir))) {
        free(m);
        free(o);
        return err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", dir);
    }
    m->kv_type = p.kv_type;
    if (hf_config_load_dir(dir, &o->cfg, err) != 0 ||
        safetensors_set_open(dir, &o->set, err) != 0 || fill_hparams(m, &o->cfg, o, err) != 0) {
        discard(m, o);
        return -1;
    }
    struct weight_source src = {o, source_get, dir};
    if (weights_bind(&m->w, m->ai, &m->hp, &src, err) != 0) {
        if (o->err.status != INF_OK) {
            if (err) *err = o->err;
        } else if (o->last_missing[0]) {
            /* the binder names the GGUF tensor it missed; say the HF name too */
            err_append(err, " (Hugging Face name '%s')", o->last_missing);
        }
        discard(m, o);
        return -1;
    }
    if (model_finish_load(m, err) != 0) {
        discard(m, o);
        return -1;
    }
    /* Gemma 3 configs list each layer's attention kind: trust that over the
     * pattern rule. */
    if (o->cfg.arch == HF_ARCH_GEMMA3 && m->hp.n_swa > 0)
        for (int il = 0; il < m->hp.n_layer; il++) m->layer_swa[il] = o->cfg.layer_sliding[il];
    m->hf = o;
    *out = m;
    return 0;
}
