/* strmap.h - a map from NUL-terminated strings to ints, open addressing
 * with FNV-1a hashes. Keys are not copied: each must outlive the map.
 * For lookups over large vocabularies (hundreds of thousands of pieces)
 * where a linear scan would do. Not thread-safe for writers; any number of
 * readers once built. */
#ifndef INF_BASE_STRMAP_H
#define INF_BASE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap {
    const char **key;
    int *val;
    size_t cap, n;
};

uint64_t strmap_hash(const char *s);
/* An empty map with room for about `expected` keys; 0 or -1 (no memory). */
int strmap_init(struct strmap *m, size_t expected);
/* Sets key's value (replacing an earlier one); 0 or -1 (no memory). */
int strmap_put(struct strmap *m, const char *key, int val);
/* The value, or -1 when absent. */
int strmap_get(const struct strmap *m, const char *key);
void strmap_free(struct strmap *m);

#endif
