/* test_hf_convert.c - the `infer convert` engine (hf_convert_to_gguf).
 *
 *  1. qwen3-tiny-hf-bf16 and llama3-tiny-hf-f16 convert to GGUFs equal, key
 *     by key and tensor by tensor (bytes), to the shipped conversions that
 *     llama.cpp was verified on (make_model.py hf2gguf, which follows
 *     convert_hf_to_gguf.py: Llama q/k permuted, f32 norms, gpt2 tokenizer).
 *  2. llama.cpp itself (node-llama-cpp, CPU) loads our conversions of those
 *     two and of the MLX 4-bit directory and continues the golden prompts
 *     with exactly llama.cpp's golden greedy ids (16 tokens) - when node and
 *     node_modules are present.
 *  3. A SentencePiece-style tokenizer (gemma3) is refused with a clear
 *     message; a missing directory and an unwritable output fail cleanly
 *     and leave no file. */
#include "test_util.h"

#include "formats/gguf.h"
#include "formats/hf_config.h"
#include "formats/hf_convert.h"

#include <cjson/cJSON.h>
#include <sys/stat.h>
#include <unistd.h>

static char td[2048], tmp[64];

/* Every key and tensor of ref is in got with the same type and value. */
static int same_gguf(const char *got_path, const char *ref_path)
{
    struct gguf_file *a = NULL, *b = NULL;
    char err[512];
    int ok = gguf_open(got_path, &a, err, sizeof err) == 0;
    CHECK_MSG(ok, "%s", err);
    if (!ok) return 0;
    if (gguf_open(ref_path, &b, err, sizeof err) != 0) {
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
    char dir[4096], err[512] = "";
    snprintf(dir, sizeof dir, "%s/models/random/%s", td, name);
    snprintf(out, out_size, "%s/%s.gguf", tmp, name);
    int rc = hf_convert_to_gguf(dir, out, NULL, err, sizeof err);
    CHECK_MSG(rc == 0, "convert %s: %s", name, err);
    return rc == 0;
}

/* Golden prompt ids (case 0) as "a,b,c" and the first n greedy ids. */
static int golden(const char *name, char *ids, size_t ids_size, char *greedy, size_t g_size, int n)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/golden/%s/0.json", td, name);
    size_t len;
    char *text = hf_read_file(p, 1 << 20, &len, NULL, 0);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!j) return 0;
    const char *keys[2] = {"prompt_ids", "greedy_ids"};
    char *outs[2] = {ids, greedy};
    size_t sizes[2] = {ids_size, g_size};
    for (int k = 0; k < 2; k++) {
        size_t used = 0;
        int count = 0;
        outs[k][0] = '\0';
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, keys[k]))
        {
            if (k == 1 && count == n) break;
            used += (size_t)snprintf(outs[k] + used, sizes[k] - used, "%s%d", count ? "," : "", it->valueint);
            count++;
        }
    }
    cJSON_Delete(j);
    return 1;
}

/* llama.cpp on our conversions: one node process for all the files. */
static void llama_cpp_runs(const char **names, const char *const *files, int n)
{
    char cmd[16384], want[3][1024];
    size_t used = (size_t)snprintf(cmd, sizeof cmd, "node tests/scripts/hf_llamacpp_greedy.mjs 16");
    int m = 0;
    for (int i = 0; i < n && i < 3; i++) {
        char ids[2048];
        if (!golden(names[i], ids, sizeof ids, want[m], sizeof want[m], 16)) continue;
        used += (size_t)snprintf(cmd + used, sizeof cmd - used, " '%s@%s'", files[i], ids);
        names[m] = names[i];
        m++;
    }
    snprintf(cmd + used, sizeof cmd - used, " 2>/dev/null");
    FILE *p = popen(cmd, "r");
    if (!p) return;
    for (int i = 0; i < m; i++) {
        char got[1024] = "";
        if (!fgets(got, sizeof got, p)) got[0] = '\0';
        got[strcspn(got, "\n")] = '\0';
        printf("llama.cpp on converted %-20s: %s\n", names[i],
               strcmp(got, want[i]) == 0 ? "golden greedy ids (16 of 16)" : got);
        CHECK_MSG(strcmp(got, want[i]) == 0, "%s: llama.cpp gave '%s', golden '%s'", names[i], got, want[i]);
    }
    CHECK(pclose(p) == 0);
}

int main(void)
{
    const char *root = getenv("INF_TESTDATA");
    snprintf(td, sizeof td, "%s", root ? root : "../shared/testdata");
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/models/random/qwen3-tiny-hf-bf16.gguf", td);
    if (access(probe, R_OK) != 0) TEST_SKIP("test data absent");
    snprintf(tmp, sizeof tmp, "/tmp/test_hf_convert_XXXXXX");
    if (!mkdtemp(tmp)) TEST_SKIP("mkdtemp failed");

    char out_q[4200], out_l[4200], out_m[4200], ref[4200];
    if (convert("qwen3-tiny-hf-bf16", out_q, sizeof out_q)) {
        snprintf(ref, sizeof ref, "%s/models/random/qwen3-tiny-hf-bf16.gguf", td);
        CHECK_MSG(same_gguf(out_q, ref), "qwen3 conversion differs from the reference");
    }
    if (convert("llama3-tiny-hf-f16", out_l, sizeof out_l)) {
        snprintf(ref, sizeof ref, "%s/models/random/llama3-tiny-hf-f16.gguf", td);
        CHECK_MSG(same_gguf(out_l, ref), "llama3 conversion (q/k permutation) differs from the reference");
    }
    int have_m = convert("qwen3-tiny-mlx4", out_m, sizeof out_m);
    if (have_m) {
        struct gguf_file *g = NULL;
        char err[512];
        CHECK(gguf_open(out_m, &g, err, sizeof err) == 0);
        const struct gguf_tensor *t = g ? gguf_get_tensor(g, "blk.0.attn_q.weight") : NULL;
        CHECK(t && t->type == 0 && t->ne[0] == 256 && t->ne[1] == 512); /* MLX dequantised to f32 */
        uint32_t ft = 99;
        CHECK(g && gguf_get_u32(g, "general.file_type", &ft) == 0 && ft == 0);
        gguf_close(g);
    }
    if (system("node --version >/dev/null 2>&1") == 0 && access("node_modules/node-llama-cpp", R_OK) == 0) {
        const char *names[3] = {"qwen3-tiny-hf-bf16", "llama3-tiny-hf-f16", "qwen3-tiny-mlx4"};
        const char *files[3] = {out_q, out_l, out_m};
        llama_cpp_runs(names, files, have_m ? 3 : 2);
    } else {
        printf("NOTE: node or node_modules/node-llama-cpp absent: llama.cpp runs skipped\n");
    }

    /* Refusals leave no output file. */
    char dir[4096], out[4200], err[512] = "";
    snprintf(dir, sizeof dir, "%s/models/random/gemma3-tiny-hf-bf16", td);
    snprintf(out, sizeof out, "%s/gemma.gguf", tmp);
    CHECK(hf_convert_to_gguf(dir, out, NULL, err, sizeof err) != 0);
    CHECK_MSG(strstr(err, "tokenizer.json") && strstr(err, "byte-level"), "%s", err);
    CHECK(access(out, F_OK) != 0);
    CHECK(hf_convert_to_gguf("/nonexistent", out, NULL, err, sizeof err) != 0 && strstr(err, "/nonexistent"));
    snprintf(dir, sizeof dir, "%s/models/random/qwen3-tiny-hf-bf16", td);
    CHECK(hf_convert_to_gguf(dir, "/nonexistent/x.gguf", NULL, err, sizeof err) != 0);
    CHECK_MSG(strstr(err, "/nonexistent/x.gguf") != NULL, "%s", err);
    /* A forced pre name is written as given. */
    struct hf_convert_options o = {"named", "qwen2"};
    snprintf(out, sizeof out, "%s/named.gguf", tmp);
    CHECK(hf_convert_to_gguf(dir, out, &o, err, sizeof err) == 0);
    struct gguf_file *g = NULL;
    const char *s = NULL;
    CHECK(gguf_open(out, &g, err, sizeof err) == 0 && gguf_get_string(g, "general.name", &s, NULL) == 0 &&
          strcmp(s, "named") == 0);
    gguf_close(g);

    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    return TEST_DONE();
}
