/* registry.c - the backend registry: register (same name replaces), get,
 * list (sorted), default (preference order), and load_model's routing with
 * the original contract's three error messages.
 *
 * Entries are never freed before inf_registry_shutdown, not even when
 * replaced, so the inf_backend pointers and names handed out stay valid
 * without reference counting. Built-in backends and INFERENCE_PLUGIN_PATH
 * plug-ins are registered on the first use of any registry function. */
#include "inference.h"
#include "core/internal.h"
#include "core/registry_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct inf_backend {
    inf_backend_desc desc; /* desc.name points at name below */
    char *name;
    bool retired;          /* replaced by a later registration of the name */
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static inf_backend **entries;
static size_t n_entries, cap_entries;

/* Start-up (built-ins and plug-ins) runs under its own recursive lock so that
 * a plug-in's init may call back into the registry. */
static pthread_mutex_t init_mu;
static pthread_once_t init_mu_once = PTHREAD_ONCE_INIT;
static bool initialized;

static const char *const preferred_order[] = {"metal", "rocm", "llama_cpp"};

static void make_init_mutex(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&init_mu, &attr);
    pthread_mutexattr_destroy(&attr);
}


static void registry_init(void)
{
    pthread_once(&init_mu_once, make_init_mutex);
    pthread_mutex_lock(&init_mu);
    if (!initialized) {
        initialized = true;
        /* INFERENCE_NO_BUILTIN_BACKENDS=1 leaves the registry to plug-ins and
         * the application (tests of the registry's rules use it). */
        const char *no_builtins = getenv("INFERENCE_NO_BUILTIN_BACKENDS");
        if (!no_builtins || strcmp(no_builtins, "1") != 0) {
            inf_builtins_register();
        }
        inf_plugins_load_from_env();
    }
    pthread_mutex_unlock(&init_mu);
}

static inf_backend *find_live_locked(const char *name)
{
    for (size_t i = 0; i < n_entries; i++)
        if (!entries[i]->retired && strcmp(entries[i]->name, name) == 0) return entries[i];
    return NULL;
}

static inf_status check_desc(const inf_backend_desc *desc, inf_error *err)
{
    if (!desc) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "inference: backend description is NULL");
        return INF_ERR_INVALID_ARGUMENT;
    }
    if (!desc->name || !desc->name[0]) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "inference: backend has no name");
        return INF_ERR_INVALID_ARGUMENT;
    }
    if (!desc->available || !desc->load_model) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT,
                      "inference: backend \"%s\" lacks its available() or load_model() callback", desc->name);
        return INF_ERR_INVALID_ARGUMENT;
    }
    return INF_OK;
}

inf_status inf_registry_add(const inf_backend_desc *desc, bool replace, inf_error *err)
{
    inf_error_clear(err);
    inf_status st = check_desc(desc, err);
    if (st != INF_OK) return st;
    inf_backend *b = calloc(1, sizeof *b);
    char *name = strdup(desc->name);
    if (!b || !name) {
        free(b);
        free(name);
        inf_error_set(err, INF_ERR_NO_MEMORY, "inference: out of memory registering \"%s\"", desc->name);
        return INF_ERR_NO_MEMORY;
    }
    b->desc = *desc;
    b->name = name;
    b->desc.name = name;

    pthread_mutex_lock(&registry_mu);
    inf_backend *old = find_live_locked(name);
    if (old && !replace) {
        pthread_mutex_unlock(&registry_mu);
        free(name);
        free(b);
        return INF_OK; /* an explicit registration of that name already won */
    }
    if (n_entries == cap_entries) {
        size_t cap = cap_entries ? cap_entries * 2 : 8;
        inf_backend **grown = realloc(entries, cap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&registry_mu);
            free(name);
            free(b);
            inf_error_set(err, INF_ERR_NO_MEMORY, "inference: out of memory registering \"%s\"", desc->name);
            return INF_ERR_NO_MEMORY;
        }
        entries = grown;
        cap_entries = cap;
    }
    if (old) old->retired = true;
    entries[n_entries++] = b;
    pthread_mutex_unlock(&registry_mu);
    return INF_OK;
}

inf_status inf_register_backend(const inf_backend_desc *desc, inf_error *err)
{
    return inf_registry_add(desc, true, err);
}

const inf_backend *inf_backend_get(const char *name)
{
    if (!name) return NULL;
    registry_init();
    pthread_mutex_lock(&registry_mu);
    inf_backend *b = find_live_locked(name);
    pthread_mutex_unlock(&registry_mu);
    return b;
}

static int compare_backends_by_name(const void *a, const void *b)
{
    const inf_backend *x = *(const inf_backend *const *)a;
    const inf_backend *y = *(const inf_backend *const *)b;
    return strcmp(x->name, y->name);
}

/* The live entries sorted by name; the caller frees the array. */
static inf_backend **sorted_live(size_t *n_out)
{
    pthread_mutex_lock(&registry_mu);
    inf_backend **live = malloc((n_entries ? n_entries : 1) * sizeof *live);
    size_t n = 0;
    if (live)
        for (size_t i = 0; i < n_entries; i++)
            if (!entries[i]->retired) live[n++] = entries[i];
    pthread_mutex_unlock(&registry_mu);
    if (live) qsort(live, n, sizeof *live, compare_backends_by_name);
    *n_out = n;
    return live;
}

size_t inf_backend_list(const char **names, size_t cap)
{
    registry_init();
    size_t n = 0;
    inf_backend **live = sorted_live(&n);
    if (!live) return 0;
    for (size_t i = 0; i < n && i < cap; i++) names[i] = live[i]->name;
    free(live);
    return n;
}

const char *inf_backend_name(const inf_backend *backend)
{
    return backend ? backend->name : NULL;
}

bool inf_backend_available(const inf_backend *backend)
{
    return backend && backend->desc.available(backend->desc.user);
}

bool inf_backend_accepts(const inf_backend *backend, const char *path)
{
    if (!backend) return false;
    if (!backend->desc.probe) return true;
    return backend->desc.probe(backend->desc.user, path ? path : "");
}

static bool is_preferred(const char *name)
{
    for (size_t i = 0; i < sizeof preferred_order / sizeof *preferred_order; i++)
        if (strcmp(name, preferred_order[i]) == 0) return true;
    return false;
}

/* The available backends in Default()'s order: metal, rocm, llama_cpp, then
 * the rest sorted by name. When path is not NULL, only those accepting it. */
static size_t candidates(const char *path, inf_backend **out, size_t cap, size_t *n_available)
{
    size_t n_live = 0, n = 0;
    inf_backend **live = sorted_live(&n_live);
    *n_available = 0;
    if (!live) return 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t p = 0; p < (pass == 0 ? sizeof preferred_order / sizeof *preferred_order : 1); p++) {
            for (size_t i = 0; i < n_live; i++) {
                inf_backend *b = live[i];
                bool take = pass == 0 ? strcmp(b->name, preferred_order[p]) == 0 : !is_preferred(b->name);
                if (!take || !inf_backend_available(b)) continue;
                (*n_available)++;
                if (path && !inf_backend_accepts(b, path)) continue;
                if (n < cap) out[n] = b;
                n++;
            }
        }
    }
    free(live);
    return n;
}

static void set_no_backends(inf_error *err)
{
    inf_error_set(err, INF_ERR_NO_BACKEND, "inference: no backends registered (import a backend package)");
}

const inf_backend *inf_backend_default(inf_error *err)
{
    inf_error_clear(err);
    registry_init();
    inf_backend *first = NULL;
    size_t n_available = 0;
    if (candidates(NULL, &first, 1, &n_available) == 0) {
        set_no_backends(err);
        return NULL;
    }
    return first;
}

inf_model *inf_backend_load_model(const inf_backend *backend, const char *path, const inf_load_config *cfg,
                                  inf_error *err)
{
    inf_error_clear(err);
    if (!backend) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "inference: backend is NULL");
        return NULL;
    }
    if (!path || !path[0]) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "inference: model path is empty");
        return NULL;
    }
    inf_load_config defaults;
    if (!cfg) {
        inf_load_config_default(&defaults);
        cfg = &defaults;
    }
    if (inf_load_config_check(cfg, err) != INF_OK) return NULL;
    inf_error local;
    inf_error_clear(&local);
    inf_model *m = backend->desc.load_model(backend->desc.user, path, cfg, &local);
    if (!m && local.status == INF_OK)
        inf_error_set(&local, INF_ERR_BACKEND, "inference: backend \"%s\" failed to load \"%s\"", backend->name, path);
    if (err) *err = m ? (inf_error){INF_OK, ""} : local;
    return m;
}

inf_model *inf_load_model(const char *path, const inf_load_config *cfg, inf_error *err)
{
    inf_error_clear(err);
    registry_init();
    if (!path || !path[0]) {
        inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "inference: model path is empty");
        return NULL;
    }
    if (cfg && cfg->backend && cfg->backend[0]) {
        const inf_backend *b = inf_backend_get(cfg->backend);
        if (!b) {
            inf_error_set(err, INF_ERR_NOT_FOUND, "inference: backend \"%s\" not registered", cfg->backend);
            return NULL;
        }
        if (!inf_backend_available(b)) {
            inf_error_set(err, INF_ERR_UNAVAILABLE, "inference: backend \"%s\" not available on this hardware",
                          cfg->backend);
            return NULL;
        }
        return inf_backend_load_model(b, path, cfg, err);
    }
    inf_backend *chosen = NULL;
    size_t n_available = 0;
    if (candidates(path, &chosen, 1, &n_available) == 0) {
        if (n_available == 0)
            set_no_backends(err);
        else
            inf_error_set(err, INF_ERR_NO_BACKEND, "inference: no available backend accepts \"%s\"", path);
        return NULL;
    }
    return inf_backend_load_model(chosen, path, cfg, err);
}

void inf_registry_shutdown(void)
{
    pthread_once(&init_mu_once, make_init_mutex);
    pthread_mutex_lock(&init_mu);
    pthread_mutex_lock(&registry_mu);
    inf_backend **old = entries;
    size_t n = n_entries;
    entries = NULL;
    n_entries = cap_entries = 0;
    initialized = false;
    pthread_mutex_unlock(&registry_mu);
    for (size_t i = 0; i < n; i++) {
        if (old[i]->desc.destroy) old[i]->desc.destroy(old[i]->desc.user);
        free(old[i]->name);
        free(old[i]);
    }
    free(old);
    inf_plugins_unload();
    pthread_mutex_unlock(&init_mu);
}
