#include "engine/chip_config.h"

#include <fmt/ranges.h>
#include <toml++/toml.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace xpusim::engine {
namespace {

enum class KeyType { integer, real, boolean, string, choice };

struct SchemaKey {
  std::string table;  // "" = top level
  std::string key;
  KeyType type;
  double min = 0, max = 0;  // numeric range (inclusive)
  std::vector<std::string> choices = {};
  std::function<void(ChipConfig&, const toml::node&)> set = {};
};

std::string where(const std::string& source, const toml::source_region& region) {
  return fmt::format("{}:{}:{}", source, region.begin.line, region.begin.column);
}

std::string dotted(const SchemaKey& key) {
  return key.table.empty() ? fmt::format("engine.{}", key.key)
                           : fmt::format("engine.{}.{}", key.table, key.key);
}

SchemaKey int_key(std::string table, std::string key, double lo, double hi, int64_t ChipConfig::*member) {
  return {std::move(table),
          std::move(key),
          KeyType::integer,
          lo,
          hi,
          {},
          [member](ChipConfig& c, const toml::node& n) { c.*member = *n.value<int64_t>(); }};
}
SchemaKey real_key(std::string table, std::string key, double lo, double hi, double ChipConfig::*member) {
  return {std::move(table),
          std::move(key),
          KeyType::real,
          lo,
          hi,
          {},
          [member](ChipConfig& c, const toml::node& n) { c.*member = *n.value<double>(); }};
}
SchemaKey bool_key(std::string table, std::string key, bool ChipConfig::*member) {
  return {std::move(table),
          std::move(key),
          KeyType::boolean,
          0,
          0,
          {},
          [member](ChipConfig& c, const toml::node& n) { c.*member = *n.value<bool>(); }};
}
template <typename Enum>
SchemaKey choice_key(std::string table, std::string key, std::vector<std::string> choices,
                     std::function<Enum&(ChipConfig&)> member) {
  std::vector<std::string> names = choices;
  return {std::move(table),
          std::move(key),
          KeyType::choice,
          0,
          0,
          std::move(choices),
          [names, member](ChipConfig& c, const toml::node& n) {
            const std::string value = *n.value<std::string>();
            for (size_t i = 0; i < names.size(); ++i)
              if (names[i] == value) member(c) = static_cast<Enum>(i);
          }};
}

const std::vector<SchemaKey>& chip_schema() {
  static const std::vector<SchemaKey> schema = [] {
    using C = ChipConfig;
    std::vector<SchemaKey> s = {
        int_key("", "engines", 1, 64, &C::engines),
        choice_key<ArrayKind>("compute", "array", {"dot", "systolic"},
                              [](C& c) -> ArrayKind& { return c.array; }),
        int_key("compute", "dot_lanes", 0, 65536, &C::dot_lanes),
        int_key("compute", "systolic_rows", 0, 1024, &C::systolic_rows),
        int_key("compute", "systolic_cols", 0, 1024, &C::systolic_cols),
        choice_key<Dataflow>("compute", "dataflow", {"none", "weight_stationary", "output_stationary"},
                             [](C& c) -> Dataflow& { return c.dataflow; }),
        int_key("compute", "vector_lanes", 1, 65536, &C::vector_lanes),
        bool_key("compute", "shared_vector_unit", &C::shared_vector_unit),
        int_key("compute", "queue_depth", 1, 64, &C::queue_depth),
        int_key("compute", "transpose_elements_per_cycle", 1, 65536, &C::transpose_elements_per_cycle),
        int_key("memory", "sram_kib", 64, 1 << 17, &C::sram_kib),
        int_key("memory", "sram_banks", 1, 64, &C::sram_banks),
        int_key("memory", "softmax_contexts", 1, 64, &C::softmax_contexts),
        int_key("frontend", "registers", 8, 64, &C::registers),
        int_key("frontend", "semaphores", 1, 256, &C::semaphores),
        int_key("frontend", "address_streams", 1, 16, &C::address_streams),
        int_key("frontend", "trace_entries", 1, 1 << 20, &C::trace_entries),
        int_key("frontend", "op_issue_cycles", 0, 1e6, &C::op_issue_cycles),
        int_key("frontend", "watchdog_cycles", 1, 1e15, &C::watchdog_cycles),
        int_key("frontend", "semaphore_timeout_cycles", 1, 1e15, &C::semaphore_timeout_cycles),
        int_key("icache", "window_instructions", 2, 1 << 20, &C::icache_window_instructions),
        int_key("icache", "fetch_bytes_per_cycle", 1, 4096, &C::icache_fetch_bytes_per_cycle),
        int_key("icache", "refill_latency_cycles", 0, 1e6, &C::icache_refill_latency_cycles),
        int_key("dma", "port_bytes_per_cycle", 1, 4096, &C::dma_port_bytes_per_cycle),
        int_key("dram", "size_mib", 1, 1 << 24, &C::dram_size_mib),
        real_key("dram", "aggregate_gbps", 0.001, 1e5, &C::dram_aggregate_gbps),
        int_key("dram", "latency_cycles", 0, 1e6, &C::dram_latency_cycles),
        int_key("dram", "burst_bytes", 32, 1 << 24, &C::dram_burst_bytes),
        int_key("dram", "burst_overhead_cycles", 0, 1e6, &C::dram_burst_overhead_cycles),
        int_key("dram", "max_outstanding", 1, 4096, &C::dram_max_outstanding),
        int_key("numerics", "acc_mantissa_bits", 7, 23, nullptr),
        choice_key<Rounding>("numerics", "acc_rounding", {"rne", "truncate"},
                             [](C& c) -> Rounding& { return c.numerics.acc_rounding; }),
        choice_key<Rounding>("numerics", "output_rounding", {"rne", "truncate"},
                             [](C& c) -> Rounding& { return c.numerics.output_rounding; }),
        real_key("energy", "pj_per_mac", 0, 1e6, &C::energy_pj_per_mac),
        real_key("energy", "pj_per_vector_element", 0, 1e6, &C::energy_pj_per_vector_element),
        real_key("energy", "pj_per_sram_byte", 0, 1e6, &C::energy_pj_per_sram_byte),
        real_key("energy", "pj_per_dram_byte", 0, 1e6, &C::energy_pj_per_dram_byte),
        real_key("energy", "static_power_mw", 0, 1e9, &C::static_power_mw),
    };
    // acc_mantissa_bits lives inside NumericsPolicy.
    for (SchemaKey& key : s)
      if (key.key == "acc_mantissa_bits")
        key.set = [](ChipConfig& c, const toml::node& n) {
          c.numerics.acc_mantissa_bits = static_cast<int>(*n.value<int64_t>());
        };
    for (int i = 1; i < kLatencyClassCount; ++i) {
      const auto cls = static_cast<LatencyClass>(i);
      s.push_back({"latency",
                   std::string(latency_class_name(cls)),
                   KeyType::integer,
                   0,
                   1e6,
                   {},
                   [i](ChipConfig& c, const toml::node& n) {
                     c.latency_cycles[static_cast<size_t>(i)] = *n.value<int64_t>();
                   }});
    }
    return s;
  }();
  return schema;
}

void check_value(const SchemaKey& key, const toml::node& node, const std::string& source) {
  const std::string at = where(source, node.source());
  switch (key.type) {
    case KeyType::integer: {
      const auto v = node.value_exact<int64_t>();
      if (!v) fail("{}: key '{}' must be an integer", at, dotted(key));
      if (*v < key.min || *v > key.max)
        fail("{}: key '{}' = {} is out of range [{}, {}]", at, dotted(key), *v, key.min, key.max);
      break;
    }
    case KeyType::real: {
      const auto v = node.value<double>();
      if (!v || !(node.is_floating_point() || node.is_integer()))
        fail("{}: key '{}' must be a number", at, dotted(key));
      if (!(*v >= key.min && *v <= key.max))
        fail("{}: key '{}' = {} is out of range [{}, {}]", at, dotted(key), *v, key.min, key.max);
      break;
    }
    case KeyType::boolean:
      if (!node.is_boolean()) fail("{}: key '{}' must be true or false", at, dotted(key));
      break;
    case KeyType::string:
      if (!node.is_string()) fail("{}: key '{}' must be a string", at, dotted(key));
      break;
    case KeyType::choice: {
      if (!node.is_string()) fail("{}: key '{}' must be a string", at, dotted(key));
      const std::string v = *node.value<std::string>();
      bool found = false;
      std::string allowed;
      for (const std::string& c : key.choices) {
        found = found || c == v;
        allowed += (allowed.empty() ? "" : ", ") + c;
      }
      if (!found) fail("{}: key '{}' = \"{}\" is not one of: {}", at, dotted(key), v, allowed);
      break;
    }
  }
}

void check_consistency(const ChipConfig& c) {
  if (c.array == ArrayKind::dot && c.dot_lanes < 1)
    fail("{}: compute.dot_lanes must be >= 1 for array = \"dot\"", c.source);
  if (c.array == ArrayKind::systolic &&
      (c.systolic_rows < 1 || c.systolic_cols < 1 || c.dataflow == Dataflow::none))
    fail("{}: array = \"systolic\" needs compute.systolic_rows/systolic_cols >= 1 and a dataflow", c.source);
  if (c.icache_window_instructions % 2 != 0)
    fail("{}: icache.window_instructions must be even (fetch is 2 instructions per 64 B)", c.source);
}

}  // namespace

ChipConfig parse_chip(std::string_view toml_text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    fail("{}: TOML syntax error: {}", where(source, e.source()), e.description());
  }
  ChipConfig chip;
  chip.source = source;
  // Top-level keys belong to the common chip schema (src/chips validates all of them); the engine reads the
  // few it needs and owns the [engine] table completely.
  const auto* family = root.get("family");
  if (family == nullptr || !family->is_string())
    fail("{}: missing key 'family' (engine chips have family = \"ue\")", source);
  if (*family->value<std::string>() != "ue")
    fail("{}: family = \"{}\" is not an engine chip (expected \"ue\")", where(source, family->source()),
         *family->value<std::string>());
  const auto* name = root.get("name");
  if (name == nullptr || !name->is_string()) fail("{}: missing key 'name'", source);
  chip.name = *name->value<std::string>();
  if (const auto* description = root.get("description"); description != nullptr && description->is_string())
    chip.description = *description->value<std::string>();
  const auto* clock = root.get("clock_mhz");
  if (clock == nullptr) fail("{}: missing key 'clock_mhz' (the engine simulator needs a clock)", source);
  if (!clock->value<double>() || !(*clock->value<double>() > 0 && *clock->value<double>() <= 10000))
    fail("{}: key 'clock_mhz' must be a number in (0, 10000]", where(source, clock->source()));
  chip.clock_mhz = *clock->value<double>();
  const toml::table* engine = root["engine"].as_table();
  if (engine == nullptr) fail("{}: missing table [engine] (required for family \"ue\")", source);

  const auto& schema = chip_schema();
  for (auto&& [key_name, node] : *engine) {
    const std::string top(key_name.str());
    if (const toml::table* sub = node.as_table()) {
      bool known_table = false;
      for (const SchemaKey& key : schema) known_table = known_table || key.table == top;
      if (!known_table) fail("{}: unknown table [engine.{}]", where(source, key_name.source()), top);
      for (auto&& [sub_name, sub_node] : *sub) {
        bool known = false;
        for (const SchemaKey& key : schema) known = known || (key.table == top && key.key == sub_name.str());
        if (!known)
          fail("{}: unknown key 'engine.{}.{}'", where(source, sub_name.source()), top, sub_name.str());
      }
    } else {
      bool known = false;
      for (const SchemaKey& key : schema) known = known || (key.table.empty() && key.key == top);
      if (!known) fail("{}: unknown key 'engine.{}'", where(source, key_name.source()), top);
    }
  }
  for (const SchemaKey& key : schema) {
    const toml::node* node = nullptr;
    if (key.table.empty())
      node = engine->get(key.key);
    else if (const toml::table* sub = (*engine)[key.table].as_table())
      node = sub->get(key.key);
    if (node == nullptr) fail("{}: missing key '{}'", source, dotted(key));
    check_value(key, *node, source);
    key.set(chip, *node);
  }
  check_consistency(chip);
  return chip;
}

// The same search as chips::preset_dirs() (chips sits above engine): $XPUSIM_DATA_DIR/chips, then the source
// tree.
std::vector<std::string> chips_directories() {
  std::vector<std::string> dirs;
  if (const char* data_dir = std::getenv("XPUSIM_DATA_DIR"); data_dir != nullptr && *data_dir != '\0') {
    const std::string dir = std::string(data_dir) + "/chips";
    if (std::filesystem::is_directory(dir)) dirs.push_back(dir);
  }
  dirs.push_back(std::string(XPUSIM_SOURCE_DIR) + "/chips");
  return dirs;
}

ChipConfig load_chip(const std::string& name_or_path) {
  std::string path = name_or_path;
  if (!std::filesystem::exists(path)) {
    path.clear();
    const std::vector<std::string> dirs = chips_directories();
    for (const std::string& dir : dirs)
      if (std::filesystem::exists(dir + "/" + name_or_path + ".toml")) {
        path = dir + "/" + name_or_path + ".toml";
        break;
      }
    if (path.empty())
      fail("chip '{}': no such file and no preset of that name (presets live in {})", name_or_path,
           fmt::format("{}", fmt::join(dirs, ", ")));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open chip file", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_chip(buffer.str(), path);
}

}  // namespace xpusim::engine
