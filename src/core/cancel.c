/* cancel.c - cancellation handles: a lock-free flag plus an optional deadline,
 * chained to a parent as Go's context.WithCancel is. Triggering only stores
 * to an atomic, so it is safe in a signal handler. */
#include "inference.h"
#include "base/os.h"
#include "core/internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct inf_cancel {
    atomic_bool cancelled;
    _Atomic int64_t deadline_ns; /* 0 = none */
    const inf_cancel *parent;
};

inf_cancel *inf_cancel_new(const inf_cancel *parent)
{
    inf_cancel *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    atomic_init(&c->cancelled, false);
    atomic_init(&c->deadline_ns, 0);
    c->parent = parent;
    return c;
}

void inf_cancel_free(inf_cancel *cancel)
{
    free(cancel);
}

void inf_cancel_trigger(inf_cancel *cancel)
{
    if (cancel) atomic_store(&cancel->cancelled, true);
}

void inf_cancel_set_timeout(inf_cancel *cancel, int64_t timeout_ms)
{
    if (!cancel) return;
    if (timeout_ms < 0) {
        atomic_store(&cancel->deadline_ns, 0);
        return;
    }
    int64_t when = os_monotonic_ns() + timeout_ms * 1000000LL;
    if (when == 0) when = 1;
    atomic_store(&cancel->deadline_ns, when);
}

inf_status inf_cancel_status(const inf_cancel *cancel)
{
    int64_t now = 0;
    for (const inf_cancel *c = cancel; c; c = c->parent) {
        if (atomic_load(&((inf_cancel *)c)->cancelled)) return INF_ERR_CANCELLED;
        int64_t deadline = atomic_load(&((inf_cancel *)c)->deadline_ns);
        if (deadline) {
            if (!now) now = os_monotonic_ns();
            if (now >= deadline) return INF_ERR_DEADLINE_EXCEEDED;
        }
    }
    return INF_OK;
}

/* Fill err with the standard message for a fired handle. */
