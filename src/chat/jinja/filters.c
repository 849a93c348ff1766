/* filters.c - filters, exactly as @huggingface/jinja's applyFilter
 * dispatches them: first on the filter's form (`x|f` or `x|f(...)`), then on
 * the operand's type. A filter that the reference lacks for a type is an
 * error here too (e.g. `|count`, `|round`, `|select`, `|d`, `none|string`). */
#include "jinja_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int eq(const char *a, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(a, lit, n) == 0;
}

static const jv *kwget(jv kw, const char *name)
{
    return jdict_get(kw.u.d, name, strlen(name));
}

/* args.at(i) ?? kwargs.get(name) ?? def */
static jv argk(jargs *a, size_t i, jv kw, const char *name, jv def)
{
    if (i < a->n && a->v[i].k != JV_HOLE) return a->v[i];
    const jv *k = name ? kwget(kw, name) : NULL;
    if (k && k->k != JV_HOLE) return *k;
    return def;
}

/* the JavaScript truthiness of value.value */
static int raw_truthy(jv v)
{
    switch (v.k) {
    case JV_UNDEF: case JV_NONE: case JV_HOLE: return 0;
    case JV_BOOL: return v.u.b;
    case JV_INT: case JV_FLOAT: return v.u.n != 0 && !isnan(v.u.n);
    case JV_STR: return v.u.s->len > 0;
    default: return 1;
    }
}

static jv tojson_default(struct jrender *r, jv v, int undef_null)
{
    struct jjson_opts o = {0, 0, 0, ", ", ": ", 2, 2};
    jsb b = {0};
    jv_to_json(r, &b, v, &o, 0, undef_null);
    return jsb_finish(r, &b);
}

static int cmp_plain(struct jrender *r, jv a, jv b, void *ctx)
{
    (void)ctx;
    return jv_compare(r, a, b, 0);
}

struct sortctx { int rev, cs; jv attr; };

static jv sort_value(struct jrender *r, jv item, jv attr)
{
    if (attr.k == JV_NONE) return item;
    if (attr.k == JV_INT) {
        char buf[64];
        size_t n = jj_js_num_fmt(attr.u.n, buf);
        return jv_get_attr_path(r, item, buf, n);
    }
    return jv_get_attr_path(r, item, attr.u.s->s, attr.u.s->len);
}

static int cmp_sort(struct jrender *r, jv a, jv b, void *ctx)
{
    struct sortctx *s = ctx;
    int res = jv_compare(r, sort_value(r, a, s->attr), sort_value(r, b, s->attr), s->cs);
    return s->rev ? -res : res;
}

static jv copy_list(struct jrender *r, jlist *l)
{
    jv o = jv_list_new(r, l->n);
    if (l->n) memcpy(o.u.l->v, l->v, l->n * sizeof(jv));
    o.u.l->n = l->n;
    return o;
}

/* Array.prototype.join over .value: null and undefined are empty */
static void join_values(struct jrender *r, jsb *b, jlist *l, const char *sep, size_t seplen)
{
    for (size_t i = 0; i < l->n; i++) {
        if (i) jsb_put(r, b, sep, seplen);
        jv v = l->v[i];
        if (v.k == JV_NONE || v.k == JV_UNDEF || v.k == JV_HOLE) continue;
        jv_js_string(r, b, v);
    }
}

static jv call_str_method(struct jrender *r, jv s, const char *name, jargs *a)
{
    int found;
    jv f = jj_member_builtin(r, s, name, strlen(name), &found);
    if (f.k != JV_FUNC) return f;
    jargs none = {NULL, 0};
    return jj_call_method(r, f.u.fn, a ? a : &none);
}

static _Noreturn void cannot(struct jrender *r, const char *name, jv operand)
{
    if (operand.k == JV_HOLE) jr_fail(r, "TypeError: Cannot read properties of undefined (reading 'type')");
    jr_fail(r, "Cannot apply filter \"%s\" to type: %s", name, jv_type_name(operand));
}

/* Filters without arguments (|name), by the operand's kind. */
static jv ident_list(struct jrender *r, jv operand, const char *name, size_t n)
{
    jlist *l = operand.u.l;
    if (eq(name, n, "list")) return operand;
    if (eq(name, n, "first")) return l->n ? l->v[0] : jv_hole();
    if (eq(name, n, "last")) return l->n ? l->v[l->n - 1] : jv_hole();
    if (eq(name, n, "length")) return jv_int((double)l->n);
    if (eq(name, n, "reverse")) {
        jv o = jv_list_new(r, l->n);
        for (size_t i = 0; i < l->n; i++) o.u.l->v[i] = l->v[l->n - 1 - i];
        o.u.l->n = l->n;
        return o;
    }
    if (eq(name, n, "sort")) {
        jv o = copy_list(r, l);
        jv_sort(r, o.u.l->v, o.u.l->n, cmp_plain, NULL);
        return o;
    }
    if (eq(name, n, "join")) {
        jsb b = {0};
        join_values(r, &b, l, "", 0);
        return jsb_finish(r, &b);
    }
    if (eq(name, n, "string")) return tojson_default(r, operand, 0);
    if (eq(name, n, "unique")) {
        jv o = jv_list_new(r, 0);
        for (size_t i = 0; i < l->n; i++) {
            if (l->v[i].k == JV_HOLE) jr_fail(r, "TypeError: Cannot read properties of undefined (reading 'value')");
            int seen = 0;
            for (size_t j = 0; j < o.u.l->n && !seen; j++) seen = jv_same_value_zero(o.u.l->v[j], l->v[i]);
            if (!seen) jlist_push(r, o.u.l, l->v[i]);
        }
        return o;
    }
    jr_fail(r, "Unknown ArrayValue filter: %.*s", (int)n, name);
}

static jv ident_str(struct jrender *r, jv operand, const char *name, size_t n)
{
    jstr *s = operand.u.s;
    if (eq(name, n, "length") || eq(name, n, "upper") || eq(name, n, "lower") || eq(name, n, "title") ||
        eq(name, n, "capitalize"))
        return call_str_method(r, operand, name, NULL);
    if (eq(name, n, "trim")) return call_str_method(r, operand, "strip", NULL);
    if (eq(name, n, "indent")) {
        jsb b = {0};
        size_t ls = 0;
        for (size_t i = 0; i <= s->len; i++) {
            if (i == s->len || s->s[i] == '\n') {
                if (ls > 0 && i > ls) jsb_puts(r, &b, "    ");
                jsb_put(r, &b, s->s + ls, i - ls);
                if (i < s->len) jsb_putc(r, &b, '\n');
                ls = i + 1;
            }
        }
        return jsb_finish(r, &b);
    }
    if (eq(name, n, "join") || eq(name, n, "string")) return operand;
    if (eq(name, n, "int")) {
        double d = jj_js_parse_int(s->s, s->len);
        return jv_int(isnan(d) ? 0 : d);
    }
    if (eq(name, n, "float")) {
        double d = jj_js_parse_float(s->s, s->len);
        return jv_float(isnan(d) ? 0 : d);
    }
    jr_fail(r, "Unknown StringValue filter: %.*s", (int)n, name);
}

static jv ident_number(struct jrender *r, jv operand, const char *name, size_t n)
{
    char buf[40];
    if (eq(name, n, "abs")) return operand.k == JV_INT ? jv_int(fabs(operand.u.n)) : jv_float(fabs(operand.u.n));
    if (eq(name, n, "int")) return jv_int(floor(operand.u.n));
    if (eq(name, n, "float")) return jv_float(operand.u.n);
    if (eq(name, n, "string")) {
        size_t k = operand.k == JV_INT ? jj_js_num_fmt(operand.u.n, buf) : jj_js_float_fmt(operand.u.n, buf);
        return jv_str(r, buf, k);
    }
    jr_fail(r, "Unknown NumericValue filter: %.*s", (int)n, name);
}

static jv ident_dict(struct jrender *r, jv operand, const char *name, size_t n)
{
    if (eq(name, n, "items")) return jj_dict_items(r, operand.u.d);
    if (eq(name, n, "length")) return jv_int((double)operand.u.d->n);
    int found;
    jv f = jj_member_builtin(r, operand, name, n, &found);
    if (found) {
        if (f.k == JV_FUNC) {
            jargs none = {NULL, 0};
            return jj_call_method(r, f.u.fn, &none);
        }
        return f;
    }
    jr_fail(r, "Unknown ObjectValue filter: %.*s", (int)n, name);
}

static jv ident_bool(struct jrender *r, jv operand, const char *name, size_t n)
{
    if (eq(name, n, "bool")) return operand;
    if (eq(name, n, "int")) return jv_int(operand.u.b);
    if (eq(name, n, "float")) return jv_float(operand.u.b);
    if (eq(name, n, "string")) return jv_cstr(r, operand.u.b ? "true" : "false");
    jr_fail(r, "Unknown BooleanValue filter: %.*s", (int)n, name);
}

static jv filter_ident(struct jrender *r, jv operand, const char *name, size_t n)
{
    if (eq(name, n, "safe")) return operand;
    if (eq(name, n, "tojson")) return tojson_default(r, operand, 1);
    operand = jv_materialize(r, operand);
    switch (operand.k) {
    case JV_LIST: return ident_list(r, operand, name, n);
    case JV_STR: return ident_str(r, operand, name, n);
    case JV_INT: case JV_FLOAT: return ident_number(r, operand, name, n);
    case JV_DICT: return ident_dict(r, operand, name, n);
    case JV_BOOL: return ident_bool(r, operand, name, n);
    default: {
        char nm[128];
        snprintf(nm, sizeof nm, "%.*s", (int)n, name);
        cannot(r, nm, operand);
    }
    }
}

static jv filter_tojson(struct jrender *r, jv operand, jv kw)
{
    jv indent = argk(&(jargs){NULL, 0}, 0, kw, "indent", jv_none());
    if (indent.k != JV_INT && indent.k != JV_NONE) jr_fail(r, "If set, indent must be a number");
    jv ea = argk(&(jargs){NULL, 0}, 0, kw, "ensure_ascii", jv_bool(0));
    if (ea.k != JV_BOOL) jr_fail(r, "If set, ensure_ascii must be a boolean");
    jv sk = argk(&(jargs){NULL, 0}, 0, kw, "sort_keys", jv_bool(0));
    if (sk.k != JV_BOOL) jr_fail(r, "If set, sort_keys must be a boolean");
    jv sep = argk(&(jargs){NULL, 0}, 0, kw, "separators", jv_none());
    struct jjson_opts o = {0, ea.u.b, sk.u.b, NULL, NULL, 0, 0};
    if (indent.k == JV_INT) {
        if (isnan(indent.u.n)) o.indent = 0;
        else if (indent.u.n < -1e6 || indent.u.n > 1e6) jr_fail(r, "RangeError: Invalid count value");
        else o.indent = (int)indent.u.n;
    }
    if (sep.k == JV_LIST) {
        if (sep.u.l->n != 2 || sep.u.l->v[0].k != JV_STR || sep.u.l->v[1].k != JV_STR)
            jr_fail(r, "separators must be a tuple of two strings");
        o.item_sep = sep.u.l->v[0].u.s->s;
        o.item_sep_len = sep.u.l->v[0].u.s->len;
        o.key_sep = sep.u.l->v[1].u.s->s;
        o.key_sep_len = sep.u.l->v[1].u.s->len;
    } else if (sep.k != JV_NONE) {
        jr_fail(r, "If set, separators must be a tuple of two strings");
    } else if (o.indent) {
        o.item_sep = ",";
        o.item_sep_len = 1;
        o.key_sep = ": ";
        o.key_sep_len = 2;
    } else {
        o.item_sep = ", ";
        o.item_sep_len = 2;
        o.key_sep = ": ";
        o.key_sep_len = 2;
    }
    jsb b = {0};
    jv_to_json(r, &b, operand, &o, 0, 1);
    return jsb_finish(r, &b);
}

/* Filters called with arguments, f(...): one function each, found by name
 * in the table of the operand's kind (as Hugging Face's Jinja dispatches:
 * a few filters take any value, the rest are methods of arrays, strings
 * or objects). */
typedef jv (*filter_fn)(struct jrender *r, jv operand, const struct node *f, struct jscope *scope, const char *name);
struct filter_entry {
    const char *name;
    filter_fn fn;
};

static jv call_tojson(struct jrender *r, jv operand, const struct node *f, struct jscope *scope, const char *name)
{
    (void)name;
    jargs a;
    jv kw;
    jj_eval_args(r, f->items, f->nitems, scope, &a, &kw);
    return filter_tojson(r, operand, kw);
}

static jv call_join(struct jrender *r, jv operand, const struct node *f, struct jscope *scope, const char *name)
{
    (void)name;
    jargs a;
    jv kw;
    operand = jv_materialize(r, operand);
    if (operand.k != JV_STR && operand.k != JV_LIST) cannot(r, "join", operand);
    jj_eval_args(r, f->items, f->nitems, scope, &a, &kw);
    jv sep = argk(&a, 0, kw, "separator", jv_cstr(r, ""));
    if (sep.k != JV_STR) jr_fail(r, "separator must be a string");
    jsb b = {0};
    if (operand.k == JV_LIST) {
        join_values(r, &b, operand.u.l, sep.u.s->s, sep.u.s->len);
        return jsb_finish(r, &b);
    }
    /* a string joins its characters */
    jstr *s = operand.u.s;
    for (size_t i = 0; i < s->len;) {
        size_t adv;
        jj_utf8_decode(s->s + i, s->len - i, &adv);
        if (i) jsb_put(r, &b, sep.u.s->s, sep.u.s->len);
        jsb_put(r, &b, s->s + i, adv);
        i += adv;
    }
    return jsb_finish(r, &b);
}

static jv call_number(struct jrender *r, jv operand, const struct node *f, struct jscope *scope, const char *name)
{
    jargs a;
    jv kw;
    int is_int = name[0] == 'i';
    jj_eval_args(r, f->items, f->nitems, scope, &a, &kw);
    jv def = argk(&a, 0, kw, "default", is_int ? jv_int(0) : jv_float(0));
    if (operand.k == JV_STR) {
        double d = is_int ? jj_js_parse_int(operand.u.s->s, operand.u.s->len)
                          : jj_js_parse_float(operand.u.s->s, operand.u.s->len);
        return isnan(d) ? def : is_int ? jv_int(d) : jv_float(d);
    }
    if (jv_isnum(operand)) return operand;
    if (operand.k == JV_BOOL) return is_int ? jv_int(operand.u.b) : jv_float(operand.u.b);
    cannot(r, is_int ? "int" : "float", operand);
}

static jv call_default(struct jrender *r, jv operand, const struct node *f, struct jscope *scope, const char *name)
{
    (void)name;
    jargs a;
    jv kw;
    jj_eval_args(r, f->items, f->nitems, scope, &a, &kw);
    jv def = a.n > 0 && a.v[0].k != JV_HOLE ? a.v[0] : jv_cstr(r, "");
    jv boolean = argk(&a, 1, kw, "boolean", jv_bool(0));
    if (boolean.k != JV_BOOL) jr_fail(r, "`default` filter flag must be a boolean");
    if (operand.k == JV_UNDEF || (boolean.u.b && !jv_truthy(r, operand))) return def;
    return operand;
}

static jv call_sort(struct jrender *r, jv operand, const struct node *f, struct jscope *scope, const char *name)
{
    (void)name;
    jargs a;
    jv kw;
    jj_eval_args(r, f->items, f->nitems, scope, &a, &kw);
    jv rev = argk(&a, 0, kw, "reverse", jv_bool(0));
    if (rev.k != JV_BOOL) jr_fail(r, "reverse must be a boolean");
    jv cs = argk(&a, 1, kw, "case_sensitive", jv_bool(0));
    if (cs.k != JV_BOOL) jr_fail(r, "case_sensitive must be a boolean");
    jv attr = argk(&a, 2, kw, "attribute", jv_none());
    if (attr.k != JV_STR && attr.k != JV_INT && attr.k != JV_NONE)
        jr_fail(r, "attribute must be a string, integer, or null");
    struct sortctx sc = {rev.u.b, cs.u.b, attr};
    jv o = copy_list(r, operand.u.l);
    jv_sort(r, o.u.l->v, o.u.l->n, cmp_sort, &sc);
    return o;
}

/* selectattr / rejectattr(attribute[, test[, test argument]]): the items
 * whose attribute passes (fails) the test, truthiness without one. */
static jv call_select_attr(struct jrender *r, jv operand, const struct node *f, struct jscope *scope, const char *name)
{
    jlist *l = operand.u.l;
    int select = name[0] == 's';
    for (size_t i = 0; i < l->n; i++) {
        jv it = jv_materialize(r, l->v[i]);
        if (it.k != JV_DICT && it.k != JV_NS) jr_fail(r, "`%s` can only be applied to array of objects", name);
    }
    for (int i = 0; i < f->nitems; i++)
        if (f->items[i]->kind != N_STR) jr_fail(r, "arguments of `%s` must be strings", name);
    jv args[3];
    int na = 0;
    for (int i = 0; i < f->nitems && i < 3; i++) args[na++] = jj_eval_expr(r, f->items[i], scope);
    for (int i = 3; i < f->nitems; i++) jj_eval_expr(r, f->items[i], scope);
    if (na >= 2 && !jj_test_exists(args[1].u.s->s, args[1].u.s->len))
        jr_fail(r, "Unknown test: %s", args[1].u.s->s);
    jv o = jv_list_new(r, 0);
    for (size_t i = 0; i < l->n; i++) {
        jv it = jv_materialize(r, l->v[i]);
        if (na < 1) jr_fail(r, "TypeError: Cannot read properties of undefined (reading 'value')");
        jv *av = jdict_get(it.u.d, args[0].u.s->s, args[0].u.s->len);
        int res = 0;
        if (av && av->k != JV_HOLE) {
            if (na >= 2) {
                jv targs[2] = {*av, na >= 3 ? args[2] : jv_hole()};
                int ok;
                res = jj_run_test(r, args[1].u.s->s, args[1].u.s->len, targs, na >= 3 ? 2 : 1, &ok);
            } else {
                res = jv_truthy(r, *av);
            }
        }
        if (select ? res : !res) jlist_push(r, o.u.l, l->v[i]);
    }
    return o;
}

static jv call_map(struct jrender *r, jv operand, const struct node *f, struct jscope *scope, const char *name)
{
    (void)name;
    jargs a;
    jv kw;
    jlist *l = operand.u.l;
    jj_eval_args(r, f->items, f->nitems, scope, &a, &kw);
    const jv *attr = kwget(kw, "attribute");
    if (!attr) jr_fail(r, "`map` expressions without `attribute` set are not currently supported.");
    if (attr->k != JV_STR) jr_fail(r, "attribute must be a string");
    const jv *def = kwget(kw, "default");
    jv o = jv_list_new(r, l->n);
    for (size_t i = 0; i < l->n; i++) {
        jv it = jv_materialize(r, l->v[i]);
        if (it.k != JV_DICT && it.k != JV_NS) jr_fail(r, "items in map must be an object");
        jv v = jv_get_attr_path(r, it, attr->u.s->s, attr->u.s->len);
        o.u.l->v[i] = v.k == JV_UNDEF ? (def ? *def : jv_undef()) : v;
    }
    o.u.l->n = l->n;
    return o;
}

static jv call_indent(struct jrender *r, jv operand, const struct node *f, struct jscope *scope, const char *name)
{
    (void)name;
    jargs a;
    jv kw;
    jstr *s = operand.u.s;
    jj_eval_args(r, f->items, f->nitems, scope, &a, &kw);
    jv width = argk(&a, 0, kw, "width", jv_int(4));
    if (width.k != JV_INT) jr_fail(r, "width must be a number");
    int first = raw_truthy(argk(&a, 1, kw, "first", jv_bool(0)));
    int blank = raw_truthy(argk(&a, 2, kw, "blank", jv_bool(0)));
    if (width.u.n < 0 || width.u.n > 1e8) jr_fail(r, "RangeError: Invalid count value: %g", width.u.n);
    size_t w = (size_t)width.u.n;
    jsb b = {0};
    size_t ls = 0, line = 0;
    for (size_t i = 0; i <= s->len; i++) {
        if (i == s->len || s->s[i] == '\n') {
            int skip = (!first && line == 0) || (!blank && i == ls);
            if (!skip) for (size_t k = 0; k < w; k++) jsb_putc(r, &b, ' ');
            jsb_put(r, &b, s->s + ls, i - ls);
            if (i < s->len) jsb_putc(r, &b, '\n');
            ls = i + 1;
            line++;
        }
    }
    return jsb_finish(r, &b);
}

/* Positional arguments followed by the keyword dict as one more argument,
 * the way a method receives them. */
static jargs args_with_kwargs(struct jrender *r, jargs a, jv kw)
{
    jv *nv = jal(r, (a.n + 1) * sizeof(jv));
    if (a.n) memcpy(nv, a.v, a.n * sizeof(jv));
    nv[a.n] = kw;
    return (jargs){nv, a.n + 1};
}

static jv call_replace(struct jrender *r, jv operand, const struct node *f, struct jscope *scope, const char *name)
{
    (void)name;
    jargs a;
    jv kw;
    jj_eval_args(r, f->items, f->nitems, scope, &a, &kw);
    jargs aa = args_with_kwargs(r, a, kw);
    return call_str_method(r, operand, "replace", &aa);
}

/* An object's filter is its method of that name (items, get, ...). */
static jv call_object_method(struct jrender *r, jv operand, const struct node *f, struct jscope *scope, const char *name,
                             size_t n)
{
    int found;
    jv fn = jj_member_builtin(r, operand, name, n, &found);
    if (!found || fn.k != JV_FUNC) jr_fail(r, "Unknown ObjectValue filter: %s", name);
    jargs a;
    jv kw;
    jj_eval_args(r, f->items, f->nitems, scope, &a, &kw);
    if (kw.u.d->n) a = args_with_kwargs(r, a, kw);
    return jj_call_method(r, fn.u.fn, &a);
}

static const struct filter_entry ANY_FILTERS[] = {
    {"tojson", call_tojson}, {"join", call_join}, {"int", call_number}, {"float", call_number},
    {"default", call_default}, {NULL, NULL},
};
static const struct filter_entry LIST_FILTERS[] = {
    {"sort", call_sort}, {"selectattr", call_select_attr}, {"rejectattr", call_select_attr}, {"map", call_map},
    {NULL, NULL},
};
static const struct filter_entry STR_FILTERS[] = {
    {"indent", call_indent}, {"replace", call_replace}, {NULL, NULL},
};

static filter_fn find_filter(const struct filter_entry *table, const char *name, size_t n)
{
    for (; table->name; table++)
        if (eq(name, n, table->name)) return table->fn;
    return NULL;
}

static jv filter_call(struct jrender *r, jv operand, const struct node *f, struct jscope *scope)
{
    const struct node *callee = f->a;
    if (callee->kind != N_IDENT) jr_fail(r, "Unknown filter: %s", jj_node_type_name(callee));
    const char *name = callee->name->s;
    size_t n = callee->name->len;
    filter_fn fn = find_filter(ANY_FILTERS, name, n);
    if (fn) return fn(r, operand, f, scope, name);
    operand = jv_materialize(r, operand);
    switch (operand.k) {
    case JV_LIST:
        if (!(fn = find_filter(LIST_FILTERS, name, n))) jr_fail(r, "Unknown ArrayValue filter: %s", name);
        return fn(r, operand, f, scope, name);
    case JV_STR:
        if (!(fn = find_filter(STR_FILTERS, name, n))) jr_fail(r, "Unknown StringValue filter: %s", name);
        return fn(r, operand, f, scope, name);
    case JV_DICT:
        return call_object_method(r, operand, f, scope, name, n);
    default:
        cannot(r, name, operand);
    }
}

jv jj_apply_filter(struct jrender *r, jv operand, const struct node *f, struct jscope *scope)
{
    if (f->kind == N_IDENT) return filter_ident(r, operand, f->name->s, f->name->len);
    if (f->kind == N_CALL) return filter_call(r, operand, f, scope);
    jr_fail(r, "Unknown filter: %s", jj_node_type_name(f));
}
