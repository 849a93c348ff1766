/* test_util.h - the smallest assertion kit for libinference's C tests.
 *
 * CHECK(cond) records a pass or a failure (with file and line) and carries on,
 * so one run reports every broken rule. TEST_DONE() prints the closing line
 * "N passed, N failed" that CI reads, and returns the exit status.
 * TEST_SKIP(msg) exits 77, which ctest reports as skipped. */
#ifndef INF_TEST_UTIL_H
#define INF_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_passed_count, test_failed_count;

#define CHECK(cond) do { \
    if (cond) test_passed_count++; \
    else { test_failed_count++; \
        fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_MSG(cond, ...) do { \
    if (cond) test_passed_count++; \
    else { test_failed_count++; \
        fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

#define CHECK_STREQ(a, b) do { \
    const char *check_a_ = (a), *check_b_ = (b); \
    CHECK_MSG(check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0, \
              "\"%s\" != \"%s\"", check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)"); \
} while (0)

#define TEST_SKIP(...) do { \
    fprintf(stderr, "SKIP: "); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); \
    exit(77); \
} while (0)

#define TEST_DONE() ( \
    printf("%d passed, %d failed\n", test_passed_count, test_failed_count), \
    test_failed_count ? 1 : 0)

/* Absolute path of a file under ../shared/testdata, or NULL when the data is
 * absent (callers then TEST_SKIP). The returned string is static. */
static inline const char *test_data_path(const char *rel)
{
    static char buf[4096];
    const char *root = getenv("INF_TESTDATA");
    if (!root) root = "../shared/testdata";
    snprintf(buf, sizeof buf, "%s/%s", root, rel);
    FILE *f = fopen(buf, "rb");
    if (!f) return NULL;
    fclose(f);
    return buf;
}

#endif
