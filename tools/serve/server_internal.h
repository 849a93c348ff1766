/* server_internal.h - INTERNAL to tools/serve: the server and one
 * generation, shared by its rooms:
 *   server.c            start, stop, options;
 *   http.c              libmicrohttpd glue: uploads, authorisation, sending
 *                       JSON and errors;
 *   routes.c            the route table (method, path, handler) and the
 *                       endpoints that are one call of the contract;
 *   generation.c        one completion: slots, the token source, figures;
 *   protocol_openai.c   /v1/completions and /v1/chat/completions documents;
 *   protocol_llamacpp.c llama.cpp's /completion documents;
 *   sse.c               streaming as server-sent events.
 * Requests are parsed in request.c. */
#ifndef SRV_SERVER_INTERNAL_H
#define SRV_SERVER_INTERNAL_H

#include "base/buf.h"
#include "serve/request.h"
#include "serve/server.h"

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define SRV_DEFAULT_PORT 8080
#define SRV_DEFAULT_MAX_BODY (1u << 20)
#define SRV_DEFAULT_QUEUE 64
#define SRV_RETRY_AFTER "1"  /* seconds a client turned away should wait */

struct inf_server {
    struct MHD_Daemon *daemon;
    inf_model *model;
    char *model_name;
    char *model_path;
    char *api_key;
    size_t max_body;
    int parallel;
    int port;
    inf_cancel *shutdown;        /* parent of every request's cancel */
    pthread_mutex_t slot_mu;     /* counting semaphore of generation slots */
    pthread_cond_t slot_cv;
    int slots_free;
    int waiting;                 /* requests waiting for a slot (guarded by slot_mu) */
    int queue_max;               /* most that may wait */
    atomic_long next_id;
    /* /metrics counters */
    atomic_long n_requests, n_errors, n_rejected;
    atomic_llong n_prompt_tokens, n_generated_tokens;
    atomic_llong gen_usec;       /* wall time spent generating, summed over requests */
    double t_started;
};

/* One candidate of the next-token distribution. */
typedef struct srv_prob {
    int32_t id;
    char *text;
    double logprob;
} srv_prob;

typedef struct srv_gen {
    inf_server *srv;
    srv_request req;
    inf_stream *stream;
    inf_metrics stream_figures;   /* the stream's own figures, kept when it is freed */
    bool has_stream_figures;
    inf_cancel *cancel;
    bool slot_held;
    int max_tokens;          /* the effective limit (-1 resolved) */

    /* A token fetched ahead (the first one, fetched before answering so that
     * early failures become HTTP errors), or the one classify produced. */
    bool have_ahead;
    int32_t ahead_id;
    char *ahead_text;
    bool from_classify;      /* the whole generation is that one token */
    bool ended;
    inf_status status;
    char *error;

    srv_prob *probs;         /* top candidates of the first token (n_probs) */
    int n_probs;
    int32_t first_id;
    char *first_text;        /* the first token's text (its piece as the stream gave it) */

    size_t n_generated;
    int64_t prompt_n;        /* prompt tokens, once the timings were read */
    struct buf text;         /* everything generated (non-streamed answers) */
    int32_t *ids;
    size_t n_ids, ids_cap;
    double t_start, t_first, t_end;

    /* Streaming: the bytes of events not yet handed to MHD. */
    struct buf out;
    size_t out_pos;
    int phase;               /* 0 before the first event, 1 tokens, 2 closing, 3 done */
    char id[48];
    long created;
} srv_gen;


/* ---- http.c ---- */

/* Seconds on the monotonic clock. */
double srv_now(void);
/* The HTTP status of a contract status. */
int http_status_of(inf_status st);
/* {"error":{"code":N,"message":"...","type":"..."}} as llama.cpp sends it. */
cJSON *error_json(int http_status, const char *message);
/* Send body (malloc'd, consumed; NULL sends a 500 "out of memory"). */
enum MHD_Result send_text(struct MHD_Connection *c, int status, const char *type, char *body);
/* Send a JSON document (consumed). */
enum MHD_Result send_json(struct MHD_Connection *c, int status, cJSON *doc);
/* Send an error document and count it for /metrics. */
enum MHD_Result send_error(inf_server *s, struct MHD_Connection *c, int status, const char *message);
/* Whether the client closed or reset its connection. */
bool client_gone(struct MHD_Connection *c);
/* The MHD access handler and its completion callback. */
enum MHD_Result srv_on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload_data, size_t *upload_data_size,
                               void **con_cls);
void srv_on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe);

/* ---- routes.c ---- */

/* Answer a whole request: route (method, path) and run its handler; the
 * body is up to len bytes at body, too_big when it passed the limit. */
enum MHD_Result srv_route(inf_server *s, struct MHD_Connection *c, const char *url, const char *method,
                          const char *body, size_t len, bool too_big);

/* ---- generation.c ---- */

/* A generation slot, waiting in the bounded queue when all are busy;
 * false at once when the queue is full too (the caller sends 503). */
bool slot_acquire(inf_server *s);
void slot_release(inf_server *s);
/* The 503 message of a full queue. */
void busy_message(const inf_server *s, char *msg, size_t size);
/* Top n candidates from raw logits (log-softmax), best first. */
srv_prob *top_probs(inf_model *model, const float *logits, size_t n_logits, int n, int *n_out);
void free_probs(srv_prob *p, int n);
/* Keep the stream's figures before the stream goes. */
void keep_stream_figures(srv_gen *g);
void gen_free(srv_gen *g);
void gen_fail(srv_gen *g, inf_status st, const char *msg);
/* The next token: 1 with *id and *text (owned by g, valid until the next
 * call), or 0 at the end (g->status then tells why). */
int gen_next(srv_gen *g, int32_t *id, const char **text);
/* "length" when the token limit ended it, else "stop". */
const char *finish_reason(const srv_gen *g);
/* llama.cpp's "timings" object into obj; *prompt_n_out gets the prompt size. */
void add_timings(cJSON *obj, srv_gen *g, int64_t *prompt_n_out);
/* The text of candidate i (the sampled token's own piece when it is that). */
const char *prob_text(const srv_gen *g, int i);
/* POST /v1/completions, /v1/chat/completions, /completion. */
enum MHD_Result answer_generation(inf_server *s, struct MHD_Connection *c, srv_request *req);

/* ---- protocol_openai.c ---- */

cJSON *oai_final_document(srv_gen *g);
/* One chunk of a streamed answer (text NULL: none; finish NULL: not the
 * last; role: the opening chat chunk). */
cJSON *oai_chunk(srv_gen *g, const char *text, const char *finish, bool role);
/* The last chunk, the usage chunk when asked for; then the caller sends
 * [DONE]. Appended with emit. */
void oai_closing_events(srv_gen *g, void (*emit)(srv_gen *g, cJSON *doc));

/* ---- protocol_llamacpp.c ---- */

cJSON *native_final_document(srv_gen *g);
cJSON *native_token_event(srv_gen *g, int32_t id, const char *text);
cJSON *native_closing_event(srv_gen *g);

/* ---- sse.c ---- */

/* Queue the streamed response of g (consumed). */
enum MHD_Result sse_respond(inf_server *s, struct MHD_Connection *c, srv_gen *g);

#endif
