// chips::ChipSpec: the plain description of one chip (or one chip of a multi-chip system), as loaded from
// chips/<name>.toml (see loader.h) and validated against the schema (schema.h). This is what the per-family
// performance and energy models read; no toml type leaks out except the raw engine keys of family "ue",
// which the engine code validates itself.
// Non-goals: no timing or energy arithmetic here beyond unit conversions (that is the models' job).
// HOWTO add a precision: one row in kPrecisionTable (chip_spec.cpp) and one enum value here; the schema rows
// (compute.peak_tflops.<p>, energy.pj_per_mac.<p>), docs/chips.md and the tests follow from the table.
// HOWTO add a family: one enum value + one row in kFamilyTable, a preset chips/<family>-*.toml, and (later)
// its model under src/chips/impl/; the completeness test fails until a preset exists.
#pragma once

#include <toml++/toml.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/enum_table.h"

namespace xpusim::chips {

enum class Family { CPU, GPU, TPU, NPU, LPU, UE };

struct FamilyInfo {
  Family family;
  std::string_view name;  // stable string used in chip files ("gpu")
  std::string_view doc;   // one line: what the compute units and memory levels mean for this family
};
std::span<const FamilyInfo> family_table();
std::string_view family_name(Family family);
std::optional<Family> family_from_name(std::string_view name);

// Arithmetic precisions a chip advertises peak rates and MAC energies for. Integer precisions count
// operations (TOPS), floating-point ones FLOPs; one MAC = 2 operations for all of them.
enum class Precision { FP32, TF32, BF16, FP16, FP8, INT8, INT4, FP4 };
inline constexpr int kPrecisionCount = 8;

struct PrecisionInfo {
  Precision precision;
  std::string_view name;  // stable key in chip files (compute.peak_tflops.<name>)
  int bits;               // operand width, used only for display and sanity ordering
};
std::span<const PrecisionInfo> precision_table();
std::string_view precision_name(Precision precision);
std::optional<Precision> precision_from_name(std::string_view name);

// Small enums read from chip files: each has one name table (chip_spec.cpp) used by the loader, the schema
// docs and display, so a value cannot be added in one place and forgotten in another.
enum class MemoryKind { CACHE, SRAM, DRAM };  // hardware-managed cache, software-managed scratchpad, off-chip
std::span<const EnumName<MemoryKind>> memory_kind_names();

struct MemoryLevel {
  std::string name;  // "l2", "hbm", "vmem"
  MemoryKind kind = MemoryKind::DRAM;
  std::string technology;     // free text ("HBM3", "LPDDR5X-8533"); may be empty
  double capacity_bytes = 0;  // per instance
  int instances = 1;          // compute.units / shared_by_units (1 for chip-wide levels)
  double bandwidth_gbps = 0;  // aggregate over all instances, GB/s (1e9 B/s)
  std::optional<double> latency_ns;
  std::optional<double> energy_pj_per_byte;
  double total_capacity_bytes() const { return capacity_bytes * instances; }
};

enum class Topology { POINT_TO_POINT, RING, SWITCH, MESH, TORUS2D, TORUS3D, DRAGONFLY };
std::span<const EnumName<Topology>> topology_names();

struct Interconnect {
  std::string name;  // "NVLink4"
  int links = 0;
  double link_bandwidth_gbps = 0;  // per link, per direction
  double latency_us = 0;
  Topology topology = Topology::POINT_TO_POINT;
  std::optional<double> energy_pj_per_bit;
};

enum class Partition { TENSOR, PIPELINE, AUTO };
std::span<const EnumName<Partition>> partition_names();

// name_of(memory_kind_names(), MemoryKind::SRAM) == "sram"
template <typename E>
std::string_view name_of(std::span<const EnumName<E>> names, E value) {
  return enum_name(names, value);
}

struct System {
  int chips_per_system = 1;  // meaningless when auto_size
  bool auto_size = false;    // LPU: the model sizes the system so weights + KV fit in on-chip SRAM
  std::optional<int> max_chips;
  std::optional<int> chips_per_node;
  Partition partition = Partition::AUTO;
  // Statically scheduled multi-chip systems (lpu): the shortest time one decoder layer of a step can take,
  // its synchronisation across the chips that hold it included (docs/chips.md, "Per-layer synchronisation").
  std::optional<double> layer_sync_us;
};

struct Compute {
  std::string unit_name;  // what one unit is: "core", "SM", "TensorCore", "NCE", "superlane"
  int units = 0;
  std::optional<int> simd_width_bits;          // CPU vector width
  std::optional<int> fma_pipes;                // CPU FMA pipes per core
  std::optional<int> simd_pipes;               // CPU SIMD instructions issued per cycle per core
  std::optional<int> matrix_engines_per_unit;  // AMX units per core, tensor cores per SM, MXUs per TensorCore
  std::optional<int> tile_m, tile_n, tile_k;   // native matmul tile of one matrix engine
  std::optional<int> vector_lanes;             // per chip (TPU VPU, LPU vector ALUs)
  std::array<std::optional<double>, kPrecisionCount> peak_tflops{};  // indexed by Precision
};

struct Efficiency {
  double gemm_fraction = 1;  // achieved fraction of peak on large GEMMs
  double memory_bw_fraction =
      1;  // achieved fraction of the outermost level's bandwidth when streaming weights
  double launch_overhead_us = 0;  // fixed cost per kernel / dispatched op
};

struct Power {
  std::optional<double> idle_w;
  std::optional<double> tdp_w;
};

struct Cost {
  std::optional<double> price_usd;  // one chip; sweeps amortize it into a cost per token (docs/sweep.md)
};

struct ChipSpec {
  int schema_version = 0;
  std::string name, description, source_path;  // source_path: the file it was loaded from
  std::vector<std::string> extends_chain;      // base presets, nearest first
  Family family = Family::CPU;
  bool detected = false;  // cpu-host: values filled in from this machine
  double clock_mhz = 0;
  Compute compute;
  std::vector<MemoryLevel> memory;  // innermost (smallest) first; the last one holds the weights
  std::optional<Interconnect> interconnect;
  Power power;
  Cost cost;
  std::array<std::optional<double>, kPrecisionCount> energy_pj_per_mac{};
  System system;
  Efficiency efficiency;
  // Family "ue" only: every key of the file except the common ones (schema_version, name, family,
  // description, extends, clock_mhz), with source positions; src/engine validates them against its own schema
  // (it may equally re-parse source_path).
  toml::table engine;

  // Peak rate in FLOP/s (or op/s for integer precisions); nullopt when the chip does not list it.
  std::optional<double> peak_flops(Precision precision) const;
  std::optional<double> pj_per_mac(Precision precision) const;
  const MemoryLevel* find_level(std::string_view level_name) const;  // nullptr when absent
  const MemoryLevel& level(std::string_view level_name) const;       // xpusim::Error when absent
  const MemoryLevel* outermost_level() const;  // nullptr only for ue chips without memory levels
};

}  // namespace xpusim::chips
