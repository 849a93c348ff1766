/* registry_internal.h - the registry's hooks shared with plugin.c and the
 * built-in backends. */
#ifndef INF_CORE_REGISTRY_INTERNAL_H
#define INF_CORE_REGISTRY_INTERNAL_H

#include "inference.h"

/* Add a backend; with replace false an existing live entry of that name is
 * kept (built-ins never override an application's own registration). */
inf_status inf_registry_add(const inf_backend_desc *desc, bool replace, inf_error *err);

/* Load every plug-in named by INFERENCE_PLUGIN_PATH, collecting errors. */
void inf_plugins_load_from_env(void);

/* Registers the built-in backends (with replace false). Defined by
 * builtins.c, the one list of them. */
void inf_builtins_register(void);

/* dlclose every loaded plug-in and forget the collected errors. */
void inf_plugins_unload(void);

#endif
