#include "graph/passes/fuse.h"

#include <algorithm>

#include "core/error.h"
#include "graph/passes/readers.h"

namespace xpusim::graph {

bool is_epilogue_op(OpKind kind) {
  switch (kind) {
    case OpKind::RESHAPE:
    case OpKind::RMS_NORM:
    case OpKind::LAYER_NORM:
    case OpKind::ROPE:
    case OpKind::KV_STORE:
    case OpKind::ADD:
    case OpKind::SOFTCAP:
      return true;
    default:
      return false;
  }
}

namespace {

bool is_norm(OpKind kind) { return kind == OpKind::RMS_NORM || kind == OpKind::LAYER_NORM; }
bool is_activation(OpKind kind) { return kind == OpKind::SILU || kind == OpKind::GELU_TANH; }

class Fuser {
 public:
  explicit Fuser(const Graph& graph) : m_g(graph), m_uses(use_lists(graph)), m_taken(graph.ops.size()) {}

  FusionPlan run() {
    for (size_t i = 0; i < m_g.ops.size(); ++i) {
      if (!m_taken[i]) m_plan.groups.push_back(group_from(static_cast<int32_t>(i)));
    }
    check_order();
    return std::move(m_plan);
  }

 private:
  const Op& op(int32_t index) const { return m_g.ops[static_cast<size_t>(index)]; }
  int32_t producer(TensorId tensor) const { return m_uses.writer[static_cast<size_t>(tensor)]; }
  const std::vector<int32_t>& readers(TensorId tensor) const {
    return m_uses.readers[static_cast<size_t>(tensor)];
  }
  bool available(TensorId tensor) const {
    const int32_t writer = producer(tensor);
    return writer < 0 || m_taken[static_cast<size_t>(writer)];
  }
  void take(FusedGroup& group, int32_t index) {
    XPUSIM_ASSERT(!m_taken[static_cast<size_t>(index)]);
    m_taken[static_cast<size_t>(index)] = true;
    group.ops.push_back(index);
  }

  FusedGroup group_from(int32_t index) {
    const Op& o = op(index);
    switch (o.kind) {
      case OpKind::EMBED_ROWS:
        if (o.inputs[1] == m_g.tokens) return embedding(index);
        break;
      case OpKind::SLICE_ROWS: {
        const int32_t next = m_uses.sole_reader(o.output);
        if (next >= 0 && is_norm(op(next).kind) && linear_readers(op(next).output))
          return linears(index, next, op(next).output);
        if (linear_readers(o.output)) return linears(index, -1, o.output);
        break;
      }
      case OpKind::RMS_NORM:
      case OpKind::LAYER_NORM:
        if (linear_readers(o.output)) return linears(-1, index, o.output);
        if (int32_t moe = moe_reading(o.output); moe >= 0) return mixture(index, moe);
        break;
      case OpKind::LINEAR:
        return linears(-1, -1, o.inputs[0]);
      default:
        break;
    }
    FusedGroup single{.kind = GroupKind::SINGLE, .layer = o.layer, .anchor = index};
    take(single, index);
    return single;
  }

  // Every reader of `tensor` is a LINEAR reading it as its input rows.
  bool linear_readers(TensorId tensor) const {
    const std::vector<int32_t>& ops = readers(tensor);
    return !ops.empty() && std::all_of(ops.begin(), ops.end(), [&](int32_t r) {
      return op(r).kind == OpKind::LINEAR && op(r).inputs[0] == tensor;
    });
  }

  // A MOE reading `tensor` as its rows and, through a router LINEAR also reading `tensor`, as its logits.
  int32_t moe_reading(TensorId tensor) const {
    const std::vector<int32_t>& ops = readers(tensor);
    if (ops.size() != 2) return -1;
    const int32_t router = op(ops[0]).kind == OpKind::LINEAR ? ops[0] : ops[1];
    const int32_t moe = router == ops[0] ? ops[1] : ops[0];
    if (op(router).kind != OpKind::LINEAR || op(moe).kind != OpKind::MOE || op(moe).inputs[0] != tensor ||
        op(moe).inputs[1] != op(router).output || m_uses.sole_reader(op(router).output) != moe)
      return -1;
    return moe;
  }

  FusedGroup embedding(int32_t index) {
    FusedGroup group{.kind = GroupKind::EMBEDDING, .layer = op(index).layer, .anchor = index};
    take(group, index);
    TensorId x = op(index).output;
    const int32_t add = m_uses.sole_reader(x);
    if (add >= 0 && op(add).kind == OpKind::ADD) {
      const TensorId other = op(add).inputs[0] == x ? op(add).inputs[1] : op(add).inputs[0];
      const int32_t positions = producer(other);
      if (positions >= 0 && op(positions).kind == OpKind::EMBED_ROWS &&
          op(positions).inputs[1] == m_g.positions && !m_taken[static_cast<size_t>(positions)]) {
        group.positions = positions;
        take(group, positions);
        take(group, add);
        x = op(add).output;
      }
    }
    const int32_t scale = m_uses.sole_reader(x);
    if (scale >= 0 && op(scale).kind == OpKind::SCALE) {
      group.scale = scale;
      take(group, scale);
    }
    std::sort(group.ops.begin(), group.ops.end());
    return group;
  }

  FusedGroup linears(int32_t slice, int32_t norm, TensorId input) {
    FusedGroup group{.kind = GroupKind::LINEARS, .slice = slice, .pre_norm = norm};
    if (slice >= 0) take(group, slice);
    if (norm >= 0) take(group, norm);
    std::vector<int32_t> members;
    for (int32_t r : readers(input)) {
      if (op(r).kind == OpKind::LINEAR && op(r).inputs[0] == input && !m_taken[static_cast<size_t>(r)])
        members.push_back(r);
    }
    XPUSIM_ASSERT(!members.empty());
    group.layer = op(members.front()).layer;
    for (int32_t linear : members) {
      if (m_taken[static_cast<size_t>(linear)]) continue;  // the gate of a pair formed earlier
      FusedLinear fused = fuse_linear(group, linear, members);
      extend_epilogue(group, fused);
      group.linears.push_back(std::move(fused));
    }
    std::sort(group.ops.begin(), group.ops.end());
    return group;
  }

  // The gate of a gated pair whose other linear is `up`: MUL(act(gate), up) with every link read once.
  int32_t gate_of(int32_t up, const std::vector<int32_t>& members) const {
    const int32_t mul = m_uses.sole_reader(op(up).output);
    if (mul < 0 || op(mul).kind != OpKind::MUL) return -1;
    const TensorId other = op(mul).inputs[0] == op(up).output ? op(mul).inputs[1] : op(mul).inputs[0];
    const int32_t act = producer(other);
    if (act < 0 || !is_activation(op(act).kind) || m_uses.sole_reader(other) != mul) return -1;
    const int32_t gate = producer(op(act).inputs[0]);
    if (gate < 0 || gate == up || m_uses.sole_reader(op(act).inputs[0]) != act) return -1;
    return std::find(members.begin(), members.end(), gate) != members.end() ? gate : -1;
  }

  FusedLinear fuse_linear(FusedGroup& group, int32_t linear, const std::vector<int32_t>& members) {
    FusedLinear fused{.linear = linear, .output = op(linear).output};
    // A gated pair is formed at whichever of its linears comes first; `linear` may be the up or the gate.
    for (int32_t up : members) {
      if (m_taken[static_cast<size_t>(up)]) continue;
      const int32_t gate = gate_of(up, members);
      if (gate < 0 || (up != linear && gate != linear)) continue;
      fused.linear = up, fused.gate = gate;
      fused.activation = m_uses.sole_reader(op(gate).output);
      fused.gate_mul = m_uses.sole_reader(op(up).output);
      for (int32_t i : {up, gate, fused.activation, fused.gate_mul}) take(group, i);
      fused.output = op(fused.gate_mul).output;
      return fused;
    }
    take(group, linear);
    const int32_t act = m_uses.sole_reader(op(linear).output);
    if (act >= 0 && is_activation(op(act).kind)) {
      fused.activation = act;
      take(group, act);
      fused.output = op(act).output;
    }
    return fused;
  }

  // Ops that run on the output tile: per-head norms (RESHAPE, norm, RESHAPE back), norms, RoPE, a soft-cap,
  // then a KV store or the residual add, which end the chain (their output is state, resp. the residual
  // stream that later groups read).
  void extend_epilogue(FusedGroup& group, FusedLinear& fused) {
    TensorId t = fused.output;
    for (;;) {
      const int32_t next = m_uses.sole_reader(t);
      if (next < 0 || m_taken[static_cast<size_t>(next)] || !is_epilogue_op(op(next).kind)) return;
      const Op& o = op(next);
      if (o.kind == OpKind::RESHAPE) {
        const int32_t norm = m_uses.sole_reader(o.output);
        if (norm < 0 || !is_norm(op(norm).kind)) return;
        const int32_t back = m_uses.sole_reader(op(norm).output);
        if (back < 0 || op(back).kind != OpKind::RESHAPE ||
            m_g.tensors[static_cast<size_t>(op(back).output)].shape !=
                m_g.tensors[static_cast<size_t>(t)].shape)
          return;
        for (int32_t i : {next, norm, back}) {
          take(group, i);
          fused.epilogue.push_back(i);
        }
        t = fused.output = op(back).output;
        continue;
      }
      if (o.inputs[0] != t && o.kind != OpKind::ADD) return;
      if (o.kind == OpKind::ADD && !available(o.inputs[0] == t ? o.inputs[1] : o.inputs[0])) return;
      take(group, next);
      fused.epilogue.push_back(next);
      t = fused.output = o.output;
      if (o.kind == OpKind::KV_STORE || o.kind == OpKind::ADD) return;
    }
  }

  FusedGroup mixture(int32_t norm, int32_t moe) {
    FusedGroup group{.kind = GroupKind::MOE, .layer = op(moe).layer, .pre_norm = norm, .anchor = moe};
    take(group, norm);
    const int32_t router = producer(op(moe).inputs[1]);
    group.linears.push_back(FusedLinear{.linear = router, .output = op(router).output});
    take(group, router);
    take(group, moe);
    const int32_t add = m_uses.sole_reader(op(moe).output);
    if (add >= 0 && op(add).kind == OpKind::ADD) {
      const TensorId other = op(add).inputs[0] == op(moe).output ? op(add).inputs[1] : op(add).inputs[0];
      if (available(other)) {
        group.residual = add;
        take(group, add);
      }
    }
    return group;
  }

  // Every op is in exactly one group, and a group reads only what earlier groups (or itself) produce.
  void check_order() const {
    std::vector<int32_t> group_of(m_g.ops.size(), -1);
    for (size_t gi = 0; gi < m_plan.groups.size(); ++gi) {
      for (int32_t i : m_plan.groups[gi].ops) {
        XPUSIM_ASSERT(group_of[static_cast<size_t>(i)] < 0);
        group_of[static_cast<size_t>(i)] = static_cast<int32_t>(gi);
      }
    }
    for (size_t i = 0; i < m_g.ops.size(); ++i) {
      XPUSIM_ASSERT(group_of[i] >= 0);
      for (TensorId input : m_g.ops[i].inputs) {
        const int32_t writer = producer(input);
        if (writer >= 0 && group_of[static_cast<size_t>(writer)] > group_of[i])
          fail("graph fuse: op #{} '{}' would read '{}' before the group that writes it", i,
               op_name(m_g.ops[i].kind), m_g.tensors[static_cast<size_t>(input)].name);
      }
    }
  }

  const Graph& m_g;
  UseLists m_uses;
  std::vector<bool> m_taken;
  FusionPlan m_plan;
};

}  // namespace

FusionPlan fuse_linear_epilogues(const Graph& graph) {
  verify(graph);
  return Fuser(graph).run();
}

}  // namespace xpusim::graph
