/* test_formats_safetensors.c - the safetensors reader on real files and on a
 * set of hostile ones (truncated, bad header length, bad JSON, dtype/shape
 * mismatch, offsets past the end, overlaps, holes, duplicates); the shard
 * set over a sharded index, including a lying index. */
#include "formats/safetensors.h"
#include "test_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Build a file image: 8-byte length, header text, then data_len bytes. */
static unsigned char *make_image(const char *header, uint64_t declared_len, size_t data_len, size_t *size)
{
    size_t hl = strlen(header);
    *size = 8 + hl + data_len;
    unsigned char *b = calloc(1, *size + 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(declared_len >> (8 * i));
    memcpy(b + 8, header, hl);
    for (size_t i = 0; i < data_len; i++) b[8 + hl + i] = (unsigned char)i;
    return b;
}

/* Opens an image (header declared with its true length unless decl != 0),
 * returns the rc and leaves the message in err. */
static int try_open(const char *header, uint64_t decl, size_t data_len, inf_error *err)
{
    size_t size;
    unsigned char *img = make_image(header, decl ? decl : strlen(header), data_len, &size);
    struct safetensors_file *f = NULL;
    int rc = safetensors_open_memory(img, size, "bad.safetensors", &f, err);
    if (rc == 0) safetensors_close(f);
    free(img);
    return rc;
}

static void expect_error(const char *what, const char *header, uint64_t decl, size_t data_len,
                         const char *must_contain)
{
    inf_error err = {0};
    int rc = try_open(header, decl, data_len, &err);
    CHECK_MSG(rc != 0, "%s: accepted", what);
    CHECK_MSG(strstr(err.message, "bad.safetensors") != NULL, "%s: message lacks the file: %s", what, err.message);
    CHECK_MSG(strstr(err.message, must_contain) != NULL, "%s: message '%s' lacks '%s'", what, err.message, must_contain);
}

static void test_good_image(void)
{
    const char *h = "{\"__metadata__\":{\"format\":\"pt\"},"
                    "\"b\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,32]},"
                    "\"a\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]},"
                    "\"z\":{\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[32,32]}}   ";
    size_t size;
    unsigned char *img = make_image(h, strlen(h), 32, &size);
    struct safetensors_file *f = NULL;
    inf_error err = {0};
    int rc = safetensors_open_memory(img, size, "good.safetensors", &f, &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    if (rc == 0) {
        CHECK(safetensors_n_tensors(f) == 3);
        CHECK_STREQ(safetensors_tensor_at(f, 0)->name, "a"); /* sorted by name */
        const struct safetensors_tensor *b = safetensors_find(f, "b");
        CHECK(b && b->dtype == SAFETENSORS_F32 && b->n_dims == 2 && b->shape[0] == 2 && b->shape[1] == 3);
        CHECK(b && b->size == 24 && b->n_elements == 6);
        CHECK(b && (const unsigned char *)b->data == img + 8 + strlen(h) + 8);
        CHECK(safetensors_find(f, "nope") == NULL);
        CHECK_STREQ(safetensors_metadata(f, "format"), "pt");
        CHECK(safetensors_metadata(f, "x") == NULL);
        safetensors_close(f);
    }
    free(img);
}

static void test_hostile_images(void)
{
    const char *ok = "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    inf_error err = {0};
    /* Truncated: fewer than 8 bytes, and data cut short. */
    {
        struct safetensors_file *f = NULL;
        unsigned char tiny[5] = {1, 0, 0, 0, 0};
        CHECK(safetensors_open_memory(tiny, sizeof tiny, "bad.safetensors", &f, &err) != 0 && !f);
        CHECK(strstr(err.message, "too short") != NULL);
    }
    expect_error("truncated data", ok, 0, 4, "past the end");
    expect_error("header length too big", ok, 1000000, 8, "header length");
    expect_error("header length huge", ok, UINT64_MAX - 3, 8, "header length");
    expect_error("header length short", ok, 10, 8, "JSON");
    expect_error("not json", "{\"t\": [1, 2,,]}", 0, 0, "JSON");
    expect_error("not an object", "[1,2,3]  ", 0, 0, "'{'");
    expect_error("unknown dtype", "{\"t\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 8,
                 "unknown dtype 'Q4'");
    expect_error("dtype/shape mismatch", "{\"t\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,8]}}", 0, 8,
                 "tensor 't'");
    expect_error("dtype/shape mismatch bytes", "{\"t\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,8]}}", 0, 8,
                 "need 12 bytes");
    expect_error("negative dim", "{\"t\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 0, 8, "shape[0]");
    expect_error("fractional dim", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", 0, 8, "shape[0]");
    expect_error("overflowing shape",
                 "{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 0, 8,
                 "too large");
    expect_error("offsets past end", "{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 0, 16,
                 "past the end");
    expect_error("offsets reversed", "{\"t\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 0, 16,
                 "end before");
    expect_error("offsets not pair", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 0, 8,
                 "data_offsets");
    expect_error("missing dtype", "{\"t\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 8, "tensor 't'");
    expect_error("overlap",
                 "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 0, 12, "overlaps");
    expect_error("identical spans",
                 "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 8, "overlaps");
    expect_error("hole",
                 "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 0, 20, "unused");
    expect_error("trailing bytes", ok, 0, 12, "trailing");
    expect_error("duplicate name",
                 "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                 "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 0, 8, "twice");
    expect_error("metadata not strings", "{\"__metadata__\":{\"k\":1},"
                 "\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 8, "__metadata__");
    expect_error("junk after json", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} xx", 0, 8,
                 "after the header");
    expect_error("too many dims", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}",
                 0, 4, "dimensions");

    /* Every prefix of a valid image is rejected without a crash. */
    size_t size;
    unsigned char *img = make_image(ok, strlen(ok), 8, &size);
    int rejected = 0;
    for (size_t cut = 0; cut < size; cut++) {
        unsigned char *copy = malloc(cut ? cut : 1);
        memcpy(copy, img, cut);
        struct safetensors_file *f = NULL;
        if (safetensors_open_memory(copy, cut, "cut.safetensors", &f, &err) != 0) rejected++;
        safetensors_close(f);
        free(copy);
    }
    CHECK_MSG(rejected == (int)size, "%d of %zu prefixes rejected", rejected, size);
    free(img);
}

/* Random byte changes in the header of a valid image: every result is a
 * clean accept or a clean error (ASan/UBSan watch the rest). */
static void test_mutations(void)
{
    const char *h = "{\"__metadata__\":{\"format\":\"mlx\"},"
                    "\"w\":{\"dtype\":\"U32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                    "\"s\":{\"dtype\":\"BF16\",\"shape\":[2,1],\"data_offsets\":[16,20]},"
                    "\"b\":{\"dtype\":\"BF16\",\"shape\":[2,1],\"data_offsets\":[20,24]}}";
    size_t size;
    unsigned char *img = make_image(h, strlen(h), 24, &size);
    unsigned char *m = malloc(size);
    uint32_t seed = 12345;
    int accepted = 0, rejected = 0;
    static const char alphabet[] = "{}[]\",:0123456789-.eE \\ux";
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(m, img, size);
        int changes = 1 + iter % 4;
        for (int c = 0; c < changes; c++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % (size - 24); /* header bytes (and the length) */
            seed = seed * 1103515245u + 12345u;
            m[at] = (seed >> 16) % 3 ? (unsigned char)alphabet[(seed >> 8) % (sizeof alphabet - 1)]
                                     : (unsigned char)(seed >> 8);
        }
        struct safetensors_file *f = NULL;
        inf_error err = {0};
        if (safetensors_open_memory(m, size, "mut.safetensors", &f, &err) == 0) {
            accepted++;
            /* whatever was accepted lies inside the data buffer */
            for (int64_t i = 0; i < safetensors_n_tensors(f); i++) {
                const struct safetensors_tensor *t = safetensors_tensor_at(f, i);
                CHECK((const unsigned char *)t->data >= m + 8 && (const unsigned char *)t->data + t->size <= m + size);
            }
            safetensors_close(f);
        } else {
            rejected++;
            CHECK(f == NULL && strstr(err.message, "mut.safetensors") != NULL);
        }
    }
    printf("3000 mutated headers: %d accepted (valid), %d rejected with a message\n", accepted, rejected);
    CHECK(rejected > 0);
    free(m);
    free(img);
}

static void test_open_file_errors(void)
{
    inf_error err = {0};
    struct safetensors_file *f = NULL;
    CHECK(safetensors_open("/nonexistent/model.safetensors", &f, &err) != 0 && !f);
    CHECK(strstr(err.message, "/nonexistent/model.safetensors") != NULL);
    CHECK(safetensors_open("/tmp", &f, &err) != 0);
}

static void test_real_file(void)
{
    const char *p = test_data_path("models/random/qwen3-tiny-hf-bf16/model.safetensors");
    if (!p) return; /* test_data_path failed the test */
    struct safetensors_file *f = NULL;
    inf_error err = {0};
    int rc = safetensors_open(p, &f, &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    if (rc) return;
    /* qwen3 tiny: embed + final norm + 2 layers x 11 tensors (tied: no lm_head). */
    CHECK_MSG(safetensors_n_tensors(f) == 2 + 2 * 11, "%lld tensors", (long long)safetensors_n_tensors(f));
    const struct safetensors_tensor *e = safetensors_find(f, "model.embed_tokens.weight");
    CHECK(e && e->dtype == SAFETENSORS_BF16 && e->shape[0] == 8218 && e->shape[1] == 256);
    const struct safetensors_tensor *q = safetensors_find(f, "model.layers.1.self_attn.q_proj.weight");
    CHECK(q && q->shape[0] == 512 && q->shape[1] == 256);
    safetensors_close(f);

    /* The directory as a set, and the MLX metadata. */
    struct safetensors_set *s = NULL;
    const char *d = test_data_path("models/random/qwen3-tiny-mlx4/config.json");
    if (d) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", d);
        *strrchr(dir, '/') = '\0';
        rc = safetensors_set_open(dir, &s, &err);
        CHECK_MSG(rc == 0, "%s", err.message);
        if (rc == 0) {
            CHECK(safetensors_set_n_files(s) == 1);
            CHECK_STREQ(safetensors_metadata(safetensors_set_file(s, 0), "format"), "mlx");
            const struct safetensors_tensor *w = safetensors_set_find(s, "model.layers.0.mlp.down_proj.weight", NULL);
            /* down_proj [256, 768] at 4 bits: 768 * 4 / 32 = 96 words per row. */
            CHECK(w && w->dtype == SAFETENSORS_U32 && w->shape[0] == 256 && w->shape[1] == 96);
            const struct safetensors_tensor *sc = safetensors_set_find(s, "model.layers.0.mlp.down_proj.scales", NULL);
            CHECK(sc && sc->dtype == SAFETENSORS_BF16 && sc->shape[1] == 768 / 64);
            safetensors_set_close(s);
        }
    }
}

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    size_t w = fwrite(data, 1, n, fp);
    fclose(fp);
    return w == n ? 0 : -1;
}

/* Two hand-made shards and an index; then an index that lies. */
static void test_sharded_set(void)
{
    char dir[] = "/tmp/test_hf_safetensors_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char path[512];
    const char *h1 = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    const char *h2 = "{\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                     "\"c\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}";
    size_t n1, n2;
    unsigned char *i1 = make_image(h1, strlen(h1), 8, &n1), *i2 = make_image(h2, strlen(h2), 8, &n2);
    snprintf(path, sizeof path, "%s/model-00001-of-00002.safetensors", dir);
    CHECK(write_file(path, i1, n1) == 0);
    snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", dir);
    CHECK(write_file(path, i2, n2) == 0);
    free(i1);
    free(i2);
    const char *index = "{\"metadata\":{\"total_size\":16},\"weight_map\":{"
                        "\"a\":\"model-00001-of-00002.safetensors\","
                        "\"b\":\"model-00002-of-00002.safetensors\","
                        "\"c\":\"model-00002-of-00002.safetensors\"}}";
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    CHECK(write_file(path, index, strlen(index)) == 0);
    struct safetensors_set *s = NULL;
    inf_error err = {0};
    int rc = safetensors_set_open(dir, &s, &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    if (rc == 0) {
        CHECK(safetensors_set_n_files(s) == 2);
        CHECK(safetensors_set_n_tensors(s) == 3);
        const struct safetensors_file *where = NULL;
        const struct safetensors_tensor *c = safetensors_set_find(s, "c", &where);
        CHECK(c && c->dtype == SAFETENSORS_U8 && where == safetensors_set_file(s, 1));
        CHECK(safetensors_set_tensor_at(s, 2) == c);
        safetensors_set_close(s);
    }
    /* The index says c is in shard 1: wrong. */
    const char *lying = "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                        "\"b\":\"model-00002-of-00002.safetensors\",\"c\":\"model-00001-of-00002.safetensors\"}}";
    CHECK(write_file(path, lying, strlen(lying)) == 0);
    CHECK(safetensors_set_open(dir, &s, &err) != 0 && !s);
    CHECK_MSG(strstr(err.message, "'c'") != NULL, "%s", err.message);
    /* Path traversal in a shard name. */
    const char *escape = "{\"weight_map\":{\"a\":\"../x.safetensors\"}}";
    CHECK(write_file(path, escape, strlen(escape)) == 0);
    CHECK(safetensors_set_open(dir, &s, &err) != 0);
    CHECK_MSG(strstr(err.message, "plain file name") != NULL, "%s", err.message);
    /* A missing shard. */
    const char *missing = "{\"weight_map\":{\"a\":\"model-00009-of-00009.safetensors\"}}";
    CHECK(write_file(path, missing, strlen(missing)) == 0);
    CHECK(safetensors_set_open(dir, &s, &err) != 0);
    CHECK_MSG(strstr(err.message, "model-00009-of-00009.safetensors") != NULL, "%s", err.message);
    /* Not JSON. */
    CHECK(write_file(path, "{", 1) == 0);
    CHECK(safetensors_set_open(dir, &s, &err) != 0);
    unlink(path);
    snprintf(path, sizeof path, "%s/model-00001-of-00002.safetensors", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_good_image();
    test_hostile_images();
    test_mutations();
    test_open_file_errors();
    test_real_file();
    test_sharded_set();
    return TEST_DONE();
}
