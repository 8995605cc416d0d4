#include "graph/passes/quantize.h"

#include "core/error.h"

namespace xpusim::graph {

std::vector<StoredWeight> quantize_weights(const Graph& graph) {
  verify(graph);
  std::vector<int32_t> slot(graph.tensors.size(), -1);  // tensor -> index in the result
  std::vector<StoredWeight> stored;
  auto note = [&](TensorId id) -> StoredWeight* {
    const Tensor& tensor = graph.tensors[static_cast<size_t>(id)];
    if (tensor.role != TensorRole::WEIGHT) return nullptr;
    if (slot[static_cast<size_t>(id)] < 0) {
      slot[static_cast<size_t>(id)] = static_cast<int32_t>(stored.size());
      const bool vector = tensor.shape.size() == 1;
      stored.push_back({id, vector ? WeightStorage::VECTOR : WeightStorage::MATRIX, false});
    }
    return &stored[static_cast<size_t>(slot[static_cast<size_t>(id)])];
  };
  std::vector<int32_t> router_of(graph.tensors.size(), -1);  // router logits tensor -> its weight
  for (const Op& op : graph.ops) {
    for (TensorId input : op.inputs) note(input);
    if (op.kind == OpKind::LINEAR) router_of[static_cast<size_t>(op.output)] = op.inputs[1];
    if (op.kind == OpKind::RMS_NORM && op.attrs.plus_one) note(op.inputs[1])->plus_one = true;
    if (op.kind == OpKind::MOE && router_of[static_cast<size_t>(op.inputs[1])] >= 0) {
      StoredWeight* router = note(router_of[static_cast<size_t>(op.inputs[1])]);
      XPUSIM_ASSERT(router != nullptr);
      router->storage = WeightStorage::EXACT_MATRIX;
    }
  }
  for (const StoredWeight& w : stored) {
    if (w.plus_one && w.storage != WeightStorage::VECTOR)
      fail("graph quantize: '{}' is a (1 + w) norm weight and a matrix",
           graph.tensors[static_cast<size_t>(w.tensor)].name);
  }
  return stored;
}

}  // namespace xpusim::graph
