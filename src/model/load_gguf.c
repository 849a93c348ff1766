/* load_gguf.c - hyper-parameters and weights of a model from a GGUF file.
 *
 * The only file of src/model/ that knows GGUF: it reads the architecture's
 * metadata keys into struct model_hparams and offers the GGUF tensor table
 * to weights_bind() as a weight_source. */
#include "model/model_internal.h"

#include "formats/gguf.h"
#include "tensor/tensor_types.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int src_get(void *ctx, const char *name, struct weight_tensor_desc *out)
{
    const struct gguf_tensor *t = gguf_get_tensor(ctx, name);
    if (!t) return 0;
    out->data = t->data;
    out->type = (int)t->type;
    out->n_dims = (int)t->n_dims;
    for (int i = 0; i < 4; i++) out->ne[i] = t->ne[i];
    out->size = t->size;
    return 1;
}

struct hp_reader {
    const struct gguf_file *f;
    const char *arch;
    const char *path;
    inf_error *err;
};

static void key_of(const struct hp_reader *r, const char *suffix, char *buf, size_t n)
{
    snprintf(buf, n, "%s.%s", r->arch, suffix);
}

/* Reads a positive int key. required: missing is an error; else *out keeps
 * its value. Returns 0 or -1. */
static int get_int(const struct hp_reader *r, const char *suffix, int required, int64_t lo, int64_t hi, int *out)
{
    char key[160];
    key_of(r, suffix, key, sizeof key);
    int64_t v;
    int rc = gguf_get_i64(r->f, key, &v);
    if (rc == GGUF_ERR_NOT_FOUND) {
        if (required) return err_fail(r->err, INF_ERR_FORMAT, "%s: missing metadata key '%s'", r->path, key);
        return 0;
    }
    if (rc != GGUF_OK) {
        int64_t i = gguf_find_key(r->f, key);
        enum gguf_type t = gguf_kv_type(r->f, i);
        if (t == GGUF_TYPE_ARRAY)
            return err_fail(r->err, INF_ERR_UNSUPPORTED, "%s: metadata key '%s' is a per-layer array, which is not supported",
                             r->path, key);
        return err_fail(r->err, INF_ERR_FORMAT, "%s: metadata key '%s' has type %s, expected an integer", r->path, key,
                         gguf_type_name(t));
    }
    if (v < lo || v > hi)
        return err_fail(r->err, INF_ERR_FORMAT, "%s: metadata key '%s' = %lld is out of range [%lld, %lld]", r->path, key,
                         (long long)v, (long long)lo, (long long)hi);
    *out = (int)v;
    return 0;
}

static int get_float(const struct hp_reader *r, const char *suffix, float *out)
{
    char key[160];
    key_of(r, suffix, key, sizeof key);
    float v;
    int rc = gguf_get_f32(r->f, key, &v);
    if (rc == GGUF_ERR_NOT_FOUND) return 0;
    if (rc != GGUF_OK)
        return err_fail(r->err, INF_ERR_FORMAT, "%s: metadata key '%s' has type %s, expected a number", r->path, key,
                         gguf_type_name(gguf_kv_type(r->f, gguf_find_key(r->f, key))));
    if (!isfinite(v))
        return err_fail(r->err, INF_ERR_FORMAT, "%s: metadata key '%s' is not finite", r->path, key);
    *out = v;
    return 0;
}

/* general.architecture: one of model/arch.c's table. */
static int read_arch(struct model *m, const struct gguf_file *f, const char *path, inf_error *err)
{
    struct model_hparams *hp = &m->hp;
    const char *arch;
    size_t arch_len;
    int rc = gguf_get_string(f, "general.architecture", &arch, &arch_len);
    if (rc == GGUF_ERR_NOT_FOUND) return err_fail(err, INF_ERR_FORMAT, "%s: missing metadata key 'general.architecture'", path);
    if (rc != GGUF_OK) return err_fail(err, INF_ERR_FORMAT, "%s: 'general.architecture' is not a string", path);
    const struct model_arch_info *ai = model_arch_find(arch);
    if (!ai || strlen(arch) != arch_len)
        return err_fail(err, INF_ERR_UNSUPPORTED, "%s: unsupported architecture '%.40s' (supported: %s)", path, arch,
                         model_arch_list());
    m->ai = ai;
    snprintf(hp->arch_name, sizeof hp->arch_name, "%s", ai->name);
    hp->arch = ai->arch;
    hp->rope_type = ai->rope_type;
    hp->arch_flags = ai->flags;
    return 0;
}

#define HP_BIG (1 << 20)

/* Widths, depth, heads and head sizes, checked against each other. */
static int read_shape(struct hp_reader *r, struct model_hparams *hp)
{
    if (get_int(r, HP_KEY_EMBEDDING_LENGTH, 1, 1, HP_BIG, &hp->n_embd)) return -1;
    if (get_int(r, HP_KEY_BLOCK_COUNT, 1, 1, 4096, &hp->n_layer)) return -1;
    if (get_int(r, HP_KEY_FEED_FORWARD_LENGTH, 1, 1, HP_BIG, &hp->n_ff)) return -1;
    if (get_int(r, HP_KEY_HEAD_COUNT, 1, 1, 4096, &hp->n_head)) return -1;
    hp->n_head_kv = hp->n_head;
    if (get_int(r, HP_KEY_HEAD_COUNT_KV, 0, 1, 4096, &hp->n_head_kv)) return -1;
    hp->n_ctx_train = 2048;
    if (get_int(r, HP_KEY_CONTEXT_LENGTH, 0, 1, 1 << 26, &hp->n_ctx_train)) return -1;
    hp->head_dim = hp->n_embd / hp->n_head;
    if (get_int(r, HP_KEY_KEY_LENGTH, 0, 1, 65536, &hp->head_dim)) return -1;
    hp->head_dim_v = hp->head_dim;
    if (get_int(r, HP_KEY_VALUE_LENGTH, 0, 1, 65536, &hp->head_dim_v)) return -1;
    if (hp->head_dim <= 0)
        return err_fail(r->err, INF_ERR_FORMAT, "%s: cannot derive the head size (n_embd %d, n_head %d)", r->path,
                        hp->n_embd, hp->n_head);
    hp->n_rot = hp->head_dim;
    if (get_int(r, HP_KEY_ROPE_DIM, 0, 0, 65536, &hp->n_rot)) return -1;
    if (hp->n_head % hp->n_head_kv != 0)
        return err_fail(r->err, INF_ERR_FORMAT, "%s: head count %d is not a multiple of the KV head count %d", r->path,
                        hp->n_head, hp->n_head_kv);
    if (hp->n_rot > hp->head_dim || hp->n_rot % 2 != 0)
        return err_fail(r->err, INF_ERR_FORMAT, "%s: rope dimension count %d must be even and <= the head size %d",
                        r->path, hp->n_rot, hp->head_dim);
    if ((int64_t)hp->n_head * hp->head_dim > HP_BIG || (int64_t)hp->n_head * hp->head_dim_v > HP_BIG)
        return err_fail(r->err, INF_ERR_FORMAT, "%s: attention size %d x %d is too large", r->path, hp->n_head,
                        hp->head_dim);
    hp->norm_eps = 1e-5f;
    if (get_float(r, HP_KEY_RMS_EPS, &hp->norm_eps)) return -1;
    if (!(hp->norm_eps >= 0.0f && hp->norm_eps < 1.0f))
        return err_fail(r->err, INF_ERR_FORMAT, "%s: RMS norm epsilon %g is out of range", r->path, (double)hp->norm_eps);
    return 0;
}

/* Rope bases, and scaling: none / linear (llama3-style factors come as
 * rope_freqs.weight); other types with a factor above 1 are refused. */
static int read_rope(struct hp_reader *r, const struct model_arch_info *ai, struct model_hparams *hp)
{
    hp->rope_freq_base = ai->default_rope_base;
    if (get_float(r, HP_KEY_ROPE_FREQ_BASE, &hp->rope_freq_base)) return -1;
    hp->rope_freq_base_swa = ai->default_rope_base_swa > 0 ? ai->default_rope_base_swa : hp->rope_freq_base;
    if (get_float(r, HP_KEY_ROPE_FREQ_BASE_SWA, &hp->rope_freq_base_swa)) return -1;
    if (!(hp->rope_freq_base > 0) || !(hp->rope_freq_base_swa > 0))
        return err_fail(r->err, INF_ERR_FORMAT, "%s: rope frequency base must be positive", r->path);
    hp->rope_freq_scale = 1.0f;
    float lin = 0.0f;
    if (get_float(r, HP_KEY_ROPE_SCALE_LINEAR, &lin)) return -1;
    if (lin > 0.0f) hp->rope_freq_scale = 1.0f / lin;
    char key[160];
    key_of(r, HP_KEY_ROPE_SCALING_TYPE, key, sizeof key);
    const char *st = NULL;
    if (gguf_get_string(r->f, key, &st, NULL) != GGUF_OK || !st) return 0;
    float factor = 0.0f;
    if (get_float(r, HP_KEY_ROPE_SCALING_FACTOR, &factor)) return -1;
    if (strcmp(st, "linear") == 0) {
        if (factor > 0.0f) hp->rope_freq_scale = 1.0f / factor;
    } else if (strcmp(st, "none") != 0 && strcmp(st, "llama3") != 0 && factor > 1.0f) {
        return err_fail(r->err, INF_ERR_UNSUPPORTED, "%s: rope scaling type '%.32s' (factor %g) is not supported",
                        r->path, st, (double)factor);
    }
    return 0;
}

/* Sliding window, attention and embedding scales, soft caps. */
static int read_attention_extras(struct hp_reader *r, const struct model_arch_info *ai, struct model_hparams *hp)
{
    hp->n_swa = 0;
    hp->swa_pattern = 0;
    if (ai->flags & ARCH_F_SWA) {
        if (get_int(r, HP_KEY_SLIDING_WINDOW, 0, 0, 1 << 26, &hp->n_swa)) return -1;
        hp->swa_pattern = ai->default_swa_pattern;
        if (get_int(r, HP_KEY_SLIDING_WINDOW_PATTERN, 0, 0, 4096, &hp->swa_pattern)) return -1;
        if (hp->n_swa == 0) hp->swa_pattern = 0;
    }
    /* attention scale (llama.cpp: Gemma 3 27B uses n_embd / n_head) */
    hp->attn_scale = 1.0f / sqrtf((float)hp->head_dim);
    if (ai->arch == MODEL_ARCH_GEMMA3) {
        float qpas = 0.0f;
        if (get_float(r, HP_KEY_QUERY_PRE_ATTN_SCALAR, &qpas)) return -1;
        if (qpas > 0.0f) hp->attn_scale = 1.0f / sqrtf(qpas);
        else if (hp->n_layer == 62) hp->attn_scale = 1.0f / sqrtf((float)(hp->n_embd / hp->n_head));
    }
    hp->embd_scale = (ai->flags & ARCH_F_EMBD_SCALE) ? sqrtf((float)hp->n_embd) : 1.0f;
    hp->final_logit_softcap = 0.0f;
    hp->attn_logit_softcap = 0.0f;
    if (get_float(r, HP_KEY_FINAL_SOFTCAP, &hp->final_logit_softcap)) return -1;
    return get_float(r, HP_KEY_ATTN_SOFTCAP, &hp->attn_logit_softcap);
}

static int read_hparams(struct model *m, const struct gguf_file *f, const char *path, inf_error *err)
{
    struct model_hparams *hp = &m->hp;
    if (read_arch(m, f, path, err)) return -1;
    struct hp_reader r = { f, m->ai->name, path, err };
    if (read_shape(&r, hp) || read_rope(&r, m->ai, hp) || read_attention_extras(&r, m->ai, hp)) return -1;
    /* vocabulary: rows of the token embedding */
    const struct gguf_tensor *te = gguf_get_tensor(f, model_weight_specs[W_TOK_EMBD].name);
    if (!te) return err_fail(err, INF_ERR_FORMAT, "%s: missing tensor 'token_embd.weight'", path);
    if (te->ne[1] < 1 || te->ne[1] > INT32_MAX)
        return err_fail(err, INF_ERR_FORMAT, "%s: token_embd.weight has %lld rows", path, (long long)te->ne[1]);
    hp->n_vocab = (int)te->ne[1];
    return 0;
}

int model_load_gguf(const char *path, struct model *m, inf_error *err)
{
    if (gguf_open(path, &m->gguf, err)) return -1;
    if (gguf_n_tensors(m->gguf) == 0)
        return err_fail(err, INF_ERR_FORMAT, "%s: the file has no tensors (a vocabulary-only GGUF, not a model)", path);
    if (read_hparams(m, m->gguf, path, err)) return -1;
    struct weight_source src = { m->gguf, src_get, path };
    if (weights_bind(&m->w, m->ai, &m->hp, &src, err)) return -1;
    return 0;
}
