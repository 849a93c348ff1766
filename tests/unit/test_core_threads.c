/* test_core_threads.c - thread safety through the public API.
 *
 * 1. Streams on one model from 8 threads at once (stories260K, greedy):
 *    each thread's tokens must equal a single-threaded run of the same
 *    prompt made before. Some threads cancel their own stream midway, one
 *    is cancelled from the main thread, one frees its stream early; those
 *    must stop with INF_ERR_CANCELLED (or finish) having produced a prefix
 *    of the reference, and the model must keep serving the others.
 * 2. Tokenize/detokenize from 8 threads at once, checked against a
 *    single-threaded run.
 * 3. The backend registry under concurrent register/get/list.
 * Meant to run under ThreadSanitizer too (make tsan, TSAN_TESTS=test_threads_). */
#include "inference.h"
#include "test_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define N_THREADS 8
#define MAX_TOKENS 40
#define TEXT_CAP 4096

static const char *const prompts[N_THREADS] = {
    "Once upon a time", "Lily and Tom", "The little dog", "One day, a girl named Sue",
    "Once upon a time", "There was a big tree", "Tim had a red ball", "The sun was",
};

/* What each thread does besides reading its stream to the end. */
enum mode { RUN_TO_END, CANCEL_SELF, CANCEL_FROM_MAIN, FREE_EARLY };
static const enum mode modes[N_THREADS] = {
    RUN_TO_END, CANCEL_SELF, RUN_TO_END, FREE_EARLY, RUN_TO_END, CANCEL_FROM_MAIN, CANCEL_SELF, RUN_TO_END,
};

struct run {
    int32_t ids[MAX_TOKENS + 8];
    size_t n;
    char text[TEXT_CAP];
    inf_status status;
    char error[256];
};

struct job {
    inf_model *model;
    int index;
    enum mode mode;
    inf_cancel *cancel;
    atomic_int tokens_seen;
    struct run out;
};

static inf_generate_config greedy_config(void)
{
    inf_generate_config cfg;
    inf_generate_config_default(&cfg);
    cfg.max_tokens = MAX_TOKENS;
    cfg.temperature = 0;
    return cfg;
}

/* Reads a stream; cancel_after >= 0 triggers cancel after that many
 * tokens, free_after >= 0 frees the stream then (status: cancelled). */
static void read_stream(inf_stream *s, struct run *r, inf_cancel *cancel, int cancel_after, int free_after,
                        atomic_int *seen)
{
    memset(r, 0, sizeof *r);
    inf_token tok;
    size_t text_len = 0;
    while (inf_stream_next(s, &tok)) {
        if (r->n < MAX_TOKENS + 8) r->ids[r->n++] = tok.id;
        size_t l = strlen(tok.text);
        if (text_len + l < TEXT_CAP) { memcpy(r->text + text_len, tok.text, l); text_len += l; }
        if (seen) atomic_store(seen, (int)r->n);
        if (cancel_after >= 0 && (int)r->n == cancel_after) inf_cancel_trigger(cancel);
        if (free_after >= 0 && (int)r->n == free_after) {
            inf_stream_free(s);
            r->status = INF_ERR_CANCELLED;
            return;
        }
    }
    r->text[text_len] = 0;
    r->status = inf_stream_status(s);
    snprintf(r->error, sizeof r->error, "%s", inf_stream_error(s));
    inf_stream_free(s);
}

static void *stream_thread(void *arg)
{
    struct job *j = arg;
    inf_generate_config cfg = greedy_config();
    inf_stream *s = inf_generate(j->model, prompts[j->index], &cfg, j->cancel);
    if (!s) { j->out.status = INF_ERR_NO_MEMORY; return NULL; }
    int cancel_after = j->mode == CANCEL_SELF ? 5 + j->index : -1;
    int free_after = j->mode == FREE_EARLY ? 7 : -1;
    read_stream(s, &j->out, j->cancel, cancel_after, free_after, &j->tokens_seen);
    return NULL;
}

static int is_prefix(const struct run *part, const struct run *whole)
{
    if (part->n > whole->n) return 0;
    for (size_t i = 0; i < part->n; i++)
        if (part->ids[i] != whole->ids[i]) return 0;
    return 1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_concurrent_streams(inf_model *m, int round)
{
    static struct run ref[N_THREADS];
    if (round == 0) {
        for (int i = 0; i < N_THREADS; i++) {
            inf_generate_config cfg = greedy_config();
            inf_stream *s = inf_generate(m, prompts[i], &cfg, NULL);
            CHECK(s != NULL);
            if (!s) return;
            read_stream(s, &ref[i], NULL, -1, -1, NULL);
            CHECK_MSG(ref[i].status == INF_OK, "reference %d: %s", i, ref[i].error);
            CHECK_MSG(ref[i].n > 0, "reference %d produced no token", i);
        }
        /* same prompt, same greedy result: the run is deterministic */
        CHECK_MSG(ref[0].n == ref[4].n && memcmp(ref[0].ids, ref[4].ids, ref[0].n * sizeof(int32_t)) == 0,
                  "greedy runs of one prompt differ");
    }

    static struct job jobs[N_THREADS];
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].model = m;
        jobs[i].index = i;
        jobs[i].mode = modes[i];
        jobs[i].cancel = inf_cancel_new(NULL);
        CHECK(jobs[i].cancel != NULL);
    }
    for (int i = 0; i < N_THREADS; i++) CHECK(pthread_create(&th[i], NULL, stream_thread, &jobs[i]) == 0);
    /* cancel the CANCEL_FROM_MAIN job once it has produced a few tokens */
    for (int i = 0; i < N_THREADS; i++) {
        if (jobs[i].mode != CANCEL_FROM_MAIN) continue;
        for (int w = 0; w < 20000 && atomic_load(&jobs[i].tokens_seen) < 3; w++) sleep_ms(1);
        inf_cancel_trigger(jobs[i].cancel);
    }
    for (int i = 0; i < N_THREADS; i++) pthread_join(th[i], NULL);

    int identical = 0, cancelled = 0;
    for (int i = 0; i < N_THREADS; i++) {
        struct job *j = &jobs[i];
        switch (j->mode) {
        case RUN_TO_END:
            CHECK_MSG(j->out.status == INF_OK, "round %d thread %d: status %s: %s", round, i,
                      inf_status_name(j->out.status), j->out.error);
            CHECK_MSG(j->out.n == ref[i].n && is_prefix(&j->out, &ref[i]),
                      "round %d thread %d: %zu tokens differ from the single-threaded run (%zu)", round, i,
                      j->out.n, ref[i].n);
            CHECK_MSG(strcmp(j->out.text, ref[i].text) == 0, "round %d thread %d: text differs:\n  '%s'\n  '%s'",
                      round, i, j->out.text, ref[i].text);
            if (j->out.n == ref[i].n && is_prefix(&j->out, &ref[i])) identical++;
            break;
        case CANCEL_SELF:
        case CANCEL_FROM_MAIN:
            /* cancelled midway: a prefix of the reference, and the status says so
             * (unless the generation had already ended by itself) */
            CHECK_MSG(is_prefix(&j->out, &ref[i]), "round %d thread %d: cancelled run is not a prefix", round, i);
            CHECK_MSG(j->out.status == INF_ERR_CANCELLED || (j->out.status == INF_OK && j->out.n == ref[i].n),
                      "round %d thread %d: cancelled stream ended with %s (%s) after %zu of %zu tokens", round, i,
                      inf_status_name(j->out.status), j->out.error, j->out.n, ref[i].n);
            if (j->mode == CANCEL_SELF)
                CHECK_MSG(j->out.n < ref[i].n, "round %d thread %d: cancel did not stop the stream", round, i);
            if (j->out.status == INF_ERR_CANCELLED) cancelled++;
            break;
        case FREE_EARLY:
            CHECK_MSG(j->out.n == 7 && is_prefix(&j->out, &ref[i]), "round %d thread %d: early-freed run", round, i);
            break;
        }
        inf_cancel_free(j->cancel);
    }
    printf("round %d: %d of %d full runs identical to the single-threaded run, %d cancelled\n", round, identical,
           N_THREADS - 4, cancelled);
}

/* ---- tokenizer from many threads ---- */

static inf_model *tok_model;
static const char *const tok_texts[4] = {"Once upon a time, there was a little girl.", "Lily and Tom played.",
                                         "\xc3\xa9 \xf0\x9f\x98\x80 weird \xff bytes", ""};
static int32_t *tok_ref[4];
static size_t tok_ref_n[4];

static void *tokenize_thread(void *arg)
{
    intptr_t t = (intptr_t)arg;
    int bad = 0;
    for (int it = 0; it < 50; it++) {
        int k = (int)((t + it) % 4);
        int32_t *ids = NULL;
        size_t n = 0;
        if (inf_model_tokenize(tok_model, tok_texts[k], strlen(tok_texts[k]), INF_TOKENIZE_ADD_SPECIAL, &ids, &n,
                               NULL) != INF_OK) { bad++; continue; }
        if (n != tok_ref_n[k] || (n && memcmp(ids, tok_ref[k], n * sizeof *ids) != 0)) bad++;
        char *text = NULL;
        if (inf_model_detokenize(tok_model, ids, n, false, &text, NULL) != INF_OK) bad++;
        inf_free(text);
        inf_free(ids);
    }
    return (void *)(intptr_t)bad;
}

static void test_concurrent_tokenize(inf_model *m)
{
    tok_model = m;
    for (int k = 0; k < 4; k++) {
        inf_error e;
        CHECK_MSG(inf_model_tokenize(m, tok_texts[k], strlen(tok_texts[k]), INF_TOKENIZE_ADD_SPECIAL, &tok_ref[k],
                                     &tok_ref_n[k], &e) == INF_OK, "tokenize: %s", e.message);
    }
    pthread_t th[N_THREADS];
    for (intptr_t i = 0; i < N_THREADS; i++) CHECK(pthread_create(&th[i], NULL, tokenize_thread, (void *)i) == 0);
    int bad = 0;
    for (int i = 0; i < N_THREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        bad += (int)(intptr_t)r;
    }
    CHECK_MSG(bad == 0, "%d concurrent tokenize/detokenize results differ", bad);
    for (int k = 0; k < 4; k++) inf_free(tok_ref[k]);
}

/* ---- registry ---- */

static bool fake_available(void *user) { (void)user; return false; }
static inf_model *fake_load(void *user, const char *path, const inf_load_config *cfg, inf_error *err)
{
    (void)user; (void)path; (void)cfg;
    inf_error_set(err, INF_ERR_UNAVAILABLE, "fake backend");
    return NULL;
}

static void *registry_thread(void *arg)
{
    intptr_t t = (intptr_t)arg;
    int bad = 0;
    for (int it = 0; it < 20; it++) {
        char name[32];
        snprintf(name, sizeof name, "fake_t%d_%d", (int)t, it % 5);
        inf_backend_desc d = {0};
        d.name = name;
        d.available = fake_available;
        d.load_model = fake_load;
        if (inf_register_backend(&d, NULL) != INF_OK) bad++;
        const inf_backend *b = inf_backend_get(name);
        if (!b || strcmp(inf_backend_name(b), name) != 0) bad++;
        if (b && inf_backend_available(b)) bad++;
        const char *names[256];
        size_t n = inf_backend_list(names, 256);
        if (n == 0) bad++;
        for (size_t i = 0; i < n && i < 256; i++) if (!names[i] || !names[i][0]) bad++;
        if (!inf_backend_get("cpu")) bad++;
    }
    return (void *)(intptr_t)bad;
}

static void test_concurrent_registry(void)
{
    pthread_t th[N_THREADS];
    for (intptr_t i = 0; i < N_THREADS; i++) CHECK(pthread_create(&th[i], NULL, registry_thread, (void *)i) == 0);
    int bad = 0;
    for (int i = 0; i < N_THREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        bad += (int)(intptr_t)r;
    }
    CHECK_MSG(bad == 0, "%d registry inconsistencies under concurrent register/get", bad);
    const char *names[256];
    size_t n = inf_backend_list(names, 256);
    int fakes = 0;
    for (size_t i = 0; i < n && i < 256; i++) fakes += strncmp(names[i], "fake_t", 6) == 0;
    CHECK_MSG(fakes == N_THREADS * 5, "%d fake backends registered, want %d", fakes, N_THREADS * 5);
}

int main(void)
{
    const char *path = test_data_path("models/stories260K.gguf");
    if (!path) TEST_FAIL("models/stories260K.gguf is missing");
    char model_path[4096];
    snprintf(model_path, sizeof model_path, "%s", path);

    inf_load_config lc;
    inf_load_config_default(&lc);
    lc.backend = "cpu";
    lc.parallel_slots = 4; /* fewer slots than threads: some streams queue */
    lc.threads = 2;
    inf_error e;
    inf_model *m = inf_load_model(model_path, &lc, &e);
    if (!m) TEST_FAIL("cannot load %s yet: %s", model_path, e.message);

    test_concurrent_streams(m, 0);
    test_concurrent_streams(m, 1);
    test_concurrent_tokenize(m);
    CHECK(inf_model_close(m) == INF_OK);
    test_concurrent_registry();
    inf_registry_shutdown();
    return TEST_DONE();
}
