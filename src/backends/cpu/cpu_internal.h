/* cpu_internal.h - the `cpu` backend's model, shared by its files:
 * cpu_backend.c (registration, loading, Info, Metrics, Close),
 * cpu_generate.c (Generate/Chat streams, Classify, BatchGenerate) and
 * cpu_chat.c (chat templates). */
#ifndef INF_CPU_INTERNAL_H
#define INF_CPU_INTERNAL_H

#include "inference.h"

#include <pthread.h>

struct model;
struct tokenizer;
struct threadpool;
struct sched;
struct jinja_template;

typedef struct cpu_model {
    struct model *model;
    struct tokenizer *tok;
    struct threadpool *tp;
    struct sched *sched;
    struct jinja_template *chat_template; /* NULL: the plain fallback format */
    char *chat_template_error;            /* why the model's template failed to parse */
    char arch[64];
    int n_ctx;                            /* per sequence */
    int n_vocab;
    int quant_bits, quant_group;
    pthread_mutex_t metrics_mu;
    inf_metrics last_metrics;
} cpu_model;

/* cpu_generate.c */
inf_status cpu_start(void *impl, const inf_request *req, const inf_stream_ops **ops, void **state, inf_error *err);
inf_status cpu_classify(void *impl, const char *const *prompts, size_t n, const inf_generate_config *cfg,
                        inf_cancel *cancel, inf_classify_result *results, inf_error *err);
inf_status cpu_batch_generate(void *impl, const char *const *prompts, size_t n, const inf_generate_config *cfg,
                              inf_cancel *cancel, inf_batch_result *results, inf_error *err);
inf_status cpu_attention_keys(void *impl, const char *prompt, inf_cancel *cancel, inf_attention_keys *out,
                              inf_error *err);
/* Encode text into a malloc'd id array (BOS as the model asks). */
inf_status cpu_encode(cpu_model *cm, const char *text, size_t len, unsigned flags, int32_t **ids, size_t *n,
                      inf_error *err);
void cpu_record_metrics(cpu_model *cm, int64_t n_prompt, int64_t n_generated, double prefill_s, double decode_s);

/* cpu_chat.c */
/* Parse the caller's template, else the tokenizer's (else leave the plain
 * fallback); a template that does not parse makes Chat fail with its error. */
void cpu_chat_init(cpu_model *cm, const char *override);
void cpu_chat_free(cpu_model *cm);
/* Render messages to the prompt text (malloc'd). */
inf_status cpu_render_chat(void *impl, const inf_message *messages, size_t n, const char *vars_json, char **prompt,
                           inf_error *err);

#endif
