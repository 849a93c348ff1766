/* cmd_batch.c - `infer batch [MODEL]`: BatchGenerate over prompts read one
 * per line or as JSONL; writes one JSON object per prompt, in order, with the
 * generated text, its token ids and the prompt's own status (a failed prompt
 * does not fail the others). Chunked so a progress bar and Ctrl-C work. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

static const char BATCH_HELP[] =
    "usage: infer batch [MODEL] [OPTIONS] < prompts\n\n"
    "Generate from every prompt (decoded together), up to --max-tokens each.\n"
    "Input: one prompt per line, or JSONL lines {\"prompt\": \"...\"} (also\n"
    "\"text\"/\"input\"), or JSON strings; blank lines are skipped. Output: one JSON\n"
    "object per prompt, in input order:\n"
    "  {\"index\": 0, \"text\": \"...\", \"tokens\": [12, 34], \"status\": \"ok\"}\n"
    "and \"error\": \"...\" when that prompt failed (status names a failure such as\n"
    "\"context_overflow\" or \"cancelled\"). The exit status is 1 if any prompt failed.\n\n"
    "Options:\n"
    "  -i, --input FILE       read prompts from FILE instead of stdin ('-' = stdin)\n"
    "      --echo             also write each prompt as \"prompt\"\n"
    "      --chunk N          prompts handed to the library at once [16]\n"
    "  -v, --verbose          print metrics on stderr at the end\n"
    "  -h, --help             show this help\n";

static void print_help(void)
{
    printf("%s\n%s\n%s\nExit status: 0 success, 1 runtime error, 2 usage error, 130 interrupted.\n",
           BATCH_HELP, GEN_OPTS_HELP, LOAD_OPTS_HELP);
}

static void write_result(size_t index, const char *prompt, const inf_batch_result *res, bool echo)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "index", (double)index);
    if (echo)
        cJSON_AddStringToObject(j, "prompt", prompt);
    size_t len = 0;
    for (size_t i = 0; i < res->n_tokens; i++)
        len += strlen(res->tokens[i].text ? res->tokens[i].text : "");
    char *text = malloc(len + 1), *p = text;
    cJSON *ids = cJSON_CreateArray();
    for (size_t i = 0; i < res->n_tokens; i++) {
        const char *t = res->tokens[i].text ? res->tokens[i].text : "";
        size_t n = strlen(t);
        if (text)
            memcpy(p, t, n), p += n;
        cJSON_AddItemToArray(ids, cJSON_CreateNumber(res->tokens[i].id));
    }
    if (text)
        *p = '\0';
    cJSON_AddStringToObject(j, "text", text ? text : "");
    cJSON_AddItemToObject(j, "tokens", ids);
    cJSON_AddStringToObject(j, "status", res->status == INF_OK ? "ok" : inf_status_name(res->status));
    if (res->status != INF_OK)
        cJSON_AddStringToObject(j, "error", res->error ? res->error : inf_status_name(res->status));
    free(text);
    char *line = cJSON_PrintUnformatted(j);
    if (line) {
        fputs(line, stdout);
        fputc('\n', stdout);
        cJSON_free(line);
    }
    cJSON_Delete(j);
}

int cmd_batch(int argc, char **argv)
{
    cli_args a;
    cli_gen_opts gen;
    cli_load_opts load;
    const char *input = NULL, *v;
    int chunk = 16, r;
    bool echo = false, verbose = false;
    args_init(&a, "batch", argc, argv);
    gen_opts_init(&gen);
    load_opts_init(&load);
    for (; a.i < argc; a.i++) {
        if (args_is_help(&a)) {
            print_help();
            return CLI_EXIT_OK;
        }
        if ((r = gen_opts_take(&a, &gen)) != 0 || (r = load_opts_take(&a, &load)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        if ((r = args_value(&a, "--input", "-i", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            input = v;
            continue;
        }
        if ((r = args_value(&a, "--chunk", NULL, &v)) != 0) {
            if (r < 0 || args_int(&a, "--chunk", v, 1, 1000000, &chunk))
                return CLI_EXIT_USAGE;
            continue;
        }
        if (args_flag(&a, "--echo", NULL)) {
            echo = true;
            continue;
        }
        if (args_flag(&a, "--verbose", "-v")) {
            verbose = true;
            continue;
        }
        if (args_is_option(&a)) {
            if (a.no_more_options)
                continue;
            return args_unknown(&a);
        }
        if (load.model)
            return cli_usage_error("batch", "unexpected argument '%s'", args_cur(&a));
        load.model = args_cur(&a);
    }
    inf_error err;
    if (inf_generate_config_check(&gen.cfg, &err) != INF_OK)
        return cli_usage_error("batch", "%s", err.message);
    char path[4096];
    if ((r = cli_resolve_model(&load, path, sizeof path)) != 0)
        return r;
    cli_prompts prompts;
    if ((r = cli_read_prompts(input, &prompts)) != 0)
        return r;
    cli_interrupt_install(false);
    inf_model *m = cli_load_model(path, &load.cfg);
    if (!m) {
        cli_prompts_free(&prompts);
        return CLI_EXIT_RUNTIME;
    }
    inf_cancel *cancel = inf_cancel_new(NULL);
    cli_interrupt_target(cancel);
    cli_progress bar;
    progress_start(&bar, "batch", prompts.n);
    int rc = CLI_EXIT_OK;
    bool any_failed = false;
    for (size_t start = 0; start < prompts.n && rc == CLI_EXIT_OK; start += (size_t)chunk) {
        size_t n = prompts.n - start < (size_t)chunk ? prompts.n - start : (size_t)chunk;
        inf_batch_result *res = NULL;
        inf_status st = inf_batch_generate(m, (const char *const *)prompts.items + start, n, &gen.cfg, cancel,
                                           &res, &err);
        if (st != INF_OK) {
            progress_finish(&bar);
            rc = cli_error("%s", err.message);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            write_result(start + i, prompts.items[start + i], &res[i], echo);
            if (res[i].status != INF_OK)
                any_failed = true;
        }
        fflush(stdout);
        inf_batch_results_free(res, n);
        progress_update(&bar, start + n);
        if (inf_cancel_status(cancel) != INF_OK)
            break;
    }
    cli_interrupt_target(NULL);
    if (rc == CLI_EXIT_OK)
        progress_finish(&bar);
    if (rc == CLI_EXIT_OK && cli_interrupt_count() > 0)
        rc = CLI_EXIT_INTERRUPTED, cli_error("interrupted");
    else if (rc == CLI_EXIT_OK && any_failed)
        rc = cli_error("some prompts failed (see their \"error\")");
    if (verbose)
        cli_print_metrics(m);
    inf_cancel_free(cancel);
    inf_model_close(m);
    cli_prompts_free(&prompts);
    return rc;
}
