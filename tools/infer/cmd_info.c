/* cmd_info.c - `infer info [MODEL]`: what a model is, without loading its
 * weights where the format allows: a GGUF file is described from its header
 * (formats/gguf.h), a Hugging Face folder from config.json,
 * tokenizer_config.json and the safetensors headers (formats/safetensors.h):
 * architecture, hyper-parameters, tokenizer, chat template, and the tensor
 * table summarised by type. Anything else (URLs) is loaded through the
 * public API and described by inf_model_info_get. Text for people, or one
 * JSON object with --json. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "tensor/tensor_types.h"

static const char INFO_HELP[] =
    "usage: infer info [MODEL] [OPTIONS]\n\n"
    "Describe a model: architecture, hyper-parameters, tokenizer, chat template\n"
    "and the tensor table by type and size. A .gguf file is read without loading\n"
    "its weights, a Hugging Face folder from config.json, tokenizer_config.json\n"
    "and the safetensors headers; other models are loaded with their backend.\n\n"
    "Stable form for programs:\n"
    "  infer info MODEL --json\n"
    "prints one JSON object with at least: \"architecture\", \"vocab_size\",\n"
    "\"layers\", \"hidden_size\", \"context_length\", \"quantization\" ({\"type\",\n"
    "\"bits\", \"bits_per_weight\"}), \"tensor_count\" and \"tensors_by_type\"\n"
    "({TYPE: {\"count\", \"bytes\"}}).\n\n"
    "Options:\n"
    "      --json             one JSON object on stdout\n"
    "      --template         print only the chat template (raw text)\n"
    "  -h, --help             show this help\n";

static void print_help(void)
{
    printf("%s\n%s\nExit status: 0 success, 1 runtime error, 2 usage error.\n", INFO_HELP, LOAD_OPTS_HELP);
}

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

int cli_gguf_weight_type(const char *path, char *buf, size_t size)
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

/* Build the description of a GGUF file as JSON (also rendered as text). */
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

    /* The tensor table by type. */
    type_stats stats[TENSOR_TYPE_COUNT + 1];
    memset(stats, 0, sizeof stats);
    uint64_t params = 0;
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
    /* Quantisation: the type holding most of the bytes, and the average
     * bits per weight over the whole file's tensors. */
    cJSON *q = cJSON_AddObjectToObject(j, "quantization");
    uint64_t total_bytes = 0;
    for (int ty = 0; ty <= TENSOR_TYPE_COUNT; ty++)
        total_bytes += stats[ty].bytes;
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
    long long ftype = -1;
    int64_t v;
    if (gguf_get_i64(f, "general.file_type", &v) == GGUF_OK)
        ftype = v;
    add_int_or_null(q, "file_type", ftype);

    /* Tokenizer and chat template. */
    cJSON *tok = cJSON_AddObjectToObject(j, "tokenizer");
    if (gguf_get_string(f, "tokenizer.ggml.model", &s, NULL) == GGUF_OK)
        cJSON_AddStringToObject(tok, "model", s);
    else
        cJSON_AddNullToObject(tok, "model");
    if (gguf_get_string(f, "tokenizer.ggml.pre", &s, NULL) == GGUF_OK)
        cJSON_AddStringToObject(tok, "pre", s);
    add_int_or_null(tok, "tokens", vocab);
    long long id;
    id = gguf_get_i64(f, "tokenizer.ggml.bos_token_id", &v) == GGUF_OK ? v : -1;
    add_int_or_null(tok, "bos_id", id);
    id = gguf_get_i64(f, "tokenizer.ggml.eos_token_id", &v) == GGUF_OK ? v : -1;
    add_int_or_null(tok, "eos_id", id);
    if (gguf_get_string(f, "tokenizer.chat_template", &s, NULL) == GGUF_OK)
        cJSON_AddStringToObject(j, "chat_template", s);
    else
        cJSON_AddNullToObject(j, "chat_template");
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
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return NULL;
    char *text = cli_read_file(path, NULL);
    if (!text)
        return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

/* Hugging Face folder: config.json, tokenizer files and safetensors headers.
 * NULL after printing an error. */
static cJSON *describe_hf(const char *dir)
{
    cJSON *cfg = read_json_file(dir, "config.json");
    if (!cfg) {
        cli_error("%s/config.json: missing or not valid JSON", dir);
        return NULL;
    }
    inf_error err = {0};
    struct safetensors_set *set = NULL;
    if (safetensors_set_open(dir, &set, &err) != 0) {
        cJSON_Delete(cfg);
        cli_error("%s", err.message);
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

    /* Tensors by dtype (MLX-quantised weights show as packed U32). */
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

    /* Tokenizer facts that need no parsing of the vocabulary. */
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
    cJSON_Delete(cfg);
    safetensors_set_close(set);
    return j;
}

/* A description from the public API (URLs: any backend). */
static cJSON *describe_loaded(inf_model *m, const char *path)
{
    inf_model_info info;
    memset(&info, 0, sizeof info);
    inf_model_info_get(m, &info);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "path", path);
    cJSON_AddStringToObject(j, "format", "backend");
    cJSON_AddStringToObject(j, "architecture", info.architecture ? info.architecture : inf_model_type(m));
    cJSON_AddNumberToObject(j, "vocab_size", info.vocab_size);
    cJSON_AddNumberToObject(j, "layers", info.num_layers);
    cJSON_AddNumberToObject(j, "hidden_size", info.hidden_size);
    cJSON_AddNumberToObject(j, "context_length", info.context_len);
    cJSON *q = cJSON_AddObjectToObject(j, "quantization");
    cJSON_AddNumberToObject(q, "bits", info.quant_bits);
    cJSON_AddNumberToObject(q, "group_size", info.quant_group);
    cJSON_AddNullToObject(j, "tensor_count");
    cJSON_AddObjectToObject(j, "tensors_by_type");
    return j;
}

static const char *json_str(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void print_num_line(const cJSON *j, const char *key, const char *label)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (cJSON_IsNumber(v))
        printf("%-16s%.0f\n", label, v->valuedouble);
}

static void print_bytes(double b)
{
    if (b >= 1 << 30)
        printf("%9.2f GiB", b / (1 << 30));
    else if (b >= 1 << 20)
        printf("%9.2f MiB", b / (1 << 20));
    else if (b >= 1 << 10)
        printf("%9.2f KiB", b / (1 << 10));
    else
        printf("%9.0f B  ", b);
}

static void print_text(const cJSON *j)
{
    const char *s;
    printf("%-16s%s\n", "model:", json_str(j, "path"));
    printf("%-16s%s\n", "architecture:", json_str(j, "architecture"));
    if ((s = json_str(j, "name")))
        printf("%-16s%s\n", "name:", s);
    print_num_line(j, "vocab_size", "vocab size:");
    print_num_line(j, "layers", "layers:");
    print_num_line(j, "hidden_size", "hidden size:");
    print_num_line(j, "feed_forward_length", "ffn size:");
    print_num_line(j, "heads", "heads:");
    print_num_line(j, "kv_heads", "kv heads:");
    print_num_line(j, "context_length", "context length:");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(j, "quantization");
    const cJSON *bpw = cJSON_GetObjectItemCaseSensitive(q, "bits_per_weight");
    if ((s = json_str(q, "type")) && cJSON_IsNumber(bpw))
        printf("%-16s%s (%.2f bits per weight)\n", "quantization:", s, bpw->valuedouble);
    else if (s)
        printf("%-16s%s\n", "quantization:", s);
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "tokenizer");
    if (tok) {
        const cJSON *bos = cJSON_GetObjectItemCaseSensitive(tok, "bos_id");
        const cJSON *eos = cJSON_GetObjectItemCaseSensitive(tok, "eos_id");
        printf("%-16s%s", "tokenizer:", json_str(tok, "model") ? json_str(tok, "model") : "none");
        if ((s = json_str(tok, "pre")))
            printf(" (pre %s)", s);
        if (cJSON_IsNumber(bos))
            printf(", bos %.0f", bos->valuedouble);
        if (cJSON_IsNumber(eos))
            printf(", eos %.0f", eos->valuedouble);
        putchar('\n');
    }
    if (cJSON_HasObjectItem(j, "chat_template")) {
        s = json_str(j, "chat_template");
        if (s)
            printf("%-16s%zu bytes (see 'infer info --template')\n", "chat template:", strlen(s));
        else
            printf("%-16snone\n", "chat template:");
    }
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(j, "tensor_count");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(j, "parameters");
    if (cJSON_IsNumber(count)) {
        printf("%-16s%.0f (%.0f parameters)\n", "tensors:", count->valuedouble,
               cJSON_IsNumber(params) ? params->valuedouble : 0);
        printf("  %-10s %8s %12s %14s\n", "type", "count", "size", "parameters");
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "tensors_by_type")) {
            printf("  %-10s %8.0f ", e->string, cJSON_GetObjectItemCaseSensitive(e, "count")->valuedouble);
            print_bytes(cJSON_GetObjectItemCaseSensitive(e, "bytes")->valuedouble);
            printf(" %14.0f\n", cJSON_GetObjectItemCaseSensitive(e, "parameters")->valuedouble);
        }
    }
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

int cmd_info(int argc, char **argv)
{
    cli_args a;
    cli_load_opts load;
    bool json = false, template_only = false;
    int r;
    args_init(&a, "info", argc, argv);
    load_opts_init(&load);
    for (; a.i < argc; a.i++) {
        if (args_is_help(&a)) {
            print_help();
            return CLI_EXIT_OK;
        }
        if ((r = load_opts_take(&a, &load)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        if (args_flag(&a, "--json", NULL)) {
            json = true;
            continue;
        }
        if (args_flag(&a, "--template", NULL)) {
            template_only = true;
            continue;
        }
        if (args_is_option(&a)) {
            if (a.no_more_options)
                continue;
            return args_unknown(&a);
        }
        if (load.model)
            return cli_usage_error("info", "unexpected argument '%s'", args_cur(&a));
        load.model = args_cur(&a);
    }
    char path[4096];
    if ((r = cli_resolve_model(&load, path, sizeof path)) != 0)
        return r;

    cJSON *desc = NULL;
    struct gguf_file *gf = NULL;
    inf_model *m = NULL;
    if (is_gguf_path(path)) {
        inf_error err = {0};
        if (gguf_open(path, &gf, &err) != 0)
            return cli_error("%s", err.message);
        desc = describe_gguf(gf, path);
    } else if (is_hf_dir(path)) {
        desc = describe_hf(path);
        if (!desc)
            return CLI_EXIT_RUNTIME;
    } else {
        FILE *probe = fopen(path, "rb");
        if (!probe && errno == ENOENT && strncmp(path, "http", 4) != 0)
            return cli_error("%s: no such file or directory", path);
        if (probe)
            fclose(probe);
        m = cli_load_model(path, &load.cfg);
        if (!m)
            return CLI_EXIT_RUNTIME;
        desc = describe_loaded(m, path);
        if (template_only) {
            /* The public API renders conversations, it does not expose the
             * template text itself. */
            cJSON_Delete(desc);
            inf_model_close(m);
            return cli_error("%s: --template needs a GGUF file or a model folder (use 'infer template')", path);
        }
    }
    int rc = CLI_EXIT_OK;
    if (template_only) {
        const char *t = json_str(desc, "chat_template");
        if (t)
            fputs(t, stdout);
        else
            rc = cli_error("%s: the model has no chat template", path);
    } else if (json) {
        char *s = cJSON_PrintUnformatted(desc);
        if (s) {
            puts(s);
            cJSON_free(s);
        }
    } else {
        print_text(desc);
    }
    cJSON_Delete(desc);
    gguf_close(gf);
    inf_model_close(m);
    return rc;
}
