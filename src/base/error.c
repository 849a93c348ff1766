/* error.c - see error.h; also the contract's inf_error_set/_clear, which are
 * the same thing for backends and applications. */
#include "base/error.h"

#include <stdio.h>
#include <string.h>

int err_vfail(inf_error *err, inf_status status, const char *fmt, va_list ap)
{
    if (err) {
        err->status = status;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
    }
    return -1;
}

int err_fail(inf_error *err, inf_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vfail(err, status, fmt, ap);
    va_end(ap);
    return -1;
}

void err_prefix(inf_error *err, const char *fmt, ...)
{
    if (!err) return;
    char joined[2 * INF_ERROR_MESSAGE_MAX + 2];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(joined, INF_ERROR_MESSAGE_MAX, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t at = strlen(joined);
    memcpy(joined + at, ": ", 2);
    size_t old = strnlen(err->message, sizeof err->message - 1);
    memcpy(joined + at + 2, err->message, old);
    size_t total = at + 2 + old;
    if (total > sizeof err->message - 1) total = sizeof err->message - 1; /* truncated */
    memcpy(err->message, joined, total);
    err->message[total] = '\0';
}

void err_append(inf_error *err, const char *fmt, ...)
{
    if (!err) return;
    size_t at = strnlen(err->message, sizeof err->message - 1);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message + at, sizeof err->message - at, fmt, ap);
    va_end(ap);
}

inf_status err_cancelled(inf_status st, inf_error *err)
{
    if (st == INF_ERR_CANCELLED) err_fail(err, st, "operation cancelled");
    else if (st == INF_ERR_DEADLINE_EXCEEDED) err_fail(err, st, "deadline exceeded");
    return st;
}

inf_status err_status(const inf_error *err)
{
    return err && err->status != INF_OK ? err->status : INF_ERR_INTERNAL;
}

void inf_error_set(inf_error *err, inf_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vfail(err, status, fmt, ap);
    va_end(ap);
}

void inf_error_clear(inf_error *err)
{
    if (!err) return;
    err->status = INF_OK;
    err->message[0] = '\0';
}
