/* cmd_info.c - `infer info [MODEL]`: what a model is. For a GGUF file it
 * reads the header only (formats/gguf.h: metadata and tensor table, no
 * weights loaded, no backend needed): architecture, hyper-parameters,
 * tokenizer, chat template, and the tensor table summarised by type. Other
 * models (folders, URLs) are loaded through the public API and described by
 * inf_model_info_get. Text for people, or one JSON object with --json. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "formats/gguf.h"
#include "tensor/tensor_types.h"

static const char INFO_HELP[] =
    "usage: infer info [MODEL] [OPTIONS]\n\n"
    "Describe a model: architecture, hyper-parameters, tokenizer, chat template\n"
    "and the tensor table by type and size. A .gguf file is read without loading\n"
    "its weights; other models are loaded with their backend.\n\n"
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

/* A description from the public API (folders, URLs: any backend). */
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
    if ((s = json_str(q, "type")))
        printf("%-16s%s (%.2f bits per weight)\n", "quantization:", s, cJSON_IsNumber(bpw) ? bpw->valuedouble : 0);
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
        char err[512];
        if (gguf_open(path, &gf, err, sizeof err) != 0)
            return cli_error("%s", err);
        desc = describe_gguf(gf, path);
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
            /* Render an empty conversation is not the template itself: say so. */
            cJSON_Delete(desc);
            inf_model_close(m);
            return cli_error("%s: --template needs a GGUF file (use 'infer template')", path);
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
