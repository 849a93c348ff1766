/* methods.c - what member access finds on values (string, list and dict
 * builtins of @huggingface/jinja) and the global functions raise_exception,
 * range, strftime_now and namespace. Positional arguments come first; a call
 * with keyword arguments passes them as a trailing JF_KWARGS dict, which
 * builtins see as one more argument, as in the reference. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* localtime_r, gmtime_r */
#endif
#include "jinja_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum {
    M_UPPER, M_LOWER, M_STRIP, M_TITLE, M_CAPITALIZE, M_RSTRIP, M_LSTRIP, M_STARTSWITH, M_ENDSWITH, M_SPLIT,
    M_REPLACE, M_GET, M_ITEMS, M_KEYS, M_VALUES, M_DICTSORT
};

static const char *STR_METHODS[] = {"upper", "lower", "strip", "title", "capitalize", "rstrip", "lstrip",
                                    "startswith", "endswith", "split", "replace"};
static const char *DICT_METHODS[] = {"get", "items", "keys", "values", "dictsort"};

static int eq(const char *a, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(a, lit, n) == 0;
}

static jv method(struct jrender *r, jv self, int id)
{
    jfunc *f = jal(r, sizeof *f);
    memset(f, 0, sizeof *f);
    f->kind = FN_METHOD;
    f->id = id;
    f->self = self;
    jv v = {JV_FUNC, 0, {0}};
    v.u.fn = f;
    return v;
}

jv jj_member_builtin(struct jrender *r, jv obj, const char *name, size_t n, int *found)
{
    *found = 1;
    if (obj.k == JV_STR) {
        if (eq(name, n, "length")) return jv_int((double)jj_utf16_len(obj.u.s->s, obj.u.s->len));
        for (int i = 0; i < (int)(sizeof STR_METHODS / sizeof *STR_METHODS); i++)
            if (eq(name, n, STR_METHODS[i])) return method(r, obj, i);
    } else if (obj.k == JV_LIST) {
        if (eq(name, n, "length")) return jv_int((double)obj.u.l->n);
    } else if (obj.k == JV_DICT) {
        for (int i = 0; i < (int)(sizeof DICT_METHODS / sizeof *DICT_METHODS); i++)
            if (eq(name, n, DICT_METHODS[i])) return method(r, obj, M_GET + i);
    }
    *found = 0;
    return jv_undef();
}

jv jj_dict_items(struct jrender *r, const jdict *d)
{
    jv l = jv_list_new(r, d->n);
    for (size_t i = 0; i < d->n; i++) {
        jv p = jv_list_new(r, 2);
        p.u.l->v[0] = jv_strv(d->k[i]);
        p.u.l->v[1] = d->v[i];
        p.u.l->n = 2;
        l.u.l->v[i] = p;
    }
    l.u.l->n = d->n;
    return l;
}

jv jj_dict_keys(struct jrender *r, const jdict *d)
{
    jv l = jv_list_new(r, d->n);
    for (size_t i = 0; i < d->n; i++) l.u.l->v[i] = jv_strv(d->k[i]);
    l.u.l->n = d->n;
    return l;
}

jv jj_dict_values(struct jrender *r, const jdict *d)
{
    jv l = jv_list_new(r, d->n);
    for (size_t i = 0; i < d->n; i++) l.u.l->v[i] = d->v[i];
    l.u.l->n = d->n;
    return l;
}

/* replace() of utils.ts: count null or negative means all */
jv jj_js_replace(struct jrender *r, jstr *s, jstr *old, jstr *nw, double count, int has_count)
{
    if (has_count && count == 0) return jv_strv(s);
    double remaining = (!has_count || count < 0) ? INFINITY : count;
    jsb b = {0};
    if (old->len == 0) {
        for (size_t i = 0;;) {
            if (remaining > 0) {
                jsb_put(r, &b, nw->s, nw->len);
                remaining--;
            }
            if (i >= s->len) break;
            size_t adv;
            jj_utf8_decode(s->s + i, s->len - i, &adv);
            jsb_put(r, &b, s->s + i, adv);
            i += adv;
        }
        return jsb_finish(r, &b);
    }
    size_t i = 0;
    while (i < s->len) {
        const char *p = jj_memmem(s->s + i, s->len - i, old->s, old->len);
        if (!p) break;
        size_t at = (size_t)(p - s->s);
        jsb_put(r, &b, s->s + i, at - i);
        if (remaining > 0) {
            jsb_put(r, &b, nw->s, nw->len);
            remaining--;
        } else {
            jsb_put(r, &b, old->s, old->len);
        }
        i = at + old->len;
    }
    jsb_put(r, &b, s->s + i, s->len - i);
    return jsb_finish(r, &b);
}

static jv str_split(struct jrender *r, jstr *s, jargs *a)
{
    jv sep = a->n > 0 ? a->v[0] : jv_none();
    if (sep.k == JV_HOLE) sep = jv_none();
    if (sep.k != JV_STR && sep.k != JV_NONE) jr_fail(r, "sep argument must be a string or null");
    jv ms = a->n > 1 && a->v[1].k != JV_HOLE ? a->v[1] : jv_int(-1);
    if (ms.k != JV_INT) jr_fail(r, "maxsplit argument must be a number");
    double maxsplit = ms.u.n;
    jv out = jv_list_new(r, 0);
    if (sep.k == JV_NONE) {
        size_t off, len;
        jj_js_trim(s->s, s->len, 1, 0, &off, &len);
        const char *t = s->s + off;
        size_t i = 0;
        while (i < len) {
            /* next \S+ */
            size_t adv;
            while (i < len && jj_js_is_space(jj_utf8_decode(t + i, len - i, &adv))) i += adv;
            if (i >= len) break;
            size_t st = i;
            while (i < len && !jj_js_is_space(jj_utf8_decode(t + i, len - i, &adv))) i += adv;
            if (maxsplit != -1 && (double)out.u.l->n >= maxsplit) {
                jlist_push(r, out.u.l, jv_str(r, t + st, len - st));
                break;
            }
            jlist_push(r, out.u.l, jv_str(r, t + st, i - st));
        }
        return out;
    }
    jstr *sp = sep.u.s;
    if (!sp->len) jr_fail(r, "empty separator");
    size_t i = 0;
    for (;;) {
        const char *p = i <= s->len ? jj_memmem(s->s + i, s->len - i, sp->s, sp->len) : NULL;
        if (!p) {
            jlist_push(r, out.u.l, jv_str(r, s->s + i, s->len - i));
            break;
        }
        size_t at = (size_t)(p - s->s);
        jlist_push(r, out.u.l, jv_str(r, s->s + i, at - i));
        i = at + sp->len;
    }
    size_t n = out.u.l->n;
    if (maxsplit != -1 && (double)n > maxsplit) {
        /* result.push(result.splice(maxsplit).join(sep)) */
        double k = maxsplit < 0 ? fmax((double)n + maxsplit, 0) : maxsplit;
        size_t start = (size_t)k;
        jsb b = {0};
        for (size_t j = start; j < n; j++) {
            if (j > start) jsb_put(r, &b, sp->s, sp->len);
            jsb_put(r, &b, out.u.l->v[j].u.s->s, out.u.l->v[j].u.s->len);
        }
        out.u.l->n = start;
        jlist_push(r, out.u.l, jsb_finish(r, &b));
    }
    return out;
}

static jv affix(struct jrender *r, jstr *s, jargs *a, int end)
{
    const char *name = end ? "endswith" : "startswith";
    if (a->n == 0) jr_fail(r, "%s() requires at least one argument", name);
    jv p = a->v[0];
    if (p.k == JV_STR) {
        jstr *x = p.u.s;
        if (x->len > s->len) return jv_bool(0);
        return jv_bool(memcmp(end ? s->s + s->len - x->len : s->s, x->s, x->len) == 0);
    }
    if (p.k == JV_LIST) {
        for (size_t i = 0; i < p.u.l->n; i++) {
            jv it = p.u.l->v[i];
            if (it.k != JV_STR) jr_fail(r, "%s() tuple elements must be strings", name);
            jstr *x = it.u.s;
            if (x->len <= s->len && memcmp(end ? s->s + s->len - x->len : s->s, x->s, x->len) == 0) return jv_bool(1);
        }
        return jv_bool(0);
    }
    jr_fail(r, "%s() argument must be a string or tuple of strings", name);
}

static jv dictsort(struct jrender *r, jdict *d, jargs *a);

jv jj_call_method(struct jrender *r, jfunc *f, jargs *a)
{
    jv self = f->self;
    jsb b = {0};
    size_t off, len;
    switch (f->id) {
    case M_UPPER:
        jj_js_upper(r, &b, self.u.s->s, self.u.s->len);
        return jsb_finish(r, &b);
    case M_LOWER:
        jj_js_lower(r, &b, self.u.s->s, self.u.s->len);
        return jsb_finish(r, &b);
    case M_STRIP: case M_RSTRIP: case M_LSTRIP:
        jj_js_trim(self.u.s->s, self.u.s->len, f->id != M_RSTRIP, f->id != M_LSTRIP, &off, &len);
        return jv_str(r, self.u.s->s + off, len);
    case M_TITLE: {
        jstr *s = self.u.s;
        jv o = jv_str(r, s->s, s->len);
        char *p = o.u.s->s;
        for (size_t i = 0; i < s->len; i++) {
            unsigned char c = (unsigned char)p[i];
            int w = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
            unsigned char pc = i ? (unsigned char)p[i - 1] : 0;
            int pw = i && ((pc >= '0' && pc <= '9') || (pc >= 'a' && pc <= 'z') || (pc >= 'A' && pc <= 'Z') || pc == '_');
            if (w && !pw && c >= 'a' && c <= 'z') p[i] = (char)(c - 32);
        }
        return o;
    }
    case M_CAPITALIZE: {
        jstr *s = self.u.s;
        if (!s->len) return self;
        size_t adv;
        uint32_t cp = jj_utf8_decode(s->s, s->len, &adv);
        if (cp >= 0x10000) return self;
        jj_js_upper(r, &b, s->s, adv);
        jsb_put(r, &b, s->s + adv, s->len - adv);
        return jsb_finish(r, &b);
    }
    case M_STARTSWITH: return affix(r, self.u.s, a, 0);
    case M_ENDSWITH: return affix(r, self.u.s, a, 1);
    case M_SPLIT: return str_split(r, self.u.s, a);
    case M_REPLACE: {
        if (a->n < 2) jr_fail(r, "replace() requires at least two arguments");
        jv o = a->v[0], nw = a->v[1];
        if (o.k != JV_STR || nw.k != JV_STR) jr_fail(r, "replace() arguments must be strings");
        jv count = jv_none();
        if (a->n > 2) {
            if (a->v[2].k == JV_DICT && (a->v[2].f & JF_KWARGS)) {
                jv *c = jdict_get(a->v[2].u.d, "count", 5);
                count = c ? *c : jv_none();
            } else {
                count = a->v[2];
            }
        }
        if (count.k != JV_INT && count.k != JV_NONE) jr_fail(r, "replace() count argument must be a number or null");
        return jj_js_replace(r, self.u.s, o.u.s, nw.u.s, count.k == JV_INT ? count.u.n : 0, count.k == JV_INT);
    }
    case M_GET: {
        if (a->n == 0 || a->v[0].k == JV_HOLE) jr_fail(r, "TypeError: Cannot read properties of undefined (reading 'type')");
        if (a->v[0].k != JV_STR) jr_fail(r, "Object key must be a string: got %s", jv_type_name(a->v[0]));
        jv *e = jdict_get(self.u.d, a->v[0].u.s->s, a->v[0].u.s->len);
        if (e && e->k != JV_HOLE) return *e;
        if (a->n > 1 && a->v[1].k != JV_HOLE) return a->v[1];
        return jv_none();
    }
    case M_ITEMS: return jj_dict_items(r, self.u.d);
    case M_KEYS: return jj_dict_keys(r, self.u.d);
    case M_VALUES: return jj_dict_values(r, self.u.d);
    case M_DICTSORT: return dictsort(r, self.u.d, a);
    }
    jr_fail(r, "unknown method");
}

struct dsort { int by_value, cs, rev; };

static int dsort_cmp(struct jrender *r, jv a, jv b, void *ctx)
{
    struct dsort *d = ctx;
    int i = d->by_value;
    int res = jv_compare(r, a.u.l->v[i], b.u.l->v[i], d->cs);
    return d->rev ? -res : res;
}

static jv dictsort(struct jrender *r, jdict *d, jargs *a)
{
    jdict *kw = NULL;
    jv pos[3];
    size_t np = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (a->v[i].k == JV_DICT && (a->v[i].f & JF_KWARGS)) kw = a->v[i].u.d;
        else if (np < 3) pos[np++] = a->v[i];
    }
    jv *k;
    jv cs = np > 0 ? pos[0] : (kw && (k = jdict_get(kw, "case_sensitive", 14))) ? *k : jv_bool(0);
    if (cs.k != JV_BOOL) jr_fail(r, "case_sensitive must be a boolean");
    jv by = np > 1 ? pos[1] : (kw && (k = jdict_get(kw, "by", 2))) ? *k : jv_cstr(r, "key");
    if (by.k != JV_STR) jr_fail(r, "by must be a string");
    int byv;
    if (eq(by.u.s->s, by.u.s->len, "key")) byv = 0;
    else if (eq(by.u.s->s, by.u.s->len, "value")) byv = 1;
    else jr_fail(r, "by must be either 'key' or 'value'");
    jv rev = np > 2 ? pos[2] : (kw && (k = jdict_get(kw, "reverse", 7))) ? *k : jv_bool(0);
    if (rev.k != JV_BOOL) jr_fail(r, "reverse must be a boolean");
    jv items = jj_dict_items(r, d);
    struct dsort ds = {byv, cs.u.b, rev.u.b};
    jv_sort(r, items.u.l->v, items.u.l->n, dsort_cmp, &ds);
    return items;
}

/* ---- globals ------------------------------------------------------------------ */

static const char *MONTHS[] = {"January", "February", "March", "April", "May", "June", "July",
                               "August", "September", "October", "November", "December"};

static jv strftime_now(struct jrender *r, jargs *a)
{
    if (a->n == 0 || a->v[0].k != JV_STR) jr_fail(r, "TypeError: format.replace is not a function");
    jstr *fmt = a->v[0].u.s;
    time_t t = r->now ? (time_t)r->now : time(NULL);
    struct tm tm;
    if (r->now_utc) gmtime_r(&t, &tm);
    else localtime_r(&t, &tm);
    jsb b = {0};
    char buf[32];
    for (size_t i = 0; i < fmt->len; i++) {
        char c = fmt->s[i];
        if (c == '%' && i + 1 < fmt->len && strchr("YmdbBHM%", fmt->s[i + 1])) {
            switch (fmt->s[++i]) {
            case 'Y': snprintf(buf, sizeof buf, "%d", tm.tm_year + 1900); break;
            case 'm': snprintf(buf, sizeof buf, "%02d", tm.tm_mon + 1); break;
            case 'd': snprintf(buf, sizeof buf, "%02d", tm.tm_mday); break;
            case 'b': snprintf(buf, sizeof buf, "%.3s", MONTHS[tm.tm_mon]); break;
            case 'B': snprintf(buf, sizeof buf, "%s", MONTHS[tm.tm_mon]); break;
            case 'H': snprintf(buf, sizeof buf, "%02d", tm.tm_hour); break;
            case 'M': snprintf(buf, sizeof buf, "%02d", tm.tm_min); break;
            default: snprintf(buf, sizeof buf, "%%"); break;
            }
            jsb_puts(r, &b, buf);
        } else {
            jsb_putc(r, &b, c);
        }
    }
    return jsb_finish(r, &b);
}

/* ToNumber of a JavaScript value (what `i < stop` compares with) */
static double js_tonumber(struct jrender *r, jv v)
{
    switch (v.k) {
    case JV_INT: case JV_FLOAT: return v.u.n;
    case JV_BOOL: return v.u.b;
    case JV_NONE: return 0;
    case JV_STR: return jj_js_to_number(v.u.s->s, v.u.s->len);
    case JV_LIST: {
        jsb b = {0};
        jv_js_string(r, &b, v);
        return jj_js_to_number(b.p ? b.p : "", b.n);
    }
    default: return NAN;
    }
}

/* range(start, stop?, step = 1) of utils.ts, on JavaScript values */
static jv range_fn(struct jrender *r, jargs *a)
{
    jv arg[3];
    int has[3];
    for (int i = 0; i < 3; i++) {
        has[i] = (size_t)i < a->n && a->v[i].k != JV_UNDEF && a->v[i].k != JV_NONE && a->v[i].k != JV_HOLE;
        arg[i] = has[i] ? a->v[i] : jv_undef();
    }
    jv out = jv_list_new(r, 0);
    jv start = arg[0], stop = arg[1];
    if (!has[1]) { stop = start; start = jv_int(0); }
    else if (!jv_isnum(start) && start.k != JV_BOOL)
        jr_fail(r, "range() start must be a number, got %s", jv_type_name(start));
    if (has[2] && jv_isnum(arg[2]) && arg[2].u.n == 0) jr_fail(r, "range() step must not be zero");
    if (has[2] && !jv_isnum(arg[2]) && arg[2].k != JV_BOOL)
        jr_fail(r, "range() step must be a number, got %s", jv_type_name(arg[2]));
    double i0 = start.k == JV_BOOL ? start.u.b : start.u.n;
    double step = has[2] ? (arg[2].k == JV_BOOL ? arg[2].u.b : arg[2].u.n) : 1;
    double lim = js_tonumber(r, stop);
    /* a boolean start is pushed as it is first, then counts as a number */
    int first = 1;
    for (double i = i0; step > 0 ? i < lim : i > lim; i += step) {
        if (++r->loops > r->lim.max_loops)
            jr_fail(r, "loop iteration limit exceeded (max_loop_iterations=%lu)", r->lim.max_loops);
        if (first && start.k == JV_BOOL) jlist_push(r, out.u.l, start);
        else jlist_push(r, out.u.l, i == trunc(i) ? jv_int(i) : jv_float(i));
        first = 0;
    }
    return out;
}

static jv namespace_fn(struct jrender *r, jargs *a)
{
    size_t n = a->n;
    jdict *kw = NULL;
    if (n && a->v[n - 1].k == JV_DICT && (a->v[n - 1].f & JF_KWARGS)) kw = a->v[--n].u.d;
    if (n > 1) jr_fail(r, "namespace expected at most 1 argument, got %zu", n);
    jv ns = jv_dict_new(r, 0);
    ns.k = JV_NS;
    if (n == 1) {
        jv src = jv_materialize(r, a->v[0]);
        if (src.k == JV_DICT) {
            for (size_t i = 0; i < src.u.d->n; i++) jdict_set(r, ns.u.d, src.u.d->k[i], src.u.d->v[i]);
        } else if (src.k == JV_LIST) {
            for (size_t i = 0; i < src.u.l->n; i++) {
                jv pair = src.u.l->v[i];
                jv key, val;
                if (pair.k == JV_LIST && pair.u.l->n == 2) {
                    key = pair.u.l->v[0];
                    val = pair.u.l->v[1];
                } else if (pair.k == JV_STR && pair.u.s->len) {
                    /* a two-character string */
                    size_t a1, a2;
                    jj_utf8_decode(pair.u.s->s, pair.u.s->len, &a1);
                    if (a1 >= pair.u.s->len) jr_fail(r, "namespace expected an object or an iterable of [key, value] pairs");
                    jj_utf8_decode(pair.u.s->s + a1, pair.u.s->len - a1, &a2);
                    if (a1 + a2 != pair.u.s->len)
                        jr_fail(r, "namespace expected an object or an iterable of [key, value] pairs");
                    key = jv_str(r, pair.u.s->s, a1);
                    val = jv_str(r, pair.u.s->s + a1, a2);
                } else {
                    jr_fail(r, "namespace expected an object or an iterable of [key, value] pairs");
                }
                if (key.k != JV_STR) jr_fail(r, "namespace keys must be strings");
                jdict_set(r, ns.u.d, key.u.s, val);
            }
        } else {
            jr_fail(r, "'%s' object is not iterable", jv_type_name(src));
        }
    }
    if (kw)
        for (size_t i = 0; i < kw->n; i++) jdict_set(r, ns.u.d, kw->k[i], kw->v[i]);
    return ns;
}

jv jj_call_global(struct jrender *r, int id, jargs *a)
{
    switch (id) {
    case G_RAISE: {
        jsb b = {0};
        if (a->n && a->v[0].k != JV_UNDEF && a->v[0].k != JV_NONE && a->v[0].k != JV_HOLE) jv_js_string(r, &b, a->v[0]);
        jr_fail_plain(r, b.p ? b.p : "", b.n);
    }
    case G_RANGE: return range_fn(r, a);
    case G_STRFTIME: return strftime_now(r, a);
    default: return namespace_fn(r, a);
    }
}
