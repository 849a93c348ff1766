/* hf_tokenizer_convert.h - a Hugging Face tokenizer (tokenizer.json,
 * tokenizer_config.json, config.json of a directory) as GGUF tokenizer.*
 * metadata, as llama.cpp's convert_hf_to_gguf.py writes it, so that
 * llama.cpp and this library tokenize the converted file as Hugging Face
 * tokenizes the directory.
 *
 * Two families:
 *   - byte-level BPE (Qwen, Llama 3, GPT-2 style): tokenizer.ggml.model
 *     "gpt2", pre "qwen2" or "llama-bpe" detected from the split regex (or
 *     given), tokens in id order with "[PAD<i>]" fillers, token types,
 *     merges as "a b" strings;
 *   - SentencePiece-style BPE (byte_fallback with "▁" spaces: Llama 2,
 *     Mistral, Gemma): tokenizer.ggml.model "llama", pre "default",
 *     scores from the merge ranks (minus the rank of the first merge that
 *     makes a piece), byte tokens <0xNN> typed BYTE,
 *     add_space_prefix from the normaliser's Prepend("▁") or Metaspace.
 * Both: special ids (tokenizer_config.json's <x>_token, else config.json's
 * <x>_token_id), add_bos/add_eos, the chat template (tokenizer_config.json
 * or chat_template.jinja). Other tokenizers are refused with a message.
 * Nothing prints. */
#ifndef INF_OFFLINE_HF_TOKENIZER_CONVERT_H
#define INF_OFFLINE_HF_TOKENIZER_CONVERT_H

#include "base/error.h"

#include "offline/gguf_writer.h"

#include <stddef.h>

/* Appends the pairs to b. n_vocab: the model's vocabulary size (ids the
 * tokenizer lacks below it become "[PAD<i>]"). pre: NULL to detect.
 * Returns 0, or -1 with err naming the file. */
int hf_tokenizer_gguf_kvs(struct gguf_wbuf *b, const char *dir, int n_vocab, const char *pre, inf_error *err);

/* Appends every tokenizer.* pair of the GGUF file at path, as it is.
 * *n_tokens gets its token count. Returns 0, or -1 with err. */
int gguf_tokenizer_copy_kvs(struct gguf_wbuf *b, const char *path, int *n_tokens, inf_error *err);

#endif
