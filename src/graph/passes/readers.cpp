#include "graph/passes/readers.h"

namespace xpusim::graph {

int32_t UseLists::sole_reader(TensorId tensor) const {
  const std::vector<int32_t>& ops = readers[static_cast<size_t>(tensor)];
  return ops.size() == 1 ? ops.front() : -1;
}

UseLists use_lists(const Graph& graph) {
  UseLists uses;
  uses.readers.resize(graph.tensors.size());
  uses.writer.assign(graph.tensors.size(), -1);
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const Op& op = graph.ops[i];
    for (TensorId input : op.inputs)
      uses.readers[static_cast<size_t>(input)].push_back(static_cast<int32_t>(i));
    uses.writer[static_cast<size_t>(op.output)] = static_cast<int32_t>(i);
  }
  return uses;
}

}  // namespace xpusim::graph
