/* server.c - the HTTP server (see server.h): options, start and stop.
 * The rooms it is built of are listed in server_internal.h. */
#include "serve/server_internal.h"

#include "base/error.h"
#include "base/str.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

void inf_server_options_default(struct inf_server_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->host = "127.0.0.1";
    opts->port = SRV_DEFAULT_PORT;
    opts->parallel = 1;
    opts->queue = SRV_DEFAULT_QUEUE;
    opts->max_body = SRV_DEFAULT_MAX_BODY;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

static void server_release(inf_server *s)
{
    if (!s) return;
    if (s->shutdown) inf_cancel_trigger(s->shutdown);
    if (s->daemon) MHD_stop_daemon(s->daemon);
    inf_cancel_free(s->shutdown);
    pthread_mutex_destroy(&s->slot_mu);
    pthread_cond_destroy(&s->slot_cv);
    free(s->model_name);
    free(s->model_path);
    free(s->api_key);
    free(s);
}

int inf_server_start(const struct inf_server_options *opts, inf_server **out, inf_error *err)
{
    *out = NULL;
    if (!opts || !opts->model) { err_fail(err, INF_ERR_INVALID_ARGUMENT, "server: no model to serve"); return -1; }
    if (opts->port < 0 || opts->port > 65535) { err_fail(err, INF_ERR_INVALID_ARGUMENT, "server: port %d is out of range", opts->port); return -1; }
    inf_server *s = calloc(1, sizeof *s);
    if (!s) { err_fail(err, INF_ERR_NO_MEMORY, "server: out of memory"); return -1; }
    pthread_mutex_init(&s->slot_mu, NULL);
    pthread_cond_init(&s->slot_cv, NULL);
    s->model = opts->model;
    s->parallel = opts->parallel > 0 ? opts->parallel : 1;
    s->slots_free = s->parallel;
    s->queue_max = opts->queue >= 0 ? opts->queue : SRV_DEFAULT_QUEUE;
    s->t_started = srv_now();
    s->max_body = opts->max_body ? opts->max_body : SRV_DEFAULT_MAX_BODY;
    const char *path = opts->model_path ? opts->model_path : "";
    s->model_path = str_dup_or_empty(path);
    s->model_name = str_dup_or_empty(opts->model_name && opts->model_name[0] ? opts->model_name
                            : path[0] ? base_name(path) : inf_model_type(opts->model));
    s->api_key = opts->api_key && opts->api_key[0] ? str_dup_or_empty(opts->api_key) : NULL;
    s->shutdown = inf_cancel_new(NULL);
    atomic_init(&s->next_id, 1);
    if (!s->model_path || !s->model_name || !s->shutdown || (opts->api_key && opts->api_key[0] && !s->api_key)) {
        server_release(s);
        err_fail(err, INF_ERR_NO_MEMORY, "server: out of memory");
        return -1;
    }

    const char *host = opts->host && opts->host[0] ? opts->host : "127.0.0.1";
    char port_str[16];
    snprintf(port_str, sizeof port_str, "%d", opts->port);
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, port_str, &hints, &ai);
    if (gai != 0 || !ai) {
        err_fail(err, INF_ERR_FORMAT, "server: cannot resolve host \"%s\": %s", host, gai_strerror(gai));
        server_release(s);
        return -1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(flags, (uint16_t)opts->port, NULL, NULL, srv_on_request, s,
                                 MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                 MHD_OPTION_NOTIFY_COMPLETED, srv_on_completed, s,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)(s->parallel + s->queue_max + 256),
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)600,
                                 MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->daemon) {
        err_fail(err, INF_ERR_FORMAT, "server: cannot listen on %s:%d (address in use or not allowed)", host, opts->port);
        server_release(s);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : opts->port;
    *out = s;
    return 0;
}

int inf_server_port(const inf_server *server)
{
    return server ? server->port : 0;
}

void inf_server_stop(inf_server *server)
{
    server_release(server);
}

int inf_server_run(const struct inf_server_options *opts, void (*on_ready)(int port, void *user), void *user,
                   inf_error *err)
{
    inf_server *s = NULL;
    if (inf_server_start(opts, &s, err) != 0) return -1;
    if (on_ready) on_ready(s->port, user);
    while (inf_cancel_status(opts->stop) == INF_OK) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    inf_server_stop(s);
    return 0;
}
