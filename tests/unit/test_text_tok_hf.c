/* test_text_tok_hf.c - our tokenizer.json implementation against Hugging Face
 * tokenizers (the npm binding in node_modules, run by
 * tests/scripts/tok_hf_ref.mjs) on a corpus covering scripts, emoji, code,
 * whitespace, digits, contractions, special-token text, invalid UTF-8, empty
 * input and seeded random strings; plus decoding of random id sequences.
 *
 *   test_text_tok_hf                 generate the reference with node (seed 1234)
 *                               for every tokenizer of the test data and the
 *                               synthetic ones of tok_synth.mjs (components
 *                               the shipped tokenizers do not use), and
 *                               compare (exit 77 when node or the package is
 *                               missing)
 *   test_text_tok_hf REF.jsonl       compare against an existing reference file
 *
 * For each input: HF encode(add_special_tokens=false) must equal our
 * TOK_PARSE_SPECIAL encode, HF encode(true) our TOK_ADD_SPECIAL|PARSE_SPECIAL
 * (HF always parses added tokens), decode(keep special) and
 * decode(skip special) must be byte-identical. Our default (plain-text) mode
 * must never emit a special (control) id. */
#include "test_util.h"
#include "text/tokenizer.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <unistd.h>

static int shown;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    if (b) { b[n] = 0; *len = (size_t)n; }
    fclose(f);
    return b;
}

static size_t unhex(const char *h, unsigned char *out)
{
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (unsigned char)v;
    }
    return n;
}

static bool ids_equal(const cJSON *arr, const int32_t *ids, size_t n)
{
    if ((size_t)cJSON_GetArraySize(arr) != n) return false;
    size_t i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr) if ((int32_t)x->valuedouble != ids[i++]) return false;
    return true;
}

static void show_ids(const char *label, const int32_t *ids, size_t n)
{
    fprintf(stderr, "  %s:", label);
    for (size_t i = 0; i < n && i < 48; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, n > 48 ? " ...\n" : "\n");
}

static void show_arr(const char *label, const cJSON *a)
{
    fprintf(stderr, "  %s:", label);
    int k = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a) {
        if (k++ >= 48) { fprintf(stderr, " ..."); break; }
        fprintf(stderr, " %d", (int)x->valuedouble);
    }
    fputc('\n', stderr);
}

struct stats { int enc, enc_bad, dec, dec_bad; };

static void check_decode(const struct tokenizer *tok, const int32_t *ids, size_t n, int flags, const char *exp_hex,
                         const char *what, struct stats *st)
{
    size_t ol = 0;
    char *got = tok_decode(tok, ids, n, flags, &ol);
    char *exp = malloc(strlen(exp_hex) / 2 + 1);
    size_t el = unhex(exp_hex, (unsigned char *)exp);
    exp[el] = 0;
    bool ok = got && el == ol && memcmp(got, exp, ol) == 0;
    st->dec++;
    if (!ok) {
        st->dec_bad++;
        if (shown++ < 30) {
            fprintf(stderr, "DECODE MISMATCH (%s)\n", what);
            show_ids("ids", ids, n);
            fprintf(stderr, "  got: [%s]\n  exp: [%s]\n", got ? got : "(null)", exp ? exp : "(null)");
        }
    }
    CHECK(ok);
    free(got);
    free(exp);
}

static int compare_file(const char *path)
{
    size_t len;
    char *data = slurp(path, &len);
    if (!data) { fprintf(stderr, "cannot read %s\n", path); return 1; }
    struct tokenizer *tok = NULL;
    char cur[4096] = "";
    struct stats st = {0};
    char *line = data;
    unsigned char *bytes = malloc(len / 2 + 16);
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        cJSON *j = cJSON_Parse(line);
        line = nl ? nl + 1 : NULL;
        if (!j) continue;
        const char *dir = cJSON_GetObjectItem(j, "tok")->valuestring;
        if (strcmp(dir, cur) != 0) {
            if (tok) fprintf(stderr, "%-60s encode %d/%d decode %d/%d\n", cur, st.enc - st.enc_bad, st.enc,
                             st.dec - st.dec_bad, st.dec);
            memset(&st, 0, sizeof st);
            tok_free(tok);
            tok = NULL;
            inf_error err = {0};
            int rc = tok_load_hf_dir(dir, &tok, &err);
            CHECK_MSG(rc == 0, "load %s: %s", dir, err.message);
            snprintf(cur, sizeof cur, "%s", dir);
        }
        if (!tok) { cJSON_Delete(j); continue; }
        const cJSON *hex = cJSON_GetObjectItem(j, "hex");
        if (hex) {
            size_t n = unhex(hex->valuestring, bytes);
            int32_t *ids = NULL;
            size_t nid = 0;
            inf_error err = {0};
            st.enc++;
            int rc = tok_encode(tok, (const char *)bytes, n, TOK_PARSE_SPECIAL, &ids, &nid, &err);
            bool ok = rc == 0 && ids_equal(cJSON_GetObjectItem(j, "plain"), ids, nid);
            if (!ok) {
                st.enc_bad++;
                if (shown++ < 30) {
                    fprintf(stderr, "ENCODE MISMATCH %s input hex %s\n", dir, hex->valuestring);
                    show_ids("got", ids, nid);
                    show_arr("exp", cJSON_GetObjectItem(j, "plain"));
                }
            }
            CHECK(ok);
            check_decode(tok, ids, nid, 0, cJSON_GetObjectItem(j, "dec")->valuestring, "keep special", &st);
            free(ids);
            rc = tok_encode(tok, (const char *)bytes, n, TOK_PARSE_SPECIAL | TOK_ADD_SPECIAL, &ids, &nid, &err);
            ok = rc == 0 && ids_equal(cJSON_GetObjectItem(j, "special"), ids, nid);
            if (!ok && shown++ < 30) {
                fprintf(stderr, "ENCODE(add_special) MISMATCH %s input hex %s\n", dir, hex->valuestring);
                show_ids("got", ids, nid);
                show_arr("exp", cJSON_GetObjectItem(j, "special"));
            }
            CHECK(ok);
            check_decode(tok, ids, nid, TOK_DECODE_SKIP_SPECIAL, cJSON_GetObjectItem(j, "dec_skip")->valuestring,
                         "skip special", &st);
            free(ids);
            /* plain-text mode never yields control tokens */
            rc = tok_encode(tok, (const char *)bytes, n, 0, &ids, &nid, &err);
            bool clean = rc == 0;
            for (size_t i = 0; clean && i < nid; i++)
                if (tok_token_attr(tok, ids[i]) & TOK_ATTR_CONTROL) clean = false;
            CHECK_MSG(clean, "%s: plain-text mode produced a control token for hex %s", dir, hex->valuestring);
            free(ids);
        } else {
            const cJSON *arr = cJSON_GetObjectItem(j, "ids");
            size_t n = (size_t)cJSON_GetArraySize(arr);
            int32_t *ids = malloc((n + 1) * sizeof *ids);
            size_t k = 0;
            const cJSON *x;
            cJSON_ArrayForEach(x, arr) ids[k++] = (int32_t)x->valuedouble;
            check_decode(tok, ids, n, 0, cJSON_GetObjectItem(j, "dec")->valuestring, "random ids, keep", &st);
            check_decode(tok, ids, n, TOK_DECODE_SKIP_SPECIAL, cJSON_GetObjectItem(j, "dec_skip")->valuestring,
                         "random ids, skip", &st);
            free(ids);
        }
        cJSON_Delete(j);
    }
    if (tok) fprintf(stderr, "%-60s encode %d/%d decode %d/%d\n", cur, st.enc - st.enc_bad, st.enc,
                     st.dec - st.dec_bad, st.dec);
    tok_free(tok);
    free(bytes);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        compare_file(argv[1]);
        return TEST_DONE();
    }
    const char *root = test_data_root();
    const char *src = getenv("INF_SOURCE_DIR");
    if (!src) src = ".";
    if (!test_data_path("tokenizers/qwen3/tokenizer.json")) TEST_FAIL("no tokenizers in the test data");
    char mjs[4096], nm[4096];
    snprintf(mjs, sizeof mjs, "%s/tests/scripts/tok_hf_ref.mjs", src);
    snprintf(nm, sizeof nm, "%s/node_modules/@anush008/tokenizers/package.json", src);
    if (access(nm, R_OK) != 0) TEST_FAIL("node_modules/@anush008/tokenizers missing (run npm ci)");
    if (system("node --version > /dev/null 2>&1") != 0) TEST_FAIL("node not installed");
    char out[] = "/tmp/tok_hf_ref_XXXXXX";
    int fd = mkstemp(out);
    if (fd < 0) TEST_FAIL("mkstemp failed");
    close(fd);
    static const char *dirs[] = {"tokenizers/llama3", "tokenizers/qwen3", "tokenizers/gemma3", "tokenizers/llama2",
                                 "tokenizers/deepseek_v3", "models/random/qwen3-tiny-hf-bf16",
                                 "models/random/llama3-tiny-hf-f16", "models/random/gemma3-tiny-hf-bf16", NULL};
    char cmd[16384];
    int o = snprintf(cmd, sizeof cmd, "INF_SOURCE_DIR='%s' node '%s' '%s' 1234 --synth", src, mjs, out);
    for (int i = 0; dirs[i]; i++) o += snprintf(cmd + o, sizeof cmd - (size_t)o, " '%s/%s'", root, dirs[i]);
    int rc = system(cmd);
    if (rc != 0) {
        unlink(out);
        if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) TEST_FAIL("reference unavailable");
        fprintf(stderr, "reference generation failed (%d)\n", rc);
        return 1;
    }
    compare_file(out);
    unlink(out);
    snprintf(cmd, sizeof cmd, "rm -rf '%s.synth'", out);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s.synth\n", out);
    return TEST_DONE();
}
