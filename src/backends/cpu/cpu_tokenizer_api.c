/* tokenizer_api.c - the public tokenizer-only API (inf_tokenizer_*): a thin
 * layer over the engine's tokenizer (src/text/tokenizer.h), so that programs
 * can tokenize without loading weights. */
#include "inference.h"
#include "base/error.h"

#include "text/tokenizer.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct inf_tokenizer {
    struct tokenizer *tok;
};

inf_tokenizer *inf_tokenizer_load(const char *path, inf_error *err)
{
    inf_error_clear(err);
    if (!path || !path[0]) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "tokenizer: path is empty");
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        inf_error_set(err, INF_ERR_NOT_FOUND, "tokenizer: %s: no such file or directory", path);
        return NULL;
    }
    inf_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "tokenizer: out of memory");
        return NULL;
    }
    int rc = S_ISDIR(st.st_mode) ? tok_load_hf_dir(path, &t->tok, err) : tok_load_gguf_path(path, &t->tok, err);
    if (rc != 0) {
        err_prefix(err, "tokenizer");
        free(t);
        return NULL;
    }
    return t;
}

void inf_tokenizer_free(inf_tokenizer *t)
{
    if (!t) return;
    tok_free(t->tok);
    free(t);
}

inf_status inf_tokenizer_encode(const inf_tokenizer *t, const char *text, size_t len, unsigned flags, int32_t **ids,
                                size_t *n_ids, inf_error *err)
{
    inf_error_clear(err);
    if (!t || (!text && len) || !ids || !n_ids) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "tokenize: NULL argument");
        return INF_ERR_INVALID_ARGUMENT;
    }
    int tf = ((flags & INF_TOKENIZE_ADD_SPECIAL) ? TOK_ADD_SPECIAL : 0) |
             ((flags & INF_TOKENIZE_PARSE_SPECIAL) ? TOK_PARSE_SPECIAL : 0);
    if (tok_encode(t->tok, text ? text : "", len, tf, ids, n_ids, err) != 0) {
        err_prefix(err, "tokenize");
        return err_status(err);
    }
    return INF_OK;
}

inf_status inf_tokenizer_decode(const inf_tokenizer *t, const int32_t *ids, size_t n_ids, bool keep_special,
                                char **text, inf_error *err)
{
    inf_error_clear(err);
    if (!t || (!ids && n_ids) || !text) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "detokenize: NULL argument");
        return INF_ERR_INVALID_ARGUMENT;
    }
    *text = tok_decode(t->tok, ids, n_ids, keep_special ? 0 : TOK_DECODE_SKIP_SPECIAL, NULL);
    if (!*text) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "detokenize: out of memory");
        return INF_ERR_NO_MEMORY;
    }
    return INF_OK;
}

int inf_tokenizer_piece(const inf_tokenizer *t, int32_t id, char *buf, size_t cap)
{
    if (!t) return -1;
    int len = tok_token_to_piece(t->tok, id, 0, buf, cap);
    if (len < 0) return -1;
    if (cap) buf[(size_t)len < cap ? (size_t)len : cap - 1] = '\0';
    return len;
}

int32_t inf_tokenizer_vocab_size(const inf_tokenizer *t) { return t ? tok_n_vocab(t->tok) : 0; }
int32_t inf_tokenizer_bos(const inf_tokenizer *t) { return t ? tok_bos(t->tok) : -1; }
int32_t inf_tokenizer_eos(const inf_tokenizer *t) { return t ? tok_eos(t->tok) : -1; }
const char *inf_tokenizer_chat_template(const inf_tokenizer *t) { return t ? tok_chat_template(t->tok) : NULL; }
