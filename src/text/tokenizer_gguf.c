/* tokenizer_gguf.c - a tokenizer from GGUF tokenizer.ggml.* metadata, with
 * llama.cpp's semantics (llama-vocab.cpp: defaults per model type, the
 * pre-tokenizer regexes per tokenizer.ggml.pre, special-id keys, flags). */
#include "text/tokenizer_impl.h"
#include "formats/gguf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RX_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define RX_CONTR "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
#define RX_LLAMA3 RX_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_QWEN2 RX_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_QWEN35 RX_CONTR "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_PORO " ?[^(\\s|.,!?\xe2\x80\xa6\xe3\x80\x82\xef\xbc\x8c\xe3\x80\x81\xe0\xa5\xa4\xdb\x94\xd8\x8c)]+"
#define RX_CJK "[\xe4\xb8\x80-\xe9\xbe\xa5\xe0\xa0\x80-\xe4\xb8\x80\xea\xb0\x80-\xed\x9f\xbf]+"
#define RX_DS3_MAIN "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"
#define RX_UPPERLOWER_A "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+"
#define RX_UPPERLOWER_B "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*"

/* The deepseek-llm letter class, as in llama.cpp (UTF-8 literal ranges). */
#define RX_DSLLM_LETTERS "\\s?[A-Za-z\xc2\xb5\xc3\x80-\xc3\x96\xc3\x98-\xc3\xb6\xc3\xb8-\xc6\xba\xc6\xbc-\xc6\xbf\xc7\x84-\xca\x93\xca\x95-\xca\xaf\xcd\xb0-\xcd\xb3\xcd\xb6\xcd\xb7\xcd\xbb-\xcd\xbd\xcd\xbf\xce\x86\xce\x88-\xce\x8a\xce\x8c\xce\x8e-\xce\xa1\xce\xa3-\xcf\xb5\xcf\xb7-\xd2\x81\xd2\x8a-\xd4\xaf\xd4\xb1-\xd5\x96\xe1\x82\xa0-\xe1\x83\x85\xe1\x8e\xa0-\xe1\x8f\xb5\xe1\x8f\xb8-\xe1\x8f\xbd\xe1\xb2\x90-\xe1\xb2\xba\xe1\xb2\xbd-\xe1\xb2\xbf\xe1\xb4\x80-\xe1\xb4\xab\xe1\xb5\xab-\xe1\xb5\xb7\xe1\xb5\xb9-\xe1\xb6\x9a\xe1\xb8\x80-\xe1\xbc\x95\xe1\xbc\x98-\xe1\xbc\x9d\xe1\xbc\xa0-\xe1\xbd\x85\xe1\xbd\x88-\xe1\xbd\x8d\xe1\xbd\x90-\xe1\xbd\x97\xe1\xbd\x99\xe1\xbd\x9b\xe1\xbd\x9d\xe1\xbd\x9f-\xe1\xbd\xbd\xe1\xbe\x80-\xe1\xbe\xb4\xe1\xbe\xb6-\xe1\xbe\xbc\xe1\xbe\xbe\xe1\xbf\x82-\xe1\xbf\x84\xe1\xbf\x86-\xe1\xbf\x8c\xe1\xbf\x90-\xe1\xbf\x93\xe1\xbf\x96-\xe1\xbf\x9b\xe1\xbf\xa0-\xe1\xbf\xac\xe1\xbf\xb2-\xe1\xbf\xb4\xe1\xbf\xb6-\xe1\xbf\xbc\xe2\x84\x82\xe2\x84\x87\xe2\x84\x8a-\xe2\x84\x93\xe2\x84\x95\xe2\x84\x99-\xe2\x84\x9d\xe2\x84\xa4\xe2\x84\xa6\xe2\x84\xa8\xe2\x84\xaa-\xe2\x84\xad\xe2\x84\xaf-\xe2\x84\xb4\xe2\x84\xb9\xe2\x84\xbc-\xe2\x84\xbf\xe2\x85\x85-\xe2\x85\x89\xe2\x85\x8e\xe2\x86\x83\xe2\x86\x84\xe2\xb0\x80-\xe2\xb1\xbb\xe2\xb1\xbe-\xe2\xb3\xa4\xe2\xb3\xab-\xe2\xb3\xae\xe2\xb3\xb2\xe2\xb3\xb3\xea\x99\x80-\xea\x99\xad\xea\x9a\x80-\xea\x9a\x9b\xea\x9c\xa2-\xea\x9d\xaf\xea\x9d\xb1-\xea\x9e\x87\xea\x9e\x8b-\xea\x9e\x8e\xea\xad\xb0-\xea\xae\xbf\xef\xac\x80-\xef\xac\x86\xef\xac\x93-\xef\xac\x97\xef\xbc\xa1-\xef\xbc\xba\xef\xbd\x81-\xef\xbd\x9a\xf0\x90\x90\x80-\xf0\x90\x91\x8f\xf0\x90\x92\xb0-\xf0\x90\x93\x93\xf0\x90\x93\x98-\xf0\x90\x93\xbb\xf0\x90\xb2\x80-\xf0\x90\xb2\xb2\xf0\x90\xb3\x80-\xf0\x90\xb3\xb2\xf0\x91\xa2\xa0-\xf0\x91\xa3\x9f\xf0\x9e\xa4\x80-\xf0\x9e\xa5\x83]+"
#define RX_DSLLM_PUNCT "\\s?[!-/:-~\xef\xbc\x81-\xef\xbc\x8f\xef\xbc\x9a-\xef\xbd\x9e\xe2\x80\x98-\xe2\x80\x9f\xe3\x80\x80-\xe3\x80\x82]+"

struct pre_def {
    const char *names; /* '|'-separated */
    const char *rx[7];
    int clean;         /* 1 keep default (true), 0 set false */
    bool ignore_merges, add_bos, no_bos;
};

static const struct pre_def k_pres[] = {
    {"default", {"[\\p{P}\\$\\+<=>\\^~\\|]+", RX_GPT2, "\\p{N}+", "[0-9][0-9][0-9]"}, 1, false, false, false},
    {"llama3|llama-v3|llama-bpe|falcon3|falcon-h1|pixtral|midm-2.0|lfm2|jina-v5-nano", {RX_LLAMA3}, 1, true, true, false},
    {"dbrx|smaug-bpe", {RX_LLAMA3}, 1, false, false, false},
    {"deepseek-llm", {"[\r\n]", RX_DSLLM_LETTERS, RX_DSLLM_PUNCT, "\\s+$", RX_CJK, "\\p{N}+"}, 0, false, false, false},
    {"deepseek-coder", {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", RX_CJK, "\\p{N}"}, 0, false, false, false},
    {"deepseek-v3|hunyuan-dense|joyai-llm|hy_v4", {"\\p{N}{1,3}", "[\xe4\xb8\x80-\xe9\xbe\xa5\xe3\x81\x80-\xe3\x82\x9f\xe3\x82\xa0-\xe3\x83\xbf]+", RX_DS3_MAIN}, 0, false, false, false},
    {"falcon", {"[\\p{P}\\$\\+<=>\\^~\\|`]+", RX_GPT2, "[0-9][0-9][0-9]"}, 1, false, false, false},
    {"mpt|gpt-2|phi-2|jina-es|jina-de|gigachat|jina-v2-es|jina-v2-de|a.x-4.0|mellum|modern-bert|olmo|jais|exaone4|jina-v1-en|jina-v2-code|roberta-bpe", {RX_GPT2}, 1, false, false, false},
    {"trillion|granite-docling", {RX_GPT2}, 0, false, false, false},
    {"starcoder|refact|codeshell|exaone|minerva-7b|mellum2", {"\\p{N}", RX_GPT2}, 1, false, false, false},
    {"command-r|smollm", {"\\p{N}", RX_GPT2}, 0, false, false, false},
    {"qwen2|deepseek-r1-qwen|kormo|f2llmv2|hunyuan|solar-open|grok-2", {RX_QWEN2}, 0, false, false, false},
    {"stablelm2|megrez", {RX_QWEN2}, 1, false, false, false},
    {"qwen35", {RX_QWEN35}, 0, false, false, false},
    {"poro-chat", {RX_PORO}, 0, false, false, false},
    {"bloom|gpt3-finnish", {RX_PORO}, 1, false, false, false},
    {"viking", {RX_PORO, "\\p{N}"}, 0, false, false, false},
    {"glm4|chatglm-bpe", {RX_LLAMA3}, 1, false, false, true},
    {"tekken", {RX_UPPERLOWER_A "|" RX_UPPERLOWER_B "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, 0, true, true, false},
    {"gpt-4o|llama4|kanana2|talkie|minimax-m2", {RX_UPPERLOWER_A RX_CONTR "?|" RX_UPPERLOWER_B RX_CONTR "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, 0, false, false, false},
    {"seed-coder", {RX_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, 0, false, false, false},
    {"bailingmoe|bailingmoe2|llada-moe", {"'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"}, 0, false, false, false},
    {"ufakzeka", {"[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, 0, false, false, false},
    {NULL, {NULL}, 1, false, false, false},
};

static bool name_in(const char *list, const char *name)
{
    size_t nl = strlen(name);
    const char *p = list;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == nl && memcmp(p, name, l) == 0) return true;
        if (!bar) break;
        p = bar + 1;
    }
    return false;
}

static void get_id(const struct gguf_file *f, const char *key, int32_t *id, int32_t n_vocab)
{
    if (*id >= n_vocab) *id = -1; /* default out of range: disabled */
    uint32_t v;
    if (gguf_get_u32(f, key, &v) == GGUF_OK && v < (uint32_t)n_vocab) *id = (int32_t)v;
}

static void get_bool(const struct gguf_file *f, const char *key, bool *b)
{
    bool v;
    if (gguf_get_bool(f, key, &v) == GGUF_OK) *b = v;
}

static int oom(const struct gguf_file *f, inf_error *err)
{
    return err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory reading the tokenizer", gguf_path(f));
}

/* tokenizer.ggml.model: llama (SentencePiece), gpt2 (byte-level BPE) or
 * bert (WordPiece). */
static int model_type_of(const struct gguf_file *f, int *mt, inf_error *err)
{
    const char *model = NULL;
    if (gguf_get_string(f, "tokenizer.ggml.model", &model, NULL) != GGUF_OK)
        return err_fail(err, INF_ERR_FORMAT, "%s: no tokenizer.ggml.model", gguf_path(f));
    if (!strcmp(model, "llama")) *mt = TOK_MODEL_SPM;
    else if (!strcmp(model, "gpt2")) *mt = TOK_MODEL_BPE;
    else if (!strcmp(model, "bert")) *mt = TOK_MODEL_WPM;
    else
        return err_fail(err, INF_ERR_UNSUPPORTED, "%s: unsupported tokenizer model '%s' (supported: llama, gpt2, bert)",
                        gguf_path(f), model);
    return 0;
}

/* The GGUF token type (llama.cpp's enum: 1 normal .. 6 byte) as attributes. */
static uint32_t attr_of_token_type(int64_t ty)
{
    switch (ty) {
    case 1: return TOK_ATTR_NORMAL;
    case 2: return TOK_ATTR_UNKNOWN;
    case 3: return TOK_ATTR_CONTROL;
    case 4: return TOK_ATTR_USER_DEFINED;
    case 5: return TOK_ATTR_UNUSED;
    case 6: return TOK_ATTR_BYTE;
    default: return TOK_ATTR_UNDEFINED;
    }
}

/* The vocabulary arrays (tokens, and optionally scores and token types)
 * checked for type and length. */
static int vocab_arrays(const struct gguf_file *f, struct gguf_array *toks, struct gguf_array *scores, bool *has_scores,
                        struct gguf_array *types, bool *has_types, inf_error *err)
{
    if (gguf_get_array(f, "tokenizer.ggml.tokens", toks) != GGUF_OK || toks->type != GGUF_TYPE_STRING)
        return err_fail(err, INF_ERR_FORMAT, "%s: cannot find tokenizer vocab (tokenizer.ggml.tokens)", gguf_path(f));
    if (toks->n == 0 || toks->n > INT32_MAX / 2)
        return err_fail(err, INF_ERR_FORMAT, "%s: bad vocabulary size %llu", gguf_path(f), (unsigned long long)toks->n);
    *has_scores = gguf_get_array(f, "tokenizer.ggml.scores", scores) == GGUF_OK;
    if (*has_scores && (scores->n < toks->n || (scores->type != GGUF_TYPE_FLOAT32 && scores->type != GGUF_TYPE_INT32)))
        return err_fail(err, INF_ERR_FORMAT, "%s: invalid tokenizer.ggml.scores", gguf_path(f));
    *has_types = gguf_get_array(f, "tokenizer.ggml.token_type", types) == GGUF_OK;
    if (*has_types && (types->n < toks->n || types->type != GGUF_TYPE_INT32))
        return err_fail(err, INF_ERR_FORMAT, "%s: invalid tokenizer.ggml.token_type", gguf_path(f));
    return 0;
}

static int read_vocab(const struct gguf_file *f, struct tokenizer *t, inf_error *err)
{
    struct gguf_array toks, scores, types;
    bool has_scores = false, has_types = false;
    if (vocab_arrays(f, &toks, &scores, &has_scores, &types, &has_types, err)) return -1;
    int32_t n = (int32_t)toks.n;
    if (tokd_set_vocab_size(t, n)) return oom(f, err);
    for (int32_t i = 0; i < n; i++) {
        const char *s;
        size_t l;
        if (gguf_array_string(&toks, (uint64_t)i, &s, &l) != GGUF_OK) return oom(f, err);
        char tmp[32];
        if (l == 0) { /* llama.cpp renames empty tokens */
            l = (size_t)snprintf(tmp, sizeof tmp, "[EMPTY_%d]", i);
            s = tmp;
        }
        float sc = 0.0f;
        if (has_scores) {
            if (scores.type == GGUF_TYPE_FLOAT32) gguf_array_f32(&scores, (uint64_t)i, &sc);
            else { int64_t v; gguf_array_i64(&scores, (uint64_t)i, &v); sc = (float)v; }
        }
        int64_t ty = 1;
        if (has_types) gguf_array_i64(&types, (uint64_t)i, &ty);
        if (tokd_set_token(t, i, s, l, sc, attr_of_token_type(ty))) return oom(f, err);
    }
    return tokd_index_vocab(t, err);
}

/* tokenizer.ggml.merges: "left right" strings in rank order. */
static int read_merges(const struct gguf_file *f, struct tokenizer *t, inf_error *err)
{
    struct gguf_array mg;
    if (gguf_get_array(f, "tokenizer.ggml.merges", &mg) != GGUF_OK || mg.type != GGUF_TYPE_STRING)
        return err_fail(err, INF_ERR_FORMAT, "%s: cannot find tokenizer merges (tokenizer.ggml.merges)", gguf_path(f));
    struct tok_merge_src *ms = malloc((mg.n ? mg.n : 1) * sizeof *ms);
    if (!ms) return oom(f, err);
    size_t nm = 0;
    for (uint64_t i = 0; i < mg.n; i++) {
        const char *s;
        size_t l;
        if (gguf_array_string(&mg, i, &s, &l) != GGUF_OK) { free(ms); return oom(f, err); }
        const char *sp = l > 1 ? memchr(s + 1, ' ', l - 1) : NULL;
        /* llama.cpp keeps a merge without a space as ("", ""): it never matches */
        if (!sp) { ms[nm++] = (struct tok_merge_src){"", "", 0, 0}; continue; }
        size_t al = (size_t)(sp - s);
        ms[nm++] = (struct tok_merge_src){s, sp + 1, (uint32_t)al, (uint32_t)(l - al - 1)};
    }
    size_t missing;
    int mrc = tokd_add_merges(t, ms, nm, 0, &missing);
    free(ms);
    return mrc ? oom(f, err) : 0;
}

/* Byte-level BPE: the pre-tokenizer named by tokenizer.ggml.pre (its
 * regexes and flags as llama.cpp defines them), then the merges. */
static int setup_bpe(const struct gguf_file *f, struct tokenizer *t, inf_error *err)
{
    const char *pn = "default";
    gguf_get_string(f, "tokenizer.ggml.pre", &pn, NULL);
    const struct pre_def *pd = NULL;
    for (int k = 0; k_pres[k].names; k++)
        if (name_in(k_pres[k].names, pn)) { pd = &k_pres[k]; break; }
    if (!pd) return err_fail(err, INF_ERR_FORMAT, "%s: unknown pre-tokenizer type: '%s'", gguf_path(f), pn);
    t->bos = 11; t->eos = 11;
    t->clean_spaces = pd->clean != 0;
    t->ignore_merges = pd->ignore_merges;
    if (pd->add_bos) t->add_bos = true;
    if (pd->no_bos) t->bos = -1;
    for (int k = 0; k < 7 && pd->rx[k]; k++) {
        struct tok_pre *p = tokd_push_pre(t, PT_SPLIT);
        if (!p) return oom(f, err);
        p->behavior = SB_ISOLATED;
        p->re = tokd_compile_regex(t, pd->rx[k], strlen(pd->rx[k]), err);
        if (!p->re) return -1;
    }
    if (!tokd_push_pre(t, PT_BYTELEVEL)) return oom(f, err);
    t->llama_sanitize = true;
    return read_merges(f, t, err);
}

/* Defaults per model type (llama-vocab.cpp); the file's keys override them. */
static int set_model_defaults(const struct gguf_file *f, struct tokenizer *t, int mt, inf_error *err)
{
    t->clean_spaces = false;
    if (mt == TOK_MODEL_SPM) {
        t->bos = 1; t->eos = 2; t->unk = 0;
        t->add_space_prefix = true;
        t->add_bos = true;
    } else if (mt == TOK_MODEL_WPM) {
        t->bos = 101; t->unk = 100; t->sep = 102; t->pad = 0; t->mask = 103;
        t->add_bos = true; t->add_sep = true; t->clean_spaces = true;
        t->wpm_lowercase = true;
    } else if (setup_bpe(f, t, err)) {
        return -1;
    }
    return 0;
}

/* Special ids, add_* flags, normaliser flags. */
static void read_special(const struct gguf_file *f, struct tokenizer *t, int mt)
{
    int32_t n = tok_n_vocab(t);
    get_bool(f, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix);
    get_id(f, "tokenizer.ggml.bos_token_id", &t->bos, n);
    get_id(f, "tokenizer.ggml.eos_token_id", &t->eos, n);
    get_id(f, "tokenizer.ggml.eot_token_id", &t->eot, n);
    get_id(f, "tokenizer.ggml.eom_token_id", &t->eom, n);
    get_id(f, "tokenizer.ggml.unknown_token_id", &t->unk, n);
    get_id(f, "tokenizer.ggml.seperator_token_id", &t->sep, n);
    get_id(f, "tokenizer.ggml.padding_token_id", &t->pad, n);
    get_id(f, "tokenizer.ggml.mask_token_id", &t->mask, n);
    get_id(f, "tokenizer.ggml.cls_token_id", &t->cls, n);
    get_bool(f, "tokenizer.ggml.add_bos_token", &t->add_bos);
    get_bool(f, "tokenizer.ggml.add_eos_token", &t->add_eos);
    get_bool(f, "tokenizer.ggml.add_sep_token", &t->add_sep);
    bool lc = t->wpm_lowercase;
    get_bool(f, "tokenizer.ggml.normalizer.lowercase", &lc);
    t->wpm_lowercase = lc;
    t->wpm_strip_accents = lc;
    get_bool(f, "tokenizer.ggml.normalizer.strip_accents", &t->wpm_strip_accents);
    if (mt == TOK_MODEL_WPM && t->cls < 0) t->cls = t->bos;
}

static int read_strings(const struct gguf_file *f, struct tokenizer *t, inf_error *err)
{
    const char *s;
    size_t l;
    if (gguf_get_string(f, "tokenizer.chat_template", &s, &l) == GGUF_OK && !(t->chat_template = tokd_strdup(s, l)))
        return oom(f, err);
    if (gguf_get_string(f, "general.name", &s, &l) == GGUF_OK && !(t->name = tokd_strdup(s, l)))
        return oom(f, err);
    return 0;
}

/* Per-model attributes llama.cpp sets by name: Phi-3's special tokens
 * strip the spaces on their right, except <unk>, <s>, <|endoftext|>. */
static void apply_name_quirks(struct tokenizer *t)
{
    if (!t->name) return;
    char low[256];
    size_t k = 0;
    for (; t->name[k] && k + 1 < sizeof low; k++) low[k] = (char)((t->name[k] >= 'A' && t->name[k] <= 'Z') ? t->name[k] + 32 : t->name[k]);
    low[k] = 0;
    if (!strstr(low, "phi-3") && !strstr(low, "phi3")) return;
    for (uint32_t i = 0; i < t->m_raw.n_pats; i++) {
        const char *s = tok_text_of(t, t->m_raw.pats[i].id);
        bool off = !strcmp(s, "<unk>") || !strcmp(s, "<s>") || !strcmp(s, "<|endoftext|>");
        if (off) t->m_raw.pats[i].flags &= ~(uint32_t)TOK_ATTR_RSTRIP;
        else t->m_raw.pats[i].flags |= TOK_ATTR_RSTRIP;
    }
}

int tok_load_gguf(const struct gguf_file *f, struct tokenizer **out, inf_error *err)
{
    *out = NULL;
    int mt = TOK_MODEL_BPE;
    if (model_type_of(f, &mt, err)) return -1;
    struct tokenizer *t = tokd_new(mt, TOK_FLAVOR_LLAMA);
    if (!t) return oom(f, err);
    if (read_vocab(f, t, err) || set_model_defaults(f, t, mt, err)) goto fail;
    read_special(f, t, mt);
    if (read_strings(f, t, err) || tokd_finalize(t, err)) goto fail;
    apply_name_quirks(t);
    *out = t;
    return 0;
fail:
    tok_free(t);
    return -1;
}

int tok_load_gguf_path(const char *path, struct tokenizer **out, inf_error *err)
{
    struct gguf_file *f = NULL;
    if (gguf_open(path, &f, err)) return -1;
    int rc = tok_load_gguf(f, out, err);
    gguf_close(f);
    return rc;
}
