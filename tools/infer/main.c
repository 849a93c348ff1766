/* main.c - the `infer` program's entry point: the table of subcommands, the
 * global help and version, and dispatch to cmd_*.c. */
#include <string.h>

#include "cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command COMMANDS[] = {
    {"run", cmd_run, "generate text from a prompt, streaming it to stdout"},
    {"chat", cmd_chat, "chat with a model in the terminal (or from --messages FILE.json)"},
    {"classify", cmd_classify, "label prompts (one per line or JSONL) with the next token, as JSONL"},
    {"batch", cmd_batch, "generate from many prompts at once, as JSONL"},
    {"info", cmd_info, "describe a model: architecture, sizes, tokenizer, template, tensors"},
    {"ls", cmd_ls, "list the models in a folder"},
    {"tokenize", cmd_tokenize, "show the token ids and pieces of a text"},
    {"template", cmd_template, "render a JSON conversation with the model's chat template"},
    {"bench", cmd_bench, "measure prompt processing and generation speed"},
    {"backends", cmd_backends, "list the registered backends and their availability"},
    {"quantize", cmd_quantize, "convert a model's weights to a quantized type"},
    {"perplexity", cmd_perplexity, "measure a model's perplexity on a text"},
    {"convert", cmd_convert, "convert a Hugging Face model folder to GGUF"},
    {"serve", cmd_serve, "serve a model over HTTP (OpenAI- and llama.cpp-style API)"},
};
#define N_COMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void print_help(void)
{
    printf("usage: infer COMMAND [OPTIONS] [ARGS]\n\n"
           "Run language models locally (libinference %s).\n\n"
           "Commands:\n",
           inf_version());
    for (size_t i = 0; i < N_COMMANDS; i++)
        printf("  %-11s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    printf("\n"
           "'infer COMMAND --help' describes a command.\n\n"
           "The model is a .gguf file, a Hugging Face model folder or an http:// URL.\n"
           "When no model is named, infer uses $INFERENCE_MODEL, else the first model\n"
           "found in $XDG_DATA_HOME/infer/models, ~/.cache/infer/models, ./models, then\n"
           "the bundled model (PREFIX/share/inference/models/stories260K.gguf).\n\n"
           "Output: results (text, JSON) on stdout; progress, metrics and errors on\n"
           "stderr. Every error is one line: 'infer: <message>'.\n"
           "Exit status: 0 success, 1 runtime error, 2 usage error, 130 interrupted.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(NULL, "no command given");
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            char *sub[] = {argv[2], "--help", NULL};
            for (size_t i = 0; i < N_COMMANDS; i++)
                if (strcmp(COMMANDS[i].name, argv[2]) == 0)
                    return COMMANDS[i].run(2, sub);
            return cli_usage_error(NULL, "unknown command '%s'", argv[2]);
        }
        print_help();
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0 || strcmp(name, "version") == 0) {
        printf("infer %s\n", inf_version());
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(COMMANDS[i].name, name) == 0) {
            int rc = COMMANDS[i].run(argc - 1, argv + 1);
            if (fflush(stdout) != 0 && rc == CLI_EXIT_OK)
                rc = cli_error("writing the output failed");
            return rc;
        }
    if (name[0] == '-')
        return cli_usage_error(NULL, "unknown option '%s'", name);
    return cli_usage_error(NULL, "unknown command '%s'", name);
}
