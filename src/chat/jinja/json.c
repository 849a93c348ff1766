/* json.c - the tojson filter (and the printing of lists and dicts), exactly
 * as @huggingface/jinja's toJSON writes them, and values made from JSON. */
#include "jinja_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSON.stringify(string), then (ensure_ascii) every UTF-16 unit >= 0x7f as \uXXXX. */
void jj_json_quote(struct jrender *r, jsb *b, const char *s, size_t n, int ensure_ascii)
{
    char buf[16];
    jsb_putc(r, b, '"');
    size_t run = 0; /* start of bytes copied verbatim */
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        size_t adv = 1;
        uint32_t cp = c;
        if (c >= 0x80) cp = jj_utf8_decode(s + i, n - i, &adv);
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(buf, sizeof buf, "\\u%04x", c);
                esc = buf;
            } else if (ensure_ascii && cp >= 0x7f) {
                if (cp >= 0x10000)
                    snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + ((cp - 0x10000) >> 10),
                             0xDC00 + ((cp - 0x10000) & 0x3FF));
                else
                    snprintf(buf, sizeof buf, "\\u%04x", cp);
                esc = buf;
            }
        }
        if (esc) {
            jsb_put(r, b, s + run, i - run);
            jsb_puts(r, b, esc);
            run = i + adv;
        }
        i += adv;
    }
    jsb_put(r, b, s + run, n - run);
    jsb_putc(r, b, '"');
}

static void put_padding(struct jrender *r, jsb *b, int indent, int depth)
{
    jsb_putc(r, b, '\n');
    for (long i = 0; i < (long)indent * depth; i++) jsb_putc(r, b, ' ');
}

static int key_cmp(struct jrender *r, jv a, jv b, void *ctx)
{
    (void)r; (void)ctx;
    /* entries are encoded as lists [key, value] */
    jstr *x = a.u.l->v[0].u.s, *y = b.u.l->v[0].u.s;
    return jj_js_locale_cmp(x->s, x->len, y->s, y->len);
}

void jv_to_json(struct jrender *r, jsb *b, jv v, const struct jjson_opts *o, int depth, int undef_null)
{
    char buf[64];
    if (depth > (int)r->lim.max_depth) jr_fail(r, "recursion depth limit exceeded (max_depth=%u)", r->lim.max_depth);
    switch (v.k) {
    case JV_NONE: jsb_puts(r, b, "null"); return;
    case JV_UNDEF: jsb_puts(r, b, undef_null ? "null" : "undefined"); return;
    case JV_INT: case JV_FLOAT:
        if (!isfinite(v.u.n)) jsb_puts(r, b, "null");
        else jsb_put(r, b, buf, jj_js_num_fmt(v.u.n, buf));
        return;
    case JV_BOOL: jsb_puts(r, b, v.u.b ? "true" : "false"); return;
    case JV_STR: jj_json_quote(r, b, v.u.s->s, v.u.s->len, o->ensure_ascii); return;
    case JV_LOOP: v = jv_materialize(r, v); /* fall through */
    case JV_LIST: case JV_DICT: case JV_NS: {
        if ((v.k == JV_LIST && (v.f & JF_TUPLE)) || (v.k == JV_DICT && (v.f & JF_KWARGS))) break;
        if (o->indent < 0) jr_fail(r, "RangeError: Invalid count value: %d", o->indent);
        int ind = o->indent;
        if (v.k == JV_LIST) {
            jlist *l = v.u.l;
            jsb_putc(r, b, '[');
            for (size_t i = 0; i < l->n; i++) {
                if (i) jsb_put(r, b, o->item_sep, o->item_sep_len);
                if (ind) put_padding(r, b, ind, depth + 1);
                jv_to_json(r, b, l->v[i], o, depth + 1, undef_null);
            }
            if (ind && l->n) put_padding(r, b, ind, depth);
            jsb_putc(r, b, ']');
            return;
        }
        jdict *d = v.u.d;
        size_t n = d->n;
        jv *order = NULL;
        if (o->sort_keys && n > 1) {
            order = jal(r, n * sizeof(jv));
            for (size_t i = 0; i < n; i++) {
                jv pair = jv_list_new(r, 2);
                pair.u.l->v[0] = jv_strv(d->k[i]);
                pair.u.l->v[1] = d->v[i];
                pair.u.l->n = 2;
                order[i] = pair;
            }
            jv_sort(r, order, n, key_cmp, NULL);
        }
        jsb_putc(r, b, '{');
        for (size_t i = 0; i < n; i++) {
            jstr *k = order ? order[i].u.l->v[0].u.s : d->k[i];
            jv val = order ? order[i].u.l->v[1] : d->v[i];
            if (i) jsb_put(r, b, o->item_sep, o->item_sep_len);
            if (ind) put_padding(r, b, ind, depth + 1);
            jj_json_quote(r, b, k->s, k->len, o->ensure_ascii);
            jsb_put(r, b, o->key_sep, o->key_sep_len);
            jv_to_json(r, b, val, o, depth + 1, undef_null);
        }
        if (ind && n) put_padding(r, b, ind, depth);
        jsb_putc(r, b, '}');
        return;
    }
    case JV_HOLE: jr_fail(r, "TypeError: Cannot read properties of undefined (reading 'type')");
    default: break;
    }
    jr_fail(r, "Cannot convert to JSON: %s", jv_type_name(v));
}

/* ---- Values from JSON (malloc'd) ------------------------------------------ */

/* An array index key as JavaScript orders object keys: "0" or [1-9][0-9]*, below 2^32 - 1. */
static int array_index_key(const char *k, double *out)
{
    size_t n = strlen(k);
    if (!n || n > 10) return 0;
    if (n > 1 && k[0] == '0') return 0;
    double v = 0;
    for (size_t i = 0; i < n; i++) {
        if (k[i] < '0' || k[i] > '9') return 0;
        v = v * 10 + (k[i] - '0');
    }
    if (v >= 4294967295.0) return 0;
    *out = v;
    return 1;
}

static int convert(const cJSON *it, jv *out)
{
    if (cJSON_IsNull(it)) { *out = jv_none(); return 0; }
    if (cJSON_IsTrue(it)) { *out = jv_bool(1); return 0; }
    if (cJSON_IsFalse(it)) { *out = jv_bool(0); return 0; }
    if (cJSON_IsNumber(it)) {
        double d = it->valuedouble;
        *out = (isfinite(d) && d == trunc(d)) ? jv_int(d) : jv_float(d);
        return 0;
    }
    if (cJSON_IsString(it) || cJSON_IsRaw(it)) {
        const char *s = it->valuestring ? it->valuestring : "";
        jstr *p = jstr_new(NULL, s, strlen(s));
        if (!p) return -1;
        *out = jv_strv(p);
        return 0;
    }
    if (cJSON_IsArray(it)) {
        jv l = jv_list_new(NULL, 0);
        if (l.k != JV_LIST) return -1;
        for (const cJSON *c = it->child; c; c = c->next) {
            jv e;
            if (convert(c, &e) || jlist_push(NULL, l.u.l, e)) { jv_free_heap(l); return -1; }
        }
        *out = l;
        return 0;
    }
    if (cJSON_IsObject(it)) {
        jv d = jv_dict_new(NULL, 0);
        if (d.k != JV_DICT) return -1;
        /* integer-like keys first, ascending; then the others in order */
        size_t nint = 0;
        for (const cJSON *c = it->child; c; c = c->next) {
            double idx;
            if (c->string && array_index_key(c->string, &idx)) nint++;
        }
        const cJSON **ints = nint ? malloc(nint * sizeof *ints) : NULL;
        if (nint && !ints) { jv_free_heap(d); return -1; }
        size_t k = 0;
        for (const cJSON *c = it->child; c; c = c->next) {
            double idx;
            if (c->string && array_index_key(c->string, &idx)) {
                /* insertion sort by index; a repeated key keeps its first place */
                size_t p = k;
                while (p > 0) {
                    double o = 0;
                    array_index_key(ints[p - 1]->string, &o);
                    if (o <= idx) break;
                    p--;
                }
                memmove(ints + p + 1, ints + p, (k - p) * sizeof *ints);
                ints[p] = c;
                k++;
            }
        }
        int fail = 0;
        for (int pass = 0; pass < 2 && !fail; pass++) {
            size_t i = 0;
            for (const cJSON *c = pass ? it->child : (nint ? ints[0] : NULL); c && !fail;
                 c = pass ? c->next : (++i < nint ? ints[i] : NULL)) {
                double idx;
                const char *key = c->string ? c->string : "";
                if (pass && array_index_key(key, &idx)) continue;
                jv e;
                if (convert(c, &e)) { fail = 1; break; }
                jv *old = jdict_get(d.u.d, key, strlen(key));
                if (old) { jv_free_heap(*old); *old = e; continue; }
                jstr *ks = jstr_new(NULL, key, strlen(key));
                if (!ks || jdict_set(NULL, d.u.d, ks, e)) { free(ks); jv_free_heap(e); fail = 1; }
            }
        }
        free(ints);
        if (fail) { jv_free_heap(d); return -1; }
        *out = d;
        return 0;
    }
    *out = jv_none();
    return 0;
}

static struct jinja_value *box(jv v)
{
    if (v.k == JV_HOLE) return NULL;
    struct jinja_value *b = malloc(sizeof *b);
    if (!b) { jv_free_heap(v); return NULL; }
    b->v = v;
    return b;
}

struct jinja_value *jinja_value_from_cjson(const struct cJSON *item)
{
    jv v;
    if (!item || convert(item, &v)) return NULL;
    return box(v);
}

struct jinja_value *jinja_value_from_json(const char *json, size_t len, inf_error *err)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        err_fail(err, INF_ERR_FORMAT, "invalid JSON at byte %ld", at && at >= json && at <= json + len ? (long)(at - json) : -1L);
        return NULL;
    }
    struct jinja_value *v = jinja_value_from_cjson(root);
    cJSON_Delete(root);
    if (!v) err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
    return v;
}

struct jinja_value *jinja_value_none(void) { return box(jv_none()); }
struct jinja_value *jinja_value_bool(int b) { return box(jv_bool(b)); }
struct jinja_value *jinja_value_int(long long i) { return box(jv_int((double)i)); }
struct jinja_value *jinja_value_float(double d) { return box(jv_float(d)); }
struct jinja_value *jinja_value_list(void) { return box(jv_list_new(NULL, 0)); }
struct jinja_value *jinja_value_dict(void) { return box(jv_dict_new(NULL, 0)); }

struct jinja_value *jinja_value_string(const char *s, size_t len)
{
    jstr *p = jstr_new(NULL, s ? s : "", s ? len : 0);
    if (!p) return NULL;
    return box(jv_strv(p));
}

int jinja_value_list_append(struct jinja_value *list, struct jinja_value *item)
{
    if (!item) return -1;
    if (!list || list->v.k != JV_LIST || jlist_push(NULL, list->v.u.l, item->v)) {
        jinja_value_free(item);
        return -1;
    }
    free(item);
    return 0;
}

int jinja_value_dict_set(struct jinja_value *dict, const char *key, struct jinja_value *item)
{
    if (!item) return -1;
    if (!dict || !key || dict->v.k != JV_DICT) { jinja_value_free(item); return -1; }
    jv *old = jdict_get(dict->v.u.d, key, strlen(key));
    if (old) {
        jv_free_heap(*old);
        *old = item->v;
        free(item);
        return 0;
    }
    jstr *k = jstr_new(NULL, key, strlen(key));
    if (!k || jdict_set(NULL, dict->v.u.d, k, item->v)) {
        free(k);
        jinja_value_free(item);
        return -1;
    }
    free(item);
    return 0;
}

const struct jinja_value *jinja_value_dict_get(const struct jinja_value *dict, const char *key)
{
    if (!dict || !key || dict->v.k != JV_DICT) return NULL;
    jv *v = jdict_get(dict->v.u.d, key, strlen(key));
    return (const struct jinja_value *)v;
}

void jinja_value_free(struct jinja_value *v)
{
    if (!v) return;
    jv_free_heap(v->v);
    free(v);
}
