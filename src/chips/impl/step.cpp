// One step of a family model: cached context-independent op costs + attention per sequence + pipeline stage
// transfers, summed; pipeline-parallel systems also try splitting the batch into micro-batches (bubbles when
// there are fewer micro-batches than stages) and keep the faster schedule.
#include <algorithm>
#include <array>
#include <cmath>

#include "chips/impl/family_model.h"
#include "core/error.h"

namespace xpusim::chips::impl {

void sum_step(StepCost& step, size_t levels) {
  step.seconds = 0;
  step.flops = 0;
  step.link_bytes = 0;
  step.bytes_per_level.assign(levels, 0.0);
  step.energy = EnergySplit{};
  std::array<double, 4> by_bound{};
  for (const OpCost& op : step.ops) {
    step.seconds += op.seconds;
    step.flops += op.flops;
    step.link_bytes += op.link_bytes;
    for (size_t i = 0; i < levels && i < op.bytes_per_level.size(); ++i)
      step.bytes_per_level[i] += op.bytes_per_level[i];
    step.energy += op.energy;
    by_bound[static_cast<size_t>(op.bound)] += op.seconds;
  }
  step.bound = static_cast<Bound>(std::max_element(by_bound.begin(), by_bound.end()) - by_bound.begin());
}

StepCost FamilyModel::evaluate(const StepShape& shape) {
  int64_t tokens = 0, sequences = 0;
  for (const SequenceChunk& seq : shape.sequences) {
    if (seq.new_tokens <= 0) continue;
    tokens += seq.new_tokens;
    ++sequences;
  }
  const CachedOps& cached = cached_ops(tokens, sequences);
  StepCost step;
  step.ops = cached.ops;
  for (size_t i = 0; i < cached.attention.size(); ++i)
    step.ops[cached.attention[i]] = attention_cost(*cached.attention_ops[i], shape);
  if (m_options.stack.valid())
    step.ops.push_back(stack_overhead(static_cast<double>(tokens), static_cast<double>(sequences)));
  if (m_stages > 1) {
    // Activations of the step cross each stage boundary once, after the hop latency.
    const Interconnect& net = *m_chip.interconnect;
    OpCost hop;
    hop.op_type = "transfer";
    hop.label = fmt::format("activations over {} stage boundaries", m_stages - 1);
    hop.bytes_per_level.assign(m_chip.memory.size(), 0.0);
    const double bytes = static_cast<double>(tokens * m_config.hidden) * m_act_bytes;
    hop.link_bytes = bytes * (m_stages - 1);
    hop.seconds = (m_stages - 1) * (net.latency_us * 1e-6 + bytes / (net.link_bandwidth_gbps * 1e9));
    hop.bound = Bound::INTERCONNECT;
    hop.energy.links_j = hop.link_bytes * 8 * m_energy.pj_per_link_bit * 1e-12;
    hop.energy.static_j = m_static_w * hop.seconds;
    step.ops.push_back(hop);
  }
  add_layer_sync(step);
  sum_step(step, m_chip.memory.size());
  return step;
}

// Statically scheduled multi-chip systems: a decoder layer cannot finish faster than the chips holding it
// synchronise (system.layer_sync_us, measured per layer at batch 1). The layers' own work and the stage hops
// run inside that time; only the part of the floor they do not fill is added, as one "sync" op.
void FamilyModel::add_layer_sync(StepCost& step) const {
  if (m_layer_sync_s <= 0) return;
  double layered_s = 0;
  for (const OpCost& op : step.ops)
    if (op.layer >= 0 || op.op_type == "transfer") layered_s += op.seconds;
  const double floor_s = static_cast<double>(m_config.n_layers) * m_layer_sync_s;
  // Always present (0 s when the work fills the floor) so steps keep the same op list for merging.
  OpCost sync;
  sync.op_type = "sync";
  sync.label = fmt::format("per-layer synchronisation: {} layers x {:g} us, beyond their work",
                           m_config.n_layers, m_layer_sync_s * 1e6);
  sync.bytes_per_level.assign(m_chip.memory.size(), 0.0);
  sync.seconds = std::max(0.0, floor_s - layered_s);
  sync.bound = Bound::INTERCONNECT;
  sync.energy.static_j = m_static_w * sync.seconds;
  step.ops.push_back(sync);
}

// The stack's serialised costs: kernel gaps of every layer (a layer's kernels run once per step whatever the
// batch) and the host's per-step work. Weight-only dequantization inside the matmul kernels, when the stack's
// kernels do not overlap it with the weight stream, costs dequant_ops_per_weight vector ops per weight read.
OpCost FamilyModel::stack_overhead(double tokens_in_step, double sequences) const {
  const StackProfile& stack = m_options.stack;
  OpCost cost;
  cost.op_type = "stack";
  cost.label = fmt::format("{}: kernel gaps and host work", stack.name);
  cost.bytes_per_level.assign(m_chip.memory.size(), 0.0);
  // A step with more tokens than sequences holds a prompt: stacks that trace only decode dispatch it op by
  // op.
  const bool prefill = tokens_in_step > sequences;
  const double gap =
      prefill && stack.prefill_kernel_gap_us > 0 ? stack.prefill_kernel_gap_us : stack.kernel_gap_us;
  double seconds =
      (static_cast<double>(m_config.n_layers) * stack.kernels_per_layer * gap + stack.step_overhead_us) *
      1e-6;
  if (m_precision.dequantize && stack.dequant_in_series) {
    const double weights_read = static_cast<double>(m_config.active_param_count()) / m_tensor_ways;
    const double dequant_ops =
        weights_read * m_precision.convert_ops_per_weight * std::ceil(tokens_in_step / 128);
    seconds += dequant_ops / m_hooks.integer_ops_per_s;
    cost.energy.compute_j = dequant_ops * m_tensor_ways * m_energy.pj_per_vector_flop * 1e-12;
  }
  cost.seconds = seconds;
  cost.bound = Bound::OVERHEAD;
  cost.energy.static_j = m_static_w * seconds;
  return cost;
}

StepCost FamilyModel::evaluate_pipelined(const StepShape& shape, int64_t micro_batches) {
  std::vector<StepShape> groups(static_cast<size_t>(micro_batches));
  size_t next = 0;
  for (const SequenceChunk& seq : shape.sequences) {
    if (seq.new_tokens <= 0) continue;
    groups[next].sequences.push_back(seq);
    next = (next + 1) % groups.size();
  }
  StepCost merged;
  double slowest_group = 0;
  for (const StepShape& group : groups) {
    StepCost cost = evaluate(group);
    slowest_group = std::max(slowest_group, cost.seconds);
    if (merged.ops.empty()) {
      merged = std::move(cost);
      continue;
    }
    if (cost.ops.size() != merged.ops.size()) return evaluate(shape);
    for (size_t i = 0; i < cost.ops.size(); ++i) {
      OpCost& into = merged.ops[i];
      const OpCost& from = cost.ops[i];
      into.seconds += from.seconds;
      into.flops += from.flops;
      into.link_bytes += from.link_bytes;
      for (size_t l = 0; l < into.bytes_per_level.size(); ++l)
        into.bytes_per_level[l] += from.bytes_per_level[l];
      into.energy += from.energy;
    }
  }
  sum_step(merged, m_chip.memory.size());
  // Micro-batches flow through the stages: (stages + micro_batches - 1) stage slots of the slowest group.
  const double pipelined = slowest_group * static_cast<double>(m_stages + micro_batches - 1) / m_stages;
  const double scale = pipelined / merged.seconds;
  for (OpCost& op : merged.ops) {
    op.seconds *= scale;
    op.energy.static_j = m_static_w * op.seconds;
  }
  sum_step(merged, m_chip.memory.size());
  return merged;
}

StepCost FamilyModel::step(const StepShape& shape) {
  if (shape.sequences.empty()) fail("step of model '{}' on '{}': no sequences", m_config.name, m_chip.name);
  double kv_tokens = 0;
  int64_t sequences = 0;
  for (size_t i = 0; i < shape.sequences.size(); ++i) {
    const SequenceChunk& seq = shape.sequences[i];
    if (seq.new_tokens < 0 || seq.context < 0)
      fail("step on '{}': sequence {} has new_tokens = {}, context = {} (both must be >= 0)", m_chip.name, i,
           seq.new_tokens, seq.context);
    if (seq.new_tokens > 0) ++sequences;
    kv_tokens += static_cast<double>(seq.new_tokens + seq.context);
  }
  if (sequences == 0) fail("step on '{}': every sequence has new_tokens = 0", m_chip.name);
  if (kv_tokens > m_plan.kv_capacity_tokens)
    fail(
        "chip '{}': KV cache of {:.0f} tokens ({:.4g} GB) does not fit next to the weights: room for {:.0f} "
        "tokens in "
        "{} x {}",
        m_chip.name, kv_tokens, kv_tokens * m_plan.kv_bytes_per_token / 1e9, m_plan.kv_capacity_tokens,
        m_plan.chips_used, m_chip.memory.back().name);
  StepCost best = evaluate(shape);
  if (m_stages > 1 && sequences > 1) {
    const int64_t micro = std::min<int64_t>(sequences, m_stages);
    StepCost alt = evaluate_pipelined(shape, micro);
    if (alt.seconds < best.seconds) best = std::move(alt);
  }
  return best;
}

}  // namespace xpusim::chips::impl
