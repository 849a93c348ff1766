/* tests.c - the `is` tests of @huggingface/jinja (Environment.TESTS). Only
 * these exist; `x is divisibleby(3)` and other tests taking arguments are a
 * syntax error there, and so here. */
#include "jinja_internal.h"

#include <math.h>
#include <string.h>

static int eq(const char *a, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(a, lit, n) == 0;
}

static _Noreturn void type_error(struct jrender *r)
{
    jr_fail(r, "TypeError: Cannot read properties of undefined (reading 'type')");
}

/* Sets *ok = 0 for an unknown test. args[0] is the operand; args[1] the
 * argument (equalto), when given. */
int jj_run_test(struct jrender *r, const char *name, size_t n, jv *args, size_t nargs, int *ok)
{
    jv v = jv_materialize(r, args[0]);
    *ok = 1;
    int hole = v.k == JV_HOLE;
    if (eq(name, n, "callable")) return v.k == JV_FUNC;
    if (eq(name, n, "number")) return jv_isnum(v);
    if (eq(name, n, "integer")) return v.k == JV_INT;
    if (eq(name, n, "mapping")) return v.k == JV_DICT;
    if (eq(name, n, "sequence")) return v.k == JV_LIST || v.k == JV_DICT || v.k == JV_STR;
    if (eq(name, n, "odd") || eq(name, n, "even")) {
        if (hole) type_error(r);
        if (v.k != JV_INT) jr_fail(r, "cannot %s on %s", name[0] == 'o' ? "odd" : "even", jv_type_name(v));
        double m = fmod(v.u.n, 2);
        return name[0] == 'o' ? m != 0 : m == 0;
    }
    int known = eq(name, n, "boolean") || eq(name, n, "false") || eq(name, n, "true") || eq(name, n, "none") ||
                eq(name, n, "string") || eq(name, n, "iterable") || eq(name, n, "lower") || eq(name, n, "upper") ||
                eq(name, n, "defined") || eq(name, n, "undefined") || eq(name, n, "equalto") || eq(name, n, "eq");
    if (!known) { *ok = 0; return 0; }
    if (hole) type_error(r);
    if (eq(name, n, "boolean")) return v.k == JV_BOOL;
    if (eq(name, n, "false")) return v.k == JV_BOOL && !v.u.b;
    if (eq(name, n, "true")) return v.k == JV_BOOL && v.u.b;
    if (eq(name, n, "none")) return v.k == JV_NONE;
    if (eq(name, n, "string")) return v.k == JV_STR;
    if (eq(name, n, "iterable")) return (v.k == JV_LIST && !(v.f & JF_TUPLE)) || v.k == JV_STR;
    if (eq(name, n, "defined")) return v.k != JV_UNDEF;
    if (eq(name, n, "undefined")) return v.k == JV_UNDEF;
    if (eq(name, n, "lower") || eq(name, n, "upper")) {
        if (v.k != JV_STR) return 0;
        jsb b = {0};
        if (name[0] == 'l') jj_js_lower(r, &b, v.u.s->s, v.u.s->len);
        else jj_js_upper(r, &b, v.u.s->s, v.u.s->len);
        return b.n == v.u.s->len && (b.n == 0 || memcmp(b.p, v.u.s->s, b.n) == 0);
    }
    /* equalto / eq: a.value === b.value */
    if (nargs < 2 || args[1].k == JV_HOLE) jr_fail(r, "TypeError: Cannot read properties of undefined (reading 'value')");
    return jv_strict_eq(r, v, jv_materialize(r, args[1]));
}

int jj_test_exists(const char *name, size_t n)
{
    static const char *names[] = {"boolean", "callable", "odd", "even", "false", "true", "none", "string", "number",
                                  "integer", "iterable", "mapping", "sequence", "lower", "upper", "defined",
                                  "undefined", "equalto", "eq"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (eq(name, n, names[i])) return 1;
    return 0;
}
