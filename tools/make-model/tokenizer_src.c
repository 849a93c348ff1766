/* tokenizer_src.c - where a made model's vocabulary comes from:
 *   - a directory with tokenizer.json (and tokenizer_config.json,
 *     chat_template.jinja), copied, or pruned to the ids below a limit;
 *   - a GGUF file, whose tokenizer.* keys the GGUF output copies;
 *   - none given: a byte-level BPE of our own (256 byte tokens, merges
 *     learnt here from a fixed text, ChatML special tokens and template).
 *
 * Pruning keeps the ids below the limit, every byte token (the 256
 * byte-level characters, or <0x00>..<0xFF> for byte fallback), the single
 * characters a kept piece of a SentencePiece-style vocabulary is merged
 * from (so that Hugging Face's merges and llama.cpp's score-driven merging
 * still agree),
 * the unknown token and the added tokens except <unusedN> fillers beyond
 * the limit; it renumbers densely in id order, keeps the merges whose parts
 * and result survive, and remaps added-token ids, the post-processor's
 * special-token ids and tokenizer_config's added_tokens_decoder. */
#include "make_model.h"
#include "base/file.h"

#include "base/strmap.h"
#include "formats/gguf.h"
#include "formats/json_file.h"
#include "formats/hf_config.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mm_tokenizer {
    cJSON *tok;                /* tokenizer.json */
    cJSON *cfg;                /* tokenizer_config.json (may be NULL) */
    char *template_file;       /* chat_template.jinja (may be NULL) */
    char *gguf;                /* GGUF source path, else NULL */
    int n_tokens;
    int gguf_bos, gguf_eos, gguf_eot, gguf_pad;
};

void mm_tokenizer_free(struct mm_tokenizer *t)
{
    if (!t) return;
    cJSON_Delete(t->tok);
    cJSON_Delete(t->cfg);
    free(t->template_file);
    free(t->gguf);
    free(t);
}

int mm_tokenizer_n_tokens(const struct mm_tokenizer *t) { return t->n_tokens; }
const char *mm_tokenizer_gguf(const struct mm_tokenizer *t) { return t->gguf; }

/* ---- lookups over tokenizer.json ---- */

static cJSON *model_of(const cJSON *tok) { return cJSON_GetObjectItemCaseSensitive(tok, "model"); }
static cJSON *vocab_of(const cJSON *tok) { return cJSON_GetObjectItemCaseSensitive(model_of(tok), "vocab"); }
static cJSON *added_of(const cJSON *tok) { return cJSON_GetObjectItemCaseSensitive(tok, "added_tokens"); }

static int added_id(const cJSON *tok, const char *text)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, added_of(tok))
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "content");
        if (cJSON_IsString(c) && strcmp(c->valuestring, text) == 0)
            return (int)cJSON_GetObjectItemCaseSensitive(a, "id")->valuedouble;
    }
    return -1;
}

static int token_id(const cJSON *tok, const char *text)
{
    int id = added_id(tok, text);
    if (id >= 0) return id;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(vocab_of(tok), text);
    return cJSON_IsNumber(v) ? (int)v->valuedouble : -1;
}

static const char *special_text(const cJSON *cfg, const char *typ)
{
    char key[32];
    snprintf(key, sizeof key, "%s_token", typ);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsObject(e)) e = cJSON_GetObjectItemCaseSensitive(e, "content");
    return cJSON_IsString(e) ? e->valuestring : NULL;
}

static int special_id(const struct mm_tokenizer *t, const char *typ)
{
    const char *text = special_text(t->cfg, typ);
    return text ? added_id(t->tok, text) : -1;
}

static int max_id(const cJSON *tok)
{
    int n = -1;
    const cJSON *it;
    cJSON_ArrayForEach(it, vocab_of(tok)) if ((int)it->valuedouble > n) n = (int)it->valuedouble;
    cJSON_ArrayForEach(it, added_of(tok))
    {
        int id = (int)cJSON_GetObjectItemCaseSensitive(it, "id")->valuedouble;
        if (id > n) n = id;
    }
    return n;
}

/* ---- special ids for config.json, as the real configs hold them ---- */

static void add_eog(struct mm_spec *s, int id)
{
    if (id < 0 || s->n_eog >= 8) return;
    for (int i = 0; i < s->n_eog; i++)
        if (s->eog[i] == id) return;
    s->eog[s->n_eog++] = id;
}

void mm_tokenizer_special_ids(const struct mm_tokenizer *t, struct mm_spec *s)
{
    s->n_eog = 0;
    if (t->gguf) {
        s->bos = t->gguf_bos;
        s->eos = t->gguf_eos;
        s->pad = t->gguf_pad;
        add_eog(s, t->gguf_eos);
        add_eog(s, t->gguf_eot);
        return;
    }
    static const char *const eog_names[][5] = {
        [MM_LLAMA] = {"<|end_of_text|>", "<|eom_id|>", "<|eot_id|>", "</s>", NULL},
        [MM_QWEN2] = {"<|im_end|>", "<|endoftext|>", NULL},
        [MM_QWEN3] = {"<|im_end|>", "<|endoftext|>", NULL},
        [MM_GEMMA3] = {"<eos>", "<end_of_turn>", NULL},
    };
    s->bos = special_id(t, "bos");
    if (s->bos < 0 && (s->arch == MM_QWEN3 || s->arch == MM_QWEN2)) s->bos = token_id(t->tok, "<|endoftext|>");
    s->eos = special_id(t, "eos");
    s->pad = special_id(t, "pad");
    for (int i = 0; eog_names[s->arch][i]; i++) add_eog(s, token_id(t->tok, eog_names[s->arch][i]));
    const char *eos_text = special_text(t->cfg, "eos");
    if (eos_text) add_eog(s, token_id(t->tok, eos_text));
    if (s->eos < 0 && s->n_eog) s->eos = s->eog[0];
}

/* ---- pruning ---- */

static int map_build(struct strmap *m, const cJSON *vocab)
{
    if (strmap_init(m, (size_t)cJSON_GetArraySize(vocab)) != 0) return -1;
    const cJSON *it;
    cJSON_ArrayForEach(it, vocab) if (strmap_put(m, it->string, (int)it->valuedouble) != 0) return -1;
    return 0;
}

static bool has_type(const cJSON *node, const char *type)
{
    if (!node) return false;
    if (cJSON_IsObject(node)) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(node, "type");
        if (cJSON_IsString(t) && strcmp(t->valuestring, type) == 0) return true;
    }
    for (const cJSON *c = node->child; c; c = c->next)
        if (has_type(c, type)) return true;
    return false;
}

/* GPT-2's printable stand-in (as UTF-8) for byte b. */
static void byte_char(int b, char out[3])
{
    int cp = b;
    if (!((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))) {
        int extra = 0;
        for (int x = 0; x < b; x++)
            if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF))) extra++;
        cp = 256 + extra;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        out[1] = 0;
    } else {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        out[2] = 0;
    }
}

static bool is_single_char(const char *s)
{
    size_t n = strlen(s);
    if (n == 0) return false;
    unsigned char c = (unsigned char)s[0];
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    return n == len;
}

static bool is_unused_filler(const char *s)
{
    if (strncmp(s, "<unused", 7) != 0) return false;
    const char *p = s + 7;
    if (!isdigit((unsigned char)*p)) return false;
    while (isdigit((unsigned char)*p)) p++;
    return strcmp(p, ">") == 0;
}

static void keep_text(const struct strmap *m, const char *text, int n, bool *keep)
{
    int id = strmap_get(m, text);
    if (id >= 0 && id < n) keep[id] = true;
}

static void merge_parts(const cJSON *m, char *a, char *b, size_t size);

/* A SentencePiece-style vocabulary merges any two pieces whose join is a
 * piece; Hugging Face's needs the merge listed. Keeping the single
 * characters that start or end a kept piece's merge makes both reach the
 * same pieces after pruning. */
static void keep_merge_chars(const cJSON *merges, const struct strmap *m, int n, bool *keep)
{
    char a[512], b[512], ab[1024];
    const cJSON *it;
    cJSON_ArrayForEach(it, merges)
    {
        merge_parts(it, a, b, sizeof a);
        snprintf(ab, sizeof ab, "%s%s", a, b);
        int ia = strmap_get(m, a), ib = strmap_get(m, b), iab = strmap_get(m, ab);
        if (iab < 0 || iab >= n || !keep[iab] || ia < 0 || ib < 0 || ia >= n || ib >= n) continue;
        if (!keep[ia] && is_single_char(a)) keep[ia] = true;
        if (!keep[ib] && is_single_char(b)) keep[ib] = true;
    }
}

static void mark_kept(const cJSON *tok, const struct strmap *map, int limit, int n, bool *keep)
{
    const cJSON *model = model_of(tok), *vocab = vocab_of(tok), *it;
    bool byte_level = has_type(cJSON_GetObjectItemCaseSensitive(tok, "pre_tokenizer"), "ByteLevel") ||
                      has_type(cJSON_GetObjectItemCaseSensitive(tok, "decoder"), "ByteLevel");
    bool fallback = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "byte_fallback"));
    cJSON_ArrayForEach(it, vocab)
    {
        int id = (int)it->valuedouble;
        if (id >= 0 && id < n && id < limit) keep[id] = true;
    }
    for (int b = 0; b < 256; b++) {
        char text[8];
        if (byte_level) {
            byte_char(b, text);
            keep_text(map, text, n, keep);
        }
        if (fallback) {
            snprintf(text, sizeof text, "<0x%02X>", b);
            keep_text(map, text, n, keep);
        }
    }
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
    if (cJSON_IsString(unk)) keep_text(map, unk->valuestring, n, keep);
    cJSON_ArrayForEach(it, added_of(tok))
    {
        int id = (int)cJSON_GetObjectItemCaseSensitive(it, "id")->valuedouble;
        const char *c = cJSON_GetObjectItemCaseSensitive(it, "content")->valuestring;
        if (id >= 0 && id < n && (id < limit || !is_unused_filler(c))) keep[id] = true;
    }
    if (fallback && !byte_level) keep_merge_chars(cJSON_GetObjectItemCaseSensitive(model, "merges"), map, n, keep);
}

static void merge_parts(const cJSON *m, char *a, char *b, size_t size)
{
    a[0] = b[0] = 0;
    if (cJSON_IsString(m)) {
        const char *sp = strchr(m->valuestring, ' ');
        if (!sp) return;
        snprintf(a, size, "%.*s", (int)(sp - m->valuestring), m->valuestring);
        snprintf(b, size, "%s", sp + 1);
    } else if (cJSON_GetArraySize(m) == 2 && cJSON_IsString(m->child) && cJSON_IsString(m->child->next)) {
        snprintf(a, size, "%s", m->child->valuestring);
        snprintf(b, size, "%s", m->child->next->valuestring);
    }
}

static void prune_merges(cJSON *model, const struct strmap *map, const int *remap, int n)
{
    cJSON *merges = cJSON_DetachItemFromObjectCaseSensitive(model, "merges");
    cJSON *kept = cJSON_CreateArray();
    char a[512], b[512], ab[1024];
    cJSON *m = merges ? merges->child : NULL;
    while (m) {
        cJSON *next = m->next;
        merge_parts(m, a, b, sizeof a);
        snprintf(ab, sizeof ab, "%s%s", a, b);
        int ia = strmap_get(map, a), ib = strmap_get(map, b), iab = strmap_get(map, ab);
        bool alive = a[0] && ia >= 0 && ib >= 0 && iab >= 0 && ia < n && ib < n && iab < n && remap[ia] >= 0 &&
                     remap[ib] >= 0 && remap[iab] >= 0;
        if (alive) cJSON_AddItemToArray(kept, cJSON_DetachItemViaPointer(merges, m));
        m = next;
    }
    cJSON_Delete(merges);
    cJSON_AddItemToObject(model, "merges", kept);
}

/* Every "ids" list under a post-processor's "special_tokens" remapped. */
static void remap_post(cJSON *node, const int *remap, int n)
{
    if (!node) return;
    cJSON *st = cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, "special_tokens") : NULL;
    if (cJSON_IsObject(st)) {
        cJSON *e;
        cJSON_ArrayForEach(e, st)
        {
            cJSON *ids = cJSON_GetObjectItemCaseSensitive(e, "ids"), *fresh = cJSON_CreateArray(), *id;
            cJSON_ArrayForEach(id, ids)
            {
                int v = (int)id->valuedouble;
                if (v >= 0 && v < n && remap[v] >= 0) cJSON_AddItemToArray(fresh, cJSON_CreateNumber(remap[v]));
            }
            cJSON_ReplaceItemInObjectCaseSensitive(e, "ids", fresh);
        }
    }
    for (cJSON *c = node->child; c; c = c->next) remap_post(c, remap, n);
}

static int cmp_by_value(const void *x, const void *y)
{
    double a = (*(cJSON *const *)x)->valuedouble, b = (*(cJSON *const *)y)->valuedouble;
    return a < b ? -1 : a > b;
}

static void rebuild_vocab(cJSON *model, const int *remap, int n)
{
    cJSON *vocab = cJSON_DetachItemFromObjectCaseSensitive(model, "vocab");
    int count = cJSON_GetArraySize(vocab), k = 0;
    cJSON **items = malloc((size_t)(count ? count : 1) * sizeof *items);
    cJSON *fresh = cJSON_CreateObject();
    for (cJSON *it = vocab ? vocab->child : NULL; it && items; it = it->next) items[k++] = it;
    if (items) qsort(items, (size_t)k, sizeof *items, cmp_by_value);
    for (int i = 0; i < k; i++) {
        int id = (int)items[i]->valuedouble;
        if (id >= 0 && id < n && remap[id] >= 0) cJSON_AddNumberToObject(fresh, items[i]->string, remap[id]);
    }
    free(items);
    cJSON_Delete(vocab);
    cJSON_AddItemToObject(model, "vocab", fresh);
}

static void remap_added(cJSON *tok, const int *remap, int n)
{
    cJSON *added = added_of(tok), *a = added ? added->child : NULL;
    while (a) {
        cJSON *next = a->next;
        int id = (int)cJSON_GetObjectItemCaseSensitive(a, "id")->valuedouble;
        if (id >= 0 && id < n && remap[id] >= 0) cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "id"), remap[id]);
        else cJSON_Delete(cJSON_DetachItemViaPointer(added, a));
        a = next;
    }
}

static void remap_decoder_map(cJSON *cfg, const int *remap, int n)
{
    cJSON *dec = cJSON_DetachItemFromObjectCaseSensitive(cfg, "added_tokens_decoder");
    if (!dec) return;
    cJSON *fresh = cJSON_CreateObject();
    cJSON *e = dec->child;
    while (e) {
        cJSON *next = e->next;
        int id = atoi(e->string);
        if (id >= 0 && id < n && remap[id] >= 0) {
            char key[16];
            snprintf(key, sizeof key, "%d", remap[id]);
            cJSON_AddItemToObject(fresh, key, cJSON_DetachItemViaPointer(dec, e));
        }
        e = next;
    }
    cJSON_Delete(dec);
    cJSON_AddItemToObject(cfg, "added_tokens_decoder", fresh);
}

static int prune(struct mm_tokenizer *t, int limit, inf_error *err)
{
    int n = max_id(t->tok) + 1;
    if (limit <= 0 || limit >= n) return 0;
    struct strmap map = {0};
    bool *keep = calloc((size_t)n, sizeof *keep);
    int *remap = malloc((size_t)n * sizeof *remap);
    if (!keep || !remap || map_build(&map, vocab_of(t->tok)) != 0) {
        free(keep), free(remap), strmap_free(&map);
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        return -1;
    }
    mark_kept(t->tok, &map, limit, n, keep);
    for (int i = 0, k = 0; i < n; i++) remap[i] = keep[i] ? k++ : -1;
    cJSON *model = model_of(t->tok);
    prune_merges(model, &map, remap, n);
    strmap_free(&map); /* its keys point into the old vocabulary */
    rebuild_vocab(model, remap, n);
    remap_added(t->tok, remap, n);
    remap_post(cJSON_GetObjectItemCaseSensitive(t->tok, "post_processor"), remap, n);
    if (t->cfg) remap_decoder_map(t->cfg, remap, n);
    free(keep);
    free(remap);
    return 0;
}

/* ---- the built-in tokenizer ---- */

/* The text the built-in merges are learnt from (ours). */
static const char TRAINING_TEXT[] =
    "Once upon a time there was a little robot who lived in a quiet town by the sea. Every morning the robot "
    "walked to the harbour and counted the boats. One day it found a small bird with a broken wing. The robot "
    "took the bird home, made it a bed in a box and gave it water. The bird and the robot became friends, and "
    "when the wing was well again they went to the harbour together to watch the boats come in. "
    "The library reads a model file, runs the forward pass and samples the next token from the logits. "
    "A token is a piece of text; the tokenizer turns text into tokens and tokens back into text. "
    "def add(a, b):\n    return a + b\n\nfor i in range(10):\n    print(i, add(i, i))\n"
    "The capital of France is Paris. The capital of Italy is Rome. Numbers: 0 1 2 3 4 5 6 7 8 9 10 42 100 2026. "
    "What is the weather like today? It is sunny and warm, with a light wind from the west. "
    "She said that they would come back in the evening, after the market had closed.";

#define BUILTIN_MERGES 320

/* Words: a run of letters (with the space before it), digits or other
 * characters; the text is already byte-level (one char per byte here,
 * ASCII only). */
struct bpe_word {
    char **sym;
    int n, freq;
};

static int split_words(const char *text, struct bpe_word *w, int max)
{
    int n = 0;
    for (const char *p = text; *p && n < max;) {
        const char *start = p;
        if (*p == ' ') p++;
        if (isalpha((unsigned char)*p)) while (isalpha((unsigned char)*p)) p++;
        else if (isdigit((unsigned char)*p)) p++;
        else if (*p) p++;
        int len = (int)(p - start);
        int found = -1;
        for (int i = 0; i < n && found < 0; i++) {
            int wl = 0;
            for (int s = 0; s < w[i].n; s++) wl += (int)strlen(w[i].sym[s]);
            if (wl != len) continue;
            char buf[64];
            buf[0] = 0;
            for (int s = 0; s < w[i].n; s++) strncat(buf, w[i].sym[s], sizeof buf - strlen(buf) - 1);
            if (len < 64 && strncmp(buf, start, (size_t)len) == 0) found = i;
        }
        if (found >= 0) {
            w[found].freq++;
            continue;
        }
        if (len >= 63) continue;
        w[n].sym = calloc((size_t)len, sizeof *w[n].sym);
        w[n].n = len;
        w[n].freq = 1;
        for (int i = 0; i < len; i++) {
            w[n].sym[i] = malloc(2);
            w[n].sym[i][0] = start[i];
            w[n].sym[i][1] = 0;
        }
        n++;
    }
    return n;
}

/* The most frequent adjacent pair (ties: the smaller a, then b), counted
 * in a small open-addressing table. */
#define PAIR_SLOTS 8192
struct pair_count {
    const char *a, *b;
    int count;
};

static uint64_t pair_hash(const char *a, const char *b)
{
    uint64_t h = UINT64_C(0xCBF29CE484222325);
    for (const char *p = a; *p; p++) h = (h ^ (unsigned char)*p) * UINT64_C(0x100000001B3);
    h = (h ^ 1) * UINT64_C(0x100000001B3);
    for (const char *p = b; *p; p++) h = (h ^ (unsigned char)*p) * UINT64_C(0x100000001B3);
    return h;
}

static bool best_pair(struct bpe_word *w, int nw, char *a, char *b, size_t size)
{
    static struct pair_count slot[PAIR_SLOTS];
    memset(slot, 0, sizeof slot);
    for (int i = 0; i < nw; i++)
        for (int s = 0; s + 1 < w[i].n; s++) {
            const char *x = w[i].sym[s], *y = w[i].sym[s + 1];
            uint64_t h = pair_hash(x, y) % PAIR_SLOTS;
            while (slot[h].a && (strcmp(slot[h].a, x) != 0 || strcmp(slot[h].b, y) != 0)) h = (h + 1) % PAIR_SLOTS;
            slot[h].a = x;
            slot[h].b = y;
            slot[h].count += w[i].freq;
        }
    const struct pair_count *best = NULL;
    for (int h = 0; h < PAIR_SLOTS; h++) {
        const struct pair_count *p = &slot[h];
        if (!p->a || p->count < 2) continue;
        int c = best ? strcmp(p->a, best->a) : 0;
        if (!best || p->count > best->count ||
            (p->count == best->count && (c < 0 || (c == 0 && strcmp(p->b, best->b) < 0))))
            best = p;
    }
    if (!best) return false;
    snprintf(a, size, "%s", best->a);
    snprintf(b, size, "%s", best->b);
    return true;
}

static void apply_merge(struct bpe_word *w, int nw, const char *a, const char *b)
{
    for (int i = 0; i < nw; i++)
        for (int s = 0; s + 1 < w[i].n; s++) {
            if (strcmp(w[i].sym[s], a) != 0 || strcmp(w[i].sym[s + 1], b) != 0) continue;
            char *joined = malloc(strlen(a) + strlen(b) + 1);
            strcpy(joined, a);
            strcat(joined, b);
            free(w[i].sym[s]);
            free(w[i].sym[s + 1]);
            w[i].sym[s] = joined;
            memmove(&w[i].sym[s + 1], &w[i].sym[s + 2], (size_t)(w[i].n - s - 2) * sizeof *w[i].sym);
            w[i].n--;
        }
}

static const char BUILTIN_TEMPLATE[] =
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

static const char *const BUILTIN_SPECIALS[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>",
                                               "</think>", "<tool_call>", "</tool_call>"};

static cJSON *builtin_model(void)
{
    cJSON *model = cJSON_CreateObject();
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddNullToObject(model, "dropout");
    cJSON_AddNullToObject(model, "unk_token");
    cJSON_AddStringToObject(model, "continuing_subword_prefix", "");
    cJSON_AddStringToObject(model, "end_of_word_suffix", "");
    cJSON_AddFalseToObject(model, "fuse_unk");
    cJSON_AddFalseToObject(model, "byte_fallback");
    cJSON_AddFalseToObject(model, "ignore_merges");
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
    cJSON *merges = cJSON_AddArrayToObject(model, "merges");
    for (int b = 0; b < 256; b++) {
        char c[3];
        byte_char(b, c);
        cJSON_AddNumberToObject(vocab, c, b);
    }
    /* words over the ASCII text, then each symbol in its byte-level form
     * (the space before a word becomes U+0120) */
    static struct bpe_word words[1024];
    int nw = split_words(TRAINING_TEXT, words, 1024);
    for (int i = 0; i < nw; i++)
        for (int s = 0; s < words[i].n; s++) {
            char c[3];
            byte_char((unsigned char)words[i].sym[s][0], c);
            free(words[i].sym[s]);
            words[i].sym[s] = strdup(c);
        }
    int next = 256;
    for (int m = 0; m < BUILTIN_MERGES; m++) {
        char a[128] = "", b[128] = "";
        if (!best_pair(words, nw, a, b, sizeof a)) break;
        apply_merge(words, nw, a, b);
        char ab[256];
        snprintf(ab, sizeof ab, "%s%s", a, b);
        if (!cJSON_GetObjectItemCaseSensitive(vocab, ab)) cJSON_AddNumberToObject(vocab, ab, next++);
        const char *pair[2] = {a, b};
        cJSON_AddItemToArray(merges, cJSON_CreateStringArray(pair, 2));
    }
    for (int i = 0; i < nw; i++) {
        for (int s = 0; s < words[i].n; s++) free(words[i].sym[s]);
        free(words[i].sym);
    }
    return model;
}

static cJSON *builtin_tokenizer_json(void)
{
    const char *json_rest =
        "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":"
        "\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}| ?[^\\\\s\\\\p{L}\\\\p{N}]+"
        "[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"},\"behavior\":\"Isolated\",\"invert\":false},"
        "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":false,\"use_regex\":false}]}";
    const char *bytelevel = "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":false,\"use_regex\":false}";
    cJSON *tok = cJSON_CreateObject();
    cJSON_AddStringToObject(tok, "version", "1.0");
    cJSON_AddNullToObject(tok, "truncation");
    cJSON_AddNullToObject(tok, "padding");
    cJSON *model = builtin_model();
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(model, "vocab"));
    cJSON *added = cJSON_AddArrayToObject(tok, "added_tokens");
    for (size_t i = 0; i < sizeof BUILTIN_SPECIALS / sizeof BUILTIN_SPECIALS[0]; i++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "id", n + (int)i);
        cJSON_AddStringToObject(a, "content", BUILTIN_SPECIALS[i]);
        cJSON_AddFalseToObject(a, "single_word");
        cJSON_AddFalseToObject(a, "lstrip");
        cJSON_AddFalseToObject(a, "rstrip");
        cJSON_AddFalseToObject(a, "normalized");
        cJSON_AddBoolToObject(a, "special", i < 3);
        cJSON_AddItemToArray(added, a);
    }
    cJSON_AddNullToObject(tok, "normalizer");
    cJSON_AddItemToObject(tok, "pre_tokenizer", cJSON_Parse(json_rest));
    cJSON_AddItemToObject(tok, "post_processor", cJSON_Parse(bytelevel));
    cJSON_AddItemToObject(tok, "decoder", cJSON_Parse(bytelevel));
    cJSON_AddItemToObject(tok, "model", model);
    return tok;
}

static cJSON *builtin_config(void)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddFalseToObject(c, "add_bos_token");
    cJSON_AddFalseToObject(c, "add_eos_token");
    cJSON_AddStringToObject(c, "bos_token", "<|endoftext|>");
    cJSON_AddStringToObject(c, "eos_token", "<|im_end|>");
    cJSON_AddStringToObject(c, "pad_token", "<|endoftext|>");
    cJSON_AddNullToObject(c, "unk_token");
    cJSON_AddStringToObject(c, "chat_template", BUILTIN_TEMPLATE);
    cJSON_AddNumberToObject(c, "model_max_length", 2048);
    cJSON_AddStringToObject(c, "tokenizer_class", "PreTrainedTokenizerFast");
    return c;
}

/* ---- loading and saving ---- */

static cJSON *read_json(const char *dir, const char *file, bool required, inf_error *err)
{
    return json_read_file(dir, file, 512u << 20, required, err);
}

static bool valid_ids(const cJSON *tok)
{
    const cJSON *it;
    if (!cJSON_IsObject(vocab_of(tok))) return false;
    cJSON_ArrayForEach(it, vocab_of(tok)) if (!cJSON_IsNumber(it) || it->valuedouble < 0) return false;
    cJSON_ArrayForEach(it, added_of(tok))
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "content")))
            return false;
    }
    return true;
}

static int load_gguf_source(struct mm_tokenizer *t, const char *path, inf_error *err)
{
    struct gguf_file *f;
    if (gguf_open(path, &f, err) != 0) return -1;
    struct gguf_array toks;
    int rc = 0;
    if (gguf_get_array(f, "tokenizer.ggml.tokens", &toks) != GGUF_OK || toks.n == 0) {
        err_fail(err, INF_ERR_FORMAT, "%s: no tokenizer.ggml.tokens", path);
        rc = -1;
    } else {
        t->n_tokens = (int)toks.n;
        uint32_t v;
        t->gguf_bos = gguf_get_u32(f, "tokenizer.ggml.bos_token_id", &v) == GGUF_OK ? (int)v : -1;
        t->gguf_eos = gguf_get_u32(f, "tokenizer.ggml.eos_token_id", &v) == GGUF_OK ? (int)v : -1;
        t->gguf_eot = gguf_get_u32(f, "tokenizer.ggml.eot_token_id", &v) == GGUF_OK ? (int)v : -1;
        t->gguf_pad = gguf_get_u32(f, "tokenizer.ggml.padding_token_id", &v) == GGUF_OK ? (int)v : -1;
        t->gguf = strdup(path);
    }
    gguf_close(f);
    return rc;
}

static int load_dir_source(struct mm_tokenizer *t, const char *dir, int vocab_limit, inf_error *err)
{
    t->tok = read_json(dir, "tokenizer.json", true, err);
    if (!t->tok) return -1;
    if (!valid_ids(t->tok)) {
        err_fail(err, INF_ERR_FORMAT, "%s/tokenizer.json: model.vocab or added_tokens lacks valid ids", dir);
        return -1;
    }
    t->cfg = read_json(dir, "tokenizer_config.json", false, err);
    char path[4200];
    snprintf(path, sizeof path, "%s/chat_template.jinja", dir);
    FILE *fp = fopen(path, "rb");
    if (fp) {
        fclose(fp);
        size_t len;
        t->template_file = file_read_all(path, 16u << 20, &len, err);
    }
    if (prune(t, vocab_limit, err) != 0) return -1;
    t->n_tokens = max_id(t->tok) + 1;
    return 0;
}

struct mm_tokenizer *mm_tokenizer_load(const char *source, int vocab_limit, inf_error *err)
{
    struct mm_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    size_t len = source ? strlen(source) : 0;
    int rc;
    if (!source) {
        t->tok = builtin_tokenizer_json();
        t->cfg = builtin_config();
        rc = prune(t, vocab_limit, err);
        t->n_tokens = max_id(t->tok) + 1;
    } else if (len > 5 && strcmp(source + len - 5, ".gguf") == 0) {
        rc = load_gguf_source(t, source, err);
        if (rc == 0 && vocab_limit > 0) {
            err_fail(err, INF_ERR_FORMAT, "--vocab-limit applies to tokenizer.json sources, not to %s", source);
            rc = -1;
        }
    } else {
        rc = load_dir_source(t, source, vocab_limit, err);
    }
    if (rc != 0) {
        mm_tokenizer_free(t);
        return NULL;
    }
    return t;
}

static int write_text(const char *dir, const char *file, const char *text, inf_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *fp = fopen(path, "wb");
    size_t n = strlen(text);
    int rc = fp && fwrite(text, 1, n, fp) == n ? 0 : -1;
    if (fp && fclose(fp) != 0) rc = -1;
    if (rc) err_fail(err, INF_ERR_IO, "%s: cannot write", path);
    return rc;
}

static int write_json(const char *dir, const char *file, const cJSON *j, inf_error *err)
{
    char *text = cJSON_PrintUnformatted(j);
    if (!text) {
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory writing %s", file);
        return -1;
    }
    int rc = write_text(dir, file, text, err);
    cJSON_free(text);
    return rc;
}

int mm_tokenizer_save(const struct mm_tokenizer *t, const char *dir, inf_error *err)
{
    if (t->gguf) return 0;
    if (write_json(dir, "tokenizer.json", t->tok, err) != 0) return -1;
    if (t->cfg && write_json(dir, "tokenizer_config.json", t->cfg, err) != 0) return -1;
    if (t->template_file && write_text(dir, "chat_template.jinja", t->template_file, err) != 0) return -1;
    return 0;
}
