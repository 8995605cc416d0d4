// Engine chip configuration: every parameter of the simulated engine, loaded from chips/ue-*.toml and
// validated against one schema table (chip_config.cpp): unknown keys, missing keys, wrong types and
// out-of-range values fail with file:line:column, the key, the value and the allowed range.
// Units are in the key names. Non-goals: chip models of other families (src/chips).
// HOWTO add a parameter: add the member here (with its unit in the name), one row in kChipSchema, and the
// key (with a source comment) to every chips/ue-*.toml (the loader rejects files missing it).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine_numerics.h"
#include "engine/isa.h"

namespace xpusim::engine {

enum class ArrayKind : uint8_t { dot, systolic };
enum class Dataflow : uint8_t { none, weight_stationary, output_stationary };

struct ChipConfig {
  std::string source;  // file it was loaded from
  int64_t schema_version = 1;
  std::string name;
  std::string description;
  double clock_mhz = 0;
  int64_t engines = 1;
  // compute
  ArrayKind array = ArrayKind::dot;
  int64_t dot_lanes = 64;     // dot: MACs per cycle (one row of lanes per cycle)
  int64_t systolic_rows = 0;  // systolic: R x C processing elements
  int64_t systolic_cols = 0;
  Dataflow dataflow = Dataflow::none;
  int64_t vector_lanes = 64;       // elements per cycle of element-wise work
  bool shared_vector_unit = true;  // vector ops run on the matrix unit (the reference "unified" datapath)
  int64_t queue_depth = 4;         // instructions waiting per unit before the front end stalls
  // Elements per cycle of vtrans. A dot datapath without a transpose network moves one element per lane
  // pass (the reference's identity-matrix trick: one dot product per output element).
  int64_t transpose_elements_per_cycle = 64;
  // memories
  int64_t sram_kib = 1024;
  int64_t sram_banks = 2;
  int64_t softmax_contexts = 64;
  int64_t registers = 64;
  int64_t semaphores = 8;
  int64_t address_streams = 16;
  int64_t trace_entries = 8192;
  int64_t op_issue_cycles = 0;  // cycles a unit spends taking each data-op descriptor before its work starts
  // DMA and DRAM
  int64_t dma_port_bytes_per_cycle = 32;
  int64_t dram_size_mib = 2048;
  double dram_aggregate_gbps = 0;  // shared by all engines
  int64_t dram_latency_cycles = 0;
  int64_t dram_burst_bytes = 4096;
  int64_t dram_burst_overhead_cycles = 0;
  int64_t dram_max_outstanding = 16;
  // instruction fetch
  int64_t icache_window_instructions = 512;
  int64_t icache_fetch_bytes_per_cycle = 64;
  int64_t icache_refill_latency_cycles = 0;
  // control
  int64_t watchdog_cycles = 0;
  int64_t semaphore_timeout_cycles = 0;
  std::array<int64_t, kLatencyClassCount> latency_cycles{};
  NumericsPolicy numerics;
  // energy
  double energy_pj_per_mac = 0;
  double energy_pj_per_vector_element = 0;
  double energy_pj_per_sram_byte = 0;
  double energy_pj_per_dram_byte = 0;
  double static_power_mw = 0;

  int64_t latency(LatencyClass cls) const { return latency_cycles[static_cast<size_t>(cls)]; }
  int64_t sram_bytes() const { return sram_kib * 1024; }
  uint64_t dram_bytes() const { return static_cast<uint64_t>(dram_size_mib) * 1024 * 1024; }
  int64_t macs_per_cycle() const {
    return array == ArrayKind::dot ? dot_lanes : systolic_rows * systolic_cols;
  }
  double peak_flops() const {
    return 2.0 * static_cast<double>(macs_per_cycle()) * clock_mhz * 1e6 * static_cast<double>(engines);
  }
};

// Parse and validate TOML text (`source` names it in messages).
ChipConfig parse_chip(std::string_view toml_text, const std::string& source);
// Load a chip by file path, or by preset name ("ue-kintex7") from the chips/ directory.
ChipConfig load_chip(const std::string& name_or_path);
// Directories searched for presets, in order: $XPUSIM_DATA_DIR/chips (if it exists), the source tree's
// chips/.
std::vector<std::string> chips_directories();

}  // namespace xpusim::engine
