// Use lists of a graph: which ops read each tensor and which op wrote it. The passes and the targets' fusion
// analyses walk these instead of scanning the op list. Non-goals: caching (rebuild after a graph changes).
#pragma once

#include <cstdint>
#include <vector>

#include "graph/graph.h"

namespace xpusim::graph {

struct UseLists {
  std::vector<std::vector<int32_t>> readers;  // per tensor: indices of the ops that read it, in op order
  std::vector<int32_t> writer;                // per tensor: index of the last op that writes it (-1: none)

  // The only op reading `tensor`, or -1 when none or several do.
  int32_t sole_reader(TensorId tensor) const;
};

UseLists use_lists(const Graph& graph);

}  // namespace xpusim::graph
