// LPU family (Groq): weights live in SRAM only, spread over as many chips as needed (the plan sizes the
// system). Each chip's MXM planes are weight-stationary tile_n x tile_k arrays fed one activation vector per
// cycle (tile_m = 1); installing weights is limited by SRAM bandwidth (charged at the sram level), not by a
// fixed install time. The compiler's static schedule fuses element-wise work into the streams and has no
// per-op dispatch; layers are pipelined over the chips with the link latency per stage boundary, split
// tensor-parallel inside a stage when its layers do not fit one chip (FamilyModel::split_pipeline_stages),
// and a decoder layer never takes less than the system's per-layer synchronisation time
// (system.layer_sync_us).
#include "chips/impl/family_model.h"

namespace xpusim::chips::impl {

FamilyHooks make_lpu_hooks(const ChipSpec& chip, Precision) {
  FamilyHooks hooks;
  SystolicArray mxm;
  mxm.engines = chip.compute.units * chip.compute.matrix_engines_per_unit.value_or(1);
  mxm.tile_n = chip.compute.tile_n.value_or(320);
  mxm.tile_k = chip.compute.tile_k.value_or(320);
  mxm.row_multiple = chip.compute.tile_m.value_or(1);
  mxm.install_rows = 0;
  mxm.efficiency = chip.efficiency.gemm_fraction;
  mxm.clock_hz = chip.clock_mhz * 1e6;
  hooks.gemm_seconds = [mxm](const Gemm& g, double peak) { return systolic_seconds(g, peak, mxm); };
  hooks.register_rows = 1e12;
  hooks.register_cols = mxm.tile_n;
  if (chip.compute.vector_lanes && chip.clock_mhz > 0) {
    hooks.vector_flops_per_s = *chip.compute.vector_lanes * chip.clock_mhz * 1e6;
  } else {
    hooks.vector_flops_per_s = chip.peak_flops(Precision::FP16).value_or(1e14) / 16;
    hooks.notes.push_back("no vector_lanes/clock: vector units assumed at 1/16 of the fp16 peak");
  }
  hooks.fuses_elementwise = true;
  hooks.async_launch = true;
  // The static schedule moves partial sums straight to the chips that need them (Groq's software-scheduled
  // Dragonfly [S23]; SambaNova's peer-to-peer RDU links [S31]).
  hooks.direct_collectives = true;
  return hooks;
}

}  // namespace xpusim::chips::impl
