/* test_chat_jinja_api.c - the Jinja module's API: syntax errors naming line and
 * column, render errors, raise_exception's message as the error text, the
 * limits (loops, depth, output, memory) a hostile template runs into, values
 * built from JSON and by hand, strftime_now's time, and rendering one parsed
 * template from several threads at once. */
#include "test_util.h"
#include "chat/jinja/jinja.h"

#include <pthread.h>

static struct jinja_template *parse_ok(const char *src, const struct jinja_options *o)
{
    inf_error err = {0};
    struct jinja_template *t = NULL;
    int rc = jinja_parse(src, strlen(src), o, &t, &err);
    CHECK_MSG(rc == 0 && t, "parse [%s]: %s", src, err.message);
    return rc ? NULL : t;
}

/* Renders src with the JSON context; returns the output (malloc'd) or NULL
 * with the error in err. */
static char *render(const char *src, const char *json, const struct jinja_options *o, inf_error *err)
{
    struct jinja_template *t = NULL;
    if (jinja_parse(src, strlen(src), o, &t, err)) return NULL;
    struct jinja_value *ctx = json ? jinja_value_from_json(json, strlen(json), err) : NULL;
    char *out = NULL;
    if (jinja_render(t, ctx, &out, NULL, err)) out = NULL;
    jinja_value_free(ctx);
    jinja_template_free(t);
    return out;
}

static void expect_out(const char *src, const char *json, const char *want)
{
    inf_error err = {0};
    char *out = render(src, json, NULL, &err);
    CHECK_MSG(out && strcmp(out, want) == 0, "[%s]: got [%s] (%s), want [%s]", src, out ? out : "", err.message, want);
    free(out);
}

static void expect_err(const char *src, const char *json, const struct jinja_options *o, const char *want)
{
    inf_error err = {0};
    char *out = render(src, json, o, &err);
    CHECK_MSG(!out && strstr(err.message, want), "[%.60s]: want error containing [%s], got [%s]", src, want, out ? out : err.message);
    free(out);
}

static void test_syntax_errors(void)
{
    static const struct { const char *src, *msg; } cases[] = {
        {"line1\n{{ x ! }}", "syntax error at line 2, column 6: Unexpected character: !"},
        {"{% if true %}\nx", "syntax error at line 2, column 2: unexpected end of template, expected {% endif %}"},
        {"{{ 'abc }}", "syntax error at line 1, column 11: Unexpected end of input"},
        {"{% for x in y %}{% endif %}", "syntax error at line 1, column 20: Unknown statement type: endif (expected {% endfor %})"},
        {"{# abc", "syntax error at line 1, column 1: Missing end of comment tag"},
        {"a\n\n  {% set %}", "syntax error at line 3, column 10: Unexpected token: CloseStatement"},
        {"{% macro m(a=1, b) %}{% endmacro %}", "Non-default argument follows default argument"},
        {"{% raw %}x{% endraw %}", "Unknown statement type: raw"},
        {"{{ '\\q' }}", "Unexpected escaped character: q"},
        {"{{ 1 is divisibleby(3) }}", "Expected closing expression token"},
        {"h\xc3\xa9llo {{ x ~ }}", "line 1, column 14: Unexpected token: CloseExpression"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        inf_error err = {0};
        struct jinja_template *t = NULL;
        int rc = jinja_parse(cases[i].src, strlen(cases[i].src), NULL, &t, &err);
        CHECK_MSG(rc == -1 && !t && strstr(err.message, cases[i].msg), "[%s]: got [%s], want [%s]", cases[i].src, err.message, cases[i].msg);
    }
    /* the error says what it is */
    inf_error small = {0};
    struct jinja_template *t = NULL;
    CHECK(jinja_parse("{{", 2, NULL, &t, &small) == -1 && small.status == INF_ERR_TEMPLATE &&
          strstr(small.message, "syntax error at line 1"));
    CHECK(jinja_parse("{{", 2, NULL, &t, NULL) == -1);
    /* nesting beyond max_depth is a syntax error, not a stack overflow */
    size_t n = 200000;
    char *deep = malloc(2 * n + 8);
    memcpy(deep, "{{ ", 3);
    for (size_t i = 0; i < n; i++) deep[3 + i] = '(';
    deep[3 + n] = '1';
    for (size_t i = 0; i < n; i++) deep[4 + n + i] = ')';
    memcpy(deep + 4 + 2 * n, " }}", 4);
    inf_error err = {0};
    CHECK(jinja_parse(deep, strlen(deep), NULL, &t, &err) == -1 && strstr(err.message, "nested too deeply"));
    /* a long chain of operators (a deep tree built by a loop) is refused too */
    char *chain = malloc(4 * n + 16);
    size_t k = 0;
    k += (size_t)sprintf(chain, "{{ 1");
    for (size_t i = 0; i < n; i++) k += (size_t)sprintf(chain + k, "+1");
    sprintf(chain + k, " }}");
    CHECK(jinja_parse(chain, strlen(chain), NULL, &t, &err) == -1 && strstr(err.message, "nested too deeply"));
    free(chain);
    free(deep);
}

static void test_render_errors(void)
{
    /* raise_exception's message is the whole error text */
    inf_error err = {0};
    char *out = render("{% if messages|length == 0 %}{{ raise_exception('No messages given!') }}{% endif %}",
                       "{\"messages\": []}", NULL, &err);
    CHECK(out == NULL);
    CHECK_STREQ(err.message, "No messages given!");
    /* other errors name the line and column */
    expect_err("ok\n{{ 1 + undefined_var }}", "{}", NULL, "Cannot perform operation + on undefined values (line 2, column 6)");
    expect_err("{{ x }}", "[1, 2]", NULL, "the context must be a dict");
    expect_err("{{ true }}", "{\"true\": 1}", NULL, "Variable already declared: true");
    expect_err("{% for x in 'abc' %}{% endfor %}", "{}", NULL, "Expected iterable or object type in for loop: got StringValue");
    expect_err("{{ [1]|round }}", "{}", NULL, "Unknown ArrayValue filter: round");
    expect_err("{% continue %}", "{}", NULL, "'continue' outside of a loop");
    /* a failed render leaves *out NULL; the template stays usable */
    struct jinja_template *t = parse_ok("{{ 10 // n }}", NULL);
    if (t) {
        char *o = (char *)1;
        struct jinja_value *bad = jinja_value_from_json("{\"n\": \"x\"}", 10, &err);
        CHECK(jinja_render(t, bad, &o, NULL, &err) == -1 && o == NULL);
        struct jinja_value *good = jinja_value_from_json("{\"n\": 3}", 8, &err);
        size_t len = 0;
        CHECK(jinja_render(t, good, &o, &len, &err) == 0 && len == 1 && strcmp(o, "3") == 0);
        free(o);
        jinja_value_free(bad);
        jinja_value_free(good);
        jinja_template_free(t);
    }
}

static void test_limits(void)
{
    struct jinja_options o;
    jinja_options_init(&o);
    CHECK(o.max_depth == JINJA_DEFAULT_MAX_DEPTH && o.max_loop_iterations == JINJA_DEFAULT_MAX_LOOP_ITERATIONS);
    o.max_loop_iterations = 1000;
    expect_err("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}", "{}", &o,
               "loop iteration limit exceeded (max_loop_iterations=1000)");
    expect_err("{{ range(1000000000)|length }}", "{}", &o, "loop iteration limit exceeded");
    jinja_options_init(&o);
    o.max_depth = 50;
    expect_err("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "{}", &o, "recursion depth limit exceeded (max_depth=50)");
    expect_err("{% set ns = namespace() %}{% set ns.self = ns %}{{ ns }}", "{}", NULL, "recursion depth limit exceeded");
    jinja_options_init(&o);
    o.max_output_bytes = 1000;
    expect_err("{% for i in range(200) %}0123456789{% endfor %}", "{}", &o, "output size limit exceeded (max_output_bytes=1000)");
    expect_err("{% set ns = namespace(s='x') %}{% for i in range(30) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "{}", &o,
               "output size limit exceeded");
    jinja_options_init(&o);
    o.max_memory_bytes = 4 << 20;
    expect_err("{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}", "{}", &o,
               "memory limit exceeded (max_memory_bytes=4194304)");
    /* an infinite loop through recursion and loops together still ends */
    jinja_options_init(&o);
    o.max_loop_iterations = 10000;
    expect_err("{% macro f() %}{% for i in range(10) %}{{ f() }}{% endfor %}{% endmacro %}{{ f() }}", "{}", &o, "limit exceeded");
    /* within the limits all is well */
    jinja_options_init(&o);
    inf_error err = {0};
    char *out = render("{% for i in range(3) %}{{ i }}{% endfor %}", "{}", &o, &err);
    CHECK(out && strcmp(out, "012") == 0);
    free(out);
}

static void test_values(void)
{
    inf_error err = {0};
    /* JavaScript's key order: integer-like keys first, ascending */
    expect_out("{% for k in d %}{{ k }},{% endfor %}", "{\"d\": {\"b\": 1, \"2\": 2, \"a\": 3, \"1\": 4, \"01\": 5}}", "1,2,b,a,01,");
    /* a repeated key keeps its first place and its last value */
    expect_out("{{ d }}", "{\"d\": {\"a\": 1, \"b\": 2, \"a\": 3}}", "{\"a\": 3, \"b\": 2}");
    /* numbers without a fraction are integers, as JSON.parse gives them */
    expect_out("{{ a }} {{ b }} {{ c }} {{ a is integer }}", "{\"a\": 1.0, \"b\": 2.5, \"c\": 1e3}", "1 2.5 1000 true");
    /* non-ASCII and escapes survive */
    expect_out("{{ s }}|{{ s|length }}|{{ s|tojson }}", "{\"s\": \"\\u00e9\\ud83d\\ude00\\n\"}", "\xc3\xa9\xf0\x9f\x98\x80\n|4|\"\xc3\xa9\xf0\x9f\x98\x80\\n\"");
    CHECK(jinja_value_from_json("{\"a\": ", 6, &err) == NULL && strstr(err.message, "invalid JSON"));

    /* built by hand */
    struct jinja_value *ctx = jinja_value_dict();
    struct jinja_value *msgs = jinja_value_list();
    struct jinja_value *m = jinja_value_dict();
    CHECK(jinja_value_dict_set(m, "role", jinja_value_string("user", 4)) == 0);
    CHECK(jinja_value_dict_set(m, "content", jinja_value_string("hi", 2)) == 0);
    CHECK(jinja_value_list_append(msgs, m) == 0);
    CHECK(jinja_value_dict_set(ctx, "messages", msgs) == 0);
    CHECK(jinja_value_dict_set(ctx, "n", jinja_value_int(3)) == 0);
    CHECK(jinja_value_dict_set(ctx, "x", jinja_value_float(0.5)) == 0);
    CHECK(jinja_value_dict_set(ctx, "flag", jinja_value_bool(1)) == 0);
    CHECK(jinja_value_dict_set(ctx, "nothing", jinja_value_none()) == 0);
    CHECK(jinja_value_dict_set(ctx, "n", jinja_value_int(4)) == 0); /* replaces */
    CHECK(jinja_value_list_append(ctx, jinja_value_int(1)) == -1);  /* not a list: the item is freed */
    CHECK(jinja_value_dict_get(ctx, "messages") != NULL && jinja_value_dict_get(ctx, "zz") == NULL);
    struct jinja_template *t = parse_ok("{{ messages[0].role }}:{{ messages[0].content }} {{ n }} {{ x }} {{ flag }} {{ nothing is none }}", NULL);
    char *out = NULL;
    CHECK(t && jinja_render(t, ctx, &out, NULL, &err) == 0 && strcmp(out, "user:hi 4 0.5 true true") == 0);
    free(out);
    /* no context at all */
    CHECK(t && jinja_render(t, NULL, &out, NULL, &err) == -1);
    jinja_template_free(t);
    jinja_value_free(ctx);
}

static void test_time(void)
{
    struct jinja_options o;
    jinja_options_init(&o);
    o.now = 1752069933; /* 2025-07-09 14:05:33 UTC */
    o.now_utc = 1;
    struct jinja_template *t = parse_ok("{{ strftime_now('%d %b %Y, %B %m %H:%M %% %A') }}", &o);
    inf_error err = {0};
        char *out = NULL;
    CHECK(t && jinja_render(t, NULL, &out, NULL, &err) == 0);
    CHECK_STREQ(out, "09 Jul 2025, July 07 14:05 % %A");
    free(out);
    /* the time can be given per render */
    CHECK(t && jinja_render_at(t, NULL, 1735689600 /* 2025-01-01 00:00 UTC */, &out, NULL, &err) == 0);
    CHECK_STREQ(out, "01 Jan 2025, January 01 00:00 % %A");
    free(out);
    jinja_template_free(t);
}

/* One parsed template, one shared context, many threads. */
struct job { const struct jinja_template *t; const struct jinja_value *ctx; const char *want; int bad; };

static void *worker(void *arg)
{
    struct job *j = arg;
    for (int i = 0; i < 200; i++) {
        inf_error err = {0};
        char *out = NULL;
        if (jinja_render(j->t, j->ctx, &out, NULL, &err) || strcmp(out, j->want) != 0) j->bad++;
        free(out);
    }
    return NULL;
}

static void test_threads(void)
{
    const char *src =
        "{%- set ns = namespace(n=0) -%}{{ bos_token }}"
        "{%- for m in messages %}{% set ns.n = ns.n + 1 %}<|{{ m.role }}|>{{ m.content|trim }}{{ m|tojson }}{% if not loop.last %}\n{% endif %}{% endfor %}"
        "{%- macro f(x) %}[{{ x|upper }}]{% endmacro %}{{ f('done') }}{{ ns.n }}{% for i in range(50) %}{{ i }}{% endfor %}";
    const char *json = "{\"bos_token\": \"<s>\", \"messages\": [{\"role\": \"user\", \"content\": \" a \"}, {\"role\": \"assistant\", \"content\": \"b\"}]}";
    inf_error err = {0};
    struct jinja_template *t = parse_ok(src, NULL);
    struct jinja_value *ctx = jinja_value_from_json(json, strlen(json), &err);
    char *want = NULL;
    CHECK(t && ctx && jinja_render(t, ctx, &want, NULL, &err) == 0);
    if (!want) return;
    enum { N = 8 };
    pthread_t th[N];
    struct job jobs[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = (struct job){t, ctx, want, 0};
        pthread_create(&th[i], NULL, worker, &jobs[i]);
    }
    int bad = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        bad += jobs[i].bad;
    }
    CHECK_MSG(bad == 0, "%d renders from threads differed", bad);
    free(want);
    jinja_value_free(ctx);
    jinja_template_free(t);
}

int main(void)
{
    test_syntax_errors();
    test_render_errors();
    test_limits();
    test_values();
    test_time();
    test_threads();
    return TEST_DONE();
}
