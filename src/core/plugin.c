/* plugin.c - backends from shared objects: the C form of the original's
 * build-tagged init(). A plug-in exports inf_plugin_init (INF_PLUGIN_ENTRY_NAME)
 * and registers its backends through the host table it is given, so it needs
 * no link-time dependency on this library. */
#include "inference.h"
#include "core/internal.h"
#include "core/registry_internal.h"

#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static pthread_mutex_t plugin_mu = PTHREAD_MUTEX_INITIALIZER;
static void **handles;
static size_t n_handles, cap_handles;
static char *env_errors; /* newline-separated, NULL when none */

static const inf_plugin_host host_table = {
    .abi_version = INF_PLUGIN_ABI_VERSION,
    .register_backend = inf_register_backend,
    .model_new = inf_model_new,
    .cancel_status = inf_cancel_status,
};

static bool keep_handle(void *handle)
{
    pthread_mutex_lock(&plugin_mu);
    if (n_handles == cap_handles) {
        size_t cap = cap_handles ? cap_handles * 2 : 4;
        void **grown = realloc(handles, cap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&plugin_mu);
            return false;
        }
        handles = grown;
        cap_handles = cap;
    }
    handles[n_handles++] = handle;
    pthread_mutex_unlock(&plugin_mu);
    return true;
}

inf_status inf_plugin_load(const char *path, inf_error *err)
{
    inf_error_clear(err);
    if (!path || !path[0]) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "inference: plug-in path is empty");
        return INF_ERR_INVALID_ARGUMENT;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        inf_error_set(err, INF_ERR_NOT_FOUND, "inference: plug-in %s: no such file", path);
        return INF_ERR_NOT_FOUND;
    }
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        inf_error_set(err, INF_ERR_FORMAT, "inference: plug-in %s is not a loadable shared object: %s", path,
                      why ? why : "unknown reason");
        return INF_ERR_FORMAT;
    }
    inf_plugin_init_fn init;
    void *sym = dlsym(handle, INF_PLUGIN_ENTRY_NAME);
    memcpy(&init, &sym, sizeof init); /* object-to-function pointer, as POSIX allows */
    if (!sym) {
        dlclose(handle);
        inf_error_set(err, INF_ERR_FORMAT, "inference: plug-in %s does not export %s()", path,
                      INF_PLUGIN_ENTRY_NAME);
        return INF_ERR_FORMAT;
    }
    inf_error local;
    inf_error_clear(&local);
    inf_status status = init(&host_table, &local);
    if (status != INF_OK) {
        inf_error_set(err, status, "inference: plug-in %s failed to initialise: %s", path,
                      local.message[0] ? local.message : inf_status_name(status));
        /* Kept loaded: it may have registered some backends before failing. */
    }
    if (!keep_handle(handle)) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "inference: out of memory loading plug-in %s", path);
        return INF_ERR_NO_MEMORY;
    }
    return status;
}

static void append_env_error(const char *message)
{
    size_t old_len = env_errors ? strlen(env_errors) : 0;
    size_t add = strlen(message);
    char *grown = realloc(env_errors, old_len + add + 2);
    if (!grown) return;
    memcpy(grown + old_len, message, add);
    grown[old_len + add] = '\n';
    grown[old_len + add + 1] = '\0';
    env_errors = grown;
}

static void load_one(const char *path)
{
    inf_error err;
    if (inf_plugin_load(path, &err) != INF_OK) append_env_error(err.message);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.so in a directory, in sorted order so loading is deterministic. */
static void load_directory(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        char msg[512];
        snprintf(msg, sizeof msg, "inference: plug-in directory %s cannot be read", dir);
        append_env_error(msg);
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0) continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        if (!grown) break;
        names = grown;
        size_t need = strlen(dir) + len + 2;
        names[n] = malloc(need);
        if (!names[n]) break;
        snprintf(names[n], need, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, compare_strings);
    for (size_t i = 0; i < n; i++) {
        load_one(names[i]);
        free(names[i]);
    }
    free(names);
}

void inf_plugins_load_from_env(void)
{
    const char *env = getenv("INFERENCE_PLUGIN_PATH");
    if (!env || !env[0]) return;
    char *copy = strdup(env);
    if (!copy) return;
    char *save = NULL;
    for (char *part = strtok_r(copy, ":", &save); part; part = strtok_r(NULL, ":", &save)) {
        struct stat st;
        if (stat(part, &st) == 0 && S_ISDIR(st.st_mode))
            load_directory(part);
        else
            load_one(part);
    }
    free(copy);
}

const char *inf_plugin_path_errors(void)
{
    return env_errors;
}

void inf_plugins_unload(void)
{
    pthread_mutex_lock(&plugin_mu);
    for (size_t i = 0; i < n_handles; i++) dlclose(handles[i]);
    free(handles);
    handles = NULL;
    n_handles = cap_handles = 0;
    free(env_errors);
    env_errors = NULL;
    pthread_mutex_unlock(&plugin_mu);
}
