/* test_backend.h - a deterministic backend that exercises the contract
 * without a model. It is registered only by the tests that want it; the
 * library itself never registers it.
 *
 * Generate streams the prompt back one byte per token (id = the byte), then
 * ends. Prompts with a command prefix behave differently:
 *   "!error"  two tokens, then a backend error "test backend: induced failure"
 *   "!slow"   endless "x" tokens, 2 ms apart, until cancelled or max_tokens
 * Chat streams "role: content\n" for each message.
 * Classify gives each prompt's first byte as the token, and logits[4] =
 * {0, 1, 2, 3} when asked. BatchGenerate runs Generate per prompt; "!error"
 * gives that prompt an error and the others succeed. */
#ifndef INF_TEST_BACKEND_H
#define INF_TEST_BACKEND_H

#include "inference.h"

/* A backend description named `name`, available or not, whose probe accepts
 * only paths starting with accept_prefix (NULL: no probe). */
inf_backend_desc test_backend_desc(const char *name, bool available, const char *accept_prefix);

/* How many models of the test backend are open now (to check Close). */
int test_backend_open_models(void);

/* How many times a test backend's destroy() ran. */
int test_backend_destroyed(void);

#endif
