/* http.c - the llama_cpp backend's HTTP plumbing over libcurl: easy-handle
 * set-up, one blocking request (with cancellation through curl's progress
 * callback), the server's error message out of an error body, and a step of
 * a multi handle for the streamed transfers. */
#include "backends/llama_cpp/lc_internal.h"
#include "base/error.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LC_MAX_RESPONSE (64u << 20)

int64_t lc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void lc_response_free(lc_response *r)
{
    if (!r) return;
    free(r->body);
    memset(r, 0, sizeof *r);
}

CURL *lc_easy_new(const lc_model *m, const char *path, struct curl_slist **headers)
{
    CURL *e = curl_easy_init();
    if (!e) return NULL;
    size_t n = strlen(m->root) + strlen(path) + 1;
    char *url = malloc(n);
    if (!url) { curl_easy_cleanup(e); return NULL; }
    snprintf(url, n, "%s%s", m->root, path);
    curl_easy_setopt(e, CURLOPT_URL, url); /* curl copies it */
    free(url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    struct curl_slist *h = NULL, *t;
    if ((t = curl_slist_append(h, "Content-Type: application/json"))) h = t;
    if ((t = curl_slist_append(h, "Expect:"))) h = t; /* no 100-continue round trip */
    if (m->auth_header && (t = curl_slist_append(h, m->auth_header))) h = t;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    *headers = h;
    return e;
}

typedef struct body_sink {
    char *buf;
    size_t len, cap;
    bool overflow;
} body_sink;

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *user)
{
    body_sink *s = user;
    size_t n = size * nmemb;
    if (s->len + n > LC_MAX_RESPONSE) { s->overflow = true; return 0; }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1) cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b) return 0;
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, ptr, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

static int cancel_progress(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt; (void)dn; (void)ut; (void)un;
    return inf_cancel_status(user) != INF_OK; /* non-zero aborts the transfer */
}

inf_status lc_http_request(const lc_model *m, const char *path, const char *json_body, long timeout_ms,
                           inf_cancel *cancel, lc_response *out, inf_error *err)
{
    memset(out, 0, sizeof *out);
    struct curl_slist *headers = NULL;
    CURL *e = lc_easy_new(m, path, &headers);
    if (!e) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: out of memory");
        return INF_ERR_NO_MEMORY;
    }
    body_sink sink = {0};
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &sink);
    if (timeout_ms > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (json_body) curl_easy_setopt(e, CURLOPT_POSTFIELDS, json_body);
    if (cancel) {
        curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, cancel_progress);
        curl_easy_setopt(e, CURLOPT_XFERINFODATA, cancel);
    }
    CURLcode rc = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    curl_slist_free_all(headers);
    inf_status st = INF_OK;
    if (rc == CURLE_ABORTED_BY_CALLBACK && cancel && inf_cancel_status(cancel) != INF_OK) {
        st = err_cancelled(inf_cancel_status(cancel), err);
    } else if (sink.overflow) {
        st = INF_ERR_BACKEND;
        inf_error_set(err, st, "llama_cpp: %s%s: the answer exceeds %u bytes", m->root, path, LC_MAX_RESPONSE);
    } else if (rc != CURLE_OK) {
        st = INF_ERR_UNAVAILABLE;
        inf_error_set(err, st, "llama_cpp: cannot reach the server at %s%s: %s", m->root, path,
                      errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    if (st != INF_OK) { free(sink.buf); return st; }
    out->status = status;
    out->body = sink.buf ? sink.buf : calloc(1, 1);
    out->len = sink.len;
    if (!out->body) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: out of memory");
        return INF_ERR_NO_MEMORY;
    }
    inf_error_clear(err);
    return INF_OK;
}

/* Copy at most size-1 bytes of s (one line) into buf. */
static void copy_snippet(const char *s, size_t len, char *buf, size_t size)
{
    size_t n = 0;
    while (n < len && n + 1 < size && s[n] && s[n] != '\n' && s[n] != '\r') { buf[n] = s[n]; n++; }
    buf[n] = '\0';
}

void lc_server_message(const char *body, size_t len, char *buf, size_t size)
{
    if (!size) return;
    buf[0] = '\0';
    if (!body || !len) { snprintf(buf, size, "(empty answer)"); return; }
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *msg = NULL;
    if (root) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
        if (cJSON_IsString(e)) msg = e;
        else if (cJSON_IsObject(e)) msg = cJSON_GetObjectItemCaseSensitive(e, "message");
        if (!cJSON_IsString(msg)) msg = cJSON_GetObjectItemCaseSensitive(root, "message");
        if (!cJSON_IsString(msg)) msg = cJSON_GetObjectItemCaseSensitive(root, "detail");
    }
    if (cJSON_IsString(msg)) snprintf(buf, size, "%s", msg->valuestring);
    else copy_snippet(body, len, buf, size > 200 ? 200 : size);
    cJSON_Delete(root);
}

void lc_multi_step(CURLM *multi, int wait_ms)
{
    int running = 0;
    curl_multi_perform(multi, &running);
    CURLMsg *msg;
    int left;
    bool any_done = false;
    while ((msg = curl_multi_info_read(multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        lc_xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x) { x->finished = true; x->result = msg->data.result; }
        any_done = true;
    }
    if (!any_done && running > 0 && wait_ms > 0) curl_multi_poll(multi, NULL, 0, wait_ms, NULL);
}
