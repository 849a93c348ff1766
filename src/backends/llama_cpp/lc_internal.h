/* lc_internal.h - what the llama_cpp backend's files share: the model state,
 * HTTP helpers (http.c), the streaming transfer that turns a server's event
 * stream into tokens (xfer.c), and managed llama-server processes
 * (managed.c). Symbols are prefixed lc_. */
#ifndef LC_INTERNAL_H
#define LC_INTERNAL_H

#include "inference.h"
#include "backends/llama_cpp/sse.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum lc_protocol {
    LC_PROTO_NATIVE, /* llama.cpp's /completion with token ids */
    LC_PROTO_OPENAI  /* /v1/completions and /v1/chat/completions */
} lc_protocol;

typedef struct lc_managed lc_managed;

typedef struct lc_model {
    char *root;             /* scheme://host:port[/prefix], no trailing '/' or "/v1" */
    char *model_name;       /* the model asked for (or the server's first), may be "" */
    char *auth_header;      /* "Authorization: Bearer ..." or NULL */
    lc_protocol proto;
    char *arch;             /* ModelType() */
    char *server_model;     /* model path/id the server reports (Info) */
    inf_model_info info;
    int slots;              /* concurrency of Classify/BatchGenerate */
    int vocab_type;         /* llama.cpp's /v1/models meta.vocab_type (1 = SentencePiece) */
    pthread_mutex_t mu;     /* guards metrics */
    inf_metrics metrics;
    lc_managed *managed;    /* the llama-server we started, or NULL */
} lc_model;

/* ---- http.c ---------------------------------------------------------- */

typedef struct lc_response {
    long status;            /* HTTP status */
    char *body;             /* NUL-terminated, malloc'd */
    size_t len;
} lc_response;

/* One blocking request (GET when json_body is NULL, else POST). Fails only
 * when no HTTP answer came (server down: INF_ERR_UNAVAILABLE, cancelled);
 * any status is returned in out. timeout_ms 0 = no limit. */
inf_status lc_http_request(const lc_model *m, const char *path, const char *json_body, long timeout_ms,
                           inf_cancel *cancel, lc_response *out, inf_error *err);
void lc_response_free(lc_response *r);

/* The server's own message from an error body ({"error":{"message"}},
 * {"error":"..."}, {"message"} or the text itself), into buf. */
void lc_server_message(const char *body, size_t len, char *buf, size_t size);

/* Common easy-handle set-up: URL, headers (JSON + auth), no signals. */
CURL *lc_easy_new(const lc_model *m, const char *path, struct curl_slist **headers);

/* ---- xfer.c: one streamed generation request -------------------------- */

typedef struct lc_tok {
    int32_t id;             /* -1 when the protocol does not give ids */
    char *text;
} lc_tok;

typedef struct lc_xfer {
    CURL *easy;
    struct curl_slist *headers;
    char *body;             /* the request JSON */
    char errbuf[CURL_ERROR_SIZE];
    lc_protocol proto;
    bool chat;
    const inf_generate_config *cfg;
    int max_tokens;

    lc_sse sse;
    long http_status;
    char *err_body;         /* body of a non-2xx answer */
    size_t err_len, err_cap;

    lc_tok *q;              /* tokens parsed, not yet taken */
    size_t q_head, q_len, q_cap;
    size_t n_tokens;        /* tokens accepted so far */

    bool got_final;         /* native stop:true, or OpenAI [DONE] */
    bool got_finish;        /* OpenAI finish_reason */
    bool stop_local;        /* a stop token ended it here (not an error) */
    bool finished;          /* curl reported the transfer done */
    CURLcode result;
    inf_status status;      /* protocol / HTTP failure */
    char message[INF_ERROR_MESSAGE_MAX];

    int32_t first_prob_id;  /* native completion_probabilities[0].id, or -1 */
    int64_t prompt_n, predicted_n;
    double prompt_ms, predicted_ms;
    bool have_timings;
    int64_t t_start_ns;
} lc_xfer;

/* Build a streamed request for a prompt (or messages when chat). For
 * classify, n_probs > 0 asks for token probabilities. Returns NULL with err
 * on failure. */
lc_xfer *lc_xfer_new(const lc_model *m, lc_protocol proto, const char *prompt, const inf_message *messages,
                     size_t n_messages, const inf_generate_config *cfg, int n_probs, inf_error *err);
void lc_xfer_free(lc_xfer *x);

/* After curl finished the transfer (x->finished): the final status, with the
 * server's message when it failed. */
inf_status lc_xfer_outcome(lc_xfer *x, const lc_model *m, inf_error *err);

/* Take the next queued token (ownership of text passes to the caller). */
bool lc_xfer_pop(lc_xfer *x, lc_tok *tok);

/* Run a multi handle a little: perform, mark finished transfers, and wait up
 * to wait_ms for activity. */
void lc_multi_step(CURLM *multi, int wait_ms);

/* Record a finished transfer's figures as the model's metrics. */
void lc_record_metrics(lc_model *m, const lc_xfer *x);

int64_t lc_now_ns(void);

/* ---- managed.c -------------------------------------------------------- */

/* Start llama-server on gguf_path; on success *out and root ("http://127.0.0.1:PORT"). */
inf_status lc_managed_start(const char *gguf_path, const inf_load_config *cfg, lc_managed **out,
                            char *root, size_t root_size, inf_error *err);
/* Stop it (SIGTERM, then SIGKILL after a grace period) and release. */
void lc_managed_stop(lc_managed *mg);

/* batch.c: Classify and BatchGenerate (the model operations). */
inf_status lc_classify(void *impl, const char *const *prompts, size_t n, const inf_generate_config *cfg,
                       inf_cancel *cancel, inf_classify_result *results, inf_error *err);
inf_status lc_batch_generate(void *impl, const char *const *prompts, size_t n, const inf_generate_config *cfg,
                             inf_cancel *cancel, inf_batch_result *results, inf_error *err);

#endif
