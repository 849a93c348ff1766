/* unicode.c - see unicode.h. */
#include "text/unicode.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

size_t tu_decode_strict(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    if (c < 0xC2) return 0;
    if (c < 0xE0) {
        if (n < 2 || (s[1] & 0xC0) != 0x80) return 0;
        *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        if (n < 3) return 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
        if (s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80) return 0;
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4) return 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
        if (s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
              ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    return 0;
}

uint32_t tu_decode_llama(const unsigned char *s, size_t n, size_t *adv)
{
    unsigned char c = s[0];
    if (!(c & 0x80)) { *adv = 1; return c; }
    if (!(c & 0x40)) goto bad;
    if (!(c & 0x20)) {
        if (n < 2 || (s[1] & 0xC0) != 0x80) goto bad;
        *adv = 2;
        return ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if (!(c & 0x10)) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) goto bad;
        *adv = 3;
        return ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    if (!(c & 0x08)) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) goto bad;
        *adv = 4;
        return ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
               ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    }
bad:
    *adv = 1;
    return 0xFFFD;
}

int tu_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF) cp = 0xFFFD;
    if (cp < 0x10000) return tu_encode(cp, out);
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the maximal subpart of an ill-formed sequence starting at s
 * (WHATWG decoder: the bytes consumed before the error is reported). */
static size_t maximal_subpart(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 1;
    size_t i = 1;
    while (i <= need && i < n) {
        if (s[i] < lo || s[i] > hi) break;
        lo = 0x80; hi = 0xBF;
        i++;
    }
    return i;
}

size_t tu_sanitize_lossy(const char *in, size_t n, char *out)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0;
    while (i < n) {
        /* fast path for ASCII runs */
        if (s[i] < 0x80) { out[o++] = (char)s[i++]; continue; }
        uint32_t cp;
        size_t l = tu_decode_strict(s + i, n - i, &cp);
        if (l) {
            memcpy(out + o, s + i, l);
            o += l; i += l;
        } else {
            i += maximal_subpart(s + i, n - i);
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
        }
    }
    return o;
}

bool tu_is_valid(const char *in, size_t n)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) { i++; continue; }
        uint32_t cp;
        size_t l = tu_decode_strict(s + i, n - i, &cp);
        if (!l) return false;
        i += l;
    }
    return true;
}

size_t tu_sanitize_llama(const char *in, size_t n, char *out)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0;
    while (i < n) {
        if (s[i] < 0x80) { out[o++] = (char)s[i++]; continue; }
        size_t adv;
        uint32_t cp = tu_decode_llama(s + i, n - i, &adv);
        i += adv;
        o += (size_t)tu_encode(cp, out + o);
    }
    return o;
}

/* ---- byte-level alphabet ---- */

static uint32_t g_byte_cp[256];
static char g_byte_utf8[256][2];
static unsigned char g_byte_utf8_len[256];
static int16_t g_cp_byte[324];
static int g_bytes_ready;

static void bytes_init(void)
{
    if (__atomic_load_n(&g_bytes_ready, __ATOMIC_ACQUIRE)) return;
    /* Idempotent: racing threads compute identical tables. */
    int n = 0;
    for (int b = 0; b < 256; b++) {
        uint32_t cp;
        if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) cp = (uint32_t)b;
        else cp = 256 + (uint32_t)n++;
        g_byte_cp[b] = cp;
    }
    for (int i = 0; i < 324; i++) g_cp_byte[i] = -1;
    for (int b = 0; b < 256; b++) {
        g_cp_byte[g_byte_cp[b]] = (int16_t)b;
        char tmp[4];
        int l = tu_encode(g_byte_cp[b], tmp);
        memcpy(g_byte_utf8[b], tmp, (size_t)l);
        g_byte_utf8_len[b] = (unsigned char)l;
    }
    __atomic_store_n(&g_bytes_ready, 1, __ATOMIC_RELEASE);
}

uint32_t tu_byte_to_cp(unsigned char b) { bytes_init(); return g_byte_cp[b]; }

int tu_cp_to_byte(uint32_t cp)
{
    bytes_init();
    return cp < 324 ? g_cp_byte[cp] : -1;
}

const char *tu_byte_to_utf8(unsigned char b, int *len)
{
    bytes_init();
    *len = g_byte_utf8_len[b];
    return g_byte_utf8[b];
}

/* ---- classes ---- */

bool tu_is_whitespace(uint32_t cp)
{
    if (cp < 0x80) return cp == ' ' || (cp >= 9 && cp <= 13);
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

unsigned tu_flags(uint32_t cp)
{
    unsigned f = tu_is_whitespace(cp) ? TU_WS : 0;
    if (cp > 0x10FFFF) return f | TU_CAT_C;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
        return f | TU_CAT_L;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        return f | TU_CAT_M;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return f | TU_CAT_N;
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        return f | TU_CAT_P;
    case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC: case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
        return f | TU_CAT_S;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
        return f | TU_CAT_Z;
    default:
        return f | TU_CAT_C;
    }
}

bool tu_is_control(uint32_t cp)
{
    return cp <= 0x10FFFF && utf8proc_category((utf8proc_int32_t)cp) == UTF8PROC_CATEGORY_CC;
}

bool tu_is_mn(uint32_t cp)
{
    return cp <= 0x10FFFF && utf8proc_category((utf8proc_int32_t)cp) == UTF8PROC_CATEGORY_MN;
}

bool tu_is_numeric(uint32_t cp)
{
    return (tu_flags(cp) & TU_CAT_N) != 0;
}

bool tu_is_word(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_';
    if (cp == 0x200C || cp == 0x200D) return true;
    if (cp > 0x10FFFF) return false;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_PC:
        return true;
    default:
        return false;
    }
}

uint32_t tu_tolower(uint32_t cp)
{
    if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    if (cp > 0x10FFFF) return cp;
    return (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
}

char *tu_normalize(const char *in, size_t n, int form, size_t *out_len)
{
    int opts = UTF8PROC_STABLE;
    switch (form) {
    case 'C': opts |= UTF8PROC_COMPOSE; break;
    case 'D': opts |= UTF8PROC_DECOMPOSE; break;
    case 'K': opts |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case 'k': opts |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
    default: return NULL;
    }
    /* Fast path: ASCII is invariant under every form. */
    size_t i = 0;
    while (i < n && (unsigned char)in[i] < 0x80) i++;
    if (i == n) {
        char *r = malloc(n + 1);
        if (!r) return NULL;
        memcpy(r, in, n);
        r[n] = 0;
        *out_len = n;
        return r;
    }
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)n, &dst,
                                      (utf8proc_option_t)opts);
    if (r < 0) { free(dst); return NULL; }
    *out_len = (size_t)r;
    return (char *)dst;
}

size_t tu_invalid_len(const unsigned char *s, size_t n) { return maximal_subpart(s, n); }

bool tu_is_incomplete(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t full;
    if (c >= 0xC2 && c <= 0xDF) full = 2;
    else if (c >= 0xE0 && c <= 0xEF) full = 3;
    else if (c >= 0xF0 && c <= 0xF4) full = 4;
    else return false;
    return n < full && maximal_subpart(s, n) == n;
}
