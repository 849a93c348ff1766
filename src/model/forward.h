/* forward.h - the one forward pass (declared in model.h: model_forward).
 *
 * How it runs, for a batch of tokens from possibly several sequences:
 *   - the batch is cut into micro-batches of at most FORWARD_UBATCH tokens
 *     (batch order kept), so scratch memory stays bounded;
 *   - activations are [n_tokens x dim] row-major; every matrix product is
 *     one tensor_matmul over the whole micro-batch;
 *   - per layer: RMS norm, Q/K/V (+bias), q/k head norms, RoPE (norm or
 *     neox, global or sliding-window base, optional per-frequency factors),
 *     K/V stored into each token's cache at its position, attention per
 *     (sequence, kv head, block of tokens) with an online softmax over the
 *     cache (causal, sliding window where the layer has one), output
 *     projection, optional post-norm, residual; then the FFN the same way
 *     (SwiGLU or GeGLU);
 *   - final norm and output projection only for tokens that want logits.
 * Architectures differ only by the data in struct model_hparams / arch.h. */
#ifndef INF_MODEL_FORWARD_H
#define INF_MODEL_FORWARD_H

#include "model/model.h"

#define FORWARD_UBATCH 512     /* tokens per micro-batch */
#define FORWARD_ATTN_TOKENS 32 /* query tokens sharing one pass over the K/V blocks */
#define FORWARD_ATTN_BLOCK 64  /* cache positions per K/V block */

#endif
