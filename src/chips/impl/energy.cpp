// Energy per action for the family models: pJ per MAC at the compute precision, per vector FLOP, per byte of
// each memory level and per link bit. Where the chip file lacks a number the value below is assumed and the
// assumption is written into the plan's notes (never silently).
#include <cmath>

#include "chips/impl/family_model.h"

namespace xpusim::chips::impl {
namespace {

// SRAM access energy grows with array size (wire length): 7.3 pJ/B for a 256 MB SRAM [S48e], scaled by
// sqrt(size / 256 MB) as the chip files do; never below the small-SRAM 0.4 pJ/B [S48d].
double sram_pj_per_byte(double capacity_bytes) {
  return std::max(0.4, 7.3 * std::sqrt(capacity_bytes / 256e6));
}

// Off-chip DRAM when the file has no figure: HBM ~3.9 pJ/bit [S50]; LPDDR ~6 pJ/bit and DDR ~17.5 pJ/bit
// (midpoints of chips.md §9.4a).
double dram_pj_per_byte(const MemoryLevel& level) {
  const std::string& tech = level.technology;
  if (tech.find("HBM") != std::string::npos) return 31;
  if (tech.find("LPDDR") != std::string::npos) return 48;
  return 140;
}

}  // namespace

EnergyTable make_energy_table(const ChipSpec& chip, Precision precision, std::vector<std::string>& notes) {
  EnergyTable table;
  const int bits = [&] {
    for (const auto& row : precision_table())
      if (row.precision == precision) return row.bits;
    return 16;
  }();
  if (auto pj = chip.pj_per_mac(precision)) {
    table.pj_per_mac = *pj;
  } else {
    // Nearest listed precision, scaled by multiplier area ~ (bits ratio)^2.
    double best = 0;
    int best_bits = 0;
    for (const auto& row : precision_table()) {
      if (auto row_pj = chip.pj_per_mac(row.precision);
          row_pj && (best_bits == 0 || std::abs(row.bits - bits) < std::abs(best_bits - bits))) {
        best = *row_pj;
        best_bits = row.bits;
      }
    }
    if (best_bits > 0) {
      const double ratio = static_cast<double>(bits) / best_bits;
      table.pj_per_mac = best * ratio * ratio;
      notes.push_back(
          fmt::format("no energy.pj_per_mac.{}: assumed {:.3g} pJ (the {}-bit figure x (bits ratio)^2)",
                      precision_name(precision), table.pj_per_mac, best_bits));
    } else {
      table.pj_per_mac = 0.30 * (bits / 16.0) * (bits / 16.0);
      notes.push_back(
          fmt::format("no energy.pj_per_mac: assumed {:.3g} pJ per {} MAC (0.30 pJ bf16, the 7 nm "
                      "Horowitz-scaled figure of the other presets, x (bits/16)^2)",
                      table.pj_per_mac, precision_name(precision)));
    }
  }
  // A vector FLOP is half an fp32 FMA (vector units work in fp32).
  if (auto fp32 = chip.pj_per_mac(Precision::FP32)) {
    table.pj_per_vector_flop = *fp32 / 2;
  } else {
    table.pj_per_vector_flop = 0.35;
    notes.push_back("no energy.pj_per_mac.fp32: vector FLOPs assumed 0.35 pJ (half of a 0.70 pJ fp32 FMA)");
  }
  for (const auto& level : chip.memory) {
    if (level.energy_pj_per_byte) {
      table.pj_per_byte.push_back(*level.energy_pj_per_byte);
      continue;
    }
    const double pj =
        level.kind == MemoryKind::DRAM ? dram_pj_per_byte(level) : sram_pj_per_byte(level.capacity_bytes);
    table.pj_per_byte.push_back(pj);
    notes.push_back(fmt::format("no energy_pj_per_byte for {}: assumed {:.3g} pJ/B", level.name, pj));
  }
  if (chip.interconnect) {
    if (chip.interconnect->energy_pj_per_bit) {
      table.pj_per_link_bit = *chip.interconnect->energy_pj_per_bit;
    } else {
      table.pj_per_link_bit = 5.5;
      notes.push_back("no interconnect.energy_pj_per_bit: assumed 5.5 pJ/bit (long-reach SerDes [S49])");
    }
  }
  return table;
}

}  // namespace xpusim::chips::impl
