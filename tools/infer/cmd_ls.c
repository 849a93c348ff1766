/* cmd_ls.c - `infer ls [DIR...]`: the models Discover finds in each DIR (and
 * its immediate subfolders); without DIR, in the standard model folders. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli.h"

static const char LS_HELP[] =
    "usage: infer ls [DIR...] [--json]\n\n"
    "List the models in each DIR and its immediate subfolders: .gguf files and\n"
    "Hugging Face folders (config.json plus .safetensors). Without DIR: the\n"
    "standard folders that exist: $XDG_DATA_HOME/infer/models, ~/.cache/infer/models,\n"
    "./models, then the bundled model's folder (PREFIX/share/inference/models).\n\n"
    "Options:\n"
    "      --json             one JSON array of {\"path\", \"architecture\", \"format\",\n"
    "                         \"quant_bits\", \"quant_group\", \"files\"} on stdout\n"
    "  -h, --help             show this help\n\n"
    "Exit status: 0 success, 1 runtime error (a DIR cannot be read), 2 usage error.\n";

static int list_dir(const char *dir, cJSON *out, bool json, bool quiet_missing)
{
    inf_discovered_model *models = NULL;
    size_t n = 0;
    inf_error err;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        if (quiet_missing)
            return 0;
        return cli_error("%s: not a directory", dir);
    }
    if (inf_discover(dir, &models, &n, &err) != INF_OK)
        return cli_error("%s", err.message);
    for (size_t i = 0; i < n; i++) {
        const inf_discovered_model *d = &models[i];
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "path", d->path);
            cJSON_AddStringToObject(o, "architecture", d->architecture ? d->architecture : "");
            cJSON_AddStringToObject(o, "format", d->is_gguf ? "gguf" : "hf");
            cJSON_AddNumberToObject(o, "quant_bits", d->quant_bits);
            cJSON_AddNumberToObject(o, "quant_group", d->quant_group);
            cJSON_AddNumberToObject(o, "files", d->num_files);
            cJSON_AddItemToArray(out, o);
        } else {
            char quant[32] = "-";
            if (d->quant_bits > 0)
                snprintf(quant, sizeof quant, "%d-bit/%d", d->quant_bits, d->quant_group);
            printf("%-60s %-12s %-5s %-10s %d\n", d->path, d->architecture && *d->architecture ? d->architecture : "?",
                   d->is_gguf ? "gguf" : "hf", quant, d->num_files);
        }
    }
    inf_discover_free(models, n);
    return 0;
}

int cmd_ls(int argc, char **argv)
{
    cli_args a;
    bool json = false;
    const char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    int nd = 0, rc = 0;
    if (!dirs)
        return cli_error("out of memory");
    args_init(&a, "ls", argc, argv);
    for (; a.i < argc; a.i++) {
        if (args_is_help(&a)) {
            fputs(LS_HELP, stdout);
            free(dirs);
            return CLI_EXIT_OK;
        }
        if (args_flag(&a, "--json", NULL)) {
            json = true;
            continue;
        }
        if (args_is_option(&a)) {
            if (a.no_more_options)
                continue;
            free(dirs);
            return args_unknown(&a);
        }
        dirs[nd++] = args_cur(&a);
    }
    cJSON *out = json ? cJSON_CreateArray() : NULL;
    if (!json)
        printf("%-60s %-12s %-5s %-10s %s\n", "PATH", "ARCH", "FMT", "QUANT", "FILES");
    if (nd > 0) {
        for (int i = 0; i < nd && rc == 0; i++)
            rc = list_dir(dirs[i], out, json, false);
    } else {
        char std[8][PATH_MAX], real[8][PATH_MAX];
        int ns = cli_model_dirs(std, 8);
        for (int i = 0; i < ns && rc == 0; i++) {
            /* one folder reached twice (./models and the build's ../models) is listed once */
            bool seen = false;
            if (!realpath(std[i], real[i]))
                real[i][0] = '\0';
            for (int k = 0; k < i && !seen; k++)
                seen = real[i][0] && strcmp(real[i], real[k]) == 0;
            if (!seen)
                rc = list_dir(std[i], out, json, true);
        }
    }
    if (json && rc == 0) {
        char *s = cJSON_PrintUnformatted(out);
        if (s) {
            puts(s);
            cJSON_free(s);
        }
    }
    cJSON_Delete(out);
    free(dirs);
    return rc;
}
