/* eval.c - statements and expressions, following @huggingface/jinja's
 * Interpreter (runtime.ts): its scoping (macros see the caller's variables),
 * break/continue discarding the iteration's output, the order in which
 * operands are checked, and its error messages. */
#include "jinja_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- errors -------------------------------------------------------------- */

void jr_fail(struct jrender *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vfail(r->err, INF_ERR_TEMPLATE, fmt, ap);
    va_end(ap);
    if (r->at) err_append(r->err, " (line %d, column %d)", r->at->line, r->at->col);
    longjmp(*r->fail, 1);
}

void jr_fail_oom(struct jrender *r)
{
    err_fail(r->err, INF_ERR_NO_MEMORY, "out of memory");
    longjmp(*r->fail, 1);
}

void jr_fail_plain(struct jrender *r, const char *msg, size_t n)
{
    err_fail(r->err, INF_ERR_TEMPLATE, "%.*s", (int)(n < INF_ERROR_MESSAGE_MAX ? n : INF_ERROR_MESSAGE_MAX - 1), msg);
    longjmp(*r->fail, 1);
}

/* ---- scopes -------------------------------------------------------------- */

struct jvar { const jstr *name; jv v; };
struct jscope { struct jscope *parent; struct jvar *v; size_t n, cap; };

static struct jscope *scope_new(struct jrender *r, struct jscope *parent)
{
    struct jscope *s = jal(r, sizeof *s);
    memset(s, 0, sizeof *s);
    s->parent = parent;
    return s;
}

static jv *scope_local(struct jscope *s, const char *name, size_t n)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].name->len == n && memcmp(s->v[i].name->s, name, n) == 0) return &s->v[i].v;
    return NULL;
}

static void scope_set(struct jrender *r, struct jscope *s, const jstr *name, jv v)
{
    jv *e = scope_local(s, name->s, name->len);
    if (e) { *e = v; return; }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 4;
        s->v = jal_grow(r, s->v, s->cap * sizeof(struct jvar), nc * sizeof(struct jvar));
        s->cap = nc;
    }
    s->v[s->n].name = name;
    s->v[s->n].v = v;
    s->n++;
}

static jstr *kstr(struct jrender *r, const char *s) { return jstr_new(r, s, strlen(s)); }

static struct jfunc G_FUNCS[4] = {
    {FN_GLOBAL, G_RAISE, NULL, NULL, {0, 0, {0}}},
    {FN_GLOBAL, G_RANGE, NULL, NULL, {0, 0, {0}}},
    {FN_GLOBAL, G_STRFTIME, NULL, NULL, {0, 0, {0}}},
    {FN_GLOBAL, G_NAMESPACE, NULL, NULL, {0, 0, {0}}},
};

static jv gfunc(int id) { jv v = {JV_FUNC, 0, {0}}; v.u.fn = &G_FUNCS[id]; return v; }

static int is_name(const char *name, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    return n == k && memcmp(name, lit, k) == 0;
}

/* lookupVariable; JV_LOOP comes back as it is */
static jv lookup_raw(struct jrender *r, struct jscope *scope, const char *name, size_t n)
{
    for (struct jscope *s = scope; s; s = s->parent) {
        jv *p = scope_local(s, name, n);
        if (p) return p->k == JV_HOLE ? jv_undef() : *p;
        if (is_name(name, n, "namespace")) return gfunc(G_NAMESPACE); /* every Environment has it */
    }
    jv *p = jdict_get(r->ctx, name, n);
    if (p) return *p;
    switch (n) {
    case 4:
        if (is_name(name, n, "true") || is_name(name, n, "True")) return jv_bool(1);
        if (is_name(name, n, "none") || is_name(name, n, "None")) return jv_none();
        break;
    case 5:
        if (is_name(name, n, "false") || is_name(name, n, "False")) return jv_bool(0);
        if (is_name(name, n, "range")) return gfunc(G_RANGE);
        break;
    case 12: if (is_name(name, n, "strftime_now")) return gfunc(G_STRFTIME); break;
    case 15: if (is_name(name, n, "raise_exception")) return gfunc(G_RAISE); break;
    }
    return jv_undef();
}

/* ---- the loop variable ------------------------------------------------------ */

struct jloop { jv *items; size_t n, i; };

static const char *LOOP_KEYS[] = {"index", "index0", "revindex", "revindex0", "first", "last", "length", "previtem", "nextitem"};

static int loop_prop(const struct jloop *L, int k, jv *out)
{
    size_t i = L->i, n = L->n;
    switch (k) {
    case 0: *out = jv_int((double)(i + 1)); return 1;
    case 1: *out = jv_int((double)i); return 1;
    case 2: *out = jv_int((double)(n - i)); return 1;
    case 3: *out = jv_int((double)(n - i - 1)); return 1;
    case 4: *out = jv_bool(i == 0); return 1;
    case 5: *out = jv_bool(i == n - 1); return 1;
    case 6: *out = jv_int((double)n); return 1;
    case 7: *out = i > 0 ? L->items[i - 1] : jv_undef(); return 1;
    case 8: *out = i + 1 < n ? L->items[i + 1] : jv_undef(); return 1;
    }
    return 0;
}

jv jv_materialize(struct jrender *r, jv v)
{
    if (v.k != JV_LOOP) return v;
    jv d = jv_dict_new(r, 9);
    for (int k = 0; k < 9; k++) {
        jv e;
        loop_prop(v.u.loop, k, &e);
        jdict_set(r, d.u.d, kstr(r, LOOP_KEYS[k]), e);
    }
    return d;
}

static jv lookup(struct jrender *r, struct jscope *scope, const jstr *name)
{
    return jv_materialize(r, lookup_raw(r, scope, name->s, name->len));
}

/* ---- blocks --------------------------------------------------------------- */

static void exec_stmt(struct jrender *r, const struct node *n, struct jscope *scope);

static void exec_block(struct jrender *r, struct node **items, int n, struct jscope *scope)
{
    for (int i = 0; i < n; i++) exec_stmt(r, items[i], scope);
}

static jv render_block(struct jrender *r, struct node **items, int n, struct jscope *scope)
{
    jsb buf = {0};
    jsb *saved = r->out;
    r->out = &buf;
    exec_block(r, items, n, scope);
    r->out = saved;
    return jsb_finish(r, &buf);
}

static void enter(struct jrender *r)
{
    if (++r->depth > r->lim.max_depth)
        jr_fail(r, "recursion depth limit exceeded (max_depth=%u)", r->lim.max_depth);
}

static void count_loop(struct jrender *r)
{
    if (++r->loops > r->lim.max_loops)
        jr_fail(r, "loop iteration limit exceeded (max_loop_iterations=%lu)", r->lim.max_loops);
}

/* ---- arguments and calls ------------------------------------------------------ */

void jj_eval_args(struct jrender *r, struct node **args, int nargs, struct jscope *scope, jargs *pos, jv *kwargs)
{
    jv l = jv_list_new(r, (size_t)nargs + 1);
    for (int i = 0; i < nargs; i++) {
        const struct node *a = args[i];
        if (a->kind == N_SPREAD) {
            jv v = jj_eval_expr(r, a->a, scope);
            if (v.k != JV_LIST) jr_fail(r, "Cannot unpack non-iterable type: %s", jv_type_name(v));
            for (size_t k = 0; k < v.u.l->n; k++) jlist_push(r, l.u.l, v.u.l->v[k]);
        } else if (a->kind != N_KWARG && a->kind != N_KWSPREAD) {
            jlist_push(r, l.u.l, jj_eval_expr(r, a, scope));
        }
    }
    jv kw = jv_dict_new(r, 0);
    kw.f = JF_KWARGS;
    for (int i = 0; i < nargs; i++) {
        const struct node *a = args[i];
        if (a->kind == N_KWARG) {
            if (jdict_get(kw.u.d, a->name->s, a->name->len))
                jr_fail(r, "Got multiple values for keyword argument '%s'", a->name->s);
            jdict_set(r, kw.u.d, (jstr *)a->name, jj_eval_expr(r, a->a, scope));
        } else if (a->kind == N_KWSPREAD) {
            jv v = jv_materialize(r, jj_eval_expr(r, a->a, scope));
            if (v.k != JV_DICT) jr_fail(r, "Argument after ** must be a mapping, not %s", jv_type_name(v));
            for (size_t k = 0; k < v.u.d->n; k++) {
                if (jdict_get(kw.u.d, v.u.d->k[k]->s, v.u.d->k[k]->len))
                    jr_fail(r, "Got multiple values for keyword argument '%s'", v.u.d->k[k]->s);
                jdict_set(r, kw.u.d, v.u.d->k[k], v.u.d->v[k]);
            }
        }
    }
    pos->v = l.u.l->v;
    pos->n = l.u.l->n;
    *kwargs = kw;
}

static void push_arg(struct jrender *r, jargs *a, jv v)
{
    jv *nv = jal(r, (a->n + 1) * sizeof(jv));
    if (a->n) memcpy(nv, a->v, a->n * sizeof(jv));
    nv[a->n++] = v;
    a->v = nv;
}

/* bindMacroArguments; m is the macro (NULL: a call block, "None" in errors) */
static void bind_args(struct jrender *r, const struct node *m, struct node **params, int np, int flags, jargs *args,
                      struct jscope *scope)
{
    const char *q = m ? "'" : "", *display = m ? m->name->s : "None";
    size_t n = args->n;
    jv kw = jv_dict_new(r, 0);
    if (n && args->v[n - 1].k == JV_DICT && (args->v[n - 1].f & JF_KWARGS)) {
        jdict *src = args->v[n - 1].u.d;
        for (size_t i = 0; i < src->n; i++) jdict_set(r, kw.u.d, src->k[i], src->v[i]);
        n--;
    }
    int *pending = jal(r, sizeof(int) * (size_t)(np + 1));
    int npend = 0;
    for (int i = 0; i < np; i++) {
        const struct node *p = params[i];
        const jstr *name = p->name;
        jv val = jv_undef();
        int missing = 1;
        if ((size_t)i < n && args->v[i].k != JV_HOLE) { val = args->v[i]; missing = 0; }
        if (missing) {
            jv *e = jdict_get(kw.u.d, name->s, name->len);
            if (e) {
                val = *e;
                missing = val.k == JV_HOLE;
                jdict_remove(r, kw.u.d, name->s, name->len);
            }
        }
        if (missing && p->kind == N_KWARG) pending[npend++] = i;
        scope_set(r, scope, name, missing ? jv_undef() : val);
    }
    if (flags & NF_USES_KWARGS) scope_set(r, scope, kstr(r, "kwargs"), kw);
    else if (kw.u.d->n)
        jr_fail(r, "macro %s%s%s takes no keyword argument '%s'", q, display, q, kw.u.d->k[0]->s);
    if (flags & NF_USES_VARARGS) {
        jv l = jv_list_new(r, 0);
        for (size_t i = (size_t)np; i < n; i++) jlist_push(r, l.u.l, args->v[i]);
        scope_set(r, scope, kstr(r, "varargs"), l);
    } else if (n > (size_t)np) {
        jr_fail(r, "macro %s%s%s takes not more than %d argument(s)", q, display, q, np);
    }
    for (int k = 0; k < npend; k++) {
        const struct node *p = params[pending[k]];
        scope_set(r, scope, p->name, jj_eval_expr(r, p->a, scope));
    }
}

jv jj_call_function(struct jrender *r, jv fnv, jargs *a, struct jscope *scope)
{
    jfunc *f = fnv.u.fn;
    switch (f->kind) {
    case FN_MACRO: {
        enter(r);
        const struct node *m = f->node;
        struct jscope *ms = scope_new(r, scope);
        bind_args(r, m, m->items, m->nitems, m->flags, a, ms);
        jv out = render_block(r, m->items2, m->nitems2, ms);
        r->depth--;
        return out;
    }
    case FN_CALLER: {
        enter(r);
        const struct node *c = f->node;
        struct jscope *cs = scope_new(r, f->scope);
        bind_args(r, NULL, c->items, c->nitems, c->flags, a, cs);
        jv out = render_block(r, c->items2, c->nitems2, cs);
        r->depth--;
        return out;
    }
    case FN_GLOBAL:
        return jj_call_global(r, f->id, a);
    default:
        return jj_call_method(r, f, a);
    }
}

static jv eval_call(struct jrender *r, const struct node *n, struct jscope *scope)
{
    jargs a;
    jv kw;
    jj_eval_args(r, n->items, n->nitems, scope, &a, &kw);
    if (kw.u.d->n) push_arg(r, &a, kw);
    jv fn = jj_eval_expr(r, n->a, scope);
    if (fn.k != JV_FUNC) jr_fail(r, "Cannot call something that is not a function: got %s", jv_type_name(fn));
    return jj_call_function(r, fn, &a, scope);
}

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
            count_loop(r);
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

static jv eval_member(struct jrender *r, const struct node *n, struct jscope *scope)
{
    const struct node *on = n->a, *pn = n->b;
    jv obj;
    if (on->kind == N_IDENT) {
        obj = lookup_raw(r, scope, on->name->s, on->name->len);
        if (obj.k == JV_LOOP && !(n->flags & NF_COMPUTED) && pn->kind == N_IDENT) {
            for (int k = 0; k < 9; k++)
                if (!strcmp(pn->name->s, LOOP_KEYS[k])) {
                    jv v;
                    loop_prop(obj.u.loop, k, &v);
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

static jv eval_binary(struct jrender *r, const struct node *n, struct jscope *scope)
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

static jv eval_unary(struct jrender *r, const struct node *n, struct jscope *scope)
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

/* ---- expressions ------------------------------------------------------------------ */

jv jj_eval_expr(struct jrender *r, const struct node *n, struct jscope *scope)
{
    const struct node *saved_at = r->at;
    r->at = n;
    enter(r);
    jv v;
    switch (n->kind) {
    case N_INT: case N_FLOAT: case N_STR: case N_TEXT: v = n->val; break;
    case N_IDENT: v = lookup(r, scope, n->name); break;
    case N_ARRAY: case N_TUPLE:
        v = jv_list_new(r, (size_t)n->nitems);
        for (int i = 0; i < n->nitems; i++) v.u.l->v[i] = jj_eval_expr(r, n->items[i], scope);
        v.u.l->n = (size_t)n->nitems;
        if (n->kind == N_TUPLE) v.f = JF_TUPLE;
        break;
    case N_OBJECT:
        v = jv_dict_new(r, 0);
        for (int i = 0; i < n->nitems; i++) {
            jv k = jj_eval_expr(r, n->items[i], scope);
            if (k.k != JV_STR) jr_fail(r, "Object keys must be strings: got %s", jv_type_name(k));
            jdict_set(r, v.u.d, k.u.s, jj_eval_expr(r, n->items2[i], scope));
        }
        break;
    case N_MEMBER: v = eval_member(r, n, scope); break;
    case N_CALL: v = eval_call(r, n, scope); break;
    case N_BINARY: v = eval_binary(r, n, scope); break;
    case N_UNARY: v = eval_unary(r, n, scope); break;
    case N_FILTER: {
        jv operand = jj_eval_expr(r, n->a, scope);
        r->at = n;
        v = jj_apply_filter(r, operand, n->b, scope);
        break;
    }
    case N_TEST: {
        jv operand = jj_eval_expr(r, n->a, scope);
        r->at = n;
        int ok;
        int res = jj_run_test(r, n->name->s, n->name->len, &operand, 1, &ok);
        if (!ok) jr_fail(r, "Unknown test: %s", n->name->s);
        v = jv_bool((n->flags & NF_NEGATE) ? !res : res);
        break;
    }
    case N_SELECT:
        if (!jv_truthy(r, jj_eval_expr(r, n->b, scope))) v = jv_undef();
        else v = jj_eval_expr(r, n->a, scope);
        break;
    case N_TERNARY:
        v = jv_truthy(r, jj_eval_expr(r, n->a, scope)) ? jj_eval_expr(r, n->b, scope) : jj_eval_expr(r, n->c, scope);
        break;
    case N_COMMENT: v = jv_none(); break;
    default:
        jr_fail(r, "Unknown node type: %s", jj_node_type_name(n));
    }
    r->depth--;
    r->at = saved_at;
    return v;
}

/* ---- statements ------------------------------------------------------------------- */

static void bind_loopvar(struct jrender *r, const struct node *var, jv cur, struct jscope *s)
{
    if (var->kind == N_IDENT) {
        scope_set(r, s, var->name, cur);
        return;
    }
    for (int j = 0; j < var->nitems; j++) {
        if (var->items[j]->kind != N_IDENT)
            jr_fail(r, "Cannot unpack non-identifier type: %s", jj_node_type_name(var->items[j]));
        scope_set(r, s, var->items[j]->name, cur.u.l->v[j]);
    }
}

static void exec_for(struct jrender *r, const struct node *n, struct jscope *scope)
{
    struct jscope *fs = scope_new(r, scope);
    const struct node *test = NULL;
    jv it;
    if (n->b->kind == N_SELECT) {
        it = jj_eval_expr(r, n->b->a, fs);
        test = n->b->b;
    } else {
        it = jj_eval_expr(r, n->b, fs);
    }
    r->at = n;
    if (it.k == JV_DICT) it = jj_dict_keys(r, it.u.d);
    else if (it.k != JV_LIST) jr_fail(r, "Expected iterable or object type in for loop: got %s", jv_type_name(it));
    const struct node *var = n->a;
    size_t total = it.u.l->n;
    jv *items = jal(r, (total + 1) * sizeof(jv));
    size_t count = 0;
    for (size_t i = 0; i < total; i++) {
        jv cur = it.u.l->v[i];
        if (var->kind == N_TUPLE) {
            if (cur.k == JV_HOLE) jr_fail(r, "TypeError: Cannot read properties of undefined (reading 'type')");
            if (cur.k != JV_LIST || (cur.f & JF_TUPLE))
                jr_fail(r, "Cannot unpack non-iterable type: %s", jv_type_name(cur));
            if ((size_t)var->nitems != cur.u.l->n)
                jr_fail(r, "Too %s items to unpack", (size_t)var->nitems > cur.u.l->n ? "few" : "many");
        }
        if (test) {
            count_loop(r);
            struct jscope *ls = scope_new(r, fs);
            bind_loopvar(r, var, cur, ls);
            if (!jv_truthy(r, jj_eval_expr(r, test, ls))) continue;
        }
        items[count++] = cur;
    }
    struct jloop *st = jal(r, sizeof *st);
    st->items = items;
    st->n = count;
    st->i = 0;
    jv loopv = {JV_LOOP, 0, {0}};
    loopv.u.loop = st;
    jstr *loopname = kstr(r, "loop");
    jmp_buf jb;
    jmp_buf *volatile saved_jmp = r->loopjmp;
    jsb *volatile saved_out = r->out;
    volatile unsigned saved_depth = r->depth;
    volatile int no_iteration = 1;
    for (volatile size_t i = 0; i < count; i++) {
        count_loop(r);
        st->i = i;
        scope_set(r, fs, loopname, loopv);
        bind_loopvar(r, var, items[i], fs);
        volatile size_t mark = r->out->n;
        r->loopjmp = &jb;
        if (setjmp(jb) == 0) {
            exec_block(r, n->items, n->nitems, fs);
            r->loopjmp = saved_jmp;
            no_iteration = 0;
        } else {
            r->loopjmp = saved_jmp;
            r->out = saved_out;
            r->depth = saved_depth;
            r->out->n = mark;
            if (r->loopsig == 1) break;
        }
    }
    if (no_iteration) exec_block(r, n->items2, n->nitems2, fs);
}

static void assign(struct jrender *r, const struct node *target, jv rhs, struct jscope *scope)
{
    if (target->kind == N_IDENT) {
        scope_set(r, scope, target->name, rhs);
    } else if (target->kind == N_TUPLE) {
        if (rhs.k != JV_LIST) jr_fail(r, "Cannot unpack non-iterable type in set: %s", jv_type_name(rhs));
        if ((size_t)target->nitems != rhs.u.l->n)
            jr_fail(r, "Too %s items to unpack in set", (size_t)target->nitems > rhs.u.l->n ? "few" : "many");
        for (int i = 0; i < target->nitems; i++) {
            if (target->items[i]->kind != N_IDENT)
                jr_fail(r, "Cannot unpack to non-identifier in set: %s", jj_node_type_name(target->items[i]));
            scope_set(r, scope, target->items[i]->name, rhs.u.l->v[i]);
        }
    } else if (target->kind == N_MEMBER) {
        jv obj = jj_eval_expr(r, target->a, scope);
        if (obj.k != JV_NS) jr_fail(r, "cannot assign attribute on non-namespace object");
        if (target->b->kind != N_IDENT) jr_fail(r, "Cannot assign to member with non-identifier property");
        jdict_set(r, obj.u.d, target->b->name, rhs);
    } else {
        jr_fail(r, "Invalid LHS inside assignment expression");
    }
}

static void emit(struct jrender *r, jv v)
{
    if (v.k == JV_HOLE) jr_fail(r, "TypeError: Cannot read properties of undefined (reading 'type')");
    if (v.k == JV_NONE || v.k == JV_UNDEF) return;
    jv_to_string(r, r->out, v);
}

static void exec_stmt(struct jrender *r, const struct node *n, struct jscope *scope)
{
    r->at = n;
    switch (n->kind) {
    case N_TEXT: jsb_put(r, r->out, n->val.u.s->s, n->val.u.s->len); return;
    case N_COMMENT: return;
    case N_SET: {
        enter(r);
        jv rhs = n->b ? jj_eval_expr(r, n->b, scope) : render_block(r, n->items, n->nitems, scope);
        r->at = n;
        assign(r, n->a, rhs, scope);
        r->depth--;
        return;
    }
    case N_IF: {
        enter(r);
        int t = jv_truthy(r, jj_eval_expr(r, n->a, scope));
        if (t) exec_block(r, n->items, n->nitems, scope);
        else exec_block(r, n->items2, n->nitems2, scope);
        r->depth--;
        return;
    }
    case N_FOR:
        enter(r);
        exec_for(r, n, scope);
        r->depth--;
        return;
    case N_MACRO: {
        jfunc *f = jal(r, sizeof *f);
        memset(f, 0, sizeof *f);
        f->kind = FN_MACRO;
        f->node = n;
        jv v = {JV_FUNC, 0, {0}};
        v.u.fn = f;
        scope_set(r, scope, n->name, v);
        return;
    }
    case N_CALLSTMT: {
        enter(r);
        jfunc *cf = jal(r, sizeof *cf);
        memset(cf, 0, sizeof *cf);
        cf->kind = FN_CALLER;
        cf->node = n;
        cf->scope = scope;
        jv callerv = {JV_FUNC, 0, {0}};
        callerv.u.fn = cf;
        jargs a;
        jv kw;
        jj_eval_args(r, n->a->items, n->a->nitems, scope, &a, &kw);
        push_arg(r, &a, kw);
        jv fn = jj_eval_expr(r, n->a->a, scope);
        r->at = n;
        if (fn.k != JV_FUNC) jr_fail(r, "Cannot call something that is not a function: got %s", jv_type_name(fn));
        struct jscope *ns = scope_new(r, scope);
        scope_set(r, ns, kstr(r, "caller"), callerv);
        jv res = jj_call_function(r, fn, &a, ns);
        emit(r, res);
        r->depth--;
        return;
    }
    case N_FILTERSTMT: {
        enter(r);
        jv body = render_block(r, n->items, n->nitems, scope);
        r->at = n;
        emit(r, jj_apply_filter(r, body, n->b, scope));
        r->depth--;
        return;
    }
    case N_BREAK: case N_CONTINUE:
        if (!r->loopjmp) jr_fail(r, "'%s' outside of a loop", n->kind == N_BREAK ? "break" : "continue");
        r->loopsig = n->kind == N_BREAK ? 1 : 2;
        longjmp(*r->loopjmp, 1);
    default:
        emit(r, jj_eval_expr(r, n, scope));
        return;
    }
}

/* ---- entry ---------------------------------------------------------------------- */

static const char *RESERVED[] = {"namespace", "false", "true", "none", "raise_exception", "range",
                                 "strftime_now", "True", "False", "None"};

int jinja_render_at(const struct jinja_template *T, const struct jinja_value *context, long long now, char **out,
                    size_t *out_len, inf_error *err)
{
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    inf_error_clear(err);
    if (!T || !out) {
        err_fail(err, INF_ERR_FORMAT, "invalid arguments");
        return -1;
    }
    struct jrender *r = calloc(1, sizeof *r);
    jmp_buf *jb = malloc(sizeof *jb);
    if (!r || !jb) {
        free(r);
        free(jb);
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        return -1;
    }
    r->fail = jb;
    r->err = err;
    r->lim = T->lim;
    r->now = now ? now : T->now;
    r->now_utc = T->now_utc;
    if (setjmp(*jb)) {
        if (err && err->status == INF_OK) err_fail(err, INF_ERR_TEMPLATE, "render failed");
        jarena_free(r);
        free(r);
        free(jb);
        return -1;
    }
    if (context && context->v.k != JV_DICT) jr_fail(r, "the context must be a dict, not %s", jv_type_name(context->v));
    r->ctx = context ? context->v.u.d : NULL;
    for (size_t i = 0; i < sizeof RESERVED / sizeof RESERVED[0]; i++)
        if (jdict_get(r->ctx, RESERVED[i], strlen(RESERVED[i]))) jr_fail(r, "Variable already declared: %s", RESERVED[i]);
    struct jscope *root = scope_new(r, NULL);
    jsb buf = {0};
    r->out = &buf;
    exec_block(r, T->body, T->nbody, root);
    char *res = malloc(buf.n + 1);
    if (!res) jr_fail_oom(r);
    if (buf.n) memcpy(res, buf.p, buf.n);
    res[buf.n] = 0;
    *out = res;
    if (out_len) *out_len = buf.n;
    jarena_free(r);
    free(r);
    free(jb);
    return 0;
}

int jinja_render(const struct jinja_template *T, const struct jinja_value *context, char **out, size_t *out_len,
                 inf_error *err)
{
    return jinja_render_at(T, context, 0, out, out_len, err);
}
