/* cmd_perplexity.c - `infer perplexity MODEL FILE`: option parsing and
 * printing around src/offline/perplexity.c (llama-perplexity's procedure:
 * windows of the context length, second half of each scored). Prints the
 * running estimate per window on stderr, like llama.cpp's "[1]x,[2]y,...",
 * and the final "PPL = X +/- Y" on stdout. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "offline/perplexity.h"

static const char PERPLEXITY_HELP[] =
    "usage: infer perplexity MODEL FILE.txt [--ctx N] [--chunks N] [-t N]\n\n"
    "Measure the perplexity of MODEL on the text of FILE (\"-\" = stdin), as\n"
    "llama.cpp's llama-perplexity does: the tokens are cut into windows of the\n"
    "context length, each evaluated from scratch (BOS first when the model uses\n"
    "one), and the second half of each window is scored. Prints the running\n"
    "value after each window and the final value with its standard error.\n\n"
    "Options:\n"
    "  -c, --ctx N            window length (default 512)\n"
    "      --chunks N         stop after N windows (default: all)\n"
    "  -b, --batch N          tokens per forward pass (default 512)\n"
    "  -t, --threads N        threads (default: physical cores)\n"
    "  -h, --help             show this help\n\n"
    "Exit status: 0 success, 1 runtime error, 2 usage error.\n";

static void on_chunk(void *user, int chunk, int n_chunks, double ppl)
{
    (void)user;
    fprintf(stderr, "[%d]%.4f,", chunk, ppl);
    if (chunk == n_chunks) fputc('\n', stderr);
    fflush(stderr);
}

struct ppl_opts {
    const char *model, *file;
    int n_ctx, n_batch, n_threads, chunks;
};

static int parse(int argc, char **argv, struct ppl_opts *o, bool *help)
{
    cli_args a;
    args_init(&a, "perplexity", argc, argv);
    int npos = 0;
    for (; a.i < a.argc; a.i++) {
        const char *v;
        int r;
        if (!a.no_more_options && args_is_help(&a)) {
            *help = true;
            return CLI_EXIT_OK;
        }
        if (!args_is_option(&a)) {
            if (npos == 0) o->model = args_cur(&a);
            else if (npos == 1) o->file = args_cur(&a);
            else return cli_usage_error("perplexity", "unexpected argument '%s'", args_cur(&a));
            npos++;
            continue;
        }
        if (a.no_more_options && strcmp(args_cur(&a), "--") == 0) continue;
        if ((r = args_value(&a, "--ctx", "-c", &v)) != 0) {
            if (r < 0 || args_int(&a, "--ctx", v, 4, 1 << 20, &o->n_ctx)) return CLI_EXIT_USAGE;
        } else if ((r = args_value(&a, "--batch", "-b", &v)) != 0) {
            if (r < 0 || args_int(&a, "--batch", v, 1, 1 << 20, &o->n_batch)) return CLI_EXIT_USAGE;
        } else if ((r = args_value(&a, "--threads", "-t", &v)) != 0) {
            if (r < 0 || args_int(&a, "--threads", v, 1, 1024, &o->n_threads)) return CLI_EXIT_USAGE;
        } else if ((r = args_value(&a, "--chunks", NULL, &v)) != 0) {
            if (r < 0 || args_int(&a, "--chunks", v, 1, 1 << 30, &o->chunks)) return CLI_EXIT_USAGE;
        } else
            return args_unknown(&a);
    }
    if (npos < 2) return cli_usage_error("perplexity", "expected MODEL FILE");
    return CLI_EXIT_OK;
}

int cmd_perplexity(int argc, char **argv)
{
    struct ppl_opts o = {.n_ctx = 512};
    bool help = false;
    int rc = parse(argc, argv, &o, &help);
    if (rc != CLI_EXIT_OK) return rc;
    if (help) {
        fputs(PERPLEXITY_HELP, stdout);
        return CLI_EXIT_OK;
    }
    size_t len = 0;
    char *text = strcmp(o.file, "-") == 0 ? cli_read_stream(stdin, &len) : cli_read_file(o.file, &len);
    if (!text) return cli_error("%s: cannot read: %s", o.file, strerror(errno));

    inf_error err = {0};
    struct model_ppl_params p = {.n_ctx = o.n_ctx, .n_batch = o.n_batch, .n_threads = o.n_threads,
                                 .max_chunks = o.chunks, .progress = on_chunk};
    struct model_ppl_result r;
    double t0 = cli_now();
    rc = model_perplexity_file(o.model, text, len, &p, &r, &err);
    free(text);
    if (rc != 0) return cli_error("%s", err.message);
    fprintf(stderr, "perplexity: %lld tokens, %d windows of %d, %lld scored, %.2f s\n", (long long)r.n_tokens,
            r.n_chunks, r.n_ctx, (long long)r.n_scored, cli_now() - t0);
    printf("Final estimate: PPL = %.4f +/- %.5f\n", r.ppl, r.ppl_err);
    return CLI_EXIT_OK;
}
