// The op set of the model graph: one enum entry and ONE traits row per op (name, arity, category flags, FLOP
// and byte formulas). Every target (host executor, chip models, engine compiler) consumes graphs made of
// these ops; passes ask the flags ("is it elementwise?") instead of keeping their own op lists. Non-goals:
// kernels (src/exec has the reference kernel of every op, which is the executable definition of its
// semantics) and scheduling.
// HOWTO add an op: add the enum value before COUNT, add its row to kOpTraits in op.cpp (a static_assert on
// the table size fails until you do), document its semantics in the row comment, add its shape rule to
// verify.cpp, and its reference kernel to src/exec/kernels_*.cpp (the kernel table has the same
// static_assert).
#pragma once

#include <cstdint>
#include <string_view>

namespace xpusim::graph {

enum class OpKind : uint8_t {
  EMBED_ROWS,  // (table [V, H] weight, ids [n] I32) -> [n, H]: rows of the table
  ADD,         // (a, b) -> a + b, same shapes
  MUL,         // (a, b) -> a * b, same shapes
  SCALE,       // (x) -> x * scale (fp32 constant)
  SOFTCAP,     // (x) -> cap * tanh(x / cap)
  GELU_TANH,   // (x) -> 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  SILU,        // (x) -> x * sigmoid(x)
  LAYER_NORM,  // (x [.., D], w [D], b [D]) -> (x - mean) / sqrt(var + eps) * w + b over the last dim
  RMS_NORM,    // (x [.., D], w [D]) -> x * rsqrt(mean(x^2) + eps) * w (or * (1 + w) when plus_one)
  LINEAR,      // (x [n, in], W [out, in] weight[, b [out]]) -> x W^T (+ b)
  ROPE,        // (x [n, heads * d], positions [n] I32) -> rotate_half RoPE per head
  KV_STORE,    // (x [n, kv_heads * d]) -> KV cache tensor: writes rows start_pos .. start_pos + n - 1
  ATTENTION,   // (q [n, heads * d], k_cache, v_cache) -> [n, heads * d]: causal (optionally windowed) softmax
               // attention
  SLICE_ROWS,  // (x [rows, D]) -> [count, D]: rows begin .. begin + count - 1
  RESHAPE,     // (x) -> same elements, new shape (a view; no data moves)
  MOE,         // (x [n, H], router logits [n, E], then gate/up/down weights of every expert) -> [n, H]
  COUNT
};

enum OpCategory : uint32_t {
  OP_ELEMENTWISE = 1u << 0,
  OP_REDUCTION = 1u << 1,
  OP_MATMUL = 1u << 2,
  OP_MOVEMENT = 1u << 3,
  OP_ATTENTION = 1u << 4,
  OP_WRITES_STATE = 1u << 5,  // output is persistent state (KV cache), not a fresh activation
};

struct Graph;
struct Op;

struct OpTraits {
  OpKind kind;
  std::string_view name;  // stable lower-case name ("linear", "rms_norm")
  int min_inputs;
  int max_inputs;       // -1 = variadic
  uint32_t categories;  // OpCategory bits
  // Arithmetic operations (a multiply-add counts 2) and bytes moved (inputs read + output written, weights at
  // their stored size, activations fp32, KV reads limited to the visible keys) for one execution of `op` in
  // `graph`.
  double (*flops)(const Graph& graph, const Op& op);
  double (*bytes)(const Graph& graph, const Op& op);
};

const OpTraits& op_traits(OpKind kind);
std::string_view op_name(OpKind kind);
bool op_has(OpKind kind, OpCategory category);

}  // namespace xpusim::graph
