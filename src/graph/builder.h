// Family builders: ModelConfig + step shape -> the Graph of one forward step. A prefill over n tokens and a
// decode step are the same builder with different n / start_pos. Each family is one file under
// graph/families/ that composes the shared blocks of graph/families/blocks.h; build_step() picks it by
// config.family. Non-goals: weights (bound later with Graph::bind_weights), numerics policy, execution. HOWTO
// add a family: add its Family value (model/config.h), write graph/families/<family>.cpp with a
// build_<family>(BlockBuilder&) function, declare it in families/blocks.h and add its row to kFamilyBuilders
// in builder.cpp. The golden tests (tests/exec/golden_test.cpp) then need a tiny model of it in
// tests/data/models/.
#pragma once

#include <cstdint>

#include "graph/graph.h"
#include "model/config.h"

namespace xpusim::graph {

struct StepShape {
  int64_t n_tokens = 1;     // tokens fed in this step
  int64_t start_pos = 0;    // their first position (= tokens already in the KV cache)
  int64_t kv_capacity = 0;  // rows of each KV cache tensor; 0 = start_pos + n_tokens
  bool all_logits = false;  // logits for every token (golden tests) or only the last one (generation)
};

// Builds and verifies the graph. Throws xpusim::Error on a bad step shape.
Graph build_step(const model::ModelConfig& config, const StepShape& step);

}  // namespace xpusim::graph
