/* stream.c - the README's example: load a model, stream a reply, check how
 * the stream ended, close. Built by the tests against the public header and
 * the shared library only, as any consumer would.
 *
 *   example_stream MODEL [PROMPT]
 */
#include <inference.h>

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL [PROMPT]\n", argv[0]);
        return 2;
    }
    inf_error err;
    inf_model *model = inf_load_model(argv[1], NULL, &err);
    if (!model) {
        fprintf(stderr, "load failed: %s\n", err.message);
        return 1;
    }

    inf_generate_config cfg;
    inf_generate_config_default(&cfg);
    cfg.max_tokens = 32;

    inf_stream *stream = inf_generate(model, argc > 2 ? argv[2] : "Once upon a time", &cfg, NULL);
    inf_token tok;
    while (inf_stream_next(stream, &tok)) fputs(tok.text, stdout);
    putchar('\n');

    int status = 0;
    if (inf_stream_status(stream) != INF_OK) {
        fprintf(stderr, "generation failed: %s\n", inf_stream_error(stream));
        status = 1;
    }
    inf_stream_free(stream);
    inf_model_close(model);
    return status;
}
