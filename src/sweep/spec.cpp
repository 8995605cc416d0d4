#include "sweep/spec.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <array>
#include <fstream>
#include <set>
#include <sstream>

#include "chips/cost_model.h"
#include "core/error.h"
#include "numerics/format_table.h"

namespace xpusim::sweep {

namespace {

constexpr std::array kObjectives = {
    ObjectiveInfo{Objective::TTFT, "ttft_ms", false, "TTFT (ms)"},
    ObjectiveInfo{Objective::TPOT, "tpot_ms", false, "TPOT (ms)"},
    ObjectiveInfo{Objective::TOKENS_PER_S_PER_USER, "tokens_per_s_per_user", true, "tokens/s per user"},
    ObjectiveInfo{Objective::TOKENS_PER_S_PER_CHIP, "tokens_per_s_per_chip", true, "tokens/s per chip"},
    ObjectiveInfo{Objective::TOKENS_PER_JOULE, "tokens_per_joule", true, "tokens/J"},
    ObjectiveInfo{Objective::USD_PER_MTOK, "usd_per_mtok", false, "USD per million tokens"},
};

std::string where(const toml::node& node, const std::string& path) {
  const auto& begin = node.source().begin;
  return begin ? fmt::format("{}:{}:{}", path, begin.line, begin.column) : path;
}

void check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed,
                const std::string& section, const std::string& path) {
  for (auto&& [key, node] : table) {
    bool known = false;
    for (std::string_view name : allowed) known = known || key.str() == name;
    if (!known)
      fail("{}: unknown key '{}' in [{}] (known: {})", where(node, path), key.str(), section,
           fmt::join(allowed, ", "));
  }
}

double number_of(const toml::node& node, const std::string& key, const std::string& path) {
  if (node.is_integer()) return static_cast<double>(node.as_integer()->get());
  if (node.is_floating_point()) return node.as_floating_point()->get();
  fail("{}: '{}' must be a number", where(node, path), key);
}

int64_t positive_integer(const toml::node& node, const std::string& key, const std::string& path) {
  if (!node.is_integer() || node.as_integer()->get() < 1)
    fail("{}: '{}' takes integers >= 1", where(node, path), key);
  return node.as_integer()->get();
}

std::vector<std::string> string_list(const toml::node& node, const std::string& key,
                                     const std::string& path) {
  std::vector<std::string> values;
  if (node.is_string()) return {node.as_string()->get()};
  const toml::array* array = node.as_array();
  if (array == nullptr || array->empty())
    fail("{}: '{}' must be a non-empty list of strings", where(node, path), key);
  for (const toml::node& item : *array) {
    if (!item.is_string()) fail("{}: '{}' must be a list of strings", where(item, path), key);
    values.push_back(item.as_string()->get());
  }
  return values;
}

// A list of integers, one integer, or a geometric range {from = 1, to = 256, factor = 2}.
std::vector<int64_t> integer_axis(const toml::node& node, const std::string& key, const std::string& path) {
  std::vector<int64_t> values;
  if (const toml::table* range = node.as_table()) {
    check_keys(*range, {"from", "to", "factor", "step"}, "axes." + key, path);
    const toml::node* from = range->get("from");
    const toml::node* to = range->get("to");
    if (from == nullptr || to == nullptr)
      fail("{}: '{}' as a range needs from and to (and factor or step)", where(node, path), key);
    const int64_t lo = positive_integer(*from, key + ".from", path),
                  hi = positive_integer(*to, key + ".to", path);
    if (hi < lo) fail("{}: '{}': to ({}) is below from ({})", where(node, path), key, hi, lo);
    const toml::node* factor = range->get("factor");
    const toml::node* step = range->get("step");
    if ((factor == nullptr) == (step == nullptr))
      fail("{}: '{}' as a range takes exactly one of factor (geometric) or step (arithmetic)",
           where(node, path), key);
    const int64_t by = positive_integer(factor != nullptr ? *factor : *step, key, path);
    if (factor != nullptr && by < 2) fail("{}: '{}': factor must be >= 2", where(node, path), key);
    for (int64_t v = lo; v <= hi; v = factor != nullptr ? v * by : v + by) {
      values.push_back(v);
      if (values.size() > 100000)
        fail("{}: '{}': the range has more than 100000 values", where(node, path), key);
    }
    return values;
  }
  if (node.is_integer()) return {positive_integer(node, key, path)};
  const toml::array* array = node.as_array();
  if (array == nullptr || array->empty())
    fail("{}: '{}' must be an integer, a non-empty list of integers or a range table", where(node, path),
         key);
  for (const toml::node& item : *array) values.push_back(positive_integer(item, key, path));
  return values;
}

std::vector<double> number_list(const toml::node& node, const std::string& key, const std::string& path) {
  std::vector<double> values;
  const toml::array* array = node.as_array();
  if (array == nullptr) return {number_of(node, key, path)};
  if (array->empty()) fail("{}: '{}' must not be empty", where(node, path), key);
  for (const toml::node& item : *array) values.push_back(number_of(item, key, path));
  return values;
}

Objective objective_from_name(const toml::node& node, const std::string& path) {
  const std::string name = node.is_string() ? node.as_string()->get() : std::string();
  for (const ObjectiveInfo& info : kObjectives)
    if (info.name == name) return info.objective;
  std::vector<std::string_view> names;
  for (const ObjectiveInfo& info : kObjectives) names.push_back(info.name);
  fail("{}: unknown objective '{}' (known: {})", where(node, path), name, fmt::join(names, ", "));
}

Sampling sampling_from_name(const toml::node& node, const std::string& path) {
  const std::string name = node.is_string() ? node.as_string()->get() : std::string();
  if (name == "grid") return Sampling::GRID;
  if (name == "random") return Sampling::RANDOM;
  if (name == "latin-hypercube" || name == "lhs") return Sampling::LATIN_HYPERCUBE;
  fail("{}: sampling = '{}': use grid, random or latin-hypercube", where(node, path), name);
}

void read_sweep_section(const toml::table& table, SweepSpec& spec, const std::string& path) {
  check_keys(table, {"name", "sampling", "samples", "seed", "electricity_usd_per_kwh", "amortization_years"},
             "sweep", path);
  if (const auto* name = table.get_as<std::string>("name")) spec.name = name->get();
  if (const toml::node* sampling = table.get("sampling")) spec.sampling = sampling_from_name(*sampling, path);
  if (const toml::node* samples = table.get("samples"))
    spec.samples = positive_integer(*samples, "samples", path);
  if (const toml::node* seed = table.get("seed")) {
    if (!seed->is_integer() || seed->as_integer()->get() < 0)
      fail("{}: 'seed' must be an integer >= 0", where(*seed, path));
    spec.seed = static_cast<uint64_t>(seed->as_integer()->get());
  }
  if (const toml::node* price = table.get("electricity_usd_per_kwh")) {
    spec.electricity_usd_per_kwh = number_of(*price, "electricity_usd_per_kwh", path);
    if (spec.electricity_usd_per_kwh < 0)
      fail("{}: 'electricity_usd_per_kwh' must be >= 0", where(*price, path));
  }
  if (const toml::node* years = table.get("amortization_years")) {
    spec.amortization_years = number_of(*years, "amortization_years", path);
    if (spec.amortization_years <= 0) fail("{}: 'amortization_years' must be > 0", where(*years, path));
  }
  if (spec.sampling != Sampling::GRID && spec.samples == 0)
    fail("{}: [sweep] samples = N is required with random or latin-hypercube sampling", path);
}

void read_overrides(const toml::table& table, bool scale, SweepSpec& spec, const std::string& path) {
  for (auto&& [key, node] : table) {
    OverrideAxis axis{std::string(key.str()), scale, {}, {}};
    const toml::array* list = node.as_array();
    const bool strings = node.is_string() || (list != nullptr && !list->empty() && (*list)[0].is_string());
    if (strings && scale)
      fail("{}: [axes.scale] '{}' takes numbers (strings go in [axes.set])", where(node, path), axis.key);
    if (strings)
      axis.texts = string_list(node, axis.key, path);
    else
      axis.values = number_list(node, axis.key, path);
    spec.overrides.push_back(std::move(axis));
  }
}

void read_axes(const toml::table& table, SweepSpec& spec, const std::string& path) {
  check_keys(table,
             {"models", "chips", "precision", "kv_dtype", "batch", "prompt_len", "gen_len", "chip_count",
              "set", "scale"},
             "axes", path);
  const toml::node* models = table.get("models");
  const toml::node* chip_names = table.get("chips");
  if (models == nullptr || chip_names == nullptr)
    fail("{}: [axes] needs models = [...] and chips = [...]", path);
  spec.models = string_list(*models, "models", path);
  spec.chips = string_list(*chip_names, "chips", path);
  if (const toml::node* node = table.get("precision")) {
    spec.precisions = string_list(*node, "precision", path);
    for (std::string& name : spec.precisions) {
      if (name == "default") name.clear();
      if (!name.empty() && !numerics::format_from_name(name))
        fail("{}: precision '{}' is not a number format; known: default, {}", where(*node, path), name,
             numerics::format_names_joined());
    }
  }
  if (const toml::node* node = table.get("kv_dtype")) {
    spec.kv_dtypes = string_list(*node, "kv_dtype", path);
    for (std::string& name : spec.kv_dtypes) {
      if (name == "default") name.clear();
      if (!name.empty()) {
        try {
          chips::kv_dtype_bytes(name);
        } catch (const Error& error) {
          fail("{}: kv_dtype: {}", where(*node, path), error.what());
        }
      }
    }
  }
  if (const toml::node* node = table.get("batch")) spec.batches = integer_axis(*node, "batch", path);
  if (const toml::node* node = table.get("prompt_len"))
    spec.prompt_lens = integer_axis(*node, "prompt_len", path);
  if (const toml::node* node = table.get("gen_len")) spec.gen_lens = integer_axis(*node, "gen_len", path);
  if (const toml::node* node = table.get("chip_count"))
    spec.chip_counts = integer_axis(*node, "chip_count", path);
  if (const toml::node* node = table.get("set")) {
    if (!node->is_table()) fail("{}: [axes.set] must be a table of chip-file keys", where(*node, path));
    read_overrides(*node->as_table(), false, spec, path);
  }
  if (const toml::node* node = table.get("scale")) {
    if (!node->is_table()) fail("{}: [axes.scale] must be a table of chip-file keys", where(*node, path));
    read_overrides(*node->as_table(), true, spec, path);
  }
  std::set<std::string> seen;
  for (const OverrideAxis& axis : spec.overrides)
    if (!seen.insert(axis.key).second)
      fail("{}: chip key '{}' appears in both [axes.set] and [axes.scale]", path, axis.key);
}

void read_constraints(const toml::table& table, SweepSpec& spec, const std::string& path) {
  check_keys(table, {"max_ttft_ms", "max_tpot_ms", "max_power_w_per_chip", "memory_fit"}, "constraints",
             path);
  auto positive = [&](const char* key) -> std::optional<double> {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    const double value = number_of(*node, key, path);
    if (!(value > 0)) fail("{}: '{}' must be > 0", where(*node, path), key);
    return value;
  };
  spec.constraints.max_ttft_ms = positive("max_ttft_ms");
  spec.constraints.max_tpot_ms = positive("max_tpot_ms");
  spec.constraints.max_power_w_per_chip = positive("max_power_w_per_chip");
  if (const toml::node* fit = table.get("memory_fit")) {
    if (!fit->is_boolean()) fail("{}: 'memory_fit' must be true or false", where(*fit, path));
    spec.constraints.memory_fit = fit->as_boolean()->get();
  }
}

void read_objectives(const toml::table& table, SweepSpec& spec, const std::string& path) {
  check_keys(table, {"pareto"}, "objectives", path);
  const toml::node* pareto = table.get("pareto");
  if (pareto == nullptr) return;
  const toml::array* list = pareto->as_array();
  if (list == nullptr || list->size() < 2 || list->size() > 3)
    fail("{}: 'pareto' must list 2 or 3 objectives", where(*pareto, path));
  spec.pareto.clear();
  for (const toml::node& item : *list) {
    const Objective objective = objective_from_name(item, path);
    for (Objective seen : spec.pareto)
      if (seen == objective)
        fail("{}: objective '{}' is listed twice", where(item, path), objective_info(seen).name);
    spec.pareto.push_back(objective);
  }
}

}  // namespace

std::span<const ObjectiveInfo> objective_table() { return kObjectives; }

const ObjectiveInfo& objective_info(Objective objective) {
  for (const ObjectiveInfo& info : kObjectives)
    if (info.objective == objective) return info;
  fail("unknown objective {}", static_cast<int>(objective));
}

SweepSpec parse_spec(std::string_view toml_text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view(path));
  } catch (const toml::parse_error& error) {
    fail("{}:{}:{}: TOML syntax error: {}", path, error.source().begin.line, error.source().begin.column,
         error.description());
  }
  check_keys(root, {"sweep", "axes", "constraints", "objectives"}, "top level", path);
  SweepSpec spec;
  auto section = [&](const char* name) -> const toml::table* {
    const toml::node* node = root.get(name);
    if (node != nullptr && !node->is_table())
      fail("{}: '{}' must be a table ([{}])", where(*node, path), name, name);
    return node == nullptr ? nullptr : node->as_table();
  };
  const toml::table* axes = section("axes");
  if (axes == nullptr)
    fail("{}: a sweep spec needs an [axes] table with models and chips (docs/sweep.md)", path);
  read_axes(*axes, spec, path);
  static const toml::table empty;
  const toml::table* sweep = section("sweep");
  read_sweep_section(sweep != nullptr ? *sweep : empty, spec, path);
  if (const toml::table* constraints = section("constraints")) read_constraints(*constraints, spec, path);
  if (const toml::table* objectives = section("objectives")) read_objectives(*objectives, spec, path);
  return spec;
}

SweepSpec load_spec(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open sweep spec", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_spec(buffer.str(), path);
}

}  // namespace xpusim::sweep
