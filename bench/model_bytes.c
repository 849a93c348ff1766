/* model_bytes.c - how many bytes of weights one decoded token reads, from a
 * GGUF file's tensor table (the weights are not loaded). bench/compare.sh
 * divides the machine's read bandwidth (bench_bandwidth) by this figure to
 * get the bandwidth bound of decoding, in tokens per second.
 *
 *   build/model_bytes MODEL.gguf [--json]
 *
 * What counts is in decode_bytes.h.
 *
 * Prints "decode_bytes total_bytes" (plain) or one JSON object with
 * "model", "tensors", "total_bytes", "token_embd_bytes", "tied_output" and
 * "decode_bytes". Exit 1 when the file cannot be read as GGUF, 2 on usage. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "decode_bytes.h"

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
    inf_error err = {0};
    if (gguf_open(path, &f, &err) != 0) {
        fprintf(stderr, "model_bytes: %s\n", err.message);
        return 1;
    }
    const struct decode_bytes d = decode_bytes_of(f);
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (json) {
        printf("{\"model\": ");
        print_json_string(name);
        printf(", \"tensors\": %lld, \"total_bytes\": %llu, \"token_embd_bytes\": %llu, "
               "\"tied_output\": %s, \"decode_bytes\": %llu}\n",
               (long long)d.n_tensors, (unsigned long long)d.total, (unsigned long long)d.token_embd,
               d.tied_output ? "true" : "false", (unsigned long long)d.decode);
    } else {
        printf("%llu %llu\n", (unsigned long long)d.decode, (unsigned long long)d.total);
    }
    gguf_close(f);
    return 0;
}
