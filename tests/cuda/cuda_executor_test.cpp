// The CUDA target against the host target (the definition). These need a GPU: without one (or without a
// driver) every test here skips and prints why. Tolerance for logits (docs/cuda.md): the GPU sums in a
// different order (warp trees, cuBLASLt tiles) and rounds prefill activations to bf16 for bf16 weights, so
// max |gpu - host| <= kRelTolerance * max(1, max |host|) on the tiny models.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/cuda_executor.h"
#include "exec/executor.h"
#include "model/checkpoint.h"
#include "model/loader.h"
#include "numerics/decode.h"
#include "numerics/tensor_codec.h"
#include "runtime/sampler.h"

namespace xpusim::cuda {
namespace {

constexpr double kRelTolerance = 2e-3;

#define SKIP_WITHOUT_GPU()                                                        \
  do {                                                                            \
    std::string reason;                                                           \
    if (!device_available(&reason)) GTEST_SKIP() << "no CUDA device: " << reason; \
  } while (0)

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, std::fabs(static_cast<double>(x)));
  return m;
}

void expect_close(const std::vector<float>& host, const std::vector<float>& gpu, const std::string& what) {
  ASSERT_EQ(host.size(), gpu.size()) << what;
  double worst = 0;
  for (size_t i = 0; i < host.size(); ++i) {
    ASSERT_TRUE(std::isfinite(gpu[i])) << what << " element " << i;
    worst = std::max(worst, std::fabs(static_cast<double>(host[i]) - gpu[i]));
  }
  EXPECT_LE(worst, kRelTolerance * std::max(1.0, max_abs(host))) << what << ": max |gpu - host| = " << worst;
}

// Prefill of 20 tokens (>= kGemmMinTokens: the cuBLASLt path for bf16), then 3 decode steps.
void compare_targets(const model::ModelConfig& config, const model::Weights& weights,
                     const std::string& what) {
  exec::Executor host(config, weights);
  CudaExecutor gpu(config, weights);
  std::vector<int32_t> prompt(20);
  for (size_t i = 0; i < prompt.size(); ++i)
    prompt[i] = static_cast<int32_t>((i * 37 + 5) % static_cast<size_t>(config.vocab_size));
  expect_close(host.forward(prompt, true), gpu.forward(prompt, true), what + " prefill");
  for (int32_t step = 0; step < 3; ++step) {
    const int32_t token = (step * 11 + 3) % static_cast<int32_t>(config.vocab_size);
    const std::vector<float> h = host.forward(std::span<const int32_t>(&token, 1));
    const std::vector<float> g = gpu.forward(std::span<const int32_t>(&token, 1));
    expect_close(h, g, what + " decode step " + std::to_string(step));
  }
  EXPECT_EQ(host.position(), gpu.position());
}

class TinyFamily : public ::testing::TestWithParam<std::string> {};

TEST_P(TinyFamily, LogitsMatchHostWithinTolerance) {
  SKIP_WITHOUT_GPU();
  const model::HfCheckpoint checkpoint =
      model::load_hf_checkpoint(std::string(XPUSIM_TEST_DATA) + "/models/" + GetParam());
  compare_targets(checkpoint.config, checkpoint.weights, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Cuda, TinyFamily, ::testing::Values("llama", "qwen3", "gemma3", "gpt2"));

// Matrices in `format` (DType::NUMERICS, as `run --precision` makes them) or bf16; vectors fp32.
model::Weights convert(const model::Weights& weights, std::optional<numerics::Format> format) {
  model::Weights out;
  out.source = weights.source;
  for (const auto& [name, view] : weights.all()) {
    std::vector<float> values(static_cast<size_t>(view.elements()));
    numerics::decode_to_f32(view.dtype, view.data, values.data(), values.size());
    if (view.shape.size() < 2 || !format) {
      const bool bf16 = view.shape.size() == 2;
      std::vector<std::byte> bytes(values.size() * (bf16 ? 2 : 4));
      if (bf16) {
        for (size_t i = 0; i < values.size(); ++i) {
          uint32_t u;
          std::memcpy(&u, &values[i], 4);
          const auto b = static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
          std::memcpy(bytes.data() + 2 * i, &b, 2);
        }
      } else {
        std::memcpy(bytes.data(), values.data(), bytes.size());
      }
      out.add_owned(name, bf16 ? DType::BF16 : DType::F32, view.shape, std::move(bytes));
      continue;
    }
    const size_t cols = static_cast<size_t>(view.row_elements());
    out.add_encoded(name, view.shape, numerics::encode_tensor(*format, values, values.size() / cols, cols));
  }
  return out;
}

class PackedFormat4 : public ::testing::TestWithParam<std::string> {};

TEST_P(PackedFormat4, LogitsMatchHostWithinTolerance) {
  SKIP_WITHOUT_GPU();
  const model::HfCheckpoint checkpoint =
      model::load_hf_checkpoint(std::string(XPUSIM_TEST_DATA) + "/models/llama");
  const auto format = numerics::format_from_name(GetParam());
  ASSERT_TRUE(format.has_value());
  const model::Weights packed = convert(checkpoint.weights, format);
  compare_targets(checkpoint.config, packed, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Cuda, PackedFormat4,
                         ::testing::Values("nvfp4", "nvfp4-4o6", "if4", "mxfp4", "ue-if4", "ue-int4", "int4",
                                           "q4_0"));

TEST(CudaBf16, LogitsMatchHostWithinTolerance) {
  SKIP_WITHOUT_GPU();
  const model::HfCheckpoint checkpoint =
      model::load_hf_checkpoint(std::string(XPUSIM_TEST_DATA) + "/models/llama");
  compare_targets(checkpoint.config, convert(checkpoint.weights, std::nullopt), "llama bf16");
}

TEST(CudaExecutorErrors, BadTokenIsAnError) {
  SKIP_WITHOUT_GPU();
  const model::HfCheckpoint checkpoint =
      model::load_hf_checkpoint(std::string(XPUSIM_TEST_DATA) + "/models/llama");
  CudaExecutor gpu(checkpoint.config, checkpoint.weights);
  const int32_t bad = static_cast<int32_t>(checkpoint.config.vocab_size);
  EXPECT_THROW(gpu.forward(std::span<const int32_t>(&bad, 1)), Error);
  EXPECT_EQ(gpu.position(), 0);
}

// SmolLM2-135M (GGUF Q4_1 converted to bf16): 32 greedy tokens identical to the host target's.
TEST(CudaSmolLM2, GreedyTokensMatchHostInBf16) {
  SKIP_WITHOUT_GPU();
  std::filesystem::path path;
  if (const char* dir = std::getenv("XPUSIM_MODEL_DIR"))
    path = std::filesystem::path(dir) / "SmolLM2-135M-Instruct.Q4_1.gguf";
  if (path.empty() || !std::filesystem::exists(path))
    path = model::model_cache_dir() / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "SmolLM2-135M GGUF not found (" << path << ")";
  const model::LoadedModel loaded = model::load_model(path.string());
  const model::Weights bf16 = convert(loaded.weights, std::nullopt);
  exec::Executor host(loaded.config, bf16);
  CudaExecutor gpu(loaded.config, bf16);
  std::vector<int32_t> prompt = {1, 504, 3458, 282, 4649, 314, 2};  // fixed ids: no tokenizer dependency
  std::vector<int32_t> host_ids, gpu_ids;
  int32_t host_next = runtime::argmax_first(host.forward(prompt));
  int32_t gpu_next = gpu.forward_greedy(prompt);
  for (int i = 0; i < 32; ++i) {
    host_ids.push_back(host_next);
    gpu_ids.push_back(gpu_next);
    host_next = runtime::argmax_first(host.forward(std::span<const int32_t>(&host_next, 1)));
    gpu_next = gpu.forward_greedy(std::span<const int32_t>(&gpu_next, 1));
  }
  EXPECT_EQ(host_ids, gpu_ids);
}

TEST(CudaDevice, SkipReasonIsPrinted) {
  std::string reason;
  if (device_available(&reason)) {
    std::printf("CUDA device: %s\n", device_description().c_str());
  } else {
    EXPECT_FALSE(reason.empty());
    std::printf("no CUDA device here: %s (GPU tests skip)\n", reason.c_str());
  }
}

}  // namespace
}  // namespace xpusim::cuda
