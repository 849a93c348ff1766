/* llama_cpp.h - the `llama_cpp` backend: the libinference contract over the
 * HTTP API of a llama.cpp server (its native /completion protocol, with token
 * ids) or of any OpenAI-compatible server (vLLM, Ollama...).
 *
 * Paths it loads:
 *   http://host:port              a running server; protocol detected
 *   http://host:port#MODEL        ... asking for that model by name
 *   http://host:port/v1[#MODEL]   ... speaking only the OpenAI protocol
 *   https://...                   the same over TLS
 *   model.gguf                    managed mode (only when the backend is named
 *                                 explicitly): starts `llama-server` from PATH
 *                                 on a free loopback port, stops it on close
 * Environment: INFERENCE_API_KEY (or LLAMA_API_KEY) is sent as a bearer token;
 * INFERENCE_LLAMA_CPP_PROTOCOL=native|openai forces a protocol;
 * INFERENCE_LLAMA_SERVER names the llama-server binary for managed mode and
 * INFERENCE_LLAMA_SERVER_TIMEOUT (seconds, default 120) bounds its start-up.
 *
 * Compiled only when libcurl is found (INF_HAVE_CURL). */
#ifndef INF_BACKEND_LLAMA_CPP_H
#define INF_BACKEND_LLAMA_CPP_H

#include "inference.h"

/* The backend's description (name "llama_cpp"), for the built-in list. */
inf_backend_desc llama_cpp_backend_desc(void);

#endif
