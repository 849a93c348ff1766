/* request.h - parsing of the HTTP server's JSON request bodies.
 *
 * Kept apart from the HTTP glue so that it can be fuzzed on its own: every
 * entry point takes (pointer, length), never trusts the body (it may be
 * truncated, not JSON, or JSON of the wrong shape) and reports what is wrong
 * in err, naming the field. Nothing here touches a model. */
#ifndef SRV_REQUEST_H
#define SRV_REQUEST_H

#include "inference.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum srv_endpoint {
    SRV_EP_OAI_COMPLETION,   /* POST /v1/completions */
    SRV_EP_OAI_CHAT,         /* POST /v1/chat/completions */
    SRV_EP_NATIVE_COMPLETION,/* POST /completion (llama.cpp's own protocol) */
    SRV_EP_TOKENIZE,         /* POST /tokenize */
    SRV_EP_DETOKENIZE,       /* POST /detokenize */
    SRV_EP_APPLY_TEMPLATE,   /* POST /apply-template */
    SRV_EP_CLASSIFY          /* POST /v1/classify (libinference's Classify) */
} srv_endpoint;

/* Limits on what one request may hold. */
#define SRV_MAX_STOP_STRINGS 64
#define SRV_MAX_MESSAGES 4096
#define SRV_MAX_TOKENS_IN 1048576
#define SRV_MAX_N_PROBS 100
#define SRV_MAX_CLASSIFY_PROMPTS 1024

typedef struct srv_request {
    srv_endpoint endpoint;
    char *model;                /* "model" field, or NULL */

    /* Completions: the prompt text, or (when the prompt was given as token
     * ids) prompt_tokens. Chat and apply-template: the messages. */
    char *prompt;
    int32_t *prompt_tokens;
    size_t n_prompt_tokens;
    inf_message *messages;      /* role/content strings owned by the request */
    size_t n_messages;

    /* Generation options; cfg.stop_strings points into stop. max_tokens is
     * -1 when the request asked for "until the context is full". */
    inf_generate_config cfg;
    char **stop;
    size_t n_stop;
    bool stream;
    bool include_usage;         /* OpenAI stream_options.include_usage */
    int n_probs;                /* native n_probs, or OpenAI logprobs / top_logprobs */

    /* /tokenize */
    char *content;
    bool add_special;
    bool parse_special;
    bool with_pieces;

    /* /detokenize */
    int32_t *tokens;
    size_t n_tokens;

    /* /v1/classify: the prompts, and whether to return the raw logits
     * (cfg.logits mirrors it). */
    char **prompts;
    size_t n_prompts;
} srv_request;

/* Parse a request body for an endpoint. On success returns 0 and fills *out
 * (release with srv_request_free). On failure returns -1, leaves *out empty
 * and writes a message naming the offending field into err. */
int srv_request_parse(srv_endpoint endpoint, const char *body, size_t len, srv_request *out,
                      inf_error *err);

void srv_request_free(srv_request *r);

#endif
