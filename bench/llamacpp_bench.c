/* llamacpp_bench.c - llama.cpp's own speed on a GGUF file, measured the way
 * llama-bench does (pp: one batch of N prompt tokens; tg: N single-token
 * decodes), by calling the prebuilt CPU library that the npm package
 * node-llama-cpp ships (node_modules/@node-llama-cpp/linux-x64/bins/...).
 * Calling libllama directly from C keeps JavaScript's per-token overhead out
 * of the figures.
 *
 *   llamacpp_bench LIBDIR MODEL.gguf [-p 512] [-n 128] [-r 3] [-t THREADS]
 *
 * Prints one JSON object per test, with the keys `infer bench --json` uses.
 *
 * We have no llama.h here, so the few structs crossing the boundary are
 * treated as opaque buffers bigger than the real ones (they are passed and
 * returned in memory on x86-64, so a larger buffer is harmless), and only the
 * first, long-stable fields of llama_context_params are touched: n_ctx,
 * n_batch, n_ubatch, n_seq_max, and n_threads/n_threads_batch found by their
 * default values. Defaults are checked before use so that a layout change is
 * detected, not guessed. */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s LIBDIR MODEL.gguf [-p N] [-n N] [-r N] [-t N]\n", argv[0]);
        return 2;
    }
    const char *libdir = argv[1], *model_path = argv[2];
    int n_prompt = 512, n_gen = 128, reps = 3, threads = 2;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-p")) n_prompt = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-n")) n_gen = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-r")) reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-t")) threads = atoi(argv[i + 1]);
    }
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
    head.n_ctx = (uint32_t)(n_prompt + n_gen + 16);
    head.n_batch = head.n_ubatch = (uint32_t)(n_prompt > 0 ? n_prompt : 1);
    memcpy(cp.bytes, &head, sizeof head);
    int32_t thread_fields[2] = {threads, threads};
    memcpy(cp.bytes + at * sizeof(int32_t), thread_fields, sizeof thread_fields);
    void *ctx = init_ctx(model, cp);
    if (!ctx) {
        fprintf(stderr, "llamacpp_bench: cannot create a context\n");
        return 1;
    }
    int32_t *tokens = malloc(sizeof(int32_t) * (size_t)(n_prompt > n_gen ? n_prompt : n_gen) + 4);
    srand(42);
    const char *name = strrchr(model_path, '/') ? strrchr(model_path, '/') + 1 : model_path;

    for (int test = 0; test < 2; test++) {
        int n = test == 0 ? n_prompt : n_gen;
        if (n <= 0) continue;
        double *rate = calloc((size_t)reps + 1, sizeof *rate);
        for (int r = -1; r < reps; r++) { /* r = -1: warm-up, not counted */
            memory_clear(get_memory(ctx), 1);
            for (int i = 0; i < n; i++) tokens[i] = 1 + rand() % 100;
            double t0 = now();
            if (test == 0) {
                if (decode(ctx, batch_one(tokens, n)) != 0) return 1;
            } else {
                for (int i = 0; i < n; i++)
                    if (decode(ctx, batch_one(&tokens[i], 1)) != 0) return 1;
            }
            double dt = now() - t0;
            if (r >= 0) rate[r] = n / dt;
        }
        double mean = 0, sd = 0;
        for (int r = 0; r < reps; r++) mean += rate[r] / reps;
        for (int r = 0; r < reps && reps > 1; r++) sd += (rate[r] - mean) * (rate[r] - mean) / (reps - 1);
        printf("{\"engine\": \"llama.cpp\", \"model\": \"%s\", \"threads\": %d, \"test\": \"%s%d\", "
               "\"tokens_per_second\": %.3f, \"sd\": %.3f}\n",
               name, threads, test == 0 ? "pp" : "tg", n, mean, sqrt(sd));
        fflush(stdout);
        free(rate);
    }
    free(tokens);
    free_ctx(ctx);
    free_model(model);
    return 0;
}

