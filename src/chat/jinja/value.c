/* value.c - values of the Jinja interpreter, the render arena, and the
 * JavaScript semantics the reference implementation inherits (number
 * formatting, string/number conversion, UTF-16 lengths and order, case
 * mapping, loose and strict equality, Array.prototype.sort's comparisons). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strtod_l */
#endif
#include "jinja_internal.h"
#include "base/buf.h"
#include "casemap.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Arena --------------------------------------------------------------- */

struct jchunk { struct jchunk *next; size_t size, used; _Alignas(16) char data[]; };

#define CHUNK_SIZE ((size_t)64 << 10)

static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

void *jal(struct jrender *r, size_t n)
{
    if (!r) return malloc(n ? n : 1);
    size_t a = align16(n ? n : 1);
    if (a < n) jr_fail(r, "memory limit exceeded (max_memory_bytes=%zu)", r->lim.max_memory);
    r->allocated += a;
    if (r->allocated > r->lim.max_memory)
        jr_fail(r, "memory limit exceeded (max_memory_bytes=%zu)", r->lim.max_memory);
    struct jchunk *c = r->chunks;
    if (c && c->size - c->used >= a) {
        void *p = c->data + c->used;
        c->used += a;
        return p;
    }
    size_t sz = a > CHUNK_SIZE / 4 ? a : CHUNK_SIZE;
    struct jchunk *nc = malloc(sizeof *nc + sz);
    if (!nc) jr_fail_oom(r);
    nc->size = sz;
    nc->used = a;
    if (c && sz == a) { /* a big block: keep the current chunk for small ones */
        nc->next = c->next;
        c->next = nc;
    } else {
        nc->next = c;
        r->chunks = nc;
    }
    return nc->data;
}

void *jal_grow(struct jrender *r, void *p, size_t old, size_t n)
{
    if (!r) return realloc(p, n ? n : 1);
    if (n <= old) return p;
    struct jchunk *c = r->chunks;
    size_t ao = align16(old), an = align16(n);
    if (p && c && (char *)p + ao == c->data + c->used && (char *)p >= c->data &&
        c->size - (c->used - ao) >= an) {
        r->allocated += an - ao;
        if (r->allocated > r->lim.max_memory)
            jr_fail(r, "memory limit exceeded (max_memory_bytes=%zu)", r->lim.max_memory);
        c->used += an - ao;
        return p;
    }
    void *q = jal(r, n);
    if (old) memcpy(q, p, old);
    return q;
}

void jarena_free(struct jrender *r)
{
    struct jchunk *c = r->chunks;
    while (c) {
        struct jchunk *n = c->next;
        free(c);
        c = n;
    }
    r->chunks = NULL;
}

/* ---- Strings, lists, dicts ------------------------------------------------ */

jstr *jstr_new(struct jrender *r, const char *s, size_t n)
{
    if (r && n > r->lim.max_output)
        jr_fail(r, "output size limit exceeded (max_output_bytes=%zu)", r->lim.max_output);
    jstr *p = jal(r, sizeof(jstr) + n + 1);
    if (!p) return NULL;
    p->len = n;
    if (n) memcpy(p->s, s, n);
    p->s[n] = 0;
    return p;
}

jv jv_str(struct jrender *r, const char *s, size_t n) { return jv_strv(jstr_new(r, s, n)); }
jv jv_cstr(struct jrender *r, const char *s) { return jv_str(r, s, strlen(s)); }

jv jv_list_new(struct jrender *r, size_t cap)
{
    jv v = {JV_LIST, 0, {0}};
    jlist *l = jal(r, sizeof *l);
    if (!l) { v.k = JV_HOLE; return v; }
    l->n = 0;
    l->cap = cap;
    l->v = cap ? jal(r, cap * sizeof(jv)) : NULL;
    if (cap && !l->v) { if (!r) free(l); v.k = JV_HOLE; return v; }
    v.u.l = l;
    return v;
}

jv jv_dict_new(struct jrender *r, size_t cap)
{
    jv v = {JV_DICT, 0, {0}};
    jdict *d = jal(r, sizeof *d);
    if (!d) { v.k = JV_HOLE; return v; }
    memset(d, 0, sizeof *d);
    if (cap) {
        d->k = jal(r, cap * sizeof(jstr *));
        d->v = jal(r, cap * sizeof(jv));
        if (!d->k || !d->v) { if (!r) { free(d->k); free(d->v); free(d); } v.k = JV_HOLE; return v; }
        d->cap = cap;
    }
    v.u.d = d;
    return v;
}

int jlist_push(struct jrender *r, jlist *l, jv v)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 4;
        jv *nv = jal_grow(r, l->v, l->cap * sizeof(jv), nc * sizeof(jv));
        if (!nv) return -1;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = v;
    return 0;
}

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

#define DICT_INDEX_MIN 9

static int dict_reindex(struct jrender *r, jdict *d, size_t want)
{
    size_t ic = 16;
    while (ic < want * 2) ic *= 2;
    uint32_t *idx = jal(r, ic * sizeof(uint32_t));
    if (!idx) return -1;
    memset(idx, 0xff, ic * sizeof(uint32_t));
    for (size_t i = 0; i < d->n; i++) {
        size_t h = hash_bytes(d->k[i]->s, d->k[i]->len) & (ic - 1);
        while (idx[h] != UINT32_MAX) h = (h + 1) & (ic - 1);
        idx[h] = (uint32_t)i;
    }
    if (!r) free(d->idx);
    d->idx = idx;
    d->icap = ic;
    return 0;
}

jv *jdict_get(const jdict *d, const char *k, size_t n)
{
    if (!d) return NULL;
    if (d->idx) {
        size_t h = hash_bytes(k, n) & (d->icap - 1);
        while (d->idx[h] != UINT32_MAX) {
            jstr *s = d->k[d->idx[h]];
            if (s->len == n && memcmp(s->s, k, n) == 0) return &d->v[d->idx[h]];
            h = (h + 1) & (d->icap - 1);
        }
        return NULL;
    }
    for (size_t i = 0; i < d->n; i++)
        if (d->k[i]->len == n && memcmp(d->k[i]->s, k, n) == 0) return &d->v[i];
    return NULL;
}

int jdict_set(struct jrender *r, jdict *d, jstr *k, jv v)
{
    jv *e = jdict_get(d, k->s, k->len);
    if (e) { *e = v; return 0; }
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 4;
        jstr **nk = jal_grow(r, d->k, d->cap * sizeof(jstr *), nc * sizeof(jstr *));
        if (!nk) return -1;
        d->k = nk;
        jv *nv = jal_grow(r, d->v, d->cap * sizeof(jv), nc * sizeof(jv));
        if (!nv) return -1;
        d->v = nv;
        d->cap = nc;
    }
    d->k[d->n] = k;
    d->v[d->n] = v;
    d->n++;
    if (d->n >= DICT_INDEX_MIN) {
        if (!d->idx || d->n * 2 > d->icap) return dict_reindex(r, d, d->n);
        size_t h = hash_bytes(k->s, k->len) & (d->icap - 1);
        while (d->idx[h] != UINT32_MAX) h = (h + 1) & (d->icap - 1);
        d->idx[h] = (uint32_t)(d->n - 1);
    }
    return 0;
}

void jv_free_heap(jv v)
{
    switch (v.k) {
    case JV_STR: free(v.u.s); break;
    case JV_LIST:
        for (size_t i = 0; i < v.u.l->n; i++) jv_free_heap(v.u.l->v[i]);
        free(v.u.l->v);
        free(v.u.l);
        break;
    case JV_DICT:
        for (size_t i = 0; i < v.u.d->n; i++) { free(v.u.d->k[i]); jv_free_heap(v.u.d->v[i]); }
        free(v.u.d->k);
        free(v.u.d->v);
        free(v.u.d->idx);
        free(v.u.d);
        break;
    default: break;
    }
}

/* ---- String builder ------------------------------------------------------- */

void jsb_put(struct jrender *r, jsb *b, const char *s, size_t n)
{
    if (!n) return;
    if (b->n + n > r->lim.max_output)
        jr_fail(r, "output size limit exceeded (max_output_bytes=%zu)", r->lim.max_output);
    if (b->n + n + 1 > b->cap) { /* arena memory: the old block stays until the render ends */
        size_t nc = buf_grow_cap(b->cap, b->n + n + 1);
        if (!nc) jr_fail_oom(r);
        b->p = jal_grow(r, b->p, b->cap, nc);
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

void jsb_putc(struct jrender *r, jsb *b, char c) { jsb_put(r, b, &c, 1); }

jv jsb_finish(struct jrender *r, jsb *b)
{
    jv v = jv_str(r, b->p ? b->p : "", b->n);
    return v;
}

/* ---- Numbers as JavaScript prints and parses them ------------------------- */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void c_locale_init(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

double jj_js_strtod(const char *s, char **end)
{
    pthread_once(&c_locale_once, c_locale_init);
    if (c_locale) return strtod_l(s, end, c_locale);
    return strtod(s, end);
}

/* Shortest digits that read back as d (d > 0, finite): digits into dig, returns
 * the count, *exp10 is n in JavaScript's Number::toString (value = 0.DIGITS * 10^n). */
static int shortest_digits(double d, char *dig, int *exp10)
{
    char tmp[64], rebuilt[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
        int nd = 0;
        const char *p = tmp;
        while (*p && *p != 'e') {
            if (*p >= '0' && *p <= '9') dig[nd++] = *p;
            p++;
        }
        int e = atoi(p + 1);
        /* rebuild in the C locale to check the round trip */
        int k = 0;
        rebuilt[k++] = dig[0];
        if (nd > 1) {
            rebuilt[k++] = '.';
            memcpy(rebuilt + k, dig + 1, nd - 1);
            k += nd - 1;
        }
        snprintf(rebuilt + k, sizeof rebuilt - k, "e%d", e);
        if (jj_js_strtod(rebuilt, NULL) == d || prec == 17) {
            while (nd > 1 && dig[nd - 1] == '0') nd--;
            *exp10 = e + 1;
            return nd;
        }
    }
    return 0;
}

size_t jj_js_num_fmt(double d, char *buf)
{
    if (isnan(d)) return (size_t)sprintf(buf, "NaN");
    if (isinf(d)) return (size_t)sprintf(buf, d < 0 ? "-Infinity" : "Infinity");
    if (d == 0) return (size_t)sprintf(buf, "0");
    char *o = buf;
    if (d < 0) { *o++ = '-'; d = -d; }
    char dig[32];
    int n, k = shortest_digits(d, dig, &n);
    if (k <= n && n <= 21) {
        memcpy(o, dig, k); o += k;
        for (int i = 0; i < n - k; i++) *o++ = '0';
    } else if (0 < n && n <= 21) {
        memcpy(o, dig, n); o += n;
        *o++ = '.';
        memcpy(o, dig + n, k - n); o += k - n;
    } else if (-6 < n && n <= 0) {
        *o++ = '0'; *o++ = '.';
        for (int i = 0; i < -n; i++) *o++ = '0';
        memcpy(o, dig, k); o += k;
    } else {
        *o++ = dig[0];
        if (k > 1) { *o++ = '.'; memcpy(o, dig + 1, k - 1); o += k - 1; }
        o += sprintf(o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
    *o = 0;
    return (size_t)(o - buf);
}

size_t jj_js_float_fmt(double d, char *buf)
{
    if (d == 0 && signbit(d)) return (size_t)sprintf(buf, "-0.0");
    if (isfinite(d) && d == trunc(d)) {
        if (fabs(d) >= 1e21) return jj_js_num_fmt(d, buf);
        size_t n = (size_t)snprintf(buf, 32, "%.0f", d);
        memcpy(buf + n, ".0", 3);
        return n + 2;
    }
    return jj_js_num_fmt(d, buf);
}

static size_t skip_js_space(const char *s, size_t n, size_t i)
{
    while (i < n) {
        size_t adv;
        uint32_t cp = jj_utf8_decode(s + i, n - i, &adv);
        if (!jj_js_is_space(cp)) break;
        i += adv;
    }
    return i;
}

/* Length of the longest StrDecimalLiteral prefix of s (sign, Infinity,
 * digits, fraction, exponent); 0 when none. */
static size_t decimal_prefix(const char *s, size_t n, int *is_inf)
{
    size_t i = 0;
    *is_inf = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    if (n - i >= 8 && memcmp(s + i, "Infinity", 8) == 0) { *is_inf = 1; return i + 8; }
    size_t d0 = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    size_t intd = i - d0, fracd = 0;
    if (i < n && s[i] == '.') {
        size_t j = i + 1;
        while (j < n && s[j] >= '0' && s[j] <= '9') j++;
        fracd = j - i - 1;
        if (intd || fracd) i = j;
    }
    if (!intd && !fracd) return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-')) j++;
        size_t e0 = j;
        while (j < n && s[j] >= '0' && s[j] <= '9') j++;
        if (j > e0) i = j;
    }
    return i;
}

static double decimal_value(const char *s, size_t len, int is_inf)
{
    if (is_inf) return s[0] == '-' ? -INFINITY : INFINITY;
    char stack[128];
    char *tmp = len < sizeof stack ? stack : malloc(len + 1);
    if (!tmp) return NAN;
    memcpy(tmp, s, len);
    tmp[len] = 0;
    double d = jj_js_strtod(tmp, NULL);
    if (tmp != stack) free(tmp);
    return d;
}

double jj_js_to_number(const char *s, size_t n)
{
    size_t a = skip_js_space(s, n, 0);
    /* trim the end */
    size_t e = n;
    while (e > a) {
        size_t k = e - 1;
        while (k > a && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
        size_t adv;
        uint32_t cp = jj_utf8_decode(s + k, e - k, &adv);
        if (!jj_js_is_space(cp)) break;
        e = k;
    }
    if (a == e) return 0;
    s += a;
    n = e - a;
    if (n > 2 && s[0] == '0' && strchr("xXoObB", s[1])) {
        int base = (s[1] == 'x' || s[1] == 'X') ? 16 : (s[1] == 'o' || s[1] == 'O') ? 8 : 2;
        double v = 0;
        for (size_t i = 2; i < n; i++) {
            int c = (unsigned char)s[i], dv;
            if (c >= '0' && c <= '9') dv = c - '0';
            else if (c >= 'a' && c <= 'f') dv = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') dv = c - 'A' + 10;
            else return NAN;
            if (dv >= base) return NAN;
            v = v * base + dv;
        }
        return v;
    }
    int inf;
    size_t p = decimal_prefix(s, n, &inf);
    if (p != n) return NAN;
    return decimal_value(s, n, inf);
}

double jj_js_parse_int(const char *s, size_t n)
{
    size_t i = skip_js_space(s, n, 0);
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) { neg = s[i] == '-'; i++; }
    size_t d0 = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == d0) return NAN;
    double v = decimal_value(s + d0, i - d0, 0);
    return neg ? -v : v;
}

double jj_js_parse_float(const char *s, size_t n)
{
    size_t i = skip_js_space(s, n, 0);
    int inf;
    size_t p = decimal_prefix(s + i, n - i, &inf);
    if (!p) return NAN;
    return decimal_value(s + i, p, inf);
}

/* ---- Unicode ---------------------------------------------------------------- */

uint32_t jj_utf8_decode(const char *s, size_t n, size_t *adv)
{
    const unsigned char *u = (const unsigned char *)s;
    if (!n) { *adv = 0; return 0; }
    unsigned c = u[0];
    if (c < 0x80) { *adv = 1; return c; }
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (!len || (size_t)len > n) { *adv = 1; return 0xFFFD; }
    uint32_t cp = c & (0x3F >> (len - 1));
    for (int i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80) { *adv = 1; return 0xFFFD; }
        cp = (cp << 6) | (u[i] & 0x3F);
    }
    *adv = (size_t)len;
    return cp;
}

size_t jj_utf8_encode(uint32_t cp, char *o)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int jj_js_is_space(uint32_t c)
{
    return (c >= 9 && c <= 13) || c == 32 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

size_t jj_utf16_len(const char *s, size_t n)
{
    size_t u = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) { u++; i++; continue; }
        size_t adv;
        uint32_t cp = jj_utf8_decode(s + i, n - i, &adv);
        u += cp >= 0x10000 ? 2 : 1;
        i += adv;
    }
    return u;
}

static uint32_t lead_unit(uint32_t cp) { return cp < 0x10000 ? cp : 0xD800 + ((cp - 0x10000) >> 10); }
static uint32_t trail_unit(uint32_t cp) { return cp < 0x10000 ? 0 : 0xDC00 + ((cp - 0x10000) & 0x3FF); }

int jj_js_str_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    while (i < an && j < bn) {
        size_t aa, ba;
        uint32_t x = jj_utf8_decode(a + i, an - i, &aa), y = jj_utf8_decode(b + j, bn - j, &ba);
        if (x != y) {
            uint32_t lx = lead_unit(x), ly = lead_unit(y);
            if (lx != ly) return lx < ly ? -1 : 1;
            uint32_t tx = trail_unit(x), ty = trail_unit(y);
            if (!tx || !ty) return !tx ? -1 : 1;
            return tx < ty ? -1 : 1;
        }
        i += aa;
        j += ba;
    }
    if (i < an) return 1;
    if (j < bn) return -1;
    return 0;
}

static const char *case_lookup(const struct jcase_entry *t, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t[mid].cp == cp) return t[mid].s;
        if (t[mid].cp < cp) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

#define NUPPER (sizeof jcase_upper / sizeof jcase_upper[0])
#define NLOWER (sizeof jcase_lower / sizeof jcase_lower[0])

void jj_js_upper(struct jrender *r, jsb *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t adv;
        uint32_t cp = jj_utf8_decode(s + i, n - i, &adv);
        const char *m = NULL;
        if (cp >= 'a' && cp <= 'z') jsb_putc(r, b, (char)(cp - 32));
        else if (cp >= 0x80 && (m = case_lookup(jcase_upper, NUPPER, cp))) jsb_puts(r, b, m);
        else jsb_put(r, b, s + i, adv);
        i += adv;
    }
}

static int is_cased(uint32_t cp)
{
    if ((cp | 32) >= 'a' && (cp | 32) <= 'z') return 1;
    return cp >= 0x80 && (case_lookup(jcase_upper, NUPPER, cp) || case_lookup(jcase_lower, NLOWER, cp));
}

static int is_case_ignorable(uint32_t cp)
{
    return cp == '\'' || cp == '.' || cp == ':' || cp == '^' || cp == '`' || cp == 0xAD || cp == 0xB7 ||
           cp == 0x2019 || (cp >= 0x300 && cp <= 0x36F) || (cp >= 0x2B0 && cp <= 0x2FF);
}

void jj_js_lower(struct jrender *r, jsb *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t adv;
        uint32_t cp = jj_utf8_decode(s + i, n - i, &adv);
        const char *m = NULL;
        if (cp >= 'A' && cp <= 'Z') jsb_putc(r, b, (char)(cp + 32));
        else if (cp == 0x3A3) {
            /* Final_Sigma: preceded by a cased letter and not followed by one */
            int before = 0, after = 0;
            size_t k = i;
            while (k > 0) {
                size_t p = k - 1, a2;
                while (p > 0 && ((unsigned char)s[p] & 0xC0) == 0x80) p--;
                uint32_t c2 = jj_utf8_decode(s + p, k - p, &a2);
                k = p;
                if (is_case_ignorable(c2)) continue;
                before = is_cased(c2);
                break;
            }
            for (k = i + adv; k < n;) {
                size_t a2;
                uint32_t c2 = jj_utf8_decode(s + k, n - k, &a2);
                k += a2;
                if (is_case_ignorable(c2)) continue;
                after = is_cased(c2);
                break;
            }
            jsb_puts(r, b, before && !after ? "\xCF\x82" : "\xCF\x83");
        } else if (cp >= 0x80 && (m = case_lookup(jcase_lower, NLOWER, cp))) jsb_puts(r, b, m);
        else jsb_put(r, b, s + i, adv);
        i += adv;
    }
}

/* ICU root collation for ASCII, as Node's localeCompare orders it (primary
 * weight; 0 = ignorable). Other characters sort after ASCII by code point. */
static const unsigned char coll_rank[128] = {
    0,0,0,0,0,0,0,0,0,1,2,3,4,5,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,6,12,16,28,38,29,27,15,17,18,24,32,9,8,14,25,
    39,40,41,42,43,44,45,46,47,48,11,10,33,34,35,13,23,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,
    69,70,71,72,73,74,19,26,20,31,7,30,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,
    74,21,36,22,37,0};

static uint32_t coll_primary(uint32_t cp)
{
    if (cp < 128) return coll_rank[cp];
    return 1000 + cp;
}

int jj_js_locale_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    for (int level = 0; level < 2; level++) {
        size_t i = 0, j = 0;
        for (;;) {
            uint32_t x = 0, y = 0, wx = 0, wy = 0;
            size_t adv;
            while (i < an) { x = jj_utf8_decode(a + i, an - i, &adv); i += adv; if ((wx = coll_primary(x))) break; }
            while (j < bn) { y = jj_utf8_decode(b + j, bn - j, &adv); j += adv; if ((wy = coll_primary(y))) break; }
            if (!wx || !wy) {
                if (wx) return 1;
                if (wy) return -1;
                break;
            }
            if (level == 0) {
                if (wx != wy) return wx < wy ? -1 : 1;
            } else {
                int ux = x >= 'A' && x <= 'Z', uy = y >= 'A' && y <= 'Z';
                if (ux != uy) return ux ? 1 : -1;
            }
        }
    }
    return 0;
}

void jj_js_trim(const char *s, size_t n, int start, int end, size_t *off, size_t *len)
{
    size_t a = 0, e = n;
    if (start) a = skip_js_space(s, n, 0);
    if (end) {
        while (e > a) {
            size_t k = e - 1;
            while (k > a && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
            size_t adv;
            uint32_t cp = jj_utf8_decode(s + k, e - k, &adv);
            if (k + adv != e || !jj_js_is_space(cp)) break;
            e = k;
        }
    }
    *off = a;
    *len = e - a;
}

/* ---- Runtime value semantics --------------------------------------------- */

const char *jv_type_name(jv v)
{
    switch (v.k) {
    case JV_UNDEF: return "UndefinedValue";
    case JV_NONE: return "NullValue";
    case JV_BOOL: return "BooleanValue";
    case JV_INT: return "IntegerValue";
    case JV_FLOAT: return "FloatValue";
    case JV_STR: return "StringValue";
    case JV_LIST: return v.f & JF_TUPLE ? "TupleValue" : "ArrayValue";
    case JV_DICT: case JV_LOOP: return v.f & JF_KWARGS ? "KeywordArgumentsValue" : "ObjectValue";
    case JV_NS: return "NamespaceValue";
    case JV_FUNC: return "FunctionValue";
    default: return "undefined";
    }
}

static _Noreturn void hole_fail(struct jrender *r)
{
    jr_fail(r, "TypeError: Cannot read properties of undefined");
}

int jv_truthy(struct jrender *r, jv v)
{
    switch (v.k) {
    case JV_UNDEF: case JV_NONE: return 0;
    case JV_BOOL: return v.u.b;
    case JV_INT: case JV_FLOAT: return v.u.n != 0 && !isnan(v.u.n);
    case JV_STR: return v.u.s->len > 0;
    case JV_LIST: return v.u.l->n > 0;
    case JV_DICT: return v.u.d->n > 0;
    case JV_LOOP: return 1;
    case JV_NS: case JV_FUNC: return 1;
    default: hole_fail(r);
    }
}

void jv_to_string(struct jrender *r, jsb *b, jv v)
{
    char buf[40];
    switch (v.k) {
    case JV_UNDEF: jsb_puts(r, b, "undefined"); break;
    case JV_NONE: jsb_puts(r, b, "undefined"); break; /* NullValue.value is undefined in the reference */
    case JV_BOOL: jsb_puts(r, b, v.u.b ? "true" : "false"); break;
    case JV_INT: jsb_put(r, b, buf, jj_js_num_fmt(v.u.n, buf)); break;
    case JV_FLOAT: jsb_put(r, b, buf, jj_js_float_fmt(v.u.n, buf)); break;
    case JV_STR: jsb_put(r, b, v.u.s->s, v.u.s->len); break;
    case JV_LIST: case JV_DICT: case JV_NS: case JV_LOOP: {
        struct jjson_opts o = {0, 0, 0, ", ", ": ", 2, 2};
        jv_to_json(r, b, jv_materialize(r, v), &o, 0, 0);
        break;
    }
    case JV_FUNC: jsb_puts(r, b, "function () { [native code] }"); break;
    default: hole_fail(r);
    }
}

void jv_js_string(struct jrender *r, jsb *b, jv v)
{
    char buf[64];
    switch (v.k) {
    case JV_INT: case JV_FLOAT: jsb_put(r, b, buf, jj_js_num_fmt(v.u.n, buf)); break;
    case JV_LIST:
        for (size_t i = 0; i < v.u.l->n; i++) {
            if (i) jsb_putc(r, b, ',');
            if (v.u.l->v[i].k != JV_HOLE) jv_to_string(r, b, v.u.l->v[i]);
        }
        break;
    case JV_DICT: case JV_NS: case JV_LOOP: jsb_puts(r, b, "[object Map]"); break;
    default: jv_to_string(r, b, v);
    }
}

/* JavaScript's classes of .value: 0 undefined, 1 null, 2 boolean, 3 number, 4 string, 5 object.
 * The reference's NullValue holds undefined, not null. */
static int js_class(struct jrender *r, jv v)
{
    switch (v.k) {
    case JV_UNDEF: return 0;
    case JV_NONE: return 0;
    case JV_BOOL: return 2;
    case JV_INT: case JV_FLOAT: return 3;
    case JV_STR: return 4;
    case JV_HOLE: hole_fail(r);
    default: return 5;
    }
}

static const void *obj_id(jv v)
{
    switch (v.k) {
    case JV_LIST: return v.u.l;
    case JV_DICT: case JV_NS: return v.u.d;
    case JV_FUNC: return v.u.fn;
    case JV_LOOP: return v.u.loop;
    default: return NULL;
    }
}

static int same_class_eq(jv a, jv b, int cls)
{
    switch (cls) {
    case 0: case 1: return 1;
    case 2: return a.u.b == b.u.b;
    case 3: return a.u.n == b.u.n;
    case 4: return a.u.s->len == b.u.s->len && memcmp(a.u.s->s, b.u.s->s, a.u.s->len) == 0;
    default: return obj_id(a) == obj_id(b);
    }
}

int jv_loose_eq(struct jrender *r, jv a, jv b)
{
    int ca = js_class(r, a), cb = js_class(r, b);
    for (;;) {
        if (ca == cb) return same_class_eq(a, b, ca);
        if (ca <= 1 && cb <= 1) return 1;
        if (ca == 3 && cb == 4) return a.u.n == jj_js_to_number(b.u.s->s, b.u.s->len);
        if (ca == 4 && cb == 3) return b.u.n == jj_js_to_number(a.u.s->s, a.u.s->len);
        if (ca == 2) { a = jv_int(a.u.b); ca = 3; continue; }
        if (cb == 2) { b = jv_int(b.u.b); cb = 3; continue; }
        if (ca == 5 && (cb == 3 || cb == 4)) {
            jsb s = {0};
            jv_js_string(r, &s, a);
            a = jsb_finish(r, &s);
            ca = 4;
            continue;
        }
        if (cb == 5 && (ca == 3 || ca == 4)) {
            jsb s = {0};
            jv_js_string(r, &s, b);
            b = jsb_finish(r, &s);
            cb = 4;
            continue;
        }
        return 0;
    }
}

int jv_strict_eq(struct jrender *r, jv a, jv b)
{
    int ca = js_class(r, a), cb = js_class(r, b);
    return ca == cb && same_class_eq(a, b, ca);
}

int jv_same_value_zero(jv a, jv b)
{
    if (a.k == JV_HOLE || b.k == JV_HOLE) return a.k == b.k || (a.k == JV_UNDEF || b.k == JV_UNDEF);
    int ca = a.k == JV_UNDEF ? 0 : a.k == JV_NONE ? 0 : a.k == JV_BOOL ? 2 : jv_isnum(a) ? 3 : a.k == JV_STR ? 4 : 5;
    int cb = b.k == JV_UNDEF ? 0 : b.k == JV_NONE ? 0 : b.k == JV_BOOL ? 2 : jv_isnum(b) ? 3 : b.k == JV_STR ? 4 : 5;
    if (ca != cb) return 0;
    if (ca == 3 && isnan(a.u.n) && isnan(b.u.n)) return 1;
    return same_class_eq(a, b, ca);
}

/* compareRuntimeValues */
int jv_compare(struct jrender *r, jv a, jv b, int case_sensitive)
{
    if (a.k == JV_HOLE || b.k == JV_HOLE) hole_fail(r);
    if (a.k == JV_NONE && b.k == JV_NONE) return 0;
    if (a.k == JV_NONE || b.k == JV_NONE) jr_fail(r, "Cannot compare %s with %s", jv_type_name(a), jv_type_name(b));
    if (a.k == JV_UNDEF && b.k == JV_UNDEF) return 0;
    if (a.k == JV_UNDEF || b.k == JV_UNDEF) jr_fail(r, "Cannot compare %s with %s", jv_type_name(a), jv_type_name(b));
    int na = jv_isnum(a) || a.k == JV_BOOL, nb = jv_isnum(b) || b.k == JV_BOOL;
    if (na && nb) {
        double x = a.k == JV_BOOL ? a.u.b : a.u.n, y = b.k == JV_BOOL ? b.u.b : b.u.n;
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (strcmp(jv_type_name(a), jv_type_name(b)) != 0)
        jr_fail(r, "Cannot compare different types: %s and %s", jv_type_name(a), jv_type_name(b));
    if (a.k == JV_STR) {
        if (case_sensitive) return jj_js_str_cmp(a.u.s->s, a.u.s->len, b.u.s->s, b.u.s->len);
        jsb x = {0}, y = {0};
        jj_js_lower(r, &x, a.u.s->s, a.u.s->len);
        jj_js_lower(r, &y, b.u.s->s, b.u.s->len);
        return jj_js_str_cmp(x.p ? x.p : "", x.n, y.p ? y.p : "", y.n);
    }
    jr_fail(r, "Cannot compare type: %s", jv_type_name(a));
}

/* Array.prototype.sort as V8 does it: for fewer than 64 elements exactly the
 * comparisons V8's TimSort makes (a run, then binary insertion), so that a
 * comparator that fails on some pair fails on the same inputs; a stable
 * merge sort beyond. */
typedef int (*jcmp)(struct jrender *, jv, jv, void *);

static void merge_sort(struct jrender *r, jv *a, jv *tmp, size_t n, jcmp cmp, void *ctx)
{
    if (n < 2) return;
    size_t h = n / 2;
    merge_sort(r, a, tmp, h, cmp, ctx);
    merge_sort(r, a + h, tmp, n - h, cmp, ctx);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        if (cmp(r, a[j], a[i], ctx) < 0) tmp[k++] = a[j++];
        else tmp[k++] = a[i++];
    }
    while (i < h) tmp[k++] = a[i++];
    while (j < n) tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof(jv));
}

void jv_sort(struct jrender *r, jv *a, size_t n, jcmp cmp, void *ctx)
{
    if (n < 2) return;
    if (n >= 64) {
        jv *tmp = jal(r, n * sizeof(jv));
        merge_sort(r, a, tmp, n, cmp, ctx);
        return;
    }
    /* CountAndMakeRun(0, n) */
    size_t run = 2;
    int desc = cmp(r, a[1], a[0], ctx) < 0;
    jv prev = a[1];
    for (size_t i = 2; i < n; i++) {
        int o = cmp(r, a[i], prev, ctx);
        if (desc ? o >= 0 : o < 0) break;
        prev = a[i];
        run++;
    }
    if (desc)
        for (size_t i = 0, j = run - 1; i < j; i++, j--) { jv t = a[i]; a[i] = a[j]; a[j] = t; }
    /* BinaryInsertionSort(0, run, n) */
    for (size_t start = run; start < n; start++) {
        size_t left = 0, right = start;
        jv pivot = a[start];
        while (left < right) {
            size_t mid = left + ((right - left) >> 1);
            if (cmp(r, pivot, a[mid], ctx) < 0) right = mid;
            else left = mid + 1;
        }
        for (size_t p = start; p > left; p--) a[p] = a[p - 1];
        a[left] = pivot;
    }
}

jv jv_get_attr_path(struct jrender *r, jv item, const char *path, size_t n)
{
    jv v = jv_materialize(r, item);
    size_t i = 0;
    for (;;) {
        size_t e = i;
        while (e < n && path[e] != '.') e++;
        if (v.k == JV_DICT || v.k == JV_NS) {
            jv *p = jdict_get(v.u.d, path + i, e - i);
            v = p ? jv_materialize(r, *p) : jv_undef();
        } else if (v.k == JV_LIST) {
            double idx = jj_js_parse_int(path + i, e - i);
            if (!isnan(idx) && idx >= 0 && idx < (double)v.u.l->n) v = v.u.l->v[(size_t)idx];
            else return jv_undef();
        } else {
            return jv_undef();
        }
        if (e >= n) break;
        i = e + 1;
    }
    return v;
}

void jdict_remove(struct jrender *r, jdict *d, const char *k, size_t n)
{
    jv *e = jdict_get(d, k, n);
    if (!e) return;
    size_t i = (size_t)(e - d->v);
    memmove(d->k + i, d->k + i + 1, (d->n - i - 1) * sizeof(jstr *));
    memmove(d->v + i, d->v + i + 1, (d->n - i - 1) * sizeof(jv));
    d->n--;
    if (d->idx) {
        if (!r) free(d->idx);
        d->idx = NULL;
        d->icap = 0;
        if (d->n >= DICT_INDEX_MIN) dict_reindex(r, d, d->n);
    }
}

const char *jj_memmem(const char *hay, size_t n, const char *needle, size_t m)
{
    if (!m) return hay;
    if (m > n) return NULL;
    const char *end = hay + (n - m);
    for (const char *p = hay; p <= end; p++) {
        p = memchr(p, needle[0], (size_t)(end - p) + 1);
        if (!p) return NULL;
        if (memcmp(p, needle, m) == 0) return p;
    }
    return NULL;
}
