/* fuzz_jinja.c - libFuzzer harness for the Jinja chat-template parser and
 * renderer (src/text/jinja).
 *
 * Input: template text, optionally followed by FUZZ_SPLIT and a JSON object
 * used as the render context. Without one (or when it does not parse to a
 * dict) a typical chat context is used: a system/user/assistant
 * conversation, bos/eos tokens and add_generation_prompt. The limits are
 * set tighter than the defaults so that each input stays fast and small;
 * hitting a limit is an ordinary error, never a crash or a hang. */
#include "chat/jinja/jinja.h"
#include "fuzz_common.h"

static volatile uint64_t fuzz_sink;

static struct jinja_value *message(const char *role, const char *content)
{
    struct jinja_value *m = jinja_value_dict();
    if (!m) return NULL;
    jinja_value_dict_set(m, "role", jinja_value_string(role, strlen(role)));
    jinja_value_dict_set(m, "content", jinja_value_string(content, strlen(content)));
    return m;
}

static struct jinja_value *default_context(void)
{
    struct jinja_value *ctx = jinja_value_dict();
    struct jinja_value *msgs = jinja_value_list();
    if (!ctx || !msgs) { jinja_value_free(ctx); jinja_value_free(msgs); return NULL; }
    jinja_value_list_append(msgs, message("system", "You are helpful."));
    jinja_value_list_append(msgs, message("user", "Hi <b>there</b> {{ x }}"));
    jinja_value_list_append(msgs, message("assistant", "Hello!"));
    jinja_value_list_append(msgs, message("user", "\xc3\xa9\xf0\x9f\x98\x80"));
    jinja_value_dict_set(ctx, "messages", msgs);
    jinja_value_dict_set(ctx, "bos_token", jinja_value_string("<s>", 3));
    jinja_value_dict_set(ctx, "eos_token", jinja_value_string("</s>", 4));
    jinja_value_dict_set(ctx, "add_generation_prompt", jinja_value_bool(1));
    jinja_value_dict_set(ctx, "tools", jinja_value_none());
    return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t a_len, b_len;
    const char *b;
    fuzz_split((const char *)data, size, &a_len, &b, &b_len);
    char *src = fuzz_copy(data, a_len);
    if (!src) return 0;

    struct jinja_options opts;
    jinja_options_init(&opts);
    opts.max_output_bytes = 256 << 10;
    opts.max_memory_bytes = 16u << 20;
    opts.max_loop_iterations = 5000;
    opts.max_depth = 100;
    opts.now = 1700000000;
    opts.now_utc = 1;

    inf_error err = {0};
    struct jinja_template *tmpl = NULL;
    if (jinja_parse(src, a_len, &opts, &tmpl, &err) == 0) {
        struct jinja_value *ctx = NULL;
        if (b) {
            char *json = fuzz_copy(b, b_len);
            if (json) ctx = jinja_value_from_json(json, b_len, &err);
            free(json);
        }
        if (!ctx) ctx = default_context();
        char *out = NULL;
        size_t out_len = 0;
        if (jinja_render(tmpl, ctx, &out, &out_len, &err) == 0) {
            fuzz_sink += out_len;
            if (out_len) fuzz_sink += (unsigned char)out[out_len - 1];
        } else {
            fuzz_sink += strlen(err.message);
        }
        free(out);
        jinja_value_free(ctx);
        jinja_template_free(tmpl);
    } else {
        fuzz_sink += strlen(err.message);
    }
    free(src);
    return 0;
}
