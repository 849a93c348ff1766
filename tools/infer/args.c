/* args.c - option parsing shared by the `infer` subcommands: a cursor over
 * argv that accepts "--name VALUE", "--name=VALUE" and short aliases, strict
 * number parsing with range checks, and the generation and load options that
 * several commands take. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void args_init(cli_args *a, const char *cmd, int argc, char **argv)
{
    a->argc = argc;
    a->argv = argv;
    a->i = 1;
    a->cmd = cmd;
    a->no_more_options = false;
}

const char *args_cur(const cli_args *a)
{
    return a->i < a->argc ? a->argv[a->i] : "";
}

bool args_is_help(const cli_args *a)
{
    const char *s = args_cur(a);
    return !a->no_more_options && (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0);
}

bool args_is_option(cli_args *a)
{
    const char *s = args_cur(a);
    if (a->no_more_options)
        return false;
    if (strcmp(s, "--") == 0) {
        a->no_more_options = true;
        return true;
    }
    return s[0] == '-' && s[1] != '\0';
}

int args_unknown(const cli_args *a)
{
    return cli_usage_error(a->cmd, "unknown option '%s'", args_cur(a));
}

bool args_flag(cli_args *a, const char *name, const char *alias)
{
    const char *s = args_cur(a);
    if (a->no_more_options)
        return false;
    return strcmp(s, name) == 0 || (alias && strcmp(s, alias) == 0);
}

int args_value(cli_args *a, const char *name, const char *alias, const char **value)
{
    const char *s = args_cur(a);
    size_t n = strlen(name);
    if (a->no_more_options)
        return 0;
    if (strncmp(s, name, n) == 0 && s[n] == '=') {
        *value = s + n + 1;
        return 1;
    }
    if (strcmp(s, name) != 0 && !(alias && strcmp(s, alias) == 0))
        return 0;
    if (a->i + 1 >= a->argc) {
        cli_usage_error(a->cmd, "option '%s' needs a value", s);
        return -1;
    }
    a->i++;
    *value = a->argv[a->i];
    return 1;
}

int args_int(const cli_args *a, const char *opt, const char *s, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno) {
        cli_usage_error(a->cmd, "%s expects an integer, got '%s'", opt, s);
        return -1;
    }
    if (v < min || v > max) {
        cli_usage_error(a->cmd, "%s %ld is outside [%ld, %ld]", opt, v, min, max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int args_float(const cli_args *a, const char *opt, const char *s, double min, double max, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v)) {
        cli_usage_error(a->cmd, "%s expects a number, got '%s'", opt, s);
        return -1;
    }
    if (v < min || v > max) {
        cli_usage_error(a->cmd, "%s %g is outside [%g, %g]", opt, v, min, max);
        return -1;
    }
    *out = (float)v;
    return 0;
}

int args_u64(const cli_args *a, const char *opt, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-') {
        cli_usage_error(a->cmd, "%s expects a non-negative integer, got '%s'", opt, s);
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno) {
        cli_usage_error(a->cmd, "%s expects a non-negative integer, got '%s'", opt, s);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

/* ---- generation options ---- */

const char GEN_OPTS_HELP[] =
    "Generation options:\n"
    "  -n, --max-tokens N     generate at most N tokens [256]\n"
    "      --temperature T    sampling temperature; 0 = greedy [0]\n"
    "      --top-k K          keep the K most likely tokens; 0 = off [0]\n"
    "      --top-p P          nucleus sampling in (0, 1]; 0 = off [0]\n"
    "      --min-p P          drop tokens below P x the top probability; 0 = off [0]\n"
    "      --repeat-penalty R penalty on recent tokens; 1 = none, 0 = off [0]\n"
    "      --repeat-last-n N  window the repeat penalty looks at [64]\n"
    "      --seed S           sampling seed (equal seeds give equal samples) [random]\n"
    "      --stop TEXT        stop before TEXT (repeatable)\n"
    "      --stop-token ID    stop at token ID (repeatable)\n";

void gen_opts_init(cli_gen_opts *g)
{
    memset(g, 0, sizeof *g);
    inf_generate_config_default(&g->cfg);
    g->cfg.stop_strings = g->stop_strings;
    g->cfg.stop_tokens = g->stop_tokens;
}

int gen_opts_take(cli_args *a, cli_gen_opts *g)
{
    const char *v;
    int r;
    inf_generate_config *c = &g->cfg;
    if ((r = args_value(a, "--max-tokens", "-n", &v)) != 0)
        return r < 0 ? -1 : (args_int(a, "--max-tokens", v, 0, 100000000, &c->max_tokens) ? -1 : 1);
    if ((r = args_value(a, "--temperature", "--temp", &v)) != 0)
        return r < 0 ? -1 : (args_float(a, "--temperature", v, 0, 1000, &c->temperature) ? -1 : 1);
    if ((r = args_value(a, "--top-k", NULL, &v)) != 0)
        return r < 0 ? -1 : (args_int(a, "--top-k", v, 0, 100000000, &c->top_k) ? -1 : 1);
    if ((r = args_value(a, "--top-p", NULL, &v)) != 0)
        return r < 0 ? -1 : (args_float(a, "--top-p", v, 0, 1, &c->top_p) ? -1 : 1);
    if ((r = args_value(a, "--min-p", NULL, &v)) != 0)
        return r < 0 ? -1 : (args_float(a, "--min-p", v, 0, 1, &c->min_p) ? -1 : 1);
    if ((r = args_value(a, "--repeat-penalty", NULL, &v)) != 0)
        return r < 0 ? -1 : (args_float(a, "--repeat-penalty", v, 0, 100, &c->repeat_penalty) ? -1 : 1);
    if ((r = args_value(a, "--repeat-last-n", NULL, &v)) != 0)
        return r < 0 ? -1 : (args_int(a, "--repeat-last-n", v, 0, 100000000, &c->repeat_last_n) ? -1 : 1);
    if ((r = args_value(a, "--seed", NULL, &v)) != 0)
        return r < 0 ? -1 : (args_u64(a, "--seed", v, &c->seed) ? -1 : 1);
    if ((r = args_value(a, "--stop", NULL, &v)) != 0) {
        if (r < 0)
            return -1;
        if (c->n_stop_strings >= CLI_MAX_STOPS) {
            cli_usage_error(a->cmd, "too many --stop options (at most %d)", CLI_MAX_STOPS);
            return -1;
        }
        if (!*v) {
            cli_usage_error(a->cmd, "--stop needs a non-empty text");
            return -1;
        }
        g->stop_strings[c->n_stop_strings++] = v;
        return 1;
    }
    if ((r = args_value(a, "--stop-token", NULL, &v)) != 0) {
        int id;
        if (r < 0 || args_int(a, "--stop-token", v, 0, INT32_MAX, &id))
            return -1;
        if (c->n_stop_tokens >= CLI_MAX_STOPS) {
            cli_usage_error(a->cmd, "too many --stop-token options (at most %d)", CLI_MAX_STOPS);
            return -1;
        }
        g->stop_tokens[c->n_stop_tokens++] = id;
        return 1;
    }
    return 0;
}

/* ---- load options ---- */

const char LOAD_OPTS_HELP[] =
    "Model options:\n"
    "  -m, --model PATH       the model (.gguf file, model directory or http:// URL);\n"
    "                         default: $INFERENCE_MODEL, else the first model found in\n"
    "                         $XDG_DATA_HOME/infer/models, ~/.cache/infer/models,\n"
    "                         ./models, then the bundled stories260K.gguf\n"
    "      --backend NAME     backend to use (see 'infer backends') [automatic]\n"
    "  -c, --ctx N            context length; 0 = the model's own [0]\n"
    "  -t, --threads N        CPU threads; 0 = the physical cores [0]\n"
    "      --parallel N       concurrent sequences on the model [backend default]\n"
    "      --kv-cache-type T  KV cache element type: f16, f32 or q8_0 (about half of\n"
    "                         f16's memory; head size a multiple of 32) [f16]\n";

void load_opts_init(cli_load_opts *l)
{
    memset(l, 0, sizeof *l);
    inf_load_config_default(&l->cfg);
}

int load_opts_take(cli_args *a, cli_load_opts *l)
{
    const char *v;
    int r;
    if ((r = args_value(a, "--model", "-m", &v)) != 0) {
        if (r < 0)
            return -1;
        l->model = v;
        return 1;
    }
    if ((r = args_value(a, "--backend", NULL, &v)) != 0) {
        if (r < 0)
            return -1;
        l->cfg.backend = v;
        return 1;
    }
    if ((r = args_value(a, "--ctx", "-c", &v)) != 0)
        return r < 0 ? -1 : (args_int(a, "--ctx", v, 0, 100000000, &l->cfg.context_len) ? -1 : 1);
    if ((r = args_value(a, "--threads", "-t", &v)) != 0)
        return r < 0 ? -1 : (args_int(a, "--threads", v, 0, 4096, &l->cfg.threads) ? -1 : 1);
    if ((r = args_value(a, "--parallel", NULL, &v)) != 0)
        return r < 0 ? -1 : (args_int(a, "--parallel", v, 0, 4096, &l->cfg.parallel_slots) ? -1 : 1);
    if ((r = args_value(a, "--gpu-layers", NULL, &v)) != 0)
        return r < 0 ? -1 : (args_int(a, "--gpu-layers", v, -1, 100000, &l->cfg.gpu_layers) ? -1 : 1);
    if ((r = args_value(a, "--kv-cache-type", NULL, &v)) != 0) {
        if (r < 0)
            return -1;
        l->cfg.kv_cache_type = v;
        return 1;
    }
    return 0;
}
