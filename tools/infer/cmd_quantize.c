/* cmd_quantize.c - `infer quantize IN OUT TYPE`: option parsing and
 * printing around the engine in src/model/quantize.c (which chooses the
 * per-tensor types as llama-quantize does and streams the conversion). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "offline/quantize.h"

static const char QUANTIZE_HELP[] =
    "usage: infer quantize MODEL OUTPUT.gguf TYPE [--pure] [-t N]\n\n"
    "Write a copy of MODEL (a GGUF file or a Hugging Face model folder) with its\n"
    "weight matrices quantized, keeping all metadata. The file loads in llama.cpp.\n\n"
    "TYPE: q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k q4_k q5_k q6_k (every matrix in\n"
    "that type, output matrix q6_k, as llama-quantize), the mixes q3_k_m q4_k_m\n"
    "q5_k_m (more bits for attn_v / ffn_down in some layers), q3_k_s q3_k_l\n"
    "q4_k_s q5_k_s, or f16 bf16 f32.\n\n"
    "Options:\n"
    "      --pure             every matrix in TYPE, no mix rules (llama-quantize --pure)\n"
    "  -t, --threads N        worker threads (default: physical cores)\n"
    "  -h, --help             show this help\n\n"
    "Exit status: 0 success, 1 runtime error, 2 usage error.\n";

struct progress_ctx {
    cli_progress bar;
    bool started;
};

static void on_progress(void *user, uint64_t done, uint64_t total, const char *tensor)
{
    (void)tensor;
    struct progress_ctx *p = user;
    size_t mib_total = (size_t)((total + (1u << 20) - 1) >> 20), mib_done = (size_t)(done >> 20);
    if (!p->started) {
        progress_start(&p->bar, "quantizing (MiB)", mib_total ? mib_total : 1);
        p->started = true;
    }
    progress_update(&p->bar, mib_done);
}

static void print_summary(const char *out, int ftype, const struct model_quantize_stats *st, double secs)
{
    fprintf(stderr, "infer: wrote %s (%s): %lld tensors, %lld quantized", out, model_ftype_name(ftype),
            (long long)st->n_tensors, (long long)st->n_quantized);
    if (st->n_fallback) fprintf(stderr, ", %lld with a fallback type", (long long)st->n_fallback);
    fprintf(stderr, "; %.2f MiB -> %.2f MiB in %.2f s\n", st->bytes_in / 1048576.0, st->bytes_out / 1048576.0, secs);
    fprintf(stderr, "infer: tensor types:");
    for (int t = 0; t < TENSOR_TYPE_COUNT; t++)
        if (st->type_count[t]) fprintf(stderr, " %s=%d", tensor_type_name(t), st->type_count[t]);
    fprintf(stderr, "\n");
}

int cmd_quantize(int argc, char **argv)
{
    cli_args a;
    args_init(&a, "quantize", argc, argv);
    const char *pos[3] = {0};
    int npos = 0, threads = 0;
    bool pure = false;
    for (; a.i < a.argc; a.i++) {
        const char *v;
        int r;
        if (args_is_help(&a)) {
            fputs(QUANTIZE_HELP, stdout);
            return CLI_EXIT_OK;
        }
        if (!args_is_option(&a)) {
            if (npos >= 3) return cli_usage_error("quantize", "unexpected argument '%s'", args_cur(&a));
            pos[npos++] = args_cur(&a);
            continue;
        }
        if (a.no_more_options && strcmp(args_cur(&a), "--") == 0) continue;
        if (args_flag(&a, "--pure", NULL)) {
            pure = true;
        } else if ((r = args_value(&a, "--threads", "-t", &v)) != 0) {
            if (r < 0 || args_int(&a, "--threads", v, 1, 1024, &threads)) return CLI_EXIT_USAGE;
        } else
            return args_unknown(&a);
    }
    if (npos < 3) return cli_usage_error("quantize", "expected MODEL OUTPUT.gguf TYPE");
    int ftype = model_ftype_from_name(pos[2]);
    if (ftype < 0) return cli_usage_error("quantize", "unknown type '%s'", pos[2]);

    struct progress_ctx pc = {0};
    struct model_quantize_params p = {
        .ftype = ftype, .pure = pure, .n_threads = threads, .progress = on_progress, .progress_user = &pc};
    struct model_quantize_stats st;
    inf_error err = {0};
    double t0 = cli_now();
    int rc = model_quantize_file(pos[0], pos[1], &p, &st, &err);
    if (pc.started) progress_finish(&pc.bar);
    if (rc != 0) return cli_error("%s", err.message);
    print_summary(pos[1], ftype, &st, cli_now() - t0);
    return CLI_EXIT_OK;
}
