/* http.c - the libmicrohttpd glue (see server_internal.h): a request's
 * body gathered within the size limit, then handed to the router; JSON
 * documents and llama.cpp-shaped errors sent back.
 *
 * libmicrohttpd runs one thread per connection, so a handler may block while
 * the model generates. */
#include "serve/server_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double srv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int http_status_of(inf_status st)
{
    switch (st) {
    case INF_ERR_INVALID_ARGUMENT:
    case INF_ERR_CONTEXT_OVERFLOW:
    case INF_ERR_TEMPLATE:
    case INF_ERR_FORMAT: return 400;
    case INF_ERR_NOT_FOUND: return 404;
    case INF_ERR_UNSUPPORTED: return 501;
    case INF_ERR_UNAVAILABLE: return 503;
    case INF_ERR_CANCELLED:
    case INF_ERR_DEADLINE_EXCEEDED: return 499;
    default: return 500;
    }
}

static const char *error_type_of(int http_status)
{
    switch (http_status) {
    case 400: case 413: case 405: return "invalid_request_error";
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 501: return "not_supported_error";
    case 503: return "unavailable_error";
    default: return "server_error";
    }
}

cJSON *error_json(int http_status, const char *message)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(root, "error");
    cJSON_AddNumberToObject(e, "code", http_status);
    cJSON_AddStringToObject(e, "message", message ? message : "");
    cJSON_AddStringToObject(e, "type", error_type_of(http_status));
    return root;
}

enum MHD_Result send_text(struct MHD_Connection *c, int status, const char *type, char *body)
{
    if (!body) {
        static const char oom[] = "{\"error\":{\"code\":500,\"message\":\"out of memory\",\"type\":\"server_error\"}}";
        struct MHD_Response *r = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        MHD_add_response_header(r, "Content-Type", "application/json");
        enum MHD_Result rc = MHD_queue_response(c, 500, r);
        MHD_destroy_response(r);
        return rc;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) { free(body); return MHD_NO; }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    if (status == 503) MHD_add_response_header(r, "Retry-After", SRV_RETRY_AFTER);
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

enum MHD_Result send_json(struct MHD_Connection *c, int status, cJSON *doc)
{
    char *body = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    return send_text(c, status, "application/json", body);
}

enum MHD_Result send_error(inf_server *s, struct MHD_Connection *c, int status, const char *message)
{
    atomic_fetch_add(&s->n_errors, 1);
    return send_json(c, status, error_json(status, message));
}

/* Whether the client has gone away (closed or reset its connection): a
 * non-streamed answer checks it between tokens, since nothing is written to
 * the socket until the end. */
bool client_gone(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return false;
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* Per-connection upload state. */
typedef struct srv_upload {
    struct buf body;
    bool too_big;
} srv_upload;

enum MHD_Result srv_on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload_data, size_t *upload_data_size,
                               void **con_cls)
{
    (void)version;
    inf_server *s = cls;
    srv_upload *up = *con_cls;
    if (!up) {
        up = calloc(1, sizeof *up);
        if (!up) return MHD_NO;
        *con_cls = up;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end = NULL;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno == 0 && end != cl && n > s->max_body) up->too_big = true;
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (up->too_big || up->body.n + n > s->max_body) {
            up->too_big = true; /* keep reading to the end, keep nothing */
            return MHD_YES;
        }
        buf_put(&up->body, upload_data, n);
        if (up->body.oom) up->too_big = true;
        return MHD_YES;
    }
    atomic_fetch_add(&s->n_requests, 1);
    return srv_route(s, c, url, method, up->body.p ? up->body.p : "", up->body.n, up->too_big);
}

void srv_on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls; (void)c; (void)toe;
    srv_upload *up = *con_cls;
    if (up) {
        buf_free(&up->body);
        free(up);
    }
    *con_cls = NULL;
}

