/* parser.c - tokens to AST, the grammar of @huggingface/jinja's parser.ts
 * (same precedence, same leniencies, same syntax errors), with each node's
 * line and column, and nesting bounded by the max_depth option. */
#include "jinja_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jarena_free(struct jrender *r);

struct P {
    struct token *t; size_t n, cur;
    int *tline, *tcol;
    int end_line, end_col;
    jmp_buf jb;
    inf_error *err;
    struct jrender ar;         /* the template's arena */
    unsigned maxdepth, rec;
    const char *open[64]; int nopen; /* blocks being parsed, for end-of-template messages */
};

enum { M_CALL, M_PARAMS };

static const char *TNAMES[] = {
    "Text", "NumericLiteral", "StringLiteral", "Identifier", "Equals", "OpenParen", "CloseParen",
    "OpenStatement", "CloseStatement", "OpenExpression", "CloseExpression", "OpenSquareBracket",
    "CloseSquareBracket", "OpenCurlyBracket", "CloseCurlyBracket", "Comma", "Dot", "Colon", "Pipe",
    "AdditiveBinaryOperator", "MultiplicativeBinaryOperator", "ExponentiationBinaryOperator",
    "ComparisonBinaryOperator", "UnaryOperator", "Comment"};

static const char *NNAMES[] = {
    "StringLiteral", "Comment", "If", "For", "Set", "Macro", "CallStatement", "FilterStatement", "Break", "Continue",
    "IntegerLiteral", "FloatLiteral", "StringLiteral", "Identifier", "ArrayLiteral", "TupleLiteral", "ObjectLiteral",
    "MemberExpression", "CallExpression", "BinaryExpression", "UnaryExpression", "FilterExpression", "TestExpression",
    "SelectExpression", "Ternary", "SliceExpression", "KeywordArgumentExpression", "SpreadExpression",
    "KeywordSpreadExpression"};

const char *jj_node_type_name(const struct node *n) { return n ? NNAMES[n->kind] : "undefined"; }

static _Noreturn void p_fail(struct P *P, size_t tok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static _Noreturn void p_fail(struct P *P, size_t tok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vfail(P->err, INF_ERR_TEMPLATE, fmt, ap);
    va_end(ap);
    int line = tok < P->n ? P->tline[tok] : P->end_line, col = tok < P->n ? P->tcol[tok] : P->end_col;
    err_prefix(P->err, "syntax error at line %d, column %d", line, col);
    longjmp(P->jb, 1);
}

static _Noreturn void p_fail_end(struct P *P)
{
    if (P->nopen) p_fail(P, P->n, "unexpected end of template, expected {%% %s %%}", P->open[P->nopen - 1]);
    p_fail(P, P->n, "unexpected end of template");
}

static struct token *tk(struct P *P, size_t i)
{
    if (i >= P->n) p_fail_end(P);
    return &P->t[i];
}

static void enter(struct P *P)
{
    if (++P->rec > P->maxdepth) p_fail(P, P->cur, "template nested too deeply (max_depth=%u)", P->maxdepth);
}
#define LEAVE(P) ((P)->rec--)

static struct node *mk(struct P *P, int kind, size_t tok)
{
    struct node *n = jal(&P->ar, sizeof *n);
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->line = tok < P->n ? P->tline[tok] : P->end_line;
    n->col = tok < P->n ? P->tcol[tok] : P->end_col;
    n->depth = 1;
    return n;
}

/* depth from the children; fails past max_depth */
static struct node *fin(struct P *P, struct node *n)
{
    int d = 0;
    if (n->a && n->a->depth > d) d = n->a->depth;
    if (n->b && n->b->depth > d) d = n->b->depth;
    if (n->c && n->c->depth > d) d = n->c->depth;
    for (int i = 0; i < n->nitems; i++) if (n->items[i] && n->items[i]->depth > d) d = n->items[i]->depth;
    for (int i = 0; i < n->nitems2; i++) if (n->items2[i] && n->items2[i]->depth > d) d = n->items2[i]->depth;
    n->depth = d + 1;
    if ((unsigned)n->depth > P->maxdepth) {
        err_fail(P->err, INF_ERR_TEMPLATE, "syntax error at line %d, column %d: template nested too deeply (max_depth=%u)",
                 n->line, n->col, P->maxdepth);
        longjmp(P->jb, 1);
    }
    return n;
}

struct vec { struct node **v; int n, cap; };

static void vpush(struct P *P, struct vec *v, struct node *x)
{
    if (v->n == v->cap) {
        int nc = v->cap ? v->cap * 2 : 4;
        v->v = jal_grow(&P->ar, v->v, (size_t)v->cap * sizeof(struct node *), (size_t)nc * sizeof(struct node *));
        v->cap = nc;
    }
    v->v[v->n++] = x;
}

static jstr *tstr(struct P *P, const struct token *t) { return jstr_new(&P->ar, t->s, t->n); }

static int is(struct P *P, int type) { return P->cur < P->n && P->t[P->cur].type == type; }
static int tok_is(const struct token *t, int type, const char *v) { return t->type == type && strcmp(t->s, v) == 0; }

static int is_ident(struct P *P, const char *name)
{
    return P->cur < P->n && tok_is(&P->t[P->cur], T_IDENT, name);
}

static int is_statement(struct P *P, const char *a, const char *b, const char *c)
{
    if (!(P->cur + 1 < P->n && P->t[P->cur].type == T_OPEN_STMT && P->t[P->cur + 1].type == T_IDENT)) return 0;
    const char *v = P->t[P->cur + 1].s;
    return (a && !strcmp(v, a)) || (b && !strcmp(v, b)) || (c && !strcmp(v, c));
}

static struct token *expect(struct P *P, int type, const char *msg)
{
    size_t i = P->cur++;
    if (i >= P->n) p_fail_end(P);
    if (P->t[i].type != type) p_fail(P, i, "Parser Error: %s. %s !== %s.", msg, TNAMES[P->t[i].type], TNAMES[type]);
    return &P->t[i];
}

static void expect_ident(struct P *P, const char *name)
{
    if (!is_ident(P, name)) {
        if (P->cur >= P->n) p_fail_end(P);
        p_fail(P, P->cur, "Expected %s", name);
    }
    P->cur++;
}

static struct node *parse_any(struct P *P);
static struct node *parse_expression(struct P *P);
static struct node *parse_primary(struct P *P);
static struct node *parse_call(struct P *P, struct node *callee);
static void parse_args(struct P *P, int mode, struct vec *out);

static void body_until(struct P *P, struct vec *v, const char *a, const char *b, const char *c, const char *want)
{
    if (P->nopen < 64) P->open[P->nopen] = want;
    P->nopen++;
    while (!is_statement(P, a, b, c)) vpush(P, v, parse_any(P));
    P->nopen--;
}

/* ---- special macro arguments (findAccessedSpecialMacroArguments) ---------- */

struct special { int decl_kw, decl_va, acc_kw, acc_va; };

static void sp_declare(struct special *s, const jstr *name)
{
    if (!name) return;
    if (!strcmp(name->s, "kwargs")) s->decl_kw = 1;
    else if (!strcmp(name->s, "varargs")) s->decl_va = 1;
}

static void sp_declare_target(struct special *s, const struct node *t)
{
    if (!t) return;
    if (t->kind == N_IDENT) sp_declare(s, t->name);
    else if (t->kind == N_TUPLE) for (int i = 0; i < t->nitems; i++) sp_declare_target(s, t->items[i]);
}

static const jstr *param_name(const struct node *p) { return p->name; }

static void sp_visit(struct special *s, const struct node *n);
static void sp_visit_list(struct special *s, struct node **v, int n) { for (int i = 0; i < n; i++) sp_visit(s, v[i]); }

static void sp_visit_filter(struct special *s, const struct node *f)
{
    if (f && f->kind == N_CALL) sp_visit_list(s, f->items, f->nitems);
}

static void sp_visit(struct special *s, const struct node *n)
{
    if (!n) return;
    switch (n->kind) {
    case N_FOR:
        sp_declare_target(s, n->a);
        if (n->b->kind == N_SELECT) {
            sp_visit(s, n->b->a);
            sp_visit_list(s, n->items, n->nitems);
            sp_visit_list(s, n->items2, n->nitems2);
            sp_visit(s, n->b->b);
        } else {
            sp_visit(s, n->b);
            sp_visit_list(s, n->items, n->nitems);
            sp_visit_list(s, n->items2, n->nitems2);
        }
        break;
    case N_SET:
        sp_declare_target(s, n->a);
        sp_visit(s, n->b);
        sp_visit_list(s, n->items, n->nitems);
        break;
    case N_MACRO:
        for (int i = 0; i < n->nitems; i++) sp_declare(s, param_name(n->items[i]));
        for (int i = 0; i < n->nitems; i++) if (n->items[i]->kind == N_KWARG) sp_visit(s, n->items[i]->a);
        sp_visit_list(s, n->items2, n->nitems2);
        break;
    case N_CALLSTMT:
        sp_visit(s, n->a);
        for (int i = 0; i < n->nitems; i++) sp_declare(s, param_name(n->items[i]));
        for (int i = 0; i < n->nitems; i++) if (n->items[i]->kind == N_KWARG) sp_visit(s, n->items[i]->a);
        sp_visit_list(s, n->items2, n->nitems2);
        break;
    case N_FILTERSTMT:
        sp_visit_list(s, n->items, n->nitems);
        sp_visit_filter(s, n->b);
        break;
    case N_IDENT:
        if (!strcmp(n->name->s, "kwargs") && !s->decl_kw) s->acc_kw = 1;
        if (!strcmp(n->name->s, "varargs") && !s->decl_va) s->acc_va = 1;
        break;
    case N_MEMBER:
        sp_visit(s, n->a);
        if (n->flags & NF_COMPUTED) sp_visit(s, n->b);
        break;
    case N_FILTER:
        sp_visit(s, n->a);
        sp_visit_filter(s, n->b);
        break;
    case N_TEST: sp_visit(s, n->a); break;
    case N_SELECT: sp_visit(s, n->b); sp_visit(s, n->a); break;
    case N_KWARG: sp_visit(s, n->a); break;
    case N_OBJECT:
        for (int i = 0; i < n->nitems; i++) { sp_visit(s, n->items[i]); sp_visit(s, n->items2[i]); }
        break;
    default:
        sp_visit(s, n->a);
        sp_visit(s, n->b);
        sp_visit(s, n->c);
        sp_visit_list(s, n->items, n->nitems);
        sp_visit_list(s, n->items2, n->nitems2);
        break;
    }
}

static int special_flags(struct node **params, int nparams, struct node **body, int nbody)
{
    struct special s = {0};
    for (int i = 0; i < nparams; i++) sp_declare(&s, param_name(params[i]));
    sp_visit_list(&s, body, nbody);
    return (s.acc_kw ? NF_USES_KWARGS : 0) | (s.acc_va ? NF_USES_VARARGS : 0);
}

/* ---- statements ------------------------------------------------------------ */

static struct node *parse_expr_seq(struct P *P, int primary)
{
    size_t t0 = P->cur;
    struct node *first = primary ? parse_primary(P) : parse_expression(P);
    if (!is(P, T_COMMA)) return first;
    struct vec v = {0};
    vpush(P, &v, first);
    while (1) {
        P->cur++;
        vpush(P, &v, primary ? parse_primary(P) : parse_expression(P));
        if (!is(P, T_COMMA)) break;
    }
    struct node *n = mk(P, N_TUPLE, t0);
    n->items = v.v;
    n->nitems = v.n;
    return fin(P, n);
}

static struct node *parse_set(struct P *P, size_t t0)
{
    struct node *n = mk(P, N_SET, t0);
    n->a = parse_expr_seq(P, 0);
    if (is(P, T_EQUALS)) {
        P->cur++;
        n->b = parse_expr_seq(P, 0);
    } else {
        expect(P, T_CLOSE_STMT, "Expected %} token");
        struct vec v = {0};
        body_until(P, &v, "endset", NULL, NULL, "endset");
        n->items = v.v;
        n->nitems = v.n;
        expect(P, T_OPEN_STMT, "Expected {% token");
        expect_ident(P, "endset");
    }
    expect(P, T_CLOSE_STMT, "Expected closing statement token");
    return fin(P, n);
}

static struct node *parse_if(struct P *P, size_t t0)
{
    enter(P);
    struct node *n = mk(P, N_IF, t0);
    n->a = parse_expression(P);
    expect(P, T_CLOSE_STMT, "Expected closing statement token");
    struct vec body = {0}, alt = {0};
    body_until(P, &body, "elif", "else", "endif", "endif");
    if (is_statement(P, "elif", NULL, NULL)) {
        size_t t1 = P->cur;
        P->cur += 2;
        vpush(P, &alt, parse_if(P, t1));
    } else if (is_statement(P, "else", NULL, NULL)) {
        P->cur += 2;
        expect(P, T_CLOSE_STMT, "Expected closing statement token");
        body_until(P, &alt, "endif", NULL, NULL, "endif");
    }
    n->items = body.v; n->nitems = body.n;
    n->items2 = alt.v; n->nitems2 = alt.n;
    LEAVE(P);
    return fin(P, n);
}

static struct node *parse_macro(struct P *P, size_t t0)
{
    struct node *n = mk(P, N_MACRO, t0);
    struct node *name = parse_primary(P);
    if (name->kind != N_IDENT) p_fail(P, P->cur - 1, "Expected identifier following macro statement");
    n->name = name->name;
    struct vec params = {0}, body = {0};
    parse_args(P, M_PARAMS, &params);
    expect(P, T_CLOSE_STMT, "Expected closing statement token");
    body_until(P, &body, "endmacro", NULL, NULL, "endmacro");
    n->items = params.v; n->nitems = params.n;
    n->items2 = body.v; n->nitems2 = body.n;
    n->flags = (uint8_t)special_flags(n->items, n->nitems, n->items2, n->nitems2);
    return fin(P, n);
}

static struct node *parse_for(struct P *P, size_t t0)
{
    struct node *n = mk(P, N_FOR, t0);
    size_t tv = P->cur;
    n->a = parse_expr_seq(P, 1);
    if (n->a->kind != N_IDENT && n->a->kind != N_TUPLE)
        p_fail(P, tv, "Expected identifier/tuple for the loop variable, got %s instead", jj_node_type_name(n->a));
    if (!is_ident(P, "in")) {
        if (P->cur >= P->n) p_fail_end(P);
        p_fail(P, P->cur, "Expected `in` keyword following loop variable");
    }
    P->cur++;
    n->b = parse_expression(P);
    expect(P, T_CLOSE_STMT, "Expected closing statement token");
    struct vec body = {0}, alt = {0};
    body_until(P, &body, "endfor", "else", NULL, "endfor");
    if (is_statement(P, "else", NULL, NULL)) {
        P->cur += 2;
        expect(P, T_CLOSE_STMT, "Expected closing statement token");
        body_until(P, &alt, "endfor", NULL, NULL, "endfor");
    }
    n->items = body.v; n->nitems = body.n;
    n->items2 = alt.v; n->nitems2 = alt.n;
    return fin(P, n);
}

static struct node *parse_statement(struct P *P)
{
    size_t t0 = P->cur;
    expect(P, T_OPEN_STMT, "Expected opening statement token");
    struct token *t = tk(P, P->cur);
    if (t->type != T_IDENT) p_fail(P, P->cur, "Unknown statement, got %s", TNAMES[t->type]);
    const char *name = t->s;
    struct node *res;
    if (!strcmp(name, "set")) {
        P->cur++;
        res = parse_set(P, t0);
    } else if (!strcmp(name, "if")) {
        P->cur++;
        res = parse_if(P, t0);
        expect(P, T_OPEN_STMT, "Expected {% token");
        expect_ident(P, "endif");
        expect(P, T_CLOSE_STMT, "Expected %} token");
    } else if (!strcmp(name, "macro")) {
        P->cur++;
        res = parse_macro(P, t0);
        expect(P, T_OPEN_STMT, "Expected {% token");
        expect_ident(P, "endmacro");
        expect(P, T_CLOSE_STMT, "Expected %} token");
    } else if (!strcmp(name, "for")) {
        P->cur++;
        res = parse_for(P, t0);
        expect(P, T_OPEN_STMT, "Expected {% token");
        expect_ident(P, "endfor");
        expect(P, T_CLOSE_STMT, "Expected %} token");
    } else if (!strcmp(name, "call")) {
        P->cur++;
        res = mk(P, N_CALLSTMT, t0);
        struct vec cargs = {0}, body = {0};
        if (is(P, T_LPAREN)) {
            parse_args(P, M_PARAMS, &cargs);
            res->flags |= NF_CALLER_ARGS;
        }
        size_t tc = P->cur;
        struct node *callee = parse_primary(P);
        if (callee->kind != N_IDENT) p_fail(P, tc, "Expected identifier following call statement");
        struct node *call = mk(P, N_CALL, tc);
        call->a = callee;
        struct vec args = {0};
        parse_args(P, M_CALL, &args);
        call->items = args.v;
        call->nitems = args.n;
        res->a = fin(P, call);
        expect(P, T_CLOSE_STMT, "Expected closing statement token");
        body_until(P, &body, "endcall", NULL, NULL, "endcall");
        expect(P, T_OPEN_STMT, "Expected '{%'");
        expect_ident(P, "endcall");
        expect(P, T_CLOSE_STMT, "Expected closing statement token");
        res->items = cargs.v; res->nitems = cargs.n;
        res->items2 = body.v; res->nitems2 = body.n;
        res->flags |= (uint8_t)special_flags(res->items, res->nitems, res->items2, res->nitems2);
        res = fin(P, res);
    } else if (!strcmp(name, "break") || !strcmp(name, "continue")) {
        P->cur++;
        expect(P, T_CLOSE_STMT, "Expected closing statement token");
        res = mk(P, name[0] == 'b' ? N_BREAK : N_CONTINUE, t0);
    } else if (!strcmp(name, "filter")) {
        P->cur++;
        res = mk(P, N_FILTERSTMT, t0);
        struct node *f = parse_primary(P);
        if (f->kind == N_IDENT && is(P, T_LPAREN)) f = parse_call(P, f);
        res->b = f;
        expect(P, T_CLOSE_STMT, "Expected closing statement token");
        struct vec body = {0};
        body_until(P, &body, "endfilter", NULL, NULL, "endfilter");
        expect(P, T_OPEN_STMT, "Expected '{%'");
        expect_ident(P, "endfilter");
        expect(P, T_CLOSE_STMT, "Expected '%}'");
        res->items = body.v;
        res->nitems = body.n;
        res = fin(P, res);
    } else {
        if (P->nopen && P->nopen <= 64)
            p_fail(P, P->cur, "Unknown statement type: %s (expected {%% %s %%})", name, P->open[P->nopen - 1]);
        p_fail(P, P->cur, "Unknown statement type: %s", name);
    }
    return res;
}

static struct node *parse_any(struct P *P)
{
    enter(P);
    struct token *t = tk(P, P->cur);
    struct node *n;
    switch (t->type) {
    case T_COMMENT:
        n = mk(P, N_COMMENT, P->cur++);
        break;
    case T_TEXT:
        n = mk(P, N_TEXT, P->cur);
        n->val = jv_strv(tstr(P, t));
        P->cur++;
        break;
    case T_OPEN_STMT:
        n = parse_statement(P);
        break;
    case T_OPEN_EXPR:
        P->cur++;
        n = parse_expression(P);
        expect(P, T_CLOSE_EXPR, "Expected closing expression token");
        break;
    default:
        p_fail(P, P->cur, "Unexpected token type: %s", TNAMES[t->type]);
    }
    LEAVE(P);
    return n;
}

/* ---- expressions ----------------------------------------------------------- */

static struct node *binary(struct P *P, int op, size_t tok, struct node *l, struct node *r)
{
    struct node *n = mk(P, N_BINARY, tok);
    n->op = (uint8_t)op;
    n->a = l;
    n->b = r;
    return fin(P, n);
}

static struct node *parse_or(struct P *P);

static struct node *parse_if_expr(struct P *P)
{
    enter(P);
    struct node *a = parse_or(P);
    if (is_ident(P, "if")) {
        size_t t0 = P->cur++;
        struct node *test = parse_or(P);
        struct node *n;
        if (is_ident(P, "else")) {
            P->cur++;
            struct node *f = parse_if_expr(P);
            n = mk(P, N_TERNARY, t0);
            n->a = test; n->b = a; n->c = f;
        } else {
            n = mk(P, N_SELECT, t0);
            n->a = a; n->b = test;
        }
        n->line = a->line;
        n->col = a->col;
        a = fin(P, n);
    }
    LEAVE(P);
    return a;
}

static struct node *parse_expression(struct P *P)
{
    enter(P);
    struct node *n = parse_if_expr(P);
    LEAVE(P);
    return n;
}

static struct node *parse_not(struct P *P);

static struct node *parse_and(struct P *P)
{
    struct node *l = parse_not(P);
    while (is_ident(P, "and")) {
        size_t t = P->cur++;
        l = binary(P, OP_AND, t, l, parse_not(P));
    }
    return l;
}

static struct node *parse_or(struct P *P)
{
    struct node *l = parse_and(P);
    while (is_ident(P, "or")) {
        size_t t = P->cur++;
        l = binary(P, OP_OR, t, l, parse_and(P));
    }
    return l;
}

static struct node *parse_comparison(struct P *P);

static struct node *parse_not(struct P *P)
{
    enter(P);
    struct node *right = NULL;
    while (is_ident(P, "not")) {
        size_t t = P->cur++;
        struct node *arg = parse_not(P);
        right = mk(P, N_UNARY, t);
        right->op = OP_NOT;
        right->a = arg;
        right = fin(P, right);
    }
    if (!right) right = parse_comparison(P);
    LEAVE(P);
    return right;
}

static struct node *parse_additive(struct P *P);

static struct node *parse_comparison(struct P *P)
{
    struct node *l = parse_additive(P);
    for (;;) {
        int op;
        size_t t = P->cur;
        if (is_ident(P, "not") && P->cur + 1 < P->n && tok_is(&P->t[P->cur + 1], T_IDENT, "in")) {
            op = OP_NOTIN;
            P->cur += 2;
        } else if (is_ident(P, "in")) {
            op = OP_IN;
            P->cur++;
        } else if (is(P, T_CMP)) {
            const char *v = P->t[P->cur].s;
            op = !strcmp(v, "==") ? OP_EQ : !strcmp(v, "!=") ? OP_NE : !strcmp(v, "<") ? OP_LT
               : !strcmp(v, ">") ? OP_GT : !strcmp(v, "<=") ? OP_LE : OP_GE;
            P->cur++;
        } else {
            break;
        }
        l = binary(P, op, t, l, parse_additive(P));
    }
    return l;
}

static struct node *parse_multiplicative(struct P *P);

static struct node *parse_additive(struct P *P)
{
    struct node *l = parse_multiplicative(P);
    while (is(P, T_ADD)) {
        size_t t = P->cur++;
        const char *v = P->t[t].s;
        int op = v[0] == '+' ? OP_ADD : v[0] == '-' ? OP_SUB : OP_CONCAT;
        l = binary(P, op, t, l, parse_multiplicative(P));
    }
    return l;
}

static struct node *parse_member(struct P *P, struct node *obj);

static struct node *parse_call_member(struct P *P)
{
    struct node *m = parse_member(P, parse_primary(P));
    if (is(P, T_LPAREN)) return parse_call(P, m);
    return m;
}

static struct node *parse_call(struct P *P, struct node *callee)
{
    enter(P);
    struct node *n = mk(P, N_CALL, P->cur);
    n->line = callee->line;
    n->col = callee->col;
    n->a = callee;
    struct vec args = {0};
    parse_args(P, M_CALL, &args);
    n->items = args.v;
    n->nitems = args.n;
    struct node *e = parse_member(P, fin(P, n));
    if (is(P, T_LPAREN)) e = parse_call(P, e);
    LEAVE(P);
    return e;
}

static void parse_arg_list(struct P *P, int mode, struct vec *args)
{
    int saw_kw = 0, saw_spread = 0;
    struct vec names = {0};
    while (!is(P, T_RPAREN)) {
        if (P->cur >= P->n) p_fail_end(P);
        size_t t0 = P->cur;
        int kwspread = is(P, T_POW);
        int posspread = is(P, T_MUL) && !strcmp(P->t[P->cur].s, "*");
        if (mode == M_PARAMS && (kwspread || posspread))
            p_fail(P, t0, "Argument unpacking is not allowed in parameter declarations");
        if (kwspread) {
            P->cur++;
            struct node *n = mk(P, N_KWSPREAD, t0);
            n->a = parse_expression(P);
            vpush(P, args, fin(P, n));
            if (is(P, T_COMMA)) P->cur++;
            if (!is(P, T_RPAREN)) p_fail(P, P->cur, "Expected closing parenthesis: `**` must be applied to the final argument");
            break;
        }
        struct node *arg;
        if (posspread) {
            if (saw_spread) p_fail(P, t0, "Only one `*` argument unpacking is allowed");
            saw_spread = 1;
            P->cur++;
            arg = mk(P, N_SPREAD, t0);
            arg->a = parse_expression(P);
            arg = fin(P, arg);
        } else {
            arg = parse_expression(P);
            if (is(P, T_EQUALS)) {
                P->cur++;
                if (arg->kind != N_IDENT)
                    p_fail(P, t0, mode == M_PARAMS ? "Expected identifier for parameter declaration"
                                                   : "Expected identifier for keyword argument");
                struct node *kw = mk(P, N_KWARG, t0);
                kw->name = arg->name;
                kw->a = parse_expression(P);
                arg = fin(P, kw);
            }
            if (mode == M_PARAMS) {
                if (arg->kind != N_IDENT && arg->kind != N_KWARG)
                    p_fail(P, t0, "Expected identifier for parameter declaration");
                for (int i = 0; i < names.n; i++)
                    if (!strcmp(names.v[i]->name->s, arg->name->s))
                        p_fail(P, t0, "Duplicate parameter name: %s", arg->name->s);
                vpush(P, &names, arg);
            }
            if (arg->kind == N_KWARG) saw_kw = 1;
            else if (saw_kw)
                p_fail(P, t0, mode == M_CALL ? "Positional arguments must come before keyword arguments"
                                             : "Non-default argument follows default argument");
            else if (saw_spread)
                p_fail(P, t0, "Positional arguments must not follow `*` argument unpacking");
        }
        vpush(P, args, arg);
        if (is(P, T_COMMA)) P->cur++;
    }
}

static void parse_args(struct P *P, int mode, struct vec *out)
{
    expect(P, T_LPAREN, "Expected opening parenthesis for arguments list");
    parse_arg_list(P, mode, out);
    expect(P, T_RPAREN, "Expected closing parenthesis for arguments list");
}

static struct node *parse_member_args(struct P *P, size_t t0)
{
    struct node *sl[64];
    int n = 0, is_slice = 0;
    while (!is(P, T_RBRACKET)) {
        if (P->cur >= P->n) p_fail_end(P);
        if (n >= 64) p_fail(P, P->cur, "Expected 0-3 arguments for slice expression");
        if (is(P, T_COLON)) {
            sl[n++] = NULL;
            P->cur++;
            is_slice = 1;
        } else {
            sl[n++] = parse_expression(P);
            if (is(P, T_COLON)) {
                P->cur++;
                is_slice = 1;
            }
        }
    }
    if (!n) p_fail(P, t0, "Expected at least one argument for member/slice expression");
    if (is_slice) {
        if (n > 3) p_fail(P, t0, "Expected 0-3 arguments for slice expression");
        struct node *s = mk(P, N_SLICE, t0);
        s->a = sl[0];
        s->b = n > 1 ? sl[1] : NULL;
        s->c = n > 2 ? sl[2] : NULL;
        return fin(P, s);
    }
    return sl[0];
}

static struct node *parse_member(struct P *P, struct node *obj)
{
    while (is(P, T_DOT) || is(P, T_LBRACKET)) {
        size_t t0 = P->cur++;
        int computed = P->t[t0].type == T_LBRACKET;
        struct node *prop;
        if (computed) {
            prop = parse_member_args(P, t0);
            expect(P, T_RBRACKET, "Expected closing square bracket");
        } else {
            prop = parse_primary(P);
            if (prop->kind != N_IDENT && prop->kind != N_INT)
                p_fail(P, t0 + 1, "Expected identifier or integer following dot operator");
        }
        struct node *m = mk(P, N_MEMBER, t0);
        m->a = obj;
        m->b = prop;
        m->flags = computed ? NF_COMPUTED : 0;
        m->line = obj->line;
        m->col = obj->col;
        obj = fin(P, m);
    }
    return obj;
}

static struct node *parse_test(struct P *P);

static struct node *parse_multiplicative(struct P *P)
{
    struct node *l = parse_test(P);
    /* (parsePowerExpression sits between: ** binds tighter) */
    while (is(P, T_POW)) {
        size_t t = P->cur++;
        l = binary(P, OP_POW, t, l, parse_test(P));
    }
    while (is(P, T_MUL)) {
        size_t t = P->cur++;
        const char *v = P->t[t].s;
        int op = !strcmp(v, "*") ? OP_MUL : !strcmp(v, "//") ? OP_FLOORDIV : !strcmp(v, "/") ? OP_DIV : OP_MOD;
        struct node *r = parse_test(P);
        while (is(P, T_POW)) {
            size_t t2 = P->cur++;
            r = binary(P, OP_POW, t2, r, parse_test(P));
        }
        l = binary(P, op, t, l, r);
    }
    return l;
}

static struct node *parse_filter(struct P *P);

static struct node *parse_test(struct P *P)
{
    struct node *operand = parse_filter(P);
    while (is_ident(P, "is")) {
        size_t t0 = P->cur++;
        int negate = is_ident(P, "not");
        if (negate) P->cur++;
        size_t tt = P->cur;
        struct node *f = parse_primary(P);
        if (f->kind != N_IDENT) p_fail(P, tt, "Expected identifier for the test");
        struct node *n = mk(P, N_TEST, t0);
        n->a = operand;
        n->name = f->name;
        n->flags = negate ? NF_NEGATE : 0;
        n->line = operand->line;
        n->col = operand->col;
        operand = fin(P, n);
    }
    return operand;
}

static struct node *parse_unary(struct P *P);

static struct node *parse_filter(struct P *P)
{
    struct node *operand = parse_unary(P);
    while (is(P, T_PIPE)) {
        size_t t0 = P->cur++;
        size_t tf = P->cur;
        struct node *f = parse_primary(P);
        if (f->kind != N_IDENT) p_fail(P, tf, "Expected identifier for the filter");
        if (is(P, T_LPAREN)) f = parse_call(P, f);
        struct node *n = mk(P, N_FILTER, t0);
        n->a = operand;
        n->b = f;
        operand = fin(P, n);
    }
    return operand;
}

static struct node *parse_unary(struct P *P)
{
    if (P->cur < P->n) {
        struct token *t = &P->t[P->cur];
        if ((t->type == T_UNARY || t->type == T_ADD) && (!strcmp(t->s, "-") || !strcmp(t->s, "+"))) {
            enter(P);
            size_t t0 = P->cur++;
            struct node *arg = parse_unary(P);
            struct node *n = mk(P, N_UNARY, t0);
            n->op = t->s[0] == '-' ? OP_NEG : OP_POS;
            n->a = arg;
            LEAVE(P);
            return fin(P, n);
        }
    }
    return parse_call_member(P);
}

static struct node *parse_primary(struct P *P)
{
    size_t t0 = P->cur;
    struct token *t = tk(P, P->cur++);
    struct node *n;
    switch (t->type) {
    case T_NUMBER: {
        int is_float = memchr(t->s, '.', t->n) != NULL;
        n = mk(P, is_float ? N_FLOAT : N_INT, t0);
        double d = jj_js_to_number(t->s, t->n);
        n->val = is_float ? jv_float(d) : jv_int(d);
        return n;
    }
    case T_STRING: {
        /* concatenate adjacent string literals */
        size_t total = t->n, k = P->cur;
        while (k < P->n && P->t[k].type == T_STRING) total += P->t[k++].n;
        char *buf = jal(&P->ar, total + 1);
        memcpy(buf, t->s, t->n);
        size_t off = t->n;
        while (is(P, T_STRING)) {
            memcpy(buf + off, P->t[P->cur].s, P->t[P->cur].n);
            off += P->t[P->cur].n;
            P->cur++;
        }
        n = mk(P, N_STR, t0);
        n->val = jv_strv(jstr_new(&P->ar, buf, total));
        return n;
    }
    case T_IDENT:
        n = mk(P, N_IDENT, t0);
        n->name = tstr(P, t);
        return n;
    case T_LPAREN: {
        enter(P);
        struct node *e = parse_expr_seq(P, 0);
        expect(P, T_RPAREN, "Expected closing parenthesis");
        LEAVE(P);
        return e;
    }
    case T_LBRACKET: {
        enter(P);
        struct vec v = {0};
        while (!is(P, T_RBRACKET)) {
            if (P->cur >= P->n) p_fail_end(P);
            vpush(P, &v, parse_expression(P));
            if (is(P, T_COMMA)) P->cur++;
        }
        P->cur++;
        n = mk(P, N_ARRAY, t0);
        n->items = v.v;
        n->nitems = v.n;
        LEAVE(P);
        return fin(P, n);
    }
    case T_LBRACE: {
        enter(P);
        struct vec k = {0}, v = {0};
        while (!is(P, T_RBRACE)) {
            if (P->cur >= P->n) p_fail_end(P);
            vpush(P, &k, parse_expression(P));
            expect(P, T_COLON, "Expected colon between key and value in object literal");
            vpush(P, &v, parse_expression(P));
            if (is(P, T_COMMA)) P->cur++;
        }
        P->cur++;
        n = mk(P, N_OBJECT, t0);
        n->items = k.v; n->nitems = k.n;
        n->items2 = v.v; n->nitems2 = v.n;
        LEAVE(P);
        return fin(P, n);
    }
    default:
        p_fail(P, t0, "Unexpected token: %s", TNAMES[t->type]);
    }
}

/* ---- entry ----------------------------------------------------------------- */

void jinja_options_init(struct jinja_options *o)
{
    memset(o, 0, sizeof *o);
    o->max_output_bytes = JINJA_DEFAULT_MAX_OUTPUT_BYTES;
    o->max_memory_bytes = JINJA_DEFAULT_MAX_MEMORY_BYTES;
    o->max_loop_iterations = JINJA_DEFAULT_MAX_LOOP_ITERATIONS;
    o->max_depth = JINJA_DEFAULT_MAX_DEPTH;
}

int jinja_parse(const char *src, size_t len, const struct jinja_options *opts, struct jinja_template **out,
                inf_error *err)
{
    struct jinja_options o;
    jinja_options_init(&o);
    if (opts) {
        if (opts->max_output_bytes) o.max_output_bytes = opts->max_output_bytes;
        if (opts->max_memory_bytes) o.max_memory_bytes = opts->max_memory_bytes;
        if (opts->max_loop_iterations) o.max_loop_iterations = opts->max_loop_iterations;
        if (opts->max_depth) o.max_depth = opts->max_depth;
        o.now = opts->now;
        o.now_utc = opts->now_utc;
    }
    inf_error_clear(err);
    *out = NULL;
    if (!src) src = "";
    struct lexed lx;
    size_t errpos = 0;
    if (jinja_lex(src, len, &lx, &errpos, err)) {
        int line, col;
        jinja_pos(src, len, errpos, &line, &col);
        err_prefix(err, "syntax error at line %d, column %d", line, col);
        return -1;
    }
    struct P *P = calloc(1, sizeof *P);
    int *lc = malloc((lx.n + 1) * 2 * sizeof(int));
    if (!P || !lc) {
        free(P);
        free(lc);
        jinja_lexed_free(&lx);
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        return -1;
    }
    P->t = lx.t;
    P->n = lx.n;
    P->tline = lc;
    P->tcol = lc + lx.n + 1;
    {
        /* token positions increase: one pass for all lines and columns */
        int line = 1, col = 1;
        size_t at = 0;
        for (size_t i = 0; i <= lx.n; i++) {
            size_t pos = i < lx.n ? lx.t[i].pos : len;
            if (pos > len) pos = len;
            if (pos < at) { line = 1; col = 1; at = 0; }
            for (; at < pos; at++) {
                if (src[at] == '\n') { line++; col = 1; }
                else if (((unsigned char)src[at] & 0xC0) != 0x80) col++;
            }
            if (i < lx.n) { P->tline[i] = line; P->tcol[i] = col; }
            else { P->end_line = line; P->end_col = col; }
        }
    }
    P->err = err;
    P->maxdepth = o.max_depth;
    P->ar.lim.max_memory = (size_t)-1;
    P->ar.lim.max_output = (size_t)-1;
    P->ar.fail = &P->jb;
    inf_error aerr = {0};
    P->ar.err = &aerr;
    struct jinja_template *T = NULL;
    if (setjmp(P->jb)) {
        if (err && err->status == INF_OK) err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        jarena_free(&P->ar);
        jinja_lexed_free(&lx);
        free(lc);
        free(P);
        return -1;
    }
    struct vec body = {0};
    while (P->cur < P->n) vpush(P, &body, parse_any(P));
    T = jal(&P->ar, sizeof *T);
    memset(T, 0, sizeof *T);
    T->body = body.v;
    T->nbody = body.n;
    T->lim.max_output = o.max_output_bytes;
    T->lim.max_memory = o.max_memory_bytes;
    T->lim.max_loops = o.max_loop_iterations;
    T->lim.max_depth = o.max_depth;
    T->now = o.now;
    T->now_utc = o.now_utc;
    T->chunks = P->ar.chunks;
    jinja_lexed_free(&lx);
    free(lc);
    free(P);
    *out = T;
    return 0;
}

void jinja_template_free(struct jinja_template *T)
{
    if (!T) return;
    struct jrender r;
    memset(&r, 0, sizeof r);
    r.chunks = T->chunks;
    jarena_free(&r); /* T itself lives in its arena */
}
