// The step driver: SRAM layout, then the fused groups of the model's step graph in graph order (the
// embedding gather, linears with their norm prologue and epilogues — qk-norm / RoPE / KV store on the tile,
// post-norm and residual add on whole rows —, attention, MoE layers, the LM head), each lowered by the
// lowering of its kind.
#include "compiler/lower_step.h"

#include <algorithm>

#include "compiler/lowering.h"
#include "compiler/runtime_registers.h"
#include "compiler/step_graph.h"
#include "core/error.h"
#include "graph/passes/fuse.h"
#include "graph/passes/readers.h"

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

engine::ActivationPreset activation_preset(graph::OpKind act) {
  if (act == graph::OpKind::SILU) return engine::kSilu;
  XPUSIM_ASSERT(act == graph::OpKind::GELU_TANH);
  return engine::kGelu;  // x * sigmoid(1.6953125 x): the activation unit's GELU (engine.md §2.3)
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

// Per-head norm of a [rows, heads * d] tile (Qwen3 / Gemma 3 qk-norm): the RESHAPE, norm, RESHAPE of the
// graph.
void emit_head_norm(Lowering& l, uint64_t c, int64_t rows, int64_t heads, const NormRef& norm, int32_t layer,
                    SramArena& arena) {
  if (norm.op != NormOp::RMS) fail("engine compiler: layer {}: per-head layer norms are not lowered", layer);
  l.emit.begin_group("rms_norm", norm.label, layer);
  const WeightSlot& w = l.plan.weight(norm.weight);
  const uint64_t gamma = arena.take(static_cast<uint64_t>(w.cols * 2));
  const uint64_t scratch = arena.take(static_cast<uint64_t>(rows * heads) * 4 + 256);
  l.emit.dma_load(w.codes, gamma, 1, w.cols * 2);
  emit_norm(l, NormOp::RMS, c, rows * heads, norm.size, gamma, 0, scratch);
}

// The plan's cos/sin tables of a ROPE op: the model's base, or the local layers' base (Gemma 3).
std::pair<uint64_t, uint64_t> rope_tables(const Lowering& l, const model::RopeConfig& rope, int32_t layer) {
  const model::RopeConfig& global = l.config.rope;
  if (rope.theta == global.theta && rope.scaling == global.scaling) return {l.plan.rope_cos, l.plan.rope_sin};
  if (l.plan.rope_cos_local != l.plan.rope_cos && rope.theta == global.theta_local &&
      rope.scaling == model::RopeScaling::NONE)
    return {l.plan.rope_cos_local, l.plan.rope_sin_local};
  fail("engine compiler: layer {}: RoPE base {} has no table in the DRAM plan", layer, rope.theta);
}

// rotate_half RoPE on a [rows, heads * d] tile: x1' = x1 cos - x2 sin, x2' = x2 cos + x1 sin.
void emit_rope(Lowering& l, uint64_t c, int64_t rows, int64_t c0, int64_t heads, const graph::Op& op,
               const std::string& label, SramArena& arena) {
  Emitter& e = l.emit;
  const int32_t layer = op.layer;
  e.begin_group("rope", label, layer);
  const int64_t d = op.attrs.head_dim, half = d / 2, width = heads * d;
  // Named copies, not a structured binding: clang 14 (the fuzz build) cannot capture bindings in lambdas.
  const std::pair<uint64_t, uint64_t> tables = rope_tables(l, op.attrs.rope, layer);
  const uint64_t cos_table = tables.first, sin_table = tables.second;
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
void emit_kv_store(Lowering& l, uint64_t c, int64_t rows, int64_t c0, bool values, int32_t layer,
                   const std::string& label) {
  l.emit.begin_group("kv_store", label, layer);
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

// Lowers the fused groups of the step graph (step_graph.h) one by one: one lowering per group kind, the
// epilogue ops of a linear lowered on its output tile.
class GraphLowering {
 public:
  GraphLowering(Lowering& l, const graph::Graph& g) : m_l(l), m_g(g), m_uses(graph::use_lists(g)) {}

  void lower(const graph::FusedGroup& group) {
    switch (group.kind) {
      case graph::GroupKind::EMBEDDING:
        return lower_embedding(m_l, embedding(group));
      case graph::GroupKind::LINEARS:
        if (produces_logits(group)) return lower_head(m_l, head(group));
        return linears(group);
      case graph::GroupKind::MOE:
        return lower_moe(m_l, moe(group));
      case graph::GroupKind::SINGLE:
        if (op(group.anchor).kind == graph::OpKind::ATTENTION) {
          lower_attention(m_l, op(group.anchor));
          emit_barrier(m_l, group.layer);  // the next linear reads every engine's heads
          return;
        }
        fail("engine compiler: {}: op '{}' ({}) has no engine lowering outside a fused group",
             m_l.config.name, name(op(group.anchor).output), graph::op_name(op(group.anchor).kind));
    }
  }

 private:
  const graph::Op& op(int32_t index) const { return m_g.ops[static_cast<size_t>(index)]; }
  const graph::Tensor& tensor(graph::TensorId id) const { return m_g.tensors[static_cast<size_t>(id)]; }
  const std::string& name(graph::TensorId id) const { return tensor(id).name; }
  int32_t writer(graph::TensorId id) const { return m_uses.writer[static_cast<size_t>(id)]; }

  // The ATTENTION op reading `t` as input `slot` (0: queries, 1: K cache, 2: V cache), or null.
  const graph::Op* attention_reading(graph::TensorId t, size_t slot) const {
    for (int32_t r : m_uses.readers[static_cast<size_t>(t)])
      if (op(r).kind == graph::OpKind::ATTENTION && op(r).inputs[slot] == t) return &op(r);
    return nullptr;
  }

  // The DRAM rows holding activation `t`: the residual stream (embedding, residual adds) in plan.x, attention
  // queries in plan.q, attention outputs in plan.attn, other linear outputs (the MLP hidden rows) in
  // plan.hidden.
  uint64_t rows_of(graph::TensorId t) const {
    const int32_t w = writer(t);
    const graph::OpKind kind = w >= 0 ? op(w).kind : graph::OpKind::COUNT;
    const int64_t width = tensor(t).shape.back();
    const model::ModelConfig& c = m_l.config;
    uint64_t at = m_l.plan.hidden;
    int64_t capacity = std::max(c.is_moe() ? c.expert_ffn_hidden : c.ffn_hidden, c.hidden);
    if (attention_reading(t, 0) != nullptr) {
      at = m_l.plan.q, capacity = c.n_heads * c.head_dim;
    } else if (kind == graph::OpKind::ATTENTION) {
      at = m_l.plan.attn, capacity = c.n_heads * c.head_dim;
    } else if (kind == graph::OpKind::ADD || kind == graph::OpKind::EMBED_ROWS ||
               kind == graph::OpKind::SCALE) {
      at = m_l.plan.x, capacity = c.hidden;
    }
    if (width > capacity)
      fail("engine compiler: {}: '{}' has {} columns, its DRAM rows hold {}", c.name, tensor(t).name, width,
           capacity);
    return at;
  }

  bool produces_logits(const graph::FusedGroup& group) const {
    return std::any_of(group.linears.begin(), group.linears.end(),
                       [&](const graph::FusedLinear& f) { return f.output == m_g.logits; });
  }

  EmbeddingSpec embedding(const graph::FusedGroup& group) const {
    EmbeddingSpec spec{.table = name(op(group.anchor).inputs[0])};
    if (group.positions >= 0) spec.positions = name(op(group.positions).inputs[0]);
    if (group.scale >= 0) spec.scale = op(group.scale).attrs.scale;
    return spec;
  }

  HeadSpec head(const graph::FusedGroup& group) const {
    const graph::FusedLinear& f = group.linears.front();
    if (group.pre_norm < 0 || group.linears.size() != 1 || f.activation >= 0 ||
        op(f.linear).inputs.size() > 2 || name(op(f.linear).inputs[1]) != m_l.plan.lm_head)
      fail("engine compiler: {}: the LM head must be a norm and one linear without bias", m_l.config.name);
    if (rows_of(op(group.pre_norm).inputs[0]) != m_l.plan.x)
      fail("engine compiler: {}: the LM head reads the residual rows", m_l.config.name);
    HeadSpec spec{.norm = norm_ref(m_g, op(group.pre_norm))};
    for (int32_t e : f.epilogue) {
      if (op(e).kind != graph::OpKind::SOFTCAP)
        fail("engine compiler: {}: '{}' after the LM head is not lowered", m_l.config.name,
             name(op(e).output));
      spec.softcap = op(e).attrs.softcap;
    }
    return spec;
  }

  MoeSpec moe(const graph::FusedGroup& group) const {
    const graph::Op& mixture = op(group.anchor);
    if (group.residual < 0)
      fail("engine compiler: {}: layer {}: an MoE output is lowered only as a residual add", m_l.config.name,
           group.layer);
    MoeSpec spec{.layer = group.layer, .norm = norm_ref(m_g, op(group.pre_norm))};
    const graph::Op& router = op(group.linears.front().linear);
    spec.router = name(router.inputs[1]);
    spec.router_label = name(router.output);
    for (size_t i = 2; i + 2 < mixture.inputs.size(); i += 3)
      spec.experts.push_back(
          {name(mixture.inputs[i]), name(mixture.inputs[i + 1]), name(mixture.inputs[i + 2])});
    spec.top_k = mixture.attrs.top_k;
    spec.norm_topk = mixture.attrs.norm_topk;
    spec.activation = mixture.attrs.activation;
    return spec;
  }

  void linears(const graph::FusedGroup& group) {
    if (group.slice >= 0) fail("engine compiler: {}: a row slice outside the LM head", m_l.config.name);
    LinearGroup lg;
    lg.layer = group.layer;
    const graph::TensorId input =
        group.pre_norm >= 0 ? op(group.pre_norm).inputs[0] : op(group.linears.front().linear).inputs[0];
    lg.in_dram = rows_of(input), lg.in = tensor(input).shape.back();
    if (group.pre_norm >= 0) lg.pre_norm = norm_ref(m_g, op(group.pre_norm));
    std::vector<std::vector<int32_t>> tile_ops;  // per output: epilogue ops lowered on the tile
    bool only_attention_reads = true;            // every output goes to attention (queries, KV caches)
    for (const graph::FusedLinear& f : group.linears) {
      tile_ops.emplace_back();
      lg.outs.push_back(linear_out(lg, f, tile_ops.back()));
      only_attention_reads = only_attention_reads && (tensor(f.output).role == graph::TensorRole::KV_CACHE ||
                                                      attention_reading(f.output, 0) != nullptr);
    }
    if (lg.outs.size() > 1 && (lg.post_norm.op != NormOp::NONE || lg.residual))
      fail("engine compiler: layer {}: a post-norm or residual add on one of several linears", group.layer);
    shard_attention_heads(group, lg);
    for (size_t i = 0; i < lg.outs.size(); ++i) attach_tile_epilogue(lg.outs[i], tile_ops[i]);
    lower_linear_group(m_l, lg);
    // Queries and K/V stay with their engine's heads; any other output is read whole by the next group.
    if (only_attention_reads)
      emit_kv_barrier(m_l, group.layer);
    else
      emit_barrier(m_l, group.layer);
  }

  LinearOut linear_out(LinearGroup& lg, const graph::FusedLinear& f, std::vector<int32_t>& tile_ops) const {
    const graph::Op& linear = op(f.linear);
    LinearOut out{.weight = name(linear.inputs[1])};
    if (linear.inputs.size() > 2) out.bias = name(linear.inputs[2]);
    out.label = name(linear.output);
    if (f.gate >= 0) {
      if (op(f.gate).inputs.size() > 2)
        fail("engine compiler: layer {}: a gate linear with a bias is not lowered", lg.layer);
      out.gate = name(op(f.gate).inputs[1]);
    }
    if (f.activation >= 0) out.act = activation_preset(op(f.activation).kind);
    graph::TensorId chain = f.gate_mul >= 0     ? op(f.gate_mul).output
                            : f.activation >= 0 ? op(f.activation).output
                                                : linear.output;
    bool per_head = false;  // between the RESHAPEs of a per-head norm
    for (int32_t e : f.epilogue) {
      const graph::Op& o = op(e);
      switch (o.kind) {
        case graph::OpKind::RESHAPE:
          per_head = !per_head;
          break;
        case graph::OpKind::ROPE:
        case graph::OpKind::KV_STORE:
          tile_op(lg, o, tile_ops, e);
          break;
        case graph::OpKind::RMS_NORM:
        case graph::OpKind::LAYER_NORM:
          if (per_head) {
            tile_op(lg, o, tile_ops, e);
          } else {  // a post-norm of whole rows
            if (lg.residual) fail("engine compiler: layer {}: a norm after the residual add", lg.layer);
            lg.post_norm = norm_ref(m_g, o);
          }
          break;
        case graph::OpKind::ADD:
          lg.residual = true;
          lg.residual_dram = rows_of(o.inputs[0] == chain ? o.inputs[1] : o.inputs[0]);
          break;
        default:
          fail("engine compiler: layer {}: '{}' ({}) on a linear's output is not lowered", lg.layer,
               name(o.output), graph::op_name(o.kind));
      }
      chain = o.output;
    }
    out.store = tensor(f.output).role != graph::TensorRole::KV_CACHE;
    if (out.store) out.out_dram = rows_of(f.output), out.out_stride = tensor(f.output).shape.back();
    return out;
  }

  // Tile epilogues run before the post-norm and the residual add (lower_linear.cpp).
  void tile_op(const LinearGroup& lg, const graph::Op& o, std::vector<int32_t>& tile_ops,
               int32_t index) const {
    if (lg.post_norm.op != NormOp::NONE || lg.residual)
      fail("engine compiler: layer {}: '{}' after a post-norm or residual add is not lowered", lg.layer,
           name(o.output));
    tile_ops.push_back(index);
  }

  // A group projecting the queries and the K/V of an attention: each engine computes its heads' columns.
  void shard_attention_heads(const graph::FusedGroup& group, LinearGroup& lg) const {
    LinearOut *q = nullptr, *k = nullptr, *v = nullptr;
    for (size_t i = 0; i < group.linears.size(); ++i) {
      const graph::TensorId out = group.linears[i].output;
      if (attention_reading(out, 0) != nullptr) q = &lg.outs[i];
      if (tensor(out).role == graph::TensorRole::KV_CACHE)
        (attention_reading(out, 1) != nullptr ? k : v) = &lg.outs[i];
    }
    if (q == nullptr && k == nullptr && v == nullptr) return;
    if (q == nullptr || k == nullptr || v == nullptr)
      fail("engine compiler: layer {}: queries, keys and values must come from one group", group.layer);
    shard_head_columns(m_l, *q, *k, *v);  // this engine's heads (tensor_parallel.h)
  }

  // The epilogue lambda: per-head norms, RoPE and KV stores on the output tile, in graph order.
  void attach_tile_epilogue(LinearOut& out, const std::vector<int32_t>& tile_ops) const {
    if (tile_ops.empty()) return;
    const int64_t columns = out.row_end >= 0 ? out.row_end - out.row_begin : m_l.plan.weight(out.weight).rows;
    const graph::Graph* g = &m_g;
    out.epilogue = [this, g, tile_ops, columns](Lowering& lw, uint64_t tile, int64_t rows, int64_t c0,
                                                SramArena& arena) {
      for (int32_t e : tile_ops) {
        const graph::Op& o = g->ops[static_cast<size_t>(e)];
        const int64_t heads = columns / lw.config.head_dim;
        if (o.kind == graph::OpKind::RMS_NORM || o.kind == graph::OpKind::LAYER_NORM)
          emit_head_norm(lw, tile, rows, heads, norm_ref(*g, o), o.layer, arena);
        else if (o.kind == graph::OpKind::ROPE)
          emit_rope(lw, tile, rows, c0, heads, o, name(o.output), arena);
        else if (o.kind == graph::OpKind::KV_STORE)
          emit_kv_store(lw, tile, rows, c0, attention_reading(o.output, 2) != nullptr, o.layer,
                        name(o.output));
      }
    };
  }

  Lowering& m_l;
  const graph::Graph& m_g;
  graph::UseLists m_uses;
};

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
  const graph::Graph step_ops = step_graph(c);
  GraphLowering lowering(l, step_ops);
  for (const graph::FusedGroup& group : graph::fuse_linear_epilogues(step_ops).groups) lowering.lower(group);
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
