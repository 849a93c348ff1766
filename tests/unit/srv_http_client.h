/* srv_http_client.h - the server tests' side of HTTP: a server started on
 * a free port (test_server_options / test_server_start, the one way every
 * test starts one), and a small libcurl client: one request, the status
 * and the whole body back. Header-only. */
#ifndef SRV_HTTP_CLIENT_H
#define SRV_HTTP_CLIENT_H

#include "serve/server.h"
#include "test_util.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct http_answer {
    long status;
    char *body;
    size_t len;
    int chunks_left;   /* >0: abort the transfer after this many body pieces */
    long timeout_ms;   /* >0: give up after this long */
    char *headers;     /* the response's header lines, as received */
    size_t headers_len;
} http_answer;

static inline size_t http_header_sink(char *p, size_t s, size_t n, void *u)
{
    http_answer *a = u;
    size_t k = s * n;
    char *b = realloc(a->headers, a->headers_len + k + 1);
    if (!b) return 0;
    a->headers = b;
    memcpy(a->headers + a->headers_len, p, k);
    a->headers_len += k;
    a->headers[a->headers_len] = '\0';
    return k;
}

static inline size_t http_sink(char *p, size_t s, size_t n, void *u)
{
    http_answer *a = u;
    size_t k = s * n;
    char *b = realloc(a->body, a->len + k + 1);
    if (!b) return 0;
    a->body = b;
    memcpy(a->body + a->len, p, k);
    a->len += k;
    a->body[a->len] = '\0';
    if (a->chunks_left > 0 && --a->chunks_left == 0) return 0; /* hang up */
    return k;
}

/* GET when body is NULL, else POST with body (len bytes; -1 = strlen). */
static inline int http_do(int port, const char *path, const char *body, long len, const char *auth, http_answer *a)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *e = curl_easy_init();
    if (!e) return -1;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (auth) h = curl_slist_append(h, auth);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_sink);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_header_sink);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, a->timeout_ms > 0 ? a->timeout_ms : 30000L);
    if (body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, len < 0 ? (long)strlen(body) : len);
    }
    CURLcode rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &a->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    return rc == CURLE_OK ? 0 : (int)rc;
}

static inline void http_answer_free(http_answer *a)
{
    free(a->body);
    free(a->headers);
    memset(a, 0, sizeof *a);
}

/* The options of a test server for model: defaults, any free port. */
static inline struct inf_server_options test_server_options(inf_model *model)
{
    struct inf_server_options o;
    inf_server_options_default(&o);
    o.model = model;
    o.port = 0;
    return o;
}

/* Starts a server with o; NULL after a failed CHECK naming the error. Its
 * port goes to *port when port is not NULL. */
static inline inf_server *test_server_start(const struct inf_server_options *o, int *port)
{
    inf_server *s = NULL;
    inf_error err = {0};
    CHECK_MSG(inf_server_start(o, &s, &err) == 0 && s, "server start: %s", err.message);
    if (s && port) *port = inf_server_port(s);
    return s;
}
#endif
