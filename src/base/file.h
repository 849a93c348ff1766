/* file.h - whole-file reads and checked writes. */
#ifndef INF_BASE_FILE_H
#define INF_BASE_FILE_H

#include "base/error.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The file at path in a malloc'd, NUL-terminated buffer (*len bytes, len may
 * be NULL). A file larger than max is refused. NULL with err filled on
 * failure (INF_ERR_NOT_FOUND when it does not exist, INF_ERR_IO,
 * INF_ERR_NO_MEMORY, INF_ERR_INVALID_ARGUMENT when too large). */
char *file_read_all(const char *path, size_t max, size_t *len, inf_error *err);
/* As file_read_all, from an open stream (stdin) to its end. */
char *file_read_stream(FILE *fp, size_t max, size_t *len, inf_error *err);
/* fwrite all of data; 0 or -1. */
int file_write_all(FILE *fp, const void *data, size_t n);
/* n zero bytes (alignment padding); 0 or -1. */
int file_write_zeros(FILE *fp, uint64_t n);
/* Whether path names an existing regular file / directory. */
int file_is_regular(const char *path);
int file_is_dir(const char *path);

#endif
