/* fuzz_config.c - libFuzzer harness for the Hugging Face config.json and
 * generation_config.json parsers (src/formats/hf_config.c).
 *
 * The same bytes go to hf_config_parse(), hf_config_peek() and, on top of
 * a parsed (or default-initialised) config, hf_generation_config_parse().
 * The text is handed over in an exactly sized heap copy without a NUL
 * terminator, since the parsers take (pointer, length). */
#include "formats/hf_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static volatile uint64_t fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    inf_error err = {0};
    struct hf_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) { free(copy); return 0; }
    if (hf_config_parse(copy, size, "fuzz/config.json", cfg, &err) == 0) {
        fuzz_sink += (uint64_t)cfg->num_layers + (uint64_t)cfg->n_eos + strlen(cfg->engine_arch ? cfg->engine_arch : "");
        for (int i = 0; i < cfg->n_eos && i < HF_MAX_EOS; i++) fuzz_sink += (uint64_t)cfg->eos_token_ids[i];
    } else {
        memset(cfg, 0, sizeof *cfg);
        cfg->bos_token_id = cfg->pad_token_id = -1;
    }
    if (hf_generation_config_parse(copy, size, "fuzz/generation_config.json", cfg, &err) == 0)
        fuzz_sink += (uint64_t)cfg->n_eos;
    char model_type[64];
    int bits = 0, group = 0;
    if (hf_config_peek(copy, size, model_type, sizeof model_type, &bits, &group) == 0)
        fuzz_sink += strlen(model_type) + (uint64_t)bits + (uint64_t)group;
    free(cfg);
    free(copy);
    return 0;
}
