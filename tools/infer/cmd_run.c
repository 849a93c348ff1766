/* cmd_run.c - `infer run [MODEL] [PROMPT]`: generate from a raw prompt and
 * stream the text to stdout as it is produced. stdout receives exactly the
 * generated text (no echo, no banner, no added newline); metrics and errors
 * go to stderr. Ctrl-C stops the generation (exit 130). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char RUN_HELP[] =
    "usage: infer run [MODEL] [PROMPT] [OPTIONS]\n\n"
    "Generate text from PROMPT (or from stdin when PROMPT is '-' or absent; one\n"
    "trailing newline of stdin is dropped) and stream it to stdout.\n"
    "MODEL may be omitted (see 'infer --help' for the default model); a first\n"
    "argument that is not an existing path, a *.gguf name or a URL is the prompt.\n\n"
    "Stable form for programs:\n"
    "  infer run MODEL PROMPT --temperature 0 --max-tokens N\n"
    "writes exactly the generated text to stdout: no prompt echo, no banner, and\n"
    "a final newline only if the model generated one. Everything else (progress,\n"
    "metrics, errors) goes to stderr.\n\n"
    "Options:\n"
    "  -v, --verbose          print metrics (prefill and decode tok/s, tokens,\n"
    "                         memory) on stderr after the text\n"
    "  -h, --help             show this help\n";

static void print_help(void)
{
    printf("%s\n%s\n%s\nExit status: 0 success, 1 runtime error, 2 usage error, 130 interrupted.\n",
           RUN_HELP, GEN_OPTS_HELP, LOAD_OPTS_HELP);
}

/* The prompt from stdin, without one trailing newline. */
static char *read_stdin_prompt(void)
{
    size_t len;
    char *s = cli_read_stream(stdin, &len);
    if (s && len > 0 && s[len - 1] == '\n') {
        s[--len] = '\0';
        if (len > 0 && s[len - 1] == '\r')
            s[--len] = '\0';
    }
    return s;
}

/* Stream one generation to stdout. Returns an exit code. */
static int stream_to_stdout(inf_model *m, const char *prompt, const inf_generate_config *cfg)
{
    inf_cancel *cancel = inf_cancel_new(NULL);
    if (!cancel)
        return cli_error("out of memory");
    inf_stream *s = inf_generate(m, prompt, cfg, cancel);
    if (!s) {
        inf_cancel_free(cancel);
        return cli_error("out of memory");
    }
    cli_interrupt_target(cancel);
    inf_token tok;
    char last = '\n';
    bool any = false;
    while (inf_stream_next(s, &tok)) {
        size_t n = strlen(tok.text);
        if (n == 0)
            continue;
        fwrite(tok.text, 1, n, stdout);
        fflush(stdout);
        last = tok.text[n - 1];
        any = true;
    }
    cli_interrupt_target(NULL);
    inf_status st = inf_stream_status(s);
    int rc = CLI_EXIT_OK;
    /* Keep a terminal tidy without touching what stdout carries. */
    if (any && last != '\n' && isatty(STDOUT_FILENO))
        fputc('\n', stderr);
    if (st == INF_ERR_CANCELLED && cli_interrupt_count() > 0) {
        cli_error("interrupted");
        rc = CLI_EXIT_INTERRUPTED;
    } else if (st != INF_OK) {
        const char *msg = inf_stream_error(s);
        rc = cli_error("%s", msg && *msg ? msg : inf_status_name(st));
    }
    inf_stream_free(s);
    inf_cancel_free(cancel);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    cli_args a;
    cli_gen_opts gen;
    cli_load_opts load;
    bool verbose = false;
    const char *pos[2];
    int npos = 0, r;
    args_init(&a, "run", argc, argv);
    gen_opts_init(&gen);
    load_opts_init(&load);
    for (; a.i < argc; a.i++) {
        if (args_is_help(&a)) {
            print_help();
            return CLI_EXIT_OK;
        }
        if ((r = gen_opts_take(&a, &gen)) != 0 || (r = load_opts_take(&a, &load)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        if (args_flag(&a, "--verbose", "-v")) {
            verbose = true;
            continue;
        }
        if (args_is_option(&a)) {
            if (a.no_more_options)
                continue;
            return args_unknown(&a);
        }
        if (npos == 2)
            return cli_usage_error("run", "unexpected argument '%s'", args_cur(&a));
        pos[npos++] = args_cur(&a);
    }

    const char *prompt_arg = NULL;
    if (load.model) {
        if (npos == 2)
            return cli_usage_error("run", "unexpected argument '%s' (the model is given by -m)", pos[1]);
        prompt_arg = npos ? pos[0] : NULL;
    } else if (npos == 2) {
        load.model = pos[0];
        prompt_arg = pos[1];
    } else if (npos == 1) {
        if (strcmp(pos[0], "-") != 0 && cli_looks_like_model(pos[0]))
            load.model = pos[0];
        else
            prompt_arg = pos[0];
    }
    bool from_stdin = !prompt_arg || strcmp(prompt_arg, "-") == 0;
    if (from_stdin && !prompt_arg && isatty(STDIN_FILENO))
        return cli_usage_error("run", "no prompt given (pass PROMPT, or '-' to read stdin)");

    inf_error err;
    if (inf_generate_config_check(&gen.cfg, &err) != INF_OK)
        return cli_usage_error("run", "%s", err.message);

    char path[4096];
    if ((r = cli_resolve_model(&load, path, sizeof path)) != 0)
        return r;
    char *stdin_prompt = NULL;
    if (from_stdin) {
        stdin_prompt = read_stdin_prompt();
        if (!stdin_prompt)
            return cli_error("reading the prompt from stdin failed");
    }
    const char *prompt = from_stdin ? stdin_prompt : prompt_arg;

    cli_interrupt_install(false);
    inf_model *m = cli_load_model(path, &load.cfg);
    if (!m) {
        free(stdin_prompt);
        return CLI_EXIT_RUNTIME;
    }
    int rc = stream_to_stdout(m, prompt, &gen.cfg);
    if (verbose && rc != CLI_EXIT_USAGE)
        cli_print_metrics(m);
    inf_model_close(m);
    free(stdin_prompt);
    return rc;
}
