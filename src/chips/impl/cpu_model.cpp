// CPU family: GEMMs on the cores' SIMD FMA pipes (the host executor's fp32 path) or on a per-core matrix
// engine (AMX tiles) when the chip has one for the compute precision. Work is split over cores in register
// blocks (rows x vector columns); a core's last partial block and the last partial round over cores are
// paid in full (tile and wave quantization). Dispatch is synchronous: the per-op fork/join adds.
#include <algorithm>

#include "chips/impl/family_model.h"

namespace xpusim::chips::impl {

FamilyHooks make_cpu_hooks(const ChipSpec& chip, Precision precision) {
  FamilyHooks hooks;
  const double cores = chip.compute.units;
  const double efficiency = chip.efficiency.gemm_fraction;
  const bool amx =
      chip.compute.matrix_engines_per_unit && chip.compute.tile_m && precision != Precision::FP32;
  double rows = 0, cols = 0;
  if (amx) {
    rows = *chip.compute.tile_m;
    cols = chip.compute.tile_n.value_or(16);
    hooks.notes.push_back(fmt::format("matmuls on one {}x{} matrix-engine tile per core", rows, cols));
  } else {
    const int simd_bits = chip.compute.simd_width_bits.value_or(256);
    if (!chip.compute.simd_width_bits)
      hooks.notes.push_back("no compute.simd_width_bits: assumed 256-bit SIMD");
    const double lanes = simd_bits / 32.0;
    // A register block of 4 rows x (FMA pipes x lanes) fp32 accumulators keeps every FMA pipe busy.
    rows = 4;
    cols = chip.compute.fma_pipes.value_or(2) * lanes;
  }
  hooks.register_rows = rows;
  hooks.register_cols = cols;
  hooks.gemm_seconds = [cores, efficiency, rows, cols](const Gemm& g, double peak) {
    // Fewer rows than the block run as a narrower kernel (GEMV): no row padding below the block.
    const double block_rows = std::min(rows, g.m);
    const double padded_m = round_up(g.m, block_rows);
    const double tasks = g.batch * (padded_m / block_rows) * round_up(g.n, cols) / cols;
    const double per_task_flops = 2 * block_rows * cols * g.k;
    return wave_rounds(tasks, cores) * per_task_flops / (peak / cores * efficiency);
  };
  // Element-wise work: one fp32 operation per lane per cycle on the FMA pipes (half the FMA peak).
  const auto fp32 = chip.peak_flops(Precision::FP32);
  hooks.vector_flops_per_s = fp32 ? *fp32 / 2 : 1e11;
  if (!fp32) hooks.notes.push_back("no fp32 peak: element-wise work assumed at 100 GFLOP/s");
  hooks.fuses_elementwise = false;
  hooks.async_launch = false;
  return hooks;
}

}  // namespace xpusim::chips::impl
