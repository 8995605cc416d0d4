// The graph the engine compiler lowers: the model's step graph (graph/builder.h) for one token at position 0,
// dead ops removed. It is the template of every program: the ops, their order, weights and attributes come
// from it; the rows, sequences and positions of a step come from the StepRequest (an op over n rows is the
// same op over the step's rows, sequence by sequence where positions matter: ROPE, KV_STORE, ATTENTION; the
// logits are those of each sequence's last row). Non-goals: executing the graph (the policy executor builds
// the real step graph), planning memory (memory_plan.h).
#pragma once

#include "graph/graph.h"
#include "model/config.h"

namespace xpusim::compiler {

graph::Graph step_graph(const model::ModelConfig& config);

// The LINEAR producing the logits (through a soft-cap, if any): the LM head.
const graph::Op& logits_linear(const graph::Graph& graph);
// The table of the EMBED_ROWS that reads the positions (learned positions), or -1.
graph::TensorId position_table(const graph::Graph& graph);

}  // namespace xpusim::compiler
