// The engine cost model: figures come from compiled programs run on the timing simulator.
#include <gtest/gtest.h>

#include "chips/loader.h"
#include "compiler/cost_model.h"
#include "compiler/lower_step.h"
#include "compiler/memory_plan.h"
#include "compiler_test_util.h"
#include "core/error.h"
#include "engine/chip_config.h"
#include "model/presets.h"

namespace xpusim::compiler {
namespace {

using testing::tiny_config;

chips::StepShape decode(int64_t context) { return chips::StepShape{{{1, context}}}; }

TEST(EngineCostModel, DecodeStepStreamsEveryWeightOnce) {
  const chips::ChipSpec chip = chips::load_chip("ue-ku5p");
  const model::ModelConfig config = tiny_config(model::Family::LLAMA);
  auto cost_model = make_engine_cost_model(chip, config, "ue-if4");
  const chips::StepCost step = cost_model->step(decode(100));
  ASSERT_GT(step.seconds, 0);
  ASSERT_EQ(step.bytes_per_level.size(), 2u);
  // Weights once, plus KV reads (101 rows x 2 layers x 2 kv heads x (K+V) x 32 x 2 bytes) and activations.
  const double weights = cost_model->plan().weight_bytes;
  const double kv = 101.0 * 2 * 2 * 2 * 32 * 2;
  EXPECT_GE(step.bytes_per_level[1], weights + kv);
  EXPECT_LT(step.bytes_per_level[1], 1.2 * (weights + kv) + 200000);
  double op_seconds = 0;
  bool has_attention = false;
  for (const chips::OpCost& op : step.ops) {
    op_seconds += op.seconds;
    has_attention = has_attention || op.op_type == "attention";
  }
  EXPECT_TRUE(has_attention);
  EXPECT_NEAR(op_seconds, step.seconds, 1e-9 + 1e-6 * step.seconds);
}

TEST(EngineCostModel, EveryDenseFamilyCompilesPrefillAndDecode) {
  const chips::ChipSpec chip = chips::load_chip("ue-ku5p");
  for (model::Family family :
       {model::Family::LLAMA, model::Family::QWEN3, model::Family::GPT2, model::Family::GEMMA3}) {
    SCOPED_TRACE(model::family_name(family));
    auto cost_model = make_engine_cost_model(chip, tiny_config(family), "bf16");
    const chips::StepCost prefill = cost_model->step(chips::StepShape{{{70, 0}}});
    const chips::StepCost next = cost_model->step(decode(70));
    EXPECT_GT(prefill.seconds, next.seconds);
    EXPECT_GT(prefill.flops, 50 * next.flops);
  }
}

TEST(EngineCostModel, PrefillReusesWeightStrips) {
  const chips::ChipSpec chip = chips::load_chip("ue-ku5p");
  model::ModelConfig config = tiny_config(model::Family::LLAMA);
  config.hidden = 512;
  config.ffn_hidden = 1024;
  auto cost_model = make_engine_cost_model(chip, config, "ue-if4");
  const chips::StepCost one = cost_model->step(decode(0));
  const chips::StepCost many = cost_model->step(chips::StepShape{{{64, 0}}});
  // 64 tokens in one chunk: the weights are read once, not 64 times (the rest is activations and KV).
  EXPECT_LT(many.bytes_per_level[1] - one.bytes_per_level[1], cost_model->plan().weight_bytes);
}

TEST(EngineCostModel, BatchedDecodeSharesWeights) {
  const chips::ChipSpec chip = chips::load_chip("ue-ku5p");
  auto cost_model = make_engine_cost_model(chip, tiny_config(model::Family::QWEN3), "ue-if4");
  const chips::StepCost one = cost_model->step(decode(30));
  const chips::StepCost four = cost_model->step(chips::StepShape{{{1, 30}, {1, 10}, {1, 50}, {1, 5}}});
  EXPECT_LT(four.seconds, 4 * one.seconds);
  EXPECT_GT(four.seconds, one.seconds);
}

TEST(EngineCostModel, ModelTooBigForDramIsACompileError) {
  const chips::ChipSpec chip = chips::load_chip("ue-ku5p");
  const auto preset = model::find_preset("llama-3.2-3b");
  ASSERT_TRUE(preset.has_value());
  try {
    make_engine_cost_model(chip, preset->config, "bf16");
    FAIL() << "expected a DRAM error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("does not fit chip ue-ku5p"), std::string::npos) << error.what();
  }
}

TEST(EngineCostModel, UnsupportedFormatAndBlockSizeAreNamed) {
  const chips::ChipSpec chip = chips::load_chip("ue-ku5p");
  EXPECT_THROW(make_engine_cost_model(chip, tiny_config(model::Family::LLAMA), "q4_0"), Error);
  model::ModelConfig odd = tiny_config(model::Family::LLAMA);
  odd.hidden = 96;  // not a multiple of the 64-element ue-* block
  try {
    make_engine_cost_model(chip, odd, "ue-if4");
    FAIL() << "expected a block-size error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("blk.0.attn_q.weight"), std::string::npos) << error.what();
  }
}

TEST(EngineCostModel, NonUeChipIsRejected) {
  const chips::ChipSpec chip = chips::load_chip("gpu-a100");
  EXPECT_THROW(make_engine_cost_model(chip, tiny_config(model::Family::LLAMA), ""), Error);
}

}  // namespace
}  // namespace xpusim::compiler
