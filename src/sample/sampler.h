/* sampler.h - from a vector of logits to one token id.
 *
 * Layer: engine. Knows nothing of models or text. The chain, applied in
 * llama.cpp's default order so that equal options mean the same thing:
 * repeat penalty (over the last repeat_last_n tokens) -> top-k -> top-p ->
 * min-p -> temperature -> draw. Temperature 0 is greedy (argmax; the lowest id
 * wins a tie) after the penalty.
 *
 * A sampler holds scratch space and its random state: one per sequence,
 * used by one thread at a time. */
#ifndef INF_SAMPLE_SAMPLER_H
#define INF_SAMPLE_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

struct sampler_params {
    float temperature;    /* 0 = greedy */
    int top_k;            /* 0 = off */
    float top_p;          /* 0 or 1 = off */
    float min_p;          /* 0 = off */
    float repeat_penalty; /* 0 or 1 = off */
    int repeat_last_n;    /* window of recent tokens for the penalty */
    uint64_t seed;        /* UINT64_MAX = seed from the clock */
};

struct sampler;

/* NULL when out of memory. n_vocab > 0. */
struct sampler *sampler_create(const struct sampler_params *p, int n_vocab);
void sampler_free(struct sampler *s);

/* Picks a token from logits[0..n_vocab) (not modified). recent holds the
 * sequence so far (prompt and generated), oldest first; only its last
 * repeat_last_n entries matter. Returns the id, or -1 when the logits hold a
 * NaN (a broken model: the caller reports it). */
int32_t sampler_sample(struct sampler *s, const float *logits, const int32_t *recent, size_t n_recent);

#endif
