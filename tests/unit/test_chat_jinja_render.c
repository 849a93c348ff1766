/* test_chat_jinja_render.c - every construct of the Jinja interpreter on a fixed
 * context, with the outputs (or the error) that @huggingface/jinja gives.
 * The expectations were produced by running the reference on each template
 * (TZ=UTC, strftime_now at 2025-07-09 14:05:33 UTC); the differential test
 * (tests/scripts/test_chat_jinja_reference.sh) covers the same ground far more
 * widely when Node is available. */
#include "test_util.h"
#include "chat/jinja/jinja.h"

#define NOW 1752069933LL /* 2025-07-09 14:05:33 UTC */

static const char *CONTEXT = "{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"Hi\\nthere\"}, {\"role\": \"assistant\", \"content\": \" A \"}], \"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"add_generation_prompt\": true, \"d\": {\"b\": 2, \"a\": 1}, \"l\": [3, 1, 2], \"s\": \"Hello World\", \"f\": 1.5, \"n\": null}";

static const struct { const char *name, *src, *out, *err; } CASES[] = {
    {"plain text", "Hello", "Hello", NULL},
    {"trailing newline dropped", "Hello\n", "Hello", NULL},
    {"comment", "a{# c #}b", "ab", NULL},
    {"ws minus both", "a  {{- 'b' -}}  c", "abc", NULL},
    {"ws stmt minus", "a\n  {%- if true -%}\n  b\n  {%- endif -%}\n  c", "abc", NULL},
    {"trim_blocks", "{% if true %}\nx\n{% endif %}\ny", "x\ny", NULL},
    {"lstrip_blocks", "  {% if true %}x{% endif %}\n  {{ 'y' }}", "x  y", NULL},
    {"comment ws", "a {#- c -#} b", "ab", NULL},
    {"generation tag", "{% generation %}x{% endgeneration %}", "x", NULL},
    {"int", "{{ 42 }}|{{ -7 }}|{{ 007 }}", "42|-7|7", NULL},
    {"float", "{{ 1.5 }}|{{ 2.0 }}|{{ -0.0 }}|{{ 1/3 }}|{{ 0.1 + 0.2 }}|{{ 10 ** 21 * 1.0 }}|{{ 10 / 2 }}", "1.5|2.0|-0.0|0.3333333333333333|0.30000000000000004|1e+21|5.0", NULL},
    {"bool none", "{{ true }}|{{ false }}|{{ none }}|{{ True }}|{{ None }}|[{{ undefined_var }}]", "true|false||true||[]", NULL},
    {"string escapes", "{{ 'a\\tb\\n' }}|{{ \"q'\" }}|{{ '\\u00e9\\x41' }}|{{ 'a' 'b' }}", "a\tb\n|q'|éA|ab", NULL},
    {"list dict tuple print", "{{ [1, 'a', none, true, 2.5] }}|{{ {'k': [1], 'j': {}} }}|{{ [] }}|{{ {} }}", "[1, \"a\", null, true, 2.5]|{\"k\": [1], \"j\": {}}|[]|{}", NULL},
    {"json context numbers", "{{ f }}|{{ n }}|{{ d }}|{{ l }}", "1.5||{\"b\": 2, \"a\": 1}|[3, 1, 2]", NULL},
    {"arith", "{{ 7 + 2 }}|{{ 7 - 2 }}|{{ 7 * 2 }}|{{ 7 / 2 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % 3 }}|{{ -7 % 3 }}|{{ 2 ** 10 }}|{{ 2 ** -1 }}|{{ 2 * 1.5 }}", "9|5|14|3.5|3|-4|1|-1|1024|0.5|3.0", NULL},
    {"concat", "{{ 'a' ~ 1 ~ 2.0 ~ true }}|{{ 'a' + 'b' }}|{{ 'n' + 1 }}|{{ [1] + [2, 3] }}", "a12true|ab|n1|[1, 2, 3]", NULL},
    {"compare", "{{ 1 < 2 }}{{ 2 <= 2 }}{{ 3 > 4 }}{{ 1 == 1.0 }}{{ '1' == 1 }}{{ 'a' != 'b' }}{{ none == undefined_var }}", "truetruefalsetruetruetruetrue", NULL},
    {"in", "{{ 'a' in 'cat' }}{{ 2 in l }}{{ 'b' in d }}{{ 'z' not in d }}{{ 5 in undefined_var }}", "truetruetruetruefalse", NULL},
    {"logic", "{{ 1 and 'x' }}|{{ 0 and 'x' }}|{{ '' or 'y' }}|{{ not [] }}|{{ not d }}|{{ none or 0 }}", "x|0|y|true|false|0", NULL},
    {"ternary select", "{{ 'y' if l else 'n' }}|{{ 'y' if [] else 'n' }}|[{{ 'y' if false }}]|{{ 'a' if false else 'b' if true else 'c' }}", "y|n|[]|b", NULL},
    {"unary", "{{ -(3) }}|{{ +5 }}|{{ -1.5 }}|{{ - true }}", "-3|5|-1.5|-1", NULL},
    {"precedence", "{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 2 ** 3 ** 2 }}|{{ -3|abs }}|{{ not 1 == 2 }}|{{ 1 + 1 is even }}", NULL, "Unknown operator \"+\" between IntegerValue and BooleanValue"},
    {"member", "{{ messages[1].role }}|{{ messages[1]['content'] }}|{{ messages[-1].content }}|{{ d.a }}|{{ l.0 }}|[{{ d.zz }}]|[{{ d.zz.yy }}]", "user|Hi\nthere| A |1|3|[]|[]", NULL},
    {"slices", "{{ l[1:] }}|{{ l[:2] }}|{{ l[::-1] }}|{{ l[-2:] }}|{{ s[0:5] }}|{{ s[::-1] }}|{{ s[-5:] }}|{{ 'héllo'[1:3] }}", "[1, 2]|[3, 1]|[2, 1, 3]|[1, 2]|Hello|dlroW olleH|World|él", NULL},
    {"string index", "{{ s[0] }}{{ s[-1] }}[{{ s[99] }}]", "Hd[]", NULL},
    {"if elif else", "{% for v in [0, 1, 2] %}{% if v == 0 %}a{% elif v == 1 %}b{% else %}c{% endif %}{% endfor %}", "abc", NULL},
    {"for loop vars", "{% for x in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }};{% endfor %}", "1032truefalse31;2121falsefalse332;3210falsetrue31;", NULL},
    {"for else", "{% for x in [] %}x{% else %}empty{% endfor %}", "empty", NULL},
    {"for filter", "{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }} {% endfor %}", "1:user 2:assistant ", NULL},
    {"for dict", "{% for k in d %}{{ k }}{% endfor %}|{% for k, v in d.items() %}{{ k }}={{ v }} {% endfor %}", "ba|b=2 a=1 ", NULL},
    {"for break continue", "{% for x in [1, 2, 3, 4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", "13", NULL},
    {"break drops iteration output", "{% for x in [1, 2] %}a{% if x == 2 %}{% break %}{% endif %}b{% endfor %}", "ab", NULL},
    {"nested loops", "{% for a in [1, 2] %}{% for b in ['x', 'y'] %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}", "1x1 1y2 1|2x1 2y2 2|", NULL},
    {"loop scope", "{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}", "1", NULL},
    {"set", "{% set a = 5 %}{% set b, c = 1, 2 %}{{ a }}{{ b }}{{ c }}", "512", NULL},
    {"set block", "{% set x %}Hi {{ 'there' }}{% endset %}[{{ x }}]", "[Hi there]", NULL},
    {"namespace", "{% set ns = namespace(n=0, found=false) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}{{ ns.found }}|{{ ns }}", "3false|{\"n\": 3, \"found\": false}", NULL},
    {"macro", "{% macro g(name, p='Hi') %}{{ p }} {{ name }}{% endmacro %}{{ g('A') }}|{{ g('B', 'Yo') }}|{{ g(p='Hey', name='C') }}", "Hi A|Yo B|Hey C", NULL},
    {"macro kwargs varargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k=4) }}", "1[2, 3]{\"k\": 4}", NULL},
    {"macro recursion", "{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}", "321", NULL},
    {"macro sees caller scope", "{% macro m() %}{{ x }}{% endmacro %}{% for x in ['v'] %}{{ m() }}{% endfor %}", "v", NULL},
    {"call block", "{% macro w(t) %}<{{ t }}>{{ caller() }}</{{ t }}>{% endmacro %}{% call w('b') %}x{% endcall %}", "<b>x</b>", NULL},
    {"call block args", "{% macro e(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(v) e([1, 2]) %}({{ v }}){% endcall %}", "(1)(2)", NULL},
    {"filter block", "{% filter upper %}abc{% endfilter %}", "ABC", NULL},
    {"filters string", "{{ '  x  '|trim }}|{{ s|upper }}|{{ s|lower }}|{{ 'hello world'|title }}|{{ 'hELLO'|capitalize }}|{{ s|length }}|{{ s|replace('o', '0') }}|{{ 'a\\nb'|indent(2) }}|{{ 'a\\nb'|indent(2, first=true) }}", "x|HELLO WORLD|hello world|Hello World|HELLO|11|Hell0 W0rld|a\n  b|  a\n  b", NULL},
    {"filters list", "{{ l|first }}{{ l|last }}{{ l|length }}|{{ l|sort }}|{{ l|sort(reverse=true) }}|{{ l|reverse }}|{{ l|join(',') }}|{{ [1, 1, 2]|unique }}|{{ l|list }}|{{ l|string }}", "323|[1, 2, 3]|[3, 2, 1]|[2, 1, 3]|3,1,2|[1, 2]|[3, 1, 2]|[3, 1, 2]", NULL},
    {"filters dict", "{{ d|items }}|{{ d|dictsort }}|{{ d|length }}|{{ d|tojson }}|{{ d|keys }}|{{ d|values }}", "[[\"b\", 2], [\"a\", 1]]|[[\"a\", 1], [\"b\", 2]]|2|{\"b\": 2, \"a\": 1}|[\"b\", \"a\"]|[2, 1]", NULL},
    {"filters numbers", "{{ -3|abs }}|{{ 2.7|int }}|{{ '42'|int }}|{{ 'x'|int(7) }}|{{ 3|float }}|{{ '2.5'|float }}|{{ 5|string }}", "3|2|42|7|3.0|2.5|5", NULL},
    {"default", "{{ undefined_var|default('d') }}|{{ ''|default('d') }}|{{ ''|default('d', true) }}|{{ none|default('d') }}|{{ 0|default(5, boolean=true) }}", "d||d||5", NULL},
    {"tojson", "{{ messages[1]|tojson }}|{{ {'a': [1, {'b': none}]}|tojson(indent=2) }}|{{ 'é'|tojson }}|{{ 'é'|tojson(ensure_ascii=true) }}|{{ d|tojson(sort_keys=true) }}|{{ [1, 2]|tojson(separators=(',', ':')) }}", "{\"role\": \"user\", \"content\": \"Hi\\nthere\"}|{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ]\n}|\"é\"|\"\\u00e9\"|{\"a\": 1, \"b\": 2}|[1,2]", NULL},
    {"map select", "{{ messages|map(attribute='role')|join(',') }}|{{ messages|selectattr('role', 'equalto', 'user')|list|length }}|{{ messages|rejectattr('role', 'equalto', 'user')|map(attribute='content')|list }}", "system,user,assistant|1|[\"S\", \" A \"]", NULL},
    {"safe", "{{ '<b>'|safe }}", "<b>", NULL},
    {"tests", "{{ 1 is number }}{{ 1 is integer }}{{ 'a' is string }}{{ d is mapping }}{{ l is iterable }}{{ l is sequence }}{{ none is none }}{{ true is boolean }}{{ true is true }}{{ false is false }}{{ 3 is odd }}{{ 4 is even }}{{ x is defined }}{{ x is undefined }}{{ 'ab' is lower }}{{ 'AB' is upper }}{{ range is callable }}{{ s is not string }}", "truetruetruetruetruetruetruetruetruetruetruetruefalsetruetruetruetruefalse", NULL},
    {"methods", "{{ '  a  '.strip() }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}|{{ s.startswith('He') }}|{{ s.endswith(('x', 'ld')) }}|{{ 'a,b,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}|{{ ' a  b '.split() }}|{{ s.replace('l', 'L', 2) }}|{{ s.upper() }}|{{ s.lower() }}|{{ 'ab cd'.title() }}|{{ 'ab'.capitalize() }}", "a|a|a|true|true|[\"a\", \"b\", \"c\"]|[\"a\", \"b,c\"]|[\"a\", \"b\"]|HeLLo World|HELLO WORLD|hello world|Ab Cd|Ab", NULL},
    {"dict methods", "{{ d.get('a') }}|{{ d.get('z', 9) }}|{{ d.get('z') }}|{{ d.items() }}|{{ d.keys() }}|{{ d.values() }}", "1|9||[[\"b\", 2], [\"a\", 1]]|[\"b\", \"a\"]|[2, 1]", NULL},
    {"range", "{{ range(3) }}|{{ range(1, 4) }}|{{ range(10, 0, -3) }}", "[0, 1, 2]|[1, 2, 3]|[10, 7, 4, 1]", NULL},
    {"strftime_now", "{{ strftime_now('%Y-%m-%d %H:%M %b %B') }}", "2025-07-09 14:05 Jul July", NULL},
    {"chat", "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>\n{{ m.content|trim }}<|end|>\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}", "<s><|system|>\nS<|end|>\n<|user|>\nHi\nthere<|end|>\n<|assistant|>\nA<|end|>\n<|assistant|>\n", NULL},
    {"err raise", "{{ raise_exception('Only user and assistant roles are supported!') }}", NULL, "Only user and assistant roles are supported!"},
    {"err unknown filter", "{{ 1|nosuch }}", NULL, "Unknown NumericValue filter: nosuch"},
    {"err unknown test", "{{ 1 is nosuch }}", NULL, "Unknown test: nosuch"},
    {"err undefined op", "{{ undefined_var + 1 }}", NULL, "Cannot perform operation + on undefined values"},
    {"err call non function", "{{ d() }}", NULL, "Cannot call something that is not a function: got ObjectValue"},
    {"err for non iterable", "{% for x in 5 %}{% endfor %}", NULL, "Expected iterable or object type in for loop: got IntegerValue"},
    {"err tuple print", "{{ (1, 2) }}", NULL, "Cannot convert to JSON: TupleValue"},
    {"err break outside loop", "{% break %}", NULL, ""},
    {"err macro extra kwarg", "{% macro m() %}{% endmacro %}{{ m(a=1) }}", NULL, "macro 'm' takes no keyword argument 'a'"},
};

int main(void)
{
    inf_error err = {0};
    struct jinja_value *ctx = jinja_value_from_json(CONTEXT, strlen(CONTEXT), &err);
    CHECK_MSG(ctx != NULL, "context: %s", err.message);
    struct jinja_options opts;
    jinja_options_init(&opts);
    opts.now = NOW;
    opts.now_utc = 1;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct jinja_template *t = NULL;
        int rc = jinja_parse(CASES[i].src, strlen(CASES[i].src), &opts, &t, &err);
        CHECK_MSG(rc == 0, "%s: parse: %s", CASES[i].name, err.message);
        if (rc) continue;
        char *out = NULL;
        size_t len = 0;
        rc = jinja_render(t, ctx, &out, &len, &err);
        if (CASES[i].out) {
            CHECK_MSG(rc == 0 && len == strlen(CASES[i].out) && memcmp(out, CASES[i].out, len) == 0,
                      "%s: got [%s] (%s), want [%s]", CASES[i].name, rc ? "" : out, rc ? err.message : "ok", CASES[i].out);
        } else {
            CHECK_MSG(rc != 0 && out == NULL && strstr(err.message, CASES[i].err), "%s: want error [%s], got rc %d [%s]",
                      CASES[i].name, CASES[i].err, rc, rc ? err.message : out);
        }
        free(out);
        jinja_template_free(t);
    }
    jinja_value_free(ctx);
    return TEST_DONE();
}
