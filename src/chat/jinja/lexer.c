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
static int consume_while(struct lx *L, int pred, char quote)
{
    L->bn = 0;
    if (L->buf) L->buf[0] = 0;
    uint32_t pending_hi = 0; /* a \uD800-\uDBFF escape waiting for its pair */
    for (;;) {
        size_t adv = 1;
        int ok;
        if (L->i >= L->n) {
            /* JavaScript reads undefined here: only the string predicate accepts it */
            ok = pred == P_QUOTE;
        } else {
            unsigned char c = (unsigned char)L->s[L->i];
            switch (pred) {
            case P_SPACE: ok = jj_js_is_space(cp_at(L->s, L->n, L->i, &adv)); break;
            case P_DIGIT: ok = is_digit(c); break;
            case P_WORD: ok = is_word(c); break;
            default: ok = c != (unsigned char)quote; break;
            }
        }
        if (!ok) break;
        if (L->i < L->n && L->s[L->i] == '\\') {
            L->i++;
            if (L->i >= L->n) return lx_fail(L, L->i, "Unexpected end of input");
            char e = L->s[L->i++];
            if (e == 'x' || e == 'u') {
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
                char enc[8];
                if (v >= 0xD800 && v <= 0xDBFF) {
                    if (pending_hi) { size_t k = jj_utf8_encode(pending_hi, enc); if (buf_put(L, enc, k)) return -1; }
                    pending_hi = v;
                    continue;
                }
                if (pending_hi && v >= 0xDC00 && v <= 0xDFFF) {
                    v = 0x10000 + ((pending_hi - 0xD800) << 10) + (v - 0xDC00);
                    pending_hi = 0;
                } else if (pending_hi) {
                    size_t k = jj_utf8_encode(pending_hi, enc);
                    if (buf_put(L, enc, k)) return -1;
                    pending_hi = 0;
                }
                size_t k = jj_utf8_encode(v, enc);
                if (buf_put(L, enc, k)) return -1;
                continue;
            }
            char out;
            switch (e) {
            case 'n': out = '\n'; break;
            case 't': out = '\t'; break;
            case 'r': out = '\r'; break;
            case 'b': out = '\b'; break;
            case 'f': out = '\f'; break;
            case 'v': out = '\v'; break;
            case '\'': out = '\''; break;
            case '"': out = '"'; break;
            case '\\': out = '\\'; break;
            default: {
                size_t a2;
                cp_at(L->s, L->n, L->i - 1, &a2);
                return lx_fail(L, L->i - 1, "Unexpected escaped character: %.*s", (int)a2, L->s + L->i - 1);
            }
            }
            if (pending_hi) {
                char enc[8];
                size_t k = jj_utf8_encode(pending_hi, enc);
                if (buf_put(L, enc, k)) return -1;
                pending_hi = 0;
            }
            if (buf_put(L, &out, 1)) return -1;
            continue;
        }
        if (pending_hi) {
            char enc[8];
            size_t k = jj_utf8_encode(pending_hi, enc);
            if (buf_put(L, enc, k)) return -1;
            pending_hi = 0;
        }
        if (L->i >= L->n) return lx_fail(L, L->i, "Unexpected end of input");
        if (buf_put(L, L->s + L->i, adv)) return -1;
        L->i += adv;
        if (L->i >= L->n) return lx_fail(L, L->i, "Unexpected end of input");
    }
    if (pending_hi) {
        char enc[8];
        size_t k = jj_utf8_encode(pending_hi, enc);
        if (buf_put(L, enc, k)) return -1;
    }
    return 0;
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

static int tokenize(struct lx *L)
{
    while (L->i < L->n) {
        int lt = last_type(L);
        if (lt == -1 || lt == T_CLOSE_STMT || lt == T_CLOSE_EXPR || lt == T_COMMENT) {
            size_t a = L->i;
            while (L->i < L->n && !(L->s[L->i] == '{' && L->i + 1 < L->n &&
                                    (L->s[L->i + 1] == '%' || L->s[L->i + 1] == '{' || L->s[L->i + 1] == '#')))
                L->i++;
            if (L->i > a) {
                if (push(L, T_TEXT, L->s + a, L->i - a, a)) return -1;
                continue;
            }
        }
        if (starts(L, "{#")) {
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
            continue;
        }
        if (starts(L, "{%-")) {
            strip_trailing(L);
            if (push(L, T_OPEN_STMT, "{%", 2, L->i)) return -1;
            L->i += 3;
            continue;
        }
        if (starts(L, "{{-")) {
            strip_trailing(L);
            if (push(L, T_OPEN_EXPR, "{{", 2, L->i)) return -1;
            L->curly = 0;
            L->i += 3;
            continue;
        }
        if (consume_while(L, P_SPACE, 0)) return -1;
        if (starts(L, "-%}")) {
            if (push(L, T_CLOSE_STMT, "%}", 2, L->i)) return -1;
            L->i += 3;
            skip_leading(L);
            continue;
        }
        if (starts(L, "-}}")) {
            if (push(L, T_CLOSE_EXPR, "}}", 2, L->i)) return -1;
            L->i += 3;
            skip_leading(L);
            continue;
        }
        char ch = L->i < L->n ? L->s[L->i] : 0;
        if (ch == '-' || ch == '+') {
            lt = last_type(L);
            if (lt == T_TEXT || lt == -1) return lx_fail(L, L->i, "Unexpected character: %c", ch);
            if (!(lt == T_IDENT || lt == T_NUMBER || lt == T_STRING || lt == T_RPAREN || lt == T_RBRACKET)) {
                size_t a = L->i;
                L->i++;
                if (consume_while(L, P_DIGIT, 0)) return -1;
                char *num = malloc(L->bn + 2);
                if (!num) return -1;
                size_t nn = 0;
                num[nn++] = ch;
                memcpy(num + nn, L->buf, L->bn);
                nn += L->bn;
                size_t digits = L->bn;
                if (digits > 0 && L->i + 1 < L->n && L->s[L->i] == '.' && is_digit((unsigned char)L->s[L->i + 1])) {
                    L->i++;
                    if (consume_while(L, P_DIGIT, 0)) { free(num); return -1; }
                    char *n2 = realloc(num, nn + L->bn + 2);
                    if (!n2) { free(num); return -1; }
                    num = n2;
                    num[nn++] = '.';
                    memcpy(num + nn, L->buf, L->bn);
                    nn += L->bn;
                }
                int rc = push(L, digits ? T_NUMBER : T_UNARY, num, nn, a);
                free(num);
                if (rc) return -1;
                continue;
            }
        }
        int matched = 0;
        for (size_t k = 0; k < sizeof TABLE / sizeof TABLE[0]; k++) {
            if (TABLE[k].type == T_CLOSE_EXPR && L->curly > 0) continue;
            if (starts(L, TABLE[k].seq)) {
                size_t sl = strlen(TABLE[k].seq);
                if (push(L, TABLE[k].type, TABLE[k].seq, sl, L->i)) return -1;
                if (TABLE[k].type == T_OPEN_EXPR) L->curly = 0;
                else if (TABLE[k].type == T_LBRACE) L->curly++;
                else if (TABLE[k].type == T_RBRACE) L->curly--;
                L->i += sl;
                matched = 1;
                break;
            }
        }
        if (matched) continue;
        if (ch == '\'' || ch == '"') {
            size_t a = L->i;
            L->i++;
            if (consume_while(L, P_QUOTE, ch)) return -1;
            if (push(L, T_STRING, L->buf ? L->buf : "", L->bn, a)) return -1;
            L->i++;
            continue;
        }
        if (is_digit((unsigned char)ch)) {
            size_t a = L->i;
            if (consume_while(L, P_DIGIT, 0)) return -1;
            char *num = malloc(L->bn * 2 + 4);
            if (!num) return -1;
            size_t nn = L->bn;
            memcpy(num, L->buf, nn);
            if (last_type(L) != T_DOT && L->i + 1 < L->n && L->s[L->i] == '.' && is_digit((unsigned char)L->s[L->i + 1])) {
                L->i++;
                if (consume_while(L, P_DIGIT, 0)) { free(num); return -1; }
                char *n2 = realloc(num, nn + 1 + L->bn + 1);
                if (!n2) { free(num); return -1; }
                num = n2;
                num[nn++] = '.';
                memcpy(num + nn, L->buf, L->bn);
                nn += L->bn;
            }
            int rc = push(L, T_NUMBER, num, nn, a);
            free(num);
            if (rc) return -1;
            continue;
        }
        if (is_word((unsigned char)ch)) {
            size_t a = L->i;
            if (consume_while(L, P_WORD, 0)) return -1;
            if (push(L, T_IDENT, L->buf, L->bn, a)) return -1;
            continue;
        }
        size_t adv;
        cp_at(L->s, L->n, L->i, &adv);
        return lx_fail(L, L->i, "Unexpected character: %.*s", (int)(adv ? adv : 1), L->s + L->i);
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
