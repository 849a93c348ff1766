/* sse.h - an incremental parser of server-sent events (the text/event-stream
 * format that llama.cpp and OpenAI-compatible servers stream tokens in).
 *
 * Bytes arrive in arbitrary pieces (curl's write callback); lc_sse_feed cuts
 * them into lines and hands each complete event's data (the "data:" lines
 * joined by '\n') to a callback. Comment lines (":...") and the fields
 * event/id/retry are ignored. Lines longer than LC_SSE_MAX_LINE are an error
 * rather than unbounded memory. */
#ifndef LC_SSE_H
#define LC_SSE_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>

#define LC_SSE_MAX_LINE (16u << 20)

typedef struct lc_sse {
    char *line;          /* the current, unfinished line */
    size_t line_len, line_cap;
    char *data;          /* the data of the current, unfinished event */
    size_t data_len, data_cap;
    bool has_data;       /* a data: field was seen since the last dispatch */
    bool is_error;       /* ... and it was an error: field */
    bool skip_lf;        /* the previous byte was '\r': a following '\n' ends nothing */
} lc_sse;

/* Called once per complete event with its data (NUL-terminated, len bytes).
 * is_error is true when the data came in "error:" lines (llama.cpp's server
 * reports a failure mid-stream that way) rather than "data:" lines.
 * Return 0 to go on, non-zero to stop feeding (lc_sse_feed then returns it). */
typedef int (*lc_sse_event_fn)(void *user, const char *data, size_t len, bool is_error);

void lc_sse_init(lc_sse *p);
void lc_sse_free(lc_sse *p);

/* Feed n bytes. Returns 0, the callback's non-zero value, or -1 when out of
 * memory or a line exceeds LC_SSE_MAX_LINE (message in err). */
int lc_sse_feed(lc_sse *p, const char *bytes, size_t n, lc_sse_event_fn cb, void *user,
                inf_error *err);

/* True when bytes of an unfinished line or event are pending (the stream was
 * cut in the middle of an event). */
bool lc_sse_pending(const lc_sse *p);

#endif
