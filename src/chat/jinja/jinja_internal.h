/* jinja_internal.h - shared by the files of the Jinja interpreter. */
#ifndef INF_TEXT_JINJA_INTERNAL_H
#define INF_TEXT_JINJA_INTERNAL_H

#include "base/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include "jinja.h"

/* ---- Values ------------------------------------------------------------ */

enum jkind {
    JV_UNDEF, /* UndefinedValue */
    JV_NONE,  /* NullValue */
    JV_BOOL,
    JV_INT,   /* IntegerValue: a JavaScript number, so a double */
    JV_FLOAT,
    JV_STR,
    JV_LIST,  /* ArrayValue; flag JF_TUPLE: TupleValue */
    JV_DICT,  /* ObjectValue; flag JF_KWARGS: KeywordArgumentsValue */
    JV_NS,    /* NamespaceValue */
    JV_FUNC,
    JV_HOLE,  /* a bare JavaScript `undefined` (e.g. []|first): most uses of it fail */
    JV_LOOP   /* internal: the `loop` variable before it is needed as a dict */
};
#define JF_TUPLE 1
#define JF_KWARGS 2

typedef struct jstr { size_t len; char s[]; } jstr;
typedef struct jlist jlist;
typedef struct jdict jdict;
typedef struct jfunc jfunc;
struct jloop;

typedef struct jv {
    uint8_t k, f;
    union { double n; int b; jstr *s; jlist *l; jdict *d; jfunc *fn; struct jloop *loop; } u;
} jv;

struct jlist { size_t n, cap; jv *v; };
struct jdict { size_t n, cap; jstr **k; jv *v; uint32_t *idx; size_t icap; };

struct jinja_value { jv v; };

/* ---- Allocation: a render allocates from an arena freed at its end; values
 * of a context or a template are malloc'd (al == NULL). ------------------ */

struct jrender;
void *jal(struct jrender *r, size_t n);                 /* r == NULL: malloc (NULL on failure) */
void *jal_grow(struct jrender *r, void *p, size_t old, size_t n);

jstr *jstr_new(struct jrender *r, const char *s, size_t n);
static inline jv jv_undef(void) { jv v = {JV_UNDEF, 0, {0}}; return v; }
static inline jv jv_none(void) { jv v = {JV_NONE, 0, {0}}; return v; }
static inline jv jv_hole(void) { jv v = {JV_HOLE, 0, {0}}; return v; }
static inline jv jv_bool(int b) { jv v = {JV_BOOL, 0, {0}}; v.u.b = !!b; return v; }
static inline jv jv_int(double n) { jv v = {JV_INT, 0, {0}}; v.u.n = n; return v; }
static inline jv jv_float(double n) { jv v = {JV_FLOAT, 0, {0}}; v.u.n = n; return v; }
static inline jv jv_strv(jstr *s) { jv v = {JV_STR, 0, {0}}; v.u.s = s; return v; }
static inline int jv_isnum(jv v) { return v.k == JV_INT || v.k == JV_FLOAT; }
jv jv_str(struct jrender *r, const char *s, size_t n);
jv jv_cstr(struct jrender *r, const char *s);
jv jv_list_new(struct jrender *r, size_t cap);
jv jv_dict_new(struct jrender *r, size_t cap);
int jlist_push(struct jrender *r, jlist *l, jv v);      /* -1 only when r == NULL and malloc fails */
jv *jdict_get(const jdict *d, const char *k, size_t n);
int jdict_set(struct jrender *r, jdict *d, jstr *k, jv v);
void jv_free_heap(jv v);                                /* frees a malloc'd value tree */

/* ---- Strings and numbers as JavaScript has them ------------------------- */

typedef struct jsb { char *p; size_t n, cap; } jsb;     /* arena string builder */
void jsb_put(struct jrender *r, jsb *b, const char *s, size_t n);
static inline void jsb_puts(struct jrender *r, jsb *b, const char *s);
void jsb_putc(struct jrender *r, jsb *b, char c);
jv jsb_finish(struct jrender *r, jsb *b);

size_t jj_js_num_fmt(double d, char *buf);                 /* Number.prototype.toString(); buf >= 32 */
size_t jj_js_float_fmt(double d, char *buf);               /* FloatValue.toString(); buf >= 40 */
double jj_js_to_number(const char *s, size_t n);           /* Number("...") */
double jj_js_parse_int(const char *s, size_t n);           /* parseInt(s, 10) */
double jj_js_parse_float(const char *s, size_t n);         /* parseFloat(s) */
double jj_js_strtod(const char *s, char **end);            /* strtod in the C locale */

uint32_t jj_utf8_decode(const char *s, size_t n, size_t *adv);
size_t jj_utf8_encode(uint32_t cp, char *out);
int jj_js_is_space(uint32_t cp);                           /* JavaScript's \s and trim() */
const char *jj_memmem(const char *hay, size_t n, const char *needle, size_t m);
size_t jj_utf16_len(const char *s, size_t n);
int jj_js_str_cmp(const char *a, size_t an, const char *b, size_t bn); /* UTF-16 code unit order */
void jj_js_upper(struct jrender *r, jsb *b, const char *s, size_t n);
void jj_js_lower(struct jrender *r, jsb *b, const char *s, size_t n);
int jj_js_locale_cmp(const char *a, size_t an, const char *b, size_t bn); /* String.prototype.localeCompare */
void jj_js_trim(const char *s, size_t n, int start, int end, size_t *off, size_t *len);

/* ---- Rendering state ---------------------------------------------------- */

struct node;
struct jscope;

struct jtemplate_limits {
    size_t max_output, max_memory;
    unsigned long max_loops;
    unsigned max_depth;
};

struct jrender {
    jmp_buf *fail;                /* where an error goes */
    jmp_buf *loopjmp;             /* the innermost for-iteration (break/continue), or NULL */
    int loopsig;                  /* 1 break, 2 continue */
    inf_error *err;               /* where the message goes (may be NULL) */
    /* arena */
    struct jchunk *chunks;
    size_t allocated;
    struct jtemplate_limits lim;
    unsigned long loops;
    unsigned depth;
    long long now; int now_utc;
    const jdict *ctx;             /* the caller's variables */
    jsb *out;                     /* where statements write */
    const struct node *at;        /* the node being evaluated, for error positions */
};

_Noreturn void jr_fail(struct jrender *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void jr_fail_plain(struct jrender *r, const char *msg, size_t n); /* raise_exception */
_Noreturn void jr_fail_oom(struct jrender *r);

/* ---- Value operations (value.c, json.c) --------------------------------- */

const char *jv_type_name(jv v);                         /* "StringValue", ... as the reference names them */
int jv_truthy(struct jrender *r, jv v);
void jv_to_string(struct jrender *r, jsb *b, jv v);     /* RuntimeValue.toString() */
void jv_js_string(struct jrender *r, jsb *b, jv v);     /* String(value.value) */
int jv_loose_eq(struct jrender *r, jv a, jv b);         /* a.value == b.value */
int jv_strict_eq(struct jrender *r, jv a, jv b);        /* a.value === b.value */
int jv_same_value_zero(jv a, jv b);                     /* Set membership of .value */
jv jv_materialize(struct jrender *r, jv v);             /* JV_LOOP -> dict */

struct jjson_opts { int indent; int ensure_ascii; int sort_keys; const char *item_sep, *key_sep; size_t item_sep_len, key_sep_len; };
void jv_to_json(struct jrender *r, jsb *b, jv v, const struct jjson_opts *o, int depth, int undef_null);
void jj_json_quote(struct jrender *r, jsb *b, const char *s, size_t n, int ensure_ascii);

int jv_compare(struct jrender *r, jv a, jv b, int case_sensitive); /* compareRuntimeValues */
void jv_sort(struct jrender *r, jv *items, size_t n, int (*cmp)(struct jrender *, jv, jv, void *), void *ctx);
jv jv_get_attr_path(struct jrender *r, jv item, const char *path, size_t n);

/* ---- Functions ---------------------------------------------------------- */

enum jfkind { FN_MACRO, FN_CALLER, FN_GLOBAL, FN_METHOD };
enum jglobal { G_RAISE, G_RANGE, G_STRFTIME, G_NAMESPACE };
struct jfunc {
    int kind;
    int id;                       /* jglobal or method id */
    const struct node *node;      /* macro or call statement */
    struct jscope *scope;         /* caller: where the call block was */
    jv self;                      /* method: the bound receiver */
};

typedef struct jargs { jv *v; size_t n; } jargs;         /* a trailing JF_KWARGS dict holds keyword arguments */

jv jj_call_function(struct jrender *r, jv fn, jargs *a, struct jscope *scope);
jv jj_member_get(struct jrender *r, jv obj, jv prop);
jv jj_member_builtin(struct jrender *r, jv obj, const char *name, size_t n, int *found);
jv jj_call_method(struct jrender *r, jfunc *f, jargs *a);
jv jj_call_global(struct jrender *r, int id, jargs *a);
jv jj_apply_filter(struct jrender *r, jv operand, const struct node *filter, struct jscope *scope);
int jj_test_exists(const char *name, size_t n);
int jj_run_test(struct jrender *r, const char *name, size_t n, jv *args, size_t nargs, int *ok);
jv jj_eval_expr(struct jrender *r, const struct node *n, struct jscope *scope);
/* eval.c and eval_ops.c, each other's: a variable's raw value, a loop
 * property, the loop-iteration budget; member access, binary and unary
 * operators. */
struct jloop;
extern const char *const JJ_LOOP_KEYS[9]; /* the loop variable's properties, in jj_loop_prop's order */
jv jj_lookup_raw(struct jrender *r, struct jscope *scope, const char *name, size_t n);
int jj_loop_prop(const struct jloop *L, int k, jv *out);
void jj_count_loop(struct jrender *r);
jv jj_eval_member(struct jrender *r, const struct node *n, struct jscope *scope);
jv jj_eval_binary(struct jrender *r, const struct node *n, struct jscope *scope);
jv jj_eval_unary(struct jrender *r, const struct node *n, struct jscope *scope);
void jj_eval_args(struct jrender *r, struct node **args, int nargs, struct jscope *scope, jargs *pos, jv *kwargs);
jv jj_dict_items(struct jrender *r, const jdict *d);
jv jj_dict_keys(struct jrender *r, const jdict *d);
jv jj_dict_values(struct jrender *r, const jdict *d);
jv jj_js_replace(struct jrender *r, jstr *s, jstr *old, jstr *nw, double count, int has_count);

/* ---- AST (parser.c) ----------------------------------------------------- */

enum nkind {
    N_TEXT, N_COMMENT, N_IF, N_FOR, N_SET, N_MACRO, N_CALLSTMT, N_FILTERSTMT, N_BREAK, N_CONTINUE,
    N_INT, N_FLOAT, N_STR, N_IDENT, N_ARRAY, N_TUPLE, N_OBJECT, N_MEMBER, N_CALL, N_BINARY,
    N_UNARY, N_FILTER, N_TEST, N_SELECT, N_TERNARY, N_SLICE, N_KWARG, N_SPREAD, N_KWSPREAD
};
enum nop {
    OP_OR, OP_AND, OP_IN, OP_NOTIN, OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE,
    OP_ADD, OP_SUB, OP_CONCAT, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW,
    OP_NOT, OP_NEG, OP_POS
};
#define NF_COMPUTED 1     /* member: [] */
#define NF_NEGATE 1       /* test: is not */
#define NF_CALLER_ARGS 1  /* call statement: has (params) */
#define NF_USES_KWARGS 2  /* macro / call statement body reads kwargs */
#define NF_USES_VARARGS 4

struct node {
    uint8_t kind, op, flags;
    int line, col;
    int depth;
    struct node *a, *b, *c;
    struct node **items; int nitems;
    struct node **items2; int nitems2;
    jv val;                       /* literals and text */
    jstr *name;                   /* identifiers, tests, keyword names, macro names */
};

struct jchunk;
struct jinja_template {
    struct jchunk *chunks;        /* the arena all of it lives in */
    struct node **body; int nbody;
    struct jtemplate_limits lim;
    long long now; int now_utc;
};

const char *jj_node_type_name(const struct node *n);
void jarena_free(struct jrender *r);
void jdict_remove(struct jrender *r, jdict *d, const char *k, size_t n);
const char *jj_op_name(int op);

/* lexer.c */
enum ttype {
    T_TEXT, T_NUMBER, T_STRING, T_IDENT, T_EQUALS, T_LPAREN, T_RPAREN, T_OPEN_STMT, T_CLOSE_STMT,
    T_OPEN_EXPR, T_CLOSE_EXPR, T_LBRACKET, T_RBRACKET, T_LBRACE, T_RBRACE, T_COMMA, T_DOT,
    T_COLON, T_PIPE, T_ADD, T_MUL, T_POW, T_CMP, T_UNARY, T_COMMENT
};
struct token { int type; char *s; size_t n; size_t pos; /* offset in the original source */ };
struct lexed { struct token *t; size_t n; };
int jinja_lex(const char *src, size_t len, struct lexed *out, size_t *errpos, inf_error *err);
void jinja_lexed_free(struct lexed *l);
void jinja_pos(const char *src, size_t len, size_t pos, int *line, int *col);

static inline void jsb_puts(struct jrender *r, jsb *b, const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    jsb_put(r, b, s, n);
}

#endif
