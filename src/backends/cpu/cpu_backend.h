/* cpu_backend.h - the `cpu` backend, our own engine behind the contract:
 * GGUF files and Hugging Face directories of the architectures the engine
 * runs (src/model/arch.c), on this CPU. Its probe accepts every path that
 * is not a URL. */
#ifndef INF_BACKENDS_CPU_BACKEND_H
#define INF_BACKENDS_CPU_BACKEND_H

#include "inference.h"

/* The backend's description (name "cpu"), for the built-in list. */
inf_backend_desc cpu_backend_desc(void);

#endif
