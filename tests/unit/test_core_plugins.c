/* test_core_plugins.c - plug-ins: a real plug-in .so registers its backend
 * (explicitly and through INFERENCE_PLUGIN_PATH, file or directory), and a
 * file that is not a plug-in gets a clear error. Also the registry under
 * concurrent register/get/list from several threads. */
#include "inference.h"
#include "test_backend.h"
#include "test_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char plugin_dir[4096];

static const char *plugin(const char *name)
{
    static char buf[sizeof plugin_dir + 64];
    snprintf(buf, sizeof buf, "%s/%s.so", plugin_dir, name);
    return buf;
}

static void test_explicit_load(void)
{
    inf_registry_shutdown();
    inf_error e;
    CHECK(inf_backend_get("plugged") == NULL);
    CHECK_MSG(inf_plugin_load(plugin("test_plugin"), &e) == INF_OK, "%s", e.message);
    const inf_backend *b = inf_backend_get("plugged");
    CHECK(b != NULL && inf_backend_available(b));
    /* Its load_model error reaches us. */
    inf_load_config cfg;
    inf_load_config_default(&cfg);
    cfg.backend = "plugged";
    CHECK(inf_load_model("/x", &cfg, &e) == NULL);
    CHECK_STREQ(e.message, "plugged: this test plug-in loads no models");

    /* Not a plug-in: no entry point. */
    CHECK(inf_plugin_load(plugin("no_entry_plugin"), &e) == INF_ERR_FORMAT);
    CHECK_MSG(strstr(e.message, "does not export inf_plugin_init") != NULL, "%s", e.message);
    /* Not a shared object at all. */
    const char *src = getenv("INF_SOURCE_DIR");
    char text_file[4096];
    snprintf(text_file, sizeof text_file, "%s/CMakeLists.txt", src ? src : ".");
    CHECK(inf_plugin_load(text_file, &e) == INF_ERR_FORMAT);
    CHECK_MSG(strstr(e.message, "not a loadable shared object") != NULL, "%s", e.message);
    CHECK(inf_plugin_load("/nonexistent/p.so", &e) == INF_ERR_NOT_FOUND);
    CHECK(strstr(e.message, "/nonexistent/p.so") != NULL);
    CHECK(inf_plugin_load(NULL, &e) == INF_ERR_INVALID_ARGUMENT);
    inf_registry_shutdown();
}

static void test_env_path(void)
{
    /* A file in the path. */
    setenv("INFERENCE_PLUGIN_PATH", plugin("test_plugin"), 1);
    inf_registry_shutdown();
    CHECK(inf_backend_get("plugged") != NULL);
    CHECK(inf_plugin_path_errors() == NULL);

    /* A directory: every .so in it; the one without an entry point is reported. */
    char path[8192];
    snprintf(path, sizeof path, "%s:/nonexistent/dir", plugin_dir);
    setenv("INFERENCE_PLUGIN_PATH", path, 1);
    inf_registry_shutdown();
    CHECK(inf_backend_get("plugged") != NULL);
    const char *errors = inf_plugin_path_errors();
    CHECK(errors != NULL);
    CHECK(errors && strstr(errors, "no_entry_plugin.so does not export") != NULL);
    CHECK(errors && strstr(errors, "/nonexistent/dir") != NULL);
    unsetenv("INFERENCE_PLUGIN_PATH");
    inf_registry_shutdown();
    CHECK(inf_backend_get("plugged") == NULL);
}

static void *hammer(void *arg)
{
    int id = (int)(intptr_t)arg;
    char name[32];
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "b%d", (id + i) % 5);
        inf_backend_desc d = test_backend_desc(strdup(name), true, NULL);
        /* desc.name is copied by the registry; the strdup above is freed here. */
        inf_register_backend(&d, NULL);
        free((char *)d.name);
        const inf_backend *b = inf_backend_get(name);
        if (!b || strcmp(inf_backend_name(b), name) != 0) return (void *)1;
        const char *names[16];
        size_t n = inf_backend_list(names, 16);
        if (n > 16) return (void *)1;
        for (size_t k = 1; k < n && k < 16; k++)
            if (strcmp(names[k - 1], names[k]) >= 0) return (void *)1;
        if (!inf_backend_default(NULL)) return (void *)1;
    }
    return NULL;
}

static void test_concurrent_registry(void)
{
    inf_registry_shutdown();
    pthread_t th[8];
    for (int i = 0; i < 8; i++) pthread_create(&th[i], NULL, hammer, (void *)(intptr_t)i);
    int failures = 0;
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(th[i], &r);
        failures += r != NULL;
    }
    CHECK(failures == 0);
    CHECK(inf_backend_list(NULL, 0) == 5);
    inf_registry_shutdown();
}

int main(void)
{
    setenv("INFERENCE_NO_BUILTIN_BACKENDS", "1", 1);
    unsetenv("INFERENCE_PLUGIN_PATH");
    const char *build = getenv("INF_BUILD_DIR");
    if (!build) TEST_FAIL("INF_BUILD_DIR is not set (run through ctest)");
    snprintf(plugin_dir, sizeof plugin_dir, "%s/plugins", build);
    test_explicit_load();
    test_env_path();
    test_concurrent_registry();
    return TEST_DONE();
}
