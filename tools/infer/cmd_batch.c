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

typedef struct batch_args {
    cli_gen_opts gen;
    cli_load_opts load;
    const char *input;
    int chunk;
    bool echo, verbose;
} batch_args;

/* The options; -1 to go on, else the exit status (help printed: 0). */
static int parse_args(int argc, char **argv, batch_args *b)
{
    cli_args a;
    const char *v;
    int r;
    args_init(&a, "batch", argc, argv);
    for (; a.i < argc; a.i++) {
        if (args_is_help(&a)) {
            print_help();
            return CLI_EXIT_OK;
        }
        if ((r = gen_opts_take(&a, &b->gen)) != 0 || (r = load_opts_take(&a, &b->load)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
        } else if ((r = args_value(&a, "--input", "-i", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            b->input = v;
        } else if ((r = args_value(&a, "--chunk", NULL, &v)) != 0) {
            if (r < 0 || args_int(&a, "--chunk", v, 1, 1000000, &b->chunk))
                return CLI_EXIT_USAGE;
        } else if (args_flag(&a, "--echo", NULL)) {
            b->echo = true;
        } else if (args_flag(&a, "--verbose", "-v")) {
            b->verbose = true;
        } else if (args_is_option(&a)) {
            if (!a.no_more_options)
                return args_unknown(&a);
        } else if (b->load.model) {
            return cli_usage_error("batch", "unexpected argument '%s'", args_cur(&a));
        } else {
            b->load.model = args_cur(&a);
        }
    }
    inf_error err;
    if (inf_generate_config_check(&b->gen.cfg, &err) != INF_OK)
        return cli_usage_error("batch", "%s", err.message);
    return -1;
}

/* The prompts in chunks of b->chunk, each result written as it comes; a
 * prompt that fails is written with its error and the others go on. */
static int generate_all(inf_model *m, const cli_prompts *prompts, const batch_args *b, inf_cancel *cancel)
{
    cli_progress bar;
    progress_start(&bar, "batch", prompts->n);
    bool any_failed = false;
    for (size_t start = 0; start < prompts->n; start += (size_t)b->chunk) {
        size_t n = prompts->n - start < (size_t)b->chunk ? prompts->n - start : (size_t)b->chunk;
        inf_batch_result *res = NULL;
        inf_error err;
        inf_status st = inf_batch_generate(m, (const char *const *)prompts->items + start, n, &b->gen.cfg, cancel,
                                           &res, &err);
        if (st != INF_OK) {
            progress_finish(&bar);
            return cli_error("%s", err.message);
        }
        for (size_t i = 0; i < n; i++) {
            write_result(start + i, prompts->items[start + i], &res[i], b->echo);
            if (res[i].status != INF_OK)
                any_failed = true;
        }
        fflush(stdout);
        inf_batch_results_free(res, n);
        progress_update(&bar, start + n);
        if (inf_cancel_status(cancel) != INF_OK)
            break;
    }
    progress_finish(&bar);
    if (cli_interrupt_count() > 0) {
        cli_error("interrupted");
        return CLI_EXIT_INTERRUPTED;
    }
    return any_failed ? cli_error("some prompts failed (see their \"error\")") : CLI_EXIT_OK;
}

static int generate_all_work(inf_model *m, const cli_prompts *prompts, inf_cancel *cancel, void *user)
{
    return generate_all(m, prompts, user, cancel);
}

int cmd_batch(int argc, char **argv)
{
    batch_args b = {.chunk = 16};
    gen_opts_init(&b.gen);
    load_opts_init(&b.load);
    int r = parse_args(argc, argv, &b);
    if (r >= 0)
        return r;
    return cli_with_prompts(&b.load, b.input, b.verbose, generate_all_work, &b);
}
