/* cpu_chat.c - Chat's prompt: the model's own Jinja chat template
 * (tokenizer.chat_template in GGUF, chat_template in tokenizer_config.json),
 * rendered with messages, add_generation_prompt, bos_token, eos_token and
 * the caller's extra variables.
 *
 * The caller's template (load option chat_template) replaces the model's.
 * A model without a template gets a documented plain format:
 *     "<role>: <content>\n" for each message, then "assistant: ".  */
#include "backends/cpu/cpu_internal.h"
#include "base/error.h"

#include "chat/jinja/jinja.h"
#include "text/tokenizer.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cpu_chat_init(cpu_model *cm, const char *override)
{
    const char *src = override && override[0] ? override : tok_chat_template(cm->tok);
    if (!src || !src[0]) return;
    inf_error err = {0};
    if (jinja_parse(src, strlen(src), NULL, &cm->chat_template, &err) != 0) {
        cm->chat_template = NULL;
        cm->chat_template_error = strdup(err.message);
    }
}

void cpu_chat_free(cpu_model *cm)
{
    jinja_template_free(cm->chat_template);
    free(cm->chat_template_error);
}

static char *render_plain(const inf_message *messages, size_t n)
{
    size_t len = strlen("assistant: ") + 1;
    for (size_t i = 0; i < n; i++) len += strlen(messages[i].role) + strlen(messages[i].content) + 3;
    char *out = malloc(len);
    if (!out) return NULL;
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(out + at, len - at, "%s: %s\n", messages[i].role, messages[i].content);
    snprintf(out + at, len - at, "assistant: ");
    return out;
}

/* {"messages": [...], "add_generation_prompt": true, "bos_token": ..., "eos_token": ..., ...vars} */
static cJSON *build_context(cpu_model *cm, const inf_message *messages, size_t n, const char *vars_json,
                            inf_error *err)
{
    cJSON *ctx = vars_json && vars_json[0] ? cJSON_Parse(vars_json) : cJSON_CreateObject();
    if (!ctx || !cJSON_IsObject(ctx)) {
        cJSON_Delete(ctx);
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "chat: the template variables are not a JSON object");
        return NULL;
    }
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; list && i < n; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", messages[i].role ? messages[i].role : "");
        cJSON_AddStringToObject(m, "content", messages[i].content ? messages[i].content : "");
        cJSON_AddItemToArray(list, m);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(ctx, "messages");
    cJSON_AddItemToObject(ctx, "messages", list);
    if (!cJSON_GetObjectItemCaseSensitive(ctx, "add_generation_prompt"))
        cJSON_AddBoolToObject(ctx, "add_generation_prompt", 1);
    if (!cJSON_GetObjectItemCaseSensitive(ctx, "bos_token"))
        cJSON_AddStringToObject(ctx, "bos_token", tok_bos_text(cm->tok));
    if (!cJSON_GetObjectItemCaseSensitive(ctx, "eos_token"))
        cJSON_AddStringToObject(ctx, "eos_token", tok_eos_text(cm->tok));
    return ctx;
}

inf_status cpu_render_chat(void *impl, const inf_message *messages, size_t n, const char *vars_json, char **prompt,
                           inf_error *err)
{
    cpu_model *cm = impl;
    *prompt = NULL;
    if (!cm->chat_template) {
        if (cm->chat_template_error) {
            inf_error_set(err, INF_ERR_TEMPLATE, "chat template of the model does not parse: %s",
                          cm->chat_template_error);
            return INF_ERR_TEMPLATE;
        }
        *prompt = render_plain(messages, n);
        if (!*prompt) {
            inf_error_set(err, INF_ERR_NO_MEMORY, "chat: out of memory");
            return INF_ERR_NO_MEMORY;
        }
        return INF_OK;
    }
    cJSON *ctx = build_context(cm, messages, n, vars_json, err);
    if (!ctx) return INF_ERR_INVALID_ARGUMENT;
    struct jinja_value *value = jinja_value_from_cjson(ctx);
    cJSON_Delete(ctx);
    if (!value) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "chat: out of memory building the template context");
        return INF_ERR_NO_MEMORY;
    }
    int rc = jinja_render(cm->chat_template, value, prompt, NULL, err);
    jinja_value_free(value);
    if (rc != 0) {
        err_prefix(err, "chat template");
        return err_status(err);
    }
    return INF_OK;
}
