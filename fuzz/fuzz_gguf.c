/* fuzz_gguf.c - libFuzzer harness for the GGUF reader (src/formats/gguf.c).
 *
 * Opens the input with gguf_open_memory() and, when it validates, reads back
 * everything the reader exposes: every key through every typed getter (by
 * index and by name), every array element, every tensor (by index and by
 * name) and the first and last byte of its data, so that AddressSanitizer
 * sees any accessor that trusts an unchecked count, length or offset.
 * The input is copied to an exactly sized heap buffer so that a read one
 * byte past the end is caught. */
#include "formats/gguf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Sink so that the compiler cannot drop the reads. */
static volatile uint64_t fuzz_sink;

static void touch(const void *p, size_t n)
{
    const unsigned char *b = p;
    if (n == 0) return;
    fuzz_sink += b[0];
    fuzz_sink += b[n - 1];
}

static void read_array(const struct gguf_array *a)
{
    /* Cap the walk: a valid file may hold millions of elements. */
    uint64_t n = a->n < 4096 ? a->n : 4096;
    for (uint64_t i = 0; i < n; i++) {
        const char *s;
        size_t len;
        int64_t v;
        float x;
        if (gguf_array_string(a, i, &s, &len) == GGUF_OK) touch(s, len);
        if (gguf_array_i64(a, i, &v) == GGUF_OK) fuzz_sink += (uint64_t)v;
        if (gguf_array_f32(a, i, &x) == GGUF_OK) fuzz_sink += (uint64_t)(x == x);
    }
    if (a->n > 0) {
        const char *s;
        size_t len;
        if (gguf_array_string(a, a->n - 1, &s, &len) == GGUF_OK) touch(s, len);
    }
    /* Out of range must be refused, not read. */
    int64_t v;
    fuzz_sink += (uint64_t)gguf_array_i64(a, a->n, &v);
}

static void read_key_by_name(const struct gguf_file *f, const char *key)
{
    uint32_t u32; int32_t i32; uint64_t u64; int64_t i64;
    float f32; double f64; bool b; const char *s; size_t len;
    struct gguf_array arr;
    fuzz_sink += (uint64_t)gguf_get_u32(f, key, &u32);
    fuzz_sink += (uint64_t)gguf_get_i32(f, key, &i32);
    fuzz_sink += (uint64_t)gguf_get_u64(f, key, &u64);
    fuzz_sink += (uint64_t)gguf_get_i64(f, key, &i64);
    fuzz_sink += (uint64_t)gguf_get_f32(f, key, &f32);
    fuzz_sink += (uint64_t)gguf_get_f64(f, key, &f64);
    fuzz_sink += (uint64_t)gguf_get_bool(f, key, &b);
    if (gguf_get_string(f, key, &s, &len) == GGUF_OK) { touch(s, len + 1); fuzz_sink += strlen(s); }
    if (gguf_get_array(f, key, &arr) == GGUF_OK) read_array(&arr);
}

static void read_kvs(const struct gguf_file *f)
{
    int64_t n = gguf_n_kv(f);
    for (int64_t i = 0; i < n; i++) {
        const char *key = gguf_key_at(f, i);
        if (!key) continue;
        fuzz_sink += strlen(key);
        fuzz_sink += (uint64_t)gguf_find_key(f, key);
        fuzz_sink += (uint64_t)gguf_kv_type(f, i);
        fuzz_sink += (uint64_t)gguf_kv_array_type(f, i);
        fuzz_sink += gguf_kv_array_n(f, i);
        int64_t i64; uint64_t u64; double f64; const char *s; size_t len;
        struct gguf_array arr;
        fuzz_sink += (uint64_t)gguf_kv_get_i64(f, i, &i64);
        fuzz_sink += (uint64_t)gguf_kv_get_u64(f, i, &u64);
        fuzz_sink += (uint64_t)gguf_kv_get_f64(f, i, &f64);
        if (gguf_kv_get_string(f, i, &s, &len) == GGUF_OK) touch(s, len + 1);
        if (gguf_kv_get_array(f, i, &arr) == GGUF_OK) read_array(&arr);
        read_key_by_name(f, key);
    }
    fuzz_sink += (uint64_t)(uintptr_t)gguf_key_at(f, n);
    fuzz_sink += (uint64_t)(uintptr_t)gguf_key_at(f, -1);
    read_key_by_name(f, "general.architecture");
    read_key_by_name(f, "no.such.key");
}

static void read_tensors(const struct gguf_file *f)
{
    int64_t n = gguf_n_tensors(f);
    for (int64_t i = 0; i < n; i++) {
        const struct gguf_tensor *t = gguf_tensor_at(f, i);
        if (!t) continue;
        fuzz_sink += strlen(t->name);
        fuzz_sink += (uint64_t)gguf_find_tensor(f, t->name);
        fuzz_sink += (uint64_t)(uintptr_t)gguf_get_tensor(f, t->name);
        touch(t->data, (size_t)t->size);
    }
    fuzz_sink += (uint64_t)(uintptr_t)gguf_tensor_at(f, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    struct gguf_file *f = NULL;
    inf_error err = {0};
    if (gguf_open_memory(copy, size, "fuzz.gguf", &f, &err) == 0) {
        fuzz_sink += gguf_version(f) + gguf_file_size(f) + gguf_alignment(f) + gguf_data_offset(f);
        fuzz_sink += strlen(gguf_path(f));
        read_kvs(f);
        read_tensors(f);
        gguf_close(f);
    } else {
        fuzz_sink += strlen(err.message);
    }
    free(copy);
    return 0;
}
