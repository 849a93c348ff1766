/* cmd_tokenize.c - `infer tokenize [MODEL] TEXT`: the token ids (and pieces)
 * of a text. A .gguf file or a folder holding tokenizer.json is read with the
 * tokenizer alone (inf_tokenizer_load: only the tokenizer metadata, never
 * the weights); any other model (e.g. a URL) is loaded as a whole. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"

static const char TOKENIZE_HELP[] =
    "usage: infer tokenize [MODEL] TEXT [OPTIONS]\n\n"
    "Show the tokens of TEXT ('-' reads stdin, byte for byte): one line per token,\n"
    "its id and its piece. MODEL may be a .gguf file, or a folder holding only\n"
    "tokenizer.json (and tokenizer_config.json): no weights are loaded.\n\n"
    "Stable form for programs:\n"
    "  infer tokenize MODEL --json [--no-bos] [--special | --no-special] TEXT\n"
    "prints one JSON array of token ids.\n\n"
    "Options:\n"
    "      --json             one JSON array of ids on stdout\n"
    "      --no-bos           add no BOS/EOS (by default they are added as the\n"
    "                         model's metadata asks)\n"
    "      --special          recognise special-token text (e.g. <|im_start|>) as\n"
    "                         single tokens\n"
    "      --no-special       treat such text as plain text\n"
    "                         Default: recognised for a tokenizer.json folder (as\n"
    "                         Hugging Face tokenizers match added tokens), plain text\n"
    "                         for a .gguf file or a loaded model (as the engine's\n"
    "                         Generate treats a prompt)\n"
    "      --backend NAME     tokenize with a loaded model of this backend\n"
    "  -m, --model PATH       the model (see 'infer --help' for the default)\n"
    "  -h, --help             show this help\n\n"
    "Exit status: 0 success, 1 runtime error, 2 usage error.\n";

/* A tokenizer of either kind: one on its own, or a loaded model's. */
typedef struct any_tokenizer {
    inf_tokenizer *tok;
    inf_model *model;
    bool hf_folder; /* a tokenizer.json folder: added tokens match by default */
} any_tokenizer;

static bool has_file(const char *dir, const char *name)
{
    char p[4096];
    struct stat st;
    int n = snprintf(p, sizeof p, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof p)
        return false;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int open_tokenizer(const char *path, const inf_load_config *cfg, bool force_backend, any_tokenizer *t)
{
    struct stat st;
    inf_error err = {0};
    memset(t, 0, sizeof *t);
    if (!force_backend && stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode) && has_file(path, "tokenizer.json")) {
            if (!(t->tok = inf_tokenizer_load(path, &err)))
                return cli_error("%s: %s", path, err.message);
            t->hf_folder = true;
            return 0;
        }
        if (S_ISREG(st.st_mode)) {
            FILE *f = fopen(path, "rb");
            char magic[4] = {0};
            size_t got = f ? fread(magic, 1, 4, f) : 0;
            if (f)
                fclose(f);
            if (got == 4 && memcmp(magic, "GGUF", 4) == 0) {
                if (!(t->tok = inf_tokenizer_load(path, &err)))
                    return strstr(err.message, path) ? cli_error("%s", err.message) : cli_error("%s: %s", path, err.message);
                return 0;
            }
        }
    } else if (!force_backend && strncmp(path, "http", 4) != 0) {
        return cli_error("%s: %s", path, strerror(errno));
    }
    t->model = cli_load_model(path, cfg);
    return t->model ? 0 : CLI_EXIT_RUNTIME;
}

static void close_tokenizer(any_tokenizer *t)
{
    inf_tokenizer_free(t->tok);
    inf_model_close(t->model);
}

static int encode(const any_tokenizer *t, const char *text, size_t len, bool add_special, bool parse_special,
                  int32_t **ids, size_t *n)
{
    inf_error e;
    unsigned flags = (add_special ? INF_TOKENIZE_ADD_SPECIAL : 0) | (parse_special ? INF_TOKENIZE_PARSE_SPECIAL : 0);
    int32_t *lib_ids = NULL;
    inf_status st = t->tok ? inf_tokenizer_encode(t->tok, text, len, flags, &lib_ids, n, &e)
                           : inf_model_tokenize(t->model, text, len, flags, &lib_ids, n, &e);
    if (st != INF_OK)
        return cli_error("%s", e.message);
    /* Copy into malloc'd memory so both kinds are released with free(). */
    *ids = malloc((*n ? *n : 1) * sizeof **ids);
    if (!*ids) {
        inf_free(lib_ids);
        return cli_error("out of memory");
    }
    if (*n)
        memcpy(*ids, lib_ids, *n * sizeof **ids);
    inf_free(lib_ids);
    return 0;
}

/* A token's piece, escaped for one line of text: control bytes and bytes
 * that are not valid UTF-8 become \n, \t, \xNN. */
static void print_piece(const any_tokenizer *t, int32_t id)
{
    char buf[512];
    char *dyn = NULL;
    const char *s = buf;
    int len = 0;
    if (t->tok) {
        len = inf_tokenizer_piece(t->tok, id, buf, sizeof buf);
        if (len >= (int)sizeof buf) {
            dyn = malloc((size_t)len + 1);
            if (dyn && inf_tokenizer_piece(t->tok, id, dyn, (size_t)len + 1) == len)
                s = dyn;
            else
                len = 0;
        }
        if (len < 0)
            len = 0;
    } else {
        dyn = cli_token_piece(t->model, id);
        s = dyn ? dyn : "";
        len = (int)strlen(s);
    }
    putchar('\'');
    for (int i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            fputs("\\n", stdout);
        else if (c == '\t')
            fputs("\\t", stdout);
        else if (c == '\r')
            fputs("\\r", stdout);
        else if (c == '\\' || c == '\'')
            printf("\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else if (c >= 0x80) {
            /* Pass through a complete UTF-8 sequence, escape a broken one. */
            int need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : -1;
            bool ok = need > 0 && i + need < len;
            for (int k = 1; ok && k <= need; k++)
                ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
            if (ok) {
                fwrite(s + i, 1, (size_t)need + 1, stdout);
                i += need;
            } else {
                printf("\\x%02x", c);
            }
        } else
            putchar(c);
    }
    putchar('\'');
    free(dyn);
}

typedef struct tokenize_args {
    cli_load_opts load;
    bool json, no_bos;
    int special; /* -1: the source's default (see the help) */
    const char *text_arg;
} tokenize_args;

/* MODEL and TEXT from up to two positional arguments and -m. */
static int place_positionals(tokenize_args *t, const char *const *pos, int npos)
{
    if (t->load.model) {
        if (npos == 2)
            return cli_usage_error("tokenize", "unexpected argument '%s' (the model is given by -m)", pos[1]);
        t->text_arg = npos ? pos[0] : NULL;
    } else if (npos == 2) {
        t->load.model = pos[0];
        t->text_arg = pos[1];
    } else if (npos == 1) {
        /* One argument: a model with its TEXT missing, or a TEXT for the
         * default model. */
        if (strcmp(pos[0], "-") != 0 && cli_looks_like_model(pos[0]))
            t->load.model = pos[0];
        else
            t->text_arg = pos[0];
    }
    if (!t->text_arg)
        return cli_usage_error("tokenize", "no TEXT given ('-' reads stdin)");
    return -1;
}

/* The options; -1 to go on, else the exit status (help printed: 0). */
static int parse_args(int argc, char **argv, tokenize_args *t)
{
    cli_args a;
    const char *pos[2];
    int npos = 0, r;
    args_init(&a, "tokenize", argc, argv);
    for (; a.i < argc; a.i++) {
        if (args_is_help(&a)) {
            fputs(TOKENIZE_HELP, stdout);
            return CLI_EXIT_OK;
        }
        if ((r = load_opts_take(&a, &t->load)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
        } else if (args_flag(&a, "--json", NULL)) {
            t->json = true;
        } else if (args_flag(&a, "--no-bos", NULL)) {
            t->no_bos = true;
        } else if (args_flag(&a, "--special", NULL)) {
            t->special = 1;
        } else if (args_flag(&a, "--no-special", NULL)) {
            t->special = 0;
        } else if (args_is_option(&a)) {
            if (!a.no_more_options)
                return args_unknown(&a);
        } else if (npos == 2) {
            return cli_usage_error("tokenize", "unexpected argument '%s'", args_cur(&a));
        } else {
            pos[npos++] = args_cur(&a);
        }
    }
    return place_positionals(t, pos, npos);
}

static void print_ids(const any_tokenizer *t, const int32_t *ids, size_t n, bool json)
{
    if (json) {
        putchar('[');
        for (size_t i = 0; i < n; i++)
            printf(i ? ", %d" : "%d", (int)ids[i]);
        puts("]");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        printf("%6d  ", (int)ids[i]);
        print_piece(t, ids[i]);
        putchar('\n');
    }
}

int cmd_tokenize(int argc, char **argv)
{
    tokenize_args ta = {.special = -1};
    load_opts_init(&ta.load);
    int r = parse_args(argc, argv, &ta);
    if (r >= 0)
        return r;
    char path[4096];
    if ((r = cli_resolve_model(&ta.load, path, sizeof path)) != 0)
        return r;
    size_t len;
    char *stdin_text = NULL;
    const char *text = ta.text_arg;
    if (strcmp(ta.text_arg, "-") == 0) {
        stdin_text = cli_read_stream(stdin, &len);
        if (!stdin_text)
            return cli_error("reading stdin failed");
        text = stdin_text;
    } else {
        len = strlen(text);
    }
    any_tokenizer t;
    bool force_backend = ta.load.cfg.backend && *ta.load.cfg.backend;
    if ((r = open_tokenizer(path, &ta.load.cfg, force_backend, &t)) != 0) {
        free(stdin_text);
        return r;
    }
    int32_t *ids = NULL;
    size_t n = 0;
    bool parse_special = ta.special >= 0 ? ta.special == 1 : t.hf_folder;
    r = encode(&t, text, len, !ta.no_bos, parse_special, &ids, &n);
    if (r == 0)
        print_ids(&t, ids, n, ta.json);
    free(ids);
    close_tokenizer(&t);
    free(stdin_text);
    return r;
}
