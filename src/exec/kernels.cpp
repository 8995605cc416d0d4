#include "exec/kernels.h"
#include "core/enum_table.h"

#include <array>

#include "core/error.h"

namespace xpusim::exec {
namespace {

using graph::OpKind;

constexpr std::array<std::pair<OpKind, Kernel>, static_cast<size_t>(OpKind::COUNT)> kKernels = {{
    {OpKind::EMBED_ROWS, run_embed_rows},
    {OpKind::ADD, run_add},
    {OpKind::MUL, run_mul},
    {OpKind::SCALE, run_scale},
    {OpKind::SOFTCAP, run_softcap},
    {OpKind::GELU_TANH, run_gelu_tanh},
    {OpKind::SILU, run_silu},
    {OpKind::LAYER_NORM, run_layer_norm},
    {OpKind::RMS_NORM, run_rms_norm},
    {OpKind::LINEAR, run_linear},
    {OpKind::ROPE, run_rope},
    {OpKind::KV_STORE, run_kv_store},
    {OpKind::ATTENTION, run_attention},
    {OpKind::SLICE_ROWS, run_slice_rows},
    {OpKind::RESHAPE, run_reshape},
    {OpKind::MOE, run_moe},
}};

static_assert(rows_in_enum_order(kKernels, [](const auto& row) { return row.first; }),
              "kKernels rows must follow the OpKind enum order");

}  // namespace

Kernel kernel_for(OpKind kind) {
  XPUSIM_ASSERT(kind < OpKind::COUNT);
  return kKernels[static_cast<size_t>(kind)].second;
}

Kernel reference_kernel_for(OpKind kind) {
  if (kind == OpKind::LINEAR) return run_linear_reference;
  if (kind == OpKind::ATTENTION) return run_attention_reference;
  return kernel_for(kind);
}

}  // namespace xpusim::exec
