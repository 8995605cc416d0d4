// The engine compiler lowers the model's graph, not a list of families: a config variant no preset has
// (Llama with attention biases, Qwen2-style) compiles and stays bit-exact against the engine-policy host
// run without compiler code of its own, and a graph op the engine has no lowering for is rejected by name.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <utility>

#include "compiler/engine_runner.h"
#include "compiler/lower_step.h"
#include "compiler/memory_plan.h"
#include "compiler/policy_executor.h"
#include "compiler_test_util.h"
#include "core/error.h"
#include "engine/chip_config.h"
#include "model/synthetic.h"

namespace xpusim::compiler {
namespace {

TEST(GraphLowering, LlamaWithAttentionBiasesIsBitExact) {
  model::ModelConfig config = testing::tiny_config(model::Family::LLAMA);
  model::Weights weights = model::make_synthetic_weights(config);
  config.attn_bias = true;  // synthetic biases are zeros: add non-zero ones
  const int64_t q_width = config.n_heads * config.head_dim, kv_width = config.n_kv_heads * config.head_dim;
  for (int layer = 0; layer < config.n_layers; ++layer)
    for (auto [name, width] : {std::pair<const char*, int64_t>{"attn_q", q_width},
                               {"attn_k", kv_width},
                               {"attn_v", kv_width},
                               {"attn_output", config.hidden}}) {
      std::vector<float> bias(static_cast<size_t>(width));
      for (size_t i = 0; i < bias.size(); ++i) bias[i] = 0.05f * std::sin(static_cast<float>(i + 7 * layer));
      std::vector<std::byte> bytes(bias.size() * sizeof(float));
      std::memcpy(bytes.data(), bias.data(), bytes.size());
      weights.add_owned("blk." + std::to_string(layer) + "." + name + ".bias", DType::F32, {width},
                        std::move(bytes));
    }
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  std::vector<int32_t> prompt(20);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>((i * 29 + 3) % 320);
  const int64_t capacity = static_cast<int64_t>(prompt.size()) + 2;
  EngineRunner engine_run(
      chip, config, &weights,
      {.format = engine::WeightFormat::bf16, .kv_capacity = capacity, .max_step_tokens = 8});
  PolicyExecutor host(chip, config, weights, engine::WeightFormat::bf16, capacity);
  const std::vector<float> expected = host.forward(prompt);
  const StepOutput out = engine_run.forward(prompt);
  ASSERT_EQ(out.logits.size(), expected.size());
  EXPECT_EQ(std::memcmp(out.logits.data(), expected.data(), expected.size() * sizeof(float)), 0);
  // The biases are really read: without them the logits differ.
  model::ModelConfig plain = config;
  plain.attn_bias = false;
  PolicyExecutor no_bias(chip, plain, weights, engine::WeightFormat::bf16, capacity);
  EXPECT_NE(std::memcmp(no_bias.forward(prompt).data(), expected.data(), expected.size() * sizeof(float)), 0);
}

TEST(GraphLowering, PerHeadLayerNormIsRejectedByName) {
  model::ModelConfig config = testing::tiny_config(model::Family::GPT2);  // LayerNorm everywhere
  config.qk_norm = true;                                                  // so the q/k norms are too
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  const DramPlan plan = plan_dram(config, engine::WeightFormat::bf16, PlanShape{}, chip);
  try {
    compile_step(plan, chip, StepRequest{{{1, 0}}});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("per-head layer norms"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace xpusim::compiler
