#include "compiler/memory_plan.h"

#include <algorithm>

#include "compiler/step_graph.h"
#include "core/error.h"
#include "engine/block_formats.h"
#include "graph/passes/quantize.h"

namespace xpusim::compiler {

using engine::WeightFormat;

int64_t round_up(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

WeightFormat engine_format_from_name(const std::string& precision) {
  if (precision.empty()) return WeightFormat::bf16;
  std::string known;
  for (int f = 0; f < static_cast<int>(WeightFormat::COUNT); ++f) {
    const auto format = static_cast<WeightFormat>(f);
    if (engine::weight_format_name(format) == precision) return format;
    if (f > 0) known.append(", ");
    known.append(engine::weight_format_name(format));
  }
  fail("precision '{}' is not an engine weight format; the unified engine runs: {}", precision, known);
}

const WeightSlot& DramPlan::weight(const std::string& name) const {
  auto it = weights.find(name);
  if (it == weights.end()) fail("engine compiler: weight '{}' is not in the DRAM plan", name);
  return it->second;
}

uint64_t DramPlan::kv_k(int64_t sequence, int64_t layer, int64_t kv_head) const {
  const auto head_bytes = static_cast<uint64_t>(shape.kv_capacity * config.head_dim * 2);
  return kv_base + static_cast<uint64_t>(sequence) * kv_bytes_per_sequence +
         static_cast<uint64_t>(layer * config.n_kv_heads + kv_head) * 2 * head_bytes;
}

uint64_t DramPlan::kv_v(int64_t sequence, int64_t layer, int64_t kv_head) const {
  return kv_k(sequence, layer, kv_head) + static_cast<uint64_t>(shape.kv_capacity * config.head_dim * 2);
}

namespace {

class Allocator {
 public:
  uint64_t take(uint64_t bytes) {
    const uint64_t size = (bytes + kDramAlign - 1) / kDramAlign * kDramAlign;
    if (m_wrap != 0 && m_top + size > m_wrap) {  // aliased weights: start over at the window's base
      if (size > m_wrap) fail("engine compiler: one weight of {} bytes exceeds the chip's free DRAM", bytes);
      m_top = 0;
    }
    const uint64_t at = m_top;
    m_top += size;
    return at;
  }
  uint64_t top() const { return m_top; }
  void wrap_at(uint64_t window) { m_wrap = window; }  // 0: no wrap
  void end_window() {
    if (m_wrap != 0) m_top = m_wrap, m_wrap = 0;
  }

 private:
  uint64_t m_top = 0, m_wrap = 0;
};

void add_linear(DramPlan& plan, Allocator& dram, const std::string& name, int64_t rows, int64_t cols,
                WeightFormat format) {
  const engine::BlockFormatInfo& info = engine::block_format_info(format);
  if (cols % info.block != 0)
    fail(
        "engine compiler: weight '{}' has {} columns, not a multiple of the {} block of {} elements; choose "
        "another --precision (bf16 always works)",
        name, cols, engine::weight_format_name(format), info.block);
  WeightSlot slot{name};
  slot.rows = rows, slot.cols = cols, slot.format = format;
  slot.code_row_bytes = engine::packed_bytes(format, 1, static_cast<size_t>(cols));
  slot.scale_row_bytes =
      info.scale_bytes == 0 ? 0 : static_cast<uint64_t>(cols / info.block * info.scale_bytes);
  const uint64_t codes = slot.code_row_bytes * static_cast<uint64_t>(rows);
  const uint64_t scales =
      static_cast<uint64_t>(info.codebook_bytes) + slot.scale_row_bytes * static_cast<uint64_t>(rows);
  slot.codes = dram.take(codes);
  slot.scales = scales ? dram.take(scales) : 0;
  slot.bytes = codes + scales;
  plan.weight_bytes += slot.bytes;
  plan.weights[name] = slot;
}

void add_vector(DramPlan& plan, Allocator& dram, const std::string& name, int64_t size, bool plus_one) {
  WeightSlot slot{name};
  slot.rows = 1, slot.cols = size, slot.plus_one = plus_one;
  slot.code_row_bytes = static_cast<uint64_t>(size) * 2;
  slot.codes = dram.take(slot.code_row_bytes);
  slot.bytes = slot.code_row_bytes;
  plan.weight_bytes += slot.bytes;
  plan.weights[name] = slot;
}

}  // namespace

namespace {
// weight_window > 0: the weights wrap around inside [0, weight_window) (PlanShape::timing_only).
DramPlan plan_with_window(const model::ModelConfig& c, WeightFormat format, const PlanShape& shape,
                          const engine::ChipConfig& chip, uint64_t weight_window) {
  if (shape.max_tokens < 1 || shape.sequences < 1 || shape.kv_capacity < 1)
    fail("engine compiler: bad plan shape ({} tokens, {} sequences, {} KV rows)", shape.max_tokens,
         shape.sequences, shape.kv_capacity);
  DramPlan plan;
  plan.config = c;
  plan.format = format;
  plan.shape = shape;
  Allocator dram;
  dram.wrap_at(weight_window);
  plan.weights_aliased = weight_window != 0;
  const int64_t q_width = c.n_heads * c.head_dim;
  // Weights in the order the step graph first reads them, stored as the quantize pass says: the weights of
  // the layers first, then those outside them (embedding tables, final norm, LM head).
  const graph::Graph step = step_graph(c);
  const graph::TensorId positions = position_table(step);
  std::vector<int32_t> layer_of(step.tensors.size(), -2);  // layer of the first op reading the tensor
  for (const graph::Op& op : step.ops)
    for (graph::TensorId input : op.inputs)
      if (layer_of[static_cast<size_t>(input)] == -2) layer_of[static_cast<size_t>(input)] = op.layer;
  const std::vector<graph::StoredWeight> stored = graph::quantize_weights(step);
  for (const bool in_layers : {true, false}) {
    for (const graph::StoredWeight& w : stored) {
      if ((layer_of[static_cast<size_t>(w.tensor)] >= 0) != in_layers) continue;
      const graph::Tensor& tensor = step.tensors[static_cast<size_t>(w.tensor)];
      if (w.storage == graph::WeightStorage::VECTOR) {
        add_vector(plan, dram, tensor.name, tensor.shape[0], w.plus_one);
        continue;
      }
      const WeightFormat stored_as =
          w.storage == graph::WeightStorage::EXACT_MATRIX ? WeightFormat::bf16 : format;
      add_linear(plan, dram, tensor.name, tensor.shape[0], tensor.shape[1], stored_as);
      if (w.tensor == positions) {
        // Padding rows of a generic prefill chunk near max_positions read rows past the table: they land in
        // this zero gap (finite values), not in the mask bands' -inf that would turn padding K/V into NaN.
        const WeightSlot& pos = plan.weights[tensor.name];
        dram.take(static_cast<uint64_t>(shape.max_tokens) * (pos.code_row_bytes + pos.scale_row_bytes));
      }
    }
  }
  plan.lm_head = step.tensors[static_cast<size_t>(logits_linear(step).inputs[1])].name;
  dram.end_window();
  const uint64_t weights_top = dram.top();

  const auto half_table = static_cast<uint64_t>(shape.kv_capacity * c.head_dim / 2 * 2);
  if (c.rope.enabled) {
    plan.rope_cos = dram.take(half_table);
    plan.rope_sin = dram.take(half_table);
    const bool local = c.rope.theta_local > 0 && !c.layer_is_local.empty();
    plan.rope_cos_local = local ? dram.take(half_table) : plan.rope_cos;
    plan.rope_sin_local = local ? dram.take(half_table) : plan.rope_sin;
  }
  plan.mask_upper = dram.take(kMaskRows * kMaskWidth * 2);
  plan.mask_lower = dram.take(kMaskRows * kMaskWidth * 2);
  plan.kv_bytes_per_sequence =
      static_cast<uint64_t>(c.n_layers * c.n_kv_heads * 2 * shape.kv_capacity * c.head_dim * 2);
  plan.kv_base = dram.take(plan.kv_bytes_per_sequence * static_cast<uint64_t>(shape.sequences));
  const auto rows = static_cast<uint64_t>(shape.max_tokens);
  const int64_t mlp_width = c.is_moe() ? c.expert_ffn_hidden : c.ffn_hidden;
  plan.x = dram.take(rows * static_cast<uint64_t>(c.hidden) * 2);
  plan.q = dram.take(rows * static_cast<uint64_t>(q_width) * 2);
  plan.attn = dram.take(rows * static_cast<uint64_t>(q_width) * 2);
  plan.hidden = dram.take(rows * static_cast<uint64_t>(std::max(mlp_width, c.hidden)) * 2);
  plan.logits = dram.take(static_cast<uint64_t>(shape.sequences * c.vocab_size) * 2);
  plan.argmax =
      dram.take(static_cast<uint64_t>(shape.sequences) * 4 * static_cast<uint64_t>(c.vocab_size + 1));
  plan.tp_scratch = dram.take(rows * static_cast<uint64_t>(c.hidden) * 2);  // tensor_parallel.h post-norms
  plan.tokens = dram.take(rows * 4);
  if (c.is_moe()) {
    const auto k = static_cast<uint64_t>(c.n_experts_used);
    plan.moe_in = dram.take(rows * static_cast<uint64_t>(c.hidden) * 2);
    plan.moe_ids = dram.take(rows * k * 4);
    plan.moe_probs = dram.take(rows * k * 2);
    plan.moe_out = dram.take(rows * k * static_cast<uint64_t>(c.hidden) * 2);
    plan.hidden = dram.take(rows * k * static_cast<uint64_t>(c.expert_ffn_hidden) * 2);  // per assignment
  }
  plan.end = dram.top();
  // Operands reach 4 GiB (emitter.cpp picks 2 GiB-aligned bases that fit a 32-bit register):
  // timing-only plans alias beyond.
  const uint64_t reachable = std::min<uint64_t>(chip.dram_bytes(), 4ull << 30);
  const bool fits = plan.end <= chip.dram_bytes() || shape.ignore_capacity;
  if (fits && plan.end > reachable && shape.timing_only && weight_window == 0) {
    const uint64_t rest = plan.end - weights_top;
    if (rest < reachable)
      return plan_with_window(c, format, shape, chip, (reachable - rest) / kDramAlign * kDramAlign);
  }
  if (plan.end > chip.dram_bytes())
    fail(
        "model '{}' does not fit chip {}: weights {:.1f} MiB ({}) + KV cache {:.1f} MiB ({} sequences x {} "
        "tokens) + activations need {:.1f} MiB, the chip has {} MiB of DRAM",
        c.name, chip.name, static_cast<double>(plan.weight_bytes) / 1048576.0,
        engine::weight_format_name(format),
        static_cast<double>(plan.kv_bytes_per_sequence * static_cast<uint64_t>(shape.sequences)) / 1048576.0,
        shape.sequences, shape.kv_capacity, static_cast<double>(plan.end) / 1048576.0, chip.dram_size_mib);
  return plan;
}
}  // namespace

DramPlan plan_dram(const model::ModelConfig& c, WeightFormat format, const PlanShape& shape,
                   const engine::ChipConfig& chip) {
  return plan_with_window(c, format, shape, chip, 0);
}

}  // namespace xpusim::compiler
