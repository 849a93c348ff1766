/* value_text.c - what the renderer needs of text that JavaScript defines:
 * numbers printed and parsed as JavaScript does (so output matches
 * @huggingface/jinja), and Unicode case mapping, case-insensitive
 * comparison and UTF-16 lengths. */
#include "jinja_internal.h"
#include "base/buf.h"
#include "casemap.h"
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

