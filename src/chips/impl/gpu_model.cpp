// GPU family: a GEMM is cut into threadblock tiles (tile_m x 8 rows up to 128, 128 columns) that run on the
// SMs' tensor cores in waves; a partial last wave and padded tile edges are paid in full. Small GEMMs (fewer
// tiles than SMs, e.g. decode GEMVs) split K over SMs to fill the machine. Element-wise ops are fused into
// the neighbouring kernel (torch.compile / TensorRT style); launches are asynchronous, so a kernel costs at
// least the launch overhead (time = max(work, launch)).
#include <algorithm>
#include <cmath>

#include "chips/impl/family_model.h"

namespace xpusim::chips::impl {

FamilyHooks make_gpu_hooks(const ChipSpec& chip, Precision) {
  FamilyHooks hooks;
  const double sms = chip.compute.units;
  const double efficiency = chip.efficiency.gemm_fraction;
  const double mma_m = chip.compute.tile_m.value_or(16);
  const double mma_n = chip.compute.tile_n.value_or(8);
  const double mma_k = chip.compute.tile_k.value_or(16);
  if (!chip.compute.tile_m) hooks.notes.push_back("no compute.tile_m/n/k: assumed the m16n8k16 MMA tile");
  // Warp tile 64 x 64 (4 x 8 MMA tiles): the register block that bounds reuse of shared memory.
  hooks.register_rows = 4 * mma_m;
  hooks.register_cols = 8 * mma_n;
  hooks.gemm_seconds = [sms, efficiency, mma_m, mma_k](const Gemm& g, double peak) {
    // Threadblock tile: the smallest of 1..8 MMA tiles of rows that covers m, 128 columns.
    double tile_m = mma_m;
    while (tile_m < g.m && tile_m < 8 * mma_m) tile_m *= 2;
    const double tile_n = 128;
    const double tiles = g.batch * std::ceil(g.m / tile_m - 1e-9) * std::ceil(g.n / tile_n - 1e-9);
    double split_k = 1;
    if (tiles < sms) split_k = std::max(1.0, std::min(std::floor(sms / tiles), std::ceil(g.k / 256)));
    const double k_per_split = round_up(g.k / split_k, mma_k);
    const double per_tile_flops = 2 * tile_m * tile_n * k_per_split;
    return wave_rounds(tiles * split_k, sms) * per_tile_flops / (peak / sms * efficiency);
  };
  const auto fp32 = chip.peak_flops(Precision::FP32);
  hooks.vector_flops_per_s = fp32 ? *fp32 : chip.peak_flops(Precision::BF16).value_or(1e13) / 16;
  if (!fp32) hooks.notes.push_back("no fp32 peak: CUDA-core work assumed at 1/16 of the tensor bf16 peak");
  // 64 INT32 lanes per SM since Volta (NVIDIA Volta/Ampere/Hopper whitepapers); Hopper doubled only the FP32
  // lanes, so integer unpacking and int->float conversion run at units x 64 x clock.
  hooks.integer_ops_per_s =
      chip.clock_mhz > 0 ? sms * 64 * chip.clock_mhz * 1e6 : hooks.vector_flops_per_s / 2;
  hooks.fuses_elementwise = true;
  hooks.async_launch = true;
  return hooks;
}

}  // namespace xpusim::chips::impl
