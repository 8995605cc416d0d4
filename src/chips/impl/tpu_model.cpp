// TPU family: GEMMs on the MXUs (tile_n x tile_k systolic arrays, units x matrix_engines_per_unit of them),
// weight-stationary: each weight tile is installed (tile_k cycles, hidden behind streaming when m >= tile_k)
// and the activations stream through in groups of tile_m rows (the [8, 128] vreg); fill + drain once per
// GEMM. XLA fuses element-wise ops into their producers; dispatch overlaps (time = max(work, overhead)).
#include <algorithm>
#include <string>

#include "chips/impl/family_model.h"

namespace xpusim::chips::impl {

double systolic_seconds(const Gemm& g, double peak, const SystolicArray& a) {
  const double tiles = g.batch * round_up(g.n, a.tile_n) / a.tile_n * round_up(g.k, a.tile_k) / a.tile_k;
  const double rows_per_tile = std::max(round_up(g.m, a.row_multiple), a.install_rows);
  // A row step moves 2 x tile_n x tile_k FLOPs per engine at the precision's peak (lower precisions may take
  // several clocks per row); fill and drain take tile_n + tile_k clocks.
  const double seconds_per_row = 2 * a.tile_n * a.tile_k / (peak / a.engines);
  const double clock_s = a.clock_hz > 0 ? 1.0 / a.clock_hz : seconds_per_row;
  return (wave_rounds(tiles, a.engines) * rows_per_tile * seconds_per_row + (a.tile_n + a.tile_k) * clock_s) /
         a.efficiency;
}

SystolicArray systolic_array_of(const ChipSpec& chip, const SystolicArray& defaults) {
  SystolicArray array = defaults;
  array.engines = chip.compute.units * chip.compute.matrix_engines_per_unit.value_or(defaults.engines);
  array.tile_n = chip.compute.tile_n.value_or(defaults.tile_n);
  array.tile_k = chip.compute.tile_k.value_or(defaults.tile_k);
  array.row_multiple = chip.compute.tile_m.value_or(defaults.row_multiple);
  array.efficiency = chip.efficiency.gemm_fraction;
  array.clock_hz = chip.clock_mhz * 1e6;
  return array;
}

void set_vector_rate(FamilyHooks& hooks, const ChipSpec& chip, double ops_per_lane_cycle, Precision fallback,
                     const char* unit) {
  if (chip.compute.vector_lanes && chip.clock_mhz > 0) {
    hooks.vector_flops_per_s = *chip.compute.vector_lanes * ops_per_lane_cycle * chip.clock_mhz * 1e6;
    return;
  }
  hooks.vector_flops_per_s = chip.peak_flops(fallback).value_or(1e14) / 16;
  hooks.notes.push_back(std::string("no vector_lanes/clock: ") + unit + " assumed at 1/16 of the " +
                        std::string(precision_name(fallback)) + " peak");
}

// Compiler-scheduled weight-stationary systolic chips (TPU, LPU): GEMMs on `array`, a weight tile stays while
// every row streams through (the register block spans all rows), element-wise work fused into its producers
// and dispatch overlapped with work.
FamilyHooks systolic_family_hooks(const SystolicArray& array) {
  FamilyHooks hooks;
  hooks.gemm_seconds = [array](const Gemm& g, double peak) { return systolic_seconds(g, peak, array); };
  hooks.register_rows = 1e12;
  hooks.register_cols = array.tile_n;
  hooks.fuses_elementwise = true;
  hooks.async_launch = true;
  return hooks;
}

FamilyHooks make_tpu_hooks(const ChipSpec& chip, Precision) {
  SystolicArray mxu =
      systolic_array_of(chip, {.engines = 4, .tile_n = 128, .tile_k = 128, .row_multiple = 8});
  mxu.install_rows = mxu.tile_k;
  FamilyHooks hooks = systolic_family_hooks(mxu);
  if (!chip.compute.tile_n || !chip.compute.matrix_engines_per_unit)
    hooks.notes.push_back("MXU shape or count missing: assumed 4 MXUs of 128 x 128 per TensorCore");
  // VPU: vector_lanes lanes x 2 ALUs per lane per cycle (scaling book: 2 ALUs per lane-sublane [S2]).
  set_vector_rate(hooks, chip, 2.0, Precision::BF16, "VPU");
  return hooks;
}

}  // namespace xpusim::chips::impl
