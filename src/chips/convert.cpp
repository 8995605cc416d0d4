// Validated toml table -> ChipSpec, plus the rules that span several keys.
#include <fmt/format.h>

#include <cmath>

#include "chips/chip_toml.h"
#include "chips/schema.h"
#include "core/error.h"

namespace xpusim::chips::detail {

namespace {

// Readers for keys the schema already checked for type and range.
double number_at(const toml::table& table, std::string_view key) {
  const toml::node* node = table.get(key);
  XPUSIM_ASSERT(node != nullptr);
  if (const auto* integer = node->as_integer()) return static_cast<double>(integer->get());
  return node->as_floating_point()->get();
}

std::optional<double> optional_number(const toml::table& table, std::string_view key) {
  if (!table.contains(key)) return std::nullopt;
  return number_at(table, key);
}

std::optional<int> optional_int(const toml::table& table, std::string_view key) {
  const auto* node = table.get_as<int64_t>(key);
  if (node == nullptr) return std::nullopt;
  return static_cast<int>(node->get());
}

std::string string_at(const toml::table& table, std::string_view key) {
  const auto* node = table.get_as<std::string>(key);
  return node == nullptr ? std::string() : node->get();
}

template <typename E>
E enum_at(const toml::table& table, std::string_view key, std::span<const EnumName<E>> names, E fallback) {
  return enum_from_name(names, string_at(table, key)).value_or(fallback);
}

const toml::table& table_at(const toml::table& table, std::string_view key) {
  static const toml::table empty;
  const auto* sub = table.get_as<toml::table>(key);
  return sub == nullptr ? empty : *sub;
}

double capacity_bytes(const toml::table& level) {
  const std::pair<const char*, double> units[] = {{"capacity_bytes", 1},       {"capacity_kib", 1024.0},
                                                  {"capacity_mib", 1048576.0}, {"capacity_gib", 1073741824.0},
                                                  {"capacity_kb", 1e3},        {"capacity_mb", 1e6},
                                                  {"capacity_gb", 1e9}};
  for (const auto& [key, scale] : units)
    if (level.contains(key)) return number_at(level, key) * scale;
  XPUSIM_ASSERT(false && "schema guarantees one capacity key");
  return 0;
}

void convert_compute(const toml::table& table, const std::string& file, ChipSpec& chip) {
  Compute& compute = chip.compute;
  compute.unit_name = string_at(table, "unit_name");
  compute.units = optional_int(table, "units").value_or(0);
  compute.simd_width_bits = optional_int(table, "simd_width_bits");
  compute.fma_pipes = optional_int(table, "fma_pipes");
  compute.simd_pipes = optional_int(table, "simd_pipes");
  compute.matrix_engines_per_unit = optional_int(table, "matrix_engines_per_unit");
  compute.tile_m = optional_int(table, "tile_m");
  compute.tile_n = optional_int(table, "tile_n");
  compute.tile_k = optional_int(table, "tile_k");
  compute.vector_lanes = optional_int(table, "vector_lanes");
  const int tile_keys = compute.tile_m.has_value() + compute.tile_n.has_value() + compute.tile_k.has_value();
  if (tile_keys != 0 && tile_keys != 3)
    fail("{}: [compute] gives {} of tile_m, tile_n, tile_k: give all three or none",
         node_location(table, file), tile_keys);
  const toml::table& peaks = table_at(table, "peak_tflops");
  for (const auto& p : precision_table())
    compute.peak_tflops[static_cast<int>(p.precision)] = optional_number(peaks, p.name);
  if (peaks.empty())
    fail("{}: [compute.peak_tflops] lists no precision; give at least one (bf16, int8, ...)",
         node_location(table, file));
}

void convert_memory(const toml::table& root, const std::string& file, ChipSpec& chip) {
  const auto* levels = root.get_as<toml::array>("memory");
  if (levels == nullptr) return;
  for (size_t i = 0; i < levels->size(); ++i) {
    const toml::table& table = *(*levels)[i].as_table();
    MemoryLevel level;
    level.name = string_at(table, "name");
    level.kind = enum_at(table, "kind", memory_kind_names(), MemoryKind::DRAM);
    level.technology = string_at(table, "technology");
    level.capacity_bytes = capacity_bytes(table);
    const std::optional<int> shared_by = optional_int(table, "shared_by_units");
    if (shared_by) {
      if (*shared_by > chip.compute.units)
        fail("{}: memory[{}] '{}': shared_by_units = {} exceeds compute.units = {}",
             node_location(table, file), i, level.name, *shared_by, chip.compute.units);
      level.instances = (chip.compute.units + *shared_by - 1) / *shared_by;
    }
    if (const auto per_unit = optional_number(table, "bytes_per_clock_per_unit")) {
      if (chip.compute.units == 0 || chip.clock_mhz <= 0)
        fail("{}: memory[{}] '{}': bytes_per_clock_per_unit needs compute.units and clock_mhz",
             node_location(table, file), i, level.name);
      level.bandwidth_gbps = *per_unit * chip.compute.units * chip.clock_mhz * 1e6 / 1e9;
    } else {
      level.bandwidth_gbps = number_at(table, "bandwidth_gbps");
    }
    level.latency_ns = optional_number(table, "latency_ns");
    level.energy_pj_per_byte = optional_number(table, "energy_pj_per_byte");
    for (const auto& earlier : chip.memory)
      if (earlier.name == level.name)
        fail("{}: memory[{}]: level name '{}' is used twice", node_location(table, file), i, level.name);
    // Per instance, not in total: a CPU's private L2s can add up to more than its shared L3.
    if (!chip.memory.empty() && level.capacity_bytes <= chip.memory.back().capacity_bytes)
      fail(
          "{}: memory[{}] '{}': levels must be ordered innermost first by capacity per instance, but {} B is "
          "not larger than the previous level '{}' ({} B)",
          node_location(table, file), i, level.name, level.capacity_bytes, chip.memory.back().name,
          chip.memory.back().capacity_bytes);
    chip.memory.push_back(std::move(level));
  }
}

void convert_system(const toml::table& root, const std::string& file, ChipSpec& chip) {
  const toml::table& table = table_at(root, "system");
  System& system = chip.system;
  if (const toml::node* chips = table.get("chips_per_system")) {
    if (chips->is_string())
      system.auto_size = true;
    else
      system.chips_per_system = static_cast<int>(chips->as_integer()->get());
  }
  system.max_chips = optional_int(table, "max_chips");
  system.chips_per_node = optional_int(table, "chips_per_node");
  system.partition = enum_at(table, "partition", partition_names(), Partition::AUTO);
  system.layer_sync_us = optional_number(table, "layer_sync_us");
  if ((system.auto_size || system.chips_per_system > 1) && !chip.interconnect)
    fail("{}: [system] has more than one chip but the file has no [interconnect] table",
         node_location(table, file));
  if (system.max_chips && !system.auto_size)
    fail("{}: system.max_chips is only meaningful with chips_per_system = \"auto\"",
         node_location(table, file));
}

}  // namespace

ChipSpec convert_chip_table(const toml::table& root, const std::string& file) {
  ChipSpec chip;
  chip.schema_version = optional_int(root, "schema_version").value_or(0);
  chip.name = string_at(root, "name");
  chip.description = string_at(root, "description");
  chip.family = family_from_name(string_at(root, "family")).value_or(Family::CPU);
  chip.source_path = file;
  chip.detected = root.get_as<bool>("detect") != nullptr && root.get_as<bool>("detect")->get();
  if (root.contains("detect") && chip.family != Family::CPU)
    fail("{}: key 'detect' is only allowed for family cpu (this chip is '{}')",
         node_location(*root.get("detect"), file), family_name(chip.family));
  chip.clock_mhz = optional_number(root, "clock_mhz").value_or(0);
  if (chip.family == Family::UE) return chip;  // every other key belongs to the engine simulator
  convert_compute(table_at(root, "compute"), file, chip);
  convert_memory(root, file, chip);

  if (const auto* links = root.get_as<toml::table>("interconnect")) {
    Interconnect net;
    net.name = string_at(*links, "name");
    net.links = optional_int(*links, "links").value_or(0);
    net.link_bandwidth_gbps = number_at(*links, "link_bandwidth_gbps");
    net.latency_us = number_at(*links, "latency_us");
    net.topology = enum_at(*links, "topology", topology_names(), Topology::POINT_TO_POINT);
    net.energy_pj_per_bit = optional_number(*links, "energy_pj_per_bit");
    chip.interconnect = net;
  }
  const toml::table& power = table_at(root, "power");
  chip.power.idle_w = optional_number(power, "idle_w");
  chip.power.tdp_w = optional_number(power, "tdp_w");
  if (chip.power.idle_w && chip.power.tdp_w && *chip.power.idle_w > *chip.power.tdp_w)
    fail("{}: power.idle_w = {} exceeds power.tdp_w = {}", node_location(power, file), *chip.power.idle_w,
         *chip.power.tdp_w);
  chip.cost.price_usd = optional_number(table_at(root, "cost"), "price_usd");
  const toml::table& macs = table_at(table_at(root, "energy"), "pj_per_mac");
  for (const auto& p : precision_table())
    chip.energy_pj_per_mac[static_cast<int>(p.precision)] = optional_number(macs, p.name);
  convert_system(root, file, chip);

  const toml::table& efficiency = table_at(root, "efficiency");
  chip.efficiency.gemm_fraction = optional_number(efficiency, "gemm_fraction").value_or(1.0);
  chip.efficiency.memory_bw_fraction = optional_number(efficiency, "memory_bw_fraction").value_or(1.0);
  chip.efficiency.launch_overhead_us = optional_number(efficiency, "launch_overhead_us").value_or(0.0);

  return chip;
}

}  // namespace xpusim::chips::detail
