/* safetensors.h - a validating, memory-mapped reader for .safetensors files
 * and for sharded Hugging Face checkpoints (model.safetensors.index.json).
 *
 * File layout (https://huggingface.co/docs/safetensors): an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON (may be padded with
 * spaces), then the data buffer. The JSON maps each tensor name to
 * {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]} (offsets
 * relative to the data buffer), plus an optional "__metadata__" object of
 * string values.
 *
 * safetensors_open() checks everything before exposing anything: the header
 * length against the file, the JSON, each dtype, shape x dtype size == the
 * byte span, offsets within the data buffer, and that the spans neither
 * overlap nor leave holes (the format requires a fully indexed buffer).
 * Errors name the file and the tensor, e.g.
 *   "model.safetensors: tensor 'lm_head.weight': data_offsets [0, 4096]
 *    extend past the end of the data (4000 bytes)".
 *
 * Ownership: a struct safetensors_file owns its mapping; every pointer it
 * hands out (names, tensor data, metadata strings) lives until
 * safetensors_close(). Tensor data is NOT aligned in general (the header
 * length is arbitrary): read it with memcpy or with kernels that accept
 * any alignment.
 * Threads: immutable after open; any number of threads may read it.
 * Nothing here prints or aborts. Little-endian hosts only. */
#ifndef INF_FORMATS_SAFETENSORS_H
#define INF_FORMATS_SAFETENSORS_H

#include "base/error.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SAFETENSORS_MAX_DIMS 8
/* Largest header accepted (the reference implementation's limit is 100 MB). */
#define SAFETENSORS_MAX_HEADER (100u * 1024u * 1024u)

enum safetensors_dtype {
    SAFETENSORS_BOOL = 0,
    SAFETENSORS_U8,
    SAFETENSORS_I8,
    SAFETENSORS_U16,
    SAFETENSORS_I16,
    SAFETENSORS_F16,
    SAFETENSORS_BF16,
    SAFETENSORS_U32,
    SAFETENSORS_I32,
    SAFETENSORS_F32,
    SAFETENSORS_U64,
    SAFETENSORS_I64,
    SAFETENSORS_F64,
    SAFETENSORS_F8_E4M3,
    SAFETENSORS_F8_E5M2,
    SAFETENSORS_DTYPE_COUNT
};

/* "BF16", "U32", ... (the format's spelling); "unknown" when out of range. */
const char *safetensors_dtype_name(int dtype);
/* Inverse (exact, case-sensitive as in the format); -1 when unknown. */
int safetensors_dtype_from_name(const char *name);
/* Bytes per element; 0 when out of range. */
size_t safetensors_dtype_size(int dtype);

struct safetensors_tensor {
    const char *name;        /* NUL-terminated */
    int dtype;               /* enum safetensors_dtype */
    int n_dims;              /* 0..SAFETENSORS_MAX_DIMS (0 = scalar) */
    int64_t shape[SAFETENSORS_MAX_DIMS]; /* outermost first (numpy order) */
    int64_t n_elements;
    uint64_t begin, end;     /* data_offsets, relative to the data buffer */
    uint64_t size;           /* end - begin */
    const void *data;        /* into the mapping; any alignment */
};

struct safetensors_file;

/* Map and validate path. 0 and *out on success; -1, *out = NULL and a
 * message in err otherwise. */
int safetensors_open(const char *path, struct safetensors_file **out, inf_error *err);
/* Same over a caller-owned buffer (kept, not copied, until close); name is
 * used in messages (NULL: "<memory>"). */
int safetensors_open_memory(const void *data, size_t size, const char *name,
                            struct safetensors_file **out, inf_error *err);
void safetensors_close(struct safetensors_file *f);

const char *safetensors_path(const struct safetensors_file *f);
/* Tensors sorted by name. */
int64_t safetensors_n_tensors(const struct safetensors_file *f);
const struct safetensors_tensor *safetensors_tensor_at(const struct safetensors_file *f, int64_t i);
/* By name (binary search), or NULL. */
const struct safetensors_tensor *safetensors_find(const struct safetensors_file *f, const char *name);
/* A "__metadata__" string value, or NULL. */
const char *safetensors_metadata(const struct safetensors_file *f, const char *key);

/* ---- a model directory's weights: one file or an index of shards ---- */

struct safetensors_set;

/* Open the weights of a Hugging Face directory: model.safetensors.index.json
 * (its "weight_map" names each tensor's shard; every shard is opened and
 * every mapped tensor must be in the shard the index says) when present,
 * else model.safetensors, else the single *.safetensors file of the
 * directory. Tensor names must be unique across shards. */
int safetensors_set_open(const char *dir, struct safetensors_set **out, inf_error *err);
void safetensors_set_close(struct safetensors_set *s);
/* Number of shard files (1 for a single file). */
int safetensors_set_n_files(const struct safetensors_set *s);
const struct safetensors_file *safetensors_set_file(const struct safetensors_set *s, int i);
/* Total tensors over all files. */
int64_t safetensors_set_n_tensors(const struct safetensors_set *s);

/* As gguf_release_range: the whole pages of [p, p + n) inside one of the
 * set's mapped files leave resident memory (madvise MADV_DONTNEED); a later
 * read maps them back. No-op for ranges outside every mapping. */
void safetensors_set_release_range(const struct safetensors_set *s, const void *p, uint64_t n);
/* The i-th tensor over all files (file order, then name order). */
const struct safetensors_tensor *safetensors_set_tensor_at(const struct safetensors_set *s, int64_t i);
/* By name over all shards, or NULL; *file (may be NULL) gets its file. */
const struct safetensors_tensor *safetensors_set_find(const struct safetensors_set *s, const char *name,
                                                      const struct safetensors_file **file);

/* Parse model.safetensors.index.json text (pointer, length): fills *files
 * with the distinct shard file names in first-seen order (n_files), for
 * callers that only want to count shards (Discover). Free with
 * safetensors_index_free. name is used in messages. */
int safetensors_index_parse(const char *json, size_t len, const char *name,
                            char ***files, int *n_files, inf_error *err);
void safetensors_index_free(char **files, int n_files);

#ifdef __cplusplus
}
#endif
#endif
