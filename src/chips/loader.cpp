#include "chips/loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "chips/chip_toml.h"
#include "chips/host_detect.h"
#include "chips/schema.h"
#include "core/error.h"

namespace xpusim::chips {

namespace {

namespace fs = std::filesystem;

constexpr int kMaxExtendsDepth = 8;

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.front() == '-' || name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

toml::table parse_text(std::string_view text, const std::string& path) {
  try {
    return toml::parse(text, std::string_view(path));
  } catch (const toml::parse_error& error) {
    fail("{}:{}:{}: TOML syntax error: {}", path, error.source().begin.line, error.source().begin.column,
         error.description());
  }
}

toml::table parse_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open chip file", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_text(buffer.str(), path);
}

// Loads the chain of `extends` bases under `table` (the file at `path`) and returns the merged table.
toml::table resolve_extends(toml::table table, const std::string& path, std::vector<std::string>& chain) {
  const toml::node* extends = table.get("extends");
  if (extends == nullptr) return table;
  if (!extends->is_string())
    fail("{}: key 'extends' = {}: wrong type, expected string (a preset name)",
         detail::node_location(*extends, path), detail::node_value_text(*extends));
  const std::string base_name = extends->as_string()->get();
  if (std::find(chain.begin(), chain.end(), base_name) != chain.end() || chain.size() >= kMaxExtendsDepth)
    fail("{}: 'extends = \"{}\"' forms a cycle or is deeper than {} levels (chain: {})",
         detail::node_location(*extends, path), base_name, kMaxExtendsDepth, fmt::join(chain, " -> "));
  if (!is_valid_name(base_name))
    fail("{}: 'extends = \"{}\"' must name a preset (lowercase letters, digits, '-')",
         detail::node_location(*extends, path), base_name);
  chain.push_back(base_name);
  const std::string base_path = find_chip_file(base_name);
  toml::table base = resolve_extends(parse_file(base_path), base_path, chain);
  table.erase("extends");
  detail::merge_chip_tables(base, std::move(table), false);
  return base;
}

// `family` may be left out when the name starts with a family ("gpu-...", "ue-..."): chip names are stable
// strings with the family first (DESIGN.md), so the prefix is the family.
void infer_family(toml::table& table) {
  if (table.contains("family")) return;
  const auto* name = table.get_as<std::string>("name");
  if (name == nullptr) return;
  const std::string prefix = name->get().substr(0, name->get().find('-'));
  if (family_from_name(prefix)) table.insert("family", prefix);
}

std::vector<std::string> split_key(const std::string& key) {
  std::vector<std::string> parts;
  std::stringstream stream(key);
  std::string part;
  while (std::getline(stream, part, '.')) parts.push_back(part);
  return parts;
}

// The table a memory level's keys live in, found by the level's name.
toml::table& memory_level_table(toml::table& root, const std::string& level, const std::string& path) {
  std::vector<std::string> names;
  if (toml::array* levels = root.get_as<toml::array>("memory")) {
    for (toml::node& node : *levels) {
      toml::table* table = node.as_table();
      if (table == nullptr) continue;
      const auto* name = table->get_as<std::string>("name");
      if (name == nullptr) continue;
      if (name->get() == level) return *table;
      names.push_back(name->get());
    }
  }
  fail("{}: override 'memory.{}...': no memory level named '{}' (levels: {})", path, level, level,
       fmt::join(names, ", "));
}

void apply_override(toml::table& root, const KeyOverride& override, const std::string& path) {
  const std::vector<std::string> parts = split_key(override.key);
  if (parts.empty() ||
      std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); }))
    fail("{}: override key '{}' is not a dotted chip-file key (e.g. memory.hbm.bandwidth_gbps)", path,
         override.key);
  if (parts[0] == "name" || parts[0] == "family" || parts[0] == "extends")
    fail("{}: override key '{}' cannot be changed by an override", path, override.key);
  toml::table* table = &root;
  size_t first = 0;
  if (parts[0] == "memory") {
    if (parts.size() != 3) fail("{}: override key '{}': write memory.<level name>.<key>", path, override.key);
    table = &memory_level_table(root, parts[1], path);
    first = 2;
  }
  for (size_t i = first; i + 1 < parts.size(); ++i) {
    toml::node* child = table->get(parts[i]);
    if (child == nullptr) child = table->insert(parts[i], toml::table{}).first->second.as_table();
    if (!child->is_table()) fail("{}: override key '{}': '{}' is not a table", path, override.key, parts[i]);
    table = child->as_table();
  }
  const std::string& leaf = parts.back();
  const toml::node* old = table->get(leaf);
  if (!override.text.empty()) {
    if (override.scale) fail("{}: override key '{}': a string value cannot scale", path, override.key);
    table->insert_or_assign(leaf, override.text);  // the schema checks the type and the allowed names
    return;
  }
  if (old != nullptr && !old->is_number())
    fail("{}: override key '{}': the file's value is not a number", path, override.key);
  double value = override.value;
  if (override.scale) {
    if (old == nullptr)
      fail("{}: override key '{}': cannot scale a key the file does not set", path, override.key);
    value *=
        old->is_integer() ? static_cast<double>(old->as_integer()->get()) : old->as_floating_point()->get();
  }
  const bool integral = std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 9e15;
  if (old != nullptr && old->is_integer()) {
    if (!integral) fail("{}: override key '{}' = {}: this key takes an integer", path, override.key, value);
    table->insert_or_assign(leaf, static_cast<int64_t>(value));
  } else if (old == nullptr && integral) {
    table->insert_or_assign(leaf,
                            static_cast<int64_t>(value));  // integer keys need an integer; floats take one
  } else {
    table->insert_or_assign(leaf, value);
  }
}

ChipSpec finish_loading(toml::table table, const std::string& path,
                        const std::vector<KeyOverride>& overrides = {}) {
  std::vector<std::string> chain;
  const auto* own_name = table.get_as<std::string>("name");
  if (own_name != nullptr) chain.push_back(own_name->get());
  table = resolve_extends(std::move(table), path, chain);
  infer_family(table);
  if (const auto* detect = table.get_as<bool>("detect"); detect != nullptr && detect->get()) {
    const auto* family = table.get_as<std::string>("family");
    if (family != nullptr && family->get() == "cpu") {
      toml::table detected = host_chip_table(detect_host(), table, path);
      detail::merge_chip_tables(detected, std::move(table), true);
      table = std::move(detected);
    }
  }
  for (const KeyOverride& override : overrides) apply_override(table, override, path);
  detail::validate_chip_table(table, path);
  ChipSpec chip = detail::convert_chip_table(table, path);
  if (!chain.empty()) chain.erase(chain.begin());
  chip.extends_chain = std::move(chain);
  const std::string stem = fs::path(path).stem().string();
  if (chip.name != stem)
    fail("{}: key 'name' = \"{}\" must equal the file name without .toml (\"{}\")",
         detail::node_location(*table.get("name"), path), chip.name, stem);
  if (!is_valid_name(chip.name))
    fail("{}: key 'name' = \"{}\": use lowercase letters, digits and '-'",
         detail::node_location(*table.get("name"), path), chip.name);
  if (chip.family == Family::UE) {
    for (auto&& [key, node] : table) {
      const SchemaField* field = find_schema_field(key.str());
      if (field != nullptr && field->common) continue;
      const toml::key name = key;
      node.visit([&](auto&& value) { chip.engine.insert_or_assign(name, std::move(value)); });
    }
  }
  return chip;
}

}  // namespace

std::vector<std::string> data_dirs(const std::string& subdir) {
  std::vector<std::string> dirs;
  std::error_code error;
  if (const char* data_dir = std::getenv("XPUSIM_DATA_DIR"); data_dir != nullptr && *data_dir != '\0') {
    const fs::path dir = fs::path(data_dir) / subdir;
    if (fs::is_directory(dir, error)) dirs.push_back(dir.string());
  }
  const fs::path source_dir = fs::path(XPUSIM_SOURCE_DIR) / subdir;
  if (fs::is_directory(source_dir, error)) dirs.push_back(source_dir.string());
  return dirs;
}

std::vector<std::string> list_toml_names(const std::vector<std::string>& dirs) {
  std::vector<std::string> names;
  for (const std::string& dir : dirs) {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error))
      if (entry.path().extension() == ".toml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::vector<std::string> preset_dirs() { return data_dirs("chips"); }

std::vector<std::string> list_presets() { return list_toml_names(preset_dirs()); }

std::string find_chip_file(const std::string& name_or_path) {
  const bool is_path = name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".toml");
  std::error_code error;
  if (is_path) {
    if (!fs::is_regular_file(name_or_path, error)) fail("chip file '{}' does not exist", name_or_path);
    return name_or_path;
  }
  for (const std::string& dir : preset_dirs()) {
    const fs::path candidate = fs::path(dir) / (name_or_path + ".toml");
    if (fs::is_regular_file(candidate, error)) return candidate.string();
  }
  const std::vector<std::string> dirs = preset_dirs();
  fail("unknown chip '{}': not a preset (presets: {}; searched {}) and not a path to a .toml file",
       name_or_path, fmt::join(list_presets(), ", "),
       dirs.empty() ? std::string("no chips/ directory found") : fmt::format("{}", fmt::join(dirs, ", ")));
}

ChipSpec load_chip(const std::string& name_or_path) {
  const std::string path = find_chip_file(name_or_path);
  return finish_loading(parse_file(path), path);
}

ChipSpec load_chip_with_overrides(const std::string& name_or_path,
                                  const std::vector<KeyOverride>& overrides) {
  const std::string path = find_chip_file(name_or_path);
  return finish_loading(parse_file(path), path, overrides);
}

ChipSpec load_chip_from_string(std::string_view toml_text, const std::string& file_name) {
  return finish_loading(parse_text(toml_text, file_name), file_name);
}

}  // namespace xpusim::chips
