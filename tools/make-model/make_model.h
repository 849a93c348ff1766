/* make_model.h - what the files of build/make-model share.
 *
 * make-model writes deterministic random-weight models in the real layouts
 * of the architectures the engine runs, for tests and benchmarks: GGUF
 * files in every tensor type, Hugging Face directories (f32/f16/bf16
 * safetensors, optionally sharded with an index) and MLX affine 4/8-bit
 * directories. The same command gives the same bytes on every machine.
 *
 * How a model is made (one path for every output):
 *   1. spec.c: the hyper-parameters (a size preset, then the options) and
 *      the tensor table in Hugging Face names and layout;
 *   2. tokenizer_src.c: the vocabulary (a tokenizer.json directory, pruned
 *      on request; the tokenizer.* keys of a GGUF file; or a small
 *      byte-level BPE of our own, trained here on a fixed text);
 *   3. weights.c: every tensor's float32 "master" values from its own
 *      random stream, written as safetensors (and MLX-quantised);
 *   4. a GGUF is the library's conversion of that directory (written in
 *      f32, f16 or bf16), then the library's quantiser for other types.
 *
 * Random numbers (the convention of ../shared/tools/make_model.py, so its
 * files and ours hold the same weights): tensor NAME of seed S has the
 * stream key FNV-1a-64("S/NAME"); element i takes SplitMix64 outputs of
 * counters 2i+1 and 2i+2 (state = key + counter * 0x9E3779B97F4A7C15),
 * u = top 53 bits / 2^53, value = sqrt(-2 ln(1 - u1)) cos(2 pi u2). */
#ifndef MAKE_MODEL_H
#define MAKE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum mm_arch { MM_LLAMA, MM_QWEN2, MM_QWEN3, MM_GEMMA3, MM_ARCH_COUNT };

/* What a tensor holds, which decides its initial values. */
enum mm_kind { MM_EMBED, MM_MATRIX, MM_NORM, MM_BIAS };

struct mm_spec {
    enum mm_arch arch;
    const char *size;          /* preset name, for the default general.name */
    int hidden, layers, heads, kv_heads, head_dim, ffn, vocab, ctx;
    float rms_eps, rope_theta, rope_theta_local;
    int sliding_window, swa_pattern; /* gemma3 */
    bool tie;
    bool rope_llama3;          /* Llama 3.1 rope scaling (llama only) */
    float norm_noise, embed_std, matrix_std; /* 0: defaults */
    uint64_t seed;
    /* special ids for config.json (-1: none) */
    int bos, eos, pad;
    int eog[8], n_eog;
};

struct mm_tensor {
    char name[96];             /* Hugging Face name */
    int n_dims;
    int64_t shape[2];          /* outermost first */
    enum mm_kind kind;
};

/* ---- spec.c ---- */

/* Architecture by name (llama, qwen2, qwen3, gemma3); -1 when unknown. */
int mm_arch_from_name(const char *name);
const char *mm_arch_name(enum mm_arch a);
/* Fills spec from a size preset (tiny, small, medium, 0.6b, 1b) for arch;
 * vocab, tie and the rest are left for the caller. -1 when unknown. */
int mm_spec_preset(struct mm_spec *s, enum mm_arch arch, const char *size);
/* The tensor table in a fixed order; *n gets the count. malloc'd. */
struct mm_tensor *mm_tensor_table(const struct mm_spec *s, int *n);
/* Whether layer i is a sliding-window layer (gemma3). */
bool mm_layer_is_swa(const struct mm_spec *s, int i);
/* config.json and generation_config.json text (malloc'd).
 * torch_dtype: "float32"...; mlx_bits/group 0 when unquantised. */
char *mm_config_json(const struct mm_spec *s, const char *torch_dtype, int mlx_bits, int mlx_group);
char *mm_generation_config_json(const struct mm_spec *s);

/* ---- tokenizer_src.c ---- */

struct mm_tokenizer;

/* source: a directory with tokenizer.json, a .gguf file, or NULL for the
 * built-in byte-level BPE. vocab_limit 0: keep all (tokenizer.json only).
 * Returns NULL with err on failure. */
struct mm_tokenizer *mm_tokenizer_load(const char *source, int vocab_limit, inf_error *err);
void mm_tokenizer_free(struct mm_tokenizer *t);
int mm_tokenizer_n_tokens(const struct mm_tokenizer *t);
/* The GGUF file to copy tokenizer.* keys from, or NULL (tokenizer.json). */
const char *mm_tokenizer_gguf(const struct mm_tokenizer *t);
/* bos/eos/pad and the end-of-generation ids, as the real configs hold them. */
void mm_tokenizer_special_ids(const struct mm_tokenizer *t, struct mm_spec *s);
/* Write tokenizer.json, tokenizer_config.json (and chat_template.jinja when
 * the source had one) into dir; nothing for a GGUF source. 0 or -1. */
int mm_tokenizer_save(const struct mm_tokenizer *t, const char *dir, inf_error *err);

/* ---- weights.c ---- */

/* The float32 master values of one tensor (n elements into out). */
void mm_tensor_values(const struct mm_spec *s, const struct mm_tensor *t, float *out);
/* FNV-1a 64 of "seed/name" and the n normals of that stream. */
uint64_t mm_stream_key(uint64_t seed, const char *name);
void mm_random_normal(uint64_t key, float *out, int64_t n);

struct mm_hf_options {
    const char *dtype;         /* "f32", "f16", "bf16" */
    int mlx_bits, mlx_group;   /* 0: no MLX quantisation */
    int shards;                /* >= 1 */
    bool sort_by_name;         /* as PyTorch/MLX savers do; false: table order */
};

/* Write the safetensors (and the index when sharded) of spec into dir.
 * 0, or -1 with err. */
int mm_write_safetensors(const struct mm_spec *s, const struct mm_hf_options *o, const char *dir, inf_error *err);

#endif
