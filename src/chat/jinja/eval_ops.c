/* eval_ops.c - the expressions of the interpreter that have rules of
 * their own in runtime.ts: member access and slices (strings by UTF-16
 * unit, negative indices, missing members), and the binary and unary
 * operators with JavaScript's conversions. */
#include "jinja_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- member access and slices ----------------------------------------------- */

/* String.prototype.at(i) on the UTF-16 units */
static jv str_at(struct jrender *r, jstr *s, double idx)
{
    if (isnan(idx)) idx = 0;
    idx = trunc(idx);
    double len = (double)jj_utf16_len(s->s, s->len);
    if (idx < 0) idx += len;
    if (idx < 0 || idx >= len) return jv_undef();
    size_t want = (size_t)idx, u = 0;
    for (size_t i = 0; i < s->len;) {
        size_t adv;
        uint32_t cp = jj_utf8_decode(s->s + i, s->len - i, &adv);
        size_t units = cp >= 0x10000 ? 2 : 1;
        if (want < u + units) {
            if (units == 1) return jv_str(r, s->s + i, adv);
            char enc[4];
            uint32_t half = want == u ? 0xD800 + ((cp - 0x10000) >> 10) : 0xDC00 + ((cp - 0x10000) & 0x3FF);
            return jv_str(r, enc, jj_utf8_encode(half, enc));
        }
        u += units;
        i += adv;
    }
    return jv_undef();
}

static jv eval_slice(struct jrender *r, jv obj, const struct node *sl, struct jscope *scope)
{
    if (obj.k != JV_LIST && obj.k != JV_STR) jr_fail(r, "Slice object must be an array or string");
    jv st = sl->a ? jj_eval_expr(r, sl->a, scope) : jv_undef();
    jv sp = sl->b ? jj_eval_expr(r, sl->b, scope) : jv_undef();
    jv stp = sl->c ? jj_eval_expr(r, sl->c, scope) : jv_undef();
    if (st.k != JV_INT && st.k != JV_UNDEF) jr_fail(r, "Slice start must be numeric or undefined");
    if (sp.k != JV_INT && sp.k != JV_UNDEF) jr_fail(r, "Slice stop must be numeric or undefined");
    if (stp.k != JV_INT && stp.k != JV_UNDEF) jr_fail(r, "Slice step must be numeric or undefined");
    /* the elements: list items or code points */
    size_t len;
    jv *items = NULL;
    size_t *cps = NULL; /* byte offsets of code points, plus the end */
    if (obj.k == JV_LIST) {
        items = obj.u.l->v;
        len = obj.u.l->n;
    } else {
        jstr *s = obj.u.s;
        cps = jal(r, (s->len + 1) * sizeof(size_t));
        len = 0;
        for (size_t i = 0; i < s->len;) {
            size_t adv;
            jj_utf8_decode(s->s + i, s->len - i, &adv);
            cps[len++] = i;
            i += adv;
        }
        cps[len] = s->len;
    }
    double L = (double)len;
    double step = stp.k == JV_UNDEF ? 1 : stp.u.n;
    double start, stop;
    int dir = step > 0 ? 1 : step < 0 ? -1 : 0;
    if (dir >= 0) {
        start = st.k == JV_UNDEF ? 0 : st.u.n;
        start = start < 0 ? fmax(L + start, 0) : fmin(start, L);
        stop = sp.k == JV_UNDEF ? L : sp.u.n;
        stop = stop < 0 ? fmax(L + stop, 0) : fmin(stop, L);
    } else {
        start = st.k == JV_UNDEF ? L - 1 : st.u.n;
        start = start < 0 ? fmax(L + start, -1) : fmin(start, L - 1);
        stop = sp.k == JV_UNDEF ? -1 : sp.u.n;
        stop = stop < -1 ? fmax(L + stop, -1) : fmin(stop, L - 1);
    }
    jv outl = jv_list_new(r, 0);
    jsb sb = {0};
    if (dir != 0) {
        for (double i = start; dir * i < dir * stop; i += step) {
            jj_count_loop(r);
            size_t k = (size_t)i;
            if (i < 0 || i >= L) {
                if (obj.k == JV_LIST) jlist_push(r, outl.u.l, jv_hole());
                continue;
            }
            if (obj.k == JV_LIST) jlist_push(r, outl.u.l, items[k]);
            else jsb_put(r, &sb, obj.u.s->s + cps[k], cps[k + 1] - cps[k]);
        }
    }
    if (obj.k == JV_LIST) return outl;
    return jsb_finish(r, &sb);
}

jv jj_member_get(struct jrender *r, jv obj, jv prop)
{
    if (obj.k == JV_DICT || obj.k == JV_NS) {
        if (prop.k != JV_STR) jr_fail(r, "Cannot access property with non-string: got %s", jv_type_name(prop));
        jv *e = jdict_get(obj.u.d, prop.u.s->s, prop.u.s->len);
        if (e && e->k != JV_HOLE) return *e;
        if (obj.k == JV_DICT) {
            int found;
            jv b = jj_member_builtin(r, obj, prop.u.s->s, prop.u.s->len, &found);
            if (found) return b;
        }
        return jv_undef();
    }
    if (obj.k == JV_LIST || obj.k == JV_STR) {
        if (prop.k == JV_INT) {
            if (obj.k == JV_STR) return str_at(r, obj.u.s, prop.u.n);
            double idx = isnan(prop.u.n) ? 0 : trunc(prop.u.n);
            double len = (double)obj.u.l->n;
            if (idx < 0) idx += len;
            if (idx < 0 || idx >= len) return jv_undef();
            jv v = obj.u.l->v[(size_t)idx];
            return v.k == JV_HOLE ? jv_undef() : v;
        }
        if (prop.k == JV_STR) {
            int found;
            jv b = jj_member_builtin(r, obj, prop.u.s->s, prop.u.s->len, &found);
            return found ? b : jv_undef();
        }
        jr_fail(r, "Cannot access property with non-string/non-number: got %s", jv_type_name(prop));
    }
    if (prop.k != JV_STR) jr_fail(r, "Cannot access property with non-string: got %s", jv_type_name(prop));
    if (obj.k == JV_HOLE) jr_fail(r, "TypeError: Cannot read properties of undefined (reading 'builtins')");
    return jv_undef();
}

jv jj_eval_member(struct jrender *r, const struct node *n, struct jscope *scope)
{
    const struct node *on = n->a, *pn = n->b;
    jv obj;
    if (on->kind == N_IDENT) {
        obj = jj_lookup_raw(r, scope, on->name->s, on->name->len);
        if (obj.k == JV_LOOP && !(n->flags & NF_COMPUTED) && pn->kind == N_IDENT) {
            for (int k = 0; k < 9; k++)
                if (!strcmp(pn->name->s, JJ_LOOP_KEYS[k])) {
                    jv v;
                    jj_loop_prop(obj.u.loop, k, &v);
                    return v;
                }
        }
        obj = jv_materialize(r, obj);
    } else {
        obj = jj_eval_expr(r, on, scope);
    }
    jv prop;
    if (n->flags & NF_COMPUTED) {
        if (pn->kind == N_SLICE) return eval_slice(r, obj, pn, scope);
        prop = jj_eval_expr(r, pn, scope);
    } else if (pn->kind == N_INT) {
        prop = pn->val;
    } else {
        prop = jv_strv(pn->name);
    }
    return jj_member_get(r, obj, prop);
}

/* ---- operators ---------------------------------------------------------------- */

const char *jj_op_name(int op)
{
    static const char *names[] = {"or", "and", "in", "not in", "==", "!=", "<", ">", "<=", ">=",
                                  "+", "-", "~", "*", "/", "//", "%", "**", "not", "-", "+"};
    return names[op];
}

static double js_pow(double a, double b)
{
    if (isnan(b)) return NAN;
    if (b == 0) return 1;
    if (isnan(a)) return NAN;
    if (fabs(a) == 1 && isinf(b)) return NAN;
    return pow(a, b);
}

static int numeric_like(jv v) { return v.k == JV_INT || v.k == JV_FLOAT || v.k == JV_BOOL; }

static jv concat_js(struct jrender *r, jv a, jv b)
{
    jsb s = {0};
    jv_js_string(r, &s, a);
    jv_js_string(r, &s, b);
    return jsb_finish(r, &s);
}

static int str_contains(jstr *hay, jstr *needle)
{
    if (!needle->len) return 1;
    if (needle->len > hay->len) return 0;
    return jj_memmem(hay->s, hay->len, needle->s, needle->len) != NULL;
}

jv jj_eval_binary(struct jrender *r, const struct node *n, struct jscope *scope)
{
    int op = n->op;
    jv left = jj_eval_expr(r, n->a, scope);
    if (op == OP_AND) return jv_truthy(r, left) ? jj_eval_expr(r, n->b, scope) : left;
    if (op == OP_OR) return jv_truthy(r, left) ? left : jj_eval_expr(r, n->b, scope);
    jv right = jj_eval_expr(r, n->b, scope);
    if (op == OP_EQ) return jv_bool(jv_loose_eq(r, left, right));
    if (op == OP_NE) return jv_bool(!jv_loose_eq(r, left, right));
    if (left.k == JV_UNDEF || right.k == JV_UNDEF) {
        if (right.k == JV_UNDEF && (op == OP_IN || op == OP_NOTIN)) return jv_bool(op == OP_NOTIN);
        jr_fail(r, "Cannot perform operation %s on undefined values", jj_op_name(op));
    }
    if (left.k == JV_NONE || right.k == JV_NONE) jr_fail(r, "Cannot perform operation on null values");
    if (left.k == JV_HOLE || right.k == JV_HOLE) jr_fail(r, "TypeError: Cannot read properties of undefined (reading 'value')");
    if (op == OP_CONCAT) return concat_js(r, left, right);
    if (op == OP_POW && numeric_like(left) && numeric_like(right)) {
        double a = left.k == JV_BOOL ? left.u.b : left.u.n, b = right.k == JV_BOOL ? right.u.b : right.u.n;
        if (a == 0 && b < 0) jr_fail(r, "0.0 cannot be raised to a negative power");
        double res = js_pow(a, b);
        if (!isfinite(res)) jr_fail(r, "Exponentiation result is not a finite real number");
        int isf = left.k == JV_FLOAT || right.k == JV_FLOAT || b < 0;
        return isf ? jv_float(res) : jv_int(res);
    }
    if (jv_isnum(left) && jv_isnum(right)) {
        double a = left.u.n, b = right.u.n;
        int isf = left.k == JV_FLOAT || right.k == JV_FLOAT;
        switch (op) {
        case OP_ADD: return isf ? jv_float(a + b) : jv_int(a + b);
        case OP_SUB: return isf ? jv_float(a - b) : jv_int(a - b);
        case OP_MUL: return isf ? jv_float(a * b) : jv_int(a * b);
        case OP_DIV: return jv_float(a / b);
        case OP_FLOORDIV: return isf ? jv_float(floor(a / b)) : jv_int(floor(a / b));
        case OP_MOD: {
            double m = (isinf(b) && isfinite(a)) ? a : fmod(a, b);
            return isf ? jv_float(m) : jv_int(m);
        }
        case OP_LT: return jv_bool(a < b);
        case OP_GT: return jv_bool(a > b);
        case OP_GE: return jv_bool(a >= b);
        case OP_LE: return jv_bool(a <= b);
        }
    } else if (left.k == JV_LIST && right.k == JV_LIST) {
        if (op == OP_ADD) {
            jv l = jv_list_new(r, left.u.l->n + right.u.l->n);
            if (left.u.l->n) memcpy(l.u.l->v, left.u.l->v, left.u.l->n * sizeof(jv));
            if (right.u.l->n) memcpy(l.u.l->v + left.u.l->n, right.u.l->v, right.u.l->n * sizeof(jv));
            l.u.l->n = left.u.l->n + right.u.l->n;
            return l;
        }
    } else if (right.k == JV_LIST) {
        if (op == OP_IN || op == OP_NOTIN) {
            int member = 0;
            for (size_t i = 0; i < right.u.l->n && !member; i++) member = jv_strict_eq(r, right.u.l->v[i], left);
            return jv_bool(op == OP_IN ? member : !member);
        }
    }
    if ((left.k == JV_STR || right.k == JV_STR) && op == OP_ADD) return concat_js(r, left, right);
    if (left.k == JV_STR && right.k == JV_STR && (op == OP_IN || op == OP_NOTIN)) {
        int c = str_contains(right.u.s, left.u.s);
        return jv_bool(op == OP_IN ? c : !c);
    }
    if (left.k == JV_STR && (right.k == JV_DICT || right.k == JV_LOOP) && (op == OP_IN || op == OP_NOTIN)) {
        right = jv_materialize(r, right);
        int c = jdict_get(right.u.d, left.u.s->s, left.u.s->len) != NULL;
        return jv_bool(op == OP_IN ? c : !c);
    }
    jr_fail(r, "Unknown operator \"%s\" between %s and %s", jj_op_name(op), jv_type_name(left), jv_type_name(right));
}

jv jj_eval_unary(struct jrender *r, const struct node *n, struct jscope *scope)
{
    jv a = jj_eval_expr(r, n->a, scope);
    if (n->op == OP_NOT) return jv_bool(!jv_truthy(r, a));
    if (numeric_like(a)) {
        double v = a.k == JV_BOOL ? a.u.b : a.u.n;
        double res = (n->op == OP_NEG ? -1.0 : 1.0) * v;
        return a.k == JV_FLOAT ? jv_float(res) : jv_int(res);
    }
    jr_fail(r, "Unknown operator \"%s\" for %s", jj_op_name(n->op), jv_type_name(a));
}

