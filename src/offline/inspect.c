/* inspect.c - what a model file is, from its headers alone (see inspect.h):
 * a GGUF file from its key-value pairs and tensor table, a Hugging Face
 * folder from config.json, tokenizer_config.json, tokenizer.json and the
 * safetensors headers. */
#include "offline/inspect.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "formats/gguf.h"
#include "formats/json_file.h"
#include "formats/safetensors.h"
#include "tensor/tensor_types.h"

/* An integer hyper-parameter "<arch>.<key>", or -1. */
static long long arch_int(const struct gguf_file *f, const char *arch, const char *key)
{
    char name[256];
    int64_t v;
    snprintf(name, sizeof name, "%s.%s", arch, key);
    return gguf_get_i64(f, name, &v) == GGUF_OK ? (long long)v : -1;
}

static void add_int_or_null(cJSON *j, const char *key, long long v)
{
    if (v >= 0)
        cJSON_AddNumberToObject(j, key, (double)v);
    else
        cJSON_AddNullToObject(j, key);
}

typedef struct type_stats {
    int64_t count;
    uint64_t bytes;
    uint64_t elements;
} type_stats;

/* The type holding most tensor bytes (the "dominant" type); -1 if none. */
static int dominant_type(const struct gguf_file *f)
{
    uint64_t bytes[TENSOR_TYPE_COUNT] = {0};
    int best = -1;
    for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
        const struct gguf_tensor *t = gguf_tensor_at(f, i);
        if (t->type < TENSOR_TYPE_COUNT)
            bytes[t->type] += t->size;
    }
    for (int ty = 0; ty < TENSOR_TYPE_COUNT; ty++)
        if (bytes[ty] && (best < 0 || bytes[ty] > bytes[best]))
            best = ty;
    return best;
}

int inspect_weight_type(const char *path, char *buf, size_t size)
{
    struct gguf_file *f = NULL;
    inf_error err = {0};
    size_t n = strlen(path);
    if (n < 5 || strcmp(path + n - 5, ".gguf") != 0 || gguf_open(path, &f, &err) != 0)
        return -1;
    int ty = dominant_type(f);
    if (ty >= 0)
        snprintf(buf, size, "%s", tensor_type_name(ty));
    gguf_close(f);
    return ty >= 0 ? 0 : -1;
}

/* The tensor table by type, the parameter count and the quantisation: the
 * type holding most of the bytes, and the average bits per weight over the
 * whole file's tensors. */
static void describe_gguf_tensors(const struct gguf_file *f, cJSON *j)
{
    type_stats stats[TENSOR_TYPE_COUNT + 1];
    memset(stats, 0, sizeof stats);
    uint64_t params = 0, total_bytes = 0;
    int64_t nt = gguf_n_tensors(f);
    for (int64_t i = 0; i < nt; i++) {
        const struct gguf_tensor *t = gguf_tensor_at(f, i);
        uint64_t el = 1;
        for (uint32_t d = 0; d < t->n_dims; d++)
            el *= (uint64_t)t->ne[d];
        int ty = t->type < TENSOR_TYPE_COUNT ? (int)t->type : TENSOR_TYPE_COUNT;
        stats[ty].count++;
        stats[ty].bytes += t->size;
        stats[ty].elements += el;
        params += el;
        total_bytes += t->size;
    }
    cJSON_AddNumberToObject(j, "tensor_count", (double)nt);
    cJSON_AddNumberToObject(j, "parameters", (double)params);
    cJSON *by_type = cJSON_AddObjectToObject(j, "tensors_by_type");
    int dominant = -1;
    for (int ty = 0; ty <= TENSOR_TYPE_COUNT; ty++) {
        if (!stats[ty].count)
            continue;
        cJSON *e = cJSON_AddObjectToObject(by_type, ty < TENSOR_TYPE_COUNT ? tensor_type_name(ty) : "unknown");
        cJSON_AddNumberToObject(e, "count", (double)stats[ty].count);
        cJSON_AddNumberToObject(e, "bytes", (double)stats[ty].bytes);
        cJSON_AddNumberToObject(e, "parameters", (double)stats[ty].elements);
        if (dominant < 0 || stats[ty].bytes > stats[dominant].bytes)
            dominant = ty;
    }
    cJSON *q = cJSON_AddObjectToObject(j, "quantization");
    if (dominant >= 0 && dominant < TENSOR_TYPE_COUNT) {
        int64_t bs = tensor_type_block_size(dominant);
        size_t bb = tensor_type_block_bytes(dominant);
        cJSON_AddStringToObject(q, "type", tensor_type_name(dominant));
        cJSON_AddNumberToObject(q, "bits", bs > 0 ? (double)(bb * 8 / (size_t)bs) : 0);
        cJSON_AddNumberToObject(q, "group_size", bs > 1 ? (double)bs : 0);
    } else {
        cJSON_AddNullToObject(q, "type");
    }
    cJSON_AddNumberToObject(q, "bits_per_weight", params ? (double)total_bytes * 8.0 / (double)params : 0);
    int64_t v;
    add_int_or_null(q, "file_type", gguf_get_i64(f, "general.file_type", &v) == GGUF_OK ? v : -1);
}

static void add_string_or_null(cJSON *j, const char *key, const struct gguf_file *f, const char *gguf_key)
{
    const char *s;
    if (gguf_get_string(f, gguf_key, &s, NULL) == GGUF_OK)
        cJSON_AddStringToObject(j, key, s);
    else
        cJSON_AddNullToObject(j, key);
}

static void describe_gguf_tokenizer(const struct gguf_file *f, cJSON *j, long long vocab)
{
    cJSON *tok = cJSON_AddObjectToObject(j, "tokenizer");
    const char *s;
    int64_t v;
    add_string_or_null(tok, "model", f, "tokenizer.ggml.model");
    if (gguf_get_string(f, "tokenizer.ggml.pre", &s, NULL) == GGUF_OK)
        cJSON_AddStringToObject(tok, "pre", s);
    add_int_or_null(tok, "tokens", vocab);
    add_int_or_null(tok, "bos_id", gguf_get_i64(f, "tokenizer.ggml.bos_token_id", &v) == GGUF_OK ? v : -1);
    add_int_or_null(tok, "eos_id", gguf_get_i64(f, "tokenizer.ggml.eos_token_id", &v) == GGUF_OK ? v : -1);
    add_string_or_null(j, "chat_template", f, "tokenizer.chat_template");
}

/* The description of a GGUF file from its key-value pairs and tensor table. */
static cJSON *describe_gguf(const struct gguf_file *f, const char *path)
{
    cJSON *j = cJSON_CreateObject();
    const char *arch = "", *s;
    gguf_get_string(f, "general.architecture", &arch, NULL);
    cJSON_AddStringToObject(j, "path", path);
    cJSON_AddStringToObject(j, "format", "gguf");
    cJSON_AddNumberToObject(j, "gguf_version", gguf_version(f));
    cJSON_AddNumberToObject(j, "file_size", (double)gguf_file_size(f));
    cJSON_AddStringToObject(j, "architecture", arch);
    if (gguf_get_string(f, "general.name", &s, NULL) == GGUF_OK)
        cJSON_AddStringToObject(j, "name", s);
    long long vocab = arch_int(f, arch, "vocab_size");
    struct gguf_array tokens;
    if (gguf_get_array(f, "tokenizer.ggml.tokens", &tokens) == GGUF_OK)
        vocab = (long long)tokens.n;
    add_int_or_null(j, "vocab_size", vocab);
    add_int_or_null(j, "layers", arch_int(f, arch, "block_count"));
    add_int_or_null(j, "hidden_size", arch_int(f, arch, "embedding_length"));
    add_int_or_null(j, "context_length", arch_int(f, arch, "context_length"));
    add_int_or_null(j, "feed_forward_length", arch_int(f, arch, "feed_forward_length"));
    add_int_or_null(j, "heads", arch_int(f, arch, "attention.head_count"));
    add_int_or_null(j, "kv_heads", arch_int(f, arch, "attention.head_count_kv"));
    describe_gguf_tensors(f, j);
    describe_gguf_tokenizer(f, j, vocab);
    return j;
}

/* A number of config.json, also looked up in its "text_config" (Gemma 3). */
static long long config_int(const cJSON *cfg, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (!cJSON_IsNumber(v)) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(cfg, "text_config");
        v = cJSON_GetObjectItemCaseSensitive(text, key);
    }
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

static cJSON *read_json_file(const char *dir, const char *name)
{
    return json_read_file(dir, name, (size_t)1 << 30, false, NULL);
}

/* Tensors by dtype (MLX-quantised weights show as packed U32). */
static void describe_hf_tensors(const struct safetensors_set *set, cJSON *j, uint64_t *params_out, uint64_t *bytes_out)
{
    cJSON *by_type = cJSON_CreateObject();
    int64_t nt = safetensors_set_n_tensors(set);
    uint64_t params = 0, bytes = 0;
    for (int64_t i = 0; i < nt; i++) {
        const struct safetensors_tensor *t = safetensors_set_tensor_at(set, i);
        char name[32];
        snprintf(name, sizeof name, "%s", safetensors_dtype_name(t->dtype));
        for (char *c = name; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        cJSON *e = cJSON_GetObjectItemCaseSensitive(by_type, name);
        if (!e) {
            e = cJSON_AddObjectToObject(by_type, name);
            cJSON_AddNumberToObject(e, "count", 0);
            cJSON_AddNumberToObject(e, "bytes", 0);
            cJSON_AddNumberToObject(e, "parameters", 0);
        }
        cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "count"), *b = cJSON_GetObjectItemCaseSensitive(e, "bytes"),
              *p = cJSON_GetObjectItemCaseSensitive(e, "parameters");
        cJSON_SetNumberValue(c, c->valuedouble + 1);
        cJSON_SetNumberValue(b, b->valuedouble + (double)t->size);
        cJSON_SetNumberValue(p, p->valuedouble + (double)t->n_elements);
        params += (uint64_t)t->n_elements;
        bytes += t->size;
    }
    cJSON_AddNumberToObject(j, "tensor_count", (double)nt);
    cJSON_AddNumberToObject(j, "parameters", (double)params);
    cJSON_AddItemToObject(j, "tensors_by_type", by_type);
    cJSON_AddNumberToObject(j, "weight_files", safetensors_set_n_files(set));
    *params_out = params;
    *bytes_out = bytes;
}

/* MLX quantisation from config.json, else the dtype of the weights. */
static void describe_hf_quantization(const cJSON *cfg, cJSON *j, uint64_t params, uint64_t bytes)
{
    cJSON *q = cJSON_AddObjectToObject(j, "quantization");
    const cJSON *qc = cJSON_GetObjectItemCaseSensitive(cfg, "quantization");
    if (!qc)
        qc = cJSON_GetObjectItemCaseSensitive(cfg, "quantization_config");
    const cJSON *bits = cJSON_GetObjectItemCaseSensitive(qc, "bits");
    const cJSON *group = cJSON_GetObjectItemCaseSensitive(qc, "group_size");
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(cfg, "torch_dtype");
    if (cJSON_IsNumber(bits)) {
        char name[32];
        snprintf(name, sizeof name, "mlx%d", (int)bits->valuedouble);
        cJSON_AddStringToObject(q, "type", name);
        cJSON_AddNumberToObject(q, "bits", bits->valuedouble);
        cJSON_AddNumberToObject(q, "group_size", cJSON_IsNumber(group) ? group->valuedouble : 0);
        /* Packed U32 words hide the element count: no honest average. */
        cJSON_AddNullToObject(q, "bits_per_weight");
    } else {
        const char *dt = cJSON_IsString(dtype) ? dtype->valuestring : "unknown";
        int dbits = strcmp(dt, "float32") == 0 ? 32 : strstr(dt, "16") ? 16 : 0;
        cJSON_AddStringToObject(q, "type", dt);
        cJSON_AddNumberToObject(q, "bits", dbits);
        cJSON_AddNumberToObject(q, "group_size", 0);
        cJSON_AddNumberToObject(q, "bits_per_weight", params ? (double)bytes * 8.0 / (double)params : 0);
    }

}

/* Tokenizer facts that need no parsing of the vocabulary. */
static void describe_hf_tokenizer(const char *dir, const cJSON *cfg, cJSON *j)
{
    cJSON *tok = cJSON_AddObjectToObject(j, "tokenizer");
    cJSON *tcfg = read_json_file(dir, "tokenizer_config.json");
    cJSON *tjson = read_json_file(dir, "tokenizer.json");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(tjson, "model");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (cJSON_IsString(type))
        cJSON_AddStringToObject(tok, "model", type->valuestring);
    else
        cJSON_AddNullToObject(tok, "model");
    add_int_or_null(tok, "bos_id", config_int(cfg, "bos_token_id"));
    add_int_or_null(tok, "eos_id", config_int(cfg, "eos_token_id"));
    const cJSON *tmpl = cJSON_GetObjectItemCaseSensitive(tcfg, "chat_template");
    if (cJSON_IsString(tmpl))
        cJSON_AddStringToObject(j, "chat_template", tmpl->valuestring);
    else
        cJSON_AddNullToObject(j, "chat_template");
    cJSON_Delete(tjson);
    cJSON_Delete(tcfg);
}

/* Hugging Face folder: config.json, tokenizer files and safetensors headers. */
static cJSON *describe_hf(const char *dir, inf_error *err)
{
    cJSON *cfg = read_json_file(dir, "config.json");
    if (!cfg) {
        err_fail(err, INF_ERR_FORMAT, "%s/config.json: missing or not valid JSON", dir);
        return NULL;
    }
    struct safetensors_set *set = NULL;
    if (safetensors_set_open(dir, &set, err) != 0) {
        cJSON_Delete(cfg);
        return NULL;
    }
    cJSON *j = cJSON_CreateObject();
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
    cJSON_AddStringToObject(j, "path", dir);
    cJSON_AddStringToObject(j, "format", "safetensors");
    cJSON_AddStringToObject(j, "architecture", cJSON_IsString(mt) ? mt->valuestring : "");
    add_int_or_null(j, "vocab_size", config_int(cfg, "vocab_size"));
    add_int_or_null(j, "layers", config_int(cfg, "num_hidden_layers"));
    add_int_or_null(j, "hidden_size", config_int(cfg, "hidden_size"));
    add_int_or_null(j, "context_length", config_int(cfg, "max_position_embeddings"));
    add_int_or_null(j, "feed_forward_length", config_int(cfg, "intermediate_size"));
    add_int_or_null(j, "heads", config_int(cfg, "num_attention_heads"));
    add_int_or_null(j, "kv_heads", config_int(cfg, "num_key_value_heads"));
    uint64_t params = 0, bytes = 0;
    describe_hf_tensors(set, j, &params, &bytes);
    describe_hf_quantization(cfg, j, params, bytes);
    describe_hf_tokenizer(dir, cfg, j);
    cJSON_Delete(cfg);
    safetensors_set_close(set);
    return j;
}

static bool is_gguf_path(const char *path)
{
    FILE *f = fopen(path, "rb");
    char magic[4] = {0};
    if (!f)
        return false;
    size_t got = fread(magic, 1, 4, f);
    fclose(f);
    return got == 4 && memcmp(magic, GGUF_MAGIC, 4) == 0;
}

static bool is_hf_dir(const char *path)
{
    char p[4096];
    FILE *f;
    int n = snprintf(p, sizeof p, "%s/config.json", path);
    if (n < 0 || (size_t)n >= sizeof p || !(f = fopen(p, "rb")))
        return false;
    fclose(f);
    return true;
}

cJSON *inspect_model(const char *path, inf_error *err)
{
    if (is_gguf_path(path)) {
        struct gguf_file *f = NULL;
        if (gguf_open(path, &f, err) != 0)
            return NULL;
        cJSON *j = describe_gguf(f, path);
        gguf_close(f);
        return j;
    }
    if (is_hf_dir(path))
        return describe_hf(path, err);
    err_fail(err, INF_ERR_UNSUPPORTED, "%s: neither a GGUF file nor a folder with config.json", path);
    return NULL;
}
