// Model presets: models/<name>.toml files that give the exact shapes of well-known checkpoints
// (gpt2, smollm2-135m, llama-3.2-1b, ...). A preset is a ModelConfig plus where its real weights may be
// found. Owns: the preset schema (keys, defaults per family), the preset search path, parsing and validation.
// Non-goals: loading weights (model/loader.h) or reading HF config.json (model/checkpoint.h).
// HOWTO add a preset: drop models/<name>.toml (copy a file of the same family; cite the source config in a
// comment) and add its expected parameter count to tests/model/presets_test.cpp. HOWTO add a key: one entry
// in kPresetKeys (presets.cpp) plus its line in apply_key.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "model/config.h"

namespace xpusim::model {

struct Preset {
  ModelConfig config;
  std::string description;
  std::string hf_repo;         // where the real checkpoint comes from (informational)
  std::string gguf_file;       // file name looked for in the model cache dir, empty if none
  std::filesystem::path file;  // the .toml it came from
};

// Fields every family sets the same way (norm kind, activation, biases, ...). Presets and tiny test configs
// start from these and only list shapes.
ModelConfig family_defaults(Family family);

// Directories searched for <name>.toml, in order: $XPUSIM_DATA_DIR/models, <binary
// dir>/../share/xpusim/models, <source dir>/models. Only existing directories are returned.
std::vector<std::filesystem::path> preset_dirs();
// Parses and validates one preset file; throws xpusim::Error naming the file, key and line on bad input.
Preset load_preset_file(const std::filesystem::path& path);
// Preset by name from the first directory that has it; nullopt if none does.
std::optional<Preset> find_preset(const std::string& name);
// All presets of the first preset directory, sorted by name.
std::vector<Preset> list_presets();

// The shapes of a model for timing only: a preset name, or a folder (or its config.json) holding a Hugging
// Face config.json, weights or not. nullopt when `name_or_path` is neither; xpusim::Error when the config is
// bad.
std::optional<ModelConfig> find_timing_config(const std::string& name_or_path);
// A folder with config.json but no *.safetensors (shapes only, nothing to run values with): its config, else
// nullopt. Commands that time a model use it where a checkpoint would otherwise be loaded.
std::optional<ModelConfig> find_config_only_folder(const std::string& path);

}  // namespace xpusim::model
