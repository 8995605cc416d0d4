// Bit-exactness: logits of compiled programs on the functional engine simulator equal the host policy
// executor's (compiler/policy_executor.h) bit for bit, for every dense family, bf16 and ue-* weights, across
// chunked prefill, KV blocks and sliding windows; and on SmolLM2-135M when its GGUF is present.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "compiler/engine_runner.h"
#include "compiler/policy_executor.h"
#include "compiler_test_util.h"
#include "engine/chip_config.h"
#include "model/loader.h"
#include "model/synthetic.h"
#include "runtime/sampler.h"

namespace xpusim::compiler {
namespace {

using testing::tiny_config;

size_t first_difference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return i;
  return a.size();
}

void expect_bit_exact(const model::ModelConfig& config, const model::Weights& weights,
                      engine::WeightFormat format, std::vector<int32_t> prompt, int decode_steps) {
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  const int64_t capacity = static_cast<int64_t>(prompt.size()) + decode_steps + 1;
  EngineRunner engine_run(chip, config, &weights,
                          {.format = format, .kv_capacity = capacity, .max_step_tokens = 40});
  PolicyExecutor host(chip, config, weights, format, capacity);
  StepOutput out = engine_run.forward(prompt);
  std::vector<float> expected = host.forward(prompt);
  for (int step = 0;; ++step) {
    ASSERT_EQ(first_difference(out.logits, expected), expected.size())
        << "step " << step << ": logit " << first_difference(out.logits, expected) << " differs";
    EXPECT_EQ(out.argmax, runtime::argmax_first(expected));
    if (step == decode_steps) break;
    const int32_t next = runtime::argmax_first(expected);
    out = engine_run.forward(std::span<const int32_t>(&next, 1));
    expected = host.forward(std::span<const int32_t>(&next, 1));
  }
}

std::vector<int32_t> tiny_prompt() {
  std::vector<int32_t> prompt(70);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>((i * 37 + 11) % 320);
  return prompt;
}

class PolicyBitExact : public ::testing::TestWithParam<model::Family> {};

TEST_P(PolicyBitExact, Bf16) {
  const model::ModelConfig config = tiny_config(GetParam());
  expect_bit_exact(config, model::make_synthetic_weights(config), engine::WeightFormat::bf16, tiny_prompt(),
                   3);
}

TEST_P(PolicyBitExact, UeIf4) {
  const model::ModelConfig config = tiny_config(GetParam());
  expect_bit_exact(config, model::make_synthetic_weights(config), engine::WeightFormat::ue_if4, tiny_prompt(),
                   3);
}

INSTANTIATE_TEST_SUITE_P(Families, PolicyBitExact,
                         ::testing::Values(model::Family::LLAMA, model::Family::QWEN3, model::Family::GPT2,
                                           model::Family::GEMMA3),
                         [](const auto& param_info) {
                           return std::string(model::family_name(param_info.param));
                         });

TEST(PolicyBitExactReal, SmolLM2) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "135M-parameter functional simulation is too slow under ASan (covered by the tiny models)";
#endif
  std::filesystem::path gguf;
  if (const char* dir = std::getenv("XPUSIM_MODEL_DIR"))
    gguf = std::filesystem::path(dir) / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf";
  if (gguf.empty() || !std::filesystem::exists(gguf))
    if (const char* home = std::getenv("HOME"))
      gguf =
          std::filesystem::path(home) / ".cache/xpusim/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!std::filesystem::exists(gguf)) GTEST_SKIP() << "SmolLM2-135M GGUF not found (" << gguf << ")";
  const model::LoadedModel loaded = model::load_model(gguf.string());
  expect_bit_exact(loaded.config, loaded.weights, engine::WeightFormat::ue_if4,
                   {1, 9690, 314, 253, 3575, 282, 4649, 47}, 1);
}

}  // namespace
}  // namespace xpusim::compiler
