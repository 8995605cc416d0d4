// Hugging Face config.json (+ generation_config.json) -> ModelConfig for the supported families:
// gpt2, llama (Llama 3.x with llama3 rope scaling, SmolLM2), qwen3, gemma3_text (and gemma3 with
// text_config), qwen3_moe, mixtral. Reads both transformers 4.x keys (rope_theta, rope_scaling) and 5.x keys
// (rope_parameters). Every error names the file and the field. Non-goals: tokenizer_config.json (tokenizer's
// job), other families. HOWTO add a family: add a `parse_<family>` in hf_config.cpp filling ModelConfig, and
// its model_type to the dispatch in parse_hf_config; then add its tensors to tensor_specs and its names to
// checkpoint.cpp.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "model/config.h"

namespace xpusim::model {

// `config_text` is config.json; `generation_text` (may be empty) is generation_config.json, whose eos/bos ids
// take precedence. `source` names the file in messages. The result is validated.
ModelConfig parse_hf_config(std::string_view config_text, const std::string& source,
                            std::string_view generation_text = {});

// `path` is a checkpoint folder or its config.json; generation_config.json beside it is read if present.
ModelConfig load_hf_config(const std::filesystem::path& path);

}  // namespace xpusim::model
