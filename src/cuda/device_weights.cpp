#include "cuda/device_weights.h"

#include <cstring>
#include <vector>

#include "cuda/cuda_check.h"
#include "numerics/decode.h"
#include "numerics/tensor_codec.h"

namespace xpusim::cuda {

std::optional<PackedFormat> packed_format_of(numerics::Format format) {
  using numerics::Format;
  switch (format) {
    case Format::FP32:
      return PackedFormat::F32;
    case Format::BF16:
      return PackedFormat::BF16;
    case Format::INT4:
      return PackedFormat::INT4;
    case Format::FP4:
      return PackedFormat::FP4;
    case Format::NVFP4:
      return PackedFormat::NVFP4;
    case Format::NVFP4_4O6:
      return PackedFormat::NVFP4_4O6;
    case Format::IF4:
      return PackedFormat::IF4;
    case Format::MXFP4:
    case Format::MXFP4_CEIL:
      return PackedFormat::MXFP4;
    case Format::UE_INT4:
    case Format::UE_FP4:
    case Format::UE_IF4:
      return PackedFormat::UE_4BIT;
    case Format::Q4_0:
      return PackedFormat::Q4_0;
    default:
      return std::nullopt;
  }
}

std::optional<PackedFormat> packed_format_of(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return PackedFormat::F32;
    case DType::BF16:
      return PackedFormat::BF16;
    case DType::Q4_0:
      return PackedFormat::Q4_0;
    case DType::Q4_1:
      return PackedFormat::Q4_1;
    default:
      return std::nullopt;
  }
}

PackedFormat upload_format(const model::TensorView& view) {
  if (view.shape.size() != 2) return PackedFormat::F32;
  const auto packed =
      view.dtype == DType::NUMERICS ? packed_format_of(view.numerics_format) : packed_format_of(view.dtype);
  return packed.value_or(PackedFormat::F32);
}

DeviceWeights::~DeviceWeights() {
  for (auto& entry : m_tensors) cudaFree(const_cast<uint8_t*>(entry.second.data));
}

const DeviceWeight& DeviceWeights::get(const std::string& name) const {
  auto it = m_tensors.find(name);
  if (it == m_tensors.end()) fail("cuda: weight '{}' was not uploaded", name);
  return it->second;
}

const DeviceWeight& DeviceWeights::upload(const model::Weights& weights, const std::string& name) {
  if (auto it = m_tensors.find(name); it != m_tensors.end()) return it->second;
  const model::TensorView& view = weights.get(name);
  DeviceWeight w;
  w.format = upload_format(view);
  w.rows = view.rows();
  w.cols = view.row_elements();
  w.row_bytes = packed_row_bytes(w.format, w.cols);
  w.tensor_amax = view.tensor_amax;
  const size_t bytes = static_cast<size_t>(w.rows * w.row_bytes);
  const bool keep_bytes =
      view.shape.size() == 2 && w.format != PackedFormat::F32
          ? true
          : (view.dtype == DType::F32 ||
             (view.dtype == DType::NUMERICS && view.numerics_format == numerics::Format::FP32));
  std::vector<float> decoded;
  const void* source = view.data;
  if (!keep_bytes) {
    decoded.resize(static_cast<size_t>(w.rows * w.cols));
    if (view.dtype == DType::NUMERICS) {
      for (int64_t r = 0; r < w.rows; ++r) {
        const size_t src_row = numerics::row_bytes(view.numerics_format, static_cast<size_t>(w.cols));
        numerics::decode_row(view.numerics_format, reinterpret_cast<const uint8_t*>(view.data) + r * src_row,
                             static_cast<size_t>(w.cols), view.tensor_amax, decoded.data() + r * w.cols);
      }
    } else {
      numerics::decode_to_f32(view.dtype, view.data, decoded.data(), decoded.size());
    }
    source = decoded.data();
  } else if (view.bytes < bytes) {
    fail("cuda: weight '{}' has {} bytes, its layout needs {}", name, view.bytes, bytes);
  }
  void* device = nullptr;
  XPUSIM_CUDA_CHECK(cudaMalloc(&device, bytes));
  XPUSIM_CUDA_CHECK(cudaMemcpy(device, source, bytes, cudaMemcpyHostToDevice));
  w.data = static_cast<const uint8_t*>(device);
  m_bytes += bytes;
  return m_tensors.emplace(name, w).first->second;
}

}  // namespace xpusim::cuda
