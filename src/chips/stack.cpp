// Loading stacks/<name>.toml (see stack.h): every key is checked against its range; unknown keys are errors.
#include "chips/stack.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "chips/loader.h"
#include "core/error.h"

namespace xpusim::chips {
namespace fs = std::filesystem;

namespace {

double number_in(const toml::table& table, const std::string& key, double low, double high,
                 const std::string& path, double fallback) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return fallback;
  const auto value = node->value<double>();
  if (!value) fail("{}:{}: key '{}': expected a number", path, node->source().begin.line, key);
  if (*value < low || *value > high)
    fail("{}:{}: key '{}' = {}: out of range [{}, {}]", path, node->source().begin.line, key, *value, low,
         high);
  return *value;
}

}  // namespace

std::vector<std::string> stack_dirs() { return data_dirs("stacks"); }

std::vector<std::string> list_stacks() { return list_toml_names(stack_dirs()); }

StackProfile load_stack(const std::string& name_or_path) {
  if (name_or_path.empty()) fail("stack: empty name");
  std::string path;
  std::error_code error;
  if (name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".toml")) {
    path = name_or_path;
  } else {
    for (const std::string& dir : stack_dirs()) {
      const fs::path candidate = fs::path(dir) / (name_or_path + ".toml");
      if (fs::is_regular_file(candidate, error)) {
        path = candidate.string();
        break;
      }
    }
    if (path.empty()) fail("unknown stack '{}'; known: {}", name_or_path, fmt::join(list_stacks(), ", "));
  }
  if (!fs::is_regular_file(path, error)) fail("stack file '{}' does not exist", path);
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    fail("{}:{}: {}", path, e.source().begin.line, e.description());
  }
  static const std::set<std::string> known = {"name",
                                              "description",
                                              "kernels_per_layer",
                                              "kernel_gap_us",
                                              "step_overhead_us",
                                              "dequant_in_series",
                                              "static_kv_tokens",
                                              "prefill_kernel_gap_us",
                                              "q8_gemv_ops_neon",
                                              "q8_gemm_ops_neon",
                                              "q8_gemv_ops_x86",
                                              "q8_gemm_ops_x86"};
  for (const auto& [key, node] : table)
    if (!known.count(std::string(key.str())))
      fail("{}:{}: unknown key '{}'; known: {}", path, node.source().begin.line, key.str(),
           fmt::join(known, ", "));
  StackProfile stack;
  stack.source_path = path;
  stack.name = table["name"].value_or(std::string());
  if (stack.name != fs::path(path).stem().string())
    fail("{}: name = \"{}\" must equal the file name '{}'", path, stack.name, fs::path(path).stem().string());
  stack.description = table["description"].value_or(std::string());
  stack.kernels_per_layer = number_in(table, "kernels_per_layer", 0, 1000, path, 0);
  stack.kernel_gap_us = number_in(table, "kernel_gap_us", 0, 1e5, path, 0);
  stack.step_overhead_us = number_in(table, "step_overhead_us", 0, 1e7, path, 0);
  if (const toml::node* node = table.get("dequant_in_series")) {
    if (!node->is_boolean())
      fail("{}:{}: key 'dequant_in_series': expected true or false", path, node->source().begin.line);
    stack.dequant_in_series = node->as_boolean()->get();
  }
  if (const toml::node* node = table.get("description"); node != nullptr && !node->is_string())
    fail("{}:{}: key 'description': expected a string", path, node->source().begin.line);
  stack.static_kv_tokens = static_cast<int64_t>(number_in(table, "static_kv_tokens", 0, 1e7, path, 0));
  stack.prefill_kernel_gap_us = number_in(table, "prefill_kernel_gap_us", 0, 1e5, path, 0);
  stack.q8_gemv_ops_neon = number_in(table, "q8_gemv_ops_neon", 0, 1000, path, 0);
  stack.q8_gemm_ops_neon = number_in(table, "q8_gemm_ops_neon", 0, 1000, path, 0);
  stack.q8_gemv_ops_x86 = number_in(table, "q8_gemv_ops_x86", 0, 1000, path, 0);
  stack.q8_gemm_ops_x86 = number_in(table, "q8_gemm_ops_x86", 0, 1000, path, 0);
  const int q8_keys = (stack.q8_gemv_ops_neon > 0) + (stack.q8_gemm_ops_neon > 0) +
                      (stack.q8_gemv_ops_x86 > 0) + (stack.q8_gemm_ops_x86 > 0);
  if (q8_keys != 0 && q8_keys != 4)
    fail(
        "{}: the q8 dot-product path needs all four of q8_gemv_ops_neon, q8_gemm_ops_neon, q8_gemv_ops_x86, "
        "q8_gemm_ops_x86 (> 0)",
        path);
  return stack;
}

}  // namespace xpusim::chips
