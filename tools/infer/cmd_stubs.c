/* cmd_stubs.c - the subcommands whose engines come from other issues
 * (quantize, perplexity, convert, serve). Until those land they answer
 * --help and say plainly that this build cannot do the job (exit 1). */
#include <string.h>

#include "cli.h"

static int not_yet(int argc, char **argv, const char *usage, const char *what)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0)
            break;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: infer %s %s\n\n%s\n\nNot available in this build yet.\n", argv[0], usage, what);
            return CLI_EXIT_OK;
        }
    return cli_error("'%s' is not available in this build yet", argv[0]);
}

int cmd_quantize(int argc, char **argv)
{
    return not_yet(argc, argv, "MODEL OUTPUT.gguf TYPE",
                   "Write a copy of MODEL with its weights quantized to TYPE (q8_0, q4_K...).");
}

int cmd_perplexity(int argc, char **argv)
{
    return not_yet(argc, argv, "MODEL FILE.txt [--ctx N]", "Measure the perplexity of MODEL on the text of FILE.");
}

int cmd_convert(int argc, char **argv)
{
    return not_yet(argc, argv, "HF_FOLDER OUTPUT.gguf", "Convert a Hugging Face model folder to a GGUF file.");
}

int cmd_serve(int argc, char **argv)
{
    return not_yet(argc, argv, "[MODEL] [--host H] [--port P]",
                   "Serve MODEL over HTTP with OpenAI- and Ollama-style endpoints.");
}
