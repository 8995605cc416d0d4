// Fusion pass: groups a graph's ops the way a matrix unit with a fused epilogue runs them. Every linear
// becomes a group with its prologue (a norm on the shared input, the last-row slice of the LM head) and its
// epilogue on the output tile (bias and activation inside the matmul, the gating multiply of a gated pair,
// per-head norms, RoPE, KV stores, a post-norm, the residual add, a soft-cap); the embedding ops form one
// group; attention and every other op stand alone. The fusion changes where results are rounded on targets
// that round after every instruction, so a target's lowering and its numerics reference both walk the same
// FusionPlan. The pass reads the graph only: it verifies it first and checks that the groups it forms run in
// a valid order (every input of a group produced by an earlier group or inside it).
// Non-goals: choosing tiles or memory (each target's lowering does), fusing across attention.
// HOWTO make a new op fusable: add its kind to extend_epilogue() in fuse.cpp (what may follow it on the tile)
// and handle it in every target that lowers FusedLinear::epilogue (compiler/lower_step.cpp,
// compiler/policy_executor.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "graph/graph.h"

namespace xpusim::graph {

enum class GroupKind : uint8_t {
  EMBEDDING,  // EMBED_ROWS of the tokens [, EMBED_ROWS of the positions, ADD] [, SCALE]
  LINEARS,    // [SLICE_ROWS] [norm] and the linears that read the (normalised) input, each with its epilogue
  MOE,        // norm, the router LINEAR, MOE [, residual ADD]
  SINGLE,     // one op (ATTENTION, or any op nothing fused)
};

struct FusedLinear {
  int32_t linear = -1;            // the LINEAR op
  int32_t gate = -1;              // gated pair: the LINEAR whose activated output multiplies this one's
  int32_t activation = -1;        // SILU / GELU_TANH applied in the matmul (to the gate when gated)
  int32_t gate_mul = -1;          // gated pair: the MUL
  std::vector<int32_t> epilogue;  // ops on the output tile, in order
  TensorId output = -1;           // what the chain leaves: the last op's output (a KV cache after KV_STORE)
};

struct FusedGroup {
  GroupKind kind = GroupKind::SINGLE;
  int32_t layer = -1;
  std::vector<int32_t> ops;          // every op of the group, in graph order
  int32_t slice = -1;                // LINEARS: SLICE_ROWS on the input
  int32_t pre_norm = -1;             // LINEARS, MOE: the norm on the shared input
  std::vector<FusedLinear> linears;  // LINEARS; MOE: the router (one)
  int32_t anchor = -1;               // EMBEDDING: the token EMBED_ROWS; MOE: the MOE op; SINGLE: the op
  int32_t positions = -1;            // EMBEDDING: the position EMBED_ROWS
  int32_t scale = -1;                // EMBEDDING: the SCALE
  int32_t residual = -1;             // MOE: the residual ADD
};

struct FusionPlan {
  std::vector<FusedGroup> groups;  // in an order that runs
};

FusionPlan fuse_linear_epilogues(const Graph& graph);

// The op kinds fuse_linear_epilogues() may leave in FusedLinear::epilogue.
bool is_epilogue_op(OpKind kind);

}  // namespace xpusim::graph
