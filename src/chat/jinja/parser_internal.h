/* parser_internal.h - INTERNAL to the Jinja parser: its state and the
 * helpers shared by parser.c (tokens, nodes, statements, the entry point)
 * and parser_expr.c (expressions). */
#ifndef INF_CHAT_JINJA_PARSER_INTERNAL_H
#define INF_CHAT_JINJA_PARSER_INTERNAL_H

#include "jinja_internal.h"

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

/* The token types' names as @huggingface/jinja prints them. */
extern const char *const JP_TOKEN_NAMES[];

/* A growable list of nodes. */
struct vec { struct node **v; int n, cap; };

/* Leaves a nesting level entered with jp_enter. */
#define LEAVE(P) ((P)->rec--)

_Noreturn void jp_p_fail(struct P *P, size_t tok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
_Noreturn void jp_p_fail_end(struct P *P);
struct token *jp_tk(struct P *P, size_t i);
void jp_enter(struct P *P);
struct node *jp_mk(struct P *P, int kind, size_t tok);
struct node *jp_fin(struct P *P, struct node *n);
void jp_vpush(struct P *P, struct vec *v, struct node *x);
jstr *jp_tstr(struct P *P, const struct token *t);
int jp_is(struct P *P, int type);
int jp_tok_is(const struct token *t, int type, const char *v);
int jp_is_ident(struct P *P, const char *name);
int jp_is_statement(struct P *P, const char *a, const char *b, const char *c);
struct token *jp_expect(struct P *P, int type, const char *msg);
void jp_expect_ident(struct P *P, const char *name);
struct node *jp_parse_expr_seq(struct P *P, int primary);
struct node *jp_parse_any(struct P *P);
struct node *jp_parse_expression(struct P *P);
struct node *jp_parse_primary(struct P *P);
struct node *jp_parse_call(struct P *P, struct node *callee);
void jp_parse_args(struct P *P, int mode, struct vec *out);

#endif
