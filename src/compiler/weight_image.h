// compiler::write_model_image: fills an engine DRAM image with everything a DramPlan places there before the
// first step — linear weights converted to the plan's format (decoded to fp32 from whatever the checkpoint
// stores, rounded to bf16, then quantized by the engine's own reference quantizer, block_formats.h), norm
// weights and biases in bf16 (Gemma: bf16(1 + w)), RoPE cos/sin tables (fp32 angles like the host executor,
// rounded to bf16; llama3 / linear scaling; Gemma's local base) and the two attention mask bands.
// Also the host side of a step: embedding rows (plus learned positions, times the embedding scale) as bf16.
// Non-goals: the plan itself (memory_plan.h).
// HOWTO support a new stored format: nothing here — exec::weight_row decodes every stored dtype.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "compiler/memory_plan.h"
#include "engine/engine_numerics.h"
#include "engine/state.h"
#include "model/weights.h"

namespace xpusim::compiler {

// Throws xpusim::Error naming the tensor when a weight is missing or has the wrong shape, or when the plan's
// format cannot be produced by the engine's quantizer (ue-tq4, mxfp4, nvfp4, if4).
void write_model_image(const DramPlan& plan, const model::Weights& weights, engine::DramImage& dram);

// bf16 rows [tokens.size(), hidden] of the step input exactly as the on-chip gather makes them
// (lower_embedding.cpp): the token_embd row as the plan stores it in `format` (bf16, or quantized by the
// engine's quantizer and decoded by `dequant`), + the position row the same way (learned positions;
// vadd), times bf16(embed_scale) when it is not 1 (vmul); each step rounded to bf16 by `policy`.
std::vector<uint16_t> embed_rows(const model::ModelConfig& config, const model::Weights& weights,
                                 engine::WeightFormat format, const engine::NumericsPolicy& policy,
                                 std::span<const int32_t> tokens, int64_t first_position);

}  // namespace xpusim::compiler
