/* test_chat_jinja_hostile.c - hostile chat templates against the Jinja parser
 * and renderer (src/text/jinja): endless recursion, loop and output bombs,
 * memory bombs, absurd nesting. A chat template comes from the model file,
 * i.e. from the internet: each must end with a clear error naming the limit
 * it hit, quickly and without a crash (no C stack overflow), under ASan. */
#include "chat/jinja/jinja.h"
#include "test_util.h"

#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Parses and renders src with the default limits (or with opts); the
 * render must fail (or the parse) with want in the message, within secs. */
static void expect_error(const char *what, const char *src, size_t len, const struct jinja_options *opts,
                         const char *want, double secs)
{
    inf_error err = {0};
    struct jinja_template *t = NULL;
    double t0 = now_s();
    int rc = jinja_parse(src, len, opts, &t, &err);
    if (rc == 0) {
        struct jinja_value *ctx = jinja_value_dict();
        jinja_value_dict_set(ctx, "x", jinja_value_string("abc", 3));
        char *out = NULL;
        rc = jinja_render(t, ctx, &out, NULL, &err);
        CHECK_MSG(rc != 0 || out == NULL || strlen(out) < 64u << 20, "%s: output beyond the limit", what);
        free(out);
        jinja_value_free(ctx);
        jinja_template_free(t);
    }
    double dt = now_s() - t0;
    CHECK_MSG(rc != 0, "%s: rendered without error", what);
    CHECK_MSG(err.message[0] != 0, "%s: no message", what);
    if (want) CHECK_MSG(strstr(err.message, want) != NULL, "%s: message '%s' lacks '%s'", what, err.message, want);
    CHECK_MSG(dt < secs, "%s: took %.1f s", what, dt);
    printf("%-28s -> %s (%.2f s)\n", what, err.message, dt);
}

static void expect_error_s(const char *what, const char *src, const char *want, double secs)
{
    expect_error(what, src, strlen(src), NULL, want, secs);
}

/* head, then n copies of piece, then tail. */
static char *repeat(const char *head, const char *piece, size_t n, const char *tail)
{
    size_t hl = strlen(head), pl = strlen(piece), tl = strlen(tail);
    char *s = malloc(hl + pl * n + tl + 1);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++) memcpy(s + hl + i * pl, piece, pl);
    memcpy(s + hl + pl * n, tail, tl + 1);
    return s;
}

int main(void)
{
    /* recursion that never ends: macro calling itself, directly and mutually */
    expect_error_s("self-recursive macro", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "depth", 20);
    expect_error_s("mutual recursion",
                   "{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}", "depth", 20);
    expect_error_s("recursion via caller",
                   "{% macro f() %}{{ caller() }}{% endmacro %}{% call f() %}{{ f() }}{% endcall %}", NULL, 20);
    /* loops and output */
    expect_error_s("loop bomb", "{% for i in range(1000000000) %}{% endfor %}", "loop", 30);
    expect_error_s("nested loop bomb",
                   "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "loop", 30);
        /* 200,000 x 400 bytes = 80 MB, over the 64 MiB output limit */
    char *line = repeat("{% for i in range(200000) %}{{ '", "0123456789", 40, "' }}{% endfor %}");
    expect_error_s("output bomb", line, "output", 60);
    free(line);
    expect_error_s("doubling bomb",
                   "{% set ns = namespace(s='xx') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
                   NULL, 30);
    expect_error_s("list bomb",
                   "{% set ns = namespace(l=[1,2]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l | length }}",
                   NULL, 30);
    /* absurd nesting at parse time: must be refused, not overflow the C stack */
    char *deep = repeat("{{ ", "(", 200000, "1");
    expect_error("deep parentheses", deep, strlen(deep), NULL, NULL, 20);
    free(deep);
    char *tail = repeat("1", ")", 200000, " }}");
    deep = repeat("{{ ", "(", 200000, tail);
    expect_error("balanced deep parentheses", deep, strlen(deep), NULL, NULL, 20);
    free(deep);
    free(tail);
    deep = repeat("{{ ", "-", 200000, "1 }}");
    expect_error("deep unary minus", deep, strlen(deep), NULL, NULL, 20);
    free(deep);
    deep = repeat("{{ x", ".a", 200000, " }}");
    expect_error("long attribute chain", deep, strlen(deep), NULL, NULL, 20);
    free(deep);
    deep = repeat("", "{% if true %}", 100000, "x");
    expect_error("deep if blocks", deep, strlen(deep), NULL, NULL, 20);
    free(deep);
    deep = repeat("{{ ", "[", 200000, "");
    expect_error("deep list literal", deep, strlen(deep), NULL, NULL, 20);
    free(deep);
    deep = repeat("{{ x", "|trim", 200000, " }}");
    expect_error("long filter chain", deep, strlen(deep), NULL, NULL, 20);
    free(deep);
    /* raise_exception is an error whose text is the message */
    expect_error_s("raise_exception", "{{ raise_exception('no system role') }}", "no system role", 5);
    /* tighter limits are honoured */
    struct jinja_options o;
    jinja_options_init(&o);
    o.max_loop_iterations = 100;
    const char *l = "{% for i in range(101) %}.{% endfor %}";
    expect_error("loop limit 100", l, strlen(l), &o, "loop", 5);
    jinja_options_init(&o);
    o.max_output_bytes = 1000;
    const char *w = "{% for i in range(201) %}hello{% endfor %}";
    expect_error("output limit 1000", w, strlen(w), &o, NULL, 5);
    return TEST_DONE();
}
