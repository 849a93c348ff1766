/* sse.c - a streamed answer as server-sent events ("data: JSON\n\n"): a
 * content-reader callback pulls the next token from the generation each
 * time the socket wants bytes. When the client goes away MHD stops calling
 * the reader and frees it; the free callback cancels the generation before
 * releasing the stream, so the model stops working for nobody. */
#include "serve/server_internal.h"

#include <stdlib.h>
#include <string.h>

/* Append "data: JSON\n\n" (doc consumed). */
static void emit_event(srv_gen *g, cJSON *doc)
{
    char *json = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!json) { gen_fail(g, INF_ERR_NO_MEMORY, "out of memory"); return; }
    buf_puts(&g->out, "data: ");
    buf_puts(&g->out, json);
    buf_puts(&g->out, "\n\n");
    if (g->out.oom) gen_fail(g, INF_ERR_NO_MEMORY, "out of memory");
    free(json);
}

static void emit_raw(srv_gen *g, const char *s)
{
    buf_puts(&g->out, s);
    if (g->out.oom) gen_fail(g, INF_ERR_NO_MEMORY, "out of memory");
}

static void emit_token_event(srv_gen *g, int32_t id, const char *text)
{
    if (g->req.endpoint == SRV_EP_NATIVE_COMPLETION) emit_event(g, native_token_event(g, id, text));
    else emit_event(g, oai_chunk(g, text, NULL, false));
}

static void emit_error_event(srv_gen *g)
{
    int http = http_status_of(g->status);
    emit_event(g, error_json(http, g->error ? g->error : "generation failed"));
}

static void emit_closing_events(srv_gen *g)
{
    if (g->status != INF_OK) {
        emit_error_event(g);
        if (g->req.endpoint != SRV_EP_NATIVE_COMPLETION) emit_raw(g, "data: [DONE]\n\n");
        return;
    }
    if (g->req.endpoint == SRV_EP_NATIVE_COMPLETION) {
        emit_event(g, native_closing_event(g));
        return;
    }
    oai_closing_events(g, emit_event);
    emit_raw(g, "data: [DONE]\n\n");
}

/* Produce the next piece of the event stream into g->out. */
static void stream_produce(srv_gen *g)
{
    if (g->phase == 0) {
        g->phase = 1;
        if (g->req.endpoint == SRV_EP_OAI_CHAT) { emit_event(g, oai_chunk(g, "", NULL, true)); return; }
    }
    if (g->phase == 1) {
        int32_t id;
        const char *text;
        if (g->status == INF_OK && gen_next(g, &id, &text)) {
            emit_token_event(g, id, text);
            return;
        }
        if (g->t_end == 0) g->t_end = srv_now();
        g->phase = 2;
    }
    if (g->phase == 2) {
        g->phase = 3;
        /* Release the slot and the stream now: the closing events need only
         * figures, and the next request may start. */
        keep_stream_figures(g);
        inf_stream_free(g->stream);
        g->stream = NULL;
        if (g->slot_held) { slot_release(g->srv); g->slot_held = false; }
        emit_closing_events(g);
    }
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    srv_gen *g = cls;
    while (g->out_pos >= g->out.n) {
        g->out_pos = 0;
        buf_clear(&g->out);
        if (g->phase == 3) return MHD_CONTENT_READER_END_OF_STREAM;
        stream_produce(g);
    }
    size_t n = g->out.n - g->out_pos;
    if (n > max) n = max;
    memcpy(buf, g->out.p + g->out_pos, n);
    g->out_pos += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    gen_free(cls);
}

enum MHD_Result sse_respond(inf_server *s, struct MHD_Connection *c, srv_gen *g)
{
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_reader, g, stream_free);
    if (!r) {
        gen_free(g);
        return send_error(s, c, 500, "out of memory");
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    enum MHD_Result rc = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return rc;
}
