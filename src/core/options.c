/* options.c - the defaults of generation and load options, and their checks.
 * The defaults are the original Go contract's (see shared/seed/CONTRACT.md). */
#include "inference.h"

#include <math.h>
#include <string.h>

void inf_generate_config_default(inf_generate_config *cfg)
{
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->max_tokens = 256;
    cfg->temperature = 0.0f;
    cfg->top_k = 0;
    cfg->top_p = 0.0f;
    cfg->min_p = 0.0f;
    cfg->repeat_penalty = 0.0f;
    cfg->repeat_last_n = 64;
    cfg->seed = INF_SEED_RANDOM;
    cfg->logits = false;
}

void inf_load_config_default(inf_load_config *cfg)
{
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->backend = NULL;
    cfg->context_len = 0;
    cfg->gpu_layers = -1;
    cfg->parallel_slots = 0;
    cfg->threads = 0;
    cfg->kv_cache_type = NULL;
}

/* NaN fails every comparison, so each range check is written to reject it. */
inf_status inf_generate_config_check(const inf_generate_config *cfg, inf_error *err)
{
    inf_error_clear(err);
    if (!cfg) return INF_OK;
    if (cfg->max_tokens < 0) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "max_tokens %d is negative", cfg->max_tokens);
        return INF_ERR_INVALID_ARGUMENT;
    }
    if (!(cfg->temperature >= 0.0f) || isinf(cfg->temperature)) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "temperature %g must be a finite number >= 0",
                      (double)cfg->temperature);
        return INF_ERR_INVALID_ARGUMENT;
    }
    if (cfg->top_k < 0) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "top_k %d is negative", cfg->top_k);
        return INF_ERR_INVALID_ARGUMENT;
    }
    if (!(cfg->top_p >= 0.0f && cfg->top_p <= 1.0f)) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "top_p %g is outside (0, 1] (0 = off)", (double)cfg->top_p);
        return INF_ERR_INVALID_ARGUMENT;
    }
    if (!(cfg->min_p >= 0.0f && cfg->min_p <= 1.0f)) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "min_p %g is outside [0, 1]", (double)cfg->min_p);
        return INF_ERR_INVALID_ARGUMENT;
    }
    if (!(cfg->repeat_penalty >= 0.0f) || isinf(cfg->repeat_penalty)) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "repeat_penalty %g must be a finite number >= 0",
                      (double)cfg->repeat_penalty);
        return INF_ERR_INVALID_ARGUMENT;
    }
    if (cfg->repeat_last_n < 0) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "repeat_last_n %d is negative", cfg->repeat_last_n);
        return INF_ERR_INVALID_ARGUMENT;
    }
    if (cfg->n_stop_tokens && !cfg->stop_tokens) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "n_stop_tokens is %zu but stop_tokens is NULL",
                      cfg->n_stop_tokens);
        return INF_ERR_INVALID_ARGUMENT;
    }
    if (cfg->n_stop_strings && !cfg->stop_strings) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "n_stop_strings is %zu but stop_strings is NULL",
                      cfg->n_stop_strings);
        return INF_ERR_INVALID_ARGUMENT;
    }
    for (size_t i = 0; i < cfg->n_stop_strings; i++) {
        if (!cfg->stop_strings[i] || !cfg->stop_strings[i][0]) {
            inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "stop_strings[%zu] is NULL or empty", i);
            return INF_ERR_INVALID_ARGUMENT;
        }
    }
    return INF_OK;
}

/* Check a load config; used by the registry before any backend sees it. */
inf_status inf_load_config_check(const inf_load_config *cfg, inf_error *err)
{
    inf_error_clear(err);
    if (!cfg) return INF_OK;
    if (cfg->context_len < 0) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "context_len %d is negative", cfg->context_len);
        return INF_ERR_INVALID_ARGUMENT;
    }
    if (cfg->gpu_layers < -1) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "gpu_layers %d is below -1 (-1 = all)", cfg->gpu_layers);
        return INF_ERR_INVALID_ARGUMENT;
    }
    if (cfg->parallel_slots < 0) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "parallel_slots %d is negative", cfg->parallel_slots);
        return INF_ERR_INVALID_ARGUMENT;
    }
    if (cfg->threads < 0) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "threads %d is negative", cfg->threads);
        return INF_ERR_INVALID_ARGUMENT;
    }
    return INF_OK;
}
