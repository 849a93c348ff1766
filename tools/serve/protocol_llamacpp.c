/* protocol_llamacpp.c - the documents of llama.cpp's own /completion
 * protocol (what llama-server sends): the whole answer, one streamed token,
 * the closing event, and completion_probabilities. */
#include "serve/server_internal.h"

#include <string.h>

/* llama.cpp's completion_probabilities entry for the first token. */
static cJSON *native_probs(const srv_gen *g, const char *text)
{
    cJSON *arr = cJSON_CreateArray();
    cJSON *e = cJSON_CreateObject();
    cJSON_AddItemToArray(arr, e);
    double lp = 0;
    for (int i = 0; i < g->n_probs; i++) if (g->probs[i].id == g->first_id) lp = g->probs[i].logprob;
    cJSON_AddNumberToObject(e, "id", g->first_id);
    cJSON_AddStringToObject(e, "token", text);
    cJSON_AddNumberToObject(e, "logprob", lp);
    cJSON *top = cJSON_AddArrayToObject(e, "top_logprobs");
    for (int i = 0; i < g->n_probs; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "id", g->probs[i].id);
        cJSON_AddStringToObject(c, "token", prob_text(g, i));
        cJSON_AddNumberToObject(c, "logprob", g->probs[i].logprob);
        cJSON_AddItemToArray(top, c);
    }
    return arr;
}

/* The "stop" fields shared by the whole answer and the closing event. */
static void add_stop_fields(cJSON *o, srv_gen *g)
{
    int64_t prompt_n = 0;
    cJSON_AddStringToObject(o, "model", g->srv->model_name);
    cJSON_AddNumberToObject(o, "tokens_predicted", (double)g->n_generated);
    add_timings(o, g, &prompt_n);
    cJSON_AddNumberToObject(o, "tokens_evaluated", (double)prompt_n);
    cJSON_AddStringToObject(o, "stop_type", strcmp(finish_reason(g), "length") == 0 ? "limit" : "eos");
    cJSON_AddStringToObject(o, "stopping_word", "");
    cJSON_AddBoolToObject(o, "truncated", false);
}

cJSON *native_final_document(srv_gen *g)
{
    const char *text = g->text.p ? g->text.p : "";
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", 0);
    cJSON_AddStringToObject(o, "content", text);
    cJSON_AddItemToObject(o, "tokens", cJSON_CreateIntArray((const int *)g->ids, (int)g->n_ids));
    cJSON_AddNumberToObject(o, "id_slot", -1);
    cJSON_AddBoolToObject(o, "stop", true);
    add_stop_fields(o, g);
    if (g->probs && g->n_generated > 0)
        cJSON_AddItemToObject(o, "completion_probabilities", native_probs(g, g->first_text ? g->first_text : text));
    return o;
}

cJSON *native_token_event(srv_gen *g, int32_t id, const char *text)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", 0);
    cJSON_AddStringToObject(o, "content", text);
    int one = id;
    cJSON_AddItemToObject(o, "tokens", cJSON_CreateIntArray(&one, 1));
    cJSON_AddBoolToObject(o, "stop", false);
    cJSON_AddNumberToObject(o, "id_slot", -1);
    cJSON_AddNumberToObject(o, "tokens_predicted", (double)g->n_generated);
    if (g->probs && g->n_generated == 1) cJSON_AddItemToObject(o, "completion_probabilities", native_probs(g, text));
    return o;
}

cJSON *native_closing_event(srv_gen *g)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", 0);
    cJSON_AddStringToObject(o, "content", "");
    cJSON_AddItemToObject(o, "tokens", cJSON_CreateArray());
    cJSON_AddBoolToObject(o, "stop", true);
    cJSON_AddNumberToObject(o, "id_slot", -1);
    add_stop_fields(o, g);
    return o;
}
