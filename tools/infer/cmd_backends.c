/* cmd_backends.c - `infer backends`: the registered backends (built-in and
 * plug-ins from INFERENCE_PLUGIN_PATH), whether each can run here, and which
 * one the automatic choice would take. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

static const char BACKENDS_HELP[] =
    "usage: infer backends [--json]\n\n"
    "List the registered backends (sorted by name) and whether each is available\n"
    "on this machine; '*' marks the default (automatic) choice. Plug-ins named by\n"
    "INFERENCE_PLUGIN_PATH are included; their load errors are printed on stderr.\n\n"
    "Options:\n"
    "      --json             one JSON object {\"default\": NAME|null, \"backends\":\n"
    "                         [{\"name\", \"available\"}]} on stdout\n"
    "  -h, --help             show this help\n";

int cmd_backends(int argc, char **argv)
{
    cli_args a;
    bool json = false;
    args_init(&a, "backends", argc, argv);
    for (; a.i < argc; a.i++) {
        if (args_is_help(&a)) {
            fputs(BACKENDS_HELP, stdout);
            return CLI_EXIT_OK;
        }
        if (args_flag(&a, "--json", NULL)) {
            json = true;
            continue;
        }
        if (args_is_option(&a)) {
            if (a.no_more_options)
                continue;
            return args_unknown(&a);
        }
        return cli_usage_error("backends", "unexpected argument '%s'", args_cur(&a));
    }
    size_t n = inf_backend_list(NULL, 0);
    const char **names = calloc(n ? n : 1, sizeof *names);
    if (!names)
        return cli_error("out of memory");
    n = inf_backend_list(names, n);
    const inf_backend *def = inf_backend_default(NULL);
    const char *def_name = def ? inf_backend_name(def) : NULL;
    const char *plugin_errors = inf_plugin_path_errors();
    if (plugin_errors) {
        /* One line per plug-in that failed: each is its own error. */
        const char *p = plugin_errors;
        while (*p) {
            const char *nl = strchr(p, '\n');
            int len = nl ? (int)(nl - p) : (int)strlen(p);
            if (len > 0)
                fprintf(stderr, "infer: %.*s\n", len, p);
            p += len + (nl ? 1 : 0);
        }
    }
    if (json) {
        cJSON *o = cJSON_CreateObject(), *arr;
        if (def_name)
            cJSON_AddStringToObject(o, "default", def_name);
        else
            cJSON_AddNullToObject(o, "default");
        arr = cJSON_AddArrayToObject(o, "backends");
        for (size_t i = 0; i < n; i++) {
            cJSON *b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "name", names[i]);
            cJSON_AddBoolToObject(b, "available", inf_backend_available(inf_backend_get(names[i])));
            cJSON_AddItemToArray(arr, b);
        }
        char *s = cJSON_PrintUnformatted(o);
        if (s) {
            puts(s);
            cJSON_free(s);
        }
        cJSON_Delete(o);
    } else {
        if (n == 0)
            fputs("no backends registered\n", stderr);
        for (size_t i = 0; i < n; i++) {
            bool avail = inf_backend_available(inf_backend_get(names[i]));
            printf("%c %-16s %s\n", def_name && strcmp(def_name, names[i]) == 0 ? '*' : ' ', names[i],
                   avail ? "available" : "not available");
        }
    }
    free(names);
    return CLI_EXIT_OK;
}
