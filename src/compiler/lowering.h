// Internal to src/compiler: the state shared by the lower_*.cpp files while one step is lowered, the SRAM
// layout (constant mask bands, a parameter area for the current op's norm weights and biases, and one
// workspace that every op tiles on its own — ordering between ops comes from the simulator's address-range
// hazards), and the per-kind lowering entry points.
// Non-goals: a public API (compiler/lower_step.h is the entry point).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "compiler/emitter.h"
#include "compiler/lower_step.h"
#include "compiler/memory_plan.h"
#include "compiler/tensor_parallel.h"
#include "graph/graph.h"

namespace xpusim::compiler {

struct SramLayout {
  uint64_t mask_upper = 0, mask_lower = 0;  // [kMaskRows, kMaskWidth] bf16
  uint64_t params = 0, params_bytes = 0;
  uint64_t workspace = 0, end = 0;
};

// Bump allocator over the workspace for one op's tiles.
class SramArena {
 public:
  SramArena(uint64_t begin, uint64_t end) : m_top(begin), m_end(end) {}
  uint64_t take(uint64_t bytes) {
    const uint64_t at = m_top;
    m_top += (bytes + 127) / 128 * 128;
    return at;
  }
  uint64_t left() const { return m_top > m_end ? 0 : m_end - m_top; }
  bool overflowed() const { return m_top > m_end; }

 private:
  uint64_t m_top, m_end;
};

struct Lowering {
  const DramPlan& plan;
  const model::ModelConfig& config;
  const engine::ChipConfig& chip;
  Emitter& emit;
  const StepRequest& step;
  std::vector<int64_t> row0;
  int64_t total_tokens = 0;
  SramLayout sram;
  int64_t strip_slot = 0;  // alternates the weight strip buffers across all linears
  int64_t kv_slot = 0;     // alternates the K/V block buffers
  bool dynamic = false;    // generic program: position and real tokens in registers (runtime_registers.h)
  EngineShard shard;       // this engine's part of a multi-engine step (compiler/tensor_parallel.h)

  int64_t max_chunk_rows() const;  // token rows one linear tile may hold (matrix-unit friendly)
};

// Weight strips: `rows` output rows of a weight (codes, then the codebook and scales) per SRAM buffer.
struct Strip {
  int64_t rows = 0;
  uint64_t codes_bytes = 0, bytes = 0;
};
Strip strip_for(const engine::ChipConfig& chip, const WeightSlot& w);
// Loads strip j (`rows` rows) of `w` into `slot`; returns the SRAM address of its scales.
uint64_t load_strip(Lowering& l, const WeightSlot& w, const Strip& s, int64_t j, int64_t rows, uint64_t slot);
// The same from weight row `first_row` on (engine shards start mid-weight).
uint64_t load_strip_rows(Lowering& l, const WeightSlot& w, const Strip& s, int64_t first_row, int64_t rows,
                         uint64_t slot);

enum class NormOp { NONE, RMS, LAYER };

struct NormRef {
  NormOp op = NormOp::NONE;
  std::string weight, bias;  // canonical names
  std::string label;         // group label ("blk.3.attn_norm")
  int64_t size = 0;
};
// The norm op `op` of `graph` (its weights, bias and label).
NormRef norm_ref(const graph::Graph& graph, const graph::Op& op);

// rows x cols bf16 at `x` normalised in place. gamma/beta: SRAM addresses of the loaded vectors.
void emit_norm(Lowering& l, NormOp op, uint64_t x, int64_t rows, int64_t cols, uint64_t gamma, uint64_t beta,
               uint64_t scratch);

// One linear of a group: C[rows, out] = act(A W^T + b) (optionally gated: act(A Wg^T) * (A W^T)), then
// `epilogue` on the C tile in SRAM, then stored to DRAM (out_dram, row stride out_stride elements) unless
// store is false.
struct LinearOut {
  std::string weight, bias, gate;
  engine::ActivationPreset act{engine::Activation::none, 0, 0};
  uint64_t out_dram = 0;
  int64_t out_stride = 0;
  bool store = true;
  std::string label;
  std::function<void(Lowering&, uint64_t c, int64_t rows, int64_t first_row, SramArena&)> epilogue;
  // Weight rows (output columns) this engine computes; row_end < 0: an even 64-row split (tensor_parallel.h).
  int64_t row_begin = 0, row_end = -1;
};

// A group of linears sharing one input: A rows from in_dram (row stride in elements), optional pre-norm on A,
// optional post-norm + residual add (residual rows read from residual_dram) applied to each output.
struct LinearGroup {
  uint64_t in_dram = 0;
  int64_t in = 0;
  NormRef pre_norm;
  NormRef post_norm;
  bool residual = false;
  uint64_t residual_dram = 0;
  int32_t layer = -1;
  std::vector<LinearOut> outs;
  // Rows of the input: [first, first + rows) of the step; gathered rows (LM head) use row_list instead.
  std::vector<int64_t> row_list;
};
void lower_linear_group(Lowering& l, const LinearGroup& group);

// One ATTENTION op of the graph: q rows from plan.q, K/V from the op's layer's caches, output to plan.attn.
void lower_attention(Lowering& l, const graph::Op& attention);

// The LM head: each sequence's last row, its norm, the vocabulary linear (weight plan.lm_head), a soft-cap.
struct HeadSpec {
  NormRef norm;
  double softcap = 0.0;  // 0: none
};
void lower_head(Lowering& l, const HeadSpec& head);

// The MLP of an MoE layer (lower_moe.cpp): its norm into plan.moe_in, the router, the experts and the
// combine into the residual rows.
struct MoeSpec {
  int32_t layer = -1;
  NormRef norm;
  std::string router, router_label;                 // router weight, its linear's output
  std::vector<std::array<std::string, 3>> experts;  // gate, up, down weights of every expert
  int64_t top_k = 1;
  bool norm_topk = true;
  model::Activation activation = model::Activation::SILU;
};
void lower_moe(Lowering& l, const MoeSpec& moe);

// The step's input rows gathered from `table` by the token ids in plan.tokens, plus the rows of `positions`
// (learned positions; empty: none), times `scale` (lower_embedding.cpp).
struct EmbeddingSpec {
  std::string table, positions;
  double scale = 1.0;
};
void lower_embedding(Lowering& l, const EmbeddingSpec& spec);

// bf16 bits of a float (round to nearest even).
uint16_t bf16_bits(double value);

}  // namespace xpusim::compiler
