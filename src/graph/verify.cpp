// Shape and role rules of every op. A broken graph is our bug (a builder or pass), but verify() throws
// xpusim::Error rather than asserting so tests can check the message and a bad checkpoint config that slipped
// past validation still gives a clear error.
#include <fmt/ranges.h>

#include <vector>

#include "core/error.h"
#include "graph/graph.h"

namespace xpusim::graph {
namespace {

using Shape = std::vector<int64_t>;

struct OpChecker {
  const Graph& graph;
  const Op& op;
  size_t index;

  const Tensor& in(size_t i) const { return graph.tensors[op.inputs[i]]; }
  const Tensor& out() const { return graph.tensors[op.output]; }

  [[noreturn]] void bad(const std::string& what) const {
    fail("graph verify: op #{} '{}' (layer {}) -> '{}': {}", index, op_name(op.kind), op.layer, out().name,
         what);
  }
  void expect_shape(const Tensor& tensor, const Shape& shape) const {
    if (tensor.shape != shape) {
      bad(fmt::format("tensor '{}' has shape [{}], expected [{}]", tensor.name, fmt::join(tensor.shape, ", "),
                      fmt::join(shape, ", ")));
    }
  }
  void expect_rank(const Tensor& tensor, size_t rank) const {
    if (tensor.shape.size() != rank) bad(fmt::format("tensor '{}' must have rank {}", tensor.name, rank));
  }
  void expect_role(const Tensor& tensor, TensorRole role) const {
    if (tensor.role != role) {
      bad(fmt::format("tensor '{}' has role {}, expected {}", tensor.name, role_name(tensor.role),
                      role_name(role)));
    }
  }
  void expect(bool condition, const std::string& what) const {
    if (!condition) bad(what);
  }

  void check() const {
    const Tensor& o = out();
    switch (op.kind) {
      case OpKind::EMBED_ROWS:
        expect_role(in(0), TensorRole::WEIGHT);
        expect_rank(in(0), 2);
        expect_role(in(1), TensorRole::INPUT);
        expect_shape(o, {in(1).elements(), in(0).shape[1]});
        break;
      case OpKind::ADD:
      case OpKind::MUL:
        expect_shape(in(1), in(0).shape);
        expect_shape(o, in(0).shape);
        break;
      case OpKind::SCALE:
      case OpKind::SILU:
      case OpKind::GELU_TANH:
        expect_shape(o, in(0).shape);
        break;
      case OpKind::SOFTCAP:
        expect(op.attrs.softcap > 0, "softcap must be > 0");
        expect_shape(o, in(0).shape);
        break;
      case OpKind::LAYER_NORM:
        expect_shape(in(2), {in(0).shape.back()});
        [[fallthrough]];
      case OpKind::RMS_NORM:
        expect_shape(in(1), {in(0).shape.back()});
        expect_shape(o, in(0).shape);
        expect(op.attrs.eps > 0, "eps must be > 0");
        break;
      case OpKind::LINEAR:
        expect_rank(in(0), 2);
        expect_role(in(1), TensorRole::WEIGHT);
        expect_rank(in(1), 2);
        expect(in(1).shape[1] == in(0).shape[1], fmt::format("weight '{}' expects {} inputs, x has {}",
                                                             in(1).name, in(1).shape[1], in(0).shape[1]));
        if (op.inputs.size() == 3) expect_shape(in(2), {in(1).shape[0]});
        expect_shape(o, {in(0).shape[0], in(1).shape[0]});
        break;
      case OpKind::ROPE:
        expect_rank(in(0), 2);
        expect(op.attrs.head_dim > 0 && op.attrs.head_dim % 2 == 0, "head_dim must be even and > 0");
        expect_shape(in(0), {in(0).shape[0], op.attrs.n_heads * op.attrs.head_dim});
        expect_shape(in(1), {in(0).shape[0]});
        expect_shape(o, in(0).shape);
        break;
      case OpKind::KV_STORE:
        expect_role(o, TensorRole::KV_CACHE);
        expect_rank(in(0), 2);
        expect(o.shape.size() == 2 && o.shape[1] == in(0).shape[1], "cache row width differs from x");
        expect(op.attrs.start_pos >= 0 && op.attrs.start_pos + in(0).shape[0] <= o.shape[0],
               fmt::format("rows {}..{} do not fit the cache capacity {}", op.attrs.start_pos,
                           op.attrs.start_pos + in(0).shape[0], o.shape[0]));
        break;
      case OpKind::ATTENTION: {
        const auto& a = op.attrs;
        expect(a.n_heads > 0 && a.n_kv_heads > 0 && a.n_heads % a.n_kv_heads == 0,
               "n_heads must be a positive multiple of n_kv_heads");
        expect_shape(in(0), {in(0).shape[0], a.n_heads * a.head_dim});
        expect_role(in(1), TensorRole::KV_CACHE);
        expect_role(in(2), TensorRole::KV_CACHE);
        expect_shape(in(1), {in(1).shape[0], a.n_kv_heads * a.head_dim});
        expect_shape(in(2), in(1).shape);
        expect(a.start_pos + in(0).shape[0] <= in(1).shape[0], "queries reach past the cache capacity");
        expect_shape(o, in(0).shape);
        break;
      }
      case OpKind::SLICE_ROWS:
        expect_rank(in(0), 2);
        expect(op.attrs.begin >= 0 && op.attrs.count > 0 && op.attrs.begin + op.attrs.count <= in(0).shape[0],
               "row range out of bounds");
        expect_shape(o, {op.attrs.count, in(0).shape[1]});
        break;
      case OpKind::RESHAPE:
        expect(o.elements() == in(0).elements(), "reshape changes the element count");
        break;
      case OpKind::MOE: {
        expect_rank(in(0), 2);
        int64_t n = in(0).shape[0], hidden = in(0).shape[1];
        expect_rank(in(1), 2);
        int64_t experts = in(1).shape[1];
        expect_shape(in(1), {n, experts});
        expect(op.inputs.size() == static_cast<size_t>(2 + 3 * experts),
               "needs gate, up and down of every expert");
        expect(op.attrs.top_k > 0 && op.attrs.top_k <= experts, "top_k must be in 1..experts");
        int64_t ffn = in(2).shape.empty() ? 0 : in(2).shape[0];
        for (int64_t e = 0; e < experts; ++e) {
          expect_shape(in(2 + 3 * e), {ffn, hidden});
          expect_shape(in(3 + 3 * e), {ffn, hidden});
          expect_shape(in(4 + 3 * e), {hidden, ffn});
        }
        expect_shape(o, in(0).shape);
        break;
      }
      case OpKind::COUNT:
        bad("invalid op kind");
    }
  }
};

}  // namespace

void verify(const Graph& graph) {
  const TensorId n_tensors = static_cast<TensorId>(graph.tensors.size());
  std::vector<bool> ready(graph.tensors.size(), false);
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    TensorRole role = graph.tensors[i].role;
    ready[i] = role != TensorRole::ACTIVATION;
    for (int64_t d : graph.tensors[i].shape) {
      if (d <= 0) fail("graph verify: tensor '{}' has a non-positive dimension", graph.tensors[i].name);
    }
  }
  for (size_t index = 0; index < graph.ops.size(); ++index) {
    const Op& op = graph.ops[index];
    const OpTraits& traits = op_traits(op.kind);
    int arity = static_cast<int>(op.inputs.size());
    if (arity < traits.min_inputs || (traits.max_inputs >= 0 && arity > traits.max_inputs)) {
      fail("graph verify: op #{} '{}' has {} inputs", index, traits.name, arity);
    }
    if (op.output < 0 || op.output >= n_tensors)
      fail("graph verify: op #{} '{}' has no output", index, traits.name);
    for (TensorId input : op.inputs) {
      if (input < 0 || input >= n_tensors)
        fail("graph verify: op #{} '{}' reads a bad tensor id", index, traits.name);
      if (!ready[input]) {
        fail("graph verify: op #{} '{}' reads '{}' before it is produced", index, traits.name,
             graph.tensors[input].name);
      }
    }
    const Tensor& out = graph.tensors[op.output];
    bool writes_state = op_has(op.kind, OP_WRITES_STATE);
    if (writes_state != (out.role == TensorRole::KV_CACHE) || (!writes_state && ready[op.output])) {
      fail("graph verify: op #{} '{}' writes '{}' ({}), which it may not", index, traits.name, out.name,
           role_name(out.role));
    }
    OpChecker{graph, op, index}.check();
    ready[op.output] = true;
  }
  if (graph.logits < 0 || !ready[graph.logits]) fail("graph verify: the graph does not produce logits");
}

}  // namespace xpusim::graph
