/* hf_tokenizer_convert.c - tokenizer.json to GGUF tokenizer metadata (see
 * hf_tokenizer_convert.h). */
#include "offline/hf_tokenizer_convert.h"
#include "formats/json_file.h"
#include "base/file.h"

#include "base/strmap.h"
#include "formats/gguf.h"
#include "formats/hf_config.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_VOCAB (16 << 20)

/* Token types (llama.cpp's llama_token_type). */
enum { TOK_NORMAL = 1, TOK_UNKNOWN = 2, TOK_CONTROL = 3, TOK_USER_DEFINED = 4, TOK_UNUSED = 5, TOK_BYTE = 6 };

static cJSON *read_json(const char *dir, const char *file, int required, inf_error *err)
{
    return json_read_file(dir, file, 512u << 20, required != 0, err);
}

static bool has_bytelevel(const cJSON *node)
{
    if (!cJSON_IsObject(node)) return false;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(node, "type");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "ByteLevel") == 0) return true;
    static const char *lists[] = {"pretokenizers", "decoders", "processors"};
    for (int i = 0; i < 3; i++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(node, lists[i])) if (has_bytelevel(it)) return true;
    }
    return false;
}

/* Every "Regex" string under node, searched for needle. */
static bool regex_contains(const cJSON *node, const char *needle)
{
    if (!node) return false;
    if (node->string && strcmp(node->string, "Regex") == 0 && cJSON_IsString(node))
        return strstr(node->valuestring, needle) != NULL;
    for (const cJSON *c = node->child; c; c = c->next)
        if (regex_contains(c, needle)) return true;
    return false;
}

static const char *detect_pre(const cJSON *pre_tok)
{
    if (!regex_contains(pre_tok, "(?i:'s|'t|'re|'ve|'m|'ll|'d)")) return NULL;
    if (regex_contains(pre_tok, "\\p{N}{1,3}")) return "llama-bpe";
    if (regex_contains(pre_tok, "\\p{N}|")) return "qwen2";
    return NULL;
}

/* tokenizer_config's <typ>_token text (string or {"content": ...}). */
static const char *special_text(const cJSON *tcfg, const char *typ)
{
    char key[32];
    snprintf(key, sizeof key, "%s_token", typ);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(tcfg, key);
    if (cJSON_IsObject(e)) e = cJSON_GetObjectItemCaseSensitive(e, "content");
    return cJSON_IsString(e) ? e->valuestring : NULL;
}

/* As gguf-py's SpecialVocab: the added token with tokenizer_config's text,
 * else config.json's <typ>_token_id (first of a list); -1 when none. */
static long special_id(const cJSON *tok, const cJSON *tcfg, const cJSON *mcfg, const char *typ)
{
    const char *text = special_text(tcfg, typ);
    if (text) {
        const cJSON *a;
        cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(tok, "added_tokens"))
        {
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "content");
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
            if (cJSON_IsString(c) && cJSON_IsNumber(id) && strcmp(c->valuestring, text) == 0) return (long)id->valuedouble;
        }
    }
    char key[32];
    snprintf(key, sizeof key, "%s_token_id", typ);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(mcfg, key);
    if (cJSON_IsArray(v)) v = v->child;
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < MAX_VOCAB) return (long)v->valuedouble;
    return -1;
}

/* add_bos_token: tokenizer_config's, else a TemplateProcessing that starts
 * with the BOS special token; -1 when neither says. */
static int add_bos(const cJSON *tok, const cJSON *tcfg)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(tcfg, "add_bos_token");
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    const cJSON *post = cJSON_GetObjectItemCaseSensitive(tok, "post_processor");
    const cJSON *procs = cJSON_GetObjectItemCaseSensitive(post, "processors");
    const cJSON *single_list[1] = {post};
    int n = procs ? cJSON_GetArraySize(procs) : 1;
    for (int i = 0; i < n; i++) {
        const cJSON *p = procs ? cJSON_GetArrayItem(procs, i) : single_list[0];
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "TemplateProcessing") != 0) continue;
        const cJSON *single = cJSON_GetObjectItemCaseSensitive(p, "single");
        const cJSON *first = cJSON_GetArrayItem(single, 0);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(first, "SpecialToken");
        if (cJSON_GetArraySize(single) > 1 && st) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(st, "id");
            const char *bos = special_text(tcfg, "bos");
            return cJSON_IsString(id) && bos && strcmp(id->valuestring, bos) == 0;
        }
    }
    return -1;
}

/* Byte-level BPE merges never hold a space; the converter writes one as
 * U+0120 (space + 0x100), as llama.cpp's gguf-py does. */
static void put_merge_part(char *out, size_t *n, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ') {
            out[(*n)++] = (char)0xC4;
            out[(*n)++] = (char)0xA0;
        } else {
            out[(*n)++] = s[i];
        }
    }
}

static int merges_kv(struct gguf_wbuf *b, const cJSON *merges, const char *path, inf_error *err)
{
    int n = cJSON_GetArraySize(merges);
    gguf_wbuf_kv_array(b, "tokenizer.ggml.merges", GGUF_TYPE_STRING, (uint64_t)n);
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, merges)
    {
        const char *a, *c;
        size_t la, lc;
        if (cJSON_IsString(m)) {
            const char *sp = strchr(m->valuestring, ' ');
            if (!sp) {
                err_fail(err, INF_ERR_FORMAT, "%s: merge %d '%s' has no space", path, i, m->valuestring);
                return -1;
            }
            a = m->valuestring;
            la = (size_t)(sp - a);
            c = sp + 1;
            lc = strlen(c);
        } else if (cJSON_GetArraySize(m) == 2 && cJSON_IsString(m->child) && cJSON_IsString(m->child->next)) {
            a = m->child->valuestring;
            la = strlen(a);
            c = m->child->next->valuestring;
            lc = strlen(c);
        } else {
            err_fail(err, INF_ERR_FORMAT, "%s: merge %d is neither \"a b\" nor [a, b]", path, i);
            return -1;
        }
        char *tmp = malloc(2 * (la + lc) + 2);
        if (!tmp) {
            err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
            return -1;
        }
        size_t n_out = 0;
        put_merge_part(tmp, &n_out, a, la);
        tmp[n_out++] = ' ';
        put_merge_part(tmp, &n_out, c, lc);
        gguf_wbuf_str(b, tmp, n_out);
        free(tmp);
        i++;
    }
    return 0;
}

/* The table of one tokenizer: text and type per id (texts point into the
 * JSON tree). */
struct token_table {
    const char **text;
    int32_t *type;
    long n;
};

static void table_free(struct token_table *t)
{
    free(t->text);
    free(t->type);
}

/* Largest id + 1 over model.vocab and added_tokens (at least n_vocab). */
static long count_ids(const cJSON *vocab, const cJSON *added, long n_vocab, const char *path, inf_error *err)
{
    long n = n_vocab;
    const cJSON *it;
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *list = pass ? added : vocab;
        cJSON_ArrayForEach(it, list)
        {
            const cJSON *id = pass ? cJSON_GetObjectItemCaseSensitive(it, "id") : it;
            const cJSON *content = pass ? cJSON_GetObjectItemCaseSensitive(it, "content") : NULL;
            if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble >= MAX_VOCAB ||
                (pass && !cJSON_IsString(content))) {
                err_fail(err, INF_ERR_FORMAT, "%s: %s entry '%s' has no valid id", path, pass ? "added_tokens" : "model.vocab",
                        pass ? (cJSON_IsString(content) ? content->valuestring : "?") : it->string);
                return -1;
            }
            if ((long)id->valuedouble + 1 > n) n = (long)id->valuedouble + 1;
        }
    }
    return n;
}

static bool is_byte_piece(const char *s)
{
    return strlen(s) == 6 && strncmp(s, "<0x", 3) == 0 && s[5] == '>' && strchr("0123456789ABCDEF", s[3]) &&
           strchr("0123456789ABCDEF", s[4]);
}

/* Texts and types: vocabulary entries NORMAL (BYTE for <0xNN> pieces of a
 * byte-fallback model), added tokens CONTROL when special or "<|...|>",
 * else USER_DEFINED; the unknown piece UNKNOWN (SentencePiece). */
static int build_table(struct token_table *t, const cJSON *tok, long n_vocab, bool spm, const char *path, inf_error *err)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(tok, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(tok, "added_tokens");
    long n = count_ids(vocab, added, n_vocab, path, err);
    if (n < 0) return -1;
    t->n = n;
    t->text = calloc((size_t)n, sizeof *t->text);
    t->type = calloc((size_t)n, sizeof *t->type);
    if (!t->text || !t->type) {
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        return -1;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, vocab)
    {
        long id = (long)it->valuedouble;
        t->text[id] = it->string;
        t->type[id] = spm && is_byte_piece(it->string) ? TOK_BYTE : TOK_NORMAL;
    }
    cJSON_ArrayForEach(it, added)
    {
        long id = (long)cJSON_GetObjectItemCaseSensitive(it, "id")->valuedouble;
        const char *text = cJSON_GetObjectItemCaseSensitive(it, "content")->valuestring;
        size_t len = strlen(text);
        t->text[id] = text;
        bool special = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "special"));
        bool looks = len >= 4 && strncmp(text, "<|", 2) == 0 && strcmp(text + len - 2, "|>") == 0;
        t->type[id] = (special || looks) ? TOK_CONTROL : TOK_USER_DEFINED;
    }
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
    if (spm && cJSON_IsString(unk)) {
        const cJSON *uid = cJSON_GetObjectItemCaseSensitive(vocab, unk->valuestring);
        if (cJSON_IsNumber(uid)) t->type[(long)uid->valuedouble] = TOK_UNKNOWN;
    }
    return 0;
}

static void tokens_kv(struct gguf_wbuf *b, struct token_table *t)
{
    gguf_wbuf_kv_array(b, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, (uint64_t)t->n);
    for (long i = 0; i < t->n; i++) {
        if (t->text[i]) {
            gguf_wbuf_str(b, t->text[i], strlen(t->text[i]));
        } else {
            char pad[32];
            snprintf(pad, sizeof pad, "[PAD%ld]", i);
            gguf_wbuf_str(b, pad, strlen(pad));
            t->type[i] = TOK_UNUSED;
        }
    }
}

/* SentencePiece scores for llama.cpp's merging, which joins the adjacent
 * pair whose joined piece scores highest: minus the rank of the first
 * merge that makes a piece, so it merges in Hugging Face's order (the
 * .model files' own scores follow piece ids, except for pieces such as
 * Llama 2's "▁▁" that they hold back with -1e9, and tokenizer.json's merge
 * list holds those back too). Pieces no merge makes score below all the
 * others; control, byte and unused pieces 0. */
static int scores_kv(struct gguf_wbuf *b, const struct token_table *t, const cJSON *merges)
{
    struct strmap ids;
    float *s = malloc((size_t)(t->n ? t->n : 1) * sizeof *s);
    if (!s || strmap_init(&ids, (size_t)t->n) != 0) {
        free(s);
        return -1;
    }
    for (long i = 0; i < t->n; i++)
        if (t->text[i] && strmap_put(&ids, t->text[i], (int)i) != 0) {
            free(s);
            strmap_free(&ids);
            return -1;
        }
    long n_merges = cJSON_GetArraySize(merges), rank = 0;
    for (long i = 0; i < t->n; i++) s[i] = t->type[i] == TOK_NORMAL ? -(float)(n_merges + i) : 0.0f;
    char joined[2048];
    const cJSON *m;
    cJSON_ArrayForEach(m, merges)
    {
        if (cJSON_IsString(m)) {
            const char *sp = strchr(m->valuestring, ' ');
            if (sp) snprintf(joined, sizeof joined, "%.*s%s", (int)(sp - m->valuestring), m->valuestring, sp + 1);
            else joined[0] = 0;
        } else if (cJSON_GetArraySize(m) == 2 && cJSON_IsString(m->child) && cJSON_IsString(m->child->next)) {
            snprintf(joined, sizeof joined, "%s%s", m->child->valuestring, m->child->next->valuestring);
        } else {
            joined[0] = 0;
        }
        int id = joined[0] ? strmap_get(&ids, joined) : -1;
        if (id >= 0 && t->type[id] == TOK_NORMAL && s[id] < -(float)rank) s[id] = -(float)rank;
        rank++;
    }
    strmap_free(&ids);
    gguf_wbuf_kv_array(b, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, (uint64_t)t->n);
    gguf_wbuf_put(b, s, (size_t)t->n * sizeof *s);
    free(s);
    return 0;
}

/* Prepend("▁") in the normaliser, or a Metaspace pre-tokenizer that
 * prepends: SentencePiece's add_dummy_prefix. */
static bool adds_space_prefix(const cJSON *node)
{
    if (!node) return false;
    if (cJSON_IsObject(node)) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(node, "type");
        if (cJSON_IsString(type)) {
            if (strcmp(type->valuestring, "Prepend") == 0) return true;
            if (strcmp(type->valuestring, "Metaspace") == 0) {
                const cJSON *ps = cJSON_GetObjectItemCaseSensitive(node, "prepend_scheme");
                const cJSON *as = cJSON_GetObjectItemCaseSensitive(node, "add_prefix_space");
                if (cJSON_IsString(ps)) return strcmp(ps->valuestring, "never") != 0;
                return !cJSON_IsFalse(as);
            }
        }
    }
    for (const cJSON *c = node->child; c; c = c->next)
        if (adds_space_prefix(c)) return true;
    return false;
}

static void special_kvs(struct gguf_wbuf *b, const cJSON *tok, const cJSON *tcfg, const cJSON *mcfg, long n)
{
    static const char *const typs[][2] = {{"bos", "bos"}, {"eos", "eos"}, {"unk", "unknown"},
                                          {"sep", "seperator"}, {"pad", "padding"}, {"mask", "mask"}};
    for (int i = 0; i < 6; i++) {
        long id = special_id(tok, tcfg, mcfg, typs[i][0]);
        if (id >= 0 && id < n) {
            char key[64];
            snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", typs[i][1]);
            gguf_wbuf_kv_u32(b, key, (uint32_t)id);
        }
    }
    int ab = add_bos(tok, tcfg);
    if (ab >= 0) gguf_wbuf_kv_bool(b, "tokenizer.ggml.add_bos_token", ab);
    const cJSON *ae = cJSON_GetObjectItemCaseSensitive(tcfg, "add_eos_token");
    if (cJSON_IsBool(ae)) gguf_wbuf_kv_bool(b, "tokenizer.ggml.add_eos_token", cJSON_IsTrue(ae));
}

static void chat_template_kvs(struct gguf_wbuf *b, const cJSON *tcfg, const char *dir)
{
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(tcfg, "chat_template");
    const cJSON *it;
    if (cJSON_IsString(ct)) {
        gguf_wbuf_kv_str(b, "tokenizer.chat_template", ct->valuestring);
    } else if (cJSON_IsArray(ct)) {
        cJSON_ArrayForEach(it, ct)
        {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
            const cJSON *tp = cJSON_GetObjectItemCaseSensitive(it, "template");
            if (!cJSON_IsString(nm) || !cJSON_IsString(tp)) continue;
            char key[256];
            if (strcmp(nm->valuestring, "default") == 0) snprintf(key, sizeof key, "tokenizer.chat_template");
            else snprintf(key, sizeof key, "tokenizer.chat_template.%.200s", nm->valuestring);
            gguf_wbuf_kv_str(b, key, tp->valuestring);
        }
    } else {
        char path[4200];
        snprintf(path, sizeof path, "%s/chat_template.jinja", dir);
        size_t len;
        char *text = access(path, R_OK) == 0 ? file_read_all(path, 16u << 20, &len, NULL) : NULL;
        if (text) gguf_wbuf_kv_str(b, "tokenizer.chat_template", text);
        free(text);
    }
}

/* Which family a tokenizer.json is: 1 byte-level BPE, 2 SentencePiece-style
 * BPE, 0 neither. */
static int tokenizer_family(const cJSON *tok)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(tok, "model");
    const cJSON *mtype = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (!cJSON_IsString(mtype) || strcmp(mtype->valuestring, "BPE") != 0) return 0;
    if (has_bytelevel(cJSON_GetObjectItemCaseSensitive(tok, "pre_tokenizer")) ||
        has_bytelevel(cJSON_GetObjectItemCaseSensitive(tok, "decoder")))
        return 1;
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "byte_fallback")) ? 2 : 0;
}

int hf_tokenizer_gguf_kvs(struct gguf_wbuf *b, const char *dir, int n_vocab, const char *pre_opt, inf_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    int rc = -1;
    struct token_table t = {0};
    cJSON *tok = read_json(dir, "tokenizer.json", 1, err);
    cJSON *tcfg = tok ? read_json(dir, "tokenizer_config.json", 0, err) : NULL;
    cJSON *mcfg = tok ? read_json(dir, "config.json", 0, err) : NULL;
    if (!tok) goto done;
    int family = tokenizer_family(tok);
    if (family == 0) {
        err_fail(err, INF_ERR_FORMAT, "%s: only BPE tokenizers, byte-level (Qwen, Llama 3, GPT-2 style) or SentencePiece-style "
                         "with byte fallback (Llama 2, Mistral, Gemma), can be converted", path);
        goto done;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(tok, "model");
    const char *pre = pre_opt;
    if (!pre && family == 1) pre = detect_pre(cJSON_GetObjectItemCaseSensitive(tok, "pre_tokenizer"));
    if (!pre && family == 2) pre = "default";
    if (!pre) {
        err_fail(err, INF_ERR_FORMAT, "%s: unrecognised pre-tokenizer regex (not Qwen's or Llama 3's): name it with --pre", path);
        goto done;
    }
    if (build_table(&t, tok, n_vocab, family == 2, path, err) != 0) goto done;
    gguf_wbuf_kv_str(b, "tokenizer.ggml.model", family == 1 ? "gpt2" : "llama");
    gguf_wbuf_kv_str(b, "tokenizer.ggml.pre", pre);
    tokens_kv(b, &t);
    if (family == 2 && scores_kv(b, &t, cJSON_GetObjectItemCaseSensitive(model, "merges")) != 0) {
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    gguf_wbuf_kv_array(b, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, (uint64_t)t.n);
    gguf_wbuf_put(b, t.type, (size_t)t.n * sizeof *t.type);
    if (family == 1 && merges_kv(b, cJSON_GetObjectItemCaseSensitive(model, "merges"), path, err) != 0) goto done;
    special_kvs(b, tok, tcfg, mcfg, t.n);
    if (family == 2)
        gguf_wbuf_kv_bool(b, "tokenizer.ggml.add_space_prefix",
                          adds_space_prefix(cJSON_GetObjectItemCaseSensitive(tok, "normalizer")) ||
                              adds_space_prefix(cJSON_GetObjectItemCaseSensitive(tok, "pre_tokenizer")));
    chat_template_kvs(b, tcfg, dir);
    rc = b->b.oom ? -1 : 0;
    if (b->b.oom) err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
done:
    table_free(&t);
    cJSON_Delete(tok);
    cJSON_Delete(tcfg);
    cJSON_Delete(mcfg);
    return rc;
}

int gguf_tokenizer_copy_kvs(struct gguf_wbuf *b, const char *path, int *n_tokens, inf_error *err)
{
    struct gguf_file *f;
    if (gguf_open(path, &f, err) != 0) return -1;
    struct gguf_array toks;
    if (gguf_get_array(f, "tokenizer.ggml.tokens", &toks) != GGUF_OK || toks.n == 0) {
        err_fail(err, INF_ERR_FORMAT, "%s: no tokenizer.ggml.tokens", path);
        gguf_close(f);
        return -1;
    }
    int rc = 0;
    for (int64_t i = 0; i < gguf_n_kv(f) && rc == 0; i++)
        if (strncmp(gguf_key_at(f, i), "tokenizer.", 10) == 0 && gguf_wbuf_copy_kv(b, f, i) != 0) {
            err_fail(err, INF_ERR_FORMAT, "%s: cannot copy key '%s'", path, gguf_key_at(f, i));
            rc = -1;
        }
    if (n_tokens) *n_tokens = (int)toks.n;
    gguf_close(f);
    return rc;
}
