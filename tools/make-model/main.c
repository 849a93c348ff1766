/* main.c - build/make-model: options, and the one path every output takes
 * (see make_model.h): spec -> vocabulary -> safetensors directory ->
 * (GGUF: the library's converter, then its quantiser). */
#include "make_model.h"

#include "offline/hf_convert.h"
#include "offline/hf_tokenizer_convert.h"
#include "offline/quantize.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: make-model --arch ARCH [options] -o OUT\n"
    "\n"
    "Writes a deterministic random-weight model (the same bytes on every machine)\n"
    "in the real layout of ARCH: a GGUF file when OUT ends in .gguf, else a\n"
    "Hugging Face directory (config.json, safetensors, tokenizer files).\n"
    "\n"
    "Model:\n"
    "  --arch ARCH          llama, qwen2, qwen3, gemma3\n"
    "  --size SIZE          tiny (default), small, medium, 0.6b (Qwen3-0.6B shapes),\n"
    "                       1b (Llama-3.2-1B shapes; Gemma-3-1B for gemma3)\n"
    "  --layers N --dim D --ffn F --heads H --kv-heads K --head-dim HD\n"
    "                       override the preset's shape\n"
    "  --ctx N              context length recorded (default 2048)\n"
    "  --tie | --untie      output matrix shared with the embedding or not\n"
    "                       (default: tied, except llama tiny/small/medium)\n"
    "  --sliding-window N   gemma3: window of the local layers (default 64; 512 at 1b)\n"
    "  --swa-pattern N      gemma3: every Nth layer is global (default 2; 6 at 1b)\n"
    "  --rope-scaling none|llama3   llama: Llama-3.1 rope scaling (default llama3 at 1b)\n"
    "  --seed S             random seed (default 1)\n"
    "  --norm-noise S       add N(0, S) to the norm weights (default 0: ones)\n"
    "  --embed-std S        embedding scale (default 0.32/sqrt(dim); gemma3 0.08/sqrt(dim))\n"
    "  --matrix-std S       matrix scale (default 1/sqrt(fan_in))\n"
    "  --name NAME          general.name (default random-ARCH-SIZE-TYPE-seedS)\n"
    "\n"
    "Vocabulary:\n"
    "  --tokenizer DIR      a directory with tokenizer.json (tokenizer_config.json and\n"
    "                       chat_template.jinja are used when present)\n"
    "  --tokenizer F.gguf   the tokenizer.* keys of a GGUF file (GGUF output only)\n"
    "                       (default: a byte-level BPE of our own: 256 bytes, 320\n"
    "                       merges, ChatML special tokens and template)\n"
    "  --vocab-limit N      keep the ids below N (and the byte and special tokens)\n"
    "  --pre NAME           tokenizer.ggml.pre of a byte-level BPE (default: detected\n"
    "                       from the split regex, qwen2 or llama-bpe)\n"
    "  --vocab-only         GGUF with the tokenizer and no tensors (as ggml-vocab-*.gguf)\n"
    "\n"
    "Output:\n"
    "  --type TYPE          GGUF: f32 (default), f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1,\n"
    "                       q2_k, q3_k, q3_k_s, q3_k_m, q3_k_l, q4_k, q4_k_s, q4_k_m,\n"
    "                       q5_k, q5_k_s, q5_k_m, q6_k. Types ending _m or _l use\n"
    "                       llama.cpp's mixes, the others put every matrix in the type\n"
    "                       (llama-quantize --pure).\n"
    "                       Directory: f32, f16, bf16 (default), mlx4, mlx8 (MLX affine\n"
    "                       quantisation, scales in bf16)\n"
    "  --mlx-group G        MLX group size: 32, 64 (default), 128\n"
    "  --shards N           split the safetensors into N files with an index\n"
    "  -o OUT               output file or directory\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

struct options {
    const char *arch, *size, *type, *tokenizer, *name, *out, *rope_scaling, *pre;
    int layers, dim, ffn, heads, kv_heads, head_dim, ctx, vocab_limit, sliding_window, swa_pattern;
    int tie;                   /* -1 default, 0 untie, 1 tie */
    int shards, mlx_group;
    long long seed;
    float norm_noise, embed_std, matrix_std;
    bool vocab_only;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("make-model: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see make-model --help)\n", stderr);
    va_end(ap);
    return 2;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("make-model: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static bool parse_int(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool parse_float(const char *s, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0 || v > 1e6) return false;
    *out = (float)v;
    return true;
}

struct int_opt {
    const char *name;
    int *dst;
    long long lo, hi;
};

static int parse_args(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof *o);
    o->size = "tiny";
    o->tie = -1;
    o->seed = 1;
    o->shards = 1;
    o->mlx_group = 64;
    const struct int_opt ints[] = {
        {"--layers", &o->layers, 1, 512}, {"--dim", &o->dim, 8, 65536}, {"--ffn", &o->ffn, 8, 262144},
        {"--heads", &o->heads, 1, 256}, {"--kv-heads", &o->kv_heads, 1, 256}, {"--head-dim", &o->head_dim, 2, 1024},
        {"--ctx", &o->ctx, 16, 1 << 24}, {"--vocab-limit", &o->vocab_limit, 1, 1 << 24},
        {"--sliding-window", &o->sliding_window, 1, 1 << 24}, {"--swa-pattern", &o->swa_pattern, 1, 512},
        {"--shards", &o->shards, 1, 256}, {"--mlx-group", &o->mlx_group, 32, 128},
    };
    const struct {
        const char *name;
        const char **dst;
    } strs[] = {{"--arch", &o->arch}, {"--size", &o->size}, {"--type", &o->type}, {"--tokenizer", &o->tokenizer},
                {"--name", &o->name}, {"--pre", &o->pre}, {"-o", &o->out}, {"--output", &o->out}, {"--rope-scaling", &o->rope_scaling}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            exit(0);
        }
        if (strcmp(a, "--tie") == 0 || strcmp(a, "--untie") == 0) {
            o->tie = strcmp(a, "--tie") == 0;
            continue;
        }
        if (strcmp(a, "--vocab-only") == 0) {
            o->vocab_only = true;
            continue;
        }
        if (i + 1 >= argc) return usage_error("%s needs a value, or is unknown", a);
        const char *v = argv[++i];
        bool taken = false;
        for (size_t k = 0; k < sizeof strs / sizeof strs[0] && !taken; k++)
            if (strcmp(a, strs[k].name) == 0) *strs[k].dst = v, taken = true;
        for (size_t k = 0; k < sizeof ints / sizeof ints[0] && !taken; k++)
            if (strcmp(a, ints[k].name) == 0) {
                long long x;
                if (!parse_int(v, ints[k].lo, ints[k].hi, &x))
                    return usage_error("%s: '%s' is not a whole number in [%lld, %lld]", a, v, ints[k].lo, ints[k].hi);
                *ints[k].dst = (int)x;
                taken = true;
            }
        if (!taken && strcmp(a, "--seed") == 0) {
            if (!parse_int(v, 0, (1LL << 62), &o->seed)) return usage_error("--seed: '%s' is not a whole number", v);
            taken = true;
        }
        float *fl = strcmp(a, "--norm-noise") == 0 ? &o->norm_noise : strcmp(a, "--embed-std") == 0 ? &o->embed_std
                  : strcmp(a, "--matrix-std") == 0 ? &o->matrix_std : NULL;
        if (!taken && fl) {
            if (!parse_float(v, fl)) return usage_error("%s: '%s' is not a number in [0, 1e6]", a, v);
            taken = true;
        }
        if (!taken) return usage_error("unknown option '%s'", a);
    }
    if (!o->arch) return usage_error("--arch is required");
    if (!o->out) return usage_error("-o OUT is required");
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Applies the options over the preset; 0 or a usage error's status. */
static int make_spec(const struct options *o, struct mm_spec *s)
{
    int arch = mm_arch_from_name(o->arch);
    if (arch < 0) return usage_error("--arch: '%s' is not one of llama, qwen2, qwen3, gemma3", o->arch);
    if (mm_spec_preset(s, (enum mm_arch)arch, o->size) != 0)
        return usage_error("--size: '%s' is not one of tiny, small, medium, 0.6b, 1b", o->size);
    if (o->layers) s->layers = o->layers;
    if (o->dim) s->hidden = o->dim;
    if (o->ffn) s->ffn = o->ffn;
    if (o->heads) s->heads = o->heads;
    if (o->kv_heads) s->kv_heads = o->kv_heads;
    if (o->dim && !o->head_dim && (arch == MM_LLAMA || arch == MM_QWEN2)) s->head_dim = s->hidden / s->heads;
    if (o->head_dim) s->head_dim = o->head_dim;
    if (o->ctx) s->ctx = o->ctx;
    if (o->tie >= 0) s->tie = o->tie;
    if (o->sliding_window) s->sliding_window = o->sliding_window;
    if (o->swa_pattern) s->swa_pattern = o->swa_pattern;
    if ((o->sliding_window || o->swa_pattern) && arch != MM_GEMMA3)
        return usage_error("--sliding-window and --swa-pattern apply to gemma3 only");
    if (o->rope_scaling) {
        if (strcmp(o->rope_scaling, "none") != 0 && strcmp(o->rope_scaling, "llama3") != 0)
            return usage_error("--rope-scaling: '%s' is not none or llama3", o->rope_scaling);
        s->rope_llama3 = strcmp(o->rope_scaling, "llama3") == 0;
        if (s->rope_llama3 && arch != MM_LLAMA) return usage_error("--rope-scaling llama3 applies to llama only");
    }
    if (s->heads % s->kv_heads) return usage_error("--heads (%d) must be a multiple of --kv-heads (%d)", s->heads, s->kv_heads);
    if (s->head_dim % 2) return usage_error("the head size (%d) must be even", s->head_dim);
    s->seed = (uint64_t)o->seed;
    s->norm_noise = o->norm_noise;
    s->embed_std = o->embed_std;
    s->matrix_std = o->matrix_std;
    return 0;
}

/* ---- directories ---- */

static int write_file(const char *dir, const char *file, const char *text)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *fp = fopen(path, "wb");
    size_t n = text ? strlen(text) : 0;
    int rc = fp && text && fwrite(text, 1, n, fp) == n ? 0 : -1;
    if (fp && fclose(fp) != 0) rc = -1;
    return rc;
}

/* Files a previous run may have left in an output directory. */
static void clear_outputs(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[4200];
    while ((e = readdir(d)))
        if (ends_with(e->d_name, ".safetensors") || strcmp(e->d_name, "model.safetensors.index.json") == 0 ||
            strcmp(e->d_name, "tokenizer.json") == 0 || strcmp(e->d_name, "tokenizer_config.json") == 0 ||
            strcmp(e->d_name, "chat_template.jinja") == 0) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[4200];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
            }
        closedir(d);
    }
    rmdir(dir);
}

static const char *torch_dtype(const char *dtype)
{
    return strcmp(dtype, "f32") == 0 ? "float32" : strcmp(dtype, "f16") == 0 ? "float16" : "bfloat16";
}

static int write_hf_dir(const struct mm_spec *s, const struct mm_tokenizer *tok, const struct mm_hf_options *h,
                        const char *dir, inf_error *err)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        err_fail(err, INF_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
        return -1;
    }
    clear_outputs(dir);
    char *cfg = mm_config_json(s, torch_dtype(h->dtype), h->mlx_bits, h->mlx_group);
    char *gen = mm_generation_config_json(s);
    int rc = write_file(dir, "config.json", cfg) || write_file(dir, "generation_config.json", gen) ? -1 : 0;
    free(cfg);
    free(gen);
    if (rc) {
        err_fail(err, INF_ERR_IO, "%s: cannot write config.json", dir);
        return -1;
    }
    if (mm_tokenizer_save(tok, dir, err) != 0) return -1;
    return mm_write_safetensors(s, h, dir, err);
}

/* ---- GGUF ---- */

static int write_vocab_only(const struct mm_spec *s, const struct mm_tokenizer *tok, const char *name, const char *pre,
                            const char *out, const char *tmpdir, inf_error *err)
{
    struct gguf_wbuf kv = {0}, file = {0};
    gguf_wbuf_kv_str(&kv, "general.architecture", mm_arch_name(s->arch));
    gguf_wbuf_kv_str(&kv, "general.type", "vocab");
    gguf_wbuf_kv_str(&kv, "general.name", name);
    int rc;
    if (mm_tokenizer_gguf(tok)) {
        rc = gguf_tokenizer_copy_kvs(&kv, mm_tokenizer_gguf(tok), NULL, err);
    } else {
        char *cfg = mm_config_json(s, "float32", 0, 0);
        rc = mkdir(tmpdir, 0700) != 0 || write_file(tmpdir, "config.json", cfg) ? -1 : 0;
        free(cfg);
        if (rc == 0) rc = mm_tokenizer_save(tok, tmpdir, err);
        if (rc == 0) rc = hf_tokenizer_gguf_kvs(&kv, tmpdir, s->vocab, pre, err);
        remove_tree(tmpdir);
    }
    gguf_wbuf_put(&file, "GGUF", 4);
    gguf_wbuf_u32(&file, 3);
    gguf_wbuf_u64(&file, 0);
    gguf_wbuf_u64(&file, kv.n_kv);
    gguf_wbuf_put(&file, kv.b.p, kv.b.n);
    if (rc == 0 && (kv.b.oom || file.b.oom)) {
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        rc = -1;
    }
    if (rc == 0) {
        FILE *fp = fopen(out, "wb");
        size_t pad = (32 - file.b.n % 32) % 32;
        static const char zeros[32];
        rc = fp && fwrite(file.b.p, 1, file.b.n, fp) == file.b.n && fwrite(zeros, 1, pad, fp) == pad ? 0 : -1;
        if (fp && fclose(fp) != 0) rc = -1;
        if (rc) err_fail(err, INF_ERR_IO, "%s: cannot write", out);
    }
    gguf_wbuf_free(&kv);
    gguf_wbuf_free(&file);
    return rc;
}

/* f32/f16/bf16 come straight from the conversion; other types are
 * quantised from the f32 conversion (as llama-quantize would be run). */
static int write_gguf(const struct mm_spec *s, const struct mm_tokenizer *tok, const char *type, const char *name,
                      const char *pre, const char *out, const char *tmpdir, inf_error *err)
{
    bool direct = strcmp(type, "f32") == 0 || strcmp(type, "f16") == 0 || strcmp(type, "bf16") == 0;
    struct mm_hf_options h = {.dtype = direct ? type : "f32", .shards = 1, .sort_by_name = false};
    int rc = write_hf_dir(s, tok, &h, tmpdir, err);
    char converted[4300];
    snprintf(converted, sizeof converted, "%.4200s.f32.gguf", tmpdir);
    struct hf_convert_options co = {.name = name, .pre = pre, .vocab_from = mm_tokenizer_gguf(tok)};
    if (rc == 0) rc = hf_convert_to_gguf(tmpdir, direct ? out : converted, &co, err);
    remove_tree(tmpdir);
    if (rc == 0 && !direct) {
        struct model_quantize_params p = {.ftype = model_ftype_from_name(type)};
        p.pure = !(ends_with(type, "_m") || ends_with(type, "_l"));
        rc = model_quantize_file(converted, out, &p, NULL, err);
    }
    unlink(converted);
    return rc;
}

static bool gguf_type_ok(const char *t)
{
    return strcmp(t, "f32") == 0 || strcmp(t, "f16") == 0 || strcmp(t, "bf16") == 0 ||
           (model_ftype_from_name(t) >= 0 && strcmp(t, "F32") != 0);
}

int main(int argc, char **argv)
{
    struct options o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc;
    struct mm_spec spec;
    if ((rc = make_spec(&o, &spec)) != 0) return rc;
    bool gguf = ends_with(o.out, ".gguf");
    const char *type = o.type ? o.type : gguf ? "f32" : "bf16";
    int mlx_bits = strcmp(type, "mlx4") == 0 ? 4 : strcmp(type, "mlx8") == 0 ? 8 : 0;
    if (gguf && !gguf_type_ok(type)) return usage_error("--type: '%s' is not a GGUF type this tool writes", type);
    if (!gguf && !mlx_bits && strcmp(type, "f32") && strcmp(type, "f16") && strcmp(type, "bf16"))
        return usage_error("--type: a directory is f32, f16, bf16, mlx4 or mlx8, not '%s' (for GGUF end OUT in .gguf)", type);
    if (o.vocab_only && !gguf) return usage_error("--vocab-only writes a GGUF: end OUT in .gguf");
    if (mlx_bits && o.mlx_group != 32 && o.mlx_group != 64 && o.mlx_group != 128)
        return usage_error("--mlx-group must be 32, 64 or 128");
    inf_error err = {0};
    struct mm_tokenizer *tok = mm_tokenizer_load(o.tokenizer, o.vocab_limit, &err);
    if (!tok) return fail("%s", err.message);
    if (!gguf && mm_tokenizer_gguf(tok)) {
        mm_tokenizer_free(tok);
        return usage_error("a directory needs a tokenizer.json source, not %s", o.tokenizer);
    }
    spec.vocab = mm_tokenizer_n_tokens(tok);
    mm_tokenizer_special_ids(tok, &spec);
    char name[256], tmpdir[4200];
    if (o.name) snprintf(name, sizeof name, "%s", o.name);
    else snprintf(name, sizeof name, "random-%s-%s-%s-seed%lld", o.arch, o.size, type, o.seed);
    snprintf(tmpdir, sizeof tmpdir, "%s.tmp%ld", o.out, (long)getpid());
    if (o.vocab_only) {
        rc = write_vocab_only(&spec, tok, name, o.pre, o.out, tmpdir, &err);
    } else if (gguf) {
        rc = write_gguf(&spec, tok, type, name, o.pre, o.out, tmpdir, &err);
    } else {
        struct mm_hf_options h = {.dtype = mlx_bits ? "bf16" : type, .mlx_bits = mlx_bits,
                                  .mlx_group = mlx_bits ? o.mlx_group : 0, .shards = o.shards, .sort_by_name = true};
        rc = write_hf_dir(&spec, tok, &h, o.out, &err);
    }
    mm_tokenizer_free(tok);
    if (rc != 0) return fail("%s", err.message);
    fprintf(stderr, "make-model: wrote %s (%s, %d layers, dim %d, vocab %d, %s)\n", o.out, o.arch, spec.layers,
            spec.hidden, spec.vocab, type);
    return 0;
}
