/* test_formats_gguf.c - the GGUF reader on real files and on hostile ones.
 *
 * 1. Every .gguf under testdata (models, models/random, vocab) opens; every
 *    key, string-array element and tensor is readable and inside the file.
 * 2. A small GGUF built here: values and typed getters with coercion.
 * 3. Hostile variants of it (each must fail with a clear message, never
 *    crash; run under ASan with -DINF_SANITIZE=ON): truncated at every byte,
 *    wrong magic / version, absurd counts and lengths, offsets past the end,
 *    misaligned or overlapping tensors, unknown tensor / value types, bad
 *    shapes, duplicate names, bad alignment, nested arrays; plus random byte
 *    corruption. */
#include "test_util.h"

#include "formats/gguf.h"
#include "tensor/tensor_types.h"

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- a tiny GGUF writer */

struct buf {
    uint8_t *p;
    size_t n, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void u32(struct buf *b, uint32_t v) { put(b, &v, 4); }
static void u64(struct buf *b, uint64_t v) { put(b, &v, 8); }
static void str(struct buf *b, const char *s) { u64(b, strlen(s)); put(b, s, strlen(s)); }
static void pad_to(struct buf *b, size_t a)
{
    static const uint8_t z[64];
    while (b->n % a) put(b, z, 1);
}

/* Knobs for building variants. */
struct spec {
    uint32_t version;
    uint64_t n_tensors_override, n_kv_override; /* 0 = real counts */
    int bad_alignment;                         /* general.alignment = 3 */
    int dup_key, dup_tensor, nested_array, bad_value_type;
    uint32_t t1_type;                          /* type of the second tensor */
    uint32_t t1_ndims;
    int64_t t1_ne0;
    uint64_t t1_offset_add;                    /* added to the second tensor's offset */
    uint64_t str_len_override;                 /* general.name length field */
    uint64_t arr_len_override;                 /* int array length field */
};

static const float T0[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* Records offsets of section boundaries for the truncation test. */
static size_t bounds[64];
static int n_bounds;

static struct buf build(const struct spec *s)
{
    struct buf b = { 0 };
    n_bounds = 0;
    put(&b, "GGUF", 4);
    u32(&b, s->version ? s->version : 3);
    bounds[n_bounds++] = b.n;
    u64(&b, s->n_tensors_override ? s->n_tensors_override : (uint64_t)(2 + (s->dup_tensor ? 1 : 0)));
    int n_kv = 6 + (s->dup_key ? 1 : 0) + (s->nested_array ? 1 : 0) + (s->bad_value_type ? 1 : 0);
    u64(&b, s->n_kv_override ? s->n_kv_override : (uint64_t)n_kv);
    bounds[n_bounds++] = b.n;
    /* kv 1: string */
    str(&b, "general.architecture");
    u32(&b, GGUF_TYPE_STRING);
    str(&b, "llama");
    bounds[n_bounds++] = b.n;
    /* kv 2: string with a controllable length */
    str(&b, "general.name");
    u32(&b, GGUF_TYPE_STRING);
    u64(&b, s->str_len_override ? s->str_len_override : 4);
    put(&b, "tiny", 4);
    bounds[n_bounds++] = b.n;
    /* kv 3: alignment */
    str(&b, "general.alignment");
    u32(&b, GGUF_TYPE_UINT32);
    u32(&b, s->bad_alignment ? 3 : 32);
    bounds[n_bounds++] = b.n;
    /* kv 4: int32 array */
    str(&b, "test.ints");
    u32(&b, GGUF_TYPE_ARRAY);
    u32(&b, GGUF_TYPE_INT32);
    u64(&b, s->arr_len_override ? s->arr_len_override : 3);
    int32_t iv[3] = { -1, 7, 100000 };
    put(&b, iv, sizeof iv);
    bounds[n_bounds++] = b.n;
    /* kv 5: string array */
    str(&b, "test.strs");
    u32(&b, GGUF_TYPE_ARRAY);
    u32(&b, GGUF_TYPE_STRING);
    u64(&b, 3);
    str(&b, "a");
    str(&b, "");
    str(&b, "hello");
    bounds[n_bounds++] = b.n;
    /* kv 6: scalars of other types, packed as a uint8 and a float */
    str(&b, "test.u8");
    u32(&b, GGUF_TYPE_UINT8);
    uint8_t u8v = 200;
    put(&b, &u8v, 1);
    bounds[n_bounds++] = b.n;
    if (s->dup_key) {
        str(&b, "test.u8");
        u32(&b, GGUF_TYPE_UINT8);
        put(&b, &u8v, 1);
    }
    if (s->nested_array) {
        str(&b, "test.nested");
        u32(&b, GGUF_TYPE_ARRAY);
        u32(&b, GGUF_TYPE_ARRAY);
        u64(&b, 1);
    }
    if (s->bad_value_type) {
        str(&b, "test.bad");
        u32(&b, 77);
        u32(&b, 0);
    }
    /* tensors */
    str(&b, "t0.weight");
    u32(&b, 2);
    u64(&b, 4);
    u64(&b, 2);
    u32(&b, TENSOR_TYPE_F32);
    u64(&b, 0);
    bounds[n_bounds++] = b.n;
    str(&b, "blk.3.attn_q.weight");
    uint32_t nd = s->t1_ndims ? s->t1_ndims : 2;
    u32(&b, nd);
    u64(&b, (uint64_t)(s->t1_ne0 ? s->t1_ne0 : 32));
    for (uint32_t d = 1; d < nd && d < 8; d++) u64(&b, 1);
    u32(&b, s->t1_type ? s->t1_type : TENSOR_TYPE_Q8_0);
    u64(&b, 32 + s->t1_offset_add);
    bounds[n_bounds++] = b.n;
    if (s->dup_tensor) {
        str(&b, "t0.weight");
        u32(&b, 1);
        u64(&b, 8);
        u32(&b, TENSOR_TYPE_F32);
        u64(&b, 0);
    }
    pad_to(&b, 32);
    bounds[n_bounds++] = b.n;
    put(&b, T0, sizeof T0); /* 32 bytes */
    bounds[n_bounds++] = b.n;
    uint8_t q8[34] = { 0 };
    q8[1] = 0x3c; /* f16 1.0 */
    for (int i = 0; i < 32; i++) q8[2 + i] = (uint8_t)(i - 16);
    put(&b, q8, sizeof q8);
    return b;
}

static int open_buf(const struct buf *b, inf_error *err)
{
    struct gguf_file *f = NULL;
    int rc = gguf_open_memory(b->p, b->n, "hostile.gguf", &f, err);
    if (rc == 0) {
        CHECK(f != NULL);
        gguf_close(f);
    } else {
        CHECK(f == NULL);
    }
    return rc;
}

/* Builds spec, expects failure with a message containing want. */
static void expect_fail(const struct spec *s, const char *want, const char *what)
{
    struct buf b = build(s);
    inf_error err = {0};
    int rc = open_buf(&b, &err);
    CHECK_MSG(rc != 0, "%s: opened", what);
    CHECK_MSG(strstr(err.message, "hostile.gguf: ") == err.message, "%s: message lacks the file name: %s", what, err.message);
    CHECK_MSG(strstr(err.message, want) != NULL, "%s: message '%s' lacks '%s'", what, err.message, want);
    printf("  %-28s -> %s\n", what, err.message);
    free(b.p);
}

/* ---------------------------------------------------------------- real files */

static int check_file(const char *path)
{
    struct gguf_file *f = NULL;
    inf_error err = {0};
    if (gguf_open(path, &f, &err)) {
        CHECK_MSG(0, "%s", err.message);
        return -1;
    }
    uint64_t size = gguf_file_size(f);
    const uint8_t *base = gguf_file_data(f);
    CHECK(gguf_version(f) == 2 || gguf_version(f) == 3);
    CHECK(gguf_n_kv(f) > 0);
    for (int64_t i = 0; i < gguf_n_kv(f); i++) {
        const char *k = gguf_key_at(f, i);
        CHECK(k && gguf_find_key(f, k) == i);
        if (gguf_kv_type(f, i) == GGUF_TYPE_ARRAY) {
            struct gguf_array a;
            CHECK(gguf_kv_get_array(f, i, &a) == GGUF_OK);
            for (uint64_t e = 0; e < a.n; e++) {
                if (a.type == GGUF_TYPE_STRING) {
                    const char *s;
                    size_t len;
                    if (gguf_array_string(&a, e, &s, &len) != GGUF_OK ||
                        (const uint8_t *)s < base || (const uint8_t *)s + len > base + size) {
                        CHECK_MSG(0, "%s: %s[%llu]", path, k, (unsigned long long)e);
                        break;
                    }
                } else if (a.type == GGUF_TYPE_FLOAT32 || a.type == GGUF_TYPE_FLOAT64) {
                    float v;
                    if (gguf_array_f32(&a, e, &v) != GGUF_OK) { CHECK(0); break; }
                } else {
                    int64_t v;
                    int rc = gguf_array_i64(&a, e, &v);
                    if (rc != GGUF_OK && rc != GGUF_ERR_RANGE) { CHECK(0); break; }
                }
            }
            CHECK(gguf_array_string(&a, a.n, &(const char *){ 0 }, NULL) != GGUF_OK);
        }
    }
    int64_t nt = gguf_n_tensors(f);
    for (int64_t i = 0; i < nt; i++) {
        const struct gguf_tensor *t = gguf_tensor_at(f, i);
        CHECK(gguf_find_tensor(f, t->name) == i);
        CHECK((const uint8_t *)t->data >= base && t->file_offset + t->size <= size);
        CHECK(t->file_offset % gguf_alignment(f) == 0);
        CHECK(tensor_type_is_known((int)t->type));
    }
    CHECK(gguf_get_tensor(f, "no.such.tensor") == NULL);
    CHECK(gguf_find_key(f, "no.such.key") < 0);
    const char *arch = NULL;
    if (nt > 0) CHECK(gguf_get_string(f, "general.architecture", &arch, NULL) == GGUF_OK && arch && *arch);
    gguf_close(f);
    return 0;
}

static int check_dir(const char *rel)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", test_data_root(), rel);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 5, ".gguf") != 0) continue;
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        check_file(p);
        n++;
    }
    closedir(d);
    printf("%s: %d GGUF files read\n", rel, n);
    return n;
}

/* ---------------------------------------------------------------- main */

int main(void)
{
    int n_real = check_dir("models") + check_dir("models/random") + check_dir("vocab");

    /* a valid file: values and getters */
    struct spec ok = { 0 };
    struct buf b = build(&ok);
    inf_error err = {0};
    struct gguf_file *f = NULL;
    CHECK_MSG(gguf_open_memory(b.p, b.n, "good.gguf", &f, &err) == 0, "%s", err.message);
    if (f) {
        const char *s;
        size_t len;
        uint32_t u;
        int32_t i32;
        int64_t i64;
        uint64_t u64v;
        float fl;
        bool bo;
        CHECK(gguf_get_string(f, "general.name", &s, &len) == GGUF_OK && len == 4 && strcmp(s, "tiny") == 0);
        CHECK(gguf_get_u32(f, "test.u8", &u) == GGUF_OK && u == 200);
        CHECK(gguf_get_i32(f, "test.u8", &i32) == GGUF_OK && i32 == 200);
        CHECK(gguf_get_u64(f, "general.alignment", &u64v) == GGUF_OK && u64v == 32);
        CHECK(gguf_get_f32(f, "test.u8", &fl) == GGUF_OK && fl == 200.0f);
        CHECK(gguf_get_bool(f, "test.u8", &bo) == GGUF_OK && bo);
        CHECK(gguf_get_u32(f, "general.name", &u) == GGUF_ERR_TYPE);
        CHECK(gguf_get_string(f, "test.u8", &s, &len) == GGUF_ERR_TYPE);
        CHECK(gguf_get_i64(f, "nope", &i64) == GGUF_ERR_NOT_FOUND);
        CHECK(gguf_alignment(f) == 32 && gguf_data_offset(f) % 32 == 0);
        struct gguf_array a;
        CHECK(gguf_get_array(f, "test.ints", &a) == GGUF_OK && a.type == GGUF_TYPE_INT32 && a.n == 3);
        CHECK(gguf_array_i64(&a, 0, &i64) == GGUF_OK && i64 == -1);
        CHECK(gguf_array_i64(&a, 2, &i64) == GGUF_OK && i64 == 100000);
        CHECK(gguf_array_i64(&a, 3, &i64) == GGUF_ERR_NOT_FOUND);
        CHECK(gguf_array_f32(&a, 1, &fl) == GGUF_OK && fl == 7.0f);
        CHECK(gguf_array_string(&a, 0, &s, &len) == GGUF_ERR_TYPE);
        CHECK(gguf_get_array(f, "test.strs", &a) == GGUF_OK && a.type == GGUF_TYPE_STRING && a.n == 3);
        CHECK(gguf_array_string(&a, 2, &s, &len) == GGUF_OK && len == 5 && memcmp(s, "hello", 5) == 0);
        CHECK(gguf_array_string(&a, 1, &s, &len) == GGUF_OK && len == 0);
        CHECK(gguf_get_array(f, "general.name", &a) == GGUF_ERR_TYPE);
        CHECK(gguf_n_tensors(f) == 2);
        const struct gguf_tensor *t = gguf_get_tensor(f, "t0.weight");
        CHECK(t && t->type == TENSOR_TYPE_F32 && t->n_dims == 2 && t->ne[0] == 4 && t->ne[1] == 2 && t->size == 32);
        CHECK(t && memcmp(t->data, T0, 32) == 0);
        t = gguf_get_tensor(f, "blk.3.attn_q.weight");
        CHECK(t && t->type == TENSOR_TYPE_Q8_0 && t->size == 34 && t->offset == 32);
        gguf_close(f);
    }
    /* the same through a real file (mmap path) */
    char tmpl[] = "/tmp/test_gguf_XXXXXX";
    int fd = mkstemp(tmpl);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, b.p, b.n) == (ssize_t)b.n);
        close(fd);
        f = NULL;
        CHECK_MSG(gguf_open(tmpl, &f, &err) == 0, "%s", err.message);
        if (f) CHECK(gguf_n_tensors(f) == 2 && gguf_file_size(f) == b.n);
        gguf_close(f);
        /* truncated file on disk */
        CHECK(truncate(tmpl, (off_t)b.n - 1) == 0);
        CHECK(gguf_open(tmpl, &f, &err) != 0 && strstr(err.message, "extends past end of file"));
        printf("  on-disk truncation          -> %s\n", err.message);
        CHECK(truncate(tmpl, 0) == 0);
        CHECK(gguf_open(tmpl, &f, &err) != 0 && strstr(err.message, "empty"));
        unlink(tmpl);
    }
    CHECK(gguf_open("/nonexistent/x.gguf", &f, &err) != 0 && strstr(err.message, "/nonexistent/x.gguf: "));
    CHECK(gguf_open("/tmp", &f, &err) != 0);

    /* truncation at every byte (section boundaries included) */
    int trunc_fail = 0;
    for (size_t n = 0; n < b.n; n++) {
        struct buf t = { b.p, n, n };
        inf_error e2 = {0};
        if (open_buf(&t, &e2) == 0 || strncmp(e2.message, "hostile.gguf: ", 14) != 0) trunc_fail++;
    }
    CHECK_MSG(trunc_fail == 0, "%d truncations opened or lacked a message", trunc_fail);
    printf("truncation at each of %zu byte offsets (%d section boundaries): all rejected\n", b.n, n_bounds);
    for (int i = 0; i < n_bounds; i++) {
        struct buf t = { b.p, bounds[i], bounds[i] };
        inf_error e2 = {0};
        open_buf(&t, &e2);
        printf("  cut at %4zu                  -> %s\n", bounds[i], e2.message);
    }

    /* hostile variants */
    printf("hostile files:\n");
    {
        struct buf m = build(&ok);
        memcpy(m.p, "GGML", 4);
        inf_error e2 = {0};
        CHECK(open_buf(&m, &e2) != 0 && strstr(e2.message, "not a GGUF file"));
        printf("  %-28s -> %s\n", "wrong magic", e2.message);
        free(m.p);
    }
    struct spec s;
    s = ok; s.version = 1; expect_fail(&s, "version 1", "version 1");
    s = ok; s.version = 4; expect_fail(&s, "unsupported GGUF version 4", "version 4");
    s = ok; s.version = 0x03000000; expect_fail(&s, "big-endian", "big-endian");
    s = ok; s.n_tensors_override = UINT64_C(1) << 62; expect_fail(&s, "tensor count", "absurd tensor count");
    s = ok; s.n_kv_override = UINT64_C(0xffffffffffffffff); expect_fail(&s, "metadata count", "absurd kv count");
    s = ok; s.n_kv_override = 40; expect_fail(&s, "hostile.gguf", "kv count too large");
    s = ok; s.str_len_override = UINT64_C(1) << 60; expect_fail(&s, "string length", "absurd string length");
    s = ok; s.arr_len_override = UINT64_C(1) << 61; expect_fail(&s, "array of", "absurd array length");
    s = ok; s.t1_offset_add = 4096; expect_fail(&s, "tensor 'blk.3.attn_q.weight' extends past end of file (offset ", "offset past end");
    s = ok; s.t1_offset_add = (uint64_t)-32; expect_fail(&s, "overlaps tensor 't0.weight'", "overlapping tensors");
    s = ok; s.t1_offset_add = 8; expect_fail(&s, "not a multiple of the alignment 32", "misaligned tensor");
    s = ok; s.t1_type = 99; expect_fail(&s, "unknown tensor type 99", "unknown tensor type");
    s = ok; s.t1_type = 4; expect_fail(&s, "no longer defines", "removed tensor type");
    s = ok; s.t1_ndims = 5; expect_fail(&s, "5 dimensions", "5 dimensions");
    s = ok; s.t1_ne0 = 31; expect_fail(&s, "block size", "ne0 not a block multiple");
    s = ok; s.t1_ne0 = -5; expect_fail(&s, "negative", "negative dimension");
    s = ok; s.t1_ne0 = INT64_C(1) << 40; s.t1_type = TENSOR_TYPE_F32; expect_fail(&s, "extends past end", "huge tensor");
    s = ok; s.dup_key = 1; expect_fail(&s, "duplicate metadata key 'test.u8'", "duplicate key");
    s = ok; s.dup_tensor = 1; expect_fail(&s, "duplicate tensor name 't0.weight'", "duplicate tensor");
    s = ok; s.bad_alignment = 1; expect_fail(&s, "power of two", "alignment 3");
    s = ok; s.nested_array = 1; expect_fail(&s, "nested arrays", "nested array");
    s = ok; s.bad_value_type = 1; expect_fail(&s, "unknown value type 77", "unknown value type");

    /* random corruption: never a crash; a success must still be consistent */
    uint64_t rng = 0x1234567;
    int opened = 0;
    for (int it = 0; it < 20000; it++) {
        struct buf m = { malloc(b.n), b.n, b.n };
        memcpy(m.p, b.p, b.n);
        int flips = 1 + (int)(rng % 4);
        for (int k = 0; k < flips; k++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)(rng >> 33) % m.n;
            uint8_t v = (uint8_t)(rng >> 20);
            m.p[at] = (rng & 1) ? v : (uint8_t)(m.p[at] ^ (1u << (v & 7)));
        }
        inf_error e2 = {0};
        struct gguf_file *g = NULL;
        if (gguf_open_memory(m.p, m.n, "fuzz.gguf", &g, &e2) == 0) {
            opened++;
            for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
                const struct gguf_tensor *t = gguf_tensor_at(g, i);
                if (t->file_offset + t->size > m.n) CHECK(0);
            }
            for (int64_t i = 0; i < gguf_n_kv(g); i++) {
                struct gguf_array a;
                if (gguf_kv_get_array(g, i, &a) == GGUF_OK && a.type == GGUF_TYPE_STRING)
                    for (uint64_t e = 0; e < a.n; e++) {
                        const char *str_;
                        size_t len;
                        gguf_array_string(&a, e, &str_, &len);
                        if ((const uint8_t *)str_ + len > m.p + m.n) CHECK(0);
                    }
            }
            gguf_close(g);
        } else {
            CHECK(strncmp(e2.message, "fuzz.gguf: ", 11) == 0);
        }
        free(m.p);
    }
    printf("random corruption: 20000 variants, %d still valid, no crash\n", opened);
    free(b.p);
    CHECK_MSG(n_real > 0, "no GGUF file of the test data was read");
    return TEST_DONE();
}
