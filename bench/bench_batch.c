/* bench_batch.c - what batching buys: 8 prompts generated together by
 * inf_batch_generate against the same 8 prompts generated one after the
 * other (8 inf_generate_each calls), on one loaded model, through the public
 * API only (include/inference.h).
 *
 *   build/bench_batch MODEL [-t THREADS] [-n MAX_TOKENS] [-r REPS] [-c CTX] [--slots N] [--json]
 *
 *   -t, --threads N      CPU threads; 0 = the backend's default [0]
 *   -n, --max-tokens N   tokens generated per prompt, greedy [64]
 *   -r, --reps N         measured runs of each mode [3]
 *   -c, --ctx N          context length; 0 = the model's own [0]
 *       --slots N        parallel_slots at load, at least 8 so that all 8
 *                        prompts decode at once [8]
 *       --json           one JSON object instead of a table
 *
 * Each mode's run is timed as a whole (prefill of the 8 prompts included);
 * its rate is the tokens actually generated / wall time (a random-weight
 * model may stop early at an end-of-sequence token, so the counts are
 * reported). One short batch call warms up first. The ratio is batch tok/s
 * over sequential tok/s (means). "identical" counts the prompts whose batch
 * output has the same token ids as their sequential output (greedy; batched
 * arithmetic may round differently, so this is information, not a check).
 * JSON keys: "model", "threads", "prompts", "max_tokens", "repetitions",
 * "batch" and "sequential" ({"tokens", "tokens_per_second", "sd",
 * "samples"}), "ratio", "identical". Run on an idle machine. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <inference.h>

#include "bench_common.h"

#define N_PROMPTS 8

static const char *const PROMPTS[N_PROMPTS] = {
    "Once upon a time, a little fox found a shiny key in the snow.",
    "The old lighthouse keeper had not seen a ship in years, until one stormy night",
    "Tom and his sister built a boat out of a big cardboard box.",
    "In a small village by the sea lived a baker who could not smell bread.",
    "The dragon was afraid of the dark, so every evening it",
    "Lily wanted to fly more than anything, so she asked the birds",
    "One morning the sun did not rise, and the children of the town",
    "A tiny robot woke up in a toy shop and looked around.",
};

static int usage(const char *argv0, const char *why)
{
    if (why) fprintf(stderr, "bench_batch: %s\n", why);
    fprintf(stderr, "usage: %s MODEL [-t THREADS] [-n MAX_TOKENS] [-r REPS] [-c CTX] [--slots N] [--json]\n", argv0);
    return 2;
}

/* The ids one sequential generation produced. */
typedef struct seq_out {
    int32_t *ids;
    size_t n, cap;
} seq_out;

static int collect(const inf_token *tok, void *user)
{
    seq_out *o = user;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        int32_t *p = realloc(o->ids, cap * sizeof *p);
        if (!p) return 1; /* stop early; the count stays right */
        o->ids = p;
        o->cap = cap;
    }
    o->ids[o->n++] = tok->id;
    return 0;
}

/* One batch run: the tokens generated, or -1 on failure. keep (may be NULL)
 * receives the results, to free with inf_batch_results_free. */
static long run_batch(inf_model *m, const inf_generate_config *cfg, double *seconds, inf_batch_result **keep)
{
    inf_batch_result *res = NULL;
    inf_error err;
    double t0 = bench_now();
    inf_status st = inf_batch_generate(m, PROMPTS, N_PROMPTS, cfg, NULL, &res, &err);
    *seconds = bench_now() - t0;
    if (st != INF_OK) {
        fprintf(stderr, "bench_batch: inf_batch_generate: %s\n", err.message);
        return -1;
    }
    long tokens = 0;
    for (int i = 0; i < N_PROMPTS; i++) {
        if (res[i].status != INF_OK) {
            fprintf(stderr, "bench_batch: batch prompt %d: %s\n", i, res[i].error ? res[i].error : "failed");
            inf_batch_results_free(res, N_PROMPTS);
            return -1;
        }
        tokens += (long)res[i].n_tokens;
    }
    if (keep) *keep = res;
    else inf_batch_results_free(res, N_PROMPTS);
    return tokens;
}

/* One sequential run: the 8 prompts one after the other. */
static long run_sequential(inf_model *m, const inf_generate_config *cfg, double *seconds, seq_out *outs)
{
    inf_error err;
    long tokens = 0;
    for (int i = 0; i < N_PROMPTS; i++) outs[i].n = 0;
    double t0 = bench_now();
    for (int i = 0; i < N_PROMPTS; i++) {
        if (inf_generate_each(m, PROMPTS[i], cfg, NULL, collect, &outs[i], &err) != INF_OK) {
            fprintf(stderr, "bench_batch: inf_generate_each, prompt %d: %s\n", i, err.message);
            return -1;
        }
        tokens += (long)outs[i].n;
    }
    *seconds = bench_now() - t0;
    return tokens;
}

static void print_samples(const double *x, int n)
{
    putchar('[');
    for (int i = 0; i < n; i++) printf("%s%.3f", i ? ", " : "", x[i]);
    putchar(']');
}

int main(int argc, char **argv)
{
    const char *model_path = NULL;
    int threads = 0, max_tokens = 64, reps = 3, ctx = 0, slots = N_PROMPTS;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int *num = NULL;
        long min = 0, max = 100000000;
        if (!strcmp(a, "-t") || !strcmp(a, "--threads")) num = &threads, max = 4096;
        else if (!strcmp(a, "-n") || !strcmp(a, "--max-tokens")) num = &max_tokens, min = 1;
        else if (!strcmp(a, "-r") || !strcmp(a, "--reps")) num = &reps, min = 1, max = 100000;
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx")) num = &ctx;
        else if (!strcmp(a, "--slots")) num = &slots, min = N_PROMPTS, max = 4096;
        else if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(argv[0], NULL);
            return 0;
        } else if (a[0] == '-' || model_path) {
            char why[300];
            snprintf(why, sizeof why, "unexpected argument '%s'", a);
            return usage(argv[0], why);
        } else {
            model_path = a;
        }
        if (num) {
            if (!bench_parse_int("bench_batch", a, v, min, max, num)) return usage(argv[0], NULL);
            i++;
        }
    }
    if (!model_path) return usage(argv[0], "no MODEL given");

    inf_model *m = bench_load_model("bench_batch", model_path, threads, ctx, slots);
    if (!m) return 1;
    inf_generate_config cfg;
    inf_generate_config_default(&cfg);
    cfg.max_tokens = max_tokens;
    cfg.temperature = 0;

    double *batch_rate = calloc((size_t)reps, sizeof(double)), *seq_rate = calloc((size_t)reps, sizeof(double));
    seq_out outs[N_PROMPTS];
    memset(outs, 0, sizeof outs);
    inf_batch_result *last = NULL;
    long batch_tokens = 0, seq_tokens = 0;
    int rc = 1, identical = 0;
    double secs, bm, bsd, sm, ssd, ratio;
    const char *name = strrchr(model_path, '/') ? strrchr(model_path, '/') + 1 : model_path;
    if (!batch_rate || !seq_rate) goto done;

    /* Warm-up: weights paged in, every slot's cache allocated. */
    inf_generate_config warm = cfg;
    warm.max_tokens = max_tokens < 4 ? max_tokens : 4;
    if (run_batch(m, &warm, &secs, NULL) < 0) goto done;

    for (int r = 0; r < reps; r++) {
        if (last) inf_batch_results_free(last, N_PROMPTS);
        last = NULL;
        if ((batch_tokens = run_batch(m, &cfg, &secs, &last)) < 0) goto done;
        batch_rate[r] = (double)batch_tokens / secs;
        if ((seq_tokens = run_sequential(m, &cfg, &secs, outs)) < 0) goto done;
        seq_rate[r] = (double)seq_tokens / secs;
    }
    for (int i = 0; i < N_PROMPTS; i++) {
        bool same = last[i].n_tokens == outs[i].n;
        for (size_t k = 0; same && k < outs[i].n; k++) same = last[i].tokens[k].id == outs[i].ids[k];
        identical += same;
    }
    bench_mean_sd(batch_rate, reps, &bm, &bsd);
    bench_mean_sd(seq_rate, reps, &sm, &ssd);
    ratio = sm > 0 ? bm / sm : 0;
    if (json) {
        /* The model's file name goes out as given, with " and \ escaped. */
        printf("{\"model\": \"");
        for (const char *p = name; *p; p++) {
            if (*p == '"' || *p == '\\') putchar('\\');
            if ((unsigned char)*p >= 0x20) putchar(*p);
        }
        printf("\", \"threads\": %d, \"prompts\": %d, \"max_tokens\": %d, \"repetitions\": %d, ", threads,
               N_PROMPTS, max_tokens, reps);
        printf("\"batch\": {\"tokens\": %ld, \"tokens_per_second\": %.3f, \"sd\": %.3f, \"samples\": ", batch_tokens,
               bm, bsd);
        print_samples(batch_rate, reps);
        printf("}, \"sequential\": {\"tokens\": %ld, \"tokens_per_second\": %.3f, \"sd\": %.3f, \"samples\": ",
               seq_tokens, sm, ssd);
        print_samples(seq_rate, reps);
        printf("}, \"ratio\": %.3f, \"identical\": %d}\n", ratio, identical);
    } else {
        printf("model %s, threads %d%s, %d prompts, max_tokens %d, greedy, %d runs each\n\n", name, threads,
               threads ? "" : " (backend default)", N_PROMPTS, max_tokens, reps);
        printf("| mode | tokens generated | tok/s |\n|---|---|---|\n");
        printf("| inf_batch_generate (8 at once) | %ld | %.1f ± %.1f |\n", batch_tokens, bm, bsd);
        printf("| 8 x inf_generate_each in turn | %ld | %.1f ± %.1f |\n", seq_tokens, sm, ssd);
        printf("\nratio batch / sequential: %.2f; identical outputs: %d of %d\n", ratio, identical, N_PROMPTS);
    }
    rc = 0;
done:
    if (last) inf_batch_results_free(last, N_PROMPTS);
    for (int i = 0; i < N_PROMPTS; i++) free(outs[i].ids);
    free(batch_rate);
    free(seq_rate);
    inf_model_close(m);
    return rc;
}
