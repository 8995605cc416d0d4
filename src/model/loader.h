// load_model: the one entry point that turns what a user typed after --model into a config + weights.
//   - a preset name (models/<name>.toml): real weights if its checkpoint is in the model cache dir
//     (<cache>/<name>/<gguf_file from the preset> or <cache>/<name>/config.json + safetensors), else
//     deterministic synthetic weights of the preset's shape, labelled "synthetic (seed ...)";
//   - a path: a checkpoint folder (config.json + safetensors) or a .gguf file.
// The model cache dir is $XPUSIM_MODEL_DIR if set, else ~/.cache/xpusim/models.
// Non-goals: parsing the formats (model/checkpoint.h), building tokenizers (the caller builds one from
// gguf_tokenizer or tokenizer_json).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "model/config.h"
#include "model/presets.h"
#include "model/synthetic.h"
#include "model/tokenizer_data.h"
#include "model/weights.h"

namespace xpusim::model {

struct LoadOptions {
  uint64_t seed = kSyntheticSeed;  // synthetic weights
  bool allow_synthetic = true;     // false: a preset without real weights is an error
};

struct LoadedModel {
  std::string name;  // preset name, or the file / folder name
  ModelConfig config;
  Weights weights;
  std::optional<GgufTokenizerData> gguf_tokenizer;
  std::filesystem::path tokenizer_json;  // tokenizer.json of a checkpoint folder, empty if none
  bool synthetic = false;
  std::string source;  // "synthetic (seed 0x...)" or the checkpoint path
};

std::filesystem::path model_cache_dir();
// The real checkpoint of a preset if present in the cache dir: the GGUF file or a folder with config.json.
std::optional<std::filesystem::path> find_cached_checkpoint(const Preset& preset);
// Throws xpusim::Error for an unknown name (listing the presets), unreadable files, or synthetic weights that
// do not fit in memory.
LoadedModel load_model(const std::string& name_or_path, const LoadOptions& options = {});

}  // namespace xpusim::model
