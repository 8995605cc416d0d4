#include "chips/display.h"

#include <fmt/format.h>

#include <cmath>

namespace xpusim::chips {

namespace {

std::string trim_number(double value) {
  std::string text = fmt::format("{:.3g}", value);
  if (value >= 1000) text = fmt::format("{:.0f}", value);
  return text;
}

}  // namespace

std::string format_bytes(double bytes) {
  // Binary units when the size is an exact binary multiple (cache and SRAM sizes), decimal otherwise (HBM "80
  // GB").
  const char* binary[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  const char* decimal[] = {"B", "KB", "MB", "GB", "TB"};
  int binary_step = 0;
  double binary_value = bytes;
  while (binary_value >= 1024 && std::fmod(binary_value, 1024) == 0 && binary_step < 4)
    binary_value /= 1024, ++binary_step;
  int decimal_step = 0;
  double decimal_value = bytes;
  while (decimal_value >= 1000 && decimal_step < 4) decimal_value /= 1000, ++decimal_step;
  if (binary_step > 0 && binary_value < 1024)
    return fmt::format("{} {}", trim_number(binary_value), binary[binary_step]);
  return fmt::format("{} {}", trim_number(decimal_value), decimal[decimal_step]);
}

std::string format_bandwidth(double gbps) {
  if (gbps >= 1000) return fmt::format("{} TB/s", trim_number(gbps / 1000));
  return fmt::format("{} GB/s", trim_number(gbps));
}

std::string format_peak_bf16(const ChipSpec& chip) {
  if (const auto bf16 = chip.compute.peak_tflops[static_cast<int>(Precision::BF16)])
    return trim_number(*bf16);
  if (const auto fp16 = chip.compute.peak_tflops[static_cast<int>(Precision::FP16)])
    return trim_number(*fp16) + " (fp16)";
  return "-";
}

std::string format_memory_levels(const ChipSpec& chip) {
  std::string text;
  for (const MemoryLevel& level : chip.memory) {
    if (!text.empty()) text += " | ";
    text += fmt::format("{} {}{} @ {}", level.name, format_bytes(level.capacity_bytes),
                        level.instances > 1 ? fmt::format(" x{}", level.instances) : "",
                        format_bandwidth(level.bandwidth_gbps));
  }
  return text.empty() ? "-" : text;
}

nlohmann::json chip_to_json(const ChipSpec& chip) {
  nlohmann::json out;
  out["name"] = chip.name;
  out["family"] = family_name(chip.family);
  out["description"] = chip.description;
  out["source_path"] = chip.source_path;
  out["extends"] = chip.extends_chain;
  out["detected"] = chip.detected;
  out["clock_mhz"] = chip.clock_mhz > 0 ? nlohmann::json(chip.clock_mhz) : nlohmann::json(nullptr);
  out["chips_per_system"] =
      chip.system.auto_size ? nlohmann::json("auto") : nlohmann::json(chip.system.chips_per_system);
  out["partition"] = name_of(partition_names(), chip.system.partition);
  if (chip.system.layer_sync_us) out["layer_sync_us"] = *chip.system.layer_sync_us;
  nlohmann::json compute = {{"unit_name", chip.compute.unit_name}, {"units", chip.compute.units}};
  nlohmann::json peaks = nlohmann::json::object(), macs = nlohmann::json::object();
  for (const auto& p : precision_table()) {
    if (const auto value = chip.compute.peak_tflops[static_cast<int>(p.precision)])
      peaks[std::string(p.name)] = *value;
    if (const auto value = chip.energy_pj_per_mac[static_cast<int>(p.precision)])
      macs[std::string(p.name)] = *value;
  }
  compute["peak_tflops"] = peaks;
  out["compute"] = compute;
  out["energy_pj_per_mac"] = macs;
  nlohmann::json levels = nlohmann::json::array();
  for (const MemoryLevel& level : chip.memory) {
    nlohmann::json row = {{"name", level.name},
                          {"kind", name_of(memory_kind_names(), level.kind)},
                          {"capacity_bytes", level.capacity_bytes},
                          {"instances", level.instances},
                          {"bandwidth_gbps", level.bandwidth_gbps}};
    if (level.latency_ns) row["latency_ns"] = *level.latency_ns;
    if (level.energy_pj_per_byte) row["energy_pj_per_byte"] = *level.energy_pj_per_byte;
    levels.push_back(row);
  }
  out["memory"] = levels;
  nlohmann::json power = nlohmann::json::object();
  if (chip.power.idle_w) power["idle_w"] = *chip.power.idle_w;
  if (chip.power.tdp_w) power["tdp_w"] = *chip.power.tdp_w;
  out["power"] = power;
  if (chip.interconnect) {
    const Interconnect& net = *chip.interconnect;
    out["interconnect"] = {{"name", net.name},
                           {"links", net.links},
                           {"link_bandwidth_gbps", net.link_bandwidth_gbps},
                           {"latency_us", net.latency_us},
                           {"topology", name_of(topology_names(), net.topology)}};
  }
  out["efficiency"] = {{"gemm_fraction", chip.efficiency.gemm_fraction},
                       {"memory_bw_fraction", chip.efficiency.memory_bw_fraction},
                       {"launch_overhead_us", chip.efficiency.launch_overhead_us}};
  return out;
}

}  // namespace xpusim::chips
