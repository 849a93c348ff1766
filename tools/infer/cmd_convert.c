/* cmd_convert.c - `infer convert DIR OUT.gguf`: write a Hugging Face model
 * folder (config.json, safetensors - single, sharded or MLX-quantised - and
 * a byte-level BPE tokenizer.json) as a GGUF file that llama.cpp loads and
 * runs. The work is done by src/formats/hf_convert.c.
 */
#include <string.h>

#include "cli.h"
#include "offline/hf_convert.h"


static const char CONVERT_HELP[] =
    "usage: infer convert DIR OUTPUT.gguf [--name NAME] [--pre PRE]\n\n"
    "Convert the Hugging Face model folder DIR (config.json, *.safetensors or\n"
    "shards with model.safetensors.index.json, tokenizer.json) to a GGUF file,\n"
    "as llama.cpp's convert_hf_to_gguf.py does: Llama q/k rows permuted for\n"
    "llama.cpp's RoPE, Gemma norms stored as 1 + w, f32 norms, matrices kept in\n"
    "f32/f16/bf16, MLX-quantised matrices dequantised to f32, and the tokenizer\n"
    "(byte-level BPE: Qwen, Llama 3) as gpt2 metadata with the chat template.\n"
    "Architectures: llama, mistral, qwen2, qwen3, gemma3 (text).\n\n"
    "Options:\n"
    "      --name NAME        general.name (default: the folder's name)\n"
    "      --pre PRE          tokenizer.ggml.pre (default: detected, qwen2 or llama-bpe)\n"
    "  -h, --help             show this help\n\n"
    "Exit status: 0 success, 1 runtime error, 2 usage error.\n";

int cmd_convert(int argc, char **argv)
{
    cli_args a;
    struct hf_convert_options opts = {0};
    const char *pos[2] = {NULL, NULL};
    int np = 0;
    args_init(&a, "convert", argc, argv);
    for (; a.i < argc; a.i++) {
        if (args_is_help(&a)) {
            fputs(CONVERT_HELP, stdout);
            return CLI_EXIT_OK;
        }
        int r = args_value(&a, "--name", NULL, &opts.name);
        if (r == 0) r = args_value(&a, "--pre", NULL, &opts.pre);
        if (r < 0) return CLI_EXIT_USAGE;
        if (r > 0) continue;
        if (args_is_option(&a)) {
            if (a.no_more_options) continue;
            return args_unknown(&a);
        }
        if (np == 2) return cli_usage_error("convert", "unexpected argument '%s'", args_cur(&a));
        pos[np++] = args_cur(&a);
    }
    if (np != 2) return cli_usage_error("convert", "needs a model folder and an output .gguf path");
    inf_error err = {0};
    if (hf_convert_to_gguf(pos[0], pos[1], &opts, &err) != 0) return cli_error("%s", err.message);
    fprintf(stderr, "wrote %s\n", pos[1]);
    return CLI_EXIT_OK;
}
