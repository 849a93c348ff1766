/* test_util.h - the smallest assertion kit for libinference's C tests.
 *
 * CHECK(cond) records a pass or a failure (with file and line) and carries on,
 * so one run reports every broken rule. TEST_DONE() prints the closing line
 * "N passed, N failed" that CI reads, and returns the exit status. There is
 * no skip: a test that cannot run fails, naming what it lacks. */
#ifndef INF_TEST_UTIL_H
#define INF_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_passed_count __attribute__((unused)), test_failed_count __attribute__((unused));

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

/* A test that cannot go on: one line naming why, exit status 1. */
#define TEST_FAIL(...) do { \
    fprintf(stderr, "FAIL: "); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); \
    exit(1); \
} while (0)

#define TEST_DONE() ( \
    printf("%d passed, %d failed\n", test_passed_count, test_failed_count), \
    test_failed_count ? 1 : 0)

/* The test data: $INF_TESTDATA, which ctest sets to build/testdata (made
 * from the repository by tests/fixtures/make_testdata.sh) for make test,
 * and which make conformance points at TESTDATA (../shared/testdata). */
static inline const char *test_data_root(void)
{
    const char *root = getenv("INF_TESTDATA");
    if (!root || !*root) {
        fprintf(stderr, "FAIL: INF_TESTDATA is not set (run the tests through ctest: make test or make conformance)\n");
        exit(1);
    }
    return root;
}

/* True under make conformance (INF_CONFORMANCE=1): the data is llama.cpp's
 * own (its quantised files, goldens, vocab vectors), not ours. */
static inline int test_conformance(void)
{
    const char *c = getenv("INF_CONFORMANCE");
    return c && strcmp(c, "1") == 0;
}

/* The path of REL under the test data. A missing file is a failure that
 * names it: this exits with status 1. The string is static (one at a time). */
static inline const char *test_data_path(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", test_data_root(), rel);
    FILE *f = fopen(buf, "rb");
    if (!f) {
        fprintf(stderr, "FAIL: missing test data %s (make test makes build/testdata; make conformance needs "
                        "TESTDATA=DIR holding it)\n", buf);
        exit(1);
    }
    fclose(f);
    return buf;
}

#endif
