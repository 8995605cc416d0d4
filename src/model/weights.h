// Weights: a model's tensors by canonical name, zero-copy views into mmapped files where possible.
// Canonical names follow GGUF's scheme (token_embd.weight, blk.N.attn_q.weight, ...; models.md §6.3)
// whatever the source format, so builders never care where a checkpoint came from.
// Shapes are row-major, outermost first: a linear layer is [out_features, in_features] (HF order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "numerics/format_table.h"

namespace xpusim::numerics {
struct EncodedTensor;
}

namespace xpusim::model {

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // outermost first
  const std::byte* data = nullptr;
  size_t bytes = 0;
  // dtype NUMERICS only: the bytes are rows encoded independently in this format (numerics/tensor_codec.h
  // layout), and tensor_amax is the per-tensor scale of formats with has_tensor_scale.
  numerics::Format numerics_format = numerics::Format::FP32;
  float tensor_amax = 0.0f;

  int64_t elements() const;
  int64_t rows() const;          // product of all but the last dim
  int64_t row_elements() const;  // last dim
};

class Weights {
 public:
  // Keep `owner` alive as long as these weights (an mmapped file, a decoded buffer ...).
  void keep_alive(std::shared_ptr<const void> owner);
  // Adds a view; throws xpusim::Error on a duplicate name.
  void add(TensorView view);
  // Adds a tensor that owns its bytes.
  void add_owned(std::string name, DType dtype, std::vector<int64_t> shape, std::vector<std::byte> bytes);
  // Adds a tensor kept packed in a numerics format (DType::NUMERICS; the executor decodes a row at a time).
  // Throws xpusim::Error unless `encoded` holds product(shape[:-1]) rows of shape.back() values.
  void add_encoded(std::string name, std::vector<int64_t> shape, numerics::EncodedTensor encoded);
  const TensorView* find(std::string_view name) const;
  // Throws xpusim::Error("<source>: missing tensor '<name>'").
  const TensorView& get(std::string_view name) const;
  // Checks the shape too: "<source>: tensor '<name>' has shape [a, b], expected [c, d]".
  const TensorView& get(std::string_view name, const std::vector<int64_t>& expected_shape) const;
  const std::map<std::string, TensorView, std::less<>>& all() const { return m_tensors; }
  size_t total_bytes() const;

  std::string source;  // "synthetic (seed 42)", "/path/model.gguf", ...
  bool synthetic = false;

 private:
  std::map<std::string, TensorView, std::less<>> m_tensors;
  std::vector<std::shared_ptr<const void>> m_owners;
};

}  // namespace xpusim::model
