/* model_internal.h - the inf_model handle's insides, shared by model.c and
 * stream.c. */
#ifndef INF_CORE_MODEL_INTERNAL_H
#define INF_CORE_MODEL_INTERNAL_H

#include "inference.h"

#include <pthread.h>

struct inf_model {
    const inf_model_ops *ops;
    void *impl;
    pthread_mutex_t mu;     /* guards everything below */
    int refs;               /* the caller's handle + one per live stream */
    bool closed;
    inf_cancel **live;      /* the internal cancel handles of live streams */
    size_t n_live, cap_live;
    inf_error last_error;   /* Err(): the last stream's end */
};

void inf_model_retain(inf_model *m);
void inf_model_release(inf_model *m);

/* A stream registers its internal cancel (fired by inf_model_close) and takes
 * a reference; untrack drops both and records the stream's final error. */
bool inf_model_track_stream(inf_model *m, inf_cancel *stream_cancel);
void inf_model_untrack_stream(inf_model *m, inf_cancel *stream_cancel, const inf_error *final);
void inf_model_record_error(inf_model *m, const inf_error *final);

#endif
