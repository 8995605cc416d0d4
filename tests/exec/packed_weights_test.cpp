// Weights kept packed in a numerics format (DType::NUMERICS, what `xpusim run --precision` builds) give
// exactly the logits of the same weights dequantized to fp32 at load when the linear layers keep fp32
// activations (XPUSIM_EXACT_LINEAR=1): fused dots decode exactly as the format table's decoder, so not one
// bit may differ. With the default int8 activation blocks (fast_linear.h) decode steps stay close.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "exec/executor.h"
#include "model/checkpoint.h"
#include "numerics/decode.h"
#include "numerics/tensor_codec.h"

namespace xpusim::exec {
namespace {

struct QuantizedPair {
  model::Weights packed;       // matrices as DType::NUMERICS
  model::Weights dequantized;  // the same values as fp32
  size_t packed_bytes = 0;
};

// Matrices are encoded in `format` (rows independently, as quantize_model_weights does); vectors stay fp32.
QuantizedPair quantize(const model::Weights& weights, numerics::Format format) {
  QuantizedPair out;
  out.packed.source = out.dequantized.source = weights.source;
  for (const auto& [name, view] : weights.all()) {
    std::vector<float> values(static_cast<size_t>(view.elements()));
    numerics::decode_to_f32(view.dtype, view.data, values.data(), values.size());
    std::vector<std::byte> bytes(values.size() * sizeof(float));
    if (view.shape.size() < 2) {
      std::memcpy(bytes.data(), values.data(), bytes.size());
      out.packed.add_owned(name, DType::F32, view.shape, bytes);
      out.dequantized.add_owned(name, DType::F32, view.shape, std::move(bytes));
      continue;
    }
    const size_t cols = static_cast<size_t>(view.row_elements());
    numerics::EncodedTensor encoded = numerics::encode_tensor(format, values, values.size() / cols, cols);
    std::vector<float> decoded(values.size());
    numerics::decode_tensor(encoded, decoded);
    std::memcpy(bytes.data(), decoded.data(), bytes.size());
    out.dequantized.add_owned(name, DType::F32, view.shape, std::move(bytes));
    out.packed.add_encoded(name, view.shape, std::move(encoded));
  }
  out.packed_bytes = out.packed.total_bytes();
  return out;
}

// Sets XPUSIM_EXACT_LINEAR=1 for the scope (fast_linear reads it at each call).
struct ExactLinearScope {
  ExactLinearScope() { setenv("XPUSIM_EXACT_LINEAR", "1", 1); }
  ~ExactLinearScope() { unsetenv("XPUSIM_EXACT_LINEAR"); }
  ExactLinearScope(const ExactLinearScope&) = delete;
  ExactLinearScope& operator=(const ExactLinearScope&) = delete;
};

class PackedWeights : public ::testing::TestWithParam<std::string> {};

TEST_P(PackedWeights, LogitsEqualDequantizeAtLoadBitForBit) {
  const ExactLinearScope exact;
  const model::HfCheckpoint checkpoint =
      model::load_hf_checkpoint(std::string(XPUSIM_TEST_DATA) + "/models/llama");
  const auto format = numerics::format_from_name(GetParam());
  ASSERT_TRUE(format.has_value());
  const QuantizedPair pair = quantize(checkpoint.weights, *format);
  EXPECT_LT(pair.packed_bytes, pair.dequantized.total_bytes() / 4);  // 4-bit formats: < 1/4 of fp32

  const std::vector<int32_t> tokens = {5, 17, 300, 42, 9, 111, 250, 3};
  Executor packed(checkpoint.config, pair.packed, ExecOptions{2, 0});
  Executor reference(checkpoint.config, pair.dequantized, ExecOptions{2, 0});
  const std::vector<float> prefill = packed.forward(tokens, true);
  const std::vector<float> expected = reference.forward(tokens, true);
  ASSERT_EQ(prefill.size(), expected.size());
  EXPECT_EQ(std::memcmp(prefill.data(), expected.data(), prefill.size() * sizeof(float)), 0);
  // One decode step too (the matvec path).
  const std::vector<float> step = packed.forward(std::vector<int32_t>{77});
  const std::vector<float> expected_step = reference.forward(std::vector<int32_t>{77});
  ASSERT_EQ(step.size(), expected_step.size());
  EXPECT_EQ(std::memcmp(step.data(), expected_step.data(), step.size() * sizeof(float)), 0);
}

// Default activations: a decode step with int8 activation blocks stays within 2% (relative L2) of the fp32
// dequantized logits.
TEST_P(PackedWeights, Int8ActivationsStayClose) {
  const model::HfCheckpoint checkpoint =
      model::load_hf_checkpoint(std::string(XPUSIM_TEST_DATA) + "/models/llama");
  const QuantizedPair pair = quantize(checkpoint.weights, *numerics::format_from_name(GetParam()));
  const std::vector<int32_t> tokens = {5, 17, 300, 42, 9, 111, 250, 3};
  Executor packed(checkpoint.config, pair.packed, ExecOptions{2, 0});
  Executor reference(checkpoint.config, pair.dequantized, ExecOptions{2, 0});
  packed.forward(tokens);
  reference.forward(tokens);
  for (int32_t token : {77, 12, 400}) {
    const std::vector<float> step = packed.forward(std::vector<int32_t>{token});
    const std::vector<float> expected = reference.forward(std::vector<int32_t>{token});
    double error = 0, norm = 0;
    for (size_t i = 0; i < step.size(); ++i) {
      error += (step[i] - expected[i]) * (step[i] - expected[i]);
      norm += expected[i] * expected[i];
    }
    EXPECT_LT(std::sqrt(error / norm), 0.02) << "token " << token;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, PackedWeights, ::testing::Values("nvfp4", "ue-if4", "q4_0"),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

TEST(PackedWeights, ShapeMustMatchTheEncoding) {
  const std::vector<float> values(64 * 2, 1.0f);
  model::Weights weights;
  weights.source = "test";
  EXPECT_THROW(
      weights.add_encoded("w", {4, 64}, numerics::encode_tensor(numerics::Format::NVFP4, values, 2, 64)),
      Error);
  EXPECT_THROW(weights.add_encoded("w", {}, numerics::encode_tensor(numerics::Format::NVFP4, values, 2, 64)),
               Error);
  EXPECT_NO_THROW(
      weights.add_encoded("w", {2, 64}, numerics::encode_tensor(numerics::Format::NVFP4, values, 2, 64)));
}

}  // namespace
}  // namespace xpusim::exec
