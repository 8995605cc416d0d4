// CPU family: GEMMs on the cores' SIMD FMA pipes (the host executor's fp32 path), on a per-core matrix
// engine (AMX tiles) when the chip has one for the compute precision, or, under a stack with integer
// dot-product kernels (llama.cpp's ggml), as 32-weight blocks dotted against 8-bit activations. FMA path:
// work is split over cores in register blocks (rows x vector columns); a core's last partial block and the
// last partial round over cores are paid in full (tile and wave quantization). Dot path: the kernels are
// bound by instruction issue, so a block costs the stack's SIMD instructions per block and row over the
// core's SIMD issue width (docs/chips.md, "CPU dot-product kernels"). Dispatch is synchronous: the per-op
// fork/join adds.
#include <algorithm>
#include <cmath>

#include "chips/impl/family_model.h"

namespace xpusim::chips::impl {
namespace {

constexpr double kBlockWeights = 32;  // ggml quantization block (Q4_0, Q8_0; K-quant sub-blocks)
constexpr double kGemmRows = 4;       // ggml runs its GEMM kernels on tiles of 4 activation rows, else GEMV

struct FmaPath {
  double rows = 4, cols = 16;
  std::function<double(const Gemm&, double)> seconds;
};

FmaPath fma_path(const ChipSpec& chip, Precision precision, std::vector<std::string>& notes) {
  FmaPath path;
  const double cores = chip.compute.units;
  const double efficiency = chip.efficiency.gemm_fraction;
  const bool amx =
      chip.compute.matrix_engines_per_unit && chip.compute.tile_m && precision != Precision::FP32;
  if (amx) {
    path.rows = *chip.compute.tile_m;
    path.cols = chip.compute.tile_n.value_or(16);
    notes.push_back(fmt::format("matmuls on one {}x{} matrix-engine tile per core", path.rows, path.cols));
  } else {
    const int simd_bits = chip.compute.simd_width_bits.value_or(256);
    if (!chip.compute.simd_width_bits) notes.push_back("no compute.simd_width_bits: assumed 256-bit SIMD");
    const double lanes = simd_bits / 32.0;
    // A register block of 4 rows x (FMA pipes x lanes) fp32 accumulators keeps every FMA pipe busy.
    path.rows = 4;
    path.cols = chip.compute.fma_pipes.value_or(2) * lanes;
  }
  const double rows = path.rows, cols = path.cols;
  path.seconds = [cores, efficiency, rows, cols](const Gemm& g, double peak) {
    // Fewer rows than the block run as a narrower kernel (GEMV): no row padding below the block.
    const double block_rows = std::min(rows, g.m);
    const double padded_m = round_up(g.m, block_rows);
    const double tasks = g.batch * (padded_m / block_rows) * round_up(g.n, cols) / cols;
    const double per_task_flops = 2 * block_rows * cols * g.k;
    return wave_rounds(tasks, cores) * per_task_flops / (peak / cores * efficiency);
  };
  return path;
}

// ggml's block dot products: every 32-weight block of every output column costs `ops` SIMD instructions
// per activation row (GEMV below 4 rows, the tiled GEMM kernels from 4 rows), issued `pipes` per cycle.
// Output columns are split evenly over the cores (ggml's row chunks).
std::function<double(const Gemm&, double)> q8_dot_seconds(const ChipSpec& chip, const StackProfile& stack,
                                                          std::vector<std::string>& notes) {
  const bool neon = chip.compute.simd_width_bits.value_or(256) <= 128;
  const double gemv_ops = neon ? stack.q8_gemv_ops_neon : stack.q8_gemv_ops_x86;
  const double gemm_ops = neon ? stack.q8_gemm_ops_neon : stack.q8_gemm_ops_x86;
  double pipes = chip.compute.simd_pipes.value_or(0);
  if (pipes <= 0) {
    pipes = chip.compute.fma_pipes.value_or(2);
    notes.push_back(fmt::format("no compute.simd_pipes: SIMD issue width assumed = {} FMA pipes", pipes));
  }
  const double cores = chip.compute.units;
  const double clock_hz = chip.clock_mhz * 1e6;
  notes.push_back(fmt::format(
      "{} {} kernels: {:g} SIMD instructions per 32-weight block and row (GEMV), {:g} (GEMM, >= 4 rows), "
      "{:g} issued per cycle per core",
      stack.name, neon ? "NEON" : "x86 AVX2/VNNI", gemv_ops, gemm_ops, pipes));
  return [=](const Gemm& g, double) {
    const double ops = g.m < kGemmRows ? gemv_ops : gemm_ops;
    const double blocks = g.n * std::ceil(g.k / kBlockWeights - 1e-9) * g.batch;
    const double columns_per_core = std::ceil(g.n * g.batch / cores - 1e-9) / (g.n * g.batch);
    return blocks * columns_per_core * g.m * ops / (pipes * clock_hz);
  };
}

}  // namespace

FamilyHooks make_cpu_hooks(const ChipSpec& chip, Precision precision, const StackProfile* q8_dot) {
  FamilyHooks hooks;
  if (q8_dot) {
    // Attention (f16/f32 KV) stays on the fp32 FMA path; its peak is passed in by the attention cost.
    FmaPath fp32 = fma_path(chip, Precision::FP32, hooks.notes);
    const double fp32_peak = chip.peak_flops(Precision::FP32).value_or(1e11);
    hooks.register_rows = fp32.rows;
    hooks.register_cols = fp32.cols;
    hooks.gemm_seconds = q8_dot_seconds(chip, *q8_dot, hooks.notes);
    hooks.attention_gemm_seconds = [fma = fp32.seconds, fp32_peak](const Gemm& g, double) {
      return fma(g, fp32_peak);
    };
  } else {
    FmaPath path = fma_path(chip, precision, hooks.notes);
    hooks.register_rows = path.rows;
    hooks.register_cols = path.cols;
    hooks.gemm_seconds = path.seconds;
  }
  // Element-wise work: one fp32 operation per lane per cycle on the FMA pipes (half the FMA peak).
  const auto fp32 = chip.peak_flops(Precision::FP32);
  hooks.vector_flops_per_s = fp32 ? *fp32 / 2 : 1e11;
  if (!fp32) hooks.notes.push_back("no fp32 peak: element-wise work assumed at 100 GFLOP/s");
  hooks.fuses_elementwise = false;
  hooks.async_launch = false;
  return hooks;
}

}  // namespace xpusim::chips::impl
