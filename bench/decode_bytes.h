/* decode_bytes.h - how many bytes of weights one decoded token reads, from a
 * GGUF file's tensor table. Shared by model_bytes.c and
 * bench_decode_bound.c.
 *
 * A decoded token reads every tensor once, except the token embedding table
 * (token_embd.weight), of which it reads one row. When the model has no
 * output.weight its output projection is tied to token_embd, which is then
 * read in full as the output matrix: counted once, in full. */
#ifndef INF_BENCH_DECODE_BYTES_H
#define INF_BENCH_DECODE_BYTES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "formats/gguf.h"

struct decode_bytes {
    uint64_t total;      /* every tensor */
    uint64_t token_embd; /* the embedding table */
    bool tied_output;
    uint64_t decode;     /* read per decoded token */
    int64_t n_tensors;
};

static inline struct decode_bytes decode_bytes_of(const struct gguf_file *f)
{
    struct decode_bytes d = {0};
    uint64_t embd_row = 0;
    bool has_output = false;
    d.n_tensors = gguf_n_tensors(f);
    for (int64_t i = 0; i < d.n_tensors; i++) {
        const struct gguf_tensor *t = gguf_tensor_at(f, i);
        d.total += t->size;
        if (!strcmp(t->name, "token_embd.weight")) {
            d.token_embd = t->size;
            int64_t rows = t->n_dims >= 2 ? t->ne[1] : 1;
            embd_row = rows > 0 ? t->size / (uint64_t)rows : t->size;
        } else if (!strcmp(t->name, "output.weight")) {
            has_output = true;
        }
    }
    d.tied_output = d.token_embd > 0 && !has_output;
    /* Untied: the embedding table is read one row per token. Tied: read in
     * full as the output matrix (the row read for the input is in it). */
    d.decode = d.tied_output || d.token_embd == 0 ? d.total : d.total - d.token_embd + embd_row;
    return d;
}

#endif
