/*
 * inference.h - the libinference contract: load a language model, stream
 * tokens from it, classify and batch-generate, behind one small C API.
 *
 * This is the only public header. It has two audiences:
 *
 *   Consumers   load a model (inf_load_model), pull tokens from a stream
 *               (inf_generate / inf_chat, then inf_stream_next until it
 *               returns false, then inf_stream_status, then inf_stream_free),
 *               classify (inf_classify), batch-generate (inf_batch_generate),
 *               and close the model (inf_model_close).
 *
 *   Backends    fill an inf_backend_desc and an inf_model_ops table and
 *               register them (inf_register_backend), either compiled in or
 *               from a plug-in shared object (see "Plug-ins" below).
 *
 * A minimal consumer:
 *
 *     inf_error err;
 *     inf_model *m = inf_load_model("stories260K.gguf", NULL, &err);
 *     if (!m) { fprintf(stderr, "%s\n", err.message); return 1; }
 *     inf_stream *s = inf_generate(m, "Once upon a time", NULL, NULL);
 *     inf_token tok;
 *     while (inf_stream_next(s, &tok)) fputs(tok.text, stdout);
 *     if (inf_stream_status(s) != INF_OK) fprintf(stderr, "%s\n", inf_stream_error(s));
 *     inf_stream_free(s);
 *     inf_model_close(m);
 *
 * Conventions that hold for every function unless its comment says otherwise:
 *   - Strings are UTF-8 and NUL-terminated. Pointers passed in are borrowed for
 *     the duration of the call only; the library copies what it keeps.
 *   - Pointers returned as `const` belong to the library: do not free them.
 *     Their lifetime is stated with each function.
 *   - Memory the caller must release is released with the matching inf_*_free
 *     function, never with free().
 *   - `inf_error *err` parameters are optional (NULL = do not report). On
 *     failure the function fills err->status and err->message; on success it
 *     sets err->status to INF_OK and err->message to "".
 *   - The library never prints, never calls exit() or abort() on bad input,
 *     and is safe to use from several threads as stated per function.
 *   - An inf_cancel parameter may always be NULL (no cancellation, no deadline).
 */
#ifndef INFERENCE_H
#define INFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define INF_API __attribute__((visibility("default")))
#else
#define INF_API
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

#define INF_VERSION_MAJOR 0
#define INF_VERSION_MINOR 1
#define INF_VERSION_PATCH 0
#define INF_VERSION "0.1.0"
/* MAJOR * 1000000 + MINOR * 1000 + PATCH, for #if comparisons. */
#define INF_VERSION_NUMBER (INF_VERSION_MAJOR * 1000000 + INF_VERSION_MINOR * 1000 + INF_VERSION_PATCH)

/* The version of the library actually linked (may differ from the header's).
 * Returns a static string. Thread-safe. */
INF_API const char *inf_version(void);
/* INF_VERSION_NUMBER of the linked library. Thread-safe. */
INF_API int inf_version_number(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/* Every failure has a status (what kind of failure, for programs) and a
 * message (what exactly went wrong, for people: it names the file, key,
 * tensor or value involved). */
typedef enum inf_status {
    INF_OK = 0,
    INF_ERR_INVALID_ARGUMENT,  /* a bad parameter or option value */
    INF_ERR_NOT_FOUND,         /* no such file, backend, key or token */
    INF_ERR_NO_BACKEND,        /* no backend registered / available for the request */
    INF_ERR_UNAVAILABLE,       /* the backend exists but cannot run here (hardware, server down) */
    INF_ERR_IO,                /* reading or writing a file or socket failed */
    INF_ERR_FORMAT,            /* a malformed model, tokenizer, template or JSON */
    INF_ERR_UNSUPPORTED,       /* well-formed but not supported (tensor type, architecture, operation) */
    INF_ERR_NO_MEMORY,         /* an allocation failed */
    INF_ERR_CONTEXT_OVERFLOW,  /* the prompt (plus generation) does not fit the context */
    INF_ERR_CANCELLED,         /* the inf_cancel was triggered, or the model was closed */
    INF_ERR_DEADLINE_EXCEEDED, /* the inf_cancel's deadline passed */
    INF_ERR_TEMPLATE,          /* a chat template failed to render (incl. raise_exception) */
    INF_ERR_BACKEND,           /* the backend failed at run time (HTTP error, NaN logits...) */
    INF_ERR_INTERNAL           /* a bug in libinference: please report it */
} inf_status;

/* A stable lower-case name for a status, e.g. "cancelled". Never NULL;
 * unknown values give "unknown". Returns a static string. Thread-safe. */
INF_API const char *inf_status_name(inf_status status);

#define INF_ERROR_MESSAGE_MAX 512

/* Caller-allocated error report (no ownership questions: it is plain data). */
typedef struct inf_error {
    inf_status status;
    char message[INF_ERROR_MESSAGE_MAX]; /* "" when status is INF_OK */
} inf_error;

/* ------------------------------------------------------------------------ */
/* Cancellation: the C form of Go's context.Context                          */
/* ------------------------------------------------------------------------ */

/* A cancellation handle. Every operation that may take time accepts one; it
 * checks it between tokens (and between layers of a long prefill), stops
 * promptly when it fires, and reports INF_ERR_CANCELLED or
 * INF_ERR_DEADLINE_EXCEEDED. One handle may be shared by many operations. */
typedef struct inf_cancel inf_cancel;

/* Create a handle that is not cancelled and has no deadline. If parent is not
 * NULL the new handle is also cancelled whenever the parent is (the parent
 * must outlive the child). Returns NULL only when out of memory.
 * Thread-safe. Free with inf_cancel_free. */
INF_API inf_cancel *inf_cancel_new(const inf_cancel *parent);

/* Release a handle. No operation may still be using it. */
INF_API void inf_cancel_free(inf_cancel *cancel);

/* Cancel: every operation using this handle (or a child of it) stops soon.
 * Idempotent. Safe from any thread AND from a signal handler (it only stores
 * to a lock-free atomic). */
INF_API void inf_cancel_trigger(inf_cancel *cancel);

/* Set (or, with timeout_ms < 0, clear) a deadline timeout_ms milliseconds
 * from now on the monotonic clock. Thread-safe. */
INF_API void inf_cancel_set_timeout(inf_cancel *cancel, int64_t timeout_ms);

/* INF_OK while the handle is live; INF_ERR_CANCELLED once triggered (itself or
 * an ancestor); INF_ERR_DEADLINE_EXCEEDED once a deadline of it or an
 * ancestor has passed. NULL gives INF_OK. Thread-safe; async-signal-safe. */
INF_API inf_status inf_cancel_status(const inf_cancel *cancel);

/* ------------------------------------------------------------------------ */
/* Plain data types                                                          */
/* ------------------------------------------------------------------------ */

/* One generated token: its vocabulary id and its decoded text. The text holds
 * whole UTF-8 characters only (a token that ends mid-character has its bytes
 * carried to the next token), so concatenating the texts of a stream gives the
 * full decoded output. Who owns `text` is stated where a token is returned.
 * id is -1 where there is no vocabulary id: a backend whose protocol gives
 * none (OpenAI-style HTTP), or a last token holding the bytes of a character
 * left incomplete at the end of generation, written as U+FFFD. */
typedef struct inf_token {
    int32_t id;
    const char *text; /* NUL-terminated; may be "" */
} inf_token;

/* One chat message. role is "system", "user" or "assistant" (templates may
 * accept others, e.g. "tool"). Borrowed for the duration of the call. */
typedef struct inf_message {
    const char *role;
    const char *content;
} inf_message;

/* Options of Generate, Chat, Classify and BatchGenerate. Always start from
 * inf_generate_config_default(): fields may be appended in later versions. */
typedef struct inf_generate_config {
    int max_tokens;            /* [256] upper bound on generated tokens; must be >= 0 */
    float temperature;         /* [0 = greedy] sampling temperature; >= 0 */
    int top_k;                 /* [0 = off] keep the k most likely tokens */
    float top_p;               /* [0 = off] nucleus sampling, in (0, 1] */
    float min_p;               /* [0 = off] drop tokens below min_p x the top probability */
    float repeat_penalty;      /* [0 = off; 1.0 = no penalty] divide positive logits of recent tokens */
    int repeat_last_n;         /* [64] window of recent tokens the penalty looks at */
    const int32_t *stop_tokens;/* [NULL] extra token ids that end generation (not emitted) */
    size_t n_stop_tokens;      /* [0] */
    const char *const *stop_strings; /* [NULL] texts that end generation; no text at or past one is emitted */
    size_t n_stop_strings;     /* [0] */
    uint64_t seed;             /* [INF_SEED_RANDOM] sampling seed: equal seeds give equal samples */
    bool logits;               /* [false] Classify: also return the raw vocabulary-sized logits */
} inf_generate_config;

#define INF_SEED_RANDOM UINT64_MAX

/* Fill cfg with the defaults shown in brackets above. Thread-safe. */
INF_API void inf_generate_config_default(inf_generate_config *cfg);

/* Options of loading a model. Always start from inf_load_config_default(). */
typedef struct inf_load_config {
    const char *backend;  /* [NULL or "" = automatic choice] a registered backend's name */
    int context_len;      /* [0 = the model's own, capped to what memory allows] */
    int gpu_layers;       /* [-1 = all] layers to offload (backends without a GPU ignore it) */
    int parallel_slots;   /* [0 = backend default, typically 1] concurrent generations on one model */
    int threads;          /* [0 = the physical cores] CPU threads for backends that compute */
    /* [NULL = backend default] element type of the KV cache. cpu: "f16"
     * (default), "f32", or "q8_0" (ggml's 8-bit blocks, 34/64 of the f16
     * memory; needs a head size that is a multiple of 32, else loading fails
     * with INF_ERR_UNSUPPORTED naming it); other strings: INF_ERR_UNSUPPORTED.
     * llama_cpp: passed as -ctk/-ctv to a llama-server it starts. */
    const char *kv_cache_type;
    const char *chat_template; /* [NULL = the model's own] a Jinja chat template to use instead */
    /* [NULL] called during loading with the fraction done (0 to 1), on the
     * loading thread; for progress bars. */
    void (*progress)(float fraction, void *user);
    void *progress_user;
} inf_load_config;

/* Fill cfg with the defaults shown in brackets above. Thread-safe. */
INF_API void inf_load_config_default(inf_load_config *cfg);

/* Check a generation config; returns INF_OK or INF_ERR_INVALID_ARGUMENT with a
 * message naming the field and value (e.g. "top_p 1.5 is outside (0, 1]").
 * Every operation runs this check itself. Thread-safe. */
INF_API inf_status inf_generate_config_check(const inf_generate_config *cfg, inf_error *err);

/* What a loaded model is. Strings are owned by the model and live until
 * inf_model_close. Unknown numbers are 0. */
typedef struct inf_model_info {
    const char *architecture; /* "llama", "qwen3", "gemma3"... */
    int vocab_size;
    int num_layers;
    int hidden_size;
    int context_len;          /* the context this model was loaded with */
    int quant_bits;           /* 0 when unquantised; else the dominant weight type's bits */
    int quant_group;          /* elements per quantisation block/group; 0 when unquantised */
} inf_model_info;

/* Figures of the last completed operation on a model. */
typedef struct inf_metrics {
    int64_t prompt_tokens;
    int64_t generated_tokens;
    double prefill_seconds;
    double decode_seconds;
    double total_seconds;
    double prefill_tokens_per_second;
    double decode_tokens_per_second;
    uint64_t peak_memory_bytes;   /* peak resident memory of the process */
    uint64_t active_memory_bytes; /* resident memory of the process now */
} inf_metrics;

/* The result of Classify for one prompt. */
typedef struct inf_classify_result {
    inf_token token;   /* sampled (greedy by default) at the last prompt position */
    float *logits;     /* NULL unless config.logits; else n_logits raw logits */
    size_t n_logits;   /* the vocabulary size when logits is set */
} inf_classify_result;

/* The result of BatchGenerate for one prompt. A failure of one prompt does
 * not fail the others. */
typedef struct inf_batch_result {
    inf_token *tokens;    /* n_tokens generated tokens (may be 0) */
    size_t n_tokens;
    inf_status status;    /* INF_OK, or why this prompt stopped early */
    char *error;          /* NULL when status is INF_OK; else the message */
} inf_batch_result;

/* ------------------------------------------------------------------------ */
/* Models                                                                    */
/* ------------------------------------------------------------------------ */

/* A loaded model (Go: TextModel). Opaque.
 *
 * Thread-safety: every inf_model function may be called from any thread, and
 * several streams, Classify and BatchGenerate calls may run on one model at
 * once (the backend serialises or batches them; the `cpu` backend batches up
 * to parallel_slots sequences into shared forward passes). inf_model_close
 * must not race with other calls on the same model. */
typedef struct inf_model inf_model;

/* A token stream of one Generate or Chat: prepare (inf_generate/inf_chat),
 * step (inf_stream_next), finalize (inf_stream_free). Opaque. A stream is
 * used by one thread at a time (it may move between threads). */
typedef struct inf_stream inf_stream;

/* Load a model with the backend named in cfg->backend, or else the first
 * available backend, in the order metal, rocm, llama_cpp, then the others by
 * name, that accepts the path (backends may look at the path: "http://..."
 * goes to llama_cpp, a .gguf file or a model directory to cpu).
 * cfg NULL means the defaults. Errors, exactly as the original contract:
 *   INF_ERR_NOT_FOUND    inference: backend "X" not registered
 *   INF_ERR_UNAVAILABLE  inference: backend "X" not available on this hardware
 *   INF_ERR_NO_BACKEND   inference: no backends registered (import a backend package)
 * and the backend's own errors (missing file, malformed model...).
 * Returns a model to close with inf_model_close, or NULL. Thread-safe. */
INF_API inf_model *inf_load_model(const char *path, const inf_load_config *cfg, inf_error *err);

/* Start generating from a raw prompt (no chat template). cfg NULL means the
 * defaults. Never fails here: every failure (bad option, prompt too long,
 * cancellation) is reported by the stream after its last token, as Go's
 * Err(). Returns NULL only when out of memory. The stream holds a reference
 * to the model; free it with inf_stream_free. */
INF_API inf_stream *inf_generate(inf_model *model, const char *prompt,
                                 const inf_generate_config *cfg, inf_cancel *cancel);

/* Like inf_generate, for a conversation: the model applies its own chat
 * template (with the generation prompt added) and stops at the template's
 * end-of-turn tokens as well as at end-of-sequence. */
INF_API inf_stream *inf_chat(inf_model *model, const inf_message *messages, size_t n_messages,
                             const inf_generate_config *cfg, inf_cancel *cancel);

/* Step: produce the next token. Returns true and fills *tok (tok->text stays
 * valid until the next call on this stream or its free), or false when the
 * stream has ended; then inf_stream_status tells end-of-sequence (INF_OK) from
 * failure. Calling again after false keeps returning false. Once the
 * stream's cancel (or a parent of it) has fired or its deadline has passed,
 * the next call returns false with INF_ERR_CANCELLED (or
 * INF_ERR_DEADLINE_EXCEEDED), even if the backend had already computed more tokens. */
INF_API bool inf_stream_next(inf_stream *stream, inf_token *tok);

/* INF_OK while running and after a normal end (end-of-sequence token,
 * max_tokens, a stop token or string); else the failure. */
INF_API inf_status inf_stream_status(const inf_stream *stream);

/* The failure's message ("" when none). Valid until inf_stream_free. */
INF_API const char *inf_stream_error(const inf_stream *stream);

/* The figures of this stream so far (prompt and generated tokens, prefill
 * and decode time), whatever other operations run on the model meanwhile.
 * Backends that keep no per-stream figures give the model's (Metrics()).
 * Same threading rule as inf_stream_next. */
INF_API inf_status inf_stream_metrics(const inf_stream *stream, inf_metrics *metrics);

/* Finalize: stop the generation if still running, release the stream and its
 * reference to the model. NULL is allowed. */
INF_API void inf_stream_free(inf_stream *stream);

/* The callback form of a stream: called once per token, in order, on the
 * calling thread. tok->text is valid during the call only. Return 0 to go on,
 * non-zero to stop early (which is not an error). */
typedef int (*inf_token_callback)(const inf_token *tok, void *user);

/* Run a whole Generate with a callback. Returns the stream's final status
 * (INF_OK on normal end or on a stop requested by the callback) and fills err. */
INF_API inf_status inf_generate_each(inf_model *model, const char *prompt,
                                     const inf_generate_config *cfg, inf_cancel *cancel,
                                     inf_token_callback cb, void *user, inf_error *err);

/* Run a whole Chat with a callback; as inf_generate_each. */
INF_API inf_status inf_chat_each(inf_model *model, const inf_message *messages, size_t n_messages,
                                 const inf_generate_config *cfg, inf_cancel *cancel,
                                 inf_token_callback cb, void *user, inf_error *err);

/* Classify: prefill each prompt (in batches) and sample the token at its last
 * position (greedy by default: temperature 0). On success *results is an
 * array of n_prompts results in prompt order, to release with
 * inf_classify_results_free. On failure *results is NULL. Thread-safe. */
INF_API inf_status inf_classify(inf_model *model, const char *const *prompts, size_t n_prompts,
                                const inf_generate_config *cfg, inf_cancel *cancel,
                                inf_classify_result **results, inf_error *err);

/* Release what inf_classify returned. NULL is allowed. */
INF_API void inf_classify_results_free(inf_classify_result *results, size_t n);

/* BatchGenerate: generate from every prompt, up to cfg->max_tokens each,
 * decoding them together. Per-prompt failures (e.g. a prompt too long) land
 * in that prompt's result and do not fail the call; the call itself fails
 * only for bad arguments or when nothing could run. Cancellation stops every
 * prompt, each result then saying INF_ERR_CANCELLED and keeping the tokens
 * made so far. On success *results holds n_prompts results in prompt order,
 * to release with inf_batch_results_free. Thread-safe. */
INF_API inf_status inf_batch_generate(inf_model *model, const char *const *prompts, size_t n_prompts,
                                      const inf_generate_config *cfg, inf_cancel *cancel,
                                      inf_batch_result **results, inf_error *err);

/* Release what inf_batch_generate returned. NULL is allowed. */
INF_API void inf_batch_results_free(inf_batch_result *results, size_t n);

/* The architecture identifier ("gemma3", "qwen3", "llama"...). Owned by the
 * model; valid until inf_model_close. Thread-safe. */
INF_API const char *inf_model_type(const inf_model *model);

/* Fill *info (strings owned by the model). Thread-safe. */
INF_API inf_status inf_model_info_get(const inf_model *model, inf_model_info *info);

/* Fill *metrics with the figures of the last completed operation (all zero
 * before the first). Thread-safe. */
INF_API inf_status inf_model_metrics(const inf_model *model, inf_metrics *metrics);

/* Go's Err(): the status of the last Generate/Chat stream that ended on this
 * model (INF_OK for a normal end or before any), its message copied to err.
 * With concurrent streams prefer inf_stream_status, which is per stream.
 * Thread-safe. */
INF_API inf_status inf_model_err(const inf_model *model, inf_error *err);

/* Go's Close(): release the model (memory, caches, connections,
 * subprocesses). Streams still open on it end with INF_ERR_CANCELLED and keep
 * what they need until they are freed. NULL is allowed. Returns INF_OK or the
 * backend's error on shutting down (the model is released either way). */
INF_API inf_status inf_model_close(inf_model *model);

/* The attention inspector: the keys a model attends with after a prefill of
 * the prompt, post-RoPE (and after q/k norms where the architecture has
 * them), per layer, KV head and position. Queries are not kept. */
typedef struct inf_attention_keys {
    int n_layers;
    int n_heads;        /* key/value heads */
    int n_positions;    /* prompt tokens, BOS included where the model adds it */
    int head_dim;
    int32_t *token_ids; /* n_positions ids of the prompt */
    float *keys;        /* [n_layers][n_heads][n_positions][head_dim] */
} inf_attention_keys;

/* Prefill prompt and return its keys in *out, to release with
 * inf_attention_keys_free. INF_ERR_UNSUPPORTED for backends that cannot
 * (llama_cpp). Thread-safe. */
INF_API inf_status inf_model_attention_keys(inf_model *model, const char *prompt, inf_cancel *cancel,
                                            inf_attention_keys **out, inf_error *err);
INF_API void inf_attention_keys_free(inf_attention_keys *keys);

/* ------------------------------------------------------------------------ */
/* Tokenizer and chat template access                                        */
/* ------------------------------------------------------------------------ */

/* Encode flags. */
#define INF_TOKENIZE_ADD_SPECIAL   1u /* add BOS/EOS as the model's metadata asks */
#define INF_TOKENIZE_PARSE_SPECIAL 2u /* recognise special-token text (<|im_start|>) as single tokens;
                                         without it such text is plain text */

/* Tokenize text with the model's tokenizer. On success *ids is a malloc'd
 * array of *n_ids ids that the caller releases with inf_free. Backends
 * without a tokenizer return INF_ERR_UNSUPPORTED. Thread-safe. */
INF_API inf_status inf_model_tokenize(inf_model *model, const char *text, size_t len, unsigned flags,
                                      int32_t **ids, size_t *n_ids, inf_error *err);

/* Decode ids to text (special tokens kept when keep_special). On success *text
 * is a malloc'd NUL-terminated string that the caller releases with inf_free.
 * Thread-safe. */
INF_API inf_status inf_model_detokenize(inf_model *model, const int32_t *ids, size_t n_ids, bool keep_special,
                                        char **text, inf_error *err);

/* Render a conversation with the model's chat template, exactly as inf_chat
 * would before tokenizing. vars_json is NULL or a JSON object of extra
 * template variables (e.g. {"enable_thinking": false, "tools": [...]}); when
 * it holds "add_generation_prompt" that value wins (default true). On success
 * *prompt is malloc'd; release with inf_free. Thread-safe. */
INF_API inf_status inf_model_render_chat(inf_model *model, const inf_message *messages, size_t n_messages,
                                         const char *vars_json, char **prompt, inf_error *err);

/* Release memory returned by the functions above that say so. NULL allowed. */
INF_API void inf_free(void *ptr);

/* A tokenizer on its own, without weights: from a GGUF file's metadata
 * (tensors are not read) or from a directory holding tokenizer.json (and
 * optionally tokenizer_config.json, generation_config.json). Immutable once
 * loaded: every function below may be called from many threads at once. */
typedef struct inf_tokenizer inf_tokenizer;

/* Load from path (a .gguf file or a directory). NULL with err filled on
 * failure (missing file, malformed JSON, unsupported tokenizer component).
 * Release with inf_tokenizer_free. */
INF_API inf_tokenizer *inf_tokenizer_load(const char *path, inf_error *err);
INF_API void inf_tokenizer_free(inf_tokenizer *tok);

/* As inf_model_tokenize; *ids is released with inf_free. */
INF_API inf_status inf_tokenizer_encode(const inf_tokenizer *tok, const char *text, size_t len, unsigned flags,
                                        int32_t **ids, size_t *n_ids, inf_error *err);

/* As inf_model_detokenize; *text is released with inf_free. */
INF_API inf_status inf_tokenizer_decode(const inf_tokenizer *tok, const int32_t *ids, size_t n_ids,
                                        bool keep_special, char **text, inf_error *err);

/* The bytes of one token as they appear mid-sequence (possibly part of a
 * UTF-8 character), written to buf (NUL-terminated when cap > 0). Returns
 * the full length as snprintf does, or -1 for an id out of range. */
INF_API int inf_tokenizer_piece(const inf_tokenizer *tok, int32_t id, char *buf, size_t cap);

/* Vocabulary size, and the BOS/EOS ids (-1 when the model has none). */
INF_API int32_t inf_tokenizer_vocab_size(const inf_tokenizer *tok);
INF_API int32_t inf_tokenizer_bos(const inf_tokenizer *tok);
INF_API int32_t inf_tokenizer_eos(const inf_tokenizer *tok);

/* The chat template the tokenizer carries (GGUF tokenizer.chat_template or
 * tokenizer_config.json's chat_template), or NULL. Owned by the tokenizer. */
INF_API const char *inf_tokenizer_chat_template(const inf_tokenizer *tok);

/* ------------------------------------------------------------------------ */
/* Backends and the registry                                                 */
/* ------------------------------------------------------------------------ */

/* A registered backend, owned by the registry. Pointers stay valid until
 * inf_registry_shutdown, even after the backend is replaced. */
typedef struct inf_backend inf_backend;

/* Register a backend described by desc (copied). A backend with the same name
 * replaces the earlier one silently, as in the original. The built-in
 * backends (cpu; llama_cpp when built with libcurl) and the plug-ins named by
 * INFERENCE_PLUGIN_PATH are registered on the first use of any registry
 * function, so consumers write no registration code. Thread-safe. */
typedef struct inf_backend_desc inf_backend_desc;
INF_API inf_status inf_register_backend(const inf_backend_desc *desc, inf_error *err);

/* The backend of that name, or NULL. Thread-safe. */
INF_API const inf_backend *inf_backend_get(const char *name);

/* The names of all registered backends, sorted. Fills up to cap entries of
 * names (strings owned by the registry, valid until inf_registry_shutdown)
 * and returns the total count (call with cap 0 to size the array).
 * Thread-safe. */
INF_API size_t inf_backend_list(const char **names, size_t cap);

/* Go's Default(): the first available backend in the order metal, rocm,
 * llama_cpp, then any other available one in sorted name order. NULL with
 * INF_ERR_NO_BACKEND and "inference: no backends registered (import a
 * backend package)" when none is available. Thread-safe. */
INF_API const inf_backend *inf_backend_default(inf_error *err);

/* The backend's name (owned by the registry). */
INF_API const char *inf_backend_name(const inf_backend *backend);

/* Whether the backend can run here now (its available() callback). */
INF_API bool inf_backend_available(const inf_backend *backend);

/* Whether the backend accepts this path (its probe() callback; a backend
 * without one accepts everything). */
INF_API bool inf_backend_accepts(const inf_backend *backend, const char *path);

/* Load a model with this backend, skipping the registry's choice. cfg NULL
 * means the defaults. Returns NULL and fills err on failure. */
INF_API inf_model *inf_backend_load_model(const inf_backend *backend, const char *path,
                                          const inf_load_config *cfg, inf_error *err);

/* Forget every backend (calling their destroy callbacks) and unload plug-ins.
 * For tests and leak checkers; no model may be open. The next registry call
 * registers the built-ins again. Not thread-safe with other registry calls. */
INF_API void inf_registry_shutdown(void);

/* ------------------------------------------------------------------------ */
/* Plug-ins                                                                  */
/* ------------------------------------------------------------------------ */

/* A plug-in is a shared object exporting one function named
 * INF_PLUGIN_ENTRY_NAME, of type inf_plugin_init_fn, which registers its
 * backends through host->register_backend. It reaches the library only
 * through the host table, so it needs no link-time dependency on
 * libinference. INFERENCE_PLUGIN_PATH holds a colon-separated list of .so
 * files and directories (every *.so in a directory is loaded). */
#define INF_PLUGIN_ABI_VERSION 1
#define INF_PLUGIN_ENTRY_NAME "inf_plugin_init"

typedef struct inf_model_ops inf_model_ops;

typedef struct inf_plugin_host {
    int abi_version; /* INF_PLUGIN_ABI_VERSION of the loading library */
    inf_status (*register_backend)(const inf_backend_desc *desc, inf_error *err);
    inf_model *(*model_new)(const inf_model_ops *ops, void *impl);
    inf_status (*cancel_status)(const inf_cancel *cancel);
} inf_plugin_host;

typedef inf_status (*inf_plugin_init_fn)(const inf_plugin_host *host, inf_error *err);

/* Load one plug-in file now. Errors name the file and the reason (not a
 * shared object, no entry point, ABI mismatch, its init failed). Thread-safe. */
INF_API inf_status inf_plugin_load(const char *path, inf_error *err);

/* The errors met while loading INFERENCE_PLUGIN_PATH at registry start-up,
 * one per line, or NULL when none. Valid until inf_registry_shutdown. */
INF_API const char *inf_plugin_path_errors(void);

/* ------------------------------------------------------------------------ */
/* Writing a backend                                                         */
/* ------------------------------------------------------------------------ */

/* What a backend registers. All callbacks receive desc->user. */
struct inf_backend_desc {
    const char *name;                          /* required, e.g. "cpu" */
    bool (*available)(void *user);             /* required */
    bool (*probe)(void *user, const char *path); /* optional: NULL accepts every path */
    /* required: load a model; on success return a model made with
     * inf_model_new; on failure NULL and fill err. */
    inf_model *(*load_model)(void *user, const char *path, const inf_load_config *cfg, inf_error *err);
    void (*destroy)(void *user);               /* optional: at inf_registry_shutdown */
    void *user;
};

/* What the core hands a backend to start one Generate or Chat. Everything is
 * borrowed until the stream's free callback returns; cfg is never NULL and
 * already checked; cancel is never NULL and fires when the caller cancels,
 * frees the stream early or closes the model. */
typedef struct inf_request {
    const char *prompt;            /* Generate: the raw prompt; NULL for Chat */
    const inf_message *messages;   /* Chat: the conversation; NULL for Generate */
    size_t n_messages;
    const inf_generate_config *cfg;
    inf_cancel *cancel;
} inf_request;

/* A backend's stream. next() returns 1 with *tok filled (text valid until the
 * next call), 0 at a normal end, or -1 with err filled. The backend applies
 * max_tokens, stop_tokens, the model's end-of-generation tokens and
 * cancellation; the core applies stop_strings (holding back text that may
 * begin one), records the final status for inf_model_err, and calls free()
 * exactly once. */
typedef struct inf_stream_ops {
    int (*next)(void *state, inf_token *tok, inf_error *err);
    void (*free)(void *state);
    void (*metrics)(void *state, inf_metrics *metrics); /* optional: this stream's figures so far */
} inf_stream_ops;

/* A backend's model. Every callback receives the impl pointer given to
 * inf_model_new. Optional callbacks may be NULL: the core then answers
 * INF_ERR_UNSUPPORTED. Callbacks may be called concurrently (see inf_model). */
struct inf_model_ops {
    const char *(*model_type)(void *impl);                            /* required */
    void (*info)(void *impl, inf_model_info *info);                   /* required */
    inf_status (*start)(void *impl, const inf_request *req,           /* required: Generate and Chat */
                        const inf_stream_ops **ops, void **state, inf_error *err);
    inf_status (*classify)(void *impl, const char *const *prompts, size_t n,
                           const inf_generate_config *cfg, inf_cancel *cancel,
                           inf_classify_result *results /* n, zeroed */, inf_error *err);
    inf_status (*batch_generate)(void *impl, const char *const *prompts, size_t n,
                                 const inf_generate_config *cfg, inf_cancel *cancel,
                                 inf_batch_result *results /* n, zeroed */, inf_error *err);
    void (*metrics)(void *impl, inf_metrics *metrics);               /* optional */
    inf_status (*tokenize)(void *impl, const char *text, size_t len, unsigned flags,
                           int32_t **ids, size_t *n_ids, inf_error *err);     /* optional */
    inf_status (*detokenize)(void *impl, const int32_t *ids, size_t n, bool keep_special,
                             char **text, inf_error *err);                     /* optional */
    inf_status (*render_chat)(void *impl, const inf_message *messages, size_t n,
                              const char *vars_json, char **prompt, inf_error *err); /* optional */
    inf_status (*close)(void *impl);                                  /* required */
    inf_status (*attention_keys)(void *impl, const char *prompt, inf_cancel *cancel,
                                 inf_attention_keys *out /* zeroed */, inf_error *err); /* optional */
};

/* Wrap a backend's model. ops must outlive the model (a static table);
 * impl is released by ops->close. Returns NULL when out of memory. Memory a
 * backend puts into results (tokens' text, logits, error strings, ids) must
 * come from malloc: the core releases it with free. */
INF_API inf_model *inf_model_new(const inf_model_ops *ops, void *impl);

/* Helpers for backends: fill an inf_error (printf-style message). */
INF_API void inf_error_set(inf_error *err, inf_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
INF_API void inf_error_clear(inf_error *err);

/* ------------------------------------------------------------------------ */
/* Discovery                                                                 */
/* ------------------------------------------------------------------------ */

/* One model found by inf_discover. */
typedef struct inf_discovered_model {
    char *path;          /* the directory or .gguf file */
    char *architecture;  /* config.json model_type or GGUF general.architecture; "" if unknown */
    int quant_bits;      /* 0 when unquantised or unknown */
    int quant_group;
    int num_files;       /* weight files (.safetensors shards, or 1 for a GGUF) */
    bool is_gguf;
} inf_discovered_model;

/* Go's Discover(dir): the model directories (config.json plus at least one
 * .safetensors) and .gguf files in dir and its immediate subdirectories,
 * sorted by path. Unreadable or malformed entries are skipped. On success
 * *models holds *n models; release with inf_discover_free. Thread-safe. */
INF_API inf_status inf_discover(const char *dir, inf_discovered_model **models, size_t *n, inf_error *err);
INF_API void inf_discover_free(inf_discovered_model *models, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* INFERENCE_H */
