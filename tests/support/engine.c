/* engine.c - see engine.h. */
#include "engine.h"

#include "model/kv_cache.h"
#include "model/model.h"
#include "tensor/tensor_types.h"
#include "test_util.h"

#include <stdlib.h>

struct model *engine_load(const char *path, int kv_type)
{
    struct model_load_params p = model_load_params_default();
    if (kv_type >= 0) p.kv_type = kv_type;
    struct model *m = NULL;
    inf_error err = {0};
    int rc = model_load(path, &p, &m, &err);
    CHECK_MSG(rc == 0 && m, "load %s: %s", path, err.message);
    return rc == 0 ? m : NULL;
}

int engine_n_vocab(const struct model *m) { return model_hparams(m)->n_vocab; }

static int run(struct model *m, struct kv_cache *c, const int32_t *ids, int n, int first_pos, int all, float *out)
{
    inf_error err = {0};
    int32_t *pos = malloc((size_t)n * sizeof *pos);
    struct kv_cache **caches = malloc((size_t)n * sizeof *caches);
    uint8_t *want = malloc((size_t)n);
    if (!pos || !caches || !want) {
        free(pos), free(caches), free(want);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        pos[i] = first_pos + i;
        caches[i] = c;
        want[i] = all || i == n - 1;
    }
    struct model_batch b = {n, ids, pos, caches, want};
    int rc = model_forward(m, NULL, &b, out, NULL, &err);
    CHECK_MSG(rc == 0, "forward: %s", err.message);
    free(pos), free(caches), free(want);
    return rc;
}

float *engine_logits_all(struct model *m, const int32_t *ids, int n)
{
    inf_error err = {0};
    struct kv_cache *c = kv_cache_create(m, n + 16, &err);
    CHECK_MSG(c != NULL, "cache: %s", err.message);
    float *out = c ? malloc((size_t)n * (size_t)engine_n_vocab(m) * sizeof *out) : NULL;
    if (out && run(m, c, ids, n, 0, 1, out) != 0) {
        free(out);
        out = NULL;
    }
    kv_cache_free(c);
    return out;
}

int engine_greedy(struct model *m, const int32_t *ids, int n, int n_new, int32_t *out)
{
    inf_error err = {0};
    int V = engine_n_vocab(m);
    struct kv_cache *c = kv_cache_create(m, n + n_new + 16, &err);
    float *logits = malloc((size_t)V * sizeof *logits);
    int made = -1;
    if (c && logits && run(m, c, ids, n, 0, 0, logits) == 0) {
        for (made = 0; made < n_new; made++) {
            int best = 0;
            for (int k = 1; k < V; k++)
                if (logits[k] > logits[best]) best = k;
            out[made] = best;
            if (made + 1 < n_new && run(m, c, &out[made], 1, n + made, 0, logits) != 0) {
                made = -1;
                break;
            }
        }
    }
    kv_cache_free(c);
    free(logits);
    return made;
}
