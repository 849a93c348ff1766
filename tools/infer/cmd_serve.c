/* cmd_serve.c - `infer serve MODEL`: serve one model over HTTP with the
 * OpenAI-compatible and llama.cpp-native endpoints of src/server/ (see
 * server/server.h for the list). Runs until SIGINT or SIGTERM.
*/
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifdef INF_HAVE_MHD
#include "serve/server.h"

static const char SERVE_HELP[] =
    "usage: infer serve [MODEL] [OPTIONS]\n\n"
    "Serve MODEL over HTTP until Ctrl-C (or SIGTERM). Endpoints:\n"
    "  GET  /health, /v1/models, /props, /metrics (Prometheus)\n"
    "  POST /v1/completions, /v1/chat/completions   (OpenAI; \"stream\": true for SSE)\n"
    "  POST /completion                             (llama.cpp's native protocol)\n"
    "  POST /v1/classify                            (a token and its probability per prompt)\n"
    "  POST /tokenize, /detokenize, /apply-template\n\n"
    "Server options:\n"
    "      --host ADDR        address to listen on [127.0.0.1]\n"
    "      --port N           port; 0 picks a free one [8080]\n"
    "      --parallel N       generations served at once [1]\n"
    "      --queue N          requests that may wait for a slot; beyond, 503 [64]\n"
    "      --max-body BYTES   largest request body accepted [1048576]\n"
    "      --api-key KEY      require \"Authorization: Bearer KEY\" [$INFERENCE_SERVER_API_KEY]\n"
    "      --alias NAME       the model id reported by /v1/models [the file name]\n"
    "  -h, --help             show this help\n";

static inf_cancel *serve_stop;

static void on_signal(int sig)
{
    (void)sig;
    if (serve_stop) inf_cancel_trigger(serve_stop); /* async-signal-safe */
}

static void on_ready(int port, void *user)
{
    const char *host = user;
    /* The one line a script waits for, on stderr like every message. */
    fprintf(stderr, "infer: serving on http://%s:%d\n", host, port);
    fflush(stderr);
}

/* Parse the server's own options; 1 taken, 0 not ours, -1 usage error. */
static int take_server_opt(cli_args *a, struct inf_server_options *o)
{
    const char *v;
    int r, n;
    if ((r = args_value(a, "--host", NULL, &v)) != 0) {
        if (r > 0) o->host = v;
        return r;
    }
    if ((r = args_value(a, "--port", NULL, &v)) != 0) {
        if (r < 0 || args_int(a, "--port", v, 0, 65535, &n)) return -1;
        o->port = n;
        return 1;
    }
    if ((r = args_value(a, "--queue", NULL, &v)) != 0) {
        if (r < 0 || args_int(a, "--queue", v, 0, 65536, &n)) return -1;
        o->queue = n;
        return 1;
    }
    if ((r = args_value(a, "--max-body", NULL, &v)) != 0) {
        if (r < 0 || args_int(a, "--max-body", v, 64, 1 << 30, &n)) return -1;
        o->max_body = (size_t)n;
        return 1;
    }
    if ((r = args_value(a, "--api-key", NULL, &v)) != 0) {
        if (r > 0) o->api_key = v;
        return r;
    }
    if ((r = args_value(a, "--alias", NULL, &v)) != 0) {
        if (r > 0) o->model_name = v;
        return r;
    }
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    cli_args a;
    cli_load_opts l;
    struct inf_server_options o;
    args_init(&a, "serve", argc, argv);
    load_opts_init(&l);
    inf_server_options_default(&o);
    o.api_key = getenv("INFERENCE_SERVER_API_KEY");
    for (; a.i < argc; a.i++) {
        if (args_is_help(&a)) {
            printf("%s\n%s\nExit status: 0 after Ctrl-C, 1 runtime error, 2 usage error.\n", SERVE_HELP, LOAD_OPTS_HELP);
            return CLI_EXIT_OK;
        }
        if (args_is_option(&a)) {
            if (a.no_more_options) continue;
            int r = take_server_opt(&a, &o);
            if (r == 0) r = load_opts_take(&a, &l);
            if (r < 0) return CLI_EXIT_USAGE;
            if (r == 0) return args_unknown(&a);
            continue;
        }
        if (l.model) return cli_usage_error("serve", "unexpected argument \"%s\"", args_cur(&a));
        l.model = args_cur(&a);
    }
    char path[4096];
    int rc = cli_resolve_model(&l, path, sizeof path);
    if (rc) return rc;
    inf_model *model = cli_load_model(path, &l.cfg);
    if (!model) return CLI_EXIT_RUNTIME;
    o.model = model;
    o.model_path = path;
    o.parallel = l.cfg.parallel_slots > 0 ? l.cfg.parallel_slots : 1;
    serve_stop = inf_cancel_new(NULL);
    if (!serve_stop) { inf_model_close(model); return cli_error("out of memory"); }
    o.stop = serve_stop;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    inf_error err = {0};
    rc = inf_server_run(&o, on_ready, (void *)o.host, &err);
    inf_model_close(model);
    inf_cancel_free(serve_stop);
    serve_stop = NULL;
    if (rc != 0) return cli_error("%s", err.message);
    return CLI_EXIT_OK;
}

#else /* built without libmicrohttpd */

int cmd_serve(int argc, char **argv)
{
    (void)argc; (void)argv;
    return cli_error("'serve' needs libmicrohttpd, which this build was made without");
}

#endif
