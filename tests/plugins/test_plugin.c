/* test_plugin.c - a plug-in for the plug-in tests: registers a backend named
 * "plugged" through the host table alone (it does not link libinference). */
#include "inference.h"

#include <string.h>

static bool plugged_available(void *user) { (void)user; return true; }

static inf_model *plugged_load(void *user, const char *path, const inf_load_config *cfg, inf_error *err)
{
    (void)user;
    (void)cfg;
    if (err) {
        err->status = INF_ERR_UNSUPPORTED;
        strncpy(err->message, "plugged: this test plug-in loads no models", sizeof err->message - 1);
        err->message[sizeof err->message - 1] = '\0';
    }
    (void)path;
    return NULL;
}

__attribute__((visibility("default"))) inf_status inf_plugin_init(const inf_plugin_host *host, inf_error *err)
{
    if (host->abi_version != INF_PLUGIN_ABI_VERSION) return INF_ERR_UNSUPPORTED;
    inf_backend_desc desc = {
        .name = "plugged",
        .available = plugged_available,
        .load_model = plugged_load,
    };
    return host->register_backend(&desc, err);
}
