// Functional runs of compiled programs: logits of tiny synthetic models of every dense family on the engine
// simulator follow the host fp32 executor (within the engine's bf16 / bf19 / bf20 numerics), the on-chip
// argmax equals the argmax of the logits read back, and timing-only runs give the same cycles.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "compiler/engine_runner.h"
#include "compiler_test_util.h"
#include "engine/chip_config.h"
#include "exec/executor.h"
#include "model/synthetic.h"
#include "runtime/sampler.h"

namespace xpusim::compiler {
namespace {

using testing::correlation;

using testing::tiny_config;

void check_family(model::Family family, engine::WeightFormat format, double min_correlation) {
  SCOPED_TRACE(model::family_name(family));
  const model::ModelConfig config = tiny_config(family);
  const model::Weights weights = model::make_synthetic_weights(config);
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  EngineRunner runner(chip, config, &weights, {.format = format, .kv_capacity = 192, .max_step_tokens = 40});
  exec::Executor host(config, weights, exec::ExecOptions{1, 192});
  std::vector<int32_t> prompt(70);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>((i * 37 + 11) % 320);
  // 70-token prompt in two chunks (the second attends to the first through the KV cache), then decode steps
  // that cross a 64-key block boundary and (Gemma 3) the 48-token sliding window.
  StepOutput out = runner.forward(prompt);
  std::vector<float> expected = host.forward(prompt);
  for (int step = 0; step < 4; ++step) {
    ASSERT_EQ(out.logits.size(), expected.size());
    EXPECT_GT(correlation(out.logits, expected), min_correlation) << "step " << step;
    EXPECT_EQ(out.argmax, runtime::argmax_first(out.logits)) << "step " << step;
    const int32_t next = runtime::argmax_first(expected);
    out = runner.forward(std::span<const int32_t>(&next, 1));
    expected = host.forward(std::span<const int32_t>(&next, 1));
  }
}

TEST(EngineFunctional, LlamaFollowsHostExecutor) {
  check_family(model::Family::LLAMA, engine::WeightFormat::bf16, 0.999);
}
TEST(EngineFunctional, Qwen3FollowsHostExecutor) {
  check_family(model::Family::QWEN3, engine::WeightFormat::bf16, 0.999);
}
TEST(EngineFunctional, Gpt2FollowsHostExecutor) {
  check_family(model::Family::GPT2, engine::WeightFormat::bf16, 0.999);
}
TEST(EngineFunctional, Gemma3FollowsHostExecutor) {
  check_family(model::Family::GEMMA3, engine::WeightFormat::bf16, 0.995);
}
TEST(EngineFunctional, LlamaIf4StaysClose) {
  check_family(model::Family::LLAMA, engine::WeightFormat::ue_if4, 0.98);
}

TEST(EngineFunctional, TimingOnlyHasTheSameCycles) {
  const model::ModelConfig config = tiny_config(model::Family::QWEN3);
  const model::Weights weights = model::make_synthetic_weights(config);
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  EngineRunner functional(chip, config, &weights, {.kv_capacity = 128});
  EngineRunner timing(chip, config, nullptr, {.kv_capacity = 128, .functional = false});
  const std::vector<int32_t> prompt = {5, 6, 7, 8, 9, 10, 11};
  EXPECT_EQ(functional.forward(prompt).cycles, timing.forward(prompt).cycles);
  const int32_t next = 3;
  EXPECT_EQ(functional.forward(std::span<const int32_t>(&next, 1)).cycles,
            timing.forward(std::span<const int32_t>(&next, 1)).cycles);
}

}  // namespace
}  // namespace xpusim::compiler
