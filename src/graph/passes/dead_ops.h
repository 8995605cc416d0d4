// Dead-op elimination: removes the ops whose results nothing uses — outputs no op reads that are neither the
// graph's logits nor persistent state (KV_STORE writes) — repeating until none is left, and drops the
// tensors only they produced from the name index (ids stay stable: tensors are not renumbered). The graph is
// verified before and after. Builders emit no dead ops today; passes that rewrite the graph (a fusion that
// replaces ops, a tensor-parallel split that drops another shard's columns) leave them, and targets run
// this before lowering so they never pay for them.
#pragma once

#include <cstddef>

#include "graph/graph.h"

namespace xpusim::graph {

// Returns the number of ops removed.
size_t eliminate_dead_ops(Graph& graph);

}  // namespace xpusim::graph
