// Multi-engine tensor parallelism (compiler/tensor_parallel.h) on ue-alveo-u50-x8: logits of a step split
// over 2, 4 and 8 engines equal one engine's bit for bit for every dense family (chunked prefill, decode,
// sliding windows, Gemma post-norms, GPT-2 biases), the barriers are balanced, the split speeds decode up
// until the shared DRAM channel saturates, and a bad engine count is an error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "chips/loader.h"
#include "compiler/cost_model.h"
#include "compiler/engine_runner.h"
#include "compiler/memory_plan.h"
#include "compiler/parallel_step.h"
#include "compiler_test_util.h"
#include "core/error.h"
#include "engine/chip_config.h"
#include "model/synthetic.h"

namespace xpusim::compiler {
namespace {

// Wider than tiny_config so that every linear has several 64-row column strips to split.
model::ModelConfig split_config(model::Family family) {
  model::ModelConfig c = testing::tiny_config(family);
  c.hidden = 256;
  c.ffn_hidden = 512;
  c.n_heads = 8;
  c.n_kv_heads = family == model::Family::GPT2 ? 8 : 4;
  c.vocab_size = 1100;  // several LM-head strips, the last one partial
  return c;
}

std::vector<float> run_logits(const model::ModelConfig& config, const model::Weights& weights,
                              engine::WeightFormat format, int64_t engines, std::vector<int32_t>* argmaxes) {
  const engine::ChipConfig chip = engine::load_chip("ue-alveo-u50-x8");
  std::vector<int32_t> prompt(70);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>((i * 37 + 11) % 320);
  EngineRunner runner(chip, config, &weights,
                      {.format = format, .kv_capacity = 80, .max_step_tokens = 40, .engines = engines});
  EXPECT_EQ(runner.chip().engines, engines);
  std::vector<float> all;
  StepOutput out = runner.forward(prompt);
  EXPECT_GT(std::count_if(out.logits.begin(), out.logits.end(), [](float v) { return v != 0.0f; }),
            config.vocab_size / 2);
  for (int step = 0; step < 3; ++step) {
    all.insert(all.end(), out.logits.begin(), out.logits.end());
    argmaxes->push_back(out.argmax);
    const int32_t next = out.argmax;
    out = runner.forward(std::span<const int32_t>(&next, 1));
  }
  return all;
}

void expect_engines_bit_exact(model::Family family, engine::WeightFormat format,
                              std::vector<int64_t> counts) {
  const model::ModelConfig config = split_config(family);
  const model::Weights weights = model::make_synthetic_weights(config);
  std::vector<int32_t> one_argmax;
  const std::vector<float> one = run_logits(config, weights, format, 1, &one_argmax);
  for (const int64_t n : counts) {
    std::vector<int32_t> argmax;
    const std::vector<float> split = run_logits(config, weights, format, n, &argmax);
    ASSERT_EQ(split.size(), one.size());
    EXPECT_EQ(std::memcmp(split.data(), one.data(), one.size() * sizeof(float)), 0)
        << n << " engines: logits differ from one engine";
    EXPECT_EQ(argmax, one_argmax) << n << " engines";
  }
}

TEST(TensorParallel, LlamaBitExactOn2And8Engines) {
  expect_engines_bit_exact(model::Family::LLAMA, engine::WeightFormat::bf16, {2, 8});
}
TEST(TensorParallel, Qwen3IF4BitExactOn4Engines) {
  expect_engines_bit_exact(model::Family::QWEN3, engine::WeightFormat::ue_if4, {4});
}
TEST(TensorParallel, Gpt2BitExactOn3Engines) {
  expect_engines_bit_exact(model::Family::GPT2, engine::WeightFormat::bf16, {3});
}
TEST(TensorParallel, Gemma3PostNormsBitExactOn2And5Engines) {
  expect_engines_bit_exact(model::Family::GEMMA3, engine::WeightFormat::bf16, {2, 5});
}

// More engines than kv heads and LM-head strips: idle engines still take part in every barrier.
TEST(TensorParallel, MoreEnginesThanHeadsIsExact) {
  model::ModelConfig config = testing::tiny_config(model::Family::LLAMA);  // 2 kv heads, 128 hidden
  const model::Weights weights = model::make_synthetic_weights(config);
  std::vector<int32_t> a1, a8;
  const std::vector<float> one = run_logits(config, weights, engine::WeightFormat::bf16, 1, &a1);
  const std::vector<float> eight = run_logits(config, weights, engine::WeightFormat::bf16, 8, &a8);
  EXPECT_EQ(std::memcmp(one.data(), eight.data(), one.size() * sizeof(float)), 0);
  EXPECT_EQ(a1, a8);
}

// Timing never depends on values: the same steps on 4 engines take the same cycles without them.
TEST(TensorParallel, TimingOnlyHasTheSameCycles) {
  const engine::ChipConfig chip = engine::load_chip("ue-alveo-u50-x8");
  const model::ModelConfig config = split_config(model::Family::GEMMA3);
  const model::Weights weights = model::make_synthetic_weights(config);
  std::vector<int64_t> cycles[2];
  for (const bool functional : {true, false}) {
    EngineRunner runner(chip, config, functional ? &weights : nullptr,
                        {.kv_capacity = 64, .max_step_tokens = 24, .functional = functional, .engines = 4});
    const std::vector<int32_t> prompt(30, 7);
    cycles[functional ? 0 : 1].push_back(runner.forward(prompt).cycles);
    const int32_t token = 3;
    cycles[functional ? 0 : 1].push_back(runner.forward(std::span<const int32_t>(&token, 1)).cycles);
  }
  EXPECT_EQ(cycles[0], cycles[1]);
}

int64_t count_opcode(const CompiledProgram& p, engine::Opcode op) {
  return std::count_if(p.program.code.begin(), p.program.code.end(),
                       [&](const engine::Descriptor& d) { return engine::decode(d).opcode == op; });
}

TEST(TensorParallel, BarriersAreBalanced) {
  const engine::ChipConfig chip = engine::load_chip("ue-alveo-u50-x8");
  const model::ModelConfig config = split_config(model::Family::LLAMA);
  const DramPlan plan = plan_dram(config, engine::WeightFormat::bf16, PlanShape{8, 1, 64}, chip);
  const StepPrograms programs = compile_step_programs(plan, chip, StepRequest{{{8, 0}}});
  ASSERT_EQ(programs.engines.size(), 8u);
  // Per layer: after attention, attn_output, ffn_up, ffn_down, and (8 engines > 4 kv heads) after the K/V
  // cache stores; 1 before the final argmax.
  const int64_t barriers = 5 * config.n_layers + 1;
  EXPECT_EQ(count_opcode(programs.engines[0], engine::Opcode::sem_wait), 7 * barriers);
  EXPECT_EQ(count_opcode(programs.engines[0], engine::Opcode::sem_clr), 7 * barriers);
  for (size_t e = 1; e < 8; ++e) {
    EXPECT_EQ(count_opcode(programs.engines[e], engine::Opcode::sem_set), barriers) << "engine " << e;
    EXPECT_EQ(count_opcode(programs.engines[e], engine::Opcode::sem_wait), barriers) << "engine " << e;
  }
}

// Decode streams the weights: one engine is held to its DMA port (32 B/cycle, 11.7 GB/s), two reach the
// shared channel (22.9 GB/s aggregate), more add nothing but barriers.
TEST(TensorParallel, DecodeScalesUntilTheSharedDramChannel) {
  model::ModelConfig config = testing::tiny_config(model::Family::LLAMA);
  config.hidden = 1024, config.ffn_hidden = 4096, config.n_heads = 16, config.n_kv_heads = 8;
  config.head_dim = 64, config.vocab_size = 8192, config.n_layers = 2;
  const engine::ChipConfig chip = engine::load_chip("ue-alveo-u50-x8");
  std::vector<double> seconds;
  for (const int64_t n : {1, 2, 8}) {
    EngineRunner runner(
        chip, config, nullptr,
        {.format = engine::WeightFormat::ue_if4, .kv_capacity = 64, .functional = false, .engines = n});
    const int32_t token = 1;
    runner.forward(std::span<const int32_t>(&token, 1));
    seconds.push_back(runner.forward(std::span<const int32_t>(&token, 1)).cost.seconds);
  }
  EXPECT_LT(seconds[1], 0.7 * seconds[0]);
  EXPECT_LT(seconds[2], 1.1 * seconds[1]);
}

TEST(TensorParallel, CostModelUsesEveryEngine) {
  const chips::ChipSpec spec = chips::load_chip("ue-alveo-u50-x8");
  const model::ModelConfig config = split_config(model::Family::LLAMA);
  auto cost_model = make_engine_cost_model(spec, config, "ue-if4");
  const engine::ChipConfig chip = engine::load_chip("ue-alveo-u50-x8");
  EXPECT_DOUBLE_EQ(cost_model->plan().peak_flops, chip.peak_flops());
  const chips::StepCost step = cost_model->step(chips::StepShape{{{16, 0}}});
  bool has_barrier = false;
  for (const chips::OpCost& op : step.ops) has_barrier = has_barrier || op.op_type == "barrier";
  EXPECT_TRUE(has_barrier);
  // Batched steps (serve-sim): several sequences' rows split the same way; the head's argmax covers each.
  const chips::StepCost batch = cost_model->step(chips::StepShape{{{1, 10}, {4, 0}, {1, 30}}});
  EXPECT_GT(batch.seconds, 0);
}

TEST(TensorParallel, TooManyEnginesIsAnError) {
  const engine::ChipConfig chip = engine::load_chip("ue-alveo-u50-x8");
  const model::ModelConfig config = split_config(model::Family::LLAMA);
  try {
    EngineRunner runner(chip, config, nullptr, {.functional = false, .engines = 9});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has 8 engines"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace xpusim::compiler
