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
  FamilyHooks hooks = systolic_family_hooks(systolic_array_of(
      chip, {.engines = 1, .tile_n = 320, .tile_k = 320, .row_multiple = 1, .install_rows = 0}));
  set_vector_rate(hooks, chip, 1.0, Precision::FP16, "vector units");
  // The static schedule moves partial sums straight to the chips that need them (Groq's software-scheduled
  // Dragonfly [S23]; SambaNova's peer-to-peer RDU links [S31]).
  hooks.direct_collectives = true;
  return hooks;
}

}  // namespace xpusim::chips::impl
