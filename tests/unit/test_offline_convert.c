/* test_offline_convert.c - the `infer convert` engine (hf_convert_to_gguf).
 *
 *  1. llama.cpp itself (node-llama-cpp, CPU) loads our conversions of the
 *     qwen3 bf16, llama3 f16 (q/k permuted), MLX 4-bit (dequantised to f32)
 *     and gemma3 bf16 (SentencePiece-style tokenizer, norms as 1 + w)
 *     directories and continues a fixed prompt with exactly the 16 greedy
 *     ids our engine gives on the directories themselves (the HF loader, a
 *     separate path from the converter).
 *  2. make conformance: the qwen3 and llama3 conversions equal, key by key
 *     and tensor by tensor (bytes), make_model.py's hf2gguf conversions
 *     that llama.cpp was verified on (../shared/testdata).
 *  3. A tokenizer that is neither kind of BPE is refused with a clear
 *     message; a missing directory and an unwritable output fail cleanly
 *     and leave no file; a forced name is written as given. */
#include "test_util.h"

#include "formats/gguf.h"
#include "formats/hf_config.h"
#include "engine.h"
#include "offline/hf_convert.h"
#include "model/model.h"

#include <cjson/cJSON.h>
#include <sys/stat.h>
#include <unistd.h>

static char td[2048], tmp[64];

/* Every key and tensor of ref is in got with the same type and value. */
static int same_gguf(const char *got_path, const char *ref_path)
{
    struct gguf_file *a = NULL, *b = NULL;
    inf_error err = {0};
    int ok = gguf_open(got_path, &a, &err) == 0;
    CHECK_MSG(ok, "%s", err.message);
    if (!ok) return 0;
    if (gguf_open(ref_path, &b, &err) != 0) {
        gguf_close(a);
        return 0;
    }
    int diffs = 0;
    if (gguf_n_kv(a) != gguf_n_kv(b)) {
        fprintf(stderr, "%lld keys, reference has %lld\n", (long long)gguf_n_kv(a), (long long)gguf_n_kv(b));
        diffs++;
    }
    for (int64_t i = 0; i < gguf_n_kv(b); i++) {
        const char *key = gguf_key_at(b, i);
        int64_t j = gguf_find_key(a, key);
        enum gguf_type t = gguf_kv_type(b, i);
        int same = j >= 0 && gguf_kv_type(a, j) == t;
        if (same && t == GGUF_TYPE_STRING) {
            const char *sa, *sb;
            size_t la, lb;
            gguf_kv_get_string(a, j, &sa, &la);
            gguf_kv_get_string(b, i, &sb, &lb);
            same = la == lb && memcmp(sa, sb, la) == 0;
        } else if (same && t == GGUF_TYPE_ARRAY) {
            struct gguf_array xa, xb;
            gguf_kv_get_array(a, j, &xa);
            gguf_kv_get_array(b, i, &xb);
            same = xa.type == xb.type && xa.n == xb.n;
            if (same && xa.type == GGUF_TYPE_STRING) {
                for (uint64_t k = 0; k < xa.n && same; k++) {
                    const char *sa, *sb;
                    size_t la, lb;
                    gguf_array_string(&xa, k, &sa, &la);
                    gguf_array_string(&xb, k, &sb, &lb);
                    same = la == lb && memcmp(sa, sb, la) == 0;
                }
            } else if (same) {
                same = memcmp(xa.data, xb.data, xa.n * xa.elem_size) == 0;
            }
        } else if (same && (t == GGUF_TYPE_FLOAT32 || t == GGUF_TYPE_FLOAT64)) {
            double da, db;
            gguf_kv_get_f64(a, j, &da);
            gguf_kv_get_f64(b, i, &db);
            same = da == db;
        } else if (same) {
            int64_t ia, ib;
            gguf_kv_get_i64(a, j, &ia);
            gguf_kv_get_i64(b, i, &ib);
            same = ia == ib;
        }
        if (!same) {
            fprintf(stderr, "%s: key '%s' differs from %s\n", got_path, key, ref_path);
            diffs++;
        }
    }
    if (gguf_n_tensors(a) != gguf_n_tensors(b)) diffs++;
    for (int64_t i = 0; i < gguf_n_tensors(b); i++) {
        const struct gguf_tensor *tb = gguf_tensor_at(b, i), *ta = gguf_get_tensor(a, tb->name);
        int same = ta && ta->type == tb->type && ta->n_dims == tb->n_dims && ta->size == tb->size &&
                   memcmp(ta->ne, tb->ne, sizeof ta->ne) == 0 && memcmp(ta->data, tb->data, ta->size) == 0;
        if (!same) {
            fprintf(stderr, "%s: tensor '%s' differs from %s\n", got_path, tb->name, ref_path);
            diffs++;
        }
    }
    gguf_close(a);
    gguf_close(b);
    return diffs == 0;
}

static int convert(const char *name, char *out, size_t out_size)
{
    char dir[4096];
    inf_error err = {0};
    snprintf(dir, sizeof dir, "%s/models/random/%s", td, name);
    snprintf(out, out_size, "%s/%s.gguf", tmp, name);
    int rc = hf_convert_to_gguf(dir, out, NULL, &err);
    CHECK_MSG(rc == 0, "convert %s: %s", name, err.message);
    return rc == 0;
}

/* Parses "a,b,c" into ids; returns the count. */
static int parse_ids(const char *s, int32_t *ids, int cap)
{
    int n = 0;
    for (char *end; *s && n < cap; s = *end ? end + 1 : end) {
        long v = strtol(s, &end, 10);
        if (end == s) break;
        ids[n++] = (int32_t)v;
    }
    return n;
}

/* llama.cpp on our conversions against our engine on the directories
 * themselves (safetensors, rotate-half RoPE, Gemma's 1 + w norms: the HF
 * loader, not the converter). llama.cpp continues a fixed prompt greedily
 * for 16 tokens; fed the same ids, our engine must pick each of them or
 * have it within tol of its best logit (relative to the range: near-ties,
 * which f16 KV caches and MLX's blocks may flip). One node process. */
static void llama_cpp_runs(const char *const *names, const char *const *files, const double *tol, int n)
{
    static const int32_t prompt[] = {10, 200, 300, 400, 500, 600, 700, 800};
    const int n_prompt = (int)(sizeof prompt / sizeof prompt[0]);
    char cmd[20000];
    size_t used = (size_t)snprintf(cmd, sizeof cmd, "node tests/scripts/hf_llamacpp_greedy.mjs 16");
    for (int i = 0; i < n; i++) {
        used += (size_t)snprintf(cmd + used, sizeof cmd - used, " '%s@", files[i]);
        for (int k = 0; k < n_prompt; k++) used += (size_t)snprintf(cmd + used, sizeof cmd - used, "%s%d", k ? "," : "", prompt[k]);
        used += (size_t)snprintf(cmd + used, sizeof cmd - used, "'");
    }
    snprintf(cmd + used, sizeof cmd - used, " 2>/dev/null");
    FILE *p = popen(cmd, "r");
    CHECK_MSG(p != NULL, "cannot run node");
    if (!p) return;
    for (int i = 0; i < n; i++) {
        char line[1024] = "";
        if (!fgets(line, sizeof line, p)) line[0] = '\0';
        int32_t seq[64];
        memcpy(seq, prompt, sizeof prompt);
        int n_got = parse_ids(line, seq + n_prompt, 16);
        CHECK_MSG(n_got == 16, "%s: llama.cpp gave '%s'", names[i], line);
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/models/random/%s", td, names[i]);
        struct model *m = engine_load(dir, -1);
        float *logits = m ? engine_logits_all(m, seq, n_prompt + n_got) : NULL;
        int agree = 0, near = 0, V = m ? engine_n_vocab(m) : 0;
        double worst = 0;
        for (int k = 0; logits && k < n_got; k++) {
            const float *l = logits + (size_t)(n_prompt - 1 + k) * (size_t)V;
            float lo = l[0], hi = l[0];
            for (int v = 1; v < V; v++) lo = l[v] < lo ? l[v] : lo, hi = l[v] > hi ? l[v] : hi;
            double gap = (hi - l[seq[n_prompt + k]]) / (hi - lo);
            if (gap == 0) agree++;
            else near++;
            if (gap > worst) worst = gap;
        }
        printf("llama.cpp on converted %-20s: %d of %d greedy ids our argmax on the directory, %d near-ties "
               "(largest gap %.2g of the range)\n", names[i], agree, n_got, near, worst);
        CHECK_MSG(logits && worst <= tol[i], "%s: llama.cpp's id %.3g of the range below our best", names[i], worst);
        free(logits);
        model_free(m);
    }
    CHECK(pclose(p) == 0);
}

/* A tokenizer.json that is neither byte-level BPE nor SentencePiece-style
 * BPE (here WordPiece) is refused, and leaves no file. */
static void refuses_other_tokenizers(const char *src_dir)
{
    char dir[4200], cmd[20000], out[4300];
    inf_error err = {0};
    snprintf(dir, sizeof dir, "%s/wordpiece", tmp);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s'/config.json '%s'/*.safetensors '%s'/", dir, src_dir, src_dir, dir);
    CHECK(system(cmd) == 0);
    snprintf(cmd, sizeof cmd, "%s/tokenizer.json", dir);
    FILE *f = fopen(cmd, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("{\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"vocab\":{\"[UNK]\":0,\"a\":1}},"
          "\"added_tokens\":[]}", f);
    fclose(f);
    snprintf(out, sizeof out, "%s/wp.gguf", tmp);
    CHECK(hf_convert_to_gguf(dir, out, NULL, &err) != 0);
    CHECK_MSG(strstr(err.message, "tokenizer.json") && strstr(err.message, "byte-level") && strstr(err.message, "SentencePiece"), "%s", err.message);
    CHECK(access(out, F_OK) != 0);
}

int main(void)
{
    snprintf(td, sizeof td, "%s", test_data_root());
    test_data_path("models/random/qwen3-tiny-hf-bf16/config.json");
    snprintf(tmp, sizeof tmp, "/tmp/test_hf_convert_XXXXXX");
    if (!mkdtemp(tmp)) TEST_FAIL("mkdtemp failed");

    /* make conformance: make_model.py's conversions (which llama.cpp was
     * verified on) must equal ours key by key and tensor by tensor. */
    static const char *const names[4] = {"qwen3-tiny-hf-bf16", "llama3-tiny-hf-f16", "qwen3-tiny-mlx4",
                                         "gemma3-tiny-hf-bf16"};
    char outs[4][4200];
    for (int i = 0; i < 4; i++) {
        if (!convert(names[i], outs[i], sizeof outs[i])) continue;
        if (test_conformance() && i < 2) {
            char ref[4200];
            snprintf(ref, sizeof ref, "%s/models/random/%s.gguf", td, names[i]);
            CHECK_MSG(same_gguf(outs[i], ref), "%s: our conversion differs from make_model.py's", names[i]);
        }
    }
    struct gguf_file *g = NULL;
    inf_error err = {0};
    CHECK(gguf_open(outs[2], &g, &err) == 0);
    const struct gguf_tensor *t = g ? gguf_get_tensor(g, "blk.0.attn_q.weight") : NULL;
    CHECK(t && t->type == 0 && t->ne[0] == 256 && t->ne[1] == 512); /* MLX dequantised to f32 */
    uint32_t ft = 99;
    CHECK(g && gguf_get_u32(g, "general.file_type", &ft) == 0 && ft == 0);
    gguf_close(g);
    /* Gemma's SentencePiece-style tokenizer becomes a "llama" vocabulary. */
    const char *model = NULL;
    CHECK(gguf_open(outs[3], &g, &err) == 0 && gguf_get_string(g, "tokenizer.ggml.model", &model, NULL) == 0 &&
          strcmp(model, "llama") == 0);
    gguf_close(g);
    const char *files[4] = {outs[0], outs[1], outs[2], outs[3]};
    const double tol[4] = {5e-3, 2e-3, 1e-2, 5e-3}; /* bf16 activations, f16, MLX 4-bit blocks, bf16 */
    llama_cpp_runs(names, files, tol, 4);

    /* Refusals leave no output file. */
    char dir[4096], out[4200];
    snprintf(dir, sizeof dir, "%s/models/random/qwen3-tiny-hf-bf16", td);
    refuses_other_tokenizers(dir);
    snprintf(out, sizeof out, "%s/x.gguf", tmp);
    CHECK(hf_convert_to_gguf("/nonexistent", out, NULL, &err) != 0 && strstr(err.message, "/nonexistent"));
    CHECK(hf_convert_to_gguf(dir, "/nonexistent/x.gguf", NULL, &err) != 0);
    CHECK_MSG(strstr(err.message, "/nonexistent/x.gguf") != NULL, "%s", err.message);
    /* A forced pre name is written as given. */
    struct hf_convert_options o = {.name = "named", .pre = "qwen2"};
    snprintf(out, sizeof out, "%s/named.gguf", tmp);
    CHECK(hf_convert_to_gguf(dir, out, &o, &err) == 0);
    const char *s = NULL;
    CHECK(gguf_open(out, &g, &err) == 0 && gguf_get_string(g, "general.name", &s, NULL) == 0 &&
          strcmp(s, "named") == 0);
    gguf_close(g);

    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    return TEST_DONE();
}
