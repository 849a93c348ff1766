/* perplexity.h - perplexity of a model over a text, computed the way
 * llama.cpp's llama-perplexity does (the engine of `infer perplexity`):
 *
 *   - the text is tokenized once (with BOS when the model asks for it);
 *   - it is cut into n_chunks = n_tokens / n_ctx windows of n_ctx tokens
 *     (the tail that does not fill a window is dropped);
 *   - each window is evaluated from an empty cache, its first token replaced
 *     by BOS when the model adds BOS;
 *   - only the second half of each window is scored: the logits at
 *     positions j = n_ctx/2 .. n_ctx-2 against the token at j+1, so every
 *     scored token has at least n_ctx/2 tokens of context;
 *   - PPL = exp(mean NLL); its uncertainty is PPL * sd(NLL) / sqrt(N-1)
 *     (llama.cpp's "+/-" figure).
 *
 * Layer: offline (uses model/ and text/tokenizer.h). Nothing prints;
 * errors are returned with a message. */
#ifndef INF_OFFLINE_PERPLEXITY_H
#define INF_OFFLINE_PERPLEXITY_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct model;

/* Called after each window with the running estimate. */
typedef void (*model_ppl_progress_fn)(void *user, int chunk, int n_chunks, double ppl_so_far);

struct model_ppl_params {
    int n_ctx;          /* window length (>= 4); <= 0: 512 */
    int n_batch;        /* tokens per forward call; <= 0: 512 */
    int n_threads;      /* <= 0: physical cores */
    int max_chunks;     /* <= 0: all */
    bool replace_bos;   /* put bos at the start of each window */
    int32_t bos;
    model_ppl_progress_fn progress;
    void *progress_user;
};

struct model_ppl_result {
    int n_ctx;
    int n_chunks;
    int64_t n_tokens;   /* tokens of the text */
    int64_t n_scored;   /* predictions scored */
    double nll;         /* mean negative log-likelihood (nats) */
    double ppl;
    double ppl_err;     /* one standard error of ppl */
};

/* Over a token sequence. Needs n_tokens >= 2 * n_ctx (else -1 with a
 * message saying how many tokens are needed). */
int model_perplexity(struct model *m, const int32_t *tokens, size_t n_tokens, const struct model_ppl_params *params,
                     struct model_ppl_result *out, inf_error *err);

/* Over a text: tokenizes it with the model's own tokenizer (GGUF metadata,
 * or tokenizer.json for a model loaded from a Hugging Face directory at
 * model_path), BOS as the model asks, then model_perplexity. params->bos
 * and replace_bos are filled from the tokenizer. */
int model_perplexity_text(struct model *m, const char *model_path, const char *text, size_t len,
                          const struct model_ppl_params *params, struct model_ppl_result *out, inf_error *err);

/* The whole of `infer perplexity`: loads the model at model_path (GGUF
 * file or Hugging Face directory), runs model_perplexity_text, frees it. */
int model_perplexity_file(const char *model_path, const char *text, size_t len, const struct model_ppl_params *params,
                          struct model_ppl_result *out, inf_error *err);

#ifdef __cplusplus
}
#endif
#endif
