/* str.h - small string helpers every room uses. All return malloc'd
 * strings (free them with free()), NULL when memory runs out. */
#ifndef INF_BASE_STR_H
#define INF_BASE_STR_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>

/* A copy of s (NULL for NULL). */
char *str_dup(const char *s);
/* A copy of s, or of "" for NULL. */
char *str_dup_or_empty(const char *s);
/* A NUL-terminated copy of the n bytes at s (which may hold NUL bytes). */
char *str_ndup(const char *s, size_t n);
/* The formatted text. */
char *str_printf(const char *fmt, ...) INF_PRINTF(1, 2);
bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);

#endif
