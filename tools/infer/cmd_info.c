/* cmd_info.c - `infer info [MODEL]`: what a model is, without loading its
 * weights where the format allows: a GGUF file or a Hugging Face folder is
 * described from its headers (src/offline/inspect.h); anything else (URLs)
 * is loaded through the public API and described by inf_model_info_get.
 * Text for people, or one JSON object with --json. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "offline/inspect.h"

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
    inf_model *m = NULL;
    inf_error err = {0};
    if (!(desc = inspect_model(path, &err)) && err.status != INF_ERR_UNSUPPORTED) {
        return cli_error("%s", err.message);
    } else if (!desc) {
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
    inf_model_close(m);
    return rc;
}
