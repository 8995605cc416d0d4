#include "graph/graph.h"
#include "core/enum_table.h"

#include <fmt/ranges.h>

#include "core/error.h"
#include "model/weights.h"

namespace xpusim::graph {

constexpr EnumName<TensorRole> kRoleNames[] = {{TensorRole::INPUT, "input"},
                                               {TensorRole::WEIGHT, "weight"},
                                               {TensorRole::ACTIVATION, "activation"},
                                               {TensorRole::KV_CACHE, "kv_cache"}};

const char* role_name(TensorRole role) { return enum_name(kRoleNames, role).data(); }

int64_t Tensor::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

TensorId Graph::add_tensor(std::string name, std::vector<int64_t> shape, TensorRole role, DType dtype) {
  TensorId id = static_cast<TensorId>(tensors.size());
  auto [it, inserted] = names.emplace(name, id);
  XPUSIM_ASSERT(inserted);  // builders give every tensor a unique name
  tensors.push_back(Tensor{std::move(name), std::move(shape), dtype, role});
  return id;
}

TensorId Graph::add_op(OpKind kind, std::vector<TensorId> inputs, std::vector<int64_t> shape,
                       std::string name, OpAttrs attrs, int32_t layer) {
  TensorId output = add_tensor(std::move(name), std::move(shape), TensorRole::ACTIVATION);
  ops.push_back(Op{kind, std::move(inputs), output, std::move(attrs), layer});
  return output;
}

void Graph::add_state_op(OpKind kind, std::vector<TensorId> inputs, TensorId state, OpAttrs attrs,
                         int32_t layer) {
  ops.push_back(Op{kind, std::move(inputs), state, std::move(attrs), layer});
}

TensorId Graph::weight(const std::string& name, std::vector<int64_t> shape) {
  TensorId existing = find(name);
  if (existing >= 0) {
    XPUSIM_ASSERT(tensors[existing].role == TensorRole::WEIGHT && tensors[existing].shape == shape);
    return existing;
  }
  return add_tensor(name, std::move(shape), TensorRole::WEIGHT, DType::COUNT);
}

TensorId Graph::find(const std::string& name) const {
  auto it = names.find(name);
  return it == names.end() ? -1 : it->second;
}

void Graph::rename(TensorId id, std::string name) {
  names.erase(tensors[id].name);
  auto [it, inserted] = names.emplace(name, id);
  XPUSIM_ASSERT(inserted);
  tensors[id].name = std::move(name);
}

void Graph::bind_weights(const model::Weights& weights) {
  for (Tensor& tensor : tensors) {
    if (tensor.role != TensorRole::WEIGHT) continue;
    const model::TensorView& view = weights.get(tensor.name, tensor.shape);
    if (!dtype_info(view.dtype).is_float) {
      fail("{}: tensor '{}' has dtype {}, which is not a real-number type", weights.source, tensor.name,
           dtype_name(view.dtype));
    }
    tensor.dtype = view.dtype;
    tensor.stored_bytes = view.bytes;
  }
}

double Graph::total_flops() const {
  double total = 0;
  for (const Op& op : ops) total += op_traits(op.kind).flops(*this, op);
  return total;
}

double Graph::total_bytes() const {
  double total = 0;
  for (const Op& op : ops) total += op_traits(op.kind).bytes(*this, op);
  return total;
}

}  // namespace xpusim::graph
