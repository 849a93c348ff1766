/* strmap.c - see strmap.h. */
#include "base/strmap.h"

#include <stdlib.h>
#include <string.h>

uint64_t strmap_hash(const char *s)
{
    uint64_t h = UINT64_C(0xCBF29CE484222325);
    for (; *s; s++) h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001B3);
    return h;
}

static int alloc_slots(struct strmap *m, size_t cap)
{
    m->key = calloc(cap, sizeof *m->key);
    m->val = calloc(cap, sizeof *m->val);
    if (!m->key || !m->val) {
        free(m->key);
        free(m->val);
        m->key = NULL;
        m->val = NULL;
        return -1;
    }
    m->cap = cap;
    return 0;
}

int strmap_init(struct strmap *m, size_t expected)
{
    size_t cap = 16;
    while (cap < 2 * expected + 16) cap *= 2;
    m->n = 0;
    return alloc_slots(m, cap);
}

static size_t slot_of(const struct strmap *m, const char *key)
{
    size_t h = (size_t)strmap_hash(key) & (m->cap - 1);
    while (m->key[h] && strcmp(m->key[h], key) != 0) h = (h + 1) & (m->cap - 1);
    return h;
}

static int grow(struct strmap *m)
{
    struct strmap old = *m;
    if (alloc_slots(m, old.cap * 2) != 0) {
        *m = old;
        return -1;
    }
    for (size_t i = 0; i < old.cap; i++)
        if (old.key[i]) {
            size_t h = slot_of(m, old.key[i]);
            m->key[h] = old.key[i];
            m->val[h] = old.val[i];
        }
    free(old.key);
    free(old.val);
    return 0;
}

int strmap_put(struct strmap *m, const char *key, int val)
{
    if (2 * (m->n + 1) > m->cap && grow(m) != 0) return -1;
    size_t h = slot_of(m, key);
    if (!m->key[h]) {
        m->key[h] = key;
        m->n++;
    }
    m->val[h] = val;
    return 0;
}

int strmap_get(const struct strmap *m, const char *key)
{
    if (!m->cap) return -1;
    size_t h = slot_of(m, key);
    return m->key[h] ? m->val[h] : -1;
}

void strmap_free(struct strmap *m)
{
    free(m->key);
    free(m->val);
    m->key = NULL;
    m->val = NULL;
    m->cap = m->n = 0;
}
