/* model_bytes.c - how many bytes of weights one decoded token reads, from a
 * GGUF file's tensor table (the weights are not loaded). bench/compare.sh
 * divides the machine's read bandwidth (bench_bandwidth) by this figure to
 * get the bandwidth bound of decoding, in tokens per second.
 *
 *   build/model_bytes MODEL.gguf [--json]
 *
 * A decoded token reads every tensor once, except the token embedding table
 * (token_embd.weight), of which it reads one row. When the model has no
 * output.weight its output projection is tied to token_embd, which is then
 * read in full as the output matrix: counted once, in full.
 *
 * Prints "decode_bytes total_bytes" (plain) or one JSON object with
 * "model", "tensors", "total_bytes", "token_embd_bytes", "tied_output" and
 * "decode_bytes". Exit 1 when the file cannot be read as GGUF, 2 on usage. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "formats/gguf.h"

/* A JSON string (quotes, backslashes and control bytes escaped). */
static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: %s MODEL.gguf [--json]\n", argv[0]);
            return 0;
        } else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "model_bytes: unexpected argument '%s'\nusage: %s MODEL.gguf [--json]\n", argv[i],
                    argv[0]);
            return 2;
        } else path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: %s MODEL.gguf [--json]\n", argv[0]);
        return 2;
    }
    struct gguf_file *f = NULL;
    char err[512];
    if (gguf_open(path, &f, err, sizeof err) != 0) {
        fprintf(stderr, "model_bytes: %s\n", err);
        return 1;
    }
    uint64_t total = 0, embd = 0, embd_row = 0;
    bool has_output = false;
    int64_t n = gguf_n_tensors(f);
    for (int64_t i = 0; i < n; i++) {
        const struct gguf_tensor *t = gguf_tensor_at(f, i);
        total += t->size;
        if (!strcmp(t->name, "token_embd.weight")) {
            embd = t->size;
            int64_t rows = t->n_dims >= 2 ? t->ne[1] : 1;
            embd_row = rows > 0 ? t->size / (uint64_t)rows : t->size;
        } else if (!strcmp(t->name, "output.weight")) {
            has_output = true;
        }
    }
    bool tied = embd > 0 && !has_output;
    /* Untied: the embedding table is read one row per token. Tied: read in
     * full as the output matrix (the row read for the input is in it). */
    uint64_t decode = tied || embd == 0 ? total : total - embd + embd_row;
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (json) {
        printf("{\"model\": ");
        print_json_string(name);
        printf(", \"tensors\": %lld, \"total_bytes\": %llu, \"token_embd_bytes\": %llu, "
               "\"tied_output\": %s, \"decode_bytes\": %llu}\n",
               (long long)n, (unsigned long long)total, (unsigned long long)embd, tied ? "true" : "false",
               (unsigned long long)decode);
    } else {
        printf("%llu %llu\n", (unsigned long long)decode, (unsigned long long)total);
    }
    gguf_close(f);
    return 0;
}
