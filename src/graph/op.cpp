// Traits rows of every op, with their FLOP and byte formulas. Formulas count what one execution of the op
// does in this step: a multiply-add counts 2 FLOPs; transcendental functions count as 1 each (chip models
// that care weigh them separately by op kind).
#include <algorithm>
#include <array>

#include "core/enum_table.h"
#include "core/error.h"
#include "graph/graph.h"

namespace xpusim::graph {
namespace {

double f32_bytes(int64_t elements) { return 4.0 * static_cast<double>(elements); }

double tensor_bytes(const Tensor& tensor) {
  if (tensor.role == TensorRole::WEIGHT && tensor.dtype != DType::COUNT) {
    // Numerics formats size their blocks in the format table; the bound view knows the packed size.
    if (tensor.dtype == DType::NUMERICS) return static_cast<double>(tensor.stored_bytes);
    const DTypeInfo& info = dtype_info(tensor.dtype);
    return static_cast<double>(tensor.elements()) / info.block_elements * info.block_bytes;
  }
  if (tensor.role == TensorRole::INPUT) return 4.0 * static_cast<double>(tensor.elements());
  return f32_bytes(tensor.elements());
}

double output_elements(const Graph& g, const Op& op) {
  return static_cast<double>(g.tensors[op.output].elements());
}

// Default byte formula: read every input in full, write the output.
double bytes_all(const Graph& g, const Op& op) {
  double total = 0;
  for (TensorId input : op.inputs) total += tensor_bytes(g.tensors[input]);
  return total + tensor_bytes(g.tensors[op.output]);
}

double bytes_view(const Graph&, const Op&) { return 0.0; }
double flops_zero(const Graph&, const Op&) { return 0.0; }
double flops_per_output(const Graph& g, const Op& op) { return output_elements(g, op); }
double flops_gelu(const Graph& g, const Op& op) { return 8.0 * output_elements(g, op); }
double flops_silu(const Graph& g, const Op& op) { return 4.0 * output_elements(g, op); }
double flops_softcap(const Graph& g, const Op& op) { return 3.0 * output_elements(g, op); }
double flops_layer_norm(const Graph& g, const Op& op) { return 8.0 * output_elements(g, op); }
double flops_rms_norm(const Graph& g, const Op& op) { return 5.0 * output_elements(g, op); }
double flops_rope(const Graph& g, const Op& op) { return 3.0 * output_elements(g, op); }

double bytes_embed(const Graph& g, const Op& op) {
  const Tensor& table = g.tensors[op.inputs[0]];
  double row_bytes = tensor_bytes(table) / static_cast<double>(table.shape[0]);
  double n = static_cast<double>(g.tensors[op.inputs[1]].elements());
  return n * row_bytes + 4.0 * n + tensor_bytes(g.tensors[op.output]);
}

double flops_linear(const Graph& g, const Op& op) {
  const Tensor& w = g.tensors[op.inputs[1]];
  double n = static_cast<double>(g.tensors[op.inputs[0]].shape[0]);
  double flops = 2.0 * n * static_cast<double>(w.shape[0]) * static_cast<double>(w.shape[1]);
  if (op.inputs.size() > 2) flops += n * static_cast<double>(w.shape[0]);
  return flops;
}

double bytes_kv_store(const Graph& g, const Op& op) { return 2.0 * tensor_bytes(g.tensors[op.inputs[0]]); }

// Keys visible to the queries of this step, summed over queries (causal, window-limited).
double visible_keys(const Graph& g, const Op& op) {
  int64_t n = g.tensors[op.inputs[0]].shape[0];
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t p = op.attrs.start_pos + i;
    int64_t keys = p + 1;
    if (op.attrs.window > 0) keys = std::min(keys, op.attrs.window);
    total += static_cast<double>(keys);
  }
  return total;
}

double flops_attention(const Graph& g, const Op& op) {
  // q.k and p.v (2 FLOPs per multiply-add each) plus scale, exp, sum and divide per score.
  double d = static_cast<double>(op.attrs.head_dim);
  return static_cast<double>(op.attrs.n_heads) * visible_keys(g, op) * (4.0 * d + 4.0);
}

double bytes_attention(const Graph& g, const Op& op) {
  // Each kv head's visible rows of K and V are read once for the whole step (the latest query sees them all).
  int64_t n = g.tensors[op.inputs[0]].shape[0];
  int64_t last = op.attrs.start_pos + n;
  int64_t first = op.attrs.window > 0 ? std::max<int64_t>(0, op.attrs.start_pos + 1 - op.attrs.window) : 0;
  double kv_rows = static_cast<double>(last - first);
  double kv = 2.0 * kv_rows * f32_bytes(op.attrs.n_kv_heads * op.attrs.head_dim);
  return kv + tensor_bytes(g.tensors[op.inputs[0]]) + tensor_bytes(g.tensors[op.output]);
}

double flops_moe(const Graph& g, const Op& op) {
  const Tensor& x = g.tensors[op.inputs[0]];
  const Tensor& gate = g.tensors[op.inputs[2]];  // [Fe, H]
  double n = static_cast<double>(x.shape[0]);
  double experts = static_cast<double>(g.tensors[op.inputs[1]].shape[1]);
  double per_expert = 2.0 * 3.0 * static_cast<double>(gate.shape[0]) * static_cast<double>(gate.shape[1]);
  double act = 5.0 * static_cast<double>(gate.shape[0]);
  return n * (4.0 * experts + static_cast<double>(op.attrs.top_k) * (per_expert + act + 2.0 * x.shape[1]));
}

double bytes_moe(const Graph& g, const Op& op) {
  // Routing is data-dependent; count the weights of min(E, n * top_k) distinct experts (the most a step can
  // touch).
  const Tensor& x = g.tensors[op.inputs[0]];
  int64_t experts = g.tensors[op.inputs[1]].shape[1];
  int64_t touched = std::min<int64_t>(experts, x.shape[0] * op.attrs.top_k);
  double expert_bytes = 0;
  for (int i = 2; i < 5; ++i) expert_bytes += tensor_bytes(g.tensors[op.inputs[i]]);
  return static_cast<double>(touched) * expert_bytes + tensor_bytes(x) +
         tensor_bytes(g.tensors[op.inputs[1]]) + tensor_bytes(g.tensors[op.output]);
}

constexpr uint32_t kElementwise = OP_ELEMENTWISE;
constexpr uint32_t kNorm = OP_ELEMENTWISE | OP_REDUCTION;

constexpr std::array<OpTraits, static_cast<size_t>(OpKind::COUNT)> kOpTraits = {{
    {OpKind::EMBED_ROWS, "embed_rows", 2, 2, OP_MOVEMENT, flops_zero, bytes_embed},
    {OpKind::ADD, "add", 2, 2, kElementwise, flops_per_output, bytes_all},
    {OpKind::MUL, "mul", 2, 2, kElementwise, flops_per_output, bytes_all},
    {OpKind::SCALE, "scale", 1, 1, kElementwise, flops_per_output, bytes_all},
    {OpKind::SOFTCAP, "softcap", 1, 1, kElementwise, flops_softcap, bytes_all},
    {OpKind::GELU_TANH, "gelu_tanh", 1, 1, kElementwise, flops_gelu, bytes_all},
    {OpKind::SILU, "silu", 1, 1, kElementwise, flops_silu, bytes_all},
    {OpKind::LAYER_NORM, "layer_norm", 3, 3, kNorm, flops_layer_norm, bytes_all},
    {OpKind::RMS_NORM, "rms_norm", 2, 2, kNorm, flops_rms_norm, bytes_all},
    {OpKind::LINEAR, "linear", 2, 3, OP_MATMUL, flops_linear, bytes_all},
    {OpKind::ROPE, "rope", 2, 2, kElementwise, flops_rope, bytes_all},
    {OpKind::KV_STORE, "kv_store", 1, 1, OP_MOVEMENT | OP_WRITES_STATE, flops_zero, bytes_kv_store},
    {OpKind::ATTENTION, "attention", 3, 3, OP_ATTENTION | OP_REDUCTION, flops_attention, bytes_attention},
    {OpKind::SLICE_ROWS, "slice_rows", 1, 1, OP_MOVEMENT, flops_zero, bytes_all},
    {OpKind::RESHAPE, "reshape", 1, 1, OP_MOVEMENT, flops_zero, bytes_view},
    {OpKind::MOE, "moe", 5, -1, OP_MATMUL | OP_REDUCTION, flops_moe, bytes_moe},
}};

static_assert(rows_in_enum_order(kOpTraits, [](const auto& row) { return row.kind; }),
              "kOpTraits rows must follow the OpKind enum order");

}  // namespace

const OpTraits& op_traits(OpKind kind) {
  XPUSIM_ASSERT(kind < OpKind::COUNT);
  return kOpTraits[static_cast<size_t>(kind)];
}

std::string_view op_name(OpKind kind) { return op_traits(kind).name; }

bool op_has(OpKind kind, OpCategory category) { return (op_traits(kind).categories & category) != 0; }

}  // namespace xpusim::graph
