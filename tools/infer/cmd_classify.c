/* cmd_classify.c - `infer classify [MODEL]`: Classify (one forward pass per
 * prompt, the token at the last position) over prompts read one per line or
 * as JSONL; writes one JSON object per prompt, in order, with the token, its
 * probability, optionally the top alternatives and the raw logits. Prompts
 * go to the library in chunks so a progress bar (stderr, terminal only) and
 * Ctrl-C work between chunks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

static const char CLASSIFY_HELP[] =
    "usage: infer classify [MODEL] [OPTIONS] < prompts\n\n"
    "Run each prompt through the model once and report the next token (greedy\n"
    "unless --temperature is set). Input: one prompt per line, or JSONL lines\n"
    "{\"prompt\": \"...\"} (also \"text\"/\"input\"), or JSON strings; blank lines\n"
    "are skipped. Output: one JSON object per prompt, in input order:\n"
    "  {\"index\": 0, \"token\": {\"id\": 42, \"text\": \" yes\"}, \"probability\": 0.93,\n"
    "   \"top\": [{\"id\": 42, \"text\": \" yes\", \"probability\": 0.93}, ...],  (--top N)\n"
    "   \"logits\": [...]}                                                 (--logits)\n"
    "probability is the softmax of the raw logits at the token.\n\n"
    "Options:\n"
    "  -i, --input FILE       read prompts from FILE instead of stdin ('-' = stdin)\n"
    "      --top N            also list the N most likely tokens\n"
    "      --logits           also write the raw vocabulary-sized logits\n"
    "      --echo             also write each prompt as \"prompt\"\n"
    "      --chunk N          prompts handed to the library at once [64]\n"
    "  -v, --verbose          print metrics on stderr at the end\n"
    "  -h, --help             show this help\n";

static void print_help(void)
{
    printf("%s\n%s\n%s\nExit status: 0 success, 1 runtime error, 2 usage error, 130 interrupted.\n",
           CLASSIFY_HELP, GEN_OPTS_HELP, LOAD_OPTS_HELP);
}

/* Softmax probabilities from raw logits, computed in double for stability. */
static double *softmax(const float *logits, size_t n)
{
    double *p = malloc(n * sizeof *p);
    if (!p)
        return NULL;
    double max = -INFINITY, sum = 0;
    for (size_t i = 0; i < n; i++)
        if (logits[i] > max)
            max = logits[i];
    for (size_t i = 0; i < n; i++) {
        p[i] = isfinite(logits[i]) ? exp(logits[i] - max) : 0.0;
        sum += p[i];
    }
    for (size_t i = 0; i < n && sum > 0; i++)
        p[i] /= sum;
    return p;
}

static cJSON *token_json(inf_model *m, int32_t id, const char *text)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "id", id);
    if (text) {
        cJSON_AddStringToObject(t, "text", text);
    } else {
        char *piece = cli_token_piece(m, id);
        cJSON_AddStringToObject(t, "text", piece ? piece : "");
        free(piece);
    }
    return t;
}

/* The top_n most likely ids, most likely first (simple selection: top_n is small). */
static cJSON *top_json(inf_model *m, const double *p, size_t n, int top_n)
{
    cJSON *arr = cJSON_CreateArray();
    bool *taken = calloc(n, 1);
    if (!taken)
        return arr;
    for (int k = 0; k < top_n && (size_t)k < n; k++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (!taken[i] && (best == n || p[i] > p[best]))
                best = i;
        taken[best] = true;
        cJSON *t = token_json(m, (int32_t)best, NULL);
        cJSON_AddNumberToObject(t, "probability", p[best]);
        cJSON_AddItemToArray(arr, t);
    }
    free(taken);
    return arr;
}

typedef struct classify_opts {
    int top_n;
    bool logits;
    bool echo;
} classify_opts;

static void write_result(inf_model *m, size_t index, const char *prompt, const inf_classify_result *res,
                         const classify_opts *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "index", (double)index);
    if (o->echo)
        cJSON_AddStringToObject(j, "prompt", prompt);
    cJSON_AddItemToObject(j, "token", token_json(m, res->token.id, res->token.text));
    double *p = res->logits && res->n_logits ? softmax(res->logits, res->n_logits) : NULL;
    if (p && res->token.id >= 0 && (size_t)res->token.id < res->n_logits)
        cJSON_AddNumberToObject(j, "probability", p[res->token.id]);
    else
        cJSON_AddNullToObject(j, "probability");
    if (o->top_n > 0 && p)
        cJSON_AddItemToObject(j, "top", top_json(m, p, res->n_logits, o->top_n));
    if (o->logits && res->logits)
        cJSON_AddItemToObject(j, "logits", cJSON_CreateFloatArray(res->logits, (int)res->n_logits));
    free(p);
    char *line = cJSON_PrintUnformatted(j);
    if (line) {
        fputs(line, stdout);
        fputc('\n', stdout);
        cJSON_free(line);
    }
    cJSON_Delete(j);
}

typedef struct classify_args {
    cli_gen_opts gen;
    cli_load_opts load;
    classify_opts out;
    const char *input;
    int chunk;
    bool verbose;
} classify_args;

/* The options; -1 to go on, else the exit status (help printed: 0). */
static int parse_args(int argc, char **argv, classify_args *c)
{
    cli_args a;
    const char *v;
    int r;
    args_init(&a, "classify", argc, argv);
    for (; a.i < argc; a.i++) {
        if (args_is_help(&a)) {
            print_help();
            return CLI_EXIT_OK;
        }
        if ((r = gen_opts_take(&a, &c->gen)) != 0 || (r = load_opts_take(&a, &c->load)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
        } else if ((r = args_value(&a, "--input", "-i", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            c->input = v;
        } else if ((r = args_value(&a, "--top", NULL, &v)) != 0) {
            if (r < 0 || args_int(&a, "--top", v, 0, 1000, &c->out.top_n))
                return CLI_EXIT_USAGE;
        } else if ((r = args_value(&a, "--chunk", NULL, &v)) != 0) {
            if (r < 0 || args_int(&a, "--chunk", v, 1, 1000000, &c->chunk))
                return CLI_EXIT_USAGE;
        } else if (args_flag(&a, "--logits", NULL)) {
            c->out.logits = true;
        } else if (args_flag(&a, "--echo", NULL)) {
            c->out.echo = true;
        } else if (args_flag(&a, "--verbose", "-v")) {
            c->verbose = true;
        } else if (args_is_option(&a)) {
            if (!a.no_more_options)
                return args_unknown(&a);
        } else if (c->load.model) {
            return cli_usage_error("classify", "unexpected argument '%s'", args_cur(&a));
        } else {
            c->load.model = args_cur(&a);
        }
    }
    inf_error err;
    /* Logits are always asked for: the probability is computed from them. */
    c->gen.cfg.logits = true;
    if (inf_generate_config_check(&c->gen.cfg, &err) != INF_OK)
        return cli_usage_error("classify", "%s", err.message);
    return -1;
}

/* The prompts in chunks of c->chunk, each result written as it comes. */
static int classify_all(inf_model *m, const cli_prompts *prompts, const classify_args *c, inf_cancel *cancel)
{
    cli_progress bar;
    progress_start(&bar, "classify", prompts->n);
    for (size_t start = 0; start < prompts->n; start += (size_t)c->chunk) {
        size_t n = prompts->n - start < (size_t)c->chunk ? prompts->n - start : (size_t)c->chunk;
        inf_classify_result *res = NULL;
        inf_error err;
        inf_status st =
            inf_classify(m, (const char *const *)prompts->items + start, n, &c->gen.cfg, cancel, &res, &err);
        if (st != INF_OK) {
            progress_finish(&bar);
            if (st == INF_ERR_CANCELLED && cli_interrupt_count() > 0) {
                cli_error("interrupted");
                return CLI_EXIT_INTERRUPTED;
            }
            return cli_error("%s", err.message);
        }
        for (size_t i = 0; i < n; i++)
            write_result(m, start + i, prompts->items[start + i], &res[i], &c->out);
        fflush(stdout);
        inf_classify_results_free(res, n);
        progress_update(&bar, start + n);
    }
    progress_finish(&bar);
    return CLI_EXIT_OK;
}

static int classify_all_work(inf_model *m, const cli_prompts *prompts, inf_cancel *cancel, void *user)
{
    return classify_all(m, prompts, user, cancel);
}

int cmd_classify(int argc, char **argv)
{
    classify_args c = {.chunk = 64};
    gen_opts_init(&c.gen);
    load_opts_init(&c.load);
    int r = parse_args(argc, argv, &c);
    if (r >= 0)
        return r;
    return cli_with_prompts(&c.load, c.input, c.verbose, classify_all_work, &c);
}
