/* cmd_template.c - `infer template [MODEL] [FILE]`: render a JSON
 * conversation with the model's own chat template, exactly as Chat would
 * before tokenizing, and write the prompt and nothing else. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

static const char TEMPLATE_HELP[] =
    "usage: infer template [MODEL] [FILE] [OPTIONS] < conversation.json\n\n"
    "Render a conversation with the model's chat template, exactly as 'infer chat'\n"
    "does before tokenizing. Input (FILE, or stdin when absent or '-'):\n"
    "  {\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, ...],\n"
    "   \"add_generation_prompt\": true, ...extra template variables}\n"
    "(a bare array of messages is accepted too). Every key other than\n"
    "\"messages\" is passed to the template as a variable (e.g. \"enable_thinking\",\n"
    "\"tools\"); add_generation_prompt defaults to true.\n\n"
    "Stable form for programs:\n"
    "  infer template MODEL < conversation.json\n"
    "writes the rendered prompt exactly, nothing else (no added newline).\n\n"
    "Options:\n"
    "  -m, --model PATH       the model (see 'infer --help' for the default)\n"
    "      --backend NAME     backend to load the model with\n"
    "  -h, --help             show this help\n\n"
    "Exit status: 0 success, 1 runtime error (bad JSON, template error), 2 usage error.\n";

/* Split the input into messages (borrowing the JSON's strings) and the JSON
 * text of the other variables. 0 or an exit code. */
static int parse_conversation(cJSON *root, const char *src, inf_message **msgs, size_t *n, char **vars)
{
    cJSON *arr = cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, "messages");
    if (!cJSON_IsArray(arr))
        return cli_error("%s: expected {\"messages\": [...]} or an array of messages", src);
    size_t count = (size_t)cJSON_GetArraySize(arr), i = 0;
    *msgs = calloc(count ? count : 1, sizeof **msgs);
    if (!*msgs)
        return cli_error("out of memory");
    cJSON *m;
    cJSON_ArrayForEach(m, arr) {
        cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!cJSON_IsString(role) || !(cJSON_IsString(content) || cJSON_IsNull(content))) {
            free(*msgs);
            *msgs = NULL;
            return cli_error("%s: message %zu needs a string \"role\" and a string \"content\"", src, i);
        }
        (*msgs)[i].role = role->valuestring;
        (*msgs)[i].content = cJSON_IsString(content) ? content->valuestring : "";
        i++;
    }
    *n = count;
    *vars = NULL;
    if (cJSON_IsObject(root)) {
        cJSON *copy = cJSON_Duplicate(root, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "messages");
        *vars = cJSON_PrintUnformatted(copy);
        cJSON_Delete(copy);
    }
    return 0;
}

int cmd_template(int argc, char **argv)
{
    cli_args a;
    cli_load_opts load;
    const char *pos[2];
    int npos = 0, r;
    args_init(&a, "template", argc, argv);
    load_opts_init(&load);
    for (; a.i < argc; a.i++) {
        if (args_is_help(&a)) {
            fputs(TEMPLATE_HELP, stdout);
            return CLI_EXIT_OK;
        }
        if ((r = load_opts_take(&a, &load)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        if (args_is_option(&a)) {
            if (a.no_more_options)
                continue;
            return args_unknown(&a);
        }
        if (npos == 2)
            return cli_usage_error("template", "unexpected argument '%s'", args_cur(&a));
        pos[npos++] = args_cur(&a);
    }
    const char *input = "-";
    if (load.model) {
        if (npos == 2)
            return cli_usage_error("template", "unexpected argument '%s'", pos[1]);
        if (npos == 1)
            input = pos[0];
    } else if (npos == 2) {
        load.model = pos[0];
        input = pos[1];
    } else if (npos == 1) {
        load.model = pos[0];
    }
    char path[4096];
    if ((r = cli_resolve_model(&load, path, sizeof path)) != 0)
        return r;
    const char *src = strcmp(input, "-") == 0 ? "stdin" : input;
    char *text = cli_read_file(input, NULL);
    if (!text)
        return cli_error("%s: %s", src, strerror(errno));
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root)
        return cli_error("%s: not valid JSON", src);
    inf_message *msgs = NULL;
    size_t n = 0;
    char *vars = NULL;
    if ((r = parse_conversation(root, src, &msgs, &n, &vars)) != 0) {
        cJSON_Delete(root);
        return r;
    }
    inf_model *m = cli_load_model(path, &load.cfg);
    if (!m) {
        r = CLI_EXIT_RUNTIME;
    } else {
        char *prompt = NULL;
        inf_error err;
        if (inf_model_render_chat(m, msgs, n, vars, &prompt, &err) != INF_OK) {
            r = cli_error("%s", err.message);
        } else {
            fputs(prompt, stdout);
            inf_free(prompt);
        }
        inf_model_close(m);
    }
    cJSON_free(vars);
    free(msgs);
    cJSON_Delete(root);
    return r;
}
