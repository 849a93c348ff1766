/* error.h - the one error convention of the library's insides.
 *
 * A function that can fail takes `inf_error *err` (the contract's own error
 * type, which may be NULL when the caller does not want the message) and
 * returns 0 on success or -1 on failure, after filling *err at the failure
 * site with the real status (INF_ERR_FORMAT for a malformed file,
 * INF_ERR_UNSUPPORTED for a well-formed one we do not run, INF_ERR_IO,
 * INF_ERR_NO_MEMORY, ...) and a message naming the file, key, tensor or
 * value. Callers that add context use err_prefix, which keeps the status;
 * no caller ever recovers a status from the text. */
#ifndef INF_BASE_ERROR_H
#define INF_BASE_ERROR_H

#include "inference.h"

#include <stdarg.h>

#if defined(__GNUC__)
#define INF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define INF_PRINTF(f, a)
#endif

/* Fills *err (when not NULL) and returns -1. */
int err_fail(inf_error *err, inf_status status, const char *fmt, ...) INF_PRINTF(3, 4);
int err_vfail(inf_error *err, inf_status status, const char *fmt, va_list ap);
/* "PREFIX: message", keeping err's status (a no-op for NULL). */
void err_prefix(inf_error *err, const char *fmt, ...) INF_PRINTF(2, 3);
/* "message SUFFIX" (the suffix formatted), keeping the status. */
void err_append(inf_error *err, const char *fmt, ...) INF_PRINTF(2, 3);
/* For a cancel handle's status (inf_cancel_status): when it has fired,
 * fill err with the standard message ("operation cancelled" / "deadline
 * exceeded"); returns the status either way. */
inf_status err_cancelled(inf_status cancel_status, inf_error *err);
/* The status of a failed call, INF_ERR_INTERNAL when none was set. */
inf_status err_status(const inf_error *err);

#endif
