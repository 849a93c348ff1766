/* error.c - status names and inf_free (inf_error_set and _clear live in
 * base/error.c, with the library's own error helpers). */
#include "inference.h"

#include <stdlib.h>
#include <string.h>

const char *inf_status_name(inf_status status)
{
    switch (status) {
    case INF_OK: return "ok";
    case INF_ERR_INVALID_ARGUMENT: return "invalid argument";
    case INF_ERR_NOT_FOUND: return "not found";
    case INF_ERR_NO_BACKEND: return "no backend";
    case INF_ERR_UNAVAILABLE: return "unavailable";
    case INF_ERR_IO: return "i/o error";
    case INF_ERR_FORMAT: return "bad format";
    case INF_ERR_UNSUPPORTED: return "unsupported";
    case INF_ERR_NO_MEMORY: return "out of memory";
    case INF_ERR_CONTEXT_OVERFLOW: return "context overflow";
    case INF_ERR_CANCELLED: return "cancelled";
    case INF_ERR_DEADLINE_EXCEEDED: return "deadline exceeded";
    case INF_ERR_TEMPLATE: return "template error";
    case INF_ERR_BACKEND: return "backend error";
    case INF_ERR_INTERNAL: return "internal error";
    }
    return "unknown";
}

void inf_free(void *ptr)
{
    free(ptr);
}
