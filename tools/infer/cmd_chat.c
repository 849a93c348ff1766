/* cmd_chat.c - `infer chat [MODEL]`: an interactive chat in the terminal.
 *
 * Input comes from libedit (line editing, history) when stdin is a terminal
 * and the build has it, else from plain lines of stdin (one user message per
 * line, which also makes the REPL scriptable). Replies stream to stdout.
 * Multi-line input: end a line with '\' to continue it, or enclose a block
 * in lines of '"""'. Commands: /system, /reset, /save, /load, /exit, /help.
 * Ctrl-C stops the current reply; at the prompt, a second Ctrl-C in a row
 * quits. `--messages FILE.json` answers one conversation and exits. */
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#ifdef INF_HAVE_LIBEDIT
#include <histedit.h>
#endif

#include "cli.h"
#include "base/buf.h"

static const char CHAT_HELP[] =
    "usage: infer chat [MODEL] [OPTIONS]\n\n"
    "Chat with a model; it applies its own chat template. Replies stream to stdout.\n"
    "On a terminal: line editing and history (~/.infer_history, or $INFER_HISTORY).\n"
    "From a pipe: each line of stdin is one user message, each reply is followed\n"
    "by a newline.\n\n"
    "In the chat:\n"
    "  /system TEXT           set the system message (no TEXT: remove it)\n"
    "  /reset                 forget the conversation (keeps the system message)\n"
    "  /save FILE             save the conversation as {\"messages\": [...]}\n"
    "  /load FILE             load a conversation saved by /save\n"
    "  /exit                  quit (also /quit, /bye, Ctrl-D)\n"
    "  /help                  list these commands\n"
    "  a line ending in '\\' continues on the next line; a line holding only\n"
    "  \"\"\" starts or ends a multi-line message\n"
    "  Ctrl-C stops the current reply; at the prompt, Ctrl-C twice quits.\n\n"
    "Options:\n"
    "      --system TEXT      start with this system message\n"
    "      --messages FILE    non-interactive: read {\"messages\": [...]} (or an array)\n"
    "                         from FILE ('-' = stdin), write the assistant's reply\n"
    "                         to stdout and exit\n"
    "  -v, --verbose          print metrics on stderr after each reply\n"
    "  -h, --help             show this help\n";

static void print_help(void)
{
    printf("%s\n%s\n%s\nExit status: 0 success, 1 runtime error, 2 usage error, 130 interrupted.\n",
           CHAT_HELP, GEN_OPTS_HELP, LOAD_OPTS_HELP);
}

/* ---- the conversation ---- */

typedef struct conversation {
    inf_message *msgs; /* role and content malloc'd */
    size_t n, cap;
} conversation;

static int conv_add(conversation *c, const char *role, const char *content)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        inf_message *m = realloc(c->msgs, cap * sizeof *m);
        if (!m)
            return -1;
        c->msgs = m;
        c->cap = cap;
    }
    char *r = strdup(role), *t = strdup(content);
    if (!r || !t) {
        free(r);
        free(t);
        return -1;
    }
    c->msgs[c->n].role = r;
    c->msgs[c->n].content = t;
    c->n++;
    return 0;
}

static void conv_remove(conversation *c, size_t i)
{
    free((char *)c->msgs[i].role);
    free((char *)c->msgs[i].content);
    memmove(c->msgs + i, c->msgs + i + 1, (c->n - i - 1) * sizeof *c->msgs);
    c->n--;
}

/* Drop every message, or every message but the system ones. */
static void conv_clear(conversation *c, bool keep_system)
{
    for (size_t i = c->n; i-- > 0;)
        if (!keep_system || strcmp(c->msgs[i].role, "system") != 0)
            conv_remove(c, i);
}

static void conv_free(conversation *c)
{
    conv_clear(c, false);
    free(c->msgs);
    memset(c, 0, sizeof *c);
}

/* Replace the system message (first position), or remove it when text is empty. */
static int conv_set_system(conversation *c, const char *text)
{
    for (size_t i = c->n; i-- > 0;)
        if (strcmp(c->msgs[i].role, "system") == 0)
            conv_remove(c, i);
    if (!*text)
        return 0;
    if (conv_add(c, "system", text))
        return -1;
    inf_message sys = c->msgs[c->n - 1];
    memmove(c->msgs + 1, c->msgs, (c->n - 1) * sizeof *c->msgs);
    c->msgs[0] = sys;
    return 0;
}

static int conv_save(const conversation *c, const char *path)
{
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "messages");
    for (size_t i = 0; i < c->n; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", c->msgs[i].role);
        cJSON_AddStringToObject(m, "content", c->msgs[i].content);
        cJSON_AddItemToArray(arr, m);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return cli_error("out of memory");
    FILE *f = fopen(path, "w");
    int rc = 0;
    if (!f || fputs(text, f) < 0 || fputc('\n', f) == EOF)
        rc = cli_error("%s: %s", path, strerror(errno));
    if (f && fclose(f) != 0 && rc == 0)
        rc = cli_error("%s: %s", path, strerror(errno));
    cJSON_free(text);
    return rc;
}

/* Load {"messages": [...]} or a bare array of {"role", "content"}. */
static int conv_load(conversation *c, const char *path)
{
    char *text = cli_read_file(path, NULL);
    if (!text)
        return cli_error("%s: %s", path, strerror(errno));
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root)
        return cli_error("%s: not valid JSON", path);
    cJSON *arr = cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, "messages");
    int rc = 0;
    if (!cJSON_IsArray(arr)) {
        rc = cli_error("%s: expected {\"messages\": [...]} or an array of messages", path);
    } else {
        conversation loaded = {0};
        size_t i = 0;
        cJSON *m;
        cJSON_ArrayForEach(m, arr) {
            cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
            cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
            if (!cJSON_IsString(role) || !cJSON_IsString(content)) {
                rc = cli_error("%s: message %zu needs string \"role\" and \"content\"", path, i);
                break;
            }
            if (conv_add(&loaded, role->valuestring, content->valuestring)) {
                rc = cli_error("out of memory");
                break;
            }
            i++;
        }
        if (rc == 0) {
            conv_free(c);
            *c = loaded;
        } else {
            conv_free(&loaded);
        }
    }
    cJSON_Delete(root);
    return rc;
}

/* ---- replies ---- */

/* Stream the assistant's reply to the conversation; append it (even when
 * interrupted, so the model sees what the user saw). Returns 0, 1 on a
 * failure, or CLI_EXIT_INTERRUPTED when Ctrl-C stopped it. */
static int reply(inf_model *m, conversation *c, const inf_generate_config *cfg, bool verbose,
                 bool add_newline)
{
    inf_cancel *cancel = inf_cancel_new(NULL);
    if (!cancel)
        return cli_error("out of memory");
    inf_stream *s = inf_chat(m, c->msgs, c->n, cfg, cancel);
    if (!s) {
        inf_cancel_free(cancel);
        return cli_error("out of memory");
    }
    cli_interrupt_target(cancel);
    struct buf out = {0};
    inf_token tok;
    while (inf_stream_next(s, &tok)) {
        size_t n = strlen(tok.text);
        fwrite(tok.text, 1, n, stdout);
        fflush(stdout);
        buf_put(&out, tok.text, n);
    }
    cli_interrupt_target(NULL);
    inf_status st = inf_stream_status(s);
    int rc = 0;
    if (add_newline && (out.n == 0 || out.p[out.n - 1] != '\n'))
        fputc('\n', stdout);
    fflush(stdout);
    if (st == INF_ERR_CANCELLED) {
        fputs("[interrupted]\n", stderr);
        rc = CLI_EXIT_INTERRUPTED;
    } else if (st != INF_OK) {
        const char *msg = inf_stream_error(s);
        rc = cli_error("%s", msg && *msg ? msg : inf_status_name(st));
    }
    if (out.n > 0 && conv_add(c, "assistant", out.p))
        rc = cli_error("out of memory");
    if (verbose)
        cli_print_metrics(m);
    free(out.p);
    inf_stream_free(s);
    inf_cancel_free(cancel);
    return rc;
}

/* ---- line input ---- */

typedef struct line_reader {
    bool interactive;
#ifdef INF_HAVE_LIBEDIT
    EditLine *el;
    History *hist;
    char history_path[4096];
#endif
    char *line; /* getline buffer */
    size_t cap;
} line_reader;

static const char *current_prompt = ">>> ";

#ifdef INF_HAVE_LIBEDIT
static char *el_prompt(EditLine *el)
{
    (void)el;
    return (char *)current_prompt;
}
#endif

static void reader_open(line_reader *r, const char *argv0)
{
    memset(r, 0, sizeof *r);
    r->interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
#ifdef INF_HAVE_LIBEDIT
    if (!r->interactive)
        return;
    setlocale(LC_CTYPE, "");
    r->el = el_init(argv0, stdin, stdout, stderr);
    r->hist = history_init();
    if (!r->el || !r->hist) {
        if (r->el)
            el_end(r->el);
        if (r->hist)
            history_end(r->hist);
        r->el = NULL;
        r->hist = NULL;
        return;
    }
    HistEvent ev;
    history(r->hist, &ev, H_SETSIZE, 1000);
    history(r->hist, &ev, H_SETUNIQUE, 1);
    el_set(r->el, EL_EDITOR, "emacs");
    el_set(r->el, EL_PROMPT, el_prompt);
    el_set(r->el, EL_HIST, history, r->hist);
    el_set(r->el, EL_SIGNAL, 0);
    const char *hp = getenv("INFER_HISTORY"), *home = getenv("HOME");
    if (hp && *hp)
        snprintf(r->history_path, sizeof r->history_path, "%s", hp);
    else if (home && *home)
        snprintf(r->history_path, sizeof r->history_path, "%s/.infer_history", home);
    if (r->history_path[0])
        history(r->hist, &ev, H_LOAD, r->history_path);
#else
    (void)argv0;
#endif
}

static void reader_close(line_reader *r)
{
#ifdef INF_HAVE_LIBEDIT
    if (r->el) {
        HistEvent ev;
        if (r->history_path[0])
            history(r->hist, &ev, H_SAVE, r->history_path);
        el_end(r->el);
        history_end(r->hist);
    }
#endif
    free(r->line);
}

static void reader_remember(line_reader *r, const char *entry)
{
#ifdef INF_HAVE_LIBEDIT
    if (r->hist && *entry) {
        HistEvent ev;
        history(r->hist, &ev, H_ENTER, entry);
    }
#else
    (void)r;
    (void)entry;
#endif
}

typedef enum { READ_LINE, READ_EOF, READ_INTERRUPTED } read_result;

/* Read one physical line (without its newline) into *out (owned by r). */
static read_result reader_get(line_reader *r, const char *prompt, const char **out)
{
    int before = cli_interrupt_count();
    current_prompt = prompt;
#ifdef INF_HAVE_LIBEDIT
    if (r->el) {
        int count = 0;
        const char *s = el_gets(r->el, &count);
        if (!s || count <= 0) {
            if (cli_interrupt_count() != before) {
                el_reset(r->el);
                return READ_INTERRUPTED;
            }
            return READ_EOF;
        }
        free(r->line);
        r->line = strdup(s);
        if (!r->line)
            return READ_EOF;
        size_t n = strlen(r->line);
        while (n > 0 && (r->line[n - 1] == '\n' || r->line[n - 1] == '\r'))
            r->line[--n] = '\0';
        *out = r->line;
        return READ_LINE;
    }
#endif
    if (r->interactive) {
        fputs(prompt, stdout);
        fflush(stdout);
    }
    errno = 0;
    ssize_t got = getline(&r->line, &r->cap, stdin);
    if (got < 0) {
        if (cli_interrupt_count() != before) {
            clearerr(stdin);
            return READ_INTERRUPTED;
        }
        return READ_EOF;
    }
    while (got > 0 && (r->line[got - 1] == '\n' || r->line[got - 1] == '\r'))
        r->line[--got] = '\0';
    *out = r->line;
    return READ_LINE;
}

/* Read one message: a line, a '\'-continued run of lines, or a """ block.
 * *msg is malloc'd. */
static read_result read_message(line_reader *r, char **msg)
{
    struct buf b = {0};
    const char *line;
    bool block = false;
    read_result rr;
    buf_put(&b, "", 0);
    for (;;) {
        rr = reader_get(r, b.n == 0 && !block ? ">>> " : "... ", &line);
        if (rr != READ_LINE)
            break;
        size_t n = strlen(line);
        if (strcmp(line, "\"\"\"") == 0) {
            if (block)
                break;
            if (b.n == 0) {
                block = true;
                continue;
            }
        }
        if (block) {
            buf_put(&b, line, n);
            buf_put(&b, "\n", 1);
            continue;
        }
        if (n > 0 && line[n - 1] == '\\') {
            buf_put(&b, line, n - 1);
            buf_put(&b, "\n", 1);
            continue;
        }
        buf_put(&b, line, n);
        break;
    }
    if (rr != READ_LINE) {
        free(b.p);
        return rr;
    }
    /* A """ block keeps inner newlines but not the last one. */
    if (block && b.n > 0 && b.p[b.n - 1] == '\n')
        b.p[--b.n] = '\0';
    *msg = b.p ? b.p : strdup("");
    return READ_LINE;
}

/* ---- the REPL ---- */

static void chat_commands_help(void)
{
    fputs("/system TEXT  set the system message      /reset      forget the conversation\n"
          "/save FILE    save the conversation       /load FILE  load a conversation\n"
          "/exit         quit                        /help       this list\n"
          "End a line with \\ to continue it; \"\"\" starts and ends a multi-line message.\n",
          stderr);
}

/* The argument of a /command ("" when none), with leading spaces skipped. */
static const char *command_arg(const char *line, const char *cmd)
{
    const char *p = line + strlen(cmd);
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static bool is_command(const char *line, const char *cmd)
{
    size_t n = strlen(cmd);
    return strncmp(line, cmd, n) == 0 && (line[n] == '\0' || line[n] == ' ' || line[n] == '\t');
}

/* Run one /command. Returns 1 to quit, 0 to go on. */
static int run_command(const char *line, conversation *c)
{
    if (is_command(line, "/exit") || is_command(line, "/quit") || is_command(line, "/bye"))
        return 1;
    if (is_command(line, "/help") || is_command(line, "/?")) {
        chat_commands_help();
    } else if (is_command(line, "/system")) {
        if (conv_set_system(c, command_arg(line, "/system")))
            cli_error("out of memory");
        else
            fputs(*command_arg(line, "/system") ? "system message set\n" : "system message removed\n", stderr);
    } else if (is_command(line, "/reset") || is_command(line, "/clear")) {
        conv_clear(c, true);
        fputs("conversation reset\n", stderr);
    } else if (is_command(line, "/save")) {
        const char *path = command_arg(line, "/save");
        if (!*path)
            cli_error("/save needs a file name");
        else if (conv_save(c, path) == 0)
            fprintf(stderr, "saved %zu messages to %s\n", c->n, path);
    } else if (is_command(line, "/load")) {
        const char *path = command_arg(line, "/load");
        if (!*path)
            cli_error("/load needs a file name");
        else if (conv_load(c, path) == 0)
            fprintf(stderr, "loaded %zu messages from %s\n", c->n, path);
    } else {
        cli_error("unknown command '%s' (type /help)", line);
    }
    return 0;
}

static int repl(inf_model *m, conversation *c, const inf_generate_config *cfg, bool verbose, const char *argv0)
{
    line_reader r;
    reader_open(&r, argv0);
    if (r.interactive)
        fputs("Type a message, /help for commands, /exit or Ctrl-D to quit.\n", stderr);
    bool interrupted_at_prompt = false;
    int rc = CLI_EXIT_OK;
    for (;;) {
        char *msg = NULL;
        read_result rr = read_message(&r, &msg);
        if (rr == READ_EOF) {
            if (r.interactive)
                fputc('\n', stderr);
            break;
        }
        if (rr == READ_INTERRUPTED) {
            if (interrupted_at_prompt)
                break;
            interrupted_at_prompt = true;
            fputs("\n(press Ctrl-C again or type /exit to quit)\n", stderr);
            continue;
        }
        interrupted_at_prompt = false;
        reader_remember(&r, msg);
        if (msg[0] == '/' && strchr(msg, '\n') == NULL) {
            int quit = run_command(msg, c);
            free(msg);
            if (quit)
                break;
            continue;
        }
        if (msg[0] == '\0') {
            free(msg);
            continue;
        }
        int add = conv_add(c, "user", msg);
        free(msg);
        if (add) {
            rc = cli_error("out of memory");
            break;
        }
        int r2 = reply(m, c, cfg, verbose, true);
        if (r2 == CLI_EXIT_RUNTIME && !r.interactive) {
            rc = r2;
            break;
        }
    }
    reader_close(&r);
    return rc;
}

int cmd_chat(int argc, char **argv)
{
    cli_args a;
    cli_gen_opts gen;
    cli_load_opts load;
    const char *system_msg = NULL, *messages_path = NULL, *v;
    bool verbose = false;
    int r, npos = 0;
    args_init(&a, "chat", argc, argv);
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
        if ((r = args_value(&a, "--system", NULL, &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            system_msg = v;
            continue;
        }
        if ((r = args_value(&a, "--messages", NULL, &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            messages_path = v;
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
        if (npos++ > 0 || load.model)
            return cli_usage_error("chat", "unexpected argument '%s'", args_cur(&a));
        load.model = args_cur(&a);
    }
    inf_error err;
    if (inf_generate_config_check(&gen.cfg, &err) != INF_OK)
        return cli_usage_error("chat", "%s", err.message);

    conversation conv = {0};
    if (messages_path) {
        if (conv_load(&conv, messages_path))
            return CLI_EXIT_RUNTIME;
        if (conv.n == 0) {
            conv_free(&conv);
            return cli_error("%s: the conversation has no messages", messages_path);
        }
    }
    if (system_msg && conv_set_system(&conv, system_msg)) {
        conv_free(&conv);
        return cli_error("out of memory");
    }
    char path[4096];
    if ((r = cli_resolve_model(&load, path, sizeof path)) != 0) {
        conv_free(&conv);
        return r;
    }
    cli_interrupt_install(!messages_path);
    inf_model *m = cli_load_model(path, &load.cfg);
    if (!m) {
        conv_free(&conv);
        return CLI_EXIT_RUNTIME;
    }
    int rc;
    if (messages_path) {
        rc = reply(m, &conv, &gen.cfg, verbose, false);
    } else {
        rc = repl(m, &conv, &gen.cfg, verbose, argv[0]);
    }
    inf_model_close(m);
    conv_free(&conv);
    return rc;
}
