/* parser.c - tokens to AST, the grammar of @huggingface/jinja's parser.ts
 * (same precedence, same leniencies, same syntax errors), with each node's
 * line and column, and nesting bounded by the max_depth option. */
#include "parser_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jarena_free(struct jrender *r);

const char *const JP_TOKEN_NAMES[] = {
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

_Noreturn void jp_p_fail(struct P *P, size_t tok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vfail(P->err, INF_ERR_TEMPLATE, fmt, ap);
    va_end(ap);
    int line = tok < P->n ? P->tline[tok] : P->end_line, col = tok < P->n ? P->tcol[tok] : P->end_col;
    err_prefix(P->err, "syntax error at line %d, column %d", line, col);
    longjmp(P->jb, 1);
}

_Noreturn void jp_p_fail_end(struct P *P)
{
    if (P->nopen) jp_p_fail(P, P->n, "unexpected end of template, expected {%% %s %%}", P->open[P->nopen - 1]);
    jp_p_fail(P, P->n, "unexpected end of template");
}

struct token *jp_tk(struct P *P, size_t i)
{
    if (i >= P->n) jp_p_fail_end(P);
    return &P->t[i];
}

void jp_enter(struct P *P)
{
    if (++P->rec > P->maxdepth) jp_p_fail(P, P->cur, "template nested too deeply (max_depth=%u)", P->maxdepth);
}

struct node *jp_mk(struct P *P, int kind, size_t tok)
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
struct node *jp_fin(struct P *P, struct node *n)
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


void jp_vpush(struct P *P, struct vec *v, struct node *x)
{
    if (v->n == v->cap) {
        int nc = v->cap ? v->cap * 2 : 4;
        v->v = jal_grow(&P->ar, v->v, (size_t)v->cap * sizeof(struct node *), (size_t)nc * sizeof(struct node *));
        v->cap = nc;
    }
    v->v[v->n++] = x;
}

jstr *jp_tstr(struct P *P, const struct token *t) { return jstr_new(&P->ar, t->s, t->n); }

int jp_is(struct P *P, int type) { return P->cur < P->n && P->t[P->cur].type == type; }
int jp_tok_is(const struct token *t, int type, const char *v) { return t->type == type && strcmp(t->s, v) == 0; }

int jp_is_ident(struct P *P, const char *name)
{
    return P->cur < P->n && jp_tok_is(&P->t[P->cur], T_IDENT, name);
}

int jp_is_statement(struct P *P, const char *a, const char *b, const char *c)
{
    if (!(P->cur + 1 < P->n && P->t[P->cur].type == T_OPEN_STMT && P->t[P->cur + 1].type == T_IDENT)) return 0;
    const char *v = P->t[P->cur + 1].s;
    return (a && !strcmp(v, a)) || (b && !strcmp(v, b)) || (c && !strcmp(v, c));
}

struct token *jp_expect(struct P *P, int type, const char *msg)
{
    size_t i = P->cur++;
    if (i >= P->n) jp_p_fail_end(P);
    if (P->t[i].type != type) jp_p_fail(P, i, "Parser Error: %s. %s !== %s.", msg, JP_TOKEN_NAMES[P->t[i].type], JP_TOKEN_NAMES[type]);
    return &P->t[i];
}

void jp_expect_ident(struct P *P, const char *name)
{
    if (!jp_is_ident(P, name)) {
        if (P->cur >= P->n) jp_p_fail_end(P);
        jp_p_fail(P, P->cur, "Expected %s", name);
    }
    P->cur++;
}


static void body_until(struct P *P, struct vec *v, const char *a, const char *b, const char *c, const char *want)
{
    if (P->nopen < 64) P->open[P->nopen] = want;
    P->nopen++;
    while (!jp_is_statement(P, a, b, c)) jp_vpush(P, v, jp_parse_any(P));
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

struct node *jp_parse_expr_seq(struct P *P, int primary)
{
    size_t t0 = P->cur;
    struct node *first = primary ? jp_parse_primary(P) : jp_parse_expression(P);
    if (!jp_is(P, T_COMMA)) return first;
    struct vec v = {0};
    jp_vpush(P, &v, first);
    while (1) {
        P->cur++;
        jp_vpush(P, &v, primary ? jp_parse_primary(P) : jp_parse_expression(P));
        if (!jp_is(P, T_COMMA)) break;
    }
    struct node *n = jp_mk(P, N_TUPLE, t0);
    n->items = v.v;
    n->nitems = v.n;
    return jp_fin(P, n);
}

static struct node *parse_set(struct P *P, size_t t0)
{
    struct node *n = jp_mk(P, N_SET, t0);
    n->a = jp_parse_expr_seq(P, 0);
    if (jp_is(P, T_EQUALS)) {
        P->cur++;
        n->b = jp_parse_expr_seq(P, 0);
    } else {
        jp_expect(P, T_CLOSE_STMT, "Expected %} token");
        struct vec v = {0};
        body_until(P, &v, "endset", NULL, NULL, "endset");
        n->items = v.v;
        n->nitems = v.n;
        jp_expect(P, T_OPEN_STMT, "Expected {% token");
        jp_expect_ident(P, "endset");
    }
    jp_expect(P, T_CLOSE_STMT, "Expected closing statement token");
    return jp_fin(P, n);
}

static struct node *parse_if(struct P *P, size_t t0)
{
    jp_enter(P);
    struct node *n = jp_mk(P, N_IF, t0);
    n->a = jp_parse_expression(P);
    jp_expect(P, T_CLOSE_STMT, "Expected closing statement token");
    struct vec body = {0}, alt = {0};
    body_until(P, &body, "elif", "else", "endif", "endif");
    if (jp_is_statement(P, "elif", NULL, NULL)) {
        size_t t1 = P->cur;
        P->cur += 2;
        jp_vpush(P, &alt, parse_if(P, t1));
    } else if (jp_is_statement(P, "else", NULL, NULL)) {
        P->cur += 2;
        jp_expect(P, T_CLOSE_STMT, "Expected closing statement token");
        body_until(P, &alt, "endif", NULL, NULL, "endif");
    }
    n->items = body.v; n->nitems = body.n;
    n->items2 = alt.v; n->nitems2 = alt.n;
    LEAVE(P);
    return jp_fin(P, n);
}

static struct node *parse_macro(struct P *P, size_t t0)
{
    struct node *n = jp_mk(P, N_MACRO, t0);
    struct node *name = jp_parse_primary(P);
    if (name->kind != N_IDENT) jp_p_fail(P, P->cur - 1, "Expected identifier following macro statement");
    n->name = name->name;
    struct vec params = {0}, body = {0};
    jp_parse_args(P, M_PARAMS, &params);
    jp_expect(P, T_CLOSE_STMT, "Expected closing statement token");
    body_until(P, &body, "endmacro", NULL, NULL, "endmacro");
    n->items = params.v; n->nitems = params.n;
    n->items2 = body.v; n->nitems2 = body.n;
    n->flags = (uint8_t)special_flags(n->items, n->nitems, n->items2, n->nitems2);
    return jp_fin(P, n);
}

static struct node *parse_for(struct P *P, size_t t0)
{
    struct node *n = jp_mk(P, N_FOR, t0);
    size_t tv = P->cur;
    n->a = jp_parse_expr_seq(P, 1);
    if (n->a->kind != N_IDENT && n->a->kind != N_TUPLE)
        jp_p_fail(P, tv, "Expected identifier/tuple for the loop variable, got %s instead", jj_node_type_name(n->a));
    if (!jp_is_ident(P, "in")) {
        if (P->cur >= P->n) jp_p_fail_end(P);
        jp_p_fail(P, P->cur, "Expected `in` keyword following loop variable");
    }
    P->cur++;
    n->b = jp_parse_expression(P);
    jp_expect(P, T_CLOSE_STMT, "Expected closing statement token");
    struct vec body = {0}, alt = {0};
    body_until(P, &body, "endfor", "else", NULL, "endfor");
    if (jp_is_statement(P, "else", NULL, NULL)) {
        P->cur += 2;
        jp_expect(P, T_CLOSE_STMT, "Expected closing statement token");
        body_until(P, &alt, "endfor", NULL, NULL, "endfor");
    }
    n->items = body.v; n->nitems = body.n;
    n->items2 = alt.v; n->nitems2 = alt.n;
    return jp_fin(P, n);
}

static struct node *parse_statement(struct P *P)
{
    size_t t0 = P->cur;
    jp_expect(P, T_OPEN_STMT, "Expected opening statement token");
    struct token *t = jp_tk(P, P->cur);
    if (t->type != T_IDENT) jp_p_fail(P, P->cur, "Unknown statement, got %s", JP_TOKEN_NAMES[t->type]);
    const char *name = t->s;
    struct node *res;
    if (!strcmp(name, "set")) {
        P->cur++;
        res = parse_set(P, t0);
    } else if (!strcmp(name, "if")) {
        P->cur++;
        res = parse_if(P, t0);
        jp_expect(P, T_OPEN_STMT, "Expected {% token");
        jp_expect_ident(P, "endif");
        jp_expect(P, T_CLOSE_STMT, "Expected %} token");
    } else if (!strcmp(name, "macro")) {
        P->cur++;
        res = parse_macro(P, t0);
        jp_expect(P, T_OPEN_STMT, "Expected {% token");
        jp_expect_ident(P, "endmacro");
        jp_expect(P, T_CLOSE_STMT, "Expected %} token");
    } else if (!strcmp(name, "for")) {
        P->cur++;
        res = parse_for(P, t0);
        jp_expect(P, T_OPEN_STMT, "Expected {% token");
        jp_expect_ident(P, "endfor");
        jp_expect(P, T_CLOSE_STMT, "Expected %} token");
    } else if (!strcmp(name, "call")) {
        P->cur++;
        res = jp_mk(P, N_CALLSTMT, t0);
        struct vec cargs = {0}, body = {0};
        if (jp_is(P, T_LPAREN)) {
            jp_parse_args(P, M_PARAMS, &cargs);
            res->flags |= NF_CALLER_ARGS;
        }
        size_t tc = P->cur;
        struct node *callee = jp_parse_primary(P);
        if (callee->kind != N_IDENT) jp_p_fail(P, tc, "Expected identifier following call statement");
        struct node *call = jp_mk(P, N_CALL, tc);
        call->a = callee;
        struct vec args = {0};
        jp_parse_args(P, M_CALL, &args);
        call->items = args.v;
        call->nitems = args.n;
        res->a = jp_fin(P, call);
        jp_expect(P, T_CLOSE_STMT, "Expected closing statement token");
        body_until(P, &body, "endcall", NULL, NULL, "endcall");
        jp_expect(P, T_OPEN_STMT, "Expected '{%'");
        jp_expect_ident(P, "endcall");
        jp_expect(P, T_CLOSE_STMT, "Expected closing statement token");
        res->items = cargs.v; res->nitems = cargs.n;
        res->items2 = body.v; res->nitems2 = body.n;
        res->flags |= (uint8_t)special_flags(res->items, res->nitems, res->items2, res->nitems2);
        res = jp_fin(P, res);
    } else if (!strcmp(name, "break") || !strcmp(name, "continue")) {
        P->cur++;
        jp_expect(P, T_CLOSE_STMT, "Expected closing statement token");
        res = jp_mk(P, name[0] == 'b' ? N_BREAK : N_CONTINUE, t0);
    } else if (!strcmp(name, "filter")) {
        P->cur++;
        res = jp_mk(P, N_FILTERSTMT, t0);
        struct node *f = jp_parse_primary(P);
        if (f->kind == N_IDENT && jp_is(P, T_LPAREN)) f = jp_parse_call(P, f);
        res->b = f;
        jp_expect(P, T_CLOSE_STMT, "Expected closing statement token");
        struct vec body = {0};
        body_until(P, &body, "endfilter", NULL, NULL, "endfilter");
        jp_expect(P, T_OPEN_STMT, "Expected '{%'");
        jp_expect_ident(P, "endfilter");
        jp_expect(P, T_CLOSE_STMT, "Expected '%}'");
        res->items = body.v;
        res->nitems = body.n;
        res = jp_fin(P, res);
    } else {
        if (P->nopen && P->nopen <= 64)
            jp_p_fail(P, P->cur, "Unknown statement type: %s (expected {%% %s %%})", name, P->open[P->nopen - 1]);
        jp_p_fail(P, P->cur, "Unknown statement type: %s", name);
    }
    return res;
}

struct node *jp_parse_any(struct P *P)
{
    jp_enter(P);
    struct token *t = jp_tk(P, P->cur);
    struct node *n;
    switch (t->type) {
    case T_COMMENT:
        n = jp_mk(P, N_COMMENT, P->cur++);
        break;
    case T_TEXT:
        n = jp_mk(P, N_TEXT, P->cur);
        n->val = jv_strv(jp_tstr(P, t));
        P->cur++;
        break;
    case T_OPEN_STMT:
        n = parse_statement(P);
        break;
    case T_OPEN_EXPR:
        P->cur++;
        n = jp_parse_expression(P);
        jp_expect(P, T_CLOSE_EXPR, "Expected closing expression token");
        break;
    default:
        jp_p_fail(P, P->cur, "Unexpected token type: %s", JP_TOKEN_NAMES[t->type]);
    }
    LEAVE(P);
    return n;
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
    while (P->cur < P->n) jp_vpush(P, &body, jp_parse_any(P));
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
