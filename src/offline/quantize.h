/* quantize.h - rewrite a GGUF model (or a Hugging Face directory, via
 * offline/hf_convert.h) with its weight matrices quantised: the engine of
 * `infer quantize`.
 *
 * Layer: engine/model. Uses formats/ (GGUF reader, HF converter) and
 * tensor/ (row quantisers, threadpool); knows nothing of the CLI.
 *
 * What it writes, as llama.cpp's llama-quantize does:
 *   - every metadata pair of the input, in order, with general.file_type set
 *     to the llama.cpp file type and general.quantization_version = 2;
 *   - every tensor in input order; 2-D+ "*.weight" matrices (not norms,
 *     not ffn_gate_inp, not position / token-type embeddings) in the type
 *     the mix picks (model_quant_tensor_type), everything else unchanged;
 *   - tensor data aligned to the input's alignment (general.alignment or 32).
 * A matrix whose row length is not a multiple of the chosen block size
 * falls back as llama.cpp does (K-quants: Q4_K->Q5_0, Q5_K->Q5_1,
 * Q6_K->Q8_0, Q2_K/Q3_K->Q5_0 where llama.cpp would use IQ4_NL, which this
 * library cannot write; then F16 when even 32 does not divide the row).
 *
 * Streaming: tensors are processed in chunks of rows; memory is bounded by
 * one chunk (a few MiB) plus a row of floats per thread, not by the model.
 * The output goes to "<out>.tmp" and is renamed into place on success.
 * Nothing prints; errors name the file and tensor. */
#ifndef INF_OFFLINE_QUANTIZE_H
#define INF_OFFLINE_QUANTIZE_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor/tensor_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* llama.cpp's file types (general.file_type values, enum llama_ftype). */
enum model_ftype {
    MODEL_FTYPE_F32 = 0,
    MODEL_FTYPE_F16 = 1,
    MODEL_FTYPE_Q4_0 = 2,
    MODEL_FTYPE_Q4_1 = 3,
    MODEL_FTYPE_Q8_0 = 7,
    MODEL_FTYPE_Q5_0 = 8,
    MODEL_FTYPE_Q5_1 = 9,
    MODEL_FTYPE_Q2_K = 10,
    MODEL_FTYPE_Q3_K_S = 11,
    MODEL_FTYPE_Q3_K_M = 12,
    MODEL_FTYPE_Q3_K_L = 13,
    MODEL_FTYPE_Q4_K_S = 14,
    MODEL_FTYPE_Q4_K_M = 15,
    MODEL_FTYPE_Q5_K_S = 16,
    MODEL_FTYPE_Q5_K_M = 17,
    MODEL_FTYPE_Q6_K = 18,
    MODEL_FTYPE_BF16 = 32,
};

/* Parses a type name, case-insensitive: "q8_0", "q4_0", "q4_1", "q5_0",
 * "q5_1", "q2_k", "q3_k" (= q3_k_s), "q3_k_s", "q3_k_m", "q3_k_l", "q4_k"
 * (= q4_k_s), "q4_k_s", "q4_k_m", "q5_k" (= q5_k_s), "q5_k_s", "q5_k_m",
 * "q6_k", "f16", "bf16", "f32". Returns the model_ftype or -1. */
int model_ftype_from_name(const char *name);
/* "Q4_K_M" etc.; "unknown" for other values. */
const char *model_ftype_name(int ftype);
/* The tensor type a file type uses for ordinary matrices (Q4_K for
 * Q4_K_M...), or -1. */
int model_ftype_base_type(int ftype);

/* What the mix decides for one tensor (llama.cpp's rules). */
struct model_quant_ctx {
    int ftype;
    bool pure;           /* every matrix in the base type: llama-quantize --pure */
    bool has_output;     /* the model has output.weight (else tied to token_embd) */
    int n_layer;         /* blocks (count of ffn_down tensors) */
    int n_attn_v;        /* count of attn_v tensors */
    int n_gqa;           /* head_count / head_count_kv (1 when unknown) */
    int i_attn_v;        /* running counters, advanced by the calls below */
};

/* Whether llama.cpp would quantise this tensor at all. */
bool model_quant_wants(const char *name, int n_dims);
/* The type for tensor `name` (ne0 = row length) under ctx; advances the
 * counters of ctx. Call once per quantisable tensor, in file order. */
int model_quant_tensor_type(struct model_quant_ctx *ctx, const char *name, int64_t ne0);

/* Progress callback: called after each chunk with the bytes of input
 * processed so far and the total; tensor is the current tensor's name. */
typedef void (*model_quant_progress_fn)(void *user, uint64_t done, uint64_t total, const char *tensor);

struct model_quantize_params {
    int ftype;                 /* enum model_ftype */
    bool pure;
    int n_threads;             /* <= 0: os_physical_cores() */
    model_quant_progress_fn progress; /* may be NULL */
    void *progress_user;
};

/* Per-run figures (may be passed as NULL). */
struct model_quantize_stats {
    int64_t n_tensors;
    int64_t n_quantized;       /* tensors whose type changed */
    int64_t n_fallback;        /* tensors that fell back to another type */
    uint64_t bytes_in;         /* tensor data in */
    uint64_t bytes_out;        /* tensor data out */
    int type_count[TENSOR_TYPE_COUNT]; /* output tensors per tensor type */
};

/* Reads in_path (a GGUF file, or a Hugging Face directory which is first
 * converted to a temporary GGUF beside out_path) and writes out_path.
 * Returns 0, or -1 with err naming the file / tensor (out_path then does
 * not exist). */
int model_quantize_file(const char *in_path, const char *out_path, const struct model_quantize_params *params,
                        struct model_quantize_stats *stats, inf_error *err);

#ifdef __cplusplus
}
#endif
#endif
