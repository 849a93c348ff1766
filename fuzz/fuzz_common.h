/* fuzz_common.h - small helpers shared by the libFuzzer harnesses:
 * splitting one input into two documents and an exactly sized copy of the
 * input (so that a read one byte past a buffer is caught by ASan). */
#ifndef INF_FUZZ_COMMON_H
#define INF_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Separates a harness's two documents in one input (first occurrence). */
#define FUZZ_SPLIT "\n#----\n"

/* Exactly sized heap copy of data[0..size) (1 byte when size is 0). */
static inline char *fuzz_copy(const void *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    if (p && size) memcpy(p, data, size);
    return p;
}

/* Splits data at FUZZ_SPLIT: the first part is [0, *a_len), the second
 * starts at *b and runs *b_len bytes; *b is NULL when there is no split. */
static inline void fuzz_split(const char *data, size_t size, size_t *a_len, const char **b, size_t *b_len)
{
    const size_t sep = sizeof FUZZ_SPLIT - 1;
    *a_len = size;
    *b = NULL;
    *b_len = 0;
    for (size_t i = 0; i + sep <= size; i++) {
        if (memcmp(data + i, FUZZ_SPLIT, sep) == 0) {
            *a_len = i;
            *b = data + i + sep;
            *b_len = size - i - sep;
            return;
        }
    }
}

#endif
