/* test_backends_cpu_discover.c - inf_discover over a made-up tree: HF directories
 * (plain, MLX, sharded), GGUF files at depth 1 and 2, and entries that must
 * be skipped (malformed config, no weights, broken GGUF, too deep). */
#include "inference.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

static void put(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    FILE *f = fopen(p, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void dir(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    mkdir(p, 0755);
}

static void link_to(const char *target, const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    if (symlink(target, p) != 0) fprintf(stderr, "symlink %s failed\n", p);
}

static const inf_discovered_model *find(const inf_discovered_model *m, size_t n, const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].path, p) == 0) return &m[i];
    return NULL;
}

int main(void)
{
    const char *q4 = test_data_path("models/random/qwen3-tiny-q4_0.gguf");
    if (!q4) TEST_FAIL("test data absent");
    char q4_path[4096], data[4096];
    snprintf(q4_path, sizeof q4_path, "%s", q4);
    snprintf(data, sizeof data, "%s", q4_path);
    *strrchr(data, '/') = '\0';
    char target[4200];

    snprintf(root, sizeof root, "/tmp/test_hf_discover_XXXXXX");
    if (!mkdtemp(root)) TEST_FAIL("mkdtemp failed");

    snprintf(target, sizeof target, "%s/qwen3-tiny-mlx4", data);
    link_to(target, "mlx4");
    snprintf(target, sizeof target, "%s/llama3-tiny-hf-f16", data);
    dir("group");
    link_to(target, "group/llama3");
    link_to(q4_path, "group/q4.gguf");
    snprintf(target, sizeof target, "%s/qwen3-tiny-q8_0.gguf", data);
    link_to(target, "q8.gguf");
    snprintf(target, sizeof target, "%s/gemma3-tiny-hf-bf16", data);
    dir("group/deeper");
    link_to(target, "group/deeper/gemma"); /* depth 3: not reported */
    /* A sharded directory (config + index + two named shards). */
    dir("sharded");
    put("sharded/config.json", "{\"model_type\":\"llama\"}");
    put("sharded/model.safetensors.index.json",
        "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}}");
    put("sharded/model-00001-of-00002.safetensors", "x");
    put("sharded/model-00002-of-00002.safetensors", "x");
    /* Skipped: malformed config; config without weights; broken gguf. */
    dir("badcfg");
    put("badcfg/config.json", "{not json");
    put("badcfg/model.safetensors", "x");
    dir("noweights");
    put("noweights/config.json", "{\"model_type\":\"qwen3\"}");
    put("broken.gguf", "GGUF but not really");
    put("notes.txt", "hello");

    inf_discovered_model *m = NULL;
    size_t n = 0;
    inf_error err;
    inf_status st = inf_discover(root, &m, &n, &err);
    CHECK_MSG(st == INF_OK, "%s", err.message);
    CHECK_MSG(n == 5, "%zu models", n);
    for (size_t i = 1; i < n; i++) CHECK(strcmp(m[i - 1].path, m[i].path) < 0);

    const inf_discovered_model *d = find(m, n, "mlx4");
    CHECK(d && !d->is_gguf && strcmp(d->architecture, "qwen3") == 0 && d->quant_bits == 4 && d->quant_group == 64 &&
          d->num_files == 1);
    d = find(m, n, "group/llama3");
    CHECK(d && !d->is_gguf && strcmp(d->architecture, "llama") == 0 && d->quant_bits == 0 && d->num_files == 1);
    d = find(m, n, "group/q4.gguf");
    CHECK(d && d->is_gguf && strcmp(d->architecture, "qwen3") == 0 && d->quant_bits == 4 && d->quant_group == 32 &&
          d->num_files == 1);
    d = find(m, n, "q8.gguf");
    CHECK(d && d->is_gguf && d->quant_bits == 8 && d->quant_group == 32);
    d = find(m, n, "sharded");
    CHECK(d && d->num_files == 2 && strcmp(d->architecture, "llama") == 0);
    CHECK(find(m, n, "group/deeper/gemma") == NULL);
    CHECK(find(m, n, "badcfg") == NULL && find(m, n, "noweights") == NULL && find(m, n, "broken.gguf") == NULL);
    inf_discover_free(m, n);

    /* A model directory passed itself is reported. */
    snprintf(target, sizeof target, "%s/mlx4", root);
    st = inf_discover(target, &m, &n, &err);
    CHECK(st == INF_OK && n == 1 && m && m[0].quant_bits == 4);
    inf_discover_free(m, n);

    /* Errors. */
    CHECK(inf_discover("/nonexistent/dir", &m, &n, &err) == INF_ERR_NOT_FOUND && m == NULL && n == 0);
    CHECK(strstr(err.message, "/nonexistent/dir") != NULL);
    CHECK(inf_discover(NULL, &m, &n, &err) == INF_ERR_INVALID_ARGUMENT);

    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    return TEST_DONE();
}
