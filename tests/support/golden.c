/* golden.c - see golden.h. */
#include "golden.h"

#include "test_util.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = 0;
    if (len) *len = (size_t)n;
    return buf;
}

static int json_ids(const cJSON *arr, int32_t *out, int cap)
{
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) if (n < cap) out[n++] = (int32_t)it->valuedouble;
    return n;
}

void golden_log_softmax(const float *x, int n, float *out)
{
    double m = -INFINITY, s = 0;
    for (int i = 0; i < n; i++)
        if (x[i] > m) m = x[i];
    for (int i = 0; i < n; i++) s += exp((double)x[i] - m);
    double lse = m + log(s);
    for (int i = 0; i < n; i++) out[i] = (float)((double)x[i] - lse);
}

void golden_load(const char *name, int idx, golden *g)
{
    memset(g, 0, sizeof *g);
    char rel[512];
    snprintf(rel, sizeof rel, "golden/%s/%d.json", name, idx);
    char *text = slurp(test_data_path(rel), NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *prompt = cJSON_GetObjectItem(j, "prompt"), *stop = cJSON_GetObjectItem(j, "stop");
    if (!cJSON_IsString(prompt)) {
        fprintf(stderr, "FAIL: %s/%s is not a golden JSON file\n", test_data_root(), rel);
        exit(1);
    }
    snprintf(g->prompt, sizeof g->prompt, "%s", prompt->valuestring);
    snprintf(g->stop, sizeof g->stop, "%s", cJSON_IsString(stop) ? stop->valuestring : "limit");
    g->n_prompt_ids = json_ids(cJSON_GetObjectItem(j, "prompt_ids"), g->prompt_ids, GOLDEN_MAX_IDS);
    g->n_greedy = json_ids(cJSON_GetObjectItem(j, "greedy_ids"), g->greedy_ids, GOLDEN_MAX_IDS);
    cJSON_Delete(j);

    char path[4096];
    snprintf(path, sizeof path, "%s/golden/%s/%d.logits.f32", test_data_root(), name, idx);
    bool raw = access(path, R_OK) == 0;
    if (!raw) {
        snprintf(rel, sizeof rel, "golden/%s/%d.logprobs.f32", name, idx);
        snprintf(path, sizeof path, "%s", test_data_path(rel));
    }
    size_t bytes = 0;
    g->logprobs = (float *)slurp(path, &bytes);
    g->n_vocab = (int)(bytes / sizeof(float));
    float lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < g->n_vocab; i++) {
        if (!isfinite(g->logprobs[i])) continue;
        if (g->logprobs[i] < lo) lo = g->logprobs[i];
        if (g->logprobs[i] > hi) hi = g->logprobs[i];
    }
    g->range = hi - lo;
    if (raw) golden_log_softmax(g->logprobs, g->n_vocab, g->logprobs);
}

void golden_free(golden *g)
{
    free(g->logprobs);
    g->logprobs = NULL;
}

double golden_rel_diff(const golden *g, const float *our_logits)
{
    float *lp = malloc((size_t)g->n_vocab * sizeof *lp);
    if (!lp) return INFINITY;
    golden_log_softmax(our_logits, g->n_vocab, lp);
    double worst = 0;
    for (int i = 0; i < g->n_vocab; i++) {
        if (!isfinite(g->logprobs[i])) continue;
        double d = fabs((double)lp[i] - g->logprobs[i]);
        if (d > worst) worst = d;
    }
    free(lp);
    return g->range > 0 ? worst / g->range : worst;
}
