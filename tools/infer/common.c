/* common.c - services every `infer` subcommand uses: one-line error
 * reporting, the default model (INFERENCE_MODEL, else Discover over the
 * standard folders), model loading with a progress indicator, the Ctrl-C
 * handler that cancels the running operation, and input reading (whole
 * files, prompt lists in text or JSONL form). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "base/file.h"

/* ---- errors ---- */

int cli_error(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("infer: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EXIT_RUNTIME;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("infer: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, " (see 'infer %s --help')\n", cmd);
    else
        fputs(" (see 'infer --help')\n", stderr);
    return CLI_EXIT_USAGE;
}

/* ---- the default model ---- */

bool cli_looks_like_model(const char *arg)
{
    struct stat st;
    size_t n = strlen(arg);
    if (strncmp(arg, "http://", 7) == 0 || strncmp(arg, "https://", 8) == 0)
        return true;
    if (n > 5 && strcmp(arg + n - 5, ".gguf") == 0)
        return true;
    return stat(arg, &st) == 0;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether path is an immediate entry of dir (not inside a subdirectory). */
static bool directly_in(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (strncmp(path, dir, n) != 0 || path[n] != '/')
        return false;
    return strchr(path + n + 1, '/') == NULL;
}

/* The first model in dir: entries directly in dir before those of its
 * subdirectories (so a folder's own model comes before those of its
 * subfolders), then in path order. */
static bool first_model_in(const char *dir, char *buf, size_t size)
{
    inf_discovered_model *models = NULL;
    size_t n = 0;
    if (!is_dir(dir) || inf_discover(dir, &models, &n, NULL) != INF_OK)
        return false;
    const char *best = NULL;
    for (size_t i = 0; i < n && !best; i++)
        if (directly_in(models[i].path, dir))
            best = models[i].path;
    if (!best && n > 0)
        best = models[0].path;
    if (best)
        snprintf(buf, size, "%s", best);
    inf_discover_free(models, n);
    return best != NULL;
}

int cli_model_dirs(char dirs[][PATH_MAX], int max)
{
    int nd = 0;
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && *xdg && nd < max)
        snprintf(dirs[nd++], PATH_MAX, "%.*s/infer/models", PATH_MAX - 20, xdg);
    if (home && *home && nd < max)
        snprintf(dirs[nd++], PATH_MAX, "%.*s/.cache/infer/models", PATH_MAX - 30, home);
    if (nd < max)
        snprintf(dirs[nd++], PATH_MAX, "models");
    /* The bundled model: beside an installed infer (PREFIX/bin/infer and
     * PREFIX/share/inference/models, wherever PREFIX was moved), at the
     * prefix it was built for, and in the source tree of a build folder
     * (build/infer, models/). */
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = len > 0 ? (exe[len] = '\0', strrchr(exe, '/')) : NULL;
    if (slash) {
        *slash = '\0';
        if (nd < max)
            snprintf(dirs[nd++], PATH_MAX, "%.*s/../share/inference/models", PATH_MAX - 40, exe);
    }
#ifdef INF_DATADIR
    if (nd < max)
        snprintf(dirs[nd++], PATH_MAX, "%s/models", INF_DATADIR);
#endif
    if (slash && nd < max)
        snprintf(dirs[nd++], PATH_MAX, "%.*s/../models", PATH_MAX - 20, exe);
    return nd;
}

int cli_default_model(char *buf, size_t size)
{
    const char *env = getenv("INFERENCE_MODEL");
    if (env && *env) {
        snprintf(buf, size, "%s", env);
        return 0;
    }
    char dirs[8][PATH_MAX];
    int nd = cli_model_dirs(dirs, 8);
    for (int i = 0; i < nd; i++)
        if (first_model_in(dirs[i], buf, size))
            return 0;
    return cli_error("no model given and none found (pass MODEL or -m PATH, set INFERENCE_MODEL, "
                     "or put a .gguf file in ./models)");
}

int cli_resolve_model(cli_load_opts *l, char *buf, size_t size)
{
    if (l->model) {
        snprintf(buf, size, "%s", l->model);
        return 0;
    }
    return cli_default_model(buf, size);
}

/* The backend reports the fraction loaded; the bar shows it in percent. */
static void on_load_progress(float fraction, void *user)
{
    progress_update(user, (size_t)(fraction * 100.0f + 0.5f));
}

inf_model *cli_load_model(const char *path, const inf_load_config *cfg)
{
    inf_error err;
    const char *base = strrchr(path, '/');
    char label[256];
    snprintf(label, sizeof label, "loading %s", base && base[1] ? base + 1 : path);
    inf_load_config with_progress;
    if (cfg)
        with_progress = *cfg;
    else
        inf_load_config_default(&with_progress);
    cli_progress bar;
    progress_start(&bar, label, 100);
    with_progress.progress = on_load_progress;
    with_progress.progress_user = &bar;
    inf_model *m = inf_load_model(path, &with_progress, &err);
    progress_finish(&bar);
    if (!m) {
        if (strstr(err.message, path))
            cli_error("%s", err.message);
        else
            cli_error("%s: %s", path, err.message);
    }
    return m;
}

/* ---- Ctrl-C ---- */

static _Atomic(inf_cancel *) interrupt_target;
static volatile sig_atomic_t interrupt_count;
static volatile sig_atomic_t interrupt_keep_alive;

static void on_sigint(int sig)
{
    interrupt_count++;
    inf_cancel *c = atomic_load(&interrupt_target);
    if (c) {
        inf_cancel_trigger(c);
        return;
    }
    if (!interrupt_keep_alive) {
        /* Nothing to cancel (e.g. loading): die of SIGINT as usual. */
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

void cli_interrupt_install(bool keep_alive)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked read at the chat prompt returns EINTR */
    interrupt_keep_alive = keep_alive;
    sigaction(SIGINT, &sa, NULL);
}

void cli_interrupt_target(inf_cancel *cancel)
{
    atomic_store(&interrupt_target, cancel);
}

int cli_interrupt_count(void)
{
    return interrupt_count;
}

/* ---- input ---- */

char *cli_read_stream(FILE *f, size_t *len)
{
    return file_read_stream(f, SIZE_MAX, len, NULL);
}

char *cli_read_file(const char *path, size_t *len)
{
    if (strcmp(path, "-") == 0)
        return cli_read_stream(stdin, len);
    return file_read_all(path, SIZE_MAX, len, NULL);
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

/* One input line to a prompt: JSON object, JSON string, or the raw text. */
static char *prompt_from_line(const char *line, size_t lineno, const char *src)
{
    if (line[0] != '{' && line[0] != '"')
        return strdup(line);
    cJSON *j = cJSON_Parse(line);
    char *out = NULL;
    if (!j) {
        cli_error("%s line %zu: not valid JSON", src, lineno);
        return NULL;
    }
    if (cJSON_IsString(j)) {
        out = strdup(j->valuestring);
    } else {
        const char *keys[] = {"prompt", "text", "input"};
        for (size_t k = 0; k < 3 && !out; k++) {
            cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[k]);
            if (cJSON_IsString(v))
                out = strdup(v->valuestring);
        }
        if (!out)
            cli_error("%s line %zu: JSON line has no \"prompt\" string", src, lineno);
    }
    cJSON_Delete(j);
    return out;
}

int cli_read_prompts(const char *path, cli_prompts *out)
{
    memset(out, 0, sizeof *out);
    bool use_stdin = !path || strcmp(path, "-") == 0;
    const char *src = use_stdin ? "stdin" : path;
    FILE *f = use_stdin ? stdin : fopen(path, "r");
    if (!f)
        return cli_error("%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, lineno = 0, items_cap = 0;
    ssize_t got;
    int rc = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (blank(line))
            continue;
        char *p = prompt_from_line(line, lineno, src);
        if (!p) {
            rc = CLI_EXIT_RUNTIME;
            break;
        }
        if (out->n == items_cap) {
            items_cap = items_cap ? items_cap * 2 : 64;
            char **ni = realloc(out->items, items_cap * sizeof *ni);
            if (!ni) {
                free(p);
                rc = cli_error("out of memory reading prompts");
                break;
            }
            out->items = ni;
        }
        out->items[out->n++] = p;
    }
    if (rc == 0 && ferror(f))
        rc = cli_error("%s: read error", src);
    free(line);
    if (!use_stdin)
        fclose(f);
    if (rc)
        cli_prompts_free(out);
    return rc;
}

void cli_prompts_free(cli_prompts *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->items[i]);
    free(p->items);
    p->items = NULL;
    p->n = 0;
}

char *cli_token_piece(inf_model *m, int32_t id)
{
    char *text = NULL;
    if (inf_model_detokenize(m, &id, 1, true, &text, NULL) != INF_OK)
        return NULL;
    char *copy = strdup(text);
    inf_free(text);
    return copy;
}

void cli_print_metrics(inf_model *m)
{
    inf_metrics mt;
    if (inf_model_metrics(m, &mt) != INF_OK)
        return;
    fflush(stdout);
    fprintf(stderr, "prefill: %lld tokens in %.3f s (%.2f tok/s)\n", (long long)mt.prompt_tokens,
            mt.prefill_seconds, mt.prefill_tokens_per_second);
    fprintf(stderr, "decode:  %lld tokens in %.3f s (%.2f tok/s)\n", (long long)mt.generated_tokens,
            mt.decode_seconds, mt.decode_tokens_per_second);
    fprintf(stderr, "total:   %.3f s\n", mt.total_seconds);
    fprintf(stderr, "memory:  peak %.1f MiB, active %.1f MiB\n", mt.peak_memory_bytes / 1048576.0,
            mt.active_memory_bytes / 1048576.0);
}

int cli_with_prompts(cli_load_opts *load, const char *input, bool verbose, cli_prompts_work work, void *user)
{
    char path[4096];
    int r;
    if ((r = cli_resolve_model(load, path, sizeof path)) != 0)
        return r;
    cli_prompts prompts;
    if ((r = cli_read_prompts(input, &prompts)) != 0)
        return r;
    cli_interrupt_install(false);
    inf_model *m = cli_load_model(path, &load->cfg);
    if (!m) {
        cli_prompts_free(&prompts);
        return CLI_EXIT_RUNTIME;
    }
    inf_cancel *cancel = inf_cancel_new(NULL);
    cli_interrupt_target(cancel);
    int rc = work(m, &prompts, cancel, user);
    cli_interrupt_target(NULL);
    if (verbose)
        cli_print_metrics(m);
    inf_cancel_free(cancel);
    inf_model_close(m);
    cli_prompts_free(&prompts);
    return rc;
}
