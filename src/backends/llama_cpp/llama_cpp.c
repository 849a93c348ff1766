/* llama_cpp.c - the llama_cpp backend (see llama_cpp.h): registration,
 * probe, loading (URL parsing, health check, protocol detection, model
 * lookup, info), and the model operations: Generate/Chat streams,
 * tokenize/detokenize/render_chat through llama.cpp's endpoints, Close.
 * Classify and BatchGenerate are in batch.c. */
#include "backends/llama_cpp/llama_cpp.h"
#include "base/str.h"
#include "backends/llama_cpp/lc_internal.h"
#include "base/error.h"
#include "formats/gguf.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <sys/stat.h>

#define LC_PROBE_TIMEOUT_MS 10000L
#define LC_DEFAULT_SLOTS 4

static bool is_url(const char *path)
{
    return path && (strncasecmp(path, "http://", 7) == 0 || strncasecmp(path, "https://", 8) == 0);
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                 */
/* ---------------------------------------------------------------------- */

static void model_free(lc_model *m)
{
    if (!m) return;
    if (m->managed) lc_managed_stop(m->managed);
    free(m->root);
    free(m->model_name);
    free(m->auth_header);
    free(m->arch);
    free(m->server_model);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* Split "scheme://host:port[/prefix][/v1][#model]". */
static inf_status parse_url(lc_model *m, const char *url, bool *force_openai, inf_error *err)
{
    const char *hash = strchr(url, '#');
    size_t base_len = hash ? (size_t)(hash - url) : strlen(url);
    m->root = malloc(base_len + 1);
    m->model_name = str_dup_or_empty(hash ? hash + 1 : "");
    if (!m->root || !m->model_name) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: out of memory");
        return INF_ERR_NO_MEMORY;
    }
    memcpy(m->root, url, base_len);
    m->root[base_len] = '\0';
    while (base_len > 0 && m->root[base_len - 1] == '/') m->root[--base_len] = '\0';
    if (base_len >= 3 && strcmp(m->root + base_len - 3, "/v1") == 0) {
        m->root[base_len - 3] = '\0';
        *force_openai = true;
    }
    const char *host = strstr(m->root, "://");
    if (!host || !host[3] || strchr(m->root, ' ')) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "llama_cpp: \"%s\" is not a server URL (http://host:port)", url);
        return INF_ERR_INVALID_ARGUMENT;
    }
    return INF_OK;
}

static void set_api_key(lc_model *m)
{
    const char *key = getenv("INFERENCE_API_KEY");
    if (!key || !key[0]) key = getenv("LLAMA_API_KEY");
    if (!key || !key[0]) return;
    size_t n = strlen(key) + 32;
    m->auth_header = malloc(n);
    if (m->auth_header) snprintf(m->auth_header, n, "Authorization: Bearer %s", key);
}

static inf_status key_refused(const lc_model *m, long status, inf_error *err)
{
    inf_error_set(err, INF_ERR_UNAVAILABLE, "llama_cpp: the server at %s refused the API key (HTTP %ld; set INFERENCE_API_KEY)",
                  m->root, status);
    return INF_ERR_UNAVAILABLE;
}

static inf_status check_health(lc_model *m, inf_error *err)
{
    lc_response r;
    inf_status st = lc_http_request(m, "/health", NULL, LC_PROBE_TIMEOUT_MS, NULL, &r, err);
    if (st != INF_OK) {
        char msg[INF_ERROR_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "%s", err ? err->message : "");
        inf_error_set(err, st, "llama_cpp: the server at %s is down or unreachable (%s)", m->root,
                      msg[0] ? msg : "no answer");
        return st;
    }
    if (r.status == 401 || r.status == 403) {
        long status = r.status;
        lc_response_free(&r);
        return key_refused(m, status, err);
    }
    if (r.status == 503 || r.status >= 500) {
        char msg[300];
        lc_server_message(r.body, r.len, msg, sizeof msg);
        inf_error_set(err, INF_ERR_UNAVAILABLE, "llama_cpp: the server at %s is not ready (HTTP %ld: %s)", m->root,
                      r.status, msg);
        lc_response_free(&r);
        return INF_ERR_UNAVAILABLE;
    }
    lc_response_free(&r); /* 200, or 404 from servers without /health */
    return INF_OK;
}

/* A JSON object answered with HTTP 200 at path, or NULL; *status gets the
 * HTTP status (0 when no answer came). */
static cJSON *get_json(lc_model *m, const char *path, long *status)
{
    lc_response r;
    *status = 0;
    if (lc_http_request(m, path, NULL, LC_PROBE_TIMEOUT_MS, NULL, &r, NULL) != INF_OK) return NULL;
    *status = r.status;
    cJSON *doc = r.status == 200 ? cJSON_ParseWithLength(r.body, r.len) : NULL;
    lc_response_free(&r);
    if (doc && !cJSON_IsObject(doc)) { cJSON_Delete(doc); doc = NULL; }
    return doc;
}

static int int_field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 2147483647.0 ? (int)v->valuedouble : 0;
}

static const char *str_field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* The architecture from a model's name or path when the server does not say
 * it: "Qwen/Qwen3-8B" -> qwen3, "gemma-3-4b-it.gguf" -> gemma3. */
static const char *guess_arch(const char *name)
{
    static const char *const archs[] = {"qwen3moe", "qwen3", "qwen2", "gemma3", "gemma2", "gemma", "llama4", "llama",
                                        "mistral", "mixtral", "phi3", "phi", "deepseek2", "deepseek", "gptoss",
                                        "granite", "olmo", "smollm", "falcon"};
    char flat[256];
    size_t n = 0;
    for (const char *p = name ? name : ""; *p && n + 1 < sizeof flat; p++)
        if (isalnum((unsigned char)*p)) flat[n++] = (char)tolower((unsigned char)*p);
    flat[n] = '\0';
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (strstr(flat, archs[i])) return archs[i];
    return "unknown";
}

/* The GGUF header of the model the server runs, when this machine can read
 * it (managed mode, or a server on this host reporting its model_path):
 * llama.cpp's API does not say the architecture, the file does. Fills what
 * is still unknown; silently does nothing when the file is not readable. */
static void read_gguf_header(lc_model *m, const char *path)
{
    size_t n = path ? strlen(path) : 0;
    if (n < 6 || path[0] != '/' || strcasecmp(path + n - 5, ".gguf") != 0) return;
    struct gguf_file *f = NULL;
    inf_error err = {0};
    if (gguf_open(path, &f, &err) != 0 || !f) return;
    const char *arch = NULL;
    if (gguf_get_string(f, "general.architecture", &arch, NULL) == GGUF_OK && arch && arch[0] && !m->arch)
        m->arch = str_dup_or_empty(arch);
    if (arch) {
        char key[160];
        uint32_t v;
        snprintf(key, sizeof key, "%s.block_count", arch);
        if (!m->info.num_layers && gguf_get_u32(f, key, &v) == GGUF_OK) m->info.num_layers = (int)v;
        snprintf(key, sizeof key, "%s.embedding_length", arch);
        if (!m->info.hidden_size && gguf_get_u32(f, key, &v) == GGUF_OK) m->info.hidden_size = (int)v;
    }
    struct gguf_array toks;
    if (!m->info.vocab_size && gguf_get_array(f, "tokenizer.ggml.tokens", &toks) == GGUF_OK && toks.n < 0x7fffffff)
        m->info.vocab_size = (int)toks.n;
    gguf_close(f);
}

/* llama.cpp's /props: protocol detection, context size, slots, arch. */
static bool read_props(lc_model *m, const cJSON *props)
{
    const cJSON *dgs = cJSON_GetObjectItemCaseSensitive(props, "default_generation_settings");
    if (!cJSON_IsObject(dgs)) return false;
    m->info.context_len = int_field(dgs, "n_ctx");
    if (!m->slots) m->slots = int_field(props, "total_slots");
    const char *arch = str_field(props, "architecture"); /* our server's extension */
    if (arch && !m->arch) m->arch = str_dup_or_empty(arch);
    const char *path = str_field(props, "model_path");
    if (path) { free(m->server_model); m->server_model = str_dup_or_empty(path); }
    read_gguf_header(m, path);
    if (!m->info.vocab_size) m->info.vocab_size = int_field(props, "n_vocab");
    if (!m->info.num_layers) m->info.num_layers = int_field(props, "n_layer");
    if (!m->info.hidden_size) m->info.hidden_size = int_field(props, "n_embd");
    return true;
}

/* /v1/models: the model list (checked against the name asked for) and
 * llama.cpp's "meta" figures. */
static inf_status read_models(lc_model *m, const cJSON *models, inf_error *err)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(models, "data");
    if (!cJSON_IsArray(data) || cJSON_GetArraySize(data) == 0) return INF_OK;
    const cJSON *match = NULL, *e;
    cJSON_ArrayForEach(e, data) {
        const char *id = str_field(e, "id");
        if (id && (!m->model_name[0] || strcmp(id, m->model_name) == 0)) { match = e; break; }
    }
    if (!match) {
        char list[256] = "";
        size_t at = 0;
        cJSON_ArrayForEach(e, data) {
            const char *id = str_field(e, "id");
            if (!id || at + 4 >= sizeof list) continue;
            int w = snprintf(list + at, sizeof list - at, "%s%s", at ? ", " : "", id);
            if (w > 0) at += (size_t)w < sizeof list - at ? (size_t)w : sizeof list - at - 1;
        }
        inf_error_set(err, INF_ERR_NOT_FOUND, "llama_cpp: model \"%s\" is unknown to the server at %s (it serves: %s)",
                      m->model_name, m->root, list);
        return INF_ERR_NOT_FOUND;
    }
    if (!m->model_name[0]) {
        free(m->model_name);
        m->model_name = str_dup_or_empty(str_field(match, "id"));
    }
    if (!m->server_model) m->server_model = str_dup_or_empty(str_field(match, "id"));
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(match, "meta");
    if (cJSON_IsObject(meta)) {
        if (!m->info.vocab_size) m->info.vocab_size = int_field(meta, "n_vocab");
        if (!m->info.hidden_size) m->info.hidden_size = int_field(meta, "n_embd");
        if (!m->info.num_layers) m->info.num_layers = int_field(meta, "n_layer");
        if (!m->info.context_len) m->info.context_len = int_field(meta, "n_ctx_train");
        if (!m->info.quant_bits) m->info.quant_bits = int_field(meta, "quant_bits");
        if (!m->info.quant_group) m->info.quant_group = int_field(meta, "quant_group");
        const char *arch = str_field(meta, "architecture");
        if (arch && !m->arch) m->arch = str_dup_or_empty(arch);
        m->vocab_type = int_field(meta, "vocab_type");
    }
    const cJSON *max_len = cJSON_GetObjectItemCaseSensitive(match, "max_model_len"); /* vLLM */
    if (!m->info.context_len && cJSON_IsNumber(max_len)) m->info.context_len = (int)max_len->valuedouble;
    return INF_OK;
}

static inf_status connect_server(lc_model *m, bool force_openai, bool force_native, inf_error *err)
{
    set_api_key(m);
    inf_status st = check_health(m, err);
    if (st != INF_OK) return st;
    const char *env = getenv("INFERENCE_LLAMA_CPP_PROTOCOL");
    if (env && !strcasecmp(env, "openai")) force_openai = true;
    if (env && !strcasecmp(env, "native")) force_native = true;

    bool native = false;
    long status = 0;
    if (!force_openai) {
        cJSON *props = get_json(m, "/props", &status);
        if (props) native = read_props(m, props);
        cJSON_Delete(props);
        if (status == 401 || status == 403) return key_refused(m, status, err);
    }
    if (force_native && !native) {
        inf_error_set(err, INF_ERR_UNSUPPORTED, "llama_cpp: the server at %s does not speak llama.cpp's protocol (no /props)",
                      m->root);
        return INF_ERR_UNSUPPORTED;
    }
    cJSON *models = get_json(m, "/v1/models", &status);
    if (!models && (status == 401 || status == 403)) return key_refused(m, status, err);
    if (!models && !native) {
        inf_error_set(err, INF_ERR_UNSUPPORTED,
                      "llama_cpp: %s is neither a llama.cpp server (/props) nor OpenAI-compatible (/v1/models)", m->root);
        return INF_ERR_UNSUPPORTED;
    }
    st = models ? read_models(m, models, err) : INF_OK;
    cJSON_Delete(models);
    if (st != INF_OK) return st;
    m->proto = native ? LC_PROTO_NATIVE : LC_PROTO_OPENAI;
    if (!m->arch) {
        const char *guess = guess_arch(m->server_model ? m->server_model : m->model_name);
        /* llama.cpp's vocab_type 1 is SentencePiece: llama-architecture
         * models (Llama 1/2, Mistral, TinyStories...) in practice. */
        if (!strcmp(guess, "unknown") && m->vocab_type == 1) guess = "llama";
        m->arch = str_dup_or_empty(guess);
    }
    if (!m->arch) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: out of memory");
        return INF_ERR_NO_MEMORY;
    }
    m->info.architecture = m->arch;
    if (m->slots <= 0) m->slots = LC_DEFAULT_SLOTS;
    inf_error_clear(err);
    return INF_OK;
}

static const inf_model_ops lc_ops;

static inf_model *lc_load_model(void *user, const char *path, const inf_load_config *cfg, inf_error *err)
{
    (void)user;
    if (!path || !path[0]) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "llama_cpp: no URL or model path given");
        return NULL;
    }
    lc_model *m = calloc(1, sizeof *m);
    if (!m) { inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: out of memory"); return NULL; }
    pthread_mutex_init(&m->mu, NULL);
    if (cfg && cfg->parallel_slots > 0) m->slots = cfg->parallel_slots;
    bool force_openai = false, force_native = false;
    inf_status st;
    if (is_url(path)) {
        st = parse_url(m, path, &force_openai, err);
    } else {
        /* Managed mode: our own llama-server on this GGUF. */
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            inf_error_set(err, INF_ERR_NOT_FOUND, "llama_cpp: \"%s\" is neither a server URL nor a model file", path);
            model_free(m);
            return NULL;
        }
        char root[64], abs_path[4096];
        if (realpath(path, abs_path)) read_gguf_header(m, abs_path);
        st = lc_managed_start(path, cfg, &m->managed, root, sizeof root, err);
        if (st == INF_OK) {
            m->root = str_dup_or_empty(root);
            m->model_name = str_dup_or_empty("");
            if (!m->root || !m->model_name) { st = INF_ERR_NO_MEMORY; inf_error_set(err, st, "llama_cpp: out of memory"); }
        }
    }
    if (st == INF_OK) st = connect_server(m, force_openai, force_native, err);
    if (st != INF_OK) { model_free(m); return NULL; }
    inf_model *model = inf_model_new(&lc_ops, m);
    if (!model) {
        model_free(m);
        inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: out of memory");
    }
    return model;
}

/* ---------------------------------------------------------------------- */
/* Generate and Chat                                                       */
/* ---------------------------------------------------------------------- */

typedef struct lc_stream {
    lc_model *m;
    CURLM *multi;
    lc_xfer *x;
    inf_cancel *cancel;
    inf_generate_config cfg;  /* copied: the request's may not outlive start() */
    char *text;               /* the token text handed out last */
    bool ended;
} lc_stream;

static void lc_stream_free(void *state)
{
    lc_stream *s = state;
    if (!s) return;
    if (s->x) {
        curl_multi_remove_handle(s->multi, s->x->easy);
        lc_xfer_free(s->x);
    }
    if (s->multi) curl_multi_cleanup(s->multi);
    free(s->text);
    free(s);
}

static int lc_stream_next(void *state, inf_token *tok, inf_error *err)
{
    lc_stream *s = state;
    free(s->text);
    s->text = NULL;
    if (s->ended || !s->x) { s->ended = true; return 0; }
    for (;;) {
        lc_tok t;
        if (lc_xfer_pop(s->x, &t)) {
            s->text = t.text;
            tok->id = t.id;
            tok->text = t.text;
            return 1;
        }
        lc_xfer *x = s->x;
        if (x->finished || x->got_final || x->stop_local || x->status != INF_OK) {
            s->ended = true;
            inf_status st = lc_xfer_outcome(x, s->m, err);
            if (st != INF_OK) return -1;
            lc_record_metrics(s->m, x);
            return 0;
        }
        if (inf_cancel_status(s->cancel) != INF_OK) {
            s->ended = true;
            err_cancelled(inf_cancel_status(s->cancel), err); /* the transfer is aborted when the stream is freed */
            curl_multi_remove_handle(s->multi, x->easy);
            lc_xfer_free(x);
            s->x = NULL;
            return -1;
        }
        lc_multi_step(s->multi, 50);
    }
}

static const inf_stream_ops lc_stream_ops = {.next = lc_stream_next, .free = lc_stream_free};

static char *messages_json(const inf_message *messages, size_t n, const char *vars_json)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "messages");
    for (size_t i = 0; i < n; i++) {
        cJSON *msg = cJSON_CreateObject();
        cJSON_AddStringToObject(msg, "role", messages[i].role ? messages[i].role : "user");
        cJSON_AddStringToObject(msg, "content", messages[i].content ? messages[i].content : "");
        cJSON_AddItemToArray(arr, msg);
    }
    if (vars_json) {
        cJSON *vars = cJSON_Parse(vars_json);
        if (cJSON_IsObject(vars)) cJSON_AddItemToObject(o, "chat_template_kwargs", vars);
        else cJSON_Delete(vars);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* llama.cpp's /apply-template: the server renders the chat template. Returns
 * INF_ERR_UNSUPPORTED when the server has no such endpoint. */
static inf_status apply_template(lc_model *m, const inf_message *messages, size_t n, const char *vars_json,
                                 inf_cancel *cancel, char **prompt, inf_error *err)
{
    char *body = messages_json(messages, n, vars_json);
    if (!body) { inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: out of memory"); return INF_ERR_NO_MEMORY; }
    lc_response r;
    inf_status st = lc_http_request(m, "/apply-template", body, 0, cancel, &r, err);
    free(body);
    if (st != INF_OK) return st;
    cJSON *doc = r.status == 200 ? cJSON_ParseWithLength(r.body, r.len) : NULL;
    const cJSON *rendered = cJSON_GetObjectItemCaseSensitive(doc, "prompt");
    if (cJSON_IsString(rendered)) {
        *prompt = str_dup_or_empty(rendered->valuestring);
        st = *prompt ? INF_OK : INF_ERR_NO_MEMORY;
        if (st) inf_error_set(err, st, "llama_cpp: out of memory");
    } else if (r.status == 404 || r.status == 405 || r.status == 501) {
        st = INF_ERR_UNSUPPORTED;
        inf_error_set(err, st, "llama_cpp: the server at %s cannot render chat templates (/apply-template: HTTP %ld)",
                      m->root, r.status);
    } else {
        char msg[300];
        lc_server_message(r.body, r.len, msg, sizeof msg);
        st = r.status == 200 ? INF_ERR_FORMAT : INF_ERR_TEMPLATE;
        inf_error_set(err, st, "llama_cpp: /apply-template failed (HTTP %ld): %s", r.status, msg);
    }
    cJSON_Delete(doc);
    lc_response_free(&r);
    return st;
}

static inf_status lc_start(void *impl, const inf_request *req, const inf_stream_ops **ops, void **state,
                           inf_error *err)
{
    lc_model *m = impl;
    lc_stream *s = calloc(1, sizeof *s);
    if (!s) { inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: out of memory"); return INF_ERR_NO_MEMORY; }
    s->m = m;
    s->cancel = req->cancel;
    s->cfg = *req->cfg;
    *ops = &lc_stream_ops;
    *state = s;
    if (s->cfg.max_tokens == 0) return INF_OK; /* nothing to ask for */

    lc_protocol proto = m->proto;
    char *prompt = NULL;
    if (req->messages && proto == LC_PROTO_NATIVE) {
        inf_status st = apply_template(m, req->messages, req->n_messages, NULL, req->cancel, &prompt, err);
        if (st == INF_ERR_UNSUPPORTED) proto = LC_PROTO_OPENAI; /* let the server's chat endpoint do it */
        else if (st != INF_OK) { lc_stream_free(s); *state = NULL; return st; }
    }
    bool chat = req->messages && proto == LC_PROTO_OPENAI;
    s->x = lc_xfer_new(m, proto, prompt ? prompt : req->prompt ? req->prompt : "", chat ? req->messages : NULL,
                       req->n_messages, &s->cfg, 0, err);
    free(prompt);
    s->multi = curl_multi_init();
    if (!s->x || !s->multi || curl_multi_add_handle(s->multi, s->x->easy) != CURLM_OK) {
        lc_stream_free(s);
        *state = NULL;
        inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: cannot start the transfer");
        return INF_ERR_NO_MEMORY;
    }
    return INF_OK;
}

/* ---------------------------------------------------------------------- */
/* Tokenizer endpoints, info, metrics, close                               */
/* ---------------------------------------------------------------------- */

/* POST body to path and parse the JSON answer; errors name the endpoint. */
static inf_status post_json(lc_model *m, const char *path, cJSON *body, cJSON **answer, inf_error *err)
{
    *answer = NULL;
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!text) { inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: out of memory"); return INF_ERR_NO_MEMORY; }
    lc_response r;
    inf_status st = lc_http_request(m, path, text, 0, NULL, &r, err);
    free(text);
    if (st != INF_OK) return st;
    if (r.status == 404 || r.status == 405 || r.status == 501) {
        inf_error_set(err, INF_ERR_UNSUPPORTED, "llama_cpp: the server at %s has no %s endpoint", m->root, path);
        st = INF_ERR_UNSUPPORTED;
    } else if (r.status != 200) {
        char msg[300];
        lc_server_message(r.body, r.len, msg, sizeof msg);
        inf_error_set(err, INF_ERR_BACKEND, "llama_cpp: %s answered HTTP %ld: %s", path, r.status, msg);
        st = INF_ERR_BACKEND;
    } else if (!(*answer = cJSON_ParseWithLength(r.body, r.len)) || !cJSON_IsObject(*answer)) {
        cJSON_Delete(*answer);
        *answer = NULL;
        inf_error_set(err, INF_ERR_FORMAT, "llama_cpp: %s answered with malformed JSON", path);
        st = INF_ERR_FORMAT;
    }
    lc_response_free(&r);
    return st;
}

static inf_status lc_tokenize(void *impl, const char *text, size_t len, unsigned flags, int32_t **ids, size_t *n_ids,
                              inf_error *err)
{
    lc_model *m = impl;
    char *copy = malloc(len + 1);
    if (!copy) { inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: out of memory"); return INF_ERR_NO_MEMORY; }
    memcpy(copy, text, len);
    copy[len] = '\0';
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "content", copy);
    free(copy);
    cJSON_AddBoolToObject(body, "add_special", (flags & INF_TOKENIZE_ADD_SPECIAL) != 0);
    cJSON_AddBoolToObject(body, "parse_special", (flags & INF_TOKENIZE_PARSE_SPECIAL) != 0);
    cJSON *ans;
    inf_status st = post_json(m, "/tokenize", body, &ans, err);
    if (st != INF_OK) return st;
    const cJSON *toks = cJSON_GetObjectItemCaseSensitive(ans, "tokens");
    int n = cJSON_IsArray(toks) ? cJSON_GetArraySize(toks) : -1;
    int32_t *out = n >= 0 ? malloc((size_t)(n ? n : 1) * sizeof *out) : NULL;
    int i = 0;
    const cJSON *t;
    if (out) {
        cJSON_ArrayForEach(t, toks) {
            const cJSON *idv = cJSON_IsObject(t) ? cJSON_GetObjectItemCaseSensitive(t, "id") : t;
            if (!cJSON_IsNumber(idv)) break;
            out[i++] = (int32_t)idv->valuedouble;
        }
    }
    cJSON_Delete(ans);
    if (!out || i != n) {
        free(out);
        inf_error_set(err, INF_ERR_FORMAT, "llama_cpp: /tokenize answered without a list of token ids");
        return INF_ERR_FORMAT;
    }
    *ids = out;
    *n_ids = (size_t)n;
    inf_error_clear(err);
    return INF_OK;
}

static inf_status lc_detokenize(void *impl, const int32_t *ids, size_t n, bool keep_special, char **text,
                                inf_error *err)
{
    (void)keep_special; /* llama.cpp's /detokenize always renders special tokens */
    lc_model *m = impl;
    cJSON *body = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(body, "tokens");
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(arr, cJSON_CreateNumber(ids[i]));
    cJSON *ans;
    inf_status st = post_json(m, "/detokenize", body, &ans, err);
    if (st != INF_OK) return st;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(ans, "content");
    if (!cJSON_IsString(c)) {
        cJSON_Delete(ans);
        inf_error_set(err, INF_ERR_FORMAT, "llama_cpp: /detokenize answered without \"content\"");
        return INF_ERR_FORMAT;
    }
    *text = str_dup_or_empty(c->valuestring);
    cJSON_Delete(ans);
    if (!*text) { inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: out of memory"); return INF_ERR_NO_MEMORY; }
    inf_error_clear(err);
    return INF_OK;
}

static inf_status lc_render_chat(void *impl, const inf_message *messages, size_t n, const char *vars_json,
                                 char **prompt, inf_error *err)
{
    return apply_template(impl, messages, n, vars_json, NULL, prompt, err);
}

static const char *lc_model_type(void *impl)
{
    return ((lc_model *)impl)->arch;
}

static void lc_info(void *impl, inf_model_info *info)
{
    *info = ((lc_model *)impl)->info;
}

static void lc_metrics(void *impl, inf_metrics *metrics)
{
    lc_model *m = impl;
    pthread_mutex_lock(&m->mu);
    *metrics = m->metrics;
    pthread_mutex_unlock(&m->mu);
}

static inf_status lc_close(void *impl)
{
    model_free(impl);
    return INF_OK;
}

static const inf_model_ops lc_ops = {
    .model_type = lc_model_type,
    .info = lc_info,
    .start = lc_start,
    .classify = lc_classify,
    .batch_generate = lc_batch_generate,
    .metrics = lc_metrics,
    .tokenize = lc_tokenize,
    .detokenize = lc_detokenize,
    .render_chat = lc_render_chat,
    .close = lc_close,
};

/* ---------------------------------------------------------------------- */
/* Registration                                                            */
/* ---------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static bool curl_ok;

static void curl_init_once(void)
{
    curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static bool lc_available(void *user)
{
    (void)user;
    pthread_once(&curl_once, curl_init_once);
    curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    return curl_ok && v != NULL;
}

static bool lc_probe(void *user, const char *path)
{
    (void)user;
    return is_url(path);
}

inf_backend_desc llama_cpp_backend_desc(void)
{
    pthread_once(&curl_once, curl_init_once);
    inf_backend_desc desc = {
        .name = "llama_cpp",
        .available = lc_available,
        .probe = lc_probe,
        .load_model = lc_load_model,
        .destroy = NULL,
        .user = NULL,
    };
    return desc;
}
