/* parser_expr.c - the expressions of the Jinja grammar (as
 * @huggingface/jinja's parser.ts orders them): conditional, or, and, not,
 * comparison, additive, multiplicative, test, filter, unary, call and
 * member, primary. */
#include "parser_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- expressions ----------------------------------------------------------- */

static struct node *binary(struct P *P, int op, size_t tok, struct node *l, struct node *r)
{
    struct node *n = jp_mk(P, N_BINARY, tok);
    n->op = (uint8_t)op;
    n->a = l;
    n->b = r;
    return jp_fin(P, n);
}

static struct node *parse_or(struct P *P);

static struct node *parse_if_expr(struct P *P)
{
    jp_enter(P);
    struct node *a = parse_or(P);
    if (jp_is_ident(P, "if")) {
        size_t t0 = P->cur++;
        struct node *test = parse_or(P);
        struct node *n;
        if (jp_is_ident(P, "else")) {
            P->cur++;
            struct node *f = parse_if_expr(P);
            n = jp_mk(P, N_TERNARY, t0);
            n->a = test; n->b = a; n->c = f;
        } else {
            n = jp_mk(P, N_SELECT, t0);
            n->a = a; n->b = test;
        }
        n->line = a->line;
        n->col = a->col;
        a = jp_fin(P, n);
    }
    LEAVE(P);
    return a;
}

struct node *jp_parse_expression(struct P *P)
{
    jp_enter(P);
    struct node *n = parse_if_expr(P);
    LEAVE(P);
    return n;
}

static struct node *parse_not(struct P *P);

static struct node *parse_and(struct P *P)
{
    struct node *l = parse_not(P);
    while (jp_is_ident(P, "and")) {
        size_t t = P->cur++;
        l = binary(P, OP_AND, t, l, parse_not(P));
    }
    return l;
}

static struct node *parse_or(struct P *P)
{
    struct node *l = parse_and(P);
    while (jp_is_ident(P, "or")) {
        size_t t = P->cur++;
        l = binary(P, OP_OR, t, l, parse_and(P));
    }
    return l;
}

static struct node *parse_comparison(struct P *P);

static struct node *parse_not(struct P *P)
{
    jp_enter(P);
    struct node *right = NULL;
    while (jp_is_ident(P, "not")) {
        size_t t = P->cur++;
        struct node *arg = parse_not(P);
        right = jp_mk(P, N_UNARY, t);
        right->op = OP_NOT;
        right->a = arg;
        right = jp_fin(P, right);
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
        if (jp_is_ident(P, "not") && P->cur + 1 < P->n && jp_tok_is(&P->t[P->cur + 1], T_IDENT, "in")) {
            op = OP_NOTIN;
            P->cur += 2;
        } else if (jp_is_ident(P, "in")) {
            op = OP_IN;
            P->cur++;
        } else if (jp_is(P, T_CMP)) {
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
    while (jp_is(P, T_ADD)) {
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
    struct node *m = parse_member(P, jp_parse_primary(P));
    if (jp_is(P, T_LPAREN)) return jp_parse_call(P, m);
    return m;
}

struct node *jp_parse_call(struct P *P, struct node *callee)
{
    jp_enter(P);
    struct node *n = jp_mk(P, N_CALL, P->cur);
    n->line = callee->line;
    n->col = callee->col;
    n->a = callee;
    struct vec args = {0};
    jp_parse_args(P, M_CALL, &args);
    n->items = args.v;
    n->nitems = args.n;
    struct node *e = parse_member(P, jp_fin(P, n));
    if (jp_is(P, T_LPAREN)) e = jp_parse_call(P, e);
    LEAVE(P);
    return e;
}

static void parse_arg_list(struct P *P, int mode, struct vec *args)
{
    int saw_kw = 0, saw_spread = 0;
    struct vec names = {0};
    while (!jp_is(P, T_RPAREN)) {
        if (P->cur >= P->n) jp_p_fail_end(P);
        size_t t0 = P->cur;
        int kwspread = jp_is(P, T_POW);
        int posspread = jp_is(P, T_MUL) && !strcmp(P->t[P->cur].s, "*");
        if (mode == M_PARAMS && (kwspread || posspread))
            jp_p_fail(P, t0, "Argument unpacking is not allowed in parameter declarations");
        if (kwspread) {
            P->cur++;
            struct node *n = jp_mk(P, N_KWSPREAD, t0);
            n->a = jp_parse_expression(P);
            jp_vpush(P, args, jp_fin(P, n));
            if (jp_is(P, T_COMMA)) P->cur++;
            if (!jp_is(P, T_RPAREN)) jp_p_fail(P, P->cur, "Expected closing parenthesis: `**` must be applied to the final argument");
            break;
        }
        struct node *arg;
        if (posspread) {
            if (saw_spread) jp_p_fail(P, t0, "Only one `*` argument unpacking is allowed");
            saw_spread = 1;
            P->cur++;
            arg = jp_mk(P, N_SPREAD, t0);
            arg->a = jp_parse_expression(P);
            arg = jp_fin(P, arg);
        } else {
            arg = jp_parse_expression(P);
            if (jp_is(P, T_EQUALS)) {
                P->cur++;
                if (arg->kind != N_IDENT)
                    jp_p_fail(P, t0, mode == M_PARAMS ? "Expected identifier for parameter declaration"
                                                   : "Expected identifier for keyword argument");
                struct node *kw = jp_mk(P, N_KWARG, t0);
                kw->name = arg->name;
                kw->a = jp_parse_expression(P);
                arg = jp_fin(P, kw);
            }
            if (mode == M_PARAMS) {
                if (arg->kind != N_IDENT && arg->kind != N_KWARG)
                    jp_p_fail(P, t0, "Expected identifier for parameter declaration");
                for (int i = 0; i < names.n; i++)
                    if (!strcmp(names.v[i]->name->s, arg->name->s))
                        jp_p_fail(P, t0, "Duplicate parameter name: %s", arg->name->s);
                jp_vpush(P, &names, arg);
            }
            if (arg->kind == N_KWARG) saw_kw = 1;
            else if (saw_kw)
                jp_p_fail(P, t0, mode == M_CALL ? "Positional arguments must come before keyword arguments"
                                             : "Non-default argument follows default argument");
            else if (saw_spread)
                jp_p_fail(P, t0, "Positional arguments must not follow `*` argument unpacking");
        }
        jp_vpush(P, args, arg);
        if (jp_is(P, T_COMMA)) P->cur++;
    }
}

void jp_parse_args(struct P *P, int mode, struct vec *out)
{
    jp_expect(P, T_LPAREN, "Expected opening parenthesis for arguments list");
    parse_arg_list(P, mode, out);
    jp_expect(P, T_RPAREN, "Expected closing parenthesis for arguments list");
}

static struct node *parse_member_args(struct P *P, size_t t0)
{
    struct node *sl[64];
    int n = 0, is_slice = 0;
    while (!jp_is(P, T_RBRACKET)) {
        if (P->cur >= P->n) jp_p_fail_end(P);
        if (n >= 64) jp_p_fail(P, P->cur, "Expected 0-3 arguments for slice expression");
        if (jp_is(P, T_COLON)) {
            sl[n++] = NULL;
            P->cur++;
            is_slice = 1;
        } else {
            sl[n++] = jp_parse_expression(P);
            if (jp_is(P, T_COLON)) {
                P->cur++;
                is_slice = 1;
            }
        }
    }
    if (!n) jp_p_fail(P, t0, "Expected at least one argument for member/slice expression");
    if (is_slice) {
        if (n > 3) jp_p_fail(P, t0, "Expected 0-3 arguments for slice expression");
        struct node *s = jp_mk(P, N_SLICE, t0);
        s->a = sl[0];
        s->b = n > 1 ? sl[1] : NULL;
        s->c = n > 2 ? sl[2] : NULL;
        return jp_fin(P, s);
    }
    return sl[0];
}

static struct node *parse_member(struct P *P, struct node *obj)
{
    while (jp_is(P, T_DOT) || jp_is(P, T_LBRACKET)) {
        size_t t0 = P->cur++;
        int computed = P->t[t0].type == T_LBRACKET;
        struct node *prop;
        if (computed) {
            prop = parse_member_args(P, t0);
            jp_expect(P, T_RBRACKET, "Expected closing square bracket");
        } else {
            prop = jp_parse_primary(P);
            if (prop->kind != N_IDENT && prop->kind != N_INT)
                jp_p_fail(P, t0 + 1, "Expected identifier or integer following dot operator");
        }
        struct node *m = jp_mk(P, N_MEMBER, t0);
        m->a = obj;
        m->b = prop;
        m->flags = computed ? NF_COMPUTED : 0;
        m->line = obj->line;
        m->col = obj->col;
        obj = jp_fin(P, m);
    }
    return obj;
}

static struct node *parse_test(struct P *P);

static struct node *parse_multiplicative(struct P *P)
{
    struct node *l = parse_test(P);
    /* (parsePowerExpression sits between: ** binds tighter) */
    while (jp_is(P, T_POW)) {
        size_t t = P->cur++;
        l = binary(P, OP_POW, t, l, parse_test(P));
    }
    while (jp_is(P, T_MUL)) {
        size_t t = P->cur++;
        const char *v = P->t[t].s;
        int op = !strcmp(v, "*") ? OP_MUL : !strcmp(v, "//") ? OP_FLOORDIV : !strcmp(v, "/") ? OP_DIV : OP_MOD;
        struct node *r = parse_test(P);
        while (jp_is(P, T_POW)) {
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
    while (jp_is_ident(P, "is")) {
        size_t t0 = P->cur++;
        int negate = jp_is_ident(P, "not");
        if (negate) P->cur++;
        size_t tt = P->cur;
        struct node *f = jp_parse_primary(P);
        if (f->kind != N_IDENT) jp_p_fail(P, tt, "Expected identifier for the test");
        struct node *n = jp_mk(P, N_TEST, t0);
        n->a = operand;
        n->name = f->name;
        n->flags = negate ? NF_NEGATE : 0;
        n->line = operand->line;
        n->col = operand->col;
        operand = jp_fin(P, n);
    }
    return operand;
}

static struct node *parse_unary(struct P *P);

static struct node *parse_filter(struct P *P)
{
    struct node *operand = parse_unary(P);
    while (jp_is(P, T_PIPE)) {
        size_t t0 = P->cur++;
        size_t tf = P->cur;
        struct node *f = jp_parse_primary(P);
        if (f->kind != N_IDENT) jp_p_fail(P, tf, "Expected identifier for the filter");
        if (jp_is(P, T_LPAREN)) f = jp_parse_call(P, f);
        struct node *n = jp_mk(P, N_FILTER, t0);
        n->a = operand;
        n->b = f;
        operand = jp_fin(P, n);
    }
    return operand;
}

static struct node *parse_unary(struct P *P)
{
    if (P->cur < P->n) {
        struct token *t = &P->t[P->cur];
        if ((t->type == T_UNARY || t->type == T_ADD) && (!strcmp(t->s, "-") || !strcmp(t->s, "+"))) {
            jp_enter(P);
            size_t t0 = P->cur++;
            struct node *arg = parse_unary(P);
            struct node *n = jp_mk(P, N_UNARY, t0);
            n->op = t->s[0] == '-' ? OP_NEG : OP_POS;
            n->a = arg;
            LEAVE(P);
            return jp_fin(P, n);
        }
    }
    return parse_call_member(P);
}

struct node *jp_parse_primary(struct P *P)
{
    size_t t0 = P->cur;
    struct token *t = jp_tk(P, P->cur++);
    struct node *n;
    switch (t->type) {
    case T_NUMBER: {
        int is_float = memchr(t->s, '.', t->n) != NULL;
        n = jp_mk(P, is_float ? N_FLOAT : N_INT, t0);
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
        while (jp_is(P, T_STRING)) {
            memcpy(buf + off, P->t[P->cur].s, P->t[P->cur].n);
            off += P->t[P->cur].n;
            P->cur++;
        }
        n = jp_mk(P, N_STR, t0);
        n->val = jv_strv(jstr_new(&P->ar, buf, total));
        return n;
    }
    case T_IDENT:
        n = jp_mk(P, N_IDENT, t0);
        n->name = jp_tstr(P, t);
        return n;
    case T_LPAREN: {
        jp_enter(P);
        struct node *e = jp_parse_expr_seq(P, 0);
        jp_expect(P, T_RPAREN, "Expected closing parenthesis");
        LEAVE(P);
        return e;
    }
    case T_LBRACKET: {
        jp_enter(P);
        struct vec v = {0};
        while (!jp_is(P, T_RBRACKET)) {
            if (P->cur >= P->n) jp_p_fail_end(P);
            jp_vpush(P, &v, jp_parse_expression(P));
            if (jp_is(P, T_COMMA)) P->cur++;
        }
        P->cur++;
        n = jp_mk(P, N_ARRAY, t0);
        n->items = v.v;
        n->nitems = v.n;
        LEAVE(P);
        return jp_fin(P, n);
    }
    case T_LBRACE: {
        jp_enter(P);
        struct vec k = {0}, v = {0};
        while (!jp_is(P, T_RBRACE)) {
            if (P->cur >= P->n) jp_p_fail_end(P);
            jp_vpush(P, &k, jp_parse_expression(P));
            jp_expect(P, T_COLON, "Expected colon between key and value in object literal");
            jp_vpush(P, &v, jp_parse_expression(P));
            if (jp_is(P, T_COMMA)) P->cur++;
        }
        P->cur++;
        n = jp_mk(P, N_OBJECT, t0);
        n->items = k.v; n->nitems = k.n;
        n->items2 = v.v; n->nitems2 = v.n;
        LEAVE(P);
        return jp_fin(P, n);
    }
    default:
        jp_p_fail(P, t0, "Unexpected token: %s", JP_TOKEN_NAMES[t->type]);
    }
}

