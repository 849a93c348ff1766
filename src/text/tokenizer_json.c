/* tokenizer_json.c - a tokenizer from a Hugging Face tokenizer.json (+
 * tokenizer_config.json), with the semantics of the tokenizers crate.
 * Components this library does not implement fail the load with an error
 * that names them. */
#include "text/tokenizer_impl.h"
#include "text/tokenizer_json_scan.h"
#include "base/file.h"
#include "text/unicode.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HF_BYTELEVEL_RX "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool jbool(const cJSON *o, const char *key, bool def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    return def;
}

/* cJSON strings are NUL-terminated; JSON "\u0000" would truncate them.
 * Token texts with embedded NULs do not occur in the supported files. */
static size_t jlen(const char *s) { return strlen(s); }

static int parse_behavior(const char *s)
{
    if (!s) return SB_ISOLATED;
    if (!strcmp(s, "Removed")) return SB_REMOVED;
    if (!strcmp(s, "Isolated")) return SB_ISOLATED;
    if (!strcmp(s, "MergedWithPrevious")) return SB_MERGED_PREV;
    if (!strcmp(s, "MergedWithNext")) return SB_MERGED_NEXT;
    if (!strcmp(s, "Contiguous")) return SB_CONTIGUOUS;
    return 0;
}

static int parse_scheme(const cJSON *o)
{
    const char *ps = jstr(o, "prepend_scheme");
    if (ps) {
        if (!strcmp(ps, "always")) return PS_ALWAYS;
        if (!strcmp(ps, "first")) return PS_FIRST;
        if (!strcmp(ps, "never")) return PS_NEVER;
        return 0;
    }
    return jbool(o, "add_prefix_space", true) ? PS_ALWAYS : PS_NEVER;
}

/* {"String": s} or {"Regex": r}: literal copy or compiled regex */
static int parse_pattern(struct tokenizer *t, const cJSON *pat, char **lit, size_t *lit_len, pcre2_code **re,
                         const char *where, inf_error *err)
{
    const char *s = jstr(pat, "String");
    if (s) {
        *lit = tokd_strdup(s, jlen(s));
        *lit_len = jlen(s);
        return *lit ? 0 : -1;
    }
    const char *r = jstr(pat, "Regex");
    if (r) {
        *re = tokd_compile_regex(t, r, jlen(r), err);
        if (!*re) {
            err_prefix(err, "tokenizer.json: %s", where);
            return -1;
        }
        return 0;
    }
    err_fail(err, INF_ERR_FORMAT, "tokenizer.json: %s: pattern is neither String nor Regex", where);
    return -1;
}

static int parse_normalizer(struct tokenizer *t, const cJSON *n, inf_error *err)
{
    if (!n || cJSON_IsNull(n)) return 0;
    const char *ty = jstr(n, "type");
    if (!ty) { err_fail(err, INF_ERR_FORMAT, "tokenizer.json: normalizer without type"); return -1; }
    if (!strcmp(ty, "Sequence")) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(n, "normalizers"))
            if (parse_normalizer(t, it, err)) return -1;
        return 0;
    }
    struct tok_norm *nm;
    if (!strcmp(ty, "NFC")) nm = tokd_push_norm(t, NM_NFC);
    else if (!strcmp(ty, "NFD")) nm = tokd_push_norm(t, NM_NFD);
    else if (!strcmp(ty, "NFKC")) nm = tokd_push_norm(t, NM_NFKC);
    else if (!strcmp(ty, "NFKD")) nm = tokd_push_norm(t, NM_NFKD);
    else if (!strcmp(ty, "Lowercase")) nm = tokd_push_norm(t, NM_LOWERCASE);
    else if (!strcmp(ty, "StripAccents")) nm = tokd_push_norm(t, NM_STRIP_ACCENTS);
    else if (!strcmp(ty, "Strip")) {
        nm = tokd_push_norm(t, NM_STRIP);
        if (nm) { nm->left = jbool(n, "strip_left", true); nm->right = jbool(n, "strip_right", true); }
    } else if (!strcmp(ty, "Prepend")) {
        const char *p = jstr(n, "prepend");
        nm = tokd_push_norm(t, NM_PREPEND);
        if (nm) {
            nm->alen = p ? jlen(p) : 0;
            nm->a = tokd_strdup(p ? p : "", nm->alen);
            if (!nm->a) return -1;
        }
    } else if (!strcmp(ty, "Replace")) {
        nm = tokd_push_norm(t, NM_REPLACE);
        if (!nm) return -1;
        const char *c = jstr(n, "content");
        nm->blen = c ? jlen(c) : 0;
        nm->b = tokd_strdup(c ? c : "", nm->blen);
        if (!nm->b) return -1;
        if (parse_pattern(t, cJSON_GetObjectItemCaseSensitive(n, "pattern"), &nm->a, &nm->alen, &nm->re,
                          "Replace normalizer", err)) return -1;
    } else {
        err_fail(err, INF_ERR_UNSUPPORTED, "tokenizer.json: unsupported normalizer type '%s'", ty);
        return -1;
    }
    if (!nm) { err_fail(err, INF_ERR_NO_MEMORY, "out of memory"); return -1; }
    return 0;
}

static int parse_pre(struct tokenizer *t, const cJSON *n, inf_error *err)
{
    if (!n || cJSON_IsNull(n)) return 0;
    const char *ty = jstr(n, "type");
    if (!ty) { err_fail(err, INF_ERR_FORMAT, "tokenizer.json: pre_tokenizer without type"); return -1; }
    if (!strcmp(ty, "Sequence")) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(n, "pretokenizers"))
            if (parse_pre(t, it, err)) return -1;
        return 0;
    }
    struct tok_pre *p = NULL;
    if (!strcmp(ty, "Split")) {
        p = tokd_push_pre(t, PT_SPLIT);
        if (!p) goto oom;
        p->behavior = parse_behavior(jstr(n, "behavior"));
        if (!p->behavior) { err_fail(err, INF_ERR_UNSUPPORTED, "tokenizer.json: unsupported Split behavior '%s'", jstr(n, "behavior")); return -1; }
        p->invert = jbool(n, "invert", false);
        return parse_pattern(t, cJSON_GetObjectItemCaseSensitive(n, "pattern"), &p->lit, &p->lit_len, &p->re,
                             "Split pre-tokenizer", err);
    }
    if (!strcmp(ty, "ByteLevel")) {
        p = tokd_push_pre(t, PT_BYTELEVEL);
        if (!p) goto oom;
        p->add_prefix_space = jbool(n, "add_prefix_space", true);
        p->use_regex = jbool(n, "use_regex", true);
        if (p->use_regex) {
            p->re = tokd_compile_regex(t, HF_BYTELEVEL_RX, strlen(HF_BYTELEVEL_RX), err);
            if (!p->re) return -1;
        }
        return 0;
    }
    if (!strcmp(ty, "Metaspace")) {
        p = tokd_push_pre(t, PT_METASPACE);
        if (!p) goto oom;
        const char *r = jstr(n, "replacement");
        if (!r) r = "\xe2\x96\x81";
        uint32_t cp;
        size_t l = tu_decode_strict((const unsigned char *)r, jlen(r), &cp);
        if (!l || l != jlen(r)) { err_fail(err, INF_ERR_FORMAT, "tokenizer.json: Metaspace replacement must be one character"); return -1; }
        p->repl_cp = cp;
        memcpy(p->repl, r, l);
        p->repl_len = (int)l;
        p->prepend_scheme = parse_scheme(n);
        if (!p->prepend_scheme) { err_fail(err, INF_ERR_UNSUPPORTED, "tokenizer.json: unsupported Metaspace prepend_scheme '%s'", jstr(n, "prepend_scheme")); return -1; }
        p->split = jbool(n, "split", true);
        return 0;
    }
    if (!strcmp(ty, "Digits")) {
        p = tokd_push_pre(t, PT_DIGITS);
        if (!p) goto oom;
        p->individual_digits = jbool(n, "individual_digits", false);
        return 0;
    }
    if (!strcmp(ty, "Whitespace")) return tokd_push_pre(t, PT_WHITESPACE) ? 0 : -1;
    if (!strcmp(ty, "WhitespaceSplit")) return tokd_push_pre(t, PT_WHITESPACE_SPLIT) ? 0 : -1;
    if (!strcmp(ty, "BertPreTokenizer")) return tokd_push_pre(t, PT_BERT) ? 0 : -1;
    if (!strcmp(ty, "Punctuation")) {
        p = tokd_push_pre(t, PT_PUNCT);
        if (!p) goto oom;
        p->behavior = parse_behavior(jstr(n, "behavior"));
        if (!p->behavior) { err_fail(err, INF_ERR_UNSUPPORTED, "tokenizer.json: unsupported Punctuation behavior '%s'", jstr(n, "behavior")); return -1; }
        return 0;
    }
    if (!strcmp(ty, "CharDelimiterSplit")) {
        const char *d = jstr(n, "delimiter");
        p = tokd_push_pre(t, PT_SPLIT);
        if (!p || !d) goto oom;
        p->behavior = SB_REMOVED;
        p->lit_len = jlen(d);
        p->lit = tokd_strdup(d, p->lit_len);
        return p->lit ? 0 : -1;
    }
    err_fail(err, INF_ERR_UNSUPPORTED, "tokenizer.json: unsupported pre_tokenizer type '%s'", ty);
    return -1;
oom:
    err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
    return -1;
}

static int parse_decoder(struct tokenizer *t, const cJSON *n, inf_error *err)
{
    if (!n || cJSON_IsNull(n)) return 0;
    const char *ty = jstr(n, "type");
    if (!ty) { err_fail(err, INF_ERR_FORMAT, "tokenizer.json: decoder without type"); return -1; }
    if (!strcmp(ty, "Sequence")) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(n, "decoders"))
            if (parse_decoder(t, it, err)) return -1;
        return 0;
    }
    struct tok_dec *d = NULL;
    if (!strcmp(ty, "ByteLevel")) d = tokd_push_dec(t, DEC_BYTELEVEL);
    else if (!strcmp(ty, "ByteFallback")) d = tokd_push_dec(t, DEC_BYTEFALLBACK);
    else if (!strcmp(ty, "Fuse")) d = tokd_push_dec(t, DEC_FUSE);
    else if (!strcmp(ty, "Metaspace")) {
        d = tokd_push_dec(t, DEC_METASPACE);
        if (!d) goto oom;
        const char *r = jstr(n, "replacement");
        if (!r) r = "\xe2\x96\x81";
        uint32_t cp;
        if (!tu_decode_strict((const unsigned char *)r, jlen(r), &cp)) { err_fail(err, INF_ERR_FORMAT, "tokenizer.json: bad Metaspace replacement"); return -1; }
        d->cp = cp;
        d->prepend_scheme = parse_scheme(n);
        if (!d->prepend_scheme) { err_fail(err, INF_ERR_UNSUPPORTED, "tokenizer.json: unsupported Metaspace prepend_scheme"); return -1; }
    } else if (!strcmp(ty, "Strip")) {
        d = tokd_push_dec(t, DEC_STRIP);
        if (!d) goto oom;
        const char *c = jstr(n, "content");
        if (!c) c = " ";
        d->alen = jlen(c);
        d->a = tokd_strdup(c, d->alen);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(n, "start"), *sp = cJSON_GetObjectItemCaseSensitive(n, "stop");
        d->start = cJSON_IsNumber(st) ? (size_t)st->valuedouble : 0;
        d->stop = cJSON_IsNumber(sp) ? (size_t)sp->valuedouble : 0;
        if (!d->a) goto oom;
    } else if (!strcmp(ty, "Replace")) {
        d = tokd_push_dec(t, DEC_REPLACE);
        if (!d) goto oom;
        const char *c = jstr(n, "content");
        d->blen = c ? jlen(c) : 0;
        d->b = tokd_strdup(c ? c : "", d->blen);
        if (!d->b) goto oom;
        return parse_pattern(t, cJSON_GetObjectItemCaseSensitive(n, "pattern"), &d->a, &d->alen, &d->re,
                             "Replace decoder", err);
    } else {
        err_fail(err, INF_ERR_UNSUPPORTED, "tokenizer.json: unsupported decoder type '%s'", ty);
        return -1;
    }
    if (!d) goto oom;
    return 0;
oom:
    err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
    return -1;
}

struct idlist { int32_t v[16]; int n; };

static int post_collect(struct tokenizer *t, const cJSON *n, struct idlist *pre, struct idlist *post, inf_error *err)
{
    if (!n || cJSON_IsNull(n)) return 0;
    const char *ty = jstr(n, "type");
    if (!ty) { err_fail(err, INF_ERR_FORMAT, "tokenizer.json: post_processor without type"); return -1; }
    if (!strcmp(ty, "Sequence")) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(n, "processors"))
            if (post_collect(t, it, pre, post, err)) return -1;
        return 0;
    }
    if (!strcmp(ty, "ByteLevel")) return 0; /* offsets only */
    if (!strcmp(ty, "TemplateProcessing")) {
        pre->n = post->n = 0;
        const cJSON *specials = cJSON_GetObjectItemCaseSensitive(n, "special_tokens");
        bool seen_seq = false;
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(n, "single")) {
            const cJSON *sp = cJSON_GetObjectItemCaseSensitive(it, "SpecialToken");
            if (sp) {
                const char *name = jstr(sp, "id");
                const cJSON *def = name ? cJSON_GetObjectItemCaseSensitive(specials, name) : NULL;
                const cJSON *ids = def ? cJSON_GetObjectItemCaseSensitive(def, "ids") : NULL;
                if (!cJSON_IsArray(ids)) {
                    err_fail(err, INF_ERR_FORMAT, "tokenizer.json: TemplateProcessing special token '%s' undefined", name ? name : "?");
                    return -1;
                }
                const cJSON *x;
                cJSON_ArrayForEach(x, ids) {
                    struct idlist *l = seen_seq ? post : pre;
                    if (l->n < 16) l->v[l->n++] = (int32_t)x->valuedouble;
                }
            } else if (cJSON_GetObjectItemCaseSensitive(it, "Sequence")) {
                seen_seq = true;
            }
        }
        return 0;
    }
    if (!strcmp(ty, "BertProcessing") || !strcmp(ty, "RobertaProcessing")) {
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(n, "cls"), *sep = cJSON_GetObjectItemCaseSensitive(n, "sep");
        const cJSON *ci = cJSON_GetArrayItem(cls, 1), *si = cJSON_GetArrayItem(sep, 1);
        if (!cJSON_IsNumber(ci) || !cJSON_IsNumber(si)) { err_fail(err, INF_ERR_FORMAT, "tokenizer.json: bad %s", ty); return -1; }
        pre->n = post->n = 0;
        pre->v[pre->n++] = (int32_t)ci->valuedouble;
        post->v[post->n++] = (int32_t)si->valuedouble;
        return 0;
    }
    err_fail(err, INF_ERR_UNSUPPORTED, "tokenizer.json: unsupported post_processor type '%s'", ty);
    return -1;
}

/* "text" or {"content": "text", ...} */
static const char *token_field(const cJSON *cfg, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsObject(v)) return jstr(v, "content");
    return NULL;
}

static int32_t id_of_str(const struct tokenizer *t, const char *s)
{
    return s ? tok_id_of(t, s, strlen(s)) : -1;
}

static int32_t first_present(const struct tokenizer *t, const char *const *names)
{
    for (int i = 0; names[i]; i++) {
        int32_t id = id_of_str(t, names[i]);
        if (id >= 0) return id;
    }
    return -1;
}


static void free_spans(struct big_spans *sp)
{
    free(sp->ve);
    free(sp->vbuf);
    free(sp->ms);
    free(sp->mbuf);
    memset(sp, 0, sizeof *sp);
}

static int oom(inf_error *err) { return err_fail(err, INF_ERR_NO_MEMORY, "out of memory"); }

/* cJSON parses everything but the two big members, which find_big decoded
 * already: they are blanked out of a copy (their braces kept). */
static cJSON *parse_rest(const char *json, size_t len, const struct big_spans *sp, inf_error *err)
{
    char *copy = malloc(len + 1);
    if (!copy) {
        oom(err);
        return NULL;
    }
    memcpy(copy, json, len);
    copy[len] = 0;
    if (sp->vocab) {
        size_t a = (size_t)(sp->vocab - json), b = (size_t)(sp->vocab_end - json);
        memset(copy + a + 1, ' ', b - a - 2);
    }
    if (sp->merges) {
        size_t a = (size_t)(sp->merges - json), b = (size_t)(sp->merges_end - json);
        memset(copy + a + 1, ' ', b - a - 2);
    }
    cJSON *root = cJSON_ParseWithLength(copy, len);
    free(copy);
    if (!root) err_fail(err, INF_ERR_FORMAT, "tokenizer.json: invalid JSON");
    return root;
}

/* model.type must be BPE (implied by vocab + merges), without dropout. */
static int check_model(const cJSON *model, const struct big_spans *sp, inf_error *err)
{
    const char *mtype = jstr(model, "type");
    if (!mtype && sp->vocab && sp->merges) mtype = "BPE";
    if (!mtype || strcmp(mtype, "BPE") != 0)
        return err_fail(err, INF_ERR_UNSUPPORTED, "tokenizer.json: unsupported model type '%s' (supported: BPE)",
                        mtype ? mtype : "(none)");
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (cJSON_IsNumber(dropout) && dropout->valuedouble > 0)
        return err_fail(err, INF_ERR_UNSUPPORTED, "tokenizer.json: BPE dropout is not supported");
    if (!sp->vocab) return err_fail(err, INF_ERR_FORMAT, "tokenizer.json: model.vocab missing");
    return 0;
}

/* The vocabulary size: one past the largest id of the vocab and of the
 * added tokens (whose ids are checked here). */
static int vocab_size_of(const cJSON *added, const struct big_spans *sp, int32_t *n, inf_error *err)
{
    int32_t max_id = sp->max_id;
    const cJSON *it;
    cJSON_ArrayForEach(it, added) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > 16777216)
            return err_fail(err, INF_ERR_FORMAT, "tokenizer.json: bad added token id");
        if ((int32_t)id->valuedouble > max_id) max_id = (int32_t)id->valuedouble;
    }
    *n = max_id + 1;
    return 0;
}

static int fill_vocab(struct tokenizer *t, const struct big_spans *sp, inf_error *err)
{
    for (size_t i = 0; i < sp->nv; i++) {
        const char *s = sp->vbuf + sp->ve[i].off;
        uint32_t l = sp->ve[i].len;
        /* <0xNN> pieces are the byte-fallback tokens */
        uint32_t attr = l == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && s[5] == '>' ? TOK_ATTR_BYTE : TOK_ATTR_NORMAL;
        if (tokd_set_token(t, sp->ve[i].id, s, l, 0.0f, attr)) return oom(err);
    }
    return tokd_index_vocab(t, err);
}

static int copy_option(struct tokenizer *t, const cJSON *model, const char *key, char **dst, size_t *dst_len,
                       inf_error *err)
{
    const char *v = jstr(model, key);
    if (!v || !*v) return 0;
    *dst_len = jlen(v);
    *dst = tokd_strdup(v, *dst_len);
    (void)t;
    return *dst ? 0 : oom(err);
}

/* The BPE model's options and its merges. */
static int read_bpe(struct tokenizer *t, const cJSON *model, const struct big_spans *sp, inf_error *err)
{
    t->byte_fallback = jbool(model, "byte_fallback", false);
    t->ignore_merges = jbool(model, "ignore_merges", false);
    t->fuse_unk = jbool(model, "fuse_unk", false);
    if (copy_option(t, model, "continuing_subword_prefix", &t->cont_prefix, &t->cont_prefix_len, err) ||
        copy_option(t, model, "end_of_word_suffix", &t->eow_suffix, &t->eow_suffix_len, err))
        return -1;
    const char *unk = jstr(model, "unk_token");
    if (unk) {
        t->unk_id = tok_strmap_get(&t->vocab, unk, jlen(unk));
        if (t->unk_id < 0) return err_fail(err, INF_ERR_FORMAT, "tokenizer.json: unk_token '%s' not in vocab", unk);
    }
    if (!sp->nm) return 0;
    size_t missing;
    if (tokd_add_merges(t, sp->ms, sp->nm, 0, &missing)) return oom(err);
    if (missing != (size_t)-1)
        return err_fail(err, INF_ERR_FORMAT, "tokenizer.json: merge #%zu '%.*s %.*s' uses a token missing from the vocab",
                        missing, (int)sp->ms[missing].alen, sp->ms[missing].a, (int)sp->ms[missing].blen,
                        sp->ms[missing].b);
    return 0;
}

static int add_added_tokens(struct tokenizer *t, const cJSON *added, inf_error *err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, added) {
        const char *c = jstr(it, "content");
        if (!c) return err_fail(err, INF_ERR_FORMAT, "tokenizer.json: added token without content");
        int32_t id = (int32_t)cJSON_GetObjectItemCaseSensitive(it, "id")->valuedouble;
        if (tokd_add_added(t, id, c, jlen(c), jbool(it, "special", false), jbool(it, "normalized", true),
                           jbool(it, "lstrip", false), jbool(it, "rstrip", false), jbool(it, "single_word", false)))
            return oom(err);
    }
    return 0;
}

/* normalizer -> pre_tokenizer -> (model) -> post_processor, decoder. */
static int read_pipeline(struct tokenizer *t, const cJSON *root, inf_error *err)
{
    if (parse_normalizer(t, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), err) ||
        parse_pre(t, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), err) ||
        parse_decoder(t, cJSON_GetObjectItemCaseSensitive(root, "decoder"), err))
        return -1;
    struct idlist pre = {{0}, 0}, post = {{0}, 0};
    if (post_collect(t, cJSON_GetObjectItemCaseSensitive(root, "post_processor"), &pre, &post, err)) return -1;
    return tokd_set_post(t, pre.v, pre.n, post.v, post.n) ? oom(err) : 0;
}

/* tokenizer_config.json's chat_template: a string, or a list of named
 * templates of which "default" (else the first) is taken. */
static const char *config_chat_template(const cJSON *cfg)
{
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(cfg, "chat_template");
    if (cJSON_IsString(ct)) return ct->valuestring;
    const char *tmpl = NULL;
    const cJSON *list = cJSON_IsArray(ct) ? ct : NULL, *e;
    cJSON_ArrayForEach(e, list) {
        const char *nm = jstr(e, "name"), *tp = jstr(e, "template");
        if (!tp) continue;
        if (!tmpl) tmpl = tp;
        if (nm && !strcmp(nm, "default")) return tp;
    }
    return tmpl;
}

/* Special ids and the chat template: tokenizer_config.json, else the
 * well-known names of BOS and EOS. */
static int read_specials(struct tokenizer *t, const cJSON *cfg, inf_error *err)
{
    static const char *const bos_names[] = {"<|begin_of_text|>", "<bos>", "<s>",
                                            "<\xef\xbd\x9c" "begin\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>", NULL};
    static const char *const eos_names[] = {"<|end_of_text|>", "<eos>", "</s>", "<|endoftext|>",
                                            "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>", NULL};
    if (cfg) {
        t->bos = id_of_str(t, token_field(cfg, "bos_token"));
        t->eos = id_of_str(t, token_field(cfg, "eos_token"));
        t->pad = id_of_str(t, token_field(cfg, "pad_token"));
        t->unk = id_of_str(t, token_field(cfg, "unk_token"));
        t->sep = id_of_str(t, token_field(cfg, "sep_token"));
        t->cls = id_of_str(t, token_field(cfg, "cls_token"));
        t->mask = id_of_str(t, token_field(cfg, "mask_token"));
        const char *tmpl = config_chat_template(cfg);
        if (tmpl && !(t->chat_template = tokd_strdup(tmpl, jlen(tmpl)))) return oom(err);
    } else {
        t->bos = first_present(t, bos_names);
        t->eos = first_present(t, eos_names);
    }
    if (t->unk < 0) t->unk = t->unk_id;
    return 0;
}

static struct tokenizer *build(const cJSON *root, const cJSON *cfg, const struct big_spans *sp, inf_error *err)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    int32_t n_vocab = 0;
    if (check_model(model, sp, err) || vocab_size_of(added, sp, &n_vocab, err)) return NULL;
    struct tokenizer *t = tokd_new(TOK_MODEL_BPE, TOK_FLAVOR_HF);
    if (!t || tokd_set_vocab_size(t, n_vocab)) {
        oom(err);
    } else if (!fill_vocab(t, sp, err) && !read_bpe(t, model, sp, err) && !add_added_tokens(t, added, err) &&
               !read_pipeline(t, root, err) && !read_specials(t, cfg, err) && !tokd_finalize(t, err)) {
        return t;
    }
    tok_free(t);
    return NULL;
}

int tok_load_hf_json(const char *json, size_t len, const char *config_json, size_t config_len,
                     struct tokenizer **out, inf_error *err)
{
    *out = NULL;
    struct big_spans sp;
    if (find_big(json, len, &sp)) {
        err_fail(err, INF_ERR_FORMAT, sp.bad == 1 ? "tokenizer.json: model.vocab is not an object of string: id"
                               : sp.bad == 2 ? "tokenizer.json: model.merges must hold \"a b\" strings or [a, b] pairs"
                                             : "tokenizer.json: invalid JSON");
        free_spans(&sp);
        return -1;
    }
    cJSON *root = parse_rest(json, len, &sp, err), *cfg = NULL;
    if (root && config_json && !(cfg = cJSON_ParseWithLength(config_json, config_len)))
        err_fail(err, INF_ERR_FORMAT, "tokenizer_config.json: invalid JSON");
    if (root && (cfg || !config_json)) *out = build(root, cfg, &sp, err);
    cJSON_Delete(root);
    cJSON_Delete(cfg);
    free_spans(&sp);
    return *out ? 0 : -1;
}

/* tokenizer.json files reach ~35 MB (Gemma 3); beyond this is not a tokenizer. */
#define TOK_MAX_JSON (512u << 20)

int tok_load_hf_dir(const char *dir, struct tokenizer **out, inf_error *err)
{
    *out = NULL;
    char path[4096];
    size_t jl = 0, cl = 0, gl = 0;
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    char *js = file_read_all(path, TOK_MAX_JSON, &jl, err);
    if (!js) return -1;
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    char *cs = file_is_regular(path) ? file_read_all(path, TOK_MAX_JSON, &cl, NULL) : NULL;
    int rc = tok_load_hf_json(js, jl, cs, cl, out, err);
    free(js);
    free(cs);
    if (rc) return rc;
    /* generation_config.json: eos_token_id (int or list) adds EOG ids */
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    char *gs = file_is_regular(path) ? file_read_all(path, TOK_MAX_JSON, &gl, NULL) : NULL;
    if (gs) {
        cJSON *g = cJSON_ParseWithLength(gs, gl);
        const cJSON *e = g ? cJSON_GetObjectItemCaseSensitive(g, "eos_token_id") : NULL;
        struct tokenizer *t = *out;
        const cJSON *x;
        if (cJSON_IsNumber(e)) {
            int32_t id = (int32_t)e->valuedouble;
            if (id >= 0 && id < t->n_vocab) {
                int32_t *ne = realloc(t->eog, (t->n_eog + 1) * sizeof *ne);
                if (ne) { t->eog = ne; t->eog[t->n_eog++] = id; }
            }
        } else if (cJSON_IsArray(e)) {
            cJSON_ArrayForEach(x, e) {
                int32_t id = (int32_t)x->valuedouble;
                if (id < 0 || id >= t->n_vocab) continue;
                int32_t *ne = realloc(t->eog, (t->n_eog + 1) * sizeof *ne);
                if (ne) { t->eog = ne; t->eog[t->n_eog++] = id; }
            }
        }
        /* keep sorted and unique for tok_is_eog's binary search */
        for (size_t i = 1; i < t->n_eog; i++)
            for (size_t j = i; j > 0 && t->eog[j - 1] > t->eog[j]; j--) {
                int32_t tmp = t->eog[j];
                t->eog[j] = t->eog[j - 1];
                t->eog[j - 1] = tmp;
            }
        size_t u = 0;
        for (size_t i = 0; i < t->n_eog; i++)
            if (u == 0 || t->eog[u - 1] != t->eog[i]) t->eog[u++] = t->eog[i];
        t->n_eog = u;
        cJSON_Delete(g);
        free(gs);
    }
    return 0;
}
