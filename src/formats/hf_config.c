/* hf_config.c - config.json and generation_config.json into struct
 * hf_config (see hf_config.h). JSON via cJSON. */
#include "formats/hf_config.h"

#include "base/file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- typed getters: absent keys (or JSON null) keep the default ---- */

struct reader {
    const char *name; /* file name for messages */
    inf_error *err;
    int failed;
};

static const cJSON *get(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return (it && !cJSON_IsNull(it)) ? it : NULL;
}

static void read_int(struct reader *r, const cJSON *obj, const char *key, int *out, int lo, int hi)
{
    const cJSON *it = get(obj, key);
    if (!it || r->failed) return;
    double v = it->valuedouble;
    if (!cJSON_IsNumber(it) || v != floor(v) || v < lo || v > hi) {
        err_fail(r->err, INF_ERR_FORMAT, "%s: \"%s\" must be an integer in [%d, %d]", r->name, key, lo, hi);
        r->failed = 1;
        return;
    }
    *out = (int)v;
}

static void read_float(struct reader *r, const cJSON *obj, const char *key, float *out)
{
    const cJSON *it = get(obj, key);
    if (!it || r->failed) return;
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) {
        err_fail(r->err, INF_ERR_FORMAT, "%s: \"%s\" must be a finite number", r->name, key);
        r->failed = 1;
        return;
    }
    *out = (float)it->valuedouble;
}

static void read_bool(struct reader *r, const cJSON *obj, const char *key, bool *out)
{
    const cJSON *it = get(obj, key);
    if (!it || r->failed) return;
    if (!cJSON_IsBool(it)) {
        err_fail(r->err, INF_ERR_FORMAT, "%s: \"%s\" must be true or false", r->name, key);
        r->failed = 1;
        return;
    }
    *out = cJSON_IsTrue(it);
}

static void read_str(struct reader *r, const cJSON *obj, const char *key, char *out, size_t size)
{
    const cJSON *it = get(obj, key);
    if (!it || r->failed) return;
    if (!cJSON_IsString(it)) {
        err_fail(r->err, INF_ERR_FORMAT, "%s: \"%s\" must be a string", r->name, key);
        r->failed = 1;
        return;
    }
    snprintf(out, size, "%s", it->valuestring);
}

static void add_eos(struct hf_config *c, int id)
{
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos_token_ids[i] == id) return;
    if (c->n_eos < HF_MAX_EOS) c->eos_token_ids[c->n_eos++] = id;
}

/* eos_token_id: an int or a list of ints. */
static void read_eos(struct reader *r, const cJSON *obj, struct hf_config *c)
{
    const cJSON *it = get(obj, "eos_token_id");
    if (!it || r->failed) return;
    if (cJSON_IsNumber(it)) {
        int id = -1;
        read_int(r, obj, "eos_token_id", &id, 0, INT32_MAX);
        if (!r->failed) add_eos(c, id);
        return;
    }
    if (!cJSON_IsArray(it)) {
        err_fail(r->err, INF_ERR_FORMAT, "%s: \"eos_token_id\" must be an integer or a list of integers", r->name);
        r->failed = 1;
        return;
    }
    int i = 0;
    for (const cJSON *e = it->child; e; e = e->next, i++) {
        double v = e->valuedouble;
        if (!cJSON_IsNumber(e) || v != floor(v) || v < 0 || v > INT32_MAX) {
            err_fail(r->err, INF_ERR_FORMAT, "%s: \"eos_token_id\"[%d] is not a token id", r->name, i);
            r->failed = 1;
            return;
        }
        add_eos(c, (int)v);
    }
}

static const struct {
    const char *model_type;
    enum hf_arch arch;
    const char *engine_arch;
} arch_table[] = {
    {"llama", HF_ARCH_LLAMA, "llama"},
    {"mistral", HF_ARCH_LLAMA, "llama"},
    {"qwen2", HF_ARCH_QWEN2, "qwen2"},
    {"qwen3", HF_ARCH_QWEN3, "qwen3"},
    {"gemma3_text", HF_ARCH_GEMMA3, "gemma3"},
    {"gemma3", HF_ARCH_GEMMA3, "gemma3"}, /* Gemma3ForConditionalGeneration */
};

/* Gemma3TextConfig's defaults (transformers), for keys a text_config omits
 * (real Gemma 3 4B/12B/27B configs list only a few). */
static void gemma3_defaults(struct hf_config *c)
{
    c->vocab_size = 262208;
    c->hidden_size = 2304;
    c->intermediate_size = 9216;
    c->num_layers = 26;
    c->num_heads = 8;
    c->num_kv_heads = 4;
    c->head_dim = 256;
    c->max_position_embeddings = 131072;
    c->rms_norm_eps = 1e-6f;
    c->rope_theta = 1000000.0f;
    c->rope_local_theta = 10000.0f;
    c->sliding_window = 4096;
    c->sliding_window_pattern = 6;
    c->query_pre_attn_scalar = 256;
    c->tie_word_embeddings = true;
}

static void read_rope_scaling(struct reader *r, const cJSON *obj, struct hf_config *c)
{
    const cJSON *rs = get(obj, "rope_scaling");
    if (!rs || r->failed) return;
    if (!cJSON_IsObject(rs)) {
        err_fail(r->err, INF_ERR_FORMAT, "%s: \"rope_scaling\" must be an object or null", r->name);
        r->failed = 1;
        return;
    }
    char type[32] = "";
    read_str(r, rs, "rope_type", type, sizeof type);
    if (!type[0]) read_str(r, rs, "type", type, sizeof type);
    if (strcmp(type, "default") == 0) return;
    if (strcmp(type, "llama3") != 0 && strcmp(type, "linear") != 0) {
        if (!r->failed)
            err_fail(r->err, INF_ERR_UNSUPPORTED, "%s: rope_scaling type '%s' is not supported (llama3, linear)", r->name, type);
        r->failed = 1;
        return;
    }
    snprintf(c->rope_scaling_type, sizeof c->rope_scaling_type, "%s", type);
    c->rope_factor = 1.0f;
    read_float(r, rs, "factor", &c->rope_factor);
    read_float(r, rs, "low_freq_factor", &c->rope_low_freq_factor);
    read_float(r, rs, "high_freq_factor", &c->rope_high_freq_factor);
    read_int(r, rs, "original_max_position_embeddings", &c->rope_original_ctx, 0, INT32_MAX);
}

/* Per-layer sliding flags: layer_types when listed, else gemma3's pattern. */
static void read_layer_types(struct reader *r, const cJSON *obj, struct hf_config *c)
{
    if (r->failed) return;
    const cJSON *lt = get(obj, "layer_types");
    if (lt) {
        if (!cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != c->num_layers) {
            err_fail(r->err, INF_ERR_FORMAT, "%s: \"layer_types\" must list %d layer types", r->name, c->num_layers);
            r->failed = 1;
            return;
        }
        int i = 0;
        for (const cJSON *e = lt->child; e; e = e->next, i++) {
            if (!cJSON_IsString(e)) {
                err_fail(r->err, INF_ERR_FORMAT, "%s: \"layer_types\"[%d] is not a string", r->name, i);
                r->failed = 1;
                return;
            }
            c->layer_sliding[i] = strcmp(e->valuestring, "sliding_attention") == 0;
        }
        return;
    }
    if (c->arch == HF_ARCH_GEMMA3 && c->sliding_window_pattern > 0)
        for (int i = 0; i < c->num_layers; i++)
            c->layer_sliding[i] = (i + 1) % c->sliding_window_pattern != 0;
}

static void read_quantization(struct reader *r, const cJSON *root, struct hf_config *c)
{
    const cJSON *q = get(root, "quantization");
    if (!q) {
        q = get(root, "quantization_config");
        /* Only MLX's affine layout: other quantisation_config methods
         * (gptq, awq, bitsandbytes...) are different formats. */
        const cJSON *mode = q ? get(q, "mode") : NULL;
        if (q && !(mode && cJSON_IsString(mode) && strcmp(mode->valuestring, "affine") == 0)) {
            const cJSON *m = get(q, "quant_method");
            err_fail(r->err, INF_ERR_UNSUPPORTED, "%s: quantization_config method '%s' is not supported (MLX affine only)",
                    r->name, m && cJSON_IsString(m) ? m->valuestring : "?");
            r->failed = 1;
            return;
        }
    }
    if (!q || r->failed) return;
    if (!cJSON_IsObject(q)) {
        err_fail(r->err, INF_ERR_FORMAT, "%s: \"quantization\" must be an object", r->name);
        r->failed = 1;
        return;
    }
    const cJSON *mode = get(q, "mode");
    if (mode && (!cJSON_IsString(mode) || strcmp(mode->valuestring, "affine") != 0)) {
        err_fail(r->err, INF_ERR_UNSUPPORTED, "%s: quantization mode '%s' is not supported (affine only)", r->name,
                cJSON_IsString(mode) ? mode->valuestring : "?");
        r->failed = 1;
        return;
    }
    read_int(r, q, "bits", &c->quant_bits, 0, 64);
    read_int(r, q, "group_size", &c->quant_group, 0, 1 << 20);
    if (r->failed) return;
    if ((c->quant_bits != 4 && c->quant_bits != 8) ||
        (c->quant_group != 32 && c->quant_group != 64 && c->quant_group != 128)) {
        err_fail(r->err, INF_ERR_UNSUPPORTED, "%s: quantization bits %d, group_size %d not supported (bits 4 or 8; group 32, 64 or 128)",
                r->name, c->quant_bits, c->quant_group);
        r->failed = 1;
    }
}

static void read_text_params(struct reader *r, const cJSON *t, struct hf_config *c)
{
    read_int(r, t, "vocab_size", &c->vocab_size, 1, INT32_MAX);
    read_int(r, t, "hidden_size", &c->hidden_size, 1, 1 << 20);
    read_int(r, t, "intermediate_size", &c->intermediate_size, 1, 1 << 22);
    read_int(r, t, "num_hidden_layers", &c->num_layers, 1, HF_MAX_LAYERS);
    read_int(r, t, "num_attention_heads", &c->num_heads, 1, 4096);
    read_int(r, t, "num_key_value_heads", &c->num_kv_heads, 1, 4096);
    read_int(r, t, "head_dim", &c->head_dim, 1, 65536);
    read_int(r, t, "max_position_embeddings", &c->max_position_embeddings, 1, INT32_MAX);
    read_float(r, t, "rms_norm_eps", &c->rms_norm_eps);
    read_float(r, t, "rope_theta", &c->rope_theta);
    read_float(r, t, "rope_local_base_freq", &c->rope_local_theta);
    read_bool(r, t, "tie_word_embeddings", &c->tie_word_embeddings);
    read_bool(r, t, "attention_bias", &c->attention_bias);
    read_int(r, t, "sliding_window", &c->sliding_window, 0, INT32_MAX);
    read_int(r, t, "sliding_window_pattern", &c->sliding_window_pattern, 0, HF_MAX_LAYERS);
    read_float(r, t, "query_pre_attn_scalar", &c->query_pre_attn_scalar);
    read_float(r, t, "final_logit_softcapping", &c->final_logit_softcapping);
    read_float(r, t, "attn_logit_softcapping", &c->attn_logit_softcapping);
    read_int(r, t, "bos_token_id", &c->bos_token_id, 0, INT32_MAX);
    read_int(r, t, "pad_token_id", &c->pad_token_id, 0, INT32_MAX);
    read_eos(r, t, c);
    read_rope_scaling(r, t, c);
}

static int check_required(struct reader *r, struct hf_config *c)
{
    static const char *names[] = {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                                  "num_attention_heads"};
    int vals[] = {c->vocab_size, c->hidden_size, c->intermediate_size, c->num_layers, c->num_heads};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        if (vals[i] <= 0) {
            err_fail(r->err, INF_ERR_FORMAT, "%s: missing \"%s\"", r->name, names[i]);
            return -1;
        }
    if (c->num_kv_heads <= 0) c->num_kv_heads = c->num_heads;
    if (c->head_dim <= 0) {
        if (c->hidden_size % c->num_heads != 0) {
            err_fail(r->err, INF_ERR_FORMAT, "%s: no \"head_dim\" and hidden_size %d is not a multiple of %d heads",
                    r->name, c->hidden_size, c->num_heads);
            return -1;
        }
        c->head_dim = c->hidden_size / c->num_heads;
    }
    if (c->num_heads % c->num_kv_heads != 0) {
        err_fail(r->err, INF_ERR_FORMAT, "%s: num_attention_heads %d is not a multiple of num_key_value_heads %d",
                r->name, c->num_heads, c->num_kv_heads);
        return -1;
    }
    if (!(c->rms_norm_eps > 0) || !(c->rope_theta > 0)) {
        err_fail(r->err, INF_ERR_FORMAT, "%s: rms_norm_eps and rope_theta must be positive", r->name);
        return -1;
    }
    return 0;
}

static void set_defaults(struct hf_config *c)
{
    memset(c, 0, sizeof *c);
    c->bos_token_id = -1;
    c->pad_token_id = -1;
    c->rms_norm_eps = 1e-6f;
    c->rope_theta = 10000.0f;
    c->max_position_embeddings = 2048;
    c->tie_word_embeddings = false;
}

int hf_config_parse(const char *json, size_t len, const char *name, struct hf_config *c,
                    inf_error *err)
{
    struct reader r = {name ? name : "config.json", err, 0};
    set_defaults(c);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        err_fail(err, INF_ERR_FORMAT, "%s: not a JSON object", r.name);
        cJSON_Delete(root);
        return -1;
    }
    read_str(&r, root, "model_type", c->model_type, sizeof c->model_type);
    const cJSON *archs = get(root, "architectures");
    if (cJSON_IsArray(archs) && cJSON_IsString(archs->child))
        snprintf(c->architecture, sizeof c->architecture, "%s", archs->child->valuestring);
    for (size_t i = 0; i < sizeof arch_table / sizeof arch_table[0]; i++)
        if (strcmp(c->model_type, arch_table[i].model_type) == 0) {
            c->arch = arch_table[i].arch;
            c->engine_arch = arch_table[i].engine_arch;
        }
    if (!r.failed && c->arch == HF_ARCH_UNKNOWN) {
        err_fail(err, INF_ERR_UNSUPPORTED, "%s: model_type '%s' is not supported (llama, mistral, qwen2, qwen3, gemma3_text, gemma3)",
                r.name, c->model_type[0] ? c->model_type : "(missing)");
        r.failed = 1;
    }
    const cJSON *text = root;
    if (!r.failed && c->arch == HF_ARCH_GEMMA3) {
        gemma3_defaults(c);
        if (strcmp(c->model_type, "gemma3") == 0) {
            c->multimodal_wrapper = true;
            text = get(root, "text_config");
            if (!cJSON_IsObject(text)) {
                err_fail(err, INF_ERR_FORMAT, "%s: model_type gemma3 needs a \"text_config\" object", r.name);
                r.failed = 1;
            }
            /* Special ids and the tie flag may sit at the top level. */
            read_int(&r, root, "bos_token_id", &c->bos_token_id, 0, INT32_MAX);
            read_int(&r, root, "pad_token_id", &c->pad_token_id, 0, INT32_MAX);
            read_eos(&r, root, c);
            read_bool(&r, root, "tie_word_embeddings", &c->tie_word_embeddings);
        }
    }
    if (!r.failed) read_text_params(&r, text, c);
    if (!r.failed && c->arch == HF_ARCH_QWEN2) c->attention_bias = true;
    if (!r.failed) read_str(&r, root, "torch_dtype", c->torch_dtype, sizeof c->torch_dtype);
    if (!r.failed) read_quantization(&r, root, c);
    if (!r.failed && check_required(&r, c) != 0) r.failed = 1;
    if (!r.failed) read_layer_types(&r, text, c);
    cJSON_Delete(root);
    return r.failed ? -1 : 0;
}

int hf_generation_config_parse(const char *json, size_t len, const char *name, struct hf_config *c,
                               inf_error *err)
{
    struct reader r = {name ? name : "generation_config.json", err, 0};
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        err_fail(err, INF_ERR_FORMAT, "%s: not a JSON object", r.name);
        cJSON_Delete(root);
        return -1;
    }
    int bos = -1, pad = -1;
    read_int(&r, root, "bos_token_id", &bos, 0, INT32_MAX);
    read_int(&r, root, "pad_token_id", &pad, 0, INT32_MAX);
    read_eos(&r, root, c);
    if (!r.failed && c->bos_token_id < 0) c->bos_token_id = bos;
    if (!r.failed && c->pad_token_id < 0) c->pad_token_id = pad;
    cJSON_Delete(root);
    return r.failed ? -1 : 0;
}

int hf_config_load_dir(const char *dir, struct hf_config *cfg, inf_error *err)
{
    size_t plen = strlen(dir) + 32;
    char *path = malloc(plen);
    if (!path) {
        err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", dir);
        return -1;
    }
    snprintf(path, plen, "%s/config.json", dir);
    size_t len = 0;
    char *text = file_read_all(path, 16u << 20, &len, err);
    int rc = text ? hf_config_parse(text, len, path, cfg, err) : -1;
    free(text);
    if (rc == 0) {
        snprintf(path, plen, "%s/generation_config.json", dir);
        FILE *probe = fopen(path, "rb");
        if (probe) {
            fclose(probe);
            text = file_read_all(path, 16u << 20, &len, err);
            rc = text ? hf_generation_config_parse(text, len, path, cfg, err) : -1;
            free(text);
        }
    }
    free(path);
    return rc;
}

int hf_config_peek(const char *json, size_t len, char *model_type, size_t mt_size, int *bits, int *group)
{
    *bits = *group = 0;
    if (mt_size) model_type[0] = '\0';
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return -1;
    }
    const cJSON *mt = get(root, "model_type");
    if (cJSON_IsString(mt) && mt_size) snprintf(model_type, mt_size, "%s", mt->valuestring);
    const cJSON *q = get(root, "quantization");
    if (!cJSON_IsObject(q)) q = get(root, "quantization_config");
    if (cJSON_IsObject(q)) {
        const cJSON *b = get(q, "bits"), *g = get(q, "group_size");
        if (cJSON_IsNumber(b) && b->valuedouble >= 0 && b->valuedouble <= 64) *bits = (int)b->valuedouble;
        if (cJSON_IsNumber(g) && g->valuedouble >= 0 && g->valuedouble <= (1 << 20)) *group = (int)g->valuedouble;
    }
    cJSON_Delete(root);
    return 0;
}

int hf_config_rope_factors(const struct hf_config *c, float *out, int max)
{
    if (strcmp(c->rope_scaling_type, "llama3") != 0) return 0;
    int dim = c->head_dim, n = dim / 2;
    if (n <= 0 || n > max) return 0;
    double factor = c->rope_factor > 0 ? c->rope_factor : 8.0;
    double lo = c->rope_low_freq_factor > 0 ? c->rope_low_freq_factor : 1.0;
    double hi = c->rope_high_freq_factor > 0 ? c->rope_high_freq_factor : 4.0;
    double old_ctx = c->rope_original_ctx > 0 ? c->rope_original_ctx : 8192.0;
    for (int i = 0; i < n; i++) {
        double freq = 1.0 / pow((double)c->rope_theta, (2.0 * i) / dim);
        double wavelen = 2.0 * M_PI / freq;
        double f;
        if (wavelen < old_ctx / hi) f = 1.0;
        else if (wavelen > old_ctx / lo) f = factor;
        else {
            double smooth = (old_ctx / wavelen - lo) / (hi - lo);
            f = 1.0 / ((1.0 - smooth) / factor + smooth);
        }
        out[i] = (float)f;
    }
    return n;
}
