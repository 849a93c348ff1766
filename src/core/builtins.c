/* builtins.c - the backends built into the library, in one list. The
 * registry names no backend; it asks this file for them once, on its first
 * use. A new built-in backend is one line here and its folder beside
 * src/backends/cpu/ and src/backends/llama_cpp/. */
#include "core/registry_internal.h"

#include "backends/cpu/cpu_backend.h"
#ifdef INF_HAVE_CURL
#include "backends/llama_cpp/llama_cpp.h"
#endif

void inf_builtins_register(void)
{
    inf_backend_desc cpu = cpu_backend_desc();
    inf_registry_add(&cpu, false, NULL);
#ifdef INF_HAVE_CURL
    inf_backend_desc lc = llama_cpp_backend_desc();
    inf_registry_add(&lc, false, NULL);
#endif
}
