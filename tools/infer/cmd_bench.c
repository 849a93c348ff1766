/* cmd_bench.c - `infer bench [MODEL]`: prompt-processing (ppN) and
 * text-generation (tgN) speed in the manner of llama-bench, measured through
 * the public API and its metrics: ppN generates one token from an N-token
 * prompt and reads the prefill rate; tgN generates N tokens from a BOS-only
 * prompt (one word when the model adds no BOS) and reads the decode rate.
 * When a backend reports no metrics, the CLI's own clock is used. Each test runs once to warm up, then -r
 * times; the mean and sample standard deviation are reported, as a markdown
 * table (default), JSON lines (--json) or CSV with a header line (--csv). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "base/os.h"
#include "offline/inspect.h"

static const char BENCH_HELP[] =
    "usage: infer bench [MODEL] [OPTIONS]\n\n"
    "Measure prompt processing (ppN: prefill of an N-token prompt) and text\n"
    "generation (tgN: N tokens decoded one by one) in tokens per second.\n\n"
    "Stable form for programs:\n"
    "  infer bench MODEL [-p 512] [-n 128] [-r 5] [--threads N] --json\n"
    "prints one JSON object per line per test, with keys \"model\", \"type\",\n"
    "\"threads\", \"test\" (\"pp512\", \"tg128\"...), \"tokens_per_second\" (mean)\n"
    "and \"sd\" (sample standard deviation), plus \"backend\", \"n_prompt\" and\n"
    "\"n_gen\" (tokens actually processed), \"repetitions\", \"samples\",\n"
    "\"load_seconds\" (the load, weight repacking included) and \"resident_mib\"\n"
    "(the process's resident memory right after loading).\n"
    "\"type\" is the architecture and, for GGUF files, the weight type holding\n"
    "most bytes (e.g. \"llama q8_0\").\n"
    "  infer bench MODEL [-p 512] [-n 128] [-r 5] [--threads N] --csv\n"
    "prints a header line, then one line per test with the columns model, type,\n"
    "backend, threads, test, n_prompt, n_gen, repetitions, tokens_per_second,\n"
    "sd, load_seconds, resident_mib (fields holding a comma or a quote are\n"
    "quoted, RFC 4180).\n\n"
    "Options:\n"
    "  -p, --n-prompt N       prompt tokens of the pp test; 0 skips it [512]\n"
    "  -n, --n-gen N          generated tokens of the tg test; 0 skips it [128]\n"
    "  -r, --repetitions N    measured runs per test (after one warm-up) [5]\n"
    "  -o, --output FORMAT    md (markdown table), json or csv [md]\n"
    "      --json             the same as -o json\n"
    "      --csv              the same as -o csv\n"
    "  -h, --help             show this help\n"
    "A tg run may end early at an end-of-sequence token; its rate is still the\n"
    "rate of the tokens it decoded.\n";

static void print_help(void)
{
    printf("%s\n%s\nExit status: 0 success, 1 runtime error, 2 usage error, 130 interrupted.\n", BENCH_HELP,
           LOAD_OPTS_HELP);
}

/* A text of exactly n_prompt tokens with BOS, when the tokenizer allows:
 * tokenize a long repeated text, cut the ids, decode them back. */
static char *make_prompt(inf_model *m, int n_prompt, int *bos_tokens, int64_t *count)
{
    static const char seed[] = " Once upon a time, there was a little girl who liked to play in the park.";
    size_t reps = (size_t)n_prompt / 4 + 2, len = strlen(seed);
    char *text = malloc(reps * len + 1);
    if (!text)
        return NULL;
    for (size_t i = 0; i < reps; i++)
        memcpy(text + i * len, seed, len);
    text[reps * len] = '\0';
    int32_t *ids = NULL, *plain = NULL;
    size_t n = 0, n_plain = 0;
    /* How many tokens ADD_SPECIAL adds (BOS), so the total is n_prompt. */
    *bos_tokens = 0;
    *count = n_prompt;
    if (inf_model_tokenize(m, "", 0, INF_TOKENIZE_ADD_SPECIAL, &ids, &n, NULL) == INF_OK)
        *bos_tokens = (int)n;
    inf_free(ids);
    ids = NULL;
    if (inf_model_tokenize(m, text, strlen(text), 0, &plain, &n_plain, NULL) != INF_OK)
        return text; /* no tokenizer access: the rate is still per real token */
    size_t want = (size_t)(n_prompt > *bos_tokens ? n_prompt - *bos_tokens : 1);
    if (want > n_plain)
        want = n_plain;
    *count = (int64_t)want + *bos_tokens;
    char *cut = NULL;
    if (inf_model_detokenize(m, plain, want, false, &cut, NULL) == INF_OK) {
        free(text);
        text = strdup(cut);
        inf_free(cut);
    }
    inf_free(plain);
    return text;
}

typedef enum bench_format { FORMAT_MD, FORMAT_JSON, FORMAT_CSV } bench_format;

typedef struct bench_ctx {
    inf_model *model;
    inf_cancel *cancel;
    const char *model_name;
    char type[96];
    const char *backend;
    int threads;
    int reps;
    int64_t prompt_tokens; /* of the pp prompt, counted by the tokenizer */
    bench_format format;
    double load_seconds;   /* inf_load_model's wall time */
    double resident_mib;   /* the process's resident memory right after loading */
} bench_ctx;

/* Resident set size of this process in MiB (Linux /proc), or -1. */
static double resident_mib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long pages_total = 0, pages_resident = -1;
    if (!f)
        return -1;
    if (fscanf(f, "%lld %lld", &pages_total, &pages_resident) != 2)
        pages_resident = -1;
    fclose(f);
    return pages_resident < 0 ? -1 : (double)pages_resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

/* One CSV field: as is, or quoted (quotes doubled) when it holds a comma,
 * a quote or a line break. */
static void csv_field(const char *s, bool last)
{
    if (strpbrk(s, ",\"\r\n")) {
        putchar('"');
        for (; *s; s++) {
            if (*s == '"')
                putchar('"');
            putchar(*s);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
    putchar(last ? '\n' : ',');
}

/* Our own clock, used when a backend reports no metrics: the time from the
 * call to the first token (prefill, plus one decode step) and between the
 * first and the last token (decode). */
typedef struct run_clock {
    double start, first, last;
    int64_t tokens;
} run_clock;

static int on_token(const inf_token *tok, void *user)
{
    run_clock *c = user;
    (void)tok;
    double now = cli_now();
    if (c->tokens++ == 0)
        c->first = now;
    c->last = now;
    return 0;
}

/* One run; *rate is the prefill or decode rate, *tokens the count measured. */
static int run_once(bench_ctx *b, const char *prompt, int max_tokens, bool prefill, double *rate, int64_t *tokens)
{
    inf_generate_config cfg;
    inf_error err;
    inf_metrics mt;
    run_clock clock = {cli_now(), 0, 0, 0};
    inf_generate_config_default(&cfg);
    cfg.max_tokens = max_tokens;
    cfg.temperature = 0;
    inf_status st = inf_generate_each(b->model, prompt, &cfg, b->cancel, on_token, &clock, &err);
    if (st == INF_ERR_CANCELLED && cli_interrupt_count() > 0)
        return cli_error("interrupted"), CLI_EXIT_INTERRUPTED;
    if (st != INF_OK)
        return cli_error("%s", err.message);
    memset(&mt, 0, sizeof mt);
    inf_model_metrics(b->model, &mt);
    if (prefill) {
        *tokens = mt.prompt_tokens;
        *rate = mt.prefill_tokens_per_second > 0 ? mt.prefill_tokens_per_second
                : mt.prefill_seconds > 0 ? mt.prompt_tokens / mt.prefill_seconds : 0;
        if (*rate <= 0 && clock.tokens > 0 && clock.first > clock.start) {
            *tokens = b->prompt_tokens;
            *rate = b->prompt_tokens / (clock.first - clock.start);
        }
    } else {
        *tokens = mt.generated_tokens;
        *rate = mt.decode_tokens_per_second > 0 ? mt.decode_tokens_per_second
                : mt.decode_seconds > 0 ? mt.generated_tokens / mt.decode_seconds : 0;
        if (*rate <= 0 && clock.tokens > 1 && clock.last > clock.first) {
            *tokens = clock.tokens;
            *rate = (clock.tokens - 1) / (clock.last - clock.first);
        }
    }
    return 0;
}

static void report(const bench_ctx *b, const char *test, int n_prompt, int n_gen, const double *samples)
{
    double mean = 0, var = 0;
    for (int i = 0; i < b->reps; i++)
        mean += samples[i];
    mean /= b->reps;
    for (int i = 0; i < b->reps; i++)
        var += (samples[i] - mean) * (samples[i] - mean);
    double sd = b->reps > 1 ? sqrt(var / (b->reps - 1)) : 0;
    if (b->format == FORMAT_JSON) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", b->model_name);
        cJSON_AddStringToObject(o, "type", b->type);
        cJSON_AddStringToObject(o, "backend", b->backend);
        cJSON_AddNumberToObject(o, "threads", b->threads);
        cJSON_AddStringToObject(o, "test", test);
        cJSON_AddNumberToObject(o, "n_prompt", n_prompt);
        cJSON_AddNumberToObject(o, "n_gen", n_gen);
        cJSON_AddNumberToObject(o, "repetitions", b->reps);
        cJSON_AddNumberToObject(o, "tokens_per_second", mean);
        cJSON_AddNumberToObject(o, "sd", sd);
        cJSON_AddItemToObject(o, "samples", cJSON_CreateDoubleArray(samples, b->reps));
        cJSON_AddNumberToObject(o, "load_seconds", b->load_seconds);
        cJSON_AddNumberToObject(o, "resident_mib", b->resident_mib);
        char *s = cJSON_PrintUnformatted(o);
        if (s) {
            puts(s);
            cJSON_free(s);
        }
        cJSON_Delete(o);
    } else if (b->format == FORMAT_CSV) {
        csv_field(b->model_name, false);
        csv_field(b->type, false);
        csv_field(b->backend, false);
        printf("%d,", b->threads);
        csv_field(test, false);
        printf("%d,%d,%d,%.3f,%.3f,%.3f,%.1f\n", n_prompt, n_gen, b->reps, mean, sd, b->load_seconds,
               b->resident_mib);
    } else {
        printf("| %-30s | %-16s | %-8s | %7d | %8s | %10.2f ± %-8.2f |\n", b->model_name, b->type, b->backend,
               b->threads, test, mean, sd);
    }
    fflush(stdout);
}

/* Warm up once, measure reps times, report. */
static int bench_test(bench_ctx *b, const char *test, const char *prompt, int n_prompt, int n_gen, bool prefill)
{
    double *samples = calloc((size_t)b->reps, sizeof *samples);
    double rate;
    int64_t tokens;
    int rc;
    if (!samples)
        return cli_error("out of memory");
    int max_tokens = prefill ? 1 : n_gen;
    if ((rc = run_once(b, prompt, max_tokens, prefill, &rate, &tokens)) != 0) {
        free(samples);
        return rc;
    }
    int64_t measured = 0;
    for (int i = 0; i < b->reps; i++) {
        if ((rc = run_once(b, prompt, max_tokens, prefill, &samples[i], &tokens)) != 0) {
            free(samples);
            return rc;
        }
        measured += tokens;
    }
    /* Report the token counts actually processed (mean over the runs): the
     * prompt may tokenize to a few more or fewer, a tg run may stop at EOS. */
    measured = (measured + b->reps / 2) / b->reps;
    if (prefill && measured > 0)
        n_prompt = (int)measured;
    else if (!prefill)
        n_gen = (int)measured;
    report(b, test, n_prompt, n_gen, samples);
    free(samples);
    return 0;
}

typedef struct bench_opts {
    cli_load_opts load;
    int n_prompt, n_gen, reps;
    bench_format format;
} bench_opts;

static int parse_format(const char *v, bench_format *format)
{
    if (!strcmp(v, "md") || !strcmp(v, "markdown"))
        *format = FORMAT_MD;
    else if (!strcmp(v, "json"))
        *format = FORMAT_JSON;
    else if (!strcmp(v, "csv"))
        *format = FORMAT_CSV;
    else
        return cli_usage_error("bench", "-o wants md, json or csv, not '%s'", v);
    return 0;
}

/* The options; -1 to go on, else the exit status (help printed: 0). */
static int parse_args(int argc, char **argv, bench_opts *o)
{
    cli_args a;
    const char *v;
    int r;
    args_init(&a, "bench", argc, argv);
    for (; a.i < argc; a.i++) {
        if (args_is_help(&a)) {
            print_help();
            return CLI_EXIT_OK;
        }
        if ((r = load_opts_take(&a, &o->load)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
        } else if ((r = args_value(&a, "--n-prompt", "-p", &v)) != 0) {
            if (r < 0 || args_int(&a, "-p", v, 0, 1000000, &o->n_prompt))
                return CLI_EXIT_USAGE;
        } else if ((r = args_value(&a, "--n-gen", "-n", &v)) != 0) {
            if (r < 0 || args_int(&a, "-n", v, 0, 1000000, &o->n_gen))
                return CLI_EXIT_USAGE;
        } else if ((r = args_value(&a, "--repetitions", "-r", &v)) != 0) {
            if (r < 0 || args_int(&a, "-r", v, 1, 100000, &o->reps))
                return CLI_EXIT_USAGE;
        } else if (args_flag(&a, "--json", NULL)) {
            o->format = FORMAT_JSON;
        } else if (args_flag(&a, "--csv", NULL)) {
            o->format = FORMAT_CSV;
        } else if ((r = args_value(&a, "--output", "-o", &v)) != 0) {
            if (r < 0 || parse_format(v, &o->format))
                return CLI_EXIT_USAGE;
        } else if (args_is_option(&a)) {
            if (!a.no_more_options)
                return args_unknown(&a);
        } else if (o->load.model) {
            return cli_usage_error("bench", "unexpected argument '%s'", args_cur(&a));
        } else {
            o->load.model = args_cur(&a);
        }
    }
    if (o->n_prompt == 0 && o->n_gen == 0)
        return cli_usage_error("bench", "nothing to measure (-p 0 and -n 0)");
    return -1;
}

/* The table's "type" column: architecture and weight type. */
static void describe_type(bench_ctx *b, const char *path)
{
    inf_model_info info;
    memset(&info, 0, sizeof info);
    inf_model_info_get(b->model, &info);
    char wtype[32];
    if (inspect_weight_type(path, wtype, sizeof wtype) == 0)
        snprintf(b->type, sizeof b->type, "%s %s", inf_model_type(b->model), wtype);
    else if (info.quant_bits > 0)
        snprintf(b->type, sizeof b->type, "%s %d-bit", inf_model_type(b->model), info.quant_bits);
    else
        snprintf(b->type, sizeof b->type, "%s", inf_model_type(b->model));
}

static void print_table_head(bench_format format)
{
    if (format == FORMAT_CSV) {
        printf("model,type,backend,threads,test,n_prompt,n_gen,repetitions,tokens_per_second,sd,load_seconds,"
               "resident_mib\n");
    } else if (format == FORMAT_MD) {
        printf("| %-30s | %-16s | %-8s | %7s | %8s | %21s |\n", "model", "type", "backend", "threads", "test",
               "t/s");
        printf("|%s|%s|%s|%s|%s|%s|\n", "--------------------------------", "------------------", "----------",
               "---------", "----------", "-----------------------");
    }
}

/* ppN (prefill of N tokens), then tgN (N tokens generated). */
static int run_tests(bench_ctx *b, int n_prompt, int n_gen)
{
    int rc = 0;
    char test[32];
    if (n_prompt > 0) {
        int bos = 0;
        char *prompt = make_prompt(b->model, n_prompt, &bos, &b->prompt_tokens);
        snprintf(test, sizeof test, "pp%d", n_prompt);
        rc = prompt ? bench_test(b, test, prompt, n_prompt, 0, true) : cli_error("out of memory");
        free(prompt);
    }
    if (rc == 0 && n_gen > 0) {
        snprintf(test, sizeof test, "tg%d", n_gen);
        /* From BOS alone; a model that adds no BOS needs one real token. */
        int32_t *ids = NULL;
        size_t n_ids = 0;
        bool has_bos = inf_model_tokenize(b->model, "", 0, INF_TOKENIZE_ADD_SPECIAL, &ids, &n_ids, NULL) == INF_OK &&
                       n_ids > 0;
        inf_free(ids);
        rc = bench_test(b, test, has_bos ? "" : "Once", 0, n_gen, false);
    }
    return rc;
}

int cmd_bench(int argc, char **argv)
{
    bench_opts o = {.n_prompt = 512, .n_gen = 128, .reps = 5, .format = FORMAT_MD};
    load_opts_init(&o.load);
    int r = parse_args(argc, argv, &o);
    if (r >= 0)
        return r;
    char path[4096];
    if ((r = cli_resolve_model(&o.load, path, sizeof path)) != 0)
        return r;
    cli_interrupt_install(false);
    bench_ctx b;
    memset(&b, 0, sizeof b);
    const double t_load = cli_now();
    b.model = cli_load_model(path, &o.load.cfg);
    if (!b.model)
        return CLI_EXIT_RUNTIME;
    b.load_seconds = cli_now() - t_load;
    b.resident_mib = resident_mib();
    b.cancel = inf_cancel_new(NULL);
    cli_interrupt_target(b.cancel);
    const char *slash = strrchr(path, '/');
    b.model_name = slash && slash[1] ? slash + 1 : path;
    describe_type(&b, path);
    b.backend = o.load.cfg.backend && *o.load.cfg.backend ? o.load.cfg.backend : "auto";
    /* 0 asks the backend for its default, the physical cores: report that. */
    b.threads = o.load.cfg.threads > 0 ? o.load.cfg.threads : os_physical_cores();
    b.reps = o.reps;
    b.format = o.format;
    print_table_head(o.format);
    int rc = run_tests(&b, o.n_prompt, o.n_gen);
    cli_interrupt_target(NULL);
    inf_cancel_free(b.cancel);
    inf_model_close(b.model);
    return rc;
}
