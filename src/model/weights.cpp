#include "model/weights.h"

#include <fmt/ranges.h>

#include "core/error.h"
#include "numerics/tensor_codec.h"

namespace xpusim::model {

int64_t TensorView::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t TensorView::rows() const { return shape.empty() ? 1 : elements() / shape.back(); }

int64_t TensorView::row_elements() const { return shape.empty() ? 1 : shape.back(); }

void Weights::keep_alive(std::shared_ptr<const void> owner) { m_owners.push_back(std::move(owner)); }

void Weights::add(TensorView view) {
  std::string name = view.name;
  auto [it, inserted] = m_tensors.emplace(name, std::move(view));
  if (!inserted) fail("{}: duplicate tensor '{}'", source, name);
}

void Weights::add_owned(std::string name, DType dtype, std::vector<int64_t> shape,
                        std::vector<std::byte> bytes) {
  auto buffer = std::make_shared<std::vector<std::byte>>(std::move(bytes));
  TensorView view{std::move(name), dtype, std::move(shape), buffer->data(), buffer->size()};
  keep_alive(buffer);
  add(std::move(view));
}

void Weights::add_encoded(std::string name, std::vector<int64_t> shape, numerics::EncodedTensor encoded) {
  auto owner = std::make_shared<const numerics::EncodedTensor>(std::move(encoded));
  TensorView view{std::move(name), DType::NUMERICS, std::move(shape),
                  reinterpret_cast<const std::byte*>(owner->data.data()), owner->data.size()};
  view.numerics_format = owner->format;
  view.tensor_amax = owner->tensor_amax;
  if (view.shape.empty() || static_cast<size_t>(view.rows()) != owner->rows ||
      static_cast<size_t>(view.row_elements()) != owner->cols) {
    fail("{}: tensor '{}' has shape [{}] but its encoding holds {} x {} values", source, view.name,
         fmt::join(view.shape, ", "), owner->rows, owner->cols);
  }
  keep_alive(owner);
  add(std::move(view));
}

const TensorView* Weights::find(std::string_view name) const {
  auto it = m_tensors.find(name);
  return it == m_tensors.end() ? nullptr : &it->second;
}

const TensorView& Weights::get(std::string_view name) const {
  const TensorView* view = find(name);
  if (!view) fail("{}: missing tensor '{}'", source, name);
  return *view;
}

const TensorView& Weights::get(std::string_view name, const std::vector<int64_t>& expected_shape) const {
  const TensorView& view = get(name);
  if (view.shape != expected_shape) {
    fail("{}: tensor '{}' has shape [{}], expected [{}]", source, name, fmt::join(view.shape, ", "),
         fmt::join(expected_shape, ", "));
  }
  return view;
}

size_t Weights::total_bytes() const {
  size_t total = 0;
  for (const auto& [name, view] : m_tensors) total += view.bytes;
  return total;
}

}  // namespace xpusim::model
