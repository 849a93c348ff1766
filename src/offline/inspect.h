/* inspect.h - a model described from its headers, without reading its
 * weights (the engine of `infer info`): architecture, hyper-parameters,
 * tokenizer, chat template and the tensor table summarised by type.
 *
 * Layer: offline (reads formats/ and tensor/ type facts). Nothing prints. */
#ifndef INF_OFFLINE_INSPECT_H
#define INF_OFFLINE_INSPECT_H

#include "base/error.h"

#include <stddef.h>

#include <cjson/cJSON.h>

/* The description of the GGUF file or Hugging Face folder at path, as one
 * JSON object (keys: "path", "format" ("gguf" | "safetensors"),
 * "architecture", "vocab_size", "layers", "hidden_size", "context_length",
 * "feed_forward_length", "heads", "kv_heads", "tensor_count", "parameters",
 * "tensors_by_type" ({TYPE: {"count", "bytes", "parameters"}}),
 * "quantization" ({"type", "bits", "group_size", "bits_per_weight"}),
 * "tokenizer" ({"model", "bos_id", "eos_id", ...}), "chat_template"; unknown
 * numbers are null). Release with cJSON_Delete. NULL with err filled on
 * failure; INF_ERR_UNSUPPORTED when path is neither kind (the caller may
 * then load it with a backend). */
cJSON *inspect_model(const char *path, inf_error *err);

/* The name of the type holding most tensor bytes of a .gguf file ("q4_k"),
 * in buf; 0, or -1 when path is not a readable .gguf file. */
int inspect_weight_type(const char *path, char *buf, size_t size);

#endif
