// NPU family: each unit (ANE core, NCE) is a weight-stationary MAC array. Its shape comes from tile_n/tile_k
// when the chip file gives them; else a square array of the unit's MACs per cycle (int8 peak / 2 / clock /
// units) rounded to a power of two, or 32 x 32 when the clock is unknown (said in the notes). Ops are
// dispatched one by one by the driver: the dispatch cost adds to every op (no fusion assumed).
#include <cmath>

#include "chips/impl/family_model.h"

namespace xpusim::chips::impl {

FamilyHooks make_npu_hooks(const ChipSpec& chip, Precision) {
  FamilyHooks hooks;
  SystolicArray array;
  array.engines = chip.compute.units * chip.compute.matrix_engines_per_unit.value_or(1);
  array.efficiency = chip.efficiency.gemm_fraction;
  array.clock_hz = chip.clock_mhz * 1e6;
  if (chip.compute.tile_n && chip.compute.tile_k) {
    array.tile_n = *chip.compute.tile_n;
    array.tile_k = *chip.compute.tile_k;
  } else {
    const auto int8 = chip.peak_flops(Precision::INT8);
    double side = 32;
    if (int8 && chip.clock_mhz > 0) {
      const double macs = *int8 / 2 / (chip.clock_mhz * 1e6) / array.engines;
      side = std::exp2(std::round(std::log2(std::sqrt(macs))));
      hooks.notes.push_back(
          fmt::format("MAC array per {} assumed {} x {} (~{:.0f} int8 MACs/cycle from peak and "
                      "clock)",
                      chip.compute.unit_name, side, side, macs));
    } else {
      hooks.notes.push_back(fmt::format(
          "MAC array per {} assumed 32 x 32 (array shape and clock not published)", chip.compute.unit_name));
    }
    array.tile_n = array.tile_k = side;
  }
  array.row_multiple = chip.compute.tile_m.value_or(1);
  array.install_rows = array.tile_k;
  hooks.gemm_seconds = [array](const Gemm& g, double peak) { return systolic_seconds(g, peak, array); };
  hooks.register_rows = 1e12;
  hooks.register_cols = array.tile_n;
  // Vector work (SHAVE DSPs / ANE planar engine): rates are not published; 1/16 of the fp16 peak.
  const double base =
      chip.peak_flops(Precision::FP16).value_or(chip.peak_flops(Precision::INT8).value_or(1e13) / 2);
  hooks.vector_flops_per_s = base / 16;
  hooks.notes.push_back(fmt::format("vector units assumed at 1/16 of the fp16 peak ({:.3g} GFLOP/s)",
                                    hooks.vector_flops_per_s / 1e9));
  hooks.fuses_elementwise = false;
  hooks.async_launch = false;
  return hooks;
}

}  // namespace xpusim::chips::impl
