/* cmd_tokenize.c - `infer tokenize [MODEL] TEXT`: the token ids (and pieces)
 * of a text. A .gguf file or a folder holding tokenizer.json is read with the
 * tokenizer alone (text/tokenizer.h: only the tokenizer metadata, never the
 * weights); any other model (e.g. a URL) is loaded through the public API. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "text/tokenizer.h"

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

/* A tokenizer of either kind: the internal one, or a loaded model's. */
typedef struct any_tokenizer {
    struct tokenizer *tok;
    inf_model *model;
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
            if (tok_load_hf_dir(path, &t->tok, &err) != 0)
                return cli_error("%s: %s", path, err.message);
            return 0;
        }
        if (S_ISREG(st.st_mode)) {
            FILE *f = fopen(path, "rb");
            char magic[4] = {0};
            size_t got = f ? fread(magic, 1, 4, f) : 0;
            if (f)
                fclose(f);
            if (got == 4 && memcmp(magic, "GGUF", 4) == 0) {
                if (tok_load_gguf_path(path, &t->tok, &err) != 0)
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
    if (t->tok)
        tok_free(t->tok);
    inf_model_close(t->model);
}

static int encode(const any_tokenizer *t, const char *text, size_t len, bool add_special, bool parse_special,
                  int32_t **ids, size_t *n)
{
    inf_error err = {0};
    if (t->tok) {
        int flags = (add_special ? TOK_ADD_SPECIAL : 0) | (parse_special ? TOK_PARSE_SPECIAL : 0);
        if (tok_encode(t->tok, text, len, flags, ids, n, &err) != 0)
            return cli_error("%s", err.message);
        return 0;
    }
    inf_error e;
    unsigned flags = (add_special ? INF_TOKENIZE_ADD_SPECIAL : 0) | (parse_special ? INF_TOKENIZE_PARSE_SPECIAL : 0);
    int32_t *lib_ids = NULL;
    if (inf_model_tokenize(t->model, text, len, flags, &lib_ids, n, &e) != INF_OK)
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
        len = tok_token_to_piece(t->tok, id, 0, buf, sizeof buf);
        if (len > (int)sizeof buf) {
            dyn = malloc((size_t)len);
            if (dyn && tok_token_to_piece(t->tok, id, 0, dyn, (size_t)len) == len)
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

int cmd_tokenize(int argc, char **argv)
{
    cli_args a;
    cli_load_opts load;
    bool json = false, no_bos = false;
    int special = -1; /* -1: the source's default (see the help) */
    const char *pos[2];
    int npos = 0, r;
    args_init(&a, "tokenize", argc, argv);
    load_opts_init(&load);
    for (; a.i < argc; a.i++) {
        if (args_is_help(&a)) {
            fputs(TOKENIZE_HELP, stdout);
            return CLI_EXIT_OK;
        }
        if ((r = load_opts_take(&a, &load)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        if (args_flag(&a, "--json", NULL)) {
            json = true;
            continue;
        }
        if (args_flag(&a, "--no-bos", NULL)) {
            no_bos = true;
            continue;
        }
        if (args_flag(&a, "--special", NULL)) {
            special = 1;
            continue;
        }
        if (args_flag(&a, "--no-special", NULL)) {
            special = 0;
            continue;
        }
        if (args_is_option(&a)) {
            if (a.no_more_options)
                continue;
            return args_unknown(&a);
        }
        if (npos == 2)
            return cli_usage_error("tokenize", "unexpected argument '%s'", args_cur(&a));
        pos[npos++] = args_cur(&a);
    }
    const char *text_arg = NULL;
    if (load.model) {
        if (npos == 2)
            return cli_usage_error("tokenize", "unexpected argument '%s' (the model is given by -m)", pos[1]);
        text_arg = npos ? pos[0] : NULL;
    } else if (npos == 2) {
        load.model = pos[0];
        text_arg = pos[1];
    } else if (npos == 1) {
        /* One argument: a model with its TEXT missing, or a TEXT for the
         * default model. */
        if (strcmp(pos[0], "-") != 0 && cli_looks_like_model(pos[0]))
            load.model = pos[0];
        else
            text_arg = pos[0];
    }
    if (!text_arg)
        return cli_usage_error("tokenize", "no TEXT given ('-' reads stdin)");
    char path[4096];
    if ((r = cli_resolve_model(&load, path, sizeof path)) != 0)
        return r;
    size_t len;
    char *stdin_text = NULL;
    const char *text = text_arg;
    if (strcmp(text_arg, "-") == 0) {
        stdin_text = cli_read_stream(stdin, &len);
        if (!stdin_text)
            return cli_error("reading stdin failed");
        text = stdin_text;
    } else {
        len = strlen(text);
    }
    any_tokenizer t;
    bool force_backend = load.cfg.backend && *load.cfg.backend;
    if ((r = open_tokenizer(path, &load.cfg, force_backend, &t)) != 0) {
        free(stdin_text);
        return r;
    }
    int32_t *ids = NULL;
    size_t n = 0;
    bool hf_folder = t.tok && strcmp(tok_source_name(t.tok), "gguf") != 0;
    bool parse_special = special >= 0 ? special == 1 : hf_folder;
    r = encode(&t, text, len, !no_bos, parse_special, &ids, &n);
    if (r == 0) {
        if (json) {
            putchar('[');
            for (size_t i = 0; i < n; i++)
                printf(i ? ", %d" : "%d", (int)ids[i]);
            puts("]");
        } else {
            for (size_t i = 0; i < n; i++) {
                printf("%6d  ", (int)ids[i]);
                print_piece(&t, ids[i]);
                putchar('\n');
            }
        }
    }
    free(ids);
    close_tokenizer(&t);
    free(stdin_text);
    return r;
}
