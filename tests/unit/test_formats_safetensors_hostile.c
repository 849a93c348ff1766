/* test_formats_safetensors_hostile.c - hostile .safetensors files, generated here,
 * against the safetensors reader (src/formats/safetensors.c).
 *
 * Each case is an 8-byte header length, a JSON header and a data buffer
 * built in memory; each must be refused with a message naming the file (and
 * the tensor or field where there is one), in bounded time, with no memory
 * error under ASan. A valid base file is also truncated at every section
 * boundary (inside the length, inside the header, at each tensor's data). */
#include "formats/safetensors.h"
#include "hostile_build.h"
#include "test_util.h"

#include <time.h>

/* header_len_override: 0 = the real length. */
static void build(struct hb_buf *b, const char *header, size_t data_len, uint64_t header_len_override)
{
    memset(b, 0, sizeof *b);
    hb_u64(b, header_len_override ? header_len_override : strlen(header));
    hb_mark(b);
    hb_bytes(b, header, strlen(header));
    hb_mark(b);
    for (size_t i = 0; i < data_len; i++) { unsigned char x = (unsigned char)(i * 31); hb_bytes(b, &x, 1); }
}

static int open_copy(const unsigned char *data, size_t n, inf_error *err)
{
    unsigned char *copy = malloc(n ? n : 1);
    if (!copy) return -99;
    if (n) memcpy(copy, data, n);
    struct safetensors_file *f = NULL;
    inf_error_clear(err);
    int rc = safetensors_open_memory(copy, n, "hostile.safetensors", &f, err);
    if (rc == 0) {
        for (int64_t i = 0; i < safetensors_n_tensors(f); i++) {
            const struct safetensors_tensor *t = safetensors_tensor_at(f, i);
            if (t->size) { volatile unsigned char x = ((const unsigned char *)t->data)[t->size - 1]; (void)x; }
        }
        safetensors_close(f);
    }
    free(copy);
    return rc;
}

static void expect_fail_raw(const char *what, const struct hb_buf *b, const char *want)
{
    inf_error err = {0};
    clock_t t0 = clock();
    int rc = open_copy(b->p, b->n, &err);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK_MSG(rc != 0, "%s: accepted", what);
    CHECK_MSG(strstr(err.message, "hostile.safetensors") != NULL, "%s: message does not name the file: '%s'", what, err.message);
    if (want) CHECK_MSG(strstr(err.message, want) != NULL, "%s: message '%s' lacks '%s'", what, err.message, want);
    CHECK_MSG(secs < 2.0, "%s: took %.2f s", what, secs);
}

static void expect_fail(const char *what, const char *header, size_t data_len, const char *want)
{
    struct hb_buf b;
    build(&b, header, data_len, 0);
    expect_fail_raw(what, &b, want);
    hb_free(&b);
}

#define BASE_HEADER \
    "{\"__metadata__\":{\"format\":\"pt\"}," \
    "\"a.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}," \
    "\"b.bias\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]}}"

static void test_base_and_truncations(void)
{
    struct hb_buf b;
    build(&b, BASE_HEADER, 32, 0);
    inf_error err = {0};
    CHECK_MSG(open_copy(b.p, b.n, &err) == 0, "base refused: %s", err.message);
    /* boundaries: inside the length, header start/end, each tensor's data */
    size_t cuts[] = {0, 1, 7, 8, 9, b.marks[1] - 1, b.marks[1], b.marks[1] + 1, b.marks[1] + 23,
                     b.marks[1] + 24, b.marks[1] + 25, b.n - 1};
    int refused = 0, total = 0;
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        total++;
        if (open_copy(b.p, cuts[i], &err) != 0 && err.message[0]) refused++;
        else fprintf(stderr, "FAIL truncation at %zu of %zu accepted\n", cuts[i], b.n);
    }
    /* and every length inside the JSON */
    for (size_t cut = 9; cut < b.marks[1]; cut++) {
        total++;
        if (open_copy(b.p, cut, &err) != 0 && err.message[0]) refused++;
    }
    CHECK_MSG(refused == total, "%d of %d truncations refused", refused, total);
    printf("truncations: %d of %d refused with a message\n", refused, total);
    hb_free(&b);
}

static void test_header_length(void)
{
    struct hb_buf b;
    const uint64_t lens[] = {UINT64_MAX, UINT64_C(1) << 63, (uint64_t)SAFETENSORS_MAX_HEADER + 1, 1000};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        build(&b, BASE_HEADER, 32, lens[i]);
        expect_fail_raw("absurd header length", &b, NULL);
        hb_free(&b);
    }
    memset(&b, 0, sizeof b);
    hb_u64(&b, 0);
    expect_fail_raw("empty header", &b, NULL);
    hb_free(&b);
}

static void test_bad_headers(void)
{
    expect_fail("not JSON", "this is not json", 0, NULL);
    expect_fail("JSON array", "[1,2,3]", 0, NULL);
    expect_fail("unterminated", "{\"a\":{\"dtype\":\"F32\"", 0, NULL);
    expect_fail("tensor not an object", "{\"a\":3}", 0, "'a'");
    expect_fail("unknown dtype",
                "{\"w\":{\"dtype\":\"F17\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "F17");
    expect_fail("dtype not a string",
                "{\"w\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "'w'");
    expect_fail("missing shape", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "'w'");
    expect_fail("missing offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "'w'");
    expect_fail("negative dim",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "'w'");
    expect_fail("fractional dim",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "'w'");
    expect_fail("huge dims overflow",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, "'w'");
    expect_fail("too many dims",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", 8, "'w'");
    expect_fail("shape disagrees with span",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "'w'");
    expect_fail("offsets past the end",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "'w'");
    expect_fail("offsets far past the end",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[18446744073709551608,18446744073709551616]}}", 8, "'w'");
    expect_fail("begin after end",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "'w'");
    expect_fail("negative offsets",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8, "'w'");
    expect_fail("three offsets",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,16]}}", 16, "'w'");
    expect_fail("overlapping tensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, NULL);
    expect_fail("same bytes twice",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, NULL);
    expect_fail("hole in the data",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20, NULL);
    expect_fail("duplicate tensor name",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, "'a'");
    expect_fail("duplicate __metadata__",
                "{\"__metadata__\":{\"a\":\"1\"},\"__metadata__\":{\"b\":\"2\"},"
                "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "__metadata__");
    expect_fail("metadata not strings",
                "{\"__metadata__\":{\"n\":3},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, NULL);
    /* a deeply nested header must not exhaust the stack of a recursive parser */
    size_t depth = 200000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = 0;
    expect_fail("deeply nested JSON", deep, 0, NULL);
    free(deep);
}

static void test_index(void)
{
    char **files = NULL;
    int n = 0;
    inf_error err = {0};
    const char *bad[] = {"", "{", "[]", "{\"weight_map\":3}", "{\"weight_map\":{\"a\":3}}",
                         "{\"weight_map\":{\"a\":\"../../etc/passwd\"}}", "{\"weight_map\":{\"a\":\"/abs.safetensors\"}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = safetensors_index_parse(bad[i], strlen(bad[i]), "index.json", &files, &n, &err);
        CHECK_MSG(rc != 0 && strstr(err.message, "index.json"), "index '%s' accepted or unnamed error: '%s'", bad[i], err.message);
        if (rc == 0) safetensors_index_free(files, n);
    }
    const char *good = "{\"metadata\":{},\"weight_map\":{\"a\":\"m-1.safetensors\",\"b\":\"m-2.safetensors\",\"c\":\"m-1.safetensors\"}}";
    int rc = safetensors_index_parse(good, strlen(good), "index.json", &files, &n, &err);
    CHECK_MSG(rc == 0 && n == 2, "good index: rc %d n %d %s", rc, n, err.message);
    if (rc == 0) safetensors_index_free(files, n);
}

int main(void)
{
    test_base_and_truncations();
    test_header_length();
    test_bad_headers();
    test_index();
    return TEST_DONE();
}
