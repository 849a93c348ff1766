/* internal.h - what the core's files share with each other and with the
 * built-in backends; nothing here is public API. */
#ifndef INF_CORE_INTERNAL_H
#define INF_CORE_INTERNAL_H

#include "inference.h"

#include <stdint.h>

/* Range checks of a load config (negative counts...). */
inf_status inf_load_config_check(const inf_load_config *cfg, inf_error *err);


#endif
