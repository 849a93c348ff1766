/* test_formats_gguf_hostile.c - hostile GGUF files, generated here (no committed
 * binaries), against the GGUF reader and the tokenizer loader.
 *
 * A small valid file is built with hostile_build.h; every case below is a
 * copy of it truncated or patched. Each must be refused with a message that
 * names the problem (or, for a truncation that still leaves a valid file,
 * accepted), with no memory error under ASan and in bounded time: the cases
 * with absurd counts and lengths would otherwise try to allocate terabytes
 * or loop for hours. The buffers are exactly sized heap copies so that a
 * read one byte past the end is caught. */
#include "formats/gguf.h"
#include "text/tokenizer.h"
#include "hostile_build.h"
#include "test_util.h"

#include <math.h>
#include <time.h>

#define N_KV 5
#define N_TENSORS 3

/* Where the fields of the base file lie (filled by build_base). */
struct layout {
    size_t n_kv_pos, n_tensors_pos, version_pos;
    size_t kv_end[N_KV];
    size_t tinfo_end[N_TENSORS];   /* end of each tensor info */
    size_t data_start;
    size_t str_array_count_pos;    /* element count of the string array */
    size_t first_key_len_pos;
};

static const char *const tensor_names[N_TENSORS] = {"tok.weight", "norm.weight", "q8.weight"};

/* Base: 5 kvs, tensors F32 [8,2] @0 (64 B), F16 [16] @64 (32 B), Q8_0
 * [32] @96 (34 B). */
static void build_base(struct hb_buf *b, struct layout *L)
{
    memset(b, 0, sizeof *b);
    hb_gguf_header(b, 3, N_TENSORS, N_KV);
    L->version_pos = 4;
    L->n_tensors_pos = 8;
    L->n_kv_pos = 16;
    L->first_key_len_pos = 24;
    hb_kv_str(b, "general.architecture", "llama"); L->kv_end[0] = b->n;
    hb_kv_u32(b, "llama.block_count", 2); L->kv_end[1] = b->n;
    const float scores[3] = {0.5f, -1.0f, 2.0f};
    hb_kv_f32_array(b, "tokenizer.ggml.scores", scores, 3); L->kv_end[2] = b->n;
    const char *toks[3] = {"a", "b", "ab"};
    size_t before = b->n;
    hb_kv_str_array(b, "tokenizer.ggml.tokens", toks, 3); L->kv_end[3] = b->n;
    L->str_array_count_pos = before + 8 + strlen("tokenizer.ggml.tokens") + 4 + 4;
    hb_kv_bool(b, "general.flag", 1); L->kv_end[4] = b->n;
    const uint64_t ne0[2] = {8, 2}, ne1[1] = {16}, ne2[1] = {32};
    hb_tensor_info(b, tensor_names[0], 2, ne0, 0, 0); L->tinfo_end[0] = b->n;
    hb_tensor_info(b, tensor_names[1], 1, ne1, 1, 64); L->tinfo_end[1] = b->n;
    hb_tensor_info(b, tensor_names[2], 1, ne2, 8, 96); L->tinfo_end[2] = b->n;
    hb_align(b, 32); hb_mark(b);
    L->data_start = b->n;
    for (int i = 0; i < 16; i++) hb_f32(b, (float)i);
    hb_mark(b);
    for (int i = 0; i < 16; i++) { uint16_t h = 0x3c00; hb_bytes(b, &h, 2); }
    hb_mark(b);
    hb_zeros(b, 34);
    hb_mark(b);
}

/* Opens data[0..n) from an exactly sized heap copy; returns the rc and
 * leaves the message in err. */
static int open_copy(const unsigned char *data, size_t n, inf_error *err)
{
    unsigned char *copy = malloc(n ? n : 1);
    if (!copy) return -99;
    if (n) memcpy(copy, data, n);
    struct gguf_file *f = NULL;
    inf_error_clear(err);
    int rc = gguf_open_memory(copy, n, "hostile.gguf", &f, err);
    if (rc == 0) {
        /* everything the reader exposes must be readable */
        for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
            const struct gguf_tensor *t = gguf_tensor_at(f, i);
            if (t->size) { volatile unsigned char x = ((const unsigned char *)t->data)[t->size - 1]; (void)x; }
        }
        gguf_close(f);
    }
    free(copy);
    return rc;
}

static void put_u32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }

/* A patched copy of the base must fail, with `want` in the message. */
static void expect_fail(const char *what, const unsigned char *data, size_t n, const char *want)
{
    inf_error err = {0};
    clock_t t0 = clock();
    int rc = open_copy(data, n, &err);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK_MSG(rc != 0, "%s: accepted", what);
    CHECK_MSG(err.message[0] != 0, "%s: no error message", what);
    CHECK_MSG(strstr(err.message, "hostile.gguf") != NULL, "%s: message does not name the file: %s", what, err.message);
    if (want) CHECK_MSG(strstr(err.message, want) != NULL, "%s: message '%s' lacks '%s'", what, err.message, want);
    CHECK_MSG(secs < 2.0, "%s: took %.2f s", what, secs);
}

static void test_base_opens(const struct hb_buf *b)
{
    inf_error err = {0};
    CHECK_MSG(open_copy(b->p, b->n, &err) == 0, "base file refused: %s", err.message);
}

static void test_truncations(const struct hb_buf *b)
{
    /* every section boundary, and one byte either side of it */
    int refused = 0, total = 0;
    for (size_t m = 0; m < b->n_marks; m++) {
        for (int d = -1; d <= 1; d++) {
            size_t cut = b->marks[m] + (size_t)d;
            if (b->marks[m] == 0 && d < 0) continue;
            if (cut >= b->n) continue;
            inf_error err = {0};
            int rc = open_copy(b->p, cut, &err);
            total++;
            if (rc != 0 && err.message[0]) refused++;
            else fprintf(stderr, "FAIL truncation at %zu of %zu accepted\n", cut, b->n);
        }
    }
    /* and the empty file and every prefix of the fixed header */
    for (size_t cut = 0; cut < 24; cut++) {
        inf_error err = {0};
        total++;
        if (open_copy(b->p, cut, &err) != 0 && err.message[0]) refused++;
    }
    CHECK_MSG(refused == total, "%d of %d truncations refused", refused, total);
    printf("truncations: %d of %d refused with a message\n", refused, total);
}

static void test_magic_and_version(const struct hb_buf *b, const struct layout *L)
{
    unsigned char *c = malloc(b->n);
    memcpy(c, b->p, b->n); memcpy(c, "GGUG", 4);
    expect_fail("wrong magic", c, b->n, "magic");
    memcpy(c, b->p, b->n); memcpy(c, "\0\0\0\0", 4);
    expect_fail("zero magic", c, b->n, "magic");
    const uint32_t versions[] = {0, 1, 4, 0x03000000u, 0xffffffffu};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        memcpy(c, b->p, b->n);
        put_u32(c + L->version_pos, versions[i]);
        char what[64];
        snprintf(what, sizeof what, "version %u", versions[i]);
        expect_fail(what, c, b->n, "version");
    }
    free(c);
}

static void test_absurd_counts(const struct hb_buf *b, const struct layout *L)
{
    unsigned char *c = malloc(b->n);
    const uint64_t huge[] = {UINT64_MAX, UINT64_C(1) << 62, UINT64_C(1) << 40, 1000000};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        memcpy(c, b->p, b->n); put_u64(c + L->n_kv_pos, huge[i]);
        expect_fail("absurd metadata count", c, b->n, "count");
        memcpy(c, b->p, b->n); put_u64(c + L->n_tensors_pos, huge[i]);
        expect_fail("absurd tensor count", c, b->n, "count");
        memcpy(c, b->p, b->n); put_u64(c + L->first_key_len_pos, huge[i]);
        expect_fail("absurd key length", c, b->n, NULL);
        memcpy(c, b->p, b->n); put_u64(c + L->str_array_count_pos, huge[i]);
        expect_fail("absurd array count", c, b->n, "tokenizer.ggml.tokens");
    }
    /* one more key than there is: the next bytes are tensor infos */
    memcpy(c, b->p, b->n); put_u64(c + L->n_kv_pos, N_KV + 1);
    expect_fail("one key too many", c, b->n, NULL);
    memcpy(c, b->p, b->n); put_u64(c + L->n_tensors_pos, N_TENSORS + 1);
    expect_fail("one tensor too many", c, b->n, NULL);
    /* unknown value type on the first key */
    memcpy(c, b->p, b->n);
    put_u32(c + L->first_key_len_pos + 8 + strlen("general.architecture"), 13);
    expect_fail("unknown value type", c, b->n, "general.architecture");
    free(c);
}

/* Offsets of fields of tensor info i (counted back from its end). */
static size_t tinfo_offset_pos(const struct layout *L, int i) { return L->tinfo_end[i] - 8; }
static size_t tinfo_type_pos(const struct layout *L, int i) { return L->tinfo_end[i] - 12; }

static void test_tensor_infos(const struct hb_buf *b, const struct layout *L)
{
    unsigned char *c = malloc(b->n);
    /* offset past the end, and offsets that overflow when added */
    const uint64_t offs[] = {4096, UINT64_MAX - 31, (UINT64_C(1) << 63), 128};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        memcpy(c, b->p, b->n); put_u64(c + tinfo_offset_pos(L, 2), offs[i]);
        expect_fail("offset past the end", c, b->n, tensor_names[2]);
    }
    /* misaligned */
    memcpy(c, b->p, b->n); put_u64(c + tinfo_offset_pos(L, 1), 65);
    expect_fail("misaligned offset", c, b->n, tensor_names[1]);
    /* overlapping: norm.weight placed over tok.weight's data */
    memcpy(c, b->p, b->n); put_u64(c + tinfo_offset_pos(L, 1), 32);
    expect_fail("overlapping tensors", c, b->n, "overlap");
    memcpy(c, b->p, b->n); put_u64(c + tinfo_offset_pos(L, 2), 0);
    expect_fail("tensor at the same offset as another", c, b->n, "overlap");
    /* unknown and retired types */
    const uint32_t types[] = {4, 5, 31, 40, 1000, 0xffffffffu};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        memcpy(c, b->p, b->n); put_u32(c + tinfo_type_pos(L, 0), types[i]);
        expect_fail("unknown tensor type", c, b->n, tensor_names[0]);
    }
    /* Q8_0 with a row not a multiple of the block: ne[0] = 33 */
    memcpy(c, b->p, b->n); put_u64(c + L->tinfo_end[2] - 12 - 8, 33);
    expect_fail("ragged quantized row", c, b->n, tensor_names[2]);
    /* absurd dimensions: n_dims 0 and 5, and an overflowing shape */
    memcpy(c, b->p, b->n); put_u32(c + L->tinfo_end[1] - 12 - 8 - 4, 0);
    expect_fail("zero dimensions", c, b->n, NULL);
    memcpy(c, b->p, b->n); put_u32(c + L->tinfo_end[1] - 12 - 8 - 4, 5);
    expect_fail("five dimensions", c, b->n, NULL);
    memcpy(c, b->p, b->n);
    put_u64(c + L->tinfo_end[0] - 12 - 16, UINT64_C(1) << 40);
    put_u64(c + L->tinfo_end[0] - 12 - 8, UINT64_C(1) << 40);
    expect_fail("shape overflow", c, b->n, tensor_names[0]);
    memcpy(c, b->p, b->n); put_u64(c + L->tinfo_end[0] - 12 - 8, UINT64_MAX);
    expect_fail("negative dimension", c, b->n, tensor_names[0]);
    free(c);
}

static void test_bad_alignment(void)
{
    const uint32_t aligns[] = {0, 3, 48, 0x80000000u};
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        struct hb_buf b = {0};
        hb_gguf_header(&b, 3, 0, 1);
        hb_kv_u32(&b, "general.alignment", aligns[i]);
        expect_fail("bad general.alignment", b.p, b.n, "general.alignment");
        hb_free(&b);
    }
}

static void test_duplicates(void)
{
    struct hb_buf b = {0};
    hb_gguf_header(&b, 3, 0, 2);
    hb_kv_u32(&b, "x.y", 1);
    hb_kv_u32(&b, "x.y", 2);
    expect_fail("duplicate key", b.p, b.n, "x.y");
    hb_free(&b);
    const uint64_t ne[1] = {8};
    hb_gguf_header(&b, 3, 2, 0);
    hb_tensor_info(&b, "t", 1, ne, 0, 0);
    hb_tensor_info(&b, "t", 1, ne, 0, 32);
    hb_align(&b, 32);
    hb_zeros(&b, 64);
    expect_fail("duplicate tensor", b.p, b.n, "'t'");
    hb_free(&b);
}

/* ---- the tokenizer loader on hostile vocabularies ---- */

/* A GGUF holding only a tokenizer. merges may be NULL (key absent). */
static void build_vocab(struct hb_buf *b, const char *model, const char *const *toks, size_t n_toks,
                        const char *const *merges, size_t n_merges, int32_t bos, int n_types)
{
    memset(b, 0, sizeof *b);
    uint64_t n_kv = 4 + (merges != NULL) + (n_types >= 0);
    hb_gguf_header(b, 3, 0, n_kv);
    hb_kv_str(b, "general.architecture", "llama");
    hb_kv_str(b, "tokenizer.ggml.model", model);
    hb_kv_str_array(b, "tokenizer.ggml.tokens", toks, n_toks);
    if (merges) hb_kv_str_array(b, "tokenizer.ggml.merges", merges, n_merges);
    if (n_types >= 0) {
        int32_t types[64];
        for (int i = 0; i < n_types && i < 64; i++) types[i] = 1;
        hb_kv_i32_array(b, "tokenizer.ggml.token_type", types, (size_t)n_types);
    }
    hb_kv_u32(b, "tokenizer.ggml.bos_token_id", (uint32_t)bos);
}

/* Loads a vocabulary from memory. On success, encodes and decodes some
 * text, checking every id is in range. Returns the load rc. */
static int load_vocab(const struct hb_buf *b, inf_error *err)
{
    struct gguf_file *f = NULL;
    inf_error_clear(err);
    if (gguf_open_memory(b->p, b->n, "vocab.gguf", &f, err) != 0) return -2;
    struct tokenizer *tok = NULL;
    int rc = tok_load_gguf(f, &tok, err);
    gguf_close(f);
    if (rc != 0) return rc;
    const char *text = "ab ba abab \xff\xfe caf\xc3\xa9";
    int32_t *ids = NULL;
    size_t n = 0;
    inf_error e2 = {0};
    if (tok_encode(tok, text, strlen(text), TOK_ADD_SPECIAL, &ids, &n, &e2) == 0) {
        for (size_t i = 0; i < n; i++) CHECK_MSG(ids[i] >= 0 && ids[i] < tok_n_vocab(tok), "id %d out of range", ids[i]);
        char *dec = tok_decode(tok, ids, n, 0, NULL);
        free(dec);
    }
    free(ids);
    tok_free(tok);
    return 0;
}

static void test_vocabularies(void)
{
    inf_error err = {0};
    struct hb_buf b;
    const char *bpe_toks[] = {"a", "b", "\xc4\xa0", "ab", "ba"};
    const char *merges[] = {"a b", "b a"};
    /* sanity: a complete little BPE vocab loads */
    build_vocab(&b, "gpt2", bpe_toks, 5, merges, 2, 0, 5);
    int rc = load_vocab(&b, &err);
    CHECK_MSG(rc == 0, "small BPE vocab refused: %s", err.message);
    hb_free(&b);
    /* BPE without its merges: refused with a message naming them */
    build_vocab(&b, "gpt2", bpe_toks, 5, NULL, 0, 0, 5);
    rc = load_vocab(&b, &err);
    CHECK_MSG(rc != 0 && strstr(err.message, "merges"), "BPE vocab without merges: rc %d, '%s'", rc, err.message);
    hb_free(&b);
    /* merges naming tokens that do not exist, or malformed */
    const char *bad_merges[] = {"x y", "ab", "", " ", "a  b", "b a"};
    build_vocab(&b, "gpt2", bpe_toks, 5, bad_merges, 6, 0, 5);
    rc = load_vocab(&b, &err);
    CHECK_MSG(rc == 0 || err.message[0], "bad merges: failed without a message");
    hb_free(&b);
    /* token_type count differs from the token count */
    build_vocab(&b, "gpt2", bpe_toks, 5, merges, 2, 0, 3);
    rc = load_vocab(&b, &err);
    CHECK_MSG(rc != 0 && err.message[0], "token_type count mismatch accepted");
    hb_free(&b);
    /* special id out of range */
    build_vocab(&b, "gpt2", bpe_toks, 5, merges, 2, 1000000, 5);
    rc = load_vocab(&b, &err);
    CHECK_MSG(rc == 0 || err.message[0], "bos out of range: failed without a message");
    hb_free(&b);
    /* unknown model, empty vocab */
    build_vocab(&b, "martian", bpe_toks, 5, merges, 2, 0, 5);
    rc = load_vocab(&b, &err);
    CHECK_MSG(rc != 0 && strstr(err.message, "martian"), "unknown tokenizer model: rc %d, '%s'", rc, err.message);
    hb_free(&b);
    build_vocab(&b, "llama", bpe_toks, 0, NULL, 0, 0, -1);
    rc = load_vocab(&b, &err);
    CHECK_MSG(rc != 0 && err.message[0], "empty vocabulary accepted");
    hb_free(&b);
    /* SPM vocab with no scores and no byte tokens: must still not crash */
    const char *spm_toks[] = {"<unk>", "<s>", "</s>", "\xe2\x96\x81\x61", "b"};
    build_vocab(&b, "llama", spm_toks, 5, NULL, 0, 1, 5);
    rc = load_vocab(&b, &err);
    CHECK_MSG(rc == 0 || err.message[0], "SPM vocab without scores: failed without a message");
    hb_free(&b);
}

int main(void)
{
    struct hb_buf b;
    struct layout L;
    build_base(&b, &L);
    test_base_opens(&b);
    test_truncations(&b);
    test_magic_and_version(&b, &L);
    test_absurd_counts(&b, &L);
    test_tensor_infos(&b, &L);
    test_bad_alignment();
    test_duplicates();
    test_vocabularies();
    hb_free(&b);
    return TEST_DONE();
}
