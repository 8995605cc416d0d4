// Quantize pass: decides, per weight tensor of a graph, how a target that stores weights in a compressed
// number format keeps it: matrices (linear weights, expert weights, embedding tables) in the target's format;
// router matrices exact (routing is a discrete choice: a quantized router can pick other experts); vectors
// (norm weights, biases) as plain values, with a (1 + w) norm's offset folded in so the norm multiplies by
// the stored vector. The graph is verified first; the format itself is the target's (compiler::DramPlan
// packs MATRIX weights in its engine format). Non-goals: activation quantization, per-layer mixed formats.
#pragma once

#include <vector>

#include "graph/graph.h"

namespace xpusim::graph {

enum class WeightStorage : uint8_t {
  MATRIX,        // 2-D, in the target's weight format
  EXACT_MATRIX,  // 2-D, kept at full precision (router logits)
  VECTOR,        // 1-D, plain values
};

struct StoredWeight {
  TensorId tensor = -1;
  WeightStorage storage = WeightStorage::MATRIX;
  bool plus_one = false;  // VECTOR read by an RMS_NORM with plus_one: stored as 1 + w
};

// Every weight tensor, in the order the graph first reads them.
std::vector<StoredWeight> quantize_weights(const Graph& graph);

}  // namespace xpusim::graph
