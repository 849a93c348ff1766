/* protocol_openai.c - the documents of OpenAI's /v1/completions and
 * /v1/chat/completions: the whole answer, the chunks of a streamed one,
 * usage and logprobs. */
#include "serve/server_internal.h"

#include <string.h>

/* OpenAI completions' logprobs object for the first token. */
static cJSON *oai_probs(const srv_gen *g, const char *text)
{
    cJSON *o = cJSON_CreateObject();
    double lp = 0;
    for (int i = 0; i < g->n_probs; i++) if (g->probs[i].id == g->first_id) lp = g->probs[i].logprob;
    cJSON_AddItemToObject(o, "tokens", cJSON_CreateStringArray(&text, 1));
    cJSON_AddItemToObject(o, "token_logprobs", cJSON_CreateDoubleArray(&lp, 1));
    cJSON *tops = cJSON_AddArrayToObject(o, "top_logprobs");
    cJSON *top = cJSON_CreateObject();
    for (int i = 0; i < g->n_probs; i++) cJSON_AddNumberToObject(top, prob_text(g, i), g->probs[i].logprob);
    cJSON_AddItemToArray(tops, top);
    int zero = 0;
    cJSON_AddItemToObject(o, "text_offset", cJSON_CreateIntArray(&zero, 1));
    return o;
}

static cJSON *usage_json(const srv_gen *g, int64_t prompt_n)
{
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "prompt_tokens", (double)prompt_n);
    cJSON_AddNumberToObject(u, "completion_tokens", (double)g->n_generated);
    cJSON_AddNumberToObject(u, "total_tokens", (double)(prompt_n + (int64_t)g->n_generated));
    return u;
}

static cJSON *oai_envelope(const srv_gen *g, const char *object)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", g->id);
    cJSON_AddStringToObject(o, "object", object);
    cJSON_AddNumberToObject(o, "created", (double)g->created);
    cJSON_AddStringToObject(o, "model", g->srv->model_name);
    return o;
}

cJSON *oai_final_document(srv_gen *g)
{
    int64_t prompt_n = 0;
    const char *text = g->text.p ? g->text.p : "";
    bool chat = g->req.endpoint == SRV_EP_OAI_CHAT;
    cJSON *o = oai_envelope(g, chat ? "chat.completion" : "text_completion");
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", 0);
    if (chat) {
        cJSON *m = cJSON_AddObjectToObject(c, "message");
        cJSON_AddStringToObject(m, "role", "assistant");
        cJSON_AddStringToObject(m, "content", text);
    } else {
        cJSON_AddStringToObject(c, "text", text);
    }
    if (g->probs && !chat) cJSON_AddItemToObject(c, "logprobs", oai_probs(g, text));
    else cJSON_AddNullToObject(c, "logprobs");
    cJSON_AddStringToObject(c, "finish_reason", finish_reason(g));
    add_timings(o, g, &prompt_n);
    cJSON_AddItemToObject(o, "usage", usage_json(g, prompt_n));
    return o;
}

cJSON *oai_chunk(srv_gen *g, const char *text, const char *finish, bool role)
{
    bool chat = g->req.endpoint == SRV_EP_OAI_CHAT;
    cJSON *o = oai_envelope(g, chat ? "chat.completion.chunk" : "text_completion");
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", 0);
    if (chat) {
        cJSON *d = cJSON_AddObjectToObject(c, "delta");
        if (role) cJSON_AddStringToObject(d, "role", "assistant");
        if (text) cJSON_AddStringToObject(d, "content", text);
    } else {
        cJSON_AddStringToObject(c, "text", text ? text : "");
    }
    if (g->probs && !chat && text && g->n_generated == 1) cJSON_AddItemToObject(c, "logprobs", oai_probs(g, text));
    else cJSON_AddNullToObject(c, "logprobs");
    if (finish) cJSON_AddStringToObject(c, "finish_reason", finish);
    else cJSON_AddNullToObject(c, "finish_reason");
    return o;
}

void oai_closing_events(srv_gen *g, void (*emit)(srv_gen *g, cJSON *doc))
{
    int64_t prompt_n = 0;
    cJSON *last = oai_chunk(g, g->req.endpoint == SRV_EP_OAI_CHAT ? NULL : "", finish_reason(g), false);
    add_timings(last, g, &prompt_n);
    emit(g, last);
    if (g->req.include_usage) {
        cJSON *u = oai_envelope(g, g->req.endpoint == SRV_EP_OAI_CHAT ? "chat.completion.chunk" : "text_completion");
        cJSON_AddArrayToObject(u, "choices");
        cJSON_AddItemToObject(u, "usage", usage_json(g, prompt_n));
        emit(g, u);
    }
}
