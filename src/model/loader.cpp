#include "model/loader.h"

#include <cstdlib>

#include "core/error.h"
#include "model/checkpoint.h"

namespace xpusim::model {
namespace {

bool looks_like_path(const std::string& text) {
  return text.find('/') != std::string::npos || text.ends_with(".gguf") || text.starts_with(".");
}

LoadedModel load_path(const std::filesystem::path& path) {
  std::error_code error;
  LoadedModel loaded;
  if (std::filesystem::is_directory(path, error)) {
    HfCheckpoint checkpoint = load_hf_checkpoint(path);
    loaded.config = std::move(checkpoint.config);
    loaded.weights = std::move(checkpoint.weights);
    if (std::filesystem::is_regular_file(path / "tokenizer.json", error))
      loaded.tokenizer_json = path / "tokenizer.json";
    loaded.name = path.filename().empty() ? path.parent_path().filename().string() : path.filename().string();
  } else if (std::filesystem::is_regular_file(path, error)) {
    if (path.extension() != ".gguf") {
      fail("{}: not a checkpoint (expected a .gguf file or a folder with config.json and safetensors)",
           path.string());
    }
    GgufCheckpoint checkpoint = load_gguf_checkpoint(path);
    loaded.config = std::move(checkpoint.config);
    loaded.weights = std::move(checkpoint.weights);
    loaded.gguf_tokenizer = std::move(checkpoint.tokenizer);
    loaded.name = path.stem().string();
  } else {
    fail("{}: no such file or folder", path.string());
  }
  if (loaded.config.name.empty()) loaded.config.name = loaded.name;
  loaded.source = path.string();
  if (loaded.weights.source.empty()) loaded.weights.source = loaded.source;
  return loaded;
}

std::string preset_names() {
  std::string names;
  for (const Preset& preset : list_presets()) names += (names.empty() ? "" : ", ") + preset.config.name;
  return names.empty() ? "(no preset directory found)" : names;
}

}  // namespace

std::filesystem::path model_cache_dir() {
  if (const char* dir = std::getenv("XPUSIM_MODEL_DIR"); dir && *dir) return dir;
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::filesystem::path(home) / ".cache" / "xpusim" / "models";
  }
  return std::filesystem::path(".cache") / "xpusim" / "models";
}

std::optional<std::filesystem::path> find_cached_checkpoint(const Preset& preset) {
  const std::filesystem::path dir = model_cache_dir() / preset.config.name;
  std::error_code error;
  if (!preset.gguf_file.empty() && std::filesystem::is_regular_file(dir / preset.gguf_file, error)) {
    return dir / preset.gguf_file;
  }
  if (std::filesystem::is_regular_file(dir / "config.json", error)) return dir;
  return std::nullopt;
}

LoadedModel load_model(const std::string& name_or_path, const LoadOptions& options) {
  if (name_or_path.empty()) fail("--model: empty model name");
  std::optional<Preset> preset;
  if (!looks_like_path(name_or_path)) preset = find_preset(name_or_path);
  if (!preset) {
    std::error_code error;
    if (looks_like_path(name_or_path) || std::filesystem::exists(name_or_path, error)) {
      return load_path(name_or_path);
    }
    fail("unknown model '{}': not a preset ({}) and no such file or folder", name_or_path, preset_names());
  }
  if (auto checkpoint = find_cached_checkpoint(*preset)) {
    LoadedModel loaded = load_path(*checkpoint);
    loaded.name = preset->config.name;
    return loaded;
  }
  if (!options.allow_synthetic) {
    fail("{}: no real weights in {} and synthetic weights are not allowed here", preset->config.name,
         (model_cache_dir() / preset->config.name).string());
  }
  LoadedModel loaded;
  loaded.name = preset->config.name;
  loaded.config = preset->config;
  loaded.weights = make_synthetic_weights(preset->config, options.seed);
  loaded.synthetic = true;
  loaded.source = loaded.weights.source;
  return loaded;
}

}  // namespace xpusim::model
