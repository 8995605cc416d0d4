// compiler::compile_step: lowers one forward step of a model (any mix of prefill chunks and decode tokens
// over several sequences) into one engine program over the DRAM plan (memory_plan.h). The program is built
// from the model's step graph (step_graph.h: graph/builder.h's graph, dead ops removed) fused by the shared
// fusion pass (graph/passes/fuse.h), one lowering per group kind: linears with their norm prologue
// (weights streamed through double-buffered SRAM strips, chunks of token rows reuse each strip) and their
// epilogues (bias and activation in the mm, gating, per-head norms, RoPE and the K/V store on the fresh tile,
// post-norm and residual add on whole rows); ATTENTION as flash attention per kv head with the whole GQA
// group as rows of one tile (K/V read once per group), online softmax in SRAM and causal / sliding-window
// masks made from two constant bands; the embedding gather (lower_embedding.cpp); MoE layers
// (lower_moe.cpp); the LM head streaming the vocabulary in strips with an on-chip argmax per strip and over
// the strips. No model family is named here: what a layer does is the graph's. With an EngineShard the
// program is one engine's part of a step split over several engines (tensor_parallel.h). Non-goals: generic
// programs for multi-sequence steps (compile_step specialises those to the step shape; compile_generic_step
// serves one sequence at any position), run-time per-expert token counts (MoE steps of several tokens are
// compiled for a balanced routing, lower_moe.cpp).
// HOWTO lower a new graph op: make the fusion pass place it (graph/passes/fuse.h) and lower it in
// GraphLowering (lower_step.cpp) — as a tile epilogue, or as a group of its own in a lower_<kind>.cpp file —
// and give it its policy kernel in policy_executor.cpp.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/emitter.h"
#include "compiler/memory_plan.h"
#include "compiler/tensor_parallel.h"
#include "engine/chip_config.h"

namespace xpusim::compiler {

struct SequenceStep {
  int64_t new_tokens = 1;
  int64_t context = 0;  // tokens already in this sequence's KV cache
};

struct StepRequest {
  std::vector<SequenceStep> sequences;  // sequence i uses KV slot i of the plan
};

// Token rows of the step: sequence i's tokens are rows row0[i] .. row0[i] + new_tokens - 1 of plan.x.
std::vector<int64_t> step_row_offsets(const StepRequest& step);

// Throws xpusim::Error naming the layer and the limit when the step cannot be lowered for this chip.
// `shard`: this engine's part of a step split over several engines (tensor_parallel.h).
CompiledProgram compile_step(const DramPlan& plan, const engine::ChipConfig& chip, const StepRequest& step,
                             const EngineShard& shard = {});

// A generic program for `rows` token rows of sequence 0 at any position: the position of the first row and
// the number of real rows (the rest are padding whose K/V land past the sequence end, overwritten later) are
// read from run-time registers the host sets before each run (runtime_registers.h). The plan needs KV slack
// of `rows` beyond the longest sequence.
CompiledProgram compile_generic_step(const DramPlan& plan, const engine::ChipConfig& chip, int64_t rows,
                                     const EngineShard& shard = {});

// Where the LM head leaves its results (for runners): per sequence r, logits row r at plan.logits (bf16,
// vocab wide); argmax: the winning strip index (u32) at plan.argmax + 4 * r, and the per-strip candidate
// indices (u32, [strips][sequences]) from plan.argmax + 4 * sequences; token = strip * strip_rows + index.
struct HeadLayout {
  int64_t strip_rows = 0, strips = 0;
};
HeadLayout head_layout(const DramPlan& plan, const engine::ChipConfig& chip);

}  // namespace xpusim::compiler
