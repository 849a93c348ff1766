/* cli.h - what the files of the `infer` command-line tool share: exit codes,
 * error reporting, option parsing (args.c), generation/load options, model
 * resolution and loading (common.c), Ctrl-C handling (common.c), progress
 * bars (progress.c), and the entry point of every subcommand (cmd_*.c).
 *
 * Conventions: stdout carries only what a program would read (generated text,
 * JSON); everything else goes to stderr. Every error is one line on stderr,
 * "infer: <message>". Exit codes: 0 success, 1 runtime error, 2 usage error,
 * 130 interrupted by Ctrl-C. */
#ifndef INFER_CLI_H
#define INFER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>

#include "inference.h"

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_RUNTIME = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_INTERRUPTED = 130,
};

/* ---- errors (common.c) ---- */

/* Print "infer: <message>\n" on stderr. Always returns CLI_EXIT_RUNTIME. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "infer: <message> (see 'infer CMD --help')\n". Returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- option parsing (args.c) ---- */

/* A cursor over a subcommand's arguments (argv[0] is the subcommand). */
typedef struct cli_args {
    int argc;
    char **argv;
    int i;            /* the argument being looked at */
    const char *cmd;  /* "run", "chat"... for messages */
    bool no_more_options; /* after "--" */
} cli_args;

void args_init(cli_args *a, const char *cmd, int argc, char **argv);
/* The current argument. */
const char *args_cur(const cli_args *a);
/* True when the current argument is -h or --help. */
bool args_is_help(const cli_args *a);
/* True when the current argument looks like an option ("-x", "--xx"; "-"
 * alone is a positional meaning stdin). Consumes "--" (returns true then,
 * with a->no_more_options set; the caller continues). */
bool args_is_option(cli_args *a);
/* Flag without value: matches --name (or the short alias, may be NULL). */
bool args_flag(cli_args *a, const char *name, const char *alias);
/* Option with a value: --name VALUE, --name=VALUE, or alias VALUE. Returns 1
 * with *value set (and the cursor on the value), 0 when not this option, -1
 * after printing a usage error (value missing). */
int args_value(cli_args *a, const char *name, const char *alias, const char **value);
/* Strict number parsing with range checks; print a usage error naming the
 * option and return -1 on bad input, else 0. */
int args_int(const cli_args *a, const char *opt, const char *s, long min, long max, int *out);
int args_float(const cli_args *a, const char *opt, const char *s, double min, double max, float *out);
int args_u64(const cli_args *a, const char *opt, const char *s, uint64_t *out);
/* Unknown option: print the usage error and return CLI_EXIT_USAGE. */
int args_unknown(const cli_args *a);

#define CLI_MAX_STOPS 64

/* Generation options shared by run, chat, classify, batch. */
typedef struct cli_gen_opts {
    inf_generate_config cfg;
    const char *stop_strings[CLI_MAX_STOPS];
    int32_t stop_tokens[CLI_MAX_STOPS];
} cli_gen_opts;

void gen_opts_init(cli_gen_opts *g);
/* Try to take the current argument as a generation option: 1 taken, 0 not
 * one, -1 usage error printed. */
int gen_opts_take(cli_args *a, cli_gen_opts *g);
/* The help lines describing the generation options. */
extern const char GEN_OPTS_HELP[];

/* Load options and the model argument shared by every model command. */
typedef struct cli_load_opts {
    inf_load_config cfg;
    const char *model; /* -m/--model, or the first positional that names a model */
} cli_load_opts;

void load_opts_init(cli_load_opts *l);
int load_opts_take(cli_args *a, cli_load_opts *l);
extern const char LOAD_OPTS_HELP[];

/* ---- models (common.c) ---- */

/* Whether a positional argument names a model rather than a prompt: an
 * existing file or directory, a *.gguf path, or an http(s):// URL. */
bool cli_looks_like_model(const char *arg);
/* The model to use when none is named: $INFERENCE_MODEL, else the first
 * model found by inf_discover in the standard places. Writes the path to
 * buf and returns 0, or prints an error and returns CLI_EXIT_RUNTIME. */
int cli_default_model(char *buf, size_t size);
/* The standard model folders in search order (they need not exist):
 * $XDG_DATA_HOME/infer/models, ~/.cache/infer/models, ./models, then the
 * bundled model's folder (PREFIX/share/inference/models beside an installed
 * infer, the build's install prefix, the source tree's models/). Returns
 * how many were written (at most max). */
int cli_model_dirs(char dirs[][PATH_MAX], int max);
/* Resolve l->model (defaulting it) into buf. 0 or an exit code. */
int cli_resolve_model(cli_load_opts *l, char *buf, size_t size);
/* Load a model, showing a progress indicator on a terminal. On failure prints
 * "infer: <path>: <message>" and returns NULL. */
inf_model *cli_load_model(const char *path, const inf_load_config *cfg);

/* ---- Ctrl-C (common.c) ---- */

/* Install the SIGINT handler. While a cancel target is set, Ctrl-C triggers
 * it (async-signal-safe); with none, Ctrl-C ends the program as usual unless
 * keep_alive was asked (chat at its prompt: the count is recorded instead). */
void cli_interrupt_install(bool keep_alive);
void cli_interrupt_target(inf_cancel *cancel);
/* How many Ctrl-C were received so far. */
int cli_interrupt_count(void);

/* ---- input (common.c) ---- */

/* Read a whole stream or file; malloc'd, NUL-terminated; *len may be NULL.
 * NULL on failure (with errno set). */
char *cli_read_stream(FILE *f, size_t *len);
char *cli_read_file(const char *path, size_t *len);

/* Prompts read one per line, or as JSONL objects {"prompt": "..."} (also
 * "text" or "input"), or JSON strings. Empty lines are skipped. */
typedef struct cli_prompts {
    char **items;
    size_t n;
} cli_prompts;
/* From path ("-" or NULL = stdin). 0 or an exit code (error printed). */
int cli_read_prompts(const char *path, cli_prompts *out);
void cli_prompts_free(cli_prompts *p);

/* The frame of the commands that work through a file of prompts (batch,
 * classify): resolve and load the model, read the prompts from input,
 * route Ctrl-C to a cancel, call work, print the metrics when verbose,
 * release everything. Returns the exit status (work's, when it ran). */
typedef int (*cli_prompts_work)(inf_model *m, const cli_prompts *prompts, inf_cancel *cancel, void *user);
int cli_with_prompts(cli_load_opts *load, const char *input, bool verbose, cli_prompts_work work, void *user);

/* Decode one token id to its text (special tokens kept); malloc'd, or NULL. */
char *cli_token_piece(inf_model *m, int32_t id);

/* Print the metrics of the last operation on stderr (for --verbose). */
void cli_print_metrics(inf_model *m);

/* ---- progress (progress.c) ---- */

typedef struct cli_progress {
    const char *label;
    size_t total;
    size_t done;
    double start;
    double last_draw;
    bool enabled; /* stderr is a terminal */
} cli_progress;

double cli_now(void);
void progress_start(cli_progress *p, const char *label, size_t total);
void progress_update(cli_progress *p, size_t done);
void progress_finish(cli_progress *p);

/* An indeterminate progress indicator drawn by a thread (model loading,
 * whose duration the API does not report). NULL when stderr is not a
 * terminal. */
typedef struct cli_spinner cli_spinner;
cli_spinner *spinner_start(const char *label);
void spinner_stop(cli_spinner *s);

/* ---- subcommands (cmd_*.c): argv[0] is the subcommand name ---- */

int cmd_run(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_template(int argc, char **argv);
int cmd_backends(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
