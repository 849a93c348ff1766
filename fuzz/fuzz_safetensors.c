/* fuzz_safetensors.c - libFuzzer harness for the safetensors header reader
 * and the shard index parser (src/formats/safetensors.c).
 *
 * The input is opened as a .safetensors file from memory; when it validates
 * every tensor is looked up by index and by name and its data's first and
 * last bytes are read. The same bytes are also given to
 * safetensors_index_parse() as model.safetensors.index.json text. */
#include "formats/safetensors.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static volatile uint64_t fuzz_sink;

static void touch(const void *p, uint64_t n)
{
    const unsigned char *b = p;
    if (n == 0) return;
    fuzz_sink += b[0];
    fuzz_sink += b[n - 1];
}

static void read_file(const struct safetensors_file *f)
{
    int64_t n = safetensors_n_tensors(f);
    for (int64_t i = 0; i < n; i++) {
        const struct safetensors_tensor *t = safetensors_tensor_at(f, i);
        if (!t) continue;
        fuzz_sink += strlen(t->name) + (uint64_t)t->n_elements;
        fuzz_sink += strlen(safetensors_dtype_name(t->dtype)) + safetensors_dtype_size(t->dtype);
        for (int d = 0; d < t->n_dims; d++) fuzz_sink += (uint64_t)t->shape[d];
        fuzz_sink += (uint64_t)(uintptr_t)safetensors_find(f, t->name);
        touch(t->data, t->size);
    }
    fuzz_sink += (uint64_t)(uintptr_t)safetensors_tensor_at(f, n);
    fuzz_sink += (uint64_t)(uintptr_t)safetensors_find(f, "no.such.tensor");
    const char *m = safetensors_metadata(f, "format");
    if (m) fuzz_sink += strlen(m);
    fuzz_sink += strlen(safetensors_path(f));
}

static void parse_index(const uint8_t *data, size_t size)
{
    char **files = NULL;
    int n_files = 0;
    inf_error err = {0};
    if (safetensors_index_parse((const char *)data, size, "fuzz.index.json", &files, &n_files, &err) == 0) {
        for (int i = 0; i < n_files; i++) fuzz_sink += strlen(files[i]);
        safetensors_index_free(files, n_files);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    struct safetensors_file *f = NULL;
    inf_error err = {0};
    if (safetensors_open_memory(copy, size, "fuzz.safetensors", &f, &err) == 0) {
        read_file(f);
        safetensors_close(f);
    }
    parse_index(copy, size);
    free(copy);
    return 0;
}
