/* golden.h - llama.cpp's reference outputs for a test model, from the test
 * data's golden/NAME/N.json and its logits: N.logits.f32 (raw logits, the
 * conformance data of ../shared/testdata, written by llama-debug) or
 * N.logprobs.f32 (log-softmax, what tests/oracles/llama_goldens.mjs writes
 * for the models make test generates; node-llama-cpp reports probabilities).
 * Either way golden_load gives the log-softmax, and tests compare it with
 * the log-softmax of our logits (the same comparison up to a constant).
 * A missing file fails the test, naming it. */
#ifndef INF_TEST_GOLDEN_H
#define INF_TEST_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

#define GOLDEN_MAX_IDS 256

typedef struct golden {
    char prompt[256];
    int32_t prompt_ids[GOLDEN_MAX_IDS];
    int n_prompt_ids;
    int32_t greedy_ids[GOLDEN_MAX_IDS];
    int n_greedy;
    char stop[16];           /* "limit" or "eos" */
    float *logprobs;         /* log-softmax at the last prompt position */
    int n_vocab;
    float range;             /* max - min of the logits (= of the log-probs) */
} golden;

/* Loads golden/NAME/IDX.* from $INF_TESTDATA; exits 1 naming a missing file. */
void golden_load(const char *name, int idx, golden *g);
void golden_free(golden *g);
/* out[i] = x[i] - log(sum exp x), computed in double. out may be x. */
void golden_log_softmax(const float *x, int n, float *out);
/* max |golden - log_softmax(ours)| over the vocabulary, divided by the
 * golden range (ours: raw logits of n_vocab entries). */
double golden_rel_diff(const golden *g, const float *our_logits);

#endif
