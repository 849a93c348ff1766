/* cpu_backend.c - the `cpu` backend: our own engine behind the contract.
 * Registration (built in), the path probe, loading a GGUF file or a Hugging
 * Face model directory with its tokenizer and chat template, and the
 * model-level operations (ModelType, Info, Metrics, tokenizer calls, Close). */
#include "base/os.h"
#include "backends/cpu/cpu_internal.h"

#include "base/error.h"
#include "backends/cpu/cpu_backend.h"
#include "formats/hf_config.h"
#include "model/load_hf.h"
#include "model/model.h"
#include "sched/scheduler.h"
#include "tensor/tensor_types.h"
#include "tensor/threadpool.h"
#include "text/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Sequences decoded together at most, and tokens per forward pass. */
#define CPU_DEFAULT_SLOTS 16
#define CPU_MAX_BATCH_TOKENS 512
/* Without a context_len, a sequence gets the model's training context,
 * capped so that one sequence's KV cache takes at most this share of RAM. */
#define CPU_KV_SHARE_OF_RAM 8

static const char *cm_type(void *impl)
{
    return ((cpu_model *)impl)->arch;
}

static void cm_info(void *impl, inf_model_info *info)
{
    cpu_model *cm = impl;
    const struct model_hparams *hp = model_hparams(cm->model);
    info->architecture = cm->arch;
    info->vocab_size = hp->n_vocab;
    info->num_layers = hp->n_layer;
    info->hidden_size = hp->n_embd;
    info->context_len = cm->n_ctx;
    info->quant_bits = cm->quant_bits;
    info->quant_group = cm->quant_group;
}

static void cm_metrics(void *impl, inf_metrics *out)
{
    cpu_model *cm = impl;
    pthread_mutex_lock(&cm->metrics_mu);
    *out = cm->last_metrics;
    pthread_mutex_unlock(&cm->metrics_mu);
}

static inf_status cm_tokenize(void *impl, const char *text, size_t len, unsigned flags, int32_t **ids, size_t *n,
                              inf_error *err)
{
    return cpu_encode(impl, text, len, flags, ids, n, err);
}

static inf_status cm_detokenize(void *impl, const int32_t *ids, size_t n, bool keep_special, char **text,
                                inf_error *err)
{
    cpu_model *cm = impl;
    *text = tok_decode(cm->tok, ids, n, keep_special ? 0 : TOK_DECODE_SKIP_SPECIAL, NULL);
    if (!*text) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "detokenize: out of memory");
        return INF_ERR_NO_MEMORY;
    }
    return INF_OK;
}

static void cpu_model_free(cpu_model *cm)
{
    if (!cm) return;
    sched_free(cm->sched);
    cpu_chat_free(cm);
    tok_free(cm->tok);
    threadpool_free(cm->tp);
    model_free(cm->model);
    pthread_mutex_destroy(&cm->metrics_mu);
    free(cm);
}

static inf_status cm_close(void *impl)
{
    cpu_model_free(impl);
    return INF_OK;
}

static const inf_model_ops cpu_model_ops = {
    .model_type = cm_type,
    .info = cm_info,
    .start = cpu_start,
    .classify = cpu_classify,
    .batch_generate = cpu_batch_generate,
    .metrics = cm_metrics,
    .tokenize = cm_tokenize,
    .detokenize = cm_detokenize,
    .render_chat = cpu_render_chat,
    .close = cm_close,
    .attention_keys = cpu_attention_keys,
};

/* Bits and block size of the weight type holding the most bytes; 0/0 for
 * float types. The block size stands for the quantisation group. */
static void dominant_quantisation(cpu_model *cm)
{
    struct model_type_stat stats[32];
    int n = model_type_stats(cm->model, stats, 32);
    if (n > 32) n = 32;
    int best = -1;
    for (int i = 0; i < n; i++)
        if (best < 0 || stats[i].bytes > stats[best].bytes) best = i;
    if (best < 0) return;
    static const struct { int type, bits, group; } table[] = {
        {TENSOR_TYPE_Q4_0, 4, 32}, {TENSOR_TYPE_Q4_1, 4, 32}, {TENSOR_TYPE_Q5_0, 5, 32},
        {TENSOR_TYPE_Q5_1, 5, 32}, {TENSOR_TYPE_Q8_0, 8, 32}, {TENSOR_TYPE_Q2_K, 2, 256},
        {TENSOR_TYPE_Q3_K, 3, 256}, {TENSOR_TYPE_Q4_K, 4, 256}, {TENSOR_TYPE_Q5_K, 5, 256},
        {TENSOR_TYPE_Q6_K, 6, 256},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        if (table[i].type == stats[best].type) {
            cm->quant_bits = table[i].bits;
            cm->quant_group = table[i].group;
        }
    }
}

static uint64_t physical_memory_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : (uint64_t)8 << 30;
}

/* The context of each sequence: asked for, or the model's capped by memory.
 * (Loading has checked that kv_type's rows fit the head sizes.) */
static int choose_context(const struct model_hparams *hp, int asked, int kv_type)
{
    if (asked > 0) return asked;
    int n_ctx = hp->n_ctx_train > 0 ? hp->n_ctx_train : 4096;
    int64_t row_bytes = tensor_row_bytes(kv_type, hp->head_dim) + tensor_row_bytes(kv_type, hp->head_dim_v);
    uint64_t per_pos = (uint64_t)hp->n_layer * (uint64_t)hp->n_head_kv * (uint64_t)(row_bytes > 0 ? row_bytes : 0);
    uint64_t budget = physical_memory_bytes() / CPU_KV_SHARE_OF_RAM;
    if (per_pos && (uint64_t)n_ctx * per_pos > budget) n_ctx = (int)(budget / per_pos);
    return n_ctx > 0 ? n_ctx : 1;
}

/* The load option kv_cache_type: f16 (default), f32 or q8_0. Whether q8_0
 * fits the model's head sizes is checked when the model is loaded. */
static int parse_kv_type(const char *name, inf_error *err)
{
    if (!name || !name[0] || strcmp(name, "f16") == 0) return TENSOR_TYPE_F16;
    if (strcmp(name, "f32") == 0) return TENSOR_TYPE_F32;
    if (strcmp(name, "q8_0") == 0) return TENSOR_TYPE_Q8_0;
    inf_error_set(err, INF_ERR_UNSUPPORTED, "cpu: kv_cache_type \"%s\" is not supported (use f16, f32 or q8_0)",
                  name);
    return -1;
}

static bool is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Weights and tokenizer from a GGUF file or a Hugging Face directory. */
static void report_progress(const inf_load_config *cfg, float fraction)
{
    if (cfg->progress) cfg->progress(fraction, cfg->progress_user);
}

static bool load_weights_and_tokenizer(cpu_model *cm, const char *path, int kv_type, const inf_load_config *cfg,
                                       inf_error *err)
{
    struct model_load_params params = model_load_params_default();
    params.kv_type = kv_type;
    bool dir = is_directory(path);
    struct stat st;
    if (stat(path, &st) != 0) {
        inf_error_set(err, INF_ERR_NOT_FOUND, "cpu: %s: no such file or directory", path);
        return false;
    }
    int rc = dir ? model_load_hf_dir(path, &params, &cm->model, err) : model_load(path, &params, &cm->model, err);
    if (rc != 0) {
        err_prefix(err, "cpu");
        return false;
    }
    report_progress(cfg, 0.6f);
    rc = dir ? tok_load_hf_dir(path, &cm->tok, err) : tok_load_gguf(model_gguf(cm->model), &cm->tok, err);
    if (rc != 0) {
        err_prefix(err, "cpu: %s: tokenizer", path);
        return false;
    }
    return true;
}

static inf_model *cpu_load_model(void *user, const char *path, const inf_load_config *cfg, inf_error *err)
{
    (void)user;
    int kv_type = parse_kv_type(cfg->kv_cache_type, err);
    if (kv_type < 0) return NULL;
    cpu_model *cm = calloc(1, sizeof *cm);
    if (!cm) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "cpu: out of memory");
        return NULL;
    }
    pthread_mutex_init(&cm->metrics_mu, NULL);
    report_progress(cfg, 0.0f);
    if (!load_weights_and_tokenizer(cm, path, kv_type, cfg, err)) {
        cpu_model_free(cm);
        return NULL;
    }
    const struct model_hparams *hp = model_hparams(cm->model);
    snprintf(cm->arch, sizeof cm->arch, "%s", hp->arch_name);
    cm->n_vocab = hp->n_vocab;
    cm->n_ctx = choose_context(hp, cfg->context_len, kv_type);
    dominant_quantisation(cm);
    /* A Hugging Face model says what it is in config.json. */
    const struct hf_config *hf = model_hf_config(cm->model);
    if (hf) {
        if (hf->model_type[0]) snprintf(cm->arch, sizeof cm->arch, "%s", hf->model_type);
        cm->quant_bits = hf->quant_bits;
        cm->quant_group = hf->quant_group;
    }
    cpu_chat_init(cm, cfg->chat_template);
    if (cfg->chat_template && cfg->chat_template[0] && cm->chat_template_error) {
        inf_error_set(err, INF_ERR_TEMPLATE, "cpu: the chat template given does not parse: %s",
                      cm->chat_template_error);
        cpu_model_free(cm);
        return NULL;
    }
    report_progress(cfg, 0.9f);

    int threads = cfg->threads > 0 ? cfg->threads : os_physical_cores();
    cm->tp = threadpool_create(threads);
    /* Repack the matrices for this CPU's GEMM kernels (tensor/packed.h):
     * a one-off copy at load, with the pool's threads. */
    if (cm->tp) model_pack_weights(cm->model, cm->tp);
    struct sched_options so = {
        .max_active = cfg->parallel_slots > 0 ? cfg->parallel_slots : CPU_DEFAULT_SLOTS,
        .max_batch_tokens = CPU_MAX_BATCH_TOKENS,
        .kv_type = kv_type,
    };
    if (!cm->tp) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "cpu: cannot start worker threads");
        cpu_model_free(cm);
        return NULL;
    }
    if (!(cm->sched = sched_create(cm->model, cm->tp, &so, err))) {
        err_prefix(err, "cpu");
        cpu_model_free(cm);
        return NULL;
    }
    inf_model *m = inf_model_new(&cpu_model_ops, cm);
    if (!m) {
        cpu_model_free(cm);
        inf_error_set(err, INF_ERR_NO_MEMORY, "cpu: out of memory");
        return NULL;
    }
    report_progress(cfg, 1.0f);
    return m;
}

static bool cpu_available(void *user)
{
    (void)user;
#if defined(__x86_64__) || defined(__aarch64__)
    return true;
#else
    return false;
#endif
}

/* Everything that is not a URL: files and directories (a missing file then
 * gets the cpu backend's own "no such file" error). */
static bool cpu_probe(void *user, const char *path)
{
    (void)user;
    return strstr(path, "://") == NULL;
}

inf_backend_desc cpu_backend_desc(void)
{
    inf_backend_desc desc = {
        .name = "cpu",
        .available = cpu_available,
        .probe = cpu_probe,
        .load_model = cpu_load_model,
    };
    return desc;
}
