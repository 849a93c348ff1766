/* tokenizer.h - text <-> token ids, byte-exact with llama.cpp (GGUF vocabs)
 * and Hugging Face tokenizers (tokenizer.json).
 *
 * Two loaders fill one neutral description (struct tok_desc, see
 * tokenizer_impl.h) and share all the algorithm code:
 *   - tok_load_gguf(): the tokenizer.ggml.* metadata of a GGUF file, with
 *     llama.cpp's semantics (SPM "llama", BPE "gpt2" with the pre-tokenizer
 *     chosen by tokenizer.ggml.pre, WordPiece "bert").
 *   - tok_load_hf_json() / tok_load_hf_dir(): a Hugging Face tokenizer.json
 *     (+ tokenizer_config.json), with the semantics of the tokenizers crate.
 *     Unsupported components fail to load with an error naming them.
 *
 * Threads: a loaded tokenizer is immutable; any number of threads may call
 * every function here on the same tokenizer at once. Scratch state lives on
 * the heap of each call or in thread-local storage (PCRE2 match data and JIT
 * stack, a 4096-entry BPE word cache tagged with the tokenizer's serial),
 * freed when the thread exits. No locks.
 *
 * Invalid UTF-8 input is never read out of bounds. GGUF tokenizers treat it
 * as llama.cpp does (each bad byte becomes U+FFFD for the regex/BPE path; the
 * SPM path byte-falls-back the raw bytes). Hugging Face tokenizers first
 * decode the input the way a Rust/JS caller would (String::from_utf8_lossy:
 * each maximal invalid subpart becomes one U+FFFD). */
#ifndef INF_TEXT_TOKENIZER_H
#define INF_TEXT_TOKENIZER_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gguf_file;
struct tokenizer;

/* Token attributes (bit mask, as llama.cpp's llama_token_attr). */
enum {
    TOK_ATTR_UNDEFINED    = 0,
    TOK_ATTR_UNKNOWN      = 1 << 0,
    TOK_ATTR_UNUSED       = 1 << 1,
    TOK_ATTR_NORMAL       = 1 << 2,
    TOK_ATTR_CONTROL      = 1 << 3, /* special: BOS, EOS, <|im_start|>, ... */
    TOK_ATTR_USER_DEFINED = 1 << 4, /* added, non-special: always matched */
    TOK_ATTR_BYTE         = 1 << 5, /* <0xXX> byte fallback */
    TOK_ATTR_NORMALIZED   = 1 << 6,
    TOK_ATTR_LSTRIP       = 1 << 7,
    TOK_ATTR_RSTRIP       = 1 << 8,
    TOK_ATTR_SINGLE_WORD  = 1 << 9,
};

/* tok_encode flags. */
enum {
    /* Add BOS/EOS as the model asks: GGUF add_bos/add_eos flags, or the
     * tokenizer.json post-processor (TemplateProcessing, Bert, Roberta). */
    TOK_ADD_SPECIAL   = 1 << 0,
    /* Recognise the text of special (control) tokens such as <|im_start|>
     * as single tokens. Without it such text is tokenized as plain text, so
     * user input cannot inject control tokens. Non-special added tokens
     * (user-defined) are always recognised, as in llama.cpp and HF. */
    TOK_PARSE_SPECIAL = 1 << 1,
};

/* tok_decode / tok_token_to_piece flags. */
enum {
    /* Drop special tokens (control/unknown; HF: added tokens marked special)
     * instead of rendering their text. */
    TOK_DECODE_SKIP_SPECIAL = 1 << 0,
};

/* ---- loading ---- */

/* From a GGUF file's tokenizer.ggml.* metadata (the file may be released
 * after this returns: everything needed is copied). 0 on success, -1 with a
 * message in err. */
int tok_load_gguf(const struct gguf_file *f, struct tokenizer **out, inf_error *err);
/* Convenience: open path, load, close. */
int tok_load_gguf_path(const char *path, struct tokenizer **out, inf_error *err);

/* From the text of tokenizer.json and (optionally, may be NULL) of
 * tokenizer_config.json. */
int tok_load_hf_json(const char *json, size_t len, const char *config_json, size_t config_len,
                     struct tokenizer **out, inf_error *err);
/* From a directory holding tokenizer.json [+ tokenizer_config.json]
 * [+ generation_config.json, whose eos_token_id adds end-of-generation ids]. */
int tok_load_hf_dir(const char *dir, struct tokenizer **out, inf_error *err);

void tok_free(struct tokenizer *tok);

/* ---- encoding ---- */

/* Tokenizes text[0..len) (need not be NUL-terminated; may contain NULs or
 * invalid UTF-8). *ids is malloc'd (free() it), *n its length; *ids may be
 * NULL when *n is 0. 0 on success, -1 with a message (out of memory). */
int tok_encode(const struct tokenizer *tok, const char *text, size_t len, int flags,
               int32_t **ids, size_t *n, inf_error *err);

/* ---- decoding ---- */

/* Whole sequence to text, with the model's decoder (HF: the decoder chain,
 * e.g. Strip of the leading space; GGUF: llama.cpp's detokenize, i.e. the
 * SPM leading space removal and, with SKIP_SPECIAL, BOS/EOS removal).
 * Returns a malloc'd NUL-terminated string (its length in *out_len when not
 * NULL), or NULL on error. Unknown ids are skipped. */
char *tok_decode(const struct tokenizer *tok, const int32_t *ids, size_t n, int flags, size_t *out_len);

/* The bytes of one token as they appear in the middle of a sequence (no
 * start-of-text space stripping): byte-level tokens map to their raw bytes,
 * <0xXX> to one byte, U+2581 to a space. May be an incomplete UTF-8
 * sequence: feed it through tok_utf8_stream. Writes up to cap bytes to buf
 * and returns the full length (>cap: truncated; call again with a bigger
 * buffer); 0 for special tokens with SKIP_SPECIAL, -1 for a bad id. */
int tok_token_to_piece(const struct tokenizer *tok, int32_t id, int flags, char *buf, size_t cap);

/* Streaming UTF-8 helper: holds back an incomplete trailing UTF-8 sequence
 * until it completes. Bytes that can never start or continue a valid
 * sequence are passed through as U+FFFD (replace_invalid) or as is. */
struct tok_utf8_stream {
    unsigned char pending[4];
    int n_pending;
    bool replace_invalid;
};
void tok_utf8_stream_init(struct tok_utf8_stream *s, bool replace_invalid);
/* Appends in[0..n) and writes the now-complete text to out. Output is at
 * most 3 * (n + 3) bytes (every byte invalid, each becoming U+FFFD). Returns
 * bytes written, or -1 when cap is too small (nothing is consumed then). */
int tok_utf8_stream_push(struct tok_utf8_stream *s, const char *in, size_t n, char *out, size_t cap);
/* End of stream: writes whatever is held back (as U+FFFD per invalid
 * subpart when replace_invalid, else raw). cap >= 9. Returns bytes, -1 when
 * cap is too small. */
int tok_utf8_stream_flush(struct tok_utf8_stream *s, char *out, size_t cap);

/* ---- vocabulary facts ---- */

int32_t tok_n_vocab(const struct tokenizer *tok);
/* -1 when the model has none. */
int32_t tok_bos(const struct tokenizer *tok);
int32_t tok_eos(const struct tokenizer *tok);
int32_t tok_eot(const struct tokenizer *tok);
int32_t tok_pad(const struct tokenizer *tok);
int32_t tok_unk(const struct tokenizer *tok);
/* Whether TOK_ADD_SPECIAL adds a BOS / an EOS. */
bool tok_add_bos(const struct tokenizer *tok);
bool tok_add_eos(const struct tokenizer *tok);
/* End of generation: EOS, EOT, <|im_end|>, <end_of_turn>, <|eot_id|>, ...
 * decided from the vocabulary as llama.cpp does. */
bool tok_is_eog(const struct tokenizer *tok, int32_t id);
/* All end-of-generation ids (sorted); *n set to the count. */
const int32_t *tok_eog_ids(const struct tokenizer *tok, size_t *n);
bool tok_is_special(const struct tokenizer *tok, int32_t id); /* control/unknown */
uint32_t tok_token_attr(const struct tokenizer *tok, int32_t id);
/* The raw vocabulary string of id (NUL-terminated; "" for a hole), NULL
 * when id is out of range. len (may be NULL) gets its byte length. */
const char *tok_token_text(const struct tokenizer *tok, int32_t id, size_t *len);
/* Exact vocabulary lookup, -1 when absent. */
int32_t tok_id_of(const struct tokenizer *tok, const char *text, size_t len);
/* Chat template: GGUF tokenizer.chat_template, or tokenizer_config.json
 * chat_template (a string, or a list of {name, template}: "default"
 * wins, else the first). NULL when absent. */
const char *tok_chat_template(const struct tokenizer *tok);
/* Text of BOS/EOS for templates ("" when none). */
const char *tok_bos_text(const struct tokenizer *tok);
const char *tok_eos_text(const struct tokenizer *tok);
/* "spm", "bpe" or "wpm"; and where it came from: "gguf" or "hf". */
const char *tok_model_name(const struct tokenizer *tok);
const char *tok_source_name(const struct tokenizer *tok);

#ifdef __cplusplus
}
#endif
#endif
