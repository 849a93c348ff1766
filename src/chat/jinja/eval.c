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
jv jj_lookup_raw(struct jrender *r, struct jscope *scope, const char *name, size_t n)
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

const char *const JJ_LOOP_KEYS[9] = {"index", "index0", "revindex", "revindex0", "first", "last", "length", "previtem", "nextitem"};

int jj_loop_prop(const struct jloop *L, int k, jv *out)
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
        jj_loop_prop(v.u.loop, k, &e);
        jdict_set(r, d.u.d, kstr(r, JJ_LOOP_KEYS[k]), e);
    }
    return d;
}

static jv lookup(struct jrender *r, struct jscope *scope, const jstr *name)
{
    return jv_materialize(r, jj_lookup_raw(r, scope, name->s, name->len));
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

void jj_count_loop(struct jrender *r)
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
    case N_MEMBER: v = jj_eval_member(r, n, scope); break;
    case N_CALL: v = eval_call(r, n, scope); break;
    case N_BINARY: v = jj_eval_binary(r, n, scope); break;
    case N_UNARY: v = jj_eval_unary(r, n, scope); break;
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
            jj_count_loop(r);
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
        jj_count_loop(r);
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
