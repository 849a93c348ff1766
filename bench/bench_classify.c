/* bench_classify.c - classification throughput: 256 short prompts (about 20
 * tokens each) through one inf_classify call on MODEL, in prompts per second,
 * through the public API only (include/inference.h).
 *
 *   build/bench_classify MODEL [-t THREADS] [-N PROMPTS] [-l TOKENS] [-r REPS] [-c CTX]
 *                              [--parallel N] [--write-ids FILE] [--json]
 *
 *   -t, --threads N      CPU threads; 0 = the backend's default [0]
 *   -N, --prompts N      how many prompts [256]
 *   -l, --length N       tokens per prompt to aim at, BOS included [20]
 *   -r, --reps N         measured runs (after one short warm-up) [3]
 *   -c, --ctx N          context length; 0 = the model's own [0]
 *       --parallel N     parallel_slots at load; 0 = the backend default [0]
 *       --write-ids FILE write each prompt's token ids, one prompt per line
 *                        (tokenized as inf_classify does: special tokens
 *                        added), for `llamacpp_bench LIBDIR MODEL --classify FILE`
 *       --json           one JSON object instead of a line of text
 *
 * The prompts are the same on every run: sentences drawn from a fixed word
 * list by a fixed pseudo-random sequence, each grown word by word until the
 * model's tokenizer gives it at least -l tokens (16 words when the backend
 * has no tokenizer). A run is one inf_classify call over all of them, timed
 * as a whole; prompts/s and prompt tokens/s are reported as mean ± sd.
 * bench/classify.sh runs this beside llama.cpp and prints the ratio.
 * JSON keys: "engine", "model", "threads", "prompts", "prompt_tokens",
 * "repetitions", "prompts_per_second", "sd", "tokens_per_second", "samples". */
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

static const char *const WORDS[] = {
    "the",    "a",      "little", "big",    "happy",  "sad",    "dog",    "cat",    "bird",   "tree",
    "house",  "river",  "girl",   "boy",    "mother", "friend", "played", "saw",    "found",  "wanted",
    "ran",    "jumped", "ate",    "gave",   "in",     "on",     "under",  "with",   "and",    "but",
    "because", "then",  "very",   "red",    "blue",   "green",  "ball",   "cake",   "park",   "sun",
    "rain",   "night",  "day",    "garden", "flower", "book",   "box",    "toy",    "sky",    "water",
    "quickly", "slowly", "always", "never",  "was",    "is",     "had",    "said",   "looked", "smiled",
    "movie",  "great",  "awful",  "plot",   "good",   "bad",    "loved",  "hated",  "story",  "end",
};
#define N_WORDS (sizeof WORDS / sizeof WORDS[0])

static int usage(const char *argv0, const char *why)
{
    if (why) fprintf(stderr, "bench_classify: %s\n", why);
    fprintf(stderr,
            "usage: %s MODEL [-t THREADS] [-N PROMPTS] [-l TOKENS] [-r REPS] [-c CTX] [--parallel N]\n"
            "       [--write-ids FILE] [--json]\n",
            argv0);
    return 2;
}

/* The tokens inf_classify would see for text, or -1 without a tokenizer. */
static long count_tokens(inf_model *m, const char *text, int32_t **ids_out)
{
    int32_t *ids = NULL;
    size_t n = 0;
    if (inf_model_tokenize(m, text, strlen(text), INF_TOKENIZE_ADD_SPECIAL | INF_TOKENIZE_PARSE_SPECIAL, &ids, &n,
                           NULL) != INF_OK)
        return -1;
    if (ids_out) *ids_out = ids;
    else inf_free(ids);
    return (long)n;
}

/* Prompt i: words chosen by a fixed linear congruential sequence, added
 * until the tokenizer counts at least `length` tokens (at most 64 words).
 * Returns a malloc'd string, or NULL when out of memory. */
static char *make_prompt(inf_model *m, int i, int length)
{
    uint64_t state = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
    size_t cap = 64 * 16, len = 0;
    char *text = malloc(cap);
    if (!text) return NULL;
    text[0] = '\0';
    for (int w = 0; w < 64; w++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        const char *word = WORDS[(state >> 33) % N_WORDS];
        len += (size_t)snprintf(text + len, cap - len, "%s%s", w ? " " : "", word);
        if (w == 0) text[0] = (char)(text[0] - 'a' + 'A'); /* a sentence: capital first */
        long n = count_tokens(m, text, NULL);
        if (n < 0 ? w + 1 >= 16 : n >= length) break;
    }
    return text;
}

/* One line per prompt: its token ids, space-separated. */
static int write_ids(inf_model *m, char **prompts, int n, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_classify: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        int32_t *ids = NULL;
        long k = count_tokens(m, prompts[i], &ids);
        if (k < 0) {
            fprintf(stderr, "bench_classify: this backend has no tokenizer: cannot write ids\n");
            fclose(f);
            return -1;
        }
        for (long j = 0; j < k; j++) fprintf(f, "%s%d", j ? " " : "", (int)ids[j]);
        fputc('\n', f);
        inf_free(ids);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "bench_classify: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* One timed inf_classify call over n prompts; seconds, or -1 on failure.
 * *checksum gets the sum of the chosen token ids (llamacpp_bench --classify
 * prints the same sum of its arg-maxes: equal sums, same answers). */
static double run_classify(inf_model *m, char **prompts, int n, long *checksum)
{
    inf_generate_config cfg;
    inf_generate_config_default(&cfg);
    cfg.temperature = 0;
    inf_classify_result *res = NULL;
    inf_error err;
    double t0 = bench_now();
    inf_status st = inf_classify(m, (const char *const *)prompts, (size_t)n, &cfg, NULL, &res, &err);
    double dt = bench_now() - t0;
    if (st != INF_OK) {
        fprintf(stderr, "bench_classify: inf_classify: %s\n", err.message);
        return -1;
    }
    *checksum = 0;
    for (int i = 0; i < n; i++) *checksum += res[i].token.id;
    inf_classify_results_free(res, (size_t)n);
    return dt;
}

int main(int argc, char **argv)
{
    const char *model_path = NULL, *ids_path = NULL;
    int threads = 0, n_prompts = 256, length = 20, reps = 3, ctx = 0, parallel = 0;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int *num = NULL;
        long min = 0, max = 100000000;
        if (!strcmp(a, "-t") || !strcmp(a, "--threads")) num = &threads, max = 4096;
        else if (!strcmp(a, "-N") || !strcmp(a, "--prompts")) num = &n_prompts, min = 1, max = 1000000;
        else if (!strcmp(a, "-l") || !strcmp(a, "--length")) num = &length, min = 1, max = 64;
        else if (!strcmp(a, "-r") || !strcmp(a, "--reps")) num = &reps, min = 1, max = 100000;
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx")) num = &ctx;
        else if (!strcmp(a, "--parallel")) num = &parallel, max = 4096;
        else if (!strcmp(a, "--write-ids")) {
            if (!v) return usage(argv[0], "--write-ids wants a file name");
            ids_path = v;
            i++;
        } else if (!strcmp(a, "--json")) json = true;
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
            if (!bench_parse_int("bench_classify", a, v, min, max, num)) return usage(argv[0], NULL);
            i++;
        }
    }
    if (!model_path) return usage(argv[0], "no MODEL given");

    inf_model *m = bench_load_model("bench_classify", model_path, threads, ctx, parallel);
    if (!m) return 1;
    int rc = 1, made = 0;
    char **prompts = calloc((size_t)n_prompts, sizeof *prompts);
    double *rate = calloc((size_t)reps, sizeof *rate);
    long tokens = 0, checksum = 0;
    if (!prompts || !rate) goto done;
    for (; made < n_prompts; made++) {
        if (!(prompts[made] = make_prompt(m, made, length))) goto done;
        long k = count_tokens(m, prompts[made], NULL);
        tokens += k > 0 ? k : 0;
    }
    if (ids_path && write_ids(m, prompts, n_prompts, ids_path) != 0) goto done;

    /* Warm-up on a few prompts: weights paged in, buffers allocated. */
    if (run_classify(m, prompts, n_prompts < 16 ? n_prompts : 16, &checksum) < 0) goto done;
    for (int r = 0; r < reps; r++) {
        double dt = run_classify(m, prompts, n_prompts, &checksum);
        if (dt < 0) goto done;
        rate[r] = n_prompts / dt;
    }
    double mean, sd;
    bench_mean_sd(rate, reps, &mean, &sd);
    double tok_rate = mean * (double)tokens / n_prompts;
    const char *name = strrchr(model_path, '/') ? strrchr(model_path, '/') + 1 : model_path;
    if (json) {
        printf("{\"engine\": \"infer\", \"model\": \"");
        for (const char *p = name; *p; p++) {
            if (*p == '"' || *p == '\\') putchar('\\');
            if ((unsigned char)*p >= 0x20) putchar(*p);
        }
        printf("\", \"threads\": %d, \"prompts\": %d, \"prompt_tokens\": %ld, \"repetitions\": %d, "
               "\"prompts_per_second\": %.3f, \"sd\": %.3f, \"tokens_per_second\": %.3f, \"samples\": [",
               threads, n_prompts, tokens, reps, mean, sd, tok_rate);
        for (int r = 0; r < reps; r++) printf("%s%.3f", r ? ", " : "", rate[r]);
        printf("]}\n");
    } else {
        printf("%s: %d prompts (%ld tokens, %.1f per prompt), threads %d%s: %.1f ± %.1f prompts/s, %.0f "
               "prompt tokens/s (%d runs)\n",
               name, n_prompts, tokens, (double)tokens / n_prompts, threads, threads ? "" : " (backend default)",
               mean, sd, tok_rate, reps);
    }
    fprintf(stderr, "bench_classify: arg-max checksum %ld\n", checksum);
    rc = 0;
done:
    if (rc && !made) fprintf(stderr, "bench_classify: out of memory\n");
    for (int i = 0; prompts && i < made; i++) free(prompts[i]);
    free(prompts);
    free(rate);
    inf_model_close(m);
    return rc;
}
