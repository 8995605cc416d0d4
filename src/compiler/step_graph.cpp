#include "compiler/step_graph.h"

#include "core/error.h"
#include "graph/builder.h"
#include "graph/passes/dead_ops.h"

namespace xpusim::compiler {

graph::Graph step_graph(const model::ModelConfig& config) {
  graph::Graph step =
      graph::build_step(config, graph::StepShape{.n_tokens = 1, .start_pos = 0, .kv_capacity = 1});
  graph::eliminate_dead_ops(step);
  return step;
}

const graph::Op& logits_linear(const graph::Graph& graph) {
  graph::TensorId t = graph.logits;
  for (;;) {
    const graph::Op* producer = nullptr;
    for (const graph::Op& op : graph.ops)
      if (op.output == t) producer = &op;
    if (producer == nullptr || producer->inputs.empty())
      fail("engine compiler: {}: no linear produces the logits", graph.config.name);
    if (producer->kind == graph::OpKind::LINEAR) return *producer;
    t = producer->inputs[0];
  }
}

graph::TensorId position_table(const graph::Graph& graph) {
  for (const graph::Op& op : graph.ops)
    if (op.kind == graph::OpKind::EMBED_ROWS && op.inputs[1] == graph.positions) return op.inputs[0];
  return -1;
}

}  // namespace xpusim::compiler
