/* internal.h - what the core's files share with each other and with the
 * built-in backends; nothing here is public API. */
#ifndef INF_CORE_INTERNAL_H
#define INF_CORE_INTERNAL_H

#include "inference.h"

#include <stdint.h>

/* When the handle has fired, fill err with the standard message and return
 * its status; else return INF_OK and leave err alone. */
inf_status inf_cancel_error(const inf_cancel *cancel, inf_error *err);

/* Range checks of a load config (negative counts...). */
inf_status inf_load_config_check(const inf_load_config *cfg, inf_error *err);

/* Built-in backends register themselves through these (called once, on the
 * registry's first use). Each returns INF_OK or why it could not. */
inf_status inf_backend_cpu_register(void);

#endif
