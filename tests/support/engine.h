/* engine.h - our engine on token ids, for tests that compare it with a
 * reference: a model's logits at every position of a prompt, and a greedy
 * continuation. Loads GGUF files and Hugging Face directories (model_load).
 * Failures are test failures (CHECK_MSG) and return -1 / NULL. */
#ifndef INF_TEST_ENGINE_H
#define INF_TEST_ENGINE_H

#include <stdint.h>

struct model;

/* The model at path, or NULL (a failed check). kv_type: tensor type of the
 * KV cache (0 = f32, 1 = f16, 8 = q8_0); -1 for the default. */
struct model *engine_load(const char *path, int kv_type);
int engine_n_vocab(const struct model *m);
/* Logits of every position of ids (n * n_vocab floats, malloc'd), or NULL. */
float *engine_logits_all(struct model *m, const int32_t *ids, int n);
/* n_new greedy ids after ids into out; returns how many were made, -1 on
 * failure. No stop on end-of-generation (as llama.cpp's goldens). */
int engine_greedy(struct model *m, const int32_t *ids, int n, int n_new, int32_t *out);

#endif
