/* gguf.h - a validating, memory-mapped reader for GGUF v2/v3 files.
 *
 * The file is mapped read-only (never copied). gguf_open() walks the whole
 * header once and checks every count, length, type, shape, offset and
 * tensor extent against the file before anything is exposed, so every
 * accessor below is safe to call on a file that opened successfully.
 *
 * Ownership and lifetime
 *   - struct gguf_file is owned by the caller of gguf_open() or
 *     gguf_open_memory() and released with gguf_close(). Every pointer handed out by the accessors (key
 *     names, strings, array data, tensor infos, tensor data) points into the
 *     gguf_file or its mapping and stays valid until gguf_close().
 *   - Key names, tensor names and scalar string values are NUL-terminated
 *     (small copies made at open). Strings inside string arrays are NOT
 *     NUL-terminated: they are (pointer, length) views into the mapping.
 *   - Raw numeric array data and tensor data point into the mapping; numeric
 *     array data may be unaligned (read it with memcpy or the element
 *     accessors). Tensor data is aligned to gguf_alignment() relative to the
 *     start of the file (mmap'd files are page aligned, so also in memory).
 *
 * Threads: a gguf_file is immutable after open; any number of threads may
 * read it concurrently. Nothing here prints or aborts; failures return a
 * negative code and (where an err buffer is taken) a message naming the
 * file and the offending key, tensor or value.
 *
 * Little-endian hosts only (as GGUF itself). */
#ifndef INF_FORMATS_GGUF_H
#define INF_FORMATS_GGUF_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GGUF_MAGIC "GGUF"
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_DIMS 4

/* Metadata value types, numbered as in the GGUF specification. */
enum gguf_type {
    GGUF_TYPE_UINT8 = 0,
    GGUF_TYPE_INT8 = 1,
    GGUF_TYPE_UINT16 = 2,
    GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4,
    GGUF_TYPE_INT32 = 5,
    GGUF_TYPE_FLOAT32 = 6,
    GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8,
    GGUF_TYPE_ARRAY = 9,
    GGUF_TYPE_UINT64 = 10,
    GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12,
    GGUF_TYPE_COUNT
};

/* Return codes of the getters (gguf_open* return 0 or -1 with a message). */
enum {
    GGUF_OK = 0,
    GGUF_ERR_NOT_FOUND = -1, /* no such key / index out of range */
    GGUF_ERR_TYPE = -2,      /* the value's type cannot be read as asked */
    GGUF_ERR_RANGE = -3,     /* integer value does not fit the asked width */
};

/* "uint32", "string", "array", ...; "unknown" for out-of-range values. */
const char *gguf_type_name(enum gguf_type t);
/* "not found", "wrong type", "out of range", "ok". */
const char *gguf_strerror(int rc);

struct gguf_file;

/* One tensor of the tensor table. */
struct gguf_tensor {
    const char *name;      /* NUL-terminated */
    uint32_t type;         /* ggml type id (see src/tensor/tensor_types.h) */
    uint32_t n_dims;       /* 1..GGUF_MAX_DIMS */
    int64_t ne[GGUF_MAX_DIMS]; /* elements per dimension, ne[0] innermost; unused dims are 1 */
    uint64_t offset;       /* byte offset relative to the data section */
    uint64_t file_offset;  /* absolute byte offset in the file */
    uint64_t size;         /* bytes of data (from the type's block layout) */
    const void *data;      /* points into the mapping */
};

/* One array value. data is the raw little-endian element storage for
 * numeric/bool arrays (possibly unaligned), or the first string record for
 * string arrays (use gguf_array_string). */
struct gguf_array {
    enum gguf_type type;   /* element type (never GGUF_TYPE_ARRAY) */
    uint64_t n;            /* element count */
    const void *data;
    size_t elem_size;      /* bytes per element for numeric types, 0 for strings */
    const void *priv_;     /* internal: string offsets */
};

/* Maps and validates the file at path. On success *out owns the mapping and
 * 0 is returned; on failure -1, *out = NULL and err holds e.g.
 * "model.gguf: tensor 'blk.3.attn_q.weight' extends past end of file
 *  (offset 81920, size 65536, file 100000)". */
int gguf_open(const char *path, struct gguf_file **out, inf_error *err);

/* Same over a caller-owned buffer, which must stay valid and unchanged until
 * gguf_close(); nothing is copied. name is used in error messages (may be
 * NULL: "<memory>"). Handy for fuzzing and tests. */
int gguf_open_memory(const void *data, size_t size, const char *name,
                     struct gguf_file **out, inf_error *err);

/* Releases the mapping and all tables. NULL is a no-op. */
void gguf_close(struct gguf_file *f);

/* File facts. */
const char *gguf_path(const struct gguf_file *f);     /* the path or name given */
uint32_t gguf_version(const struct gguf_file *f);     /* 2 or 3 */
uint64_t gguf_file_size(const struct gguf_file *f);
const void *gguf_file_data(const struct gguf_file *f); /* start of the mapping */

/* Tells the kernel that the mapped bytes [p, p + n) will not be read again
 * soon (madvise MADV_DONTNEED on the whole pages inside the range), so they
 * leave this process's resident memory; a later read maps them back from
 * the page cache. For tensors the engine has copied (repacked weights).
 * No-op for files opened from memory or ranges outside the mapping. */
void gguf_release_range(const struct gguf_file *f, const void *p, uint64_t n);
uint64_t gguf_alignment(const struct gguf_file *f);   /* general.alignment or 32 */
uint64_t gguf_data_offset(const struct gguf_file *f); /* start of the tensor data section */

/* ---- metadata (key/value pairs) ---- */

int64_t gguf_n_kv(const struct gguf_file *f);
/* Index of key, or -1 when absent. */
int64_t gguf_find_key(const struct gguf_file *f, const char *key);
/* Name / value type of the i-th pair; NULL / GGUF_TYPE_COUNT when out of range. */
const char *gguf_key_at(const struct gguf_file *f, int64_t i);
enum gguf_type gguf_kv_type(const struct gguf_file *f, int64_t i);
/* For an array pair: its element type and count (0 / GGUF_TYPE_COUNT otherwise). */
enum gguf_type gguf_kv_array_type(const struct gguf_file *f, int64_t i);
uint64_t gguf_kv_array_n(const struct gguf_file *f, int64_t i);

/* Typed scalar getters by key name. All integer types (and bool, as 0/1)
 * coerce to any integer width when the value fits (else GGUF_ERR_RANGE);
 * gguf_get_f32/f64 accept float32, float64 and integer values; gguf_get_bool
 * accepts bool and integers (nonzero = true). Strings and arrays never
 * coerce. *out is untouched unless GGUF_OK is returned. */
int gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *out);
int gguf_get_i32(const struct gguf_file *f, const char *key, int32_t *out);
int gguf_get_u64(const struct gguf_file *f, const char *key, uint64_t *out);
int gguf_get_i64(const struct gguf_file *f, const char *key, int64_t *out);
int gguf_get_f32(const struct gguf_file *f, const char *key, float *out);
int gguf_get_f64(const struct gguf_file *f, const char *key, double *out);
int gguf_get_bool(const struct gguf_file *f, const char *key, bool *out);
/* String value: *s is NUL-terminated, *len (may be NULL) its byte length
 * (the string may itself contain NUL bytes; trust len). */
int gguf_get_string(const struct gguf_file *f, const char *key, const char **s, size_t *len);

/* Same getters by pair index (for iterating over all keys). */
int gguf_kv_get_i64(const struct gguf_file *f, int64_t i, int64_t *out);
int gguf_kv_get_u64(const struct gguf_file *f, int64_t i, uint64_t *out);
int gguf_kv_get_f64(const struct gguf_file *f, int64_t i, double *out);
int gguf_kv_get_string(const struct gguf_file *f, int64_t i, const char **s, size_t *len);
int gguf_kv_get_array(const struct gguf_file *f, int64_t i, struct gguf_array *out);

/* Array by key name (GGUF_ERR_TYPE when the value is not an array). */
int gguf_get_array(const struct gguf_file *f, const char *key, struct gguf_array *out);
/* i-th element accessors. string: pointer+length into the mapping (not
 * NUL-terminated). i64: integer or bool elements. f32: float32/float64 or
 * integer elements. GGUF_ERR_NOT_FOUND when i >= n, GGUF_ERR_TYPE on a type
 * mismatch, GGUF_ERR_RANGE when an unsigned 64-bit value exceeds INT64_MAX. */
int gguf_array_string(const struct gguf_array *a, uint64_t i, const char **s, size_t *len);
int gguf_array_i64(const struct gguf_array *a, uint64_t i, int64_t *out);
int gguf_array_f32(const struct gguf_array *a, uint64_t i, float *out);

/* ---- tensors ---- */

int64_t gguf_n_tensors(const struct gguf_file *f);
/* i-th tensor in file order, or NULL when out of range. */
const struct gguf_tensor *gguf_tensor_at(const struct gguf_file *f, int64_t i);
/* Index of the named tensor, or -1. */
int64_t gguf_find_tensor(const struct gguf_file *f, const char *name);
/* The named tensor, or NULL. */
const struct gguf_tensor *gguf_get_tensor(const struct gguf_file *f, const char *name);

#ifdef __cplusplus
}
#endif
#endif
