/* test_formats_hf_config.c - config.json / generation_config.json parsing: the four
 * test directories, eos as int and list, Gemma3ForConditionalGeneration's
 * text_config with defaults, MLX quantisation, and malformed configs. */
#include "formats/hf_config.h"
#include "test_util.h"

#include <string.h>

static const char *dir_of(const char *rel)
{
    static char buf[4096];
    const char *p = test_data_path(rel);
    if (!p) return NULL;
    snprintf(buf, sizeof buf, "%s", p);
    *strrchr(buf, '/') = '\0';
    return buf;
}

static void test_dirs(void)
{
    struct hf_config c;
    inf_error err = {0};
    const char *d = dir_of("models/random/qwen3-tiny-hf-bf16/config.json");
    CHECK(d != NULL);
    if (!d) return;
    CHECK_MSG(hf_config_load_dir(d, &c, &err) == 0, "%s", err.message);
    CHECK_STREQ(c.model_type, "qwen3");
    CHECK_STREQ(c.architecture, "Qwen3ForCausalLM");
    CHECK(c.arch == HF_ARCH_QWEN3);
    CHECK_STREQ(c.engine_arch, "qwen3");
    CHECK(c.vocab_size == 8218 && c.hidden_size == 256 && c.intermediate_size == 768);
    CHECK(c.num_layers == 2 && c.num_heads == 4 && c.num_kv_heads == 2 && c.head_dim == 128);
    CHECK(c.rms_norm_eps == 1e-6f && c.rope_theta == 1e6f && c.tie_word_embeddings);
    CHECK(c.max_position_embeddings == 2048 && c.sliding_window == 0 && c.quant_bits == 0);
    /* config.json eos 8194, generation_config [8194, 8192] */
    CHECK(c.n_eos == 2 && c.eos_token_ids[0] == 8194 && c.eos_token_ids[1] == 8192);
    CHECK(c.bos_token_id == 8192 && c.pad_token_id == 8192);

    d = dir_of("models/random/llama3-tiny-hf-f16/config.json");
    CHECK_MSG(d && hf_config_load_dir(d, &c, &err) == 0, "%s", err.message);
    CHECK(c.arch == HF_ARCH_LLAMA && !c.tie_word_embeddings && c.head_dim == 64 && c.rms_norm_eps == 1e-5f);
    CHECK(c.n_eos == 2 && c.eos_token_ids[0] == 8193 && c.eos_token_ids[1] == 8201);
    CHECK_STREQ(c.torch_dtype, "float16");

    d = dir_of("models/random/gemma3-tiny-hf-bf16/config.json");
    CHECK_MSG(d && hf_config_load_dir(d, &c, &err) == 0, "%s", err.message);
    CHECK(c.arch == HF_ARCH_GEMMA3 && !c.multimodal_wrapper);
    CHECK(c.sliding_window == 64 && c.sliding_window_pattern == 2);
    CHECK(c.layer_sliding[0] && !c.layer_sliding[1]);
    CHECK(c.rope_local_theta == 10000.0f && c.query_pre_attn_scalar == 128.0f);
    CHECK(c.n_eos == 2 && c.eos_token_ids[0] == 1 && c.eos_token_ids[1] == 106);

    d = dir_of("models/random/qwen3-tiny-mlx4/config.json");
    CHECK_MSG(d && hf_config_load_dir(d, &c, &err) == 0, "%s", err.message);
    CHECK(c.quant_bits == 4 && c.quant_group == 64);
}

static int parse(const char *json, struct hf_config *c, inf_error *err)
{
    return hf_config_parse(json, strlen(json), "config.json", c, err);
}

static void test_inline(void)
{
    struct hf_config c;
    inf_error err = {0};
    /* Gemma3ForConditionalGeneration as the real 4B ships it: few keys. */
    const char *g = "{\"architectures\":[\"Gemma3ForConditionalGeneration\"],\"model_type\":\"gemma3\","
                    "\"eos_token_id\":[1,106],\"text_config\":{\"hidden_size\":2560,\"intermediate_size\":10240,"
                    "\"model_type\":\"gemma3_text\",\"num_hidden_layers\":34,"
                    "\"rope_scaling\":{\"factor\":8.0,\"rope_type\":\"linear\"},\"sliding_window\":1024},"
                    "\"vision_config\":{\"hidden_size\":1152}}";
    CHECK_MSG(parse(g, &c, &err) == 0, "%s", err.message);
    CHECK(c.multimodal_wrapper && c.arch == HF_ARCH_GEMMA3 && c.hidden_size == 2560 && c.num_layers == 34);
    CHECK(c.num_heads == 8 && c.num_kv_heads == 4 && c.head_dim == 256 && c.vocab_size == 262208);
    CHECK(c.sliding_window == 1024 && c.sliding_window_pattern == 6);
    CHECK(c.layer_sliding[0] && c.layer_sliding[4] && !c.layer_sliding[5] && !c.layer_sliding[11]);
    CHECK_STREQ(c.rope_scaling_type, "linear");
    CHECK(c.rope_factor == 8.0f && c.n_eos == 2);

    /* Mistral maps to llama; head_dim derived; kv heads default to heads. */
    const char *m = "{\"model_type\":\"mistral\",\"vocab_size\":100,\"hidden_size\":64,\"intermediate_size\":128,"
                    "\"num_hidden_layers\":1,\"num_attention_heads\":4,\"eos_token_id\":2,"
                    "\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":32,\"low_freq_factor\":1,"
                    "\"high_freq_factor\":4,\"original_max_position_embeddings\":8192}}";
    CHECK_MSG(parse(m, &c, &err) == 0, "%s", err.message);
    CHECK(c.arch == HF_ARCH_LLAMA && c.head_dim == 16 && c.num_kv_heads == 4 && c.n_eos == 1 && c.eos_token_ids[0] == 2);
    CHECK(strcmp(c.rope_scaling_type, "llama3") == 0 && c.rope_factor == 32 && c.rope_original_ctx == 8192);
    const char *gen = "{\"eos_token_id\":[2,7,2]}";
    CHECK(hf_generation_config_parse(gen, strlen(gen), "generation_config.json", &c, &err) == 0);
    CHECK(c.n_eos == 2 && c.eos_token_ids[1] == 7);
    CHECK(hf_generation_config_parse("{\"eos_token_id\":\"x\"}", 20, "generation_config.json", &c, &err) != 0);
    CHECK(strstr(err.message, "generation_config.json") && strstr(err.message, "eos_token_id"));

    /* Qwen2 always has q/k/v biases. */
    const char *q2 = "{\"model_type\":\"qwen2\",\"vocab_size\":100,\"hidden_size\":64,\"intermediate_size\":128,"
                     "\"num_hidden_layers\":1,\"num_attention_heads\":4,\"num_key_value_heads\":2}";
    CHECK_MSG(parse(q2, &c, &err) == 0, "%s", err.message);
    CHECK(c.arch == HF_ARCH_QWEN2 && c.attention_bias);

    /* Errors name the file and key. */
    struct {
        const char *json, *needle;
    } bad[] = {
        {"not json", "not a JSON object"},
        {"{\"model_type\":\"gpt2\"}", "gpt2"},
        {"{\"vocab_size\":5}", "(missing)"},
        {"{\"model_type\":\"llama\",\"vocab_size\":100}", "hidden_size"},
        {"{\"model_type\":\"llama\",\"vocab_size\":-1}", "vocab_size"},
        {"{\"model_type\":\"llama\",\"vocab_size\":\"big\"}", "vocab_size"},
        {"{\"model_type\":\"llama\",\"vocab_size\":100,\"hidden_size\":64,\"intermediate_size\":128,"
         "\"num_hidden_layers\":1,\"num_attention_heads\":4,\"num_key_value_heads\":3}", "num_key_value_heads"},
        {"{\"model_type\":\"llama\",\"vocab_size\":100,\"hidden_size\":64,\"intermediate_size\":128,"
         "\"num_hidden_layers\":1,\"num_attention_heads\":4,\"quantization\":{\"bits\":3,\"group_size\":64}}", "bits 3"},
        {"{\"model_type\":\"llama\",\"vocab_size\":100,\"hidden_size\":64,\"intermediate_size\":128,"
         "\"num_hidden_layers\":1,\"num_attention_heads\":4,\"quantization_config\":{\"quant_method\":\"gptq\"}}", "gptq"},
        {"{\"model_type\":\"llama\",\"vocab_size\":100,\"hidden_size\":64,\"intermediate_size\":128,"
         "\"num_hidden_layers\":1,\"num_attention_heads\":4,\"eos_token_id\":[1,\"x\"]}", "eos_token_id"},
        {"{\"model_type\":\"llama\",\"vocab_size\":100,\"hidden_size\":64,\"intermediate_size\":128,"
         "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"layer_types\":[\"full_attention\"]}", "layer_types"},
        {"{\"model_type\":\"gemma3\"}", "text_config"},
        {"{\"model_type\":\"llama\",\"vocab_size\":100,\"hidden_size\":64,\"intermediate_size\":128,"
         "\"num_hidden_layers\":1,\"num_attention_heads\":4,\"rope_scaling\":{\"rope_type\":\"yarn\"}}", "yarn"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.message[0] = '\0';
        int rc = parse(bad[i].json, &c, &err);
        CHECK_MSG(rc != 0, "accepted: %s", bad[i].json);
        CHECK_MSG(strstr(err.message, "config.json") && strstr(err.message, bad[i].needle), "'%s' lacks '%s'", err.message, bad[i].needle);
    }

    char mt[32];
    int bits, group;
    const char *peek = "{\"model_type\":\"qwen3\",\"quantization\":{\"bits\":8,\"group_size\":32}}";
    CHECK(hf_config_peek(peek, strlen(peek), mt, sizeof mt, &bits, &group) == 0);
    CHECK(strcmp(mt, "qwen3") == 0 && bits == 8 && group == 32);
    CHECK(hf_config_peek("{", 1, mt, sizeof mt, &bits, &group) != 0);
}

int main(void)
{
    test_dirs();
    test_inline();
    return TEST_DONE();
}
