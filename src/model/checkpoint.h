// Checkpoints -> (ModelConfig, Weights with canonical names). Owns the name mapping from Hugging Face names
// to the canonical scheme (names.md / weights.h) and the transforms the sources need: GPT-2 Conv1D transpose
// and c_attn split, MoE per-expert names, tied lm_head handling; for GGUF (gguf_weights.cpp): llama q/k row
// un-permutation, Gemma norm w+1 -> w, attn_qkv split, 3-D expert stacks sliced per expert.
// Every loaded checkpoint is cross-checked against tensor_specs(config): missing, extra or misshapen tensors
// are errors naming the file and the tensor. Views stay zero-copy unless a transform needs an owned copy.
// Non-goals: dequantization (numerics), tokenizers (the tokenizer module builds from GgufTokenizerData).
// HOWTO add a family: map its HF names in hf_name_to_canonical (checkpoint.cpp) and its GGUF arch in
// gguf_config.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "model/config.h"
#include "model/safetensors.h"
#include "model/tokenizer_data.h"
#include "model/weights.h"

namespace xpusim::model {

struct HfCheckpoint {
  ModelConfig config;
  Weights weights;
};

struct GgufCheckpoint {
  ModelConfig config;
  Weights weights;
  GgufTokenizerData tokenizer;
};

// `dir` holds config.json (+ generation_config.json) and model.safetensors or model.safetensors.index.json.
HfCheckpoint load_hf_checkpoint(const std::filesystem::path& dir);

// A .gguf file: config from metadata, weights with the GGUF transforms undone, tokenizer metadata.
GgufCheckpoint load_gguf_checkpoint(const std::filesystem::path& path);

// Maps HF tensor names to canonical ones and applies the HF-side transforms; checks against the config.
// The result keeps the checkpoint's mappings alive.
Weights weights_from_hf(const ModelConfig& config, const SafetensorsCheckpoint& checkpoint);

// Throws xpusim::Error naming weights.source when a tensor of tensor_specs(config) is missing or has another
// shape ("tensor X has shape [..], config says [..]"), when a tensor is not part of the model, or when a
// weight is not a floating-point dtype. `origin_names` (canonical -> name in the file) improves the messages.
void check_weights_against_config(const ModelConfig& config, const Weights& weights,
                                  const std::map<std::string, std::string>& origin_names = {});

}  // namespace xpusim::model
