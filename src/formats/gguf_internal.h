/* gguf_internal.h - INTERNAL to the GGUF reader: the parsed file, shared
 * by gguf.c (validation and mapping) and gguf_lookup.c (the accessors). */
#ifndef INF_FORMATS_GGUF_INTERNAL_H
#define INF_FORMATS_GGUF_INTERNAL_H

#include "formats/gguf.h"

#include <stddef.h>
#include <stdint.h>

struct gguf_kv {
    char *key;                /* NUL-terminated copy */
    enum gguf_type type;
    const uint8_t *raw;       /* scalar: the value bytes in the mapping */
    char *str;                /* scalar string: NUL-terminated copy */
    uint64_t str_len;
    enum gguf_type arr_type;  /* array */
    uint64_t arr_n;
    const uint8_t *arr_data;
    uint64_t *str_offsets;    /* string arrays: offset (from arr_data) of each length prefix */
};

struct gguf_file {
    char *path;
    const uint8_t *base;
    uint64_t size;
    int mapped;               /* 1: munmap on close */
    uint32_t version;
    uint64_t alignment;
    uint64_t data_offset;
    int64_t n_kv;
    struct gguf_kv *kv;
    int64_t *kv_sorted;       /* indices sorted by key, for bsearch */
    int64_t n_tensors;
    struct gguf_tensor *tensors;
    int64_t *t_sorted;        /* indices sorted by name */
};

/* Bytes of one scalar of each value type (0 for strings and arrays). */
extern const size_t gguf_type_sizes[GGUF_TYPE_COUNT];

/* An integer value of any integer type: *si clamped to int64, *ui clamped
 * to uint64, *is_neg for negative ones. GGUF_OK or GGUF_ERR_TYPE. */
int gguf_kv_int(const struct gguf_kv *kv, int64_t *si, uint64_t *ui, int *is_neg);

/* The index of name among n sorted keys (tensors 0) or tensor names (1),
 * or -1. */
int64_t gguf_bsearch_name(const struct gguf_file *f, const int64_t *idx, int64_t n, const char *name, int tensors);

#endif
