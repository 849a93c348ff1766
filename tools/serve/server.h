/* server.h - libinference's OpenAI-compatible HTTP server (libmicrohttpd).
 *
 * One loaded model served over HTTP:
 *   GET  /health, /v1/models (/models), /props
 *   POST /v1/completions, /v1/chat/completions (stream or not; SSE streams)
 *   POST /completion (llama.cpp's native protocol: n_predict, token ids in
 *        the events, n_probs for one-token completions), /tokenize,
 *        /detokenize, /apply-template
 *   POST /v1/classify (libinference's Classify: a token and its probability
 *        per prompt, optionally the logits)
 *   GET  /metrics (Prometheus text format)
 * Errors are JSON bodies {"error":{"code","message","type"}} as llama.cpp
 * sends them. A client that disconnects cancels its generation; at most
 * `parallel` generations run at once; up to `queue` more wait their turn
 * and any beyond that are answered 503 with Retry-After.
 *
 * Compiled only when libmicrohttpd is found (INF_HAVE_MHD). */
#ifndef INF_SERVE_SERVER_H
#define INF_SERVE_SERVER_H

#include "inference.h"

#include <stddef.h>

struct inf_server_options {
    inf_model *model;        /* required; borrowed, must outlive the server */
    const char *model_name;  /* the id reported by /v1/models [the path's file name] */
    const char *model_path;  /* reported by /props [""] */
    const char *host;        /* [127.0.0.1] address or name to listen on */
    int port;                /* [8080]; 0 picks a free port (see inf_server_port) */
    int parallel;            /* [1] generations running at once */
    int queue;               /* [64] more generations that may wait for a slot; beyond, 503 */
    size_t max_body;         /* [1 MiB] largest request body accepted (413 beyond) */
    const char *api_key;     /* [NULL] when set, requests need "Authorization: Bearer KEY" */
    inf_cancel *stop;        /* inf_server_run returns once this fires */
};

/* Fill opts with the defaults shown above (model NULL). */
void inf_server_options_default(struct inf_server_options *opts);

typedef struct inf_server inf_server;

/* Start serving in background threads. Returns 0 and *out, or -1 with a
 * message in err (address in use, bad host...). */
int inf_server_start(const struct inf_server_options *opts, inf_server **out, inf_error *err);

/* The port actually bound (useful with port 0). */
int inf_server_port(const inf_server *server);

/* Stop: cancel running generations, close connections, release the server. */
void inf_server_stop(inf_server *server);

/* Start, call on_ready(port, user) once listening (may be NULL), serve until
 * opts->stop fires, then stop. Returns 0, or -1 with a message in err. */
int inf_server_run(const struct inf_server_options *opts, void (*on_ready)(int port, void *user), void *user,
                   inf_error *err);

#endif
