#include "graph/passes/dead_ops.h"

#include <vector>

namespace xpusim::graph {

size_t eliminate_dead_ops(Graph& graph) {
  verify(graph);
  size_t removed = 0;
  for (bool changed = true; changed;) {
    changed = false;
    std::vector<int32_t> reads(graph.tensors.size(), 0);
    for (const Op& op : graph.ops)
      for (TensorId input : op.inputs) ++reads[static_cast<size_t>(input)];
    std::vector<Op> kept;
    kept.reserve(graph.ops.size());
    for (Op& op : graph.ops) {
      const bool live = op.output == graph.logits || op_has(op.kind, OP_WRITES_STATE) ||
                        reads[static_cast<size_t>(op.output)] > 0;
      if (live) {
        kept.push_back(std::move(op));
        continue;
      }
      graph.names.erase(graph.tensors[static_cast<size_t>(op.output)].name);
      ++removed;
      changed = true;
    }
    graph.ops = std::move(kept);
  }
  verify(graph);
  return removed;
}

}  // namespace xpusim::graph
