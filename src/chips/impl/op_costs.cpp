// Per-op costs of the family models: graph op -> Work on one chip -> traffic per level -> OpCost (time,
// bound, energy). Linear layers see all new tokens of the step (weights read once per step); attention is
// costed per sequence at its own context (flash-style: scores stay on chip, K/V read once per query block).
#include <algorithm>
#include <cmath>

#include "chips/impl/family_model.h"
#include "core/error.h"
#include "graph/builder.h"

namespace xpusim::chips::impl {
namespace {

bool is_row_parallel(const std::string& weight_name) {
  return weight_name.find("attn_output") != std::string::npos ||
         weight_name.find("ffn_down") != std::string::npos;
}

double ceil_div(double a, double b) { return std::ceil(a / b - 1e-9); }

}  // namespace

double FamilyModel::capacity_inside(int level) const {
  if (level == 0) return 0;
  return m_chip.memory[level - 1].capacity_bytes;
}

// How many times each GEMM operand is read from `level`: the level inside it keeps the operand slices of an
// Mb x Nb output block (double-buffered k-slices); weights are re-read ceil(m / Mb) times and
// activations ceil(n / Nb) times. Level 0 feeds the matrix engines' register block.
std::pair<double, double> FamilyModel::gemm_passes(const Gemm& g, int level, double ab, double wb) const {
  double mb = 0, nb = 0;
  const double cap = capacity_inside(level);
  if (cap <= 0) {
    mb = std::min(g.m, m_hooks.register_rows);
    nb = std::min(g.n, m_hooks.register_cols);
  } else {
    // Operand slices of kc = 64 deep, double-buffered: (Mb x kc activations + Nb x kc weights) x 2 fit in the
    // level; the accumulators of the output block live in registers / the matrix engine.
    const double kc = std::min(g.k, 64.0);
    const double per_row = 2 * kc;
    const double b = std::max(1.0, cap / (per_row * (ab + wb)));
    mb = std::min(g.m, b);
    nb = std::min(g.n, b);
    if (mb < b) {
      nb = std::min(g.n, std::max(1.0, (cap - mb * per_row * ab) / (per_row * wb)));
    } else if (nb < b) {
      mb = std::min(g.m, std::max(1.0, (cap - nb * per_row * wb) / (per_row * ab)));
    }
  }
  return {ceil_div(g.m, std::max(1.0, mb)), ceil_div(g.n, std::max(1.0, nb))};
}

FamilyModel::Work FamilyModel::work_of(const graph::Graph& g, const graph::Op& op, double rows) const {
  using graph::OpKind;
  Work w;
  w.op_type = std::string(graph::op_name(op.kind));
  w.label = g.tensors[op.output].name;
  w.layer = op.layer;
  const double p = m_tensor_ways;
  w.chips_working = p;
  const double wbits = m_precision.weight_bits;
  const auto& out_shape = g.tensors[op.output].shape;
  const double graph_rows = out_shape.empty() ? 1 : static_cast<double>(out_shape[0]);
  const double row_scale = rows / std::max(1.0, graph_rows);
  const double hidden = static_cast<double>(m_config.hidden);
  switch (op.kind) {
    case OpKind::RESHAPE:
    case OpKind::SLICE_ROWS:
      w.view = true;
      return w;
    case OpKind::LINEAR: {
      const auto& weight = g.tensors[op.inputs[1]];
      const double out = static_cast<double>(weight.shape[0]), in = static_cast<double>(weight.shape[1]);
      Gemm gemm{rows, out, in, 1};
      if (p > 1 && is_row_parallel(weight.name)) {
        gemm.k = ceil_div(in, p);
        w.allreduce_bytes = rows * out * m_act_bytes;
      } else if (p > 1) {
        gemm.n = ceil_div(out, p);
      }
      w.gemms.push_back(gemm);
      w.matrix_flops = gemm.flops();
      if (op.inputs.size() > 2) w.vector_flops = rows * gemm.n;
      if (m_precision.dequantize) w.dequant_flops = 2 * gemm.n * gemm.k;
      (void)wbits;
      return w;
    }
    case OpKind::MOE: {
      const auto& gate = g.tensors[op.inputs[2]];
      const double fe = ceil_div(static_cast<double>(gate.shape[0]), p);
      const double experts = static_cast<double>(m_config.n_experts);
      const double routed = rows * static_cast<double>(op.attrs.top_k);
      const double touched = std::min(experts, routed);
      const double m = ceil_div(routed, touched);
      w.gemms.push_back(Gemm{m, 2 * fe, hidden, touched});
      w.gemms.push_back(Gemm{m, hidden, fe, touched});
      w.matrix_flops = 2 * routed * 3 * fe * hidden;
      w.vector_flops = routed * (5 * fe + 2 * hidden) + rows * 4 * experts;
      if (m_precision.dequantize) w.dequant_flops = 2 * touched * 3 * fe * hidden;
      if (p > 1) w.allreduce_bytes = rows * hidden * m_act_bytes;
      return w;
    }
    case OpKind::EMBED_ROWS: {
      const auto& table = g.tensors[op.inputs[0]];
      w.weight_bytes = rows * static_cast<double>(table.shape[1]) * wbits / 8;
      w.act_bytes = rows * static_cast<double>(table.shape[1]) * m_act_bytes;
      w.chips_working = p;
      return w;
    }
    case OpKind::KV_STORE: {
      const double width = static_cast<double>(g.tensors[op.inputs[0]].shape[1]);
      w.kv_write = rows * ceil_div(width, p) * m_kv_bytes;
      w.fused = m_hooks.fuses_elementwise;
      return w;
    }
    default:
      break;
  }
  // Element-wise ops and norms: split over chips when they act on a split tensor (heads, ffn), else
  // replicated.
  const double width = out_shape.size() > 1 ? static_cast<double>(out_shape[1]) : 1;
  const double split = (p > 1 && width != hidden) ? p : 1;
  w.vector_flops = graph::op_traits(op.kind).flops(g, op) * row_scale / split;
  double act_elements = 0;
  for (graph::TensorId input : op.inputs) {
    const auto& t = g.tensors[input];
    if (t.role == graph::TensorRole::WEIGHT)
      w.weight_bytes += 4.0 * static_cast<double>(t.elements());
    else if (t.role != graph::TensorRole::INPUT)
      act_elements += static_cast<double>(t.elements()) * row_scale / split;
  }
  act_elements += static_cast<double>(g.tensors[op.output].elements()) * row_scale / split;
  w.act_bytes = act_elements * m_act_bytes;
  const bool norm = graph::op_has(op.kind, graph::OP_REDUCTION);
  w.fused = m_hooks.fuses_elementwise && !norm;
  return w;
}

void FamilyModel::fill_traffic(Work& w) const {
  const int levels = static_cast<int>(m_chip.memory.size());
  const int outer = levels - 1;
  w.traffic.assign(levels, 0.0);
  const double ab = m_act_bytes, wb = m_precision.weight_bits / 8;
  for (const Gemm& g : w.gemms) {
    const double x = g.m * g.k * g.batch * ab, wt = g.n * g.k * g.batch * wb, y = g.m * g.n * g.batch * ab;
    const int home_act = home_level(x + y);
    for (int i = 0; i < levels; ++i) {
      const auto [weight_passes, act_passes] = gemm_passes(g, i, ab, wb);
      if (i <= m_weight_level) w.traffic[i] += wt * weight_passes;
      if (i <= home_act) w.traffic[i] += x * act_passes + y;
    }
  }
  if (!w.fused && w.act_bytes > 0) {
    const int home_act = home_level(w.act_bytes);
    for (int i = 0; i <= home_act; ++i) w.traffic[i] += w.act_bytes;
  }
  for (int i = 0; i <= m_weight_level; ++i) w.traffic[i] += w.weight_bytes;
  for (int i = 0; i <= outer; ++i) w.traffic[i] += w.kv_write;
  double compute = 0;
  for (const Gemm& g : w.gemms) compute += m_hooks.gemm_seconds(g, m_peak);
  compute += (w.vector_flops + w.dequant_flops) / m_hooks.vector_flops_per_s;
  w.compute_s = compute;
}

OpCost FamilyModel::finish(const Work& w) const {
  OpCost cost;
  cost.op_type = w.op_type;
  cost.label = w.label;
  cost.layer = w.layer;
  const size_t levels = m_chip.memory.size();
  cost.bytes_per_level.assign(levels, 0.0);
  if (w.view) return cost;
  double slowest = w.compute_s;
  cost.bound = Bound::COMPUTE;
  double memory_s = 0;
  for (size_t i = 0; i < levels; ++i) {
    const double seconds = w.traffic[i] / level_bandwidth(static_cast<int>(i));
    if (seconds > slowest) {
      slowest = seconds;
      cost.bound = Bound::MEMORY;
      cost.bound_level = static_cast<int>(i);
    }
    memory_s = std::max(memory_s, seconds);
    cost.bytes_per_level[i] = w.traffic[i] * w.chips_working;
  }
  double work_s = std::max(w.compute_s, memory_s);
  // Tensor parallel: ring all-reduce after the op, 2(p-1)/p of the tensor per chip over its links.
  double link_s = 0, wire_per_chip = 0;
  if (w.allreduce_bytes > 0 && m_tensor_ways > 1) {
    const double p = m_tensor_ways;
    const Interconnect& net = *m_chip.interconnect;
    const double links = net.topology == Topology::SWITCH ? net.links : std::min(net.links, 2);
    wire_per_chip = 2 * (p - 1) / p * w.allreduce_bytes;
    const double rounds = m_hooks.direct_collectives ? 2 : 2 * (p - 1);
    link_s = wire_per_chip / (links * net.link_bandwidth_gbps * 1e9) + rounds * net.latency_us * 1e-6;
    cost.link_bytes = wire_per_chip * p;
    if (link_s > slowest) {
      slowest = link_s;
      cost.bound = Bound::INTERCONNECT;
      cost.bound_level = -1;
    }
  }
  work_s += link_s;
  const double overhead = w.fused ? 0.0 : m_chip.efficiency.launch_overhead_us * 1e-6;
  cost.seconds = m_hooks.async_launch ? std::max(work_s, overhead) : work_s + overhead;
  if (overhead > slowest) {
    cost.bound = Bound::OVERHEAD;
    cost.bound_level = -1;
  }
  cost.flops = (w.matrix_flops + w.vector_flops) * w.chips_working;
  const double pj = 1e-12;
  cost.energy.compute_j = (w.matrix_flops / 2 * m_energy.pj_per_mac +
                           (w.vector_flops + w.dequant_flops) * m_energy.pj_per_vector_flop) *
                          w.chips_working * pj;
  for (size_t i = 0; i < levels; ++i) {
    const double joules = cost.bytes_per_level[i] * m_energy.pj_per_byte[i] * pj;
    if (m_chip.memory[i].kind == MemoryKind::DRAM)
      cost.energy.offchip_memory_j += joules;
    else
      cost.energy.onchip_memory_j += joules;
  }
  cost.energy.links_j = cost.link_bytes * 8 * m_energy.pj_per_link_bit * pj;
  cost.energy.static_j = m_static_w * cost.seconds;
  return cost;
}

OpCost FamilyModel::attention_cost(const graph::Op& op, const StepShape& shape) const {
  const double p = m_tensor_ways;
  const double heads = ceil_div(static_cast<double>(op.attrs.n_heads), p);
  const double kv_heads = ceil_div(static_cast<double>(op.attrs.n_kv_heads), p);
  const double group = static_cast<double>(op.attrs.n_heads) / static_cast<double>(op.attrs.n_kv_heads);
  const double d = static_cast<double>(op.attrs.head_dim);
  const int64_t window = op.attrs.window;
  const int levels = static_cast<int>(m_chip.memory.size());
  const int outer = levels - 1;
  Work w;
  w.op_type = "attention";
  w.label = fmt::format("blk.{}.attention", op.layer);
  w.layer = op.layer;
  w.chips_working = p;
  w.traffic.assign(levels, 0.0);
  for (const SequenceChunk& seq : shape.sequences) {
    if (seq.new_tokens <= 0) continue;
    const int64_t q = seq.new_tokens, c = seq.context;
    // Keys visible to query i (position c + i) are min(c + i + 1, window).
    double keys = 0;
    if (window <= 0) {
      keys = static_cast<double>(q) * static_cast<double>(c) + static_cast<double>(q) * (q + 1) / 2.0;
    } else {
      const int64_t first = c + 1, last = c + q;  // number of keys without the window, per query
      const int64_t below =
          std::clamp<int64_t>(window, first - 1, last);  // positions p < window counted fully
      const double full_count = static_cast<double>(below - (first - 1));
      keys = (static_cast<double>(first + below) * full_count) / 2.0 +
             static_cast<double>(last - below) * static_cast<double>(window);
    }
    const int64_t first_row = window > 0 ? std::max<int64_t>(0, c + 1 - window) : 0;
    double kv_rows = static_cast<double>(c + q - first_row);
    // A static cache (JetStream) attends over every slot, masked: reads and FLOPs of the full length.
    const int64_t static_slots = m_options.stack.static_kv_tokens;
    if (static_slots > 0 && q == 1) {
      kv_rows =
          std::max(kv_rows, static_cast<double>(window > 0 ? std::min(window, static_slots) : static_slots));
      keys = std::max(keys, kv_rows);
    }
    const double rows = static_cast<double>(q) * group;
    const double causal = keys / (static_cast<double>(q) * kv_rows);
    const Gemm scores{rows, kv_rows, d, kv_heads}, values{rows, d, kv_rows, kv_heads};
    const auto& attention_gemm =
        m_hooks.attention_gemm_seconds ? m_hooks.attention_gemm_seconds : m_hooks.gemm_seconds;
    w.compute_s += (attention_gemm(scores, m_peak) + attention_gemm(values, m_peak)) * causal;
    w.matrix_flops += heads * keys * 4 * d;
    w.vector_flops += heads * keys * 4;
    const double qo = 2 * static_cast<double>(q) * heads * d * m_act_bytes;
    const double kv = 2 * kv_rows * kv_heads * d * m_kv_bytes;
    const int home_act = home_level(qo);
    for (int i = 0; i <= outer; ++i) {
      // Query block kept inside level i: queries + fp32 accumulators, next to a 64-row K/V chunk.
      const double cap = capacity_inside(i);
      double block = m_hooks.register_rows;
      if (cap > 0) block = std::max(1.0, (cap / 2 - 64 * 2 * d * m_kv_bytes) / (d * (m_act_bytes + 4)));
      w.traffic[i] += kv * ceil_div(rows, std::min(rows, block));
      if (i <= home_act) w.traffic[i] += qo;
    }
  }
  w.compute_s += w.vector_flops / m_hooks.vector_flops_per_s;
  return finish(w);
}

const FamilyModel::CachedOps& FamilyModel::cached_ops(int64_t tokens, int64_t sequences) {
  const auto key = std::make_pair(tokens, sequences);
  if (auto found = m_cache.find(key); found != m_cache.end()) return *found->second;
  // Serving simulations see many distinct batch shapes; bound the memory (costs are rebuilt on demand).
  if (m_cache.size() >= 512) m_cache.clear();
  auto& slot = m_cache[key];
  auto cached = std::make_unique<CachedOps>();
  graph::StepShape graph_shape;
  graph_shape.n_tokens = tokens;
  cached->graph = graph::build_step(m_config, graph_shape);
  const graph::Graph& g = cached->graph;
  bool after_slice = false;
  for (const graph::Op& op : g.ops) {
    if (op.kind == graph::OpKind::SLICE_ROWS) after_slice = true;
    if (op.kind == graph::OpKind::ATTENTION) {
      cached->attention.push_back(cached->ops.size());
      cached->attention_ops.push_back(&op);
      cached->ops.emplace_back();
      continue;
    }
    // The graph keeps one row after the slice; a batched step needs the last row of every sequence.
    const double rows =
        after_slice
            ? static_cast<double>(sequences)
            : static_cast<double>(g.tensors[op.output].shape.empty() ? 1 : g.tensors[op.output].shape[0]);
    Work work = work_of(g, op, rows);
    if (!work.view) fill_traffic(work);
    cached->ops.push_back(finish(work));
  }
  slot = std::move(cached);
  return *slot;
}

}  // namespace xpusim::chips::impl
