/* sse.c - incremental server-sent events parser (see sse.h).
 *
 * Lines end with "\n", "\r\n" or a lone "\r" (the SSE grammar allows all
 * three); an empty line dispatches the event gathered so far. */
#include "backends/llama_cpp/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lc_sse_init(lc_sse *p)
{
    memset(p, 0, sizeof *p);
}

void lc_sse_free(lc_sse *p)
{
    free(p->line);
    free(p->data);
    memset(p, 0, sizeof *p);
}

bool lc_sse_pending(const lc_sse *p)
{
    return p->line_len > 0 || p->has_data;
}

/* Grow *buf to hold need bytes plus a NUL. */
static int reserve(char **buf, size_t *cap, size_t need)
{
    if (need + 1 <= *cap) return 0;
    size_t cap2 = *cap ? *cap : 256;
    while (cap2 < need + 1) cap2 *= 2;
    char *b = realloc(*buf, cap2);
    if (!b) return -1;
    *buf = b;
    *cap = cap2;
    return 0;
}

/* Handle one complete line (without its terminator). */
static int process_line(lc_sse *p, lc_sse_event_fn cb, void *user, inf_error *err)
{
    const char *l = p->line ? p->line : "";
    size_t n = p->line_len;
    if (n == 0) {
        if (!p->has_data) return 0;
        p->has_data = false;
        bool is_error = p->is_error;
        p->is_error = false;
        size_t len = p->data_len;
        p->data_len = 0;
        if (reserve(&p->data, &p->data_cap, len)) goto oom;
        p->data[len] = '\0';
        return cb(user, p->data, len, is_error);
    }
    if (l[0] == ':') return 0; /* a comment (keep-alive) */
    const char *colon = memchr(l, ':', n);
    size_t name_len = colon ? (size_t)(colon - l) : n;
    bool is_error = name_len == 5 && memcmp(l, "error", 5) == 0;
    if (!is_error && (name_len != 4 || memcmp(l, "data", 4) != 0)) return 0; /* event:, id:, retry: */
    if (is_error) p->is_error = true;
    const char *value = colon ? colon + 1 : l + n;
    size_t vlen = (size_t)(l + n - value);
    if (vlen > 0 && value[0] == ' ') { value++; vlen--; }
    size_t need = p->data_len + (p->has_data ? 1 : 0) + vlen;
    if (need > LC_SSE_MAX_LINE) {
        err_fail(err, INF_ERR_FORMAT, "event stream: an event's data exceeds %u bytes", LC_SSE_MAX_LINE);
        return -1;
    }
    if (reserve(&p->data, &p->data_cap, need)) goto oom;
    if (p->has_data) p->data[p->data_len++] = '\n';
    memcpy(p->data + p->data_len, value, vlen);
    p->data_len += vlen;
    p->has_data = true;
    return 0;
oom:
    err_fail(err, INF_ERR_NO_MEMORY, "event stream: out of memory");
    return -1;
}

int lc_sse_feed(lc_sse *p, const char *bytes, size_t n, lc_sse_event_fn cb, void *user,
                inf_error *err)
{
    for (size_t i = 0; i < n; i++) {
        char c = bytes[i];
        if (c == '\n' && p->skip_lf) { p->skip_lf = false; continue; }
        p->skip_lf = false;
        if (c == '\n' || c == '\r') {
            if (c == '\r') p->skip_lf = true;
            int rc = process_line(p, cb, user, err);
            p->line_len = 0;
            if (rc) return rc;
            continue;
        }
        if (p->line_len + 1 > LC_SSE_MAX_LINE) {
            err_fail(err, INF_ERR_FORMAT, "event stream: a line exceeds %u bytes", LC_SSE_MAX_LINE);
            return -1;
        }
        if (reserve(&p->line, &p->line_cap, p->line_len + 1)) {
            err_fail(err, INF_ERR_NO_MEMORY, "event stream: out of memory");
            return -1;
        }
        p->line[p->line_len++] = c;
    }
    return 0;
}
