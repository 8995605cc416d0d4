// Weights on the GPU: every weight tensor a model's step graph binds is uploaded once, in the layout the
// kernels read. 2-D bf16 / fp32 and 4-bit block tensors (numerics formats nvfp4, nvfp4-4o6, if4, mxfp4,
// mxfp4-ceil, ue-int4/fp4/if4, int4, fp4, q4_0; GGUF Q4_0 / Q4_1) keep their bytes (decoded in registers by
// the GEMV, cuda/packed_formats.h); every other dtype (f16, q8_0, k-quants, 8-bit numerics formats) and
// all 1-D tensors (norm weights, biases) are decoded to fp32 on the host first. Non-goals: quantizing
// (numerics does), sharding across GPUs. HOWTO add a layout: packed_formats.h, then packed_format_of below.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/dtype.h"
#include "cuda/packed_formats.h"
#include "model/weights.h"
#include "numerics/format_table.h"

namespace xpusim::cuda {

std::optional<PackedFormat> packed_format_of(numerics::Format format);
std::optional<PackedFormat> packed_format_of(DType dtype);  // F32, BF16, Q4_0, Q4_1
// What a tensor is uploaded as (F32 when it must be decoded first).
PackedFormat upload_format(const model::TensorView& view);

struct DeviceWeight {
  PackedFormat format = PackedFormat::F32;
  const uint8_t* data = nullptr;  // device memory, rows of row_bytes
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t row_bytes = 0;
  float tensor_amax = 0.0f;
  const float* f32() const { return reinterpret_cast<const float*>(data); }
};

class DeviceWeights {
 public:
  DeviceWeights() = default;
  DeviceWeights(const DeviceWeights&) = delete;
  DeviceWeights& operator=(const DeviceWeights&) = delete;
  ~DeviceWeights();

  // Uploads `name` from `weights` unless already there.
  const DeviceWeight& upload(const model::Weights& weights, const std::string& name);
  const DeviceWeight& get(const std::string& name) const;  // xpusim::Error if not uploaded
  size_t device_bytes() const { return m_bytes; }

 private:
  std::map<std::string, DeviceWeight, std::less<>> m_tensors;
  size_t m_bytes = 0;
};

}  // namespace xpusim::cuda
