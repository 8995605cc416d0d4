// compiler::DramPlan: where everything a compiled model needs lives in the engine's DRAM — weights in their
// engine format (linear weights packed in the chosen ue-* / block format with separate scale arrays, norm
// weights and biases in bf16; a (1+w) norm's offset folded into the stored norm weight), RoPE cos/sin tables,
// the attention mask bands, the KV cache (per sequence, per layer, per kv head: K rows then V rows of
// [capacity, head_dim] bf16, so a block of keys is one contiguous DMA), activations and scratch.
// Non-goals: SRAM (the lowering plans SRAM per op), filling values (compiler/weight_image.h).
// The weights are those of the model's step graph (step_graph.h), stored as graph/passes/quantize.h says.
// HOWTO add a weight kind: nothing here when the graph reads it; a new storage class is a WeightStorage value
// of the quantize pass and its case in plan_with_window().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/chip_config.h"
#include "engine/isa.h"
#include "model/config.h"

namespace xpusim::compiler {

inline constexpr uint64_t kDramAlign = 64;
// Attention mask bands: rows = query rows of one tile, width = kMaskWidth; see lower_attention.cpp.
inline constexpr int64_t kAttnBlock = 64;
inline constexpr int64_t kMaskRows = 64;
inline constexpr int64_t kMaskWidth = 3 * kAttnBlock;

struct WeightSlot {
  std::string name;
  uint64_t codes = 0;   // DRAM address of the codes (bf16 rows for bf16)
  uint64_t scales = 0;  // DRAM address of the scale array (packed formats)
  int64_t rows = 0, cols = 0;
  engine::WeightFormat format = engine::WeightFormat::bf16;
  uint64_t code_row_bytes = 0, scale_row_bytes = 0, bytes = 0;
  bool plus_one = false;  // norm weight stored as bf16(1 + w)
};

// Sequences and token counts the activation and KV regions are sized for.
struct PlanShape {
  int64_t max_tokens = 1;   // tokens in one step, all sequences together
  int64_t sequences = 1;    // sequences with a KV cache
  int64_t kv_capacity = 1;  // KV rows per sequence
  // Timing-only plans may hold weights beyond the 4 GiB that program operands reach (and, with
  // ignore_capacity, beyond the chip's DRAM): the read-only weight slots then wrap around inside the DRAM
  // the rest leaves free (DramPlan::weights_aliased). Timing never depends on which bytes a weight read
  // returns and reads never conflict with reads, so the cycles are exactly those of a chip whose DRAM holds
  // and reaches everything; functional runs cannot use such a plan.
  bool timing_only = false;
  bool ignore_capacity = false;  // timing-only: cost models too big for the chip's DRAM (run --timing-only)
};

struct DramPlan {
  model::ModelConfig config;
  engine::WeightFormat format = engine::WeightFormat::bf16;
  PlanShape shape;
  std::map<std::string, WeightSlot> weights;
  uint64_t weight_bytes = 0;
  std::string lm_head;  // "output.weight" or "token_embd.weight" (tied)
  // RoPE tables [kv_capacity, head_dim / 2] bf16: cos then sin; local = Gemma's sliding-window base.
  uint64_t rope_cos = 0, rope_sin = 0, rope_cos_local = 0, rope_sin_local = 0;
  uint64_t mask_upper = 0, mask_lower = 0;  // [kMaskRows, kMaskWidth] bf16 bands
  uint64_t kv_base = 0, kv_bytes_per_sequence = 0;
  // Activations (bf16, row-major, max_tokens rows): residual x, q, attention output, MLP hidden, logits
  // (one row per sequence), argmax candidates.
  uint64_t x = 0, q = 0, attn = 0, hidden = 0, logits = 0, argmax = 0;
  // Multi-engine steps: raw [max_tokens, hidden] linear outputs before a post-norm (tensor_parallel.h).
  uint64_t tp_scratch = 0;
  // Per step: token ids (u32, one per token row) the host writes before the run; the program gathers the
  // embedding rows on chip (lower_embedding.cpp).
  uint64_t tokens = 0;
  // MoE layers (lower_moe.cpp): normalised MLP input [max_tokens, hidden], routed expert ids [max_tokens, k]
  // u32, routing weights [k, max_tokens] bf16 (slot-major), and the weighted expert outputs
  // [k * max_tokens, hidden] (row slot * max_tokens + token).
  uint64_t moe_in = 0, moe_ids = 0, moe_probs = 0, moe_out = 0;
  bool weights_aliased = false;  // PlanShape::timing_only and the weights lie beyond what operands reach
  uint64_t end = 0;

  const WeightSlot& weight(const std::string& name) const;  // xpusim::Error naming the tensor if absent
  bool has(const std::string& name) const { return weights.count(name) != 0; }
  uint64_t kv_k(int64_t sequence, int64_t layer, int64_t kv_head) const;
  uint64_t kv_v(int64_t sequence, int64_t layer, int64_t kv_head) const;
};

// Throws xpusim::Error naming the tensor and the limit when a weight cannot be stored in `format` (k not a
// multiple of the block) or the plan does not fit the chip's DRAM.
DramPlan plan_dram(const model::ModelConfig& config, engine::WeightFormat format, const PlanShape& shape,
                   const engine::ChipConfig& chip);

// "bf16", "ue-if4", ... -> format; empty = bf16. xpusim::Error listing the engine formats otherwise.
engine::WeightFormat engine_format_from_name(const std::string& precision);

int64_t round_up(int64_t value, int64_t multiple);

}  // namespace xpusim::compiler
