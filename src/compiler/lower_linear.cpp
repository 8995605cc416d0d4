// Linear layers: weights streamed from DRAM in strips of output rows (double/triple-buffered, so the load of
// the next strip overlaps the matrix work on the current one) against a chunk of token rows resident in SRAM;
// each strip is read once per chunk, and a chunk holds as many rows as SRAM allows, so a decode step streams
// every weight exactly once and a prefill reuses each strip across up to max_chunk_rows() tokens.
// Epilogues run on the output tile in SRAM before one store: bias and activation inside the mm instruction,
// gating (act(gate) * up) as one vmul per strip, post-norm and the residual add on the whole tile.
#include <algorithm>

#include "compiler/lowering.h"
#include "core/error.h"
#include "engine/block_formats.h"
#include "numerics/float_bits.h"

namespace xpusim::compiler {

using engine::Broadcast;
using engine::Opcode;
using engine::ReduceMode;
using engine::VectorArgs;

namespace {
constexpr int kStripSlots = 3;
VectorArgs vargs(int64_t rows, int64_t cols) { return VectorArgs{.rows = rows, .cols = cols}; }
}  // namespace

Strip strip_for(const engine::ChipConfig& chip, const WeightSlot& w) {
  const uint64_t row_bytes = w.code_row_bytes + w.scale_row_bytes;
  const uint64_t target = std::max<uint64_t>(64 * 1024, static_cast<uint64_t>(chip.sram_bytes()) / 16);
  int64_t rows = std::max<int64_t>(1, static_cast<int64_t>(target / row_bytes));
  const int64_t align = chip.array == engine::ArrayKind::systolic ? chip.systolic_cols : 64;
  if (rows > align) rows = rows / align * align;
  rows = std::min(rows, w.rows);
  Strip s;
  s.rows = rows;
  s.codes_bytes = static_cast<uint64_t>(round_up(static_cast<int64_t>(w.code_row_bytes) * rows, 64));
  const auto codebook = static_cast<uint64_t>(engine::block_format_info(w.format).codebook_bytes);
  s.bytes = s.codes_bytes + codebook + w.scale_row_bytes * static_cast<uint64_t>(rows);
  return s;
}

// Loads strip j of `w` into `slot`; returns the SRAM address of its scales.
uint64_t load_strip(Lowering& l, const WeightSlot& w, const Strip& s, int64_t j, int64_t rows,
                    uint64_t slot) {
  return load_strip_rows(l, w, s, j * s.rows, rows, slot);
}

uint64_t load_strip_rows(Lowering& l, const WeightSlot& w, const Strip& s, int64_t first_row, int64_t rows,
                         uint64_t slot) {
  l.emit.dma_load(w.codes + static_cast<uint64_t>(first_row) * w.code_row_bytes, slot, 1,
                  static_cast<int64_t>(w.code_row_bytes) * rows);
  const uint64_t scales = slot + s.codes_bytes;
  if (w.format != engine::WeightFormat::bf16) {
    const auto codebook = static_cast<uint64_t>(engine::block_format_info(w.format).codebook_bytes);
    if (codebook > 0) l.emit.dma_load(w.scales, scales, 1, static_cast<int64_t>(codebook));
    l.emit.dma_load(w.scales + codebook + static_cast<uint64_t>(first_row) * w.scale_row_bytes,
                    scales + codebook, 1, static_cast<int64_t>(w.scale_row_bytes) * rows);
  }
  return scales;
}

uint16_t bf16_bits(double value) { return numerics::bits::f32_to_bf16(static_cast<float>(value)); }

int64_t Lowering::max_chunk_rows() const {
  // Dot array: any m streams at full rate, 64 keeps tiles small; weight-stationary systolic: m >= R rows per
  // loaded weight tile.
  return chip.array == engine::ArrayKind::systolic ? 4 * chip.systolic_rows : 64;
}

NormRef norm_ref(const graph::Graph& graph, const graph::Op& op) {
  XPUSIM_ASSERT(op.kind == graph::OpKind::RMS_NORM || op.kind == graph::OpKind::LAYER_NORM);
  auto name = [&](graph::TensorId t) { return graph.tensors[static_cast<size_t>(t)].name; };
  NormRef n;
  n.op = op.kind == graph::OpKind::LAYER_NORM ? NormOp::LAYER : NormOp::RMS;
  n.weight = name(op.inputs[1]);
  if (n.op == NormOp::LAYER) n.bias = name(op.inputs[2]);
  n.label = name(op.output);
  n.size = graph.tensors[static_cast<size_t>(op.output)].shape.back();
  return n;
}

void emit_norm(Lowering& l, NormOp op, uint64_t x, int64_t rows, int64_t cols, uint64_t gamma, uint64_t beta,
               uint64_t scratch) {
  Emitter& e = l.emit;
  const uint16_t eps = bf16_bits(l.config.norm_eps);
  const uint64_t stat = scratch, stat2 = scratch + static_cast<uint64_t>(round_up(rows * 2, 128));
  if (op == NormOp::LAYER) {
    e.vred({.a = x, .c = stat}, vargs(rows, cols), ReduceMode::mean);
    VectorArgs center = vargs(rows, cols);
    center.bcast = Broadcast::col;
    e.vbinary(Opcode::vsub, {.a = x, .b = stat, .c = x}, center);
  }
  VectorArgs red = vargs(rows, cols);
  red.scalar = eps;
  e.vred({.a = x, .c = stat2}, red, ReduceMode::rms_inv);
  VectorArgs norm = vargs(rows, cols);
  norm.bcast = Broadcast::col;
  e.vbinary(Opcode::vmul, {.a = x, .b = stat2, .c = x}, norm);
  VectorArgs g = vargs(rows, cols);
  g.bcast = Broadcast::row;
  e.vbinary(Opcode::vmul, {.a = x, .b = gamma, .c = x}, g);
  if (op == NormOp::LAYER) e.vbinary(Opcode::vadd, {.a = x, .b = beta, .c = x}, g);
}

namespace {

// The weight rows (output columns) of `o` this engine computes.
IndexRange out_range(const Lowering& l, const LinearOut& o, const WeightSlot& w) {
  if (o.row_end >= 0) return {o.row_begin, o.row_end};
  return split_rows(w.rows, 64, l.shard);
}

// Norm weights and biases in the parameter area: loaded per chunk, the output's bias after the norms.
class ParamArea {
 public:
  ParamArea(Lowering& l, std::string where) : m_l(l), m_where(std::move(where)), m_top(l.sram.params) {}
  void reset(uint64_t top) { m_top = top; }
  uint64_t top() const { return m_top; }
  uint64_t load(const std::string& name) {  // 0 for no tensor
    if (name.empty()) return 0;
    const WeightSlot& w = m_l.plan.weight(name);
    const uint64_t at = m_top;
    m_top += static_cast<uint64_t>(round_up(w.cols * 2, 128));
    if (m_top > m_l.sram.params + m_l.sram.params_bytes)
      fail("engine compiler: {}: norm weights and biases need more than the {}-byte parameter area", m_where,
           m_l.sram.params_bytes);
    m_l.emit.dma_load(w.codes, at, 1, w.cols * 2);
    return at;
  }

 private:
  Lowering& m_l;
  std::string m_where;
  uint64_t m_top;
};

// How the group's token rows are chunked: the widest output, strip and gating buffers decide what fits SRAM.
struct ChunkPlan {
  int64_t rows = 0;  // token rows per chunk
  int64_t max_out = 0, max_strip_rows = 0;
  uint64_t strip_bytes = 0;
  bool gated = false;
};

ChunkPlan plan_chunks(const Lowering& l, const LinearGroup& g, int64_t rows_total, const std::string& where) {
  ChunkPlan p;
  for (const LinearOut& o : g.outs) {
    const WeightSlot& w = l.plan.weight(o.weight);
    if (w.cols != g.in)
      fail("engine compiler: {}: weight {} has {} columns, its input has {}", where, o.weight, w.cols, g.in);
    const IndexRange range = out_range(l, o, w);
    XPUSIM_ASSERT(range.begin >= 0 && range.end <= w.rows);
    p.max_out = std::max(p.max_out, range.size());
    const Strip s = strip_for(l.chip, w);
    p.max_strip_rows = std::max(p.max_strip_rows, s.rows);
    p.strip_bytes = std::max(p.strip_bytes, s.bytes);
    p.gated = p.gated || !o.gate.empty();
  }
  if (p.max_out == 0) return p;  // this engine has no share of the group (more engines than column strips)
  const int64_t head_dim = l.config.head_dim;
  const uint64_t per_row =
      2 * static_cast<uint64_t>(g.in + p.max_out + (p.gated ? p.max_strip_rows : 0) +
                                (g.residual ? p.max_out : 0) + 4 * head_dim + 2 * 64 + l.config.n_heads);
  const uint64_t fixed = kStripSlots * ((p.strip_bytes + 127) / 128 * 128) + 8192;
  const uint64_t ws = l.sram.end - l.sram.workspace;
  const int64_t fit = ws > fixed ? static_cast<int64_t>((ws - fixed) / per_row) : 0;
  p.rows = std::min({l.max_chunk_rows(), rows_total, fit});
  if (p.rows < 1)
    fail(
        "engine compiler: {}: a linear with {} inputs and {} outputs needs {} KiB of SRAM for one token row "
        "and {} KiB of weight strips; chip {} has {} KiB",
        where, g.in, p.max_out, per_row / 1024, fixed / 1024, l.chip.name, l.chip.sram_kib);
  return p;
}

// SRAM tiles of one chunk of `r` token rows, and what is left after them for the epilogues.
struct ChunkTiles {
  uint64_t slots[kStripSlots] = {};
  uint64_t a = 0, c = 0, gate_tmp = 0, res = 0, scratch = 0;
  uint64_t post_gamma = 0, post_beta = 0, params_after_norms = 0;
  SramArena rest{0, 0};
};

ChunkTiles take_chunk_tiles(const Lowering& l, const LinearGroup& g, const ChunkPlan& p, int64_t r) {
  SramArena arena(l.sram.workspace, l.sram.end);
  ChunkTiles t;
  for (uint64_t& s : t.slots) s = arena.take(p.strip_bytes);
  t.a = arena.take(static_cast<uint64_t>(r * g.in * 2));
  t.c = arena.take(static_cast<uint64_t>(r * p.max_out * 2));
  t.gate_tmp = p.gated ? arena.take(static_cast<uint64_t>(r * p.max_strip_rows * 2)) : 0;
  t.res = g.residual ? arena.take(static_cast<uint64_t>(r * p.max_out * 2)) : 0;
  t.scratch = arena.take(1024 + static_cast<uint64_t>(r) * 8);
  XPUSIM_ASSERT(!arena.overflowed());
  t.rest = arena;
  return t;
}

// Input rows of chunk c0 (and the pre-norm on them), then the post-norm's parameters.
void load_chunk_inputs(Lowering& l, const LinearGroup& g, ChunkTiles& t, int64_t c0, int64_t r,
                       ParamArea& params) {
  Emitter& e = l.emit;
  if (g.pre_norm.op != NormOp::NONE)
    e.begin_group(g.pre_norm.op == NormOp::LAYER ? "layer_norm" : "rms_norm", g.pre_norm.label, g.layer);
  else
    e.begin_group("linear", g.outs.front().label, g.layer);
  if (g.row_list.empty()) {
    e.dma_load(g.in_dram + static_cast<uint64_t>(c0 * g.in * 2), t.a, r, g.in * 2);
  } else {
    for (int64_t i = 0; i < r; ++i)
      e.dma_load(g.in_dram + static_cast<uint64_t>(g.row_list[static_cast<size_t>(c0 + i)] * g.in * 2),
                 t.a + static_cast<uint64_t>(i * g.in * 2), 1, g.in * 2);
  }
  if (g.pre_norm.op != NormOp::NONE) {
    const uint64_t gamma = params.load(g.pre_norm.weight), beta = params.load(g.pre_norm.bias);
    emit_norm(l, g.pre_norm.op, t.a, r, g.in, gamma, beta, t.scratch);
  }
  t.post_gamma = params.load(g.post_norm.weight);
  t.post_beta = params.load(g.post_norm.bias);
  t.params_after_norms = params.top();
}

// One output of the group over chunk c0: strips of act(A W^T + b) (gated: act(A Wg^T) * (A W^T)), the
// tile epilogue, post-norm, residual add, store.
void emit_linear_out(Lowering& l, const LinearGroup& g, const LinearOut& o, const ChunkTiles& t, int64_t c0,
                     int64_t r, ParamArea& params) {
  Emitter& e = l.emit;
  params.reset(t.params_after_norms);
  const WeightSlot& w = l.plan.weight(o.weight);
  const IndexRange range = out_range(l, o, w);
  const int64_t width = range.size();  // output columns of this engine
  if (width == 0) return;
  e.begin_group("linear", o.label, g.layer);
  const Strip s = strip_for(l.chip, w);
  const WeightSlot* gw = o.gate.empty() ? nullptr : &l.plan.weight(o.gate);
  const uint64_t bias = params.load(o.bias);
  const int64_t strips = (width + s.rows - 1) / s.rows;
  for (int64_t j = 0; j < strips; ++j) {
    const int64_t first = range.begin + j * s.rows;
    const int64_t n = std::min(s.rows, range.end - first);
    const uint64_t c_strip = t.c + static_cast<uint64_t>(j * s.rows * 2);
    if (gw != nullptr) {
      const uint64_t slot = t.slots[l.strip_slot++ % kStripSlots];
      const uint64_t sc = load_strip_rows(l, *gw, strip_for(l.chip, *gw), first, n, slot);
      engine::MatmulArgs gm{.m = r, .n = n, .k = g.in, .fmt = gw->format, .act = o.act};
      e.mm({.a = t.a, .b = slot, .c = t.gate_tmp, .s = sc}, gm);
    }
    const uint64_t slot = t.slots[l.strip_slot++ % kStripSlots];
    const uint64_t sc = load_strip_rows(l, w, s, first, n, slot);
    engine::MatmulArgs mm{.m = r, .n = n, .k = g.in, .ldc = width, .fmt = w.format};
    if (gw == nullptr) mm.act = o.act;
    mm.bias_en = !o.bias.empty();
    e.mm({.a = t.a, .b = slot, .c = c_strip, .s = sc, .bias = bias + static_cast<uint64_t>(first * 2)}, mm);
    if (gw != nullptr) {
      VectorArgs v = vargs(r, n);
      v.lda = n, v.ldb = width, v.ldc = width;
      e.vbinary(Opcode::vmul, {.a = t.gate_tmp, .b = c_strip, .c = c_strip}, v);
    }
  }
  if (o.epilogue) {
    SramArena rest = t.rest;  // everything after this chunk's tiles
    o.epilogue(l, t.c, r, c0, rest);
  }
  if (g.post_norm.op != NormOp::NONE) {
    XPUSIM_ASSERT(width == w.rows);  // engine shards normalise whole rows (lower_post_norm_rows)
    e.begin_group("rms_norm", g.post_norm.label, g.layer);
    emit_norm(l, g.post_norm.op, t.c, r, w.rows, t.post_gamma, t.post_beta, t.scratch);
  }
  // Residual and output rows are `w.rows` wide; this engine's columns start at range.begin.
  const bool whole = width == w.rows;
  const auto column = static_cast<uint64_t>(range.begin * 2);
  if (g.residual) {
    e.begin_group("add", o.label + "_residual", g.layer);
    e.dma_load(g.residual_dram + static_cast<uint64_t>(c0 * w.rows * 2) + column, t.res, r, width * 2,
               whole ? 0 : w.rows * 2);
    e.vbinary(Opcode::vadd, {.a = t.c, .b = t.res, .c = t.c}, vargs(r, width));
  }
  if (o.store)
    e.dma_store(o.out_dram + static_cast<uint64_t>(c0 * o.out_stride * 2) + column, t.c, r, width * 2,
                o.out_stride * 2);
}

void lower_linear_core(Lowering& l, const LinearGroup& g) {
  const auto rows_total = g.row_list.empty() ? l.total_tokens : static_cast<int64_t>(g.row_list.size());
  const std::string where = g.layer >= 0 ? fmt::format("layer {}", g.layer) : std::string("the LM head");
  const ChunkPlan plan = plan_chunks(l, g, rows_total, where);
  if (plan.max_out == 0) return;
  ParamArea params(l, where);
  for (int64_t c0 = 0; c0 < rows_total; c0 += plan.rows) {
    const int64_t r = std::min(plan.rows, rows_total - c0);
    ChunkTiles tiles = take_chunk_tiles(l, g, plan, r);
    params.reset(l.sram.params);
    load_chunk_inputs(l, g, tiles, c0, r, params);
    for (const LinearOut& o : g.outs) emit_linear_out(l, g, o, tiles, c0, r, params);
  }
}

// Tensor-parallel post-norm: the linear's raw output rows are in plan.tp_scratch (all columns, written by
// every engine before the barrier); this engine normalises its share of the step's token rows, adds the
// residual and stores them — the same instructions one engine runs on its output tile.
void lower_post_norm_rows(Lowering& l, const LinearGroup& g, const LinearOut& o, int64_t width) {
  Emitter& e = l.emit;
  const IndexRange mine = split_units(l.total_tokens, l.shard);
  if (mine.empty()) return;
  const auto row_bytes = static_cast<uint64_t>(width * 2);
  const uint64_t ws = l.sram.end - l.sram.workspace;
  const int64_t mc = std::min<int64_t>(64, static_cast<int64_t>(ws / (2 * row_bytes + 256)));
  if (mc < 1) fail("engine compiler: layer {}: a {}-wide post-norm row does not fit SRAM", g.layer, width);
  uint64_t param_top = l.sram.params;
  auto load_param = [&](const std::string& name) -> uint64_t {
    if (name.empty()) return 0;
    const uint64_t at = param_top;
    param_top += static_cast<uint64_t>(round_up(width * 2, 128));
    e.dma_load(l.plan.weight(name).codes, at, 1, width * 2);
    return at;
  };
  e.begin_group("rms_norm", g.post_norm.label, g.layer);
  const uint64_t gamma = load_param(g.post_norm.weight), beta = load_param(g.post_norm.bias);
  for (int64_t r0 = mine.begin; r0 < mine.end; r0 += mc) {
    const int64_t r = std::min(mc, mine.end - r0);
    SramArena arena(l.sram.workspace, l.sram.end);
    const uint64_t x = arena.take(static_cast<uint64_t>(r) * row_bytes);
    const uint64_t res = arena.take(static_cast<uint64_t>(r) * row_bytes);
    const uint64_t scratch = arena.take(1024 + static_cast<uint64_t>(r) * 8);
    XPUSIM_ASSERT(!arena.overflowed());
    e.begin_group("rms_norm", g.post_norm.label, g.layer);
    e.dma_load(l.plan.tp_scratch + static_cast<uint64_t>(r0) * row_bytes, x, r, width * 2);
    emit_norm(l, g.post_norm.op, x, r, width, gamma, beta, scratch);
    if (g.residual) {
      e.begin_group("add", o.label + "_residual", g.layer);
      e.dma_load(g.residual_dram + static_cast<uint64_t>(r0) * row_bytes, res, r, width * 2);
      e.vbinary(Opcode::vadd, {.a = x, .b = res, .c = x}, vargs(r, width));
    }
    e.dma_store(o.out_dram + static_cast<uint64_t>(r0 * o.out_stride * 2), x, r, width * 2, o.out_stride * 2);
  }
}

}  // namespace

void lower_linear_group(Lowering& l, const LinearGroup& g) {
  if (!l.shard.parallel() || g.post_norm.op == NormOp::NONE) {
    lower_linear_core(l, g);
    return;
  }
  // A post-norm needs whole output rows: raw column slices to DRAM scratch, a barrier, then row slices.
  XPUSIM_ASSERT(g.outs.size() == 1 && g.outs.front().store && !g.outs.front().epilogue && g.row_list.empty());
  const LinearOut& o = g.outs.front();
  const int64_t width = l.plan.weight(o.weight).rows;
  LinearGroup raw = g;
  raw.post_norm = NormRef{};
  raw.residual = false;
  raw.outs.front().out_dram = l.plan.tp_scratch;
  raw.outs.front().out_stride = width;
  lower_linear_core(l, raw);
  emit_barrier(l, g.layer);
  lower_post_norm_rows(l, g, o, width);
}

}  // namespace xpusim::compiler
