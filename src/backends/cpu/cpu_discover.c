/* discover.c - inf_discover / inf_discover_free (Go's Discover): the model
 * directories (config.json + at least one .safetensors) and .gguf files in
 * a directory, in its immediate subdirectories, and the directory itself
 * when it is one, sorted by path. Anything unreadable or malformed is
 * skipped. HF facts come from config.json (model_type, MLX quantisation)
 * and the shard count; GGUF facts from the metadata (general.architecture,
 * general.file_type, else the dominant weight type). */
#include "inference.h"
#include "base/str.h"
#include "base/file.h"

#include "formats/gguf.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "tensor/tensor_types.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct found_list {
    inf_discovered_model *items;
    size_t n, cap;
    int oom;
};

static char *join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p) return NULL;
    size_t dl = strlen(dir);
    snprintf(p, n, "%s%s%s", dir, (dl && dir[dl - 1] == '/') ? "" : "/", name);
    return p;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void list_add(struct found_list *l, const char *path, const char *arch, int bits, int group, int files,
                     bool is_gguf)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        inf_discovered_model *p = realloc(l->items, cap * sizeof *p);
        if (!p) {
            l->oom = 1;
            return;
        }
        l->items = p;
        l->cap = cap;
    }
    inf_discovered_model *d = &l->items[l->n];
    memset(d, 0, sizeof *d);
    d->path = str_dup(path);
    d->architecture = str_dup(arch);
    if (!d->path || !d->architecture) {
        free(d->path);
        free(d->architecture);
        l->oom = 1;
        return;
    }
    d->quant_bits = bits;
    d->quant_group = group;
    d->num_files = files;
    d->is_gguf = is_gguf;
    l->n++;
}

/* Weight files of a HF directory: the index's distinct shards, else the
 * *.safetensors files present. */
static int count_weight_files(const char *dir)
{
    char *idx = join_path(dir, "model.safetensors.index.json");
    int n = 0;
    if (idx) {
        size_t len;
        char *text = file_read_all(idx, 64u << 20, &len, NULL);
        if (text) {
            char **files;
            int nf;
            if (safetensors_index_parse(text, len, idx, &files, &nf, NULL) == 0) {
                n = nf;
                safetensors_index_free(files, nf);
            }
            free(text);
        }
        free(idx);
        if (n > 0) return n;
    }
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (ends_with(e->d_name, ".safetensors") && strlen(e->d_name) > 12) n++;
    closedir(d);
    return n;
}

static void try_hf_dir(struct found_list *l, const char *dir)
{
    char *cfg_path = join_path(dir, "config.json");
    if (!cfg_path) return;
    struct stat st;
    if (stat(cfg_path, &st) != 0 || !S_ISREG(st.st_mode)) {
        free(cfg_path);
        return;
    }
    size_t len;
    char *text = file_read_all(cfg_path, 16u << 20, &len, NULL);
    free(cfg_path);
    if (!text) return;
    char model_type[64];
    int bits, group;
    int rc = hf_config_peek(text, len, model_type, sizeof model_type, &bits, &group);
    free(text);
    if (rc != 0) return;
    int files = count_weight_files(dir);
    if (files > 0) list_add(l, dir, model_type, bits, group, files, false);
}

/* llama_ftype -> (bits, group); 0/0 for float types and unknown ones. */
static void ftype_quant(uint32_t ft, int *bits, int *group)
{
    static const struct { uint32_t ft; int bits, group; } table[] = {
        {2, 4, 32}, {3, 4, 32}, {7, 8, 32}, {8, 5, 32}, {9, 5, 32}, {10, 2, 256}, {11, 3, 256},
        {12, 3, 256}, {13, 3, 256}, {14, 4, 256}, {15, 4, 256}, {16, 5, 256}, {17, 5, 256}, {18, 6, 256},
    };
    *bits = *group = 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].ft == ft) {
            *bits = table[i].bits;
            *group = table[i].group;
        }
}

/* Bits/group of a tensor type (quantised ones only). */
static void type_quant(int type, int *bits, int *group)
{
    static const struct { int type, bits; } table[] = {
        {TENSOR_TYPE_Q4_0, 4}, {TENSOR_TYPE_Q4_1, 4}, {TENSOR_TYPE_Q5_0, 5}, {TENSOR_TYPE_Q5_1, 5},
        {TENSOR_TYPE_Q8_0, 8}, {TENSOR_TYPE_Q2_K, 2}, {TENSOR_TYPE_Q3_K, 3}, {TENSOR_TYPE_Q4_K, 4},
        {TENSOR_TYPE_Q5_K, 5}, {TENSOR_TYPE_Q6_K, 6}, {TENSOR_TYPE_IQ4_NL, 4}, {TENSOR_TYPE_IQ4_XS, 4},
    };
    *bits = *group = 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].type == type) {
            *bits = table[i].bits;
            *group = (int)tensor_type_block_size(type);
        }
}

static void try_gguf(struct found_list *l, const char *path)
{
    struct gguf_file *f = NULL;
    if (gguf_open(path, &f, NULL) != 0) return;
    const char *arch = "";
    if (gguf_get_string(f, "general.architecture", &arch, NULL) != GGUF_OK) arch = "";
    int bits = 0, group = 0;
    uint32_t ft;
    if (gguf_get_u32(f, "general.file_type", &ft) == GGUF_OK) {
        ftype_quant(ft, &bits, &group);
    } else {
        /* The type holding the most bytes of 2-D weights. */
        uint64_t best = 0;
        int best_type = -1;
        uint64_t bytes[TENSOR_TYPE_COUNT] = {0};
        for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
            const struct gguf_tensor *t = gguf_tensor_at(f, i);
            if (t->n_dims >= 2 && t->type < TENSOR_TYPE_COUNT) bytes[t->type] += t->size;
        }
        for (int t = 0; t < TENSOR_TYPE_COUNT; t++)
            if (bytes[t] > best) {
                best = bytes[t];
                best_type = t;
            }
        if (best_type >= 0) type_quant(best_type, &bits, &group);
    }
    list_add(l, path, arch, bits, group, 1, true);
    gguf_close(f);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Look at every entry of dir; recurse one more level when depth allows. */
static void scan(struct found_list *l, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && !l->oom) {
        if (e->d_name[0] == '.') continue; /* ".", "..", hidden */
        char *p = join_path(dir, e->d_name);
        if (!p) {
            l->oom = 1;
            break;
        }
        if (is_dir(p)) {
            try_hf_dir(l, p);
            if (depth > 0) scan(l, p, depth - 1);
        } else if (ends_with(e->d_name, ".gguf")) {
            try_gguf(l, p);
        }
        free(p);
    }
    closedir(d);
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(((const inf_discovered_model *)a)->path, ((const inf_discovered_model *)b)->path);
}

void inf_discover_free(inf_discovered_model *models, size_t n)
{
    if (!models) return;
    for (size_t i = 0; i < n; i++) {
        free(models[i].path);
        free(models[i].architecture);
    }
    free(models);
}

inf_status inf_discover(const char *dir, inf_discovered_model **models, size_t *n, inf_error *err)
{
    if (models) *models = NULL;
    if (n) *n = 0;
    if (!dir || !models || !n) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "inf_discover: dir, models and n must not be NULL");
        return INF_ERR_INVALID_ARGUMENT;
    }
    DIR *d = opendir(dir);
    if (!d) {
        inf_status st = errno == ENOENT ? INF_ERR_NOT_FOUND : INF_ERR_IO;
        inf_error_set(err, st, "%s: cannot open directory: %s", dir, strerror(errno));
        return st;
    }
    closedir(d);
    struct found_list l = {0};
    try_hf_dir(&l, dir);
    scan(&l, dir, 1);
    if (l.oom) {
        inf_discover_free(l.items, l.n);
        inf_error_set(err, INF_ERR_NO_MEMORY, "%s: out of memory while discovering models", dir);
        return INF_ERR_NO_MEMORY;
    }
    if (l.n > 1) qsort(l.items, l.n, sizeof *l.items, cmp_path);
    *models = l.items;
    *n = l.n;
    inf_error_clear(err);
    return INF_OK;
}
