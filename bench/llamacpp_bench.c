/* llamacpp_bench.c - llama.cpp's own speed on a GGUF file, measured the way
 * llama-bench does (pp: one batch of N prompt tokens; tg: N single-token
 * decodes), by calling the prebuilt CPU library that the npm package
 * node-llama-cpp ships (node_modules/@node-llama-cpp/linux-x64/bins/...).
 * Calling libllama directly from C keeps JavaScript's per-token overhead out
 * of the figures.
 *
 *   llamacpp_bench LIBDIR MODEL.gguf [-p 512] [-n 128] [-r 3] [-t THREADS]
 *   llamacpp_bench LIBDIR MODEL.gguf --classify IDS_FILE [-r 3] [-t THREADS]
 *
 * Prints one JSON object per test, with the keys `infer bench --json` uses.
 *
 * --classify: classification throughput, llama.cpp's way one prompt at a
 * time. IDS_FILE holds one prompt per line as token ids (space-separated),
 * as `bench_classify MODEL --write-ids FILE` writes them with our tokenizer
 * (this program has no tokenizer binding; the ids are the same prompts).
 * For each prompt: clear the memory, decode its tokens as one batch, read
 * the last position's logits (llama_get_logits_ith(ctx, -1)) and take their
 * arg-max. One warm-up pass over all prompts, then -r timed passes; prints
 * one JSON object with "prompts_per_second", "sd" and "tokens_per_second".
 *
 * We have no llama.h here, so the few structs crossing the boundary are
 * treated as opaque buffers bigger than the real ones (they are passed and
 * returned in memory on x86-64, so a larger buffer is harmless), and only the
 * first, long-stable fields of llama_context_params are touched: n_ctx,
 * n_batch, n_ubatch, n_seq_max, and n_threads/n_threads_batch found by their
 * default values. Defaults are checked before use so that a layout change is
 * detected, not guessed. */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"

typedef struct { unsigned char bytes[1024]; } opaque_params;
typedef struct { unsigned char bytes[256]; } opaque_batch;

/* The first four fields of llama_context_params (n_ctx, n_batch, n_ubatch,
 * n_seq_max) have kept their place for a long time; n_threads and
 * n_threads_batch have moved as fields were added before them, so they are
 * found by their defaults (GGML_DEFAULT_N_THREADS = 4, twice in a row). */
typedef struct {
    uint32_t n_ctx, n_batch, n_ubatch, n_seq_max;
} context_params_head;

static int find_thread_fields(const opaque_params *p)
{
    int32_t v[32];
    memcpy(v, p->bytes, sizeof v);
    for (int i = 4; i < 31; i++)
        if (v[i] == 4 && v[i + 1] == 4) return i;
    return -1;
}

/* llama.cpp logs through a callback: keep the benchmark's output clean. */
static void quiet_log(int level, const char *text, void *user)
{
    (void)level;
    (void)text;
    (void)user;
}

static void *sym(void *lib, const char *name)
{
    void *p = dlsym(lib, name);
    if (!p) {
        fprintf(stderr, "llamacpp_bench: %s not found in libllama\n", name);
        exit(1);
    }
    return p;
}

/* The prompts of a --classify file: ids[i] holds len[i] token ids. */
typedef struct prompt_set {
    int32_t **ids;
    int *len;
    int n, max_len;
    long tokens;
} prompt_set;

/* The llama.cpp entry points the classify test calls. */
typedef struct classify_fns {
    void *(*get_memory)(void *);
    void (*memory_clear)(void *, int);
    opaque_batch (*batch_one)(int32_t *, int32_t);
    int32_t (*decode)(void *, opaque_batch);
    float *(*get_logits_ith)(void *, int32_t);
} classify_fns;

static void print_rate(const char *name, int threads, const char *test, const double *rate, int reps,
                       const prompt_set *ps)
{
    double mean, sd;
    bench_mean_sd(rate, reps, &mean, &sd);
    printf("{\"engine\": \"llama.cpp\", \"model\": \"%s\", \"threads\": %d, \"test\": \"%s\", "
           "\"prompts\": %d, \"prompt_tokens\": %ld, \"repetitions\": %d, \"prompts_per_second\": %.3f, "
           "\"sd\": %.3f, \"tokens_per_second\": %.3f}\n",
           name, threads, test, ps->n, ps->tokens, reps, mean, sd, mean * (double)ps->tokens / ps->n);
    fflush(stdout);
}

/* --classify: every prompt on its own, memory cleared before each; the
 * arg-max of its last logits is summed so that nothing can be skipped (the
 * sum goes to stderr: bench_classify prints the same sum of its tokens). */
static int classify(void *ctx, const prompt_set *ps, int reps, int threads, const char *name, int32_t n_vocab,
                    classify_fns fn)
{
    for (int i = 0; i < ps->n; i++)
        for (int j = 0; j < ps->len[i]; j++)
            if (ps->ids[i][j] >= n_vocab) {
                fprintf(stderr, "llamacpp_bench: prompt %d: token id %d is outside the vocabulary (%d)\n", i + 1,
                        (int)ps->ids[i][j], (int)n_vocab);
                return 1;
            }
    double *rate = calloc((size_t)reps, sizeof *rate);
    if (!rate) return 1;
    long check = 0;
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up, not counted */
        double t0 = bench_now();
        check = 0;
        for (int i = 0; i < ps->n; i++) {
            fn.memory_clear(fn.get_memory(ctx), 1);
            if (fn.decode(ctx, fn.batch_one(ps->ids[i], ps->len[i])) != 0) {
                fprintf(stderr, "llamacpp_bench: llama_decode failed on prompt %d\n", i + 1);
                free(rate);
                return 1;
            }
            const float *logits = fn.get_logits_ith(ctx, -1);
            if (!logits) {
                fprintf(stderr, "llamacpp_bench: no logits for prompt %d\n", i + 1);
                free(rate);
                return 1;
            }
            int32_t best = 0;
            for (int32_t k = 1; k < n_vocab; k++)
                if (logits[k] > logits[best]) best = k;
            check += best;
        }
        double dt = bench_now() - t0;
        if (r >= 0) rate[r] = ps->n / dt;
    }
    char test[32];
    snprintf(test, sizeof test, "classify%d", ps->n);
    print_rate(name, threads, test, rate, reps, ps);
    fprintf(stderr, "llamacpp_bench: arg-max checksum %ld\n", check);
    free(rate);
    return 0;
}

static int usage(const char *argv0, const char *why)
{
    if (why) fprintf(stderr, "llamacpp_bench: %s\n", why);
    fprintf(stderr,
            "usage: %s LIBDIR MODEL.gguf [-p N] [-n N] [-r N] [-t N]\n"
            "       %s LIBDIR MODEL.gguf --classify IDS_FILE [-r N] [-t N]\n",
            argv0, argv0);
    return 2;
}

static int read_prompts(const char *path, prompt_set *ps)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "llamacpp_bench: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    memset(ps, 0, sizeof *ps);
    char *line = NULL;
    size_t cap = 0;
    int cap_prompts = 0, lineno = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        int32_t *ids = NULL;
        int n = 0, ids_cap = 0;
        for (char *p = line;;) {
            while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
            if (!*p) break;
            char *end;
            errno = 0;
            long v = strtol(p, &end, 10);
            if (end == p || errno || v < 0 || v > INT32_MAX) {
                int w = (int)strcspn(p, " \t\r\n");
                fprintf(stderr, "llamacpp_bench: %s:%d: not a token id: '%.*s'\n", path, lineno, w < 20 ? w : 20, p);
                free(ids);
                free(line);
                fclose(f);
                return -1;
            }
            if (n == ids_cap) {
                ids_cap = ids_cap ? ids_cap * 2 : 32;
                int32_t *grown = realloc(ids, sizeof *ids * (size_t)ids_cap);
                if (!grown) exit(1);
                ids = grown;
            }
            ids[n++] = (int32_t)v;
            p = end;
        }
        if (n == 0) { /* blank line: no prompt */
            free(ids);
            continue;
        }
        if (ps->n == cap_prompts) {
            cap_prompts = cap_prompts ? cap_prompts * 2 : 256;
            int32_t **gi = realloc(ps->ids, sizeof *gi * (size_t)cap_prompts);
            int *gl = gi ? realloc(ps->len, sizeof *gl * (size_t)cap_prompts) : NULL;
            if (!gi || !gl) exit(1);
            ps->ids = gi;
            ps->len = gl;
        }
        ps->ids[ps->n] = ids;
        ps->len[ps->n++] = n;
        ps->tokens += n;
        if (n > ps->max_len) ps->max_len = n;
    }
    free(line);
    fclose(f);
    if (ps->n == 0) {
        fprintf(stderr, "llamacpp_bench: %s holds no prompts\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argv[1][0] == '-' || argv[2][0] == '-') return usage(argv[0], NULL);
    const char *libdir = argv[1], *model_path = argv[2], *classify_path = NULL;
    int n_prompt = 512, n_gen = 128, reps = 3, threads = 2;
    for (int i = 3; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (!strcmp(a, "-p")) ok = bench_parse_int("llamacpp_bench", a, v, 0, 1000000, &n_prompt);
        else if (!strcmp(a, "-n")) ok = bench_parse_int("llamacpp_bench", a, v, 0, 1000000, &n_gen);
        else if (!strcmp(a, "-r")) ok = bench_parse_int("llamacpp_bench", a, v, 1, 100000, &reps);
        else if (!strcmp(a, "-t")) ok = bench_parse_int("llamacpp_bench", a, v, 1, 4096, &threads);
        else if (!strcmp(a, "--classify")) {
            if (!v) return usage(argv[0], "--classify wants a file of token ids");
            classify_path = v;
        } else {
            char why[300];
            snprintf(why, sizeof why, "unexpected argument '%s'", a);
            return usage(argv[0], why);
        }
        if (!ok) return usage(argv[0], NULL);
    }
    prompt_set ps;
    memset(&ps, 0, sizeof ps);
    if (classify_path && read_prompts(classify_path, &ps) != 0) return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/libggml.v0.4.0.so", libdir);
    void *ggml = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    snprintf(path, sizeof path, "%s/libllama.v0.4.0.so", libdir);
    void *lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!ggml || !lib) {
        fprintf(stderr, "llamacpp_bench: cannot load llama.cpp from %s: %s\n", libdir, dlerror());
        return 1;
    }
    void (*load_all_from_path)(const char *) = (void (*)(const char *))sym(ggml, "ggml_backend_load_all_from_path");
    void (*backend_init)(void) = (void (*)(void))sym(lib, "llama_backend_init");
    opaque_params (*model_default)(void) = (opaque_params(*)(void))sym(lib, "llama_model_default_params");
    opaque_params (*ctx_default)(void) = (opaque_params(*)(void))sym(lib, "llama_context_default_params");
    void *(*load_model)(const char *, opaque_params) = (void *(*)(const char *, opaque_params))sym(lib, "llama_model_load_from_file");
    void *(*init_ctx)(void *, opaque_params) = (void *(*)(void *, opaque_params))sym(lib, "llama_init_from_model");
    opaque_batch (*batch_one)(int32_t *, int32_t) = (opaque_batch(*)(int32_t *, int32_t))sym(lib, "llama_batch_get_one");
    int32_t (*decode)(void *, opaque_batch) = (int32_t(*)(void *, opaque_batch))sym(lib, "llama_decode");
    void *(*get_memory)(void *) = (void *(*)(void *))sym(lib, "llama_get_memory");
    void (*memory_clear)(void *, int) = (void (*)(void *, int))sym(lib, "llama_memory_clear");
    void (*free_ctx)(void *) = (void (*)(void *))sym(lib, "llama_free");
    void (*free_model)(void *) = (void (*)(void *))sym(lib, "llama_model_free");
    void (*log_set)(void *, void *) = (void (*)(void *, void *))dlsym(lib, "llama_log_set");
    float *(*get_logits_ith)(void *, int32_t) = (float *(*)(void *, int32_t))sym(lib, "llama_get_logits_ith");
    const void *(*model_vocab)(const void *) = (const void *(*)(const void *))sym(lib, "llama_model_get_vocab");
    int32_t (*vocab_n_tokens)(const void *) = (int32_t(*)(const void *))sym(lib, "llama_vocab_n_tokens");

    load_all_from_path(libdir);
    backend_init();
    if (log_set) log_set((void *)quiet_log, NULL);
    opaque_params mp = model_default();
    void *model = load_model(model_path, mp);
    if (!model) {
        fprintf(stderr, "llamacpp_bench: llama.cpp cannot load %s\n", model_path);
        return 1;
    }
    opaque_params cp = ctx_default();
    context_params_head head;
    memcpy(&head, cp.bytes, sizeof head);
    if (head.n_ctx != 512 || head.n_batch != 2048 || head.n_ubatch != 512 || head.n_seq_max != 1) {
        fprintf(stderr, "llamacpp_bench: unexpected llama_context_params layout (n_ctx %u n_batch %u)\n", head.n_ctx,
                head.n_batch);
        return 1;
    }
    int at = find_thread_fields(&cp);
    if (at < 0) {
        fprintf(stderr, "llamacpp_bench: cannot find n_threads in llama_context_params\n");
        return 1;
    }
    if (classify_path) {
        head.n_ctx = (uint32_t)(ps.max_len + 16);
        head.n_batch = head.n_ubatch = (uint32_t)ps.max_len;
    } else {
        head.n_ctx = (uint32_t)(n_prompt + n_gen + 16);
        head.n_batch = head.n_ubatch = (uint32_t)(n_prompt > 0 ? n_prompt : 1);
    }
    memcpy(cp.bytes, &head, sizeof head);
    int32_t thread_fields[2] = {threads, threads};
    memcpy(cp.bytes + at * sizeof(int32_t), thread_fields, sizeof thread_fields);
    void *ctx = init_ctx(model, cp);
    if (!ctx) {
        fprintf(stderr, "llamacpp_bench: cannot create a context\n");
        return 1;
    }
    const char *name = strrchr(model_path, '/') ? strrchr(model_path, '/') + 1 : model_path;
    if (classify_path) {
        int rc = classify(ctx, &ps, reps, threads, name, vocab_n_tokens(model_vocab(model)),
                          (classify_fns){get_memory, memory_clear, batch_one, decode, get_logits_ith});
        for (int i = 0; i < ps.n; i++) free(ps.ids[i]);
        free(ps.ids);
        free(ps.len);
        free_ctx(ctx);
        free_model(model);
        return rc;
    }
    int32_t *tokens = malloc(sizeof(int32_t) * (size_t)(n_prompt > n_gen ? n_prompt : n_gen) + 4);
    srand(42);

    for (int test = 0; test < 2; test++) {
        int n = test == 0 ? n_prompt : n_gen;
        if (n <= 0) continue;
        double *rate = calloc((size_t)reps + 1, sizeof *rate);
        for (int r = -1; r < reps; r++) { /* r = -1: warm-up, not counted */
            memory_clear(get_memory(ctx), 1);
            for (int i = 0; i < n; i++) tokens[i] = 1 + rand() % 100;
            double t0 = bench_now();
            if (test == 0) {
                if (decode(ctx, batch_one(tokens, n)) != 0) return 1;
            } else {
                for (int i = 0; i < n; i++)
                    if (decode(ctx, batch_one(&tokens[i], 1)) != 0) return 1;
            }
            double dt = bench_now() - t0;
            if (r >= 0) rate[r] = n / dt;
        }
        double mean, sd;
        bench_mean_sd(rate, reps, &mean, &sd);
        printf("{\"engine\": \"llama.cpp\", \"model\": \"%s\", \"threads\": %d, \"test\": \"%s%d\", "
               "\"tokens_per_second\": %.3f, \"sd\": %.3f}\n",
               name, threads, test == 0 ? "pp" : "tg", n, mean, sd);
        fflush(stdout);
        free(rate);
    }
    free(tokens);
    free_ctx(ctx);
    free_model(model);
    return 0;
}

