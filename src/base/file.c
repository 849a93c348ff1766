/* file.c - see file.h. */
#include "base/file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The stream to its end; the name in messages is what (a path, "stdin"). */
static char *read_stream(FILE *fp, const char *what, size_t max, size_t *len, inf_error *err)
{
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 1 >= cap) {
            if (cap >= max) {
                err_fail(err, INF_ERR_INVALID_ARGUMENT, "%s: larger than %zu bytes", what, max);
                free(buf);
                return NULL;
            }
            cap = cap ? cap * 2 : 16384;
            if (cap > max) cap = max;
            char *nb = realloc(buf, cap);
            if (!nb) {
                err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", what);
                free(buf);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0) break;
    }
    if (ferror(fp)) {
        err_fail(err, INF_ERR_IO, "%s: read error", what);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

char *file_read_stream(FILE *fp, size_t max, size_t *len, inf_error *err)
{
    return read_stream(fp, "input", max, len, err);
}

char *file_read_all(const char *path, size_t max, size_t *len, inf_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        err_fail(err, errno == ENOENT ? INF_ERR_NOT_FOUND : INF_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = read_stream(fp, path, max, len, err);
    int saved = errno;
    fclose(fp);
    errno = saved;
    return buf;
}

int file_write_all(FILE *fp, const void *data, size_t n)
{
    return n == 0 || fwrite(data, 1, n, fp) == n ? 0 : -1;
}

int file_write_zeros(FILE *fp, uint64_t n)
{
    static const char zeros[4096];
    while (n > 0) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        if (fwrite(zeros, 1, k, fp) != k) return -1;
        n -= k;
    }
    return 0;
}

int file_is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int file_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
