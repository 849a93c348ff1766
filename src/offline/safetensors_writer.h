/* safetensors_writer.h - write a .safetensors file (the layout
 * safetensors.h reads): an 8-byte little-endian header length, a compact
 * JSON header ("__metadata__" first, then the tensors in the order given,
 * padded with spaces to a multiple of 8 bytes, as the reference writer
 * does), then every tensor's bytes back to back.
 *
 * Tensor bytes come from a callback, one tensor at a time, so a writer
 * never holds more than the largest tensor in memory. The file is written
 * to "<path>.tmp" and renamed into place on success; on failure nothing is
 * left at path. Used by tools/make-model. Nothing prints. */
#ifndef INF_OFFLINE_SAFETENSORS_WRITER_H
#define INF_OFFLINE_SAFETENSORS_WRITER_H

#include "base/error.h"

#include "formats/safetensors.h"

#include <stddef.h>
#include <stdint.h>

struct safetensors_wtensor {
    const char *name;
    int dtype;                           /* enum safetensors_dtype */
    int n_dims;                          /* 1..SAFETENSORS_MAX_DIMS */
    int64_t shape[SAFETENSORS_MAX_DIMS]; /* outermost first */
};

/* Bytes of a tensor: product of the shape times the dtype size. */
uint64_t safetensors_wtensor_bytes(const struct safetensors_wtensor *t);

/* Writes tensor i's bytes (size of them) to dst; 0, or -1 with err filled. */
typedef int (*safetensors_fill_fn)(void *user, int i, void *dst, size_t size, inf_error *err);

/* meta: NULL or key, value, key, value, ..., NULL (strings, the
 * "__metadata__" object). Returns 0, or -1 with err naming the file. */
int safetensors_write(const char *path, const struct safetensors_wtensor *tensors, int n,
                      const char *const *meta, safetensors_fill_fn fill, void *user, inf_error *err);

#endif
