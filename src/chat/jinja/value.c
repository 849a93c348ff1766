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
