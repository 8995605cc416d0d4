// Schema validation of a (merged) chip table, and the merge used by `extends` and host detection.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "chips/chip_toml.h"
#include "chips/schema.h"
#include "core/error.h"

namespace xpusim::chips::detail {

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string last_component(std::string_view path) {
  const size_t dot = path.rfind('.');
  return std::string(dot == std::string_view::npos ? path : path.substr(dot + 1));
}

[[noreturn]] void fail_unknown_key(const toml::node& node, const std::string& key, const std::string& display,
                                   const std::string& schema_parent, const std::string& file) {
  std::string allowed, suggestion;
  size_t best = 4;  // suggest only close matches (typos, wrong unit suffix)
  for (const SchemaField* field : schema_children(schema_parent)) {
    const std::string name = last_component(field->path);
    if (!allowed.empty()) allowed += ", ";
    allowed += name;
    const size_t distance = edit_distance(key, name);
    if (distance < best) best = distance, suggestion = name;
  }
  fail("{}: unknown key '{}'{}; allowed here: {}", node_location(node, file), display,
       suggestion.empty() ? "" : fmt::format(" (did you mean '{}'?)", suggestion), allowed);
}

[[noreturn]] void fail_value(const toml::node& node, const SchemaField& field, const std::string& display,
                             const std::string& problem, const std::string& file) {
  const std::string range = describe_range(field);
  fail("{}: key '{}' = {}: {}{}{}", node_location(node, file), display, node_value_text(node), problem,
       range.empty() ? "" : fmt::format("; allowed {}", range), field.unit.empty() ? "" : " " + field.unit);
}

void check_number_range(const toml::node& node, const SchemaField& field, const std::string& display,
                        double value, const std::string& file) {
  const bool low_ok = field.min_exclusive ? value > field.min : value >= field.min;
  if (!std::isfinite(value) || !low_ok || value > field.max)
    fail_value(node, field, display, "out of range", file);
}

void check_value(const toml::node& node, const SchemaField& field, const std::string& display,
                 const std::string& file) {
  const std::string expected = fmt::format("wrong type, expected {}", type_name(field.type));
  switch (field.type) {
    case FieldType::STRING:
      if (!node.is_string()) fail_value(node, field, display, expected, file);
      return;
    case FieldType::ENUM: {
      if (!node.is_string()) fail_value(node, field, display, expected, file);
      const std::string& text = node.as_string()->get();
      if (std::find(field.allowed.begin(), field.allowed.end(), text) == field.allowed.end())
        fail_value(node, field, display, "not an allowed value", file);
      return;
    }
    case FieldType::BOOLEAN:
      if (!node.is_boolean()) fail_value(node, field, display, expected, file);
      return;
    case FieldType::INTEGER_OR_AUTO:
      if (node.is_string() && node.as_string()->get() == "auto") return;
      [[fallthrough]];
    case FieldType::INTEGER:
      if (!node.is_integer()) fail_value(node, field, display, expected, file);
      check_number_range(node, field, display, static_cast<double>(node.as_integer()->get()), file);
      return;
    case FieldType::NUMBER:
      if (node.is_integer()) return check_number_range(node, field, display, node.as_integer()->get(), file);
      if (!node.is_floating_point()) fail_value(node, field, display, expected, file);
      check_number_range(node, field, display, node.as_floating_point()->get(), file);
      return;
    case FieldType::TABLE:
      if (!node.is_table()) fail_value(node, field, display, expected, file);
      return;
    case FieldType::TABLE_ARRAY:
      if (!node.is_array_of_tables())
        fail_value(node, field, display, fmt::format("expected one or more [[{}]] tables", display), file);
      return;
  }
}

std::string join_path(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

// Types, ranges and unknown keys, depth first. schema_prefix uses "memory[]", display_prefix "memory[2]".
// For family ue (is_ue at the root) only the common keys are checked; the rest belong to the engine.
void walk_table(const toml::table& table, const std::string& schema_prefix, const std::string& display_prefix,
                const std::string& file, bool is_ue = false) {
  for (const auto& [key, node] : table) {
    const std::string schema_path = join_path(schema_prefix, key.str());
    const std::string display = join_path(display_prefix, key.str());
    const SchemaField* field = find_schema_field(schema_path);
    if (is_ue && (field == nullptr || !field->common)) continue;
    if (field == nullptr) fail_unknown_key(node, std::string(key.str()), display, schema_prefix, file);
    check_value(node, *field, display, file);
    if (field->type == FieldType::TABLE) walk_table(*node.as_table(), schema_path, display, file);
    if (field->type == FieldType::TABLE_ARRAY) {
      const toml::array& array = *node.as_array();
      for (size_t i = 0; i < array.size(); ++i)
        walk_table(*array[i].as_table(), schema_path + "[]", fmt::format("{}[{}]", display, i), file);
    }
  }
}

void check_required(const toml::table& table, const std::string& schema_prefix,
                    const std::string& display_prefix, const std::string& file, bool is_ue) {
  const std::string where = display_prefix.empty()
                                ? fmt::format("chip file {}", file)
                                : fmt::format("{} (table '{}')", node_location(table, file), display_prefix);
  std::map<std::string, std::vector<std::string>> groups_present;
  std::map<std::string, std::string> group_keys;
  for (const SchemaField* field : schema_children(schema_prefix)) {
    if (is_ue && !field->common) continue;  // the engine's key, with the engine's own structure
    const std::string key = last_component(field->path);
    const toml::node* node = table.get(key);
    if (!field->group.empty()) {
      std::string& keys = group_keys[field->group];
      if (!keys.empty()) keys += ", ";
      keys += key;
      if (node != nullptr) groups_present[field->group].push_back(key);
      continue;
    }
    if (node == nullptr) {
      if (field_needed(*field, is_ue))
        fail("{}: missing required key '{}' ({}{}{}): {}", where, join_path(display_prefix, key),
             type_name(field->type), describe_range(*field).empty() ? "" : ", " + describe_range(*field),
             field->unit.empty() ? "" : ", " + field->unit, field->doc);
      continue;
    }
    const std::string display = join_path(display_prefix, key);
    if (field->type == FieldType::TABLE) check_required(*node->as_table(), field->path, display, file, is_ue);
    if (field->type == FieldType::TABLE_ARRAY) {
      const toml::array& array = *node->as_array();
      for (size_t i = 0; i < array.size(); ++i)
        check_required(*array[i].as_table(), field->path + "[]", fmt::format("{}[{}]", display, i), file,
                       is_ue);
    }
  }
  for (const auto& [group, keys] : group_keys) {
    const auto& present = groups_present[group];
    const SchemaField* first = find_schema_field(join_path(schema_prefix, keys.substr(0, keys.find(','))));
    if (present.empty() && first != nullptr && field_needed(*first, is_ue))
      fail("{}: missing {}: give exactly one of {}", where, group, keys);
    if (present.size() > 1)
      fail("{}: {} given twice ({} and {}): give exactly one of {}", where, group, present[0], present[1],
           keys);
  }
}

}  // namespace

std::string node_location(const toml::node& node, const std::string& fallback_file) {
  const toml::source_region& source = node.source();
  if (source.path && source.begin.line > 0)
    return fmt::format("{}:{}:{}", *source.path, source.begin.line, source.begin.column);
  return fmt::format("{} (value detected on this machine)", fallback_file);
}

std::string node_value_text(const toml::node& node) {
  if (const auto* text = node.as_string()) return fmt::format("\"{}\"", text->get());
  if (const auto* integer = node.as_integer()) return fmt::format("{}", integer->get());
  if (const auto* real = node.as_floating_point()) return fmt::format("{}", real->get());
  if (const auto* boolean = node.as_boolean()) return boolean->get() ? "true" : "false";
  if (node.is_table()) return "a table";
  if (node.is_array()) return "an array";
  return "a date/time";
}

void merge_chip_tables(toml::table& base, toml::table&& over, bool drop_unmatched_levels) {
  for (auto&& [key, node] : over) {
    const toml::key name = key;
    toml::node* existing = base.get(name.str());
    if (existing != nullptr && existing->is_table() && node.is_table()) {
      merge_chip_tables(*existing->as_table(), std::move(*node.as_table()), drop_unmatched_levels);
      continue;
    }
    if (name.str() == "memory" && existing != nullptr && existing->is_array_of_tables() &&
        node.is_array_of_tables()) {
      toml::array& base_levels = *existing->as_array();
      for (auto& level_node : *node.as_array()) {
        toml::table& level = *level_node.as_table();
        toml::table* match = nullptr;
        for (auto& candidate : base_levels) {
          const auto* candidate_name = candidate.as_table()->get_as<std::string>("name");
          const auto* level_name = level.get_as<std::string>("name");
          if (candidate_name && level_name && candidate_name->get() == level_name->get())
            match = candidate.as_table();
        }
        if (match != nullptr)
          merge_chip_tables(*match, std::move(level), drop_unmatched_levels);
        else if (!drop_unmatched_levels)
          base_levels.push_back(std::move(level));
      }
      continue;
    }
    node.visit([&](auto&& value) { base.insert_or_assign(name, std::move(value)); });
  }
}

void validate_chip_table(const toml::table& root, const std::string& file) {
  const auto* family = root.get_as<std::string>("family");
  const bool is_ue = family != nullptr && family->get() == "ue";
  walk_table(root, "", "", file, is_ue);
  check_required(root, "", "", file, is_ue);
}

}  // namespace xpusim::chips::detail
