#include "model/weights.h"

#include <fmt/ranges.h>

#include <cstring>
#include <type_traits>
#include <utility>

#include "core/error.h"
#include "core/large_page_buffer.h"
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

namespace {

// Large tensors move to a huge-page buffer (core/large_page_buffer.h: decode streams every weight each
// step, and 4 KiB pages cost it TLB walks); small ones keep their heap bytes. Returns the bytes' new home.
template <typename Bytes>
std::pair<const std::byte*, std::shared_ptr<const void>> own_bytes(Bytes&& bytes) {
  if (bytes.size() >= kLargePageMinBytes) {
    auto buffer = std::make_shared<LargePageBuffer>(bytes.size());
    std::memcpy(buffer->data(), bytes.data(), bytes.size());
    return {buffer->data(), buffer};
  }
  auto buffer = std::make_shared<std::decay_t<Bytes>>(std::forward<Bytes>(bytes));
  return {reinterpret_cast<const std::byte*>(buffer->data()), buffer};
}

}  // namespace

void Weights::add_owned(std::string name, DType dtype, std::vector<int64_t> shape,
                        std::vector<std::byte> bytes) {
  const size_t size = bytes.size();
  auto [data, owner] = own_bytes(std::move(bytes));
  TensorView view{std::move(name), dtype, std::move(shape), data, size};
  keep_alive(std::move(owner));
  add(std::move(view));
}

void Weights::add_encoded(std::string name, std::vector<int64_t> shape, numerics::EncodedTensor encoded) {
  TensorView view{std::move(name), DType::NUMERICS, std::move(shape), nullptr, encoded.data.size()};
  view.numerics_format = encoded.format;
  view.tensor_amax = encoded.tensor_amax;
  if (view.shape.empty() || static_cast<size_t>(view.rows()) != encoded.rows ||
      static_cast<size_t>(view.row_elements()) != encoded.cols) {
    fail("{}: tensor '{}' has shape [{}] but its encoding holds {} x {} values", source, view.name,
         fmt::join(view.shape, ", "), encoded.rows, encoded.cols);
  }
  auto [data, owner] = own_bytes(std::move(encoded.data));
  view.data = data;
  keep_alive(std::move(owner));
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
