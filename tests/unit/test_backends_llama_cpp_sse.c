/* test_backends_llama_cpp_sse.c - the server-sent events parser of the llama_cpp
 * backend (src/backends/llama_cpp/sse.c): events split across every
 * possible pair of pieces give the same result as whole; LF, CRLF and lone
 * CR line ends; comments and unknown fields ignored; multi-line data joined
 * with '\n'; "error:" fields flagged; a cut stream reported as pending;
 * random bytes never crash it. */
#include "test_util.h"

#ifdef INF_HAVE_CURL

#include "backends/llama_cpp/sse.h"

#include <stdint.h>

typedef struct collected {
    char all[2048];  /* events joined with '|', error events prefixed '!' */
    int n;
} collected;

static int collect(void *user, const char *data, size_t len, bool is_error)
{
    collected *c = user;
    if (strlen(data) != len) return -2; /* data must be NUL-terminated at len */
    size_t at = strlen(c->all);
    snprintf(c->all + at, sizeof c->all - at, "%s%s|", is_error ? "!" : "", data);
    c->n++;
    return 0;
}

static const char STREAM[] =
    ": keep-alive comment\r\n\r\n"
    "data: {\"content\":\"a\"}\r\n\r\n"
    "event: message\nid: 7\ndata:{\"x\":1}\n\n"
    "data: line1\ndata: line2\n\n"
    "data\n\n"
    "retry: 10\r"
    "data: cr only\r\r"
    "error: {\"message\":\"boom\"}\n\n"
    "data: [DONE]\n\n";
static const char EXPECTED[] = "{\"content\":\"a\"}|{\"x\":1}|line1\nline2||cr only|!{\"message\":\"boom\"}|[DONE]|";

static void test_whole_and_split(void)
{
    size_t len = strlen(STREAM);
    inf_error err = {0};
    for (size_t cut1 = 0; cut1 <= len; cut1++) {
        for (size_t cut2 = cut1; cut2 <= len; cut2 += 7) {
            lc_sse p;
            lc_sse_init(&p);
            collected c = {"", 0};
            int rc = lc_sse_feed(&p, STREAM, cut1, collect, &c, &err);
            rc |= lc_sse_feed(&p, STREAM + cut1, cut2 - cut1, collect, &c, &err);
            rc |= lc_sse_feed(&p, STREAM + cut2, len - cut2, collect, &c, &err);
            if (rc != 0 || strcmp(c.all, EXPECTED) != 0) {
                CHECK_MSG(0, "split at %zu/%zu: rc %d, got %s", cut1, cut2, rc, c.all);
                lc_sse_free(&p);
                return;
            }
            CHECK(!lc_sse_pending(&p));
            lc_sse_free(&p);
        }
    }
    CHECK(1);
}

static int stop_at_second(void *user, const char *data, size_t len, bool is_error)
{
    (void)data; (void)len; (void)is_error;
    return ++*(int *)user == 2 ? 5 : 0;
}

static void test_stop_and_pending(void)
{
    inf_error err = {0};
    lc_sse p;
    lc_sse_init(&p);
    int count = 0;
    CHECK(lc_sse_feed(&p, "data: a\n\ndata: b\n\ndata: c\n\n", 27, stop_at_second, &count, &err) == 5);
    CHECK(count == 2);
    lc_sse_free(&p);

    lc_sse_init(&p);
    collected c = {"", 0};
    CHECK(lc_sse_feed(&p, "data: {\"a\":1}\n", 15, collect, &c, &err) == 0);
    CHECK(c.n == 0 && lc_sse_pending(&p)); /* no blank line yet: the event is unfinished */
    lc_sse_free(&p);
    lc_sse_init(&p);
    CHECK(lc_sse_feed(&p, "data: {\"a", 9, collect, &c, &err) == 0);
    CHECK(lc_sse_pending(&p));
    lc_sse_free(&p);
}

static int count_only(void *user, const char *data, size_t len, bool is_error)
{
    (void)data; (void)is_error;
    *(size_t *)user += len + 1; /* events may hold any bytes, NUL included */
    return 0;
}

static void test_limits_and_noise(void)
{
    inf_error err = {0};
    lc_sse p;
    lc_sse_init(&p);
    collected c = {"", 0};
    /* A line longer than the limit is an error, not unbounded memory. */
    size_t big = LC_SSE_MAX_LINE + 16;
    char *b = malloc(big);
    memset(b, 'x', big);
    memcpy(b, "data: ", 6);
    CHECK(lc_sse_feed(&p, b, big, collect, &c, &err) == -1);
    CHECK(strstr(err.message, "exceeds") != NULL);
    free(b);
    lc_sse_free(&p);

    uint64_t s = 88172645463325252ull;
    for (int round = 0; round < 200; round++) {
        char buf[512];
        for (size_t i = 0; i < sizeof buf; i++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            static const char pool[] = "data: \r\n:error{}";
            buf[i] = (s & 1) ? pool[(s >> 8) % (sizeof pool - 1)] : (char)(s >> 16);
        }
        lc_sse_init(&p);
        size_t seen = 0;
        int rc = lc_sse_feed(&p, buf, sizeof buf, count_only, &seen, &err);
        CHECK(rc == 0 && seen <= sizeof buf);
        lc_sse_free(&p);
    }
}

int main(void)
{
    test_whole_and_split();
    test_stop_and_pending();
    test_limits_and_noise();
    return TEST_DONE();
}

#else
int main(void)
{
    (void)test_passed_count;
    (void)test_failed_count;
    TEST_FAIL("built without libcurl");
}
#endif
