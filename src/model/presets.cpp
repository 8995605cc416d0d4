#include "model/presets.h"

#include "model/hf_config.h"

#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <functional>

#include "core/error.h"

namespace xpusim::model {
namespace {

// Context for one key: its node, its dotted name and where it sits, so every error can point at the line.
struct KeyRef {
  const std::filesystem::path& file;
  const std::string& key;
  const toml::node& node;

  int64_t line() const { return static_cast<int64_t>(node.source().begin.line); }
  [[noreturn]] void bad(const char* expected) const {
    fail("{}:{}: key '{}' must be {}", file.string(), line(), key, expected);
  }
  int64_t positive_int() const {
    auto value = node.value<int64_t>();
    if (!node.is_integer() || !value || *value <= 0) bad("a positive integer");
    return *value;
  }
  int64_t token_id() const {
    auto value = node.value<int64_t>();
    if (!node.is_integer() || !value || *value < 0) bad("a token id (integer >= 0)");
    return *value;
  }
  double positive_number() const {
    auto value = node.value<double>();
    if (!value || !std::isfinite(*value) || *value <= 0) bad("a positive number");
    return *value;
  }
  double non_negative_number() const {
    auto value = node.value<double>();
    if (!value || !std::isfinite(*value) || *value < 0) bad("a number >= 0");
    return *value;
  }
  bool boolean() const {
    if (!node.is_boolean()) bad("true or false");
    return *node.value<bool>();
  }
  std::string string() const {
    if (!node.is_string()) bad("a string");
    return *node.value<std::string>();
  }
};

using KeyHandler = std::function<void(Preset&, const KeyRef&)>;

// One row per accepted key ("table.key" for keys inside a table). Anything else is an error.
const std::vector<std::pair<std::string, KeyHandler>>& preset_keys() {
  static const std::vector<std::pair<std::string, KeyHandler>> keys = {
      {"name", [](Preset& p, const KeyRef& k) { p.config.name = k.string(); }},
      {"family", [](Preset&, const KeyRef&) {}},  // read first, before the other keys (it sets defaults)
      {"description", [](Preset& p, const KeyRef& k) { p.description = k.string(); }},
      {"vocab_size", [](Preset& p, const KeyRef& k) { p.config.vocab_size = k.positive_int(); }},
      {"hidden", [](Preset& p, const KeyRef& k) { p.config.hidden = k.positive_int(); }},
      {"n_layers", [](Preset& p, const KeyRef& k) { p.config.n_layers = k.positive_int(); }},
      {"n_heads", [](Preset& p, const KeyRef& k) { p.config.n_heads = k.positive_int(); }},
      {"n_kv_heads", [](Preset& p, const KeyRef& k) { p.config.n_kv_heads = k.positive_int(); }},
      {"head_dim", [](Preset& p, const KeyRef& k) { p.config.head_dim = k.positive_int(); }},
      {"ffn_hidden", [](Preset& p, const KeyRef& k) { p.config.ffn_hidden = k.positive_int(); }},
      {"max_positions", [](Preset& p, const KeyRef& k) { p.config.max_positions = k.positive_int(); }},
      {"norm_eps", [](Preset& p, const KeyRef& k) { p.config.norm_eps = k.positive_number(); }},
      {"tied_embeddings", [](Preset& p, const KeyRef& k) { p.config.tied_embeddings = k.boolean(); }},
      {"query_pre_attn_scalar",
       [](Preset& p, const KeyRef& k) { p.config.attn_scale = 1.0 / std::sqrt(k.positive_number()); }},
      {"attn_softcap", [](Preset& p, const KeyRef& k) { p.config.attn_softcap = k.non_negative_number(); }},
      {"final_softcap", [](Preset& p, const KeyRef& k) { p.config.final_softcap = k.non_negative_number(); }},
      {"sliding_window", [](Preset& p, const KeyRef& k) { p.config.sliding_window = k.positive_int(); }},
      // Gemma 3 rule: layer i is global iff (i + 1) % pattern == 0, local otherwise. Applied after all keys.
      {"sliding_window_pattern",
       [](Preset& p, const KeyRef& k) { p.config.layer_is_local.assign(1, k.positive_int() != 0); }},
      {"n_experts", [](Preset& p, const KeyRef& k) { p.config.n_experts = k.positive_int(); }},
      {"n_experts_used", [](Preset& p, const KeyRef& k) { p.config.n_experts_used = k.positive_int(); }},
      {"expert_ffn_hidden",
       [](Preset& p, const KeyRef& k) { p.config.expert_ffn_hidden = k.positive_int(); }},
      {"norm_topk_prob", [](Preset& p, const KeyRef& k) { p.config.norm_topk_prob = k.boolean(); }},
      {"bos_token_id", [](Preset& p, const KeyRef& k) { p.config.bos_token_id = k.token_id(); }},
      {"eos_token_ids",
       [](Preset& p, const KeyRef& k) {
         const toml::array* ids = k.node.as_array();
         if (!ids || ids->empty()) k.bad("a non-empty array of token ids");
         p.config.eos_token_ids.clear();
         for (const toml::node& id : *ids)
           p.config.eos_token_ids.push_back(KeyRef{k.file, k.key, id}.token_id());
       }},
      {"rope.theta", [](Preset& p, const KeyRef& k) { p.config.rope.theta = k.positive_number(); }},
      {"rope.theta_local",
       [](Preset& p, const KeyRef& k) { p.config.rope.theta_local = k.positive_number(); }},
      {"rope.scaling",
       [](Preset& p, const KeyRef& k) {
         std::string kind = k.string();
         if (kind == "none")
           p.config.rope.scaling = RopeScaling::NONE;
         else if (kind == "llama3")
           p.config.rope.scaling = RopeScaling::LLAMA3;
         else if (kind == "linear")
           p.config.rope.scaling = RopeScaling::LINEAR;
         else
           k.bad("one of \"none\", \"llama3\", \"linear\"");
       }},
      {"rope.factor", [](Preset& p, const KeyRef& k) { p.config.rope.factor = k.positive_number(); }},
      {"rope.low_freq_factor",
       [](Preset& p, const KeyRef& k) { p.config.rope.low_freq_factor = k.positive_number(); }},
      {"rope.high_freq_factor",
       [](Preset& p, const KeyRef& k) { p.config.rope.high_freq_factor = k.positive_number(); }},
      {"rope.original_max_positions",
       [](Preset& p, const KeyRef& k) { p.config.rope.original_max_positions = k.positive_int(); }},
      {"checkpoint.hf_repo", [](Preset& p, const KeyRef& k) { p.hf_repo = k.string(); }},
      {"checkpoint.gguf_file", [](Preset& p, const KeyRef& k) { p.gguf_file = k.string(); }},
  };
  return keys;
}

void apply_table(Preset& preset, const std::filesystem::path& file, const toml::table& table,
                 const std::string& prefix) {
  for (const auto& [raw_key, node] : table) {
    std::string key = prefix + std::string(raw_key.str());
    if (prefix.empty() && node.is_table()) {
      if (key != "rope" && key != "checkpoint") {
        fail("{}:{}: unknown table [{}] (known: [rope], [checkpoint])", file.string(),
             node.source().begin.line, key);
      }
      apply_table(preset, file, *node.as_table(), key + ".");
      continue;
    }
    const auto& keys = preset_keys();
    auto it = std::find_if(keys.begin(), keys.end(), [&](const auto& row) { return row.first == key; });
    if (it == keys.end()) fail("{}:{}: unknown key '{}'", file.string(), node.source().begin.line, key);
    it->second(preset, KeyRef{file, key, node});
  }
}

std::filesystem::path binary_dir() {
  std::error_code error;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::filesystem::path() : exe.parent_path();
}

}  // namespace

ModelConfig family_defaults(Family family) {
  ModelConfig config;
  config.family = family;
  config.eos_token_ids.clear();
  switch (family) {
    case Family::GPT2:
      config.norm = NormKind::LAYER_NORM;
      config.activation = Activation::GELU_TANH;
      config.gated_mlp = false;
      config.attn_bias = true;
      config.mlp_bias = true;
      config.learned_positions = true;
      config.rope.enabled = false;
      break;
    case Family::LLAMA:
    case Family::MIXTRAL:
      break;
    case Family::QWEN3:
    case Family::QWEN3_MOE:
      config.qk_norm = true;
      config.norm_eps = 1e-6;
      break;
    case Family::GEMMA3:
      config.norm = NormKind::RMS_NORM_PLUS_ONE;
      config.activation = Activation::GELU_TANH;
      config.qk_norm = true;
      config.norm_eps = 1e-6;
      break;
  }
  return config;
}

Preset load_preset_file(const std::filesystem::path& path) {
  toml::table table;
  try {
    table = toml::parse_file(path.string());
  } catch (const toml::parse_error& error) {
    fail("{}:{}: {}", path.string(), error.source().begin.line, error.description());
  }
  const toml::node* family_node = table.get("family");
  if (!family_node) fail("{}: missing key 'family'", path.string());
  std::string family_text = KeyRef{path, "family", *family_node}.string();
  std::optional<Family> family = family_from_name(family_text);
  if (!family) {
    fail("{}:{}: unknown family '{}' (known: gpt2, llama, qwen3, gemma3, qwen3_moe, mixtral)", path.string(),
         family_node->source().begin.line, family_text);
  }
  Preset preset;
  preset.file = path;
  preset.config = family_defaults(*family);
  apply_table(preset, path, table, "");

  ModelConfig& config = preset.config;
  if (config.name.empty()) fail("{}: missing key 'name'", path.string());
  if (config.name != path.stem().string()) {
    fail("{}: name '{}' must equal the file name '{}'", path.string(), config.name, path.stem().string());
  }
  if (config.head_dim == 0 && config.n_heads > 0) config.head_dim = config.hidden / config.n_heads;
  if (!config.layer_is_local.empty()) {
    // sliding_window_pattern was given: expand it into the per-layer flags.
    const toml::node* pattern_node = table.get("sliding_window_pattern");
    int64_t pattern = pattern_node->value<int64_t>().value_or(1);
    config.layer_is_local.assign(static_cast<size_t>(std::max<int64_t>(config.n_layers, 0)), false);
    for (int64_t layer = 0; layer < config.n_layers; ++layer) {
      config.layer_is_local[static_cast<size_t>(layer)] = (layer + 1) % pattern != 0;
    }
  }
  if (config.family == Family::GEMMA3) config.embed_scale = std::sqrt(static_cast<double>(config.hidden));
  config.validate(path.string());
  return preset;
}

std::vector<std::filesystem::path> preset_dirs() {
  std::vector<std::filesystem::path> candidates;
  if (const char* data_dir = std::getenv("XPUSIM_DATA_DIR"); data_dir && *data_dir) {
    candidates.push_back(std::filesystem::path(data_dir) / "models");
  }
  if (auto dir = binary_dir(); !dir.empty()) candidates.push_back(dir / ".." / "share" / "xpusim" / "models");
  candidates.push_back(std::filesystem::path(XPUSIM_SOURCE_DIR) / "models");
  std::vector<std::filesystem::path> dirs;
  for (const auto& dir : candidates) {
    std::error_code error;
    if (std::filesystem::is_directory(dir, error)) dirs.push_back(dir.lexically_normal());
  }
  return dirs;
}

std::optional<Preset> find_preset(const std::string& name) {
  // A name is a file stem; refuse anything that could walk out of the directory.
  if (name.empty() || name.find_first_of("/\\") != std::string::npos || name.front() == '.')
    return std::nullopt;
  for (const auto& dir : preset_dirs()) {
    std::filesystem::path file = dir / (name + ".toml");
    std::error_code error;
    if (std::filesystem::is_regular_file(file, error)) return load_preset_file(file);
  }
  return std::nullopt;
}

std::vector<Preset> list_presets() {
  std::vector<Preset> presets;
  auto dirs = preset_dirs();
  if (dirs.empty()) return presets;
  for (const auto& entry : std::filesystem::directory_iterator(dirs.front())) {
    if (entry.path().extension() == ".toml") presets.push_back(load_preset_file(entry.path()));
  }
  std::sort(presets.begin(), presets.end(),
            [](const Preset& a, const Preset& b) { return a.config.name < b.config.name; });
  return presets;
}

std::optional<ModelConfig> find_config_only_folder(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error) ||
      !std::filesystem::is_regular_file(std::filesystem::path(path) / "config.json", error))
    return std::nullopt;
  for (const auto& entry : std::filesystem::directory_iterator(path, error))
    if (entry.path().extension() == ".safetensors") return std::nullopt;
  return find_timing_config(path.find('/') == std::string::npos ? "./" + path : path);
}

std::optional<ModelConfig> find_timing_config(const std::string& name_or_path) {
  const bool path_like = name_or_path.find('/') != std::string::npos || name_or_path.starts_with(".");
  if (!path_like)
    if (auto preset = find_preset(name_or_path)) return preset->config;
  std::error_code error;
  const std::filesystem::path path(name_or_path);
  if (std::filesystem::is_directory(path, error) &&
      std::filesystem::is_regular_file(path / "config.json", error)) {
    ModelConfig config = load_hf_config(path);
    if (config.name.empty())
      config.name =
          path.filename().empty() ? path.parent_path().filename().string() : path.filename().string();
    return config;
  }
  if (path.filename() == "config.json" && std::filesystem::is_regular_file(path, error)) {
    ModelConfig config = load_hf_config(path);
    if (config.name.empty()) config.name = path.parent_path().filename().string();
    return config;
  }
  return std::nullopt;
}

}  // namespace xpusim::model
