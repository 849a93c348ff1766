/* model.c - the inf_model handle that wraps a backend's model: reference
 * counting (streams keep their model alive past inf_model_close), Err() of the
 * last stream, and the thin checked wrappers of Classify, BatchGenerate,
 * Info, Metrics and the tokenizer calls. Streams live in stream.c. */
#include "inference.h"
#include "base/error.h"
#include "core/internal.h"
#include "core/model_internal.h"

#include <stdlib.h>
#include <string.h>

inf_model *inf_model_new(const inf_model_ops *ops, void *impl)
{
    if (!ops || !ops->model_type || !ops->info || !ops->start || !ops->close) return NULL;
    inf_model *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->ops = ops;
    m->impl = impl;
    m->refs = 1;
    pthread_mutex_init(&m->mu, NULL);
    inf_error_clear(&m->last_error);
    return m;
}

void inf_model_retain(inf_model *m)
{
    pthread_mutex_lock(&m->mu);
    m->refs++;
    pthread_mutex_unlock(&m->mu);
}

static inf_status destroy(inf_model *m)
{
    inf_status st = m->ops->close(m->impl);
    pthread_mutex_destroy(&m->mu);
    free(m->live);
    free(m);
    return st;
}

void inf_model_release(inf_model *m)
{
    pthread_mutex_lock(&m->mu);
    bool last = --m->refs == 0;
    pthread_mutex_unlock(&m->mu);
    if (last) destroy(m);
}

inf_status inf_model_close(inf_model *m)
{
    if (!m) return INF_OK;
    pthread_mutex_lock(&m->mu);
    m->closed = true;
    for (size_t i = 0; i < m->n_live; i++) inf_cancel_trigger(m->live[i]);
    bool last = --m->refs == 0;
    pthread_mutex_unlock(&m->mu);
    return last ? destroy(m) : INF_OK;
}

bool inf_model_track_stream(inf_model *m, inf_cancel *stream_cancel)
{
    pthread_mutex_lock(&m->mu);
    if (m->n_live == m->cap_live) {
        size_t cap = m->cap_live ? m->cap_live * 2 : 4;
        inf_cancel **grown = realloc(m->live, cap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&m->mu);
            return false;
        }
        m->live = grown;
        m->cap_live = cap;
    }
    m->live[m->n_live++] = stream_cancel;
    m->refs++;
    if (m->closed) inf_cancel_trigger(stream_cancel);
    pthread_mutex_unlock(&m->mu);
    return true;
}

void inf_model_untrack_stream(inf_model *m, inf_cancel *stream_cancel, const inf_error *final)
{
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->n_live; i++) {
        if (m->live[i] == stream_cancel) {
            m->live[i] = m->live[--m->n_live];
            break;
        }
    }
    if (final) m->last_error = *final;
    pthread_mutex_unlock(&m->mu);
    inf_model_release(m);
}

void inf_model_record_error(inf_model *m, const inf_error *final)
{
    pthread_mutex_lock(&m->mu);
    m->last_error = *final;
    pthread_mutex_unlock(&m->mu);
}

inf_status inf_model_err(const inf_model *model, inf_error *err)
{
    inf_error_clear(err);
    if (!model) return INF_OK;
    inf_model *m = (inf_model *)model;
    pthread_mutex_lock(&m->mu);
    inf_error copy = m->last_error;
    pthread_mutex_unlock(&m->mu);
    if (err) *err = copy;
    return copy.status;
}

const char *inf_model_type(const inf_model *model)
{
    if (!model) return "";
    const char *t = model->ops->model_type(model->impl);
    return t ? t : "";
}

inf_status inf_model_info_get(const inf_model *model, inf_model_info *info)
{
    if (!info) return INF_ERR_INVALID_ARGUMENT;
    memset(info, 0, sizeof *info);
    info->architecture = "";
    if (!model) return INF_ERR_INVALID_ARGUMENT;
    model->ops->info(model->impl, info);
    if (!info->architecture) info->architecture = "";
    return INF_OK;
}

inf_status inf_model_metrics(const inf_model *model, inf_metrics *metrics)
{
    if (!metrics) return INF_ERR_INVALID_ARGUMENT;
    memset(metrics, 0, sizeof *metrics);
    if (!model) return INF_ERR_INVALID_ARGUMENT;
    if (model->ops->metrics) model->ops->metrics(model->impl, metrics);
    return INF_OK;
}

/* The checks every batch operation shares. */
static inf_status check_batch_args(const inf_model *model, const char *const *prompts, size_t n,
                                   const inf_generate_config *cfg, void *results, const char *what, inf_error *err)
{
    if (!model || !results) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "%s: model and results must not be NULL", what);
        return INF_ERR_INVALID_ARGUMENT;
    }
    if (n && !prompts) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "%s: %zu prompts but the array is NULL", what, n);
        return INF_ERR_INVALID_ARGUMENT;
    }
    for (size_t i = 0; i < n; i++) {
        if (!prompts[i]) {
            inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "%s: prompt %zu is NULL", what, i);
            return INF_ERR_INVALID_ARGUMENT;
        }
    }
    return inf_generate_config_check(cfg, err);
}

inf_status inf_classify(inf_model *model, const char *const *prompts, size_t n_prompts,
                        const inf_generate_config *cfg, inf_cancel *cancel, inf_classify_result **results,
                        inf_error *err)
{
    inf_error_clear(err);
    if (results) *results = NULL;
    inf_generate_config defaults;
    if (!cfg) {
        inf_generate_config_default(&defaults);
        cfg = &defaults;
    }
    inf_status st = check_batch_args(model, prompts, n_prompts, cfg, results, "classify", err);
    if (st != INF_OK) return st;
    if (!model->ops->classify) {
        inf_error_set(err, INF_ERR_UNSUPPORTED, "classify: not supported by this backend");
        return INF_ERR_UNSUPPORTED;
    }
    if (err_cancelled(inf_cancel_status(cancel), err) != INF_OK) return err ? err->status : inf_cancel_status(cancel);
    inf_classify_result *out = calloc(n_prompts ? n_prompts : 1, sizeof *out);
    if (!out) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "classify: out of memory for %zu results", n_prompts);
        return INF_ERR_NO_MEMORY;
    }
    inf_error local;
    inf_error_clear(&local);
    st = n_prompts ? model->ops->classify(model->impl, prompts, n_prompts, cfg, cancel, out, &local) : INF_OK;
    if (st != INF_OK) {
        inf_classify_results_free(out, n_prompts);
        if (local.status == INF_OK) inf_error_set(&local, st, "classify failed: %s", inf_status_name(st));
        if (err) *err = local;
        return st;
    }
    *results = out;
    return INF_OK;
}

void inf_classify_results_free(inf_classify_result *results, size_t n)
{
    if (!results) return;
    for (size_t i = 0; i < n; i++) {
        free((char *)results[i].token.text);
        free(results[i].logits);
    }
    free(results);
}

inf_status inf_batch_generate(inf_model *model, const char *const *prompts, size_t n_prompts,
                              const inf_generate_config *cfg, inf_cancel *cancel, inf_batch_result **results,
                              inf_error *err)
{
    inf_error_clear(err);
    if (results) *results = NULL;
    inf_generate_config defaults;
    if (!cfg) {
        inf_generate_config_default(&defaults);
        cfg = &defaults;
    }
    inf_status st = check_batch_args(model, prompts, n_prompts, cfg, results, "batch_generate", err);
    if (st != INF_OK) return st;
    if (!model->ops->batch_generate) {
        inf_error_set(err, INF_ERR_UNSUPPORTED, "batch_generate: not supported by this backend");
        return INF_ERR_UNSUPPORTED;
    }
    inf_batch_result *out = calloc(n_prompts ? n_prompts : 1, sizeof *out);
    if (!out) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "batch_generate: out of memory for %zu results", n_prompts);
        return INF_ERR_NO_MEMORY;
    }
    inf_error local;
    inf_error_clear(&local);
    st = n_prompts ? model->ops->batch_generate(model->impl, prompts, n_prompts, cfg, cancel, out, &local) : INF_OK;
    if (st != INF_OK) {
        inf_batch_results_free(out, n_prompts);
        if (local.status == INF_OK) inf_error_set(&local, st, "batch_generate failed: %s", inf_status_name(st));
        if (err) *err = local;
        return st;
    }
    *results = out;
    return INF_OK;
}

void inf_batch_results_free(inf_batch_result *results, size_t n)
{
    if (!results) return;
    for (size_t i = 0; i < n; i++) {
        for (size_t t = 0; t < results[i].n_tokens; t++) free((char *)results[i].tokens[t].text);
        free(results[i].tokens);
        free(results[i].error);
    }
    free(results);
}

static inf_status unsupported(const char *what, inf_error *err)
{
    inf_error_set(err, INF_ERR_UNSUPPORTED, "%s: not supported by this backend", what);
    return INF_ERR_UNSUPPORTED;
}

inf_status inf_model_tokenize(inf_model *model, const char *text, size_t len, unsigned flags, int32_t **ids,
                              size_t *n_ids, inf_error *err)
{
    inf_error_clear(err);
    if (!model || (!text && len) || !ids || !n_ids) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "tokenize: NULL argument");
        return INF_ERR_INVALID_ARGUMENT;
    }
    *ids = NULL;
    *n_ids = 0;
    if (!model->ops->tokenize) return unsupported("tokenize", err);
    return model->ops->tokenize(model->impl, text ? text : "", len, flags, ids, n_ids, err);
}

inf_status inf_model_detokenize(inf_model *model, const int32_t *ids, size_t n_ids, bool keep_special, char **text,
                                inf_error *err)
{
    inf_error_clear(err);
    if (!model || (!ids && n_ids) || !text) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "detokenize: NULL argument");
        return INF_ERR_INVALID_ARGUMENT;
    }
    *text = NULL;
    if (!model->ops->detokenize) return unsupported("detokenize", err);
    return model->ops->detokenize(model->impl, ids, n_ids, keep_special, text, err);
}

inf_status inf_model_render_chat(inf_model *model, const inf_message *messages, size_t n_messages,
                                 const char *vars_json, char **prompt, inf_error *err)
{
    inf_error_clear(err);
    if (!model || (!messages && n_messages) || !prompt) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "render_chat: NULL argument");
        return INF_ERR_INVALID_ARGUMENT;
    }
    *prompt = NULL;
    if (!model->ops->render_chat) return unsupported("render_chat", err);
    return model->ops->render_chat(model->impl, messages, n_messages, vars_json, prompt, err);
}

inf_status inf_model_attention_keys(inf_model *model, const char *prompt, inf_cancel *cancel,
                                    inf_attention_keys **out, inf_error *err)
{
    inf_error_clear(err);
    if (!model || !prompt || !out) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "attention_keys: NULL argument");
        return INF_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    if (!model->ops->attention_keys) return unsupported("attention_keys", err);
    inf_attention_keys *keys = calloc(1, sizeof *keys);
    if (!keys) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "attention_keys: out of memory");
        return INF_ERR_NO_MEMORY;
    }
    inf_status st = model->ops->attention_keys(model->impl, prompt, cancel, keys, err);
    if (st != INF_OK) {
        inf_attention_keys_free(keys);
        return st;
    }
    *out = keys;
    return INF_OK;
}

void inf_attention_keys_free(inf_attention_keys *keys)
{
    if (!keys) return;
    free(keys->token_ids);
    free(keys->keys);
    free(keys);
}
