// GGUF file -> model: ModelConfig from `<arch>.*` metadata (models.md §6.2), Weights with canonical names and
// the converter's transforms undone (names.md), GgufTokenizerData from `tokenizer.ggml.*` +
// tokenizer.chat_template. Architectures: gpt2, llama (Llama 3.x, SmolLM2, Mixtral when it has experts),
// qwen3, qwen3moe, gemma3. Non-goals: dequantization (views keep their ggml dtype), tokenizer construction.
// HOWTO add an architecture: add a branch in config_from_gguf (gguf_config.cpp) and its transforms in
// weights_from_gguf (gguf_weights.cpp).
#pragma once

#include "model/config.h"
#include "model/gguf.h"
#include "model/tokenizer_data.h"
#include "model/weights.h"

namespace xpusim::model {

ModelConfig config_from_gguf(const GgufFile& file);
// Keeps the file's mapping alive; cross-checks the result against tensor_specs(config).
Weights weights_from_gguf(const ModelConfig& config, const GgufFile& file);
GgufTokenizerData tokenizer_from_gguf(const GgufFile& file);

}  // namespace xpusim::model
