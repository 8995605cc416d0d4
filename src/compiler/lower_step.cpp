// The decoder step driver: SRAM layout, per-layer op order (QKV with qk-norm / RoPE / KV-store epilogues,
// attention, output projection + residual, MLP + residual) and the LM head.
#include "compiler/lower_step.h"

#include <algorithm>

#include "compiler/lowering.h"
#include "compiler/runtime_registers.h"
#include "core/error.h"

namespace xpusim::compiler {

using engine::Broadcast;
using engine::Opcode;
using engine::VectorArgs;

std::vector<int64_t> step_row_offsets(const StepRequest& step) {
  std::vector<int64_t> rows;
  int64_t top = 0;
  for (const SequenceStep& s : step.sequences) {
    rows.push_back(top);
    top += s.new_tokens;
  }
  return rows;
}

namespace {

engine::ActivationPreset activation_preset(model::Activation act) {
  switch (act) {
    case model::Activation::SILU:
      return engine::kSilu;
    case model::Activation::GELU_TANH:
    case model::Activation::GELU_ERF:
      return engine::kGelu;  // x * sigmoid(1.6953125 x): the activation unit's GELU (engine.md §2.3)
    case model::Activation::RELU:
      return engine::kRelu;
  }
  return engine::kSilu;
}

// Calls fn(sequence, first token of the sequence in the tile, count, row in the tile) for every part of
// tile rows [c0, c0 + rows) that belongs to one sequence.
template <typename Fn>
void for_segments(const Lowering& l, int64_t c0, int64_t rows, Fn fn) {
  for (size_t s = 0; s < l.step.sequences.size(); ++s) {
    const int64_t begin = std::max(c0, l.row0[s]);
    const int64_t end = std::min(c0 + rows, l.row0[s] + l.step.sequences[s].new_tokens);
    if (begin < end) fn(static_cast<int64_t>(s), begin - l.row0[s], end - begin, begin - c0);
  }
}

bool layer_is_local(const model::ModelConfig& c, int32_t layer) {
  return !c.layer_is_local.empty() && c.layer_is_local[static_cast<size_t>(layer)];
}

// Per-head RMSNorm of a [rows, heads * d] tile (Qwen3 / Gemma 3 qk-norm).
void emit_head_norm(Lowering& l, uint64_t c, int64_t rows, int64_t heads, const std::string& name,
                    int32_t layer, SramArena& arena) {
  l.emit.begin_group("rms_norm", name, layer);
  const WeightSlot& w = l.plan.weight(name + ".weight");
  const uint64_t gamma = arena.take(static_cast<uint64_t>(w.cols * 2));
  const uint64_t scratch = arena.take(static_cast<uint64_t>(rows * heads) * 4 + 256);
  l.emit.dma_load(w.codes, gamma, 1, w.cols * 2);
  emit_norm(l, NormOp::RMS, c, rows * heads, l.config.head_dim, gamma, 0, scratch);
}

// rotate_half RoPE on a [rows, heads * d] tile: x1' = x1 cos - x2 sin, x2' = x2 cos + x1 sin.
void emit_rope(Lowering& l, uint64_t c, int64_t rows, int64_t c0, int64_t heads, const std::string& label,
               int32_t layer, SramArena& arena) {
  Emitter& e = l.emit;
  e.begin_group("rope", label, layer);
  const int64_t d = l.config.head_dim, half = d / 2, width = heads * d;
  const bool local = layer_is_local(l.config, layer);
  const uint64_t cos_table = local ? l.plan.rope_cos_local : l.plan.rope_cos;
  const uint64_t sin_table = local ? l.plan.rope_sin_local : l.plan.rope_sin;
  const auto half_bytes = static_cast<uint64_t>(half * 2);
  const uint64_t cos = arena.take(static_cast<uint64_t>(rows) * half_bytes);
  const uint64_t sin = arena.take(static_cast<uint64_t>(rows) * half_bytes);
  const int64_t temp_rows = rows == 1 ? heads : rows;
  const uint64_t ta = arena.take(static_cast<uint64_t>(temp_rows) * half_bytes);
  const uint64_t tb = arena.take(static_cast<uint64_t>(temp_rows) * half_bytes);
  if (arena.overflowed()) fail("engine compiler: layer {}: RoPE tiles do not fit SRAM", layer);
  for_segments(l, c0, rows, [&](int64_t s, int64_t t, int64_t n, int64_t row) {
    const int64_t pos = l.step.sequences[static_cast<size_t>(s)].context + t;
    // Generic programs: rows at the run-time position (kRopeOffsetRegister = position * row bytes).
    auto table_row = [&](uint64_t table) {
      const uint64_t at = table + static_cast<uint64_t>(pos) * half_bytes;
      return l.dynamic ? Loc(kRopeOffsetRegister, at) : Loc(at);
    };
    e.dma_load(table_row(cos_table), cos + static_cast<uint64_t>(row) * half_bytes, n, half * 2);
    e.dma_load(table_row(sin_table), sin + static_cast<uint64_t>(row) * half_bytes, n, half * 2);
  });
  // One token: every head shares the token's cos/sin row (broadcast); else one pass per head.
  const int64_t passes = rows == 1 ? 1 : heads;
  for (int64_t h = 0; h < passes; ++h) {
    const uint64_t x1 = c + static_cast<uint64_t>(h * d * 2), x2 = x1 + half_bytes;
    VectorArgs v{.rows = temp_rows, .cols = half};
    v.lda = rows == 1 ? d : width;
    v.ldb = half;
    v.bcast = rows == 1 ? Broadcast::row : Broadcast::none;
    VectorArgs to_temp = v;
    to_temp.ldc = half;
    e.vbinary(Opcode::vmul, {.a = x1, .b = sin, .c = ta}, to_temp);
    e.vbinary(Opcode::vmul, {.a = x2, .b = sin, .c = tb}, to_temp);
    VectorArgs in_place = v;
    in_place.ldc = v.lda;
    e.vbinary(Opcode::vmul, {.a = x1, .b = cos, .c = x1}, in_place);
    e.vbinary(Opcode::vmul, {.a = x2, .b = cos, .c = x2}, in_place);
    VectorArgs combine{.rows = temp_rows, .cols = half, .lda = v.lda, .ldb = half, .ldc = v.lda};
    e.vbinary(Opcode::vsub, {.a = x1, .b = tb, .c = x1}, combine);
    e.vbinary(Opcode::vadd, {.a = x2, .b = ta, .c = x2}, combine);
  }
}

// K or V tile [rows, kv_heads * d] -> the sequence's cache rows at its positions, one DMA per head.
void emit_kv_store(Lowering& l, uint64_t c, int64_t rows, int64_t c0, bool values, int32_t layer) {
  l.emit.begin_group("kv_store", fmt::format("blk.{}.{}_cache", layer, values ? "v" : "k"), layer);
  const IndexRange heads = shard_kv_heads(l);  // this engine's kv heads: the tile's columns
  const int64_t d = l.config.head_dim, width = heads.size() * d;
  for_segments(l, c0, rows, [&](int64_t s, int64_t t, int64_t n, int64_t row) {
    const int64_t pos = l.step.sequences[static_cast<size_t>(s)].context + t;
    for (int64_t h = heads.begin; h < heads.end; ++h) {
      const uint64_t base = values ? l.plan.kv_v(s, layer, h) : l.plan.kv_k(s, layer, h);
      const uint64_t at = base + static_cast<uint64_t>(pos * d * 2);
      l.emit.dma_store(l.dynamic ? Loc(kKvOffsetRegister, at) : Loc(at),
                       c + static_cast<uint64_t>((row * width + (h - heads.begin) * d) * 2), n, d * 2, 0,
                       width * 2);
    }
  });
}

void lower_layer(Lowering& l, int32_t layer) {
  const model::ModelConfig& c = l.config;
  const DramPlan& plan = l.plan;
  const std::string p = fmt::format("blk.{}.", layer);
  const int64_t q_width = c.n_heads * c.head_dim, kv_width = c.n_kv_heads * c.head_dim;
  const bool gemma = c.family == model::Family::GEMMA3;

  // Attention inputs.
  LinearGroup qkv;
  qkv.in_dram = plan.x, qkv.in = c.hidden, qkv.layer = layer;
  qkv.pre_norm = make_norm(l, p + "attn_norm", c.hidden);
  auto bias = [&](const std::string& n) { return c.attn_bias ? p + n + ".bias" : std::string(); };
  LinearOut q{
      .weight = p + "attn_q.weight", .bias = bias("attn_q"), .out_dram = plan.q, .out_stride = q_width};
  q.label = p + "attn_q";
  q.epilogue = [p, layer](Lowering& lw, uint64_t tile, int64_t rows, int64_t c0, SramArena& arena) {
    const int64_t heads = shard_q_heads(lw).size();
    if (lw.config.qk_norm) emit_head_norm(lw, tile, rows, heads, p + "attn_q_norm", layer, arena);
    if (lw.config.rope.enabled) emit_rope(lw, tile, rows, c0, heads, p + "q_rope", layer, arena);
  };
  LinearOut k{.weight = p + "attn_k.weight", .bias = bias("attn_k"), .store = false};
  k.label = p + "attn_k";
  k.epilogue = [p, layer](Lowering& lw, uint64_t tile, int64_t rows, int64_t c0, SramArena& arena) {
    if (lw.config.qk_norm)
      emit_head_norm(lw, tile, rows, shard_kv_heads(lw).size(), p + "attn_k_norm", layer, arena);
    if (lw.config.rope.enabled)
      emit_rope(lw, tile, rows, c0, shard_kv_heads(lw).size(), p + "k_rope", layer, arena);
    emit_kv_store(lw, tile, rows, c0, false, layer);
  };
  LinearOut v{.weight = p + "attn_v.weight", .bias = bias("attn_v"), .store = false};
  v.label = p + "attn_v";
  v.epilogue = [layer](Lowering& lw, uint64_t tile, int64_t rows, int64_t c0, SramArena&) {
    emit_kv_store(lw, tile, rows, c0, true, layer);
  };
  shard_head_columns(l, q, k, v);  // this engine's heads (tensor_parallel.h)
  qkv.outs = {q, k, v};
  (void)kv_width;
  lower_linear_group(l, qkv);
  emit_kv_barrier(l, layer);  // more engines than kv heads: attention reads caches other engines wrote

  lower_attention(l, layer);
  emit_barrier(l, layer);  // attn_output reads every engine's heads

  LinearGroup out;
  out.in_dram = plan.attn, out.in = q_width, out.layer = layer;
  if (gemma) out.post_norm = make_norm(l, p + "post_attention_norm", c.hidden);
  out.residual = true, out.residual_dram = plan.x;
  LinearOut o{.weight = p + "attn_output.weight",
              .bias = bias("attn_output"),
              .out_dram = plan.x,
              .out_stride = c.hidden};
  o.label = p + "attn_output";
  out.outs = {o};
  lower_linear_group(l, out);
  emit_barrier(l, layer);

  if (c.is_moe()) return lower_moe(l, layer);  // router, experts, combine (lower_moe.cpp)

  LinearGroup up;
  up.in_dram = plan.x, up.in = c.hidden, up.layer = layer;
  up.pre_norm = make_norm(l, p + "ffn_norm", c.hidden);
  LinearOut u{.weight = p + "ffn_up.weight", .out_dram = plan.hidden, .out_stride = c.ffn_hidden};
  u.label = p + "ffn_up";
  u.act = activation_preset(c.activation);
  if (c.gated_mlp) u.gate = p + "ffn_gate.weight";
  if (c.mlp_bias) u.bias = p + "ffn_up.bias";
  up.outs = {u};
  lower_linear_group(l, up);
  emit_barrier(l, layer);

  LinearGroup down;
  down.in_dram = plan.hidden, down.in = c.ffn_hidden, down.layer = layer;
  if (gemma) down.post_norm = make_norm(l, p + "post_ffw_norm", c.hidden);
  down.residual = true, down.residual_dram = plan.x;
  LinearOut dn{.weight = p + "ffn_down.weight", .out_dram = plan.x, .out_stride = c.hidden};
  dn.label = p + "ffn_down";
  if (c.mlp_bias) dn.bias = p + "ffn_down.bias";
  down.outs = {dn};
  lower_linear_group(l, down);
  emit_barrier(l, layer);
}

}  // namespace

namespace {
CompiledProgram compile_program(const DramPlan& plan, const engine::ChipConfig& chip, const StepRequest& step,
                                bool dynamic, const EngineShard& shard) {
  const model::ModelConfig& c = plan.config;
  if (step.sequences.empty()) fail("engine compiler: a step needs at least one sequence");
  if (static_cast<int64_t>(step.sequences.size()) > plan.shape.sequences)
    fail("engine compiler: step has {} sequences, the memory plan has KV slots for {}", step.sequences.size(),
         plan.shape.sequences);
  int64_t total = 0;
  for (const SequenceStep& s : step.sequences) {
    if (s.new_tokens < 1 || s.context < 0)
      fail("engine compiler: bad sequence step ({} new tokens after {})", s.new_tokens, s.context);
    if (s.context + s.new_tokens > plan.shape.kv_capacity)
      fail("engine compiler: sequence of {} tokens exceeds the planned KV capacity of {}",
           s.context + s.new_tokens, plan.shape.kv_capacity);
    total += s.new_tokens;
  }
  if (total > plan.shape.max_tokens)
    fail("engine compiler: step of {} tokens exceeds the planned {}", total, plan.shape.max_tokens);
  if (c.n_heads % c.n_kv_heads != 0 || c.head_dim % 2 != 0)
    fail("engine compiler: {}: {} heads over {} kv heads / head_dim {} not supported", c.name, c.n_heads,
         c.n_kv_heads, c.head_dim);

  Emitter emitter(chip);
  Lowering l{plan, c, chip, emitter, step, step_row_offsets(step), total, {}};
  l.dynamic = dynamic;
  l.shard = shard;
  if (shard.count < 1 || shard.count > chip.engines || shard.index < 0 || shard.index >= shard.count)
    fail("engine compiler: engine {} of {} on chip {} with {} engines", shard.index, shard.count, chip.name,
         chip.engines);
  const uint64_t mask_bytes = kMaskRows * kMaskWidth * 2;
  l.sram.mask_upper = 0;
  l.sram.mask_lower = mask_bytes;
  l.sram.params = 2 * mask_bytes;
  const int64_t widest = std::max({c.hidden, c.n_heads * c.head_dim, c.ffn_hidden, c.expert_ffn_hidden});
  l.sram.params_bytes = static_cast<uint64_t>(round_up(8 * widest * 2 + 4096, 128));
  l.sram.workspace = l.sram.params + l.sram.params_bytes;
  l.sram.end = static_cast<uint64_t>(chip.sram_bytes());
  if (l.sram.workspace + 256 * 1024 > l.sram.end)
    fail("engine compiler: {} needs at least {} KiB of SRAM (masks, norm weights, tiles); chip {} has {} KiB",
         c.name, (l.sram.workspace + 256 * 1024) / 1024, chip.name, chip.sram_kib);

  emitter.begin_group("attention", "attention_masks", -1);
  emitter.dma_load(plan.mask_upper, l.sram.mask_upper, 1, static_cast<int64_t>(mask_bytes));
  emitter.dma_load(plan.mask_lower, l.sram.mask_lower, 1, static_cast<int64_t>(mask_bytes));
  if (dynamic) emit_runtime_prologue(emitter, plan, total);
  lower_embedding(l);  // token ids -> plan.x rows on chip (lower_embedding.cpp)
  for (int32_t layer = 0; layer < c.n_layers; ++layer) lower_layer(l, layer);
  lower_head(l);
  emitter.halt();
  return emitter.finish();
}
}  // namespace

CompiledProgram compile_step(const DramPlan& plan, const engine::ChipConfig& chip, const StepRequest& step,
                             const EngineShard& shard) {
  return compile_program(plan, chip, step, false, shard);
}

CompiledProgram compile_generic_step(const DramPlan& plan, const engine::ChipConfig& chip, int64_t rows,
                                     const EngineShard& shard) {
  if (rows < 1 || rows > plan.shape.max_tokens || rows > plan.shape.kv_capacity)
    fail("engine compiler: a generic program of {} rows does not fit the plan ({} tokens, {} KV rows)", rows,
         plan.shape.max_tokens, plan.shape.kv_capacity);
  return compile_program(plan, chip, StepRequest{{{rows, 0}}}, true, shard);
}

}  // namespace xpusim::compiler
