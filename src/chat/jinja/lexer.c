/* lexer.c - template preprocessing and tokenizing, as @huggingface/jinja's
 * lexer.ts does them (lstrip_blocks and trim_blocks on, the trailing newline
 * dropped, {% generation %} tags removed), keeping for every byte where it
 * came from in the source so errors can name a line and column. */
#include "jinja_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pre { char *s; size_t *pos; size_t n, cap; };

static int pre_put(struct pre *p, char c, size_t pos)
{
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 256;
        char *s = realloc(p->s, nc + 1);
        if (!s) return -1;
        p->s = s;
        size_t *q = realloc(p->pos, (nc + 1) * sizeof(size_t));
        if (!q) return -1;
        p->pos = q;
        p->cap = nc;
    }
    p->s[p->n] = c;
    p->pos[p->n] = pos;
    p->n++;
    return 0;
}

static void pre_free(struct pre *p) { free(p->s); free(p->pos); memset(p, 0, sizeof *p); }

static uint32_t cp_at(const char *s, size_t n, size_t i, size_t *adv)
{
    if (i >= n) { *adv = 0; return 0; }
    return jj_utf8_decode(s + i, n - i, adv);
}

static int is_line_terminator_before(const char *s, size_t i)
{
    /* JavaScript's multiline ^: after \n, \r, U+2028, U+2029 */
    if (i == 0) return 1;
    char c = s[i - 1];
    if (c == '\n' || c == '\r') return 1;
    if (i >= 3 && (unsigned char)s[i - 3] == 0xE2 && (unsigned char)s[i - 2] == 0x80 &&
        ((unsigned char)s[i - 1] == 0xA8 || (unsigned char)s[i - 1] == 0xA9))
        return 1;
    return 0;
}

static int preprocess(const char *src, size_t len, struct pre *out)
{
    struct pre a = {0}, b = {0};
    if (len && src[len - 1] == '\n') len--;
    /* lstrip_blocks: /^[ \t]*({[#%-])/gm -> "$1" */
    for (size_t i = 0; i < len;) {
        if (is_line_terminator_before(src, i)) {
            size_t j = i;
            while (j < len && (src[j] == ' ' || src[j] == '\t')) j++;
            if (j + 1 < len && src[j] == '{' && (src[j + 1] == '#' || src[j + 1] == '%' || src[j + 1] == '-')) {
                i = j;
                if (pre_put(&a, src[i], i) || pre_put(&a, src[i + 1], i + 1)) goto oom;
                i += 2;
                continue;
            }
        }
        if (pre_put(&a, src[i], i)) goto oom;
        i++;
    }
    /* trim_blocks: /([#%-]})\n/g -> "$1" */
    for (size_t i = 0; i < a.n; i++) {
        if (a.s[i] == '\n' && i >= 2 && a.s[i - 1] == '}' && (a.s[i - 2] == '#' || a.s[i - 2] == '%' || a.s[i - 2] == '-'))
            continue;
        if (pre_put(&b, a.s[i], a.pos[i])) goto oom;
    }
    pre_free(&a);
    /* /(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/gs -> (lstrip ? "" : before) + (rstrip ? "" : after) */
    {
        size_t last = 0, i = 0;
        const char *s = b.s;
        size_t n = b.n;
        while (i + 1 < n) {
            if (!(s[i] == '{' && s[i + 1] == '%')) { i++; continue; }
            size_t j = i + 2, adv;
            int lstrip = 0, rstrip = 0;
            if (j < n && s[j] == '-') { lstrip = 1; j++; }
            while (j < n && jj_js_is_space(cp_at(s, n, j, &adv))) j += adv;
            if (j + 3 <= n && memcmp(s + j, "end", 3) == 0 && j + 13 <= n && memcmp(s + j + 3, "generation", 10) == 0) j += 13;
            else if (j + 10 <= n && memcmp(s + j, "generation", 10) == 0) j += 10;
            else { i++; continue; }
            while (j < n && jj_js_is_space(cp_at(s, n, j, &adv))) j += adv;
            if (j < n && s[j] == '-') { rstrip = 1; j++; }
            if (!(j + 1 < n && s[j] == '%' && s[j + 1] == '}')) { i++; continue; }
            j += 2;
            /* whitespace before, back to the end of the previous match */
            size_t ws = i;
            while (ws > last) {
                size_t k = ws - 1;
                while (k > last && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
                if (!jj_js_is_space(cp_at(s, n, k, &adv)) || k + adv != ws) break;
                ws = k;
            }
            size_t ae = j;
            while (ae < n && jj_js_is_space(cp_at(s, n, ae, &adv))) ae += adv;
            for (size_t k = last; k < ws; k++) if (pre_put(out, s[k], b.pos[k])) goto oom;
            if (!lstrip) for (size_t k = ws; k < i; k++) if (pre_put(out, s[k], b.pos[k])) goto oom;
            if (!rstrip) for (size_t k = j; k < ae; k++) if (pre_put(out, s[k], b.pos[k])) goto oom;
            last = i = ae;
        }
        for (size_t k = last; k < n; k++) if (pre_put(out, s[k], b.pos[k])) goto oom;
    }
    pre_free(&b);
    if (pre_put(out, 0, len)) goto oom; /* NUL terminator, mapped to the end */
    out->n--;
    return 0;
oom:
    pre_free(&a);
    pre_free(&b);
    pre_free(out);
    return -1;
}

void jinja_pos(const char *src, size_t len, size_t pos, int *line, int *col)
{
    int l = 1, c = 1;
    if (pos > len) pos = len;
    for (size_t i = 0; i < pos; i++) {
        if (src[i] == '\n') { l++; c = 1; }
        else if (((unsigned char)src[i] & 0xC0) != 0x80) c++;
    }
    *line = l;
    *col = c;
}

/* ---- Tokenizer --------------------------------------------------------------- */

struct lx {
    const char *s; size_t n; const size_t *pos;
    size_t i;
    struct token *t; size_t nt, cap;
    inf_error *err;
    size_t errpos;
    int curly;
    char *buf; size_t bn, bcap; /* the value being consumed */
};

static int lx_fail(struct lx *L, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int lx_fail(struct lx *L, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vfail(L->err, INF_ERR_TEMPLATE, fmt, ap);
    va_end(ap);
    L->errpos = L->pos[at < L->n ? at : L->n];
    return -1;
}

static int buf_put(struct lx *L, const char *s, size_t n)
{
    if (L->bn + n + 1 > L->bcap) {
        size_t nc = L->bcap ? L->bcap * 2 : 64;
        while (nc < L->bn + n + 1) nc *= 2;
        char *p = realloc(L->buf, nc);
        if (!p) return -1;
        L->buf = p;
        L->bcap = nc;
    }
    memcpy(L->buf + L->bn, s, n);
    L->bn += n;
    L->buf[L->bn] = 0;
    return 0;
}

static int push(struct lx *L, int type, const char *s, size_t n, size_t at)
{
    if (L->nt == L->cap) {
        size_t nc = L->cap ? L->cap * 2 : 64;
        struct token *t = realloc(L->t, nc * sizeof *t);
        if (!t) return -1;
        L->t = t;
        L->cap = nc;
    }
    char *v = malloc(n + 1);
    if (!v) return -1;
    memcpy(v, s, n);
    v[n] = 0;
    L->t[L->nt].type = type;
    L->t[L->nt].s = v;
    L->t[L->nt].n = n;
    L->t[L->nt].pos = L->pos[at < L->n ? at : L->n];
    L->nt++;
    return 0;
}

static int last_type(struct lx *L) { return L->nt ? L->t[L->nt - 1].type : -1; }

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_word(int c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

enum { P_SPACE, P_DIGIT, P_WORD, P_QUOTE };

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* consumeWhile: the value goes to L->buf. Returns -1 on error. */
/* Whether the character at L->i continues a run of pred (its length in
 * *adv). */
static int accepts(struct lx *L, int pred, char quote, size_t *adv)
{
    *adv = 1;
    /* JavaScript reads undefined past the end: only the string predicate accepts it */
    if (L->i >= L->n) return pred == P_QUOTE;
    unsigned char c = (unsigned char)L->s[L->i];
    switch (pred) {
    case P_SPACE: return jj_js_is_space(cp_at(L->s, L->n, L->i, adv));
    case P_DIGIT: return is_digit(c);
    case P_WORD: return is_word(c);
    default: return c != (unsigned char)quote;
    }
}

static int put_cp(struct lx *L, uint32_t cp)
{
    char enc[8];
    size_t k = jj_utf8_encode(cp, enc);
    return buf_put(L, enc, k);
}

/* A lone high surrogate is written as itself (as JavaScript keeps it). */
static int flush_high(struct lx *L, uint32_t *pending_hi)
{
    if (!*pending_hi) return 0;
    uint32_t v = *pending_hi;
    *pending_hi = 0;
    return put_cp(L, v);
}

/* \xHH or \uHHHH (e is 'x' or 'u', L->i after it); a \uD800-\uDBFF waits in
 * *pending_hi for its low half. */
static int hex_escape(struct lx *L, char e, uint32_t *pending_hi)
{
    size_t len = e == 'x' ? 2 : 4;
    uint32_t v = 0;
    int bad = L->i + len > L->n;
    for (size_t k = 0; !bad && k < len; k++) {
        int h = hexval((unsigned char)L->s[L->i + k]);
        if (h < 0) bad = 1;
        else v = v * 16 + (uint32_t)h;
    }
    if (bad) {
        size_t avail = L->n - L->i < len ? L->n - L->i : len;
        return lx_fail(L, L->i, "Invalid hexadecimal escape sequence: \\%c%.*s", e, (int)avail, L->s + L->i);
    }
    L->i += len;
    if (v >= 0xD800 && v <= 0xDBFF) {
        if (flush_high(L, pending_hi)) return -1;
        *pending_hi = v;
        return 0;
    }
    if (*pending_hi && v >= 0xDC00 && v <= 0xDFFF) {
        v = 0x10000 + ((*pending_hi - 0xD800) << 10) + (v - 0xDC00);
        *pending_hi = 0;
    } else if (flush_high(L, pending_hi)) {
        return -1;
    }
    return put_cp(L, v);
}

/* A backslash escape, L->i at the backslash. */
static int escape(struct lx *L, uint32_t *pending_hi)
{
    L->i++;
    if (L->i >= L->n) return lx_fail(L, L->i, "Unexpected end of input");
    char e = L->s[L->i++];
    if (e == 'x' || e == 'u') return hex_escape(L, e, pending_hi);
    static const char from[] = "ntrbfv'\"\\", to[] = "\n\t\r\b\f\v'\"\\";
    const char *hit = memchr(from, e, sizeof from - 1);
    if (!hit) {
        size_t a2;
        cp_at(L->s, L->n, L->i - 1, &a2);
        return lx_fail(L, L->i - 1, "Unexpected escaped character: %.*s", (int)a2, L->s + L->i - 1);
    }
    if (flush_high(L, pending_hi)) return -1;
    return buf_put(L, &to[hit - from], 1);
}

static int consume_while(struct lx *L, int pred, char quote)
{
    L->bn = 0;
    if (L->buf) L->buf[0] = 0;
    uint32_t pending_hi = 0; /* a \uD800-\uDBFF escape waiting for its pair */
    size_t adv;
    while (accepts(L, pred, quote, &adv)) {
        if (L->i < L->n && L->s[L->i] == '\\') {
            if (escape(L, &pending_hi)) return -1;
            continue;
        }
        if (flush_high(L, &pending_hi)) return -1;
        if (L->i >= L->n) return lx_fail(L, L->i, "Unexpected end of input");
        if (buf_put(L, L->s + L->i, adv)) return -1;
        L->i += adv;
        if (L->i >= L->n) return lx_fail(L, L->i, "Unexpected end of input");
    }
    return flush_high(L, &pending_hi);
}

static void strip_trailing(struct lx *L)
{
    if (L->nt && L->t[L->nt - 1].type == T_TEXT) {
        struct token *t = &L->t[L->nt - 1];
        size_t off, len;
        jj_js_trim(t->s, t->n, 0, 1, &off, &len);
        t->n = len;
        t->s[len] = 0;
        if (!len) {
            free(t->s);
            L->nt--;
        }
    }
}

static void skip_leading(struct lx *L)
{
    size_t adv;
    while (L->i < L->n && jj_js_is_space(cp_at(L->s, L->n, L->i, &adv))) L->i += adv;
}

static int starts(struct lx *L, const char *p)
{
    size_t k = strlen(p);
    return L->i + k <= L->n && memcmp(L->s + L->i, p, k) == 0;
}

static const struct { const char *seq; int type; } TABLE[] = {
    {"{%", T_OPEN_STMT}, {"%}", T_CLOSE_STMT}, {"{{", T_OPEN_EXPR}, {"}}", T_CLOSE_EXPR},
    {"(", T_LPAREN}, {")", T_RPAREN}, {"{", T_LBRACE}, {"}", T_RBRACE}, {"[", T_LBRACKET}, {"]", T_RBRACKET},
    {",", T_COMMA}, {".", T_DOT}, {":", T_COLON}, {"|", T_PIPE},
    {"<=", T_CMP}, {">=", T_CMP}, {"==", T_CMP}, {"!=", T_CMP}, {"<", T_CMP}, {">", T_CMP},
    {"+", T_ADD}, {"-", T_ADD}, {"~", T_ADD}, {"**", T_POW}, {"*", T_MUL}, {"//", T_MUL}, {"/", T_MUL}, {"%", T_MUL},
    {"=", T_EQUALS},
};

/* The pieces of tokenize() return -1 on error, 0 when the input at L->i
 * is not theirs, 1 when they consumed a token. */

/* Text outside tags, up to the next "{%", "{{" or "{#". */
static int lex_text(struct lx *L)
{
    size_t a = L->i;
    while (L->i < L->n && !(L->s[L->i] == '{' && L->i + 1 < L->n &&
                            (L->s[L->i + 1] == '%' || L->s[L->i + 1] == '{' || L->s[L->i + 1] == '#')))
        L->i++;
    if (L->i == a) return 0;
    return push(L, T_TEXT, L->s + a, L->i - a, a) ? -1 : 1;
}

/* {# ... #}, with the whitespace control of {#- and -#}. */
static int lex_comment(struct lx *L)
{
    size_t a = L->i;
    L->i += 2;
    int strip_before = L->i < L->n && L->s[L->i] == '-';
    if (strip_before) L->i++;
    size_t c0 = L->i;
    while (!(L->i + 1 < L->n && L->s[L->i] == '#' && L->s[L->i + 1] == '}')) {
        if (L->i + 2 >= L->n) return lx_fail(L, a, "Missing end of comment tag");
        L->i++;
    }
    size_t clen = L->i - c0;
    int strip_after = clen && L->s[c0 + clen - 1] == '-';
    if (strip_after) clen--;
    if (strip_before) strip_trailing(L);
    if (push(L, T_COMMENT, L->s + c0, clen, a)) return -1;
    L->i += 2;
    if (strip_after) skip_leading(L);
    return 1;
}

/* The tag delimiters with whitespace control: {%- {{- (strip the text
 * before) and -%} -}} (skip the whitespace after). */
static int lex_trimming_delimiter(struct lx *L, int spaces_done)
{
    if (!spaces_done && (starts(L, "{%-") || starts(L, "{{-"))) {
        int stmt = L->s[L->i + 1] == '%';
        strip_trailing(L);
        if (push(L, stmt ? T_OPEN_STMT : T_OPEN_EXPR, stmt ? "{%" : "{{", 2, L->i)) return -1;
        if (!stmt) L->curly = 0;
        L->i += 3;
        return 1;
    }
    if (spaces_done && (starts(L, "-%}") || starts(L, "-}}"))) {
        int stmt = L->s[L->i + 1] == '%';
        if (push(L, stmt ? T_CLOSE_STMT : T_CLOSE_EXPR, stmt ? "%}" : "}}", 2, L->i)) return -1;
        L->i += 3;
        skip_leading(L);
        return 1;
    }
    return 0;
}

/* Appends ".digits" to the number text in *num when a fraction follows. */
static int lex_fraction(struct lx *L, char **num, size_t *nn)
{
    if (!(L->i + 1 < L->n && L->s[L->i] == '.' && is_digit((unsigned char)L->s[L->i + 1]))) return 0;
    L->i++;
    if (consume_while(L, P_DIGIT, 0)) return -1;
    char *n2 = realloc(*num, *nn + L->bn + 2);
    if (!n2) return -1;
    *num = n2;
    (*num)[(*nn)++] = '.';
    memcpy(*num + *nn, L->buf, L->bn);
    *nn += L->bn;
    return 0;
}

/* Digits (and a fraction) after L->i, prefixed by sign when not 0; a
 * sign without digits is the unary operator. */
static int lex_number(struct lx *L, char sign, int fraction_allowed)
{
    size_t a = L->i;
    if (sign) L->i++;
    if (consume_while(L, P_DIGIT, 0)) return -1;
    char *num = malloc(L->bn + 2);
    if (!num) return -1;
    size_t nn = 0;
    if (sign) num[nn++] = sign;
    memcpy(num + nn, L->buf, L->bn);
    nn += L->bn;
    size_t digits = L->bn;
    if (digits > 0 && fraction_allowed && lex_fraction(L, &num, &nn)) {
        free(num);
        return -1;
    }
    int rc = push(L, digits ? T_NUMBER : T_UNARY, num, nn, a);
    free(num);
    return rc ? -1 : 1;
}

/* '-' or '+': a signed number where no operand precedes it, else 0 (the
 * binary operator comes from the table). */
static int lex_sign(struct lx *L, char ch)
{
    int lt = last_type(L);
    if (lt == T_TEXT || lt == -1) return lx_fail(L, L->i, "Unexpected character: %c", ch);
    if (lt == T_IDENT || lt == T_NUMBER || lt == T_STRING || lt == T_RPAREN || lt == T_RBRACKET) return 0;
    return lex_number(L, ch, 1);
}

/* Operators and punctuation, longest first (TABLE's order). */
static int lex_operator(struct lx *L)
{
    for (size_t k = 0; k < sizeof TABLE / sizeof TABLE[0]; k++) {
        if (TABLE[k].type == T_CLOSE_EXPR && L->curly > 0) continue;
        if (!starts(L, TABLE[k].seq)) continue;
        size_t sl = strlen(TABLE[k].seq);
        if (push(L, TABLE[k].type, TABLE[k].seq, sl, L->i)) return -1;
        if (TABLE[k].type == T_OPEN_EXPR) L->curly = 0;
        else if (TABLE[k].type == T_LBRACE) L->curly++;
        else if (TABLE[k].type == T_RBRACE) L->curly--;
        L->i += sl;
        return 1;
    }
    return 0;
}

static int lex_string(struct lx *L, char quote)
{
    size_t a = L->i;
    L->i++;
    if (consume_while(L, P_QUOTE, quote)) return -1;
    if (push(L, T_STRING, L->buf ? L->buf : "", L->bn, a)) return -1;
    L->i++;
    return 1;
}

static int lex_word(struct lx *L)
{
    size_t a = L->i;
    if (consume_while(L, P_WORD, 0)) return -1;
    return push(L, T_IDENT, L->buf, L->bn, a) ? -1 : 1;
}

/* One token inside a tag, after its leading whitespace. */
static int lex_in_tag(struct lx *L)
{
    char ch = L->i < L->n ? L->s[L->i] : 0;
    int r = 0;
    if ((ch == '-' || ch == '+') && (r = lex_sign(L, ch)) != 0) return r;
    if ((r = lex_operator(L)) != 0) return r;
    if (ch == '\'' || ch == '"') return lex_string(L, ch);
    /* right after a dot the digits name a member: no fraction */
    if (is_digit((unsigned char)ch)) return lex_number(L, 0, last_type(L) != T_DOT);
    if (is_word((unsigned char)ch)) return lex_word(L);
    size_t adv;
    cp_at(L->s, L->n, L->i, &adv);
    return lx_fail(L, L->i, "Unexpected character: %.*s", (int)(adv ? adv : 1), L->s + L->i);
}

static int tokenize(struct lx *L)
{
    while (L->i < L->n) {
        int lt = last_type(L), r = 0;
        if ((lt == -1 || lt == T_CLOSE_STMT || lt == T_CLOSE_EXPR || lt == T_COMMENT) && (r = lex_text(L)) != 0) {
            if (r < 0) return -1;
            continue;
        }
        if (starts(L, "{#")) r = lex_comment(L);
        else r = lex_trimming_delimiter(L, 0);
        if (r == 0) {
            if (consume_while(L, P_SPACE, 0)) return -1;
            r = lex_trimming_delimiter(L, 1);
        }
        if (r == 0) r = lex_in_tag(L);
        if (r < 0) return -1;
    }
    return 0;
}

void jinja_lexed_free(struct lexed *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->t[i].s);
    free(l->t);
    l->t = NULL;
    l->n = 0;
}

int jinja_lex(const char *src, size_t len, struct lexed *out, size_t *errpos, inf_error *err)
{
    struct pre p = {0};
    out->t = NULL;
    out->n = 0;
    if (preprocess(src, len, &p)) {
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        *errpos = 0;
        return -1;
    }
    struct lx L = {0};
    L.s = p.s ? p.s : "";
    L.n = p.n;
    L.pos = p.pos;
    size_t zero = 0;
    if (!p.pos) L.pos = &zero;
    L.err = err;
    L.buf = malloc(64);
    L.bcap = 64;
    int rc = L.buf ? (L.buf[0] = 0, tokenize(&L)) : -1;
    if (rc) {
        if (err && err->status == INF_OK) err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        *errpos = L.errpos;
        struct lexed tmp = {L.t, L.nt};
        jinja_lexed_free(&tmp);
    } else {
        out->t = L.t;
        out->n = L.nt;
    }
    free(L.buf);
    pre_free(&p);
    return rc;
}
