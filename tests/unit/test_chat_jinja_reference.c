/* test_chat_jinja_reference.c - renders what tests/scripts/test_chat_jinja_reference.mjs
 * rendered with @huggingface/jinja and checks that every output is byte-
 * identical, and that where the reference failed we fail too.
 *
 * Usage: test_chat_jinja_reference DIR [-v] [-only SUBSTRING]
 *   DIR holds templates.json and cases.jsonl written by the .mjs (see
 *   tests/scripts/test_chat_jinja_reference.sh, which runs both: this program is
 *   not a ctest test by itself). */
#include "test_util.h"
#include "chat/jinja/jinja.h"

#include <cjson/cJSON.h>

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = (size_t)n;
    return buf;
}

static void show_diff(const char *exp, const char *got, size_t glen)
{
    size_t i = 0, el = strlen(exp);
    while (i < el && i < glen && exp[i] == got[i]) i++;
    size_t from = i > 60 ? i - 60 : 0;
    fprintf(stderr, "    first difference at byte %zu\n    expected: ", i);
    for (size_t k = from; k < el && k < i + 80; k++) fputc(exp[k] == '\n' ? '|' : exp[k], stderr);
    fprintf(stderr, "\n    got:      ");
    for (size_t k = from; k < glen && k < i + 80; k++) fputc(got[k] == '\n' ? '|' : got[k], stderr);
    fputc('\n', stderr);
}

int main(int argc, char **argv)
{
    if (argc < 2) TEST_FAIL("no reference directory given; tests/scripts/test_chat_jinja_reference.sh runs this test");
    int verbose = 0;
    const char *only = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-v")) verbose = 1;
        else if (!strcmp(argv[i], "-only") && i + 1 < argc) only = argv[++i];
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/templates.json", argv[1]);
    char *tj = read_file(path, NULL);
    if (!tj) TEST_FAIL("cannot read %s", path);
    cJSON *tarr = cJSON_Parse(tj);
    free(tj);
    if (!cJSON_IsArray(tarr)) { fprintf(stderr, "bad templates.json\n"); return 1; }
    int nt = cJSON_GetArraySize(tarr);
    struct jinja_template **T = calloc((size_t)nt, sizeof *T);
    char **perr = calloc((size_t)nt, sizeof *perr);
    const char **names = calloc((size_t)nt, sizeof *names);
    int *tpass = calloc((size_t)nt, sizeof(int)), *tfail = calloc((size_t)nt, sizeof(int));
    for (int i = 0; i < nt; i++) {
        cJSON *t = cJSON_GetArrayItem(tarr, i);
        names[i] = cJSON_GetStringValue(cJSON_GetObjectItem(t, "name"));
        const char *src = cJSON_GetStringValue(cJSON_GetObjectItem(t, "source"));
        inf_error err = {0};
        if (jinja_parse(src, strlen(src), NULL, &T[i], &err)) perr[i] = strdup(err.message);
    }
    snprintf(path, sizeof path, "%s/cases.jsonl", argv[1]);
    char *cj = read_file(path, NULL);
    if (!cj) TEST_FAIL("cannot read %s", path);
    int total = 0, matched = 0, both_fail = 0, shown = 0;
    for (char *line = cj; *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        if (*line) {
            cJSON *c = cJSON_Parse(line);
            if (!c) {
                fprintf(stderr, "unreadable case line: %.80s\n", line);
                CHECK(c != NULL);
                if (!nl) break;
                line = nl + 1;
                continue;
            }
            int ti = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(c, "t"));
            const char *cname = cJSON_GetStringValue(cJSON_GetObjectItem(c, "c"));
            if (!only || strstr(names[ti], only)) {
                cJSON *exp = cJSON_GetObjectItem(c, "out");
                const char *experr = cJSON_GetStringValue(cJSON_GetObjectItem(c, "err"));
                long long now = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(c, "now"));
                struct jinja_value *ctx = jinja_value_from_cjson(cJSON_GetObjectItem(c, "ctx"));
                char *out = NULL;
                inf_error err = {0};
                size_t olen = 0;
                int rc = -1;
                if (T[ti]) rc = jinja_render_at(T[ti], ctx, now, &out, &olen, &err);
                else err_fail(&err, INF_ERR_TEMPLATE, "%s", perr[ti]);
                int ok;
                const char *hex = cJSON_GetStringValue(cJSON_GetObjectItem(c, "out_hex"));
                char *unhex = NULL;
                if (hex) {
                    size_t hl = strlen(hex) / 2;
                    unhex = malloc(hl + 1);
                    for (size_t k = 0; k < hl; k++) {
                        unsigned b;
                        sscanf(hex + 2 * k, "%2x", &b);
                        unhex[k] = (char)b;
                    }
                    unhex[hl] = 0;
                    ok = rc == 0 && olen == hl && memcmp(out, unhex, hl) == 0;
                } else if (cJSON_IsString(exp)) {
                    const char *e = exp->valuestring;
                    ok = rc == 0 && olen == strlen(e) && memcmp(out, e, olen) == 0;
                } else {
                    ok = rc != 0;
                    if (ok) both_fail++;
                }
                total++;
                if (ok) { matched++; tpass[ti]++; }
                else {
                    tfail[ti]++;
                    if (verbose || shown < 20) {
                        shown++;
                        fprintf(stderr, "MISMATCH %s [%s]\n", names[ti], cname);
                        if (experr) fprintf(stderr, "    reference failed: %s\n    we rendered %zu bytes\n", experr, olen);
                        else if (rc) fprintf(stderr, "    reference rendered; we failed: %s\n", err.message);
                        else show_diff(unhex ? unhex : exp->valuestring, out, olen);
                    }
                }
                CHECK(ok);
                free(unhex);
                free(out);
                jinja_value_free(ctx);
            }
            cJSON_Delete(c);
        }
        if (!nl) break;
        line = nl + 1;
    }
    free(cj);
    /* chat templates (on every conversation) apart from the language snippets */
    int tm[2] = {0, 0}, tc[2] = {0, 0}, cm[2] = {0, 0}, cc[2] = {0, 0}, nconv = 0;
    for (int i = 0; i < nt; i++) {
        if (!tpass[i] && !tfail[i]) continue;
        int snip = !strncmp(names[i], "snippet/", 8) || !strncmp(names[i], "random/", 7);
        tc[snip]++;
        cc[snip] += tpass[i] + tfail[i];
        cm[snip] += tpass[i];
        if (!snip && tpass[i] + tfail[i] > nconv) nconv = tpass[i] + tfail[i];
        if (!tfail[i]) tm[snip]++;
        else fprintf(stderr, "template %s: %d of %d conversations differ\n", names[i], tfail[i], tpass[i] + tfail[i]);
        jinja_template_free(T[i]);
        free(perr[i]);
    }
    printf("jinja reference: chat templates x conversations: %d of %d match (%d templates x up to %d conversations; "
           "%d of %d templates match on all)\n", cm[0], cc[0], tc[0], nconv, tm[0], tc[0]);
    printf("jinja reference: language snippets: %d of %d match\n", cm[1], cc[1]);
    printf("jinja reference: %d of %d cases in all, %d of them where both fail\n", matched, total, both_fail);
    cJSON_Delete(tarr);
    free(T); free(perr); free(names); free(tpass); free(tfail);
    return TEST_DONE();
}
