/* batch.c - the llama_cpp backend's Classify and BatchGenerate: every
 * prompt one transfer, all of them at once on a curl multi handle (the
 * server's slots run them in parallel), each prompt's outcome kept apart so
 * that one failure does not fail the others. */
#include "backends/llama_cpp/lc_internal.h"

#include "base/error.h"
#include "base/str.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Classify and BatchGenerate: many transfers at once                      */
/* ---------------------------------------------------------------------- */

/* What one prompt of a batch produced. */
typedef struct lc_outcome {
    inf_token *tokens;
    size_t n_tokens, cap;
    int32_t first_prob_id;
    inf_status status;
    char message[INF_ERROR_MESSAGE_MAX];
} lc_outcome;

static void drain_tokens(lc_xfer *x, lc_outcome *o)
{
    lc_tok t;
    while (lc_xfer_pop(x, &t)) {
        if (o->n_tokens == o->cap) {
            size_t cap = o->cap ? o->cap * 2 : 32;
            inf_token *p = realloc(o->tokens, cap * sizeof *p);
            if (!p) {
                free(t.text);
                o->status = INF_ERR_NO_MEMORY;
                snprintf(o->message, sizeof o->message, "llama_cpp: out of memory");
                continue;
            }
            o->tokens = p;
            o->cap = cap;
        }
        o->tokens[o->n_tokens].id = t.id;
        o->tokens[o->n_tokens].text = t.text;
        o->n_tokens++;
    }
}

static void finish_one(lc_model *m, lc_xfer *x, lc_outcome *o)
{
    drain_tokens(x, o);
    o->first_prob_id = x->first_prob_id;
    inf_error e;
    inf_status st = lc_xfer_outcome(x, m, &e);
    if (st == INF_OK) lc_record_metrics(m, x);
    else if (o->status == INF_OK) {
        o->status = st;
        snprintf(o->message, sizeof o->message, "%s", e.message);
    }
}

/* Run every prompt as its own streamed request, at most m->slots at once.
 * Per-prompt failures land in out[i]; cancellation marks the unfinished ones. */
static void run_batch(lc_model *m, const char *const *prompts, size_t n, const inf_generate_config *cfg, int n_probs,
                      inf_cancel *cancel, lc_outcome *out)
{
    CURLM *multi = curl_multi_init();
    lc_xfer **xs = calloc(n ? n : 1, sizeof *xs);
    if (!multi || !xs) {
        for (size_t i = 0; i < n; i++) {
            out[i].status = INF_ERR_NO_MEMORY;
            snprintf(out[i].message, sizeof out[i].message, "llama_cpp: out of memory");
        }
        if (multi) curl_multi_cleanup(multi);
        free(xs);
        return;
    }
    size_t next = 0, active = 0, done = 0;
    while (done < n) {
        while (active < (size_t)m->slots && next < n) {
            inf_error e;
            size_t i = next++;
            xs[i] = lc_xfer_new(m, m->proto, prompts[i] ? prompts[i] : "", NULL, 0, cfg, n_probs, &e);
            if (!xs[i] || curl_multi_add_handle(multi, xs[i]->easy) != CURLM_OK) {
                out[i].status = INF_ERR_NO_MEMORY;
                snprintf(out[i].message, sizeof out[i].message, "llama_cpp: cannot start the transfer");
                lc_xfer_free(xs[i]);
                xs[i] = NULL;
                done++;
                continue;
            }
            active++;
        }
        if (inf_cancel_status(cancel) != INF_OK) {
            inf_error e;
            inf_status st = err_cancelled(inf_cancel_status(cancel), &e);
            for (size_t i = 0; i < n; i++) {
                if (xs[i]) drain_tokens(xs[i], &out[i]);
                if (xs[i] || i >= next) {
                    out[i].status = st;
                    snprintf(out[i].message, sizeof out[i].message, "%s", e.message);
                }
            }
            break;
        }
        lc_multi_step(multi, 50);
        for (size_t i = 0; i < next; i++) {
            lc_xfer *x = xs[i];
            if (!x) continue;
            drain_tokens(x, &out[i]);
            if (!(x->finished || x->got_final || x->stop_local || x->status != INF_OK)) continue;
            finish_one(m, x, &out[i]);
            curl_multi_remove_handle(multi, x->easy);
            lc_xfer_free(x);
            xs[i] = NULL;
            active--;
            done++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!xs[i]) continue;
        curl_multi_remove_handle(multi, xs[i]->easy);
        lc_xfer_free(xs[i]);
    }
    free(xs);
    curl_multi_cleanup(multi);
}

static void outcome_free(lc_outcome *o)
{
    for (size_t i = 0; i < o->n_tokens; i++) free((char *)o->tokens[i].text);
    free(o->tokens);
    o->tokens = NULL;
    o->n_tokens = 0;
}

inf_status lc_classify(void *impl, const char *const *prompts, size_t n, const inf_generate_config *cfg,
                              inf_cancel *cancel, inf_classify_result *results, inf_error *err)
{
    lc_model *m = impl;
    if (cfg->logits) {
        inf_error_set(err, INF_ERR_UNSUPPORTED,
                      "llama_cpp: the server at %s cannot return raw logits (its API gives only top-n probabilities); "
                      "classify without logits", m->root);
        return INF_ERR_UNSUPPORTED;
    }
    lc_outcome *out = calloc(n ? n : 1, sizeof *out);
    if (!out) { inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: out of memory"); return INF_ERR_NO_MEMORY; }
    inf_generate_config one = *cfg;
    one.max_tokens = 1;
    run_batch(m, prompts, n, &one, 1, cancel, out);
    inf_status st = INF_OK;
    for (size_t i = 0; i < n; i++) {
        if (out[i].status != INF_OK && st == INF_OK) {
            st = out[i].status;
            inf_error_set(err, st, "%s (prompt %zu)", out[i].message, i);
        }
        if (out[i].n_tokens > 0) {
            results[i].token = out[i].tokens[0];
            out[i].tokens[0].text = NULL;
            for (size_t k = 1; k < out[i].n_tokens; k++) free((char *)out[i].tokens[k].text);
            out[i].n_tokens = 0;
        } else {
            /* The token ended generation at once (end-of-sequence): only the
             * probabilities name it. */
            results[i].token.id = out[i].first_prob_id;
            results[i].token.text = str_dup_or_empty("");
        }
        outcome_free(&out[i]);
    }
    free(out);
    if (st == INF_OK) inf_error_clear(err);
    return st;
}

inf_status lc_batch_generate(void *impl, const char *const *prompts, size_t n, const inf_generate_config *cfg,
                                    inf_cancel *cancel, inf_batch_result *results, inf_error *err)
{
    lc_model *m = impl;
    lc_outcome *out = calloc(n ? n : 1, sizeof *out);
    if (!out) { inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: out of memory"); return INF_ERR_NO_MEMORY; }
    if (cfg->max_tokens > 0) run_batch(m, prompts, n, cfg, 0, cancel, out);
    for (size_t i = 0; i < n; i++) {
        results[i].tokens = out[i].tokens;
        results[i].n_tokens = out[i].n_tokens;
        results[i].status = out[i].status;
        results[i].error = out[i].status != INF_OK ? str_dup_or_empty(out[i].message) : NULL;
    }
    free(out);
    inf_error_clear(err);
    return INF_OK;
}

